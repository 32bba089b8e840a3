#include "crashctl/ingest/normalize.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <functional>
#include <set>
#include <string>

#include "ingest/envelope.h"
#include "testdata.h"

namespace crashctl {
namespace ingest {
namespace {

using ::testing::HasSubstr;

constexpr double kNow = 1795387600.5;

model::Event MustNormalize(std::string_view json, int64_t project = 1) {
  model::Event ev;
  std::string error;
  EXPECT_TRUE(NormalizeEvent(json, project, kNow, &ev, &error)) << error << "\n"
                                                                << json;
  return ev;
}

std::string NormalizeError(std::string_view json) {
  model::Event ev;
  std::string error;
  EXPECT_FALSE(NormalizeEvent(json, 1, kNow, &ev, &error)) << json;
  EXPECT_FALSE(error.empty());
  return error;
}

// item(0), ..., item(n - 1), joined by commas (the inside of a JSON array).
std::string Joined(int n, const std::function<std::string(int)>& item) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i) out += ",";
    out += item(i);
  }
  return out;
}

bool IsHex32(const std::string& s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsJson(const std::string& s, bool array) {
  rapidjson::Document d;
  d.Parse(s.c_str());
  return !d.HasParseError() && (array ? d.IsArray() : d.IsObject());
}

TEST(NormalizeTest, RealNodeExceptionEvent) {
  Envelope env;
  std::string error;
  ASSERT_TRUE(
      ParseEnvelope(ReadTestdata("node_exception.envelope"), &env, &error));
  const std::string& payload = env.items[0].payload;
  model::Event ev = MustNormalize(payload, 3);
  EXPECT_EQ(ev.event_id, "7290a2e0667c4c62a833a613e965c38a");
  EXPECT_EQ(ev.project_id, 3);
  EXPECT_DOUBLE_EQ(ev.received, kNow);
  EXPECT_NEAR(ev.timestamp, 1795387596.6, 0.01);
  EXPECT_EQ(ev.level, model::Level::kError);
  EXPECT_EQ(ev.platform, "node");
  EXPECT_EQ(ev.release, "app@1.2.3");
  EXPECT_EQ(ev.environment, "test");
  EXPECT_EQ(ev.server_name, "vm");
  EXPECT_EQ(ev.raw_json, payload);
  ASSERT_EQ(ev.exceptions.size(), 1u);
  const model::ExceptionValue& ex = ev.exceptions[0];
  EXPECT_EQ(ex.type, "TypeError");
  EXPECT_EQ(ex.value, "Cannot read properties of undefined (reading 'x')");
  EXPECT_EQ(ex.mechanism_type, "generic");
  EXPECT_EQ(ex.handled, true);
  ASSERT_EQ(ex.frames.size(), 8u);
  EXPECT_EQ(ex.frames[0].filename, "node:internal/main/run_main_module");
  EXPECT_EQ(ex.frames[0].in_app, false);
  const model::Frame& top = ex.frames.back();  // the frame that threw is last
  EXPECT_EQ(top.function, "inner");
  EXPECT_EQ(top.module, "cap");
  EXPECT_EQ(top.filename, "/srv/app/cap.js");
  EXPECT_EQ(top.lineno, 12);
  EXPECT_EQ(top.colno, 26);
  EXPECT_EQ(top.in_app, true);
  EXPECT_TRUE(IsJson(ev.contexts_json, false));
  EXPECT_NE(ev.contexts_json.find("\"runtime\""), std::string::npos);
  EXPECT_EQ(ev.user_json, "");
  EXPECT_EQ(ev.breadcrumbs_json, "");
  EXPECT_EQ(ev.service, "");
}

TEST(NormalizeTest, RealNodeMessageEvent) {
  Envelope env;
  std::string error;
  ASSERT_TRUE(
      ParseEnvelope(ReadTestdata("node_message.envelope"), &env, &error));
  model::Event ev = MustNormalize(env.items[0].payload);
  EXPECT_EQ(ev.level, model::Level::kWarning);
  EXPECT_EQ(ev.message, "hello world");
  EXPECT_TRUE(ev.exceptions.empty());
}

TEST(NormalizeTest, RealNodeEventWithTagsUserBreadcrumbs) {
  Envelope env;
  std::string error;
  ASSERT_TRUE(ParseEnvelope(ReadTestdata("node_event_attachments.envelope"),
                            &env, &error));
  model::Event ev = MustNormalize(env.items[0].payload);
  EXPECT_EQ(ev.Tag("service"), "checkout");
  EXPECT_EQ(ev.service, "checkout");
  EXPECT_EQ(ev.user_json, R"({"id":"42","email":"a@example.com"})");
  EXPECT_TRUE(IsJson(ev.breadcrumbs_json, true));
  EXPECT_NE(ev.breadcrumbs_json.find("GET /x"), std::string::npos);
  ASSERT_EQ(ev.exceptions.size(), 1u);
  EXPECT_EQ(ev.exceptions[0].type, "SyntaxError");
  // A frame without lineno/colno.
  EXPECT_EQ(ev.exceptions[0].frames.back().function, "JSON.parse");
  EXPECT_EQ(ev.exceptions[0].frames.back().lineno, 0);
}

TEST(NormalizeTest, PythonStoreEventWithChain) {
  const std::string json = ReadTestdata("python_store_event.json");
  model::Event ev = MustNormalize(json);
  // Dashed UUID -> 32 lower-case hex.
  EXPECT_EQ(ev.event_id, "5b1f3bcd8b7e4c399f0a9d9e3f1c2a10");
  EXPECT_NEAR(ev.timestamp, 1795384683.123456, 1e-5);
  EXPECT_EQ(ev.platform, "python");
  EXPECT_EQ(ev.transaction, "/profile/{id}");
  EXPECT_EQ(ev.service, "profiles");
  EXPECT_EQ(ev.Tag("region"), "eu-1");
  ASSERT_EQ(ev.exceptions.size(), 2u);
  EXPECT_EQ(ev.exceptions[0].type, "KeyError");
  EXPECT_EQ(ev.exceptions[0].module, "");  // "module": null
  EXPECT_EQ(ev.exceptions[0].mechanism_type, "chained");
  EXPECT_EQ(ev.exceptions[1].type, "UserNotFound");
  EXPECT_EQ(ev.exceptions[1].value, "user 42 not found");
  EXPECT_EQ(ev.exceptions[1].module, "app.errors");
  EXPECT_EQ(ev.exceptions[1].handled, false);
  ASSERT_EQ(ev.exceptions[1].frames.size(), 3u);
  const model::Frame& f = ev.exceptions[1].frames[1];
  EXPECT_EQ(f.module, "app.views");
  EXPECT_EQ(f.function, "profile");
  EXPECT_EQ(f.abs_path, "/srv/app/app/views.py");
  EXPECT_EQ(f.filename, "app/views.py");
  EXPECT_EQ(f.lineno, 17);
  EXPECT_EQ(f.in_app, true);
  // Breadcrumbs as {"values": [...]} become a bare array.
  EXPECT_EQ(ev.breadcrumbs_json.front(), '[');
  EXPECT_TRUE(IsJson(ev.breadcrumbs_json, true));
  EXPECT_NE(ev.breadcrumbs_json.find("GET /profile/42"), std::string::npos);
  EXPECT_TRUE(IsJson(ev.request_json, false));
  EXPECT_NE(ev.request_json.find("curl/7.88.1"), std::string::npos);
  EXPECT_EQ(ev.raw_json, json);
}

TEST(NormalizeTest, NativeFrames) {
  model::Event ev =
      MustNormalize(R"j({"platform":"native","exception":{"values":[
    {"type":"SIGSEGV","value":"Segfault","mechanism":{"type":"signalhandler",
     "handled":false,"meta":{"signal":{"number":11}}},
     "stacktrace":{"frames":[
       {"instruction_addr":"0x7f0a1b2c3d4e","package":"/lib/x86_64-linux-gnu/libc.so.6",
        "function":"__libc_start_main","platform":"native"},
       {"instruction_addr":"0x55d0c0ffee00","package":"/usr/bin/server",
        "function":"_ZN3app6Server3runEv","raw_function":"app::Server::run()",
        "filename":"server.cc","lineno":"88","in_app":true}]}}]}})j");
  ASSERT_EQ(ev.exceptions.size(), 1u);
  const auto& frames = ev.exceptions[0].frames;
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].instruction_addr, "0x7f0a1b2c3d4e");
  EXPECT_EQ(frames[0].package, "/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(frames[0].platform, "native");
  EXPECT_FALSE(frames[0].in_app.has_value());
  EXPECT_EQ(frames[1].function, "_ZN3app6Server3runEv");
  EXPECT_EQ(frames[1].raw_function, "app::Server::run()");
  EXPECT_EQ(frames[1].lineno, 88);  // numeric string accepted
  EXPECT_EQ(ev.exceptions[0].mechanism_type, "signalhandler");
}

