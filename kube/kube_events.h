// Kubernetes core/v1 Events as the watcher uses them: the parsed fields of
// an Event object, what an Event says about a crash (a probe kill, the
// probe's output, an eviction, node memory pressure), and a bounded cache of
// the latest events per involved Pod or Node.
//
// Repeats: the API server folds repeats of an event into one object whose
// `count` (or `series.count`) grows and whose `lastTimestamp` (or
// `series.lastObservedTime`) moves on, sent as MODIFIED. The cache keeps one
// entry per event object with the times of the occurrences it saw (at most
// kMaxOccurrences), so a repeat is never a new event.
//
// Thread-safety: ParseKubeEvent and the Is* functions are pure. KubeEventCache
// is not thread-safe (CrashRecorder guards it with its mutex).
#ifndef CRASHCTL_KUBE_KUBE_EVENTS_H_
#define CRASHCTL_KUBE_KUBE_EVENTS_H_

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace crashctl {
namespace kube {

struct KubeEvent {
  std::string namespace_;  // of the Event object
  std::string name;        // of the Event object
  std::string uid;
  std::string resource_version;
  std::string involved_kind;  // Pod, Node, ...
  std::string involved_namespace;
  std::string involved_name;
  std::string involved_uid;
  std::string field_path;  // spec.containers{app}
  std::string container;   // from field_path; "" when none
  std::string reason;      // Killing, Unhealthy, Evicted, SystemOOM, ...
  std::string message;
  std::string type;    // Normal, Warning
  int count = 1;       // count, else series.count, else 1
  double first = 0;    // firstTimestamp, else eventTime (epoch seconds)
  double last = 0;     // lastTimestamp, else series.lastObservedTime, else
                       // eventTime, else first
  std::string source;  // source.component, else reportingComponent
};

// Reads a v1 Event. False (with `*error`) when it is not an object with
// metadata.name and involvedObject.kind/name.
bool ParseKubeEvent(const rapidjson::Value& obj, KubeEvent* out,
                    std::string* error);

// The probe an event names: "liveness", "startup" or "" (readiness probes
// never kill).
// Killing "Container app failed liveness probe, will be restarted".
std::string ProbeKill(const KubeEvent& ev);
// Unhealthy "Liveness probe failed: HTTP probe failed with statuscode: 500".
std::string ProbeFailure(const KubeEvent& ev);
// The container a Killing/Unhealthy event is about: the field path's, else
// the name after "Container " in the message.
std::string EventContainer(const KubeEvent& ev);
// Events that explain an eviction or an OOM kill: the pod's Evicted, and
// node events EvictionThresholdMet, SystemOOM, OOMKilling,
// NodeHasInsufficientMemory, NodeHasDiskPressure, NodeHasInsufficientPID.
bool IsPressureEvent(const KubeEvent& ev);
// Whether the cache keeps `ev` at all (the kinds and reasons above).
bool IsInteresting(const KubeEvent& ev);

class KubeEventCache {
 public:
  static constexpr size_t kMaxOccurrences = 16;
  static constexpr size_t kMaxPerObject = 32;

  struct Entry {
    KubeEvent event;                  // the latest version
    std::vector<double> occurrences;  // times seen (first, each repeat)
  };

  // At most `max_entries` event objects in all.
  explicit KubeEventCache(size_t max_entries) : max_entries_(max_entries) {}
  KubeEventCache(const KubeEventCache&) = delete;
  KubeEventCache& operator=(const KubeEventCache&) = delete;

  // Adds or updates `ev`. Returns true when it is new or a repeat (a higher
  // count or a later time); false for the same state seen again (a relist).
  // Adds to `*dropped` the entries evicted to stay within the cap.
  bool Add(const KubeEvent& ev, int64_t* dropped);
  void Remove(const KubeEvent& ev);
  // Entries of involved object `kind` `ns`/`name` (ns "" for Nodes).
  std::vector<const Entry*> For(const std::string& kind, const std::string& ns,
                                const std::string& name) const;
  size_t size() const { return size_; }

  // True when some occurrence of `entry` lies in [from, to]; an entry whose
  // count is higher than the occurrences seen (repeats folded while not
  // watching) also matches when [first, last] overlaps [from, to].
  static bool OccursIn(const Entry& entry, double from, double to);

 private:
  static std::string ObjectKey(const std::string& kind, const std::string& ns,
                               const std::string& name);
  // object key -> event uid (or name) -> entry
  std::map<std::string, std::map<std::string, Entry>> objects_;
  size_t max_entries_;
  size_t size_ = 0;
};

}  // namespace kube
}  // namespace crashctl

#endif  // CRASHCTL_KUBE_KUBE_EVENTS_H_
