// Projects, migrations, writing events and grouping, event lookups.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "store/migrations.h"
#include "store_test_util.h"

namespace crashctl {
namespace store {
namespace {

using testing_util::EventId;
using testing_util::MakeItem;
using testing_util::QueryInt;
using testing_util::QueryText;
using testing_util::StoreTest;
using testing_util::TempDir;

TEST(StoreOpenTest, CreatesParentDirectoryAndMigratesOnce) {
  TempDir dir;
  const std::string path = dir.File("a/b/crashctl.db");
  for (int i = 0; i < 3; ++i) {  // reopening applies nothing twice
    std::string error;
    std::unique_ptr<Store> store = OpenSqlite(path, &error);
    ASSERT_NE(store, nullptr) << error;
    if (i == 0) {
      model::Project project;
      ASSERT_TRUE(store->CreateProject("keep", &project).ok());
    }
    std::vector<model::Project> projects;
    ASSERT_TRUE(store->ListProjects(&projects).ok());
    ASSERT_EQ(projects.size(), 1u);  // data survives reopen
  }
  // One row per migration (the numbers may have gaps while helpers' branches
  // are apart).
  EXPECT_EQ(QueryInt(path, "SELECT count(*) FROM schema_migrations"),
            static_cast<int>(SchemaMigrations().size()));
  EXPECT_EQ(QueryInt(path, "SELECT max(version) FROM schema_migrations"),
            LatestSchemaVersion());
  EXPECT_EQ(QueryInt(path, "PRAGMA user_version"), LatestSchemaVersion());
  EXPECT_EQ(QueryInt(path, "PRAGMA auto_vacuum"), 2);  // incremental
}

// Version 3 drops the groups indexes without project_id from a version 2
// database, keeping its data, and lists still work (sorting the table).
TEST(StoreOpenTest, Versions3And4UpgradeAVersion2Database) {
  TempDir dir;
  const std::string path = dir.File("crashctl.db");
  const char kCountGlobal[] =
      "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
      "('groups_last_seen', 'groups_count', 'groups_first_seen', "
      "'groups_level', 'groups_service')";
  int64_t group_id = 0;
  {
    std::string error;
    std::unique_ptr<Store> store = OpenSqlite(path, &error);
    ASSERT_NE(store, nullptr) << error;
    model::Project project;
    ASSERT_TRUE(store->CreateProject("p", &project).ok());
    std::vector<model::WriteOutcome> outcomes;
    ASSERT_TRUE(
        store->WriteEvents({MakeItem(project.id, 1, "fp", 100)}, &outcomes)
            .ok());
    group_id = outcomes[0].group_id;
  }
  EXPECT_EQ(QueryInt(path, kCountGlobal), 0);
  {
    // Back to version 2 as it was written.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(db,
                     "CREATE INDEX groups_last_seen ON groups (last_seen);"
                     "CREATE INDEX groups_count ON groups (count);"
                     "CREATE INDEX groups_first_seen ON groups "
                     "(first_seen);"
                     "CREATE INDEX groups_level ON groups (level);"
                     "CREATE INDEX groups_service ON groups (service);"
                     "DROP TABLE store_state;"
                     "DROP TABLE transactions;"
                     "DROP TABLE tracing_labels;"
                     "DROP TABLE session_records;"
                     "DROP TABLE session_open_count;"
                     "DROP TABLE release_sessions;"
                     "DROP TABLE release_users;"
                     "DROP TABLE releases;"
                     "DROP TABLE monitor_checkins;"  // version 7
                     "DROP TABLE monitors;"
                     "DROP INDEX events_trace;"
                     "ALTER TABLE events DROP COLUMN trace_id;"
                     "ALTER TABLE events DROP COLUMN span_id;"
                     "ALTER TABLE groups DROP COLUMN folded_event_id;"
                     // version 8 (issue 18, ingest)
                     "DROP TRIGGER events_delete_attachments;"
                     "DROP TRIGGER events_group_feedback;"
                     "DROP TABLE attachments;"
                     "DROP TABLE feedback;"
                     "ALTER TABLE events DROP COLUMN sdk;"
                     // version 9 (issue 19)
                     "DROP TRIGGER events_delete_search;"
                     "DROP TRIGGER groups_delete_search;"
                     "DROP TABLE group_aliases;"
                     "DROP TABLE event_tags;"
                     "DROP TABLE group_tags;"
                     "DROP TABLE group_tag_keys;"
                     "DROP TABLE group_hours;"
                     "DROP TABLE group_search;"
                     "DROP TABLE event_search;"
                     "DROP TABLE project_keys;"
                     "DROP INDEX events_project_timestamp;"
                     "DROP INDEX groups_all_last_seen;"
                     "DROP INDEX groups_all_first_seen;"
                     "DROP INDEX groups_status_last_seen;"
                     "DROP INDEX groups_level_last_seen;"
                     "DROP INDEX groups_service_last_seen;"
                     "DROP INDEX groups_first_release_last_seen;"
                     "ALTER TABLE groups DROP COLUMN users;"
                     "ALTER TABLE events DROP COLUMN user_id;"
                     "ALTER TABLE events DROP COLUMN tags;"
                     "DELETE FROM schema_migrations WHERE version >= 3;"
                     "PRAGMA user_version = 2;",
                     nullptr, nullptr, nullptr),
        SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  ASSERT_EQ(QueryInt(path, kCountGlobal), 5);
  std::string error;
  // Versions 3 to 6; the ingesting store recovers group counters from the
  // watermark version 4 sets, which must not count the old event again.
  std::unique_ptr<Store> store = OpenSqliteForIngest(path, &error);
  ASSERT_NE(store, nullptr) << error;
  EXPECT_EQ(QueryInt(path, kCountGlobal), 0);
  EXPECT_EQ(QueryInt(path, "PRAGMA user_version"), LatestSchemaVersion());
  model::Page<model::Group> page;
  ASSERT_TRUE(store->ListGroups(GroupQuery(), &page).ok());
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].id, group_id);
  EXPECT_EQ(page.items[0].count, 1);
}

TEST(StoreOpenTest, UsesWalAndForeignKeys) {
  TempDir dir;
  const std::string path = dir.File("crashctl.db");
  std::string error;
  auto store = SqliteStore::Open(path, SqliteStore::Options(), &error);
  ASSERT_NE(store, nullptr) << error;
  EXPECT_EQ(QueryText(path, "PRAGMA journal_mode"), "wal");
  // Foreign keys are enforced: an event for a missing project fails.
  std::vector<model::WriteOutcome> outcomes;
  Status status =
      store->WriteEvents({MakeItem(/*project=*/999, 1, "fp", 100)}, &outcomes);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("FOREIGN KEY"), std::string::npos)
      << status.message();
}

