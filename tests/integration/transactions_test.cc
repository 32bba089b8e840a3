// End-to-end Sentry transactions: the real crashctl binary on a loopback
// port receives the envelopes @sentry/node and sentry_sdk sent (the committed
// captures in tests/tracing/testdata), and hand-made ones; asserts the
// histogram buckets on /metrics, the refusal paths, the stored rows (read
// through the store once the server has stopped), store sampling and the
// label state kept across a restart.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "crashctl/store/sqlite.h"
#include "crashctl/store/store.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace {

using testing::HttpResult;
using testing::ServerProcess;

std::string ReadCapture(const std::string& name) {
  const std::string path =
      testing::SourceDir() + "/tests/tracing/testdata/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing capture " << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The value of the series `series` (name and labels exactly as exposed) in
// the exposition `text`, -1 when absent.
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

std::string Tx(const std::string& event_id, const std::string& name,
               double start, double end) {
  return R"({"type":"transaction","event_id":")" + event_id +
         R"(","transaction":")" + name +
         R"(","transaction_info":{"source":"route"},"contexts":{"trace":{"trace_id":"0123456789abcdef0123456789abcdef","span_id":"1111111111111111","op":"http.server","status":"ok"}},"request":{"method":"POST"},"tags":{"service":"api"},"start_timestamp":)" +
         std::to_string(start) + R"(,"timestamp":)" + std::to_string(end) + "}";
}

std::string EnvelopeOf(const std::vector<std::string>& transactions) {
  std::string out = "{}\n";
  for (const std::string& t : transactions) {
    out += R"({"type":"transaction","length":)" + std::to_string(t.size()) +
           "}\n" + t + "\n";
  }
  return out;
}

const char* const kCaptures[] = {"node_http_url_200.envelope",
                                 "node_http_url_500.envelope",
                                 "node_http_url_continued.envelope",
                                 "node_route.envelope",
                                 "python_continued.envelope",
                                 "python_route.envelope",
                                 "python_task.envelope"};

class TransactionsTest : public ::testing::Test {
 protected:
  void StartServer(std::map<std::string, std::string> env = {}) {
    server_.reset();
    ServerProcess::Options options;
    options.data_dir = dir_.path();
    options.env = std::move(env);
    std::string error;
    server_ = ServerProcess::Start(options, &error);
    ASSERT_TRUE(server_) << error;
    if (project_.id == 0) project_ = server_->CreateProject("shop");
  }
  std::string EnvelopePath() const {
    return "/api/" + std::to_string(project_.id) +
           "/envelope/?sentry_key=" + project_.key;
  }
  std::string Metrics() {
    HttpResult r = server_->Get("/metrics");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  }
  // Stops the server and reads what it stored.
  std::vector<model::StoredTransaction> StoredTransactions() {
    EXPECT_EQ(server_->Stop(SIGTERM), 0) << server_->Log();
    std::string error;
    std::unique_ptr<store::Store> store =
        store::OpenSqlite(dir_.path() + "/crashctl.db", &error);
    EXPECT_TRUE(store) << error;
    if (!store) return {};
    store::TransactionQuery query;
    query.limit = 1000;
    model::Page<model::StoredTransaction> page;
    const Status status = store->ListTransactions(query, &page);
    EXPECT_TRUE(status.ok()) << status.message();
    return page.items;
  }

  testing::TempDir dir_{"transactions-it"};
  std::unique_ptr<ServerProcess> server_;
  ServerProcess::ProjectInfo project_;
};

