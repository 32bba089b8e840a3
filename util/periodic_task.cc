#include "crashctl/util/periodic_task.h"

#include <pthread.h>

#include <utility>

namespace crashctl {
namespace util {

PeriodicTask::PeriodicTask(std::string name,
                           std::chrono::duration<double> interval,
                           std::function<void()> task)
    : name_(std::move(name)), interval_(interval), task_(std::move(task)) {
  thread_ = std::thread([this] { Loop(); });
}

PeriodicTask::~PeriodicTask() { Stop(); }

void PeriodicTask::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
    thread_.join();
  }
}

void PeriodicTask::Loop() {
  if (!name_.empty()) {
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
  }
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (cv_.wait_for(lock, interval_, [this] { return stopping_; })) return;
    lock.unlock();
    task_();
    lock.lock();
  }
}

}  // namespace util
}  // namespace crashctl
