#include "http/deadline_watchdog.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>

namespace crashctl {
namespace http {
namespace {

using Clock = std::chrono::steady_clock;

// A thread blocked in poll() on a pipe nobody writes to is interrupted once
// its deadline has passed, and never before.
TEST(DeadlineWatchdogTest, InterruptsABlockedPollAtItsDeadline) {
  DeadlineWatchdog watchdog(std::chrono::milliseconds(20));
  watchdog.Start();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::atomic<int> poll_errno{0};
  std::atomic<double> waited{0};
  std::thread reader([&] {
    DeadlineWatchdog::Slot* slot = watchdog.Register();
    const auto start = Clock::now();
    DeadlineWatchdog::Arm(slot, start + std::chrono::milliseconds(300));
    pollfd p{fds[0], POLLIN, 0};
    const int rc = poll(&p, 1, 10000);
    poll_errno = rc < 0 ? errno : 0;
    DeadlineWatchdog::Disarm(slot);
    waited = std::chrono::duration<double>(Clock::now() - start).count();
    watchdog.Unregister(slot);
  });
  reader.join();
  EXPECT_EQ(poll_errno.load(), EINTR);
  EXPECT_GE(waited.load(), 0.3);
  EXPECT_LT(waited.load(), 5.0);
  close(fds[0]);
  close(fds[1]);
}

TEST(DeadlineWatchdogTest, ADisarmedSlotIsNotSignalled) {
  DeadlineWatchdog watchdog(std::chrono::milliseconds(10));
  watchdog.Start();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::atomic<int> rc{0};
  std::thread reader([&] {
    DeadlineWatchdog::Slot* slot = watchdog.Register();
    DeadlineWatchdog::Arm(slot, Clock::now() + std::chrono::milliseconds(50));
    DeadlineWatchdog::Disarm(slot);
    // Past the old deadline, unarmed: poll runs to its own timeout.
    pollfd p{fds[0], POLLIN, 0};
    rc = poll(&p, 1, 400);
    watchdog.Unregister(slot);
  });
  reader.join();
  EXPECT_EQ(rc.load(), 0);  // timed out, not interrupted
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace http
}  // namespace crashctl
