// Sentry transactions on the ingestion path: the handlers with the real
// IngestPipeline and an in-memory store that keeps transactions; the
// committed captures of @sentry/node and sentry_sdk (tests/tracing/testdata);
// TransactionMetrics as /metrics shows it; per-trace store sampling; the
// trace context of error events.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "crashctl/exporter/exporter.h"
#include "crashctl/ingest/handlers.h"
#include "crashctl/ingest/metrics.h"
#include "crashctl/ingest/normalize.h"
#include "crashctl/ingest/pipeline.h"
#include "crashctl/ingest/trace_sampling.h"
#include "crashctl/ingest/transaction_metrics.h"
#include "tests/rest/fake_store.h"

namespace crashctl {
namespace ingest {
namespace {

using ::testing::HasSubstr;

std::string ReadCapture(const std::string& name) {
  std::ifstream in(std::string(TRACING_TESTDATA_DIR) + "/" + name,
                   std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing capture " << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// FakeStore that also writes events and transactions (duplicates by
// project and event id), and can be told to fail writes.
class TxStore : public testing::FakeStore {
 public:
  Status WriteEvents(const std::vector<model::WriteItem>& items,
                     std::vector<model::WriteOutcome>* outcomes) override {
    std::lock_guard<std::mutex> lock(mu);
    if (fail_writes) return Status::Internal("disk full");
    outcomes->assign(items.size(), model::WriteOutcome{});
    for (const model::WriteItem& item : items) written_events.push_back(item);
    return Status::Ok();
  }
  Status WriteTransactions(
      const std::vector<model::StoredTransaction>& transactions,
      std::vector<bool>* stored) override {
    std::lock_guard<std::mutex> lock(mu);
    if (fail_writes) return Status::Internal("disk full");
    stored->clear();
    for (const model::StoredTransaction& t : transactions) {
      const bool fresh = ids.insert(std::to_string(t.project_id) + "/" +
                                    t.transaction.event_id)
                             .second;
      stored->push_back(fresh);
      if (fresh) written.push_back(t);
    }
    return Status::Ok();
  }
  Status HealthProbe() override {
    return fail_writes ? Status::Internal("disk full") : Status::Ok();
  }

  std::mutex mu;
  bool fail_writes = false;
  std::set<std::string> ids;
  std::vector<model::StoredTransaction> written;
  std::vector<model::WriteItem> written_events;
};

// The value of the series `series` (exactly as /metrics writes its name and
// labels) in `text`, or -1 when absent.
double Sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, series.size(), series) == 0 &&
        line.size() > series.size() && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

class TransactionIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.CreateProject("p", &project_).ok());
    Start(IngestHandlers::Options{}, 100);
  }
  void TearDown() override {
    if (pipeline_) pipeline_->Stop();
  }
  void Start(IngestHandlers::Options options, size_t queue_size,
             TransactionMetrics::Options tx_options = {}) {
    if (pipeline_) pipeline_->Stop();
    handlers_.reset();
    pipeline_.reset();
    exporter_ =
        std::make_unique<exporter::Exporter>(exporter::Exporter::Options{});
    metrics_ =
        std::make_unique<Metrics>(exporter_->registry(), exporter_->services());
    tx_metrics_ =
        std::make_unique<TransactionMetrics>(exporter_->registry(), tx_options);
    pipeline_ = std::make_unique<IngestPipeline>(
        &store_, metrics_.get(), IngestPipeline::Options{queue_size, 8});
    options.transaction_metrics = tx_metrics_.get();
    handlers_ = std::make_unique<IngestHandlers>(&store_, pipeline_.get(),
                                                 metrics_.get(), options);
    pipeline_->Start();
  }
  http::HttpRequest Request(const std::string& body) {
    http::HttpRequest r;
    r.method = "POST";
    r.body = body;
    r.headers["x-sentry-auth"] =
        "Sentry sentry_version=7, sentry_key=" + project_.public_key;
    r.path_params["project_id"] = std::to_string(project_.id);
    return r;
  }
  http::HttpResponse Envelope(const std::string& body) {
    http::HttpRequest r = Request(body);
    return handlers_->HandleEnvelope(r);
  }
  http::HttpResponse Store(const std::string& body) {
    http::HttpRequest r = Request(body);
    return handlers_->HandleStore(r);
  }
  double Metric(const std::string& series) {
    return Sample(exporter_->Serialize(), series);
  }

