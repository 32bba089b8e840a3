// The SDK's tracing: transaction payloads as Sentry shapes them (and as
// crashctl's own normaliser reads them), sampling at the root, propagation
// in and out, errors carrying the current span's trace, against a fake
// Sentry endpoint on loopback.
#include "sdk/src/tracing.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "crashctl/sdk.h"
#include "crashctl/sdk/support/http_sender.h"
#include "crashctl/tracing/trace_context.h"
#include "crashctl/tracing/transaction.h"
#include "fake_sentry.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace sdk {
namespace {

using crashctl::testing::FakeSentry;
using crashctl::testing::ReceivedEnvelope;
using crashctl::testing::TempDir;
using std::chrono::seconds;

constexpr char kTraceId[] = "771a43a4192642f0b136d5159a501700";
constexpr char kParentSpan[] = "b0e6f15b45c36b12";

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  return doc;
}

std::string Get(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString()
                                                     : "<absent>";
}

class TracingTest : public ::testing::Test {
 protected:
  void TearDown() override { Shutdown(std::chrono::milliseconds(500)); }

  Options TestOptions() {
    Options o;
    o.dsn = server_.Dsn();
    o.service = "checkout";
    o.release = "r7";
    o.environment = "staging";
    o.spool_dir = spool_.path();
    o.install_crash_handler = false;
    o.traces_sample_rate = 1.0;
    return o;
  }

  // Sends a marker message and waits for it: everything queued before it
  // has been sent by then (one sender thread, in order).
  std::vector<ReceivedEnvelope> Drain() {
    size_t before = server_.Received().size();
    EXPECT_NE(CaptureMessage("marker"), "");
    EXPECT_TRUE(Flush(seconds(5)));
    EXPECT_TRUE(server_.WaitFor(before + 1, seconds(5)));
    std::vector<ReceivedEnvelope> all = server_.Received();
    all.pop_back();  // the marker
    return all;
  }

  static std::vector<ReceivedEnvelope> Transactions(
      const std::vector<ReceivedEnvelope>& all) {
    std::vector<ReceivedEnvelope> out;
    for (const auto& e : all) {
      if (e.item_header.find("\"type\":\"transaction\"") != std::string::npos)
        out.push_back(e);
    }
    return out;
  }

  FakeSentry server_;
  TempDir spool_{"sdk-tracing"};
};

