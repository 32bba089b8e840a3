#include "store/cursor.h"

#include <gtest/gtest.h>

#include <string>

namespace crashctl {
namespace store {
namespace {

TEST(CursorTest, RoundTripsExactValues) {
  const double values[] = {0,   1,      1700000000.123456789,
                           0.1, 1e-300, 123456789012.0};
  for (double value : values) {
    Cursor in{"last_seen", value, 42};
    Cursor out;
    std::string error;
    ASSERT_TRUE(DecodeCursor(EncodeCursor(in), "last_seen", &out, &error))
        << error;
    EXPECT_EQ(out.value, value);  // bit-exact, not approximately
    EXPECT_EQ(out.id, 42);
    EXPECT_EQ(out.sort, "last_seen");
  }
}

TEST(CursorTest, IsUrlSafe) {
  std::string text = EncodeCursor(Cursor{"count", 3.5e9, 99999});
  EXPECT_EQ(
      text.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
}

TEST(CursorTest, RejectsOtherSort) {
  Cursor out;
  std::string error;
  EXPECT_FALSE(DecodeCursor(EncodeCursor(Cursor{"count", 5, 1}), "last_seen",
                            &out, &error));
  EXPECT_NE(error.find("sort"), std::string::npos) << error;
}

TEST(CursorTest, RejectsMalformed) {
  const std::string cases[] = {
      "!!!",                               // not base64url
      "a",                                 // impossible length
      Base64UrlEncode("last_seen"),        // no separators
      Base64UrlEncode("last_seen|1"),      // one separator
      Base64UrlEncode("last_seen||5"),     // empty value
      Base64UrlEncode("last_seen|1|"),     // empty id
      Base64UrlEncode("last_seen|abc|5"),  // value not a number
      Base64UrlEncode("last_seen|1|5x"),   // id not a number
      Base64UrlEncode("last_seen|1|-5"),   // negative id
      Base64UrlEncode("last_seen|nan|5"),  // not finite
      Base64UrlEncode("last_seen|1|5|6"),  // extra field
      std::string(300, 'A'),               // too long
  };
  for (const std::string& text : cases) {
    Cursor out;
    std::string error;
    EXPECT_FALSE(DecodeCursor(text, "last_seen", &out, &error)) << text;
  }
}

TEST(CursorTest, Base64UrlKnownVectors) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  std::string out;
  ASSERT_TRUE(Base64UrlDecode("-_8", &out));
  EXPECT_EQ(out, "\xfb\xff");
  EXPECT_FALSE(Base64UrlDecode("Zh", &out));  // non-zero leftover bits
}

}  // namespace
}  // namespace store
}  // namespace crashctl
