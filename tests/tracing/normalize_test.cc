// NormalizeTransaction: the committed captures of real SDKs (table in
// real_payloads.h), then each rule of docs/tracing.md on hand-made input.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crashctl/tracing/trace_context.h"
#include "crashctl/tracing/transaction.h"
#include "tests/tracing/envelope_sink.h"
#include "tests/tracing/real_payloads.h"

namespace crashctl {
namespace tracing {
namespace {

constexpr double kNow = 1796168900.0;  // shortly after the captures

// Options without the time bounds: the captures are from a fixed day.
Options NoTimeBounds() {
  Options o;
  o.max_past_seconds = 0;
  o.max_future_seconds = 0;
  return o;
}

TEST(TransactionRealPayloadTest, CommittedCaptures) {
  for (const testing::RealCase& row : testing::RealCases()) {
    SCOPED_TRACE(row.file);
    const std::string envelope = testing::ReadFileOrEmpty(
        std::string(TRACING_TESTDATA_DIR) + "/" + row.file);
    ASSERT_FALSE(envelope.empty());
    const std::vector<std::string> items = testing::TransactionItems(envelope);
    ASSERT_EQ(items.size(), 1u);
    Transaction tx;
    const Status s = NormalizeTransaction(items[0], kNow, NoTimeBounds(), &tx);
    ASSERT_TRUE(s.ok()) << s.ToString();
    testing::ExpectMatches(row, tx);
    EXPECT_EQ(tx.time_adjustment, TimeAdjustment::kNone);
  }
}

TEST(TransactionRealPayloadTest,
     PythonTimesAreRfc3339AndNodeTimesEpochNumbers) {
  // Both forms give the same kind of value: epoch seconds.
  for (const char* file : {"python_task.envelope", "node_route.envelope"}) {
    const auto items = testing::TransactionItems(testing::ReadFileOrEmpty(
        std::string(TRACING_TESTDATA_DIR) + "/" + file));
    ASSERT_EQ(items.size(), 1u) << file;
    Transaction tx;
    ASSERT_TRUE(NormalizeTransaction(items[0], kNow, NoTimeBounds(), &tx).ok());
    EXPECT_GT(tx.start, 1.79e9) << file;
    EXPECT_LT(tx.end, 1.80e9) << file;
    for (const Span& s : tx.spans) {
      EXPECT_GE(s.start, tx.start - 1) << file;
      EXPECT_LE(s.end, tx.end + 1) << file;
    }
  }
}

TEST(TransactionRealPayloadTest, StaleCaptureIsShiftedToNowKeepingDurations) {
  const auto items = testing::TransactionItems(testing::ReadFileOrEmpty(
      std::string(TRACING_TESTDATA_DIR) + "/node_route.envelope"));
  ASSERT_EQ(items.size(), 1u);
  Transaction original, shifted;
  ASSERT_TRUE(
      NormalizeTransaction(items[0], kNow, NoTimeBounds(), &original).ok());
  const double later = kNow + 90 * 86400.0;
  ASSERT_TRUE(NormalizeTransaction(items[0], later, Options(), &shifted).ok());
  EXPECT_EQ(shifted.time_adjustment, TimeAdjustment::kPast);
  EXPECT_DOUBLE_EQ(shifted.end, later);
  EXPECT_NEAR(shifted.duration(), original.duration(), 1e-6);
  EXPECT_NEAR(shifted.time_shift, later - original.end, 1e-3);
  ASSERT_EQ(shifted.spans.size(), original.spans.size());
  for (size_t i = 0; i < shifted.spans.size(); ++i) {
    EXPECT_NEAR(shifted.spans[i].start - shifted.start,
                original.spans[i].start - original.start, 1e-6);
    EXPECT_NEAR(shifted.spans[i].duration(), original.spans[i].duration(),
                1e-6);
  }
}

// A minimal valid transaction with `extra` members spliced in and `trace`
// members in contexts.trace.
std::string Tx(
    const std::string& extra = "", const std::string& trace = "",
    const std::string& times =
        R"("start_timestamp":1796168800.0,"timestamp":1796168801.5)") {
  return R"({"type":"transaction","transaction":"GET /a","contexts":{"trace":{)"
         R"("trace_id":"0af7651916cd43dd8448eb211c80319c",)"
         R"("span_id":"b7ad6b7169203331")" +
         (trace.empty() ? "" : "," + trace) + "}}," + times +
         (extra.empty() ? "" : "," + extra) + "}";
}

TEST(NormalizeTransactionTest, MinimalTransaction) {
  Transaction tx;
  const Status s = NormalizeTransaction(Tx(), kNow, Options(), &tx);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(tx.trace_id, "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(tx.span_id, "b7ad6b7169203331");
  EXPECT_EQ(tx.parent_span_id, "");
  EXPECT_EQ(tx.name, "GET /a");
  EXPECT_EQ(tx.source, "unknown");
  EXPECT_EQ(tx.status, "unknown");
  EXPECT_EQ(tx.method, "");
  EXPECT_EQ(tx.http_status, 0);
  EXPECT_DOUBLE_EQ(tx.duration(), 1.5);
  EXPECT_EQ(tx.event_id.size(), 32u);  // generated
  EXPECT_TRUE(tx.spans.empty());
}

struct ErrorCase {
  std::string json;
  std::string message_part;
};

TEST(NormalizeTransactionTest, RefusedWithAClearMessage) {
  const std::vector<ErrorCase> cases = {
      {"", "not valid JSON"},
      {"{\"a\":", "not valid JSON"},
      {"[1]", "not a JSON object"},
      {"{\"a\":\"\xff\"}", "not valid JSON"},
      {R"({"type":"event"})", "expected \"transaction\""},
      {R"({"type":"transaction","start_timestamp":1,"timestamp":2})",
       "no contexts.trace"},
      {R"({"contexts":[],"start_timestamp":1,"timestamp":2})",
       "contexts: expected an object"},
      {R"({"contexts":{"trace":"x"}})", "contexts.trace: expected an object"},
      {R"({"contexts":{"trace":{"trace_id":"abc","span_id":"b7ad6b7169203331"}},"start_timestamp":1,"timestamp":2})",
       "trace_id"},
      {R"({"contexts":{"trace":{"trace_id":"00000000000000000000000000000000","span_id":"b7ad6b7169203331"}},"start_timestamp":1,"timestamp":2})",
       "not all zeros"},
      {R"({"contexts":{"trace":{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b71692033"}},"start_timestamp":1,"timestamp":2})",
       "span_id"},
      {Tx("", R"("parent_span_id":"xyz")"), "parent_span_id"},
      {Tx("", "", R"("timestamp":2)"), "start_timestamp: missing"},
      {Tx("", "", R"("start_timestamp":2)"), "timestamp: missing"},
      {Tx("", "", R"("start_timestamp":"yesterday","timestamp":2)"),
       "start_timestamp"},
      {Tx("", "", R"("start_timestamp":10,"timestamp":9)"),
       "ends 1 s before it starts"},
      {Tx("", "", R"("start_timestamp":0,"timestamp":1796168801)"),
       "more than the 86400 s allowed"},
      {Tx(R"("release":{"v":1})"), "release: expected a string"},
      {Tx(R"("spans":{})"), "spans: expected an array"},
      {Tx(R"("tags":"a=b")"), "tags: expected an object"},
      {Tx(R"("request":"GET")"), "request: expected an object"},
      {Tx(R"("transaction_info":"url")"), "transaction_info"},
      {Tx(std::string(R"("extra":)") + std::string(70, '[') +
          std::string(70, ']')),
       "nested 71 levels deep"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.json.substr(0, 120));
    Transaction tx;
    tx.name = "untouched";
    const Status s = NormalizeTransaction(c.json, kNow, Options(), &tx);
    ASSERT_FALSE(s.ok());
    EXPECT_TRUE(s.IsInvalid());
    EXPECT_NE(s.message().find(c.message_part), std::string::npos)
        << s.message();
    EXPECT_EQ(tx.name, "untouched");
  }
}