TEST_F(TracingTest, TransactionPayloadHasSentryShape) {
  ASSERT_TRUE(Init(TestOptions()));
  SetTag("region", "eu");
  TransactionContext ctx;
  ctx.name = "/orders/{id}";
  ctx.op = "http.server";
  ctx.source = "route";
  Transaction tx = StartTransaction(ctx);
  ASSERT_TRUE(static_cast<bool>(tx));
  EXPECT_TRUE(tx.IsSampled());
  tx.SetRequest("POST", "/orders/7");
  tx.SetTag("tier", "gold");
  Span db = tx.StartChild("db.query", "SELECT 1");
  db.SetData("db.system", "sqlite");
  db.SetStatus("deadline_exceeded");
  db.Finish();
  Span http = tx.StartChild("http.client");
  http.SetDescription("GET http://stock/items");
  Span nested = http.StartChild("serialize");
  nested.Finish();
  http.Finish();
  tx.SetHttpStatus(404);
  tx.Finish();
  tx.Finish();  // once only

  auto all = Drain();
  auto txs = Transactions(all);
  ASSERT_EQ(txs.size(), 1u);
  ASSERT_EQ(all.size(), 1u);
  rapidjson::Document doc = Parse(txs[0].event_json);
  ASSERT_TRUE(doc.IsObject()) << txs[0].event_json;
  EXPECT_EQ(Get(doc, "type"), "transaction");
  EXPECT_EQ(Get(doc, "transaction"), "/orders/{id}");
  EXPECT_EQ(Get(doc["transaction_info"], "source"), "route");
  EXPECT_EQ(Get(doc, "release"), "r7");
  EXPECT_EQ(Get(doc, "environment"), "staging");
  EXPECT_EQ(Get(doc, "platform"), "native");
  EXPECT_EQ(Get(doc["tags"], "service"), "checkout");
  EXPECT_EQ(Get(doc["tags"], "region"), "eu");
  EXPECT_EQ(Get(doc["tags"], "tier"), "gold");
  EXPECT_EQ(Get(doc["tags"], "http.status_code"), "404");
  EXPECT_EQ(Get(doc["request"], "method"), "POST");
  EXPECT_EQ(Get(doc["request"], "url"), "/orders/7");
  EXPECT_EQ(doc["contexts"]["response"]["status_code"].GetInt(), 404);
  const auto& trace = doc["contexts"]["trace"];
  EXPECT_EQ(Get(trace, "trace_id"), tx.TraceId());
  EXPECT_EQ(Get(trace, "span_id"), tx.SpanId());
  EXPECT_EQ(Get(trace, "parent_span_id"), "<absent>");  // a new trace
  EXPECT_EQ(Get(trace, "op"), "http.server");
  EXPECT_EQ(Get(trace, "status"), "not_found");
  ASSERT_TRUE(doc["start_timestamp"].IsNumber());
  ASSERT_TRUE(doc["timestamp"].IsNumber());
  EXPECT_LE(doc["start_timestamp"].GetDouble(), doc["timestamp"].GetDouble());
  EXPECT_GT(doc["start_timestamp"].GetDouble(), 1.7e9);

  const auto& spans = doc["spans"];
  ASSERT_TRUE(spans.IsArray());
  ASSERT_EQ(spans.Size(), 3u);  // in finishing order
  EXPECT_EQ(Get(spans[0], "op"), "db.query");
  EXPECT_EQ(Get(spans[0], "description"), "SELECT 1");
  EXPECT_EQ(Get(spans[0], "status"), "deadline_exceeded");
  EXPECT_EQ(Get(spans[0]["data"], "db.system"), "sqlite");
  EXPECT_EQ(Get(spans[0], "span_id"), db.SpanId());
  EXPECT_EQ(Get(spans[0], "parent_span_id"), tx.SpanId());
  EXPECT_EQ(Get(spans[0], "trace_id"), tx.TraceId());
  EXPECT_EQ(Get(spans[1], "op"), "serialize");
  EXPECT_EQ(Get(spans[1], "parent_span_id"), http.SpanId());
  EXPECT_EQ(Get(spans[2], "op"), "http.client");
  EXPECT_EQ(Get(spans[2], "description"), "GET http://stock/items");
  EXPECT_EQ(Get(spans[2], "status"), "ok");  // the default
  for (const auto& s : spans.GetArray()) {
    EXPECT_LE(s["start_timestamp"].GetDouble(), s["timestamp"].GetDouble());
    EXPECT_GE(s["start_timestamp"].GetDouble(),
              doc["start_timestamp"].GetDouble());
  }

  // The envelope: item type transaction, the DSC as the header's trace.
  rapidjson::Document header = Parse(txs[0].envelope_header);
  EXPECT_EQ(Get(header, "event_id"), Get(doc, "event_id"));
  EXPECT_EQ(Get(header["trace"], "trace_id"), tx.TraceId());
  EXPECT_EQ(Get(header["trace"], "public_key"),
            "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(Get(header["trace"], "release"), "r7");
  EXPECT_EQ(Get(header["trace"], "transaction"), "/orders/{id}");
  EXPECT_EQ(Get(header["trace"], "sampled"), "true");
  EXPECT_EQ(Get(header["trace"], "sample_rate"), "1");

  // crashctl's own normaliser reads every field back.
  tracing::Transaction t;
  ASSERT_TRUE(tracing::NormalizeTransaction(txs[0].event_json,
                                            doc["timestamp"].GetDouble(),
                                            tracing::Options(), &t)
                  .ok());
  EXPECT_EQ(t.name, "/orders/{id}");
  EXPECT_EQ(t.source, "route");
  EXPECT_EQ(t.trace_id, tx.TraceId());
  EXPECT_EQ(t.span_id, tx.SpanId());
  EXPECT_EQ(t.op, "http.server");
  EXPECT_EQ(t.status, "not_found");
  EXPECT_EQ(t.method, "POST");
  EXPECT_EQ(t.http_status, 404);
  EXPECT_EQ(t.service, "checkout");
  EXPECT_EQ(t.release, "r7");
  EXPECT_EQ(t.environment, "staging");
  ASSERT_EQ(t.spans.size(), 3u);
  EXPECT_EQ(t.spans[0].op, "db.query");
  EXPECT_EQ(t.spans[0].status, "deadline_exceeded");
  EXPECT_EQ(t.spans[1].parent_span_id, http.SpanId());
  EXPECT_EQ(t.spans_invalid, 0u);
}

TEST_F(TracingTest, SampledOutTransactionsSendNothingAndChildrenInherit) {
  Options o = TestOptions();
  o.traces_sample_rate = 0.0;
  ASSERT_TRUE(Init(o));
  Transaction tx = StartTransaction("/checkout", "http.server");
  ASSERT_TRUE(static_cast<bool>(tx));  // still a trace, for propagation
  EXPECT_FALSE(tx.IsSampled());
  EXPECT_TRUE(tracing::IsTraceId(tx.TraceId()));
  Span child = tx.StartChild("db.query");
  EXPECT_FALSE(child.IsSampled());
  EXPECT_EQ(child.TraceId(), tx.TraceId());
  auto headers = child.TraceHeaders();
  EXPECT_EQ(headers["sentry-trace"],
            tx.TraceId() + "-" + child.SpanId() + "-0");
  EXPECT_EQ(headers["traceparent"],
            "00-" + tx.TraceId() + "-" + child.SpanId() + "-00");
  EXPECT_NE(headers["baggage"].find("sentry-sampled=false"), std::string::npos)
      << headers["baggage"];
  child.Finish();
  tx.Finish();
  EXPECT_TRUE(Transactions(Drain()).empty());
}

TEST_F(TracingTest, SamplerDecidesAtTheRootAndSeesTheParent) {
  Options o = TestOptions();
  o.traces_sample_rate = 0.0;  // the sampler takes precedence
  std::vector<SamplingContext> seen;
  std::mutex mu;
  o.traces_sampler = [&](const SamplingContext& c) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(c);
    return c.name == "/healthz" ? 0.0 : 1.0;
  };
  ASSERT_TRUE(Init(o));
  TransactionContext health;
  health.name = "/healthz";
  health.op = "http.server";
  health.attributes["http.method"] = "GET";
  Transaction h = StartTransaction(health);
  Span hc = h.StartChild("db.query");  // no sampler call for children
  hc.Finish();
  h.Finish();
  TransactionContext orders;
  orders.name = "/orders";
  orders.op = "http.server";
  // The parent said "not sampled": the sampler still decides (and sees it).
  orders.sentry_trace = std::string(kTraceId) + "-" + kParentSpan + "-0";
  Transaction t = StartTransaction(orders);
  EXPECT_TRUE(t.IsSampled());
  t.Finish();

  auto txs = Transactions(Drain());
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_EQ(Get(Parse(txs[0].event_json), "transaction"), "/orders");
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].name, "/healthz");
  EXPECT_EQ(seen[0].op, "http.server");
  EXPECT_EQ(seen[0].attributes["http.method"], "GET");
  EXPECT_FALSE(seen[0].has_parent_sampled);
  EXPECT_TRUE(seen[1].has_parent_sampled);
  EXPECT_FALSE(seen[1].parent_sampled);
}

