// Span, Transaction, SpanScope and StartTransaction (crashctl/sdk.h), and
// the tracing internals of tracing.h.
#include "tracing.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "crashctl/sdk/support/util.h"

namespace crashctl {
namespace sdk {
namespace detail {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

thread_local std::shared_ptr<SpanState> t_current;

double NowEpochSeconds() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count() /
         1e6;
}

double RandomUnit() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// "0.25" for 0.25; at most 6 significant digits, no exponent for 1e-6..1.
std::string FormatRate(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", rate);
  return buf;
}

// A number in [0, 1) as sentry-sample_rand: 6 decimals, rounded down.
std::string FormatUnit(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6f", std::floor(v * 1e6) / 1e6);
  return buf;
}

// A sample_rand from baggage: a number in [0, 1), else -1.
double ParseUnit(const std::string& text) {
  if (text.empty()) return -1;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == nullptr || *end != '\0' || !(v >= 0.0 && v < 1.0)) return -1;
  return v;
}

double Clamp01(double v) {
  if (!(v >= 0.0)) return 0.0;  // NaN too
  return v > 1.0 ? 1.0 : v;
}

void Str(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

void StringMap(Writer& w, const std::map<std::string, std::string>& map) {
  w.StartObject();
  for (const auto& kv : map) Str(w, kv.first.c_str(), kv.second);
  w.EndObject();
}

void Time(Writer& w, const char* key, double seconds) {
  w.Key(key);
  // Microseconds, as Sentry SDKs send them.
  w.Double(std::round(seconds * 1e6) / 1e6);
}

void WriteSpan(Writer& w, const std::string& trace_id, const SpanRecord& s) {
  w.StartObject();
  Str(w, "trace_id", trace_id);
  Str(w, "span_id", s.span_id);
  if (!s.parent_span_id.empty()) Str(w, "parent_span_id", s.parent_span_id);
  if (!s.op.empty()) Str(w, "op", s.op);
  if (!s.description.empty()) Str(w, "description", s.description);
  Str(w, "status", s.status);
  Time(w, "start_timestamp", s.start);
  Time(w, "timestamp", s.end);
  if (!s.data.empty()) {
    w.Key("data");
    StringMap(w, s.data);
  }
  if (!s.tags.empty()) {
    w.Key("tags");
    StringMap(w, s.tags);
  }
  w.EndObject();
}

// Ends `state` now: its record with end time and final status.
bool FinishRecord(SpanState& state, SpanRecord* out) {
  std::lock_guard<std::mutex> lock(state.mu);
  if (state.finished) return false;
  state.finished = true;
  std::chrono::duration<double> elapsed =
      std::chrono::steady_clock::now() - state.start_steady;
  *out = state.record;
  out->span_id = state.span_id;
  out->parent_span_id = state.parent_span_id;
  out->start = state.start_wall;
  out->end = state.start_wall + elapsed.count();
  if (out->status.empty()) out->status = "ok";
  return true;
}

std::shared_ptr<SpanState> NewSpanState(std::shared_ptr<TraceRoot> root,
                                        bool is_root, std::string parent,
                                        std::string op,
                                        std::string description) {
  auto state = std::make_shared<SpanState>();
  state->root = std::move(root);
  state->is_root = is_root;
  state->span_id = tracing::NewSpanId();
  state->parent_span_id = std::move(parent);
  state->start_wall = NowEpochSeconds();
  state->start_steady = std::chrono::steady_clock::now();
  state->record.op = std::move(op);
  state->record.description = std::move(description);
  return state;
}

}  // namespace

Span Access::MakeSpan(std::shared_ptr<SpanState> state) {
  Span span;
  span.state_ = std::move(state);
  return span;
}

Transaction Access::MakeTransaction(std::shared_ptr<SpanState> state) {
  Transaction tx;
  tx.state_ = std::move(state);
  return tx;
}

std::shared_ptr<SpanState> CurrentSpanState() { return t_current; }

Incoming ParseIncoming(const TransactionContext& context) {
  Incoming in;
  tracing::SentryTrace st;
  tracing::TraceParent tp;
  if (!context.sentry_trace.empty() &&
      tracing::ParseSentryTrace(context.sentry_trace, &st, nullptr)) {
    in.trace_id = st.trace_id;
    in.parent_span_id = st.span_id;
    in.has_sampled = st.sampled.has_value();
    in.sampled = st.sampled.value_or(false);
  } else if (!context.traceparent.empty() &&
             tracing::ParseTraceparent(context.traceparent, &tp, nullptr)) {
    in.trace_id = tp.trace_id;
    in.parent_span_id = tp.parent_id;
    in.has_sampled = true;
    in.sampled = tp.sampled();
  }
  if (!context.baggage.empty() &&
      tracing::ParseBaggage(context.baggage, &in.baggage, nullptr)) {
    in.has_baggage = true;
    // A DSC of another trace is not this one's.
    if (in.baggage.trace_id && *in.baggage.trace_id != in.trace_id) {
      tracing::Baggage others;
      others.third_party = std::move(in.baggage.third_party);
      in.baggage = std::move(others);
    }
  }
  return in;
}

Decision DecideSampling(const TracingConfig& config,
                        const SamplingContext& context,
                        const Incoming& incoming, double sample_rand) {
  Decision d;
  if (config.traces_sampler) {
    d.sample_rate = Clamp01(config.traces_sampler(context));
    d.sampled = sample_rand < d.sample_rate;
  } else if (!incoming.trace_id.empty() && incoming.has_sampled) {
    d.sampled = incoming.sampled;
    double rate =
        incoming.baggage.sample_rate
            ? std::strtod(incoming.baggage.sample_rate->c_str(), nullptr)
            : (incoming.sampled ? 1.0 : 0.0);
    d.sample_rate = Clamp01(rate);
  } else {
    d.sample_rate = Clamp01(config.traces_sample_rate);
    d.sampled = sample_rand < d.sample_rate;
  }
  return d;
}

std::string TransactionToJson(const TransactionPayload& p) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Str(w, "type", "transaction");
  Str(w, "event_id", p.event_id);
  Str(w, "platform", "native");
  Str(w, "transaction", p.name);
  w.Key("transaction_info");
  w.StartObject();
  Str(w, "source", p.source);
  w.EndObject();
  Time(w, "start_timestamp", p.self.start);
  Time(w, "timestamp", p.self.end);
  if (!p.server_name.empty()) Str(w, "server_name", p.server_name);
  if (!p.release.empty()) Str(w, "release", p.release);
  if (!p.environment.empty()) Str(w, "environment", p.environment);
  w.Key("contexts");
  w.StartObject();
  w.Key("trace");
  w.StartObject();
  Str(w, "trace_id", p.trace_id);
  Str(w, "span_id", p.self.span_id);
  if (!p.self.parent_span_id.empty()) {
    Str(w, "parent_span_id", p.self.parent_span_id);
  }
  if (!p.self.op.empty()) Str(w, "op", p.self.op);
  Str(w, "status", p.self.status);
  if (!p.self.data.empty()) {
    w.Key("data");
    StringMap(w, p.self.data);
  }
  w.EndObject();
  if (p.http_status > 0) {
    w.Key("response");
    w.StartObject();
    w.Key("status_code");
    w.Int(p.http_status);
    w.EndObject();
  }
  w.EndObject();
  if (!p.method.empty() || !p.url.empty()) {
    w.Key("request");
    w.StartObject();
    if (!p.method.empty()) Str(w, "method", p.method);
    if (!p.url.empty()) Str(w, "url", p.url);
    w.EndObject();
  }
  w.Key("tags");
  StringMap(w, p.self.tags);
  w.Key("spans");
  w.StartArray();
  for (const SpanRecord& s : p.spans) WriteSpan(w, p.trace_id, s);
  w.EndArray();
  w.Key("sdk");
  w.StartObject();
  Str(w, "name", "crashctl.cpp");
  Str(w, "version", "0.1.0");
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string DscToJson(const tracing::Baggage& dsc) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  auto opt = [&](const char* key, const std::optional<std::string>& v) {
    if (v) Str(w, key, *v);
  };
  opt("trace_id", dsc.trace_id);
  opt("public_key", dsc.public_key);
  opt("sample_rate", dsc.sample_rate);
  opt("release", dsc.release);
  opt("environment", dsc.environment);
  opt("transaction", dsc.transaction);
  opt("sampled", dsc.sampled);
  for (const auto& kv : dsc.other_sentry) Str(w, kv.first.c_str(), kv.second);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

void Discard(const Transaction& transaction) {
  const std::shared_ptr<SpanState>& s = Access::State(transaction);
  if (!s) return;
  {
    std::lock_guard<std::mutex> lock(s->mu);
    s->finished = true;
  }
  std::lock_guard<std::mutex> lock(s->root->mu);
  s->root->finished = true;
}

int HttpStatusOf(const Span& span) {
  const std::shared_ptr<SpanState>& s = Access::State(span);
  if (!s) return 0;
  std::lock_guard<std::mutex> lock(s->mu);
  return s->http_status;
}

}  // namespace detail