TEST(NormalizeTest, ExceptionShapes) {
  // Bare array.
  model::Event a = MustNormalize(
      R"({"exception":[{"type":"ValueError","value":"bad"},{"type":"E2"}]})");
  ASSERT_EQ(a.exceptions.size(), 2u);
  EXPECT_EQ(a.exceptions[1].type, "E2");
  // Single object without "values".
  model::Event b = MustNormalize(
      R"({"exception":{"type":"Error","value":"x","stacktrace":{"frames":[{"function":"f"}]}}})");
  ASSERT_EQ(b.exceptions.size(), 1u);
  EXPECT_EQ(b.exceptions[0].type, "Error");
  ASSERT_EQ(b.exceptions[0].frames.size(), 1u);
  // Null values, null entries, null frames are absent, not errors.
  EXPECT_TRUE(
      MustNormalize(R"({"exception":{"values":null}})").exceptions.empty());
  EXPECT_TRUE(MustNormalize(R"({"exception":null})").exceptions.empty());
  model::Event c = MustNormalize(
      R"({"exception":{"values":[null,{"type":"T","stacktrace":{"frames":null}}]}})");
  ASSERT_EQ(c.exceptions.size(), 1u);
  EXPECT_TRUE(c.exceptions[0].frames.empty());
  // Non-string scalars are stringified.
  model::Event d =
      MustNormalize(R"({"exception":{"values":[{"type":"E","value":42}]}})");
  EXPECT_EQ(d.exceptions[0].value, "42");
  // Mechanism without handled.
  model::Event e = MustNormalize(
      R"({"exception":{"values":[{"type":"E","mechanism":{"type":"onerror"}}]}})");
  EXPECT_EQ(e.exceptions[0].mechanism_type, "onerror");
  EXPECT_FALSE(e.exceptions[0].handled.has_value());
}

