#include <gtest/gtest.h>

#include "crashctl/model/dsn.h"
#include "crashctl/model/records.h"
#include "crashctl/model/vocabulary.h"

namespace crashctl {
namespace model {
namespace {

constexpr char kKey[] = "0123456789abcdef0123456789abcdef";

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

TEST(DsnFormatTest, SentryAndShortForms) {
  const std::string key(32, 'f');
  EXPECT_EQ(FormatDsn("http://127.0.0.1:9190", key, 3),
            "http://" + key + "@127.0.0.1:9190/3");
  EXPECT_EQ(FormatDsn("https://crash.example.com/", key, 12),
            "https://" + key + "@crash.example.com/12");
  EXPECT_EQ(FormatDsn("https://example.com/crashctl", key, 1),
            "https://" + key + "@example.com/crashctl/1");
  EXPECT_EQ(FormatShortDsn("http://h:1/", key),
            "http://h:1/api/v1/events?key=" + key);
}

TEST(VocabularyTest, EachValueHasOneSpellingThatParsesBack) {
  for (Level v : AllLevels()) {
    Level parsed;
    ASSERT_TRUE(ParseLevel(ToString(v), &parsed));
    EXPECT_EQ(parsed, v);
  }
  for (GroupStatus v : AllGroupStatuses()) {
    GroupStatus parsed;
    ASSERT_TRUE(ParseGroupStatus(ToString(v), &parsed));
    EXPECT_EQ(parsed, v);
  }
  for (CrashType v : AllCrashTypes()) {
    CrashType parsed;
    ASSERT_TRUE(ParseCrashType(ToString(v), &parsed));
    EXPECT_EQ(parsed, v);
  }
  for (ItemType v : AllItemTypes()) EXPECT_EQ(ParseItemType(ToString(v)), v);
  Level level;
  EXPECT_FALSE(ParseLevel("Error", &level));  // exact spelling only
  GroupStatus status;
  EXPECT_FALSE(ParseGroupStatus("closed", &status));
  CrashType type;
  EXPECT_FALSE(ParseCrashType("", &type));
  EXPECT_EQ(ParseItemType("replay_recording"), ItemType::kOther);
  EXPECT_EQ(JoinedSpellings(AllGroupStatuses()),
            "unresolved, resolved, ignored");
  EXPECT_EQ(AllCrashTypes().size(), 8u);
}

TEST(RecordsTest, ProjectNames) {
  EXPECT_EQ(ProjectNameError("shop"), "");
  EXPECT_NE(ProjectNameError(""), "");
  EXPECT_NE(ProjectNameError(" \t"), "");
  EXPECT_NE(ProjectNameError("a\tb"), "");
  EXPECT_NE(ProjectNameError(std::string(201, 'x')), "");
  EXPECT_EQ(ProjectNameError(std::string(200, 'x')), "");
}

}  // namespace
}  // namespace model
}  // namespace crashctl
