// libFuzzer target: ingest/envelope.h ParseEnvelope on arbitrary bytes.
// Checks the documented contract beyond "does not crash": at most max_items
// items, an error message exactly when parsing fails, every item typed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ingest/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  constexpr size_t kMaxItems = 8;
  crashctl::ingest::Envelope envelope;
  std::string error;
  if (crashctl::ingest::ParseEnvelope(body, &envelope, &error, kMaxItems)) {
    if (envelope.items.size() > kMaxItems) std::abort();
    size_t payload_bytes = 0;
    for (const crashctl::ingest::EnvelopeItem& item : envelope.items) {
      if (item.type.empty()) std::abort();
      payload_bytes += item.payload.size();
    }
    if (payload_bytes > size) std::abort();
  } else if (error.empty()) {
    std::abort();
  }
  return 0;
}
