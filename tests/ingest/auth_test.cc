#include "ingest/auth.h"

#include <gtest/gtest.h>

namespace crashctl {
namespace {

constexpr char kKey[] = "0123456789abcdef0123456789abcdef";

TEST(AuthHeaderTest, RealSdkHeaders) {
  // sentry-python, sentry-go, older sentry-javascript.
  EXPECT_EQ(SentryKeyFromAuthHeader(
                "Sentry sentry_key=0123456789abcdef0123456789abcdef, "
                "sentry_version=7, sentry_client=sentry.python/2.18.0"),
            kKey);
  EXPECT_EQ(SentryKeyFromAuthHeader(
                "Sentry sentry_version=7,sentry_client=sentry-go/0.29.1,"
                "sentry_key=0123456789abcdef0123456789abcdef"),
            kKey);
  EXPECT_EQ(SentryKeyFromAuthHeader(
                "Sentry sentry_version=7, sentry_timestamp=1700000000, "
                "sentry_key=0123456789abcdef0123456789abcdef, "
                "sentry_secret=s3cr3t"),
            kKey);
}

TEST(AuthHeaderTest, TolerantForms) {
  EXPECT_EQ(SentryKeyFromAuthHeader("sentry_key=abc, sentry_version=7"), "abc");
  EXPECT_EQ(SentryKeyFromAuthHeader("sentry sentry_key=abc"), "abc");
  EXPECT_EQ(SentryKeyFromAuthHeader("  Sentry   sentry_key = abc ,,  x=y  "),
            "abc");
  EXPECT_EQ(SentryKeyFromAuthHeader("Sentry sentry_version=7 sentry_key=abc"),
            "abc");
  EXPECT_EQ(SentryKeyFromAuthHeader("Sentry sentry_key=\"abc\""), "abc");
  EXPECT_EQ(SentryKeyFromAuthHeader("Sentry SENTRY_KEY=abc"), "abc");
}

TEST(AuthHeaderTest, NoKey) {
  EXPECT_EQ(SentryKeyFromAuthHeader(""), "");
  EXPECT_EQ(SentryKeyFromAuthHeader("Sentry"), "");
  EXPECT_EQ(SentryKeyFromAuthHeader("Sentry sentry_version=7"), "");
  EXPECT_EQ(SentryKeyFromAuthHeader("Bearer abc"), "");
  EXPECT_EQ(SentryKeyFromAuthHeader("Sentry sentry_keyx=abc"), "");
  EXPECT_EQ(SentryKeyFromAuthHeader("Sentry sentry_key="), "");
  EXPECT_EQ(SentryKeyFromAuthHeader("==,=, sentry_key"), "");
}

TEST(DsnTest, ParsesSentryForm) {
  Dsn dsn;
  ASSERT_TRUE(ParseDsn(
      "http://0123456789abcdef0123456789abcdef@127.0.0.1:9190/123", &dsn));
  EXPECT_EQ(dsn.scheme, "http");
  EXPECT_EQ(dsn.public_key, kKey);
  EXPECT_EQ(dsn.host, "127.0.0.1:9190");
  EXPECT_EQ(dsn.path_prefix, "");
  EXPECT_EQ(dsn.project_id, 123);
}

TEST(DsnTest, SecretAndPathPrefix) {
  Dsn dsn;
  ASSERT_TRUE(
      ParseDsn("https://KEY:secret@errors.example.com/prefix/sub/42", &dsn));
  EXPECT_EQ(dsn.scheme, "https");
  EXPECT_EQ(dsn.public_key, "KEY");
  EXPECT_EQ(dsn.host, "errors.example.com");
  EXPECT_EQ(dsn.path_prefix, "/prefix/sub");
  EXPECT_EQ(dsn.project_id, 42);
  ASSERT_TRUE(ParseDsn("HTTPS://k@h/7/", &dsn));
  EXPECT_EQ(dsn.scheme, "https");
  EXPECT_EQ(dsn.project_id, 7);
  ASSERT_TRUE(ParseDsn("http://k@[::1]:9190/9", &dsn));
  EXPECT_EQ(dsn.host, "[::1]:9190");
}

TEST(DsnTest, Invalid) {
  Dsn dsn;
  for (const char* bad : {
           "",
           "127.0.0.1:9190/1",
           "ftp://k@h/1",
           "http://h/1",
           "http://@h/1",
           "http://:secret@h/1",
           "http://k@/1",
           "http://k@h",
           "http://k@h/",
           "http://k@h/abc",
           "http://k@h/0",
           "http://k@h/-1",
           "http://k@h/1?x=y",
           "http://k@h/1#f",
           "http://k@h/99999999999999999999999",
       }) {
    EXPECT_FALSE(ParseDsn(bad, &dsn)) << bad;
  }
}

TEST(DsnTest, FormatRoundTrips) {
  EXPECT_EQ(FormatDsn("http://127.0.0.1:9190", kKey, 1),
            "http://0123456789abcdef0123456789abcdef@127.0.0.1:9190/1");
  EXPECT_EQ(FormatDsn("http://127.0.0.1:9190/", "k", 12),
            "http://k@127.0.0.1:9190/12");
  EXPECT_EQ(FormatDsn("https://errors.example.com/sentry//", "k", 3),
            "https://k@errors.example.com/sentry/3");
  EXPECT_EQ(FormatDsn("localhost:9190", "k", 4), "http://k@localhost:9190/4");
  for (const char* base :
       {"http://127.0.0.1:9190", "https://h.example/p/q/", "http://[::1]:1"}) {
    Dsn dsn;
    const std::string s = FormatDsn(base, kKey, 77);
    ASSERT_TRUE(ParseDsn(s, &dsn)) << s;
    EXPECT_EQ(dsn.public_key, kKey);
    EXPECT_EQ(dsn.project_id, 77);
  }
}

}  // namespace
}  // namespace crashctl
