// Release health end to end: the real crashctl binary on a loopback port,
// fed by the real Sentry SDKs.
//  * @sentry/node (tests/releases/sentry_node_releases.js): a session that
//    ends after a handled error (errored), one that crashes (its crashed
//    update sent twice), request-mode aggregates of four requests (one
//    failed) and error events, release shop@2.0.1, environment staging.
//  * Debian's python3-sentry-sdk 1.9 (tests/releases/sentry_python_wsgi.py):
//    WSGI request-mode aggregates of five requests (three fine, one handled
//    error, one unhandled exception), release api@3.1.0.
// Asserts crashctl_sessions_total on /metrics and GET /api/v1/releases
// (sessions by status, crash-free sessions and users, errors, new groups).
// Each test is skipped when its SDK is missing. Every case runs on both
// storage drivers (Backends/...sqlite, .../postgres: a fresh schema on the
// shared PostgreSQL test server, testing::StorageEnv).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/stat.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "tests/testing/postgres_server.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace {

using testing::HttpResult;
using testing::ServerProcess;

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

class SessionsSdkTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string error;
    ServerProcess::Options options;
    if (!testing::StorageEnv(GetParam(), &options.env, &error)) {
      GTEST_SKIP() << error;
    }
    server_ = ServerProcess::Start(options, &error);
    ASSERT_TRUE(server_) << error;
    project_ = server_->CreateProject("shop");
    ASSERT_FALSE(project_.key.empty());
    pid_ = std::to_string(project_.id);
  }

  // The value of crashctl_sessions_total for the labels (prometheus-cpp
  // writes labels sorted by name); -1 when the series is absent.
  double Sessions(const std::string& release, const std::string& env,
                  const std::string& status) {
    HttpResult r = server_->Get("/metrics");
    EXPECT_EQ(r.status, 200);
    const std::string series = "crashctl_sessions_total{environment=\"" + env +
                               "\",project=\"" + pid_ + "\",release=\"" +
                               release + "\",status=\"" + status + "\"} ";
    const size_t at = r.body.find("\n" + series);
    if (at == std::string::npos) return -1;
    return std::strtod(r.body.c_str() + at + 1 + series.size(), nullptr);
  }

  // The release's item of GET /api/v1/releases, polled until `ready`.
  template <typename Ready>
  rapidjson::Document WaitForRelease(const std::string& release, Ready ready) {
    rapidjson::Document found;
    const bool ok = testing::WaitFor(
        [&] {
          HttpResult r = server_->Get("/api/v1/releases?project=" + pid_);
          if (r.status != 200) return false;
          rapidjson::Document doc;
          doc.Parse(r.body.c_str(), r.body.size());
          if (doc.HasParseError() || !doc.HasMember("items")) return false;
          for (const auto& item : doc["items"].GetArray()) {
            if (std::string(item["release"].GetString()) != release) continue;
            found.CopyFrom(item, found.GetAllocator());
            return ready(found);
          }
          return false;
        },
        20);
    EXPECT_TRUE(ok) << "release " << release << " not as expected\n"
                    << server_->Log();
    return found;
  }

  std::unique_ptr<ServerProcess> server_;
  ServerProcess::ProjectInfo project_;
  std::string pid_;
};