TEST(NormalizeTransactionTest, NestingAtTheLimitIsAccepted) {
  // The payload object is level 1; 63 arrays in it make 64 levels.
  const std::string deep =
      std::string(R"("extra":)") + std::string(63, '[') + std::string(63, ']');
  Transaction tx;
  EXPECT_TRUE(NormalizeTransaction(Tx(deep), kNow, Options(), &tx).ok());
  // Brackets inside strings do not count.
  const std::string text = R"("extra":")" + std::string(100, '[') + R"(")";
  EXPECT_TRUE(NormalizeTransaction(Tx(text), kNow, Options(), &tx).ok());
}

TEST(NormalizeTransactionTest, IdsAreCanonicalised) {
  Transaction tx;
  const std::string json =
      R"({"event_id":"4C79F60C-1124-4E7A-8B0A-6A5F3B1F2A9D","contexts":{"trace":{)"
      R"("trace_id":"0AF7651916CD43DD8448EB211C80319C","span_id":"B7AD6B7169203331",)"
      R"("parent_span_id":"00F067AA0BA902B7"}},"start_timestamp":1,"timestamp":2})";
  ASSERT_TRUE(NormalizeTransaction(json, 3, Options(), &tx).ok());
  EXPECT_EQ(tx.event_id, "4c79f60c11244e7a8b0a6a5f3b1f2a9d");
  EXPECT_EQ(tx.trace_id, "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(tx.span_id, "b7ad6b7169203331");
  EXPECT_EQ(tx.parent_span_id, "00f067aa0ba902b7");
  EXPECT_EQ(tx.name, kUnlabeledTransaction);
}

TEST(NormalizeTransactionTest, StatusesFoldIntoTheClosedSet) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ok", "ok"},
      {"OK", "ok"},
      {"success", "ok"},
      {"cancelled", "cancelled"},
      {"canceled", "cancelled"},
      {"unknown_error", "unknown"},
      {"failure", "internal_error"},
      {"deadline_exceeded", "deadline_exceeded"},
      {"data_loss", "data_loss"},
      {"unauthenticated", "unauthenticated"},
      {"teapot", "unknown"},
      {"", "unknown"},
  };
  for (const auto& [in, want] : cases) {
    EXPECT_EQ(CanonicalSpanStatus(in), want) << in;
    Transaction tx;
    ASSERT_TRUE(NormalizeTransaction(Tx("", R"("status":")" + in + "\""), kNow,
                                     Options(), &tx)
                    .ok());
    EXPECT_EQ(tx.status, want) << in;
  }
}

