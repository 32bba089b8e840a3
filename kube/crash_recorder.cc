#include "crash_recorder.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "crash_events.h"
#include "crashctl/crashreport/crash_report_parser.h"
#include "crashctl/grouping/grouping.h"
#include "crashctl/ingest/normalize.h"
#include "crashctl/kube/metrics.h"
#include "crashctl/util/strings.h"
#include "crashctl/util/time.h"

namespace crashctl {
namespace kube {
namespace {

constexpr size_t kMaxKnown = 200000;
constexpr size_t kMaxWindows = 20000;
// An SDK event of a crash is sent before the process dies; this much later
// still counts (clock steps, a slow flush).
constexpr double kSdkSlackSeconds = 5;

// "ns/uid/container" of a dedup key "ns/uid/container/<kind>/<ident>".
std::string ContainerPrefix(const std::string& key) {
  size_t n = 0;
  for (size_t i = 0; i < key.size(); ++i) {
    if (key[i] == '/' && ++n == 3) return key.substr(0, i);
  }
  return key;
}

// The restart count of the run a termination ended: `state.terminated` is
// the current run, `lastState.terminated` the one before it.
int TerminatedRun(const CrashCandidate& cand) {
  int run = cand.crash.restart_count - (cand.in_last_state ? 1 : 0);
  return run < 0 ? 0 : run;
}

LogRequest MakeLogRequest(const model::Crash& crash,
                          const CrashCandidate& cand) {
  LogRequest r;
  r.dedup_key = crash.dedup_key;
  r.namespace_ = crash.namespace_;
  r.pod = crash.pod;
  r.container = cand.logs_container;
  r.previous = cand.logs_previous;
  r.run_started_at = cand.term_started_at;
  r.run_finished_at = cand.term_finished_at;
  r.project_annotation = cand.project_annotation;
  return r;
}

}  // namespace

CrashRecorder::CrashRecorder(store::Store* store, Metrics* metrics,
                             int restart_threshold,
                             const scrub::Scrubber* scrubber)
    : store_(store),
      metrics_(metrics),
      scrubber_(scrubber != nullptr ? scrubber : &default_scrubber_),
      restart_threshold_(restart_threshold) {}

void CrashRecorder::AddListener(CrashListener listener) {
  listeners_.push_back(std::move(listener));
}

void CrashRecorder::SetLogSink(LogSink sink) { log_sink_ = std::move(sink); }

void CrashRecorder::SetEventOptions(int64_t project, double max_past_seconds) {
  event_project_ = project;
  event_max_past_seconds_ = max_past_seconds;
}

void CrashRecorder::SetEventWriter(EventWriter writer) {
  event_writer_ = std::move(writer);
}

void CrashRecorder::SetEventWait(double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  event_wait_ = seconds < 0 ? 0 : seconds;
}

void CrashRecorder::SetEventsSynced(bool synced) {
  std::lock_guard<std::mutex> lock(mu_);
  events_synced_ = synced;
}

size_t CrashRecorder::waiting() {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_.size();
}

void CrashRecorder::SetWaitingGauge() {
  if (metrics_ != nullptr) {
    metrics_->SetTerminationsWaiting(static_cast<double>(waiting_.size()));
  }
}

void CrashRecorder::Dispatch(const std::vector<Notice>& notices,
                             const std::vector<LogRequest>& logs) {
  for (const Notice& n : notices) {
    for (const auto& l : listeners_) l(n.crash, n.inserted);
  }
  if (log_sink_) {
    for (const LogRequest& r : logs) log_sink_(r);
  }
}

bool CrashRecorder::Explain(const CrashCandidate& cand, CrashCandidate* out) {
  const model::Crash& c = cand.crash;
  const double finished =
      cand.term_finished_at > 0 ? cand.term_finished_at : util::NowSeconds();
  // The kill happens during the run; its Killing event is stamped before
  // the container's end (which may be a grace period later).
  const double from = cand.term_started_at > 0 ? cand.term_started_at - 2
                                               : finished - kEpisodeGapSeconds;
  const double to = finished + 5;
  const std::vector<const KubeEventCache::Entry*> entries =
      events_.For("Pod", c.namespace_, c.pod);
  // The latest event of the crashed run that is about its container and
  // says `probe` (what `says` reads of an event).
  auto latest = [&](std::string (*says)(const KubeEvent&),
                    const std::string& probe) {
    const KubeEventCache::Entry* found = nullptr;
    for (const KubeEventCache::Entry* e : entries) {
      const std::string p = says(e->event);
      if (p.empty() || (!probe.empty() && p != probe) ||
          EventContainer(e->event) != c.container ||
          !KubeEventCache::OccursIn(*e, from, to)) {
        continue;
      }
      if (found == nullptr || e->event.last > found->event.last) found = e;
    }
    return found;
  };
  const KubeEventCache::Entry* kill = latest(&ProbeKill, "");
  if (kill == nullptr) return false;
  const std::string probe = ProbeKill(kill->event);
  const KubeEventCache::Entry* failure = latest(&ProbeFailure, probe);
  *out = cand;
  out->crash.crash_type = model::CrashType::kLivenessFailed;
  out->crash.reason = probe == "startup" ? "StartupProbe" : "LivenessProbe";
  // The probe's output ("Liveness probe failed: HTTP probe failed with
  // statuscode: 500"), else the kill's message.
  out->crash.message =
      failure != nullptr ? failure->event.message : kill->event.message;
  return true;
}

std::string CrashRecorder::PressureNote(const Enrichable& e) {
  std::vector<std::pair<double, std::string>> lines;
  for (const KubeEventCache::Entry* x :
       events_.For("Pod", e.namespace_, e.pod)) {
    if (!IsPressureEvent(x->event) || x->event.message.empty() ||
        e.base_message.find(x->event.message) != std::string::npos) {
      continue;
    }
    lines.emplace_back(x->event.last,
                       x->event.reason + ": " + x->event.message);
  }
  if (!e.node.empty()) {
    for (const KubeEventCache::Entry* x : events_.For("Node", "", e.node)) {
      if (!IsPressureEvent(x->event) ||
          !KubeEventCache::OccursIn(*x, e.from, e.to)) {
        continue;
      }
      lines.emplace_back(
          x->event.last,
          "node " + e.node + ": " + x->event.reason + ": " + x->event.message);
    }
  }
  std::sort(lines.begin(), lines.end());
  std::string note;
  size_t n = 0;
  for (const auto& l : lines) {
    if (++n > 10) break;
    if (!note.empty()) note += "\n";
    note += l.second;
  }
  return note;
}

std::string CrashRecorder::EnrichedMessage(const Enrichable& e) {
  std::string note = PressureNote(e);
  std::string message = e.base_message;
  if (!note.empty()) {
    // The kubelet's messages end in ". ".
    message = std::string(util::Trim(message));
    message += (message.empty() ? "" : "\n") + note;
  }
  scrubber_->ScrubText(&message);
  return message;
}

void CrashRecorder::ObserveEvent(const KubeEvent& ev, bool deleted) {
  if (metrics_ != nullptr) metrics_->KubeEventSeen(ev.involved_kind);
  if (!IsInteresting(ev)) return;
  std::vector<Notice> notices;
  std::vector<LogRequest> logs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (deleted) {
      // Events expire (an hour by default): what they explained stays.
      events_.Remove(ev);
      return;
    }
    int64_t dropped = 0;
    bool changed = events_.Add(ev, &dropped);
    if (dropped > 0 && metrics_ != nullptr)
      metrics_->KubeEventsDropped(dropped);
    if (!changed) return;
    if (!ProbeKill(ev).empty() || !ProbeFailure(ev).empty()) {
      for (auto it = waiting_.begin(); it != waiting_.end();) {
        const model::Crash& c = it->second.cand.crash;
        CrashCandidate explained;
        if (c.namespace_ == ev.involved_namespace &&
            c.pod == ev.involved_name && Explain(it->second.cand, &explained)) {
          Insert(explained, &notices, &logs);
          it = waiting_.erase(it);
        } else {
          ++it;
        }
      }
      SetWaitingGauge();
    }
    if (IsPressureEvent(ev)) {
      for (const Enrichable& e : enrichable_) {
        bool about = ev.involved_kind == "Node"
                         ? e.node == ev.involved_name
                         : e.namespace_ == ev.involved_namespace &&
                               e.pod == ev.involved_name;
        if (!about) continue;
        model::Crash stored;
        if (!store_->GetCrashByKey(e.dedup_key, &stored).ok()) continue;
        std::string message = EnrichedMessage(e);
        if (message == stored.message) continue;
        stored.message = std::move(message);
        stored.updated_at = 0;  // the store stamps the update
        int64_t id = 0;
        bool inserted = false;
        Status st = store_->UpsertCrash(stored, &id, &inserted);
        if (!st.ok()) {
          spdlog::warn("kube: adding node events to crash {}: {}", e.dedup_key,
                       st.message());
          continue;
        }
        stored.id = id;
        notices.push_back({std::move(stored), false});
      }
    }
  }
  Dispatch(notices, logs);
}

void CrashRecorder::SetRelinkDelay(double seconds) {
  std::lock_guard<std::mutex> lock(links_mu_);
  relink_delay_ = seconds;
}

void CrashRecorder::RelinkClosedWindows(double now) {
  struct Due {
    std::string pod;
    LinkWindow window;
  };
  std::vector<Due> due;
  {
    std::lock_guard<std::mutex> lock(links_mu_);
    if (now - relink_checked_at_ < 1) return;
    relink_checked_at_ = now;
    for (auto& [pod, list] : windows_) {
      for (LinkWindow& w : list) {
        if (w.relinked || now < w.to + relink_delay_) continue;
        w.relinked = true;
        due.push_back({pod, w});
        if (due.size() >= kMaxRelinksPerTick) break;
      }
      if (due.size() >= kMaxRelinksPerTick) break;
    }
  }
  for (const Due& d : due) {
    std::vector<int64_t> groups;
    Status st =
        store_->FindGroupsForPod(d.pod, d.window.from, d.window.to, &groups);
    if (!st.ok()) {
      spdlog::warn("kube: relinking crash {} of pod {}: {}", d.window.crash_id,
                   d.pod, st.message());
      continue;
    }
    for (int64_t g : groups) {  // idempotent: most are linked already
      Status ls = store_->LinkCrashGroup(d.window.crash_id, g);
      if (!ls.ok() && ls.code() != Status::Code::kNotFound) {
        spdlog::warn("kube: linking crash {} to group {}: {}",
                     d.window.crash_id, g, ls.message());
      }
    }
  }
}

void CrashRecorder::Tick(double now) {
  RelinkClosedWindows(now);
  std::vector<Notice> notices;
  std::vector<LogRequest> logs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (waiting_.empty()) return;
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      const Waiting& w = it->second;
      if (!(now >= w.hard_deadline || (events_synced_ && now >= w.deadline))) {
        ++it;
        continue;
      }
      CrashCandidate explained;
      Insert(Explain(w.cand, &explained) ? explained : w.cand, &notices, &logs);
      it = waiting_.erase(it);
    }
    SetWaitingGauge();
  }
  Dispatch(notices, logs);
}

