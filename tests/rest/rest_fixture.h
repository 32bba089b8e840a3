// A test fixture that dispatches requests to every REST route over a
// FakeStore, as the server does.
#ifndef CRASHCTL_TESTS_REST_REST_FIXTURE_H_
#define CRASHCTL_TESTS_REST_REST_FIXTURE_H_

#include <map>
#include <string>

#include "crashctl/http/http.h"
#include "crashctl/rest/rest_api.h"
#include "fake_store.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "rest_test_util.h"

namespace crashctl {
namespace rest {

// The routes are registered on the first call, with options_ as the test
// has set them by then (in SetUp or the test body).
class RestRouteTest : public ::testing::Test {
 protected:
  http::HttpResponse Call(const std::string& method, const std::string& target,
                          const std::string& body = "",
                          std::map<std::string, std::string> headers = {}) {
    if (!registered_) {
      RegisterRestRoutes(&router_, &store_, options_);
      registered_ = true;
    }
    http::HttpRequest request = MakeRequest(method, target, body, headers);
    std::string pattern;
    return router_.Dispatch(request, &pattern);
  }

  // Calls and expects `status` with a JSON body; returns the parsed body.
  rapidjson::Document Expect(int status, const std::string& method,
                             const std::string& target,
                             const std::string& body = "") {
    http::HttpResponse response = Call(method, target, body);
    EXPECT_EQ(response.status, status)
        << method << " " << target << " -> " << response.body;
    EXPECT_EQ(response.content_type, "application/json");
    return ParseStrict(response.body);
  }

  testing::FakeStore store_;
  RestOptions options_;
  http::Router router_;
  bool registered_ = false;
};

}  // namespace rest
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_REST_REST_FIXTURE_H_
