// NormalizeTransaction: Sentry transaction JSON -> tracing::Transaction.
// The same reading rules as ingest/normalize.cc has for error events
// (rapidjson in iterative mode with UTF-8 validation, `null` = absent, text
// cut at UTF-8 boundaries), plus the transaction-specific rules of
// docs/tracing.md.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "crashctl/tracing/trace_context.h"
#include "crashctl/tracing/transaction.h"
#include "crashctl/util/strings.h"
#include "crashctl/util/time.h"

namespace crashctl {
namespace tracing {
namespace {

using rapidjson::Value;

constexpr size_t kMaxPlatformBytes = 64;
constexpr size_t kMaxTags = 200;

const Value* Member(const Value& obj, const char* name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

std::string_view View(const Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

// Scalars as text (numbers and booleans as JSON writes them).
std::string ScalarText(const Value& v) {
  if (v.IsString()) return std::string(View(v));
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);  // a scalar: no recursion
  return std::string(buf.GetString(), buf.GetSize());
}

// A text field of the transaction: "" when absent; an object or array is a
// type error (`*error` set once).
std::string Text(const Value* v, const char* path, size_t max,
                 std::string* error) {
  if (v == nullptr) return "";
  if (v->IsObject() || v->IsArray()) {
    if (error->empty()) *error = std::string(path) + ": expected a string";
    return "";
  }
  std::string s = ScalarText(*v);
  util::TruncateUtf8(&s, max);
  return s;
}

// A lenient text field (spans): only strings count.
std::string StringOrEmpty(const Value* v, size_t max) {
  if (v == nullptr || !v->IsString()) return "";
  std::string s(View(*v));
  util::TruncateUtf8(&s, max);
  return s;
}

char Lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Lower-case 32-hex form of a 32-hex or dashed-UUID id; "" when invalid.
std::string Canonical32(const Value* v) {
  if (v == nullptr || !v->IsString()) return "";
  const std::string_view s = View(*v);
  if (s.size() != 32 && s.size() != 36) return "";
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.size() == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) {
      if (s[i] != '-') return "";
      continue;
    }
    out.push_back(Lower(s[i]));
  }
  return util::IsLowerHex(out, 32) ? out : "";
}

// Lower-case 16-hex span id; "" when invalid.
std::string Canonical16(const Value* v) {
  if (v == nullptr || !v->IsString()) return "";
  std::string out = util::ToLower(View(*v));
  return IsSpanId(out) ? out : "";
}

// Epoch seconds from a number, RFC 3339 text or epoch seconds as text.
bool TimeValue(const Value* v, double* out) {
  if (v == nullptr) return false;
  double t = 0;
  if (v->IsNumber()) {
    t = v->GetDouble();
  } else if (v->IsString()) {
    const std::string_view s = View(*v);
    if (s.empty() || s.size() > 64) return false;
    if (!util::ParseRfc3339Lenient(s, &t)) {
      if (s.size() >= 5 && s[4] == '-') return false;  // a bad date
      const std::string text(s);
      char* end = nullptr;
      t = std::strtod(text.c_str(), &end);
      if (end != text.c_str() + text.size()) return false;
    }
  } else {
    return false;
  }
  if (!std::isfinite(t)) return false;
  *out = t;
  return true;
}

// An HTTP status 100..599 from a number or numeric text; 0 otherwise.
int HttpStatusValue(const Value* v) {
  if (v == nullptr) return 0;
  int64_t n = 0;
  if (v->IsInt64()) {
    n = v->GetInt64();
  } else if (v->IsDouble()) {
    const double d = v->GetDouble();
    if (!(d >= 100 && d < 600) || d != std::floor(d)) return 0;
    n = static_cast<int64_t>(d);
  } else if (v->IsString()) {
    if (!util::ParseInt64(util::Trim(View(*v)), 100, 599, &n)) return 0;
  } else {
    return 0;
  }
  return n >= 100 && n <= 599 ? static_cast<int>(n) : 0;
}

// The value of tag `key` (object form or [key, value] pairs); null if none.
const Value* Tag(const Value* tags, std::string_view key) {
  if (tags == nullptr) return nullptr;
  if (tags->IsObject()) {
    size_t n = 0;
    for (auto it = tags->MemberBegin(); it != tags->MemberEnd(); ++it) {
      if (++n > kMaxTags) break;
      if (View(it->name) == key && !it->value.IsNull()) return &it->value;
    }
  } else if (tags->IsArray()) {
    size_t n = 0;
    for (const Value& pair : tags->GetArray()) {
      if (++n > kMaxTags) break;
      if (pair.IsArray() && pair.Size() == 2 && pair[0].IsString() &&
          View(pair[0]) == key && !pair[1].IsNull()) {
        return &pair[1];
      }
    }
  }
  return nullptr;
}

// Nesting of the (valid) JSON text: the deepest container level, counted
// outside strings. Linear, no recursion.
int JsonDepth(std::string_view json) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

std::string FormatSeconds(double s) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", s);
  return buf;
}

}  // namespace