  TxStore store_;
  model::Project project_;
  std::unique_ptr<exporter::Exporter> exporter_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<TransactionMetrics> tx_metrics_;
  std::unique_ptr<IngestPipeline> pipeline_;
  std::unique_ptr<IngestHandlers> handlers_;
};

// A minimal valid transaction payload.
std::string Tx(const std::string& event_id, const std::string& trace_id,
               const std::string& name, double start, double end,
               const std::string& extra = "") {
  return R"({"type":"transaction","event_id":")" + event_id +
         R"(","transaction":")" + name +
         R"(","transaction_info":{"source":"route"},"contexts":{"trace":{"trace_id":")" +
         trace_id +
         R"(","span_id":"1111111111111111","op":"http.server","status":"ok"}},"request":{"method":"POST"},"tags":{"service":"api"},"start_timestamp":)" +
         std::to_string(start) + R"(,"timestamp":)" + std::to_string(end) +
         extra + "}";
}

std::string EnvelopeOf(
    const std::vector<std::pair<std::string, std::string>>& items) {
  std::string out = "{}\n";
  for (const auto& [type, payload] : items) {
    out += R"({"type":")" + type + R"(","length":)" +
           std::to_string(payload.size()) + "}\n" + payload + "\n";
  }
  return out;
}

const char kTrace[] = "0123456789abcdef0123456789abcdef";

TEST_F(TransactionIngestTest, RealNodeCaptureIsStoredAndObserved) {
  const http::HttpResponse r = Envelope(ReadCapture("node_route.envelope"));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(store_.written.size(), 1u);
  const model::StoredTransaction& t = store_.written[0];
  EXPECT_EQ(t.project_id, project_.id);
  EXPECT_GT(t.received, 0);
  EXPECT_EQ(t.transaction.name, "GET /orders/:id");
  EXPECT_EQ(t.transaction.spans.size(), 3u);
  EXPECT_THAT(r.body, HasSubstr(t.transaction.event_id));
  const std::string labels =
      R"({method="GET",project="1",service="orders",status="ok",transaction="GET /orders/:id"})";
  EXPECT_EQ(Metric("crashctl_transaction_duration_seconds_count" + labels), 1);
  EXPECT_EQ(
      Metric(
          R"(crashctl_span_duration_seconds_count{op="db",project="1",service="orders"})"),
      1);
  EXPECT_EQ(
      Metric(R"(crashctl_transactions_total{outcome="stored",project="1"})"),
      1);
  EXPECT_EQ(Metric(R"(crashctl_envelope_items_total{type="transaction"})"), 1);
  EXPECT_EQ(Metric("crashctl_transaction_label_series"), 4);  // 1 + 3 ops

  // The same envelope again: a duplicate, not stored twice, still observed.
  ASSERT_EQ(Envelope(ReadCapture("node_route.envelope")).status, 200);
  EXPECT_EQ(store_.written.size(), 1u);
  EXPECT_EQ(
      Metric(R"(crashctl_transactions_total{outcome="duplicate",project="1"})"),
      1);
  EXPECT_EQ(Metric("crashctl_transaction_duration_seconds_count" + labels), 2);
}

