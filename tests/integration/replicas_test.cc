// Several `crashctl serve` replicas on one PostgreSQL database
// (docs/scaling.md "What the tests prove"): 30,000 events with overlapping
// groups arrive at three replicas at once, from clients that retry an
// event on another replica when theirs fails, as an SDK behind a
// Kubernetes Service does. In the middle one replica dies by SIGKILL (or
// PostgreSQL itself is killed and started again). Afterwards, read in the
// database itself: every acknowledged event is stored exactly once, every
// group's count equals its events, no group exists twice, and the groups
// read the same through every surviving replica. Skips without PostgreSQL.
//
// Label "chaos": the normal stage runs it; the sanitizer stages leave it
// out (at -O0 under ASan it is minutes of load that the PostgreSQL store
// tests already cover line by line).
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/events.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace {

using testing::HttpCall;
using testing::HttpResult;
using testing::ServerProcess;

constexpr int kEvents = 30000;
constexpr int kGroups = 40;
constexpr int kClients = 6;
constexpr int kReplicas = 3;
// Attempts per event before a client gives it up (each failure moves it to
// the next replica, backing off 50 ms after a full round).
constexpr int kAttempts = 200;

class ReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!testing::PostgresServer::Available(&why)) GTEST_SKIP() << why;
    testing::PostgresServer::Options options;
    options.max_connections = 60;
    pg_ = testing::PostgresServer::Create(options, &why);
    ASSERT_NE(pg_, nullptr) << why;
    for (int i = 0; i < kReplicas; ++i) {
      ServerProcess::Options server;
      server.env = {
          {"CRASHCTL_STORAGE_DRIVER", "postgres"},
          {"CRASHCTL_STORAGE_POSTGRES_DSN", pg_->ConnectionString()},
          {"CRASHCTL_STORAGE_POSTGRES_POOL_SIZE", "4"},
      };
      replicas_.push_back(ServerProcess::Start(server, &why));
      ASSERT_TRUE(replicas_.back()) << why;
      urls_.push_back(replicas_.back()->base_url());
    }
    HttpResult r = replicas_[0]->Post("/api/v1/projects", R"({"name":"shop"})",
                                      {"Content-Type: application/json"});
    ASSERT_EQ(r.status, 201) << r.body;
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    ASSERT_TRUE(doc.IsObject() && doc.HasMember("id")) << r.body;
    project_ = doc["id"].GetInt64();
    store_path_ = "/api/" + std::to_string(project_) +
                  "/store/?sentry_key=" + doc["public_key"].GetString();
  }

  static std::string EventId(int i) {
    return testing::HexEventId(0xc4a05u, static_cast<uint32_t>(i));
  }

  // Client `c` sends events c, c + kClients, ...: each to replica
  // (i + attempt) % kReplicas until one answers 200.
  void RunClient(int c) {
    for (int i = c; i < kEvents; i += kClients) {
      const std::string body = testing::PythonExceptionEvent(
          EventId(i), "ChaosError", "event " + std::to_string(i),
          "handler_" + std::to_string(i % kGroups));
      bool acked = false;
      for (int attempt = 0; attempt < kAttempts && !acked; ++attempt) {
        if (attempt > 0 && attempt % kReplicas == 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        const std::string& url = urls_[(i + attempt) % kReplicas];
        HttpResult r = HttpCall("POST", url + store_path_, body, {}, 10000);
        if (r.status == 200) {
          acked = true;
        } else {
          retries_.fetch_add(1);
          if (r.status != 0 && r.status != 503 && r.status != 429) {
            std::lock_guard<std::mutex> lock(mu_);
            unexpected_.push_back(std::to_string(r.status) + " " + r.body);
          }
        }
      }
      if (acked) {
        std::lock_guard<std::mutex> lock(mu_);
        acked_.insert(EventId(i));
      }
      done_.fetch_add(1);
    }
  }

  // Starts the clients, calls `disrupt` once a third of the events are
  // acknowledged, waits for the clients.
  void Load(const std::function<void()>& disrupt) {
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([this, c] { RunClient(c); });
    }
    const bool reached = testing::WaitFor(
        [&] {
          std::lock_guard<std::mutex> lock(mu_);
          return acked_.size() >= kEvents / 3 || done_.load() == kEvents;
        },
        240);
    EXPECT_TRUE(reached);
    {
      std::lock_guard<std::mutex> lock(mu_);
      EXPECT_LT(acked_.size(), static_cast<size_t>(kEvents))
          << "the disruption came after the load";
    }
    disrupt();
    for (std::thread& t : clients) t.join();
  }

  std::vector<std::vector<std::string>> Query(const std::string& sql) {
    std::vector<std::vector<std::string>> rows;
    std::string error;
    EXPECT_TRUE(pg_->Query(sql, &rows, &error)) << error;
    return rows;
  }

  // What the database holds, checked against what the clients were told.
  void CheckDatabase() {
    // Every acknowledged event is there, once (the table's unique key
    // makes "once" structural; the count proves no other row came in).
    std::set<std::string> stored;
    for (const auto& row : Query("SELECT event_id FROM events")) {
      stored.insert(row[0]);
    }
    EXPECT_EQ(Query("SELECT count(*) FROM events")[0][0],
              std::to_string(stored.size()));
    size_t missing = 0;
    for (const std::string& id : acked_) missing += stored.count(id) == 0;
    EXPECT_EQ(missing, 0u) << "acknowledged events that are not stored";
    // Every client got its events in, in the end.
    EXPECT_EQ(acked_.size(), static_cast<size_t>(kEvents));
    EXPECT_EQ(stored.size(), static_cast<size_t>(kEvents));
    // One group per fingerprint, and each count is its events.
    auto groups = Query(
        "SELECT g.id, g.count, (SELECT count(*) FROM events e "
        "WHERE e.group_id = g.id) FROM groups g WHERE g.project_id = " +
        std::to_string(project_));
    EXPECT_EQ(groups.size(), static_cast<size_t>(kGroups));
    int64_t total = 0;
    for (const auto& g : groups) {
      EXPECT_EQ(g[1], g[2]) << "group " << g[0];
      total += std::stoll(g[1]);
    }
    EXPECT_EQ(total, kEvents);
    EXPECT_EQ(Query("SELECT count(*) FROM (SELECT project_id, fingerprint "
                    "FROM groups GROUP BY 1, 2 HAVING count(*) > 1) d")[0][0],
              "0");
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_TRUE(unexpected_.empty())
        << unexpected_.size() << " unexpected answers, first "
        << unexpected_.front();
  }

  // The sum of the group counts as `replica` reports them over REST.
  int64_t CountThrough(ServerProcess* replica) {
    HttpResult r = replica->Get("/api/v1/groups?limit=100&project=" +
                                std::to_string(project_));
    EXPECT_EQ(r.status, 200) << r.body;
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    int64_t total = 0;
    if (!doc.IsObject() || !doc.HasMember("items")) return -1;
    for (const auto& g : doc["items"].GetArray()) {
      total += g["count"].GetInt64();
    }
    return total;
  }

  std::unique_ptr<testing::PostgresServer> pg_;
  std::vector<std::unique_ptr<ServerProcess>> replicas_;
  std::vector<std::string> urls_;
  int64_t project_ = 0;
  std::string store_path_;

  std::mutex mu_;
  std::set<std::string> acked_;          // guarded by mu_
  std::vector<std::string> unexpected_;  // guarded by mu_
  std::atomic<int> done_{0};
  std::atomic<int> retries_{0};
};

