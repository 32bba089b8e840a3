#include "decompress.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <string>
#include <vector>

namespace crashctl {
namespace ingest {
namespace {

constexpr size_t kChunk = 64 * 1024;

enum class Format { kGzip, kZlib, kRaw };

int WindowBits(Format format) {
  switch (format) {
    case Format::kGzip:
      return 15 + 16;
    case Format::kZlib:
      return 15;
    case Format::kRaw:
      return -15;
  }
  return 15;
}

std::string Normalize(std::string_view encoding) {
  size_t b = 0, e = encoding.size();
  while (b < e && std::isspace(static_cast<unsigned char>(encoding[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(encoding[e - 1]))) {
    --e;
  }
  std::string s(encoding.substr(b, e - b));
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Owns a z_stream for one inflate run.
class Inflater {
 public:
  explicit Inflater(Format format) {
    ok_ = inflateInit2(&zs_, WindowBits(format)) == Z_OK;
  }
  ~Inflater() {
    if (ok_) inflateEnd(&zs_);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Inflates all of `input` into `*out`, stopping as soon as the output
  // exceeds `max_output`. Output is collected in fixed-size chunks, so at
  // most max_output + one chunk is ever held before the limit trips.
  DecompressStatus Run(std::string_view input, Format format, size_t max_output,
                       std::string* out) {
    if (!ok_) return DecompressStatus::kCorrupt;
    std::vector<std::string> chunks;
    size_t total = 0;
    const unsigned char* next =
        reinterpret_cast<const unsigned char*>(input.data());
    size_t remaining = input.size();
    bool stream_ended = false;
    // Bounded: every pass consumes input or produces output (and output is
    // capped), or it returns.
    for (;;) {
      if (zs_.avail_in == 0 && remaining > 0) {
        const size_t feed = std::min<size_t>(remaining, UINT_MAX);
        zs_.next_in = const_cast<unsigned char*>(next);
        zs_.avail_in = static_cast<uInt>(feed);
        next += feed;
        remaining -= feed;
      }
      if (chunks.empty() || chunks.back().size() == kChunk) {
        chunks.emplace_back();
        chunks.back().reserve(kChunk);
      }
      std::string& chunk = chunks.back();
      const size_t used = chunk.size();
      chunk.resize(kChunk);
      zs_.next_out = reinterpret_cast<unsigned char*>(&chunk[used]);
      zs_.avail_out = static_cast<uInt>(kChunk - used);
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      const size_t produced = (kChunk - used) - zs_.avail_out;
      chunk.resize(used + produced);
      total += produced;
      if (total > max_output) return DecompressStatus::kTooLarge;
      if (rc == Z_STREAM_END) {
        stream_ended = true;
        if (zs_.avail_in == 0 && remaining == 0) break;
        // Another gzip member may follow (RFC 1952 allows concatenation).
        if (format == Format::kGzip && zs_.avail_in >= 2 &&
            zs_.next_in[0] == 0x1f && zs_.next_in[1] == 0x8b) {
          if (inflateReset(&zs_) != Z_OK) return DecompressStatus::kCorrupt;
          stream_ended = false;
          continue;
        }
        return DecompressStatus::kCorrupt;  // trailing garbage
      }
      if (rc == Z_OK) continue;
      // Z_BUF_ERROR: no progress possible, i.e. the input ended mid-stream.
      // Z_DATA_ERROR, Z_NEED_DICT, Z_MEM_ERROR: not decodable here.
      if (rc == Z_BUF_ERROR && zs_.avail_in == 0 && remaining == 0) break;
      return DecompressStatus::kCorrupt;
    }
    if (!stream_ended) return DecompressStatus::kCorrupt;
    std::string result;
    result.reserve(total);
    for (const std::string& c : chunks) result.append(c);
    *out = std::move(result);
    return DecompressStatus::kOk;
  }

 private:
  z_stream zs_{};
  bool ok_ = false;
};

DecompressStatus Inflate(std::string_view input, Format format,
                         size_t max_output, std::string* out) {
  Inflater inflater(format);
  return inflater.Run(input, format, max_output, out);
}

}  // namespace

DecompressStatus Decompress(std::string_view encoding, std::string_view input,
                            size_t max_output, std::string* out) {
  const std::string enc = Normalize(encoding);
  if (enc.empty() || enc == "identity") {
    if (input.size() > max_output) return DecompressStatus::kTooLarge;
    out->assign(input.data(), input.size());
    return DecompressStatus::kOk;
  }
  if (enc == "gzip" || enc == "x-gzip") {
    return Inflate(input, Format::kGzip, max_output, out);
  }
  if (enc == "deflate") {
    // RFC 9110 says zlib-wrapped, but some clients send raw deflate. A raw
    // stream almost never passes the zlib header check; when the wrapped
    // attempt finds corrupt data, the raw attempt decides.
    DecompressStatus st = Inflate(input, Format::kZlib, max_output, out);
    if (st == DecompressStatus::kCorrupt) {
      st = Inflate(input, Format::kRaw, max_output, out);
    }
    return st;
  }
  return DecompressStatus::kUnsupportedEncoding;
}

}  // namespace ingest
}  // namespace crashctl
