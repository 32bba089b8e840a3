// Metrics: families are registered once in the constructor; label values
// are bounded here before they reach prometheus-cpp.
#include "crashctl/exporter/metrics.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <initializer_list>
#include <string_view>
#include <utility>

namespace crashctl {
namespace exporter {
namespace {

// Buckets for request/commit latencies: 0.5 ms .. 5 s.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,  0.5,    1,     2.5,  5};
  return *b;
}

// Buckets for events per write transaction.
const prometheus::Histogram::BucketBoundaries& BatchSizeBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048};
  return *b;
}

// `value` if it is in `known`, else "other".
std::string Bounded(const std::string& value,
                    const std::vector<std::string>& known) {
  return std::find(known.begin(), known.end(), value) != known.end() ? value
                                                                     : "other";
}

std::string NonEmpty(const std::string& value) {
  return value.empty() ? "unknown" : value;
}

// Watches cover one namespace, or all of them when the name is "".
std::string WatchNamespace(const std::string& ns) {
  return ns.empty() ? "all" : ns;
}

std::string MethodLabel(const std::string& method) {
  static const std::vector<std::string> kMethods = {
      "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  return Bounded(method, kMethods);
}

std::string CodeLabel(int code) {
  return code >= 100 && code <= 599 ? std::to_string(code) : "other";
}

// A SeriesCache key: the label values, each followed by 0x1f (the ASCII
// unit separator), in a per-thread buffer, so that no allocation happens
// once the buffer has grown. Only the last value may contain 0x1f (all
// others are bounded labels), so the key determines the values. Valid
// until the calling thread's next call.
std::string_view SeriesKey(std::initializer_list<std::string_view> values) {
  thread_local std::string key;
  key.clear();
  for (std::string_view value : values) {
    key.append(value.data(), value.size());
    key.push_back('\x1f');
  }
  return key;
}

}  // namespace

std::string SafeLabelValue(const std::string& value) {
  constexpr size_t kMaxBytes = 128;
  std::string out;
  out.reserve(std::min(value.size(), kMaxBytes));
  size_t i = 0;
  while (i < value.size()) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    size_t len = 1;
    bool valid = true;
    if (c < 0x80) {
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
    } else {
      valid = false;
    }
    if (valid && i + len > value.size()) valid = false;
    for (size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(value[i + k]) & 0xC0) == 0x80;
    }
    if (valid && len == 3) {
      const unsigned char c1 = static_cast<unsigned char>(value[i + 1]);
      valid = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 > 0x9F);
    } else if (valid && len == 4) {
      const unsigned char c1 = static_cast<unsigned char>(value[i + 1]);
      valid = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 > 0x8F);
    }
    std::string_view piece;
    if (!valid) {
      piece = "\xEF\xBF\xBD";  // U+FFFD
      len = 1;
    } else if (len == 1 && (c < 0x20 || c == 0x7F)) {
      piece = "_";
    } else {
      piece = std::string_view(value.data() + i, len);
    }
    if (out.size() + piece.size() > kMaxBytes) break;
    out.append(piece.data(), piece.size());
    i += len;
  }
  return out;
}

std::string LabelLimiter::Fold(const std::string& raw) {
  const std::string value = SafeLabelValue(raw);
  if (value.empty()) return "unknown";
  std::lock_guard<std::mutex> lock(mu_);
  if (seen_.count(value)) return value;
  if (seen_.size() < max_) {
    seen_.insert(value);
    return value;
  }
  return "other";
}

const std::vector<std::string>& Metrics::KnownRejectReasons() {
  static const auto* v = new std::vector<std::string>{"malformed_json",
                                                      "bad_envelope",
                                                      "auth",
                                                      "unknown_project",
                                                      "too_large",
                                                      "decompression",
                                                      "queue_full",
                                                      "storage",
                                                      "unsupported_encoding",
                                                      "rate_limited",
                                                      "timeout",
                                                      "too_slow",
                                                      "incomplete",
                                                      "framing",
                                                      "connection_limit",
                                                      "other"};
  return *v;
}

