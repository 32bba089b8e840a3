// LogFetcher: fetches the last log lines of crashed containers on its own
// thread, so the watch loops never wait for the API server's log endpoint.
//
// Requests wait in a bounded queue (full -> dropped with a warning). For each
// it GETs /api/v1/namespaces/{ns}/pods/{pod}/log?container=&previous=&
// tailLines=N (kubernetes.log_lines) and hands the last kMaxLogBytes of the
// text (whole lines) to the sink; not limitBytes, which would cut the end of
// the log, where a crash report is. A 400/404 answer
// ("previous terminated container ... not found", pod gone) gives empty logs
// and is not an error.
//
// Thread-safety: Enqueue() may be called from any thread; Start()/Stop()
// from the owner.
#ifndef CRASHCTL_KUBE_LOG_FETCHER_H_
#define CRASHCTL_KUBE_LOG_FETCHER_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "crash_recorder.h"
#include "kube_api_client.h"

namespace crashctl {
namespace kube {

class LogFetcher {
 public:
  using Sink =
      std::function<void(const LogRequest& request, const std::string& logs)>;

  LogFetcher(KubeApiClient* client, size_t queue_limit, int tail_lines,
             Sink sink);
  LogFetcher(const LogFetcher&) = delete;
  LogFetcher& operator=(const LogFetcher&) = delete;
  ~LogFetcher();  // Stop()s

  void Start();
  // Abandons queued requests and joins the worker.
  void Stop();
  // False (request dropped) when the queue is full or stopped.
  bool Enqueue(const LogRequest& request);

  // Path of the log request (exposed for tests).
  static std::string LogPath(const LogRequest& request, int tail_lines);

 private:
  void Run();

  KubeApiClient* client_;
  const size_t queue_limit_;
  const int tail_lines_;
  Sink sink_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<LogRequest> queue_;
  std::atomic<bool> stop_{false};
  std::thread worker_;
};

}  // namespace kube
}  // namespace crashctl

#endif  // CRASHCTL_KUBE_LOG_FETCHER_H_
