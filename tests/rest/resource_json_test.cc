#include "rest/resource_json.h"

#include <string>

#include "crashctl/util/time.h"
#include "gtest/gtest.h"
#include "rest/admin_auth.h"
#include "rest/request_params.h"
#include "rest_test_util.h"

namespace crashctl {
namespace rest {
namespace {

TEST(TimeFormatTest, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(util::FormatRfc3339Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(util::FormatRfc3339Millis(1795341600.123),
            "2026-11-22T10:00:00.123Z");
  EXPECT_EQ(util::FormatRfc3339Millis(1795341600.9999),
            "2026-11-22T10:00:00.999Z");
  EXPECT_EQ(util::FormatRfc3339Millis(951782400), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(util::FormatRfc3339Millis(-0.5), "1969-12-31T23:59:59.500Z");
  EXPECT_EQ(util::FormatRfc3339Millis(1e18), "9999-12-31T23:59:59.999Z");
}

TEST(TimeFormatTest, ParsesRfc3339) {
  double t = 0;
  ASSERT_TRUE(util::ParseRfc3339("2026-11-22T10:00:00.123Z", &t));
  EXPECT_NEAR(t, 1795341600.123, 1e-6);
  ASSERT_TRUE(util::ParseRfc3339("2026-11-22T12:30:00+02:30", &t));
  EXPECT_DOUBLE_EQ(t, 1795341600);
  ASSERT_TRUE(util::ParseRfc3339("2026-11-22t10:00:00z", &t));
  EXPECT_DOUBLE_EQ(t, 1795341600);
  ASSERT_TRUE(util::ParseRfc3339("2000-02-29T00:00:00Z", &t));
  EXPECT_DOUBLE_EQ(t, 951782400);
  for (const char* bad :
       {"", "2026-11-22", "2026-11-22T10:00:00", "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T10:00Z",
        "2026-11-22T10:00:00.Z", "2026-11-22T10:00:00Zjunk",
        "2026-11-22T10:00:00+0200", "yesterday"}) {
    EXPECT_FALSE(util::ParseRfc3339(bad, &t)) << bad;
  }
  for (double v : {0.0, 1795341600.123, 951782400.5}) {
    ASSERT_TRUE(util::ParseRfc3339(util::FormatRfc3339Millis(v), &t));
    EXPECT_NEAR(t, v, 1e-6);
  }
}

TEST(SanitizeUtf8Test, ReplacesOnlyInvalidSequences) {
  const std::string valid = "plain \xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xa5";
  EXPECT_EQ(SanitizeUtf8(valid), valid);
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(SanitizeUtf8("\xff"), r);
  EXPECT_EQ(SanitizeUtf8("a\x80z"), "a" + r + "z");
  EXPECT_EQ(SanitizeUtf8("\xc0\xaf"), r + r);          // overlong
  EXPECT_EQ(SanitizeUtf8("\xe0\x80\xaf"), r + r + r);  // overlong
  EXPECT_EQ(SanitizeUtf8("\xed\xa0\x80"), r + r + r);  // surrogate
  EXPECT_EQ(SanitizeUtf8("\xf4\x90\x80\x80"), r + r + r + r);
  EXPECT_EQ(SanitizeUtf8("ab\xe2\x82"), "ab" + r + r);  // truncated
  EXPECT_EQ(SanitizeUtf8(std::string("a\0b", 3)), std::string("a\0b", 3));
}

TEST(EmbeddedJsonTest, CopiesValidJsonAndRefusesTheRest) {
  auto embed = [](const std::string& text, bool* ok) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("p");
    *ok = WriteEmbeddedJson(&w, text);
    if (!*ok) w.Null();
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
  };
  bool ok = false;
  EXPECT_EQ(embed(" {\"a\": [1, 2.50, -3e7, true, null]}\n", &ok),
            "{\"p\":{\"a\":[1,2.50,-3e7,true,null]}}");
  EXPECT_TRUE(ok);
  EXPECT_EQ(embed("\"s\"", &ok), "{\"p\":\"s\"}");
  EXPECT_TRUE(ok);
  for (const std::string& bad :
       {std::string("{"), std::string("{} {}"), std::string("nul"),
        std::string("{\"a\":1}\0junk", 11), std::string("")}) {
    EXPECT_EQ(embed(bad, &ok), "{\"p\":null}") << bad;
    EXPECT_FALSE(ok);
  }
  // Deep nesting is handled without recursion.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string out = embed(deep, &ok);
  EXPECT_TRUE(ok);
  ParseStrict(out);
}

TEST(EmbeddedJsonTest, ServedPayloadsAreBoundedInDepthAndSize) {
  std::string deep =
      R"({"a":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  EmbedCuts cuts;
  ASSERT_TRUE(WriteEmbeddedJson(&w, deep, EmbedLimits(), &cuts));
  const std::string out = buffer.GetString();
  EXPECT_EQ(cuts.depth, 1u);
  EXPECT_LT(out.size(), 200u);
  EXPECT_NE(out.find("\"[depth limit]\""), std::string::npos);
  rapidjson::Document doc;
  doc.Parse(out.c_str());
  EXPECT_FALSE(doc.HasParseError());

  std::string big = R"({"first":"kept","list":[)";
  for (int i = 0; i < 1000; ++i) big += "\"" + std::string(100, 'x') + "\",";
  big += R"("end"],"last":"also cut"})";
  rapidjson::StringBuffer small_buffer;
  JsonWriter small(small_buffer);
  EmbedLimits limits;
  limits.max_bytes = 5000;
  cuts = EmbedCuts();
  ASSERT_TRUE(WriteEmbeddedJson(&small, big, limits, &cuts));
  const std::string cut = small_buffer.GetString();
  EXPECT_LT(cut.size(), 30000u);
  EXPECT_GT(cuts.size, 900u);
  EXPECT_NE(cut.find("\"first\":\"kept\""), std::string::npos);
  EXPECT_NE(cut.find("\"last\":\"[size limit]\""), std::string::npos);
  doc.Parse(cut.c_str());
  EXPECT_FALSE(doc.HasParseError());
}

TEST(LogLinesTest, Splits) {
  EXPECT_TRUE(SplitLogLines("").empty());
  EXPECT_EQ(SplitLogLines("a\nb"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(SplitLogLines("a\r\n\nb\n"),
            (std::vector<std::string>{"a", "", "b"}));
}

TEST(RequestParamsTest, Ids) {
  int64_t id = 0;
  EXPECT_TRUE(ParsePositiveId("42", &id));
  EXPECT_EQ(id, 42);
  EXPECT_TRUE(ParsePositiveId("9223372036854775807", &id));
  for (const char* bad : {"", "0", "-1", "+1", " 1", "1 ", "1a", "0x10",
                          "9223372036854775808", "99999999999999999999"}) {
    EXPECT_FALSE(ParsePositiveId(bad, &id)) << bad;
  }
}

TEST(AdminAuthTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abd", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abcd", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(AdminAuthTest, RequireAdminWrapsHandler) {
  int calls = 0;
  http::HttpHandler inner = [&calls](http::HttpRequest&) {
    ++calls;
    return http::HttpResponse::Json(200, "{}");
  };
  http::HttpRequest request = MakeRequest("GET", "/api/v1/groups");
  EXPECT_EQ(RequireAdmin("", inner)(request).status, 200);
  EXPECT_EQ(RequireAdmin("t", inner)(request).status, 401);
  request.headers["authorization"] = "Bearer t";
  EXPECT_EQ(RequireAdmin("t", inner)(request).status, 200);
  EXPECT_EQ(calls, 2);
  bool ok = true;
  request.headers["authorization"] = "Bearer u";
  http::HttpResponse denied = CheckAdminToken(request, "t", &ok);
  EXPECT_FALSE(ok);
  EXPECT_EQ(denied.status, 401);
  CheckAdminToken(request, "", &ok);
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace rest
}  // namespace crashctl