TEST(NormalizeTransactionTest, StatusFromHttpWhenNoneIsSent) {
  Transaction tx;
  ASSERT_TRUE(NormalizeTransaction(Tx(R"("tags":{"http.status_code":"503"})"),
                                   kNow, Options(), &tx)
                  .ok());
  EXPECT_EQ(tx.http_status, 503);
  EXPECT_EQ(tx.status, "unavailable");
  EXPECT_EQ(SpanStatusForHttp(200), "ok");
  EXPECT_EQ(SpanStatusForHttp(302), "ok");
  EXPECT_EQ(SpanStatusForHttp(401), "unauthenticated");
  EXPECT_EQ(SpanStatusForHttp(418), "invalid_argument");
  EXPECT_EQ(SpanStatusForHttp(429), "resource_exhausted");
  EXPECT_EQ(SpanStatusForHttp(500), "internal_error");
  EXPECT_EQ(SpanStatusForHttp(504), "deadline_exceeded");
  EXPECT_EQ(SpanStatusForHttp(0), "unknown");
}

TEST(NormalizeTransactionTest, MethodsFold) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"GET", "GET"},     {"get", "GET"},          {"Post", "POST"},
      {"PUT", "PUT"},     {"PATCH", "PATCH"},      {"DELETE", "DELETE"},
      {"HEAD", "HEAD"},   {"OPTIONS", "OPTIONS"},  {"PROPFIND", "other"},
      {"TRACE", "other"}, {"G\xc3\xa9T", "other"},
  };
  for (const auto& [in, want] : cases) {
    Transaction tx;
    ASSERT_TRUE(
        NormalizeTransaction(Tx(R"("request":{"method":")" + in + "\"}"), kNow,
                             Options(), &tx)
            .ok());
    EXPECT_EQ(tx.method, want) << in;
  }
  // Node's OpenTelemetry attributes when there is no request.
  Transaction tx;
  ASSERT_TRUE(
      NormalizeTransaction(Tx("", R"("data":{"http.request.method":"delete"})"),
                           kNow, Options(), &tx)
          .ok());
  EXPECT_EQ(tx.method, "DELETE");
}

TEST(NormalizeTransactionTest, ResponseStatusPrecedence) {
  struct Case {
    std::string extra, trace;
    int want;
  };
  const std::vector<Case> cases = {
      {R"("contexts2":1,"tags":{"http.status_code":"404"})", "", 404},
      {R"("tags":[["http.status_code","201"]])", "", 201},
      {R"("tags":{"http.status_code":"abc"})", "", 0},
      {R"("tags":{"http.status_code":"99"})", "", 0},
      {R"("tags":{"http.status_code":600})", "", 0},
      {"", R"("data":{"http.response.status_code":204})", 204},
  };
  for (const Case& c : cases) {
    Transaction tx;
    ASSERT_TRUE(
        NormalizeTransaction(Tx(c.extra, c.trace), kNow, Options(), &tx).ok());
    EXPECT_EQ(tx.http_status, c.want) << c.extra << c.trace;
  }
  // contexts.response wins over the tag.
  Transaction tx;
  const std::string json =
      R"({"contexts":{"trace":{"trace_id":"0af7651916cd43dd8448eb211c80319c",)"
      R"("span_id":"b7ad6b7169203331"},"response":{"status_code":502}},)"
      R"("tags":{"http.status_code":"200"},"start_timestamp":1,"timestamp":2})";
  ASSERT_TRUE(NormalizeTransaction(json, 3, Options(), &tx).ok());
  EXPECT_EQ(tx.http_status, 502);
}

