// End-to-end: the envelope items that are not events (issue 18). Client
// reports become crashctl_sdk_discarded_events_total; invalid session,
// client_report and check_in items are counted and skipped while the
// envelope, and its event, are still accepted (as Sentry skips them); a
// retried envelope does not count its client report twice.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/testing/raw_http.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace {

using testing::HttpResult;
using testing::MetricValue;
using testing::ServerProcess;

std::string Item(const std::string& type, const std::string& payload) {
  return R"({"type":")" + type + R"(","length":)" +
         std::to_string(payload.size()) + "}\n" + payload + "\n";
}

// A client report as @sentry/node sends it (discarded_events only).
const char kClientReport[] =
    R"({"timestamp":1764676800,"discarded_events":[)"
    R"({"reason":"queue_overflow","category":"error","quantity":23},)"
    R"({"reason":"sample_rate","category":"transaction","quantity":5},)"
    R"({"reason":"made_up_reason","category":"made_up_category","quantity":2}]})";

class EnvelopeItemsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerProcess::Options options;
    std::string error;
    server_ = ServerProcess::Start(options, &error);
    ASSERT_TRUE(server_) << error;
    project_ = server_->CreateProject("items");
  }
  HttpResult PostEnvelope(const std::string& body) {
    return server_->Post("/api/" + std::to_string(project_.id) +
                             "/envelope/?sentry_key=" + project_.key,
                         body);
  }
  std::string Metrics() {
    HttpResult r = server_->Get("/metrics");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  }
  std::string Discarded(const std::string& reason,
                        const std::string& category) const {
    return "crashctl_sdk_discarded_events_total{category=\"" + category +
           "\",project=\"" + std::to_string(project_.id) + "\",reason=\"" +
           reason + "\"}";
  }

  std::unique_ptr<ServerProcess> server_;
  ServerProcess::ProjectInfo project_;
};

TEST_F(EnvelopeItemsTest, ClientReportsCountWhatTheSdkDropped) {
  const HttpResult r =
      PostEnvelope("{}\n" + Item("client_report", kClientReport));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string metrics = Metrics();
  EXPECT_EQ(MetricValue(metrics, Discarded("queue_overflow", "error")), 23);
  EXPECT_EQ(MetricValue(metrics, Discarded("sample_rate", "transaction")), 5);
  // Reasons and categories outside the closed sets are folded.
  EXPECT_EQ(MetricValue(metrics, Discarded("other", "other")), 2);
  EXPECT_EQ(
      MetricValue(metrics,
                  "crashctl_envelope_items_total{type=\"client_report\"}"),
      1);
}

TEST_F(EnvelopeItemsTest, InvalidItemsAreCountedAndSkipped) {
  const std::string event_id = "0123456789abcdef0123456789abcdef";
  const std::string event =
      R"({"event_id":")" + event_id +
      R"(","message":"with bad items","level":"error","platform":"python"})";
  const std::string body =
      R"({"event_id":")" + event_id + "\"}\n" + Item("event", event) +
      // No release: Sentry drops such sessions.
      Item("session", R"({"sid":"7c7b6585f9014351bf8d02711b721929",)"
                      R"("started":"2026-12-01T10:00:00Z","status":"ok"})") +
      Item("sessions", R"({"aggregates":"not a list"})") +
      Item("client_report", R"({"discarded_events":[{"reason":1}]})") +
      // missed is the server's to decide.
      Item("check_in", R"({"monitor_slug":"nightly","status":"missed"})") +
      Item("feedback", R"({"contexts":{}})") + Item("made_up_type", "{}");
  const HttpResult r = PostEnvelope(body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(event_id), std::string::npos) << r.body;
  const HttpResult stored = server_->Get("/api/v1/events/" + event_id);
  EXPECT_EQ(stored.status, 200) << stored.body;

  const std::string metrics = Metrics();
  EXPECT_EQ(MetricValue(metrics,
                        "crashctl_ingest_rejected_total{reason=\"invalid_"
                        "session\"}"),
            2);
  EXPECT_EQ(MetricValue(metrics,
                        "crashctl_ingest_rejected_total{reason=\"invalid_"
                        "client_report\"}"),
            1);
  EXPECT_EQ(MetricValue(metrics,
                        "crashctl_ingest_rejected_total{reason=\"invalid_"
                        "check_in\"}"),
            1);
  EXPECT_EQ(
      MetricValue(metrics, "crashctl_envelope_items_total{type=\"feedback\"}"),
      1);
  EXPECT_EQ(
      MetricValue(metrics, "crashctl_envelope_items_total{type=\"other\"}"), 1);
}

TEST_F(EnvelopeItemsTest, RefusedEnvelopeCountsNoClientReport) {
  // The event is refused (413 over the 1 MiB event limit): the SDK will
  // retry the envelope, so its client report must not be counted now.
  const std::string big =
      R"({"message":")" + std::string(1100000, 'x') + R"("})";
  const HttpResult r = PostEnvelope(
      "{}\n" + Item("client_report", kClientReport) + Item("event", big));
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_LT(MetricValue(Metrics(), Discarded("queue_overflow", "error")), 1);
}

}  // namespace
}  // namespace crashctl
