// Store transactions (issue 17) on both backends (tests/store/
// backend_fixture.h): writing with duplicates, spans round trip, listing with
// filters, sorts and cursors, samples, traces, the error events of a trace,
// retention, and the saved tracing labels.
#include <gtest/gtest.h>

#include <cstdio>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "crashctl/store/retention.h"
#include "crashctl/util/time.h"
#include "tests/store/backend_fixture.h"
#include "tests/store/store_test_util.h"

namespace crashctl {
namespace store {
namespace {

using testing_util::EventId;
using testing_util::MakeItem;

std::string TraceId(int n) {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%031x%c", n, 'a');
  return buf;
}

std::string SpanId(int n) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016x", n);
  return buf;
}

model::StoredTransaction MakeTx(int64_t project, int n, const std::string& name,
                                double start, double duration,
                                const std::string& status = "ok",
                                int trace = 1) {
  model::StoredTransaction stored;
  stored.project_id = project;
  stored.received = start + duration + 0.25;
  tracing::Transaction& tx = stored.transaction;
  tx.event_id = EventId(1000 + n);
  tx.trace_id = TraceId(trace);
  tx.span_id = SpanId(n);
  tx.name = name;
  tx.source = "route";
  tx.op = "http.server";
  tx.status = status;
  tx.method = "GET";
  tx.http_status = status == "ok" ? 200 : 500;
  tx.start = start;
  tx.end = start + duration;
  tx.release = "r1";
  tx.environment = "prod";
  tx.service = "api";
  tx.platform = "node";
  tx.time_shift = 0;
  return stored;
}

class TransactionStoreTest : public testing_util::BackendStoreTest {
 protected:
  std::vector<bool> WriteTx(const std::vector<model::StoredTransaction>& txs) {
    std::vector<bool> stored;
    Status status = store_->WriteTransactions(txs, &stored);
    EXPECT_TRUE(status.ok()) << status.message();
    return stored;
  }
};
CRASHCTL_STORE_BACKENDS(TransactionStoreTest);

TEST_P(TransactionStoreTest, WritesSkipsDuplicatesAndReadsBackSpans) {
  model::StoredTransaction tx = MakeTx(project_.id, 1, "GET /a", 100, 0.5);
  tx.transaction.spans_cut = 3;
  tx.transaction.spans_invalid = 1;
  tx.transaction.time_shift = -2.5;
  for (int i = 0; i < 20; ++i) {
    tracing::Span span;
    span.span_id = SpanId(100 + i);
    span.parent_span_id = i == 0 ? tx.transaction.span_id : SpanId(100);
    span.op = "db.query";
    span.description = "SELECT \"x\" FROM t WHERE id = " + std::to_string(i);
    span.status = "ok";
    span.start = 100.0 + i * 0.01;
    span.end = span.start + 0.005;
    tx.transaction.spans.push_back(span);
  }
  model::StoredTransaction other = MakeTx(project_.id, 2, "GET /b", 101, 1);
  // The same event id in the batch twice, and in another project.
  model::Project second;
  ASSERT_TRUE(store_->CreateProject("second", &second).ok());
  model::StoredTransaction elsewhere = tx;
  elsewhere.project_id = second.id;
  std::vector<bool> stored = WriteTx({tx, other, tx, elsewhere});
  EXPECT_EQ(stored, (std::vector<bool>{true, true, false, true}));
  stored = WriteTx({tx});
  EXPECT_EQ(stored, (std::vector<bool>{false}));
  EXPECT_EQ(QueryCount("SELECT count(*) FROM transactions"), 3);
  // The spans column is compressed: not the JSON text.
  EXPECT_EQ(QueryCount(postgres() ? "SELECT count(*) FROM transactions WHERE "
                                    "position('db.query'::bytea in spans) = 0"
                                  : "SELECT count(*) FROM transactions WHERE "
                                    "typeof(spans) = 'blob' AND "
                                    "instr(spans, 'db.query') = 0"),
            2);

  std::vector<model::StoredTransaction> trace;
  ASSERT_TRUE(
      store_->GetTraceTransactions(tx.transaction.trace_id, 10, &trace).ok());
  ASSERT_EQ(trace.size(), 3u);  // by start: tx (2 projects), then other
  const model::StoredTransaction& got = trace[0];
  EXPECT_GT(got.id, 0);
  EXPECT_EQ(got.project_id, project_.id);
  EXPECT_DOUBLE_EQ(got.received, tx.received);
  const tracing::Transaction& t = got.transaction;
  EXPECT_EQ(t.event_id, tx.transaction.event_id);
  EXPECT_EQ(t.trace_id, tx.transaction.trace_id);
  EXPECT_EQ(t.span_id, tx.transaction.span_id);
  EXPECT_EQ(t.name, "GET /a");
  EXPECT_EQ(t.source, "route");
  EXPECT_EQ(t.op, "http.server");
  EXPECT_EQ(t.status, "ok");
  EXPECT_EQ(t.method, "GET");
  EXPECT_EQ(t.http_status, 200);
  EXPECT_DOUBLE_EQ(t.start, 100);
  EXPECT_DOUBLE_EQ(t.end, 100.5);
  EXPECT_EQ(t.release, "r1");
  EXPECT_EQ(t.environment, "prod");
  EXPECT_EQ(t.service, "api");
  EXPECT_EQ(t.platform, "node");
  EXPECT_EQ(t.spans_cut, 3u);
  EXPECT_EQ(t.spans_invalid, 1u);
  EXPECT_DOUBLE_EQ(t.time_shift, -2.5);
  ASSERT_EQ(t.spans.size(), 20u);
  for (size_t i = 0; i < t.spans.size(); ++i) {
    const tracing::Span& want = tx.transaction.spans[i];
    EXPECT_EQ(t.spans[i].span_id, want.span_id);
    EXPECT_EQ(t.spans[i].parent_span_id, want.parent_span_id);
    EXPECT_EQ(t.spans[i].op, want.op);
    EXPECT_EQ(t.spans[i].description, want.description);
    EXPECT_EQ(t.spans[i].status, want.status);
    EXPECT_DOUBLE_EQ(t.spans[i].start, want.start);
    EXPECT_DOUBLE_EQ(t.spans[i].end, want.end);
  }
  EXPECT_TRUE(trace[2].transaction.spans.empty());
  EXPECT_EQ(trace[2].transaction.name, "GET /b");

  // Bounded, and empty for an unknown trace.
  ASSERT_TRUE(
      store_->GetTraceTransactions(tx.transaction.trace_id, 1, &trace).ok());
  EXPECT_EQ(trace.size(), 1u);
  ASSERT_TRUE(store_->GetTraceTransactions(TraceId(99), 10, &trace).ok());
  EXPECT_TRUE(trace.empty());
}

// A trace read decodes at most kMaxTraceSpans (20,000) spans in all: anyone
// with a DSN can send 1,000 transactions of 1,000 spans under one trace id,
// which decoded whole would take more than a gigabyte. Transactions past the
// budget come back without spans, counted in spans_cut.
TEST_P(TransactionStoreTest, TraceReadDecodesBoundedSpans) {
  constexpr int kTransactions = 25;
  constexpr int kSpans = 1000;
  std::vector<model::StoredTransaction> txs;
  for (int n = 0; n < kTransactions; ++n) {
    model::StoredTransaction tx = MakeTx(project_.id, n, "GET /a", 100 + n, 1);
    tx.transaction.spans_cut = 2;
    for (int i = 0; i < kSpans; ++i) {
      tracing::Span span;
      span.span_id = SpanId(100000 + n * kSpans + i);
      span.parent_span_id = tx.transaction.span_id;
      span.op = "db.query";
      span.start = 100 + n;
      span.end = span.start + 0.001;
      tx.transaction.spans.push_back(span);
    }
    txs.push_back(std::move(tx));
  }
  WriteTx(txs);
  std::vector<model::StoredTransaction> trace;
  ASSERT_TRUE(store_->GetTraceTransactions(TraceId(1), 0, &trace).ok());
  ASSERT_EQ(trace.size(), static_cast<size_t>(kTransactions));
  size_t decoded = 0;
  for (size_t n = 0; n < trace.size(); ++n) {
    const tracing::Transaction& t = trace[n].transaction;
    decoded += t.spans.size();
    if (n < 20) {
      EXPECT_EQ(t.spans.size(), static_cast<size_t>(kSpans)) << n;
      EXPECT_EQ(t.spans_cut, 2u) << n;
    } else {
      EXPECT_TRUE(t.spans.empty()) << n;
      EXPECT_EQ(t.spans_cut, 2u + kSpans) << n;
    }
  }
  EXPECT_EQ(decoded, 20000u);
}

// PrepareTransactionWrite encodes the spans on the caller's thread; what
// is stored is the same as when WriteTransactions encodes them itself.
TEST_P(TransactionStoreTest, PreparedSpansAreStoredAsTheStoreWouldEncodeThem) {
  model::StoredTransaction plain = MakeTx(project_.id, 1, "GET /a", 100, 0.5);
  for (int i = 0; i < 20; ++i) {
    tracing::Span span;
    span.span_id = SpanId(100 + i);
    span.parent_span_id = plain.transaction.span_id;
    span.op = "db.query";
    span.description = "SELECT " + std::to_string(i);
    span.status = i == 3 ? "internal_error" : "ok";
    span.start = 100.0 + i * 0.01;
    span.end = span.start + 0.005;
    plain.transaction.spans.push_back(span);
  }
  model::Project second;
  ASSERT_TRUE(store_->CreateProject("second", &second).ok());
  model::StoredTransaction prepared = plain;
  prepared.project_id = second.id;
  store_->PrepareTransactionWrite(&prepared);
  EXPECT_TRUE(prepared.spans_encoded);
  EXPECT_TRUE(prepared.transaction.spans.empty());  // released
  EXPECT_EQ(prepared.encoded_span_count, 20u);
  EXPECT_FALSE(prepared.encoded_spans.empty());
  // A transaction without spans stores NULL either way.
  model::StoredTransaction bare = MakeTx(project_.id, 2, "GET /b", 101, 1);
  store_->PrepareTransactionWrite(&bare);
  EXPECT_TRUE(bare.spans_encoded);
  EXPECT_TRUE(bare.encoded_spans.empty());

  EXPECT_EQ(WriteTx({plain, prepared, bare}),
            (std::vector<bool>{true, true, true}));
  EXPECT_EQ(QueryCount("SELECT count(DISTINCT spans) FROM transactions "
                       "WHERE span_count = 20"),
            1);
  EXPECT_EQ(QueryCount("SELECT count(*) FROM transactions WHERE spans IS NULL "
                       "AND span_count = 0"),
            1);
  std::vector<model::StoredTransaction> trace;
  ASSERT_TRUE(
      store_->GetTraceTransactions(plain.transaction.trace_id, 10, &trace)
          .ok());
  ASSERT_EQ(trace.size(), 3u);
  ASSERT_EQ(trace[0].transaction.spans.size(), 20u);
  ASSERT_EQ(trace[1].transaction.spans.size(), 20u);
  for (size_t i = 0; i < 20; ++i) {
    const tracing::Span& a = trace[0].transaction.spans[i];
    const tracing::Span& b = trace[1].transaction.spans[i];
    EXPECT_EQ(a.span_id, b.span_id);
    EXPECT_EQ(a.description, b.description);
    EXPECT_EQ(a.status, b.status);
    EXPECT_DOUBLE_EQ(a.end, b.end);
  }
}

TEST_P(TransactionStoreTest, NonFiniteTimesDoNotFailTheBatch) {
  model::StoredTransaction tx = MakeTx(project_.id, 1, "GET /a", 100, 1);
  tx.transaction.end = std::numeric_limits<double>::quiet_NaN();
  std::vector<bool> stored = WriteTx({tx});
  EXPECT_EQ(stored, (std::vector<bool>{true}));
}

TEST_P(TransactionStoreTest, ListsWithFiltersSortsAndCursors) {
  std::vector<model::StoredTransaction> txs;
  for (int i = 0; i < 30; ++i) {
    model::StoredTransaction tx =
        MakeTx(project_.id, i, i % 2 == 0 ? "GET /even" : "GET /odd", 1000 + i,
               0.1 * (i % 7 + 1), i % 5 == 0 ? "internal_error" : "ok");
    if (i % 3 == 0) tx.transaction.service = "worker";
    txs.push_back(tx);
  }
  WriteTx(txs);

  // Newest first by end, pages of 7 with cursors, no duplicates.
  TransactionQuery query;
  query.limit = 7;
  std::set<std::string> seen;
  double last_end = 1e18;
  for (int page_no = 0; page_no < 10; ++page_no) {
    model::Page<model::StoredTransaction> page;
    ASSERT_TRUE(store_->ListTransactions(query, &page).ok());
    for (const auto& item : page.items) {
      EXPECT_LE(item.transaction.end, last_end);
      last_end = item.transaction.end;
      EXPECT_TRUE(seen.insert(item.transaction.event_id).second);
      EXPECT_TRUE(item.transaction.spans.empty());
    }
    if (page.next_cursor.empty()) break;
    query.cursor = page.next_cursor;
  }
  EXPECT_EQ(seen.size(), 30u);

  // By duration, descending, ties by id, across pages.
  query = TransactionQuery();
  query.sort = "duration";
  query.limit = 4;
  seen.clear();
  double last_duration = 1e18;
  for (int page_no = 0; page_no < 20; ++page_no) {
    model::Page<model::StoredTransaction> page;
    ASSERT_TRUE(store_->ListTransactions(query, &page).ok());
    for (const auto& item : page.items) {
      EXPECT_LE(item.transaction.duration(), last_duration + 1e-12);
      last_duration = item.transaction.duration();
      EXPECT_TRUE(seen.insert(item.transaction.event_id).second);
    }
    if (page.next_cursor.empty()) break;
    query.cursor = page.next_cursor;
  }
  EXPECT_EQ(seen.size(), 30u);

  // Filters.
  query = TransactionQuery();
  query.project = project_.id;
  query.transaction = "GET /even";
  query.status = "internal_error";
  query.service = "worker";  // even, i % 5 == 0 and i % 3 == 0: i = 0
  model::Page<model::StoredTransaction> page;
  ASSERT_TRUE(store_->ListTransactions(query, &page).ok());
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].transaction.event_id, EventId(1000));