TEST_F(ReplicasTest, OneKilledMidLoadLosesAndDuplicatesNothing) {
  const auto start = std::chrono::steady_clock::now();
  Load([&] {
    // SIGKILL: no drain, no goodbye; its clients move to the others.
    EXPECT_EQ(replicas_[2]->Stop(SIGKILL), 128 + SIGKILL);
  });
  std::cerr << "[ chaos    ] " << kEvents << " events in "
            << testing::SecondsSince(start) << " s, " << retries_.load()
            << " retried\n";
  CheckDatabase();
  EXPECT_GT(retries_.load(), 0) << "the kill moved no client";
  // The survivors answer alike.
  EXPECT_EQ(CountThrough(replicas_[0].get()), kEvents);
  EXPECT_EQ(CountThrough(replicas_[1].get()), kEvents);
}

TEST_F(ReplicasTest, PostgresKilledMidLoadLosesAndDuplicatesNothing) {
  const auto start = std::chrono::steady_clock::now();
  Load([&] {
    // Every server process at once, as a power cut of the database host;
    // back after a second, through crash recovery. The replicas answer 503
    // meanwhile and recover without a restart.
    std::string error;
    ASSERT_TRUE(pg_->Kill(&error)) << error;
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ASSERT_TRUE(pg_->Start(&error)) << error;
  });
  std::cerr << "[ chaos    ] " << kEvents << " events in "
            << testing::SecondsSince(start) << " s, " << retries_.load()
            << " retried\n";
  CheckDatabase();
  EXPECT_GT(retries_.load(), 0) << "the database outage moved no client";
  for (auto& replica : replicas_) {
    EXPECT_EQ(CountThrough(replica.get()), kEvents);
    EXPECT_TRUE(testing::WaitFor(
        [&] { return replica->Get("/readyz").status == 200; }, 30))
        << replica->Log();
  }
}

}  // namespace
}  // namespace crashctl
