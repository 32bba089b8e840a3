// Sentry event JSON -> crashctl::Event. Thread-safe.
#ifndef CRASHCTL_INGEST_NORMALIZE_H_
#define CRASHCTL_INGEST_NORMALIZE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/event.h"

namespace crashctl {

// Parses one Sentry event payload (store endpoint body or envelope `event`
// item). Accepts every field shape real SDKs send: `timestamp` as RFC 3339
// string or epoch number; `message` as string or object; `logentry`;
// `exception` as object with `values` or as bare array; `stacktrace` at
// event level (attached to a synthetic exception-less stack) or per
// exception; `tags` as object or array of pairs; `fingerprint` as array of
// strings. Generates an event_id when missing/invalid (dashes stripped,
// lower-cased). `now` fills `received` and a missing timestamp. Returns false
// with `*error` when the payload is not a JSON object or a field has an
// impossible type.
bool NormalizeEvent(std::string_view json, int64_t project_id, double now,
                    Event* out, std::string* error);

// A random 32-hex event id.
std::string NewEventId();

// Parses an event timestamp given as text: RFC 3339 with optional fraction
// and `Z` / `±HH:MM` zone (a missing zone means UTC), or epoch seconds.
// Returns false when `s` is neither.
bool ParseTimestamp(std::string_view s, double* out);

}  // namespace crashctl

#endif  // CRASHCTL_INGEST_NORMALIZE_H_