TEST_F(TransactionsTest, RealSdkEnvelopesBecomeHistogramsAndRows) {
  StartServer();
  for (const char* file : kCaptures) {
    HttpResult r = server_->Post(EnvelopePath(), ReadCapture(file));
    EXPECT_EQ(r.status, 200) << file << ": " << r.body;
  }
  // An error inside the node_route transaction, with its trace context in
  // upper case (the ids are lower-cased).
  const std::string trace = "4a4444f8727546078e5a962eeccedff3";
  HttpResult r = server_->Post(
      project_.StorePath(),
      R"({"event_id":")" + std::string(32, 'f') +
          R"(","message":"boom","contexts":{"trace":{"trace_id":"4A4444F8727546078E5A962EECCEDFF3","span_id":"AB845D85E21E4FA9"}}})");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string text = Metrics();
  const std::string p = std::to_string(project_.id);
  // @sentry/node's bare http server names by URL: folded.
  EXPECT_EQ(
      Sample(
          text,
          R"(crashctl_transaction_duration_seconds_count{method="GET",project=")" +
              p +
              R"(",service="orders",status="ok",transaction="<< unparameterized >>"})"),
      2);
  EXPECT_EQ(
      Sample(
          text,
          R"(crashctl_transaction_duration_seconds_count{method="GET",project=")" +
              p +
              R"(",service="orders",status="internal_error",transaction="<< unparameterized >>"})"),
      1);
  EXPECT_EQ(
      Sample(
          text,
          R"(crashctl_transaction_duration_seconds_count{method="GET",project=")" +
              p +
              R"(",service="orders",status="ok",transaction="GET /orders/:id"})"),
      1);
  EXPECT_EQ(
      Sample(
          text,
          R"(crashctl_transaction_duration_seconds_count{method="",project=")" +
              p +
              R"(",service="billing",status="internal_error",transaction="charge_card"})"),
      1);
  EXPECT_EQ(
      Sample(text,
             R"(crashctl_span_duration_seconds_count{op="db.query",project=")" +
                 p + R"(",service="billing"})"),
      1);
  EXPECT_EQ(
      Sample(text, R"(crashctl_transactions_total{outcome="stored",project=")" +
                       p + R"("})"),
      7);
  EXPECT_EQ(
      Sample(text, R"(crashctl_envelope_items_total{type="transaction"})"), 7);
  EXPECT_EQ(
      Sample(
          text,
          R"(crashctl_transaction_label_folds_total{kind="unparameterized"})"),
      3);

  // Through txrest's REST API while the server runs.
  r = server_->Get("/api/v1/transactions?project=" + p + "&limit=100");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document list;
  list.Parse(r.body.c_str(), r.body.size());
  ASSERT_TRUE(list.IsObject() && list.HasMember("items") &&
              list["items"].IsArray())
      << r.body;
  EXPECT_EQ(list["items"].Size(), 7u);
  r = server_->Get("/api/v1/traces/" + trace);
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document tree;
  tree.Parse(r.body.c_str(), r.body.size());
  ASSERT_TRUE(tree.IsObject()) << r.body;
  EXPECT_EQ(tree["transactions"].GetInt(), 2) << r.body;
  ASSERT_TRUE(tree["errors"].IsArray());
  ASSERT_EQ(tree["errors"].Size(), 1u) << r.body;
  EXPECT_EQ(std::string(tree["errors"][0]["event_id"].GetString()),
            std::string(32, 'f'));
  EXPECT_FALSE(tree["errors"][0]["node"].IsNull()) << r.body;

  const std::vector<model::StoredTransaction> rows = StoredTransactions();
  ASSERT_EQ(rows.size(), 7u);
  std::string error;
  std::unique_ptr<store::Store> store =
      store::OpenSqlite(dir_.path() + "/crashctl.db", &error);
  ASSERT_TRUE(store) << error;
  std::vector<model::StoredTransaction> in_trace;
  ASSERT_TRUE(store->GetTraceTransactions(trace, 100, &in_trace).ok());
  // The route transaction and the bare server's, which continues its
  // outgoing http.client span.
  ASSERT_EQ(in_trace.size(), 2u);
  const tracing::Transaction* route = nullptr;
  const tracing::Transaction* continued = nullptr;
  for (const model::StoredTransaction& t : in_trace) {
    (t.transaction.name == "GET /orders/:id" ? route : continued) =
        &t.transaction;
  }
  ASSERT_TRUE(route && continued);
  ASSERT_EQ(route->spans.size(), 3u);
  bool continues_a_span = false;
  for (const tracing::Span& span : route->spans) {
    if (span.span_id == continued->parent_span_id) {
      continues_a_span = true;
      EXPECT_EQ(span.op, "http.client");
    }
  }
  EXPECT_TRUE(continues_a_span);
  std::vector<model::StoredEvent> errors;
  ASSERT_TRUE(store->ListTraceEvents(trace, 10, &errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].event_id, std::string(32, 'f'));
  EXPECT_EQ(errors[0].trace_id, trace);
  EXPECT_EQ(errors[0].span_id, "ab845d85e21e4fa9");
  std::set<std::string> names;
  for (const model::StoredTransaction& row : rows) {
    EXPECT_EQ(row.project_id, project_.id);
    EXPECT_EQ(row.transaction.trace_id.size(), 32u);
    names.insert(row.transaction.name);
  }
  EXPECT_EQ(names.count("GET /orders/42"), 1u);  // the real name is stored
  EXPECT_EQ(names.count("charge_card"), 1u);
}

