// Serialises events to Sentry event JSON and wraps them in envelopes.
// Thread-safety: pure functions, thread-safe.
#ifndef CRASHCTL_SDK_SRC_EVENT_JSON_H_
#define CRASHCTL_SDK_SRC_EVENT_JSON_H_

#include <string>

#include "crashctl/sdk.h"

namespace crashctl {
namespace sdk {

// Sentry event JSON for `event`. Frames keep their order (oldest first);
// log_lines and extra go to both `extra` and `contexts.crashctl`.
std::string EventToJson(const Event& event);

// A Sentry envelope with one item of `item_type` ("event", "transaction"):
//   {"event_id":..,"dsn":..,"sent_at":..[,"trace":{..}]}\n
//   {"type":"event","length":N}\n<json>\n
// `trace_json`, when not empty, is a JSON object (the trace's Dynamic
// Sampling Context) written as the header's "trace".
std::string BuildEnvelope(const std::string& event_id, const std::string& dsn,
                          const std::string& event_json,
                          const std::string& item_type = "event",
                          const std::string& trace_json = "");

// Reads the "dsn" and "event_id" of an envelope's header line. False if the
// header is not a JSON object with a string "dsn".
bool ParseEnvelopeHeader(const std::string& envelope, std::string* dsn,
                         std::string* event_id);

}  // namespace sdk
}  // namespace crashctl

#endif  // CRASHCTL_SDK_SRC_EVENT_JSON_H_