TEST(NormalizeTest, ChainIsCutToTheLastTen) {
  const std::string json =
      R"({"exception":{"values":[)" +
      Joined(
          25,
          [](int i) { return R"({"type":"E)" + std::to_string(i) + R"("})"; }) +
      "]}}";
  model::Event ev = MustNormalize(json);
  ASSERT_EQ(ev.exceptions.size(), 10u);
  EXPECT_EQ(ev.exceptions.front().type, "E15");
  EXPECT_EQ(ev.exceptions.back().type, "E24");  // the one finally raised
}

TEST(NormalizeTest, FramesAreCutKeepingBothEnds) {
  const std::string json =
      R"({"exception":{"values":[{"type":"RecursionError",)"
      R"("stacktrace":{"frames":[)" +
      Joined(1000,
             [](int i) {
               return R"({"function":"f)" + std::to_string(i) +
                      R"(","lineno":)" + std::to_string(i) + "}";
             }) +
      "]}}]}}";
  model::Event ev = MustNormalize(json);
  const auto& frames = ev.exceptions.at(0).frames;
  ASSERT_EQ(frames.size(), 250u);
  EXPECT_EQ(frames[0].function, "f0");
  EXPECT_EQ(frames[124].function, "f124");
  EXPECT_EQ(frames[125].function, "f875");
  EXPECT_EQ(frames[249].function, "f999");
}

TEST(NormalizeTest, TopLevelStacktraceBecomesTypelessException) {
  // sentry-python / sentry-javascript with attach_stacktrace on a message.
  model::Event ev = MustNormalize(R"({"message":"slow query","level":"warning",
    "stacktrace":{"frames":[{"module":"app.db","function":"query","lineno":3},
                            {"module":"app.db","function":"execute"}]}})");
  EXPECT_EQ(ev.message, "slow query");
  ASSERT_EQ(ev.exceptions.size(), 1u);
  EXPECT_EQ(ev.exceptions[0].type, "");
  EXPECT_EQ(ev.exceptions[0].value, "");
  ASSERT_EQ(ev.exceptions[0].frames.size(), 2u);
  EXPECT_EQ(ev.exceptions[0].frames[1].function, "execute");
  // An empty top-level stacktrace adds nothing.
  EXPECT_TRUE(
      MustNormalize(R"({"stacktrace":{"frames":[]}})").exceptions.empty());
  // With an exception that has no frames, the stack is attached to it.
  model::Event b = MustNormalize(R"({"exception":{"values":[{"type":"E"}]},
    "stacktrace":{"frames":[{"function":"g"}]}})");
  ASSERT_EQ(b.exceptions.size(), 1u);
  EXPECT_EQ(b.exceptions[0].type, "E");
  ASSERT_EQ(b.exceptions[0].frames.size(), 1u);
}

TEST(NormalizeTest, CrashedThreadFramesFillAFramelessException) {
  const char* json = R"({"exception":{"values":[{"type":"EXC_BAD_ACCESS",
      "mechanism":{"type":"mach","handled":false}}]},
    "threads":{"values":[
      {"id":1,"crashed":false,"stacktrace":{"frames":[{"function":"idle"}]}},
      {"id":2,"crashed":true,"current":true,
       "stacktrace":{"frames":[{"function":"main"},{"function":"crash"}]}}]}})";
  model::Event ev = MustNormalize(json);
  ASSERT_EQ(ev.exceptions.size(), 1u);
  ASSERT_EQ(ev.exceptions[0].frames.size(), 2u);
  EXPECT_EQ(ev.exceptions[0].frames[1].function, "crash");
  // An exception that has frames keeps them.
  model::Event b = MustNormalize(R"({"exception":{"values":[{"type":"E",
      "stacktrace":{"frames":[{"function":"own"}]}}]},
    "threads":[{"crashed":true,"stacktrace":{"frames":[{"function":"t"}]}}]})");
  ASSERT_EQ(b.exceptions[0].frames.size(), 1u);
  EXPECT_EQ(b.exceptions[0].frames[0].function, "own");
  // A thread that is not crashed (attach_stacktrace) is ignored.
  EXPECT_TRUE(MustNormalize(R"({"message":"m","threads":{"values":[
      {"current":true,"crashed":false,"stacktrace":{"frames":[{"function":"x"}]}}]}})")
                  .exceptions.empty());
}