const std::vector<std::string>& Metrics::KnownHttpRefusedReasons() {
  static const auto* v = new std::vector<std::string>{
      "framing",     "timeout",           "too_slow",       "incomplete",
      "too_large",   "headers_too_large", "header_timeout", "malformed",
      "bad_version", "connection_limit",  "other"};
  return *v;
}

const std::vector<std::string>& Metrics::KnownEnvelopeItemTypes() {
  static const auto* v = new std::vector<std::string>{
      "event",         "transaction", "session",     "sessions",
      "client_report", "attachment",  "check_in",    "profile",
      "replay_event",  "statsd",      "user_report", "other"};
  return *v;
}

const std::vector<std::string>& Metrics::KnownCrashTypes() {
  static const auto* v = new std::vector<std::string>{
      "oom_killed", "crash_loop",        "init_failed",
      "evicted",    "restart_threshold", "error_exit"};
  return *v;
}

const std::vector<std::string>& Metrics::KnownLevels() {
  static const auto* v = new std::vector<std::string>{
      "fatal", "error", "warning", "info", "debug", "other"};
  return *v;
}

const std::vector<std::string>& Metrics::KnownGroupStatuses() {
  static const auto* v = new std::vector<std::string>{"unresolved", "resolved",
                                                      "ignored", "other"};
  return *v;
}

const std::vector<std::string>& Metrics::KnownAlertOutcomes() {
  static const auto* v = new std::vector<std::string>{
      "sent", "failed", "retried", "dropped", "suppressed", "other"};
  return *v;
}

const std::vector<std::string>& Metrics::KnownWatchRestartReasons() {
  static const auto* v = new std::vector<std::string>{
      "expired", "closed", "error", "timeout", "other"};
  return *v;
}

