// store/transaction_codec.h: the spans' stored form and the checks of a
// transaction query, shared by both stores.
#include "transaction_codec.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "payload_codec.h"
#include "rows.h"

namespace crashctl {
namespace store {
namespace {

// A stored spans column decodes to at most this many spans (ingestion keeps
// at most 1,000 per transaction).
constexpr size_t kMaxStoredSpans = 100000;

}  // namespace

// The spans as JSON: an array of [span_id, parent_span_id, op, description,
// status, start, end] arrays, then EncodePayload's compressed form.
bool EncodeSpans(const std::vector<tracing::Span>& spans, std::string* out) {
  out->clear();
  if (spans.empty()) return true;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartArray();
  for (const tracing::Span& span : spans) {
    writer.StartArray();
    writer.String(span.span_id.data(),
                  static_cast<rapidjson::SizeType>(span.span_id.size()));
    writer.String(span.parent_span_id.data(),
                  static_cast<rapidjson::SizeType>(span.parent_span_id.size()));
    writer.String(span.op.data(),
                  static_cast<rapidjson::SizeType>(span.op.size()));
    writer.String(span.description.data(),
                  static_cast<rapidjson::SizeType>(span.description.size()));
    writer.String(span.status.data(),
                  static_cast<rapidjson::SizeType>(span.status.size()));
    writer.Double(FiniteOr(span.start, 0));
    writer.Double(FiniteOr(span.end, 0));
    writer.EndArray();
  }
  writer.EndArray();
  return EncodePayload(std::string_view(buffer.GetString(), buffer.GetSize()),
                       out);
}

bool DecodeSpans(const std::string& stored, std::vector<tracing::Span>* spans) {
  spans->clear();
  if (stored.empty()) return true;
  std::string json;
  if (!DecodePayload(stored, &json)) return false;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsArray()) return false;
  for (const rapidjson::Value& item : doc.GetArray()) {
    if (spans->size() >= kMaxStoredSpans) break;
    if (!item.IsArray() || item.Size() != 7) return false;
    for (rapidjson::SizeType i = 0; i < 5; ++i) {
      if (!item[i].IsString()) return false;
    }
    if (!item[5].IsNumber() || !item[6].IsNumber()) return false;
    tracing::Span span;
    span.span_id.assign(item[0].GetString(), item[0].GetStringLength());
    span.parent_span_id.assign(item[1].GetString(), item[1].GetStringLength());
    span.op.assign(item[2].GetString(), item[2].GetStringLength());
    span.description.assign(item[3].GetString(), item[3].GetStringLength());
    span.status.assign(item[4].GetString(), item[4].GetStringLength());
    span.start = item[5].GetDouble();
    span.end = item[6].GetDouble();
    spans->push_back(std::move(span));
  }
  return true;
}

Status CheckTransactionFilters(const TransactionQuery& query) {
  if (!query.status.empty() &&
      tracing::CanonicalSpanStatus(query.status) != query.status) {
    return Status::Invalid("unknown status '" + query.status +
                           "' (want a Sentry span status, e.g. ok, "
                           "internal_error)");
  }
  if (!std::isfinite(query.min_duration) || !std::isfinite(query.since) ||
      !std::isfinite(query.until)) {
    return Status::Invalid("min_duration, since and until must be finite");
  }
  return Status::Ok();
}

Status CheckTransactionSort(const std::string& sort) {
  if (sort == "timestamp" || sort == "duration") return Status::Ok();
  return Status::Invalid("unknown sort '" + sort +
                         "' (want timestamp or duration)");
}

Status StartTransactionPage(const TransactionQuery& query, std::string* sort,
                            Cursor* cursor, bool* has_cursor) {
  *sort = query.sort.empty() ? "timestamp" : query.sort;
  Status status = CheckTransactionSort(*sort);
  if (!status.ok()) return status;
  status = CheckTransactionFilters(query);
  if (!status.ok()) return status;
  *has_cursor = !query.cursor.empty();
  std::string error;
  if (*has_cursor && !DecodeCursor(query.cursor, *sort, cursor, &error)) {
    return Status::Invalid(error);
  }
  return Status::Ok();
}

std::string NextTransactionCursor(const model::StoredTransaction& last,
                                  const std::string& sort) {
  Cursor next;
  next.sort = sort;
  next.id = last.id;
  next.value = sort == "duration"
                   ? last.transaction.end - last.transaction.start
                   : last.transaction.end;
  return EncodeCursor(next);
}

void PrepareTransactionSpans(model::StoredTransaction* item) {
  std::string encoded;
  // On failure the item stays as it was: WriteTransactions tries again and
  // reports the error.
  if (!EncodeSpans(item->transaction.spans, &encoded)) return;
  item->encoded_spans = std::move(encoded);
  item->encoded_span_count = item->transaction.spans.size();
  item->spans_encoded = true;
  std::vector<tracing::Span>().swap(item->transaction.spans);
}

}  // namespace store
}  // namespace crashctl