bool CrashRecorder::LookupKnown(const std::string& key, Known* out) {
  auto it = known_.find(key);
  if (it != known_.end()) {
    *out = it->second;
    return true;
  }
  model::Crash stored;
  Status st = store_->GetCrashByKey(key, &stored);
  if (!st.ok()) {
    if (st.code() != Status::Code::kNotFound) {
      spdlog::warn("kube: looking up crash {}: {}", key, st.message());
    }
    return false;
  }
  Known k;
  k.id = stored.id;
  k.started_at = stored.started_at;
  k.finished_at = stored.finished_at;
  k.restart_count = stored.restart_count;
  if (known_.size() >= kMaxKnown) known_.clear();
  known_[key] = k;
  *out = k;
  // A crash stored by an earlier run: events of its pod may still arrive.
  std::lock_guard<std::mutex> lock(links_mu_);
  windows_[stored.pod].push_back(
      {stored.id, stored.started_at, stored.finished_at + kLinkAfterSeconds});
  ++window_count_;
  return true;
}

bool CrashRecorder::FindEpisode(const PodSnapshot& pod,
                                const std::string& prefix, Episode* out) {
  auto it = episodes_.find(prefix);
  if (it != episodes_.end()) {
    *out = it->second;
    return true;
  }
  // Not seen by this process: the latest stored episode of the container.
  store::CrashQuery q;
  q.namespace_ = pod.namespace_;
  q.pod = pod.name;
  q.crash_type = model::CrashType::kCrashLoop;
  q.limit = 100;
  model::Page<model::Crash> page;
  Status st = store_->ListCrashes(q, &page);
  if (!st.ok()) {
    spdlog::warn("kube: listing crash-loop episodes of {}/{}: {}",
                 pod.namespace_, pod.name, st.message());
    return false;
  }
  const model::Crash* best = nullptr;
  const std::string key_prefix = prefix + "/crashloop/";
  for (const auto& c : page.items) {
    if (!util::StartsWith(c.dedup_key, key_prefix)) continue;
    if (best == nullptr || c.finished_at > best->finished_at) best = &c;
  }
  if (best == nullptr) return false;
  Episode e;
  e.dedup_key = best->dedup_key;
  e.id = best->id;
  e.started_at = best->started_at;
  e.finished_at = best->finished_at;
  e.restart_count = best->restart_count;
  episodes_[prefix] = e;
  *out = e;
  return true;
}

