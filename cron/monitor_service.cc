// MonitorService: check-ins through the store, the missed-run / timeout
// scheduler, the monitor metrics and the CrashctlMonitorFailed alerts
// (docs/monitors.md, "What crashctl does").
#include "crashctl/cron/monitor_service.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "crashctl/alertmanager/alert_builder.h"
#include "crashctl/alertmanager/pusher.h"
#include "crashctl/metrics/families.h"
#include "crashctl/util/time.h"

namespace crashctl {
namespace cron {
namespace {

// Monitors ticked per store transaction, and transactions per TickOnce.
constexpr size_t kTickBatch = 256;
constexpr int kMaxBatchesPerTick = 16;
// Monitors read by a refresh of their series (pages of 1000).
constexpr int kMaxRefreshPages = 1000;
// An open incident's alert is held this long after its last failure (it is
// re-sent with every further failure, and resolved on recovery).
constexpr double kIncidentHoldSeconds = 7 * 24 * 3600.0;

const char* const kCountedStatuses[] = {"in_progress", "ok", "error",
                                        "timeout"};

std::string Detail(const model::Monitor& monitor,
                   const releases::MonitorTransition& t,
                   const releases::MonitorAlert& alert) {
  if (alert.kind == releases::MonitorAlert::Kind::kResolve) {
    return "recovered after " + std::to_string(alert.consecutive) +
           " successful check-in(s)";
  }
  std::string detail = std::to_string(alert.consecutive) +
                       " failure(s) in a row, last: " + alert.reason;
  if (t.missed_total > 0) {
    detail += "; " + std::to_string(t.missed_total) + " run(s) missed";
  }
  (void)monitor;
  return detail;
}

}  // namespace

struct MonitorService::Impl {
  store::Store* store = nullptr;
  alertmanager::AlertPusher* pusher = nullptr;
  Options options;

  prometheus::Family<prometheus::Counter>* checkins = nullptr;
  prometheus::Family<prometheus::Counter>* missed = nullptr;
  prometheus::Family<prometheus::Gauge>* last_checkin = nullptr;
  prometheus::Family<prometheus::Gauge>* incident_open = nullptr;
  prometheus::Family<prometheus::Gauge>* monitors = nullptr;

  std::mutex metrics_mu;
  // Known monitor ids per project (crashctl_monitors{project}); bounded by
  // max_monitors_per_project per project.
  std::map<int64_t, std::set<int64_t>> known;
  // Monitor ids (any environment) with an open incident, per (project,
  // slug): crashctl_monitor_incident_open is 1 while one is.
  std::map<std::pair<int64_t, std::string>, std::set<int64_t>> open;

  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool running = false;
  int64_t wake_at = std::numeric_limits<int64_t>::max();  // guarded by mu
  std::thread thread;

  int64_t Now() const {
    if (options.now) return options.now();
    return static_cast<int64_t>(util::NowSeconds());
  }

  static prometheus::Labels SeriesLabels(const model::Monitor& m) {
    return {{"project", std::to_string(m.project_id)}, {"monitor", m.slug}};
  }

  // Creates the monitor's series (at 0) and counts it. Needs metrics_mu.
  void KnowLocked(const model::Monitor& m) {
    if (!known[m.project_id].insert(m.id).second) return;
    if (checkins == nullptr) return;
    const std::string project = std::to_string(m.project_id);
    for (const char* status : kCountedStatuses) {
      checkins->Add(
          {{"project", project}, {"monitor", m.slug}, {"status", status}});
    }
    missed->Add(SeriesLabels(m));
    incident_open->Add(SeriesLabels(m));
    monitors->Add({{"project", project}})
        .Set(static_cast<double>(known[m.project_id].size()));
  }

  // Sets crashctl_monitor_incident_open from the monitor's state. Needs
  // metrics_mu.
  void SetIncidentLocked(const model::Monitor& m, bool is_open) {
    auto& ids = open[{m.project_id, m.slug}];
    if (is_open) {
      ids.insert(m.id);
    } else {
      ids.erase(m.id);
    }
    if (incident_open != nullptr) {
      incident_open->Add(SeriesLabels(m)).Set(ids.empty() ? 0 : 1);
    }
  }

