// SqliteStore: Sentry transactions and their spans (issue 17,
// docs/storage.md "Transactions"), the error events of a trace, and the
// saved tracing label state.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "crashctl/util/time.h"
#include "cursor.h"
#include "payload_codec.h"
#include "rows.h"
#include "sqlite_store.h"
#include "transaction_codec.h"

namespace crashctl {
namespace store {
namespace {

constexpr char kInsertTransaction[] =
    "INSERT INTO transactions (project_id, event_id, trace_id, span_id, "
    "parent_span_id, name, source, op, status, method, http_status, "
    "start_timestamp, timestamp, duration, received, release, environment, "
    "service, platform, time_shift, spans_cut, spans_invalid, span_count, "
    "spans) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
    "?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24) "
    "ON CONFLICT (project_id, event_id) DO NOTHING";

// The WHERE clause of a transaction query's filters (parameters ?1..?7), a
// bounded set of texts.
std::string FilterSql(const TransactionQuery& query) {
  std::string sql = " WHERE 1 = 1";
  if (query.project.has_value()) sql += " AND project_id = ?1";
  if (!query.service.empty()) sql += " AND service = ?2";
  if (!query.transaction.empty()) sql += " AND name = ?3";
  if (!query.status.empty()) sql += " AND status = ?4";
  if (query.min_duration > 0) sql += " AND duration >= ?5";
  if (query.since > 0) sql += " AND timestamp >= ?6";
  if (query.until > 0) sql += " AND timestamp < ?7";
  return sql;
}

void BindFilters(const TransactionQuery& query, SqliteStmt* stmt) {
  if (query.project.has_value()) stmt->Bind(1, *query.project);
  if (!query.service.empty()) stmt->Bind(2, query.service);
  if (!query.transaction.empty()) stmt->Bind(3, query.transaction);
  if (!query.status.empty()) stmt->Bind(4, query.status);
  if (query.min_duration > 0) stmt->Bind(5, query.min_duration);
  if (query.since > 0) stmt->Bind(6, query.since);
  if (query.until > 0) stmt->Bind(7, query.until);
}

}  // namespace

void SqliteStore::PrepareTransactionWrite(
    model::StoredTransaction* item) const {
  PrepareTransactionSpans(item);
}

Status SqliteStore::WriteTransactions(
    const std::vector<model::StoredTransaction>& transactions,
    std::vector<bool>* stored) {
  std::vector<bool> results;
  if (transactions.empty()) {
    if (stored != nullptr) stored->clear();
    return Status::Ok();
  }
  // Compressing is done before taking the write lock, for the items that
  // did not go through PrepareTransactionWrite.
  std::vector<std::string> spans(transactions.size());
  for (size_t i = 0; i < transactions.size(); ++i) {
    if (transactions[i].spans_encoded) continue;
    if (!EncodeSpans(transactions[i].transaction.spans, &spans[i])) {
      return MakeStatus(Status::Code::kInternal,
                        "write transaction " +
                            transactions[i].transaction.event_id +
                            ": cannot encode its spans");
    }
  }
  const double now = util::NowSeconds();
  Status status = Write("write transactions", [&](SqliteDb* db) {
    results.assign(transactions.size(), false);  // fresh on every retry
    for (size_t i = 0; i < transactions.size(); ++i) {
      const model::StoredTransaction& item = transactions[i];
      const tracing::Transaction& tx = item.transaction;
      // A non-finite time would be NULL and fail the batch on NOT NULL.
      const double received = FiniteOr(item.received, now);
      const double end = FiniteOr(tx.end, received);
      const double start = FiniteOr(tx.start, end);
      Status st;
      SqliteStmt insert;
      if (!db->Prepare(kInsertTransaction, &insert, &st)) return st;
      insert.Bind(1, item.project_id)
          .Bind(2, tx.event_id)
          .Bind(3, tx.trace_id)
          .Bind(4, tx.span_id)
          .Bind(5, tx.parent_span_id)
          .Bind(6, tx.name)
          .Bind(7, tx.source)
          .Bind(8, tx.op)
          .Bind(9, tx.status)
          .Bind(10, tx.method)
          .Bind(11, tx.http_status)
          .Bind(12, start)
          .Bind(13, end)
          .Bind(14, end - start)
          .Bind(15, received)
          .Bind(16, tx.release)
          .Bind(17, tx.environment)
          .Bind(18, tx.service)
          .Bind(19, tx.platform)
          .Bind(20, FiniteOr(tx.time_shift, 0))
          .Bind(21, static_cast<int64_t>(tx.spans_cut))
          .Bind(22, static_cast<int64_t>(tx.spans_invalid))
          .Bind(23, static_cast<int64_t>(item.spans_encoded
                                             ? item.encoded_span_count
                                             : tx.spans.size()));
      const std::string& encoded =
          item.spans_encoded ? item.encoded_spans : spans[i];
      if (encoded.empty()) {
        insert.BindNull(24);
      } else {
        insert.BindBlob(24, encoded);
      }
      if (insert.Run() != SQLITE_DONE) {
        return db->LastStatus("write transaction " + tx.event_id +
                              " (project " + std::to_string(item.project_id) +
                              ")");
      }
      results[i] = db->Changes() > 0;
    }
    return Status::Ok();
  });
  if (stored != nullptr) {
    if (status.ok()) {
      *stored = std::move(results);
    } else {
      stored->clear();
    }
  }
  return status;
}

Status SqliteStore::ListTransactions(
    const TransactionQuery& query, model::Page<model::StoredTransaction>* out) {
  std::string sort;
  Cursor cursor;
  bool has_cursor = false;
  Status status = StartTransactionPage(query, &sort, &cursor, &has_cursor);
  if (!status.ok()) return status;
  const int limit = ClampLimit(query.limit);
  std::string sql = std::string("SELECT ") + kTransactionColumns +
                    " FROM transactions" + FilterSql(query);
  if (has_cursor) sql += " AND (" + sort + ", id) < (?8, ?9)";
  sql += " ORDER BY " + sort + " DESC, id DESC LIMIT ?10";

  model::Page<model::StoredTransaction> page;
  status = Read("list transactions", [&](SqliteDb* db) {
    page = model::Page<model::StoredTransaction>();
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare(sql, &stmt, &st)) return st;
    BindFilters(query, &stmt);
    if (has_cursor) stmt.Bind(8, cursor.value).Bind(9, cursor.id);
    stmt.Bind(10, limit + 1);
    int rc;
    const bool more =
        ReadPageRows(&stmt, limit, ReadTransaction, &page.items, &rc);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return db->LastStatus("list transactions");
    }
    if (more) page.next_cursor = NextTransactionCursor(page.items.back(), sort);
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(page);
  return status;
}

Status SqliteStore::TransactionSamples(const TransactionQuery& query,
                                       size_t max_rows,
                                       std::vector<tracing::NamedSample>* out,
                                       bool* truncated) {
  Status status = CheckTransactionFilters(query);
  if (!status.ok()) return status;
  if (max_rows == 0 || max_rows > kMaxSampleRows) max_rows = kMaxSampleRows;
  const std::string sql = "SELECT name, duration, status FROM transactions" +
                          FilterSql(query) +
                          " ORDER BY timestamp DESC, id DESC LIMIT ?8";
  std::vector<tracing::NamedSample> samples;
  bool more = false;
  status = Read("transaction samples", [&](SqliteDb* db) {
    samples.clear();
    more = false;
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare(sql, &stmt, &st)) return st;
    BindFilters(query, &stmt);
    stmt.Bind(8, static_cast<int64_t>(max_rows) + 1);
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      if (samples.size() == max_rows) {
        more = true;
        break;
      }
      tracing::NamedSample sample;
      sample.transaction = stmt.Text(0);
      sample.duration = stmt.Double(1);
      sample.status = stmt.Text(2);
      samples.push_back(std::move(sample));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return db->LastStatus("transaction samples");
    }
    return Status::Ok();
  });
  if (status.ok()) {
    *out = std::move(samples);
    if (truncated != nullptr) *truncated = more;
  }
  return status;
}

