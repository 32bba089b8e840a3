// Request body decompression (Content-Encoding gzip / deflate / identity)
// with a hard output limit, so a decompression bomb is refused after at most
// `max_output` bytes of work, never expanded in full. Thread-safe.
#ifndef CRASHCTL_INGEST_DECOMPRESS_H_
#define CRASHCTL_INGEST_DECOMPRESS_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace crashctl {
namespace ingest {

enum class DecompressStatus {
  kOk,
  kTooLarge,             // output would exceed max_output
  kCorrupt,              // not valid data for the encoding
  kUnsupportedEncoding,  // e.g. "br"
};

// `encoding` is the Content-Encoding header value ("" or "identity" = as
// is; "gzip", "x-gzip", "deflate" — zlib-wrapped or raw deflate both
// accepted). On kOk, `*out` holds the decoded body.
DecompressStatus Decompress(std::string_view encoding, std::string_view input,
                            size_t max_output, std::string* out);

}  // namespace ingest
}  // namespace crashctl

#endif  // CRASHCTL_INGEST_DECOMPRESS_H_
