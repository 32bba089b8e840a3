// Parsing of `session` and `sessions` items (the documented shapes verbatim,
// Relay's rules, bad input), aggregate counts, the distinct-id hash and the
// crash-free arithmetic.
#include "crashctl/releases/sessions.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crashctl/util/time.h"

namespace crashctl::releases {
namespace {

double T(const char* rfc3339) {
  double t = 0;
  EXPECT_TRUE(util::ParseRfc3339(rfc3339, &t)) << rfc3339;
  return t;
}

ParseOptions At(const char* now) {
  ParseOptions o;
  o.now = T(now);
  return o;
}

// develop.sentry.dev/sdk/telemetry/sessions, "Session Update Payload".
const char kDocSession[] = R"({
  "sid": "7c7b6585-f901-4351-bf8d-02711b721929",
  "did": "optional distinct user id",
  "init": true,
  "started": "2020-02-07T14:16:00Z",
  "duration": 60,
  "status": "exited",
  "attrs": {
    "release": "my-project-name@1.0.0",
    "environment": "environment name",
    "ip_address": "optional user ip address for filtering",
    "user_agent": "optional user agent for filtering"
  }
})";

// Relay's defaults test (relay-event-schema, session.rs).
const char kRelayDefaults[] = R"({
  "sid": "8333339f-5675-4f89-a9a0-1c935255ab58",
  "timestamp": "2020-02-07T15:17:00Z",
  "started": "2020-02-07T14:16:00Z",
  "attrs": {
    "release": "sentry-test@1.0.0"
  }
})";

// The @sentry/node 10.78 update in tests/ingest/testdata/node_session.envelope.
const char kNodeSession[] =
    R"({"sid":"7efcb2b096244cccb699e55e0b00098f","init":true,"started":"2026-11-22T22:46:33.169Z","timestamp":"2026-11-22T22:46:33.169Z","status":"exited","errors":0,"did":"42","duration":0.00020360946655273438,"attrs":{"release":"app@1.2.3","environment":"test"}})";

TEST(ParseSessionUpdateTest, DocumentedPayload) {
  SessionUpdate u;
  ASSERT_TRUE(
      ParseSessionUpdate(kDocSession, At("2020-02-07T14:17:00Z"), &u).ok());
  EXPECT_EQ(u.sid, "7c7b6585f9014351bf8d02711b721929");
  EXPECT_EQ(u.distinct_id, "optional distinct user id");
  EXPECT_TRUE(u.init);
  EXPECT_EQ(u.started, T("2020-02-07T14:16:00Z"));
  // No timestamp: the time received.
  EXPECT_EQ(u.timestamp, T("2020-02-07T14:17:00Z"));
  EXPECT_EQ(u.duration, 60.0);
  EXPECT_EQ(u.status, SessionStatus::kExited);
  EXPECT_EQ(u.errors, 0u);
  EXPECT_FALSE(u.seq);
  EXPECT_EQ(u.attrs.release, "my-project-name@1.0.0");
  EXPECT_EQ(u.attrs.environment, "environment name");
  EXPECT_EQ(u.attrs.ip_address, "optional user ip address for filtering");
  EXPECT_EQ(u.attrs.user_agent, "optional user agent for filtering");
}

TEST(ParseSessionUpdateTest, RelayDefaults) {
  SessionUpdate u;
  ASSERT_TRUE(
      ParseSessionUpdate(kRelayDefaults, At("2020-02-07T15:17:30Z"), &u).ok());
  EXPECT_EQ(u.status, SessionStatus::kOk);
  EXPECT_FALSE(u.init);
  EXPECT_EQ(u.errors, 0u);
  EXPECT_EQ(u.distinct_id, "");
  EXPECT_EQ(u.attrs.environment, "");
  EXPECT_EQ(u.timestamp, T("2020-02-07T15:17:00Z"));
}

TEST(ParseSessionUpdateTest, NodeSdkPayload) {
  SessionUpdate u;
  ASSERT_TRUE(
      ParseSessionUpdate(kNodeSession, At("2026-11-22T22:46:34Z"), &u).ok());
  EXPECT_EQ(u.sid, "7efcb2b096244cccb699e55e0b00098f");
  EXPECT_EQ(u.distinct_id, "42");
  EXPECT_EQ(u.status, SessionStatus::kExited);
  EXPECT_EQ(u.attrs.release, "app@1.2.3");
  EXPECT_EQ(u.attrs.environment, "test");
  EXPECT_DOUBLE_EQ(u.started, T("2026-11-22T22:46:33.169Z"));
}

