// Strict parsing of REST path and query parameters. Pure functions;
// thread-safe.
#ifndef CRASHCTL_REST_REQUEST_PARAMS_H_
#define CRASHCTL_REST_REQUEST_PARAMS_H_

#include <cstdint>
#include <string>

#include "crashctl/http/http.h"

namespace crashctl {
namespace rest {

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
