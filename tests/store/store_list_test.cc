// ListGroups: filters, sorts, keyset pagination and cursors.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "store/cursor.h"
#include "store_test_util.h"

namespace crashctl {
namespace store {
namespace {

using testing_util::MakeItem;
using testing_util::StoreTest;

class ListGroupsTest : public StoreTest {
 protected:
  // Fetches every page of `query`; between pages runs `between(page_no)`.
  std::vector<model::Group> FetchAll(
      GroupQuery query, const std::function<void(int)>& between = {}) {
    std::vector<model::Group> all;
    for (int page_no = 0; page_no < 1000; ++page_no) {
      model::Page<model::Group> page;
      Status status = store_->ListGroups(query, &page);
      EXPECT_TRUE(status.ok()) << status.message();
      if (!status.ok()) break;
      EXPECT_LE(static_cast<int>(page.items.size()), query.limit);
      all.insert(all.end(), page.items.begin(), page.items.end());
      if (page.next_cursor.empty()) break;
      query.cursor = page.next_cursor;
      if (between) between(page_no);
    }
    return all;
  }

  int64_t next_event_ = 1;
};

TEST_F(ListGroupsTest, FiltersByProjectStatusLevelService) {
  model::Project other;
  ASSERT_TRUE(store_->CreateProject("other", &other).ok());
  std::vector<model::WriteItem> items;
  auto add = [&](int64_t project, const std::string& fp,
                 const std::string& level, const std::string& service) {
    const int64_t n = next_event_++;
    model::WriteItem item = MakeItem(project, n, fp, 100 + n);
    model::ParseLevel(level, &item.event.level);
    item.event.service = service;
    items.push_back(item);
  };
  add(project_.id, "a", "error", "api");
  add(project_.id, "b", "fatal", "api");
  add(project_.id, "c", "error", "worker");
  add(other.id, "d", "error", "api");
  auto outcomes = Write(items);
  ASSERT_TRUE(store_
                  ->SetGroupStatus(outcomes[1].group_id,
                                   model::GroupStatus::kResolved, nullptr)
                  .ok());

  struct Case {
    std::string name;
    GroupQuery query;
    std::vector<std::string> want;  // fingerprints, in order
  };
  auto q = [](std::optional<int64_t> project, std::string status,
              std::string level, std::string service) {
    GroupQuery query;
    query.project = project;
    model::GroupStatus parsed_status;
    if (model::ParseGroupStatus(status, &parsed_status)) {
      query.status = parsed_status;
    }
    model::Level parsed_level;
    if (model::ParseLevel(level, &parsed_level)) query.level = parsed_level;
    query.service = service;
    return query;
  };
  const Case cases[] = {
      {"all", q({}, "", "", ""), {"d", "c", "b", "a"}},
      {"project", q(project_.id, "", "", ""), {"c", "b", "a"}},
      {"other project", q(other.id, "", "", ""), {"d"}},
      {"status", q({}, "unresolved", "", ""), {"d", "c", "a"}},
      {"resolved", q(project_.id, "resolved", "", ""), {"b"}},
      {"level", q({}, "", "error", ""), {"d", "c", "a"}},
      {"service", q({}, "", "", "api"), {"d", "b", "a"}},
      {"combined", q(project_.id, "unresolved", "error", "api"), {"a"}},
      {"nothing", q({}, "ignored", "", ""), {}},
  };
  for (const Case& c : cases) {
    std::vector<std::string> got;
    for (const model::Group& g : FetchAll(c.query))
      got.push_back(g.fingerprint);
    EXPECT_EQ(got, c.want) << c.name;
  }
}

TEST_F(ListGroupsTest, RejectsBadArguments) {
  Write(
      {MakeItem(project_.id, 1, "a", 100), MakeItem(project_.id, 2, "b", 100)});
  GroupQuery query;
  query.limit = 1;
  model::Page<model::Group> page;
  ASSERT_TRUE(store_->ListGroups(query, &page).ok());
  ASSERT_FALSE(page.next_cursor.empty());

  struct Case {
    std::string name;
    std::string sort, status, cursor;
  };
  const Case cases[] = {
      {"unknown sort", "title", "", ""},
      {"cursor of other sort", "count", "", page.next_cursor},
      {"garbage cursor", "last_seen", "", "%%%"},
      {"truncated cursor", "last_seen", "", page.next_cursor.substr(0, 5)},
      {"not ours", "last_seen", "", Base64UrlEncode("hello")},
  };
  for (const Case& c : cases) {
    GroupQuery bad;
    bad.sort = c.sort;
    bad.cursor = c.cursor;
    model::Page<model::Group> out;
    EXPECT_EQ(store_->ListGroups(bad, &out).code(), Status::Code::kInvalid)
        << c.name;
  }
}

TEST_F(ListGroupsTest, ClampsLimit) {
  std::vector<model::WriteItem> items;
  for (int i = 0; i < 60; ++i) {
    items.push_back(
        MakeItem(project_.id, i + 1, "fp" + std::to_string(i), 100));
  }
  Write(items);
  struct Case {
    int limit;
    size_t want;
  };
  for (const Case& c :
       {Case{0, 50}, Case{-3, 50}, Case{1, 1}, Case{5000, 60}}) {
    GroupQuery query;
    query.limit = c.limit;
    model::Page<model::Group> page;
    ASSERT_TRUE(store_->ListGroups(query, &page).ok());
    EXPECT_EQ(page.items.size(), c.want) << c.limit;
  }
}

TEST_F(ListGroupsTest, LastPageHasNoCursor) {
  Write(
      {MakeItem(project_.id, 1, "a", 100), MakeItem(project_.id, 2, "b", 100)});
  GroupQuery query;
  query.limit = 2;
  model::Page<model::Group> page;
  ASSERT_TRUE(store_->ListGroups(query, &page).ok());
  EXPECT_EQ(page.items.size(), 2u);
  EXPECT_TRUE(page.next_cursor.empty());
}

// For every sort: the order is key desc, id desc; paging while new events
// arrive (new groups, and more events on groups already returned) never
// returns a group twice and never skips a group that existed at the start.
class PaginationTest : public ListGroupsTest,
                       public ::testing::WithParamInterface<std::string> {};

TEST_P(PaginationTest, StableWhileEventsArrive) {
  const std::string sort = GetParam();
  // 40 groups with many ties in every sort key.
  std::vector<model::WriteItem> items;
  for (int g = 0; g < 40; ++g) {
    std::string fp = "fp" + std::to_string(g);
    int events = 1 + g % 3;
    for (int e = 0; e < events; ++e) {
      items.push_back(
          MakeItem(project_.id, next_event_++, fp, 1000 + (g % 5) + e * 10));
    }
  }
  Write(items);
  std::set<int64_t> existing;
  for (const model::Group& g : FetchAll(GroupQuery{})) existing.insert(g.id);
  ASSERT_EQ(existing.size(), 40u);

  GroupQuery query;
  query.sort = sort;
  query.limit = 7;
  std::vector<model::Group> seen_before;  // rows returned so far, for the hook
  std::vector<model::Group> all = FetchAll(query, [&](int page_no) {
    // A new group, and a new event on the group with the highest id among
    // those already shown: both now sort before the cursor.
    Write({MakeItem(project_.id, next_event_++, "new" + std::to_string(page_no),
                    5000 + page_no)});
    model::Page<model::Group> first;
    GroupQuery top = query;
    top.cursor.clear();
    top.limit = 1;
    ASSERT_TRUE(store_->ListGroups(top, &first).ok());
    ASSERT_FALSE(first.items.empty());
    Write({MakeItem(project_.id, next_event_++, first.items[0].fingerprint,
                    6000 + page_no)});
  });

  std::set<int64_t> ids;
  for (const model::Group& g : all) {
    EXPECT_TRUE(ids.insert(g.id).second) << "group " << g.id << " twice";
  }
  for (int64_t id : existing) {
    EXPECT_TRUE(ids.count(id)) << "group " << id << " skipped (" << sort << ")";
  }
  // Without concurrent writes the order is exactly key desc, id desc.
  std::vector<model::Group> still = FetchAll(query);
  auto key = [&](const model::Group& g) {
    if (sort == "count") return static_cast<double>(g.count);
    if (sort == "first_seen") return g.first_seen;
    return g.last_seen;
  };
  for (size_t i = 1; i < still.size(); ++i) {
    const model::Group& a = still[i - 1];
    const model::Group& b = still[i];
    EXPECT_TRUE(key(a) > key(b) || (key(a) == key(b) && a.id > b.id))
        << sort << " order broken at " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Sorts, PaginationTest,
                         ::testing::Values("last_seen", "count", "first_seen"));

TEST_F(ListGroupsTest, LinkedCrashesAreListed) {
  auto outcomes = Write({MakeItem(project_.id, 1, "a", 100)});
  model::Crash crash;
  crash.dedup_key = "k1";
  int64_t crash_id = 0;
  ASSERT_TRUE(store_->UpsertCrash(crash, &crash_id, nullptr).ok());
  ASSERT_TRUE(store_->LinkCrashGroup(crash_id, outcomes[0].group_id).ok());
  model::Page<model::Group> page;
  ASSERT_TRUE(store_->ListGroups(GroupQuery(), &page).ok());
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].linked_crashes, std::vector<int64_t>{crash_id});
}

}  // namespace
}  // namespace store
}  // namespace crashctl
