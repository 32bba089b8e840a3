// End to end with storage.driver postgres (docs/postgres.md): a private
// PostgreSQL server (tests/testing/postgres_server.h), the real crashctl
// binary configured by CRASHCTL_STORAGE_* variables. A project is created
// over REST, events arrive through the Sentry store and envelope endpoints,
// the groups read back over REST with their counts, survive a restart of
// `serve`, a transaction is stored and read back with its trace, and a
// feature the driver lacks answers 501 with an error body.
// Skips when PostgreSQL is not installed.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <csignal>
#include <map>
#include <memory>
#include <string>

#include "crashctl/util/time.h"
#include "tests/testing/events.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace {

using testing::Envelope;
using testing::EventJson;
using testing::HttpResult;
using testing::ServerProcess;

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  EXPECT_FALSE(doc.HasParseError()) << text;
  return doc;
}

std::string Id(char c) { return std::string(32, c); }

class PostgresIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!testing::PostgresServer::Available(&why)) GTEST_SKIP() << why;
    pg_ = testing::PostgresServer::Create(&why);
    ASSERT_NE(pg_, nullptr) << why;
    StartServe();
  }

  std::map<std::string, std::string> Env() const {
    return {{"CRASHCTL_STORAGE_DRIVER", "postgres"},
            {"CRASHCTL_STORAGE_POSTGRES_DSN",
             pg_->ConnectionString() + " password=s3cret-pw"},
            {"CRASHCTL_STORAGE_POSTGRES_POOL_SIZE", "4"}};
  }

  void StartServe() {
    ServerProcess::Options options;
    options.data_dir = data_.path();
    options.env = Env();
    std::string error;
    server_ = ServerProcess::Start(options, &error);
    ASSERT_TRUE(server_) << error;
  }

  // Groups of the project by count, as (title, count).
  std::map<std::string, int64_t> Groups(int64_t project) {
    std::map<std::string, int64_t> out;
    HttpResult r = server_->Get("/api/v1/groups?sort=count&project=" +
                                std::to_string(project));
    EXPECT_EQ(r.status, 200) << r.body;
    rapidjson::Document doc = ParseJson(r.body);
    if (!doc.IsObject() || !doc.HasMember("items")) return out;
    for (const auto& g : doc["items"].GetArray()) {
      out[g["title"].GetString()] = g["count"].GetInt64();
    }
    return out;
  }

  testing::TempDir data_{"pg-integration"};
  std::unique_ptr<testing::PostgresServer> pg_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(PostgresIntegrationTest, EventsGroupsAndRestart) {
  HttpResult r = server_->Post("/api/v1/projects", R"({"name":"shop"})",
                               {"Content-Type: application/json"});
  ASSERT_EQ(r.status, 201) << r.body << server_->Log();
  rapidjson::Document project = ParseJson(r.body);
  const int64_t id = project["id"].GetInt64();
  const std::string key = project["public_key"].GetString();
  ASSERT_EQ(key.size(), 32u);

  // The store endpoint (auth header) and the envelope endpoint (query key).
  const std::string store_path = "/api/" + std::to_string(id) + "/store/";
  const std::string auth =
      "X-Sentry-Auth: Sentry sentry_version=7, "
      "sentry_key=" +
      key + ", sentry_client=test/1.0";
  for (char c : {'a', 'b'}) {
    r = server_->Post(store_path, EventJson(Id(c), "KeyError", "'sku'"),
                      {auth});
    ASSERT_EQ(r.status, 200) << r.body << server_->Log();
  }
  const std::string envelope_path =
      "/api/" + std::to_string(id) + "/envelope/?sentry_key=" + key;
  r = server_->Post(envelope_path,
                    Envelope(Id('c'), EventJson(Id('c'), "KeyError", "'sku'")),
                    {"Content-Type: application/x-sentry-envelope"});
  ASSERT_EQ(r.status, 200) << r.body;
  r = server_->Post(envelope_path,
                    Envelope(Id('d'), EventJson(Id('d'), "ValueError", "bad")),
                    {"Content-Type: application/x-sentry-envelope"});
  ASSERT_EQ(r.status, 200) << r.body;
  // A transaction and a session item, both stored.
  const std::string now = util::FormatRfc3339Millis(util::NowSeconds());
  r = server_->Post(
      envelope_path,
      "{}\n{\"type\":\"transaction\"}\n"
      "{\"type\":\"transaction\",\"transaction\":\"GET /cart\","
      "\"start_timestamp\":\"" +
          now + "\",\"timestamp\":\"" + now +
          "\",\"contexts\":{\"trace\":{\"trace_id\":\"" + std::string(32, 'a') +
          "\",\"span_id\":\"" + std::string(16, 'b') +
          "\",\"op\":\"http.server\",\"status\":\"ok\"}}}\n"
          "{\"type\":\"session\"}\n"
          "{\"sid\":\"" +
          std::string(32, 'c') +
          "\",\"status\":\"exited\",\"init\":true,\"started\":\"" + now +
          "\",\"attrs\":{\"release\":\"shop@1.0\"}}\n",
      {"Content-Type: application/x-sentry-envelope"});
  EXPECT_EQ(r.status, 200) << r.body << server_->Log();
  // A retried event is stored once.
  r = server_->Post(store_path, EventJson(Id('a'), "KeyError", "'sku'"),
                    {auth});
  ASSERT_EQ(r.status, 200) << r.body;

  std::map<std::string, int64_t> groups;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        groups = Groups(id);
        return groups.size() == 2 && groups["KeyError: 'sku'"] == 3;
      },
      10))
      << server_->Log();
  EXPECT_EQ(groups["ValueError: bad"], 1);

  r = server_->Get("/api/v1/events/" + Id('c'));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("shop.views"), std::string::npos) << r.body;

  // Crashes are kept (an empty list here: no watcher).
  r = server_->Get("/api/v1/crashes");
  EXPECT_EQ(r.status, 200) << r.body;

  // The transaction, listed and in its trace (the pipeline writes it in a
  // batch of its own: poll).
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        r = server_->Get("/api/v1/transactions?project=" + std::to_string(id));
        return r.status == 200 && r.body.find("GET /cart") != std::string::npos;
      },
      10))
      << r.status << " " << r.body << server_->Log();
  r = server_->Get("/api/v1/traces/" + std::string(32, 'a'));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("GET /cart"), std::string::npos) << r.body;

  // Releases: the envelope's exited session, counted on its release.
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        r = server_->Get("/api/v1/releases?project=" + std::to_string(id));
        return r.status == 200 &&
               r.body.find("\"shop@1.0\"") != std::string::npos &&
               r.body.find("\"exited\":1") != std::string::npos;
      },
      10))
      << r.status << " " << r.body << server_->Log();

  // Features the driver lacks answer 501 with an error, the server stays.
  r = server_->Get("/api/v1/groups?query=sku");
  EXPECT_EQ(r.status, 501) << r.body;
  EXPECT_TRUE(ParseJson(r.body).HasMember("error")) << r.body;
  EXPECT_EQ(server_->Get("/healthz").status, 200);
  EXPECT_EQ(server_->Get("/readyz").status, 200)
      << server_->Get("/readyz").body;

  // Restart: the data is in PostgreSQL, and ingest goes on.
  EXPECT_EQ(server_->Stop(SIGTERM), 0) << server_->Log();
  server_.reset();
  StartServe();
  groups = Groups(id);
  EXPECT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups["KeyError: 'sku'"], 3);
  EXPECT_EQ(groups["ValueError: bad"], 1);
  r = server_->Post(store_path, EventJson(Id('e'), "KeyError", "'sku'"),
                    {auth});
  ASSERT_EQ(r.status, 200) << r.body << server_->Log();
  ASSERT_TRUE(
      testing::WaitFor([&] { return Groups(id)["KeyError: 'sku'"] == 4; }, 10))
      << server_->Log();
  // The data commands use the same store.
  testing::CommandResult run = testing::RunCommand(
      {testing::CrashctlBinary(), "project", "create", "--name", "cli"}, Env());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  run = testing::RunCommand({testing::CrashctlBinary(), "project", "list"},
                            Env());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("\tshop\t"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("\tcli\t"), std::string::npos) << run.out;
  EXPECT_EQ(run.err.find("s3cret-pw"), std::string::npos) << run.err;

  // The password of the DSN never reaches the log (trust authentication
  // ignores it).
  EXPECT_EQ(server_->Log().find("s3cret-pw"), std::string::npos)
      << server_->Log();
  EXPECT_NE(server_->Log().find("password=***"), std::string::npos)
      << server_->Log();
}

}  // namespace
}  // namespace crashctl
