// Project keys and project deletes (issue 19): ListKeys, ListAllKeys,
// CreateKey, UpdateKey, DeleteKey, DeleteProject on SQLite.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store_test_util.h"

namespace crashctl {
namespace store {
namespace {

using testing_util::EventId;
using testing_util::MakeItem;
using testing_util::QueryInt;
using testing_util::StoreTest;

class StoreKeysTest : public StoreTest {
 protected:
  std::vector<model::ProjectKey> Keys(int64_t project) {
    std::vector<model::ProjectKey> keys;
    const Status status = store_->ListKeys(project, &keys);
    EXPECT_TRUE(status.ok()) << status.message();
    return keys;
  }
  std::string ProjectKeyShown(int64_t project) {
    model::Project p;
    EXPECT_TRUE(store_->GetProject(project, &p).ok());
    return p.public_key;
  }
  int64_t Count(const std::string& table, int64_t project) {
    return QueryInt(store_->path(),
                    "SELECT count(*) FROM " + table +
                        " WHERE project_id = " + std::to_string(project));
  }
};

bool IsHexKey(const std::string& key) {
  if (key.size() != 32) return false;
  for (char c : key) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST_F(StoreKeysTest, CreateProjectCreatesItsFirstKey) {
  const std::vector<model::ProjectKey> keys = Keys(project_.id);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].public_key, project_.public_key);
  EXPECT_TRUE(IsHexKey(keys[0].public_key));
  EXPECT_EQ(keys[0].project_id, project_.id);
  EXPECT_EQ(keys[0].label, "Default");
  EXPECT_TRUE(keys[0].active);
  EXPECT_EQ(keys[0].rate_limit_per_minute, 0);
  EXPECT_GT(keys[0].created_at, 0);
  EXPECT_EQ(ProjectKeyShown(project_.id), project_.public_key);
}

TEST_F(StoreKeysTest, CreateKeyAddsARandomKeyListedOldestFirst) {
  model::ProjectKey key;
  ASSERT_TRUE(store_->CreateKey(project_.id, "ci", 120, &key).ok());
  EXPECT_TRUE(IsHexKey(key.public_key));
  EXPECT_NE(key.public_key, project_.public_key);
  EXPECT_GT(key.id, 0);
  EXPECT_EQ(key.label, "ci");
  EXPECT_EQ(key.rate_limit_per_minute, 120);
  EXPECT_TRUE(key.active);
  const std::vector<model::ProjectKey> keys = Keys(project_.id);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].public_key, project_.public_key);
  EXPECT_EQ(keys[1].id, key.id);
  EXPECT_EQ(keys[1].public_key, key.public_key);
  EXPECT_EQ(keys[1].rate_limit_per_minute, 120);
  // The project still shows its oldest active key.
  EXPECT_EQ(ProjectKeyShown(project_.id), project_.public_key);
}

TEST_F(StoreKeysTest, ListAllKeysCoversEveryProjectActiveOrNot) {
  model::Project other;
  ASSERT_TRUE(store_->CreateProject("other", &other).ok());
  model::ProjectKey extra;
  ASSERT_TRUE(store_->CreateKey(other.id, "", 0, &extra).ok());
  KeyUpdate off;
  off.active = false;
  ASSERT_TRUE(store_->UpdateKey(other.id, extra.id, off, nullptr).ok());
  std::vector<model::ProjectKey> all;
  ASSERT_TRUE(store_->ListAllKeys(&all).ok());
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].project_id, project_.id);
  EXPECT_EQ(all[1].project_id, other.id);
  EXPECT_EQ(all[2].public_key, extra.public_key);
  EXPECT_FALSE(all[2].active);
}

TEST_F(StoreKeysTest, CreateKeyRefusesBadInput) {
  model::ProjectKey key;
  Status status = store_->CreateKey(project_.id, "x", -1, &key);
  EXPECT_EQ(status.code(), Status::Code::kInvalid);
  EXPECT_NE(status.message().find("rate_limit_per_minute"), std::string::npos);
  status = store_->CreateKey(project_.id, std::string(201, 'a'), 0, &key);
  EXPECT_EQ(status.code(), Status::Code::kInvalid);
  EXPECT_NE(status.message().find("label"), std::string::npos);
  EXPECT_TRUE(
      store_->CreateKey(project_.id, std::string(200, 'a'), 0, &key).ok());
  EXPECT_EQ(store_->CreateKey(999, "x", 0, &key).code(),
            Status::Code::kNotFound);
  std::vector<model::ProjectKey> keys;
  EXPECT_EQ(store_->ListKeys(999, &keys).code(), Status::Code::kNotFound);
}