struct Case {
  const char* name;
  const char* json;
  bool ok;
  const char* error;  // substring of the message when !ok
};

// now = 2024-05-01T12:00:00Z throughout.
const Case kCases[] = {
    {"minimal",
     R"({"started":"2024-05-01T11:00:00Z","attrs":{"release":"a@1"}})", true,
     ""},
    {"epoch seconds", R"({"started":1714561200,"attrs":{"release":"a@1"}})",
     true, ""},
    {"offset and no zone",
     R"({"started":"2024-05-01T13:00:00+02:00","timestamp":"2024-05-01T11:30:00","attrs":{"release":"a@1"}})",
     true, ""},
    {"unhandled is errored",
     R"({"started":"2024-05-01T11:00:00Z","status":"unhandled","attrs":{"release":"a@1"}})",
     true, ""},
    {"numeric did",
     R"({"started":"2024-05-01T11:00:00Z","did":12345,"attrs":{"release":"a@1"}})",
     true, ""},
    {"null fields are absent",
     R"({"sid":null,"did":null,"seq":null,"started":"2024-05-01T11:00:00Z","status":null,"attrs":{"release":"a@1","environment":null}})",
     true, ""},
    {"not json", "{\"started\":", false, "not valid JSON"},
    {"not an object", "[1,2]", false, "not a JSON object"},
    {"no attrs", R"({"started":"2024-05-01T11:00:00Z"})", false,
     "attrs is required"},
    {"no release", R"({"started":"2024-05-01T11:00:00Z","attrs":{}})", false,
     "attrs.release is required"},
    {"empty release",
     R"({"started":"2024-05-01T11:00:00Z","attrs":{"release":""}})", false,
     "is empty"},
    {"release latest",
     R"({"started":"2024-05-01T11:00:00Z","attrs":{"release":"Latest"}})",
     false, "reserved"},
    {"release with slash",
     R"({"started":"2024-05-01T11:00:00Z","attrs":{"release":"a/b"}})", false,
     "control character"},
    {"release with newline",
     R"({"started":"2024-05-01T11:00:00Z","attrs":{"release":"a\nb"}})", false,
     "control character"},
    {"release not a string",
     R"({"started":"2024-05-01T11:00:00Z","attrs":{"release":7}})", false,
     "attrs.release: expected a string"},
    {"no started", R"({"attrs":{"release":"a@1"}})", false,
     "started is required"},
    {"bad started", R"({"started":"yesterday","attrs":{"release":"a@1"}})",
     false, "field started"},
    {"bad sid",
     R"({"sid":"not-a-uuid","started":"2024-05-01T11:00:00Z","attrs":{"release":"a@1"}})",
     false, "field sid"},
    {"unknown status",
     R"({"started":"2024-05-01T11:00:00Z","status":"sleeping","attrs":{"release":"a@1"}})",
     false, "unknown session status"},
    {"negative errors",
     R"({"started":"2024-05-01T11:00:00Z","errors":-1,"attrs":{"release":"a@1"}})",
     false, "errors"},
    {"seq overflow",
     R"({"started":"2024-05-01T11:00:00Z","seq":18446744073709551615,"attrs":{"release":"a@1"}})",
     false, "seq"},
    {"init not bool",
     R"({"started":"2024-05-01T11:00:00Z","init":"yes","attrs":{"release":"a@1"}})",
     false, "init"},
    {"older than 5 days",
     R"({"started":"2024-04-26T11:59:00Z","attrs":{"release":"a@1"}})", false,
     "5 days"},
    {"timestamp older than 5 days",
     R"({"started":"2024-04-20T11:59:00Z","timestamp":"2024-04-26T11:00:00Z","attrs":{"release":"a@1"}})",
     false, "field timestamp"},
    {"in the future",
     R"({"started":"2024-05-01T12:01:01Z","attrs":{"release":"a@1"}})", false,
     "60 s after"},
    {"did an object",
     R"({"started":"2024-05-01T11:00:00Z","did":{},"attrs":{"release":"a@1"}})",
     false, "did"},
};