using detail::SpanState;
using detail::TraceRoot;

Span Span::StartChild(const std::string& op,
                      const std::string& description) const {
  if (!state_) return Span();
  return detail::Access::MakeSpan(detail::NewSpanState(
      state_->root, false, state_->span_id, op, description));
}

void Span::SetStatus(const std::string& status) {
  if (!state_) return;
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->record.status = status;
}

void Span::SetHttpStatus(int http_status) {
  if (!state_) return;
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->http_status = http_status;
  state_->record.status =
      std::string(::crashctl::tracing::SpanStatusForHttp(http_status));
  state_->record.tags["http.status_code"] = std::to_string(http_status);
}

void Span::SetDescription(const std::string& description) {
  if (!state_) return;
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->record.description = description;
}

void Span::SetData(const std::string& key, const std::string& value) {
  if (!state_) return;
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->record.data[key] = value;
}

void Span::SetTag(const std::string& key, const std::string& value) {
  if (!state_) return;
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->record.tags[key] = value;
}

void Span::Finish() {
  if (!state_) return;
  detail::SpanRecord record;
  if (!detail::FinishRecord(*state_, &record)) return;
  TraceRoot& root = *state_->root;
  if (!state_->is_root) {
    std::lock_guard<std::mutex> lock(root.mu);
    if (!root.sampled || root.finished) return;
    if (root.spans.size() >= root.max_spans) {
      ++root.spans_dropped;
      return;
    }
    root.spans.push_back(std::move(record));
    return;
  }
  detail::TransactionPayload p;
  {
    std::lock_guard<std::mutex> lock(root.mu);
    if (root.finished) return;
    root.finished = true;
    if (!root.sampled) return;
    p.spans.swap(root.spans);
    p.name = root.name;
    p.source = root.source;
    p.method = root.method;
    p.url = root.url;
  }
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    p.http_status = state_->http_status;
  }
  p.event_id = NewEventId();
  p.trace_id = root.trace_id;
  p.self = std::move(record);
  detail::SendTransaction(std::move(p), detail::DscToJson(root.dsc));
}