TEST(NormalizeTest, Timestamps) {
  struct Case {
    const char* json;
    double want;
  };
  const Case cases[] = {
      {R"({"timestamp":1700000000.25})", 1700000000.25},
      {R"({"timestamp":1700000000})", 1700000000},
      {R"({"timestamp":"2023-11-14T22:13:20Z"})", 1700000000},
      {R"({"timestamp":"2023-11-14T22:13:20.5Z"})", 1700000000.5},
      {R"({"timestamp":"2023-11-14T22:13:20.123456Z"})", 1700000000.123456},
      {R"({"timestamp":"2023-11-14T23:13:20+01:00"})", 1700000000},
      {R"({"timestamp":"2023-11-14T17:43:20.250-04:30"})", 1700000000.25},
      {R"({"timestamp":"2023-11-14T23:13:20+0100"})", 1700000000},
      {R"({"timestamp":"2023-11-14T22:13:20"})", 1700000000},  // no zone: UTC
      {R"({"timestamp":"2023-11-14 22:13:20z"})", 1700000000},
      {R"({"timestamp":"1700000000.75"})", 1700000000.75},
      {R"({"timestamp":"2024-02-29T00:00:00Z"})", 1709164800},
      {R"({"timestamp":"1970-01-01T00:00:00Z"})", 0},
      // Missing, null or unreadable: the time it was received.
      {R"({})", kNow},
      {R"({"timestamp":null})", kNow},
      {R"({"timestamp":"yesterday"})", kNow},
      {R"({"timestamp":"2023-13-01T00:00:00Z"})", kNow},
      {R"({"timestamp":"2023-02-30T00:00:00Z"})", kNow},
      {R"({"timestamp":"2023-11-14T22:13:20.Z"})", kNow},
      {R"({"timestamp":"2023-11-14T22:13:20Zjunk"})", kNow},
      {R"({"timestamp":"2023-11-14"})", kNow},
      {R"({"timestamp":true})", kNow},
  };
  // How each form is read; the bounds on how far a time may be from now are
  // tested below.
  NormalizeOptions unbounded;
  unbounded.max_future_seconds = 0;
  unbounded.max_past_seconds = 0;
  for (const Case& c : cases) {
    model::Event ev;
    std::string error;
    ASSERT_TRUE(
        NormalizeEvent(c.json, 1, kNow, unbounded, &ev, nullptr, &error))
        << error;
    EXPECT_NEAR(ev.timestamp, c.want, 1e-6) << c.json;
  }
}

// The payload's `errors` entries of a type, as compact JSON objects.
std::vector<std::string> PayloadErrors(const model::Event& ev,
                                       const char* type) {
  rapidjson::Document doc;
  doc.Parse(ev.raw_json.c_str());
  std::vector<std::string> out;
  if (!doc.IsObject() || !doc.HasMember("errors")) return out;
  for (const auto& e : doc["errors"].GetArray()) {
    if (e.HasMember("type") && std::string(e["type"].GetString()) == type) {
      rapidjson::StringBuffer buffer;
      rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
      e.Accept(writer);
      out.emplace_back(buffer.GetString());
    }
  }
  return out;
}

TEST(NormalizeTest, TimestampsFarFromNowBecomeTheReceiveTimeAndAreFlagged) {
  struct Case {
    std::string json;
    double want;
    const char* flag;  // nullptr: kept as sent
  };
  const Case cases[] = {
      {R"({"timestamp":1e300})", kNow, "future_timestamp"},
      {R"({"timestamp":1e12})", kNow, "future_timestamp"},
      {R"({"timestamp":"9999-12-31T23:59:59Z"})", kNow, "future_timestamp"},
      {"{\"timestamp\":" + std::to_string(kNow + 120) + "}", kNow,
       "future_timestamp"},
      {"{\"timestamp\":" + std::to_string(kNow + 30) + "}", kNow + 30, nullptr},
      {R"({"timestamp":0})", kNow, "past_timestamp"},  // epoch 0 is a time
      {R"({"timestamp":"1970-01-01T00:00:00Z"})", kNow, "past_timestamp"},
      {"{\"timestamp\":" + std::to_string(kNow - 31 * 86400.0) + "}", kNow,
       "past_timestamp"},
      {"{\"timestamp\":" + std::to_string(kNow - 29 * 86400.0) + "}",
       kNow - 29 * 86400.0, nullptr},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    NormalizeReport report;
    model::Event ev;
    std::string error;
    ASSERT_TRUE(NormalizeEvent(c.json, 1, kNow, NormalizeOptions(), &ev,
                               &report, &error))
        << error;
    EXPECT_NEAR(ev.timestamp, c.want, 1e-3);
    if (c.flag == nullptr) {
      EXPECT_FALSE(report.rewritten());
      EXPECT_EQ(ev.raw_json, c.json);
      continue;
    }
    EXPECT_TRUE(report.rewritten());
    const std::vector<std::string> flags = PayloadErrors(ev, c.flag);
    ASSERT_EQ(flags.size(), 1u) << ev.raw_json;
    EXPECT_THAT(flags[0], HasSubstr("\"name\":\"timestamp\""));
    EXPECT_THAT(flags[0], HasSubstr("\"sdk_time\":"));
    // The stored payload says the receive time too.
    rapidjson::Document doc;
    doc.Parse(ev.raw_json.c_str());
    EXPECT_NEAR(doc["timestamp"].GetDouble(), kNow, 1e-3);
  }
  // A retention window shorter than 30 days bounds the past instead.
  NormalizeOptions week;
  week.max_past_seconds = 7 * 86400.0;
  model::Event ev;
  std::string error;
  const std::string ten_days =
      "{\"timestamp\":" + std::to_string(kNow - 10 * 86400.0) + "}";
  ASSERT_TRUE(NormalizeEvent(ten_days, 1, kNow, week, &ev, nullptr, &error));
  EXPECT_NEAR(ev.timestamp, kNow, 1e-3);
}

