// The tracing endpoints (issue 17): GET /api/v1/transactions,
// /api/v1/transactions/summary, /api/v1/traces/{trace_id}, and the trace
// ids of event and group JSON; on the FakeStore and on a real SqliteStore.
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "crashctl/rest/rest_api.h"
#include "crashctl/store/sqlite.h"
#include "crashctl/util/time.h"
#include "fake_store.h"
#include "gtest/gtest.h"
#include "rest_test_util.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace rest {
namespace {

using testing::FakeStore;

constexpr char kTrace[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kRootSpan[] = "00f067aa0ba902b7";
constexpr char kDbSpan[] = "00f067aa0ba902b8";
constexpr char kChildTxSpan[] = "00f067aa0ba902b9";

std::string Hex32(int n) {
  std::string id = std::to_string(n);
  return std::string(32 - id.size(), '0') + id;
}

// A trace of two transactions: the frontend's GET /checkout (with one
// db.query span) and the backend's POST /pay continuing that span.
std::vector<model::StoredTransaction> TraceTransactions() {
  model::StoredTransaction front;
  front.project_id = 1;
  front.received = 1795341601;
  tracing::Transaction& a = front.transaction;
  a.event_id = Hex32(1);
  a.trace_id = kTrace;
  a.span_id = kRootSpan;
  a.name = "GET /checkout";
  a.source = "route";
  a.op = "http.server";
  a.status = "internal_error";
  a.method = "GET";
  a.http_status = 500;
  a.start = 1795341600;
  a.end = 1795341600.5;
  a.service = "web";
  a.release = "1.0";
  a.environment = "prod";
  tracing::Span db;
  db.span_id = kDbSpan;
  db.parent_span_id = kRootSpan;
  db.op = "db.query";
  db.description = "SELECT * FROM carts";
  db.status = "ok";
  db.start = 1795341600.1;
  db.end = 1795341600.2;
  a.spans.push_back(db);

  model::StoredTransaction back;
  back.project_id = 1;
  back.received = 1795341601;
  tracing::Transaction& b = back.transaction;
  b.event_id = Hex32(2);
  b.trace_id = kTrace;
  b.span_id = kChildTxSpan;
  b.parent_span_id = kDbSpan;
  b.name = "POST /pay";
  b.source = "route";
  b.op = "http.server";
  b.status = "ok";
  b.method = "POST";
  b.http_status = 200;
  b.start = 1795341600.12;
  b.end = 1795341600.18;
  b.service = "payments";
  return {front, back};
}

// Runs requests against the REST routes on `store`.
class Client {
 public:
  explicit Client(store::Store* store) {
    RestOptions options;
    options.base_url = "http://127.0.0.1:9190";
    RegisterRestRoutes(&router_, store, options);
  }
  rapidjson::Document Expect(int status, const std::string& target) {
    http::HttpRequest request = MakeRequest("GET", target);
    std::string pattern;
    http::HttpResponse response = router_.Dispatch(request, &pattern);
    EXPECT_EQ(response.status, status) << target << " -> " << response.body;
    EXPECT_EQ(response.content_type, "application/json");
    return ParseStrict(response.body);
  }
  void ExpectError(int status, const std::string& target) {
    rapidjson::Document doc = Expect(status, target);
    ASSERT_TRUE(doc.IsObject()) << target;
    ASSERT_TRUE(doc.HasMember("error")) << target;
    EXPECT_TRUE(doc["error"].IsString());
  }

 private:
  http::Router router_;
};

class RestTracingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.transactions = TraceTransactions();
    for (size_t i = 0; i < store_.transactions.size(); ++i) {
      store_.transactions[i].id = static_cast<int64_t>(i) + 1;
    }
    model::Group group;
    group.id = 10;
    group.project_id = 1;
    group.title = "Error: card declined";
    group.status = model::GroupStatus::kUnresolved;
    group.count = 3;
    store_.groups.push_back(group);
    model::StoredEvent error;
    error.event_id = Hex32(100);
    error.project_id = 1;
    error.group_id = 10;
    error.timestamp = 1795341600.15;
    error.title = "Error: card declined";
    error.trace_id = kTrace;
    error.span_id = kChildTxSpan;
    error.payload = "{}";
    store_.events.push_back(error);
    model::StoredEvent unlinked = error;
    unlinked.event_id = Hex32(101);
    unlinked.trace_id.clear();
    unlinked.span_id.clear();
    store_.events.push_back(unlinked);
  }