TEST(StoreOpenTest, RefusesNewerSchema) {
  TempDir dir;
  const std::string path = dir.File("crashctl.db");
  {
    std::string error;
    ASSERT_NE(OpenSqlite(path, &error), nullptr) << error;
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (9999, 0)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  std::string error;
  EXPECT_EQ(OpenSqlite(path, &error), nullptr);
  EXPECT_NE(error.find("newer"), std::string::npos) << error;
}

TEST(StoreOpenTest, FailsOnUnusablePath) {
  TempDir dir;
  std::string error;
  // The parent "directory" is a regular file.
  FILE* f = std::fopen(dir.File("file").c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  EXPECT_EQ(OpenSqlite(dir.File("file/crashctl.db"), &error), nullptr);
  EXPECT_FALSE(error.empty());
}

TEST_F(StoreTest, CreateProjectGivesKeyAndRejectsBadNames) {
  EXPECT_GT(project_.id, 0);
  EXPECT_EQ(project_.name, "default");
  ASSERT_EQ(project_.public_key.size(), 32u);
  EXPECT_EQ(project_.public_key.find_first_not_of("0123456789abcdef"),
            std::string::npos);
  EXPECT_GT(project_.created_at, 1.6e9);

  struct Case {
    std::string name;
    Status::Code want;
  };
  const Case cases[] = {
      {"", Status::Code::kInvalid},
      {"  \t", Status::Code::kInvalid},
      {"a\tb", Status::Code::kInvalid},  // would break `project list`
      {"line\nbreak", Status::Code::kInvalid},
      {"default", Status::Code::kConflict},  // duplicate
      {std::string(201, 'x'), Status::Code::kInvalid},
      {"second", Status::Code::kOk},
  };
  for (const Case& c : cases) {
    model::Project p;
    Status status = store_->CreateProject(c.name, &p);
    EXPECT_EQ(status.code(), c.want)
        << c.name.substr(0, 20) << ": " << status.message();
  }
  std::vector<model::Project> projects;
  ASSERT_TRUE(store_->ListProjects(&projects).ok());
  ASSERT_EQ(projects.size(), 2u);
  EXPECT_EQ(projects[0].name, "default");
  EXPECT_EQ(projects[1].name, "second");
  EXPECT_NE(projects[0].public_key, projects[1].public_key);

  model::Project got;
  ASSERT_TRUE(store_->GetProject(project_.id, &got).ok());
  EXPECT_EQ(got.public_key, project_.public_key);
  EXPECT_EQ(store_->GetProject(12345, &got).code(), Status::Code::kNotFound);
}

TEST_F(StoreTest, GroupsEventsAndTracksCountsAndTimes) {
  std::vector<model::WriteItem> items = {
      MakeItem(project_.id, 1, "fp-a", 200),
      MakeItem(project_.id, 2, "fp-b", 150),
      MakeItem(project_.id, 3, "fp-a", 300),  // same new group in one batch
      MakeItem(project_.id, 4, "fp-a", 100),  // older: lowers first_seen
  };
  items[0].event.release = "1.0";
  items[2].event.level = model::Level::kFatal;
  items[2].event.service = "checkout";
  items[2].event.release = "1.1";
  items[2].grouping.title = "Error: newest title";
  items[3].event.level =
      model::Level::kWarning;  // older event: does not set "latest"
  items[3].event.release = "0.9";
  auto outcomes = Write(items);
  ASSERT_EQ(outcomes.size(), 4u);
  EXPECT_TRUE(outcomes[0].new_group);
  EXPECT_TRUE(outcomes[1].new_group);
  EXPECT_FALSE(outcomes[2].new_group);
  EXPECT_FALSE(outcomes[3].new_group);
  EXPECT_EQ(outcomes[0].group_id, outcomes[2].group_id);
  EXPECT_EQ(outcomes[0].group_id, outcomes[3].group_id);
  EXPECT_NE(outcomes[0].group_id, outcomes[1].group_id);
  for (const auto& o : outcomes) {
    EXPECT_FALSE(o.duplicate);
    EXPECT_FALSE(o.regression);
  }

  model::Group a;
  ASSERT_TRUE(store_->GetGroup(outcomes[0].group_id, &a).ok());
  EXPECT_EQ(a.project_id, project_.id);
  EXPECT_EQ(a.fingerprint, "fp-a");
  EXPECT_EQ(a.count, 3);
  EXPECT_EQ(a.first_seen, 100);
  EXPECT_EQ(a.last_seen, 300);
  EXPECT_EQ(a.status, model::GroupStatus::kUnresolved);
  EXPECT_EQ(a.level, model::Level::kFatal);
  EXPECT_EQ(a.service, "checkout");
  EXPECT_EQ(a.release, "1.1");
  EXPECT_EQ(a.first_release, "1.0");
  EXPECT_EQ(a.title, "Error: newest title");
  EXPECT_EQ(a.culprit, "app.js in handler");
  EXPECT_EQ(a.regression_count, 0);

  // A later batch keeps counting.
  outcomes = Write({MakeItem(project_.id, 5, "fp-a", 400)});
  ASSERT_TRUE(store_->GetGroup(outcomes[0].group_id, &a).ok());
  EXPECT_EQ(a.count, 4);
  EXPECT_EQ(a.last_seen, 400);
  EXPECT_EQ(a.level, model::Level::kError);
  EXPECT_EQ(a.service, "");  // service of the latest event

  model::Group missing;
  EXPECT_EQ(store_->GetGroup(9999, &missing).code(), Status::Code::kNotFound);
}

// A batch updates each group once for all its events: the result must be
// the same as writing the events one batch each.
TEST_F(StoreTest, OneBatchEqualsOneEventAtATime) {
  struct Spec {
    double timestamp;
    const char* level;
    const char* release;
    const char* service;
  };
  // Out of order, a tie on the newest timestamp (the later event wins), an
  // empty release first, an old event after the newest.
  const Spec specs[] = {{500, "error", "", "api"},
                        {700, "fatal", "2.0", "web"},
                        {300, "warning", "1.0", "old"},
                        {700, "info", "2.1", "tie"},
                        {650, "debug", "", "late"}};
  int64_t n = 0;
  auto make = [&](const std::string& fp, const Spec& spec) {
    model::WriteItem item = MakeItem(project_.id, ++n, fp, spec.timestamp);
    model::ParseLevel(spec.level, &item.event.level);
    item.event.release = spec.release;
    item.event.service = spec.service;
    item.grouping.title = std::string("title ") + spec.service;
    item.grouping.culprit = std::string("culprit ") + spec.service;
    return item;
  };
  for (const char* fp : {"batched", "single"}) {
    Spec first = {400, "error", "", "first"};
    auto outcomes = Write({make(fp, first)});
    model::Group group;
    ASSERT_TRUE(store_
                    ->SetGroupStatus(outcomes[0].group_id,
                                     model::GroupStatus::kResolved, &group)
                    .ok());
  }
  std::vector<model::WriteItem> batch;
  for (const Spec& spec : specs) batch.push_back(make("batched", spec));
  const std::vector<model::WriteOutcome> batched = Write(batch);
  std::vector<model::WriteOutcome> single;
  for (const Spec& spec : specs)
    single.push_back(Write({make("single", spec)})[0]);
  for (size_t i = 0; i < batched.size(); ++i) {
    EXPECT_EQ(batched[i].regression, single[i].regression) << i;
    EXPECT_EQ(batched[i].regression, i == 0) << i;
  }
  model::Group a;
  model::Group b;
  ASSERT_TRUE(store_->GetGroup(batched[0].group_id, &a).ok());
  ASSERT_TRUE(store_->GetGroup(single[0].group_id, &b).ok());
  EXPECT_EQ(a.count, 6);
  EXPECT_EQ(a.count, b.count);
  EXPECT_EQ(a.first_seen, b.first_seen);
  EXPECT_EQ(a.last_seen, b.last_seen);
  EXPECT_EQ(a.title, b.title);
  EXPECT_EQ(a.title, "title tie");
  EXPECT_EQ(a.culprit, b.culprit);
  EXPECT_EQ(a.level, b.level);
  EXPECT_EQ(a.service, b.service);
  EXPECT_EQ(a.release, b.release);
  EXPECT_EQ(a.first_release, b.first_release);
  EXPECT_EQ(a.first_release, "2.0");
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.status, model::GroupStatus::kUnresolved);
  EXPECT_EQ(a.regression_count, b.regression_count);
  EXPECT_EQ(a.regression_count, 1);
  EXPECT_EQ(a.first_seen, 300);  // the batch's oldest, below the stored 400
}

// first_seen and the reopening of a resolved group are set by statements of
// their own, only when they change; a group created by a batch must still
// take the oldest first_seen of that batch, and a batch of only newer events
// must leave first_seen and status alone.
TEST_F(StoreTest, GroupCreatedByABatchTakesItsOldestEvent) {
  auto outcomes = Write({MakeItem(project_.id, 1, "fp", 500),
                         MakeItem(project_.id, 2, "fp", 300),
                         MakeItem(project_.id, 3, "fp", 800)});
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_TRUE(outcomes[0].new_group);
  model::Group group;
  ASSERT_TRUE(store_->GetGroup(outcomes[0].group_id, &group).ok());
  EXPECT_EQ(group.count, 3);
  EXPECT_EQ(group.first_seen, 300);
  EXPECT_EQ(group.last_seen, 800);

  ASSERT_TRUE(
      store_->SetGroupStatus(group.id, model::GroupStatus::kIgnored, &group)
          .ok());
  Write({MakeItem(project_.id, 4, "fp", 900),
         MakeItem(project_.id, 5, "fp", 600)});
  ASSERT_TRUE(store_->GetGroup(group.id, &group).ok());
  EXPECT_EQ(group.count, 5);
  EXPECT_EQ(group.first_seen, 300);
  EXPECT_EQ(group.last_seen, 900);
  EXPECT_EQ(group.status,
            model::GroupStatus::kIgnored);  // only a resolved group reopens
  EXPECT_EQ(group.regression_count, 0);
  EXPECT_TRUE(store_->IntegrityCheck().ok());
}

TEST_F(StoreTest, NonFiniteTimestampFallsBackToReceived) {
  model::WriteItem item = MakeItem(project_.id, 1, "fp", 0);
  item.event.timestamp = std::nan("");
  item.event.received = 1234.5;
  auto outcomes = Write({item, MakeItem(project_.id, 2, "fp", 2000)});
  ASSERT_EQ(outcomes.size(), 2u);
  model::StoredEvent event;
  ASSERT_TRUE(store_->GetEvent(EventId(1), &event).ok());
  EXPECT_EQ(event.timestamp, 1234.5);
  model::Group group;
  ASSERT_TRUE(store_->GetGroup(outcomes[0].group_id, &group).ok());
  EXPECT_EQ(group.first_seen, 1234.5);
  EXPECT_EQ(group.last_seen, 2000);
}

TEST_F(StoreTest, SameFingerprintInOtherProjectIsOtherGroup) {
  model::Project other;
  ASSERT_TRUE(store_->CreateProject("other", &other).ok());
  auto outcomes = Write(
      {MakeItem(project_.id, 1, "fp", 100), MakeItem(other.id, 2, "fp", 100)});
  EXPECT_TRUE(outcomes[0].new_group);
  EXPECT_TRUE(outcomes[1].new_group);
  EXPECT_NE(outcomes[0].group_id, outcomes[1].group_id);
}

TEST_F(StoreTest, DuplicateEventIdsAreIdempotent) {
  auto first = Write({MakeItem(project_.id, 1, "fp", 100)});
  // Retried by the SDK, in a later batch and twice in one batch.
  auto again = Write({MakeItem(project_.id, 1, "fp", 100),
                      MakeItem(project_.id, 2, "fp", 110),
                      MakeItem(project_.id, 2, "fp", 110)});
  EXPECT_TRUE(again[0].duplicate);
  EXPECT_FALSE(again[1].duplicate);
  EXPECT_TRUE(again[2].duplicate);
  EXPECT_FALSE(again[0].new_group);
  model::Group group;
  ASSERT_TRUE(store_->GetGroup(first[0].group_id, &group).ok());
  EXPECT_EQ(group.count, 2);
}

TEST_F(StoreTest, RegressionReopensResolvedButNotIgnored) {
  struct Case {
    std::string status;
    bool regression;
    std::string status_after;
  };
  const Case cases[] = {
      {"resolved", true, "unresolved"},
      {"ignored", false, "ignored"},
      {"unresolved", false, "unresolved"},
  };
  int64_t n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.status);
    std::string fp = "fp-" + c.status;
    auto outcomes = Write({MakeItem(project_.id, ++n, fp, 100)});
    model::Group group;
    model::GroupStatus status;
    ASSERT_TRUE(model::ParseGroupStatus(c.status, &status));
    ASSERT_TRUE(
        store_->SetGroupStatus(outcomes[0].group_id, status, &group).ok());
    EXPECT_EQ(model::ToString(group.status), c.status);
    outcomes = Write({MakeItem(project_.id, ++n, fp, 200),
                      MakeItem(project_.id, ++n, fp, 300)});
    EXPECT_EQ(outcomes[0].regression, c.regression);
    EXPECT_FALSE(outcomes[1].regression);  // reopened by the first already
    ASSERT_TRUE(store_->GetGroup(outcomes[0].group_id, &group).ok());
    EXPECT_EQ(model::ToString(group.status), c.status_after);
    EXPECT_EQ(group.regression_count, c.regression ? 1 : 0);
    EXPECT_EQ(group.count, 3);
  }
  model::Group group;
  EXPECT_EQ(store_->SetGroupStatus(9999, model::GroupStatus::kResolved, &group)
                .code(),
            Status::Code::kNotFound);
}

