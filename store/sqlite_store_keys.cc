// SqliteStore: project keys and project deletes (issue 19,
// docs/rest-api.md "Projects and keys").
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