void CrashRecorder::AfterWrite(const model::Crash& crash, bool inserted,
                               std::vector<Notice>* notices) {
  Known k;
  k.id = crash.id;
  k.started_at = crash.started_at;
  k.finished_at = crash.finished_at;
  k.restart_count = crash.restart_count;
  if (known_.size() >= kMaxKnown) known_.clear();
  known_[crash.dedup_key] = k;
  if (inserted && metrics_ != nullptr) {
    metrics_->PodCrash(crash.namespace_, crash.crash_type);
  }
  // Link to groups that had events from this pod in the crash's window.
  double from = crash.started_at > 0 ? crash.started_at : crash.finished_at;
  double to = (crash.finished_at > 0 ? crash.finished_at : util::NowSeconds()) +
              kLinkAfterSeconds;
  std::vector<int64_t> groups;
  Status st = store_->FindGroupsForPod(crash.pod, from, to, &groups);
  if (!st.ok()) {
    spdlog::warn("kube: finding groups for pod {}: {}", crash.pod,
                 st.message());
  }
  model::Crash notice = crash;
  for (int64_t g : groups) {
    Status ls = store_->LinkCrashGroup(crash.id, g);
    if (!ls.ok()) {
      spdlog::warn("kube: linking crash {} to group {}: {}", crash.id, g,
                   ls.message());
    } else if (std::find(notice.linked_groups.begin(),
                         notice.linked_groups.end(),
                         g) == notice.linked_groups.end()) {
      notice.linked_groups.push_back(g);
    }
  }
  {
    std::lock_guard<std::mutex> lock(links_mu_);
    auto& list = windows_[crash.pod];
    bool found = false;
    for (auto& w : list) {
      if (w.crash_id == crash.id) {
        w.from = from;
        w.to = to;
        w.relinked = false;
        found = true;
      }
    }
    if (!found) {
      list.push_back({crash.id, from, to});
      ++window_count_;
    }
    if (window_count_ > kMaxWindows) {
      // Drop windows that closed more than an hour ago.
      double cutoff = util::NowSeconds() - 3600;
      window_count_ = 0;
      for (auto it = windows_.begin(); it != windows_.end();) {
        auto& v = it->second;
        v.erase(
            std::remove_if(v.begin(), v.end(),
                           [&](const LinkWindow& w) { return w.to < cutoff; }),
            v.end());
        window_count_ += v.size();
        it = v.empty() ? windows_.erase(it) : std::next(it);
      }
    }
  }
  notices->push_back({std::move(notice), inserted});
}

