// Bulk status changes, merges, group deletes and user erasure in SQLite
// (issue 19, docs/storage.md "Merging and deleting"), and retention of the
// tables of schema 9.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "store/batch_writer.h"
#include "store_test_util.h"

namespace crashctl {
namespace store {
namespace {

using testing_util::EventId;
using testing_util::MakeItem;
using testing_util::QueryInt;
using testing_util::StoreTest;

class StoreAdminTest : public StoreTest {
 protected:
  // Writes one event `n` of `fingerprint` at `timestamp` by `user` ("" for
  // none) with release `release`; returns its group.
  int64_t Event(int64_t n, const std::string& fingerprint, double timestamp,
                const std::string& user = "", const std::string& release = "",
                int64_t project = 0) {
    model::WriteItem item = MakeItem(project == 0 ? project_.id : project, n,
                                     fingerprint, timestamp);
    item.event.user = user;
    item.event.release = release;
    const std::vector<model::WriteOutcome> out = Write({item});
    EXPECT_EQ(out.size(), 1u);
    return out.empty() ? 0 : out[0].group_id;
  }

  void Sql(const std::string& sql) {
    const Status status = store_->ExecOnWriter(sql);
    ASSERT_TRUE(status.ok()) << status.message() << "\n" << sql;
  }

  // Makes the rows of schema 9 that the writer keeps at ingest (user key,
  // event_tags, group_tags, group_tag_keys, users, group_hours,
  // group_search) what the stored events say, whether or not the writer
  // wrote them already, so the tests hold either way.
  int64_t Count(const std::string& sql) {
    return QueryInt(store_->path(), sql);
  }
  int64_t RowsOfGroup(const std::string& table, int64_t group) {
    return Count("SELECT count(*) FROM " + table +
                 " WHERE group_id = " + std::to_string(group));
  }
  int64_t TagCount(int64_t group, const std::string& key,
                   const std::string& value) {
    return Count(
        "SELECT coalesce(sum(count), 0) FROM group_tags WHERE "
        "group_id = " +
        std::to_string(group) + " AND key = '" + key + "' AND value = '" +
        value + "'");
  }
  model::Group Group(int64_t id) {
    model::Group group;
    const Status status = store_->GetGroup(id, &group);
    EXPECT_TRUE(status.ok()) << status.message();
    return group;
  }
  bool Exists(int64_t group) {
    model::Group unused;
    return store_->GetGroup(group, &unused).ok();
  }
  int64_t LinkCrash(const std::string& key, int64_t group) {
    model::Crash crash;
    crash.dedup_key = key;
    crash.pod = "pod-" + key;
    crash.created_at = crash.updated_at = 1000;
    int64_t id = 0;
    bool inserted = false;
    EXPECT_TRUE(store_->UpsertCrash(crash, &id, &inserted).ok());
    EXPECT_TRUE(store_->LinkCrashGroup(id, group).ok());
    return id;
  }
  void Attach(int64_t n) {
    model::Attachment a;
    a.id = EventId(900000 + n);
    a.project_id = project_.id;
    a.event_id = EventId(n);
    a.filename = "log.txt";
    a.data = "bytes";
    a.size = 5;
    a.received = 1000;
    ASSERT_TRUE(store_->WriteAttachments({a}).ok());
    model::Feedback f;
    f.project_id = project_.id;
    f.kind = "user_report";
    f.feedback_id = EventId(800000 + n);
    f.event_id = EventId(n);
    f.comments = "it broke";
    f.timestamp = f.received = 1000;
    ASSERT_TRUE(store_->WriteFeedback({f}).ok());
  }
};

// --- bulk status ------------------------------------------------------------

TEST_F(StoreAdminTest, SetGroupsStatusChangesAllInIdsOrder) {
  const int64_t a = Event(1, "a", 100);
  const int64_t b = Event(2, "b", 200);
  const int64_t c = Event(3, "c", 300);
  std::vector<model::Group> out;
  ASSERT_TRUE(
      store_->SetGroupsStatus({c, a, c}, model::GroupStatus::kResolved, &out)
          .ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].id, c);
  EXPECT_EQ(out[1].id, a);
  EXPECT_EQ(out[0].status, model::GroupStatus::kResolved);
  EXPECT_EQ(out[1].count, 1);
  EXPECT_EQ(Group(a).status, model::GroupStatus::kResolved);
  EXPECT_EQ(Group(b).status, model::GroupStatus::kUnresolved);
  EXPECT_EQ(Count("SELECT count(*) FROM groups WHERE resolved_at IS NOT NULL"),
            2);
}

TEST_F(StoreAdminTest, SetGroupsStatusWithAMissingIdChangesNothing) {
  const int64_t a = Event(1, "a", 100);
  std::vector<model::Group> out;
  const Status status = store_->SetGroupsStatus(
      {a, a + 1000}, model::GroupStatus::kIgnored, &out);
  EXPECT_EQ(status.code(), Status::Code::kNotFound);
  EXPECT_NE(status.message().find(std::to_string(a + 1000)), std::string::npos);
  EXPECT_EQ(Group(a).status, model::GroupStatus::kUnresolved);
}

TEST_F(StoreAdminTest, SetGroupsStatusBoundsTheIds) {
  std::vector<model::Group> out;
  EXPECT_EQ(
      store_->SetGroupsStatus({}, model::GroupStatus::kIgnored, &out).code(),
      Status::Code::kInvalid);
  std::vector<int64_t> many;
  for (int64_t i = 1; i <= static_cast<int64_t>(kMaxBulkGroups) + 1; ++i) {
    many.push_back(i);
  }
  EXPECT_EQ(
      store_->SetGroupsStatus(many, model::GroupStatus::kIgnored, &out).code(),
      Status::Code::kInvalid);
}

// --- merge ------------------------------------------------------------------

TEST_F(StoreAdminTest, MergeMovesEverythingAndRecomputesCounters) {
  const int64_t a = Event(1, "a", 1000, "u1", "1.1");
  Event(2, "a", 5000, "u2", "1.1");
  const int64_t b = Event(3, "b", 500, "u1", "1.0");
  Event(4, "b", 9000, "u3", "1.2");
  const int64_t c = Event(5, "c", 7300, "u1", "1.1");
  const int64_t crash_b = LinkCrash("crash-b", b);
  const int64_t crash_a = LinkCrash("crash-a", a);
  Attach(3);
  const int64_t hours_before = Count("SELECT sum(count) FROM group_hours");

  model::Group merged;
  const Status status = store_->MergeGroups(a, {b, c, b}, &merged);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(merged.id, a);
  EXPECT_EQ(merged.count, 5);
  EXPECT_DOUBLE_EQ(merged.first_seen, 500);
  EXPECT_DOUBLE_EQ(merged.last_seen, 9000);
  EXPECT_EQ(merged.first_release, "1.0");  // b's first event came first
  EXPECT_EQ(merged.release, "1.2");        // the latest event's
  EXPECT_EQ(merged.fingerprint, "a");
  EXPECT_EQ(merged.users, 3);  // u1 in all three counts once
  EXPECT_EQ(std::set<int64_t>(merged.linked_crashes.begin(),
                              merged.linked_crashes.end()),
            (std::set<int64_t>{crash_a, crash_b}));
  EXPECT_FALSE(Exists(b));
  EXPECT_FALSE(Exists(c));

  // Events, with their attachments and feedback.
  model::Page<model::StoredEvent> events;
  ASSERT_TRUE(store_->ListGroupEvents(a, 50, "", &events).ok());
  EXPECT_EQ(events.items.size(), 5u);
  std::vector<model::Attachment> attachments;
  ASSERT_TRUE(store_->ListAttachments(EventId(3), &attachments).ok());
  EXPECT_EQ(attachments.size(), 1u);
  std::vector<model::Feedback> feedback;
  ASSERT_TRUE(store_->ListGroupFeedback(a, 10, &feedback).ok());
  EXPECT_EQ(feedback.size(), 1u);

  // Tag counts add up, hours add up, search rows follow.
  EXPECT_EQ(TagCount(a, "user", "u1"), 3);
  EXPECT_EQ(TagCount(a, "release", "1.1"), 3);
  EXPECT_EQ(TagCount(a, "level", "error"), 5);
  EXPECT_EQ(Count("SELECT values_kept FROM group_tag_keys WHERE group_id = " +
                  std::to_string(a) + " AND key = 'user'"),
            3);
  EXPECT_EQ(Count("SELECT sum(count) FROM group_hours"), hours_before);
  EXPECT_EQ(RowsOfGroup("group_hours", a), 3);  // hours 0, 1 and 2
  EXPECT_EQ(RowsOfGroup("group_search", a), 3);
  for (int64_t gone : {b, c}) {
    for (const char* table : {"group_tags", "group_tag_keys", "group_hours",
                              "group_search", "crash_groups", "feedback"}) {
      EXPECT_EQ(RowsOfGroup(table, gone), 0) << table;
    }
  }
  // The merged fingerprints point at the survivor.
  EXPECT_EQ(Count("SELECT count(*) FROM group_aliases WHERE group_id = " +
                  std::to_string(a) + " AND fingerprint IN ('b', 'c')"),
            2);
  EXPECT_TRUE(store_->IntegrityCheck().ok());
}

TEST_F(StoreAdminTest, LaterEventsOfMergedFingerprintsLandInTheSurvivor) {
  const int64_t a = Event(1, "a", 100, "u1");
  const int64_t b = Event(2, "b", 200, "u2");
  const int64_t d = Event(3, "d", 300);
  ASSERT_TRUE(store_->MergeGroups(b, {d}, nullptr).ok());
  ASSERT_TRUE(store_->MergeGroups(a, {b}, nullptr).ok());
  // Through the aliases, also of the earlier merge.
  EXPECT_EQ(Event(4, "b", 400, "u3"), a);
  EXPECT_EQ(Event(5, "d", 500), a);
  EXPECT_EQ(Event(6, "a", 600), a);
  const model::Group group = Group(a);
  EXPECT_EQ(group.count, 6);
  EXPECT_DOUBLE_EQ(group.last_seen, 600);
  EXPECT_EQ(group.users, 3);
  EXPECT_EQ(TagCount(a, "user", "u3"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM groups"), 1);
  // A fingerprint never seen still makes a group of its own.
  EXPECT_NE(Event(7, "e", 700), a);
}

TEST_F(StoreAdminTest, MergeRepointsAliasesOfEarlierMerges) {
  const int64_t a = Event(1, "a", 100);
  const int64_t b = Event(2, "b", 200);
  const int64_t d = Event(3, "d", 300);
  ASSERT_TRUE(store_->MergeGroups(b, {d}, nullptr).ok());
  ASSERT_TRUE(store_->MergeGroups(a, {b}, nullptr).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM group_aliases WHERE group_id = " +
                  std::to_string(a)),
            2);  // b and d
  EXPECT_EQ(Count("SELECT count(*) FROM group_aliases"), 2);
  EXPECT_EQ(Group(a).count, 3);
}

TEST_F(StoreAdminTest, MergeFoldsTagValuesPastTheBoundIntoOtherCount) {
  const int64_t a = Event(1, "a", 100);
  const int64_t b = Event(2, "b", 200);
  // `a` keeps as many values of `custom` as a key may (one of them is v1):
  // b's new values do not fit.
  Sql("INSERT INTO group_tag_keys (group_id, key, values_kept, other_count) "
      "VALUES (" +
      std::to_string(a) + ", 'custom', " + std::to_string(kMaxGroupTagValues) +
      ", 0), (" + std::to_string(b) + ", 'custom', 3, 2)");
  Sql("INSERT INTO group_tags (group_id, key, value, count, first_seen, "
      "last_seen) VALUES (" +
      std::to_string(a) + ", 'custom', 'v1', 1, 100, 100), (" +
      std::to_string(b) + ", 'custom', 'v1', 4, 50, 200), (" +
      std::to_string(b) + ", 'custom', 'x', 5, 200, 200), (" +
      std::to_string(b) + ", 'custom', 'y', 6, 200, 200)");
  ASSERT_TRUE(store_->MergeGroups(a, {b}, nullptr).ok());
  EXPECT_EQ(TagCount(a, "custom", "v1"), 5);  // known value: added
  EXPECT_EQ(TagCount(a, "custom", "x"), 0);   // past the bound
  EXPECT_EQ(Count("SELECT other_count FROM group_tag_keys WHERE group_id = " +
                  std::to_string(a) + " AND key = 'custom'"),
            2 + 5 + 6);
  EXPECT_EQ(Count("SELECT values_kept FROM group_tag_keys WHERE group_id = " +
                  std::to_string(a) + " AND key = 'custom'"),
            kMaxGroupTagValues);
  EXPECT_EQ(Count("SELECT min(first_seen) FROM group_tags WHERE group_id = " +
                  std::to_string(a) + " AND value = 'v1'"),
            50);
  // Other keys add up as before.
  EXPECT_EQ(TagCount(a, "level", "error"), 2);
}

TEST_F(StoreAdminTest, MergeRefusesBadRequestsAndChangesNothing) {
  const int64_t a = Event(1, "a", 100);
  const int64_t b = Event(2, "b", 200);
  model::Project other;
  ASSERT_TRUE(store_->CreateProject("other", &other).ok());
  const int64_t x = Event(3, "x", 300, "", "", other.id);
  EXPECT_EQ(store_->MergeGroups(a, {a}, nullptr).code(),
            Status::Code::kInvalid);
  EXPECT_EQ(store_->MergeGroups(a, {}, nullptr).code(), Status::Code::kInvalid);
  EXPECT_EQ(store_->MergeGroups(a, {b, x}, nullptr).code(),
            Status::Code::kInvalid);
  EXPECT_EQ(store_->MergeGroups(a, {b, x + 100}, nullptr).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(store_->MergeGroups(x + 100, {b}, nullptr).code(),
            Status::Code::kNotFound);
  EXPECT_TRUE(Exists(b));
  EXPECT_EQ(Group(a).count, 1);
  EXPECT_EQ(RowsOfGroup("events", b), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM group_aliases"), 0);
}

TEST_F(StoreAdminTest, MergeWithDeferredCountersCountsEveryEvent) {
  // An ingesting store holds counters in memory; the merge folds them first.
  store_.reset();
  options_.group_fold_interval = std::chrono::seconds(3600);
  std::string error;
  store_ = SqliteStore::Open(dir_.File("data/crashctl.db"), options_, &error);
  ASSERT_NE(store_, nullptr) << error;
  const int64_t a = Event(1, "a", 100);
  const int64_t b = Event(2, "b", 200);
  Event(3, "b", 300);
  ASSERT_GT(store_->GetStats().deferred_updates, 0u);
  model::Group merged;
  ASSERT_TRUE(store_->MergeGroups(a, {b}, &merged).ok());
  EXPECT_EQ(merged.count, 3);
  EXPECT_DOUBLE_EQ(merged.last_seen, 300);
  // The recovery after a crash would not count the moved events again.
  EXPECT_GE(Count("SELECT folded_event_id FROM groups WHERE id = " +
                  std::to_string(a)),
            Count("SELECT max(id) FROM events"));
}

// --- delete group -----------------------------------------------------------

TEST_F(StoreAdminTest, DeleteGroupErasesItAndItsRows) {
  store_.reset();
  options_.delete_batch = 2;  // several batches
  std::string error;
  store_ = SqliteStore::Open(dir_.File("data/crashctl.db"), options_, &error);
  ASSERT_NE(store_, nullptr) << error;
  const int64_t keep = Event(1, "keep", 100, "u1");
  const int64_t gone = Event(2, "gone", 200, "u1");
  for (int64_t n = 3; n <= 7; ++n) Event(n, "gone", 200 + n, "u2");
  const int64_t merged = Event(8, "merged", 300);
  ASSERT_TRUE(store_->MergeGroups(gone, {merged}, nullptr).ok());
  LinkCrash("crash", gone);
  Attach(2);
  Attach(1);
  ASSERT_TRUE(store_->DeleteGroup(gone).ok());
  EXPECT_FALSE(Exists(gone));
  EXPECT_EQ(store_->DeleteGroup(gone).code(), Status::Code::kNotFound);
  for (const char* table :
       {"events", "group_tags", "group_tag_keys", "group_hours", "group_search",
        "crash_groups", "feedback", "group_aliases"}) {
    EXPECT_EQ(RowsOfGroup(table, gone), 0) << table;
  }
  EXPECT_EQ(Count("SELECT count(*) FROM attachments"), 1);  // event 1's
  EXPECT_EQ(Count("SELECT count(*) FROM event_tags WHERE event_row NOT IN "
                  "(SELECT id FROM events)"),
            0);
  EXPECT_EQ(Count("SELECT count(*) FROM event_search WHERE rowid NOT IN "
                  "(SELECT id FROM events)"),
            0);
  EXPECT_EQ(Group(keep).count, 1);
  EXPECT_EQ(RowsOfGroup("group_tags", keep), 2);  // user and level
  // Event ids stay growing for the counters' crash recovery.
  EXPECT_LE(Count("SELECT value FROM store_state WHERE name = "
                  "'groups_folded_below'"),
            Count("SELECT max(id) FROM events") + 1);

  // The fingerprints come back as a new group.
  const int64_t again = Event(9, "gone", 5000);
  const int64_t again_merged = Event(10, "merged", 5001);
  EXPECT_NE(again, keep);
  EXPECT_NE(again_merged, again);
  const model::Group fresh = Group(again);
  EXPECT_EQ(fresh.count, 1);
  EXPECT_DOUBLE_EQ(fresh.first_seen, 5000);
  EXPECT_TRUE(fresh.linked_crashes.empty());
  EXPECT_TRUE(store_->IntegrityCheck().ok());
}

// --- erasing a user's events ------------------------------------------------

TEST_F(StoreAdminTest, DeleteEventsOfAUserRecomputesTheirGroups) {
  store_.reset();
  options_.delete_batch = 2;
  std::string error;
  store_ = SqliteStore::Open(dir_.File("data/crashctl.db"), options_, &error);
  ASSERT_NE(store_, nullptr) << error;
  const int64_t g1 = Event(1, "g1", 1000, "u1", "1.0");
  Event(2, "g1", 2000, "u2", "1.1");
  Event(3, "g1", 9000, "u1", "1.2");
  Event(4, "g1", 9500, "u1", "1.2");
  const int64_t g2 = Event(5, "g2", 3000, "u1");
  const int64_t g3 = Event(6, "g3", 3000, "u3");
  model::Project other;
  ASSERT_TRUE(store_->CreateProject("other", &other).ok());
  const int64_t g4 = Event(7, "g4", 3000, "u1", "", other.id);
  Attach(1);

  int64_t deleted = 0;
  ASSERT_TRUE(
      store_->DeleteEvents(EventDeletion{project_.id, "u1"}, &deleted).ok());
  EXPECT_EQ(deleted, 4);
  const model::Group left = Group(g1);
  EXPECT_EQ(left.count, 1);
  EXPECT_DOUBLE_EQ(left.first_seen, 2000);
  EXPECT_DOUBLE_EQ(left.last_seen, 2000);
  EXPECT_EQ(left.release, "1.1");
  EXPECT_EQ(left.first_release, "1.1");
  EXPECT_EQ(left.users, 1);
  EXPECT_EQ(TagCount(g1, "user", "u1"), 0);
  EXPECT_EQ(TagCount(g1, "level", "error"), 1);
  EXPECT_EQ(TagCount(g1, "release", "1.2"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM group_tags WHERE group_id = " +
                  std::to_string(g1) + " AND count <= 0"),
            0);
  EXPECT_EQ(Count("SELECT values_kept FROM group_tag_keys WHERE group_id = " +
                  std::to_string(g1) + " AND key = 'release'"),
            1);
  EXPECT_EQ(Count("SELECT sum(count) FROM group_hours WHERE group_id = " +
                  std::to_string(g1)),
            1);
  EXPECT_FALSE(Exists(g2));  // no event left
  EXPECT_EQ(RowsOfGroup("group_tags", g2), 0);
  EXPECT_EQ(Group(g3).count, 1);
  EXPECT_EQ(Group(g4).count, 1);  // another project
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE user_id = 'u1'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM attachments"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM feedback"), 0);

  // Every project, then nothing left to do.
  ASSERT_TRUE(store_->DeleteEvents(EventDeletion{{}, "u1"}, &deleted).ok());
  EXPECT_EQ(deleted, 1);
  EXPECT_FALSE(Exists(g4));
  ASSERT_TRUE(store_->DeleteEvents(EventDeletion{{}, "u1"}, &deleted).ok());
  EXPECT_EQ(deleted, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM event_tags WHERE value = 'u1'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM group_tags WHERE value = 'u1'"), 0);
  EXPECT_EQ(store_->DeleteEvents(EventDeletion{{}, ""}, &deleted).code(),
            Status::Code::kInvalid);
  EXPECT_TRUE(store_->IntegrityCheck().ok());
}

// --- retention of the schema 9 tables ---------------------------------------

TEST_F(StoreAdminTest, RetentionTakesTheNewTablesAlong) {
  const int64_t old_group = Event(1, "old", 3600 * 10, "u1");
  const int64_t mixed = Event(2, "mixed", 3600 * 10 + 5, "u1");
  Event(3, "mixed", 3600 * 50, "u2");
  const int64_t source = Event(4, "source", 3600 * 5);
  Event(5, "target", 3600 * 60);  // the newest event, which retention keeps
  ASSERT_TRUE(store_->MergeGroups(old_group, {source}, nullptr).ok());
  int64_t deleted = 0;
  ASSERT_TRUE(store_->DeleteOlderThan(3600 * 20, &deleted).ok());
  EXPECT_EQ(deleted, 3);
  EXPECT_FALSE(Exists(old_group));
  for (const char* table : {"group_tags", "group_tag_keys", "group_hours",
                            "group_search", "group_aliases"}) {
    EXPECT_EQ(RowsOfGroup(table, old_group), 0) << table;
  }
  // The hours before the cutoff go, also of groups that stay.
  EXPECT_EQ(Count("SELECT count(*) FROM group_hours WHERE hour < 20"), 0);
  EXPECT_EQ(RowsOfGroup("group_hours", mixed), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM event_tags WHERE event_row NOT IN "
                  "(SELECT id FROM events)"),
            0);
  EXPECT_EQ(Count("SELECT count(*) FROM event_search WHERE rowid NOT IN "
                  "(SELECT id FROM events)"),
            0);
  EXPECT_EQ(Count("PRAGMA foreign_key_check"), -1);  // no violation rows
}

TEST_F(StoreAdminTest, SizeRetentionPrunesHoursBeforeTheOldestEvent) {
  Event(1, "a", 3600 * 1);
  Event(2, "a", 3600 * 2);
  const int64_t b = Event(3, "b", 3600 * 3);
  Event(4, "b", 3600 * 4);
  int64_t deleted = 0;
  ASSERT_TRUE(store_->DeleteOldestEvents(3, &deleted).ok());
  EXPECT_EQ(deleted, 3);
  EXPECT_EQ(Count("SELECT count(*) FROM group_hours"), 1);
  EXPECT_EQ(Count("SELECT hour FROM group_hours WHERE group_id = " +
                  std::to_string(b)),
            4);
  EXPECT_EQ(Count("SELECT count(*) FROM group_tags"),
            Count("SELECT count(*) FROM group_tags WHERE group_id = " +
                  std::to_string(b)));
}

}  // namespace
}  // namespace store
}  // namespace crashctl
