// Pod classification: turns one observed Pod object into the crash
// candidates it shows (terminations, CrashLoopBackOff, eviction, restart
// threshold). Pure functions of the pod JSON: no store, no clock.
//
// Rules (docs/kubernetes.md):
//   termination  a container (state or lastState) terminated with reason
//                OOMKilled -> oom_killed; else non-zero exit: init container
//                -> init_failed, other container -> error_exit. Identified by
//                its finishedAt (else containerID, else restartCount), so the
//                same termination seen first in `state` and later in
//                `lastState` gives the same dedup key.
//   crash loop   a container waiting with reason CrashLoopBackOff; the
//                episode key is chosen by CrashRecorder (it needs history).
//   evicted      phase Failed + reason Evicted; the container statuses of an
//                evicted pod give no other candidate.
//   threshold    restartCount >= threshold (> 0), once per container.
//   start failed a container waiting in ImagePullBackOff, ErrImagePull,
//                CreateContainerConfigError, CreateContainerError,
//                RunContainerError or InvalidImageName -> start_failed, one
//                per episode (keyed by the restartCount it waits at).
//
// Thread-safety: stateless functions; safe from any thread.
#ifndef CRASHCTL_KUBE_POD_CLASSIFIER_H_
#define CRASHCTL_KUBE_POD_CLASSIFIER_H_

#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "crashctl/store/store.h"

namespace crashctl {
namespace kube {

struct TerminatedState {
  bool present = false;
  int exit_code = 0;
  int signal = 0;  // the `signal` field, 0 when absent
  std::string reason;
  std::string message;
  std::string started_at;   // RFC 3339 as sent
  std::string finished_at;  // RFC 3339 as sent
  std::string container_id;
};

struct ContainerSnapshot {
  std::string name;
  bool init = false;
  std::string image;
  std::string memory_request;
  std::string memory_limit;
  int restart_count = 0;
  std::string waiting_reason;  // "" unless state.waiting
  std::string waiting_message;
  bool running = false;
  TerminatedState terminated;       // state.terminated
  TerminatedState last_terminated;  // lastState.terminated
};

struct PodSnapshot {
  std::string namespace_;
  std::string name;
  std::string uid;
  std::string resource_version;
  std::string node;
  std::string phase;
  std::string reason;
  std::string message;
  std::string start_time;       // status.startTime
  std::string last_transition;  // latest condition lastTransitionTime
  std::string workload_kind;
  std::string workload;
  std::string project_annotation;  // metadata.annotations crashctl.dev/project
  std::vector<ContainerSnapshot> containers;  // init containers first
};

// Reads a Pod object. Returns false (with `*error`) when it is not an object
// with metadata.name/namespace/uid.
bool ParsePodSnapshot(const rapidjson::Value& pod, PodSnapshot* out,
                      std::string* error);

struct CrashCandidate {
  enum Kind {
    kTermination,
    kCrashLoop,
    kEvicted,
    kRestartThreshold,
    kStartFailed
  };
  Kind kind = kTermination;
  // Every field a crash record carries except id, timestamps of the row and
  // logs. For kCrashLoop dedup_key names a new episode starting at this
  // termination; CrashRecorder uses the open episode's key instead.
  model::Crash crash;
  bool in_last_state = false;  // termination read from lastState
  // Logs to fetch for the record: container name ("" = none) and whether
  // the previous instance's (`previous=true`).
  std::string logs_container;
  bool logs_previous = false;
  double term_started_at = 0;  // the termination's times (kCrashLoop too)
  double term_finished_at = 0;
  std::string project_annotation;  // the pod's
};

// Candidates in a stable order: per container (init first) terminations
// (state, then lastState when different), crash loop, start failure,
// threshold; then eviction.
std::vector<CrashCandidate> ClassifyPod(const PodSnapshot& pod,
                                        int restart_threshold);

// True for a waiting reason that means the container cannot start
// (ImagePullBackOff, ErrImagePull, CreateContainerConfigError, ...).
bool IsStartFailure(const std::string& waiting_reason);

// True when some container of the pod waits in CrashLoopBackOff.
bool PodIsCrashLooping(const PodSnapshot& pod);

// "SIGKILL" for 137 (128 + 9) and the like; "" when the code is not
// 129..159.
std::string SignalFromExitCode(int exit_code);
std::string SignalName(int signal);

// Seconds since the epoch of an RFC 3339 time ("2024-05-01T10:00:00Z",
// fractions and offsets allowed); 0 when empty or malformed.
double ParseRfc3339(const std::string& text);

// Resource named in an eviction message ("The node was low on resource:
// memory. ..." -> "memory"); "" when absent.
std::string EvictionResource(const std::string& message);

// Owner workload: a ReplicaSet named "<deploy>-<pod-template-hash>" gives
// (Deployment, <deploy>); StatefulSet, Job, DaemonSet and others as is.
void OwnerWorkload(const rapidjson::Value& metadata, std::string* kind,
                   std::string* name);

}  // namespace kube
}  // namespace crashctl

#endif  // CRASHCTL_KUBE_POD_CLASSIFIER_H_
