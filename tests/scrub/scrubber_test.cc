#include "crashctl/scrub/scrubber.h"

#include <gtest/gtest.h>

namespace crashctl {
namespace scrub {
namespace {

std::string Scrubbed(const Scrubber& s, std::string text) {
  s.ScrubText(&text);
  return text;
}

TEST(ScrubberTest, SecretKeysAsSentryNamesThem) {
  const Scrubber s;
  for (const char* key :
       {"password",      "Passwd",     "DB_PASSWORD",   "secret",
        "client_secret", "api_key",    "apiKey",        "X-Api-Key",
        "access_token",  "token",      "Authorization", "credentials",
        "private_key",   "privateKey", "sessionid",     "Cookie",
        "Set-Cookie",    "csrftoken",  "mysql_pwd",     "jwt"}) {
    EXPECT_TRUE(s.IsSecretKey(key)) << key;
  }
  for (const char* key : {"filename", "function", "lineno", "user", "email",
                          "release", "message", "pwdx", ""}) {
    EXPECT_FALSE(s.IsSecretKey(key)) << key;
  }
}

TEST(ScrubberTest, TextRules) {
  const Scrubber s;
  const std::pair<const char*, const char*> cases[] = {
      {"password=hunter2 user=bob", "password=[Filtered] user=bob"},
      {"PASSWORD = hunter2", "PASSWORD = [Filtered]"},
      {"passwd: s3cr3t!", "passwd: [Filtered]"},
      {"https://h/p?a=1&api_key=K&b=2",
       "https://h/p?a=1&api_key=[Filtered]&b=2"},
      {"{\"token\": \"abc def\", \"n\": 1}",
       "{\"token\": \"[Filtered]\", \"n\": 1}"},
      {"Authorization: Bearer abc.DEF-123_x",
       "Authorization: Bearer [Filtered]"},
      {"sent with bearer ZZZ to x", "sent with bearer [Filtered] to x"},
      {"Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [Filtered]"},
      {"card 4111 1111 1111 1111 declined", "card [Filtered] declined"},
      {"card 4111-1111-1111-1111", "card [Filtered]"},
      {"amex 378282246310005.", "amex [Filtered]."},
      {"mc 5555555555554444", "mc [Filtered]"},
      // Not cards: bad check digit, no network prefix, part of a word, a
      // timestamp in milliseconds.
      {"4111 1111 1111 1112", "4111 1111 1111 1112"},
      {"9111111111111111", "9111111111111111"},
      {"0x4111111111111111", "0x4111111111111111"},
      {"at 1733090000000 ms", "at 1733090000000 ms"},
      {"std::vector<int>::at", "std::vector<int>::at"},
      {"no secrets here", "no secrets here"},
      {"password=[Filtered]", "password=[Filtered]"},  // idempotent
  };
  for (const auto& [in, want] : cases) {
    EXPECT_EQ(Scrubbed(s, in), want) << in;
    EXPECT_EQ(s.TextNeedsScrubbing(in), std::string(in) != want) << in;
  }
}

TEST(ScrubberTest, DefaultsOffLeavesOnlyTheExtraKeys) {
  Options options;
  options.defaults = false;
  options.extra_keys = {"IBAN"};
  const Scrubber s(options);
  EXPECT_TRUE(s.enabled());
  EXPECT_TRUE(s.IsSecretKey("customer_iban"));
  EXPECT_FALSE(s.IsSecretKey("password"));
  EXPECT_EQ(Scrubbed(s, "iban=DE00 password=x 4111111111111111"),
            "iban=[Filtered] password=x 4111111111111111");
  options.extra_keys.clear();
  EXPECT_FALSE(Scrubber(options).enabled());
}

TEST(ScrubberTest, CardNumbersByNetworkAndLuhn) {
  for (const char* number :
       {"4111111111111111", "4012888888881881", "5105105105105100",
        "2223003122003222", "378282246310005", "6011111111111117",
        "3530111333300000", "30569309025904", "6200000000000005"}) {
    EXPECT_TRUE(LooksLikeCardNumber(number)) << number;
  }
  for (const char* number : {"4111111111111112", "1234567812345670",
                             "41111111111", "41111111111111111111"}) {
    EXPECT_FALSE(LooksLikeCardNumber(number)) << number;
  }
}

TEST(ScrubberTest, LongTextIsLinearAndBounded) {
  const Scrubber s;
  std::string text;
  for (int i = 0; i < 20000; ++i)
    text += "password=p" + std::to_string(i) + " ";
  EXPECT_EQ(s.ScrubText(&text), 20000u);
  EXPECT_EQ(text.find("=p"), std::string::npos);
}

}  // namespace
}  // namespace scrub
}  // namespace crashctl