TEST_F(TransactionIngestTest, EveryCaptureIsAcceptedAndUrlNamesFold) {
  for (const char* file :
       {"node_http_url_200.envelope", "node_http_url_500.envelope",
        "node_http_url_continued.envelope", "python_continued.envelope",
        "python_route.envelope", "python_task.envelope"}) {
    EXPECT_EQ(Envelope(ReadCapture(file)).status, 200) << file;
  }
  EXPECT_EQ(store_.written.size(), 6u);
  EXPECT_EQ(
      Metric(
          R"(crashctl_transaction_duration_seconds_count{method="GET",project="1",service="orders",status="ok",transaction="<< unparameterized >>"})"),
      2);
  EXPECT_EQ(
      Metric(
          R"(crashctl_transaction_duration_seconds_count{method="GET",project="1",service="orders",status="internal_error",transaction="<< unparameterized >>"})"),
      1);
  EXPECT_EQ(
      Metric(
          R"(crashctl_transaction_duration_seconds_count{method="",project="1",service="billing",status="not_found",transaction="/invoices/{id}"})"),
      1);
  EXPECT_EQ(
      Metric(
          R"(crashctl_transaction_label_folds_total{kind="unparameterized"})"),
      3);
}

TEST_F(TransactionIngestTest, HistogramBucketsHoldKnownDurations) {
  // 30 ms, 200 ms and 3 s.
  const double t0 = 1795387600;
  std::vector<std::pair<std::string, std::string>> items;
  const double durations[] = {0.03, 0.2, 3};
  for (int i = 0; i < 3; ++i) {
    items.emplace_back("transaction",
                       Tx(std::string(31, 'a') + std::to_string(i), kTrace,
                          "POST /pay", t0, t0 + durations[i]));
  }
  // Timestamps from 2026-11-21: inside max_past_seconds for the test clock
  // only if recent; durations are kept whatever the shift.
  ASSERT_EQ(Envelope(EnvelopeOf(items)).status, 200);
  const std::string l =
      R"(method="POST",project="1",service="api",status="ok",transaction="POST /pay")";
  const std::string b = "crashctl_transaction_duration_seconds_bucket{" + l;
  EXPECT_EQ(Metric(b + R"(,le="0.025"})"), 0);
  EXPECT_EQ(Metric(b + R"(,le="0.05"})"), 1);
  EXPECT_EQ(Metric(b + R"(,le="0.25"})"), 2);
  EXPECT_EQ(Metric(b + R"(,le="2.5"})"), 2);
  EXPECT_EQ(Metric(b + R"(,le="5"})"), 3);
  EXPECT_EQ(Metric(b + R"(,le="+Inf"})"), 3);
  EXPECT_NEAR(Metric("crashctl_transaction_duration_seconds_sum{" + l + "}"),
              3.23, 1e-6);
}

TEST_F(TransactionIngestTest, ConfiguredBucketsAndNameCap) {
  TransactionMetrics::Options tx;
  tx.duration_buckets = {0.1, 1};
  tx.limits.max_transactions = 1;
  Start(IngestHandlers::Options{}, 100, tx);
  const double t0 = 1795387600;
  ASSERT_EQ(
      Envelope(EnvelopeOf({{"transaction", Tx(std::string(32, 'b'), kTrace,
                                              "first", t0, t0 + 0.5)},
                           {"transaction", Tx(std::string(32, 'c'), kTrace,
                                              "second", t0, t0 + 0.5)}}))
          .status,
      200);
  const std::string text = exporter_->Serialize();
  EXPECT_THAT(text, HasSubstr(R"(transaction="first",le="1"} 1)"));
  EXPECT_THAT(text, HasSubstr(R"(transaction="other",le="1"} 1)"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr(R"(transaction="second")")));
  EXPECT_THAT(text,
              ::testing::Not(HasSubstr(R"(transaction="first",le="0.25")")));
  EXPECT_EQ(
      Sample(text, R"(crashctl_transaction_label_folds_total{kind="name"})"),
      1);
  EXPECT_EQ(store_.written.size(), 2u);  // storage keeps the real names
  EXPECT_EQ(store_.written[1].transaction.name, "second");
}

