#include "log_fetcher.h"

#include <spdlog/spdlog.h>

#include "crash_events.h"

namespace crashctl {
namespace kube {

LogFetcher::LogFetcher(KubeApiClient* client, size_t queue_limit,
                       int tail_lines, Sink sink)
    : client_(client),
      queue_limit_(queue_limit),
      tail_lines_(tail_lines),
      sink_(std::move(sink)) {}

LogFetcher::~LogFetcher() { Stop(); }

void LogFetcher::Start() {
  stop_ = false;
  worker_ = std::thread([this] { Run(); });
}

void LogFetcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

bool LogFetcher::Enqueue(const LogRequest& request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return false;
    if (queue_.size() >= queue_limit_) {
      spdlog::warn("kube: log queue full ({}), not fetching logs of {}/{}",
                   queue_limit_, request.namespace_, request.pod);
      return false;
    }
    queue_.push_back(request);
  }
  cv_.notify_one();
  return true;
}

std::string LogFetcher::LogPath(const LogRequest& r, int tail_lines) {
  return "/api/v1/namespaces/" + r.namespace_ + "/pods/" + r.pod +
         "/log?container=" + r.container +
         "&previous=" + (r.previous ? "true" : "false") +
         "&tailLines=" + std::to_string(tail_lines);
}

void LogFetcher::Run() {
  while (true) {
    LogRequest req;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      req = std::move(queue_.front());
      queue_.pop_front();
    }
    KubeResponse r = client_->Get(LogPath(req, tail_lines_), &stop_);
    if (stop_) return;
    std::string logs;
    if (!r.error.empty()) {
      spdlog::warn("kube: fetching logs of {}/{} container {}: {}",
                   req.namespace_, req.pod, req.container, r.error);
      continue;
    }
    if (r.status == 200) {
      logs = KeepLastBytes(r.body, kMaxLogBytes);
    } else if (r.status == 400 || r.status == 404) {
      // No previous container (or the pod is gone): nothing to attach.
      spdlog::debug("kube: no logs for {}/{} container {}: {}", req.namespace_,
                    req.pod, req.container, r.body.substr(0, 200));
      continue;
    } else {
      spdlog::warn("kube: fetching logs of {}/{} container {}: HTTP {}",
                   req.namespace_, req.pod, req.container, r.status);
      continue;
    }
    if (!logs.empty()) sink_(req, logs);
  }
}

}  // namespace kube
}  // namespace crashctl
