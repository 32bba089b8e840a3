#include "crashctl/store/pg/batch.h"

#include <algorithm>

namespace crashctl {
namespace store {
namespace pg {
namespace {

constexpr size_t kMaxParams = 65535;

bool IsPlainName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!(letter || (i > 0 && digit))) return false;
  }
  return true;
}

}  // namespace

bool IsPlainIdentifier(std::string_view name) {
  size_t dot = name.find('.');
  if (dot == std::string_view::npos) return IsPlainName(name);
  return IsPlainName(name.substr(0, dot)) && IsPlainName(name.substr(dot + 1));
}

Status InsertRows(Connection* conn, std::string_view table,
                  const std::vector<std::string>& columns,
                  const std::vector<Params>& rows, std::string_view suffix,
                  std::vector<Result>* results, int max_rows_per_statement) {
  std::string what = "insert into " + std::string(table);
  if (!IsPlainIdentifier(table)) {
    return Status::Invalid(what + ": not a plain table name");
  }
  if (columns.empty()) return Status::Invalid(what + ": no columns");
  std::string head = "INSERT INTO " + std::string(table) + " (";
  for (size_t i = 0; i < columns.size(); ++i) {
    if (!IsPlainIdentifier(columns[i])) {
      return Status::Invalid(what + ": column \"" + columns[i] +
                             "\" is not a plain name");
    }
    if (i > 0) head += ", ";
    head += columns[i];
  }
  head += ") VALUES ";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].size() != columns.size()) {
      return Status::Invalid(what + ": row " + std::to_string(i) + " has " +
                             std::to_string(rows[i].size()) + " values for " +
                             std::to_string(columns.size()) + " columns");
    }
  }
  const size_t width = columns.size();
  const size_t per_statement =
      std::max<size_t>(1, std::min<size_t>(std::max(1, max_rows_per_statement),
                                           kMaxParams / width));
  if (width > kMaxParams) return Status::Invalid(what + ": too many columns");
  for (size_t start = 0; start < rows.size(); start += per_statement) {
    size_t end = std::min(rows.size(), start + per_statement);
    std::string sql = head;
    Params params;
    size_t n = 0;
    for (size_t r = start; r < end; ++r) {
      sql += r == start ? "(" : ", (";
      for (size_t c = 0; c < width; ++c) {
        if (c > 0) sql += ", ";
        sql += "$" + std::to_string(++n);
      }
      sql += ")";
      params.Append(rows[r]);
    }
    if (!suffix.empty()) {
      sql += " ";
      sql += suffix;
    }
    Result result;
    // Full chunks repeat the same text: prepared once per connection.
    Status st = end - start == per_statement
                    ? conn->ExecPrepared(sql, params, &result)
                    : conn->Exec(sql, params, &result);
    if (!st.ok()) {
      return st.Annotate(what + " (rows " + std::to_string(start) + ".." +
                         std::to_string(end - 1) + ")");
    }
    if (results != nullptr) results->push_back(std::move(result));
  }
  return Status::Ok();
}

}  // namespace pg
}  // namespace store
}  // namespace crashctl
