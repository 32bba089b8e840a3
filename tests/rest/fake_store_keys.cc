// FakeStore: project keys and project deletes (issue 19).
#include <algorithm>
#include <string>
#include <vector>

#include "fake_store.h"

namespace crashctl {
namespace testing {
namespace {

bool HasProject(const std::vector<model::Project>& projects, int64_t id) {
  return std::any_of(projects.begin(), projects.end(),
                     [&](const model::Project& p) { return p.id == id; });
}

Status NoKey(int64_t project_id, int64_t key_id) {
  return Status(Status::Code::kNotFound,
                "project " + std::to_string(project_id) + " has no key " +
                    std::to_string(key_id));
}

Status NoProject(int64_t id) {
  return Status(Status::Code::kNotFound,
                "project " + std::to_string(id) + " not found");
}

Status CheckKeyFields(const std::string* label, const int64_t* rate) {
  if (label != nullptr && label->size() > 200) {
    return Status(Status::Code::kInvalid, "label: at most 200 bytes");
  }
  if (rate != nullptr && *rate < 0) {
    return Status(Status::Code::kInvalid,
                  "rate_limit_per_minute: must be >= 0");
  }
  return Status::Ok();
}

}  // namespace

void FakeStore::MaterializeKeys() {
  for (const model::Project& p : projects) {
    if (!keyed_projects_.insert(p.id).second || p.public_key.empty()) continue;
    model::ProjectKey key;
    key.id = next_key_id_++;
    key.project_id = p.id;
    key.public_key = p.public_key;
    key.label = "Default";
    key.created_at = p.created_at;
    keys.push_back(key);
  }
}

Status FakeStore::DeleteProject(int64_t id) {
  if (auto f = TakeFailure()) return *f;
  MaterializeKeys();
  if (!HasProject(projects, id)) return NoProject(id);
  auto of = [id](const auto& row) { return row.project_id == id; };
  projects.erase(
      std::remove_if(projects.begin(), projects.end(),
                     [id](const model::Project& p) { return p.id == id; }),
      projects.end());
  keys.erase(std::remove_if(keys.begin(), keys.end(), of), keys.end());
  groups.erase(std::remove_if(groups.begin(), groups.end(), of), groups.end());
  events.erase(std::remove_if(events.begin(), events.end(), of), events.end());
  transactions.erase(
      std::remove_if(transactions.begin(), transactions.end(), of),
      transactions.end());
  deleted_projects.push_back(id);
  return Status::Ok();
}

Status FakeStore::ListKeys(int64_t project_id,
                           std::vector<model::ProjectKey>* out) {
  if (auto f = TakeFailure()) return *f;
  MaterializeKeys();
  if (!HasProject(projects, project_id)) return NoProject(project_id);
  out->clear();
  for (const model::ProjectKey& key : keys) {
    if (key.project_id == project_id) out->push_back(key);
  }
  return Status::Ok();
}

Status FakeStore::ListAllKeys(std::vector<model::ProjectKey>* out) {
  MaterializeKeys();
  *out = keys;
  return Status::Ok();
}

Status FakeStore::CreateKey(int64_t project_id, const std::string& label,
                            int64_t rate_limit_per_minute,
                            model::ProjectKey* out) {
  if (auto f = TakeFailure()) return *f;
  MaterializeKeys();
  Status status = CheckKeyFields(&label, &rate_limit_per_minute);
  if (!status.ok()) return status;
  if (!HasProject(projects, project_id)) return NoProject(project_id);
  model::ProjectKey key;
  key.id = next_key_id_++;
  key.project_id = project_id;
  const std::string n = std::to_string(key.id);
  key.public_key = std::string(32 - n.size(), 'b') + n;
  key.label = label;
  key.rate_limit_per_minute = rate_limit_per_minute;
  key.created_at = 1795341700.25;
  keys.push_back(key);
  if (out != nullptr) *out = key;
  return Status::Ok();
}

Status FakeStore::UpdateKey(int64_t project_id, int64_t key_id,
                            const store::KeyUpdate& update,
                            model::ProjectKey* out) {
  if (auto f = TakeFailure()) return *f;
  MaterializeKeys();
  Status status = CheckKeyFields(
      update.label ? &*update.label : nullptr,
      update.rate_limit_per_minute ? &*update.rate_limit_per_minute : nullptr);
  if (!status.ok()) return status;
  for (model::ProjectKey& key : keys) {
    if (key.id != key_id || key.project_id != project_id) continue;
    if (update.label) key.label = *update.label;
    if (update.active) key.active = *update.active;
    if (update.rate_limit_per_minute) {
      key.rate_limit_per_minute = *update.rate_limit_per_minute;
    }
    if (out != nullptr) *out = key;
    return Status::Ok();
  }
  return NoKey(project_id, key_id);
}

Status FakeStore::DeleteKey(int64_t project_id, int64_t key_id) {
  if (auto f = TakeFailure()) return *f;
  MaterializeKeys();
  const auto it =
      std::find_if(keys.begin(), keys.end(), [&](const model::ProjectKey& key) {
        return key.id == key_id && key.project_id == project_id;
      });
  if (it == keys.end()) return NoKey(project_id, key_id);
  keys.erase(it);
  return Status::Ok();
}

}  // namespace testing
}  // namespace crashctl
