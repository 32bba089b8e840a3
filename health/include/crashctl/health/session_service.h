// SessionService: release health (issue 18, docs/release-health.md). Takes
// the parsed `session` and `sessions` items of one request, writes them to
// the store (Store::WriteSessions: merged by sid, counted once at their end)
// and counts what ended in crashctl_sessions_total{project,release,
// environment,status}; a background thread closes open sessions that never
// end (Store::ExpireSessions) and counts them as abnormal.
//
// Labels: release and environment are bounded per project (the
// `max_releases` most recent releases by first_seen, and `max_environments`
// environments; the rest are "other").
//
// Thread-safety: Record() may be called from any number of threads;
// Start() and Stop() from one owner thread.
#ifndef CRASHCTL_HEALTH_SESSION_SERVICE_H_
#define CRASHCTL_HEALTH_SESSION_SERVICE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "crashctl/model/write.h"
#include "crashctl/releases/sessions.h"
#include "crashctl/store/store.h"
#include "crashctl/util/status.h"

namespace prometheus {
class Registry;
}

namespace crashctl {
namespace health {

class SessionService {
 public:
  struct Options {
    releases::TrackerOptions tracker;  // sessions.idle_timeout, bounds
    size_t max_releases = 10;          // sessions.max_releases per project
    size_t max_environments = 10;      // sessions.max_environments
    double expire_interval_seconds = 30;
    // Clock (epoch seconds); tests inject one. Default: the system clock.
    std::function<double()> now;
  };

  // `store` and `registry` must outlive the service; `registry` may be null
  // (no metrics).
  SessionService(store::Store* store, prometheus::Registry* registry,
                 Options options);
  SessionService(const SessionService&) = delete;
  SessionService& operator=(const SessionService&) = delete;
  ~SessionService();  // Stop()s

  // Writes one request's sessions (updates of `session` items, aggregates
  // of `sessions` items) received at `now`, then counts what ended. OK once
  // committed; kUnavailable (nothing counted) when the store failed: answer
  // 503 so the SDK retries; the store's own kInternal "this store keeps no
  // ..." (nothing counted) when it keeps no sessions: drop them.
  Status Record(int64_t project_id,
                const std::vector<releases::SessionUpdate>& updates,
                const std::vector<releases::SessionAggregates>& aggregates,
                double now);

  // For IngestPipeline::AddListener: counts
  // crashctl_release_new_groups_total{project,release} when `outcome` is a
  // new group whose first event carries a release. Cheap; no store read.
  void OnEventStored(const model::WriteItem& item,
                     const model::WriteOutcome& outcome);

  // Creates the project's series of crashctl_sessions_total at 0 for its
  // known releases (before a scrape).
  void ProjectKnown(int64_t project_id);

  // Loads the label state (Store::RecentReleases), then starts the expiry
  // thread. Stop() joins it.
  void Start();
  void Stop();

  // One expiry pass at `now` (the thread calls it; tests call it directly).
  Status ExpireOnce(double now);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace health
}  // namespace crashctl

#endif  // CRASHCTL_HEALTH_SESSION_SERVICE_H_