bool CrashRecorder::Insert(const CrashCandidate& cand,
                           std::vector<Notice>* notices,
                           std::vector<LogRequest>* logs) {
  model::Crash crash = cand.crash;
  if (crash.finished_at == 0) crash.finished_at = util::NowSeconds();
  if (crash.crash_type == model::CrashType::kEvicted ||
      crash.crash_type == model::CrashType::kOomKilled) {
    // What the node said about it (memory pressure, the eviction).
    Enrichable e;
    e.dedup_key = crash.dedup_key;
    e.namespace_ = crash.namespace_;
    e.pod = crash.pod;
    e.node = crash.node;
    e.from = (crash.started_at > 0 ? crash.started_at : crash.finished_at) -
             kLinkAfterSeconds;
    e.to = crash.finished_at + 2 * kLinkAfterSeconds;
    e.base_message = crash.message;
    crash.message = EnrichedMessage(e);
    if (enrichable_.size() >= kMaxEnrichable) enrichable_.pop_front();
    enrichable_.push_back(std::move(e));
  }
  scrubber_->ScrubText(&crash.message);  // a termination message
  int64_t id = 0;
  bool inserted = false;
  Status st = store_->UpsertCrash(crash, &id, &inserted);
  if (!st.ok()) {
    spdlog::error("kube: storing crash {}: {}", crash.dedup_key, st.message());
    return false;
  }
  crash.id = id;
  spdlog::info("kube: {} crash {} of pod {}/{} container {} ({})",
               inserted ? "recorded" : "updated",
               model::ToString(crash.crash_type), crash.namespace_, crash.pod,
               crash.container, crash.reason);
  AfterWrite(crash, inserted, notices);
  if (!cand.logs_container.empty()) {
    LogRequest r = MakeLogRequest(crash, cand);
    if (inserted && cand.kind == CrashCandidate::kTermination) {
      // One crash: its run's restart count names its event.
      r.event_from = r.event_to = TerminatedRun(cand);
    }
    logs->push_back(std::move(r));
  }
  return true;
}