TEST(NormalizeTransactionTest, ServiceFromTagElseAppName) {
  Transaction tx;
  const std::string app =
      R"({"contexts":{"trace":{"trace_id":"0af7651916cd43dd8448eb211c80319c",)"
      R"("span_id":"b7ad6b7169203331"},"app":{"app_name":"api"}},)"
      R"("start_timestamp":1,"timestamp":2})";
  ASSERT_TRUE(NormalizeTransaction(app, 3, Options(), &tx).ok());
  EXPECT_EQ(tx.service, "api");
  ASSERT_TRUE(NormalizeTransaction(Tx(R"("tags":{"service":"web"})"), kNow,
                                   Options(), &tx)
                  .ok());
  EXPECT_EQ(tx.service, "web");
}

TEST(NormalizeTransactionTest, SourceFromTransactionInfoElseTraceData) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("transaction_info":{"source":"route"})", "route"},
      {R"("transaction_info":{"source":"sanitized"})", "sanitized"},
      {R"("transaction_info":{"source":"component"})", "component"},
      {R"("transaction_info":{"source":"weird"})", "unknown"},
      {R"("transaction_info":{})", "unknown"},
  };
  for (const auto& [extra, want] : cases) {
    Transaction tx;
    ASSERT_TRUE(NormalizeTransaction(Tx(extra), kNow, Options(), &tx).ok());
    EXPECT_EQ(tx.source, want) << extra;
  }
  Transaction tx;
  ASSERT_TRUE(NormalizeTransaction(Tx("", R"("data":{"sentry.source":"view"})"),
                                   kNow, Options(), &tx)
                  .ok());
  EXPECT_EQ(tx.source, "view");
}

TEST(NormalizeTransactionTest, TimestampForms) {
  const std::vector<std::string> forms = {
      R"("start_timestamp":1796168800,"timestamp":1796168801.5)",
      R"("start_timestamp":"1796168800","timestamp":"1796168801.5")",
      R"("start_timestamp":"2026-12-01T23:46:40Z","timestamp":"2026-12-01T23:46:41.500Z")",
      R"("start_timestamp":"2026-12-02T00:46:40+01:00","timestamp":"2026-12-01T23:46:41.5")",
  };
  for (const std::string& f : forms) {
    Transaction tx;
    const Status s = NormalizeTransaction(Tx("", "", f), kNow, Options(), &tx);
    ASSERT_TRUE(s.ok()) << f << ": " << s.ToString();
    EXPECT_DOUBLE_EQ(tx.start, 1796168800.0) << f;
    EXPECT_DOUBLE_EQ(tx.duration(), 1.5) << f;
  }
}

TEST(NormalizeTransactionTest, FutureTransactionEndsNow) {
  Transaction tx;
  const std::string times =
      R"("start_timestamp":1796172400,"timestamp":1796172402,)"
      R"("spans":[{"span_id":"a1b2c3d4e5f60718","parent_span_id":"b7ad6b7169203331",)"
      R"("start_timestamp":1796172400.5,"timestamp":1796172401}])";
  ASSERT_TRUE(
      NormalizeTransaction(Tx("", "", times), kNow, Options(), &tx).ok());
  EXPECT_EQ(tx.time_adjustment, TimeAdjustment::kFuture);
  EXPECT_DOUBLE_EQ(tx.end, kNow);
  EXPECT_DOUBLE_EQ(tx.start, kNow - 2);
  EXPECT_DOUBLE_EQ(tx.time_shift, kNow - 1796172402.0);
  ASSERT_EQ(tx.spans.size(), 1u);
  EXPECT_DOUBLE_EQ(tx.spans[0].start, kNow - 1.5);
  EXPECT_DOUBLE_EQ(tx.spans[0].end, kNow - 1);
  // Within 60 s ahead: kept.
  ASSERT_TRUE(
      NormalizeTransaction(
          Tx("", "", R"("start_timestamp":1796168950,"timestamp":1796168959)"),
          kNow, Options(), &tx)
          .ok());
  EXPECT_EQ(tx.time_adjustment, TimeAdjustment::kNone);
  EXPECT_DOUBLE_EQ(tx.end, 1796168959.0);
  // Absurd times far ahead keep their (sane) duration.
  ASSERT_TRUE(NormalizeTransaction(
                  Tx("", "", R"("start_timestamp":1e15,"timestamp":1e15)"),
                  kNow, Options(), &tx)
                  .ok());
  EXPECT_EQ(tx.time_adjustment, TimeAdjustment::kFuture);
  EXPECT_DOUBLE_EQ(tx.end, kNow);
  EXPECT_DOUBLE_EQ(tx.start, kNow);
}

