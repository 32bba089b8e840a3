#include "http/wire.h"

#include <gtest/gtest.h>

namespace crashctl {
namespace http {
namespace {

// 2026-11-23T01:02:03Z
constexpr std::time_t kNow = 1795395723;

TEST(HttpWireTest, WholeResponseInOneBuffer) {
  HttpResponse response = HttpResponse::Json(200, R"({"id":"ab"})");
  EXPECT_EQ(SerializeHttpResponse(response, "1.1", true, false, kNow),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 11\r\n"
            "Date: Mon, 23 Nov 2026 01:02:03 GMT\r\n"
            "Connection: keep-alive\r\n"
            "\r\n"
            R"({"id":"ab"})");
}

TEST(HttpWireTest, ExtraHeadersAndOwnConnectionHeaderWin) {
  HttpResponse response = HttpResponse::Error(429, "queue full");
  response.headers = {{"Retry-After", "1"}, {"Connection", "close"}};
  const std::string wire =
      SerializeHttpResponse(response, "1.0", true, false, kNow);
  EXPECT_EQ(wire.rfind("HTTP/1.0 429 Too Many Requests\r\n", 0), 0u) << wire;
  EXPECT_NE(wire.find("\r\nRetry-After: 1\r\n"), std::string::npos);
  EXPECT_NE(wire.find("\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_EQ(wire.find("keep-alive"), std::string::npos) << wire;
  EXPECT_EQ(wire.substr(wire.find("\r\n\r\n") + 4),
            R"({"error":"queue full"})");
}

TEST(HttpWireTest, HeadKeepsLengthDropsBody) {
  HttpResponse response = HttpResponse::Json(200, "12345");
  response.content_type.clear();
  const std::string wire =
      SerializeHttpResponse(response, "1.1", false, true, kNow);
  EXPECT_EQ(wire.find("Content-Type"), std::string::npos);
  EXPECT_NE(wire.find("\r\nContent-Length: 5\r\n"), std::string::npos);
  EXPECT_NE(wire.find("\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_EQ(wire.size(), wire.find("\r\n\r\n") + 4) << "no body for HEAD";
}

TEST(HttpWireTest, GivenDateIsKept) {
  HttpResponse response = HttpResponse::Json(204, "");
  response.headers = {{"date", "Thu, 01 Jan 1970 00:00:00 GMT"}};
  const std::string wire =
      SerializeHttpResponse(response, "1.1", true, false, kNow);
  EXPECT_EQ(wire.find("2026"), std::string::npos) << wire;
  EXPECT_EQ(wire.rfind("HTTP/1.1 204 No Content\r\n", 0), 0u);
}

TEST(HttpWireTest, UnknownStatusHasEmptyReason) {
  EXPECT_STREQ(HttpReasonPhrase(299), "");
  EXPECT_STREQ(HttpReasonPhrase(503), "Service Unavailable");
}

TEST(HttpWireTest, KeepAliveFollowsConnectionHeaderThenVersion) {
  EXPECT_TRUE(RequestWantsKeepAlive(nullptr, "1.1"));
  EXPECT_FALSE(RequestWantsKeepAlive(nullptr, "1.0"));
  EXPECT_FALSE(RequestWantsKeepAlive(nullptr, nullptr));
  EXPECT_TRUE(RequestWantsKeepAlive("Keep-Alive", "1.0"));
  EXPECT_TRUE(RequestWantsKeepAlive("TE, keep-alive ", "1.0"));
  EXPECT_FALSE(RequestWantsKeepAlive("close", "1.1"));
  EXPECT_FALSE(RequestWantsKeepAlive("keep-alive-ish", "1.1"));
  EXPECT_FALSE(RequestWantsKeepAlive("", "1.1"));
}

}  // namespace
}  // namespace http
}  // namespace crashctl