Status SqliteStore::GetTraceTransactions(
    const std::string& trace_id, size_t limit,
    std::vector<model::StoredTransaction>* out) {
  if (limit == 0 || limit > kMaxTraceTransactions) {
    limit = kMaxTraceTransactions;
  }
  std::vector<model::StoredTransaction> items;
  Status status = Read("get trace transactions", [&](SqliteDb* db) {
    items.clear();
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare(std::string("SELECT ") + kTransactionColumns +
                         ", span_count, spans FROM transactions WHERE "
                         "trace_id = ?1 ORDER BY start_timestamp, id LIMIT ?2",
                     &stmt, &st)) {
      return st;
    }
    stmt.Bind(1, trace_id).Bind(2, static_cast<int64_t>(limit));
    constexpr int kSpanCount = kTransactionColumnCount;
    constexpr int kSpans = kTransactionColumnCount + 1;
    size_t decoded = 0;  // spans of this read so far
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      items.emplace_back();
      tracing::Transaction& tx = items.back().transaction;
      ReadTransaction(stmt, &items.back());
      if (stmt.IsNull(kSpans)) continue;
      const int64_t count = stmt.Int(kSpanCount);
      if (count < 0 || decoded + static_cast<size_t>(count) > kMaxTraceSpans) {
        tx.spans_cut += static_cast<size_t>(std::max<int64_t>(count, 0));
        continue;  // past the read's budget: without its spans
      }
      if (!DecodeSpans(stmt.Text(kSpans), &tx.spans)) {
        return MakeStatus(
            Status::Code::kInternal,
            "transaction " + tx.event_id + ": stored spans are corrupt");
      }
      decoded += tx.spans.size();
    }
    if (rc != SQLITE_DONE) return db->LastStatus("get trace transactions");
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(items);
  return status;
}

