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

std::string MatchExpression(const search::Query& query) {
  return search::ToFts5Match(query);
}

}  // namespace store
}  // namespace crashctl
