#include "query_sql.h"

#include "rows.h"

namespace crashctl {
namespace store {

void SqlBuilder::BindAll(SqliteStmt* stmt) const {
  int index = 1;
  for (const Value& v : values_) {
    if (const int64_t* i = std::get_if<int64_t>(&v)) {
      stmt->Bind(index, *i);
    } else if (const double* d = std::get_if<double>(&v)) {
      stmt->Bind(index, *d);
    } else {
      stmt->Bind(index, std::get<std::string>(v));
    }
    ++index;
  }
}

Status CheckTagFilters(const std::vector<TagFilter>& tags) {
  if (tags.size() > kMaxTagFilters) {
    return MakeStatus(Status::Code::kInvalid,
                      "tag: at most " + std::to_string(kMaxTagFilters) +
                          " tag filters are allowed");
  }
  for (const TagFilter& tag : tags) {
    if (tag.key.empty() || tag.key.size() > kMaxTagKeyBytes) {
      return MakeStatus(Status::Code::kInvalid,
                        "tag: a key must have 1 to " +
                            std::to_string(kMaxTagKeyBytes) + " bytes");
    }
    if (tag.value.size() > kMaxTagValueBytes) {
      return MakeStatus(Status::Code::kInvalid,
                        "tag: a value must have at most " +
                            std::to_string(kMaxTagValueBytes) + " bytes");
    }
  }
  return Status::Ok();
}

namespace {

void AddPair(const char* key, const std::string& value, TagPairs* out) {
  if (!value.empty()) out->emplace_back(key, value);
}

void AddTags(const std::vector<TagFilter>& tags, TagPairs* out) {
  for (const TagFilter& tag : tags) out->emplace_back(tag.key, tag.value);
}

// kEventColumns with every column qualified as "e.<column>".
const std::string& QualifiedEventColumns() {
  static const std::string kColumns = [] {
    std::string out = "e.";
    for (const char* p = kEventColumns; *p != '\0'; ++p) {
      out += *p;
      if (*p == ',') {
        while (p[1] == ' ') out += *++p;
        out += "e.";
      }
    }
    return out;
  }();
  return kColumns;
}

}  // namespace

TagPairs GroupTagPairs(const GroupQuery& query) {
  TagPairs pairs;
  AddPair("release", query.release, &pairs);
  AddPair("environment", query.environment, &pairs);
  AddPair("user", query.user, &pairs);
  AddTags(query.tags, &pairs);
  return pairs;
}

TagPairs EventTagPairs(const EventQuery& query) {
  TagPairs pairs;
  AddPair("release", query.release, &pairs);
  AddPair("environment", query.environment, &pairs);
  AddPair("user", query.user, &pairs);
  AddPair("service", query.service, &pairs);
  if (query.level) AddPair("level", model::ToString(*query.level), &pairs);
  AddTags(query.tags, &pairs);
  return pairs;
}

void AddGroupFilters(const GroupQuery& query, const std::string& match,
                     SqlBuilder* sql) {
  if (query.project) sql->Add(" AND project_id = ?", {*query.project});
  if (query.status) {
    sql->Add(" AND status = ?", {std::string(model::ToString(*query.status))});
  }
  if (query.level) {
    sql->Add(" AND level = ?", {std::string(model::ToString(*query.level))});
  }
  if (!query.service.empty()) {
    sql->Add(" AND service = ?", {query.service});
  }
  if (!query.first_release.empty()) {
    sql->Add(" AND first_release = ?", {query.first_release});
  }
  for (const auto& tag : GroupTagPairs(query)) {
    sql->Add(
        " AND id IN (SELECT group_id FROM group_tags WHERE key = ? AND "
        "value = ?)",
        {tag.first, tag.second});
  }
  if (query.since > 0) sql->Add(" AND last_seen >= ?", {query.since});
  if (query.until > 0) sql->Add(" AND first_seen < ?", {query.until});
  if (!match.empty()) {
    sql->Add(
        " AND id IN (SELECT group_id FROM group_search WHERE group_search "
        "MATCH ?)",
        {match});
  }
}

SqlBuilder EventSql(const EventQuery& query, const TagPairs& pairs,
                    const std::string& match, EventDriver driver,
                    const Cursor* cursor, int limit) {
  const bool by_tag = driver == EventDriver::kTag;
  const std::string ts = by_tag ? "t.timestamp" : "e.timestamp";
  const std::string id = by_tag ? "t.event_row" : "e.id";
  SqlBuilder sql("SELECT " + QualifiedEventColumns() + ", e.id FROM ");
  size_t first_pair = 0;
  if (by_tag) {
    sql.Add(
        "event_tags t CROSS JOIN events e ON e.id = t.event_row "
        "WHERE t.key = ? AND t.value = ?",
        {pairs[0].first, pairs[0].second});
    first_pair = 1;
  } else {
    sql.Add("events e WHERE 1 = 1");
  }
  if (driver == EventDriver::kSearch) {
    sql.Add(
        " AND e.id IN (SELECT rowid FROM event_search WHERE "
        "event_search MATCH ?)",
        {match});
  }
  if (query.group) {
    sql.Add(driver == EventDriver::kGroup ? " AND e.group_id = ?"
                                          : " AND +e.group_id = ?",
            {*query.group});
  }
  if (query.project) {
    sql.Add(driver == EventDriver::kTimestamp ? " AND e.project_id = ?"
                                              : " AND +e.project_id = ?",
            {*query.project});
  }
  for (size_t i = first_pair; i < pairs.size(); ++i) {
    sql.Add(
        " AND EXISTS (SELECT 1 FROM event_tags x WHERE x.key = ? AND "
        "x.value = ? AND x.timestamp = e.timestamp AND "
        "x.event_row = e.id)",
        {pairs[i].first, pairs[i].second});
  }
  if (query.status || !query.first_release.empty()) {
    sql.Add(" AND +e.group_id IN (SELECT id FROM groups WHERE 1 = 1");
    if (query.status) {
      sql.Add(" AND status = ?", {std::string(model::ToString(*query.status))});
    }
    if (!query.first_release.empty()) {
      sql.Add(" AND first_release = ?", {query.first_release});
    }
    sql.Add(")");
  }
  if (!match.empty() && driver != EventDriver::kSearch) {
    sql.Add(
        " AND EXISTS (SELECT 1 FROM event_search WHERE event_search "
        "MATCH ? AND rowid = e.id)",
        {match});
  }
  if (query.since > 0) sql.Add(" AND " + ts + " >= ?", {query.since});
  if (query.until > 0) sql.Add(" AND " + ts + " < ?", {query.until});
  if (cursor != nullptr) {
    sql.Add(" AND (" + ts + ", " + id + ") < (?, ?)",
            {cursor->value, cursor->id});
  }
  sql.Add(" ORDER BY " + ts + " DESC, " + id + " DESC LIMIT ?",
          {int64_t{limit} + 1});
  return sql;
}

SqlBuilder GroupListSql(const GroupQuery& query, const std::string& match,
                        const std::string& sort, const Cursor* cursor,
                        int limit) {
  SqlBuilder sql(std::string("SELECT ") + kGroupColumns +
                 " FROM groups WHERE 1 = 1");
  AddGroupFilters(query, match, &sql);
  if (cursor != nullptr) {
    sql.Add(" AND (" + sort + ", id) < (?, ?)", {cursor->value, cursor->id});
  }
  sql.Add(" ORDER BY " + sort + " DESC, id DESC LIMIT ?", {int64_t{limit} + 1});
  return sql;
}

std::string MatchExpression(const search::Query& query) {
  return search::ToFts5Match(query);
}

}  // namespace store
}  // namespace crashctl