  FakeStore store_;
  Client client_{&store_};
};

TEST_F(RestTracingTest, ListTransactionsRendersEveryField) {
  rapidjson::Document doc = client_.Expect(200, "/api/v1/transactions");
  ASSERT_TRUE(doc["items"].IsArray());
  ASSERT_EQ(doc["items"].Size(), 2u);
  EXPECT_TRUE(doc["next_cursor"].IsNull());
  const rapidjson::Value& t =
      doc["items"][1];  // the fake: newest written first
  EXPECT_EQ(Str(t["event_id"]), Hex32(1));
  EXPECT_EQ(t["project_id"].GetInt64(), 1);
  EXPECT_EQ(Str(t["trace_id"]), kTrace);
  EXPECT_EQ(Str(t["span_id"]), kRootSpan);
  EXPECT_TRUE(t["parent_span_id"].IsNull());
  EXPECT_EQ(Str(t["transaction"]), "GET /checkout");
  EXPECT_EQ(Str(t["source"]), "route");
  EXPECT_EQ(Str(t["op"]), "http.server");
  EXPECT_EQ(Str(t["status"]), "internal_error");
  EXPECT_EQ(Str(t["method"]), "GET");
  EXPECT_EQ(t["http_status"].GetInt(), 500);
  EXPECT_EQ(Str(t["service"]), "web");
  EXPECT_EQ(Str(t["release"]), "1.0");
  EXPECT_EQ(Str(t["environment"]), "prod");
  EXPECT_EQ(Str(t["start_timestamp"]), "2026-11-22T10:00:00.000Z");
  EXPECT_EQ(Str(t["timestamp"]), "2026-11-22T10:00:00.500Z");
  EXPECT_DOUBLE_EQ(t["duration"].GetDouble(), 0.5);
  EXPECT_EQ(t.MemberCount(), 17u);
  EXPECT_EQ(Str(doc["items"][0]["parent_span_id"]), kDbSpan);
}

TEST_F(RestTracingTest, ListTransactionsPassesFiltersToStore) {
  client_.Expect(200,
                 "/api/v1/transactions?project=1&service=web&transaction=GET%20"
                 "%2Fcheckout&status=internal_error&min_duration=0.25&since="
                 "1795341000&sort=duration&limit=5&cursor=off:0");
  ASSERT_TRUE(store_.last_transaction_query.has_value());
  const store::TransactionQuery& q = *store_.last_transaction_query;
  EXPECT_EQ(q.project, 1);
  EXPECT_EQ(q.service, "web");
  EXPECT_EQ(q.transaction, "GET /checkout");
  EXPECT_EQ(q.status, "internal_error");
  EXPECT_DOUBLE_EQ(q.min_duration, 0.25);
  EXPECT_DOUBLE_EQ(q.since, 1795341000);
  EXPECT_EQ(q.sort, "duration");
  EXPECT_EQ(q.limit, 5);
  EXPECT_EQ(q.cursor, "off:0");

  rapidjson::Document doc = client_.Expect(200, "/api/v1/transactions?limit=1");
  ASSERT_EQ(doc["items"].Size(), 1u);
  EXPECT_EQ(Str(doc["next_cursor"]), "off:1");
}

