// TransactionMetrics: the metric families of Sentry transactions
// (docs/tracing.md#labels, docs/metrics.md):
//
//   crashctl_transaction_duration_seconds{project,service,transaction,method,status}
//   crashctl_span_duration_seconds{project,service,op}
//   crashctl_transaction_label_folds_total{kind}  name|unparameterized|op|
//                                                 service|series
//   crashctl_transaction_label_series             admitted label sets
//   crashctl_transaction_spans_dropped_total{reason}  cut|invalid
//   crashctl_transactions_total{project,outcome}  stored|sampled_out|
//                                                 duplicate|invalid
//
// Every label value taken from a payload goes through the one process-wide
// tracing::LabelBudget owned here, so the histograms stay within
// max_series (+ 154) series per project whatever arrives. The histograms
// observe every valid transaction the server accepted, stored or sampled
// out (tracing.store_sample_rate decides storage only).
//
// Thread-safety: all methods may be called concurrently.
#ifndef CRASHCTL_INGEST_TRANSACTION_METRICS_H_
#define CRASHCTL_INGEST_TRANSACTION_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crashctl/metrics/series_cache.h"
#include "crashctl/tracing/labels.h"
#include "crashctl/tracing/transaction.h"

namespace crashctl {
namespace ingest {

class TransactionMetrics {
 public:
  struct Options {
    tracing::LabelLimits limits;  // tracing.max_transactions, max_series
    // Upper bounds, seconds, increasing (tracing.duration_buckets); empty:
    // Prometheus' defaults .005 .. 10.
    std::vector<double> duration_buckets;
  };
  // Registers the families on `registry`, which must outlive this object.
  TransactionMetrics(prometheus::Registry* registry, Options options);
  TransactionMetrics(const TransactionMetrics&) = delete;
  TransactionMetrics& operator=(const TransactionMetrics&) = delete;

  // Observes the duration of `tx` and of each of its spans under the labels
  // the budget gives, and counts the folds and the spans it dropped.
  void Observe(int64_t project, const tracing::Transaction& tx);
  // crashctl_transactions_total{project, outcome}; outcome one of
  // KnownOutcomes() (others count as "invalid").
  void Outcome(int64_t project, std::string_view outcome);
  // Creates the outcome series of `project` at 0.
  void ProjectKnown(int64_t project);

  // The process-wide budget (Export/Import of the label state).
  tracing::LabelBudget* budget() { return &budget_; }
  const std::vector<double>& buckets() const { return buckets_; }

  static const std::vector<std::string>& KnownOutcomes();
  static const std::vector<std::string>& KnownFoldKinds();
  static const std::vector<double>& DefaultBuckets();

 private:
  void Fold(size_t kind);  // index in KnownFoldKinds()

  tracing::LabelBudget budget_;
  const std::vector<double> buckets_;
  prometheus::Family<prometheus::Histogram>* transaction_duration_;
  prometheus::Family<prometheus::Histogram>* span_duration_;
  prometheus::Family<prometheus::Counter>* outcomes_;
  std::vector<prometheus::Counter*> folds_;  // by KnownFoldKinds() index
  prometheus::Counter* spans_cut_;
  prometheus::Counter* spans_invalid_;
  prometheus::Gauge* series_;
  metrics::SeriesCache<prometheus::Histogram> transaction_series_;
  metrics::SeriesCache<prometheus::Histogram> span_series_;
  metrics::SeriesCache<prometheus::Counter> outcome_series_;
};

}  // namespace ingest
}  // namespace crashctl

#endif  // CRASHCTL_INGEST_TRANSACTION_METRICS_H_
