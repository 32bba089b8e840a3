// Helpers for REST tests: build requests, dispatch them, parse answers.
#ifndef CRASHCTL_TESTS_REST_REST_TEST_UTIL_H_
#define CRASHCTL_TESTS_REST_REST_TEST_UTIL_H_

#include <map>
#include <string>

#include "crashctl/http/http.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"

namespace crashctl {
namespace rest {

// `target` is a path with an optional "?query".
inline http::HttpRequest MakeRequest(
    const std::string& method, const std::string& target,
    const std::string& body = "",
    std::map<std::string, std::string> headers = {}) {
  http::HttpRequest request;
  request.method = method;
  const size_t q = target.find('?');
  request.path = http::UrlDecode(target.substr(0, q), false);
  if (q != std::string::npos) request.query = target.substr(q + 1);
  request.body = body;
  request.headers = std::move(headers);
  request.remote_addr = "127.0.0.1";
  return request;
}

// Parses `body` strictly (valid UTF-8 required); fails the test otherwise.
// Iterative: tests parse 100,000-deep output, which overflows the stack
// with the recursive parser under AddressSanitizer.
inline rapidjson::Document ParseStrict(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag |
            rapidjson::kParseIterativeFlag>(body.data(), body.size());
  EXPECT_FALSE(doc.HasParseError())
      << "invalid JSON (error " << doc.GetParseError() << " at "
      << doc.GetErrorOffset() << "): " << body;
  return doc;
}

inline std::string Str(const rapidjson::Value& v) {
  return v.IsString() ? std::string(v.GetString(), v.GetStringLength())
                      : std::string("<not a string>");
}

}  // namespace rest
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_REST_REST_TEST_UTIL_H_
