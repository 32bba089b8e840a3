// SqliteStore: bulk status changes, merges and deletes of groups, and
// erasing a user's events (issue 19, docs/rest-api.md).
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

Status SqliteStore::SetGroupsStatus(const std::vector<int64_t>& ids,
                                    model::GroupStatus status,
                                    std::vector<model::Group>* out) {
  (void)ids, (void)status, (void)out;
  return NotYet("set groups status");
}

Status SqliteStore::MergeGroups(int64_t into, const std::vector<int64_t>& from,
                                model::Group* out) {
  (void)into, (void)from, (void)out;
  return NotYet("merge groups");
}

Status SqliteStore::DeleteGroup(int64_t id) {
  (void)id;
  return NotYet("delete group");
}

Status SqliteStore::DeleteEvents(const EventDeletion& which,
                                 int64_t* deleted) {
  (void)which, (void)deleted;
  return NotYet("delete events");
}

}  // namespace store
}  // namespace crashctl
