// Runs the example programs for real. The handled-exception example reports
// a nested exception chain whose stack names the catching function and line.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "crashctl/sdk/support/spool.h"
#include "fake_sentry.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace {

using crashctl::testing::FakeSentry;
using crashctl::testing::LineOf;
using crashctl::testing::TempDir;

// Runs `path` with extra environment; returns its wait status.
int RunWithEnv(const std::string& path, const std::vector<std::string>& env) {
  pid_t pid = fork();
  if (pid == 0) {
    for (const std::string& kv : env) putenv(strdup(kv.c_str()));
    execl(path.c_str(), path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST(ExamplesTest, HandledExceptionReportsChainFunctionsAndLines) {
  FakeSentry server;
  TempDir spool("examples-test");
  int status = RunWithEnv(
      CRASHCTL_EXAMPLE_HANDLED,
      {"CRASHCTL_DSN=" + server.Dsn(), "CRASHCTL_SPOOL_DIR=" + spool.path()});
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  ASSERT_TRUE(server.WaitFor(1, std::chrono::seconds(5)));
  rapidjson::Document doc;
  doc.Parse(server.Received()[0].event_json.c_str());
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["tags"]["service"].GetString(), "example-handled");
  EXPECT_STREQ(doc["tags"]["request_id"].GetString(), "7");
  const auto& values = doc["exception"]["values"];
  ASSERT_EQ(values.Size(), 2u);
  EXPECT_STREQ(values[0]["type"].GetString(), "std::runtime_error");
  EXPECT_STREQ(values[0]["value"].GetString(), "cannot open /etc/example.conf");
  EXPECT_STREQ(values[1]["type"].GetString(), "std::invalid_argument");
  const auto& frames = values[1]["stacktrace"]["frames"];
  ASSERT_GE(frames.Size(), 2u);
  const auto& top = frames[frames.Size() - 1];
  const auto& caller = frames[frames.Size() - 2];
  EXPECT_STREQ(top["function"].GetString(), "examples::HandleRequest(int)");
  std::string source = std::string(CRASHCTL_TEST_SOURCE_DIR) +
                       "/sdk/examples/handled_exception.cc";
  EXPECT_EQ(top["lineno"].GetInt(), LineOf(source, "// CAPTURE-LINE"));
  EXPECT_NE(
      std::string(top["filename"].GetString()).find("handled_exception.cc"),
      std::string::npos);
  EXPECT_TRUE(top["in_app"].GetBool());
  EXPECT_STREQ(caller["function"].GetString(), "main");
  EXPECT_EQ(caller["lineno"].GetInt(),
            LineOf(source, "examples::HandleRequest(7);"));
}

TEST(ExamplesTest, CrashWithoutSupervisorIsReportedAtNextStart) {
  // No supervisor: the record goes to the spool, and the next SDK start
  // (here: the handled-exception example) symbolises and sends it.
  FakeSentry server;
  TempDir spool_dir("examples-test");
  const std::string& spool = spool_dir.path();
  std::vector<std::string> env = {"CRASHCTL_DSN=" + server.Dsn(),
                                  "CRASHCTL_SPOOL_DIR=" + spool};
  int status = RunWithEnv(CRASHCTL_EXAMPLE_NULL_WRITE, env);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGSEGV);
  status = RunWithEnv(CRASHCTL_EXAMPLE_HANDLED, env);
  ASSERT_TRUE(server.WaitFor(2, std::chrono::seconds(10)));
  bool found = false;
  for (const auto& got : server.Received()) {
    rapidjson::Document doc;
    doc.Parse(got.event_json.c_str());
    const auto& ex = doc["exception"]["values"][0];
    if (std::string(ex["type"].GetString()) != "SIGSEGV") continue;
    found = true;
    EXPECT_STREQ(doc["level"].GetString(), "fatal");
    const auto& frames = ex["stacktrace"]["frames"];
    std::string top_in_app;
    for (rapidjson::SizeType i = frames.Size(); i-- > 0;) {
      if (frames[i]["in_app"].GetBool()) {
        top_in_app = frames[i]["function"].GetString();
        break;
      }
    }
    EXPECT_EQ(top_in_app, "examples::WriteThroughNull(int)");
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace crashctl
