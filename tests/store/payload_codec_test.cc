// The stored form of event payloads: round trip, size, corrupt data refused,
// and payloads of older databases (TEXT) still read.
#include "store/payload_codec.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

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

TEST(PayloadCodecTest, RoundTripsAndShrinksATypicalEvent) {
  const std::string json = FramesJson(30);
  std::string stored;
  ASSERT_TRUE(EncodePayload(json, &stored));
  EXPECT_LT(stored.size() * 4, json.size()) << stored.size();
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
  std::string huge = stored;
  huge[3] = '\x7f';  // claims about 2 GiB
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
