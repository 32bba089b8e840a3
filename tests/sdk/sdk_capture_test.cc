// The SDK end to end against a fake Sentry endpoint: capture, scope,
// sampling, before_send, rate limits, retries and the disk spool.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <stdlib.h>

#include <stdexcept>
#include <thread>

#include "crashctl/sdk.h"
#include "crashctl/sdk/support/spool.h"
#include "fake_sentry.h"
#include "tests/testing/temp_dir.h"

// Outside crashctl::sdk: frames of that namespace count as SDK-internal.
namespace probe {
__attribute__((noinline)) std::string ThrowAndCapture() {
  try {
    throw std::out_of_range("slot 9");
  } catch (const std::exception& e) {
    crashctl::sdk::EventOptions opts;
    opts.level = crashctl::sdk::Level::kWarning;
    opts.tags["route"] = "/x";
    opts.fingerprint = {"custom"};
    return crashctl::sdk::CaptureException(e, opts);  // TEST-CAPTURE-LINE
  }
}
}  // namespace probe

namespace crashctl {
namespace sdk {
namespace {

using crashctl::testing::FakeSentry;
using crashctl::testing::LineOf;
using crashctl::testing::TempDir;
using std::chrono::milliseconds;
using std::chrono::seconds;

Options TestOptions(const std::string& dsn, const std::string& spool) {
  Options o;
  o.dsn = dsn;
  o.service = "unit";
  o.release = "r1";
  o.environment = "test";
  o.spool_dir = spool;
  o.install_crash_handler = false;
  return o;
}

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  return doc;
}

class CaptureTest : public ::testing::Test {
 protected:
  void TearDown() override { Shutdown(milliseconds(500)); }
  FakeSentry server_;
  TempDir spool_dir_{"sdk-test"};
  std::string spool_ = spool_dir_.path();
};

TEST_F(CaptureTest, ExceptionEventWithStackScopeAndOptions) {
  ASSERT_TRUE(Init(TestOptions(server_.Dsn(), spool_)));
  SetTag("region", "eu");
  User user;
  user.id = "42";
  SetUser(user);
  AddBreadcrumb("db", "query 1");
  std::string id = probe::ThrowAndCapture();
  ASSERT_EQ(id.size(), 32u);
  ASSERT_TRUE(Flush(seconds(5)));
  ASSERT_TRUE(server_.WaitFor(1, seconds(5)));
  auto got = server_.Received()[0];
  EXPECT_EQ(got.path, "/api/1/envelope/");
  EXPECT_NE(got.auth.find("sentry_key=0123456789abcdef0123456789abcdef"),
            std::string::npos);
  EXPECT_NE(got.item_header.find("\"type\":\"event\""), std::string::npos);
  rapidjson::Document doc = Parse(got.event_json);
  ASSERT_TRUE(doc.IsObject()) << got.event_json;
  EXPECT_EQ(std::string(doc["event_id"].GetString()), id);
  EXPECT_STREQ(doc["level"].GetString(), "warning");
  EXPECT_STREQ(doc["release"].GetString(), "r1");
  EXPECT_STREQ(doc["environment"].GetString(), "test");
  EXPECT_STREQ(doc["tags"]["service"].GetString(), "unit");
  EXPECT_STREQ(doc["tags"]["region"].GetString(), "eu");
  EXPECT_STREQ(doc["tags"]["route"].GetString(), "/x");
  EXPECT_STREQ(doc["user"]["id"].GetString(), "42");
  EXPECT_STREQ(doc["fingerprint"][0].GetString(), "custom");
  EXPECT_STREQ(doc["breadcrumbs"]["values"][0]["message"].GetString(),
               "query 1");
  EXPECT_TRUE(doc.HasMember("server_name"));
  const auto& ex = doc["exception"]["values"][0];
  EXPECT_STREQ(ex["type"].GetString(), "std::out_of_range");
  EXPECT_STREQ(ex["value"].GetString(), "slot 9");
  const auto& frames = ex["stacktrace"]["frames"];
  ASSERT_GT(frames.Size(), 1u);
  const auto& top = frames[frames.Size() - 1];
  EXPECT_NE(std::string(top["function"].GetString()).find("ThrowAndCapture"),
            std::string::npos)
      << top["function"].GetString();
  std::string source =
      std::string(CRASHCTL_TEST_SOURCE_DIR) + "/tests/sdk/sdk_capture_test.cc";
  EXPECT_EQ(top["lineno"].GetInt(), LineOf(source, "// TEST-CAPTURE-LINE"));
  EXPECT_TRUE(top["in_app"].GetBool());
}

TEST_F(CaptureTest, MessageBeforeSendAndSampling) {
  Options o = TestOptions(server_.Dsn(), spool_);
  o.before_send = [](Event& e) {
    if (e.message == "drop me") return false;
    e.tags["edited"] = "yes";
    return true;
  };
  ASSERT_TRUE(Init(o));
  EXPECT_EQ(CaptureMessage("drop me"), "");
  EXPECT_NE(CaptureMessage("keep me"), "");
  ASSERT_TRUE(Flush(seconds(5)));
  ASSERT_TRUE(server_.WaitFor(1, seconds(5)));
  rapidjson::Document doc = Parse(server_.Received()[0].event_json);
  EXPECT_STREQ(doc["message"]["formatted"].GetString(), "keep me");
  EXPECT_STREQ(doc["tags"]["edited"].GetString(), "yes");
  Shutdown();

  o.before_send = nullptr;
  o.sample_rate = 0.0;
  ASSERT_TRUE(Init(o));
  EXPECT_EQ(CaptureMessage("sampled out"), "");
}

TEST_F(CaptureTest, FullQueueDropsAndCountsWithoutBlocking) {
  Options o = TestOptions(server_.Dsn(), spool_);
  o.queue_size = 2;
  server_.FailNext(1000, 429, {{"Retry-After", "30"}});
  ASSERT_TRUE(Init(o));
  auto start = std::chrono::steady_clock::now();
  int accepted = 0;
  for (int i = 0; i < 50; ++i) {
    if (!CaptureMessage("m" + std::to_string(i)).empty()) ++accepted;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(2));
  EXPECT_LE(accepted, 3);  // queue of 2, plus perhaps one in flight
  EXPECT_GE(DroppedEvents(), 47u);
}

TEST_F(CaptureTest, RateLimitIsHonoured) {
  server_.FailNext(1, 429, {{"X-Sentry-Rate-Limits", "1:error:key"}});
  ASSERT_TRUE(Init(TestOptions(server_.Dsn(), spool_)));
  auto start = std::chrono::steady_clock::now();
  CaptureMessage("first");
  ASSERT_TRUE(server_.WaitFor(1, seconds(10)));
  // The 429 said "wait 1 s": the retry must not come sooner.
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(900));
  EXPECT_EQ(server_.Requests(), 2u);
}

TEST_F(CaptureTest, ServerErrorsAreRetried) {
  server_.FailNext(2, 503);
  ASSERT_TRUE(Init(TestOptions(server_.Dsn(), spool_)));
  CaptureMessage("eventually");
  ASSERT_TRUE(server_.WaitFor(1, seconds(10)));
  EXPECT_EQ(server_.Requests(), 3u);
}

TEST(SpoolDeliveryTest, UnsentEventsAreSpooledAndSentAtNextStart) {
  TempDir spool_dir("sdk-test");
  const std::string& spool = spool_dir.path();
  int port = 0;
  {
    FakeSentry probe;  // find a free port, then free it
    port = probe.port();
  }
  std::string dsn = "http://0123456789abcdef0123456789abcdef@127.0.0.1:" +
                    std::to_string(port) + "/1";
  ASSERT_TRUE(Init(TestOptions(dsn, spool)));
  std::string id = CaptureMessage("while the server is down");
  ASSERT_FALSE(id.empty());
  Shutdown(milliseconds(300));
  EXPECT_GE(Spool(spool).Count(), 1u);

  FakeSentry server(port);
  ASSERT_TRUE(Init(TestOptions(dsn, spool)));
  ASSERT_TRUE(server.WaitFor(1, seconds(10)));
  rapidjson::Document doc = Parse(server.Received()[0].event_json);
  EXPECT_EQ(std::string(doc["event_id"].GetString()), id);
  Shutdown(milliseconds(500));
  EXPECT_EQ(Spool(spool).Count(), 0u);
}

}  // namespace
}  // namespace sdk
}  // namespace crashctl