TEST(ParseSessionUpdateTest, Table) {
  for (const Case& c : kCases) {
    SessionUpdate u;
    Status s = ParseSessionUpdate(c.json, At("2024-05-01T12:00:00Z"), &u);
    EXPECT_EQ(s.ok(), c.ok) << c.name << ": " << s.ToString();
    if (!c.ok) {
      EXPECT_TRUE(s.IsInvalid()) << c.name;
      EXPECT_NE(s.message().find(c.error), std::string::npos)
          << c.name << ": " << s.message();
    }
  }
}

TEST(ParseSessionUpdateTest, Rules) {
  SessionUpdate u;
  const ParseOptions now = At("2024-05-01T12:00:00Z");
  // A crash is an error.
  ASSERT_TRUE(
      ParseSessionUpdate(
          R"({"started":"2024-05-01T11:00:00Z","status":"crashed","attrs":{"release":"a@1"}})",
          now, &u)
          .ok());
  EXPECT_EQ(u.errors, 1u);
  // timestamp before started becomes started.
  ASSERT_TRUE(
      ParseSessionUpdate(
          R"({"started":"2024-05-01T11:00:00Z","timestamp":"2024-05-01T10:00:00Z","attrs":{"release":"a@1"}})",
          now, &u)
          .ok());
  EXPECT_EQ(u.timestamp, T("2024-05-01T11:00:00Z"));
  // An invalid environment is dropped, not refused.
  ASSERT_TRUE(
      ParseSessionUpdate(
          R"({"started":"2024-05-01T11:00:00Z","attrs":{"release":"a@1","environment":"none"}})",
          now, &u)
          .ok());
  EXPECT_EQ(u.attrs.environment, "");
  // Braced and URN UUIDs, any case.
  ASSERT_TRUE(
      ParseSessionUpdate(
          R"({"sid":"{7C7B6585-F901-4351-BF8D-02711B721929}","started":"2024-05-01T11:00:00Z","attrs":{"release":"a@1"}})",
          now, &u)
          .ok());
  EXPECT_EQ(u.sid, "7c7b6585f9014351bf8d02711b721929");
  // Long dids are cut.
  const std::string long_did(1000, 'x');
  ASSERT_TRUE(
      ParseSessionUpdate(R"({"started":"2024-05-01T11:00:00Z","did":")" +
                             long_did + R"(","attrs":{"release":"a@1"}})",
                         now, &u)
          .ok());
  EXPECT_EQ(u.distinct_id.size(), kMaxDistinctIdBytes);
  // A release of exactly 200 bytes passes, 201 does not.
  const std::string r200(200, 'r');
  EXPECT_TRUE(ParseSessionUpdate(
                  R"({"started":"2024-05-01T11:00:00Z","attrs":{"release":")" +
                      r200 + R"("}})",
                  now, &u)
                  .ok());
  EXPECT_FALSE(ParseSessionUpdate(
                   R"({"started":"2024-05-01T11:00:00Z","attrs":{"release":")" +
                       r200 + R"(r"}})",
                   now, &u)
                   .ok());
  // Oversized payloads.
  const std::string huge(kMaxSessionPayloadBytes + 1, ' ');
  Status s = ParseSessionUpdate(huge, now, &u);
  EXPECT_EQ(s.code(), Status::Code::kTooLarge);
}

TEST(ParseSessionUpdateTest, ClockDriftFromSentAt) {
  // The client clock is two hours behind: its times are shifted forward.
  ParseOptions o = At("2024-05-01T12:00:00Z");
  o.sent_at = T("2024-05-01T10:00:00Z");
  SessionUpdate u;
  ASSERT_TRUE(
      ParseSessionUpdate(
          R"({"started":"2024-05-01T09:59:00Z","timestamp":"2024-05-01T10:00:00Z","attrs":{"release":"a@1"}})",
          o, &u)
          .ok());
  EXPECT_EQ(u.started, T("2024-05-01T11:59:00Z"));
  EXPECT_EQ(u.timestamp, T("2024-05-01T12:00:00Z"));
  // Ten minutes off is below Relay's 55-minute threshold: left as is.
  o.sent_at = T("2024-05-01T11:50:00Z");
  ASSERT_TRUE(
      ParseSessionUpdate(
          R"({"started":"2024-05-01T11:49:00Z","attrs":{"release":"a@1"}})", o,
          &u)
          .ok());
  EXPECT_EQ(u.started, T("2024-05-01T11:49:00Z"));
  // Six days behind: corrected into range instead of refused.
  o.sent_at = T("2024-04-25T12:00:00Z");
  EXPECT_TRUE(
      ParseSessionUpdate(
          R"({"started":"2024-04-25T11:00:00Z","attrs":{"release":"a@1"}})", o,
          &u)
          .ok());
}

