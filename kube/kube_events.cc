#include "kube_events.h"

#include <algorithm>

#include "crashctl/util/strings.h"
#include "json_fields.h"
#include "pod_classifier.h"

namespace crashctl {
namespace kube {
namespace {

using rapidjson::Value;

using json::GetInt;
using json::GetString;
using json::Member;

// "spec.containers{app}" -> "app".
std::string FieldPathContainer(const std::string& path) {
  for (const char* prefix : {"spec.containers{", "spec.initContainers{",
                             "spec.ephemeralContainers{"}) {
    if (util::StartsWith(path, prefix) && util::EndsWith(path, "}")) {
      size_t start = std::char_traits<char>::length(prefix);
      return path.substr(start, path.size() - start - 1);
    }
  }
  return "";
}

}  // namespace

bool ParseKubeEvent(const Value& obj, KubeEvent* out, std::string* error) {
  *out = KubeEvent();
  const Value* meta = Member(obj, "metadata");
  const Value* involved = Member(obj, "involvedObject");
  if (meta == nullptr || involved == nullptr || !involved->IsObject()) {
    *error = "event without metadata or involvedObject";
    return false;
  }
  out->namespace_ = GetString(*meta, "namespace");
  out->name = GetString(*meta, "name");
  out->uid = GetString(*meta, "uid");
  out->resource_version = GetString(*meta, "resourceVersion");
  out->involved_kind = GetString(*involved, "kind");
  out->involved_namespace = GetString(*involved, "namespace");
  out->involved_name = GetString(*involved, "name");
  out->involved_uid = GetString(*involved, "uid");
  out->field_path = GetString(*involved, "fieldPath");
  out->container = FieldPathContainer(out->field_path);
  if (out->name.empty() || out->involved_kind.empty() ||
      out->involved_name.empty()) {
    *error = "event lacks metadata.name or involvedObject kind/name";
    return false;
  }
  if (out->involved_namespace.empty() && out->involved_kind == "Pod") {
    out->involved_namespace = out->namespace_;
  }
  out->reason = GetString(obj, "reason");
  out->message = GetString(obj, "message");
  out->type = GetString(obj, "type");
  const Value* series = Member(obj, "series");
  int count = GetInt(obj, "count");
  if (series != nullptr && GetInt(*series, "count") > count) {
    count = GetInt(*series, "count");
  }
  out->count = count > 0 ? count : 1;
  const double event_time = ParseRfc3339(GetString(obj, "eventTime"));
  out->first = ParseRfc3339(GetString(obj, "firstTimestamp"));
  if (out->first == 0) out->first = event_time;
  out->last = ParseRfc3339(GetString(obj, "lastTimestamp"));
  if (series != nullptr) {
    out->last = std::max(out->last,
                         ParseRfc3339(GetString(*series, "lastObservedTime")));
  }
  if (out->last == 0) out->last = event_time;
  if (out->last == 0) out->last = out->first;
  if (out->first == 0) out->first = out->last;
  const Value* source = Member(obj, "source");
  if (source != nullptr) out->source = GetString(*source, "component");
  if (out->source.empty()) out->source = GetString(obj, "reportingComponent");
  return true;
}

std::string ProbeKill(const KubeEvent& ev) {
  if (ev.reason != "Killing" || ev.involved_kind != "Pod") return "";
  if (ev.message.find("failed liveness probe") != std::string::npos) {
    return "liveness";
  }
  if (ev.message.find("failed startup probe") != std::string::npos) {
    return "startup";
  }
  return "";
}

std::string ProbeFailure(const KubeEvent& ev) {
  if (ev.reason != "Unhealthy" || ev.involved_kind != "Pod") return "";
  if (util::StartsWith(ev.message, "Liveness probe failed")) return "liveness";
  if (util::StartsWith(ev.message, "Startup probe failed")) return "startup";
  return "";
}

std::string EventContainer(const KubeEvent& ev) {
  if (!ev.container.empty()) return ev.container;
  static const char kMarker[] = "Container ";
  if (!util::StartsWith(ev.message, kMarker)) return "";
  size_t start = sizeof(kMarker) - 1;
  size_t end = ev.message.find(' ', start);
  return ev.message.substr(
      start, end == std::string::npos ? std::string::npos : end - start);
}

bool IsPressureEvent(const KubeEvent& ev) {
  if (ev.involved_kind == "Pod") return ev.reason == "Evicted";
  if (ev.involved_kind != "Node") return false;
  static const char* const kReasons[] = {
      "EvictionThresholdMet", "SystemOOM",
      "OOMKilling",           "NodeHasInsufficientMemory",
      "NodeHasDiskPressure",  "NodeHasInsufficientPID"};
  for (const char* r : kReasons) {
    if (ev.reason == r) return true;
  }
  return false;
}

bool IsInteresting(const KubeEvent& ev) {
  return !ProbeKill(ev).empty() || !ProbeFailure(ev).empty() ||
         IsPressureEvent(ev);
}

std::string KubeEventCache::ObjectKey(const std::string& kind,
                                      const std::string& ns,
                                      const std::string& name) {
  return kind + "/" + (kind == "Node" ? "" : ns) + "/" + name;
}

bool KubeEventCache::Add(const KubeEvent& ev, int64_t* dropped) {
  const std::string key =
      ObjectKey(ev.involved_kind, ev.involved_namespace, ev.involved_name);
  auto& entries = objects_[key];
  const std::string id =
      ev.uid.empty() ? ev.namespace_ + "/" + ev.name : ev.uid;
  auto it = entries.find(id);
  bool changed = false;
  if (it == entries.end()) {
    if (entries.size() >= kMaxPerObject) {
      // The object's oldest event makes room.
      auto oldest = entries.begin();
      for (auto e = entries.begin(); e != entries.end(); ++e) {
        if (e->second.event.last < oldest->second.event.last) oldest = e;
      }
      entries.erase(oldest);
      --size_;
      ++*dropped;
    }
    Entry entry;
    entry.event = ev;
    entry.occurrences.push_back(ev.first);
    if (ev.last != ev.first) entry.occurrences.push_back(ev.last);
    entries.emplace(id, std::move(entry));
    ++size_;
    changed = true;
  } else {
    Entry& entry = it->second;
    changed = ev.count > entry.event.count || ev.last > entry.event.last;
    if (ev.last > entry.event.last) {
      entry.occurrences.push_back(ev.last);
      if (entry.occurrences.size() > kMaxOccurrences) {
        entry.occurrences.erase(entry.occurrences.begin());
      }
    }
    if (changed || ev.resource_version != entry.event.resource_version) {
      entry.event = ev;
    }
  }
  while (size_ > max_entries_ && !objects_.empty()) {
    // The object whose latest event is oldest goes (never the one just
    // added while another remains).
    auto victim = objects_.end();
    double victim_last = 0;
    for (auto o = objects_.begin(); o != objects_.end(); ++o) {
      if (o->first == key && objects_.size() > 1) continue;
      double last = 0;
      for (const auto& e : o->second)
        last = std::max(last, e.second.event.last);
      if (victim == objects_.end() || last < victim_last) {
        victim = o;
        victim_last = last;
      }
    }
    size_ -= victim->second.size();
    *dropped += static_cast<int64_t>(victim->second.size());
    objects_.erase(victim);
  }
  return changed;
}

void KubeEventCache::Remove(const KubeEvent& ev) {
  auto o = objects_.find(
      ObjectKey(ev.involved_kind, ev.involved_namespace, ev.involved_name));
  if (o == objects_.end()) return;
  const std::string id =
      ev.uid.empty() ? ev.namespace_ + "/" + ev.name : ev.uid;
  size_ -= o->second.erase(id);
  if (o->second.empty()) objects_.erase(o);
}

std::vector<const KubeEventCache::Entry*> KubeEventCache::For(
    const std::string& kind, const std::string& ns,
    const std::string& name) const {
  std::vector<const Entry*> out;
  auto o = objects_.find(ObjectKey(kind, ns, name));
  if (o == objects_.end()) return out;
  for (const auto& e : o->second) out.push_back(&e.second);
  return out;
}

bool KubeEventCache::OccursIn(const Entry& entry, double from, double to) {
  for (double t : entry.occurrences) {
    if (t >= from && t <= to) return true;
  }
  if (static_cast<size_t>(entry.event.count) > entry.occurrences.size()) {
    return entry.event.first <= to && entry.event.last >= from;
  }
  return false;
}

}  // namespace kube
}  // namespace crashctl
