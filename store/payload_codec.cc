#include "payload_codec.h"

#include <zlib.h>

#include <cstdint>

namespace crashctl {
namespace store {
namespace {

constexpr size_t kHeaderBytes = 4;
constexpr uint32_t kMaxJsonBytes = 256u << 20;

// One deflate state per thread, reset between payloads: deflateInit
// allocates and clears a few hundred KB, which costs far more than
// compressing a 5 KB event. An 8 KB window (windowBits 13, memLevel 6) keeps
// the state near 50 KB; events are rarely larger, and larger ones still
// compress, with a shorter reach back.
class Deflater {
 public:
  Deflater() {
    ok_ = deflateInit2(&stream_, 1, Z_DEFLATED, 13, 6, Z_DEFAULT_STRATEGY) ==
          Z_OK;
  }
  ~Deflater() {
    if (ok_) deflateEnd(&stream_);
  }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // Appends the zlib stream of `input` to `*out`; false on failure.
  bool Compress(std::string_view input, std::string* out) {
    if (!ok_ || deflateReset(&stream_) != Z_OK) return false;
    const size_t start = out->size();
    out->resize(start + deflateBound(&stream_, input.size()));
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    stream_.avail_in = static_cast<uInt>(input.size());
    stream_.next_out = reinterpret_cast<Bytef*>(&(*out)[start]);
    stream_.avail_out = static_cast<uInt>(out->size() - start);
    // deflateBound() room: one Z_FINISH call ends the stream.
    const int rc = deflate(&stream_, Z_FINISH);
    out->resize(out->size() - stream_.avail_out);
    return rc == Z_STREAM_END;
  }

 private:
  z_stream stream_{};
  bool ok_ = false;
};

}  // namespace

bool EncodePayload(std::string_view json, std::string* stored) {
  thread_local Deflater deflater;
  // zlib needs deflateBound() bytes of room, about the JSON's size; the
  // result is a few times smaller. Compressing into a reused buffer and
  // copying out the result keeps each stored form at its own size (it may
  // wait in the ingest queue) and saves an allocation as large as the event.
  thread_local std::string scratch;
  constexpr size_t kKeepScratchBytes = 64 << 10;
  stored->clear();
  if (json.size() > kMaxJsonBytes) return false;
  scratch.assign(kHeaderBytes, '\0');
  const auto length = static_cast<uint32_t>(json.size());
  for (size_t i = 0; i < kHeaderBytes; ++i) {
    scratch[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  }
  const bool ok = deflater.Compress(json, &scratch);
  if (ok) stored->assign(scratch);
  if (scratch.capacity() > kKeepScratchBytes) std::string().swap(scratch);
  return ok;
}

bool DecodePayload(std::string_view stored, std::string* json) {
  json->clear();
  if (stored.size() <= kHeaderBytes) return false;
  uint32_t length = 0;
  for (size_t i = 0; i < kHeaderBytes; ++i) {
    length |= static_cast<uint32_t>(static_cast<unsigned char>(stored[i]))
              << (8 * i);
  }
  if (length > kMaxJsonBytes) return false;
  json->resize(length);
  uLongf written = length;
  const int rc =
      uncompress(reinterpret_cast<Bytef*>(json->data()), &written,
                 reinterpret_cast<const Bytef*>(stored.data() + kHeaderBytes),
                 static_cast<uLong>(stored.size() - kHeaderBytes));
  if (rc != Z_OK || written != length) {
    json->clear();
    return false;
  }
  return true;
}

}  // namespace store
}  // namespace crashctl