TEST_F(StoreKeysTest, UpdateKeyChangesOnlyTheGivenFields) {
  model::ProjectKey key;
  ASSERT_TRUE(store_->CreateKey(project_.id, "old", 10, &key).ok());
  KeyUpdate update;
  update.label = "new";
  model::ProjectKey updated;
  ASSERT_TRUE(store_->UpdateKey(project_.id, key.id, update, &updated).ok());
  EXPECT_EQ(updated.label, "new");
  EXPECT_EQ(updated.rate_limit_per_minute, 10);
  EXPECT_TRUE(updated.active);
  update = KeyUpdate();
  update.rate_limit_per_minute = 0;
  update.active = false;
  ASSERT_TRUE(store_->UpdateKey(project_.id, key.id, update, &updated).ok());
  EXPECT_EQ(updated.label, "new");
  EXPECT_EQ(updated.rate_limit_per_minute, 0);
  EXPECT_FALSE(updated.active);
  const std::vector<model::ProjectKey> keys = Keys(project_.id);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[1].label, "new");
  EXPECT_FALSE(keys[1].active);
  EXPECT_EQ(keys[1].public_key, key.public_key);  // never changes
}

TEST_F(StoreKeysTest, UpdateKeyRefusesBadInputAndUnknownKeys) {
  const int64_t first = Keys(project_.id)[0].id;
  KeyUpdate update;
  update.rate_limit_per_minute = -5;
  EXPECT_EQ(store_->UpdateKey(project_.id, first, update, nullptr).code(),
            Status::Code::kInvalid);
  update = KeyUpdate();
  update.label = std::string(201, 'x');
  EXPECT_EQ(store_->UpdateKey(project_.id, first, update, nullptr).code(),
            Status::Code::kInvalid);
  update = KeyUpdate();
  update.active = false;
  EXPECT_EQ(store_->UpdateKey(project_.id, first + 100, update, nullptr).code(),
            Status::Code::kNotFound);
  // A key of another project is not found through this one.
  model::Project other;
  ASSERT_TRUE(store_->CreateProject("other", &other).ok());
  EXPECT_EQ(store_->UpdateKey(other.id, first, update, nullptr).code(),
            Status::Code::kNotFound);
  EXPECT_TRUE(Keys(project_.id)[0].active);
}

TEST_F(StoreKeysTest, ProjectShowsItsOldestActiveKey) {
  model::ProjectKey second;
  ASSERT_TRUE(store_->CreateKey(project_.id, "second", 0, &second).ok());
  const int64_t first = Keys(project_.id)[0].id;
  KeyUpdate off;
  off.active = false;
  ASSERT_TRUE(store_->UpdateKey(project_.id, first, off, nullptr).ok());
  EXPECT_EQ(ProjectKeyShown(project_.id), second.public_key);
  ASSERT_TRUE(store_->UpdateKey(project_.id, second.id, off, nullptr).ok());
  EXPECT_EQ(ProjectKeyShown(project_.id), "");
  std::vector<model::Project> projects;
  ASSERT_TRUE(store_->ListProjects(&projects).ok());
  ASSERT_EQ(projects.size(), 1u);
  EXPECT_EQ(projects[0].public_key, "");
}

TEST_F(StoreKeysTest, DeleteKeyRemovesOnlyThatKey) {
  model::ProjectKey second;
  ASSERT_TRUE(store_->CreateKey(project_.id, "second", 0, &second).ok());
  const int64_t first = Keys(project_.id)[0].id;
  ASSERT_TRUE(store_->DeleteKey(project_.id, first).ok());
  const std::vector<model::ProjectKey> keys = Keys(project_.id);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].id, second.id);
  EXPECT_EQ(ProjectKeyShown(project_.id), second.public_key);
  EXPECT_EQ(store_->DeleteKey(project_.id, first).code(),
            Status::Code::kNotFound);
  model::Project other;
  ASSERT_TRUE(store_->CreateProject("other", &other).ok());
  EXPECT_EQ(store_->DeleteKey(other.id, second.id).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(Keys(project_.id).size(), 1u);
}

// Small batches so that the delete takes several transactions per table.
class DeleteProjectTest : public StoreKeysTest {
 protected:
  DeleteProjectTest() { options_.delete_batch = 2; }
};

