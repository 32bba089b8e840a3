// The stored form of event payloads: round trip, size, corrupt data refused,
// and payloads of older databases (zlib BLOBs, TEXT) still read.
#include "store/payload_codec.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <zlib.h>

#include <cstdint>
#include <string>

#include "store_test_util.h"

namespace crashctl {
namespace store {
namespace {

using testing_util::EventId;
using testing_util::MakeItem;
using testing_util::StoreTest;

std::string FramesJson(int frames) {
  std::string json = R"({"exception":{"values":[{"stacktrace":{"frames":[)";
  for (int i = 0; i < frames; ++i) {
    if (i > 0) json += ',';
    json +=
        R"({"filename":"/srv/app/node_modules/express/lib/router/layer.js",)"
        R"("function":"Layer.handle [as handle_request]","lineno":)" +
        std::to_string(95 + i) + R"(,"in_app":false})";
  }
  return json + "]}}]}}";
}

// The former codec's layout: the length (4 bytes little-endian), then a
// zlib stream, level 1, 8 KiB window, as store/payload_codec.cc wrote it
// before issue 17.
std::string LegacyZlib(const std::string& json) {
  z_stream stream{};
  EXPECT_EQ(deflateInit2(&stream, 1, Z_DEFLATED, 13, 6, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(4 + deflateBound(&stream, json.size()), '\0');
  for (int i = 0; i < 4; ++i) {
    out[i] = static_cast<char>((json.size() >> (8 * i)) & 0xff);
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(json.data()));
  stream.avail_in = static_cast<uInt>(json.size());
  stream.next_out = reinterpret_cast<Bytef*>(&out[4]);
  stream.avail_out = static_cast<uInt>(out.size() - 4);
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(out.size() - stream.avail_out);
  deflateEnd(&stream);
  return out;
}

// Bytes the zlib codec wrote (crashctl before issue 17), kept verbatim.
constexpr char kLegacyJson[] =
    R"J({"event_id":"0123456789abcdef0123456789abcdef","level":"error",)J"
    R"J("message":"stored by the zlib codec","tags":{"service":"checkout",)J"
    R"J("server":"checkout-1"}})J";
const std::string kLegacyStored(
    "\x98\x00\x00\x00\x58\x09\x5d\xca\x4b\x0e\xc2\x30\x0c\x84\xe1\xab\x44"
    "\x5e\x83\x44\xa1\xbc\x7a\x19\x94\x38\x43\x1b\x11\x88\xe4\x98\x4a\xb4"
    "\xea\xdd\x71\x77\x88\xe5\xfc\xf3\xcd\x84\x11\x2f\xbd\xa5\x48\x1d\xed"
    "\x9a\xfd\xa1\x3d\x9e\xce\x97\xab\x0f\x1c\x71\xff\xdf\xb4\xa1\x6c\x3c"
    "\x1b\x85\x48\x11\xdb\x4f\xd4\xea\x7b\x58\xa9\x5a\x04\xd1\x85\x8f\xd3"
    "\x01\x6e\xca\x29\x38\x2e\x11\x6c\x48\x7d\x5f\xa9\x9b\xa9\x42\xc6\xc4"
    "\x2b\xe6\x01\xfc\x28\x6f\xb5\x73\x8d\x90\x9f\xb6\x6d\x68\x59\xbe\x31"
    "\x4d\x31\x3f",
    122);

TEST(PayloadCodecTest, RoundTripsAndShrinksATypicalEvent) {
  const std::string json = FramesJson(30);
  std::string stored;
  ASSERT_TRUE(EncodePayload(json, &stored));
  EXPECT_LT(stored.size() * 4, json.size()) << stored.size();
  EXPECT_EQ(DetectPayloadFormat(stored), PayloadFormat::kZstd);
  std::string back;
  ASSERT_TRUE(DecodePayload(stored, &back));
  EXPECT_EQ(back, json);
}

TEST(PayloadCodecTest, WritesAZstdFrameWithItsSizeAndChecksum) {
  const std::string json = FramesJson(3);
  std::string stored;
  ASSERT_TRUE(EncodePayload(json, &stored));
  ASSERT_GE(stored.size(), 6u);
  EXPECT_EQ(stored.substr(0, 4), std::string("\x28\xb5\x2f\xfd"));
  const auto descriptor = static_cast<unsigned char>(stored[4]);
  EXPECT_TRUE(descriptor & 0x04) << "content checksum flag";
  EXPECT_EQ(descriptor & 0x03, 0) << "no dictionary id";
  EXPECT_TRUE((descriptor >> 6) != 0 || (descriptor & 0x20))
      << "content size present";
}

TEST(PayloadCodecTest, ZlibRowsOfOlderDatabasesStillDecode) {
  EXPECT_EQ(DetectPayloadFormat(kLegacyStored), PayloadFormat::kZlib);
  std::string back;
  ASSERT_TRUE(DecodePayload(kLegacyStored, &back));
  EXPECT_EQ(back, kLegacyJson);
  for (const std::string& json :
       {FramesJson(30), FramesJson(400), std::string("{}"), std::string()}) {
    const std::string legacy = LegacyZlib(json);
    EXPECT_EQ(DetectPayloadFormat(legacy), PayloadFormat::kZlib);
    ASSERT_TRUE(DecodePayload(legacy, &back)) << json.size();
    EXPECT_EQ(back, json);
  }
}

TEST(PayloadCodecTest, LargePayloadsRoundTrip) {
  // Larger than zstd's block (128 KiB): several blocks in one frame.
  const std::string json = FramesJson(3000);
  ASSERT_GT(json.size(), 256u << 10);
  std::string stored;
  ASSERT_TRUE(EncodePayload(json, &stored));
  std::string back;
  ASSERT_TRUE(DecodePayload(stored, &back));
  EXPECT_EQ(back, json);
}

TEST(PayloadCodecTest, TheThreadsStateIsReusedCleanly) {
  // A long payload, then a short one: nothing of the first leaks into the
  // second's stream.
  std::string first;
  std::string second;
  ASSERT_TRUE(EncodePayload(FramesJson(200), &first));
  ASSERT_TRUE(EncodePayload("{}", &second));
  std::string back;
  ASSERT_TRUE(DecodePayload(second, &back));
  EXPECT_EQ(back, "{}");
  ASSERT_TRUE(DecodePayload(first, &back));
  EXPECT_EQ(back, FramesJson(200));
}

TEST(PayloadCodecTest, EmptyAndBinaryContent) {
  for (const std::string& json : {std::string(), std::string("\0\xff{}", 4)}) {
    std::string stored;
    ASSERT_TRUE(EncodePayload(json, &stored));
    std::string back = "junk";
    ASSERT_TRUE(DecodePayload(stored, &back));
    EXPECT_EQ(back, json);
  }
}

TEST(PayloadCodecTest, CorruptTruncatedAndOversizedAreRefused) {
  std::string stored;
  ASSERT_TRUE(EncodePayload(FramesJson(5), &stored));
  std::string out;
  EXPECT_FALSE(DecodePayload("", &out));
  EXPECT_FALSE(DecodePayload(stored.substr(0, 4), &out));
  EXPECT_FALSE(DecodePayload(stored.substr(0, stored.size() - 3), &out));
  std::string flipped = stored;
  flipped[10] = static_cast<char>(flipped[10] ^ 0x55);
  EXPECT_FALSE(DecodePayload(flipped, &out));
  std::string wrong_length = stored;
  wrong_length[0] = static_cast<char>(wrong_length[0] + 1);
  EXPECT_FALSE(DecodePayload(wrong_length, &out));
  std::string trailing = stored + "x";
  EXPECT_FALSE(DecodePayload(trailing, &out));
  EXPECT_FALSE(DecodePayload(stored + stored, &out)) << "two frames";
  EXPECT_FALSE(DecodePayload(std::string("\x28\xb5\x2f\xfd", 4), &out));
  // Every single-byte change and every truncation is refused or, where the
  // byte is not covered by the checksum, still gives the exact JSON.
  const std::string json = FramesJson(5);
  for (size_t i = 0; i < stored.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string changed = stored;
      changed[i] = static_cast<char>(changed[i] ^ (1 << bit));
      if (DecodePayload(changed, &out)) {
        EXPECT_EQ(out, json) << "byte " << i << " bit " << bit;
      } else {
        EXPECT_TRUE(out.empty());
      }
    }
    EXPECT_FALSE(DecodePayload(stored.substr(0, i), &out)) << i;
  }
  EXPECT_TRUE(out.empty());
}

TEST(PayloadCodecTest, CorruptOrOversizedZlibRowsAreRefused) {
  std::string out;
  EXPECT_FALSE(
      DecodePayload(kLegacyStored.substr(0, kLegacyStored.size() - 3), &out));
  std::string flipped = kLegacyStored;
  flipped[10] = static_cast<char>(flipped[10] ^ 0x55);
  EXPECT_FALSE(DecodePayload(flipped, &out));
  std::string wrong_length = kLegacyStored;
  wrong_length[0] = static_cast<char>(wrong_length[0] + 1);
  EXPECT_FALSE(DecodePayload(wrong_length, &out));
  std::string huge = kLegacyStored;
  huge[3] = '\x10';
  huge[2] = '\x01';  // claims just over 256 MiB
  EXPECT_FALSE(DecodePayload(huge, &out));
  huge[3] = '\x7f';  // claims about 2 GiB: not a format at all
  EXPECT_EQ(DetectPayloadFormat(huge), PayloadFormat::kUnknown);
  EXPECT_FALSE(DecodePayload(huge, &out));
  EXPECT_TRUE(out.empty());
}

using PayloadStoreTest = StoreTest;

TEST_F(PayloadStoreTest, StoredCompressedAndReadBackWithOrWithoutPrepare) {
  model::WriteItem prepared = MakeItem(project_.id, 1, "fp", 1000);
  prepared.event.raw_json = FramesJson(30);
  store_->PrepareWrite(&prepared);
  EXPECT_FALSE(prepared.stored_payload.empty());
  model::WriteItem plain = MakeItem(project_.id, 2, "fp", 1001);
  plain.event.raw_json = FramesJson(20);
  Write({prepared, plain});

  for (const model::WriteItem* item : {&prepared, &plain}) {
    model::StoredEvent event;
    ASSERT_TRUE(store_->GetEvent(item->event.event_id, &event).ok());
    EXPECT_EQ(event.payload, item->event.raw_json);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(store_->path().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT typeof(payload), length(payload) FROM "
                               "events ORDER BY id",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  for (const model::WriteItem* item : {&prepared, &plain}) {
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)),
                 "blob");
    EXPECT_LT(sqlite3_column_int(stmt, 1) * 4,
              static_cast<int>(item->event.raw_json.size()));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(PayloadStoreTest, TextPayloadOfAnOlderDatabaseIsReadAsIs) {
  Write({MakeItem(project_.id, 1, "fp", 1000)});
  ASSERT_TRUE(store_
                  ->ExecOnWriter("UPDATE events SET payload = '{\"old\":true}' "
                                 "WHERE event_id = '" +
                                 EventId(1) + "'")
                  .ok());
  model::StoredEvent event;
  ASSERT_TRUE(store_->GetEvent(EventId(1), &event).ok());
  EXPECT_EQ(event.payload, "{\"old\":true}");
}

TEST_F(PayloadStoreTest, ZlibPayloadOfAnOlderDatabaseIsRead) {
  Write({MakeItem(project_.id, 1, "fp", 1000)});
  std::string hex;
  for (unsigned char c : kLegacyStored) {
    static const char kDigits[] = "0123456789abcdef";
    hex += kDigits[c >> 4];
    hex += kDigits[c & 15];
  }
  ASSERT_TRUE(store_
                  ->ExecOnWriter("UPDATE events SET payload = x'" + hex +
                                 "' WHERE event_id = '" + EventId(1) + "'")
                  .ok());
  model::StoredEvent event;
  ASSERT_TRUE(store_->GetEvent(EventId(1), &event).ok());
  EXPECT_EQ(event.payload, kLegacyJson);
}

TEST_F(PayloadStoreTest, CorruptStoredPayloadIsAnInternalError) {
  Write({MakeItem(project_.id, 1, "fp", 1000)});
  ASSERT_TRUE(store_
                  ->ExecOnWriter("UPDATE events SET payload = x'0500000001' "
                                 "WHERE event_id = '" +
                                 EventId(1) + "'")
                  .ok());
  model::StoredEvent event;
  const Status status = store_->GetEvent(EventId(1), &event);
  EXPECT_EQ(status.code(), Status::Code::kInternal);
  EXPECT_NE(status.message().find("corrupt"), std::string::npos)
      << status.message();
}

}  // namespace
}  // namespace store
}  // namespace crashctl
