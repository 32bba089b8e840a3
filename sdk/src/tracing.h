// The SDK's tracing internals behind Span, Transaction and SpanScope
// (crashctl/sdk.h): span state, the sampling decision, trace continuation
// from incoming headers, outgoing headers and the transaction payload
// (Sentry `transaction` item JSON). Propagation headers are parsed and
// formatted by crashctl_trace_context (tracing/context/), compiled into the
// SDK's libraries.
//
// Thread-safety: SpanState and TraceRoot each guard their mutable fields
// with their own mutex (span first, then root, never the other way);
// everything else here is a pure function or per thread (the current span).
#ifndef CRASHCTL_SDK_SRC_TRACING_H_
#define CRASHCTL_SDK_SRC_TRACING_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "crashctl/sdk.h"
#include "crashctl/tracing/trace_context.h"

namespace crashctl {
namespace sdk {
namespace detail {

// One finished span as sent (`spans[]`), or a transaction's own fields.
struct SpanRecord {
  std::string span_id;
  std::string parent_span_id;
  std::string op;
  std::string description;
  std::string status;  // "" until Finish: then ok unless set
  double start = 0;    // epoch seconds
  double end = 0;
  std::map<std::string, std::string> data;
  std::map<std::string, std::string> tags;
};

// What the spans of one transaction share.
struct TraceRoot {
  std::string trace_id;
  bool sampled = false;
  double sample_rate = 0;
  // The trace's Dynamic Sampling Context (sentry-* entries) and incoming
  // third-party baggage: the outgoing baggage and the envelope's `trace`.
  tracing::Baggage dsc;
  size_t max_spans = 1000;

  std::mutex mu;
  std::vector<SpanRecord> spans;  // finished children; guarded by mu
  size_t spans_dropped = 0;       // past max_spans; guarded by mu
  bool finished = false;          // the transaction finished; guarded by mu
  std::string name;               // guarded by mu
  std::string source;             // guarded by mu
  std::string method;             // guarded by mu
  std::string url;                // guarded by mu
};

struct SpanState {
  std::shared_ptr<TraceRoot> root;
  bool is_root = false;
  std::string span_id;
  std::string parent_span_id;
  double start_wall = 0;  // epoch seconds
  std::chrono::steady_clock::time_point start_steady;

  std::mutex mu;
  SpanRecord record;      // op, description, status, data, tags; guarded
  int http_status = 0;    // SetHttpStatus; guarded by mu
  bool finished = false;  // guarded by mu
};

struct Access {
  static Span MakeSpan(std::shared_ptr<SpanState> state);
  static Transaction MakeTransaction(std::shared_ptr<SpanState> state);
  static const std::shared_ptr<SpanState>& State(const Span& span) {
    return span.state_;
  }
};

// --- The client's side (defined in sdk.cc) ---------------------------------

struct TracingConfig {
  double traces_sample_rate = 0;
  std::function<double(const SamplingContext&)> traces_sampler;
  size_t max_spans = 1000;
  std::string release;
  std::string environment;
  std::string public_key;
};
// A copy of the current client's tracing options; false when the SDK is
// not initialised.
bool CurrentTracingConfig(TracingConfig* out);

// A finished, sampled transaction.
struct TransactionPayload {
  std::string event_id;
  std::string trace_id;
  std::string name;
  std::string source;
  SpanRecord self;  // span_id, parent_span_id, op, status, times, data, tags
  std::string method;
  std::string url;
  int http_status = 0;
  std::vector<SpanRecord> spans;
  // Filled by the client (SendTransaction):
  std::string release;
  std::string environment;
  std::string server_name;
};
// Adds the client's release, environment, server name, scope tags and the
// service tag, then queues the envelope (`trace_json`: the envelope
// header's `trace`). Dropped when the SDK is not initialised.
void SendTransaction(TransactionPayload payload, const std::string& trace_json);

// --- Pure parts (unit-tested) ----------------------------------------------

// The incoming trace of `context` (sentry-trace first, else traceparent;
// invalid headers ignored) and its baggage.
struct Incoming {
  std::string trace_id;  // "" when no valid header: a new trace
  std::string parent_span_id;
  bool has_sampled = false;
  bool sampled = false;
  bool has_baggage = false;  // baggage parsed
  tracing::Baggage baggage;
};
Incoming ParseIncoming(const TransactionContext& context);

struct Decision {
  bool sampled = false;
  double sample_rate = 0;  // the rate applied (or inherited)
};
// Sentry's order: traces_sampler when set; else the parent's decision;
// else traces_sample_rate. `sample_rand` in [0, 1): sampled when below the
// rate.
Decision DecideSampling(const TracingConfig& config,
                        const SamplingContext& context,
                        const Incoming& incoming, double sample_rand);

// `transaction` item JSON (verbatim Sentry shape).
std::string TransactionToJson(const TransactionPayload& payload);
// The DSC as the envelope header's `trace` object.
std::string DscToJson(const tracing::Baggage& dsc);

// The calling thread's current span state (SpanScope), or null.
std::shared_ptr<SpanState> CurrentSpanState();

// Ends `transaction` without sending it (the civetweb wrapper, when civetweb
// calls the handler's other form instead).
void Discard(const Transaction& transaction);
// The HTTP status set with SetHttpStatus, 0 when none.
int HttpStatusOf(const Span& span);

}  // namespace detail
}  // namespace sdk
}  // namespace crashctl

#endif  // CRASHCTL_SDK_SRC_TRACING_H_