TEST(NormalizeTest, DeepNestingAnywhereIsCutAndMarked) {
  std::string deep = R"({"message":"m","extra":{"x":)";
  for (int i = 0; i < 100000; ++i) deep += '[';
  for (int i = 0; i < 100000; ++i) deep += ']';
  deep += "}}";
  NormalizeReport report;
  model::Event ev;
  std::string error;
  ASSERT_TRUE(
      NormalizeEvent(deep, 1, kNow, NormalizeOptions(), &ev, &report, &error))
      << error;
  EXPECT_EQ(report.depth_cuts, 1u);
  EXPECT_LT(ev.raw_json.size(), 1000u);
  EXPECT_THAT(ev.raw_json, HasSubstr("\"[depth limit]\""));
  // No container in what is stored is nested deeper than the limit.
  int depth = 0, max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < ev.raw_json.size(); ++i) {
    const char c = ev.raw_json[i];
    if (in_string) {
      if (c == '\\') ++i;
      if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '[' || c == '{') max_depth = std::max(max_depth, ++depth);
    if (c == ']' || c == '}') --depth;
  }
  EXPECT_LE(max_depth, 64);
  const std::vector<std::string> flags = PayloadErrors(ev, "depth_limit");
  ASSERT_EQ(flags.size(), 1u);
  EXPECT_THAT(flags[0], HasSubstr("\"count\":1"));
  // Within the limit nothing changes.
  std::string fine =
      R"({"extra":{"x":)" + std::string(60, '[') + std::string(60, ']') + "}}";
  ASSERT_TRUE(
      NormalizeEvent(fine, 1, kNow, NormalizeOptions(), &ev, &report, &error));
  EXPECT_EQ(ev.raw_json, fine);
  EXPECT_FALSE(report.rewritten());
}

TEST(NormalizeTest, SecretsAreScrubbedBeforeAnythingIsKept) {
  const std::string json = R"({
    "message": "login failed for password=hunter2 with Bearer abc.def.ghi",
    "exception": {"values": [{"type": "PaymentError",
      "value": "card 4111 1111 1111 1111 declined"}]},
    "user": {"id": "u1", "ip_address": "10.1.2.3", "email": "a@b.c"},
    "request": {
      "url": "https://shop.example/pay?item=3&api_key=K3Y&x=1",
      "query_string": "token=T0K&page=2",
      "headers": {"Authorization": "Basic dXNlcjpwYXNz", "Cookie": "sid=S1",
                  "Set-Cookie": "sid=S2", "X-Forwarded-For": "10.9.9.9",
                  "Accept": "text/html"},
      "cookies": {"sid": "S3"},
      "env": {"REMOTE_ADDR": "10.4.4.4", "SERVER_NAME": "web1"}
    },
    "extra": {"db": {"password": "pw1", "host": "db"}, "apiKey": "AK",
              "nested": [["secret", "s1"], ["safe", "ok"]],
              "log": "2024 connect user=app passwd: pw2 ok"},
    "tags": [["session_id", "SESS"], ["release", "1.0"]],
    "breadcrumbs": [{"message": "GET /x?access_token=AT1"}]
  })";
  NormalizeReport report;
  model::Event ev;
  std::string error;
  ASSERT_TRUE(
      NormalizeEvent(json, 1, kNow, NormalizeOptions(), &ev, &report, &error))
      << error;
  for (const char* secret :
       {"hunter2", "abc.def.ghi", "4111", "10.1.2.3", "K3Y", "T0K",
        "dXNlcjpwYXNz", "S1", "S2", "S3", "10.9.9.9", "10.4.4.4", "pw1", "AK",
        "s1", "pw2", "SESS", "AT1"}) {
    EXPECT_EQ(ev.raw_json.find(secret), std::string::npos)
        << secret << " in " << ev.raw_json;
    for (const std::string* field :
         {&ev.message, &ev.user_json, &ev.request_json, &ev.breadcrumbs_json,
          &ev.contexts_json}) {
      EXPECT_EQ(field->find(secret), std::string::npos) << secret;
    }
  }
  EXPECT_EQ(ev.message,
            "login failed for password=[Filtered] with Bearer [Filtered]");
  ASSERT_EQ(ev.exceptions.size(), 1u);
  EXPECT_EQ(ev.exceptions[0].value, "card [Filtered] declined");
  EXPECT_EQ(ev.Tag("session_id"), "[Filtered]");
  EXPECT_EQ(ev.Tag("release"), "1.0");
  // What is not secret stays.
  for (const char* kept : {"item=3", "page=2", "text/html", "web1", "a@b.c",
                           "\"host\":\"db\"", "\"ok\"", "user=app"}) {
    EXPECT_NE(ev.raw_json.find(kept), std::string::npos) << kept;
  }
  EXPECT_GE(report.scrubbed, 15u);
}

