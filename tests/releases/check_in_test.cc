// Parsing of check-ins: `check_in` items (the documented shapes verbatim and
// what @sentry/node sends), monitor_config validation through
// crashctl::monitors, slugs, and the HTTP cron endpoint's path and query.
#include "crashctl/releases/check_in.h"

#include <gtest/gtest.h>

#include <string>

namespace crashctl::releases {
namespace {

// develop.sentry.dev/sdk/telemetry/check-ins: the payload ...
const char kDocCheckIn[] = R"({
  "check_in_id": "83a7c03ed0a04e1b97e2e3b18d38f244",
  "monitor_slug": "my-monitor",
  "status": "in_progress",
  "duration": 10.0,
  "release": "1.0.0",
  "environment": "production",
  "contexts": {
    "trace": {
      "trace_id": "8f431b7aa08441bbbd5a0100fd91f9fe"
    }
  }
})";

// ... and the upsert example.
const char kDocUpsert[] = R"({
  "check_in_id": "83a7c03ed0a04e1b97e2e3b18d38f244",
  "monitor_slug": "b7645b8e-b47d-4398-be9a-d16b0dac31cb",
  "status": "in_progress",
  "monitor_config": {
    "schedule": {
      "type": "crontab",
      "value": "0 * * * *"
    },
    "checkin_margin": 5,
    "max_runtime": 30,
    "timezone": "America/Los_Angeles"
  }
})";

// @sentry/node 10.78 (tests/releases/testdata/node_sdk).
const char kNodeCheckIn[] =
    R"({"check_in_id":"06a65ddb36e4437c94696401fbc597a9","monitor_slug":"nightly-backup","status":"in_progress","release":"shop@2.0.1","environment":"staging","monitor_config":{"schedule":{"type":"crontab","value":"0 3 * * *"},"checkin_margin":5,"max_runtime":30,"timezone":"Europe/Vienna","failure_issue_threshold":2,"recovery_threshold":1},"contexts":{"trace":{"trace_id":"12359db42f8d4e57b597de5eaf745027","span_id":"8c683a026f93abfd"}}})";

TEST(ParseCheckInTest, DocumentedPayload) {
  CheckIn c;
  ASSERT_TRUE(ParseCheckIn(kDocCheckIn, &c).ok());
  EXPECT_EQ(c.check_in_id, "83a7c03ed0a04e1b97e2e3b18d38f244");
  EXPECT_EQ(c.monitor_slug, "my-monitor");
  EXPECT_FALSE(c.slug_changed);
  EXPECT_EQ(c.status, CheckInStatus::kInProgress);
  // Sentry: duration only takes effect for ok and error.
  EXPECT_FALSE(c.duration_seconds);
  EXPECT_EQ(c.release, "1.0.0");
  EXPECT_EQ(c.environment, "production");
  EXPECT_EQ(c.trace_id, "8f431b7aa08441bbbd5a0100fd91f9fe");
  EXPECT_FALSE(c.monitor_config);
}

TEST(ParseCheckInTest, DocumentedUpsert) {
  CheckIn c;
  ASSERT_TRUE(ParseCheckIn(kDocUpsert, &c).ok());
  EXPECT_EQ(c.monitor_slug, "b7645b8e-b47d-4398-be9a-d16b0dac31cb");
  EXPECT_EQ(c.environment, "production");  // the default
  ASSERT_TRUE(c.monitor_config);
  EXPECT_EQ(c.monitor_config->schedule.type, ScheduleConfig::Type::kCrontab);
  EXPECT_EQ(c.monitor_config->schedule.crontab, "0 * * * *");
  EXPECT_EQ(c.monitor_config->checkin_margin_minutes, 5);
  EXPECT_EQ(c.monitor_config->margin_seconds(), 300);
  EXPECT_EQ(c.monitor_config->max_runtime_seconds(), 1800);
  EXPECT_EQ(c.monitor_config->timezone, "America/Los_Angeles");
  EXPECT_EQ(c.monitor_config->failure_threshold(), 1);
  EXPECT_EQ(c.monitor_config->recovery_threshold_or_default(), 1);
}

TEST(ParseCheckInTest, NodeSdkPayload) {
  CheckIn c;
  ASSERT_TRUE(ParseCheckIn(kNodeCheckIn, &c).ok());
  EXPECT_EQ(c.monitor_slug, "nightly-backup");
  EXPECT_EQ(c.environment, "staging");
  ASSERT_TRUE(c.monitor_config);
  EXPECT_EQ(c.monitor_config->failure_issue_threshold, 2);
  EXPECT_EQ(c.monitor_config->recovery_threshold, 1);
  EXPECT_EQ(c.monitor_config->timezone, "Europe/Vienna");
}

