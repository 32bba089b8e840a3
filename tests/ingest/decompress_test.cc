#include "ingest/decompress.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <string>

namespace crashctl {
namespace ingest {
namespace {

constexpr int kGzipBits = 15 + 16;
constexpr int kZlibBits = 15;
constexpr int kRawBits = -15;

// Streams `input` through deflate with the given window bits.
std::string Compress(std::string_view input, int window_bits,
                     int level = Z_DEFAULT_COMPRESSION) {
  z_stream zs{};
  EXPECT_EQ(
      deflateInit2(&zs, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY),
      Z_OK);
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());
  char buf[16384];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = deflate(&zs, Z_FINISH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  } while (rc == Z_OK || rc == Z_BUF_ERROR);
  EXPECT_EQ(rc, Z_STREAM_END);
  deflateEnd(&zs);
  return out;
}

// A stream (gzip, zlib or raw per `window_bits`) that inflates to `mib` MiB
// of zeros, built without ever holding the plain data: after Z_FULL_FLUSH the
// compressor starts afresh on a byte boundary, so every further 1 MiB of
// zeros compresses to the same bytes and that block can be repeated. An
// empty final block and the real trailer close the stream.
std::string ZeroBomb(int window_bits, size_t mib) {
  const std::string zeros(1 << 20, '\0');
  std::string buf(1 << 20, '\0');
  auto run = [&buf](z_stream* zs, const std::string& in, int flush) {
    zs->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs->avail_in = static_cast<uInt>(in.size());
    zs->next_out = reinterpret_cast<Bytef*>(&buf[0]);
    zs->avail_out = static_cast<uInt>(buf.size());
    deflate(zs, flush);
    EXPECT_EQ(zs->avail_in, 0u);
    return buf.substr(0, buf.size() - zs->avail_out);
  };
  z_stream zs{};
  EXPECT_EQ(
      deflateInit2(&zs, 9, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY),
      Z_OK);
  const std::string first = run(&zs, zeros, Z_FULL_FLUSH);
  const std::string block = run(&zs, zeros, Z_FULL_FLUSH);
  EXPECT_EQ(run(&zs, zeros, Z_FULL_FLUSH), block) << "blocks do not repeat";
  deflateEnd(&zs);
  // An empty final block, from a fresh raw stream.
  z_stream fin{};
  EXPECT_EQ(deflateInit2(&fin, 9, Z_DEFLATED, kRawBits, 9, Z_DEFAULT_STRATEGY),
            Z_OK);
  const std::string last = run(&fin, "", Z_FINISH);
  deflateEnd(&fin);

  std::string out = first;
  out.reserve(first.size() + block.size() * mib + last.size() + 8);
  for (size_t i = 1; i < mib; ++i) out += block;
  out += last;
  const Bytef* z = reinterpret_cast<const Bytef*>(zeros.data());
  const uLong crc_mib = crc32(crc32(0, nullptr, 0), z, 1 << 20);
  const uLong adler_mib = adler32(adler32(0, nullptr, 0), z, 1 << 20);
  uLong crc = crc_mib, adler = adler_mib;
  for (size_t i = 1; i < mib; ++i) {
    crc = crc32_combine(crc, crc_mib, 1 << 20);
    adler = adler32_combine(adler, adler_mib, 1 << 20);
  }
  if (window_bits == kGzipBits) {  // CRC-32 and length mod 2^32, LE
    const uint32_t isize = static_cast<uint32_t>((mib << 20) & 0xffffffffu);
    for (int i = 0; i < 4; ++i)
      out.push_back(static_cast<char>(crc >> (8 * i)));
    for (int i = 0; i < 4; ++i) {
      out.push_back(static_cast<char>(isize >> (8 * i)));
    }
  } else if (window_bits == kZlibBits) {  // Adler-32, BE
    for (int i = 3; i >= 0; --i) {
      out.push_back(static_cast<char>(adler >> (8 * i)));
    }
  }
  return out;
}

std::string Sample() {
  std::string s;
  for (int i = 0; i < 2000; ++i) {
    s += R"({"type":"event"})";
    s += "\n{\"message\":\"line " + std::to_string(i) + "\"}\n";
  }
  return s;
}

TEST(DecompressTest, GzipRoundTrip) {
  const std::string plain = Sample();
  std::string out;
  ASSERT_EQ(Decompress("gzip", Compress(plain, kGzipBits), 1 << 20, &out),
            DecompressStatus::kOk);
  EXPECT_EQ(out, plain);
}

TEST(DecompressTest, EncodingNamesAreCaseInsensitiveAndTrimmed) {
  const std::string plain = Sample();
  const std::string gz = Compress(plain, kGzipBits);
  for (const char* enc : {"GZIP", "Gzip", " gzip ", "x-gzip", "X-GZIP"}) {
    std::string out;
    EXPECT_EQ(Decompress(enc, gz, 1 << 20, &out), DecompressStatus::kOk) << enc;
    EXPECT_EQ(out, plain) << enc;
  }
  std::string out;
  EXPECT_EQ(Decompress("Deflate", Compress(plain, kZlibBits), 1 << 20, &out),
            DecompressStatus::kOk);
  EXPECT_EQ(out, plain);
}

TEST(DecompressTest, DeflateZlibWrappedAndRaw) {
  const std::string plain = Sample();
  std::string out;
  ASSERT_EQ(Decompress("deflate", Compress(plain, kZlibBits), 1 << 20, &out),
            DecompressStatus::kOk);
  EXPECT_EQ(out, plain);
  out.clear();
  ASSERT_EQ(Decompress("deflate", Compress(plain, kRawBits), 1 << 20, &out),
            DecompressStatus::kOk);
  EXPECT_EQ(out, plain);
  // Tiny inputs too (a raw stream of a few bytes).
  for (const std::string small : {"", "x", "{}"}) {
    out = "junk";
    ASSERT_EQ(Decompress("deflate", Compress(small, kRawBits), 100, &out),
              DecompressStatus::kOk);
    EXPECT_EQ(out, small);
  }
}

TEST(DecompressTest, IdentityPassesThroughButIsStillLimited) {
  std::string out;
  ASSERT_EQ(Decompress("", "abc", 3, &out), DecompressStatus::kOk);
  EXPECT_EQ(out, "abc");
  ASSERT_EQ(Decompress("identity", "abcd", 4, &out), DecompressStatus::kOk);
  EXPECT_EQ(out, "abcd");
  ASSERT_EQ(Decompress("IDENTITY", "", 0, &out), DecompressStatus::kOk);
  EXPECT_EQ(out, "");
  EXPECT_EQ(Decompress("", "abcd", 3, &out), DecompressStatus::kTooLarge);
  EXPECT_EQ(Decompress("identity", "abcd", 3, &out),
            DecompressStatus::kTooLarge);
}

TEST(DecompressTest, OutputLimitIsExact) {
  const std::string plain(100000, 'a');
  const std::string gz = Compress(plain, kGzipBits);
  std::string out;
  EXPECT_EQ(Decompress("gzip", gz, plain.size(), &out), DecompressStatus::kOk);
  EXPECT_EQ(out, plain);
  EXPECT_EQ(Decompress("gzip", gz, plain.size() - 1, &out),
            DecompressStatus::kTooLarge);
  EXPECT_EQ(
      Decompress("deflate", Compress(plain, kRawBits), plain.size() - 1, &out),
      DecompressStatus::kTooLarge);
  EXPECT_EQ(
      Decompress("deflate", Compress(plain, kZlibBits), plain.size() - 1, &out),
      DecompressStatus::kTooLarge);
}

TEST(DecompressTest, ConcatenatedGzipMembers) {
  const std::string a = "first member\n", b = "second member\n";
  std::string out;
  ASSERT_EQ(Decompress("gzip", Compress(a, kGzipBits) + Compress(b, kGzipBits),
                       1 << 20, &out),
            DecompressStatus::kOk);
  EXPECT_EQ(out, a + b);
}

TEST(DecompressTest, BombConstructionIsValid) {
  // The bomb builder itself, at a size that may be expanded in full.
  std::string out;
  ASSERT_EQ(Decompress("gzip", ZeroBomb(kGzipBits, 4), 4 << 20, &out),
            DecompressStatus::kOk);
  EXPECT_EQ(out, std::string(4 << 20, '\0'));
  ASSERT_EQ(Decompress("deflate", ZeroBomb(kZlibBits, 4), 4 << 20, &out),
            DecompressStatus::kOk);
  EXPECT_EQ(out.size(), 4u << 20);
  ASSERT_EQ(Decompress("deflate", ZeroBomb(kRawBits, 4), 4 << 20, &out),
            DecompressStatus::kOk);
  EXPECT_EQ(out.size(), 4u << 20);
}

TEST(DecompressTest, OneGibibyteBombIsRefusedQuickly) {
  struct Case {
    const char* encoding;
    int bits;
  };
  for (const Case& c : {Case{"gzip", kGzipBits}, Case{"deflate", kZlibBits},
                        Case{"deflate", kRawBits}}) {
    const std::string bomb = ZeroBomb(c.bits, 1024);  // 1 GiB of zeros
    ASSERT_LT(bomb.size(), 2u << 20) << "bomb should be about 1 MiB";
    std::string out = "untouched";
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(Decompress(c.encoding, bomb, 1 << 20, &out),
              DecompressStatus::kTooLarge)
        << c.encoding << " " << c.bits;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    // Only ~1 MiB is inflated before the limit trips; a full expansion would
    // take far longer than this generous bound even on a loaded machine.
    EXPECT_LT(seconds, 5.0);
    EXPECT_EQ(out, "untouched");  // nothing is returned on failure
  }
}

TEST(DecompressTest, CorruptInput) {
  const std::string plain = Sample();
  const std::string gz = Compress(plain, kGzipBits);
  std::string out;
  EXPECT_EQ(Decompress("gzip", "", 1 << 20, &out), DecompressStatus::kCorrupt);
  EXPECT_EQ(Decompress("gzip", plain, 1 << 20, &out),
            DecompressStatus::kCorrupt);
  // Truncated stream.
  EXPECT_EQ(Decompress("gzip", gz.substr(0, gz.size() / 2), 1 << 20, &out),
            DecompressStatus::kCorrupt);
  EXPECT_EQ(Decompress("gzip", gz.substr(0, gz.size() - 1), 1 << 20, &out),
            DecompressStatus::kCorrupt);
  // Bad checksum.
  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 6] ^= 0x55;
  EXPECT_EQ(Decompress("gzip", bad_crc, 1 << 20, &out),
            DecompressStatus::kCorrupt);
  // Trailing garbage after the stream.
  EXPECT_EQ(Decompress("gzip", gz + "garbage", 1 << 20, &out),
            DecompressStatus::kCorrupt);
  // Gzip data declared as deflate and the other way round.
  EXPECT_EQ(Decompress("deflate", gz, 1 << 20, &out),
            DecompressStatus::kCorrupt);
  EXPECT_EQ(Decompress("gzip", Compress(plain, kZlibBits), 1 << 20, &out),
            DecompressStatus::kCorrupt);
  EXPECT_EQ(
      Decompress("deflate", "\xff\xff\xff\xff not deflate", 1 << 20, &out),
      DecompressStatus::kCorrupt);
  const std::string z = Compress(plain, kZlibBits);
  EXPECT_EQ(Decompress("deflate", z.substr(0, z.size() - 3), 1 << 20, &out),
            DecompressStatus::kCorrupt);
}

TEST(DecompressTest, UnsupportedEncodings) {
  std::string out;
  for (const char* enc : {"br", "zstd", "compress", "gzip, br", "bogus"}) {
    EXPECT_EQ(Decompress(enc, "x", 1 << 20, &out),
              DecompressStatus::kUnsupportedEncoding)
        << enc;
  }
}

}  // namespace
}  // namespace ingest
}  // namespace crashctl
