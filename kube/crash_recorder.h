// CrashRecorder: reconciles observed pods with the stored crash records.
//
// For every candidate of ClassifyPod it decides, against an in-memory cache
// backed by the store (so a relist or a restart of crashctl never records a
// crash twice), whether to insert a record, update one (a crash-loop episode
// going on) or do nothing. It counts crashes (crashctl_pod_crashes_total),
// keeps crashctl_pods_crashlooping{namespace}, asks for the last log lines
// of each new or updated crash, and links crashes to error groups both ways
// (an event from the pod between the container's start and 60 s after its
// end).
//
// Crash events: when the previous logs of a termination (or of a restart a
// crash-loop episode folds in) hold a crash report, SetLogs stores one fatal
// error event per crash (crash_events.h) in the project of the pod's
// annotation crashctl.dev/project, else kubernetes.project, else the lowest
// project id (none: no event), grouped like any event and linked to the
// crash both ways. When the SDK in the pod already reported it (a group with
// an event of the pod during the run whose title is the parsed one), the
// crash is linked to that group and no event is stored.
//
// Crash-loop episodes: a CrashLoopBackOff opens an episode keyed by the
// termination that started it. While it lasts (each further run starts at
// most kEpisodeGapSeconds after the previous termination) non-OOM
// terminations of that container are folded into the episode record
// (restart count, last exit) instead of getting their own record.
//
// Kubernetes Events (ObserveEvent, kube_events.h): a termination that would
// be an error_exit waits up to the event wait (SetEventWait) — and until the
// first list of Events is in (SetEventsSynced), at most kSyncWaitSeconds
// longer — for the kubelet's Killing "... failed liveness probe, will be
// restarted" (or startup probe) of its container during its run; with it,
// the termination is recorded as liveness_failed (reason LivenessProbe or
// StartupProbe, message the probe's output from the Unhealthy event), not
// also as error_exit. Without it, it is recorded as error_exit once the wait
// is over (Tick) and never reclassified. A termination older than the wait
// when first seen waits only for the list. Evictions and OOM kills get the
// pod's Evicted and the node's pressure events (EvictionThresholdMet,
// SystemOOM, ...) of their time appended to their message, also when those
// events arrive later.
//
// Thread-safety: all methods may be called concurrently (one mutex for pod
// reconciliation, one for the link index used by OnEventStored). Listeners
// and the log sink are called without locks held.
#ifndef CRASHCTL_KUBE_CRASH_RECORDER_H_
#define CRASHCTL_KUBE_CRASH_RECORDER_H_

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "crashctl/scrub/scrubber.h"
#include "crashctl/store/store.h"
#include "kube_events.h"
#include "pod_classifier.h"

namespace crashctl {
namespace kube {

class Metrics;

// A request to fetch a crash's last log lines.
struct LogRequest {
  std::string dedup_key;
  std::string namespace_;
  std::string pod;
  std::string container;
  bool previous = true;
  // Error events to store when the logs hold a crash report: one for each
  // restart count in [event_from, event_to] (none when event_from >
  // event_to), with ids from dedup_key and that count.
  int event_from = 1;
  int event_to = 0;
  // The crashed run ([started, finished], 0 = unknown): an event of the pod
  // in it (or up to kLinkAfterSeconds after it) is the SDK's own report.
  double run_started_at = 0;
  double run_finished_at = 0;
  std::string project_annotation;  // crashctl.dev/project of the pod
};

class CrashRecorder {
 public:
  static constexpr double kEpisodeGapSeconds = 600;
  static constexpr double kLinkAfterSeconds = 60;
  // How much longer than the event wait a termination waits for the first
  // list of Events.
  static constexpr double kSyncWaitSeconds = 30;
  static constexpr size_t kMaxWaiting = 10000;
  static constexpr size_t kMaxCachedEvents = 20000;
  static constexpr size_t kMaxEnrichable = 1000;
  static constexpr size_t kMaxRelinksPerTick = 50;

  using CrashListener = std::function<void(const model::Crash&, bool inserted)>;
  using LogSink = std::function<void(const LogRequest&)>;
  // Writes crash events (default: Store::WriteEvents), e.g. through the
  // ingest pipeline. Called without locks held.
  using EventWriter = std::function<Status(std::vector<model::WriteItem>,
                                           std::vector<model::WriteOutcome>*)>;

  // `metrics` may be null. `restart_threshold` <= 0 disables that type.
  // `scrubber` (may be null: Sentry's default rules) filters secrets out of
  // the logs and termination messages before they are stored; it must
  // outlive the recorder.
  CrashRecorder(store::Store* store, Metrics* metrics, int restart_threshold,
                const scrub::Scrubber* scrubber = nullptr);
  CrashRecorder(const CrashRecorder&) = delete;
  CrashRecorder& operator=(const CrashRecorder&) = delete;

  // Set up before the first ObservePod.
  void AddListener(CrashListener listener);
  void SetLogSink(LogSink sink);
  // Crash events: `project` is kubernetes.project (0 = unset); event
  // timestamps more than `max_past_seconds` old become the receive time.
  void SetEventOptions(int64_t project, double max_past_seconds);
  void SetEventWriter(EventWriter writer);
  // Kubernetes Events: the wait of a termination (default 0) and whether the
  // first list of Events is in (default true: no Events source).
  void SetEventWait(double seconds);
  void SetEventsSynced(bool synced);
  // Once a crash's link window has been closed for `seconds` (default
  // 30), Tick() looks up the groups of its pod's events in the window again
  // (Store::FindGroupsForPod) and links them: the events another replica
  // stored (OnEventStored only sees this process's), or that arrived late.
  void SetRelinkDelay(double seconds);