TEST(TracingDecisionTest, OrderIsSamplerThenParentThenRate) {
  detail::TracingConfig config;
  config.traces_sample_rate = 0.25;
  SamplingContext sc;
  detail::Incoming none;
  EXPECT_TRUE(detail::DecideSampling(config, sc, none, 0.2).sampled);
  EXPECT_FALSE(detail::DecideSampling(config, sc, none, 0.3).sampled);
  EXPECT_DOUBLE_EQ(detail::DecideSampling(config, sc, none, 0.3).sample_rate,
                   0.25);
  detail::Incoming parent;
  parent.trace_id = kTraceId;
  parent.has_sampled = true;
  parent.sampled = true;
  EXPECT_TRUE(detail::DecideSampling(config, sc, parent, 0.99).sampled);
  parent.sampled = false;
  EXPECT_FALSE(detail::DecideSampling(config, sc, parent, 0.0).sampled);
  parent.has_sampled = false;  // "traceid-spanid": the receiver decides
  EXPECT_TRUE(detail::DecideSampling(config, sc, parent, 0.1).sampled);
  config.traces_sampler = [](const SamplingContext&) { return 7.0; };
  EXPECT_TRUE(detail::DecideSampling(config, sc, none, 0.999).sampled);
  config.traces_sampler = [](const SamplingContext&) { return -1.0; };
  EXPECT_FALSE(detail::DecideSampling(config, sc, parent, 0.0).sampled);
}

