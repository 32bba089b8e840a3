// SessionService (docs/release-health.md "What crashctl does"): sessions
// through Store::WriteSessions, counted with bounded release/environment
// labels, and the expiry thread.
//
// Thread-safety: the label state (admitted releases and environments per
// project, the series created) is guarded by `mu`; prometheus-cpp's
// families and counters are thread-safe themselves. The store is called
// without `mu` held. The expiry thread waits on `cv` so that Stop() ends it
// at once.
#include "crashctl/health/session_service.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>

#include "crashctl/metrics/families.h"

namespace crashctl {
namespace health {
namespace {

constexpr char kOther[] = "other";
// Records one expiry pass handles, and passes per wake-up of the thread.
constexpr size_t kExpireBatch = 10000;
constexpr int kMaxPassesPerWake = 10;
// Releases remembered as folded into "other" per project (beyond this, an
// old release coming back is admitted as if it were new).
constexpr size_t kMaxFoldedPerProject = 10000;
// (release, environment) pairs remembered per project for ProjectKnown.
constexpr size_t kMaxPairsPerProject = 10000;
constexpr const char* kStatuses[] = {"exited", "errored", "crashed",
                                     "abnormal"};

double SystemNow() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct SessionService::Impl {
  store::Store* store = nullptr;
  Options options;
  prometheus::Family<prometheus::Counter>* sessions = nullptr;
  prometheus::Family<prometheus::Counter>* new_groups = nullptr;
  prometheus::Counter* expired_timed_out = nullptr;
  prometheus::Counter* expired_evicted = nullptr;

  struct ProjectLabels {
    std::vector<std::string> releases;      // admitted, oldest first seen first
    std::set<std::string> folded;           // pushed out of the budget: "other"
    std::vector<std::string> environments;  // admitted
    std::set<std::pair<std::string, std::string>> pairs;  // (release, env)
  };
  std::mutex mu;
  std::map<int64_t, ProjectLabels> projects;  // guarded by mu
  // (project, release label, environment label, status) -> series.
  std::map<std::tuple<int64_t, std::string, std::string, std::string>,
           prometheus::Counter*>
      session_series;  // guarded by mu
  std::map<std::pair<int64_t, std::string>, prometheus::Counter*>
      group_series;  // guarded by mu

  std::mutex thread_mu;
  std::condition_variable cv;
  bool stopping = false;  // guarded by thread_mu
  std::thread thread;

  double Now() const { return options.now ? options.now() : SystemNow(); }

  // The release label of `release` in `project`, admitting it when the
  // budget allows or by pushing the oldest admitted release out. Needs mu.
  std::string ReleaseLabel(int64_t project, const std::string& release) {
    ProjectLabels& labels = projects[project];
    if (std::find(labels.releases.begin(), labels.releases.end(), release) !=
        labels.releases.end()) {
      return release;
    }
    if (options.max_releases == 0 || release == kOther ||
        labels.folded.count(release) != 0) {
      return kOther;
    }
    if (labels.releases.size() >= options.max_releases) {
      const std::string oldest = labels.releases.front();
      labels.releases.erase(labels.releases.begin());
      if (labels.folded.size() < kMaxFoldedPerProject) {
        labels.folded.insert(oldest);
      }
      RemoveSeries(project, oldest);
    }
    labels.releases.push_back(release);
    return release;
  }

  // Needs mu.
  std::string EnvironmentLabel(int64_t project, const std::string& env) {
    ProjectLabels& labels = projects[project];
    if (std::find(labels.environments.begin(), labels.environments.end(),
                  env) != labels.environments.end()) {
      return env;
    }
    if (env == kOther ||
        labels.environments.size() >= options.max_environments) {
      return kOther;
    }
    labels.environments.push_back(env);
    return env;
  }

  // Drops every series of `release` in `project`. Needs mu.
  void RemoveSeries(int64_t project, const std::string& release) {
    auto& pairs = projects[project].pairs;
    for (auto it = pairs.lower_bound({release, ""});
         it != pairs.end() && it->first == release;) {
      it = pairs.erase(it);
    }
    for (auto it = session_series.begin(); it != session_series.end();) {
      if (std::get<0>(it->first) == project &&
          std::get<1>(it->first) == release) {
        if (sessions != nullptr) sessions->Remove(it->second);
        it = session_series.erase(it);
      } else {
        ++it;
      }
    }
    auto group = group_series.find({project, release});
    if (group != group_series.end()) {
      if (new_groups != nullptr) new_groups->Remove(group->second);
      group_series.erase(group);
    }
  }

  // Needs mu.
  prometheus::Counter* SessionSeries(int64_t project, const std::string& rel,
                                     const std::string& env,
                                     const std::string& status) {
    if (sessions == nullptr) return nullptr;
    auto key = std::make_tuple(project, rel, env, status);
    auto it = session_series.find(key);
    if (it != session_series.end()) return it->second;
    prometheus::Counter* counter =
        &sessions->Add({{"project", std::to_string(project)},
                        {"release", rel},
                        {"environment", env},
                        {"status", status}});
    session_series.emplace(std::move(key), counter);
    return counter;
  }

  // Needs mu.
  prometheus::Counter* GroupSeries(int64_t project, const std::string& rel) {
    if (new_groups == nullptr) return nullptr;
    auto it = group_series.find({project, rel});
    if (it != group_series.end()) return it->second;
    prometheus::Counter* counter = &new_groups->Add(
        {{"project", std::to_string(project)}, {"release", rel}});
    group_series.emplace(std::make_pair(project, rel), counter);
    return counter;
  }

  void Count(const std::vector<releases::SessionCount>& counts) {
    std::lock_guard<std::mutex> lock(mu);
    for (const releases::SessionCount& count : counts) {
      if (count.reason == releases::SessionCount::Reason::kTimedOut &&
          expired_timed_out != nullptr) {
        expired_timed_out->Increment();
      }
      if (count.reason == releases::SessionCount::Reason::kEvicted &&
          expired_evicted != nullptr) {
        expired_evicted->Increment();
      }
      const std::string rel = ReleaseLabel(count.project_id, count.release);
      std::set<std::pair<std::string, std::string>>& pairs =
          projects[count.project_id].pairs;
      if (rel != kOther && pairs.size() < kMaxPairsPerProject) {
        pairs.emplace(count.release, count.environment);
      }
      const std::string env =
          EnvironmentLabel(count.project_id, count.environment);
      prometheus::Counter* counter =
          SessionSeries(count.project_id, rel, env,
                        releases::CountedStatusName(count.status));
      if (counter != nullptr) {
        counter->Increment(static_cast<double>(count.quantity));
      }
    }
  }

  // One bounded pass; `*handled` records handled.
  Status Expire(double now, size_t* handled) {
    std::vector<releases::SessionCount> counts;
    Status status = store->ExpireSessions(now, options.tracker, kExpireBatch,
                                          &counts, handled);
    if (!status.ok()) return status;
    Count(counts);
    return Status::Ok();
  }

  void Run() {
    const auto interval = std::chrono::duration<double>(
        std::max(options.expire_interval_seconds, 0.01));
    std::unique_lock<std::mutex> lock(thread_mu);
    while (!stopping) {
      cv.wait_for(lock, interval, [this] { return stopping; });
      if (stopping) break;
      lock.unlock();
      for (int pass = 0; pass < kMaxPassesPerWake; ++pass) {
        size_t handled = 0;
        const Status status = Expire(Now(), &handled);
        if (!status.ok()) {
          spdlog::warn("sessions: expiry pass failed: {}", status.message());
          break;
        }
        if (handled < kExpireBatch) break;
        std::lock_guard<std::mutex> check(thread_mu);
        if (stopping) break;
      }
      lock.lock();
    }
  }
};

SessionService::SessionService(store::Store* store,
                               prometheus::Registry* registry, Options options)
    : impl_(std::make_unique<Impl>()) {
  impl_->store = store;
  impl_->options = std::move(options);
  if (registry != nullptr) {
    impl_->sessions = &metrics::CounterFamily(
        registry, "crashctl_sessions_total",
        "Sessions counted once at their end, by project, release, environment "
        "and final status (release and environment bounded per project; the "
        "rest \"other\").");
    impl_->new_groups = &metrics::CounterFamily(
        registry, "crashctl_release_new_groups_total",
        "New error groups whose first event carries the release (release "
        "bounded like crashctl_sessions_total).");
    auto& expired = metrics::CounterFamily(
        registry, "crashctl_sessions_expired_total",
        "Open sessions closed as abnormal by crashctl: no end within "
        "sessions.idle_timeout (timed_out) or over sessions.max_open "
        "(evicted).",
        "reason", {"timed_out", "evicted"});
    impl_->expired_timed_out = &expired.Add({{"reason", "timed_out"}});
    impl_->expired_evicted = &expired.Add({{"reason", "evicted"}});
  }
}

SessionService::~SessionService() { Stop(); }

Status SessionService::Record(
    int64_t project_id, const std::vector<releases::SessionUpdate>& updates,
    const std::vector<releases::SessionAggregates>& aggregates, double now) {
  if (updates.empty() && aggregates.empty()) return Status::Ok();
  store::SessionWrite write;
  write.project_id = project_id;
  write.now = now;
  write.updates = updates;
  for (const releases::SessionAggregates& item : aggregates) {
    std::vector<releases::SessionCount> counts =
        releases::CountAggregates(project_id, item);
    write.aggregate_counts.insert(write.aggregate_counts.end(),
                                  std::make_move_iterator(counts.begin()),
                                  std::make_move_iterator(counts.end()));
  }
  write.options = impl_->options.tracker;
  std::vector<releases::SessionCount> counts;
  const Status status = impl_->store->WriteSessions(write, &counts);
  if (status.code() == Status::Code::kInternal &&
      status.message().rfind("this store keeps no ", 0) == 0) {
    return status;  // as it is: the caller drops what the store never keeps
  }
  if (!status.ok()) {
    spdlog::warn(
        "sessions: project {}: writing {} updates and {} aggregates "
        "failed: {}",
        project_id, updates.size(), aggregates.size(), status.message());
    return Status::Unavailable("write sessions: " + status.message());
  }
  impl_->Count(counts);
  return Status::Ok();
}

void SessionService::OnEventStored(const model::WriteItem& item,
                                   const model::WriteOutcome& outcome) {
  if (!outcome.new_group || outcome.duplicate || item.event.release.empty()) {
    return;
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  const std::string rel =
      impl_->ReleaseLabel(item.event.project_id, item.event.release);
  prometheus::Counter* counter = impl_->GroupSeries(item.event.project_id, rel);
  if (counter != nullptr) counter->Increment();
}

void SessionService::ProjectKnown(int64_t project_id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->projects.find(project_id);
  if (it == impl_->projects.end()) return;
  Impl::ProjectLabels& labels = it->second;
  for (const std::string& release : labels.releases) {
    impl_->GroupSeries(project_id, release);
  }
  const auto pairs = labels.pairs;  // the labels below may change the set
  for (const auto& [release, env] : pairs) {
    if (std::find(labels.releases.begin(), labels.releases.end(), release) ==
        labels.releases.end()) {
      continue;
    }
    const std::string env_label = impl_->EnvironmentLabel(project_id, env);
    for (const char* status : kStatuses) {
      impl_->SessionSeries(project_id, release, env_label, status);
    }
  }
}

void SessionService::Start() {
  if (impl_->thread.joinable()) return;
  const size_t budget = impl_->options.max_releases;
  std::vector<std::pair<int64_t, std::string>> recent;
  Status status =
      impl_->store->RecentReleases(budget + kMaxFoldedPerProject, &recent);
  if (!status.ok()) {
    spdlog::warn(
        "sessions: cannot load the recent releases (labels start "
        "empty): {}",
        status.message());
    recent.clear();
  }
  std::vector<int64_t> project_ids;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    std::map<int64_t, std::vector<std::string>> newest_first;
    for (auto& [project, release] : recent) {
      newest_first[project].push_back(std::move(release));
    }
    for (auto& [project, list] : newest_first) {
      Impl::ProjectLabels& labels = impl_->projects[project];
      labels.releases.clear();
      for (size_t i = 0; i < list.size(); ++i) {
        if (i < budget) {
          labels.releases.insert(labels.releases.begin(), list[i]);
        } else {
          labels.folded.insert(list[i]);
        }
      }
      project_ids.push_back(project);
    }
  }
  // The environments of the admitted releases, for the series at 0.
  for (int64_t project : project_ids) {
    store::ReleaseQuery query;
    query.project = project;
    query.limit = static_cast<int>(std::clamp<size_t>(budget, 1, 1000));
    model::Page<model::ReleaseSummary> page;
    status = impl_->store->ListReleases(query, &page);
    if (!status.ok()) {
      spdlog::warn("sessions: cannot load the releases of project {}: {}",
                   project, status.message());
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(impl_->mu);
      Impl::ProjectLabels& labels = impl_->projects[project];
      for (const model::ReleaseSummary& summary : page.items) {
        for (const std::string& env : summary.environments) {
          labels.pairs.emplace(summary.release, env);
        }
      }
    }
    ProjectKnown(project);
  }
  {
    std::lock_guard<std::mutex> lock(impl_->thread_mu);
    impl_->stopping = false;
  }
  impl_->thread = std::thread([this] { impl_->Run(); });
}

void SessionService::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->thread_mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

Status SessionService::ExpireOnce(double now) {
  size_t handled = 0;
  return impl_->Expire(now, &handled);
}

}  // namespace health
}  // namespace crashctl
