// What WriteEvents keeps beside the events for filters, search, tags and
// stats (schema 9, issue 19): event_tags, events.user_id / tags,
// group_tags with group_tag_keys, groups.users, group_hours, the search rows,
// and the group_aliases lookup of merged fingerprints.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "store/batch_writer.h"
#include "store_test_util.h"

namespace crashctl {
namespace store {
namespace {

using testing_util::QueryInt;
using testing_util::QueryText;

class WriteIndexTest : public testing_util::StoreTest {
 protected:
  std::string db() { return dir_.File("data/crashctl.db"); }

  model::WriteItem Item(int64_t n, const std::string& fingerprint,
                        double timestamp) {
    return testing_util::MakeItem(project_.id, n, fingerprint, timestamp);
  }

  // Runs `sql` on the database file past the store (another connection).
  void Exec(const std::string& sql) {
    sqlite3* conn = nullptr;
    ASSERT_EQ(sqlite3_open(db().c_str(), &conn), SQLITE_OK);
    sqlite3_busy_timeout(conn, 5000);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(conn, sql.c_str(), nullptr, nullptr, &error),
              SQLITE_OK)
        << (error != nullptr ? error : "");
    sqlite3_free(error);
    sqlite3_close(conn);
  }

  int64_t GroupTagCount(int64_t group, const std::string& key,
                        const std::string& value) {
    return QueryInt(db(), "SELECT count FROM group_tags WHERE group_id = " +
                              std::to_string(group) + " AND key = '" + key +
                              "' AND value = '" + value + "'");
  }
};

TEST_F(WriteIndexTest, EventTagsHoldPseudoAndCustomTags) {
  model::WriteItem item = Item(1, "fp", 1700000000);
  item.event.level = model::Level::kWarning;
  item.event.release = "app@1.0";
  item.event.environment = "prod";
  item.event.server_name = "web-1";
  item.event.service = "checkout";
  item.event.user = "u42";
  item.event.tags = {{"region", "eu"},
                     {"release", "not-a-second-release"},
                     {"region", "us"},  // a repeated key: the first one
                     {"", "empty key"},
                     {"empty", ""},
                     {std::string(kMaxTagKeyBytes + 1, 'k'), "long key"},
                     {"long", std::string(kMaxTagValueBytes + 1, 'v')},
                     {"browser", "Firefox"}};
  Write({item});
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM event_tags"), 8);
  for (const char* pair :
       {"level=warning", "release=app@1.0", "environment=prod",
        "server_name=web-1", "service=checkout", "user=u42", "region=eu",
        "browser=Firefox"}) {
    std::string kv = pair;
    const size_t eq = kv.find('=');
    EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM event_tags WHERE key = '" +
                                 kv.substr(0, eq) + "' AND value = '" +
                                 kv.substr(eq + 1) + "'"),
              1)
        << pair;
  }
  EXPECT_EQ(QueryText(db(), "SELECT user_id FROM events"), "u42");
  EXPECT_EQ(QueryText(db(), "SELECT tags FROM events"),
            R"([["region","eu"],["browser","Firefox"]])");

  model::StoredEvent stored;
  ASSERT_TRUE(store_->GetEvent(item.event.event_id, &stored).ok());
  EXPECT_EQ(stored.user, "u42");
  ASSERT_EQ(stored.tags.size(), 2u);
  EXPECT_EQ(stored.tags[1].first, "browser");
}

TEST_F(WriteIndexTest, GroupTagsCountValuesAcrossBatches) {
  std::vector<model::WriteItem> batch;
  for (int i = 0; i < 5; ++i) {
    batch.push_back(Item(i, "fp", 1700000000 + i));
    batch.back().event.release = i < 3 ? "1.0" : "2.0";
    batch.back().event.user = "user" + std::to_string(i % 2);
  }
  auto outcomes = Write(batch);
  const int64_t group = outcomes[0].group_id;
  model::WriteItem later = Item(10, "fp", 1699999000);  // older than first
  later.event.release = "1.0";
  later.event.user = "user7";
  Write({later});

  EXPECT_EQ(GroupTagCount(group, "release", "1.0"), 4);
  EXPECT_EQ(GroupTagCount(group, "release", "2.0"), 2);
  EXPECT_EQ(GroupTagCount(group, "level", "error"), 6);
  EXPECT_EQ(GroupTagCount(group, "user", "user0"), 3);
  EXPECT_EQ(QueryInt(db(),
                     "SELECT min(first_seen) FROM group_tags WHERE key = "
                     "'release' AND value = '1.0'"),
            1699999000);
  EXPECT_EQ(QueryInt(db(),
                     "SELECT values_kept FROM group_tag_keys WHERE key "
                     "= 'release'"),
            2);
  model::Group g;
  ASSERT_TRUE(store_->GetGroup(group, &g).ok());
  EXPECT_EQ(g.users, 3);  // user0, user1, user7
  EXPECT_EQ(g.first_release, "1.0");
}