TEST_F(TransactionIngestTest, InvalidTransactionInEnvelopeIsCountedAndSkipped) {
  const std::string event =
      R"({"event_id":")" + std::string(32, 'e') +
      R"(","message":"boom","contexts":{"trace":{"trace_id":"ABCDEF0123456789ABCDEF0123456789","span_id":"0123456789ABCDEF"}}})";
  const std::string bad =
      R"({"type":"transaction","contexts":{"trace":{"trace_id":"xyz","span_id":"1111111111111111"}},"start_timestamp":1,"timestamp":2})";
  const http::HttpResponse r =
      Envelope(EnvelopeOf({{"transaction", bad}, {"event", event}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(store_.written.empty());
  ASSERT_EQ(store_.written_events.size(), 1u);
  EXPECT_EQ(store_.written_events[0].event.trace_id,
            "abcdef0123456789abcdef0123456789");
  EXPECT_EQ(store_.written_events[0].event.span_id, "0123456789abcdef");
  EXPECT_EQ(
      Metric(R"(crashctl_ingest_rejected_total{reason="invalid_transaction"})"),
      1);
  EXPECT_EQ(
      Metric(R"(crashctl_transactions_total{outcome="invalid",project="1"})"),
      1);
}

// An envelope answered 503 is sent again by the SDK: its invalid
// transaction is one transaction received, counted once, when the envelope
// is finally accepted (as the stored ones are).
TEST_F(TransactionIngestTest, InvalidTransactionOfARetriedEnvelopeCountsOnce) {
  const std::string bad =
      R"({"type":"transaction","contexts":{"trace":{"trace_id":"xyz","span_id":"1111111111111111"}},"start_timestamp":1,"timestamp":2})";
  const double t0 = 1795387600;
  const std::string envelope = EnvelopeOf(
      {{"transaction", bad},
       {"transaction", Tx(std::string(32, 'a'), kTrace, "a", t0, t0 + 1)}});
  store_.fail_writes = true;
  ASSERT_EQ(Envelope(envelope).status, 503);
  EXPECT_EQ(
      Metric(R"(crashctl_transactions_total{outcome="invalid",project="1"})"),
      -1);
  store_.fail_writes = false;
  const http::HttpResponse r = Envelope(envelope);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(
      Metric(R"(crashctl_transactions_total{outcome="invalid",project="1"})"),
      1);
  EXPECT_EQ(
      Metric(R"(crashctl_transactions_total{outcome="stored",project="1"})"),
      1);
}

TEST_F(TransactionIngestTest,
       EventsAndTransactionsOfOneEnvelopeCommitTogether) {
  const double t0 = 1795387600;
  const http::HttpResponse r = Envelope(EnvelopeOf(
      {{"event", R"({"message":"boom"})"},
       {"transaction", Tx(std::string(32, 'a'), kTrace, "a", t0, t0 + 1)},
       {"session", "{}"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(store_.written_events.size(), 1u);
  EXPECT_EQ(store_.written.size(), 1u);
  EXPECT_EQ(Metric("crashctl_ingest_queue_depth"), 0);
}

TEST_F(TransactionIngestTest, StoreEndpointAcceptsAndRefusesTransactions) {
  const double t0 = 1795387600;
  http::HttpResponse r =
      Store(Tx(std::string(32, 'd'), kTrace, "GET /x", t0, t0 + 0.1));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr(std::string(32, 'd')));
  ASSERT_EQ(store_.written.size(), 1u);
  EXPECT_TRUE(store_.written_events.empty());

  // Ends before it starts: 400 with the reason, counted.
  r = Store(Tx(std::string(32, 'f'), kTrace, "GET /x", t0, t0 - 1));
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("\"error\""));
  EXPECT_THAT(r.body, HasSubstr("invalid transaction"));
  EXPECT_EQ(
      Metric(R"(crashctl_ingest_rejected_total{reason="invalid_transaction"})"),
      1);

  // "type" after a member nested 100 deep is still found.
  std::string deep = Tx(std::string(32, 'c'), kTrace, "GET /deep", t0, t0 + 1);
  deep.insert(
      1, R"("extra":)" + std::string(100, '[') + std::string(100, ']') + ",");
  r = Store(deep);
  EXPECT_EQ(r.status, 400) << r.body;  // a transaction, refused for depth
  EXPECT_THAT(r.body, HasSubstr("invalid transaction"));

  // An event whose exception has "type" keys is still an event.
  r = Store(R"({"exception":{"values":[{"type":"transaction","value":"x"}]}})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(store_.written_events.size(), 1u);

  // Blanks around the colon: still a transaction.
  std::string spaced =
      Tx(std::string(32, 'e'), kTrace, "GET /spaced", t0, t0 + 1);
  const size_t at = spaced.find(R"("type":"transaction")");
  ASSERT_NE(at, std::string::npos) << spaced;
  spaced.replace(at, 20, "\"type\" :\n \"transaction\"");
  r = Store(spaced);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(store_.written.size(), 2u);
  // An event naming its transaction (as JavaScript SDKs do) is an event.
  r = Store(R"({"message":"m","transaction":"GET /x"})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(store_.written_events.size(), 2u);
}

TEST_F(TransactionIngestTest, TooLargeTransactionIsRefused) {
  IngestHandlers::Options options;
  options.max_event_bytes = 200;
  Start(options, 100);
  const double t0 = 1795387600;
  const std::string big =
      Tx(std::string(32, 'a'), kTrace, std::string(150, 'n'), t0, t0 + 1);
  EXPECT_EQ(Envelope(EnvelopeOf({{"transaction", big}})).status, 413);
  EXPECT_EQ(Store(big).status, 413);
  EXPECT_EQ(Metric(R"(crashctl_ingest_rejected_total{reason="too_large"})"), 2);
  EXPECT_TRUE(store_.written.empty());
}

TEST_F(TransactionIngestTest, StorageDownAnswers503AndObservesNothing) {
  store_.fail_writes = true;
  const double t0 = 1795387600;
  const http::HttpResponse r =
      Store(Tx(std::string(32, 'a'), kTrace, "GET /x", t0, t0 + 0.1));
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("storage"));
  EXPECT_EQ(Metric(R"(crashctl_ingest_rejected_total{reason="storage"})"), 1);
  EXPECT_EQ(Metric("crashctl_storage_up"), 0);
  EXPECT_EQ(
      Metric(
          R"(crashctl_transaction_duration_seconds_count{method="POST",project="1",service="api",status="ok",transaction="GET /x"})"),
      -1);
}

TEST_F(TransactionIngestTest, FullQueueAnswers429) {
  Start(IngestHandlers::Options{}, 1);
  const double t0 = 1795387600;
  const http::HttpResponse r = Envelope(EnvelopeOf(
      {{"transaction", Tx(std::string(32, 'a'), kTrace, "a", t0, t0 + 1)},
       {"transaction", Tx(std::string(32, 'b'), kTrace, "b", t0, t0 + 1)}}));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Metric(R"(crashctl_ingest_rejected_total{reason="queue_full"})"),
            1);
  EXPECT_TRUE(store_.written.empty());
}

TEST_F(TransactionIngestTest, SampleRateDecidesStorageNotMetrics) {
  IngestHandlers::Options options;
  options.store_sample_rate = 0.5;
  Start(options, 1000);
  const double t0 = 1795387600;
  std::mt19937_64 rng(7);
  std::vector<std::pair<std::string, std::string>> items;
  std::set<std::string> kept_traces;
  for (int i = 0; i < 200; ++i) {
    char trace[33];
    snprintf(trace, sizeof(trace), "%016llx%016llx",
             static_cast<unsigned long long>(rng()),
             static_cast<unsigned long long>(rng()));
    char id[33];
    snprintf(id, sizeof(id), "%032d", i + 1);
    items.emplace_back("transaction", Tx(id, trace, "t", t0, t0 + 0.01));
    if (StoreTrace(trace, 0.5)) kept_traces.insert(trace);
  }
  ASSERT_EQ(Envelope(EnvelopeOf(items)).status, 200);
  EXPECT_EQ(store_.written.size(), kept_traces.size());
  for (const auto& t : store_.written) {
    EXPECT_EQ(kept_traces.count(t.transaction.trace_id), 1u);
  }
  EXPECT_GT(kept_traces.size(), 70u);
  EXPECT_LT(kept_traces.size(), 130u);
  EXPECT_EQ(
      Metric(
          R"(crashctl_transaction_duration_seconds_count{method="POST",project="1",service="api",status="ok",transaction="t"})"),
      200);
  EXPECT_EQ(
      Metric(
          R"(crashctl_transactions_total{outcome="sampled_out",project="1"})"),
      static_cast<double>(200 - kept_traces.size()));
}

TEST_F(TransactionIngestTest, DisabledTracingDropsTransactions) {
  IngestHandlers::Options options;
  options.tracing_enabled = false;
  Start(options, 100);
  EXPECT_EQ(Envelope(ReadCapture("python_task.envelope")).status, 200);
  const double t0 = 1795387600;
  EXPECT_EQ(Store(Tx(std::string(32, 'a'), kTrace, "x", t0, t0 + 1)).status,
            200);
  EXPECT_TRUE(store_.written.empty());
  EXPECT_EQ(Metric(R"(crashctl_envelope_items_total{type="transaction"})"), 1);
  EXPECT_THAT(
      exporter_->Serialize(),
      ::testing::Not(HasSubstr("crashctl_transaction_duration_seconds_count")));
}

TEST_F(TransactionIngestTest, SpansCutAndInvalidAreCounted) {
  const double t0 = 1795387600;
  std::string spans = ",\"spans\":[";
  for (int i = 0; i < 1002; ++i) {
    char id[17];
    snprintf(id, sizeof(id), "%016x", i + 1);
    if (i > 0) spans += ",";
    spans += R"({"span_id":")" + std::string(id) +
             R"(","op":"db","start_timestamp":)" + std::to_string(t0) +
             R"(,"timestamp":)" + std::to_string(i == 0 ? t0 - 1 : t0 + 0.01) +
             "}";
  }
  spans += "]";
  ASSERT_EQ(
      Store(Tx(std::string(32, 'a'), kTrace, "x", t0, t0 + 1, spans)).status,
      200);
  EXPECT_EQ(Metric(R"(crashctl_transaction_spans_dropped_total{reason="cut"})"),
            2);
  EXPECT_EQ(
      Metric(R"(crashctl_transaction_spans_dropped_total{reason="invalid"})"),
      1);
  EXPECT_EQ(
      Metric(
          R"(crashctl_span_duration_seconds_count{op="db",project="1",service="api"})"),
      999);
}

TEST_F(TransactionIngestTest, FutureTimeIsShiftedAndCounted) {
  const double t0 = 4e9;  // year 2096
  ASSERT_EQ(Store(Tx(std::string(32, 'a'), kTrace, "x", t0, t0 + 0.5)).status,
            200);
  ASSERT_EQ(store_.written.size(), 1u);
  EXPECT_LT(store_.written[0].transaction.end, 3e9);
  EXPECT_NEAR(store_.written[0].transaction.duration(), 0.5, 1e-6);
  EXPECT_EQ(
      Metric(R"(crashctl_ingest_adjusted_total{reason="future_timestamp"})"),
      1);
}

// With the series budget full, /metrics holds at most max_series + 154
// transaction/span series per project, whatever names arrive.
TEST(TransactionMetricsTest, SeriesBudgetBoundsTheExposition) {
  exporter::Exporter exporter{exporter::Exporter::Options{}};
  TransactionMetrics::Options options;
  options.limits.max_transactions = 100000;
  options.limits.max_series = 50;
  TransactionMetrics m(exporter.registry(), options);
  static const char* const kStatuses[] = {"ok", "internal_error", "not_found",
                                          "unavailable"};
  for (int i = 0; i < 3000; ++i) {
    tracing::Transaction tx;
    tx.name = "route_" + std::to_string(i);
    tx.source = "route";
    tx.status = kStatuses[i % 4];
    tx.method = i % 2 ? "GET" : "POST";
    tx.service = "svc" + std::to_string(i % 300);
    tx.start = 0;
    tx.end = 0.01 * (i % 100);
    tracing::Span span;
    span.op = "op" + std::to_string(i);
    span.end = 0.001;
    tx.spans.push_back(span);
    m.Observe(7, tx);
  }
  const std::string text = exporter.Serialize();
  size_t series = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("crashctl_transaction_duration_seconds_count{", 0) == 0 ||
        line.rfind("crashctl_span_duration_seconds_count{", 0) == 0) {
      ++series;
    }
  }
  EXPECT_LE(series, 50u + 154u);
  EXPECT_GE(series, 50u);
  EXPECT_EQ(Sample(text, "crashctl_transaction_label_series"),
            static_cast<double>(series));
  EXPECT_GT(
      Sample(text, R"(crashctl_transaction_label_folds_total{kind="series"})"),
      0);
  EXPECT_GT(
      Sample(text, R"(crashctl_transaction_label_folds_total{kind="service"})"),
      0);
}