  query = TransactionQuery();
  query.min_duration = 0.65;  // i % 7 == 6: i = 6, 13, 20, 27
  query.since = 1010;         // end >= 1010
  ASSERT_TRUE(store_->ListTransactions(query, &page).ok());
  ASSERT_EQ(page.items.size(), 3u);
  for (const auto& item : page.items) {
    EXPECT_GE(item.transaction.duration(), 0.65);
    EXPECT_GE(item.transaction.end, 1010);
  }
  query.project = project_.id + 100;
  ASSERT_TRUE(store_->ListTransactions(query, &page).ok());
  EXPECT_TRUE(page.items.empty());

  // Bad arguments.
  query = TransactionQuery();
  query.sort = "name";
  EXPECT_EQ(store_->ListTransactions(query, &page).code(),
            Status::Code::kInvalid);
  query = TransactionQuery();
  query.status = "broken";
  EXPECT_EQ(store_->ListTransactions(query, &page).code(),
            Status::Code::kInvalid);
  query = TransactionQuery();
  query.cursor = "garbage!";
  EXPECT_EQ(store_->ListTransactions(query, &page).code(),
            Status::Code::kInvalid);
  // A cursor made for the other sort.
  query = TransactionQuery();
  query.limit = 1;
  ASSERT_TRUE(store_->ListTransactions(query, &page).ok());
  query.cursor = page.next_cursor;
  query.sort = "duration";
  EXPECT_EQ(store_->ListTransactions(query, &page).code(),
            Status::Code::kInvalid);
}