TEST_F(RestTracingTest, ListTransactionsRejectsBadParameters) {
  for (const char* target :
       {"/api/v1/transactions?project=0", "/api/v1/transactions?project=x",
        "/api/v1/transactions?status=broken", "/api/v1/transactions?status=OK",
        "/api/v1/transactions?min_duration=-1",
        "/api/v1/transactions?min_duration=abc",
        "/api/v1/transactions?min_duration=", "/api/v1/transactions?since=soon",
        "/api/v1/transactions?sort=name", "/api/v1/transactions?limit=0",
        "/api/v1/transactions?limit=1001", "/api/v1/transactions?cursor=bad"}) {
    client_.ExpectError(400, target);
  }
  client_.ExpectError(400,
                      "/api/v1/transactions?service=" + std::string(300, 'a'));
  store_.fail_next = Status(Status::Code::kUnavailable, "disk full");
  client_.ExpectError(503, "/api/v1/transactions");
}

TEST_F(RestTracingTest, SummaryPerTransactionName) {
  store_.transactions.clear();
  const double now = util::NowSeconds();
  // 10 of GET /a lasting 1..10 s (one failed), 2 of GET /b.
  for (int i = 1; i <= 10; ++i) {
    model::StoredTransaction t;
    t.project_id = 1;
    t.transaction.event_id = Hex32(i);
    t.transaction.name = "GET /a";
    t.transaction.status = i == 3 ? "deadline_exceeded" : "ok";
    t.transaction.end = now - 60;
    t.transaction.start = t.transaction.end - i;
    store_.transactions.push_back(t);
  }
  for (int i = 0; i < 2; ++i) {
    model::StoredTransaction t;
    t.project_id = 1;
    t.transaction.event_id = Hex32(50 + i);
    t.transaction.name = "GET /b";
    t.transaction.status = i == 0 ? "cancelled" : "unknown";
    t.transaction.end = now - 30;
    t.transaction.start = t.transaction.end - 0.25;
    store_.transactions.push_back(t);
  }
  rapidjson::Document doc =
      client_.Expect(200, "/api/v1/transactions/summary?project=1");
  ASSERT_EQ(doc["items"].Size(), 2u);
  const rapidjson::Value& a = doc["items"][0];
  EXPECT_EQ(Str(a["transaction"]), "GET /a");
  EXPECT_EQ(a["count"].GetUint64(), 10u);
  EXPECT_DOUBLE_EQ(a["error_ratio"].GetDouble(), 0.1);
  EXPECT_DOUBLE_EQ(a["p50"].GetDouble(), 5);
  EXPECT_DOUBLE_EQ(a["p95"].GetDouble(), 10);
  EXPECT_DOUBLE_EQ(a["p99"].GetDouble(), 10);
  const rapidjson::Value& b = doc["items"][1];
  EXPECT_EQ(Str(b["transaction"]), "GET /b");
  EXPECT_DOUBLE_EQ(b["error_ratio"].GetDouble(), 0);  // cancelled, unknown
  EXPECT_DOUBLE_EQ(b["p50"].GetDouble(), 0.25);
  EXPECT_FALSE(doc["truncated"].GetBool());
  ASSERT_TRUE(doc["since"].IsString());
  ASSERT_TRUE(doc["until"].IsString());
  // The default window: the last hour.
  const store::TransactionQuery& q = *store_.last_transaction_query;
  EXPECT_NEAR(q.until - q.since, 3600, 1e-6);
  EXPECT_NEAR(q.until, now, 60);
  EXPECT_EQ(q.project, 1);
  EXPECT_GT(store_.last_samples_max_rows, 0u);
  EXPECT_LE(store_.last_samples_max_rows, 100000u);

  // limit bounds the names; a window before the data holds none.
  doc = client_.Expect(200, "/api/v1/transactions/summary?limit=1");
  EXPECT_EQ(doc["items"].Size(), 1u);
  doc =
      client_.Expect(200, "/api/v1/transactions/summary?since=1000&until=2000");
  EXPECT_EQ(doc["items"].Size(), 0u);
  EXPECT_EQ(Str(doc["since"]), "1970-01-01T00:16:40.000Z");
  EXPECT_EQ(Str(doc["until"]), "1970-01-01T00:33:20.000Z");

  for (const char* target :
       {"/api/v1/transactions/summary?since=2000&until=1000",
        "/api/v1/transactions/summary?until=later",
        "/api/v1/transactions/summary?since=x",
        "/api/v1/transactions/summary?project=-1",
        "/api/v1/transactions/summary?limit=0"}) {
    client_.ExpectError(400, target);
  }
}

