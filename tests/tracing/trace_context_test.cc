// sentry-trace, traceparent and baggage: valid and invalid tables, round
// trips. Links crashctl_trace_context alone.
#include "crashctl/tracing/trace_context.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace crashctl {
namespace tracing {
namespace {

constexpr char kTrace[] = "771a43a4192642f0b136d5159a501700";
constexpr char kSpan[] = "b7ad6b7169203331";

TEST(SentryTraceTest, Valid) {
  struct Case {
    std::string header;
    std::optional<bool> sampled;
  };
  const std::string base = std::string(kTrace) + "-" + kSpan;
  const std::vector<Case> cases = {
      {base, std::nullopt},
      {base + "-1", true},
      {base + "-0", false},
      {" \t" + base + "-1 ", true},
  };
  for (const Case& c : cases) {
    SentryTrace t;
    std::string error;
    ASSERT_TRUE(ParseSentryTrace(c.header, &t, &error)) << c.header << error;
    EXPECT_EQ(t.trace_id, kTrace);
    EXPECT_EQ(t.span_id, kSpan);
    EXPECT_EQ(t.sampled, c.sampled);
    const std::string trimmed =
        c.header.substr(c.header.find_first_not_of(" \t"));
    EXPECT_EQ(FormatSentryTrace(t), trimmed.substr(0, trimmed.find(' ')));
  }
}

TEST(SentryTraceTest, Invalid) {
  const std::string base = std::string(kTrace) + "-" + kSpan;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "expected"},
      {kTrace, "expected"},
      {base + "-", "only \"-0\" or \"-1\""},
      {base + "-2", "only \"-0\" or \"-1\""},
      {base + "-10", "only \"-0\" or \"-1\""},
      {base + "-1-x", "only \"-0\" or \"-1\""},
      {"771A43A4192642F0B136D5159A501700-" + std::string(kSpan), "trace id"},
      {std::string(32, '0') + "-" + kSpan, "all zeros"},
      {std::string(kTrace) + "-" + std::string(16, '0'), "span id"},
      {std::string(kTrace) + "-b7ad6b716920333g", "span id"},
      {std::string(kTrace) + "_" + kSpan, "expected"},
      {std::string(kTrace) + "-b7ad6b716920333", "expected"},
      {std::string(200, 'a'), "longer"},
  };
  for (const auto& [header, part] : cases) {
    SentryTrace t;
    t.trace_id = "untouched";
    std::string error;
    EXPECT_FALSE(ParseSentryTrace(header, &t, &error)) << header;
    EXPECT_NE(error.find(part), std::string::npos) << header << ": " << error;
    EXPECT_EQ(t.trace_id, "untouched");
  }
  SentryTrace t;
  EXPECT_FALSE(ParseSentryTrace("x", &t, nullptr));  // error may be null
}

TEST(SentryTraceTest, FormatRefusesBadIds) {
  SentryTrace t{"abc", kSpan, true};
  EXPECT_EQ(FormatSentryTrace(t), "");
  t.trace_id = kTrace;
  EXPECT_EQ(FormatSentryTrace(t), std::string(kTrace) + "-" + kSpan + "-1");
}

