// libFuzzer target: ingest/envelope.h ParseEnvelope on arbitrary bytes,
// the attachment / user_report / feedback parsers on its items and
// DecodeLegacyBody on the whole input.
// Checks the documented contract beyond "does not crash": at most max_items
// items, an error message exactly when parsing fails, every item typed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ingest/envelope.h"
#include "ingest/items.h"

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
      // The item parsers of issue 18 take any bytes: a Status, no crash.
      crashctl::model::Attachment attachment;
      (void)crashctl::ingest::ParseAttachmentHeader(item.header_json,
                                                    &attachment);
      crashctl::model::Feedback feedback;
      (void)crashctl::ingest::ParseUserReport(item.payload, 1, &feedback);
      (void)crashctl::ingest::ParseFeedbackItem(item.payload, 1, &feedback);
    }
    if (payload_bytes > size) std::abort();
  } else if (error.empty()) {
    std::abort();
  }
  // A legacy /store/ body: base64 (of zlib) JSON, bounded output.
  std::string decoded;
  if (crashctl::ingest::DecodeLegacyBody(body, 1 << 16, &decoded) ==
          crashctl::ingest::LegacyBody::kDecoded &&
      decoded.size() > (1 << 16)) {
    std::abort();
  }
  return 0;
}