Metrics::Metrics(const Options& options)
    : registry_(std::make_shared<prometheus::Registry>()),
      services_(options.max_services) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;
  auto& r = *registry_;

  // Events and groups.
  events_total_ = &BuildCounter()
                       .Name("crashctl_events_total")
                       .Help("Events stored, by project id, level and service.")
                       .Register(r);
  groups_active_ = &BuildGauge()
                        .Name("crashctl_groups_active")
                        .Help("Error groups by project id and status.")
                        .Register(r);
  groups_created_ = &BuildCounter()
                         .Name("crashctl_groups_created_total")
                         .Help("New error groups created, by project id.")
                         .Register(r);
  group_regressions_ =
      &BuildCounter()
           .Name("crashctl_group_regressions_total")
           .Help("Resolved groups reopened by a new event, by project id.")
           .Register(r);

  // Ingestion.
  ingestion_duration_ =
      &BuildHistogram()
           .Name("crashctl_ingestion_duration_seconds")
           .Help("Time from request received to events committed.")
           .Register(r)
           .Add({}, LatencyBuckets());
  ingest_rejected_ = &BuildCounter()
                          .Name("crashctl_ingest_rejected_total")
                          .Help("Ingestion requests refused, by reason.")
                          .Register(r);
  for (const auto& reason : KnownRejectReasons()) {
    ingest_rejected_->Add({{"reason", reason}});
  }
  ingest_adjusted_ =
      &BuildCounter()
           .Name("crashctl_ingest_adjusted_total")
           .Help(
               "Accepted events whose payload was changed before storing: "
               "nesting cut, secrets scrubbed, timestamp replaced.")
           .Register(r);
  for (const char* reason :
       {"depth_limit", "scrubbed", "future_timestamp", "past_timestamp"}) {
    ingest_adjusted_->Add({{"reason", reason}});
  }
  envelope_items_ = &BuildCounter()
                         .Name("crashctl_envelope_items_total")
                         .Help("Envelope items received, by item type.")
                         .Register(r);
  for (const auto& type : KnownEnvelopeItemTypes()) {
    envelope_items_->Add({{"type", type}});
  }
  queue_depth_ = &BuildGauge()
                      .Name("crashctl_ingest_queue_depth")
                      .Help("Events waiting for the writer thread.")
                      .Register(r)
                      .Add({});
  queue_capacity_ = &BuildGauge()
                         .Name("crashctl_ingest_queue_capacity")
                         .Help("Capacity of the ingestion queue.")
                         .Register(r)
                         .Add({});
  write_batch_size_ = &BuildHistogram()
                           .Name("crashctl_write_batch_size")
                           .Help("Events per write transaction.")
                           .Register(r)
                           .Add({}, BatchSizeBuckets());
  write_batch_duration_ = &BuildHistogram()
                               .Name("crashctl_write_batch_duration_seconds")
                               .Help("Duration of one write transaction.")
                               .Register(r)
                               .Add({}, LatencyBuckets());

  // Storage.
  storage_size_ = &BuildGauge()
                       .Name("crashctl_storage_size_bytes")
                       .Help("Size of the SQLite database files on disk.")
                       .Register(r)
                       .Add({});
  group_counters_pending_ =
      &BuildGauge()
           .Name("crashctl_group_counters_pending")
           .Help(
               "Groups whose counters wait in memory to be written (at most "
               "a second, or until a read of groups).")
           .Register(r)
           .Add({});
  storage_busy_retries_ = &BuildCounter()
                               .Name("crashctl_storage_busy_retries_total")
                               .Help("SQLite SQLITE_BUSY retries.")
                               .Register(r)
                               .Add({});
  storage_up_ = &BuildGauge()
                     .Name("crashctl_storage_up")
                     .Help("1 while storage writes succeed, 0 while they fail.")
                     .Register(r)
                     .Add({});
  storage_up_->Set(1);
  retention_deleted_ = &BuildCounter()
                            .Name("crashctl_retention_deleted_events_total")
                            .Help("Events deleted by retention.")
                            .Register(r)
                            .Add({});

  // HTTP.
  http_requests_ =
      &BuildCounter()
           .Name("crashctl_http_requests_total")
           .Help("HTTP requests by route pattern, method and status.")
           .Register(r);
  http_refused_ =
      &BuildCounter()
           .Name("crashctl_http_refused_total")
           .Help(
               "HTTP requests refused before their handler ran (framing, "
               "timeouts, sizes, connection limits), by reason.")
           .Register(r);
  for (const auto& reason : KnownHttpRefusedReasons()) {
    http_refused_->Add({{"reason", reason}});
  }
  http_duration_ = &BuildHistogram()
                        .Name("crashctl_http_request_duration_seconds")
                        .Help("HTTP request duration by route pattern.")
                        .Register(r);

  // Kubernetes.
  pod_crashes_ = &BuildCounter()
                      .Name("crashctl_pod_crashes_total")
                      .Help("Pod crashes seen, by namespace and crash type.")
                      .Register(r);
  pods_crashlooping_ =
      &BuildGauge()
           .Name("crashctl_pods_crashlooping")
           .Help("Pods currently in CrashLoopBackOff, by namespace.")
           .Register(r);
  kube_watch_up_ =
      &BuildGauge()
           .Name("crashctl_kube_watch_up")
           .Help("1 while the pod watch of a namespace is connected.")
           .Register(r);
  kube_watch_restarts_ =
      &BuildCounter()
           .Name("crashctl_kube_watch_restarts_total")
           .Help("Pod watch restarts, by namespace and reason.")
           .Register(r);
  kube_last_event_ =
      &BuildGauge()
           .Name("crashctl_kube_last_event_timestamp_seconds")
           .Help("Unix time of the last pod event received from Kubernetes.")
           .Register(r)
           .Add({});

  // Alerting.
  alert_pushes_ = &BuildCounter()
                       .Name("crashctl_alert_pushes_total")
                       .Help("Alertmanager pushes, by outcome.")
                       .Register(r);
  for (const auto& outcome : KnownAlertOutcomes()) {
    alert_pushes_->Add({{"outcome", outcome}});
  }
  alert_queue_depth_ = &BuildGauge()
                            .Name("crashctl_alert_queue_depth")
                            .Help("Alerts waiting to be pushed.")
                            .Register(r)
                            .Add({});
  alert_queue_capacity_ = &BuildGauge()
                               .Name("crashctl_alert_queue_capacity")
                               .Help("Capacity of the alert queue.")
                               .Register(r)
                               .Add({});

  build_info_ = &BuildGauge()
                     .Name("crashctl_build_info")
                     .Help("Always 1; the version label names the build.")
                     .Register(r);
  build_info_->Add({{"version", NonEmpty(options.version)}}).Set(1);
}

