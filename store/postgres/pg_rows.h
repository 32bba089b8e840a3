// Row mapping of PostgresStore: the SELECT lists, their readers, and a
// small SQL builder with numbered ($n) parameters. Internal to
// store/postgres.
//
// Thread-safety: plain values and pure functions.
#ifndef CRASHCTL_STORE_POSTGRES_PG_ROWS_H_
#define CRASHCTL_STORE_POSTGRES_PG_ROWS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "crashctl/model/records.h"
#include "crashctl/store/pg/connection.h"
#include "crashctl/util/strings.h"

namespace crashctl {
namespace store {
namespace pg {

// SELECT lists in the order of the readers below: projects (unaliased, the
// oldest active key as public_key), groups (unaliased), events (alias e,
// without payload; kPgEventColumnCount columns).
extern const char kPgProjectColumns[];
extern const char kPgGroupColumns[];
extern const char kPgEventColumns[];
constexpr int kPgEventColumnCount = 18;

void ReadProjectRow(const Result& r, int row, model::Project* out);
void ReadGroupRow(const Result& r, int row, model::Group* out);
void ReadEventRow(const Result& r, int row, model::StoredEvent* out);

// Text from outside (SDKs, pods) as PostgreSQL's text takes it: bytes that
// are not UTF-8, and NUL, become U+FFFD (util::ToValidUtf8); SQLite keeps
// them as they are.
inline std::string Utf8(const std::string& value) {
  return util::ToValidUtf8(value);
}

// SQL text with parameters: each Int/Double/Text adds a value and returns
// its placeholder ("$3") to paste into the text. Only placeholders carry
// caller values.
class PgSql {
 public:
  explicit PgSql(std::string text = "") : text_(std::move(text)) {}
  void Add(std::string_view fragment) { text_ += fragment; }
  std::string Int(int64_t value) {
    params_.Int(value);
    return Placeholder();
  }
  std::string Double(double value) {
    params_.Double(value);
    return Placeholder();
  }
  std::string Text(std::string_view value) {
    params_.Text(value);
    return Placeholder();
  }
  const std::string& text() const { return text_; }
  const Params& params() const { return params_; }

 private:
  std::string Placeholder() const {
    return "$" + std::to_string(params_.size());
  }
  std::string text_;
  Params params_;
};

}  // namespace pg
}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_POSTGRES_PG_ROWS_H_