TEST(TracingDecisionTest, IncomingHeaders) {
  TransactionContext c;
  c.sentry_trace = std::string(kTraceId) + "-" + kParentSpan + "-1";
  c.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
  detail::Incoming in = detail::ParseIncoming(c);
  EXPECT_EQ(in.trace_id, kTraceId);  // sentry-trace first
  EXPECT_EQ(in.parent_span_id, kParentSpan);
  EXPECT_TRUE(in.has_sampled && in.sampled);
  c.sentry_trace = "not-a-trace";  // invalid: the traceparent then
  in = detail::ParseIncoming(c);
  EXPECT_EQ(in.trace_id, "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(in.parent_span_id, "b7ad6b7169203331");
  EXPECT_TRUE(in.has_sampled);
  EXPECT_FALSE(in.sampled);
  c.traceparent = "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01";
  EXPECT_EQ(detail::ParseIncoming(c).trace_id, "");  // a new trace
  // A baggage DSC of another trace is not taken; other vendors' members
  // are kept.
  c.sentry_trace = std::string(kTraceId) + "-" + kParentSpan;
  c.baggage =
      "sentry-trace_id=0af7651916cd43dd8448eb211c80319c,sentry-release=x,"
      "vendor=1";
  in = detail::ParseIncoming(c);
  EXPECT_FALSE(in.has_sampled);
  EXPECT_FALSE(in.baggage.has_sentry_entries());
  ASSERT_EQ(in.baggage.third_party.size(), 1u);
  EXPECT_EQ(in.baggage.third_party[0], "vendor=1");
}

TEST(TracingDecisionTest, HttpStatusMapping) {
  EXPECT_EQ(tracing::SpanStatusForHttp(200), "ok");
  EXPECT_EQ(tracing::SpanStatusForHttp(302), "ok");
  EXPECT_EQ(tracing::SpanStatusForHttp(400), "invalid_argument");
  EXPECT_EQ(tracing::SpanStatusForHttp(401), "unauthenticated");
  EXPECT_EQ(tracing::SpanStatusForHttp(403), "permission_denied");
  EXPECT_EQ(tracing::SpanStatusForHttp(404), "not_found");
  EXPECT_EQ(tracing::SpanStatusForHttp(429), "resource_exhausted");
  EXPECT_EQ(tracing::SpanStatusForHttp(500), "internal_error");
  EXPECT_EQ(tracing::SpanStatusForHttp(503), "unavailable");
  EXPECT_EQ(tracing::SpanStatusForHttp(504), "deadline_exceeded");
  EXPECT_EQ(tracing::SpanStatusForHttp(0), "unknown");
}

TEST_F(TracingTest, ContinuesSentryTraceAndBaggageAndPropagatesOut) {
  Options o = TestOptions();
  o.traces_sample_rate = 0.0;  // the parent's decision wins
  ASSERT_TRUE(Init(o));
  TransactionContext ctx;
  ctx.name = "/pay";
  ctx.op = "http.server";
  ctx.sentry_trace = std::string(kTraceId) + "-" + kParentSpan + "-1";
  ctx.baggage = std::string("othervendor=a%20b, sentry-trace_id=") + kTraceId +
                ",sentry-public_key=upstreamkey,sentry-release=web%401.2,"
                "sentry-sample_rate=0.5,sentry-sampled=true,"
                "sentry-sample_rand=0.25";
  Transaction tx = StartTransaction(ctx);
  EXPECT_EQ(tx.TraceId(), kTraceId);
  EXPECT_TRUE(tx.IsSampled());
  Span call = tx.StartChild("http.client", "POST http://bank/charge");
  auto headers = call.TraceHeaders();
  EXPECT_EQ(headers["sentry-trace"],
            std::string(kTraceId) + "-" + call.SpanId() + "-1");
  EXPECT_EQ(headers["traceparent"],
            std::string("00-") + kTraceId + "-" + call.SpanId() + "-01");
  // The head's DSC, frozen, then the other vendor's member verbatim.
  tracing::Baggage out;
  ASSERT_TRUE(tracing::ParseBaggage(headers["baggage"], &out, nullptr))
      << headers["baggage"];
  EXPECT_EQ(out.trace_id.value_or(""), kTraceId);
  EXPECT_EQ(out.public_key.value_or(""), "upstreamkey");
  EXPECT_EQ(out.release.value_or(""), "web@1.2");
  EXPECT_EQ(out.sample_rate.value_or(""), "0.5");
  EXPECT_EQ(out.sampled.value_or(""), "true");
  ASSERT_EQ(out.third_party.size(), 1u);
  EXPECT_EQ(out.third_party[0], "othervendor=a%20b");
  call.Finish();
  tx.Finish();

  auto txs = Transactions(Drain());
  ASSERT_EQ(txs.size(), 1u);
  rapidjson::Document doc = Parse(txs[0].event_json);
  EXPECT_EQ(Get(doc["contexts"]["trace"], "trace_id"), kTraceId);
  EXPECT_EQ(Get(doc["contexts"]["trace"], "parent_span_id"), kParentSpan);
  rapidjson::Document header = Parse(txs[0].envelope_header);
  EXPECT_EQ(Get(header["trace"], "release"), "web@1.2");
  EXPECT_EQ(Get(header["trace"], "public_key"), "upstreamkey");
  EXPECT_EQ(Get(header["trace"], "sample_rand"), "0.25");
}

TEST_F(TracingTest, ContinuesTraceparentAndItsSampledFlag) {
  ASSERT_TRUE(Init(TestOptions()));  // rate 1, but the parent says no
  TransactionContext ctx;
  ctx.name = "/a";
  ctx.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
  Transaction no = StartTransaction(ctx);
  EXPECT_EQ(no.TraceId(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_FALSE(no.IsSampled());
  no.Finish();
  ctx.name = "/b";
  ctx.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  Transaction yes = StartTransaction(ctx);
  EXPECT_TRUE(yes.IsSampled());
  // This process is the head of the DSC: its own entries.
  tracing::Baggage b;
  ASSERT_TRUE(
      tracing::ParseBaggage(yes.TraceHeaders()["baggage"], &b, nullptr));
  EXPECT_EQ(b.trace_id.value_or(""), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(b.release.value_or(""), "r7");
  EXPECT_EQ(b.environment.value_or(""), "staging");
  EXPECT_EQ(b.transaction.value_or(""), "/b");
  yes.Finish();
  auto txs = Transactions(Drain());
  ASSERT_EQ(txs.size(), 1u);
  rapidjson::Document doc = Parse(txs[0].event_json);
  EXPECT_EQ(Get(doc, "transaction"), "/b");
  EXPECT_EQ(Get(doc["contexts"]["trace"], "parent_span_id"),
            "b7ad6b7169203331");
}

TEST_F(TracingTest, ErrorsCarryTheCurrentSpansTrace) {
  ASSERT_TRUE(Init(TestOptions()));
  EXPECT_FALSE(static_cast<bool>(CurrentSpan()));
  Transaction tx = StartTransaction("job", "task");
  Span step = tx.StartChild("step");
  std::string in_tx, in_step, outside;
  {
    SpanScope scope(tx);
    EXPECT_EQ(CurrentSpan().SpanId(), tx.SpanId());
    in_tx = CaptureMessage("in tx");
    {
      SpanScope inner(step);
      in_step = CaptureException(std::runtime_error("in step"));
    }
    EXPECT_EQ(CurrentSpan().SpanId(), tx.SpanId());  // restored
  }
  outside = CaptureMessage("outside");
  // Another thread has no current span.
  std::thread([] { EXPECT_FALSE(static_cast<bool>(CurrentSpan())); }).join();
  step.Finish();
  tx.Finish();
  auto all = Drain();
  std::map<std::string, ReceivedEnvelope> by_id;
  for (const auto& e : all) {
    by_id[Get(Parse(e.event_json), "event_id")] = e;
  }
  ASSERT_EQ(by_id.count(in_tx), 1u);
  ASSERT_EQ(by_id.count(in_step), 1u);
  ASSERT_EQ(by_id.count(outside), 1u);
  rapidjson::Document a = Parse(by_id[in_tx].event_json);
  EXPECT_EQ(Get(a["contexts"]["trace"], "trace_id"), tx.TraceId());
  EXPECT_EQ(Get(a["contexts"]["trace"], "span_id"), tx.SpanId());
  EXPECT_EQ(Get(a["contexts"]["trace"], "op"), "task");
  EXPECT_EQ(Get(Parse(by_id[in_tx].envelope_header)["trace"], "trace_id"),
            tx.TraceId());
  rapidjson::Document b = Parse(by_id[in_step].event_json);
  EXPECT_EQ(Get(b["contexts"]["trace"], "trace_id"), tx.TraceId());
  EXPECT_EQ(Get(b["contexts"]["trace"], "span_id"), step.SpanId());
  EXPECT_EQ(Get(b["contexts"]["trace"], "parent_span_id"), tx.SpanId());
  rapidjson::Document c = Parse(by_id[outside].event_json);
  EXPECT_FALSE(c["contexts"].HasMember("trace"));
  EXPECT_EQ(Parse(by_id[outside].envelope_header).HasMember("trace"), false);
}

TEST_F(TracingTest, SpansAreBoundedAndLateSpansDropped) {
  Options o = TestOptions();
  o.max_spans = 2;
  ASSERT_TRUE(Init(o));
  Transaction tx = StartTransaction("bounded", "task");
  for (int i = 0; i < 3; ++i) tx.StartChild("op" + std::to_string(i)).Finish();
  Span late = tx.StartChild("late");
  tx.Finish();
  late.Finish();
  auto txs = Transactions(Drain());
  ASSERT_EQ(txs.size(), 1u);
  rapidjson::Document doc = Parse(txs[0].event_json);
  ASSERT_EQ(doc["spans"].Size(), 2u);
  EXPECT_EQ(Get(doc["spans"][0], "op"), "op0");
  EXPECT_EQ(Get(doc["spans"][1], "op"), "op1");
}

TEST_F(TracingTest, SpansFromManyThreads) {
  ASSERT_TRUE(Init(TestOptions()));
  Transaction tx = StartTransaction("fan-out", "task");
  constexpr int kThreads = 4, kEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&tx, t] {
      SpanScope scope(tx);
      for (int i = 0; i < kEach; ++i) {
        Span s = CurrentSpan().StartChild("work");
        s.SetData("thread", std::to_string(t));
        s.SetTag("i", std::to_string(i));
        tx.SetTag("last", std::to_string(t));
        s.Finish();
      }
    });
  }
  for (auto& th : threads) th.join();
  tx.Finish();
  auto txs = Transactions(Drain());
  ASSERT_EQ(txs.size(), 1u);
  rapidjson::Document doc = Parse(txs[0].event_json);
  ASSERT_EQ(doc["spans"].Size(), static_cast<unsigned>(kThreads * kEach));
  std::set<std::string> ids;
  for (const auto& s : doc["spans"].GetArray()) ids.insert(Get(s, "span_id"));
  EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kEach));
}