std::string Metrics::Serialize() {
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard<std::mutex> lock(hooks_mu_);
    hooks = hooks_;
  }
  for (const auto& hook : hooks) hook();

  std::vector<prometheus::MetricFamily> families = registry_->Collect();

  // crashctl_group_events_total is a snapshot of counts owned by the store:
  // prometheus-cpp counters can only be incremented, so the family is built
  // here as a counter-typed MetricFamily from the latest snapshot.
  std::vector<TopGroup> top;
  {
    std::lock_guard<std::mutex> lock(top_mu_);
    top = top_groups_;
  }
  if (!top.empty()) {
    prometheus::MetricFamily family;
    family.name = "crashctl_group_events_total";
    family.help =
        "Lifetime events of the most active groups (top N of the last hour).";
    family.type = prometheus::MetricType::Counter;
    for (const auto& g : top) {
      prometheus::ClientMetric m;
      m.label = {{"group_id", std::to_string(g.group_id)},
                 {"project", std::to_string(g.project)},
                 {"service", services_.Fold(g.service)}};
      m.counter.value = g.events_total;
      family.metric.push_back(std::move(m));
    }
    families.push_back(std::move(family));
  }
  return prometheus::TextSerializer().Serialize(families);
}

void Metrics::AddRefreshHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(hooks_mu_);
  hooks_.push_back(std::move(hook));
}

void Metrics::EventStored(int64_t project, const std::string& level,
                          const std::string& service) {
  const std::string id = std::to_string(project);
  const std::string bounded_level = Bounded(level, KnownLevels());
  const std::string folded_service = services_.Fold(service);
  events_by_key_
      .Get(SeriesKey({id, bounded_level, folded_service}),
           [&]() -> prometheus::Counter& {
             return events_total_->Add({{"project", id},
                                        {"level", bounded_level},
                                        {"service", folded_service}});
           })
      .Increment();
}

void Metrics::ProjectKnown(int64_t project) {
  const std::string id = std::to_string(project);
  groups_created_->Add({{"project", id}});
  group_regressions_->Add({{"project", id}});
}

void Metrics::GroupCreated(int64_t project) {
  groups_created_->Add({{"project", std::to_string(project)}}).Increment();
}

void Metrics::GroupRegressed(int64_t project) {
  group_regressions_->Add({{"project", std::to_string(project)}}).Increment();
}

void Metrics::SetGroupsActive(int64_t project, const std::string& status,
                              double value) {
  groups_active_
      ->Add({{"project", std::to_string(project)},
             {"status", Bounded(status, KnownGroupStatuses())}})
      .Set(value);
}

void Metrics::ObserveIngestion(double seconds) {
  ingestion_duration_->Observe(seconds);
}

void Metrics::IngestRejected(const std::string& reason) {
  ingest_rejected_->Add({{"reason", Bounded(reason, KnownRejectReasons())}})
      .Increment();
}

void Metrics::IngestAdjusted(const std::string& reason) {
  static const std::vector<std::string> kReasons = {
      "depth_limit", "scrubbed", "future_timestamp", "past_timestamp"};
  ingest_adjusted_->Add({{"reason", Bounded(reason, kReasons)}}).Increment();
}

void Metrics::EnvelopeItem(const std::string& item_type) {
  const std::string type = Bounded(item_type, KnownEnvelopeItemTypes());
  envelope_items_by_type_
      .Get(type,
           [&]() -> prometheus::Counter& {
             return envelope_items_->Add({{"type", type}});
           })
      .Increment();
}

