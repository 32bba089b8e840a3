// SqliteStore: events across groups with filters and full-text search,
// group stats over time and tag counts (issue 19, docs/rest-api.md
// "Filters and search").
#include <string>
#include <vector>

#include "rows.h"
#include "sqlite_store.h"

namespace crashctl {
namespace store {
namespace {

Status NotYet(const char* what) {
  return MakeStatus(Status::Code::kInternal,
                    std::string(what) + ": not implemented yet");
}

}  // namespace

Status SqliteStore::ListEvents(const EventQuery& query,
                               model::Page<model::StoredEvent>* out) {
  (void)query, (void)out;
  return NotYet("list events");
}

Status SqliteStore::GroupStats(const StatsQuery& query,
                               std::vector<model::StatBucket>* out) {
  (void)query, (void)out;
  return NotYet("group stats");
}

Status SqliteStore::GroupTags(int64_t group_id, size_t top,
                              std::vector<model::TagSummary>* out) {
  (void)group_id, (void)top, (void)out;
  return NotYet("group tags");
}

}  // namespace store
}  // namespace crashctl