TEST_F(DeleteProjectTest, DeletesEverythingOfTheProjectAndNothingElse) {
  model::Project other;
  ASSERT_TRUE(store_->CreateProject("other", &other).ok());
  std::vector<model::WriteItem> items;
  for (int i = 1; i <= 7; ++i) {
    items.push_back(
        MakeItem(project_.id, i, "fp" + std::to_string(i % 3), 1000 + i));
  }
  for (int i = 8; i <= 10; ++i) {
    items.push_back(MakeItem(other.id, i, "fp", 1000 + i));
  }
  Write(items);
  std::vector<model::Attachment> attachments(2);
  for (int i = 0; i < 2; ++i) {
    attachments[i].id = EventId(100 + i);
    attachments[i].project_id = i == 0 ? project_.id : other.id;
    attachments[i].event_id = EventId(i == 0 ? 1 : 8);
    attachments[i].filename = "a.txt";
    attachments[i].content_type = "text/plain";
    attachments[i].data = "bytes";
    attachments[i].size = 5;
    attachments[i].received = 1000;
  }
  ASSERT_TRUE(store_->WriteAttachments(attachments).ok());
  model::ProjectKey extra;
  ASSERT_TRUE(store_->CreateKey(project_.id, "extra", 0, &extra).ok());
  ASSERT_EQ(Count("groups", project_.id), 3);

  const Status status = store_->DeleteProject(project_.id);
  ASSERT_TRUE(status.ok()) << status.message();

  model::Project gone;
  EXPECT_EQ(store_->GetProject(project_.id, &gone).code(),
            Status::Code::kNotFound);
  for (const char* table : {"events", "groups", "project_keys", "attachments",
                            "transactions", "group_aliases", "monitors",
                            "session_records", "releases", "feedback"}) {
    EXPECT_EQ(Count(table, project_.id), 0) << table;
  }
  EXPECT_EQ(QueryInt(store_->path(),
                     "SELECT count(*) FROM event_search WHERE rowid <= 7"),
            0);
  // The other project is untouched.
  EXPECT_EQ(Count("events", other.id), 3);
  EXPECT_EQ(Count("groups", other.id), 1);
  EXPECT_EQ(Count("attachments", other.id), 1);
  EXPECT_EQ(Keys(other.id).size(), 1u);
  std::vector<model::ProjectKey> all;
  ASSERT_TRUE(store_->ListAllKeys(&all).ok());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].project_id, other.id);
  std::vector<model::Project> projects;
  ASSERT_TRUE(store_->ListProjects(&projects).ok());
  ASSERT_EQ(projects.size(), 1u);
  EXPECT_EQ(projects[0].id, other.id);
  EXPECT_EQ(store_->IntegrityCheck().code(), Status::Code::kOk);
  // The store goes on storing.
  Write({MakeItem(other.id, 11, "fp", 2000)});
  EXPECT_EQ(Count("events", other.id), 4);
}

TEST_F(DeleteProjectTest, UnknownProjectIsNotFoundAndDeleteIsFinal) {
  EXPECT_EQ(store_->DeleteProject(12345).code(), Status::Code::kNotFound);
  ASSERT_TRUE(store_->DeleteProject(project_.id).ok());
  EXPECT_EQ(store_->DeleteProject(project_.id).code(), Status::Code::kNotFound);
  std::vector<model::ProjectKey> keys;
  EXPECT_EQ(store_->ListKeys(project_.id, &keys).code(),
            Status::Code::kNotFound);
  // The name can be used again, with a new key.
  model::Project again;
  ASSERT_TRUE(store_->CreateProject("default", &again).ok());
  EXPECT_NE(again.public_key, project_.public_key);
  EXPECT_EQ(Keys(again.id).size(), 1u);
}

TEST_F(DeleteProjectTest, NewestEventsDeletedKeepTheFoldedBoundBelowNewIds) {
  model::Project other;
  ASSERT_TRUE(store_->CreateProject("other", &other).ok());
  Write({MakeItem(other.id, 1, "fp", 1000)});
  Write({MakeItem(project_.id, 2, "fp", 1001),
         MakeItem(project_.id, 3, "fp", 1002)});
  ASSERT_TRUE(store_->FlushGroupCounters().ok());
  ASSERT_TRUE(store_->DeleteProject(project_.id).ok());
  const int64_t max_id = QueryInt(store_->path(), "SELECT max(id) FROM events");
  const int64_t bound = QueryInt(
      store_->path(),
      "SELECT value FROM store_state WHERE name = 'groups_folded_below'");
  EXPECT_LE(bound, max_id + 1);
}

}  // namespace
}  // namespace store
}  // namespace crashctl