// develop.sentry.dev, "Session Aggregates Payload".
const char kDocAggregates[] = R"({
  "aggregates": [
    {
      "started": "2020-02-07T14:16:00Z",
      "exited": 123
    },
    {
      "started": "2020-02-07T14:16:00Z",
      "did": "optional distinct user id",
      "exited": 12,
      "errored": 3
    }
  ],
  "attrs": {
    "release": "my-project-name@1.0.0",
    "environment": "development"
  }
})";

TEST(ParseSessionAggregatesTest, DocumentedPayload) {
  SessionAggregates a;
  ASSERT_TRUE(
      ParseSessionAggregates(kDocAggregates, At("2020-02-07T14:17:00Z"), &a)
          .ok());
  ASSERT_EQ(a.aggregates.size(), 2u);
  EXPECT_EQ(a.aggregates[0].exited, 123u);
  EXPECT_EQ(a.aggregates[0].distinct_id, "");
  EXPECT_EQ(a.aggregates[1].distinct_id, "optional distinct user id");
  EXPECT_EQ(a.aggregates[1].exited, 12u);
  EXPECT_EQ(a.aggregates[1].errored, 3u);
  EXPECT_EQ(a.attrs.release, "my-project-name@1.0.0");
  EXPECT_EQ(a.attrs.environment, "development");

  const std::vector<SessionCount> counts = CountAggregates(7, a);
  ASSERT_EQ(counts.size(), 3u);
  EXPECT_EQ(counts[0].status, CountedStatus::kExited);
  EXPECT_EQ(counts[0].quantity, 123u);
  EXPECT_EQ(counts[0].distinct_id_hash, "");
  EXPECT_EQ(counts[1].quantity, 12u);
  EXPECT_EQ(counts[2].status, CountedStatus::kErrored);
  EXPECT_EQ(counts[2].quantity, 3u);
  EXPECT_EQ(counts[2].distinct_id_hash,
            HashDistinctId("optional distinct user id"));
  for (const auto& c : counts) {
    EXPECT_EQ(c.project_id, 7);
    EXPECT_EQ(c.reason, SessionCount::Reason::kAggregate);
    EXPECT_EQ(c.release, "my-project-name@1.0.0");
  }
}

TEST(ParseSessionAggregatesTest, Rules) {
  const ParseOptions now = At("2024-05-01T12:00:00Z");
  SessionAggregates a;
  // Out-of-range entries are dropped one by one (Relay).
  ASSERT_TRUE(
      ParseSessionAggregates(
          R"({"aggregates":[{"started":"2024-04-01T00:00:00Z","exited":5},{"started":"2024-05-01T11:59:00Z","crashed":2,"unhandled":1,"abnormal":4}],"attrs":{"release":"a@1"}})",
          now, &a)
          .ok());
  ASSERT_EQ(a.aggregates.size(), 1u);
  EXPECT_EQ(a.dropped_out_of_range, 1u);
  EXPECT_EQ(a.aggregates[0].crashed, 2u);
  EXPECT_EQ(a.aggregates[0].errored, 1u);
  EXPECT_EQ(a.aggregates[0].abnormal, 4u);
  // ... all of them: refused.
  Status s = ParseSessionAggregates(
      R"({"aggregates":[{"started":"2024-04-01T00:00:00Z","exited":5}],"attrs":{"release":"a@1"}})",
      now, &a);
  EXPECT_TRUE(s.IsInvalid());
  const char* bad[] = {
      R"({"attrs":{"release":"a@1"}})",
      R"({"aggregates":[],"attrs":{"release":"a@1"}})",
      R"({"aggregates":{},"attrs":{"release":"a@1"}})",
      R"({"aggregates":[{"exited":1}],"attrs":{"release":"a@1"}})",
      R"({"aggregates":[{"started":"2024-05-01T11:59:00Z","exited":-1}],"attrs":{"release":"a@1"}})",
      R"({"aggregates":[{"started":"2024-05-01T11:59:00Z","exited":4294967296}],"attrs":{"release":"a@1"}})",
      R"({"aggregates":[{"started":"2024-05-01T11:59:00Z","exited":1.5}],"attrs":{"release":"a@1"}})",
      R"({"aggregates":[7],"attrs":{"release":"a@1"}})",
      R"({"aggregates":[{"started":"2024-05-01T11:59:00Z","exited":1}]})",
  };
  for (const char* json : bad) {
    EXPECT_TRUE(ParseSessionAggregates(json, now, &a).IsInvalid()) << json;
  }
  std::string many = R"({"attrs":{"release":"a@1"},"aggregates":[)";
  for (size_t i = 0; i <= kMaxAggregates; ++i) {
    many += std::string(i ? "," : "") +
            R"({"started":"2024-05-01T11:59:00Z","exited":1})";
  }
  many += "]}";
  EXPECT_EQ(ParseSessionAggregates(many, now, &a).code(),
            Status::Code::kTooLarge);
}