TEST(NormalizeTransactionTest, SpansCutAndInvalidOnesDropped) {
  std::string spans = R"("spans":[)";
  for (int i = 0; i < 1003; ++i) {
    char id[17];
    std::snprintf(id, sizeof(id), "%016x", i + 1);
    if (i > 0) spans += ",";
    spans += std::string(R"({"span_id":")") + id +
             R"(","parent_span_id":"b7ad6b7169203331","op":"db",)"
             R"("start_timestamp":1796168800.1,"timestamp":1796168800.2})";
  }
  spans += "]";
  Transaction tx;
  ASSERT_TRUE(NormalizeTransaction(Tx(spans), kNow, Options(), &tx).ok());
  EXPECT_EQ(tx.spans.size(), 1000u);
  EXPECT_EQ(tx.spans_cut, 3u);

  const std::string bad =
      R"("spans":["x",{"op":"no id","start_timestamp":1,"timestamp":2},)"
      R"({"span_id":"a1b2c3d4e5f60718"},)"
      R"({"span_id":"a1b2c3d4e5f60719","start_timestamp":1796168800.5,"timestamp":1796168800.1},)"
      R"({"span_id":"a1b2c3d4e5f6071a","parent_span_id":"nope","start_timestamp":1796168800.5,"timestamp":1796168800.6},)"
      R"({"span_id":"a1b2c3d4e5f6071b","start_timestamp":1,"timestamp":2},)"
      R"({"span_id":"A1B2C3D4E5F6071C","start_timestamp":"2026-12-01T23:46:40.2Z",)"
      R"("timestamp":1796168800.3,"op":{"x":1},"description":"kept","tags":{"status":"aborted"}}])";
  ASSERT_TRUE(NormalizeTransaction(Tx(bad), kNow, Options(), &tx).ok());
  EXPECT_EQ(tx.spans_invalid, 6u);
  ASSERT_EQ(tx.spans.size(), 1u);
  EXPECT_EQ(tx.spans[0].span_id, "a1b2c3d4e5f6071c");
  EXPECT_EQ(tx.spans[0].op, "");  // not text: absent
  EXPECT_EQ(tx.spans[0].description, "kept");
  EXPECT_EQ(tx.spans[0].status, "aborted");  // sentry-python's tags.status
  EXPECT_NEAR(tx.spans[0].duration(), 0.1, 1e-6);
}

TEST(NormalizeTransactionTest, StringsAreCutAtUtf8Boundaries) {
  std::string name;
  for (int i = 0; i < 150; ++i) name += "\xc3\xa9";  // 300 bytes
  Transaction tx;
  ASSERT_TRUE(NormalizeTransaction(
                  Tx(R"("transaction":")" + name + "\",\"release\":\"" +
                     std::string(500, 'r') + "\""),
                  kNow, Options(), &tx)
                  .ok());
  // The first "transaction" member wins (rapidjson FindMember): GET /a.
  EXPECT_EQ(tx.name, "GET /a");
  const std::string json =
      R"({"transaction":")" + name +
      R"(","contexts":{"trace":{"trace_id":"0af7651916cd43dd8448eb211c80319c",)"
      R"("span_id":"b7ad6b7169203331","op":")" +
      std::string(300, 'o') +
      R"("}},"start_timestamp":1,"timestamp":2,"release":")" +
      std::string(500, 'r') + "\"}";
  ASSERT_TRUE(NormalizeTransaction(json, 3, Options(), &tx).ok());
  EXPECT_EQ(tx.name.size(), 200u);
  EXPECT_EQ(tx.name, name.substr(0, 200));
  EXPECT_EQ(tx.release.size(), kMaxReleaseBytes);
  EXPECT_EQ(tx.op.size(), kMaxOpBytes);
  std::string odd;
  for (int i = 0; i < 67; ++i) odd += "\xe2\x82\xac";  // 201 bytes
  ASSERT_TRUE(
      NormalizeTransaction(
          R"({"transaction":")" + odd +
              R"(","contexts":{"trace":{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331"}},"start_timestamp":1,"timestamp":2})",
          3, Options(), &tx)
          .ok());
  EXPECT_EQ(tx.name.size(), 198u);  // 66 whole euro signs
}

}  // namespace
}  // namespace tracing
}  // namespace crashctl