TEST_P(TransactionStoreTest, SamplesAreBoundedAndFiltered) {
  std::vector<model::StoredTransaction> txs;
  for (int i = 0; i < 10; ++i) {
    txs.push_back(MakeTx(project_.id, i, "GET /x", 100 + i, i + 1,
                         i == 9 ? "internal_error" : "ok"));
  }
  WriteTx(txs);
  TransactionQuery query;
  std::vector<tracing::NamedSample> samples;
  bool truncated = true;
  ASSERT_TRUE(
      store_->TransactionSamples(query, 100, &samples, &truncated).ok());
  EXPECT_FALSE(truncated);
  ASSERT_EQ(samples.size(), 10u);
  EXPECT_EQ(samples[0].transaction, "GET /x");
  EXPECT_DOUBLE_EQ(samples[0].duration, 10);  // newest first
  EXPECT_EQ(samples[0].status, "internal_error");
  const auto summary = tracing::SummarizeByTransaction(samples);
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_DOUBLE_EQ(summary[0].summary.p50, 5);
  EXPECT_DOUBLE_EQ(summary[0].summary.error_ratio, 0.1);

  ASSERT_TRUE(store_->TransactionSamples(query, 4, &samples, &truncated).ok());
  EXPECT_TRUE(truncated);
  EXPECT_EQ(samples.size(), 4u);

  // A window on the end (101 + 2i): [107, 119) holds i = 3..8.
  query.since = 107;
  query.until = 119;
  ASSERT_TRUE(
      store_->TransactionSamples(query, 100, &samples, &truncated).ok());
  EXPECT_EQ(samples.size(), 6u);  // ends 107, 109, ..., 117
}