TEST(TraceSamplingTest, DeterministicAndBounded) {
  EXPECT_EQ(TraceSampleValue(kTrace), TraceSampleValue(kTrace));
  EXPECT_TRUE(StoreTrace(kTrace, 1));
  EXPECT_FALSE(StoreTrace(kTrace, 0));
  std::mt19937_64 rng(1);
  int below = 0;
  for (int i = 0; i < 10000; ++i) {
    char trace[33];
    snprintf(trace, sizeof(trace), "%016llx%016llx",
             static_cast<unsigned long long>(rng()),
             static_cast<unsigned long long>(rng()));
    const double v = TraceSampleValue(trace);
    ASSERT_GE(v, 0);
    ASSERT_LT(v, 1);
    if (v < 0.3) ++below;
    EXPECT_EQ(StoreTrace(trace, 0.3), v < 0.3);
  }
  EXPECT_GT(below, 2800);
  EXPECT_LT(below, 3200);
}

TEST(EventTraceContextTest, IdsAreValidatedAndLowerCased) {
  struct Case {
    std::string contexts;
    std::string trace_id, span_id;
  };
  const std::vector<Case> cases = {
      {R"({"trace":{"trace_id":"4A4444F8727546078E5A962EECCEDFF3","span_id":"A40278071527DAF6"}})",
       "4a4444f8727546078e5a962eeccedff3", "a40278071527daf6"},
      {R"({"trace":{"trace_id":"4a4444f8-7275-4607-8e5a-962eeccedff3"}})",
       "4a4444f8727546078e5a962eeccedff3", ""},
      {R"({"trace":{"trace_id":"4a4444f8727546078e5a962eeccedff3","span_id":"short"}})",
       "4a4444f8727546078e5a962eeccedff3", ""},
      {R"({"trace":{"trace_id":"00000000000000000000000000000000","span_id":"a40278071527daf6"}})",
       "", ""},
      {R"({"trace":{"trace_id":"zz4444f8727546078e5a962eeccedff3"}})", "", ""},
      {R"({"trace":{"trace_id":42}})", "", ""},
      {R"({"trace":"x"})", "", ""},
      {R"({})", "", ""},
  };
  for (const Case& c : cases) {
    model::Event ev;
    std::string error;
    ASSERT_TRUE(
        NormalizeEvent(R"({"message":"m","contexts":)" + c.contexts + "}", 1,
                       1795387600, &ev, &error))
        << error;
    EXPECT_EQ(ev.trace_id, c.trace_id) << c.contexts;
    EXPECT_EQ(ev.span_id, c.span_id) << c.contexts;
  }
}

}  // namespace
}  // namespace ingest
}  // namespace crashctl