struct Case {
  const char* name;
  const char* json;
  bool ok;
  const char* error;
};

const Case kCases[] = {
    {"minimal ok", R"({"monitor_slug":"m","status":"ok"})", true, ""},
    {"interval with digits string",
     R"({"monitor_slug":"m","status":"ok","monitor_config":{"schedule":{"type":"interval","value":"2","unit":"hour"}}})",
     true, ""},
    {"legacy schedule_type + list",
     R"({"monitor_slug":"m","status":"ok","monitor_config":{"schedule_type":"interval","schedule":[5,"Day"]}})",
     true, ""},
    {"legacy crontab string",
     R"({"monitor_slug":"m","status":"ok","monitor_config":{"schedule":"@daily"}})",
     true, ""},
    {"nulls are absent",
     R"({"monitor_slug":"m","status":"ok","check_in_id":null,"environment":null,"duration":null,"monitor_config":{"schedule":{"type":"crontab","value":"0 * * * *"},"checkin_margin":null,"max_runtime":null,"timezone":null}})",
     true, ""},
    {"dashed check_in_id",
     R"({"check_in_id":"83A7C03E-D0A0-4E1B-97E2-E3B18D38F244","monitor_slug":"m","status":"ok"})",
     true, ""},
    {"no slug", R"({"status":"ok"})", false, "monitor_slug is required"},
    {"no status", R"({"monitor_slug":"m"})", false, "status is required"},
    {"missed from a client", R"({"monitor_slug":"m","status":"missed"})", false,
     "decided by the server"},
    {"timeout from a client", R"({"monitor_slug":"m","status":"timeout"})",
     false, "not a check-in status"},
    {"bad id", R"({"check_in_id":"xyz","monitor_slug":"m","status":"ok"})",
     false, "not a UUID"},
    {"negative duration", R"({"monitor_slug":"m","status":"ok","duration":-1})",
     false, "duration"},
    {"duration as text", R"({"monitor_slug":"m","status":"ok","duration":"5"})",
     false, "duration"},
    {"long environment",
     R"({"monitor_slug":"m","status":"ok","environment":"0123456789012345678901234567890123456789012345678901234567890123456789"})",
     false, "more than 64"},
    {"environment with slash",
     R"({"monitor_slug":"m","status":"ok","environment":"a/b"})", false,
     "environment"},
    {"bad crontab",
     R"({"monitor_slug":"m","status":"ok","monitor_config":{"schedule":{"type":"crontab","value":"61 * * * *"}}})",
     false, "monitor_config.schedule"},
    {"six fields",
     R"({"monitor_slug":"m","status":"ok","monitor_config":{"schedule":{"type":"crontab","value":"0 0 * * * *"}}})",
     false, "monitor_config.schedule"},
    {"no schedule",
     R"({"monitor_slug":"m","status":"ok","monitor_config":{"checkin_margin":5}})",
     false, "schedule is required"},
    {"bad schedule type",
     R"({"monitor_slug":"m","status":"ok","monitor_config":{"schedule":{"type":"weekly"}}})",
     false, "not crontab or interval"},
    {"interval zero",
     R"({"monitor_slug":"m","status":"ok","monitor_config":{"schedule":{"type":"interval","value":0,"unit":"hour"}}})",
     false, "schedule.value"},
    {"interval plural unit",
     R"({"monitor_slug":"m","status":"ok","monitor_config":{"schedule":{"type":"interval","value":2,"unit":"hours"}}})",
     false, "schedule.unit"},
    {"interval fraction",
     R"({"monitor_slug":"m","status":"ok","monitor_config":{"schedule":{"type":"interval","value":1.5,"unit":"hour"}}})",
     false, "integer"},
    {"unknown zone",
     R"({"monitor_slug":"m","status":"ok","monitor_config":{"schedule":{"type":"crontab","value":"0 * * * *"},"timezone":"Mars/Olympus"}})",
     false, "timezone"},
    {"margin too large",
     R"({"monitor_slug":"m","status":"ok","monitor_config":{"schedule":{"type":"crontab","value":"0 * * * *"},"checkin_margin":40321}})",
     false, "checkin_margin"},
    {"max_runtime zero",
     R"({"monitor_slug":"m","status":"ok","monitor_config":{"schedule":{"type":"crontab","value":"0 * * * *"},"max_runtime":0}})",
     false, "max_runtime"},
    {"threshold too large",
     R"({"monitor_slug":"m","status":"ok","monitor_config":{"schedule":{"type":"crontab","value":"0 * * * *"},"failure_issue_threshold":721}})",
     false, "failure_issue_threshold"},
    {"config not an object",
     R"({"monitor_slug":"m","status":"ok","monitor_config":"0 * * * *"})",
     false, "expected an object"},
    {"not json", "{", false, "not valid JSON"},
};

