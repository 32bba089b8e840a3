// DeadlineWatchdog: ends a worker thread's blocking socket read at a deadline.
//
// civetweb's mg_read(buf, n) returns only once n bytes have arrived, or after
// a whole request_timeout_ms with no byte at all: a client that sends one byte
// every few seconds keeps it waiting for as long as it likes. The watchdog
// sends the armed thread a signal whose handler does nothing; the poll() that
// civetweb waits in then fails with EINTR and mg_read() returns what it has
// read so far (or -1). A signal is re-sent every tick until the thread
// disarms, so one that arrives just before the poll() begins is not lost.
//
// Thread-safety: Register()/Unregister() and Arm()/Disarm() may be called
// from any number of threads; Arm()/Disarm() on a slot only from the thread
// it was registered by. Start()/Stop() from one owner thread.
#ifndef CRASHCTL_CMD_DEADLINE_WATCHDOG_H_
#define CRASHCTL_CMD_DEADLINE_WATCHDOG_H_

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace crashctl {
namespace http {

class DeadlineWatchdog {
 public:
  using Clock = std::chrono::steady_clock;

  // One registered thread.
  class Slot {
   public:
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    friend class DeadlineWatchdog;
    Slot() = default;
    // Deadline in steady-clock nanoseconds; 0 = disarmed; kSignalling while
    // the watchdog is sending the signal.
    std::atomic<int64_t> deadline_ns{0};
    pthread_t thread{};
  };

  // `tick`: how often armed slots are checked (the deadlines' precision).
  explicit DeadlineWatchdog(
      std::chrono::milliseconds tick = std::chrono::milliseconds(100));
  ~DeadlineWatchdog();  // Stop()s
  DeadlineWatchdog(const DeadlineWatchdog&) = delete;
  DeadlineWatchdog& operator=(const DeadlineWatchdog&) = delete;

  // Installs the signal handler (once per process) and starts the thread.
  void Start();
  void Stop();

  // A slot for the calling thread; valid until Unregister() or destruction.
  Slot* Register();
  void Unregister(Slot* slot);

  // From then on until Disarm(), the slot's thread is interrupted once
  // `deadline` has passed (and again every tick).
  static void Arm(Slot* slot, Clock::time_point deadline);
  // Returns once no further signal will be sent for the last Arm().
  static void Disarm(Slot* slot);

  // The signal used (a real-time signal, default action ignored here).
  static int Signal();

 private:
  static constexpr int64_t kSignalling = -1;
  void Loop();

  const std::chrono::milliseconds tick_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::thread thread_;
};

}  // namespace http
}  // namespace crashctl

#endif  // CRASHCTL_CMD_DEADLINE_WATCHDOG_H_
