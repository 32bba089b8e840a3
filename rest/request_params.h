// Strict parsing of REST path and query parameters. Pure functions;
// thread-safe.
#ifndef CRASHCTL_REST_REQUEST_PARAMS_H_
#define CRASHCTL_REST_REQUEST_PARAMS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "crashctl/http/http.h"

namespace crashctl {
namespace rest {

// One query parameter a route accepts. Only a `repeatable` one may be given
// more than once (e.g. `tag=a:1&tag=b:2`).
struct ParamSpec {
  const char* name;
  bool repeatable = false;
};
using ParamList = std::vector<ParamSpec>;

// Bound on the parameters one query string may hold (more answer 400).
constexpr size_t kMaxQueryParams = 128;  // > store::kMaxBulkGroups ids

// The URL-decoded (name, value) pairs of a raw query string, in order;
// empty parts ("a=1&&b=2") are skipped. At most kMaxQueryParams + 1 pairs are
// returned (enough to tell that there were too many).
std::vector<std::pair<std::string, std::string>> SplitQuery(
    const std::string& query);
// Every value of query parameter `name`, in order (SplitQuery).
std::vector<std::string> QueryParamValues(const http::HttpRequest& request,
                                          const std::string& name);

// The 400 message of a malformed value: `invalid "<name>": <why>, not
// "<value>"` (the value cut to 64 bytes, valid UTF-8).
std::string InvalidParam(const std::string& name, const std::string& value,
                         const std::string& why);

// Checks that every query parameter of `request` is in `allowed` and that
// only repeatable ones repeat. On failure sets `*error`: `unknown parameter
// "foo": use a, b` (or `...: this route takes none`), `parameter "a" given
// twice`, or `more than 128 query parameters`.
bool CheckQueryParams(const http::HttpRequest& request,
                      const ParamList& allowed, std::string* error);

// `handler` behind CheckQueryParams: a request with an unknown or repeated
// parameter is answered 400 {"error": ...} and never reaches `handler`.
http::HttpHandler WithQueryParams(ParamList allowed, http::HttpHandler handler);

// Decimal digits only (no sign, no spaces), value 1..INT64_MAX.
bool ParsePositiveId(const std::string& text, int64_t* out);

// Query parameter `limit`: absent keeps `*limit`; otherwise it must be an
// integer in 1..1000. On failure sets `*error` (names the parameter).
bool ParseLimitParam(const http::HttpRequest& request, int* limit,
                     std::string* error);

// A Sentry event id: 32 hex digits, or a UUID with dashes; either case.
// Sets `*out` to the 32 lowercase hex form.
bool NormalizeEventId(const std::string& text, std::string* out);

// A point in time (`since`, `until`): epoch seconds (a non-negative decimal
// number) or an RFC 3339 timestamp. On failure sets `*error` naming `name`.
bool ParseTimeParam(const std::string& name, const std::string& text,
                    double* out, std::string* error);
// ParseTimeParam("since", ...).
bool ParseSinceParam(const std::string& text, double* out, std::string* error);

// A trace id: 32 hex digits, either case. Sets `*out` to the 32 lowercase hex
// form.
bool NormalizeTraceId(const std::string& text, std::string* out);

// A duration in seconds: a non-negative decimal number ("0.25", "2"),
// finite, at most 10^9. On failure sets `*error` naming `name`.
bool ParseSecondsParam(const std::string& name, const std::string& text,
                       double* out, std::string* error);

}  // namespace rest
}  // namespace crashctl

#endif  // CRASHCTL_REST_REQUEST_PARAMS_H_