bool CrashRecorder::UpdateEpisode(const Episode& episode,
                                  const CrashCandidate& cand,
                                  std::vector<Notice>* notices,
                                  std::vector<LogRequest>* logs, bool events) {
  model::Crash stored;
  Status st = store_->GetCrashByKey(episode.dedup_key, &stored);
  if (!st.ok()) {
    spdlog::warn("kube: reading crash-loop episode {}: {}", episode.dedup_key,
                 st.message());
    return false;
  }
  bool newer_exit = cand.term_finished_at > stored.finished_at;
  if (!newer_exit && cand.crash.restart_count <= stored.restart_count) {
    return true;  // nothing new
  }
  const int folded_from = stored.restart_count + 1;
  stored.restart_count =
      std::max(stored.restart_count, cand.crash.restart_count);
  if (newer_exit) {
    stored.exit_code = cand.crash.exit_code;
    stored.signal = cand.crash.signal;
    stored.finished_at = cand.term_finished_at;
  }
  int64_t id = 0;
  bool inserted = false;
  stored.updated_at = 0;  // the store stamps the update
  st = store_->UpsertCrash(stored, &id, &inserted);
  if (!st.ok()) {
    spdlog::error("kube: updating crash-loop episode {}: {}", episode.dedup_key,
                  st.message());
    return false;
  }
  stored.id = id;
  Episode e = episode;
  e.finished_at = stored.finished_at;
  e.restart_count = stored.restart_count;
  episodes_[ContainerPrefix(episode.dedup_key)] = e;
  AfterWrite(stored, false, notices);
  if (newer_exit && !cand.logs_container.empty()) {
    LogRequest r = MakeLogRequest(stored, cand);
    if (events) {
      // Each restart folded in is one crash of what the logs show.
      r.event_to = stored.restart_count;
      r.event_from = std::max(folded_from, r.event_to - kMaxEventsPerFold + 1);
    }
    logs->push_back(std::move(r));
  }
  return true;
}