TEST_F(RestTracingTest, SummarySaysWhenRowsWereCut) {
  const double now = util::NowSeconds();
  store_.transactions.clear();
  for (int i = 0; i < 100001; ++i) {
    model::StoredTransaction t;
    t.transaction.event_id = Hex32(i);
    t.transaction.name = "GET /busy";
    t.transaction.status = "ok";
    t.transaction.end = now - 1;
    t.transaction.start = now - 2;
    store_.transactions.push_back(std::move(t));
  }
  rapidjson::Document doc = client_.Expect(200, "/api/v1/transactions/summary");
  EXPECT_TRUE(doc["truncated"].GetBool());
  ASSERT_EQ(doc["items"].Size(), 1u);
  EXPECT_EQ(doc["items"][0]["count"].GetUint64(), 100000u);
}

TEST_F(RestTracingTest, TraceIsATreeWithItsErrorsAndGroups) {
  rapidjson::Document doc =
      client_.Expect(200, std::string("/api/v1/traces/") + kTrace);
  EXPECT_EQ(Str(doc["trace_id"]), kTrace);
  EXPECT_EQ(doc["transactions"].GetUint64(), 2u);
  const rapidjson::Value& nodes = doc["nodes"];
  ASSERT_EQ(nodes.Size(), 3u);
  // Pre-order: GET /checkout, its db.query span, POST /pay under that span.
  EXPECT_EQ(Str(nodes[0]["kind"]), "transaction");
  EXPECT_EQ(Str(nodes[0]["transaction"]), "GET /checkout");
  EXPECT_EQ(Str(nodes[0]["span_id"]), kRootSpan);
  EXPECT_TRUE(nodes[0]["parent"].IsNull());
  EXPECT_TRUE(nodes[0]["parent_span_id"].IsNull());
  EXPECT_TRUE(nodes[0]["description"].IsNull());
  EXPECT_EQ(nodes[0]["depth"].GetUint64(), 0u);
  ASSERT_EQ(nodes[0]["children"].Size(), 1u);
  EXPECT_EQ(nodes[0]["children"][0].GetUint64(), 1u);
  EXPECT_EQ(Str(nodes[1]["kind"]), "span");
  EXPECT_EQ(Str(nodes[1]["event_id"]), Hex32(1));
  EXPECT_EQ(Str(nodes[1]["op"]), "db.query");
  EXPECT_EQ(Str(nodes[1]["description"]), "SELECT * FROM carts");
  EXPECT_EQ(Str(nodes[1]["parent_span_id"]), kRootSpan);
  EXPECT_EQ(nodes[1]["parent"].GetUint64(), 0u);
  EXPECT_EQ(nodes[1]["depth"].GetUint64(), 1u);
  EXPECT_NEAR(nodes[1]["duration"].GetDouble(), 0.1, 1e-6);
  EXPECT_EQ(Str(nodes[1]["start_timestamp"]), "2026-11-22T10:00:00.100Z");
  EXPECT_EQ(Str(nodes[2]["kind"]), "transaction");
  EXPECT_EQ(Str(nodes[2]["transaction"]), "POST /pay");
  EXPECT_EQ(Str(nodes[2]["status"]), "ok");
  EXPECT_EQ(nodes[2]["parent"].GetUint64(), 1u);
  EXPECT_EQ(nodes[2]["depth"].GetUint64(), 2u);
  EXPECT_EQ(nodes[2]["children"].Size(), 0u);
  ASSERT_EQ(doc["roots"].Size(), 1u);
  EXPECT_EQ(doc["roots"][0].GetUint64(), 0u);
  for (const auto& node : nodes.GetArray()) EXPECT_EQ(node.MemberCount(), 14u);

  // The error of the trace, on the node of its span, and its group.
  ASSERT_EQ(doc["errors"].Size(), 1u);
  const rapidjson::Value& error = doc["errors"][0];
  EXPECT_EQ(Str(error["event_id"]), Hex32(100));
  EXPECT_EQ(error["group_id"].GetInt64(), 10);
  EXPECT_EQ(Str(error["title"]), "Error: card declined");
  EXPECT_EQ(Str(error["span_id"]), kChildTxSpan);
  EXPECT_EQ(error["node"].GetUint64(), 2u);
  EXPECT_EQ(Str(error["timestamp"]), "2026-11-22T10:00:00.150Z");
  ASSERT_EQ(doc["groups"].Size(), 1u);
  EXPECT_EQ(doc["groups"][0]["id"].GetInt64(), 10);
  EXPECT_EQ(Str(doc["groups"][0]["title"]), "Error: card declined");
  EXPECT_EQ(Str(doc["groups"][0]["status"]), "unresolved");
  EXPECT_EQ(doc["groups"][0]["count"].GetInt64(), 3);
  EXPECT_GT(store_.last_trace_limit, 0u);
  EXPECT_LE(store_.last_trace_limit, 1000u);

  // Upper case is the same trace.
  std::string upper = kTrace;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  doc = client_.Expect(200, "/api/v1/traces/" + upper);
  EXPECT_EQ(Str(doc["trace_id"]), kTrace);
}