TEST_F(TracingTest, TransactionRateLimitDropsTransactionsOnly) {
  // The first request (a transaction) is answered 429 for transactions
  // alone, for 60 s.
  server_.FailNext(1, 429, {{"X-Sentry-Rate-Limits", "60:transaction:key"}});
  ASSERT_TRUE(Init(TestOptions()));
  StartTransaction("first", "task").Finish();
  ASSERT_TRUE(Flush(seconds(5)));
  EXPECT_EQ(server_.Requests(), 1u);
  uint64_t dropped = DroppedEvents();
  EXPECT_EQ(dropped, 1u);                       // not kept for a retry
  StartTransaction("second", "task").Finish();  // dropped before sending
  EXPECT_EQ(DroppedEvents(), dropped + 1);
  // Errors are not held: the marker arrives (within Drain's 5 s, not 60).
  auto all = Drain();
  EXPECT_TRUE(Transactions(all).empty());
  EXPECT_EQ(server_.Requests(), 2u);
}

TEST(RateLimitTest, PerCategory) {
  EXPECT_EQ(ParseRateLimits("60:transaction:key", "transaction"), 60);
  EXPECT_EQ(ParseRateLimits("60:transaction:key"), 0);
  EXPECT_EQ(ParseRateLimits("30::key, 5:transaction:org", "transaction"), 30);
  EXPECT_EQ(ParseRateLimits("7:error;transaction:org", "transaction"), 7);
  EXPECT_EQ(ParseRateLimits("7:error:org", "transaction"), 0);
}

TEST(TracingOffTest, NoOpWithoutInit) {
  Transaction tx = StartTransaction("x", "y");
  EXPECT_FALSE(static_cast<bool>(tx));
  Span child = tx.StartChild("z");
  child.SetData("k", "v");
  child.Finish();
  tx.Finish();
  EXPECT_EQ(tx.TraceId(), "");
  EXPECT_TRUE(tx.TraceHeaders().empty());
  SpanScope scope(tx);
  EXPECT_FALSE(static_cast<bool>(CurrentSpan()));
}

}  // namespace
}  // namespace sdk
}  // namespace crashctl