void CrashRecorder::HandleTermination(const PodSnapshot& pod,
                                      const CrashCandidate& cand,
                                      std::vector<Notice>* notices,
                                      std::vector<LogRequest>* logs) {
  const std::string& key = cand.crash.dedup_key;
  Known known;
  if (LookupKnown(key, &known)) return;  // already recorded (or folded)
  const std::string prefix = ContainerPrefix(key);
  Episode ep;
  bool has_episode = FindEpisode(pod, prefix, &ep);
  bool in_episode = has_episode && cand.term_started_at > 0 &&
                    cand.term_started_at >= ep.finished_at - 1 &&
                    cand.term_started_at - ep.finished_at <= kEpisodeGapSeconds;
  bool already_folded = has_episode && cand.term_finished_at > 0 &&
                        cand.term_finished_at <= ep.finished_at &&
                        cand.term_finished_at >= ep.started_at;
  if (cand.crash.crash_type != model::CrashType::kOomKilled &&
      (in_episode || already_folded)) {
    if (in_episode && !already_folded) {
      UpdateEpisode(ep, cand, notices, logs);
    }
    // Remember the termination as part of the episode.
    Known k;
    k.id = ep.id;
    k.finished_at = cand.term_finished_at;
    known_[key] = k;
    return;
  }
  if (cand.crash.crash_type == model::CrashType::kErrorExit) {
    // A kill by the kubelet looks like any exit: wait for its Event.
    if (waiting_.count(key) > 0) return;
    CrashCandidate explained;
    if (Explain(cand, &explained)) {
      Insert(explained, notices, logs);
      return;
    }
    const double now = util::NowSeconds();
    double deadline = now + event_wait_;
    if (cand.term_finished_at > 0) {
      deadline = std::min(deadline,
                          std::max(now, cand.term_finished_at + event_wait_));
    }
    if (!events_synced_ || now < deadline) {
      if (waiting_.size() >= kMaxWaiting) {
        // Bounded: the oldest waiting termination is recorded as it is.
        auto oldest = waiting_.begin();
        for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
          if (it->second.deadline < oldest->second.deadline) oldest = it;
        }
        Insert(oldest->second.cand, notices, logs);
        waiting_.erase(oldest);
      }
      Waiting w;
      w.cand = cand;
      w.deadline = deadline;
      w.hard_deadline = now + event_wait_ + kSyncWaitSeconds;
      waiting_[key] = std::move(w);
      SetWaitingGauge();
      return;
    }
  }
  if (Insert(cand, notices, logs) && in_episode) {
    // An OOM kill during the loop: its own record holds its event.
    UpdateEpisode(ep, cand, notices, logs, /*events=*/false);
  }
}

void CrashRecorder::HandleCrashLoop(const PodSnapshot& pod,
                                    const CrashCandidate& cand,
                                    std::vector<Notice>* notices,
                                    std::vector<LogRequest>* logs) {
  const std::string prefix = ContainerPrefix(cand.crash.dedup_key);
  Episode ep;
  if (FindEpisode(pod, prefix, &ep)) {
    bool same = (cand.term_finished_at > 0 &&
                 cand.term_finished_at <= ep.finished_at) ||
                cand.term_finished_at == 0 ||
                (cand.term_started_at > 0 &&
                 cand.term_started_at - ep.finished_at <= kEpisodeGapSeconds);
    if (same) {
      UpdateEpisode(ep, cand, notices, logs);
      return;
    }
  }
  Known known;
  if (LookupKnown(cand.crash.dedup_key, &known)) return;
  if (!Insert(cand, notices, logs)) return;
  Episode e;
  e.dedup_key = cand.crash.dedup_key;
  e.id = known_[cand.crash.dedup_key].id;
  e.started_at = cand.crash.started_at;
  e.finished_at = known_[cand.crash.dedup_key].finished_at;
  e.restart_count = cand.crash.restart_count;
  episodes_[prefix] = e;
}

void CrashRecorder::HandleOnce(const PodSnapshot& /*pod*/,
                               const CrashCandidate& cand,
                               std::vector<Notice>* notices,
                               std::vector<LogRequest>* logs) {
  Known known;
  if (LookupKnown(cand.crash.dedup_key, &known)) return;
  Insert(cand, notices, logs);
}

void CrashRecorder::ObservePod(const PodSnapshot& pod, bool deleted) {
  std::vector<Notice> notices;
  std::vector<LogRequest> logs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const CrashCandidate& cand : ClassifyPod(pod, restart_threshold_)) {
      switch (cand.kind) {
        case CrashCandidate::kTermination:
          HandleTermination(pod, cand, &notices, &logs);
          break;
        case CrashCandidate::kCrashLoop:
          HandleCrashLoop(pod, cand, &notices, &logs);
          break;
        case CrashCandidate::kEvicted:
        case CrashCandidate::kRestartThreshold:
        case CrashCandidate::kStartFailed:
          HandleOnce(pod, cand, &notices, &logs);
          break;
      }
    }
    if (deleted) {
      Forget(pod.uid);
    } else {
      PodState& ps = pods_[pod.uid];
      ps.namespace_ = pod.namespace_;
      ps.crash_looping = PodIsCrashLooping(pod);
    }
    RefreshGauge(pod.namespace_);
  }
  Dispatch(notices, logs);
}

void CrashRecorder::Forget(const std::string& uid) {
  auto pit = pods_.find(uid);
  if (pit == pods_.end()) return;
  std::string prefix = pit->second.namespace_ + "/" + uid + "/";
  pods_.erase(pit);
  for (auto it = known_.begin(); it != known_.end();) {
    it = util::StartsWith(it->first, prefix) ? known_.erase(it) : std::next(it);
  }
  for (auto it = episodes_.begin(); it != episodes_.end();) {
    it = util::StartsWith(it->first, prefix) ? episodes_.erase(it)
                                             : std::next(it);
  }
}

