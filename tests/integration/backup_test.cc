// Operating it: `crashctl backup` under load, `crashctl restore` refused
// while a server runs and working once it has stopped, and size-based
// retention in a running server (metric and log line).
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/events.h"
#include "tests/testing/raw_http.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace {

using testing::CommandResult;
using testing::CrashctlBinary;
using testing::HttpCall;
using testing::HttpResult;
using testing::RunCommand;
using testing::ServerProcess;

std::string EventId(int client, int n) {
  char buffer[33];
  snprintf(buffer, sizeof(buffer), "%08x%024x", client + 1, n + 1);
  return buffer;
}

std::string Event(const std::string& id, int n, size_t noise = 0) {
  return R"({"event_id":")" + id + R"(","level":"error","platform":"python",)" +
         R"("message":"boom )" + std::to_string(n) + " " +
         testing::IncompressibleText(noise, n) +
         R"(","exception":{"values":[{"type":"E)" + std::to_string(n % 20) +
         R"(","value":"boom"}]}})";
}

// Clients that send events until stopped and record the acknowledged ids.
class Load {
 public:
  Load(const std::string& url, int clients) {
    for (int c = 0; c < clients; ++c) {
      threads_.emplace_back([this, url, c] {
        // Bounded: at most kMaxPerClient events per client.
        for (int n = 0; n < kMaxPerClient && !stop_; ++n) {
          const std::string id = EventId(c, n);
          HttpResult r = HttpCall("POST", url, Event(id, n), {}, 10000);
          if (r.status == 200) {
            std::lock_guard<std::mutex> lock(mu_);
            acknowledged_.push_back(id);
          } else if (r.status == 0) {
            return;  // server gone
          }
        }
      });
    }
  }
  ~Load() { Stop(); }
  void Stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  std::vector<std::string> Acknowledged() {
    std::lock_guard<std::mutex> lock(mu_);
    return acknowledged_;
  }
  size_t Count() {
    std::lock_guard<std::mutex> lock(mu_);
    return acknowledged_.size();
  }

