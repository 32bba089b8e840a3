#include "crashctl/ingest/metrics.h"

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

const std::vector<std::string>& Metrics::KnownEnvelopeItemTypes() {
  static const auto* v = new std::vector<std::string>{
      "event",         "transaction", "session",     "sessions",
      "client_report", "attachment",  "check_in",    "profile",
      "replay_event",  "statsd",      "user_report", "other"};
  return *v;
}

Metrics::Metrics(prometheus::Registry* registry,
                 metrics::LabelLimiter* services)
    : services_(services) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;
  auto& r = *registry;
  events_total_ = &BuildCounter()
                       .Name("crashctl_events_total")
                       .Help("Events stored, by project id, level and service.")
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
  ingestion_duration_ =
      &BuildHistogram()
           .Name("crashctl_ingestion_duration_seconds")
           .Help("Time from request received to events committed.")
           .Register(r)
           .Add({}, metrics::LatencyBuckets());
  rejected_ = &BuildCounter()
                   .Name("crashctl_ingest_rejected_total")
                   .Help("Ingestion requests refused, by reason.")
                   .Register(r);
  for (const auto& reason : KnownRejectReasons()) {
    rejected_->Add({{"reason", reason}});
  }
  adjusted_ = &BuildCounter()
                   .Name("crashctl_ingest_adjusted_total")
                   .Help(
                       "Accepted events whose payload was changed before "
                       "storing: nesting cut, secrets scrubbed, timestamp "
                       "replaced.")
                   .Register(r);
  for (const auto& reason : AdjustReasons()) {
    adjusted_->Add({{"reason", reason}});
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
                               .Add({}, metrics::LatencyBuckets());
  storage_up_ = &BuildGauge()
                     .Name("crashctl_storage_up")
                     .Help("1 while storage writes succeed, 0 while they fail.")
                     .Register(r)
                     .Add({});
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

void Metrics::SetStorageUp(bool up) { storage_up_->Set(up ? 1 : 0); }

}  // namespace ingest
}  // namespace crashctl
