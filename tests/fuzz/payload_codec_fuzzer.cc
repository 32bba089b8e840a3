// libFuzzer target: the stored payload codec (store/payload_codec.h) on
// arbitrary bytes. Checks:
// - DecodePayload of any bytes either fails with an empty result or gives a
//   JSON of at most 256 MiB, and the detected format agrees with success
//   (an unknown format never decodes);
// - the input encodes, and its stored form is a zstd frame that decodes to
//   the input exactly;
// - a decoded zstd or zlib row re-encodes (as zstd) to the same JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "store/payload_codec.h"

namespace {

using crashctl::store::DecodePayload;
using crashctl::store::DetectPayloadFormat;
using crashctl::store::EncodePayload;
using crashctl::store::PayloadFormat;

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  std::string json = "junk";
  const PayloadFormat format = DetectPayloadFormat(input);
  if (DecodePayload(input, &json)) {
    Check(format != PayloadFormat::kUnknown);
    Check(json.size() <= (256u << 20));
    std::string again;
    Check(EncodePayload(json, &again));
    std::string back;
    Check(DecodePayload(again, &back) && back == json);
  } else {
    Check(json.empty());
  }

  std::string stored;
  Check(EncodePayload(input, &stored));
  Check(DetectPayloadFormat(stored) == PayloadFormat::kZstd);
  std::string back;
  Check(DecodePayload(stored, &back));
  Check(back == input);
  return 0;
}
