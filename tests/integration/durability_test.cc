// Durability: SIGKILL the server in the middle of a load; after a restart
// every event acknowledged with 200 is there, every group's count matches
// its events, and the database is intact.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/events.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace {

using testing::HttpCall;
using testing::HttpResult;
using testing::ServerProcess;

TEST(DurabilityTest, KillDashNineLosesNoAcknowledgedEvent) {
  // Both servers use this data dir; it outlives them.
  testing::TempDir dir("durability");
  ServerProcess::Options options;
  options.data_dir = dir.path();
  std::string error;
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(options, &error);
  ASSERT_TRUE(server) << error;
  const ServerProcess::ProjectInfo project = server->CreateProject("dur");
  const std::string url = server->base_url() + project.StorePath();

  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  constexpr int kClients = 4;
  constexpr int kMaxPerClient = 20000;  // bound the loop
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int n = 0; n < kMaxPerClient && !stop; ++n) {
        const std::string id = testing::HexEventId(c + 1, n + 1);
        const std::string k = std::to_string(n % 50);
        const std::string event =
            testing::PythonExceptionEvent(id, "E" + k, "boom", "f" + k);
        HttpResult r = HttpCall("POST", url, event, {}, 5000);
        if (r.status == 200) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.push_back(id);
        } else if (r.status == 0) {
          return;  // server gone
        }
      }
    });
  }
  // Kill once a good number of events have been acknowledged.
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return acknowledged.size() >= 300;
      },
      60));
  EXPECT_EQ(server->Stop(SIGKILL), 128 + SIGKILL);
  stop = true;
  for (auto& t : clients) t.join();
  const std::string data_dir = server->data_dir();
  server.reset();

  server = ServerProcess::Start(options, &error);
  ASSERT_TRUE(server) << error;
  size_t missing = 0;
  for (const std::string& id : acknowledged) {
    if (server->Get("/api/v1/events/" + id).status != 200) ++missing;
  }
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged";
  // Group counters are written about once a second; the ones the kill left
  // unwritten were recovered from the events when the server started.
  testing::CommandResult counters = testing::RunCommand(
      {"sqlite3", data_dir + "/crashctl.db",
       "SELECT count(*) FROM groups g WHERE g.count != "
       "(SELECT count(*) FROM events e WHERE e.group_id = g.id);"});
  EXPECT_EQ(counters.exit_code, 0) << counters.err;
  EXPECT_EQ(counters.out, "0\n") << "groups whose count is not their events'";
  server->Stop(SIGTERM);

  testing::CommandResult check = testing::RunCommand(
      {"sqlite3", data_dir + "/crashctl.db", "PRAGMA integrity_check;"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_EQ(check.out, "ok\n");
}

}  // namespace
}  // namespace crashctl
