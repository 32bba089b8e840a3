// Strict HTTP/1.1 request body framing (RFC 9112 section 6), checked before a
// body is read so that crashctl never reads a request differently from a
// proxy in front of it (request smuggling). civetweb is more lenient: it
// reads `Content-Length: 0x2b` as 0, `+22` as 22 and `5,22` as 5, uses the
// first of two different Content-Length headers, and accepts Transfer-Encoding
// together with Content-Length; each of these is refused here.
//
// Thread-safety: pure functions, safe from any thread.
#ifndef CRASHCTL_CORE_HTTP_FRAMING_H_
#define CRASHCTL_CORE_HTTP_FRAMING_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crashctl {
namespace http {

struct BodyFraming {
  enum Kind {
    kNone,     // no body (neither header)
    kLength,   // Content-Length: `length` bytes
    kChunked,  // Transfer-Encoding: chunked
    kInvalid,  // refuse with 400 and close the connection; see `error`
  };
  Kind kind = kNone;
  // For kLength. Values too large for int64_t are INT64_MAX (the caller's
  // size limit refuses them).
  int64_t length = 0;
  std::string error;  // for kInvalid: what is wrong, for the client
};

// Decides how the body of a request with these headers (name, value as
// received, in order; names compared case-insensitively) is delimited, for a
// request line of HTTP version `http_version` ("1.0", "1.1"):
// - Content-Length must be 1*DIGIT (surrounding blanks allowed); several
//   Content-Length headers must carry the same value; a comma list is
//   refused;
// - Transfer-Encoding must be exactly one header "chunked" (any case), never
//   together with Content-Length, and never in an HTTP/1.0 request;
// - `header_count_capped` (civetweb keeps at most 64 headers and ignores the
//   rest, which a proxy would read) makes the request invalid too.
BodyFraming CheckBodyFraming(
    const std::vector<std::pair<std::string_view, std::string_view>>& headers,
    std::string_view http_version, bool header_count_capped);

}  // namespace http
}  // namespace crashctl

#endif  // CRASHCTL_CORE_HTTP_FRAMING_H_
