// Ingestion's metric families: events stored, groups created and regressed,
// requests refused and payloads adjusted, envelope items by type, the queue,
// the write batches and whether storage writes succeed.
//
// Thread-safety: all methods may be called concurrently.
#ifndef CRASHCTL_INGEST_METRICS_H_
#define CRASHCTL_INGEST_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <string>
#include <vector>

#include "crashctl/metrics/labels.h"
#include "crashctl/metrics/series_cache.h"
#include "crashctl/model/vocabulary.h"

namespace crashctl {
namespace ingest {

class Metrics {
 public:
  // Registers the families on `registry`; `services` folds the service
  // label (shared with the other families that carry one). Both must
  // outlive this object.
  Metrics(prometheus::Registry* registry, metrics::LabelLimiter* services);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // --- events, groups -----------------------------------------------------
  void EventStored(int64_t project, model::Level level,
                   const std::string& service);
  // Creates the per-project counter series at 0, so that rate() and
  // increase() see a project's first new group or regression.
  void ProjectKnown(int64_t project);
  void GroupCreated(int64_t project);
  void GroupRegressed(int64_t project);
  // --- requests -------------------------------------------------------------
  void ObserveIngestion(double seconds);  // request received -> committed
  // One of KnownRejectReasons(), else counted as "other".
  void Rejected(const std::string& reason);
  // An accepted event whose payload was changed before it was stored:
  // depth_limit, scrubbed, future_timestamp, past_timestamp.
  void Adjusted(const std::string& reason);
  // Every envelope item, by its type (unknown types: "other").
  void EnvelopeItem(const std::string& item_type);
  // crashctl_sdk_discarded_events_total from a client report; `reason` and
  // `category` already folded into their closed sets
  // (releases::FoldDiscardReason, FoldDataCategory).
  void SdkDiscarded(int64_t project, const std::string& reason,
                    const std::string& category, double quantity);
  // crashctl_attachments_stored_total{project} and
  // crashctl_attachment_bytes_total{project}: an attachment committed.
  void AttachmentStored(int64_t project, double bytes);
  // crashctl_feedback_total{project,kind}: kind user_report | feedback.
  void FeedbackStored(int64_t project, const std::string& kind);
  // --- the write path -------------------------------------------------------
  void SetQueue(double depth, double capacity);
  void ObserveWriteBatch(double events, double seconds);
  void SetStorageUp(bool up);  // false while writes fail (disk full, ...)

  // malformed_json, bad_envelope, auth, unknown_project, too_large,
  // decompression, queue_full, storage, unsupported_encoding, rate_limited,
  // timeout, too_slow, incomplete, framing, connection_limit,
  // invalid_transaction, invalid_session, invalid_client_report,
  // invalid_check_in, invalid_attachment, invalid_feedback,
  // too_many_monitors, other.
  static const std::vector<std::string>& KnownRejectReasons();
  static const std::vector<std::string>& KnownEnvelopeItemTypes();

 private:
  metrics::LabelLimiter* services_;
  prometheus::Family<prometheus::Counter>* events_total_;
  metrics::SeriesCache<prometheus::Counter> events_by_key_;
  metrics::SeriesCache<prometheus::Counter> envelope_items_by_type_;
  prometheus::Family<prometheus::Counter>* groups_created_;
  prometheus::Family<prometheus::Counter>* group_regressions_;
  prometheus::Histogram* ingestion_duration_;
  prometheus::Family<prometheus::Counter>* rejected_;
  prometheus::Family<prometheus::Counter>* envelope_items_;
  prometheus::Family<prometheus::Counter>* sdk_discarded_;
  prometheus::Family<prometheus::Counter>* attachments_stored_;
  prometheus::Family<prometheus::Counter>* attachment_bytes_;
  prometheus::Family<prometheus::Counter>* feedback_;
  prometheus::Family<prometheus::Counter>* adjusted_;
  prometheus::Gauge* queue_depth_;
  prometheus::Gauge* queue_capacity_;
  prometheus::Histogram* write_batch_size_;
  prometheus::Histogram* write_batch_duration_;
  prometheus::Gauge* storage_up_;
};

}  // namespace ingest
}  // namespace crashctl

#endif  // CRASHCTL_INGEST_METRICS_H_
