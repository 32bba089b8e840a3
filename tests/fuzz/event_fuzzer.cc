// libFuzzer target: ingest/normalize.h NormalizeEvent (and ParseTimestamp)
// on arbitrary bytes. On success the event must honour the model's
// invariants (core/event.h): a 32-lowercase-hex event id, the raw JSON kept.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/event.h"
#include "ingest/normalize.h"

namespace {

bool IsEventId(const std::string& id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  crashctl::Event event;
  std::string error;
  if (crashctl::NormalizeEvent(json, 7, 1.7e9, &event, &error)) {
    if (!IsEventId(event.event_id)) std::abort();
    if (event.project_id != 7) std::abort();
  } else if (error.empty()) {
    std::abort();
  }
  double ts = 0;
  crashctl::ParseTimestamp(json.substr(0, 64), &ts);
  return 0;
}