// The SDKs themselves (not their captures) against the server: skipped
// when an SDK is missing, as tests/tracing's capture test is.
TEST_F(TransactionsTest, LiveSdksSendToTheServer) {
  const char* node_path = std::getenv("NODE_PATH");
  const std::string modules =
      node_path != nullptr && *node_path != '\0'
          ? node_path
          : testing::SourceDir() + "/tests/node_modules";
  const bool node =
      std::ifstream(modules + "/@sentry/node/package.json").good();
  std::string python;
  for (const char* candidate : {"/usr/bin/python3", "python3"}) {
    if (testing::RunCommand({candidate, "-c", "import sentry_sdk"}, {}, 30)
            .exit_code == 0) {
      python = candidate;
      break;
    }
  }
  if (!node && python.empty()) GTEST_SKIP() << "neither SDK is installed";
  StartServer();
  const std::string p = std::to_string(project_.id);
  const std::string stored =
      R"(crashctl_transactions_total{outcome="stored",project=")" + p + R"("})";
  double expect = 0;
  if (node) {
    const testing::CommandResult run = testing::RunCommand(
        {"node", testing::SourceDir() + "/tests/tracing/node_transactions.js",
         project_.dsn},
        {{"NODE_PATH", modules}}, 60);
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err << server_->Log();
    expect += 4;
  }
  if (!python.empty()) {
    const testing::CommandResult run = testing::RunCommand(
        {python, testing::SourceDir() + "/tests/tracing/python_transactions.py",
         project_.dsn},
        {}, 60);
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err << server_->Log();
    expect += 3;
  }
  // The SDKs flush before they exit, but poll rather than assume it.
  EXPECT_TRUE(
      testing::WaitFor([&] { return Sample(Metrics(), stored) == expect; }, 20))
      << Metrics();
  const std::string text = Metrics();
  if (node) {
    EXPECT_EQ(
        Sample(
            text,
            R"(crashctl_transaction_duration_seconds_count{method="GET",project=")" +
                p +
                R"(",service="orders",status="ok",transaction="GET /orders/:id"})"),
        1);
    EXPECT_EQ(
        Sample(
            text,
            R"(crashctl_transaction_duration_seconds_count{method="GET",project=")" +
                p +
                R"(",service="orders",status="internal_error",transaction="<< unparameterized >>"})"),
        1);
  }
  if (!python.empty()) {
    EXPECT_EQ(
        Sample(
            text,
            R"(crashctl_transaction_duration_seconds_count{method="",project=")" +
                p +
                R"(",service="billing",status="internal_error",transaction="charge_card"})"),
        1);
  }
  EXPECT_EQ(StoredTransactions().size(), static_cast<size_t>(expect));
}