void CrashRecorder::EndList(const std::string& ns,
                            const std::set<std::string>& uids) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> gone;
  std::set<std::string> namespaces;
  for (const auto& kv : pods_) {
    if (!ns.empty() && kv.second.namespace_ != ns) continue;
    if (uids.count(kv.first) == 0) {
      gone.push_back(kv.first);
      namespaces.insert(kv.second.namespace_);
    }
  }
  for (const auto& uid : gone) Forget(uid);
  for (const auto& n : namespaces) RefreshGauge(n);
}

void CrashRecorder::RefreshGauge(const std::string& ns) {
  if (metrics_ == nullptr) return;
  gauge_namespaces_.insert(ns);
  int count = 0;
  for (const auto& kv : pods_) {
    if (kv.second.namespace_ == ns && kv.second.crash_looping) ++count;
  }
  metrics_->SetPodsCrashLooping(ns, count);
}

void CrashRecorder::SetLogs(const std::string& dedup_key,
                            const std::string& logs) {
  LogRequest request;
  request.dedup_key = dedup_key;
  SetLogs(request, logs);
}

void CrashRecorder::SetLogs(const LogRequest& request,
                            const std::string& fetched) {
  const std::string logs = KeepLastBytes(fetched, kMaxLogBytes);
  model::Crash crash;
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Status st = store_->GetCrashByKey(request.dedup_key, &crash);
    if (!st.ok()) return;
    std::string scrubbed = LastLines(logs, kRecordLogLines);
    scrubber_->ScrubText(&scrubbed);  // bearer tokens, password=..., cards
    if (crash.logs != scrubbed) {
      crash.logs = std::move(scrubbed);
      crash.updated_at = 0;  // the store stamps the update
      int64_t id = 0;
      bool inserted = false;
      st = store_->UpsertCrash(crash, &id, &inserted);
      if (!st.ok()) {
        spdlog::warn("kube: storing logs of crash {}: {}", request.dedup_key,
                     st.message());
        return;
      }
      crash.id = id;
      changed = true;
    }
  }
  if (request.event_from <= request.event_to &&
      StoreCrashEvents(request, logs, &crash)) {
    changed = true;
  }
  if (!changed) return;
  for (const auto& l : listeners_) l(crash, false);
}

int64_t CrashRecorder::ResolveProject(const std::string& annotation) {
  model::Project project;
  if (!annotation.empty()) {
    int64_t id = 0;
    bool digits = annotation.size() <= 18;
    for (char c : annotation) {
      if (c < '0' || c > '9') digits = false;
    }
    if (digits) id = std::stoll(annotation);
    if (id > 0 && store_->GetProject(id, &project).ok()) return id;
    spdlog::warn(
        "kube: pod annotation crashctl.dev/project \"{}\" names no project",
        annotation);
  }
  if (event_project_ > 0) {
    if (store_->GetProject(event_project_, &project).ok()) {
      return event_project_;
    }
    spdlog::warn("kube: kubernetes.project {} names no project",
                 event_project_);
  }
  std::vector<model::Project> projects;
  Status st = store_->ListProjects(&projects);
  if (!st.ok()) {
    spdlog::warn("kube: listing projects: {}", st.message());
    return 0;
  }
  int64_t lowest = 0;
  for (const model::Project& p : projects) {
    if (lowest == 0 || p.id < lowest) lowest = p.id;
  }
  return lowest;
}