std::string Span::TraceId() const {
  return state_ ? state_->root->trace_id : std::string();
}

std::string Span::SpanId() const {
  return state_ ? state_->span_id : std::string();
}

bool Span::IsSampled() const { return state_ && state_->root->sampled; }

std::map<std::string, std::string> Span::TraceHeaders() const {
  std::map<std::string, std::string> h;
  if (!state_) return h;
  const TraceRoot& root = *state_->root;
  tracing::SentryTrace st;
  st.trace_id = root.trace_id;
  st.span_id = state_->span_id;
  st.sampled = root.sampled;
  h["sentry-trace"] = tracing::FormatSentryTrace(st);
  h["traceparent"] = tracing::FormatTraceparent(tracing::ToTraceparent(st));
  std::string baggage = tracing::FormatBaggage(root.dsc);
  if (!baggage.empty()) h["baggage"] = baggage;
  return h;
}

void Transaction::SetName(const std::string& name, const std::string& source) {
  if (!state_) return;
  std::lock_guard<std::mutex> lock(state_->root->mu);
  state_->root->name = name;
  state_->root->source = source;
}

void Transaction::SetRequest(const std::string& method,
                             const std::string& url) {
  if (!state_) return;
  std::lock_guard<std::mutex> lock(state_->root->mu);
  state_->root->method = method;
  state_->root->url = url;
}

Transaction StartTransaction(const std::string& name, const std::string& op) {
  TransactionContext context;
  context.name = name;
  context.op = op;
  return StartTransaction(context);
}

Transaction StartTransaction(const TransactionContext& context) {
  detail::TracingConfig config;
  if (!detail::CurrentTracingConfig(&config)) return Transaction();
  detail::Incoming in = detail::ParseIncoming(context);
  SamplingContext sc;
  sc.name = context.name;
  sc.op = context.op;
  sc.source = context.source;
  sc.has_parent_sampled = !in.trace_id.empty() && in.has_sampled;
  sc.parent_sampled = sc.has_parent_sampled && in.sampled;
  sc.attributes = context.attributes;
  // The incoming trace's sample_rand keeps decisions consistent along it.
  double rand = -1;
  for (const auto& kv : in.baggage.other_sentry) {
    if (kv.first == "sample_rand") rand = detail::ParseUnit(kv.second);
  }
  if (in.trace_id.empty() || rand < 0) rand = detail::RandomUnit();
  detail::Decision d = detail::DecideSampling(config, sc, in, rand);

  auto root = std::make_shared<TraceRoot>();
  root->trace_id = in.trace_id.empty() ? tracing::NewTraceId() : in.trace_id;
  root->sampled = d.sampled;
  root->sample_rate = d.sample_rate;
  root->max_spans = config.max_spans;
  root->name = context.name;
  root->source = context.source.empty() ? "custom" : context.source;
  if (!in.trace_id.empty() && in.baggage.has_sentry_entries()) {
    root->dsc = in.baggage;  // frozen by the head of the trace
  } else {
    // This process is the head of the trace (for its DSC).
    root->dsc.third_party = in.baggage.third_party;
    tracing::Baggage& b = root->dsc;
    b.trace_id = root->trace_id;
    if (!config.public_key.empty()) b.public_key = config.public_key;
    b.sample_rate = detail::FormatRate(d.sample_rate);
    if (!config.release.empty()) b.release = config.release;
    if (!config.environment.empty()) b.environment = config.environment;
    if (root->source != "url" && !context.name.empty()) {
      b.transaction = context.name;
    }
    b.sampled = d.sampled ? "true" : "false";
    b.other_sentry.emplace_back("sample_rand", detail::FormatUnit(rand));
  }
  return detail::Access::MakeTransaction(detail::NewSpanState(
      std::move(root), true, in.parent_span_id, context.op, ""));
}

SpanScope::SpanScope(const Span& span) : previous_(detail::t_current) {
  detail::t_current = detail::Access::State(span);
}

SpanScope::~SpanScope() { detail::t_current = std::move(previous_); }

Span CurrentSpan() { return detail::Access::MakeSpan(detail::t_current); }

}  // namespace sdk
}  // namespace crashctl
