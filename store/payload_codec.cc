#include "payload_codec.h"

#include <zlib.h>
#include <zstd.h>

#include <cstdint>

namespace crashctl {
namespace store {
namespace {

constexpr size_t kZlibHeaderBytes = 4;
constexpr uint32_t kMaxJsonBytes = 256u << 20;
constexpr unsigned char kZstdMagic[4] = {0x28, 0xb5, 0x2f, 0xfd};

// One compression context per thread, reset between payloads: creating one
// allocates its tables, which costs more than compressing a 9 KB event.
// Level 1 with the size known up front: zstd sizes the window and blocks to
// the payload. Its hash table is held at 2^13 entries (32 KiB; level 1
// picks 2^15 for payloads under 16 KiB): the context of a thread that
// compressed a typical event is then about 100 KB instead of 200 KB, with
// rows of the same size (bench/CODEC.md). Every HTTP thread that stores an
// event keeps one; zstd shrinks one that a large payload grew once it has
// been oversized for a while.
constexpr int kHashLog = 13;
class Compressor {
 public:
  Compressor() : cctx_(ZSTD_createCCtx()) {
    if (cctx_ != nullptr &&
        (ZSTD_isError(
             ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, 1)) ||
         ZSTD_isError(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1)) ||
         ZSTD_isError(
             ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, 1)) ||
         ZSTD_isError(
             ZSTD_CCtx_setParameter(cctx_, ZSTD_c_hashLog, kHashLog)))) {
      ZSTD_freeCCtx(cctx_);
      cctx_ = nullptr;
    }
  }
  ~Compressor() { ZSTD_freeCCtx(cctx_); }
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  // Appends one zstd frame of `input` to `*out`; false on failure.
  bool Compress(std::string_view input, std::string* out) {
    if (cctx_ == nullptr) return false;
    // ZSTD_compress2 starts a new frame (a session reset) and keeps the
    // parameters set above.
    const size_t start = out->size();
    out->resize(start + ZSTD_compressBound(input.size()));
    const size_t n = ZSTD_compress2(cctx_, &(*out)[start], out->size() - start,
                                    input.data(), input.size());
    if (ZSTD_isError(n)) {
      out->resize(start);
      return false;
    }
    out->resize(start + n);
    return true;
  }

 private:
  ZSTD_CCtx* cctx_;
};

class Decompressor {
 public:
  Decompressor() : dctx_(ZSTD_createDCtx()) {}
  ~Decompressor() { ZSTD_freeDCtx(dctx_); }
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  bool Decompress(std::string_view frame, std::string* json) {
    if (dctx_ == nullptr) return false;
    // Exactly one frame, with its size, no dictionary, and not too large.
    if (ZSTD_findFrameCompressedSize(frame.data(), frame.size()) !=
        frame.size()) {
      return false;
    }
    const unsigned long long size =
        ZSTD_getFrameContentSize(frame.data(), frame.size());
    if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ||
        size > kMaxJsonBytes) {
      return false;
    }
    if (ZSTD_getDictID_fromFrame(frame.data(), frame.size()) != 0) {
      return false;
    }
    json->resize(static_cast<size_t>(size));
    const size_t n = ZSTD_decompressDCtx(dctx_, json->data(), json->size(),
                                         frame.data(), frame.size());
    return !ZSTD_isError(n) && n == size;
  }

 private:
  ZSTD_DCtx* dctx_;
};

// The former format: 4-byte little-endian length, then a zlib stream.
bool DecodeZlib(std::string_view stored, std::string* json) {
  if (stored.size() <= kZlibHeaderBytes) return false;
  uint32_t length = 0;
  for (size_t i = 0; i < kZlibHeaderBytes; ++i) {
    length |= static_cast<uint32_t>(static_cast<unsigned char>(stored[i]))
              << (8 * i);
  }
  if (length > kMaxJsonBytes) return false;
  json->resize(length);
  uLongf written = length;
  const int rc = uncompress(
      reinterpret_cast<Bytef*>(json->data()), &written,
      reinterpret_cast<const Bytef*>(stored.data() + kZlibHeaderBytes),
      static_cast<uLong>(stored.size() - kZlibHeaderBytes));
  return rc == Z_OK && written == length;
}

}  // namespace

PayloadFormat DetectPayloadFormat(std::string_view stored) {
  if (stored.size() < 4) return PayloadFormat::kUnknown;
  bool zstd = true;
  for (size_t i = 0; i < 4; ++i) {
    zstd = zstd && static_cast<unsigned char>(stored[i]) == kZstdMagic[i];
  }
  if (zstd) return PayloadFormat::kZstd;
  // A zlib row's length is at most 256 MiB: its fourth byte is <= 0x10.
  if (static_cast<unsigned char>(stored[3]) <= (kMaxJsonBytes >> 24)) {
    return PayloadFormat::kZlib;
  }
  return PayloadFormat::kUnknown;
}

bool EncodePayload(std::string_view json, std::string* stored) {
  thread_local Compressor compressor;
  // zstd needs ZSTD_compressBound() bytes of room, a little more than the
  // JSON; the result is several times smaller. Compressing into a reused
  // buffer and copying out the result keeps each stored form at its own
  // size (it may wait in the ingest queue) and saves an allocation as large
  // as the event.
  thread_local std::string scratch;
  constexpr size_t kKeepScratchBytes = 64 << 10;
  stored->clear();
  if (json.size() > kMaxJsonBytes) return false;
  scratch.clear();
  const bool ok = compressor.Compress(json, &scratch);
  if (ok) stored->assign(scratch);
  if (scratch.capacity() > kKeepScratchBytes) std::string().swap(scratch);
  return ok;
}

bool DecodePayload(std::string_view stored, std::string* json) {
  thread_local Decompressor decompressor;
  json->clear();
  bool ok = false;
  switch (DetectPayloadFormat(stored)) {
    case PayloadFormat::kZstd:
      ok = decompressor.Decompress(stored, json);
      break;
    case PayloadFormat::kZlib:
      ok = DecodeZlib(stored, json);
      break;
    case PayloadFormat::kUnknown:
      break;
  }
  if (!ok) json->clear();
  return ok;
}

}  // namespace store
}  // namespace crashctl