TEST_F(TransactionsTest, BucketsRefusalsAndDuplicates) {
  StartServer({{"CRASHCTL_INGEST_MAX_EVENT_BYTES", "4KiB"}});
  const double t0 = 1795387600;  // shifted to now if old; durations kept
  const std::vector<double> durations = {0.004, 0.03, 0.3, 0.3, 7};
  std::vector<std::string> txs;
  for (size_t i = 0; i < durations.size(); ++i) {
    txs.push_back(Tx(std::string(31, 'a') + std::to_string(i), "POST /pay", t0,
                     t0 + durations[i]));
  }
  // One invalid item among them (ends before it starts): skipped, 200.
  txs.push_back(Tx(std::string(32, 'b'), "POST /pay", t0, t0 - 5));
  HttpResult r = server_->Post(EnvelopePath(), EnvelopeOf(txs));
  ASSERT_EQ(r.status, 200) << r.body;
  // The same again: duplicates, observed again, not stored again.
  ASSERT_EQ(server_->Post(EnvelopePath(), EnvelopeOf({txs[0]})).status, 200);
  // /store/ with an invalid one: 400 {"error"}.
  r = server_->Post(project_.StorePath(),
                    R"({"type":"transaction","contexts":{}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"error\""), std::string::npos) << r.body;
  // Larger than ingest.max_event_bytes: 413.
  r = server_->Post(
      project_.StorePath(),
      Tx(std::string(32, 'c'), std::string(150, 'n'), t0, t0 + 1)
          .insert(1, R"("extra":")" + std::string(5000, 'x') + R"(",)"));
  EXPECT_EQ(r.status, 413) << r.body;
  // /store/ with a valid one: 200 with its id.
  r = server_->Post(project_.StorePath(),
                    Tx(std::string(32, 'd'), "GET /x", t0, t0 + 0.2));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(std::string(32, 'd')), std::string::npos);

  const std::string text = Metrics();
  const std::string p = std::to_string(project_.id);
  const std::string l =
      R"(method="POST",project=")" + p +
      R"(",service="api",status="ok",transaction="POST /pay")";
  const std::string b = "crashctl_transaction_duration_seconds_bucket{" + l;
  EXPECT_EQ(Sample(text, b + R"(,le="0.005"})"), 2);  // 4 ms twice
  EXPECT_EQ(Sample(text, b + R"(,le="0.025"})"), 2);
  EXPECT_EQ(Sample(text, b + R"(,le="0.05"})"), 3);
  EXPECT_EQ(Sample(text, b + R"(,le="0.25"})"), 3);
  EXPECT_EQ(Sample(text, b + R"(,le="0.5"})"), 5);
  EXPECT_EQ(Sample(text, b + R"(,le="5"})"), 5);
  EXPECT_EQ(Sample(text, b + R"(,le="10"})"), 6);
  EXPECT_EQ(Sample(text, b + R"(,le="+Inf"})"), 6);
  EXPECT_EQ(
      Sample(text, "crashctl_transaction_duration_seconds_count{" + l + "}"),
      6);
  EXPECT_EQ(
      Sample(text, R"(crashctl_transactions_total{outcome="stored",project=")" +
                       p + R"("})"),
      6);
  EXPECT_EQ(
      Sample(text,
             R"(crashctl_transactions_total{outcome="duplicate",project=")" +
                 p + R"("})"),
      1);
  EXPECT_EQ(
      Sample(text,
             R"(crashctl_transactions_total{outcome="invalid",project=")" + p +
                 R"("})"),
      2);
  EXPECT_EQ(
      Sample(text,
             R"(crashctl_ingest_rejected_total{reason="invalid_transaction"})"),
      2);
  EXPECT_EQ(
      Sample(text, R"(crashctl_ingest_rejected_total{reason="too_large"})"), 1);

  const std::vector<model::StoredTransaction> rows = StoredTransactions();
  EXPECT_EQ(rows.size(), 6u);
}

