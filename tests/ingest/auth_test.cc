#include "ingest/auth.h"

#include <gtest/gtest.h>

namespace crashctl {
namespace ingest {
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

}  // namespace
}  // namespace ingest
}  // namespace crashctl