TEST(ParseCheckInTest, Table) {
  for (const Case& c : kCases) {
    CheckIn ci;
    Status s = ParseCheckIn(c.json, &ci);
    EXPECT_EQ(s.ok(), c.ok) << c.name << ": " << s.ToString();
    if (!c.ok) {
      EXPECT_NE(s.message().find(c.error), std::string::npos)
          << c.name << ": " << s.message();
    }
  }
}

TEST(ParseCheckInTest, Normalization) {
  CheckIn c;
  ASSERT_TRUE(
      ParseCheckIn(
          R"({"monitor_slug":"m","status":"ok","duration":2.5,"environment":"","monitor_config":{"schedule":{"type":"crontab","value":"  0\t *  * * *  "},"checkin_margin":0,"timezone":""}})",
          &c)
          .ok());
  EXPECT_EQ(c.check_in_id, kNilCheckInId);
  EXPECT_EQ(c.duration_seconds, 2.5);
  EXPECT_EQ(c.environment, "production");
  EXPECT_EQ(c.monitor_config->schedule.crontab, "0 * * * *");
  EXPECT_EQ(c.monitor_config->checkin_margin_minutes, 1);  // 0 reads as 1
  EXPECT_EQ(c.monitor_config->timezone, "");
  ASSERT_TRUE(
      ParseCheckIn(
          R"({"monitor_slug":"m","status":"ok","monitor_config":{"schedule_type":"interval","schedule":[5,"Day"]}})",
          &c)
          .ok());
  EXPECT_EQ(c.monitor_config->schedule.interval_value, 5);
  EXPECT_EQ(c.monitor_config->schedule.interval_unit, "day");
}

TEST(NormalizeMonitorSlugTest, SentryRules) {
  struct {
    const char* in;
    const char* out;  // nullptr: refused
    bool changed;
  } cases[] = {
      {"nightly-backup", "nightly-backup", false},
      {"job_1", "job_1", false},
      {"123", "123", false},
      {"Nightly Backup", "nightly-backup", true},
      {"  spaced   out  ", "spaced-out", true},
      {"a.b:c", "abc", true},  // removed, as Django's slugify does
      {"--edge--", "edge", true},
      {"a - b", "a-b", true},
      {"caf\xc3\xa9", nullptr, false},
      {"", nullptr, false},
      {"!!!", nullptr, false},
      {"---", nullptr, false},
  };
  for (const auto& c : cases) {
    std::string out;
    bool changed = false;
    Status s = NormalizeMonitorSlug(c.in, &out, &changed);
    if (c.out == nullptr) {
      EXPECT_TRUE(s.IsInvalid()) << c.in;
      continue;
    }
    ASSERT_TRUE(s.ok()) << c.in << ": " << s.ToString();
    EXPECT_EQ(out, c.out) << c.in;
    EXPECT_EQ(changed, c.changed) << c.in;
  }
  // Cut to 50 characters.
  std::string out;
  ASSERT_TRUE(NormalizeMonitorSlug(std::string(80, 'a'), &out, nullptr).ok());
  EXPECT_EQ(out, std::string(50, 'a'));
  ASSERT_TRUE(
      NormalizeMonitorSlug(std::string(49, 'a') + " b", &out, nullptr).ok());
  EXPECT_EQ(out, std::string(49, 'a'));  // the trailing '-' stripped
  EXPECT_FALSE(
      NormalizeMonitorSlug(std::string(2000, 'a'), &out, nullptr).ok());
}

