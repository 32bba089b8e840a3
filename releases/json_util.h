// Private helpers of crashctl_releases: bounded JSON parsing with rapidjson
// and the small value rules (UUIDs, Sentry's API attribute characters, times)
// the three item parsers share.
//
// Thread-safety: pure functions, reentrant.
#ifndef CRASHCTL_RELEASES_JSON_UTIL_H_
#define CRASHCTL_RELEASES_JSON_UTIL_H_

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crashctl/util/status.h"

namespace crashctl::releases::internal {

// Parses `json` (at most max_bytes, valid UTF-8, iterative so nesting cannot
// exhaust the stack) into *doc, which must then be an object. `what` names
// the item in messages ("session payload").
Status ParseObject(std::string_view json, size_t max_bytes, const char* what,
                   rapidjson::Document* doc);

// The member `name` of object `obj`, or nullptr when absent or null.
const rapidjson::Value* Member(const rapidjson::Value& obj, const char* name);

// A string member: OK with *out set (cut to max_bytes at a UTF-8 boundary),
// OK with *out untouched when `v` is null, Invalid naming `path` otherwise.
Status GetString(const rapidjson::Value* v, std::string_view path,
                 size_t max_bytes, std::string* out);

// A non-negative integer member (a JSON integer, or a number with no
// fraction) no larger than max: OK and *out set; OK and untouched when `v`
// is null; Invalid otherwise.
Status GetUint(const rapidjson::Value* v, std::string_view path, uint64_t max,
               uint64_t* out);

// A finite number.
Status GetNumber(const rapidjson::Value* v, std::string_view path, double* out);

// A time: RFC 3339 text (lenient: no zone = UTC, +HHMM offsets) or epoch
// seconds as a number. False for anything else or outside years 1970-9999.
bool ParseTimeValue(const rapidjson::Value& v, double* out);

// A UUID as the Rust uuid crate reads it (32 hex digits, 8-4-4-4-12 with
// dashes, either inside braces or after "urn:uuid:"; any case) into 32
// lower-case hex digits.
bool ParseUuid(std::string_view text, std::string* hex32);

// Sentry's rule for release and environment names: no '/', '\\', DEL or
// control characters.
bool IsValidApiAttribute(std::string_view value);

// Sentry's release name rule (Relay drops sessions failing it): non-empty,
// <= 200 bytes, not ".", "..", "latest" (any case), IsValidApiAttribute.
// Returns "" when valid, else why not.
std::string ReleaseProblem(std::string_view release);
// Sentry's environment rule: <= 64 bytes, not ".", "..", "none" (any case),
// IsValidApiAttribute. "" is valid (no environment).
std::string EnvironmentProblem(std::string_view environment);

// `s` cut to `max` bytes at a UTF-8 boundary.
std::string Cut(std::string_view s, size_t max);

// For messages: `s` cut to 64 bytes, control characters as '?'.
std::string Quote(std::string_view s);

}  // namespace crashctl::releases::internal

#endif  // CRASHCTL_RELEASES_JSON_UTIL_H_