void Metrics::SetQueue(double depth, double capacity) {
  queue_depth_->Set(depth);
  queue_capacity_->Set(capacity);
}

void Metrics::ObserveWriteBatch(double events, double seconds) {
  write_batch_size_->Observe(events);
  write_batch_duration_->Observe(seconds);
}

void Metrics::SetStorageSize(double bytes) { storage_size_->Set(bytes); }

void Metrics::SetGroupCountersPending(double groups) {
  group_counters_pending_->Set(groups);
}

void Metrics::SetStorageBusyRetries(double total) {
  std::lock_guard<std::mutex> lock(busy_mu_);
  // A total lower than before (e.g. the store was reopened) restarts the
  // baseline; the counter itself never goes down.
  if (total > busy_retries_seen_) {
    storage_busy_retries_->Increment(total - busy_retries_seen_);
  }
  busy_retries_seen_ = total;
}

void Metrics::SetStorageUp(bool up) { storage_up_->Set(up ? 1 : 0); }

void Metrics::RetentionDeleted(double rows) {
  if (rows > 0) retention_deleted_->Increment(rows);
}

void Metrics::HttpRequest(const std::string& route, const std::string& method,
                          int code, double seconds) {
  const std::string_view r =
      route.empty() ? std::string_view("unknown") : std::string_view(route);
  const std::string method_label = MethodLabel(method);
  const std::string code_label = CodeLabel(code);
  http_requests_by_key_
      .Get(SeriesKey({method_label, code_label, r}),
           [&]() -> prometheus::Counter& {
             return http_requests_->Add({{"route", std::string(r)},
                                         {"method", method_label},
                                         {"code", code_label}});
           })
      .Increment();
  http_duration_by_route_
      .Get(r,
           [&]() -> prometheus::Histogram& {
             return http_duration_->Add({{"route", std::string(r)}},
                                        LatencyBuckets());
           })
      .Observe(seconds);
}

void Metrics::HttpRefused(const std::string& reason) {
  http_refused_->Add({{"reason", Bounded(reason, KnownHttpRefusedReasons())}})
      .Increment();
}

void Metrics::PodCrash(const std::string& ns, const std::string& crash_type) {
  const auto& known = KnownCrashTypes();
  const std::string type =
      std::find(known.begin(), known.end(), crash_type) != known.end()
          ? crash_type
          : "error_exit";
  pod_crashes_->Add({{"namespace", NonEmpty(ns)}, {"crash_type", type}})
      .Increment();
}

void Metrics::SetPodsCrashLooping(const std::string& ns, double value) {
  pods_crashlooping_->Add({{"namespace", NonEmpty(ns)}}).Set(value);
}

void Metrics::SetKubeWatchUp(const std::string& ns, bool up) {
  kube_watch_up_->Add({{"namespace", WatchNamespace(ns)}}).Set(up ? 1 : 0);
}

void Metrics::KubeWatchRestart(const std::string& ns,
                               const std::string& reason) {
  kube_watch_restarts_
      ->Add({{"namespace", WatchNamespace(ns)},
             {"reason", Bounded(reason, KnownWatchRestartReasons())}})
      .Increment();
}

void Metrics::SetKubeLastEvent(double timestamp) {
  kube_last_event_->Set(timestamp);
}

void Metrics::AlertPush(const std::string& outcome) {
  alert_pushes_->Add({{"outcome", Bounded(outcome, KnownAlertOutcomes())}})
      .Increment();
}

void Metrics::SetAlertQueue(double depth, double capacity) {
  alert_queue_depth_->Set(depth);
  alert_queue_capacity_->Set(capacity);
}

void Metrics::SetTopGroups(const std::vector<TopGroup>& groups) {
  // Bounded even if a caller passes a huge snapshot.
  constexpr size_t kMaxTopGroups = 1000;
  std::vector<TopGroup> copy(
      groups.begin(), groups.begin() + std::min(groups.size(), kMaxTopGroups));
  std::lock_guard<std::mutex> lock(top_mu_);
  top_groups_ = std::move(copy);
}

}  // namespace exporter
}  // namespace crashctl