TEST_F(RestTracingTest, TraceOfOnlyErrorsAndUnknownTraces) {
  store_.transactions.clear();
  rapidjson::Document doc =
      client_.Expect(200, std::string("/api/v1/traces/") + kTrace);
  EXPECT_EQ(doc["nodes"].Size(), 0u);
  ASSERT_EQ(doc["errors"].Size(), 1u);
  EXPECT_TRUE(doc["errors"][0]["node"].IsNull());
  client_.ExpectError(404, "/api/v1/traces/" + Hex32(7));
  client_.ExpectError(400, "/api/v1/traces/xyz");
  client_.ExpectError(400, "/api/v1/traces/" + std::string(32, 'g'));
  client_.ExpectError(400,
                      "/api/v1/traces/4bf92f35-77b3-4da6-a3ce-929d0e0e4736");
  store_.fail_next = Status(Status::Code::kUnavailable, "disk full");
  client_.ExpectError(503, std::string("/api/v1/traces/") + kTrace);
}

TEST_F(RestTracingTest, EventsAndGroupsCarryTraceIds) {
  rapidjson::Document doc = client_.Expect(200, "/api/v1/events/" + Hex32(100));
  EXPECT_EQ(Str(doc["trace_id"]), kTrace);
  EXPECT_EQ(Str(doc["span_id"]), kChildTxSpan);
  doc = client_.Expect(200, "/api/v1/events/" + Hex32(101));
  EXPECT_TRUE(doc["trace_id"].IsNull());
  EXPECT_TRUE(doc["span_id"].IsNull());

  doc = client_.Expect(200, "/api/v1/groups/10");
  ASSERT_TRUE(doc["traces"].IsArray());
  ASSERT_EQ(doc["traces"].Size(), 1u);
  EXPECT_EQ(Str(doc["traces"][0]), kTrace);
  doc = client_.Expect(200, "/api/v1/groups");
  ASSERT_EQ(doc["items"].Size(), 1u);
  EXPECT_EQ(Str(doc["items"][0]["traces"][0]), kTrace);
  doc = client_.Expect(200, "/api/v1/groups/10/events");
  ASSERT_EQ(doc["items"].Size(), 2u);
}

