#include "crashctl/tracing/summary.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "crashctl/tracing/transaction.h"

namespace crashctl {
namespace tracing {

bool IsFailureStatus(std::string_view status) {
  const std::string_view s = CanonicalSpanStatus(status);
  return s != "ok" && s != "cancelled" && s != "unknown";
}

double NearestRankPercentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const size_t n = sorted.size();
  if (!(q > 0)) return sorted.front();
  if (q >= 100) return sorted.back();
  // ceil(q/100 * n), computed so that exact products (95/100 * 20 = 19)
  // are not pushed up by rounding error.
  const double exact = q * static_cast<double>(n) / 100.0;
  double rank = std::ceil(exact);
  if (rank - exact > 1 - 1e-9) rank -= 1;
  size_t k = static_cast<size_t>(std::max(1.0, rank));
  if (k > n) k = n;
  return sorted[k - 1];
}

Summary Summarize(const std::vector<DurationSample>& samples) {
  Summary out;
  std::vector<double> durations;
  durations.reserve(samples.size());
  uint64_t failures = 0;
  for (const DurationSample& s : samples) {
    if (!std::isfinite(s.duration) || s.duration < 0) continue;
    durations.push_back(s.duration);
    if (IsFailureStatus(s.status)) ++failures;
  }
  if (durations.empty()) return out;
  std::sort(durations.begin(), durations.end());
  out.count = durations.size();
  out.error_ratio =
      static_cast<double>(failures) / static_cast<double>(out.count);
  out.p50 = NearestRankPercentile(durations, 50);
  out.p95 = NearestRankPercentile(durations, 95);
  out.p99 = NearestRankPercentile(durations, 99);
  return out;
}

std::vector<TransactionSummary> SummarizeByTransaction(
    const std::vector<NamedSample>& samples, size_t limit) {
  std::map<std::string, std::vector<DurationSample>> groups;
  for (const NamedSample& s : samples) {
    groups[s.transaction].push_back(DurationSample{s.duration, s.status});
  }
  std::vector<TransactionSummary> out;
  out.reserve(groups.size());
  for (auto& [name, group] : groups) {
    Summary summary = Summarize(group);
    if (summary.count == 0) continue;
    out.push_back(TransactionSummary{name, summary});
  }
  std::stable_sort(
      out.begin(), out.end(),
      [](const TransactionSummary& a, const TransactionSummary& b) {
        return a.summary.count > b.summary.count;
      });  // names ascending within a count (map order)
  if (limit > 0 && out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace tracing
}  // namespace crashctl