TEST(TraceparentTest, Valid) {
  TraceParent t;
  std::string error;
  const std::string h =
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  ASSERT_TRUE(ParseTraceparent(h, &t, &error)) << error;
  EXPECT_EQ(t.version, 0);
  EXPECT_EQ(t.trace_id, "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(t.parent_id, "b7ad6b7169203331");
  EXPECT_EQ(t.flags, 1);
  EXPECT_TRUE(t.sampled());
  EXPECT_EQ(FormatTraceparent(t), h);
  // Other flag bits are kept; a future version may carry more fields.
  ASSERT_TRUE(ParseTraceparent(
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-fe", &t, &error));
  EXPECT_EQ(t.flags, 0xfe);
  EXPECT_FALSE(t.sampled());
  ASSERT_TRUE(ParseTraceparent(
      "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future",
      &t, &error))
      << error;
  EXPECT_EQ(t.version, 0xcc);
  EXPECT_EQ(FormatTraceparent(t),
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  ASSERT_TRUE(ParseTraceparent(
      "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", &t, &error));
}

TEST(TraceparentTest, Invalid) {
  const std::string trace = "0af7651916cd43dd8448eb211c80319c";
  const std::string span = "b7ad6b7169203331";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "expected"},
      {"00-" + trace + "-" + span, "expected"},
      {"00-" + trace + "-" + span + "-1", "expected"},
      {"00-" + trace + "-" + span + "-01-", "exactly four fields"},
      {"00-" + trace + "-" + span + "-01x", "exactly four fields"},
      {"01-" + trace + "-" + span + "-01x", "must follow a '-'"},
      {"ff-" + trace + "-" + span + "-01", "version ff"},
      {"0g-" + trace + "-" + span + "-01", "version is not"},
      {"0A-" + trace + "-" + span + "-01", "version is not"},
      {"00-" + std::string(32, '0') + "-" + span + "-01", "trace id"},
      {"00-" + trace + "-" + std::string(16, '0') + "-01", "parent id"},
      {"00-0AF7651916CD43DD8448EB211C80319C-" + span + "-01", "trace id"},
      {"00-" + trace + "-" + span + "-0G", "flags"},
      {"00_" + trace + "-" + span + "-01", "expected"},
  };
  for (const auto& [header, part] : cases) {
    TraceParent t;
    t.trace_id = "untouched";
    std::string error;
    EXPECT_FALSE(ParseTraceparent(header, &t, &error)) << header;
    EXPECT_NE(error.find(part), std::string::npos) << header << ": " << error;
    EXPECT_EQ(t.trace_id, "untouched");
  }
}

TEST(TraceparentTest, ConvertsToAndFromSentryTrace) {
  SentryTrace s{kTrace, kSpan, true};
  const TraceParent p = ToTraceparent(s);
  EXPECT_EQ(FormatTraceparent(p),
            std::string("00-") + kTrace + "-" + kSpan + "-01");
  EXPECT_EQ(FormatSentryTrace(ToSentryTrace(p)), FormatSentryTrace(s));
  s.sampled.reset();
  EXPECT_EQ(ToTraceparent(s).flags, 0);
}

TEST(TraceIdsTest, NewIdsAreValidAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string t = NewTraceId();
    const std::string s = NewSpanId();
    EXPECT_TRUE(IsTraceId(t)) << t;
    EXPECT_TRUE(IsSpanId(s)) << s;
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_FALSE(IsTraceId(std::string(32, '0')));
  EXPECT_FALSE(IsSpanId("B7AD6B7169203331"));
}

TEST(BaggageTest, ParsesSentryEntriesAndKeepsOthers) {
  // What @sentry/node 10 sends (tests/tracing/testdata), with other
  // vendors' members around it.
  const std::string header =
      "rojo=00f067aa0ba902b7, "
      "sentry-environment=test,sentry-release=shop%401.4.2,"
      "sentry-public_key=0123456789abcdef0123456789abcdef,"
      "sentry-trace_id=6536d32b6b9c4aa783b4525d4477f9df,"
      "sentry-transaction=GET%20%2Forders%2F%3Aid , sentry-sampled=true,"
      "sentry-sample_rate=1,sentry-sample_rand=0.7659203044972085,"
      "congo=t61rcWkgMzE;prop=1;flag";
  Baggage b;
  std::string error;
  ASSERT_TRUE(ParseBaggage(header, &b, &error)) << error;
  EXPECT_EQ(b.environment, "test");
  EXPECT_EQ(b.release, "shop@1.4.2");
  EXPECT_EQ(b.public_key, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(b.trace_id, "6536d32b6b9c4aa783b4525d4477f9df");
  EXPECT_EQ(b.transaction, "GET /orders/:id");
  EXPECT_EQ(b.sampled, "true");
  EXPECT_EQ(b.sample_rate, "1");
  ASSERT_EQ(b.other_sentry.size(), 1u);
  EXPECT_EQ(b.other_sentry[0].first, "sample_rand");
  EXPECT_EQ(b.third_party,
            (std::vector<std::string>{"rojo=00f067aa0ba902b7",
                                      "congo=t61rcWkgMzE;prop=1;flag"}));
  EXPECT_TRUE(b.has_sentry_entries());
  const std::string formatted = FormatBaggage(b);
  EXPECT_EQ(
      formatted,
      "sentry-trace_id=6536d32b6b9c4aa783b4525d4477f9df,"
      "sentry-public_key=0123456789abcdef0123456789abcdef,"
      "sentry-sample_rate=1,sentry-release=shop%401.4.2,"
      "sentry-environment=test,sentry-transaction=GET%20%2Forders%2F%3Aid,"
      "sentry-sampled=true,sentry-sample_rand=0.7659203044972085,"
      "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE;prop=1;flag");
  Baggage again;
  ASSERT_TRUE(ParseBaggage(formatted, &again, &error)) << error;
  EXPECT_EQ(FormatBaggage(again), formatted);
  EXPECT_EQ(again.transaction, b.transaction);
  EXPECT_EQ(again.third_party, b.third_party);
}

TEST(BaggageTest, FirstSentryKeyWinsAndEmptyHeaderIsEmpty) {
  Baggage b;
  std::string error;
  ASSERT_TRUE(ParseBaggage("sentry-release=a,sentry-release=b", &b, &error));
  EXPECT_EQ(b.release, "a");
  ASSERT_TRUE(ParseBaggage("  ", &b, &error));
  EXPECT_FALSE(b.has_sentry_entries());
  EXPECT_TRUE(b.third_party.empty());
  EXPECT_EQ(FormatBaggage(b), "");
  // Blanks around '=' (OWS) are allowed.
  ASSERT_TRUE(ParseBaggage("sentry-environment = prod", &b, &error)) << error;
  EXPECT_EQ(b.environment, "prod");
}

TEST(BaggageTest, Invalid) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a=1,,b=2", "member 1 is empty"},
      {"a=1,", "member 1 is empty"},
      {"novalue", "has no '='"},
      {"=v", "not a token"},
      {"k y=v", "not a token"},
      {"k=v v", "does not allow"},
      {"k=\"v\"", "does not allow"},
      {"k=a\\b", "does not allow"},
      {"k=%zz", "bad %-escape"},
      {"k=%4", "bad %-escape"},
      {"sentry-release=%ff%fe", "not %-encoded UTF-8"},
      {"k=v;=x", "a bad property"},
      {"k=v;p=a b", "a bad property"},
      {std::string(8193, 'a'), "more than 8192"},
  };
  for (const auto& [header, part] : cases) {
    Baggage b;
    b.release = "untouched";
    std::string error;
    EXPECT_FALSE(ParseBaggage(header, &b, &error)) << header;
    EXPECT_NE(error.find(part), std::string::npos) << header << ": " << error;
    EXPECT_EQ(b.release, "untouched");
  }
  std::string many;
  for (int i = 0; i < 181; ++i)
    many += (i ? ",k" : "k") + std::to_string(i) + "=v";
  Baggage b;
  std::string error;
  EXPECT_FALSE(ParseBaggage(many, &b, &error));
  EXPECT_NE(error.find("more than 180 members"), std::string::npos) << error;
}

TEST(BaggageTest, FormatKeepsSentryEntriesWithinTheBound) {
  Baggage b;
  b.trace_id = kTrace;
  b.transaction = "GET /\xc3\xa9t\xc3\xa9 100%";
  for (int i = 0; i < 100; ++i) {
    b.third_party.push_back("vendor" + std::to_string(i) + "=" +
                            std::string(100, 'x'));
  }
  size_t dropped = 0;
  const std::string header = FormatBaggage(b, &dropped);
  EXPECT_LE(header.size(), kMaxBaggageBytes);
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(header.rfind("sentry-trace_id=", 0), 0u);
  EXPECT_NE(header.find("sentry-transaction=GET%20%2F%C3%A9t%C3%A9%20100%25"),
            std::string::npos);
  Baggage back;
  std::string error;
  ASSERT_TRUE(ParseBaggage(header, &back, &error)) << error;
  EXPECT_EQ(back.transaction, b.transaction);
  EXPECT_EQ(back.third_party.size(), 100u - dropped);
  // Names that would be known fields or are not tokens are not emitted.
  Baggage odd;
  odd.other_sentry = {{"release", "x"}, {"bad name", "y"}, {"org_id", "1"}};
  EXPECT_EQ(FormatBaggage(odd, &dropped), "sentry-org_id=1");
  EXPECT_EQ(dropped, 2u);
}

TEST(BaggageTest, PercentCoding) {
  std::string out;
  EXPECT_EQ(PercentEncode("a b,c;d=e%f"), "a%20b%2Cc%3Bd%3De%25f");
  EXPECT_EQ(PercentEncode("-_.!~*'()"), "-_.!~*'()");
  ASSERT_TRUE(PercentDecode("a%20b%2c", &out));
  EXPECT_EQ(out, "a b,");
  EXPECT_FALSE(PercentDecode("%", &out));
  EXPECT_FALSE(PercentDecode("%g0", &out));
  for (const std::string& s : {std::string("x"), std::string("\x01\xff %"),
                               std::string("\xe2\x82\xac")}) {
    ASSERT_TRUE(PercentDecode(PercentEncode(s), &out));
    EXPECT_EQ(out, s);
  }
}

}  // namespace
}  // namespace tracing
}  // namespace crashctl