TEST(NormalizeTest, UserKeyIsIdThenEmailThenUsernameThenAddress) {
  struct Case {
    const char* user;
    const char* key;
  } cases[] = {
      {R"({"id":"u1","email":"a@b.c","username":"ann"})", "u1"},
      {R"({"id":42,"email":"a@b.c"})", "42"},
      {R"({"id":"","email":"a@b.c"})", "a@b.c"},
      {R"({"id":{"x":1},"username":"ann"})", "ann"},
      {R"({"username":"ann","ip_address":"10.0.0.1"})", "ann"},
      {R"({"ip_address":"10.0.0.1"})", ""},  // removed: store_ip is off
      {R"({"email":true})", ""},
  };
  for (const Case& c : cases) {
    model::Event ev =
        MustNormalize(std::string(R"({"message":"m","user":)") + c.user + "}");
    EXPECT_EQ(ev.user, c.key) << c.user;
  }
  model::Event ev =
      MustNormalize(R"({"user":{"id":")" + std::string(300, 'x') + R"("}})");
  EXPECT_EQ(ev.user.size(), model::kMaxUserKeyBytes);

  NormalizeOptions keep_ip;
  keep_ip.store_ip = true;
  keep_ip.remote_addr = "192.0.2.7";
  std::string error;
  ASSERT_TRUE(NormalizeEvent(R"({"user":{"ip_address":"{{auto}}"}})", 1, kNow,
                             keep_ip, &ev, nullptr, &error));
  EXPECT_EQ(ev.user, "192.0.2.7");
}

TEST(NormalizeTest, ScrubbingFollowsThePrivacyOptions) {
  const std::string json =
      R"({"user":{"ip_address":"{{auto}}"},"extra":{"iban":"DE00","token":"t"}})";
  scrub::Options only_extra;
  only_extra.defaults = false;
  only_extra.extra_keys = {"IBAN"};
  const scrub::Scrubber scrubber(only_extra);
  NormalizeOptions options;
  options.scrubber = &scrubber;
  options.store_ip = true;
  options.remote_addr = "192.0.2.7";
  model::Event ev;
  std::string error;
  ASSERT_TRUE(NormalizeEvent(json, 1, kNow, options, &ev, nullptr, &error));
  EXPECT_EQ(ev.user_json, R"({"ip_address":"192.0.2.7"})");
  EXPECT_THAT(ev.raw_json, HasSubstr(R"("iban":"[Filtered]")"));
  EXPECT_THAT(ev.raw_json, HasSubstr(R"("token":"t")"));  // defaults off
}

TEST(NormalizeTest, Levels) {
  const std::pair<const char*, const char*> cases[] = {
      {"fatal", "fatal"},   {"error", "error"},    {"warning", "warning"},
      {"info", "info"},     {"debug", "debug"},    {"WARN", "warning"},
      {"warn", "warning"},  {"Critical", "fatal"}, {"ERROR", "error"},
      {"verbose", "error"}, {"", "error"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(model::ToString(
                  MustNormalize(std::string(R"({"level":")") + c.first + "\"}")
                      .level),
              std::string(c.second))
        << c.first;
  }
  EXPECT_EQ(MustNormalize(R"({"level":40})").level, model::Level::kError);
  EXPECT_EQ(MustNormalize(R"({})").level, model::Level::kError);
}

TEST(NormalizeTest, MessageShapes) {
  EXPECT_EQ(MustNormalize(R"({"message":"plain"})").message, "plain");
  EXPECT_EQ(MustNormalize(R"({"message":{"formatted":"f","message":"m %s"}})")
                .message,
            "f");
  EXPECT_EQ(
      MustNormalize(R"({"message":{"message":"m %s","params":[1]}})").message,
      "m %s");
  EXPECT_EQ(MustNormalize(
                R"({"logentry":{"formatted":"from logentry"},"message":"x"})")
                .message,
            "from logentry");
  EXPECT_EQ(
      MustNormalize(R"({"logentry":{"message":"user %s","params":["a"]}})")
          .message,
      "user %s");
  EXPECT_EQ(MustNormalize(R"({"logentry":{},"message":"fallback"})").message,
            "fallback");
  EXPECT_EQ(MustNormalize(R"({"message":null})").message, "");
}

TEST(NormalizeTest, LongStringsAreCutAtCharacterBoundaries) {
  std::string long_msg;
  for (int i = 0; i < 5000; ++i) long_msg += "\xc3\xa9";  // é, 2 bytes
  long_msg += "x";
  model::Event ev = MustNormalize(R"({"message":")" + long_msg +
                                  R"(","tags":{"k":")" + long_msg + R"("}})");
  EXPECT_LE(ev.message.size(), 8192u);
  EXPECT_GE(ev.message.size(), 8190u);
  EXPECT_EQ(ev.message.size() % 2, 0u);  // no half character
  EXPECT_LE(ev.Tag("k").size(), 200u);
  EXPECT_EQ(ev.Tag("k").size() % 2, 0u);
}

TEST(NormalizeTest, Tags) {
  model::Event a = MustNormalize(
      R"({"tags":{"service":"api","num":3,"ratio":0.5,"flag":true,"none":null}})");
  ASSERT_EQ(a.tags.size(), 4u);
  EXPECT_EQ(a.tags[0],
            std::make_pair(std::string("service"), std::string("api")));
  EXPECT_EQ(a.Tag("num"), "3");
  EXPECT_EQ(a.Tag("ratio"), "0.5");
  EXPECT_EQ(a.Tag("flag"), "true");
  EXPECT_EQ(a.Tag("none"), "");
  EXPECT_EQ(a.service, "api");
  // Array of pairs (Java, .NET, older SDKs); malformed pairs are skipped.
  model::Event b = MustNormalize(
      R"({"tags":[["service","worker"],["n",7],["bad"],"junk",["a","b","c"]]})");
  ASSERT_EQ(b.tags.size(), 2u);
  EXPECT_EQ(b.Tag("service"), "worker");
  EXPECT_EQ(b.Tag("n"), "7");
  EXPECT_EQ(b.service, "worker");
}

