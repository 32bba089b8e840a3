// Sentry event JSON -> crashctl::model::Event. Thread-safe.
#ifndef CRASHCTL_INGEST_NORMALIZE_H_
#define CRASHCTL_INGEST_NORMALIZE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "crashctl/model/event.h"
#include "crashctl/scrub/scrubber.h"

namespace crashctl {
namespace ingest {

// How NormalizeEvent treats what it cannot trust (docs/ingestion-formats.md).
struct NormalizeOptions {
  // Timestamps more than `max_future_seconds` ahead of `now` or more than
  // `max_past_seconds` behind it are replaced by `now` (as Sentry Relay
  // does), the original kept in the payload's `errors` list
  // ({"type": "future_timestamp"|"past_timestamp", "name": "timestamp",
  // "sdk_time": ..., "server_time": ...}); the event is never refused for
  // its time. A value <= 0 disables that bound.
  double max_future_seconds = 60;
  double max_past_seconds = 30 * 86400.0;
  // Containers nested deeper than this anywhere in the payload are replaced
  // by the string "[depth limit]" (and an `errors` entry
  // {"type": "depth_limit", "count": N}).
  int max_depth = 64;
  // Scrubbing rules (null: Sentry's defaults). Applied to the whole payload
  // before any field is read.
  const scrub::Scrubber* scrubber = nullptr;
  // privacy.store_ip: false removes user.ip_address, request.env.REMOTE_ADDR
  // and client-address request headers; true keeps them and replaces a
  // user.ip_address of "{{auto}}" by `remote_addr`.
  bool store_ip = false;
  std::string remote_addr;
};

// What NormalizeEvent changed in the payload (for metrics).
struct NormalizeReport {
  size_t depth_cuts = 0;  // containers replaced by "[depth limit]"
  size_t scrubbed = 0;    // values replaced by "[Filtered]" or removed
  bool future_timestamp = false;
  bool past_timestamp = false;
  // True when the stored payload differs from the bytes received.
  bool rewritten() const {
    return depth_cuts > 0 || scrubbed > 0 || future_timestamp || past_timestamp;
  }
};

// Parses one Sentry event payload (store endpoint body or envelope `event`
// item). Accepts every field shape real SDKs send: `timestamp` as RFC 3339
// string or epoch number; `message` as string or object; `logentry`;
// `exception` as object with `values` or as bare array; `stacktrace` at
// event level (attached to a synthetic exception-less stack) or per
// exception; `tags` as object or array of pairs; `fingerprint` as array of
// strings. Generates an event_id when missing/invalid (dashes stripped,
// lower-cased). `now` fills `received` and a missing timestamp. Returns false
// with `*error` when the payload is not a JSON object or a field has an
// impossible type. `options` bounds depth and time and scrubs secrets (see
// NormalizeOptions); `event.raw_json` is then the rewritten payload when
// anything was changed, else the bytes as received. `report` may be null.
bool NormalizeEvent(std::string_view json, int64_t project_id, double now,
                    const NormalizeOptions& options, model::Event* out,
                    NormalizeReport* report, std::string* error);
// The same with default NormalizeOptions.
bool NormalizeEvent(std::string_view json, int64_t project_id, double now,
                    model::Event* out, std::string* error);

// A random 32-hex event id.
std::string NewEventId();

// Parses an event timestamp given as text: RFC 3339 with optional fraction
// and `Z` / `±HH:MM` zone (a missing zone means UTC), or epoch seconds.
// Returns false when `s` is neither.
bool ParseTimestamp(std::string_view s, double* out);

}  // namespace ingest
}  // namespace crashctl

#endif  // CRASHCTL_INGEST_NORMALIZE_H_