TEST_F(StoreTest, FailedBatchWritesNothing) {
  std::vector<model::WriteItem> items = {
      MakeItem(project_.id, 1, "fp-ok", 100),
      MakeItem(/*project=*/777, 2, "fp-bad", 100)};
  std::vector<model::WriteOutcome> outcomes;
  Status status = store_->WriteEvents(items, &outcomes);
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(outcomes.empty());
  model::StoredEvent event;
  EXPECT_EQ(store_->GetEvent(EventId(1), &event).code(),
            Status::Code::kNotFound);
  model::Page<model::Group> page;
  ASSERT_TRUE(store_->ListGroups(GroupQuery(), &page).ok());
  EXPECT_TRUE(page.items.empty());
  // And the store keeps working.
  outcomes = Write({MakeItem(project_.id, 1, "fp-ok", 100)});
  EXPECT_TRUE(outcomes[0].new_group);
}

TEST_F(StoreTest, GetEventReturnsFieldsAndPayload) {
  model::WriteItem item = MakeItem(project_.id, 7, "fp", 1700000000.25);
  item.event.server_name = "web-1";
  item.event.environment = "prod";
  item.event.release = "2.0";
  item.event.service = "api";
  auto outcomes = Write({item});
  model::StoredEvent event;
  ASSERT_TRUE(store_->GetEvent(EventId(7), &event).ok());
  EXPECT_EQ(event.event_id, EventId(7));
  EXPECT_EQ(event.project_id, project_.id);
  EXPECT_EQ(event.group_id, outcomes[0].group_id);
  EXPECT_EQ(event.timestamp, 1700000000.25);
  EXPECT_EQ(event.received, 1700000000.75);
  EXPECT_EQ(event.level, model::Level::kError);
  EXPECT_EQ(event.platform, "node");
  EXPECT_EQ(event.message, "message 7");
  EXPECT_EQ(event.release, "2.0");
  EXPECT_EQ(event.environment, "prod");
  EXPECT_EQ(event.server_name, "web-1");
  EXPECT_EQ(event.service, "api");
  EXPECT_EQ(event.title, "Error: fp");
  EXPECT_EQ(event.payload, item.event.raw_json);
  EXPECT_EQ(store_->GetEvent(EventId(8), &event).code(),
            Status::Code::kNotFound);
}

