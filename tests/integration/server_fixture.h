// A fixture for integration tests that talk to one server with the default
// options and the project "shop" in it.
#ifndef CRASHCTL_TESTS_INTEGRATION_SERVER_FIXTURE_H_
#define CRASHCTL_TESTS_INTEGRATION_SERVER_FIXTURE_H_

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace testing {

// SetUp starts the server and creates the project (a fatal failure, and so
// no test body, when either fails); the server stops with the fixture.
class ServerWithProjectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = ServerProcess::Start({}, &error);
    ASSERT_TRUE(server_) << error;
    project_ = server_->CreateProject("shop");
    ASSERT_FALSE(project_.key.empty());
  }

  std::unique_ptr<ServerProcess> server_;
  ServerProcess::ProjectInfo project_;
};

}  // namespace testing
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_INTEGRATION_SERVER_FIXTURE_H_
