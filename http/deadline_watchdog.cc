#include "deadline_watchdog.h"

#include <signal.h>

#include <algorithm>
#include <mutex>

namespace crashctl {
namespace http {
namespace {

void IgnoreSignal(int) {}

int64_t Nanos(DeadlineWatchdog::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             t.time_since_epoch())
      .count();
}

}  // namespace

DeadlineWatchdog::DeadlineWatchdog(std::chrono::milliseconds tick)
    : tick_(tick) {}

DeadlineWatchdog::~DeadlineWatchdog() { Stop(); }

int DeadlineWatchdog::Signal() { return SIGRTMIN + 3; }

void DeadlineWatchdog::Start() {
  static std::once_flag installed;
  std::call_once(installed, [] {
    struct sigaction action {};
    action.sa_handler = &IgnoreSignal;
    sigemptyset(&action.sa_mask);
    // No SA_RESTART: the point is that the interrupted call fails with
    // EINTR (poll() is never restarted anyway).
    action.sa_flags = 0;
    sigaction(Signal(), &action, nullptr);
  });
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void DeadlineWatchdog::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

DeadlineWatchdog::Slot* DeadlineWatchdog::Register() {
  std::unique_ptr<Slot> slot(new Slot);
  slot->thread = pthread_self();
  Slot* raw = slot.get();
  std::lock_guard<std::mutex> lock(mu_);
  slots_.push_back(std::move(slot));
  return raw;
}

void DeadlineWatchdog::Unregister(Slot* slot) {
  if (slot == nullptr) return;
  Disarm(slot);
  std::lock_guard<std::mutex> lock(mu_);
  slots_.erase(std::remove_if(slots_.begin(), slots_.end(),
                              [slot](const std::unique_ptr<Slot>& s) {
                                return s.get() == slot;
                              }),
               slots_.end());
}

void DeadlineWatchdog::Arm(Slot* slot, Clock::time_point deadline) {
  if (slot == nullptr) return;
  slot->deadline_ns.store(std::max<int64_t>(1, Nanos(deadline)),
                          std::memory_order_release);
}

void DeadlineWatchdog::Disarm(Slot* slot) {
  if (slot == nullptr) return;
  int64_t current = slot->deadline_ns.load(std::memory_order_acquire);
  // Bounded: the watchdog holds kSignalling only for one pthread_kill().
  for (;;) {
    if (current == kSignalling) {
      std::this_thread::yield();
      current = slot->deadline_ns.load(std::memory_order_acquire);
      continue;
    }
    if (slot->deadline_ns.compare_exchange_weak(current, 0,
                                                std::memory_order_acq_rel)) {
      return;
    }
  }
}

void DeadlineWatchdog::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, tick_, [this] { return stopping_; });
    if (stopping_) return;
    const int64_t now = Nanos(Clock::now());
    for (const std::unique_ptr<Slot>& slot : slots_) {
      int64_t deadline = slot->deadline_ns.load(std::memory_order_acquire);
      if (deadline <= 0 || deadline > now) continue;
      if (!slot->deadline_ns.compare_exchange_strong(
              deadline, kSignalling, std::memory_order_acq_rel)) {
        continue;  // disarmed or re-armed meanwhile
      }
      pthread_kill(slot->thread, Signal());
      // Still armed: signalled again next tick until the thread disarms.
      slot->deadline_ns.store(deadline, std::memory_order_release);
    }
  }
}

}  // namespace http
}  // namespace crashctl