TEST_F(WriteIndexTest, ValuesBeyondTheLimitAreCountedAsOther) {
  std::vector<model::WriteItem> batch;
  const int64_t values = kMaxGroupTagValues + 5;
  for (int64_t i = 0; i < values; ++i) {
    batch.push_back(Item(i, "fp", 1700000000));
    batch.back().event.tags = {{"request_id", "r" + std::to_string(i)}};
  }
  // Two batches: the limit holds across them.
  Write(std::vector<model::WriteItem>(batch.begin(), batch.begin() + 600));
  Write(std::vector<model::WriteItem>(batch.begin() + 600, batch.end()));
  EXPECT_EQ(QueryInt(db(),
                     "SELECT count(*) FROM group_tags WHERE key = "
                     "'request_id'"),
            kMaxGroupTagValues);
  EXPECT_EQ(QueryInt(db(),
                     "SELECT values_kept FROM group_tag_keys WHERE key "
                     "= 'request_id'"),
            kMaxGroupTagValues);
  EXPECT_EQ(QueryInt(db(),
                     "SELECT other_count FROM group_tag_keys WHERE key "
                     "= 'request_id'"),
            5);
  // A kept value still counts.
  model::WriteItem again = Item(values + 1, "fp", 1700000001);
  again.event.tags = {{"request_id", "r0"}};
  Write({again});
  EXPECT_EQ(QueryInt(db(),
                     "SELECT count FROM group_tags WHERE key = "
                     "'request_id' AND value = 'r0'"),
            2);
}

TEST_F(WriteIndexTest, HoursCountEventsPerUtcHour) {
  const double midnight = 1700006400;  // 2023-11-15 00:00:00 UTC
  ASSERT_EQ(static_cast<int64_t>(midnight) % 86400, 0);
  auto outcomes = Write({Item(1, "fp", midnight - 1), Item(2, "fp", midnight),
                         Item(3, "fp", midnight + 3599)});
  Write({Item(4, "fp", midnight + 10)});
  const std::string hours = "SELECT count FROM group_hours WHERE group_id = " +
                            std::to_string(outcomes[0].group_id) +
                            " AND hour = ";
  const int64_t hour = static_cast<int64_t>(midnight) / 3600;
  EXPECT_EQ(QueryInt(db(), hours + std::to_string(hour - 1)), 1);
  EXPECT_EQ(QueryInt(db(), hours + std::to_string(hour)), 3);
  EXPECT_EQ(QueryInt(db(), "SELECT sum(count) FROM group_hours"), 4);
}

TEST_F(WriteIndexTest, SearchRowsForGroupsAndEvents) {
  model::WriteItem item = Item(1, "fp", 1700000000);
  item.event.message = "connection refused by upstream";
  item.event.exceptions.resize(1);
  item.event.exceptions[0].type = "TimeoutError";
  item.event.exceptions[0].value = "deadline exceeded after 30s";
  auto outcomes = Write({item, Item(2, "fp", 1700000001)});
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM group_search"), 1);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM event_search"), 2);
  EXPECT_EQ(QueryInt(db(),
                     "SELECT group_id FROM group_search WHERE group_search "
                     "MATCH 'TimeoutError'"),
            outcomes[0].group_id);
  EXPECT_EQ(QueryInt(db(),
                     "SELECT e.id FROM event_search s JOIN events e ON e.id = "
                     "s.rowid WHERE event_search MATCH 'deadline'"),
            QueryInt(db(), "SELECT id FROM events WHERE event_id = '" +
                               item.event.event_id + "'"));
  EXPECT_EQ(QueryText(db(), "SELECT exception FROM event_search LIMIT 1"),
            "TimeoutError: deadline exceeded after 30s");
}

TEST_F(WriteIndexTest, AliasedFingerprintLandsInItsGroup) {
  auto outcomes = Write({Item(1, "survivor", 1700000000)});
  const int64_t survivor = outcomes[0].group_id;
  Exec(
      "INSERT INTO group_aliases (project_id, fingerprint, group_id) "
      "VALUES (" +
      std::to_string(project_.id) + ", 'merged', " + std::to_string(survivor) +
      ")");
  outcomes = Write({Item(2, "merged", 1700000005)});
  EXPECT_EQ(outcomes[0].group_id, survivor);
  EXPECT_FALSE(outcomes[0].new_group);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM groups"), 1);
  model::Group g;
  ASSERT_TRUE(store_->GetGroup(survivor, &g).ok());
  EXPECT_EQ(g.count, 2);
}

TEST_F(WriteIndexTest, DeletedEventsTakeTheirTagAndSearchRows) {
  Write({Item(1, "fp", 1000), Item(2, "fp", 1700000000)});
  int64_t deleted = 0;
  ASSERT_TRUE(store_->DeleteOlderThan(2000, &deleted).ok());
  EXPECT_EQ(deleted, 1);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM event_search"), 1);
  EXPECT_EQ(QueryInt(db(),
                     "SELECT count(*) FROM event_tags WHERE timestamp "
                     "< 2000"),
            0);
}

}  // namespace
}  // namespace store
}  // namespace crashctl
