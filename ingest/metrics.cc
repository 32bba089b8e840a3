#include "crashctl/ingest/metrics.h"

#include "crashctl/metrics/families.h"

namespace crashctl {
namespace ingest {
namespace {

// Buckets for events per write transaction.
const prometheus::Histogram::BucketBoundaries& BatchSizeBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048};
  return *b;
}

const std::vector<std::string>& AdjustReasons() {
  static const auto* v = new std::vector<std::string>{
      "depth_limit", "scrubbed", "future_timestamp", "past_timestamp"};
  return *v;
}

}  // namespace

const std::vector<std::string>& Metrics::KnownRejectReasons() {
  static const auto* v = new std::vector<std::string>{"malformed_json",
                                                      "bad_envelope",
                                                      "auth",
                                                      "key_disabled",
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
                                                      "invalid_transaction",
                                                      "invalid_session",
                                                      "invalid_client_report",
                                                      "invalid_check_in",
                                                      "invalid_attachment",
                                                      "invalid_feedback",
                                                      "too_many_monitors",
                                                      "other"};
  return *v;
}

const std::vector<std::string>& Metrics::KnownEnvelopeItemTypes() {
  static const auto* v = new std::vector<std::string>{
      "event",       "transaction", "session", "sessions",     "client_report",
      "attachment",  "check_in",    "profile", "replay_event", "statsd",
      "user_report", "feedback",    "other"};
  return *v;
}

Metrics::Metrics(prometheus::Registry* registry,
                 metrics::LabelLimiter* services)
    : services_(services) {
  using metrics::CounterFamily;
  events_total_ =
      &CounterFamily(registry, "crashctl_events_total",
                     "Events stored, by project id, level and service.");
  groups_created_ = &CounterFamily(registry, "crashctl_groups_created_total",
                                   "New error groups created, by project id.");
  group_regressions_ =
      &CounterFamily(registry, "crashctl_group_regressions_total",
                     "Resolved groups reopened by a new event, by project id.");
  ingestion_duration_ =
      &metrics::Histogram(registry, "crashctl_ingestion_duration_seconds",
                          "Time from request received to events committed.",
                          metrics::LatencyBuckets());
  rejected_ = &CounterFamily(registry, "crashctl_ingest_rejected_total",
                             "Ingestion requests refused, by reason.", "reason",
                             KnownRejectReasons());
  adjusted_ = &CounterFamily(
      registry, "crashctl_ingest_adjusted_total",
      "Accepted events whose payload was changed before storing: nesting "
      "cut, secrets scrubbed, timestamp replaced.",
      "reason", AdjustReasons());
  sdk_discarded_ = &CounterFamily(
      registry, "crashctl_sdk_discarded_events_total",
      "Items the SDKs dropped before sending, from their client reports "
      "(reason, category: closed sets, docs/release-health.md).");
  attachments_stored_ =
      &CounterFamily(registry, "crashctl_attachments_stored_total",
                     "Envelope attachments stored with their events.");
  attachment_bytes_ =
      &CounterFamily(registry, "crashctl_attachment_bytes_total",
                     "Bytes of the envelope attachments stored.");
  feedback_ =
      &CounterFamily(registry, "crashctl_feedback_total",
                     "User feedback stored, by kind (user_report, feedback).");
  envelope_items_ = &CounterFamily(registry, "crashctl_envelope_items_total",
                                   "Envelope items received, by item type.",
                                   "type", KnownEnvelopeItemTypes());
  queue_depth_ = &metrics::Gauge(registry, "crashctl_ingest_queue_depth",
                                 "Events waiting for the writer thread.");
  queue_capacity_ = &metrics::Gauge(registry, "crashctl_ingest_queue_capacity",
                                    "Capacity of the ingestion queue.");
  write_batch_size_ =
      &metrics::Histogram(registry, "crashctl_write_batch_size",
                          "Events per write transaction.", BatchSizeBuckets());
  write_batch_duration_ = &metrics::Histogram(
      registry, "crashctl_write_batch_duration_seconds",
      "Duration of one write transaction.", metrics::LatencyBuckets());
  storage_up_ =
      &metrics::Gauge(registry, "crashctl_storage_up",
                      "1 while storage writes succeed, 0 while they fail.");
  storage_up_->Set(1);
}

void Metrics::EventStored(int64_t project, model::Level level,
                          const std::string& service) {
  const std::string id = std::to_string(project);
  const std::string_view level_label = model::ToString(level);
  const std::string folded_service = services_->Fold(service);
  events_by_key_
      .Get(metrics::SeriesKey({id, level_label, folded_service}),
           [&]() -> prometheus::Counter& {
             return events_total_->Add({{"project", id},
                                        {"level", std::string(level_label)},
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

void Metrics::ObserveIngestion(double seconds) {
  ingestion_duration_->Observe(seconds);
}

void Metrics::Rejected(const std::string& reason) {
  rejected_->Add({{"reason", metrics::Bounded(reason, KnownRejectReasons())}})
      .Increment();
}

void Metrics::Adjusted(const std::string& reason) {
  adjusted_->Add({{"reason", metrics::Bounded(reason, AdjustReasons())}})
      .Increment();
}

void Metrics::EnvelopeItem(const std::string& item_type) {
  const std::string type =
      metrics::Bounded(item_type, KnownEnvelopeItemTypes());
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

void Metrics::SdkDiscarded(int64_t project, const std::string& reason,
                           const std::string& category, double quantity) {
  sdk_discarded_
      ->Add({{"project", std::to_string(project)},
             {"reason", reason},
             {"category", category}})
      .Increment(quantity);
}

void Metrics::AttachmentStored(int64_t project, double bytes) {
  const std::string id = std::to_string(project);
  attachments_stored_->Add({{"project", id}}).Increment();
  attachment_bytes_->Add({{"project", id}}).Increment(bytes);
}

void Metrics::FeedbackStored(int64_t project, const std::string& kind) {
  // kind comes from crashctl's own closed set, never from the request.
  feedback_->Add({{"project", std::to_string(project)}, {"kind", kind}})
      .Increment();
}

void Metrics::SetStorageUp(bool up) { storage_up_->Set(up ? 1 : 0); }

}  // namespace ingest
}  // namespace crashctl