TEST(HashDistinctIdTest, StableAndOpaque) {
  EXPECT_EQ(HashDistinctId(""), "");
  const std::string h = HashDistinctId("user@example.com");
  EXPECT_EQ(h.size(), 32u);
  EXPECT_EQ(h, HashDistinctId("user@example.com"));
  EXPECT_NE(h, HashDistinctId("user@example.org"));
  EXPECT_EQ(h.find("user"), std::string::npos);
  // SHA-256("abc"), first 16 bytes.
  EXPECT_EQ(HashDistinctId("abc"), "ba7816bf8f01cfea414140de5dae2223");
}

TEST(ComputeReleaseHealthTest, Arithmetic) {
  ReleaseHealthCounts c;
  ReleaseHealth h = ComputeReleaseHealth(c);
  EXPECT_EQ(h.sessions, 0u);
  EXPECT_FALSE(h.crash_free_sessions_percent);
  EXPECT_FALSE(h.crash_free_users_percent);
  EXPECT_FALSE(h.healthy_sessions_percent);

  c.exited = 90;
  c.errored = 5;
  c.crashed = 4;
  c.abnormal = 1;
  c.users = 20;
  c.crashed_users = 3;
  h = ComputeReleaseHealth(c);
  EXPECT_EQ(h.sessions, 100u);
  EXPECT_DOUBLE_EQ(*h.crash_free_sessions_percent, 96.0);
  EXPECT_DOUBLE_EQ(*h.healthy_sessions_percent, 90.0);
  EXPECT_DOUBLE_EQ(*h.crash_free_users_percent, 85.0);

  // Inconsistent input stays within 0..100.
  c = ReleaseHealthCounts{};
  c.crashed = 2;
  c.users = 1;
  c.crashed_users = 5;
  h = ComputeReleaseHealth(c);
  EXPECT_DOUBLE_EQ(*h.crash_free_sessions_percent, 0.0);
  EXPECT_DOUBLE_EQ(*h.crash_free_users_percent, 0.0);
  // Saturating sums.
  c = ReleaseHealthCounts{};
  c.exited = ~uint64_t{0};
  c.crashed = 10;
  h = ComputeReleaseHealth(c);
  EXPECT_EQ(h.sessions, ~uint64_t{0});
  EXPECT_GE(*h.crash_free_sessions_percent, 99.9);
}

TEST(StatusNamesTest, LabelValues) {
  EXPECT_STREQ(CountedStatusName(CountedStatus::kExited), "exited");
  EXPECT_STREQ(CountedStatusName(CountedStatus::kErrored), "errored");
  EXPECT_STREQ(CountedStatusName(CountedStatus::kCrashed), "crashed");
  EXPECT_STREQ(CountedStatusName(CountedStatus::kAbnormal), "abnormal");
  EXPECT_STREQ(SessionStatusName(SessionStatus::kOk), "ok");
}

}  // namespace
}  // namespace crashctl::releases
