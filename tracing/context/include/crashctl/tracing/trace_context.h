// Trace propagation headers: `sentry-trace`, W3C `traceparent` and W3C
// `baggage` (with Sentry's `sentry-*` entries), parsed strictly and formatted
// canonically. Target `crashctl_trace_context`: the C++ standard library only
// (no crashctl_util, no rapidjson, no civetweb), so the C++ SDK and its
// civetweb wrapper can link it; this is why errors are reported as text
// (`std::string* error`, may be null) rather than as crashctl::Status.
//
// Grammar (docs/tracing.md#headers):
//   sentry-trace = trace-id "-" span-id [ "-" ( "0" / "1" ) ]
//   traceparent  = version "-" trace-id "-" parent-id "-" flags [ "-" ... ]
//   baggage      = list-member *( OWS "," OWS list-member ), <= 8192 bytes
// trace-id is 32 and span-id / parent-id 16 lower-case hex digits, never all
// zeros; version and flags are 2 lower-case hex digits. Blanks (space, tab)
// around a whole header are ignored; nothing else is tolerated.
//
// Thread-safety: pure functions and plain value types; NewTraceId and
// NewSpanId use a thread-local generator. Safe from any thread.
#ifndef CRASHCTL_TRACING_TRACE_CONTEXT_H_
#define CRASHCTL_TRACING_TRACE_CONTEXT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crashctl {
namespace tracing {

// W3C's and Sentry's size bound of a baggage header.
inline constexpr size_t kMaxBaggageBytes = 8192;
// At most this many list-members in a baggage header (the W3C grammar's
// 180).
inline constexpr size_t kMaxBaggageMembers = 180;

// True when `s` is exactly 32 (IsTraceId) / 16 (IsSpanId) lower-case hex
// digits and not all zeros.
bool IsTraceId(std::string_view s);
bool IsSpanId(std::string_view s);

// A random trace id (32 hex) / span id (16 hex), never all zeros, from a
// thread-local std::mt19937_64 seeded by std::random_device. Not for
// secrets.
std::string NewTraceId();
std::string NewSpanId();

// --- sentry-trace ---------------------------------------------------------

struct SentryTrace {
  std::string trace_id;         // 32 lower-case hex
  std::string span_id;          // 16 lower-case hex: the caller's span
  std::optional<bool> sampled;  // absent: the receiver decides
};

// Parses "traceid-spanid" or "traceid-spanid-0|1". Returns false (and the
// reason in `*error`) on anything else: upper-case hex, wrong lengths, an
// all-zero id, a sampled flag other than 0/1, extra fields. `*out` is left
// untouched on failure.
bool ParseSentryTrace(std::string_view header, SentryTrace* out,
                      std::string* error);
// "traceid-spanid[-0|1]"; "" when an id is invalid.
std::string FormatSentryTrace(const SentryTrace& value);

// --- traceparent ----------------------------------------------------------

struct TraceParent {
  uint8_t version = 0;    // 0x00; 0xff is invalid
  std::string trace_id;   // 32 lower-case hex
  std::string parent_id;  // 16 lower-case hex
  uint8_t flags = 0;      // bit 0: sampled
  bool sampled() const { return (flags & 1) != 0; }
};

// Parses "00-<32hex>-<16hex>-<2hex>". Version 00 must have exactly those
// four fields; a higher version may have more after a '-' (ignored, as the
// W3C recommendation says). Version ff, upper-case hex, all-zero ids are
// refused. `*out` is left untouched on failure.
bool ParseTraceparent(std::string_view header, TraceParent* out,
                      std::string* error);
// Always formats version 00 (a higher version's extra fields are not
// kept); "" when an id is invalid.
std::string FormatTraceparent(const TraceParent& value);

// The same trace in the other header's form. A traceparent's sampled flag
// is always known; a SentryTrace without `sampled` becomes flags 00.
SentryTrace ToSentryTrace(const TraceParent& value);
TraceParent ToTraceparent(const SentryTrace& value);

// --- baggage --------------------------------------------------------------

// The Dynamic Sampling Context a head SDK freezes into `sentry-*` baggage
// entries, values percent-decoded; and everything else, untouched.
struct Baggage {
  std::optional<std::string> trace_id;     // sentry-trace_id
  std::optional<std::string> public_key;   // sentry-public_key
  std::optional<std::string> sample_rate;  // sentry-sample_rate
  std::optional<std::string> release;      // sentry-release
  std::optional<std::string> environment;  // sentry-environment
  std::optional<std::string> transaction;  // sentry-transaction
  std::optional<std::string> sampled;      // sentry-sampled ("true"/"false")
  // Other sentry-* entries (sentry-sample_rand, sentry-org_id, ...): name
  // without the "sentry-" prefix, value decoded; in the order received.
  std::vector<std::pair<std::string, std::string>> other_sentry;
  // Other vendors' list-members exactly as received (blanks around them
  // trimmed), in order; re-emitted verbatim.
  std::vector<std::string> third_party;

  bool has_sentry_entries() const;
};

// Parses a W3C baggage header: list-members "key=value[;property...]"
// separated by commas with optional blanks; a key is an RFC 7230 token; a
// value is baggage-octets with valid %XX escapes. A sentry-* member's
// properties are ignored; the first of repeated sentry-* keys wins. An
// empty header is an empty Baggage. Refused (false, `*error`): more than
// kMaxBaggageBytes bytes or kMaxBaggageMembers members, an empty member, a
// member without '=', a bad key or value, a bad escape, invalid UTF-8 in a
// decoded sentry-* value. `*out` is left untouched on failure.
bool ParseBaggage(std::string_view header, Baggage* out, std::string* error);

// The sentry-* entries first, in the order of the struct's fields then
// `other_sentry`, values percent-encoded as JavaScript's
// encodeURIComponent does; then `third_party` members verbatim, each kept
// only while the header stays within kMaxBaggageBytes (the number dropped
// goes to `*dropped` when not null). Sentry entries are never dropped for a
// third party's; an invalid other_sentry name (not a token) is skipped and
// counted as dropped too. Parse(Format(b)) == b for every b that
// ParseBaggage produced, when nothing was dropped and the result is within
// kMaxBaggageBytes (re-encoding may lengthen a value: '@' becomes %40).
std::string FormatBaggage(const Baggage& value, size_t* dropped = nullptr);

// Percent-encoding of a baggage value (encodeURIComponent's set kept:
// A-Z a-z 0-9 - _ . ! ~ * ' ( )) and its inverse (false on a bad escape).
std::string PercentEncode(std::string_view value);
bool PercentDecode(std::string_view value, std::string* out);

// The span status an HTTP response status means (Sentry SDKs' mapping):
// < 400 ok; 401 unauthenticated, 403 permission_denied, 404 not_found,
// 409 already_exists, 413 failed_precondition, 429 resource_exhausted,
// other 4xx invalid_argument; 501 unimplemented, 503 unavailable,
// 504 deadline_exceeded, other 5xx internal_error; else unknown.
std::string_view SpanStatusForHttp(int http_status);

}  // namespace tracing
}  // namespace crashctl

#endif  // CRASHCTL_TRACING_TRACE_CONTEXT_H_