  // A core/v1 Event seen (ADDED/MODIFIED; `deleted` for DELETED).
  void ObserveEvent(const KubeEvent& ev, bool deleted);
  // Records the waiting terminations whose wait is over at `now`, and
  // relinks the windows closed long enough (SetRelinkDelay; at most
  // kMaxRelinksPerTick a call, checked at most once a second).
  void Tick(double now);
  // Terminations waiting for an Event.
  size_t waiting();

  // Records what `pod` shows; `deleted` when it is gone after this state.
  void ObservePod(const PodSnapshot& pod, bool deleted);
  // After a complete list of namespace `ns` ("" = all namespaces): forgets
  // the pods of that scope whose uid is not in `uids` (deleted while no
  // watch was open).
  void EndList(const std::string& ns, const std::set<std::string>& uids);
  // Stores the last kRecordLogLines lines of `logs` (scrubbed) into the
  // crash `request.dedup_key` (no-op if it is gone), then the crash events
  // the request asks for when `logs` hold a crash report.
  void SetLogs(const LogRequest& request, const std::string& logs);
  // The same without events.
  void SetLogs(const std::string& dedup_key, const std::string& logs);
  // Links the group of a newly stored event to crashes of the pod it came
  // from (server_name or tag `pod`) whose window holds its timestamp.
  void OnEventStored(const model::WriteItem& item,
                     const model::WriteOutcome& outcome);

 private:
  struct Known {
    int64_t id = 0;
    double started_at = 0;
    double finished_at = 0;
    int restart_count = 0;
  };
  // A crash-loop episode: its record, and the key it is stored under.
  struct Episode : Known {
    std::string dedup_key;
  };
  struct LinkWindow {
    int64_t crash_id = 0;
    double from = 0;
    double to = 0;
    bool relinked = false;  // looked up again after it closed
  };
  struct PodState {
    std::string namespace_;
    bool crash_looping = false;
  };
  struct Notice {
    model::Crash crash;
    bool inserted = false;
  };

  // All below run with mu_ held.
  bool LookupKnown(const std::string& key, Known* out);
  bool FindEpisode(const PodSnapshot& pod, const std::string& prefix,
                   Episode* out);
  void HandleTermination(const PodSnapshot& pod, const CrashCandidate& cand,
                         std::vector<Notice>* notices,
                         std::vector<LogRequest>* logs);
  void HandleCrashLoop(const PodSnapshot& pod, const CrashCandidate& cand,
                       std::vector<Notice>* notices,
                       std::vector<LogRequest>* logs);
  void HandleOnce(const PodSnapshot& pod, const CrashCandidate& cand,
                  std::vector<Notice>* notices, std::vector<LogRequest>* logs);
  // Folds a termination into `episode`: the record gets its exit.
  // `events`: whether restarts it folds in get crash events.
  bool UpdateEpisode(const Episode& episode, const CrashCandidate& cand,
                     std::vector<Notice>* notices,
                     std::vector<LogRequest>* logs, bool events = true);
  bool Insert(const CrashCandidate& cand, std::vector<Notice>* notices,
              std::vector<LogRequest>* logs);
  void AfterWrite(const model::Crash& crash, bool inserted,
                  std::vector<Notice>* notices);
  void Forget(const std::string& uid);
  void RefreshGauge(const std::string& ns);
  // Without mu_: the crash events of `request` (see SetLogs); true when
  // `crash` got new links.
  bool StoreCrashEvents(const LogRequest& request, const std::string& logs,
                        model::Crash* crash);
  // The project of crash events, 0 when there is none.
  int64_t ResolveProject(const std::string& annotation);
  // With mu_ held: `cand` as liveness_failed when a probe kill of its
  // container during its run is known.
  bool Explain(const CrashCandidate& cand, CrashCandidate* out);
  struct Enrichable {
    std::string dedup_key;
    std::string namespace_;
    std::string pod;
    std::string node;
    double from = 0;
    double to = 0;
    std::string base_message;
  };
  // With mu_ held: the pod's and node's pressure events of `e`'s time.
  std::string PressureNote(const Enrichable& e);
  std::string EnrichedMessage(const Enrichable& e);
  void Dispatch(const std::vector<Notice>& notices,
                const std::vector<LogRequest>& logs);
  void SetWaitingGauge();

  store::Store* store_;
  Metrics* metrics_;
  const scrub::Scrubber default_scrubber_;
  const scrub::Scrubber* scrubber_;
  int restart_threshold_;
  std::vector<CrashListener> listeners_;
  LogSink log_sink_;
  int64_t event_project_ = 0;
  double event_max_past_seconds_ = 30 * 86400.0;
  EventWriter event_writer_;

  std::mutex mu_;
  std::unordered_map<std::string, Known> known_;       // dedup_key -> row
  std::unordered_map<std::string, Episode> episodes_;  // ns/uid/container
  std::unordered_map<std::string, PodState> pods_;     // uid -> state
  std::set<std::string> gauge_namespaces_;
  struct Waiting {
    CrashCandidate cand;
    double deadline = 0;       // once Events are synced
    double hard_deadline = 0;  // in any case
  };
  std::map<std::string, Waiting> waiting_;  // dedup_key
  KubeEventCache events_{kMaxCachedEvents};
  std::deque<Enrichable> enrichable_;
  double event_wait_ = 0;
  bool events_synced_ = true;

  // Links the groups of events in windows closed for relink_delay_.
  void RelinkClosedWindows(double now);

  std::mutex links_mu_;
  std::unordered_map<std::string, std::vector<LinkWindow>> windows_;  // pod
  size_t window_count_ = 0;
  double relink_delay_ = 30;
  double relink_checked_at_ = 0;
};

}  // namespace kube
}  // namespace crashctl

#endif  // CRASHCTL_KUBE_CRASH_RECORDER_H_
