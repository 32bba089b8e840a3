// Duration summaries for GET /api/v1/transactions/summary: count, error
// ratio and nearest-rank percentiles (docs/tracing.md#percentiles).
//
// Percentile method: nearest rank. For N durations sorted ascending
// d[1] <= ... <= d[N], the q-th percentile (0 < q <= 100) is d[k] with
// k = ceil(q / 100 * N) (k >= 1): the smallest observed duration that at
// least q % of the durations do not exceed. Always an observed value; no
// interpolation. Example: 1..10 s give p50 = 5, p95 = 10, p99 = 10.
//
// Error ratio: the share of transactions whose status is a failure, as
// Sentry's failure_rate(): every status except ok, cancelled and unknown.
//
// Thread-safety: pure functions.
#ifndef CRASHCTL_TRACING_SUMMARY_H_
#define CRASHCTL_TRACING_SUMMARY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crashctl {
namespace tracing {

struct DurationSample {
  double duration = 0;  // seconds
  std::string status;   // span status (transaction.h), as stored
};

struct Summary {
  uint64_t count = 0;                // samples used (finite, >= 0 durations)
  double error_ratio = 0;            // failures / count; 0 when count is 0
  double p50 = 0, p95 = 0, p99 = 0;  // seconds; 0 when count is 0
};

// True when `status` counts as a failure: not ok, cancelled or unknown
// (after CanonicalSpanStatus, so "" and unrecognised text are unknown).
bool IsFailureStatus(std::string_view status);

// The nearest-rank `q`-th percentile (q in (0, 100]; q <= 0 gives the
// minimum, q > 100 the maximum) of `sorted` (ascending); 0 when empty.
double NearestRankPercentile(const std::vector<double>& sorted, double q);

// Summarises `samples`; durations that are NaN, infinite or negative are
// skipped (not counted). O(N log N).
Summary Summarize(const std::vector<DurationSample>& samples);

// One item of the summary endpoint.
struct TransactionSummary {
  std::string transaction;
  Summary summary;
};
struct NamedSample {
  std::string transaction;
  double duration = 0;
  std::string status;
};
// Groups `samples` by transaction name and summarises each group; items by
// count, descending, then name; at most `limit` items (0: no limit).
std::vector<TransactionSummary> SummarizeByTransaction(
    const std::vector<NamedSample>& samples, size_t limit = 0);

}  // namespace tracing
}  // namespace crashctl

#endif  // CRASHCTL_TRACING_SUMMARY_H_
