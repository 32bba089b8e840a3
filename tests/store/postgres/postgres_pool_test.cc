// Pool: bounded under concurrency, acquire timeouts, broken connections
// discarded, open transactions rolled back on return, and recovery after
// PostgreSQL restarts (or is killed) while threads use it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "crashctl/store/pg/errors.h"
#include "crashctl/store/pg/pool.h"
#include "tests/store/postgres/postgres_test_util.h"

namespace crashctl {
namespace store {
namespace pg {
namespace {

using Code = Status::Code;
using testing::PostgresServer;
using testutil::PgTest;

class PgPoolTest : public PgTest {
 protected:
  PoolOptions Options(int size) {
    PoolOptions options;
    options.connect = options_;
    options.connect.application_name = testutil::UniqueName("pool");
    options.size = size;
    options.acquire_timeout_ms = 2000;
    return options;
  }
};

TEST_F(PgPoolTest, ManyThreadsShareFewConnections) {
  constexpr int kThreads = 8;
  constexpr int kPoolSize = 3;
  constexpr int kIterations = 25;
  PoolOptions options = Options(kPoolSize);
  Pool pool(options);
  std::atomic<int> leased{0};
  std::atomic<int> max_leased{0};
  std::atomic<int> succeeded{0};
  std::atomic<int> timed_out{0};
  std::mutex mu;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        Pool::Lease lease;
        Status st = pool.Acquire(&lease);
        if (!st.ok()) {
          // The only acceptable failure: a clean timeout.
          if (st.code() == Code::kUnavailable &&
              st.message().find("no connection free") != std::string::npos) {
            ++timed_out;
          } else {
            std::lock_guard<std::mutex> lock(mu);
            failures.push_back(st.ToString());
          }
          continue;
        }
        int now = ++leased;
        int seen = max_leased.load();
        while (now > seen && !max_leased.compare_exchange_weak(seen, now)) {
        }
        const int64_t value = t * 1000 + i;
        Result r;
        st = lease->ExecPrepared("SELECT $1::int8 + 1 FROM pg_sleep(0.002)",
                                 Params().Int(value), &r);
        --leased;
        if (st.ok() && r.IntOr(0, 0, -1) == value + 1) {
          ++succeeded;
        } else {
          std::lock_guard<std::mutex> lock(mu);
          failures.push_back(st.ToString() + " value " + r.Text(0, 0));
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_TRUE(failures.empty()) << failures.front();
  EXPECT_EQ(succeeded + timed_out, kThreads * kIterations);
  EXPECT_GT(succeeded.load(), 0);
  EXPECT_LE(max_leased.load(), kPoolSize);
  Pool::Stats stats = pool.stats();
  EXPECT_LE(stats.open, kPoolSize);
  EXPECT_LE(stats.opened, kPoolSize);
  EXPECT_EQ(stats.leased, 0);
  EXPECT_EQ(stats.acquire_timeouts, timed_out.load());
  // The server agrees: no more sessions than the pool's size.
  Result r;
  PG_ASSERT_OK(conn_->Exec(
      "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
      Params().Text(options.connect.application_name), &r));
  EXPECT_LE(r.IntOr(0, 0, 99), kPoolSize);
  EXPECT_GE(r.IntOr(0, 0, 0), 1);
}

TEST_F(PgPoolTest, AcquireTimesOutWhenAllAreLeased) {
  Pool pool(Options(1));
  Pool::Lease first;
  PG_ASSERT_OK(pool.Acquire(&first));
  Pool::Lease second;
  auto began = std::chrono::steady_clock::now();
  Status st = pool.Acquire(100, &second);
  EXPECT_GE(std::chrono::steady_clock::now() - began,
            std::chrono::milliseconds(100));
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_FALSE(second);
  EXPECT_EQ(pool.stats().acquire_timeouts, 1);
  EXPECT_EQ(pool.stats().waiting, 0);
  // A waiter gets the connection as soon as it comes back.
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    first.Release();
  });
  PG_EXPECT_OK(pool.Acquire(5000, &second));
  releaser.join();
  EXPECT_TRUE(second);
  EXPECT_EQ(pool.stats().opened, 1);
}

TEST_F(PgPoolTest, BrokenConnectionsAreReplaced) {
  Pool pool(Options(2));
  int pid = 0;
  {
    Pool::Lease lease;
    PG_ASSERT_OK(pool.Acquire(&lease));
    pid = lease->backend_pid();
  }
  Result r;
  PG_ASSERT_OK(conn_->Exec("SELECT pg_terminate_backend($1::int, 5000)",
                           Params().Int(pid), &r));
  {
    Pool::Lease lease;
    PG_ASSERT_OK(pool.Acquire(&lease));
    EXPECT_EQ(lease->backend_pid(), pid);  // idle, not pinged yet
    Status st = lease->Exec("SELECT 1");
    EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  }
  EXPECT_EQ(pool.stats().discarded, 1);
  EXPECT_EQ(pool.stats().open, 0);
  Pool::Lease lease;
  PG_ASSERT_OK(pool.Acquire(&lease));
  EXPECT_NE(lease->backend_pid(), pid);
  PG_EXPECT_OK(lease->Exec("SELECT 1"));
  lease.Release();
  PG_EXPECT_OK(pool.HealthCheck());
}

TEST_F(PgPoolTest, IdleConnectionsArePingedAfterABreak) {
  PoolOptions options = Options(3);
  Pool pool(options);
  std::vector<int> pids;
  {
    Pool::Lease a, b, c;
    PG_ASSERT_OK(pool.Acquire(&a));
    PG_ASSERT_OK(pool.Acquire(&b));
    PG_ASSERT_OK(pool.Acquire(&c));
    pids = {a->backend_pid(), b->backend_pid(), c->backend_pid()};
  }
  // All three die (as in a server restart); one use finds it out.
  Result r;
  for (int pid : pids) {
    PG_ASSERT_OK(conn_->Exec("SELECT pg_terminate_backend($1::int, 5000)",
                             Params().Int(pid), &r));
  }
  {
    Pool::Lease lease;
    PG_ASSERT_OK(pool.Acquire(&lease));
    EXPECT_FALSE(lease->Exec("SELECT 1").ok());
  }
  // The other two idle since before the break: pinged, discarded, and a
  // fresh connection is handed out instead of a dead one.
  Pool::Lease lease;
  PG_ASSERT_OK(pool.Acquire(&lease));
  PG_EXPECT_OK(lease->Exec("SELECT 1"));
  EXPECT_EQ(pool.stats().discarded, 3);
}

TEST_F(PgPoolTest, ReturnedTransactionIsRolledBack) {
  PG_ASSERT_OK(conn_->ExecScript("CREATE TABLE rb (x int)"));
  Pool pool(Options(1));
  {
    Pool::Lease lease;
    PG_ASSERT_OK(pool.Acquire(&lease));
    PG_ASSERT_OK(lease->Begin());
    PG_ASSERT_OK(lease->Exec("INSERT INTO rb VALUES (1)"));
  }  // given back without COMMIT
  Pool::Lease lease;
  PG_ASSERT_OK(pool.Acquire(&lease));
  EXPECT_FALSE(lease->in_transaction());
  Result r;
  PG_ASSERT_OK(lease->Exec("SELECT count(*) FROM rb", &r));
  EXPECT_EQ(r.IntOr(0, 0, -1), 0);
  EXPECT_EQ(pool.stats().opened, 1);  // the same connection, reused
}

TEST_F(PgPoolTest, UnreachableServerFailsFast) {
  PoolOptions options = Options(2);
  options.connect.conninfo =
      "host=127.0.0.1 port=1 user=x dbname=x sslmode=disable";
  Pool pool(options);
  Pool::Lease lease;
  Status st = pool.Acquire(&lease);
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_EQ(pool.stats().open, 0);
  EXPECT_EQ(pool.HealthCheck().code(), Code::kUnavailable);
}

// Threads write through one pool while the server goes away and comes
// back: every failure is kUnavailable, and every thread writes again
// afterwards without the pool being rebuilt.
void RunThroughRestart(bool kill) {
  std::string error;
  auto server = PostgresServer::Create(&error);
  ASSERT_NE(server, nullptr) << error;
  PoolOptions options;
  options.connect = testutil::OptionsFor(*server, "crashctl_test");
  options.connect.connect_timeout_ms = 2000;
  options.size = 4;
  options.acquire_timeout_ms = 2000;
  Pool pool(options);
  {
    Pool::Lease lease;
    PG_ASSERT_OK(pool.Acquire(&lease));
    PG_ASSERT_OK(lease->ExecScript(
        "CREATE TABLE hits (thread int, n int, PRIMARY KEY (thread, n))"));
  }
  constexpr int kThreads = 6;
  std::atomic<bool> stop{false};
  std::atomic<bool> restarted{false};
  std::atomic<int> before[kThreads] = {};
  std::atomic<int> after[kThreads] = {};
  std::atomic<int> unavailable{0};
  std::mutex mu;
  std::vector<std::string> wrong;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; n < 200000 && !stop; ++n) {
        Pool::Lease lease;
        Status st = pool.Acquire(&lease);
        if (st.ok()) {
          st = lease->Exec(
              "INSERT INTO hits VALUES ($1, $2) ON CONFLICT DO NOTHING",
              Params().Int(t).Int(n));
        }
        if (st.ok()) {
          ++(restarted ? after[t] : before[t]);
          continue;
        }
        if (st.code() == Code::kUnavailable) {
          ++unavailable;
        } else {
          std::lock_guard<std::mutex> lock(mu);
          wrong.push_back(st.ToString());
        }
        // A client backs off before it tries again.
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  auto wait_for = [&](std::atomic<int>* counts, int at_least) {
    for (int i = 0; i < 3000; ++i) {
      bool all = true;
      for (int t = 0; t < kThreads; ++t) all = all && counts[t] >= at_least;
      if (all) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  EXPECT_TRUE(wait_for(before, 5));
  bool stopped = kill ? server->Kill(&error) : server->Stop(&error);
  EXPECT_TRUE(stopped) << error;
  for (int i = 0; i < 1000 && unavailable == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GT(unavailable.load(), 0);
  restarted = true;
  bool started = server->Start(&error);
  EXPECT_TRUE(started) << error;
  EXPECT_TRUE(started && wait_for(after, 5)) << "threads did not recover";
  stop = true;
  for (auto& thread : threads) thread.join();
  EXPECT_TRUE(wrong.empty()) << wrong.front();
  Pool::Stats stats = pool.stats();
  EXPECT_GT(stats.discarded, 0);
  EXPECT_LE(stats.open, options.size);
  std::printf("restart (%s): %d unavailable, %lld opened, %lld discarded\n",
              kill ? "kill" : "stop", unavailable.load(),
              static_cast<long long>(stats.opened),
              static_cast<long long>(stats.discarded));
}

TEST(PgPoolRestartTest, RecoversAfterARestart) {
  PG_SKIP_IF_UNAVAILABLE();
  RunThroughRestart(/*kill=*/false);
}

TEST(PgPoolRestartTest, RecoversAfterTheServerWasKilled) {
  PG_SKIP_IF_UNAVAILABLE();
  RunThroughRestart(/*kill=*/true);
}

}  // namespace
}  // namespace pg
}  // namespace store
}  // namespace crashctl