INSTANTIATE_TEST_SUITE_P(Backends, SessionsSdkTest,
                         ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST_P(SessionsSdkTest, SentryNodeSessionsAndRequestAggregates) {
  const char* node_path = std::getenv("NODE_PATH");
  const std::string modules =
      node_path != nullptr && *node_path != '\0'
          ? node_path
          : testing::SourceDir() + "/tests/node_modules";
  if (!Exists(modules + "/@sentry/node/package.json")) {
    GTEST_SKIP() << "@sentry/node is not installed under " << modules;
  }
  testing::CommandResult run = testing::RunCommand(
      {"node", testing::SourceDir() + "/tests/releases/sentry_node_releases.js",
       project_.dsn},
      {{"NODE_PATH", modules}}, 90);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err << server_->Log();

  // Sessions are committed before the envelope is answered: the SDK's
  // flush returned, so the counts are there.
  EXPECT_EQ(Sessions("shop@2.0.1", "staging", "crashed"), 1) << server_->Log();
  EXPECT_EQ(Sessions("shop@2.0.1", "staging", "errored"), 2);  // 1 + 1 request
  EXPECT_EQ(Sessions("shop@2.0.1", "staging", "exited"), 3);   // requests
  EXPECT_EQ(Sessions("shop@2.0.1", "staging", "abnormal"), 0);

  // The error events are written by the ingest queue: poll for them.
  rapidjson::Document r =
      WaitForRelease("shop@2.0.1", [](const rapidjson::Value& item) {
        return item["errors"].GetUint64() >= 3;
      });
  ASSERT_TRUE(r.IsObject());
  EXPECT_EQ(r["sessions"]["total"].GetUint64(), 6u);
  EXPECT_EQ(r["sessions"]["crashed"].GetUint64(), 1u);
  EXPECT_EQ(r["sessions"]["errored"].GetUint64(), 2u);
  EXPECT_EQ(r["sessions"]["exited"].GetUint64(), 3u);
  EXPECT_NEAR(r["crash_free_sessions"].GetDouble(), 100.0 * 5 / 6, 1e-9);
  EXPECT_NEAR(r["healthy_sessions"].GetDouble(), 50.0, 1e-9);
  // user-7 (errored) and user-8 (crashed).
  EXPECT_EQ(r["users"].GetUint64(), 2u);
  EXPECT_EQ(r["crashed_users"].GetUint64(), 1u);
  EXPECT_NEAR(r["crash_free_users"].GetDouble(), 50.0, 1e-9);
  // handled failure, fatal failure, request failed: three error events.
  EXPECT_EQ(r["errors"].GetUint64(), 3u);
  // Every group of the project came with this release (the first two
  // errors share a stack, so one group; grouping decides, not this test).
  HttpResult groups = server_->Get("/api/v1/groups?project=" + pid_);
  ASSERT_EQ(groups.status, 200);
  rapidjson::Document list;
  list.Parse(groups.body.c_str(), groups.body.size());
  ASSERT_TRUE(list.IsObject() && list.HasMember("items"));
  EXPECT_GE(list["items"].Size(), 2u);
  EXPECT_EQ(r["new_groups"].GetInt64(),
            static_cast<int64_t>(list["items"].Size()));
  ASSERT_EQ(r["environments"].Size(), 1u);
  EXPECT_STREQ(r["environments"][0].GetString(), "staging");
  EXPECT_NE(std::string(r["links"]["groups"].GetString())
                .find("/api/v1/groups?project=" + pid_),
            std::string::npos);
}

TEST_P(SessionsSdkTest, SentryPythonWsgiAggregates) {
  std::string python;
  for (const char* candidate : {"/usr/bin/python3", "python3"}) {
    if (testing::RunCommand({candidate, "-c", "import sentry_sdk"}, {}, 30)
            .exit_code == 0) {
      python = candidate;
      break;
    }
  }
  if (python.empty()) GTEST_SKIP() << "no python3 with sentry_sdk";
  testing::CommandResult run = testing::RunCommand(
      {python, testing::SourceDir() + "/tests/releases/sentry_python_wsgi.py",
       project_.dsn},
      {}, 90);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err << server_->Log();

  EXPECT_EQ(Sessions("api@3.1.0", "production", "exited"), 3) << server_->Log();
  EXPECT_EQ(Sessions("api@3.1.0", "production", "errored"), 1);
  EXPECT_EQ(Sessions("api@3.1.0", "production", "crashed"), 1);
  rapidjson::Document r =
      WaitForRelease("api@3.1.0", [](const rapidjson::Value& item) {
        return item["errors"].GetUint64() >= 2;
      });
  ASSERT_TRUE(r.IsObject());
  EXPECT_EQ(r["sessions"]["total"].GetUint64(), 5u);
  EXPECT_NEAR(r["crash_free_sessions"].GetDouble(), 80.0, 1e-9);
  // No did in the aggregates: no users, so no crash-free users rate.
  EXPECT_EQ(r["users"].GetUint64(), 0u);
  EXPECT_TRUE(r["crash_free_users"].IsNull());

  // Bad parameters are refused.
  EXPECT_EQ(server_->Get("/api/v1/releases?projekt=1").status, 400);
  EXPECT_EQ(server_->Get("/api/v1/releases?project=x").status, 400);
  EXPECT_EQ(server_->Get("/api/v1/releases?cursor=zz").status, 400);
  EXPECT_EQ(server_->Get("/api/v1/releases?limit=0").status, 400);
}

}  // namespace
}  // namespace crashctl