TEST_F(StoreTest, ListGroupEventsNewestFirstWithCursor) {
  std::vector<model::WriteItem> items;
  for (int i = 0; i < 7; ++i) {
    // Two events share each timestamp: the id breaks the tie.
    items.push_back(MakeItem(project_.id, i + 1, "fp", 100 + i / 2));
  }
  auto outcomes = Write(items);
  int64_t group = outcomes[0].group_id;
  std::vector<std::string> seen;
  std::string cursor;
  for (int page_no = 0; page_no < 10; ++page_no) {
    model::Page<model::StoredEvent> page;
    ASSERT_TRUE(store_->ListGroupEvents(group, 3, cursor, &page).ok());
    for (const auto& e : page.items) {
      EXPECT_TRUE(e.payload.empty());  // payload only from GetEvent
      seen.push_back(e.event_id);
    }
    cursor = page.next_cursor;
    if (cursor.empty()) break;
  }
  const std::vector<std::string> want = {EventId(7), EventId(6), EventId(5),
                                         EventId(4), EventId(3), EventId(2),
                                         EventId(1)};
  EXPECT_EQ(seen, want);

  model::Page<model::StoredEvent> page;
  EXPECT_EQ(store_->ListGroupEvents(group, 3, "garbage!", &page).code(),
            Status::Code::kInvalid);
  EXPECT_EQ(store_->ListGroupEvents(9999, 3, "", &page).code(),
            Status::Code::kNotFound);
}

