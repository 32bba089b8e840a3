// SqliteStore: bulk status changes, merges and deletes of groups, event and
// project deletes, and project keys (issue 19, docs/rest-api.md).
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

Status SqliteStore::DeleteProject(int64_t id) {
  (void)id;
  return NotYet("delete project");
}

Status SqliteStore::ListKeys(int64_t project_id,
                             std::vector<model::ProjectKey>* out) {
  (void)project_id, (void)out;
  return NotYet("list keys");
}

Status SqliteStore::ListAllKeys(std::vector<model::ProjectKey>* out) {
  (void)out;
  return NotYet("list keys");
}

Status SqliteStore::CreateKey(int64_t project_id, const std::string& label,
                              int64_t rate_limit_per_minute,
                              model::ProjectKey* out) {
  (void)project_id, (void)label, (void)rate_limit_per_minute, (void)out;
  return NotYet("create key");
}

Status SqliteStore::UpdateKey(int64_t project_id, int64_t key_id,
                              const KeyUpdate& update,
                              model::ProjectKey* out) {
  (void)project_id, (void)key_id, (void)update, (void)out;
  return NotYet("update key");
}

Status SqliteStore::DeleteKey(int64_t project_id, int64_t key_id) {
  (void)project_id, (void)key_id;
  return NotYet("delete key");
}

}  // namespace store
}  // namespace crashctl