 private:
  static constexpr int kMaxPerClient = 50000;
  std::mutex mu_;
  std::vector<std::string> acknowledged_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

std::set<std::string> EventIdsIn(const std::string& db) {
  CommandResult r = RunCommand({"sqlite3", db, "SELECT event_id FROM events;"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> ids;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) ids.insert(line);
  return ids;
}

// Options for a server whose data directory is `dir`/data (created).
ServerProcess::Options InDataDir(const testing::TempDir& dir) {
  ServerProcess::Options options;
  options.data_dir = dir.File("data");
  std::filesystem::create_directories(options.data_dir);
  return options;
}

// The started server, or null with a test failure saying why.
std::unique_ptr<ServerProcess> StartServer(
    const ServerProcess::Options& options) {
  std::string error;
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(options, &error);
  EXPECT_TRUE(server) << error;
  return server;
}

std::string StoreUrl(ServerProcess* server,
                     const ServerProcess::ProjectInfo& project) {
  return server->base_url() + "/api/" + std::to_string(project.id) +
         "/store/?sentry_key=" + project.key;
}

TEST(BackupTest, BackupUnderLoadHoldsEveryEventAcknowledgedBeforeIt) {
  testing::TempDir dir("backup");
  ServerProcess::Options options = InDataDir(dir);
  std::unique_ptr<ServerProcess> server = StartServer(options);
  ASSERT_TRUE(server);
  const ServerProcess::ProjectInfo project = server->CreateProject("bk");
  Load load(StoreUrl(server.get(), project), 3);
  ASSERT_TRUE(testing::WaitFor([&] { return load.Count() >= 300; }, 60));

  const std::vector<std::string> before = load.Acknowledged();
  const std::string copy = dir.File("crashctl-backup.db");
  // The clients go on sending while the backup runs; one page per step
  // (each followed by a 2 ms pause) makes the copy take many steps, with
  // commits between them.
  CommandResult backup =
      RunCommand({CrashctlBinary(), "backup", "--to", copy, "--data",
                  options.data_dir, "--pages-per-step", "1"},
                 {}, 120);
  const size_t during = load.Count();
  ASSERT_TRUE(testing::WaitFor([&] { return load.Count() >= during + 50; }, 30))
      << "ingestion stalled after the backup";
  load.Stop();
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  EXPECT_NE(backup.out.find("written to " + copy), std::string::npos)
      << backup.out;

  CommandResult check =
      RunCommand({"sqlite3", copy, "PRAGMA integrity_check;"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_EQ(check.out, "ok\n");
  const std::set<std::string> copied = EventIdsIn(copy);
  size_t missing = 0;
  for (const std::string& id : before) missing += copied.count(id) == 0;
  EXPECT_EQ(missing, 0u) << "of " << before.size()
                         << " acknowledged before the backup";
  EXPECT_GE(copied.size(), before.size());
  // Later events went on being acknowledged, and are not all in the copy.
  EXPECT_GT(load.Count(), copied.size());
  std::printf(
      "backup: %zu events acknowledged before, %zu while it ran, %zu in the "
      "copy, %zu acknowledged in all; %s",
      before.size(), during - before.size(), copied.size(), load.Count(),
      backup.out.c_str());
}

TEST(BackupTest, RestoreIsRefusedWhileServingAndRestoresAfterStop) {
  testing::TempDir dir("restore");
  ServerProcess::Options options = InDataDir(dir);
  std::unique_ptr<ServerProcess> server = StartServer(options);
  ASSERT_TRUE(server);
  const ServerProcess::ProjectInfo project = server->CreateProject("rs");
  const std::string url = StoreUrl(server.get(), project);
  std::vector<std::string> kept, later;
  for (int n = 0; n < 20; ++n) {
    const std::string id = EventId(0, n);
    ASSERT_EQ(HttpCall("POST", url, Event(id, n)).status, 200);
    kept.push_back(id);
  }
  const std::string copy = dir.File("b.db");
  CommandResult backup = RunCommand(
      {CrashctlBinary(), "backup", "--to", copy, "--data", options.data_dir});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  for (int n = 0; n < 10; ++n) {
    const std::string id = EventId(1, n);
    ASSERT_EQ(HttpCall("POST", url, Event(id, n)).status, 200);
    later.push_back(id);
  }

  CommandResult refused = RunCommand({CrashctlBinary(), "restore", "--from",
                                      copy, "--data", options.data_dir});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("crashctl restore:"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("server is using"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("stop it first"), std::string::npos)
      << refused.err;
  // The running server was not disturbed.
  EXPECT_EQ(server->Get("/api/v1/events/" + later.back()).status, 200);

  EXPECT_EQ(server->Stop(SIGTERM), 0);
  server.reset();
  CommandResult restored = RunCommand({CrashctlBinary(), "restore", "--from",
                                       copy, "--data", options.data_dir});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_NE(restored.out.find("restored " + copy), std::string::npos)
      << restored.out;

  server = StartServer(options);
  ASSERT_TRUE(server);
  for (const std::string& id : kept) {
    EXPECT_EQ(server->Get("/api/v1/events/" + id).status, 200) << id;
  }
  for (const std::string& id : later) {
    EXPECT_EQ(server->Get("/api/v1/events/" + id).status, 404) << id;
  }
  // The restored server ingests again, into the restored project.
  EXPECT_EQ(
      HttpCall("POST", StoreUrl(server.get(), project), Event(EventId(2, 0), 0))
          .status,
      200);
}

TEST(BackupTest, BadUsageAndHelp) {
  CommandResult help = RunCommand({CrashctlBinary(), "backup", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: crashctl backup --to FILE"),
            std::string::npos)
      << help.out;
  help = RunCommand({CrashctlBinary(), "restore", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: crashctl restore --from FILE"),
            std::string::npos)
      << help.out;
  CommandResult r = RunCommand({CrashctlBinary(), "backup"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "crashctl backup: --to FILE is required (crashctl backup "
            "--help)\n");
  r = RunCommand(
      {CrashctlBinary(), "restore", "--from", "x", "--timeout", "soon"});
  EXPECT_EQ(r.exit_code, 2);
  r = RunCommand(
      {CrashctlBinary(), "backup", "--to", "x", "--pages-per-step", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--pages-per-step"), std::string::npos) << r.err;
  testing::TempDir dir("backup-usage");
  r = RunCommand({CrashctlBinary(), "backup", "--to", dir.File("b.db"),
                  "--data", dir.File("none")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no database at"), std::string::npos) << r.err;
  r = RunCommand({CrashctlBinary(), "restore", "--from", dir.File("none.db"),
                  "--data", dir.File("data")});
  EXPECT_EQ(r.exit_code, 1);
}

TEST(BackupTest, SizeRetentionInTheServerDeletesTheOldestAndCounts) {
  testing::TempDir dir("max-size");
  ServerProcess::Options options = InDataDir(dir);
  std::unique_ptr<ServerProcess> server = StartServer(options);
  ASSERT_TRUE(server);
  const ServerProcess::ProjectInfo project = server->CreateProject("sz");
  // About 8 MB of stored data (13 KB an event), oldest first, with no limit
  // yet.
  constexpr int kEvents = 600;
  for (int n = 0; n < kEvents; ++n) {
    ASSERT_EQ(HttpCall("POST", StoreUrl(server.get(), project),
                       Event(EventId(0, n), n, 6000))
                  .status,
              200)
        << n;
  }
  EXPECT_EQ(server->Stop(SIGTERM), 0);
  // Restarted with a limit of 1 MiB, applied a second after the start.
  options.env = {{"CRASHCTL_RETENTION_MAX_SIZE", "1MiB"},
                 {"CRASHCTL_RETENTION_CLEANUP_INTERVAL", "1s"}};
  server = StartServer(options);
  ASSERT_TRUE(server);
  const std::string db = options.data_dir + "/crashctl.db";
  // What Store::UsedBytes measures, read past the server.
  auto used_bytes = [&db]() -> long long {
    CommandResult r = RunCommand(
        {"sqlite3", db,
         "SELECT ((SELECT page_count FROM pragma_page_count()) - (SELECT "
         "freelist_count FROM pragma_freelist_count())) * (SELECT page_size "
         "FROM pragma_page_size());"});
    return r.exit_code == 0 ? std::stoll(r.out) : -1;
  };
  const std::string series = "crashctl_retention_size_deleted_events_total";
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        const long long used = used_bytes();
        return used >= 0 && used <= (1 << 20) &&
               testing::MetricValue(server->Get("/metrics").body, series) > 0;
      },
      60))
      << "stored data " << used_bytes() << " bytes\n"
      << server->Log();
  const double deleted =
      testing::MetricValue(server->Get("/metrics").body, series);
  EXPECT_GT(deleted, kEvents / 2);
  // Not (much) more than needed: 1 MiB holds about 60 of these events
  // besides the empty tables and indexes, and a pass deletes at most 2 %
  // more than its estimate says is over the limit.
  EXPECT_LT(deleted, kEvents - 20) << server->Log();
  EXPECT_GT(used_bytes(), (1 << 20) / 2) << server->Log();
  EXPECT_EQ(server->Get("/api/v1/events/" + EventId(0, 0)).status, 404);
  EXPECT_EQ(server->Get("/api/v1/events/" + EventId(0, kEvents - 1)).status,
            200);
  // Age retention deleted nothing: its counter stays 0.
  EXPECT_EQ(testing::MetricValue(server->Get("/metrics").body,
                                 "crashctl_retention_deleted_events_total"),
            0);
  EXPECT_NE(server->Log().find("retention: deleted the"), std::string::npos)
      << server->Log();
  std::printf("max_size 1MiB: %.0f of %d events deleted, %lld bytes used\n",
              deleted, kEvents, used_bytes());
}

}  // namespace
}  // namespace crashctl
