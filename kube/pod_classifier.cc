#include "pod_classifier.h"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "crashctl/util/time.h"
#include "json_fields.h"

namespace crashctl {
namespace kube {
namespace {

using rapidjson::Value;

using json::GetInt;
using json::GetString;
using json::Member;

const Value* Path(const Value& v, std::initializer_list<const char*> names) {
  const Value* cur = &v;
  for (const char* n : names) {
    cur = Member(*cur, n);
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

std::string PathString(const Value& v,
                       std::initializer_list<const char*> names) {
  const Value* m = Path(v, names);
  return (m != nullptr && m->IsString()) ? m->GetString() : "";
}

void ParseTerminated(const Value* state, TerminatedState* out) {
  if (state == nullptr) return;
  const Value* t = Member(*state, "terminated");
  if (t == nullptr || !t->IsObject()) return;
  out->present = true;
  out->exit_code = GetInt(*t, "exitCode");
  out->signal = GetInt(*t, "signal");
  out->reason = GetString(*t, "reason");
  out->message = GetString(*t, "message");
  out->started_at = GetString(*t, "startedAt");
  out->finished_at = GetString(*t, "finishedAt");
  out->container_id = GetString(*t, "containerID");
}

void ParseStatuses(const Value* list, bool init, PodSnapshot* pod) {
  if (list == nullptr || !list->IsArray()) return;
  for (const auto& s : list->GetArray()) {
    if (!s.IsObject()) continue;
    std::string name = GetString(s, "name");
    ContainerSnapshot* c = nullptr;
    for (auto& existing : pod->containers) {
      if (existing.name == name && existing.init == init) c = &existing;
    }
    if (c == nullptr) {
      pod->containers.emplace_back();
      c = &pod->containers.back();
      c->name = name;
      c->init = init;
    }
    if (c->image.empty()) c->image = GetString(s, "image");
    c->restart_count = GetInt(s, "restartCount");
    const Value* state = Member(s, "state");
    if (state != nullptr) {
      if (const Value* w = Member(*state, "waiting")) {
        c->waiting_reason = GetString(*w, "reason");
        c->waiting_message = GetString(*w, "message");
      }
      c->running = Member(*state, "running") != nullptr;
    }
    ParseTerminated(state, &c->terminated);
    ParseTerminated(Member(s, "lastState"), &c->last_terminated);
  }
}

void ParseSpecContainers(const Value* list, bool init, PodSnapshot* pod) {
  if (list == nullptr || !list->IsArray()) return;
  for (const auto& c : list->GetArray()) {
    if (!c.IsObject()) continue;
    ContainerSnapshot snap;
    snap.name = GetString(c, "name");
    snap.init = init;
    snap.image = GetString(c, "image");
    snap.memory_request = PathString(c, {"resources", "requests", "memory"});
    snap.memory_limit = PathString(c, {"resources", "limits", "memory"});
    pod->containers.push_back(std::move(snap));
  }
}

// "abc-1234" minus "-1234" when the suffix is `hash`.
bool StripHash(const std::string& name, const std::string& hash,
               std::string* out) {
  if (hash.empty() || name.size() <= hash.size() + 1) return false;
  if (name.compare(name.size() - hash.size(), hash.size(), hash) != 0) {
    return false;
  }
  if (name[name.size() - hash.size() - 1] != '-') return false;
  *out = name.substr(0, name.size() - hash.size() - 1);
  return true;
}

std::string TerminationIdent(const TerminatedState& t, int restart_count) {
  if (!t.finished_at.empty()) return t.finished_at;
  if (!t.container_id.empty()) return t.container_id;
  return "restart-" + std::to_string(restart_count);
}

bool IsCrashTermination(const TerminatedState& t) {
  return t.present && (t.exit_code != 0 || t.reason == "OOMKilled");
}

model::Crash BaseCrash(const PodSnapshot& pod, const ContainerSnapshot* c) {
  model::Crash crash;
  crash.namespace_ = pod.namespace_;
  crash.pod = pod.name;
  crash.pod_uid = pod.uid;
  crash.node = pod.node;
  crash.workload_kind = pod.workload_kind;
  crash.workload = pod.workload;
  if (c != nullptr) {
    crash.container = c->name;
    crash.image = c->image;
    crash.restart_count = c->restart_count;
    crash.memory_request = c->memory_request;
    crash.memory_limit = c->memory_limit;
  }
  return crash;
}

void FillFromTermination(const TerminatedState& t, model::Crash* crash) {
  crash->reason = t.reason.empty() ? "Error" : t.reason;
  crash->exit_code = t.exit_code;
  crash->signal =
      t.signal > 0 ? SignalName(t.signal) : SignalFromExitCode(t.exit_code);
  crash->started_at = ParseRfc3339(t.started_at);
  crash->finished_at = ParseRfc3339(t.finished_at);
  crash->message = t.message;
}

std::string KeyPrefix(const PodSnapshot& pod, const ContainerSnapshot& c) {
  return pod.namespace_ + "/" + pod.uid + "/" + (c.init ? "init:" : "") +
         c.name;
}

}  // namespace

double ParseRfc3339(const std::string& text) {
  double t = 0;
  return util::ParseRfc3339Lenient(text, &t) ? t : 0;
}

std::string SignalName(int signal) {
  static const char* kNames[] = {
      "",        "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP",
      "SIGABRT", "SIGBUS",  "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV",
      "SIGUSR2", "SIGPIPE", "SIGALRM",   "SIGTERM", "SIGSTKFLT", "SIGCHLD",
      "SIGCONT", "SIGSTOP", "SIGTSTP",   "SIGTTIN", "SIGTTOU",   "SIGURG",
      "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",  "SIGIO",
      "SIGPWR",  "SIGSYS"};
  if (signal <= 0 || signal > 31) return "";
  return kNames[signal];
}

std::string SignalFromExitCode(int exit_code) {
  if (exit_code <= 128 || exit_code > 159) return "";
  return SignalName(exit_code - 128);
}

std::string EvictionResource(const std::string& message) {
  static const char kMarker[] = "low on resource: ";
  size_t pos = message.find(kMarker);
  if (pos == std::string::npos) return "";
  pos += sizeof(kMarker) - 1;
  size_t end = pos;
  while (end < message.size() &&
         (std::isalnum(static_cast<unsigned char>(message[end])) ||
          message[end] == '-' || message[end] == '_' || message[end] == '/' ||
          message[end] == '.')) {
    ++end;
  }
  // "memory." ends the sentence: drop the trailing dot.
  while (end > pos && message[end - 1] == '.') --end;
  return message.substr(pos, end - pos);
}

void OwnerWorkload(const Value& metadata, std::string* kind,
                   std::string* name) {
  kind->clear();
  name->clear();
  const Value* owners = Member(metadata, "ownerReferences");
  if (owners == nullptr || !owners->IsArray() || owners->Empty()) return;
  const Value* owner = nullptr;
  for (const auto& o : owners->GetArray()) {
    const Value* ctl = Member(o, "controller");
    if (ctl != nullptr && ctl->IsBool() && ctl->GetBool()) owner = &o;
  }
  if (owner == nullptr) owner = &(*owners)[0];
  *kind = GetString(*owner, "kind");
  *name = GetString(*owner, "name");
  if (*kind == "ReplicaSet") {
    std::string hash = PathString(metadata, {"labels", "pod-template-hash"});
    std::string deployment;
    if (StripHash(*name, hash, &deployment)) {
      *kind = "Deployment";
      *name = deployment;
    }
  }
}

bool ParsePodSnapshot(const Value& pod, PodSnapshot* out, std::string* error) {
  *out = PodSnapshot();
  if (!pod.IsObject()) {
    *error = "pod is not a JSON object";
    return false;
  }
  const Value* meta = Member(pod, "metadata");
  if (meta == nullptr || !meta->IsObject()) {
    *error = "pod has no metadata";
    return false;
  }
  out->name = GetString(*meta, "name");
  out->namespace_ = GetString(*meta, "namespace");
  out->uid = GetString(*meta, "uid");
  out->resource_version = GetString(*meta, "resourceVersion");
  if (out->name.empty() || out->namespace_.empty() || out->uid.empty()) {
    *error = "pod metadata lacks name, namespace or uid";
    return false;
  }
  OwnerWorkload(*meta, &out->workload_kind, &out->workload);
  out->project_annotation =
      PathString(*meta, {"annotations", "crashctl.dev/project"});
  const Value* spec = Member(pod, "spec");
  if (spec != nullptr) {
    out->node = GetString(*spec, "nodeName");
    ParseSpecContainers(Member(*spec, "initContainers"), true, out);
    ParseSpecContainers(Member(*spec, "containers"), false, out);
  }
  const Value* status = Member(pod, "status");
  if (status != nullptr) {
    out->phase = GetString(*status, "phase");
    out->reason = GetString(*status, "reason");
    out->message = GetString(*status, "message");
    out->start_time = GetString(*status, "startTime");
    ParseStatuses(Member(*status, "initContainerStatuses"), true, out);
    ParseStatuses(Member(*status, "containerStatuses"), false, out);
    const Value* conds = Member(*status, "conditions");
    if (conds != nullptr && conds->IsArray()) {
      for (const auto& c : conds->GetArray()) {
        std::string t = GetString(c, "lastTransitionTime");
        if (t > out->last_transition) out->last_transition = t;
      }
    }
  }
  return true;
}

bool IsStartFailure(const std::string& reason) {
  static const char* const kReasons[] = {
      "ImagePullBackOff",     "ErrImagePull",      "CreateContainerConfigError",
      "CreateContainerError", "RunContainerError", "InvalidImageName"};
  for (const char* r : kReasons) {
    if (reason == r) return true;
  }
  return false;
}

bool PodIsCrashLooping(const PodSnapshot& pod) {
  for (const auto& c : pod.containers) {
    if (c.waiting_reason == "CrashLoopBackOff") return true;
  }
  return false;
}

std::vector<CrashCandidate> ClassifyPod(const PodSnapshot& pod,
                                        int restart_threshold) {
  std::vector<CrashCandidate> out;
  if (pod.phase == "Failed" && pod.reason == "Evicted") {
    CrashCandidate cand;
    cand.kind = CrashCandidate::kEvicted;
    // "Container app was using 1Gi, request is ..." names the container.
    const ContainerSnapshot* named = nullptr;
    size_t pos = pod.message.find("Container ");
    if (pos != std::string::npos) {
      size_t start = pos + 10;
      size_t end = pod.message.find(' ', start);
      std::string name = pod.message.substr(start, end - start);
      for (const auto& c : pod.containers) {
        if (!c.init && c.name == name) named = &c;
      }
    }
    if (named == nullptr) {
      for (const auto& c : pod.containers) {
        if (!c.init) {
          named = &c;
          break;
        }
      }
    }
    cand.crash = BaseCrash(pod, named);
    cand.crash.crash_type = model::CrashType::kEvicted;
    std::string resource = EvictionResource(pod.message);
    cand.crash.reason =
        resource.empty() ? "Evicted" : "Evicted (" + resource + ")";
    cand.crash.message = pod.message;
    cand.crash.started_at = ParseRfc3339(pod.start_time);
    cand.crash.finished_at = ParseRfc3339(pod.last_transition);
    cand.crash.dedup_key = pod.namespace_ + "/" + pod.uid + "/evicted";
    out.push_back(std::move(cand));
    return out;
  }
  for (const auto& c : pod.containers) {
    const std::string prefix = KeyPrefix(pod, c);
    auto add_termination = [&](const TerminatedState& t, bool last) {
      if (!IsCrashTermination(t)) return;
      CrashCandidate cand;
      cand.kind = CrashCandidate::kTermination;
      cand.in_last_state = last;
      cand.crash = BaseCrash(pod, &c);
      FillFromTermination(t, &cand.crash);
      cand.crash.crash_type = t.reason == "OOMKilled"
                                  ? model::CrashType::kOomKilled
                              : c.init ? model::CrashType::kInitFailed
                                       : model::CrashType::kErrorExit;
      cand.crash.dedup_key =
          prefix + "/exit/" + TerminationIdent(t, c.restart_count);
      cand.logs_container = c.name;
      cand.logs_previous = last;
      cand.term_started_at = cand.crash.started_at;
      cand.term_finished_at = cand.crash.finished_at;
      out.push_back(std::move(cand));
    };
    add_termination(c.terminated, false);
    if (c.last_terminated.present &&
        !(c.terminated.present && TerminationIdent(c.terminated, 0) ==
                                      TerminationIdent(c.last_terminated, 0))) {
      add_termination(c.last_terminated, true);
    }
    if (c.waiting_reason == "CrashLoopBackOff") {
      CrashCandidate cand;
      cand.kind = CrashCandidate::kCrashLoop;
      cand.crash = BaseCrash(pod, &c);
      cand.crash.crash_type = model::CrashType::kCrashLoop;
      if (c.last_terminated.present) {
        FillFromTermination(c.last_terminated, &cand.crash);
      }
      cand.crash.reason = "CrashLoopBackOff";
      if (!c.waiting_message.empty()) cand.crash.message = c.waiting_message;
      // Key of a new episode; CrashRecorder keeps an open episode's key.
      cand.crash.dedup_key =
          prefix + "/crashloop/" +
          (c.last_terminated.present
               ? TerminationIdent(c.last_terminated, c.restart_count)
               : "restart-" + std::to_string(c.restart_count));
      cand.logs_container = c.name;
      cand.logs_previous = true;
      cand.term_started_at = cand.crash.started_at;
      cand.term_finished_at = cand.crash.finished_at;
      out.push_back(std::move(cand));
    }
    if (IsStartFailure(c.waiting_reason)) {
      // One record per episode: the container waits at this restartCount
      // until it starts (ErrImagePull and ImagePullBackOff alternate).
      CrashCandidate cand;
      cand.kind = CrashCandidate::kStartFailed;
      cand.crash = BaseCrash(pod, &c);
      cand.crash.crash_type = model::CrashType::kStartFailed;
      cand.crash.reason = c.waiting_reason;
      cand.crash.message = c.waiting_message;
      cand.crash.started_at = ParseRfc3339(pod.start_time);
      cand.crash.dedup_key =
          prefix + "/start_failed/" + std::to_string(c.restart_count);
      out.push_back(std::move(cand));
    }
    if (restart_threshold > 0 && c.restart_count >= restart_threshold) {
      CrashCandidate cand;
      cand.kind = CrashCandidate::kRestartThreshold;
      cand.crash = BaseCrash(pod, &c);
      cand.crash.crash_type = model::CrashType::kRestartThreshold;
      const TerminatedState& t =
          c.last_terminated.present ? c.last_terminated : c.terminated;
      if (t.present) FillFromTermination(t, &cand.crash);
      cand.crash.reason = "RestartThreshold";
      cand.crash.message = "restartCount " + std::to_string(c.restart_count) +
                           " reached the threshold " +
                           std::to_string(restart_threshold);
      cand.crash.dedup_key =
          prefix + "/restart_threshold/" + std::to_string(restart_threshold);
      cand.logs_container = c.name;
      cand.logs_previous = true;
      cand.term_started_at = cand.crash.started_at;
      cand.term_finished_at = cand.crash.finished_at;
      out.push_back(std::move(cand));
    }
  }
  for (CrashCandidate& cand : out) {
    cand.project_annotation = pod.project_annotation;
  }
  return out;
}

}  // namespace kube
}  // namespace crashctl
