// PeriodicTask: runs a function every `interval` on a thread of its own until
// Stop() (or destruction); the first run is one interval after the start.
//
// Thread-safety: Stop() may be called from any thread, once the task is
// constructed; the function runs only on the task's thread.
#ifndef CRASHCTL_UTIL_PERIODIC_TASK_H_
#define CRASHCTL_UTIL_PERIODIC_TASK_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace crashctl {
namespace util {

class PeriodicTask {
 public:
  // `name` names the thread (pthread_setname_np, at most 15 characters).
  PeriodicTask(std::string name, std::chrono::duration<double> interval,
               std::function<void()> task);
  ~PeriodicTask();  // Stop()s
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  // Returns once a run under way has finished; no run starts afterwards.
  void Stop();

 private:
  void Loop();

  const std::string name_;
  const std::chrono::duration<double> interval_;
  const std::function<void()> task_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace util
}  // namespace crashctl

#endif  // CRASHCTL_UTIL_PERIODIC_TASK_H_