TEST_F(StoreTest, CountGroupsByProjectAndStatus) {
  model::Project other;
  ASSERT_TRUE(store_->CreateProject("other", &other).ok());
  auto outcomes = Write(
      {MakeItem(project_.id, 1, "a", 100), MakeItem(project_.id, 2, "b", 100),
       MakeItem(project_.id, 3, "c", 100), MakeItem(other.id, 4, "a", 100)});
  ASSERT_TRUE(store_
                  ->SetGroupStatus(outcomes[2].group_id,
                                   model::GroupStatus::kResolved, nullptr)
                  .ok());
  std::vector<model::GroupCount> counts;
  ASSERT_TRUE(store_->CountGroups(&counts).ok());
  ASSERT_EQ(counts.size(), 3u);
  EXPECT_EQ(counts[0].project_id, project_.id);
  EXPECT_EQ(counts[0].status, model::GroupStatus::kResolved);
  EXPECT_EQ(counts[0].count, 1);
  EXPECT_EQ(counts[1].project_id, project_.id);
  EXPECT_EQ(counts[1].status, model::GroupStatus::kUnresolved);
  EXPECT_EQ(counts[1].count, 2);
  EXPECT_EQ(counts[2].project_id, other.id);
  EXPECT_EQ(counts[2].count, 1);
}

