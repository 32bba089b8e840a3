// Many threads capturing, tagging and adding breadcrumbs at once: every
// accepted event arrives exactly once and nothing crashes (run under TSan
// with CRASHCTL_SANITIZE=thread).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "crashctl/sdk.h"
#include "fake_sentry.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace {

TEST(ConcurrencyTest, ParallelCapturesAllArriveOnce) {
  testing::FakeSentry sentry;
  testing::TempDir spool("concurrency-test");
  sdk::Options options;
  options.dsn = sentry.Dsn();
  options.spool_dir = spool.path();
  options.queue_size = 1000;
  options.install_crash_handler = false;
  ASSERT_TRUE(sdk::Init(options));
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<std::string> ids;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        sdk::SetTag("thread", std::to_string(t));
        sdk::AddBreadcrumb("loop", std::to_string(i));
        std::string id = i % 2 == 0
                             ? sdk::CaptureMessage("m")
                             : sdk::CaptureException(std::runtime_error("e"));
        std::lock_guard<std::mutex> lock(mu);
        if (!id.empty()) ids.insert(id);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kEach));
  ASSERT_TRUE(sdk::Flush(std::chrono::seconds(20)));
  ASSERT_TRUE(sentry.WaitFor(ids.size(), std::chrono::seconds(5)));
  std::set<std::string> received;
  for (const auto& env : sentry.Received()) {
    size_t at = env.envelope_header.find("\"event_id\":\"");
    received.insert(env.envelope_header.substr(at + 12, 32));
  }
  EXPECT_EQ(received, ids);
  sdk::Shutdown();
}

}  // namespace
}  // namespace crashctl
