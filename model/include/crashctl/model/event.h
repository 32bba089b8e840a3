// The normalised event model: what every ingestion protocol produces and what
// grouping and the store consume (model/: the value types several components
// share). Plain values, no behaviour; safe to copy and
// to move between threads.
#ifndef CRASHCTL_MODEL_EVENT_H_
#define CRASHCTL_MODEL_EVENT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crashctl/model/vocabulary.h"

namespace crashctl {
namespace model {

// One stack frame as a Sentry SDK sends it. Empty string / 0 means "absent".
struct Frame {
  std::string function;      // raw (possibly mangled) function name
  std::string raw_function;  // Sentry `raw_function`, if any
  std::string module;        // Python/Java module, JS module path
  std::string package;       // native: shared object the frame is in
  std::string filename;      // as sent (may be relative)
  std::string abs_path;      // as sent
  int lineno = 0;
  int colno = 0;
  std::string instruction_addr;  // "0x..." for native frames
  std::optional<bool> in_app;    // absent when the SDK did not say
  std::string platform;          // per-frame platform override
};

// One exception of a chain. Frames are in Sentry order: the outermost call
// first, the frame that raised last.
struct ExceptionValue {
  std::string type;
  std::string value;
  std::string module;
  std::string mechanism_type;  // e.g. "onerror", "signalhandler"
  std::optional<bool> handled;
  std::vector<Frame> frames;
};

// The longest user key kept (Event::user), as Sentry's tag values.
constexpr size_t kMaxUserKeyBytes = 200;

struct Event {
  std::string event_id;  // 32 lowercase hex characters, never empty
  int64_t project_id = 0;
  double timestamp = 0;  // seconds since the Unix epoch (UTC)
  double received = 0;   // when crashctl accepted it, same unit
  Level level = Level::kError;
  std::string platform;
  std::string logger;
  std::string transaction;
  // contexts.trace.trace_id / span_id (32 / 16 lower-case hex), "" when
  // absent or malformed: the error's link to its trace (issue 17).
  std::string trace_id;
  std::string span_id;
  // logentry.formatted, else logentry.message, else message (string or
  // message.formatted / message.message).
  std::string message;
  // Exception chain in Sentry order (`exception.values`): the first is the
  // root cause, the last the one that was finally raised.
  std::vector<ExceptionValue> exceptions;
  std::vector<std::pair<std::string, std::string>> tags;  // in order sent
  std::string release;
  std::string environment;
  std::string server_name;
  std::string service;  // tag `service`, else contexts.app.app_name, else ""
  // The SDK that sent it: `sdk.name` / `sdk.version` of the event, else the
  // `sentry_client` field of X-Sentry-Auth ("raven-python/6.10.0"); "" when
  // unknown. At most 128 bytes each.
  std::string sdk_name;
  std::string sdk_version;
  // The user key (issue 19): user.id, else user.email, else
  // user.username, else user.ip_address, as text; "" when none. At most
  // 200 bytes. What `?user=` filters on and DELETE /api/v1/events?user=
  // erases.
  std::string user;
  std::vector<std::string> fingerprint;  // client fingerprint, may be empty
  // Parts kept as compact JSON text for display ("" when absent).
  std::string user_json;
  std::string contexts_json;
  std::string breadcrumbs_json;  // always a JSON array when present
  std::string request_json;
  // The original event JSON exactly as received (after decompression).
  std::string raw_json;

  // Returns the value of tag `key`, or "" when the event has no such tag.
  const std::string& Tag(const std::string& key) const {
    static const std::string kEmpty;
    for (const auto& kv : tags) {
      if (kv.first == key) return kv.second;
    }
    return kEmpty;
  }
};

}  // namespace model
}  // namespace crashctl

#endif  // CRASHCTL_MODEL_EVENT_H_