Status SqliteStore::ListTraceEvents(const std::string& trace_id, size_t limit,
                                    std::vector<model::StoredEvent>* out) {
  out->clear();
  if (trace_id.empty()) return Status::Ok();  // never match trace-less events
  if (limit == 0 || limit > kMaxTraceEvents) limit = kMaxTraceEvents;
  std::vector<model::StoredEvent> events;
  Status status = Read("list trace events", [&](SqliteDb* db) {
    events.clear();
    Status st;
    SqliteStmt stmt;
    // `trace_id != ''` lets the planner use the partial index events_trace.
    if (!db->Prepare(std::string("SELECT ") + kEventColumns +
                         " FROM events WHERE trace_id = ?1 AND trace_id != '' "
                         "ORDER BY timestamp DESC, id DESC LIMIT ?2",
                     &stmt, &st)) {
      return st;
    }
    stmt.Bind(1, trace_id).Bind(2, static_cast<int64_t>(limit));
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      events.emplace_back();
      ReadEvent(stmt, &events.back());
    }
    if (rc != SQLITE_DONE) return db->LastStatus("list trace events");
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(events);
  return status;
}

Status SqliteStore::ListGroupTraces(int64_t group_id, int max_events,
                                    std::vector<std::string>* trace_ids) {
  max_events = ClampLimit(max_events, 10);
  std::vector<std::string> ids;
  Status status = Read("list group traces", [&](SqliteDb* db) {
    ids.clear();
    Status st;
    {
      SqliteStmt exists;
      if (!db->Prepare("SELECT 1 FROM groups WHERE id = ?1", &exists, &st)) {
        return st;
      }
      exists.Bind(1, group_id);
      st = StepToRow(db, &exists, "list group traces",
                     "group " + std::to_string(group_id) + " not found");
      if (!st.ok()) return st;
    }
    SqliteStmt stmt;
    if (!db->Prepare("SELECT trace_id FROM events WHERE group_id = ?1 "
                     "ORDER BY timestamp DESC, id DESC LIMIT ?2",
                     &stmt, &st)) {
      return st;
    }
    stmt.Bind(1, group_id).Bind(2, max_events);
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      std::string id = stmt.Text(0);
      if (id.empty()) continue;
      bool seen = false;
      for (const std::string& known : ids) seen = seen || known == id;
      if (!seen) ids.push_back(std::move(id));
    }
    if (rc != SQLITE_DONE) return db->LastStatus("list group traces");
    return Status::Ok();
  });
  if (status.ok()) *trace_ids = std::move(ids);
  return status;
}

Status SqliteStore::SaveTracingLabels(const std::string& json) {
  return Write("save tracing labels", [&](SqliteDb* db) {
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare("INSERT INTO tracing_labels (id, state, saved_at) "
                     "VALUES (1, ?1, ?2) ON CONFLICT (id) DO UPDATE SET "
                     "state = excluded.state, saved_at = excluded.saved_at",
                     &stmt, &st)) {
      return st;
    }
    stmt.Bind(1, json).Bind(2, util::NowSeconds());
    if (stmt.Run() != SQLITE_DONE) return db->LastStatus("save tracing labels");
    return Status::Ok();
  });
}

Status SqliteStore::LoadTracingLabels(std::string* json) {
  std::string state;
  Status status = Read("load tracing labels", [&](SqliteDb* db) {
    state.clear();
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare("SELECT state FROM tracing_labels WHERE id = 1", &stmt,
                     &st)) {
      return st;
    }
    const int rc = stmt.Step();
    if (rc == SQLITE_ROW) {
      state = stmt.Text(0);
    } else if (rc != SQLITE_DONE) {
      return db->LastStatus("load tracing labels");
    }
    return Status::Ok();
  });
  if (status.ok()) *json = std::move(state);
  return status;
}

}  // namespace store
}  // namespace crashctl
