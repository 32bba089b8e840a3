// Sentry envelope parsing (https://develop.sentry.dev/sdk/envelopes/).
//
// Grammar: a JSON header line, then items; each item is a JSON header line
// followed by a payload that is either `length` bytes long (when the item
// header has `length`) or runs to the next '\n' / end of input. The final
// newline is optional. Pure functions, thread-safe.
#ifndef CRASHCTL_INGEST_ENVELOPE_H_
#define CRASHCTL_INGEST_ENVELOPE_H_

#include <string>
#include <string_view>
#include <vector>

namespace crashctl {
namespace ingest {

struct EnvelopeItem {
  std::string type;         // item header `type` ("event", "session", ...)
  std::string header_json;  // the item header line as sent
  std::string payload;
};

struct Envelope {
  std::string event_id;  // envelope header `event_id`, may be ""
  std::string dsn;       // envelope header `dsn`, may be ""
  std::string sent_at;   // envelope header `sent_at` (RFC 3339), may be ""
  std::string header_json;
  std::vector<EnvelopeItem> items;
};

// Parses `body`. Returns false with a one-line `*error` when the envelope is
// malformed: header not a JSON object, item header without `type`, `length`
// beyond the end of input, missing newline after a length-delimited payload,
// truncated input. At most `max_items` items are accepted.
bool ParseEnvelope(std::string_view body, Envelope* out, std::string* error,
                   size_t max_items = 1000);

}  // namespace ingest
}  // namespace crashctl

#endif  // CRASHCTL_INGEST_ENVELOPE_H_