bool CrashRecorder::StoreCrashEvents(const LogRequest& request,
                                     const std::string& logs,
                                     model::Crash* crash) {
  std::optional<crashreport::Report> report = crashreport::FindLastReport(logs);
  if (!report.has_value()) return false;
  const int64_t project = ResolveProject(request.project_annotation);
  if (project == 0) {
    spdlog::info("kube: no project for the crash report of {}: no event",
                 crash->dedup_key);
    return false;
  }
  const double now = util::NowSeconds();
  // The run's end (an episode's record holds its latest run only).
  const double timestamp = request.run_finished_at > 0 ? request.run_finished_at
                           : crash->finished_at > 0    ? crash->finished_at
                                                       : now;
  ingest::NormalizeOptions normalize;
  normalize.scrubber = scrubber_;
  normalize.max_past_seconds = event_max_past_seconds_;
  std::vector<model::WriteItem> items;
  for (int r = request.event_from; r <= request.event_to; ++r) {
    model::WriteItem item;
    const std::string json = CrashEventJson(
        *crash, *report, logs, CrashEventId(request.dedup_key, r), timestamp);
    std::string error;
    if (!ingest::NormalizeEvent(json, project, now, normalize, &item.event,
                                nullptr, &error)) {
      spdlog::error("kube: crash event of {}: {}", crash->dedup_key, error);
      return false;
    }
    item.grouping = grouping::ComputeGrouping(item.event);
    store_->PrepareWrite(&item);
    items.push_back(std::move(item));
  }
  if (items.empty()) return false;

  // The SDK in the pod reported it before dying (during this run; our own
  // events of the container's other runs lie outside it): link, do not
  // count twice.
  const double from = request.run_started_at > 0
                          ? request.run_started_at
                          : timestamp - kLinkAfterSeconds;
  const double to = timestamp + kSdkSlackSeconds;
  std::vector<int64_t> groups;
  Status st = store_->FindGroupsForPod(crash->pod, from, to, &groups);
  if (!st.ok()) {
    spdlog::warn("kube: finding groups for pod {}: {}", crash->pod,
                 st.message());
  }
  std::vector<int64_t> link;
  for (int64_t g : groups) {
    model::Group group;
    if (store_->GetGroup(g, &group).ok() &&
        group.title == items.front().grouping.title) {
      link.push_back(g);
    }
  }
  const std::string title = items.front().grouping.title;
  if (link.empty()) {
    std::vector<model::WriteOutcome> outcomes;
    st = event_writer_ ? event_writer_(std::move(items), &outcomes)
                       : store_->WriteEvents(items, &outcomes);
    if (!st.ok()) {
      spdlog::error("kube: storing the crash event of {}: {}", crash->dedup_key,
                    st.message());
      return false;
    }
    size_t stored = 0;
    for (const model::WriteOutcome& o : outcomes) {
      if (!o.duplicate) ++stored;
      if (o.group_id != 0 &&
          std::find(link.begin(), link.end(), o.group_id) == link.end()) {
        link.push_back(o.group_id);
      }
    }
    if (stored > 0) {
      spdlog::info("kube: crash {} of pod {}/{}: {} event(s) \"{}\"",
                   model::ToString(crash->crash_type), crash->namespace_,
                   crash->pod, stored, title);
    }
  }
  bool linked = false;
  for (int64_t g : link) {
    Status ls = store_->LinkCrashGroup(crash->id, g);
    if (!ls.ok()) {
      spdlog::warn("kube: linking crash {} to group {}: {}", crash->id, g,
                   ls.message());
      continue;
    }
    if (std::find(crash->linked_groups.begin(), crash->linked_groups.end(),
                  g) == crash->linked_groups.end()) {
      crash->linked_groups.push_back(g);
      linked = true;
    }
  }
  return linked;
}

void CrashRecorder::OnEventStored(const model::WriteItem& item,
                                  const model::WriteOutcome& outcome) {
  if (outcome.duplicate || outcome.group_id == 0) return;
  const model::Event& ev = item.event;
  std::vector<int64_t> crash_ids;
  {
    std::lock_guard<std::mutex> lock(links_mu_);
    for (const std::string* name : {&ev.server_name, &ev.Tag("pod")}) {
      if (name->empty()) continue;
      auto it = windows_.find(*name);
      if (it == windows_.end()) continue;
      for (const auto& w : it->second) {
        if (ev.timestamp >= w.from && ev.timestamp <= w.to &&
            std::find(crash_ids.begin(), crash_ids.end(), w.crash_id) ==
                crash_ids.end()) {
          crash_ids.push_back(w.crash_id);
        }
      }
    }
  }
  for (int64_t id : crash_ids) {
    Status st = store_->LinkCrashGroup(id, outcome.group_id);
    if (!st.ok()) {
      spdlog::warn("kube: linking crash {} to group {}: {}", id,
                   outcome.group_id, st.message());
    }
  }
}

}  // namespace kube
}  // namespace crashctl