TEST(ParseCronRequestTest, QueryForm) {
  CronRequest r;
  ASSERT_TRUE(
      ParseCronRequest(
          "/api/42/cron/nightly-backup/0123456789abcdef0123456789abcdef/",
          "status=in_progress", "", "", &r)
          .ok());
  EXPECT_EQ(r.project_id, 42);
  EXPECT_EQ(r.sentry_key, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(r.check_in.monitor_slug, "nightly-backup");
  EXPECT_EQ(r.check_in.status, CheckInStatus::kInProgress);
  EXPECT_EQ(r.check_in.check_in_id, kNilCheckInId);
  EXPECT_EQ(r.check_in.environment, "production");

  ASSERT_TRUE(
      ParseCronRequest("/api/7/cron/My%20Job/abc123",
                       "environment=dev&status=ok&check_in_id=83a7c03e-d0a0-"
                       "4e1b-97e2-e3b18d38f244&duration=12.5&sentry_key=x&foo",
                       "text/plain", "ignored", &r)
          .ok());
  EXPECT_EQ(r.project_id, 7);
  EXPECT_EQ(r.sentry_key, "abc123");
  EXPECT_EQ(r.check_in.monitor_slug, "my-job");
  EXPECT_TRUE(r.check_in.slug_changed);
  EXPECT_EQ(r.check_in.status, CheckInStatus::kOk);
  EXPECT_EQ(r.check_in.environment, "dev");
  EXPECT_EQ(r.check_in.check_in_id, "83a7c03ed0a04e1b97e2e3b18d38f244");
  EXPECT_EQ(r.check_in.duration_seconds, 12.5);

  // No key segment (the key comes from the query or X-Sentry-Auth).
  ASSERT_TRUE(
      ParseCronRequest("/api/7/cron/job", "status=error", "", "", &r).ok());
  EXPECT_EQ(r.sentry_key, "");
  EXPECT_EQ(r.check_in.status, CheckInStatus::kError);
  // '+' is a space in queries.
  ASSERT_TRUE(ParseCronRequest("/api/7/cron/job/",
                               "status=ok&environment=my+env", "", "", &r)
                  .ok());
  EXPECT_EQ(r.check_in.environment, "my env");
}

TEST(ParseCronRequestTest, JsonBody) {
  CronRequest r;
  ASSERT_TRUE(
      ParseCronRequest(
          "/api/42/cron/from-path/0123456789abcdef0123456789abcdef/",
          "status=error", "application/json; charset=utf-8",
          R"({"monitor_slug":"from-body","status":"ok","duration":3,"monitor_config":{"schedule":{"type":"interval","value":2,"unit":"hour"}}})",
          &r)
          .ok());
  EXPECT_EQ(r.check_in.monitor_slug, "from-path");   // the path wins (Relay)
  EXPECT_EQ(r.check_in.status, CheckInStatus::kOk);  // the query is not read
  EXPECT_EQ(r.check_in.duration_seconds, 3.0);
  ASSERT_TRUE(r.check_in.monitor_config);
  // The body needs no monitor_slug.
  EXPECT_TRUE(ParseCronRequest("/api/42/cron/job/", "", "application/json",
                               R"({"status":"in_progress"})", &r)
                  .ok());
  EXPECT_TRUE(ParseCronRequest("/api/42/cron/job/", "", "application/json",
                               "not json", &r)
                  .IsInvalid());
}

TEST(ParseCronRequestTest, BadRequests) {
  struct {
    const char* path;
    const char* query;
  } bad[] = {
      {"/api/42/cron/job/key/", ""},               // no status
      {"/api/42/cron/job/key/", "status=missed"},  // server-side status
      {"/api/42/cron/job/key/", "status=ok&status=error"},  // twice
      {"/api/42/cron/job/key/", "status=ok&duration=abc"},
      {"/api/42/cron/job/key/", "status=ok&duration=-3"},
      {"/api/42/cron/job/key/", "status=ok&check_in_id=nope"},
      {"/api/42/cron/job/key/", "status=ok&environment=a%2Fb"},
      {"/api/42/cron/job/key/", "status=o%zz"},
      {"/api/0/cron/job/key/", "status=ok"},  // project id 0
      {"/api/abc/cron/job/key/", "status=ok"},
      {"/api/42/crons/job/key/", "status=ok"},
      {"/api/42/cron/", "status=ok"},
      {"/api/42/cron/job/key/extra/", "status=ok"},
      {"/api/42/cron/job/ke%20y/", "status=ok"},  // not a key
      {"/api/42/cron/%%%/key/", "status=ok"},
      {"/42/cron/job/key/", "status=ok"},
  };
  for (const auto& b : bad) {
    CronRequest r;
    Status s = ParseCronRequest(b.path, b.query, "", "", &r);
    EXPECT_TRUE(s.IsInvalid()) << b.path << "?" << b.query;
  }
}

}  // namespace
}  // namespace crashctl::releases
