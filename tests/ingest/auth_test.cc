#include "ingest/auth.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace crashctl {
namespace ingest {
namespace {

constexpr char kKey[] = "0123456789abcdef0123456789abcdef";

// SentryKeyFromAuthHeader finds `key` in each of `headers`.
void ExpectKeyIn(const std::string& key,
                 std::initializer_list<const char*> headers) {
  for (const char* header : headers) {
    SCOPED_TRACE(header);
    EXPECT_EQ(SentryKeyFromAuthHeader(header), key);
  }
}

TEST(AuthHeaderTest, RealSdkHeaders) {
  // sentry-python, sentry-go, older sentry-javascript.
  ExpectKeyIn(kKey, {"Sentry sentry_key=0123456789abcdef0123456789abcdef, "
                     "sentry_version=7, sentry_client=sentry.python/2.18.0",
                     "Sentry sentry_version=7,sentry_client=sentry-go/0.29.1,"
                     "sentry_key=0123456789abcdef0123456789abcdef",
                     "Sentry sentry_version=7, sentry_timestamp=1700000000, "
                     "sentry_key=0123456789abcdef0123456789abcdef, "
                     "sentry_secret=s3cr3t"});
}

TEST(AuthHeaderTest, TolerantForms) {
  ExpectKeyIn("abc",
              {"sentry_key=abc, sentry_version=7", "sentry sentry_key=abc",
               "  Sentry   sentry_key = abc ,,  x=y  ",
               "Sentry sentry_version=7 sentry_key=abc",
               "Sentry sentry_key=\"abc\"", "Sentry SENTRY_KEY=abc"});
}

TEST(AuthHeaderTest, NoKey) {
  ExpectKeyIn(
      "", {"", "Sentry", "Sentry sentry_version=7", "Bearer abc",
           "Sentry sentry_keyx=abc", "Sentry sentry_key=", "==,=, sentry_key"});
}

}  // namespace
}  // namespace ingest
}  // namespace crashctl