TEST_P(TransactionStoreTest, TraceEventsCarryTheirTraceContext) {
  model::WriteItem linked = MakeItem(project_.id, 1, "fp", 100);
  linked.event.trace_id = TraceId(7);
  linked.event.span_id = SpanId(3);
  model::WriteItem later = MakeItem(project_.id, 2, "fp2", 200);
  later.event.trace_id = TraceId(7);
  model::WriteItem unlinked = MakeItem(project_.id, 3, "fp", 300);
  Write({linked, later, unlinked});

  std::vector<model::StoredEvent> events;
  ASSERT_TRUE(store_->ListTraceEvents(TraceId(7), 10, &events).ok());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event_id, EventId(2));  // newest first
  EXPECT_EQ(events[1].event_id, EventId(1));
  EXPECT_EQ(events[1].trace_id, TraceId(7));
  EXPECT_EQ(events[1].span_id, SpanId(3));
  EXPECT_TRUE(events[1].payload.empty());
  ASSERT_TRUE(store_->ListTraceEvents(TraceId(7), 1, &events).ok());
  EXPECT_EQ(events.size(), 1u);
  ASSERT_TRUE(store_->ListTraceEvents("", 10, &events).ok());
  EXPECT_TRUE(events.empty());

  model::StoredEvent event;
  ASSERT_TRUE(store_->GetEvent(EventId(1), &event).ok());
  EXPECT_EQ(event.trace_id, TraceId(7));
  EXPECT_EQ(event.span_id, SpanId(3));
  EXPECT_EQ(event.payload, linked.event.raw_json);
  model::Page<model::StoredEvent> page;
  ASSERT_TRUE(store_->ListGroupEvents(event.group_id, 10, "", &page).ok());
  ASSERT_FALSE(page.items.empty());
  EXPECT_EQ(page.items.back().trace_id, TraceId(7));
  ASSERT_TRUE(store_->GetEvent(EventId(3), &event).ok());
  EXPECT_EQ(event.trace_id, "");

  // A group's traces: of its latest events, distinct, without "".
  model::WriteItem again = MakeItem(project_.id, 4, "fp", 50);
  again.event.trace_id = TraceId(7);
  model::WriteItem other = MakeItem(project_.id, 5, "fp", 60);
  other.event.trace_id = TraceId(8);
  Write({again, other});
  std::vector<std::string> traces;
  ASSERT_TRUE(store_->ListGroupTraces(event.group_id, 10, &traces).ok());
  EXPECT_EQ(traces, (std::vector<std::string>{TraceId(7), TraceId(8)}));
  ASSERT_TRUE(store_->ListGroupTraces(event.group_id, 2, &traces).ok());
  EXPECT_EQ(traces, (std::vector<std::string>{TraceId(7)}));  // 300, 100
  EXPECT_EQ(store_->ListGroupTraces(9999, 10, &traces).code(),
            Status::Code::kNotFound);

  // The partial index serves the lookup, the trace index a trace (SQLite's
  // plan; PostgreSQL's planner scans tables this small).
  if (postgres()) return;
  auto plan = [&](const std::string& sql) {
    std::string detail;
    testing_util::QueryFirstRow(
        sqlite_path(), "EXPLAIN QUERY PLAN " + sql, [&](sqlite3_stmt* stmt) {
          detail = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
        });
    return detail;
  };
  EXPECT_NE(plan("SELECT event_id FROM events WHERE trace_id = 'x' AND "
                 "trace_id != '' ORDER BY timestamp DESC, id DESC LIMIT 5")
                .find("events_trace"),
            std::string::npos);
  EXPECT_NE(plan("SELECT id FROM transactions WHERE trace_id = 'x' "
                 "ORDER BY start_timestamp, id LIMIT 5")
                .find("transactions_trace"),
            std::string::npos);
}

