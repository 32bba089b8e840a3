// Stored form of an event's original JSON, a BLOB, so the single writer
// copies a fraction of the bytes into the WAL and a typical event fits its
// table page without an overflow page (docs/storage.md, "events").
//
// Formats, told apart by their first four bytes:
//  - zstd (written since issue 17): one zstd frame (RFC 8878), level 1, no
//    dictionary, with the JSON's size and a checksum (XXH64) in the frame.
//    It starts with the zstd magic 28 B5 2F FD.
//  - zlib (databases written before): the JSON's length as 4 bytes
//    little-endian (at most 256 MiB, so the fourth byte is at most 0x10 and
//    never 0xFD), then one zlib stream (RFC 1950). Still read, never written.
//  - A payload stored as TEXT (databases older still) is the JSON itself;
//    the caller tells it apart by the column's type.
// A frame that names a dictionary (dictionary id != 0) is refused: if one is
// ever added, its id is its version and the decoder keeps every released
// dictionary (bench/CODEC.md).
//
// Thread-safety: pure functions, safe from any thread (each thread keeps its
// own compression and decompression state).
#ifndef CRASHCTL_STORE_PAYLOAD_CODEC_H_
#define CRASHCTL_STORE_PAYLOAD_CODEC_H_

#include <string>
#include <string_view>

namespace crashctl {
namespace store {

// The format a stored BLOB is in, from its first bytes.
enum class PayloadFormat { kZstd, kZlib, kUnknown };
PayloadFormat DetectPayloadFormat(std::string_view stored);

// The stored form (zstd) of `json` into `*stored`. False (and `*stored`
// empty) only when zstd cannot allocate its state or `json` exceeds
// 256 MiB; the caller then stores the JSON as TEXT.
bool EncodePayload(std::string_view json, std::string* stored);

// The JSON of a stored form, zstd or zlib. False (and `*json` empty) when
// `stored` is not one: truncated, corrupt (checksum), trailing bytes, a
// dictionary frame, or claiming more than 256 MiB.
bool DecodePayload(std::string_view stored, std::string* json);

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_PAYLOAD_CODEC_H_