TEST_F(StoreTest, FindGroupsForPodUsesTagOrServerNameWithinWindow) {
  model::WriteItem by_name = MakeItem(project_.id, 1, "by-name", 1000);
  by_name.event.server_name = "api-7f9c-x2";
  model::WriteItem by_tag = MakeItem(project_.id, 2, "by-tag", 1010);
  by_tag.event.server_name = "some-host";
  by_tag.event.tags = {{"pod", "api-7f9c-x2"}};
  model::WriteItem late = MakeItem(project_.id, 3, "late", 2000);
  late.event.server_name = "api-7f9c-x2";
  model::WriteItem other_pod = MakeItem(project_.id, 4, "other", 1005);
  other_pod.event.server_name = "api-7f9c-zz";
  model::WriteItem no_pod = MakeItem(project_.id, 5, "none", 1005);
  auto outcomes = Write({by_name, by_tag, late, other_pod, no_pod});

  struct Case {
    std::string pod;
    double from, to;
    std::set<int64_t> want;
  };
  const Case cases[] = {
      {"api-7f9c-x2", 900, 1100, {outcomes[0].group_id, outcomes[1].group_id}},
      {"api-7f9c-x2", 1000, 1000, {outcomes[0].group_id}},  // bounds inclusive
      {"api-7f9c-x2", 1001, 3000, {outcomes[1].group_id, outcomes[2].group_id}},
      {"api-7f9c-x2", 3000, 4000, {}},
      {"some-host", 0, 5000, {}},  // the tag wins over server_name
      {"", 0, 5000, {}},           // empty pod never matches
  };
  for (const Case& c : cases) {
    std::vector<int64_t> ids;
    ASSERT_TRUE(store_->FindGroupsForPod(c.pod, c.from, c.to, &ids).ok());
    EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()), c.want)
        << c.pod << " [" << c.from << "," << c.to << "]";
    EXPECT_EQ(ids.size(), c.want.size());  // distinct
  }
}

}  // namespace
}  // namespace store
}  // namespace crashctl