// The same endpoints on the real store: what ingestion writes is what the
// API serves.
TEST(RestTracingSqliteTest, ServesWhatTheStoreHolds) {
  ::crashctl::testing::TempDir dir("rest-tracing-test");
  std::string error;
  std::unique_ptr<store::Store> store =
      store::OpenSqlite(dir.File("crashctl.db"), &error);
  ASSERT_NE(store, nullptr) << error;
  model::Project project;
  ASSERT_TRUE(store->CreateProject("shop", &project).ok());
  std::vector<model::StoredTransaction> txs = TraceTransactions();
  const double now = util::NowSeconds();
  for (model::StoredTransaction& t : txs) {
    t.project_id = project.id;
    // Within the summary's default window.
    const double shift = now - 120 - t.transaction.start;
    t.transaction.start += shift;
    t.transaction.end += shift;
    for (tracing::Span& s : t.transaction.spans) {
      s.start += shift;
      s.end += shift;
    }
  }
  std::vector<bool> stored;
  ASSERT_TRUE(store->WriteTransactions(txs, &stored).ok());
  ASSERT_EQ(stored, (std::vector<bool>{true, true}));
  model::WriteItem item;
  item.event.event_id = Hex32(100);
  item.event.project_id = project.id;
  item.event.timestamp = now - 119;
  item.event.received = now - 119;
  item.event.trace_id = kTrace;
  item.event.span_id = kDbSpan;
  item.event.raw_json = "{}";
  item.grouping.fingerprint = "card";
  item.grouping.title = "Error: card declined";
  std::vector<model::WriteOutcome> outcomes;
  ASSERT_TRUE(store->WriteEvents({item}, &outcomes).ok());
  Client client(store.get());

  rapidjson::Document doc =
      client.Expect(200, "/api/v1/transactions?sort=duration&limit=1");
  ASSERT_EQ(doc["items"].Size(), 1u);
  EXPECT_EQ(Str(doc["items"][0]["transaction"]), "GET /checkout");
  ASSERT_TRUE(doc["next_cursor"].IsString());
  doc = client.Expect(200, "/api/v1/transactions?sort=duration&cursor=" +
                               Str(doc["next_cursor"]));
  ASSERT_EQ(doc["items"].Size(), 1u);
  EXPECT_EQ(Str(doc["items"][0]["transaction"]), "POST /pay");
  EXPECT_TRUE(doc["next_cursor"].IsNull());
  client.ExpectError(400, "/api/v1/transactions?cursor=off:1");

  doc = client.Expect(200, "/api/v1/transactions/summary?project=" +
                               std::to_string(project.id));
  ASSERT_EQ(doc["items"].Size(), 2u);
  EXPECT_EQ(doc["items"][0]["count"].GetUint64(), 1u);
  std::set<std::string> names;
  for (const auto& it : doc["items"].GetArray()) {
    names.insert(Str(it["transaction"]));
    if (Str(it["transaction"]) == "GET /checkout") {
      EXPECT_DOUBLE_EQ(it["error_ratio"].GetDouble(), 1);
      EXPECT_NEAR(it["p99"].GetDouble(), 0.5, 1e-6);
    }
  }
  EXPECT_EQ(names, (std::set<std::string>{"GET /checkout", "POST /pay"}));

  doc = client.Expect(200, std::string("/api/v1/traces/") + kTrace);
  ASSERT_EQ(doc["nodes"].Size(), 3u);
  EXPECT_EQ(Str(doc["nodes"][2]["transaction"]), "POST /pay");
  EXPECT_EQ(doc["nodes"][2]["parent"].GetUint64(), 1u);
  ASSERT_EQ(doc["errors"].Size(), 1u);
  EXPECT_EQ(doc["errors"][0]["node"].GetUint64(), 1u);  // the db.query span
  ASSERT_EQ(doc["groups"].Size(), 1u);
  EXPECT_EQ(doc["groups"][0]["id"].GetInt64(), outcomes[0].group_id);
  EXPECT_EQ(doc["groups"][0]["count"].GetInt64(), 1);

  doc = client.Expect(200,
                      "/api/v1/groups/" + std::to_string(outcomes[0].group_id));
  ASSERT_EQ(doc["traces"].Size(), 1u);
  EXPECT_EQ(Str(doc["traces"][0]), kTrace);
  doc = client.Expect(200, "/api/v1/events/" + Hex32(100));
  EXPECT_EQ(Str(doc["span_id"]), kDbSpan);
  client.ExpectError(404, "/api/v1/traces/" + Hex32(9));
}

}  // namespace
}  // namespace rest
}  // namespace crashctl
