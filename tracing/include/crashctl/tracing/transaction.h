// Sentry transactions: the value types crashctl keeps of one (a
// Transaction and its Spans) and NormalizeTransaction, which makes one from
// the JSON of an envelope `transaction` item (or any body whose "type" is
// "transaction"). What each field becomes, and every bound:
// docs/tracing.md.
//
// Thread-safety: plain value types and pure functions (no global state but
// constant tables); safe from any thread.
#ifndef CRASHCTL_TRACING_TRANSACTION_H_
#define CRASHCTL_TRACING_TRANSACTION_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crashctl/util/status.h"

namespace crashctl {
namespace tracing {

// Bounds of the strings kept (bytes; cut at a UTF-8 character boundary).
inline constexpr size_t kMaxNameBytes = 200;  // transaction names, as Relay
inline constexpr size_t kMaxOpBytes = 128;
inline constexpr size_t kMaxDescriptionBytes = 1024;
inline constexpr size_t kMaxReleaseBytes = 200;
inline constexpr size_t kMaxEnvironmentBytes = 64;
inline constexpr size_t kMaxServiceBytes = 200;

// The name Sentry shows for a transaction that has none.
inline constexpr std::string_view kUnlabeledTransaction =
    "<unlabeled transaction>";

// One span of a transaction. Times are epoch seconds (UTC).
struct Span {
  std::string span_id;         // 16 lower-case hex
  std::string parent_span_id;  // 16 lower-case hex, or "" (none sent)
  std::string op;              // as sent, bounded (labels: SanitizeOp)
  std::string description;     // as sent, bounded
  std::string status;          // one of the Sentry span statuses
  double start = 0;
  double end = 0;
  double duration() const { return end - start; }
};

// How NormalizeTransaction moved a transaction's times (see Options).
enum class TimeAdjustment { kNone, kFuture, kPast };

struct Transaction {
  std::string event_id;        // 32 lower-case hex (generated when missing)
  std::string trace_id;        // 32 lower-case hex
  std::string span_id;         // 16 lower-case hex: the transaction's span
  std::string parent_span_id;  // 16 lower-case hex or "": the span it continues
  std::string name;            // `transaction`, bounded; never empty
  std::string source;  // url|route|view|component|task|custom|sanitized|unknown
  std::string op;      // contexts.trace.op, bounded ("" when none)
  std::string status;  // a Sentry span status ("unknown" when none)
  double start = 0;    // start_timestamp, epoch seconds
  double end = 0;      // timestamp, epoch seconds
  std::string method;  // GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|other, "" none
  int http_status = 0;  // 100..599, 0 when none
  std::string release;
  std::string environment;
  std::string service;      // tag `service`, else contexts.app.app_name
  std::string platform;     // `platform`, bounded to 64 bytes
  std::vector<Span> spans;  // in the order sent, at most Options::max_spans

  // What normalisation had to do (for metrics and the stored record).
  size_t spans_cut = 0;      // spans beyond Options::max_spans, not kept
  size_t spans_invalid = 0;  // spans dropped as unusable (docs/tracing.md)
  TimeAdjustment time_adjustment = TimeAdjustment::kNone;
  double time_shift = 0;  // seconds added to every time (0 when none)

  double duration() const { return end - start; }
};

struct Options {
  // The transaction's end (`timestamp`) more than `max_future_seconds` after
  // `now`, or more than `max_past_seconds` before it: every time of the
  // transaction and its spans is shifted by the same amount so that it ends
  // at `now` (durations kept), and time_adjustment says which. <= 0
  // disables that bound. The ingestion defaults for events.
  double max_future_seconds = 60;
  double max_past_seconds = 30 * 86400.0;
  // A transaction lasting longer than this is refused (kInvalid); a span
  // lasting longer, or starting more than this away from the transaction's
  // start, is dropped (spans_invalid).
  double max_duration_seconds = 86400;
  // Spans after the first `max_spans` are cut (spans_cut).
  size_t max_spans = 1000;
  // JSON nested deeper than this is refused (kInvalid).
  int max_depth = 64;
};

// Parses one transaction. `json` must already be within the caller's byte
// limit (ingest.max_event_bytes, 1 MiB). `now` is the receive time, epoch
// seconds. Returns kInvalid with a message naming the field when the JSON
// is malformed, not an object, deeper than max_depth, typed other than
// "transaction", lacks a valid contexts.trace trace_id / span_id (or has an
// invalid parent_span_id), lacks start_timestamp or timestamp, ends before
// it starts or lasts longer than max_duration_seconds, or a field has an
// impossible type (an object where text belongs, `spans` not an array).
// `*out` is written only on success. Never throws.
Status NormalizeTransaction(std::string_view json, double now,
                            const Options& options, Transaction* out);

// The Sentry span status for `status` as sent: one of ok, cancelled,
// unknown, invalid_argument, deadline_exceeded, not_found, already_exists,
// permission_denied, resource_exhausted, failed_precondition, aborted,
// out_of_range, unimplemented, internal_error, unavailable, data_loss,
// unauthenticated. Relay's aliases are read as it reads them (success -> ok,
// failure -> internal_error, unknown_error -> unknown, canceled ->
// cancelled, any case); anything else (and "") is unknown.
std::string_view CanonicalSpanStatus(std::string_view status);
// The Sentry span statuses CanonicalSpanStatus answers, in the order above
// (a closed set: metric label values, the REST status filter, OpenAPI).
const std::vector<const char*>& SpanStatuses();
// SpanStatusForHttp (HTTP status -> span status): trace_context.h.
// The method label for `method` as sent (any case): GET, POST, PUT,
// PATCH, DELETE, HEAD, OPTIONS; other for any other; "" for "".
std::string_view FoldMethod(std::string_view method);
// The source for `source` as sent: one of the eight Sentry values; other
// text and "" become "unknown".
std::string_view CanonicalSource(std::string_view source);

}  // namespace tracing
}  // namespace crashctl

#endif  // CRASHCTL_TRACING_TRANSACTION_H_