  // Counts and alerts what one update did.
  void Account(const store::MonitorUpdate& update, int64_t now) {
    const model::Monitor& m = update.monitor;
    const releases::MonitorTransition& t = update.transition;
    {
      std::lock_guard<std::mutex> lock(metrics_mu);
      KnowLocked(m);
      if (checkins != nullptr) {
        const std::string project = std::to_string(m.project_id);
        for (const releases::CheckInRecord& r : t.records) {
          if (r.kind == releases::CheckInRecord::Kind::kMissed) continue;
          checkins
              ->Add({{"project", project},
                     {"monitor", m.slug},
                     {"status", r.status}})
              .Increment();
        }
        if (t.missed_total > 0) {
          missed->Add(SeriesLabels(m))
              .Increment(static_cast<double>(t.missed_total));
        }
        if (t.last_checkin_timestamp) {
          last_checkin->Add(SeriesLabels(m))
              .Set(static_cast<double>(*t.last_checkin_timestamp));
        }
      }
      SetIncidentLocked(m, t.state.incident_open);
    }
    for (const releases::MonitorAlert& a : t.alerts) {
      if (a.kind == releases::MonitorAlert::Kind::kRaise) {
        spdlog::warn(
            "cron: monitor {} ({}, project {}) failed: {} ({} in a "
            "row)",
            m.slug, m.environment, m.project_id, a.reason, a.consecutive);
      } else {
        spdlog::info("cron: monitor {} ({}, project {}) recovered", m.slug,
                     m.environment, m.project_id);
      }
    }
    if (pusher == nullptr) return;
    const alertmanager::AlertBuildOptions& build = pusher->build_options();
    bool raised = false;
    for (size_t i = 0; i < t.alerts.size(); ++i) {
      const releases::MonitorAlert& a = t.alerts[i];
      store::MonitorUpdate::Incident incident;
      if (i < update.alert_incidents.size()) {
        incident = update.alert_incidents[i];
      } else {
        incident.reason = a.reason;
        incident.started = a.at;
      }
      const bool resolved = a.kind == releases::MonitorAlert::Kind::kResolve;
      raised = raised || !resolved;
      pusher->Enqueue(alertmanager::MonitorAlert(
          m, incident.reason, incident.started, Detail(m, t, a), resolved,
          build, static_cast<double>(now), kIncidentHoldSeconds));
    }
    // A further failure of an open incident refreshes its alert (the same
    // identity passes the cooldown), so it stays firing while it lasts.
    if (!raised && t.state.incident_open && update.open_incident.started > 0 &&
        !update.open_incident.reason.empty()) {
      std::string failure;
      for (const releases::CheckInRecord& r : t.records) {
        if (r.status == "error" || r.status == "missed" ||
            r.status == "timeout") {
          failure = r.status;
        }
      }
      if (!failure.empty()) {
        pusher->Enqueue(alertmanager::MonitorAlert(
            m, update.open_incident.reason, update.open_incident.started,
            "still failing, last: " + failure, false, build,
            static_cast<double>(now), kIncidentHoldSeconds));
      }
    }
  }

  // Reads every monitor (bounded) into its series: at the start, and then
  // what other replicas changed (their monitors, incidents, check-ins).
  void Refresh() {
    store::MonitorQuery query;
    query.limit = 1000;
    for (int page = 0; page < kMaxRefreshPages; ++page) {
      model::Page<model::Monitor> result;
      Status st = store->ListMonitors(query, &result);
      if (!st.ok()) {
        spdlog::warn("cron: cannot list monitors for their metrics: {}",
                     st.message());
        return;
      }
      std::lock_guard<std::mutex> lock(metrics_mu);
      for (const model::Monitor& m : result.items) {
        KnowLocked(m);
        releases::MonitorState state;
        if (releases::MonitorStateFromJson(m.state_json, &state).ok()) {
          SetIncidentLocked(m, state.incident_open);
        }
        if (m.last_checkin > 0 && last_checkin != nullptr) {
          // Never back: a read that began before this replica's own latest
          // check-in committed must not undo its gauge.
          prometheus::Gauge& g = last_checkin->Add(SeriesLabels(m));
          if (m.last_checkin > g.Value()) g.Set(m.last_checkin);
        }
      }
      if (result.next_cursor.empty()) return;
      query.cursor = result.next_cursor;
    }
  }

  // Wakes the scheduler when `deadline` is before its planned wake-up.
  void MaybeWake(const std::optional<int64_t>& deadline) {
    if (!deadline) return;
    std::lock_guard<std::mutex> lock(mu);
    if (*deadline < wake_at) {
      wake_at = *deadline;
      cv.notify_all();
    }
  }

