// Stored form of an event's original JSON: zlib-compressed in a BLOB, so the
// single writer copies about a quarter of the bytes into the WAL and a
// typical 5 KB event (30 frames) fits its table page without an overflow
// page. Layout: the JSON's length as 4 bytes little-endian, then one zlib
// stream (RFC 1950, level 1). A payload stored as TEXT (databases written
// before this format) is the JSON itself.
//
// Thread-safety: pure functions, safe from any thread.
#ifndef CRASHCTL_STORE_PAYLOAD_CODEC_H_
#define CRASHCTL_STORE_PAYLOAD_CODEC_H_

#include <string>
#include <string_view>

namespace crashctl {
namespace store {

// The stored form of `json` into `*stored`. False (and `*stored` empty) only
// when zlib cannot allocate its state or `json` exceeds 256 MiB; the caller
// then stores the JSON as TEXT.
bool EncodePayload(std::string_view json, std::string* stored);

// The JSON of a stored form. False (and `*json` empty) when `stored` is not
// one: truncated, corrupt, or claiming more than 256 MiB.
bool DecodePayload(std::string_view stored, std::string* json);

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_PAYLOAD_CODEC_H_