TEST(NormalizeTest, ServiceFallsBackToAppName) {
  EXPECT_EQ(
      MustNormalize(R"({"contexts":{"app":{"app_name":"billing"}}})").service,
      "billing");
  EXPECT_EQ(MustNormalize(R"({"tags":{"service":"t"},
      "contexts":{"app":{"app_name":"billing"}}})")
                .service,
            "t");
  EXPECT_EQ(MustNormalize(R"({"contexts":{"app":{"app_name":5}}})").service,
            "");
  EXPECT_EQ(MustNormalize(R"({})").service, "");
}

TEST(NormalizeTest, Fingerprint) {
  model::Event ev =
      MustNormalize(R"({"fingerprint":["{{ default }}","db",42,true,null]})");
  EXPECT_EQ(ev.fingerprint,
            (std::vector<std::string>{"{{ default }}", "db", "42", "true"}));
  EXPECT_EQ(MustNormalize(R"({"fingerprint":"one"})").fingerprint,
            std::vector<std::string>{"one"});
  EXPECT_TRUE(MustNormalize(R"({"fingerprint":[]})").fingerprint.empty());
}

TEST(NormalizeTest, EventIds) {
  EXPECT_EQ(MustNormalize(R"({"event_id":"ABCDEF0123456789ABCDEF0123456789"})")
                .event_id,
            "abcdef0123456789abcdef0123456789");
  EXPECT_EQ(
      MustNormalize(R"({"event_id":"5B1F3BCD-8B7E-4C39-9F0A-9D9E3F1C2A10"})")
          .event_id,
      "5b1f3bcd8b7e4c399f0a9d9e3f1c2a10");
  std::set<std::string> generated;
  for (const char* json :
       {R"({})", R"({"event_id":null})", R"({"event_id":"xyz"})",
        R"({"event_id":"5b1f3bcd8b7e4c399f0a9d9e3f1c2a1g"})",
        R"({"event_id":"5b1f3bcd-8b7e4c39-9f0a-9d9e3f1c2a10a"})",
        R"({"event_id":12345})"}) {
    const std::string id = MustNormalize(json).event_id;
    EXPECT_TRUE(IsHex32(id)) << json << " -> " << id;
    generated.insert(id);
  }
  EXPECT_EQ(generated.size(), 6u);  // random, not a constant
}

TEST(NormalizeTest, NewEventIdIsRandomHex) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    const std::string id = NewEventId();
    EXPECT_TRUE(IsHex32(id)) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 100u);
}

TEST(NormalizeTest, ObjectsKeptAsCompactJson) {
  model::Event ev = MustNormalize(R"({
    "user": {"id": 7, "ip_address": "{{auto}}"},
    "contexts": {"os": {"name": "Linux"}, "app": {"app_name": "x"}},
    "request": {"method": "POST", "url": "http://h/p"},
    "breadcrumbs": [{"message": "a"}, {"message": "b"}]
  })");
  // privacy.store_ip is off by default: the address is not kept.
  EXPECT_EQ(ev.user_json, R"({"id":7})");
  EXPECT_EQ(ev.contexts_json,
            R"({"os":{"name":"Linux"},"app":{"app_name":"x"}})");
  EXPECT_EQ(ev.request_json, R"({"method":"POST","url":"http://h/p"})");
  EXPECT_EQ(ev.breadcrumbs_json, R"([{"message":"a"},{"message":"b"}])");
}

TEST(NormalizeTest, BreadcrumbsKeepTheLastHundred) {
  const std::string json =
      R"({"breadcrumbs":{"values":[)" +
      Joined(150,
             [](int i) {
               return R"({"message":"b)" + std::to_string(i) + R"("})";
             }) +
      "]}}";
  model::Event ev = MustNormalize(json);
  EXPECT_TRUE(IsJson(ev.breadcrumbs_json, true));
  EXPECT_EQ(ev.breadcrumbs_json.find("\"b49\""), std::string::npos);
  EXPECT_NE(ev.breadcrumbs_json.find("\"b50\""), std::string::npos);
  EXPECT_NE(ev.breadcrumbs_json.find("\"b149\""), std::string::npos);
}

TEST(NormalizeTest, DeepNestingIsBounded) {
  // 100k levels: parsing is iterative and the compact copy is cut at a depth
  // limit, so neither overflows the stack.
  const int depth = 100000;
  std::string deep(depth, '[');
  deep += std::string(depth, ']');
  model::Event ev = MustNormalize(R"({"contexts":{"x":)" + deep + "}}");
  EXPECT_TRUE(IsJson(ev.contexts_json, false));
  EXPECT_NE(ev.contexts_json.find("[depth limit]"), std::string::npos);
  EXPECT_LT(ev.contexts_json.size(), 200u);
}