TEST_F(TransactionsTest, SampleRateZeroStoresNothingButCountsEverything) {
  StartServer({{"CRASHCTL_TRACING_STORE_SAMPLE_RATE", "0"}});
  for (const char* file : kCaptures) {
    ASSERT_EQ(server_->Post(EnvelopePath(), ReadCapture(file)).status, 200);
  }
  const std::string text = Metrics();
  const std::string p = std::to_string(project_.id);
  EXPECT_EQ(
      Sample(text,
             R"(crashctl_transactions_total{outcome="sampled_out",project=")" +
                 p + R"("})"),
      7);
  EXPECT_EQ(
      Sample(text, R"(crashctl_transactions_total{outcome="stored",project=")" +
                       p + R"("})"),
      0);
  EXPECT_EQ(
      Sample(
          text,
          R"(crashctl_transaction_duration_seconds_count{method="GET",project=")" +
              p +
              R"(",service="orders",status="ok",transaction="GET /orders/:id"})"),
      1);
  EXPECT_TRUE(StoredTransactions().empty());
}

TEST_F(TransactionsTest, TracingDisabledCountsItemsAndDropsThem) {
  StartServer({{"CRASHCTL_TRACING_ENABLED", "false"}});
  ASSERT_EQ(
      server_->Post(EnvelopePath(), ReadCapture("node_route.envelope")).status,
      200);
  const std::string text = Metrics();
  EXPECT_EQ(
      Sample(text, R"(crashctl_envelope_items_total{type="transaction"})"), 1);
  EXPECT_EQ(text.find("crashctl_transaction_duration_seconds_count"),
            std::string::npos);
  EXPECT_TRUE(StoredTransactions().empty());
}

TEST_F(TransactionsTest, LabelStateSurvivesARestart) {
  // One name per project: the first admitted keeps its label after a
  // restart, a new name folds into "other".
  const std::map<std::string, std::string> env = {
      {"CRASHCTL_TRACING_MAX_TRANSACTIONS", "1"}};
  StartServer(env);
  ASSERT_EQ(
      server_->Post(EnvelopePath(), ReadCapture("python_task.envelope")).status,
      200);
  ASSERT_EQ(server_->Stop(SIGTERM), 0) << server_->Log();
  StartServer(env);
  ASSERT_EQ(
      server_->Post(EnvelopePath(), ReadCapture("python_continued.envelope"))
          .status,
      200);
  const double t0 = 1795387600;
  ASSERT_EQ(
      server_
          ->Post(
              project_.StorePath(),
              R"({"type":"transaction","event_id":")" + std::string(32, 'e') +
                  R"(","transaction":"charge_card","transaction_info":{"source":"custom"},"tags":{"service":"billing"},"contexts":{"trace":{"trace_id":"0123456789abcdef0123456789abcdef","span_id":"1111111111111111","status":"ok"}},"start_timestamp":)" +
                  std::to_string(t0) + R"(,"timestamp":)" +
                  std::to_string(t0 + 1) + "}")
          .status,
      200);
  const std::string text = Metrics();
  const std::string p = std::to_string(project_.id);
  EXPECT_EQ(
      Sample(
          text,
          R"(crashctl_transaction_duration_seconds_count{method="",project=")" +
              p + R"(",service="billing",status="ok",transaction="other"})"),
      1)
      << text;
  EXPECT_EQ(
      Sample(
          text,
          R"(crashctl_transaction_duration_seconds_count{method="",project=")" +
              p +
              R"(",service="billing",status="ok",transaction="charge_card"})"),
      1);
  EXPECT_EQ(
      Sample(text, R"(crashctl_transaction_label_folds_total{kind="name"})"),
      1);
}

}  // namespace
}  // namespace crashctl
