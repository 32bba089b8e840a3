// Backend-neutral parts of storing Sentry transactions (docs/tracing.md,
// docs/storage.md "Transactions"), shared by the SQLite and PostgreSQL
// stores: the stored form of a transaction's spans, the checks of a
// TransactionQuery, and the read bounds. Private to store/.
//
// Spans are stored as one column: a JSON array of [span_id,
// parent_span_id, op, description, status, start, end] arrays, then
// EncodePayload's compressed form (payload_codec.h). They are only ever read
// whole, with their trace.
//
// Thread-safety: pure functions, safe from any thread.
#ifndef CRASHCTL_STORE_TRANSACTION_CODEC_H_
#define CRASHCTL_STORE_TRANSACTION_CODEC_H_

#include <cstddef>
#include <string>
#include <vector>

#include "crashctl/model/records.h"
#include "crashctl/store/store.h"
#include "crashctl/tracing/transaction.h"
#include "cursor.h"

namespace crashctl {
namespace store {

// Bounds of the reads whose caller gives no limit of its own.
constexpr size_t kMaxTraceTransactions = 1000;
constexpr size_t kMaxTraceEvents = 1000;
constexpr size_t kMaxSampleRows = 1000000;
// The spans one trace read decodes in all (Store::GetTraceTransactions):
// 1,000 transactions of 1,000 spans each would take over a gigabyte.
constexpr size_t kMaxTraceSpans = 20000;

// The stored form of `spans` ("" for none). False when it cannot be
// compressed.
bool EncodeSpans(const std::vector<tracing::Span>& spans, std::string* out);
// `spans` from a stored form (at most 100,000 of them). False when it is
// corrupt.
bool DecodeSpans(const std::string& stored, std::vector<tracing::Span>* spans);

// Store::PrepareTransactionWrite: encodes the spans into
// item->encoded_spans and releases item->transaction.spans; on failure the
// item stays as it was (WriteTransactions encodes again and reports it).
void PrepareTransactionSpans(model::StoredTransaction* item);

// kInvalid for an unknown span status or a non-finite time in `query`.
Status CheckTransactionFilters(const TransactionQuery& query);
// kInvalid unless `sort` is "timestamp" or "duration".
Status CheckTransactionSort(const std::string& sort);

// The checks before a Store::ListTransactions page: the sort ("" means
// timestamp) into `*sort`, the filters, and the cursor, decoded into
// `*cursor` (`*has_cursor` false without one). kInvalid on bad input.
Status StartTransactionPage(const TransactionQuery& query, std::string* sort,
                            Cursor* cursor, bool* has_cursor);
// The next page's cursor after `last`, a row of a page sorted by `sort`.
std::string NextTransactionCursor(const model::StoredTransaction& last,
                                  const std::string& sort);

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_TRANSACTION_CODEC_H_
