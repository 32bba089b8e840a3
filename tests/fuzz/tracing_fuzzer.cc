// libFuzzer target: tracing/ NormalizeTransaction, and the propagation
// header parsers of crashctl_trace_context, on arbitrary bytes. Checks:
// - a normalised transaction keeps every documented bound (ids, closed
//   sets, string sizes, span count, duration, times within the bounds
//   around `now`), and its labels and its trace tree stay bounded;
// - a parsed header formats back to a header that parses to the same
//   value (sentry-trace, traceparent, baggage), and a refusal says why.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "crashctl/tracing/labels.h"
#include "crashctl/tracing/summary.h"
#include "crashctl/tracing/trace_context.h"
#include "crashctl/tracing/trace_tree.h"
#include "crashctl/tracing/transaction.h"

namespace {

using namespace crashctl::tracing;

void Check(bool condition) {
  if (!condition) std::abort();
}

void CheckTransaction(const Transaction& tx, const Options& o, double now) {
  Check(IsTraceId(tx.trace_id));
  Check(IsSpanId(tx.span_id));
  Check(tx.parent_span_id.empty() || IsSpanId(tx.parent_span_id));
  Check(tx.event_id.size() == 32);
  Check(!tx.name.empty() && tx.name.size() <= kMaxNameBytes);
  Check(tx.op.size() <= kMaxOpBytes);
  Check(tx.release.size() <= kMaxReleaseBytes);
  Check(tx.environment.size() <= kMaxEnvironmentBytes);
  Check(tx.service.size() <= kMaxServiceBytes);
  Check(CanonicalSource(tx.source) == tx.source);
  Check(CanonicalSpanStatus(tx.status) == tx.status);
  Check(FoldMethod(tx.method) == tx.method);
  Check(tx.http_status == 0 || (tx.http_status >= 100 && tx.http_status < 600));
  Check(tx.duration() >= 0 && tx.duration() <= o.max_duration_seconds + 1e-6);
  Check(tx.end <= now + o.max_future_seconds);
  Check(tx.end >= now - o.max_past_seconds);
  Check(tx.spans.size() <= o.max_spans);
  for (const Span& s : tx.spans) {
    Check(IsSpanId(s.span_id));
    Check(s.parent_span_id.empty() || IsSpanId(s.parent_span_id));
    Check(CanonicalSpanStatus(s.status) == s.status);
    Check(s.op.size() <= kMaxOpBytes);
    Check(s.description.size() <= kMaxDescriptionBytes);
    Check(std::isfinite(s.start) && std::isfinite(s.end));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr double kNow = 1.7e9;
  const Options options;
  Transaction tx;
  const crashctl::Status status =
      NormalizeTransaction(input, kNow, options, &tx);
  if (status.ok()) {
    CheckTransaction(tx, options, kNow);
    LabelLimits limits;
    limits.max_transactions = 2;
    limits.max_ops = 2;
    limits.max_series = 3;
    LabelBudget budget(limits);
    const TransactionLabels l = budget.ForTransaction(1, tx);
    Check(l.transaction.size() <= kMaxNameBytes);
    for (const Span& s : tx.spans) {
      const SpanLabels sl = budget.ForSpan(1, tx.service, s);
      Check(sl.op.size() <= kMaxOpLabelBytes);
    }
    Check(budget.stats().series <= limits.max_series + 9 * 17 + 1);
    Check(
        budget.Import(budget.Export(), LabelBudget::ImportMode::kReplace).ok());
    const TraceTree tree = BuildTraceTree({tx, tx});
    Check(tree.duplicate_transactions == 1);
    Check(tree.nodes.size() == 1 + tx.spans.size());
    Summarize({DurationSample{tx.duration(), tx.status}});
  } else {
    Check(!status.message().empty());
  }

  std::string error;
  SentryTrace st;
  if (ParseSentryTrace(input, &st, &error)) {
    SentryTrace again;
    Check(ParseSentryTrace(FormatSentryTrace(st), &again, nullptr));
    Check(again.trace_id == st.trace_id && again.span_id == st.span_id &&
          again.sampled == st.sampled);
  } else {
    Check(!error.empty());
  }
  error.clear();
  TraceParent tp;
  if (ParseTraceparent(input, &tp, &error)) {
    TraceParent again;
    Check(ParseTraceparent(FormatTraceparent(tp), &again, nullptr));
    Check(again.trace_id == tp.trace_id && again.parent_id == tp.parent_id &&
          again.flags == tp.flags);
  } else {
    Check(!error.empty());
  }
  error.clear();
  Baggage b;
  if (ParseBaggage(input, &b, &error)) {
    size_t dropped = 0;
    const std::string header = FormatBaggage(b, &dropped);
    if (header.size() <= kMaxBaggageBytes) {
      Baggage again;
      Check(ParseBaggage(header, &again, nullptr));
      Check(again.release == b.release && again.transaction == b.transaction &&
            again.trace_id == b.trace_id && again.sampled == b.sampled);
      if (dropped == 0) {
        Check(again.third_party == b.third_party);
        Check(again.other_sentry == b.other_sentry);
      }
    }
  } else {
    Check(!error.empty());
  }
  std::string decoded;
  if (PercentDecode(input, &decoded)) {
    std::string back;
    Check(PercentDecode(PercentEncode(decoded), &back) && back == decoded);
  }
  return 0;
}