TEST(NormalizeTest, InvalidJson) {
  EXPECT_NE(NormalizeError("").find("not valid JSON"), std::string::npos);
  EXPECT_NE(NormalizeError("{").find("not valid JSON"), std::string::npos);
  EXPECT_NE(NormalizeError(R"({"a":1,})").find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(NormalizeError("{} {}").find("not valid JSON"), std::string::npos);
  NormalizeError("{\"message\":\"\xff\xfe\"}");  // invalid UTF-8
}

TEST(NormalizeTest, NotAnObject) {
  for (const char* json : {"[]", "[{}]", "\"event\"", "42", "null", "true"}) {
    EXPECT_NE(NormalizeError(json).find("not a JSON object"), std::string::npos)
        << json;
  }
}

TEST(NormalizeTest, ImpossibleTypesAreErrorsNamingTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"exception":"boom"})", "exception"},
      {R"({"exception":{"values":{}}})", "exception.values"},
      {R"({"exception":{"values":[1]}})", "exception.values[0]"},
      {R"({"exception":{"values":[{"type":{}}]}})", "exception.values[0].type"},
      {R"({"exception":{"values":[{"mechanism":"x"}]}})", "mechanism"},
      {R"({"exception":{"values":[{"stacktrace":[]}]}})", "stacktrace"},
      {R"({"exception":{"values":[{"stacktrace":{"frames":{}}}]}})", "frames"},
      {R"({"exception":{"values":[{"stacktrace":{"frames":["f"]}}]}})",
       "frames[0]"},
      {R"({"exception":{"values":[{"stacktrace":{"frames":[{"function":[]}]}}]}})",
       "frames[0].function"},
      {R"({"exception":{"values":[{"type":"E"},{"stacktrace":{"frames":[
         {"function":"ok","lineno":1},{"abs_path":{}}]}}]}})",
       "exception.values[1].stacktrace.frames[1].abs_path: expected a string"},
      {R"({"stacktrace":{"frames":[{"function":"ok"},3]}})",
       "stacktrace.frames[1]: expected an object"},
      {R"({"stacktrace":"x"})", "stacktrace"},
      {R"({"threads":{"values":"x"}})", "threads"},
      {R"({"tags":"a=b"})", "tags"},
      {R"({"fingerprint":{}})", "fingerprint"},
      {R"({"user":"bob"})", "user"},
      {R"({"contexts":[]})", "contexts"},
      {R"({"request":1})", "request"},
      {R"({"breadcrumbs":"x"})", "breadcrumbs"},
      {R"({"breadcrumbs":{"values":{}}})", "breadcrumbs"},
      {R"({"release":{}})", "release"},
      {R"({"message":[]})", "message"},
      {R"({"logentry":[]})", "logentry"},
      {R"({"timestamp":{}})", "timestamp"},
  };
  for (const auto& c : cases) {
    const std::string error = NormalizeError(c.first);
    EXPECT_NE(error.find(c.second), std::string::npos)
        << c.first << " -> " << error;
  }
}

TEST(NormalizeTest, LenientScalarsInFrames) {
  model::Event ev = MustNormalize(R"({"exception":{"values":[{"type":"E",
    "stacktrace":{"frames":[{"function":"f","lineno":"x","colno":1e20,
      "in_app":"yes","module":null,"filename":7}]}}]}})");
  const model::Frame& f = ev.exceptions[0].frames[0];
  EXPECT_EQ(f.lineno, 0);
  EXPECT_EQ(f.colno, 0);
  EXPECT_FALSE(f.in_app.has_value());
  EXPECT_EQ(f.module, "");
  EXPECT_EQ(f.filename, "7");
}

TEST(NormalizeTest, FailureLeavesOutputUntouched) {
  model::Event ev;
  ev.message = "before";
  std::string error;
  EXPECT_FALSE(NormalizeEvent(R"({"tags":1})", 1, kNow, &ev, &error));
  EXPECT_EQ(ev.message, "before");
}

TEST(ParseTimestampTest, Direct) {
  double t = 0;
  EXPECT_TRUE(ParseTimestamp("2026-11-22T22:46:28.987Z", &t));
  EXPECT_NEAR(t, 1795387588.987, 1e-6);
  EXPECT_FALSE(ParseTimestamp("", &t));
  EXPECT_FALSE(ParseTimestamp("2026-11-22T25:00:00Z", &t));
  EXPECT_FALSE(ParseTimestamp("2026-11-22T22:46:28+1", &t));
  EXPECT_FALSE(ParseTimestamp("nan", &t));
}

// Regression (ASan heap-buffer-overflow): the ASCII fast path parses a
// NUL-terminated copy with rapidjson's SSE2 scanner, which loads aligned
// 16-byte blocks past the NUL. Every text length modulo 16 and every
// string end position must stay inside the copy's allocation (checked
// when the suite runs under AddressSanitizer, `make test-asan`).
TEST(NormalizeTest, AsciiEventsOfEveryLengthParse) {
  for (size_t pad = 0; pad < 48; ++pad) {
    const std::string message(pad, 'm');
    const std::string json = "{\"message\":\"" + message + "\"}";
    model::Event event;
    std::string error;
    ASSERT_TRUE(NormalizeEvent(json, 1, 1000.0, &event, &error)) << error;
    EXPECT_EQ(event.message, message);
    // Unterminated: the scanner runs to the NUL and must fail cleanly.
    const std::string cut = "{\"message\":\"" + message;
    EXPECT_FALSE(NormalizeEvent(cut, 1, 1000.0, &event, &error));
  }
}

}  // namespace
}  // namespace ingest
}  // namespace crashctl
