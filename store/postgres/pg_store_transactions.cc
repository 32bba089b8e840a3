// PostgresStore: Sentry transactions and their spans (docs/tracing.md,
// docs/postgres.md "Transactions"), the error events of a trace, and the
// saved tracing label state. The same semantics as the SQLite store's
// (store/sqlite_store_transactions.cc); the spans' stored form and the
// query checks are shared (store/transaction_codec.h).
//
// A batch of transactions is one multi-row INSERT ... ON CONFLICT
// (project_id, event_id) DO NOTHING RETURNING: a retried item (after a
// COMMIT whose outcome was unknown, or from another replica) is stored once,
// and RETURNING tells which were new.
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "crashctl/store/pg/batch.h"
#include "crashctl/util/strings.h"
#include "crashctl/util/time.h"
#include "cursor.h"
#include "pg_rows.h"
#include "pg_store.h"
#include "rows.h"
#include "transaction_codec.h"

namespace crashctl {
namespace store {
namespace pg {
namespace {

// Rows per INSERT: 24 parameters each.
constexpr int kRowsPerStatement = 500;

void ReadTransactionRow(const Result& r, int row,
                        model::StoredTransaction* out) {
  out->id = r.IntOr(row, 0, 0);
  out->project_id = r.IntOr(row, 1, 0);
  tracing::Transaction& tx = out->transaction;
  tx = tracing::Transaction();
  tx.event_id = r.Text(row, 2);
  tx.trace_id = r.Text(row, 3);
  tx.span_id = r.Text(row, 4);
  tx.parent_span_id = r.Text(row, 5);
  tx.name = r.Text(row, 6);
  tx.source = r.Text(row, 7);
  tx.op = r.Text(row, 8);
  tx.status = r.Text(row, 9);
  tx.method = r.Text(row, 10);
  tx.http_status = static_cast<int>(r.IntOr(row, 11, 0));
  tx.start = r.DoubleOr(row, 12, 0);
  tx.end = r.DoubleOr(row, 13, 0);
  out->received = r.DoubleOr(row, 14, 0);
  tx.release = r.Text(row, 15);
  tx.environment = r.Text(row, 16);
  tx.service = r.Text(row, 17);
  tx.platform = r.Text(row, 18);
  tx.time_shift = r.DoubleOr(row, 19, 0);
  tx.spans_cut = static_cast<size_t>(std::max<int64_t>(r.IntOr(row, 20, 0), 0));
  tx.spans_invalid =
      static_cast<size_t>(std::max<int64_t>(r.IntOr(row, 21, 0), 0));
}

// The filters of `query` as " AND ..." conditions on `sql`.
void AddFilters(const TransactionQuery& query, PgSql* sql) {
  if (query.project) sql->Add(" AND project_id = " + sql->Int(*query.project));
  if (!query.service.empty()) {
    sql->Add(" AND service = " + sql->Text(Utf8(query.service)));
  }
  if (!query.transaction.empty()) {
    sql->Add(" AND name = " + sql->Text(Utf8(query.transaction)));
  }
  if (!query.status.empty())
    sql->Add(" AND status = " + sql->Text(query.status));
  if (query.min_duration > 0) {
    sql->Add(" AND duration >= " + sql->Double(query.min_duration));
  }
  if (query.since > 0)
    sql->Add(" AND timestamp >= " + sql->Double(query.since));
  if (query.until > 0) sql->Add(" AND timestamp < " + sql->Double(query.until));
}

}  // namespace

void PostgresStore::PrepareTransactionWrite(
    model::StoredTransaction* item) const {
  PrepareTransactionSpans(item);
}

Status PostgresStore::WriteTransactions(
    const std::vector<model::StoredTransaction>& transactions,
    std::vector<bool>* stored) {
  if (stored != nullptr) stored->clear();
  if (transactions.empty()) return Status::Ok();
  const size_t n = transactions.size();
  // Everything but the database, once for all attempts.
  const double now = util::NowSeconds();
  std::vector<Params> rows;
  std::map<std::pair<int64_t, std::string>, size_t> by_key;
  std::vector<std::string> spans(n);
  for (size_t i = 0; i < n; ++i) {
    const model::StoredTransaction& item = transactions[i];
    const tracing::Transaction& tx = item.transaction;
    if (!item.spans_encoded && !EncodeSpans(tx.spans, &spans[i])) {
      return Status::Internal("write transaction " + tx.event_id +
                              ": cannot encode its spans");
    }
    const std::string event_id = Utf8(tx.event_id);
    // A repeat within the batch is one row (the first), as in SQLite.
    if (!by_key.emplace(std::make_pair(item.project_id, event_id), i).second) {
      continue;
    }
    const double received = FiniteOr(item.received, now);
    const double end = FiniteOr(tx.end, received);
    const double start = FiniteOr(tx.start, end);
    const std::string& encoded =
        item.spans_encoded ? item.encoded_spans : spans[i];
    Params row;
    row.Int(item.project_id)
        .Text(event_id)
        .Text(Utf8(tx.trace_id))
        .Text(Utf8(tx.span_id))
        .Text(Utf8(tx.parent_span_id))
        .Text(Utf8(tx.name))
        .Text(Utf8(tx.source))
        .Text(Utf8(tx.op))
        .Text(Utf8(tx.status))
        .Text(Utf8(tx.method))
        .Int(tx.http_status)
        .Double(start)
        .Double(end)
        .Double(end - start)
        .Double(received)
        .Text(Utf8(tx.release))
        .Text(Utf8(tx.environment))
        .Text(Utf8(tx.service))
        .Text(Utf8(tx.platform))
        .Double(FiniteOr(tx.time_shift, 0))
        .Int(static_cast<int64_t>(tx.spans_cut))
        .Int(static_cast<int64_t>(tx.spans_invalid))
        .Int(static_cast<int64_t>(item.spans_encoded ? item.encoded_span_count
                                                     : tx.spans.size()));
    if (encoded.empty()) {
      row.Null();
    } else {
      row.Bytea(encoded);
    }
    rows.push_back(std::move(row));
  }
  std::vector<bool> results;
  Status status = InTransaction("write transactions", [&](Connection* conn) {
    results.assign(n, false);  // fresh on every attempt
    std::vector<Result> returned;
    Status st = InsertRows(
        conn, "transactions",
        {"project_id",     "event_id",      "trace_id",    "span_id",
         "parent_span_id", "name",          "source",      "op",
         "status",         "method",        "http_status", "start_timestamp",
         "timestamp",      "duration",      "received",    "release",
         "environment",    "service",       "platform",    "time_shift",
         "spans_cut",      "spans_invalid", "span_count",  "spans"},
        rows,
        "ON CONFLICT (project_id, event_id) DO NOTHING "
        "RETURNING project_id, event_id",
        &returned, kRowsPerStatement);
    if (!st.ok()) return st;
    for (const Result& r : returned) {
      for (int row = 0; row < r.rows(); ++row) {
        auto it =
            by_key.find(std::make_pair(r.IntOr(row, 0, 0), r.Text(row, 1)));
        if (it != by_key.end()) results[it->second] = true;
      }
    }
    return Status::Ok();
  });
  if (status.ok() && stored != nullptr) *stored = std::move(results);
  return status;
}

Status PostgresStore::ListTransactions(
    const TransactionQuery& query, model::Page<model::StoredTransaction>* out) {
  std::string sort;
  Cursor cursor;
  bool has_cursor = false;
  Status status = StartTransactionPage(query, &sort, &cursor, &has_cursor);
  if (!status.ok()) return status;
  const int limit = ClampLimit(query.limit);
  PgSql sql(std::string("SELECT ") + kTransactionColumns +
            " FROM transactions WHERE true");
  AddFilters(query, &sql);
  // `sort` is one of two column names (checked above).
  if (has_cursor) {
    sql.Add(" AND (" + sort + ", id) < (" + sql.Double(cursor.value) + ", " +
            sql.Int(cursor.id) + ")");
  }
  sql.Add(" ORDER BY " + sort + " DESC, id DESC LIMIT " + sql.Int(limit + 1));
  model::Page<model::StoredTransaction> page;
  status = WithConnection("list transactions", [&](Connection* conn) {
    page = model::Page<model::StoredTransaction>();
    Result r;
    Status st = conn->ExecPrepared(sql.text(), sql.params(), &r);
    if (!st.ok()) return st;
    for (int i = 0; i < r.rows() && i < limit; ++i) {
      page.items.emplace_back();
      ReadTransactionRow(r, i, &page.items.back());
    }
    if (r.rows() > limit) {
      page.next_cursor = NextTransactionCursor(page.items.back(), sort);
    }
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(page);
  return status;
}

Status PostgresStore::TransactionSamples(const TransactionQuery& query,
                                         size_t max_rows,
                                         std::vector<tracing::NamedSample>* out,
                                         bool* truncated) {
  Status status = CheckTransactionFilters(query);
  if (!status.ok()) return status;
  if (max_rows == 0 || max_rows > kMaxSampleRows) max_rows = kMaxSampleRows;
  PgSql sql("SELECT name, duration, status FROM transactions WHERE true");
  AddFilters(query, &sql);
  sql.Add(" ORDER BY timestamp DESC, id DESC LIMIT " +
          sql.Int(static_cast<int64_t>(max_rows) + 1));
  std::vector<tracing::NamedSample> samples;
  bool more = false;
  status = WithConnection("transaction samples", [&](Connection* conn) {
    samples.clear();
    Result r;
    Status st = conn->ExecPrepared(sql.text(), sql.params(), &r);
    if (!st.ok()) return st;
    more = static_cast<size_t>(r.rows()) > max_rows;
    const int rows =
        static_cast<int>(std::min(static_cast<size_t>(r.rows()), max_rows));
    samples.reserve(static_cast<size_t>(rows));
    for (int i = 0; i < rows; ++i) {
      tracing::NamedSample sample;
      sample.transaction = r.Text(i, 0);
      sample.duration = r.DoubleOr(i, 1, 0);
      sample.status = r.Text(i, 2);
      samples.push_back(std::move(sample));
    }
    return Status::Ok();
  });
  if (status.ok()) {
    *out = std::move(samples);
    if (truncated != nullptr) *truncated = more;
  }
  return status;
}

Status PostgresStore::GetTraceTransactions(
    const std::string& trace_id, size_t limit,
    std::vector<model::StoredTransaction>* out) {
  if (limit == 0 || limit > kMaxTraceTransactions) {
    limit = kMaxTraceTransactions;
  }
  std::vector<model::StoredTransaction> items;
  Status status =
      WithConnection("get trace transactions", [&](Connection* conn) {
        items.clear();
        Result r;
        Status st = conn->ExecPrepared(
            std::string("SELECT ") + kTransactionColumns +
                ", span_count, spans FROM transactions WHERE trace_id = $1 "
                "ORDER BY start_timestamp, id LIMIT $2",
            Params().Text(Utf8(trace_id)).Int(static_cast<int64_t>(limit)), &r);
        if (!st.ok()) return st;
        constexpr int kSpanCount = kTransactionColumnCount;
        constexpr int kSpans = kTransactionColumnCount + 1;
        size_t decoded = 0;  // spans of this read so far
        for (int i = 0; i < r.rows(); ++i) {
          items.emplace_back();
          tracing::Transaction& tx = items.back().transaction;
          ReadTransactionRow(r, i, &items.back());
          if (r.IsNull(i, kSpans)) continue;
          const int64_t count = r.IntOr(i, kSpanCount, 0);
          if (count < 0 ||
              decoded + static_cast<size_t>(count) > kMaxTraceSpans) {
            tx.spans_cut += static_cast<size_t>(std::max<int64_t>(count, 0));
            continue;  // past the read's budget: without its spans
          }
          std::string stored;
          st = r.Bytea(i, kSpans, &stored);
          if (!st.ok()) return st;
          if (!DecodeSpans(stored, &tx.spans)) {
            return Status::Internal("transaction " + tx.event_id +
                                    ": stored spans are corrupt");
          }
          decoded += tx.spans.size();
        }
        return Status::Ok();
      });
  if (status.ok()) *out = std::move(items);
  return status;
}

Status PostgresStore::ListTraceEvents(const std::string& trace_id, size_t limit,
                                      std::vector<model::StoredEvent>* out) {
  out->clear();
  if (trace_id.empty()) return Status::Ok();  // never match trace-less events
  if (limit == 0 || limit > kMaxTraceEvents) limit = kMaxTraceEvents;
  std::vector<model::StoredEvent> events;
  Status status = WithConnection("list trace events", [&](Connection* conn) {
    events.clear();
    Result r;
    // `trace_id <> ''` lets the planner use the partial index events_trace.
    Status st = conn->ExecPrepared(
        std::string("SELECT ") + kPgEventColumns +
            " FROM events e WHERE e.trace_id = $1 AND e.trace_id <> '' "
            "ORDER BY e.timestamp DESC, e.id DESC LIMIT $2",
        Params().Text(Utf8(trace_id)).Int(static_cast<int64_t>(limit)), &r);
    if (!st.ok()) return st;
    for (int i = 0; i < r.rows(); ++i) {
      events.emplace_back();
      ReadEventRow(r, i, &events.back());
    }
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(events);
  return status;
}

Status PostgresStore::DeleteTransactionsOlderThan(double cutoff,
                                                  int64_t* deleted) {
  *deleted = 0;
  return WithRetentionLock("transaction retention", [&](Connection* conn) {
    return DeleteInBatches(
        "delete old transactions",
        "DELETE FROM transactions WHERE id IN (SELECT id FROM "
        "transactions WHERE timestamp < $1 LIMIT 5000)",
        Params().Double(cutoff), deleted, conn);
  });
}

Status PostgresStore::SaveTracingLabels(const std::string& json) {
  return WithConnection("save tracing labels", [&](Connection* conn) {
    return conn->ExecPrepared(
        "INSERT INTO tracing_labels (id, state, saved_at) VALUES (1, $1, $2) "
        "ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, "
        "saved_at = EXCLUDED.saved_at",
        Params().Text(Utf8(json)).Double(util::NowSeconds()));
  });
}

Status PostgresStore::LoadTracingLabels(std::string* json) {
  std::string state;
  Status status = WithConnection("load tracing labels", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared(
        "SELECT state FROM tracing_labels WHERE id = 1", Params(), &r);
    if (!st.ok()) return st;
    state = r.rows() > 0 ? r.Text(0, 0) : "";
    return Status::Ok();
  });
  if (status.ok()) *json = std::move(state);
  return status;
}

}  // namespace pg
}  // namespace store
}  // namespace crashctl