  void Loop(MonitorService* service) {
    std::unique_lock<std::mutex> lock(mu);
    const double refresh_every = std::max(1.0, options.max_sleep_seconds);
    auto next_refresh = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::duration<double>(refresh_every));
    while (!stop) {
      lock.unlock();
      if (std::chrono::steady_clock::now() >= next_refresh) {
        Refresh();
        next_refresh = std::chrono::steady_clock::now() +
                       std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::duration<double>(refresh_every));
      }
      const int64_t now = Now();
      std::optional<int64_t> next;
      Status st = store->NextMonitorDeadline(&next);
      if (st.ok() && next && *next <= now) {
        st = service->TickOnce(now);
        if (st.ok()) st = store->NextMonitorDeadline(&next);
      }
      if (!st.ok()) {
        spdlog::warn("cron: monitor scheduler: {}", st.message());
        next.reset();
      }
      double sleep = std::max(1.0, options.max_sleep_seconds);
      lock.lock();
      if (stop) break;
      if (next) {
        sleep = std::min(sleep, static_cast<double>(*next - Now()));
        wake_at = *next;
      } else {
        wake_at = std::numeric_limits<int64_t>::max();
      }
      // At least 50 ms, so a deadline in the past never spins.
      sleep = std::max(sleep, 0.05);
      const int64_t planned = wake_at;
      cv.wait_for(lock, std::chrono::duration<double>(sleep),
                  [&] { return stop || wake_at < planned; });
    }
  }
};

MonitorService::MonitorService(store::Store* store,
                               prometheus::Registry* registry,
                               alertmanager::AlertPusher* pusher,
                               Options options)
    : impl_(std::make_unique<Impl>()) {
  impl_->store = store;
  impl_->pusher = pusher;
  impl_->options = std::move(options);
  if (registry != nullptr) {
    impl_->checkins = &metrics::CounterFamily(
        registry, "crashctl_monitor_checkins_total",
        "Cron monitor check-ins by project id, monitor slug and status "
        "(in_progress, ok, error, and timeout for runs crashctl timed out).");
    impl_->missed = &metrics::CounterFamily(
        registry, "crashctl_monitor_missed_total",
        "Scheduled cron monitor runs that got no check-in within the margin.");
    impl_->last_checkin = &metrics::GaugeFamily(
        registry, "crashctl_monitor_last_checkin_timestamp_seconds",
        "When the monitor's last check-in was received (epoch seconds).");
    impl_->incident_open = &metrics::GaugeFamily(
        registry, "crashctl_monitor_incident_open",
        "1 while a cron monitor (in any environment) has an open incident.");
    impl_->monitors = &metrics::GaugeFamily(registry, "crashctl_monitors",
                                            "Cron monitors known, by project.");
  }
}

MonitorService::~MonitorService() { Stop(); }

Status MonitorService::CheckIn(int64_t project_id,
                               const releases::CheckIn& check_in) {
  const int64_t now = impl_->Now();
  store::MonitorUpdate update;
  Status st = impl_->store->ApplyCheckIn(
      project_id, check_in, now, impl_->options.max_monitors_per_project,
      &update);
  if (!st.ok()) {
    if (st.code() == Status::Code::kTooLarge) return st;
    spdlog::warn("cron: check-in of monitor {} (project {}): {}",
                 check_in.monitor_slug, project_id, st.message());
    if (st.code() == Status::Code::kUnavailable) return st;
    return Status::Unavailable("check-in of monitor " + check_in.monitor_slug +
                               ": " + st.message());
  }
  impl_->Account(update, now);
  impl_->MaybeWake(update.monitor.next_deadline);
  return Status::Ok();
}

void MonitorService::Start() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->running) return;
  impl_->Refresh();
  impl_->stop = false;
  impl_->running = true;
  impl_->thread = std::thread([this] { impl_->Loop(this); });
}

void MonitorService::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (!impl_->running) return;
    impl_->stop = true;
    impl_->cv.notify_all();
  }
  if (impl_->thread.joinable()) impl_->thread.join();
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->running = false;
}

void MonitorService::RefreshMetrics() { impl_->Refresh(); }

Status MonitorService::TickOnce(int64_t now) {
  for (int batch = 0; batch < kMaxBatchesPerTick; ++batch) {
    std::vector<store::MonitorUpdate> updates;
    Status st = impl_->store->TickMonitors(now, kTickBatch, &updates);
    if (!st.ok()) return st;
    for (const store::MonitorUpdate& update : updates) {
      impl_->Account(update, now);
    }
    std::optional<int64_t> next;
    st = impl_->store->NextMonitorDeadline(&next);
    if (!st.ok()) return st;
    if (!next || *next > now) return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace cron
}  // namespace crashctl
