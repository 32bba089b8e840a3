#include "crashctl/ingest/transaction_metrics.h"

#include "crashctl/metrics/families.h"
#include "crashctl/metrics/labels.h"

namespace crashctl {
namespace ingest {
namespace {

enum FoldKind { kName, kUnparameterized, kOp, kService, kSeries };

}  // namespace

const std::vector<std::string>& TransactionMetrics::KnownOutcomes() {
  static const auto* v = new std::vector<std::string>{"stored", "sampled_out",
                                                      "duplicate", "invalid"};
  return *v;
}

const std::vector<std::string>& TransactionMetrics::KnownFoldKinds() {
  static const auto* v = new std::vector<std::string>{
      "name", "unparameterized", "op", "service", "series"};
  return *v;
}

const std::vector<double>& TransactionMetrics::DefaultBuckets() {
  static const auto* v = new std::vector<double>{
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *v;
}

TransactionMetrics::TransactionMetrics(prometheus::Registry* registry,
                                       Options options)
    : budget_(options.limits),
      buckets_(options.duration_buckets.empty() ? DefaultBuckets()
                                                : options.duration_buckets) {
  transaction_duration_ = &metrics::HistogramFamily(
      registry, "crashctl_transaction_duration_seconds",
      "Duration of Sentry transactions received, by project id, service, "
      "transaction name (bounded), HTTP method and span status.");
  span_duration_ = &metrics::HistogramFamily(
      registry, "crashctl_span_duration_seconds",
      "Duration of the spans of Sentry transactions received, by project "
      "id, service and span op (bounded).");
  outcomes_ = &metrics::CounterFamily(
      registry, "crashctl_transactions_total",
      "Transactions received, by project id and outcome: stored, "
      "sampled_out (tracing.store_sample_rate), duplicate, invalid.");
  auto& folds = metrics::CounterFamily(
      registry, "crashctl_transaction_label_folds_total",
      "Transaction and span observations whose label was folded, by kind: "
      "name (past tracing.max_transactions), unparameterized (URL names), "
      "op, service, series (past tracing.max_series).",
      "kind", KnownFoldKinds());
  for (const std::string& kind : KnownFoldKinds()) {
    folds_.push_back(&folds.Add({{"kind", kind}}));
  }
  auto& dropped = metrics::CounterFamily(
      registry, "crashctl_transaction_spans_dropped_total",
      "Spans of accepted transactions not kept, by reason: cut (past 1,000 "
      "per transaction), invalid (unusable span).",
      "reason", {"cut", "invalid"});
  spans_cut_ = &dropped.Add({{"reason", "cut"}});
  spans_invalid_ = &dropped.Add({{"reason", "invalid"}});
  series_ = &metrics::Gauge(
      registry, "crashctl_transaction_label_series",
      "Label sets admitted for the transaction and span duration "
      "histograms, all projects.");
}

void TransactionMetrics::Fold(size_t kind) { folds_[kind]->Increment(); }

void TransactionMetrics::Observe(int64_t project,
                                 const tracing::Transaction& tx) {
  const std::string id = std::to_string(project);
  const tracing::TransactionLabels labels = budget_.ForTransaction(project, tx);
  if (labels.name_folded) Fold(kName);
  if (labels.unparameterized) Fold(kUnparameterized);
  if (labels.service_folded) Fold(kService);
  if (labels.series_folded) Fold(kSeries);
  transaction_series_
      .Get(metrics::SeriesKey({id, labels.method, labels.status, labels.service,
                               labels.transaction}),
           [&]() -> prometheus::Histogram& {
             return transaction_duration_->Add(
                 {{"project", id},
                  {"service", labels.service},
                  {"transaction", labels.transaction},
                  {"method", labels.method},
                  {"status", labels.status}},
                 buckets_);
           })
      .Observe(tx.duration());
  for (const tracing::Span& span : tx.spans) {
    const tracing::SpanLabels s = budget_.ForSpan(project, tx.service, span);
    if (s.op_folded) Fold(kOp);
    if (s.service_folded) Fold(kService);
    if (s.series_folded) Fold(kSeries);
    span_series_
        .Get(metrics::SeriesKey({id, s.op, s.service}),
             [&]() -> prometheus::Histogram& {
               return span_duration_->Add(
                   {{"project", id}, {"service", s.service}, {"op", s.op}},
                   buckets_);
             })
        .Observe(span.duration());
  }
  if (tx.spans_cut > 0)
    spans_cut_->Increment(static_cast<double>(tx.spans_cut));
  if (tx.spans_invalid > 0) {
    spans_invalid_->Increment(static_cast<double>(tx.spans_invalid));
  }
  series_->Set(static_cast<double>(budget_.stats().series));
}

void TransactionMetrics::Outcome(int64_t project, std::string_view outcome) {
  const std::string id = std::to_string(project);
  const std::string bounded =
      metrics::Bounded(std::string(outcome), KnownOutcomes());
  const std::string label = bounded == "other" ? "invalid" : bounded;
  outcome_series_
      .Get(metrics::SeriesKey({id, label}),
           [&]() -> prometheus::Counter& {
             return outcomes_->Add({{"project", id}, {"outcome", label}});
           })
      .Increment();
}

void TransactionMetrics::ProjectKnown(int64_t project) {
  const std::string id = std::to_string(project);
  for (const std::string& outcome : KnownOutcomes()) {
    outcomes_->Add({{"project", id}, {"outcome", outcome}});
  }
}

}  // namespace ingest
}  // namespace crashctl