TEST_P(TransactionStoreTest, DeletesOldTransactionsInBatches) {
  if (!postgres()) {  // small batches (PostgreSQL's are 5,000 rows)
    SqliteStore::Options options;
    options.delete_batch = 3;
    store_.reset();
    std::string error;
    store_ = SqliteStore::Open(sqlite_path(), options, &error);
    ASSERT_NE(store_, nullptr) << error;
  }
  std::vector<model::StoredTransaction> txs;
  for (int i = 0; i < 10; ++i) {
    txs.push_back(MakeTx(project_.id, i, "GET /x", 100 + i * 10, 1));
  }
  WriteTx(txs);
  int64_t deleted = 0;
  // Ends are 101, 111, ..., 191: 7 end before 170.
  ASSERT_TRUE(store_->DeleteTransactionsOlderThan(170, &deleted).ok());
  EXPECT_EQ(deleted, 7);
  EXPECT_EQ(QueryCount("SELECT count(*) FROM transactions"), 3);
  ASSERT_TRUE(store_->DeleteTransactionsOlderThan(170, &deleted).ok());
  EXPECT_EQ(deleted, 0);
}

TEST_P(TransactionStoreTest, RetentionAppliesTransactionsMaxAge) {
  const double now = util::NowSeconds();
  WriteTx({MakeTx(project_.id, 1, "old", now - 10 * 86400, 1),
           MakeTx(project_.id, 2, "new", now - 60, 1)});
  Write({MakeItem(project_.id, 1, "fp", now - 60)});
  Retention::Options options;
  options.max_age_seconds = 30 * 86400.0;
  options.transactions_max_age = 7 * 86400.0;
  Retention retention(store_.get(), options, nullptr);
  int64_t deleted = 0;
  ASSERT_TRUE(retention.RunOnce(&deleted).ok());
  EXPECT_EQ(deleted, 0);  // events
  EXPECT_EQ(QueryCount("SELECT count(*) FROM transactions"), 1);
  EXPECT_EQ(QueryValue("SELECT min(name) FROM transactions"), "new");

  // 0 keeps them.
  options.transactions_max_age = 0;
  options.max_age_seconds = 1;
  Retention keep(store_.get(), options, nullptr);
  ASSERT_TRUE(keep.RunOnce(&deleted).ok());
  EXPECT_EQ(QueryCount("SELECT count(*) FROM transactions"), 1);
}

TEST_P(TransactionStoreTest, SavesAndLoadsTracingLabels) {
  std::string json = "stale";
  ASSERT_TRUE(store_->LoadTracingLabels(&json).ok());
  EXPECT_EQ(json, "");
  ASSERT_TRUE(store_->SaveTracingLabels("{\"v\":1}").ok());
  ASSERT_TRUE(store_->SaveTracingLabels("{\"v\":2}").ok());
  ASSERT_TRUE(store_->LoadTracingLabels(&json).ok());
  EXPECT_EQ(json, "{\"v\":2}");
  EXPECT_EQ(QueryCount("SELECT count(*) FROM tracing_labels"), 1);
  // It survives a reopen (on PostgreSQL: another replica reads it).
  Reopen();
  ASSERT_TRUE(store_->LoadTracingLabels(&json).ok());
  EXPECT_EQ(json, "{\"v\":2}");
}

}  // namespace
}  // namespace store
}  // namespace crashctl
