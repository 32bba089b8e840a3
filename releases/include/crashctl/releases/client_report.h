// Sentry `client_report` envelope items: what SDKs dropped before sending,
// as rows for crashctl_sdk_discarded_events_total{project,reason,category}.
// docs/release-health.md, "Client reports".
//
// Contract:
// - ParseClientReport never throws; bad input returns Status::Invalid (or
//   TooLarge) naming the field, fit for a 400 answer.
// - Reasons and categories are folded into closed sets (unknown -> "other"),
//   so every row's labels come from a fixed, small set of values.
// - Rows with the same (reason, category) are merged (quantities added,
//   saturating); rows with quantity 0 are dropped.
//
// Thread-safety: pure functions, reentrant.
#ifndef CRASHCTL_RELEASES_CLIENT_REPORT_H_
#define CRASHCTL_RELEASES_CLIENT_REPORT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crashctl/util/status.h"

namespace crashctl::releases {

// Outcome entries per report (all four lists together); more is TooLarge.
inline constexpr size_t kMaxClientReportEntries = 1000;
inline constexpr size_t kMaxClientReportBytes = 256 * 1024;

struct DiscardedRow {
  // The label values. For `discarded_events`: the discard reason folded into
  // DiscardReasons() (else "other"). For the outcome lists only relays send
  // (their reasons are quota and filter names, an open set): the outcome,
  // "rate_limited", "filtered" or "filtered_sampling".
  std::string reason;
  std::string category;  // folded into DataCategories(), else "other"
  uint64_t quantity = 0;
};

struct ClientReport {
  std::optional<double> timestamp;  // epoch seconds, when sent
  std::vector<DiscardedRow> rows;   // sorted by (reason, category)
};

Status ParseClientReport(std::string_view json, ClientReport* out);

// The closed sets (Sentry's SDK developer docs and @sentry/core's types).
// Discard reasons: queue_overflow, cache_overflow, buffer_overflow,
// ratelimit_backoff, network_error, sample_rate, before_send,
// event_processor, send_error, internal_sdk_error, insufficient_data,
// backpressure, ignored, invalid, no_parent_span.
const std::vector<std::string_view>& DiscardReasons();
// Data categories: default, error, transaction, security, attachment,
// session, profile, profile_chunk, replay, monitor, span, log_item, log_byte,
// feedback, metric_bucket, trace_metric, internal.
const std::vector<std::string_view>& DataCategories();

// `reason` (exact, lower-case) if it is in DiscardReasons(), else "other".
std::string_view FoldDiscardReason(std::string_view reason);
// `category` if it is in DataCategories(), else "other".
std::string_view FoldDataCategory(std::string_view category);

}  // namespace crashctl::releases

#endif  // CRASHCTL_RELEASES_CLIENT_REPORT_H_