const std::vector<const char*>& SpanStatuses() {
  static const auto* v = new std::vector<const char*>{"ok",
                                                      "cancelled",
                                                      "unknown",
                                                      "invalid_argument",
                                                      "deadline_exceeded",
                                                      "not_found",
                                                      "already_exists",
                                                      "permission_denied",
                                                      "resource_exhausted",
                                                      "failed_precondition",
                                                      "aborted",
                                                      "out_of_range",
                                                      "unimplemented",
                                                      "internal_error",
                                                      "unavailable",
                                                      "data_loss",
                                                      "unauthenticated"};
  return *v;
}

std::string_view CanonicalSpanStatus(std::string_view status) {
  if (status.size() > 32) return "unknown";
  const std::string lower = util::ToLower(status);
  for (const char* s : SpanStatuses()) {
    if (lower == s) return s;
  }
  if (lower == "success") return "ok";
  if (lower == "failure") return "internal_error";
  if (lower == "unknown_error") return "unknown";
  if (lower == "canceled") return "cancelled";
  return "unknown";
}

std::string_view FoldMethod(std::string_view method) {
  if (method.empty()) return "";
  static constexpr std::string_view kMethods[] = {
      "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
  for (std::string_view m : kMethods) {
    if (util::EqualsIgnoreCase(method, m)) return m;
  }
  return "other";
}

std::string_view CanonicalSource(std::string_view source) {
  static constexpr std::string_view kSources[] = {
      "url",  "route",  "view",      "component",
      "task", "custom", "sanitized", "unknown"};
  for (std::string_view s : kSources) {
    if (source == s) return s;
  }
  return "unknown";
}

Status NormalizeTransaction(std::string_view json, double now,
                            const Options& options, Transaction* out) {
  if (!std::isfinite(now)) return Status::Invalid("now is not a number");
  rapidjson::Document doc;
  // Iterative parsing: nesting cannot exhaust the stack.
  doc.Parse<rapidjson::kParseIterativeFlag |
            rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    return Status::Invalid(std::string("transaction is not valid JSON: ") +
                           rapidjson::GetParseError_En(doc.GetParseError()) +
                           " (at byte " + std::to_string(doc.GetErrorOffset()) +
                           ")");
  }
  if (!doc.IsObject())
    return Status::Invalid("transaction is not a JSON object");
  const int depth = JsonDepth(json);
  if (depth > std::max(1, options.max_depth)) {
    return Status::Invalid("transaction is nested " + std::to_string(depth) +
                           " levels deep, more than " +
                           std::to_string(options.max_depth));
  }
  std::string error;
  if (const Value* type = Member(doc, "type")) {
    if (!type->IsString() || View(*type) != "transaction") {
      return Status::Invalid(
          "transaction field type: expected \"transaction\"");
    }
  }

  Transaction tx;
  tx.event_id = Canonical32(Member(doc, "event_id"));
  if (tx.event_id.empty()) tx.event_id = util::RandomHex(16);

  const Value* contexts = Member(doc, "contexts");
  if (contexts != nullptr && !contexts->IsObject()) {
    return Status::Invalid("transaction field contexts: expected an object");
  }
  const Value* trace = contexts ? Member(*contexts, "trace") : nullptr;
  if (trace == nullptr) {
    return Status::Invalid("transaction has no contexts.trace");
  }
  if (!trace->IsObject()) {
    return Status::Invalid(
        "transaction field contexts.trace: expected an object");
  }
  tx.trace_id = Canonical32(Member(*trace, "trace_id"));
  if (!IsTraceId(tx.trace_id)) {
    return Status::Invalid(
        "transaction field contexts.trace.trace_id: expected 32 hex digits, "
        "not all zeros");
  }
  tx.span_id = Canonical16(Member(*trace, "span_id"));
  if (tx.span_id.empty()) {
    return Status::Invalid(
        "transaction field contexts.trace.span_id: expected 16 hex digits, "
        "not all zeros");
  }
  if (const Value* parent = Member(*trace, "parent_span_id")) {
    tx.parent_span_id = Canonical16(parent);
    if (tx.parent_span_id.empty()) {
      return Status::Invalid(
          "transaction field contexts.trace.parent_span_id: expected 16 hex "
          "digits, not all zeros");
    }
  }
  tx.op = Text(Member(*trace, "op"), "contexts.trace.op", kMaxOpBytes, &error);
  const Value* trace_data = Member(*trace, "data");
  if (trace_data != nullptr && !trace_data->IsObject()) trace_data = nullptr;

  tx.name =
      Text(Member(doc, "transaction"), "transaction", kMaxNameBytes, &error);
  if (tx.name.empty()) tx.name = std::string(kUnlabeledTransaction);
  std::string source;
  if (const Value* info = Member(doc, "transaction_info")) {
    if (!info->IsObject()) {
      return Status::Invalid(
          "transaction field transaction_info: expected an object");
    }
    source =
        Text(Member(*info, "source"), "transaction_info.source", 32, &error);
  }
  if (source.empty() && trace_data != nullptr) {
    source = StringOrEmpty(Member(*trace_data, "sentry.source"), 32);
  }
  tx.source = std::string(CanonicalSource(source));

  if (!TimeValue(Member(doc, "start_timestamp"), &tx.start)) {
    return Status::Invalid(
        "transaction field start_timestamp: missing or not a time (RFC 3339 "
        "or epoch seconds)");
  }
  if (!TimeValue(Member(doc, "timestamp"), &tx.end)) {
    return Status::Invalid(
        "transaction field timestamp: missing or not a time (RFC 3339 or "
        "epoch seconds)");
  }
  const double duration = tx.end - tx.start;
  if (!(duration >= 0)) {
    return Status::Invalid("transaction ends " + FormatSeconds(-duration) +
                           " s before it starts (timestamp < "
                           "start_timestamp)");
  }
  if (options.max_duration_seconds > 0 &&
      duration > options.max_duration_seconds) {
    return Status::Invalid(
        "transaction lasts " + FormatSeconds(duration) + " s, more than the " +
        FormatSeconds(options.max_duration_seconds) + " s allowed");
  }

  // HTTP: method and response status.
  const Value* request = Member(doc, "request");
  if (request != nullptr && !request->IsObject()) {
    return Status::Invalid("transaction field request: expected an object");
  }
  std::string method =
      request ? Text(Member(*request, "method"), "request.method", 32, &error)
              : "";
  if (method.empty() && trace_data != nullptr) {
    method = StringOrEmpty(Member(*trace_data, "http.request.method"), 32);
    if (method.empty()) {
      method = StringOrEmpty(Member(*trace_data, "http.method"), 32);
    }
  }
  tx.method = std::string(FoldMethod(method));

  const Value* tags = Member(doc, "tags");
  if (tags != nullptr && !tags->IsObject() && !tags->IsArray()) {
    return Status::Invalid(
        "transaction field tags: expected an object or an array of pairs");
  }
  if (const Value* response =
          contexts ? Member(*contexts, "response") : nullptr) {
    tx.http_status = HttpStatusValue(Member(*response, "status_code"));
  }
  if (tx.http_status == 0) {
    tx.http_status = HttpStatusValue(Tag(tags, "http.status_code"));
  }
  if (tx.http_status == 0 && trace_data != nullptr) {
    tx.http_status =
        HttpStatusValue(Member(*trace_data, "http.response.status_code"));
    if (tx.http_status == 0) {
      tx.http_status = HttpStatusValue(Member(*trace_data, "http.status_code"));
    }
  }

  if (const Value* status = Member(*trace, "status")) {
    tx.status = std::string(
        CanonicalSpanStatus(Text(status, "contexts.trace.status", 64, &error)));
  } else if (tx.http_status != 0) {
    tx.status = std::string(SpanStatusForHttp(tx.http_status));
  } else {
    tx.status = "unknown";
  }

  tx.release =
      Text(Member(doc, "release"), "release", kMaxReleaseBytes, &error);
  tx.environment = Text(Member(doc, "environment"), "environment",
                        kMaxEnvironmentBytes, &error);
  tx.platform =
      Text(Member(doc, "platform"), "platform", kMaxPlatformBytes, &error);
  if (const Value* service = Tag(tags, "service")) {
    tx.service = Text(service, "tags.service", kMaxServiceBytes, &error);
  }
  if (tx.service.empty() && contexts != nullptr) {
    if (const Value* app = Member(*contexts, "app")) {
      tx.service = StringOrEmpty(Member(*app, "app_name"), kMaxServiceBytes);
    }
  }
  if (!error.empty()) return Status::Invalid("transaction field " + error);

  // Spans: the first max_spans array elements are read.
  if (const Value* spans = Member(doc, "spans")) {
    if (!spans->IsArray()) {
      return Status::Invalid("transaction field spans: expected an array");
    }
    const size_t n = spans->Size();
    const size_t read = std::min(n, options.max_spans);
    tx.spans_cut = n - read;
    tx.spans.reserve(read);
    for (size_t i = 0; i < read; ++i) {
      const Value& s = (*spans)[static_cast<rapidjson::SizeType>(i)];
      Span span;
      bool valid = s.IsObject();
      if (valid) {
        span.span_id = Canonical16(Member(s, "span_id"));
        valid = !span.span_id.empty();
      }
      if (valid) {
        if (const Value* parent = Member(s, "parent_span_id")) {
          span.parent_span_id = Canonical16(parent);
          valid = !span.parent_span_id.empty();
        }
      }
      valid = valid && TimeValue(Member(s, "start_timestamp"), &span.start) &&
              TimeValue(Member(s, "timestamp"), &span.end);
      if (valid) {
        const double d = span.end - span.start;
        const double offset = span.start - tx.start;
        valid = d >= 0 && (options.max_duration_seconds <= 0 ||
                           (d <= options.max_duration_seconds &&
                            std::fabs(offset) <= options.max_duration_seconds));
      }
      if (!valid) {
        ++tx.spans_invalid;
        continue;
      }
      span.op = StringOrEmpty(Member(s, "op"), kMaxOpBytes);
      span.description =
          StringOrEmpty(Member(s, "description"), kMaxDescriptionBytes);
      const Value* status = Member(s, "status");
      if (status == nullptr || !status->IsString()) {
        status = Tag(Member(s, "tags"), "status");  // sentry-python 1.x
      }
      span.status = std::string(CanonicalSpanStatus(
          status != nullptr && status->IsString() ? View(*status)
                                                  : std::string_view()));
      tx.spans.push_back(std::move(span));
    }
  }

  // Times far from `now`: the whole transaction moves to end at `now`.
  if (options.max_future_seconds > 0 &&
      tx.end > now + options.max_future_seconds) {
    tx.time_adjustment = TimeAdjustment::kFuture;
  } else if (options.max_past_seconds > 0 &&
             tx.end < now - options.max_past_seconds) {
    tx.time_adjustment = TimeAdjustment::kPast;
  }
  if (tx.time_adjustment != TimeAdjustment::kNone) {
    const double old_start = tx.start;
    tx.time_shift = now - tx.end;
    tx.end = now;
    tx.start = now - duration;
    for (Span& span : tx.spans) {
      const double offset = span.start - old_start;
      const double d = span.end - span.start;
      span.start = tx.start + offset;
      span.end = span.start + d;
    }
  }
  *out = std::move(tx);
  return Status::Ok();
}

}  // namespace tracing
}  // namespace crashctl
