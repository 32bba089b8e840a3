// SQL for the filtered reads of issue 19 (ListGroups, ListEvents): a small
// builder that appends SQL fragments with anonymous `?` parameters and binds
// their values in order, and the filter fragments shared by both lists.
// Only bound parameters carry user text; the SQL text varies only by which
// filters are present (a bounded set, each prepared once per connection).
// Internal to store/.
//
// Thread-safety: plain values; functions use only what they are given.
#ifndef CRASHCTL_STORE_QUERY_SQL_H_
#define CRASHCTL_STORE_QUERY_SQL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "crashctl/store/store.h"
#include "cursor.h"
#include "sqlite_db.h"

namespace crashctl {
namespace store {

class SqlBuilder {
 public:
  using Value = std::variant<int64_t, double, std::string>;

  explicit SqlBuilder(std::string sql = "") : sql_(std::move(sql)) {}

  // Appends `fragment` verbatim (it holds no user text).
  SqlBuilder& Add(const std::string& fragment) {
    sql_ += fragment;
    return *this;
  }
  // Appends `fragment`, whose `?` placeholders take `values` in order.
  SqlBuilder& Add(const std::string& fragment, std::vector<Value> values) {
    sql_ += fragment;
    for (Value& v : values) values_.push_back(std::move(v));
    return *this;
  }

  const std::string& sql() const { return sql_; }
  const std::vector<Value>& values() const { return values_; }
  // Binds every value, numbering the parameters 1, 2, ... in order.
  void BindAll(SqliteStmt* stmt) const;

 private:
  std::string sql_;
  std::vector<Value> values_;
};

// The tag filters of a query as (key, value) pairs: the pseudo tags first
// (in the order given), then `tags`. Empty values are skipped.
using TagPairs = std::vector<std::pair<std::string, std::string>>;

// The pseudo tags of a group or event query that are tags of the events
// (release, environment, user; for events also level and service), then
// `tags`, as (key, value) pairs; empty values are left out.
TagPairs GroupTagPairs(const GroupQuery& query);
TagPairs EventTagPairs(const EventQuery& query);

// Appends " AND ..." for every filter of `query` to a SELECT from `groups`
// (unaliased): its columns, group_tags (one IN per tag pair, through the
// group_tags_value index), the last_seen/first_seen window and, when
// `match` is not empty, the groups whose group_search row matches it.
void AddGroupFilters(const GroupQuery& query, const std::string& match,
                     SqlBuilder* sql);

// The SELECT of one ListGroups page (limit + 1 rows, kGroupColumns) sorted
// by `sort` (last_seen, count or first_seen; checked by the caller),
// starting after `cursor` when not null.
SqlBuilder GroupListSql(const GroupQuery& query, const std::string& match,
                        const std::string& sort, const Cursor* cursor,
                        int limit);

// Which index reads the events of ListEvents in order: the group's
// (events_group_timestamp), the search matches (few; sorted afterwards), the
// first tag pair's (event_tags), or the project's / all events' by
// timestamp. The other filters are checked per row; their terms carry a
// unary '+' so that SQLite does not pick their index and sort everything.
enum class EventDriver { kGroup, kSearch, kTag, kTimestamp };

// The SELECT of one ListEvents page: kEventColumns, then events.id, newest
// first by (timestamp, id), limit + 1 rows, after `cursor` when not null.
// `pairs` = EventTagPairs(query) (non-empty for kTag); `match` = "" or the
// MATCH expression (the driver for kSearch).
SqlBuilder EventSql(const EventQuery& query, const TagPairs& pairs,
                    const std::string& match, EventDriver driver,
                    const Cursor* cursor, int limit);

// kInvalid when `tags` exceeds kMaxTagFilters, a key is empty or over
// kMaxTagKeyBytes, or a value over kMaxTagValueBytes.
Status CheckTagFilters(const std::vector<TagFilter>& tags);

// The FTS5 MATCH expression for `query` (search::ToFts5Match): every word
// double-quoted, so user text never becomes FTS5 syntax. "" when it would
// match nothing.
std::string MatchExpression(const search::Query& query);

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_QUERY_SQL_H_
