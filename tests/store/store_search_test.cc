// Issue 19 in SQLite: ListGroups' filters and search, ListEvents, GroupStats,
// GroupTags, and the query plans of the filters (an index, never a full scan).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "crashctl/search/query.h"
#include "store/query_sql.h"
#include "store_test_util.h"

namespace crashctl {
namespace store {
namespace {

using testing_util::MakeItem;
using testing_util::StoreTest;

// 2023-11-15T00:00:00Z: the data set straddles this UTC day boundary.
constexpr double kDay = 1700006400;

search::Query Parse(const std::string& text) {
  search::Query q;
  Status st = search::ParseQuery(text, &q);
  EXPECT_TRUE(st.ok()) << text << ": " << st.message();
  return q;
}

struct EventSpec {
  std::string project;  // "p" (project_) or "q" (other_)
  std::string fingerprint;
  double timestamp;
  std::string release;
  std::string environment;
  model::Level level;
  std::string service;
  std::string user;
  std::vector<std::pair<std::string, std::string>> tags;
  std::string message;
  std::string server_name = "host-1";
};

// Group titles (the searched text) by fingerprint.
const std::map<std::string, std::string>& Titles() {
  static const std::map<std::string, std::string> kTitles = {
      {"timeout", "Timeout: connection refused to db.pool"},
      {"oom", "OutOfMemory: heap exhausted in worker"},
      {"parse", "SyntaxError: NEAR(x) OR title:oom AND \"quoted\" ^ *"},
  };
  return kTitles;
}

class StoreSearchTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_TRUE(store_->CreateProject("other", &other_).ok());
    const model::Level E = model::Level::kError;
    const model::Level F = model::Level::kFatal;
    specs_ = {
        {"p",
         "timeout",
         kDay - 7200,
         "1.0",
         "prod",
         E,
         "api",
         "alice",
         {{"region", "eu"}},
         "db connect failed after 30s"},
        {"p",
         "timeout",
         kDay - 60,
         "1.0",
         "prod",
         E,
         "api",
         "bob",
         {},
         "db connect failed after 31s"},
        {"p",
         "timeout",
         kDay + 30,
         "1.1",
         "staging",
         E,
         "api",
         "alice",
         {{"region", "us"}},
         "db connect failed after 32s"},
        {"p",
         "oom",
         kDay + 3600,
         "1.1",
         "prod",
         F,
         "worker",
         "carol",
         {},
         "heap of 512MB exhausted"},
        {"p",
         "parse",
         kDay + 7200,
         "2.0",
         "prod",
         E,
         "api",
         "",
         {},
         "unexpected token ) in JSON at -x"},
        {"q",
         "timeout",
         kDay + 100,
         "1.0",
         "prod",
         E,
         "",
         "dave",
         {},
         "db connect failed after 33s"},
    };
    std::vector<model::WriteItem> items;
    for (size_t i = 0; i < specs_.size(); ++i) {
      const EventSpec& s = specs_[i];
      model::WriteItem item =
          MakeItem(s.project == "p" ? project_.id : other_.id,
                   static_cast<int64_t>(i + 1), s.fingerprint, s.timestamp);
      item.event.release = s.release;
      item.event.environment = s.environment;
      item.event.level = s.level;
      item.event.service = s.service;
      item.event.user = s.user;
      item.event.tags = s.tags;
      item.event.message = s.message;
      item.event.server_name = s.server_name;
      item.grouping.title = Titles().at(s.fingerprint);
      items.push_back(item);
    }
    outcomes_ = Write(items);
    ASSERT_EQ(outcomes_.size(), specs_.size());
    SeedUntilWritePathLands(items);
    model::Page<model::Group> all;
    ASSERT_TRUE(store_->ListGroups(GroupQuery(), &all).ok());
    for (const model::Group& g : all.items) {
      names_[g.id] = (g.project_id == other_.id ? "q:" : "") + g.fingerprint;
      ids_[names_[g.id]] = g.id;
    }
    ASSERT_EQ(ids_.size(), 4u);
  }

  // TEMPORARY (until the issue-19 write path is on main): fills what
  // WriteEvents will write (events.user_id/tags, event_tags, group_tags,
  // group_tag_keys, group_hours, group_search, event_search) from the
  // events, when WriteEvents did not.
  void SeedUntilWritePathLands(const std::vector<model::WriteItem>& items) {
    if (testing_util::QueryInt(dir_.File("data/crashctl.db"),
                               "SELECT count(*) FROM event_tags WHERE key = "
                               "'user'") > 0) {
      return;
    }
    std::string sql;
    for (const model::WriteItem& item : items) {
      std::string tags = "[";
      for (const auto& t : item.event.tags) {
        if (tags.size() > 1) tags += ",";
        tags += "[\"" + t.first + "\",\"" + t.second + "\"]";
      }
      tags += "]";
      sql += "UPDATE events SET user_id = '" + item.event.user + "', tags = '" +
             (item.event.tags.empty() ? "" : tags) + "' WHERE event_id = '" +
             item.event.event_id + "';";
    }
    sql += R"sql(
DELETE FROM event_tags; DELETE FROM group_tags; DELETE FROM group_tag_keys;
DELETE FROM group_hours; DELETE FROM group_search; DELETE FROM event_search;
INSERT INTO event_tags (key, value, timestamp, event_row)
  SELECT 'release', release, timestamp, id FROM events WHERE release != ''
  UNION ALL SELECT 'environment', environment, timestamp, id FROM events
    WHERE environment != ''
  UNION ALL SELECT 'server_name', server_name, timestamp, id FROM events
    WHERE server_name != ''
  UNION ALL SELECT 'service', service, timestamp, id FROM events
    WHERE service != ''
  UNION ALL SELECT 'level', level, timestamp, id FROM events WHERE level != ''
  UNION ALL SELECT 'user', user_id, timestamp, id FROM events
    WHERE user_id != ''
  UNION ALL SELECT j.value ->> 0, j.value ->> 1, e.timestamp, e.id
    FROM events e, json_each(CASE e.tags WHEN '' THEN '[]' ELSE e.tags END) j;
INSERT INTO group_tags (group_id, key, value, count, first_seen, last_seen)
  SELECT e.group_id, t.key, t.value, count(*), min(t.timestamp),
         max(t.timestamp)
  FROM event_tags t JOIN events e ON e.id = t.event_row
  GROUP BY e.group_id, t.key, t.value;
INSERT INTO group_tag_keys (group_id, key, values_kept)
  SELECT group_id, key, count(*) FROM group_tags GROUP BY group_id, key;
INSERT INTO group_hours (group_id, hour, count)
  SELECT group_id, CAST(timestamp / 3600 AS INTEGER), count(*) FROM events
  GROUP BY group_id, CAST(timestamp / 3600 AS INTEGER);
INSERT INTO group_search (group_id, title, culprit, message, exception)
  SELECT id, title, culprit, '', '' FROM groups;
INSERT INTO event_search (rowid, title, message, exception)
  SELECT id, title, message, '' FROM events;
)sql";
    Status st = store_->ExecOnWriter(sql);
    ASSERT_TRUE(st.ok()) << st.message();
  }

  // The names of the groups a query lists, in order ("q:timeout" for the
  // other project's), over every page of `page_size`.
  std::vector<std::string> Groups(GroupQuery query, int page_size = 2) {
    std::vector<std::string> out;
    query.limit = page_size;
    for (int page_no = 0; page_no < 100; ++page_no) {
      model::Page<model::Group> page;
      Status st = store_->ListGroups(query, &page);
      EXPECT_TRUE(st.ok()) << st.message();
      if (!st.ok()) break;
      for (const model::Group& g : page.items) out.push_back(names_[g.id]);
      if (page.next_cursor.empty()) break;
      query.cursor = page.next_cursor;
    }
    return out;
  }

  // The event numbers (1-based, as in specs_) a query lists, in order.
  std::vector<int> Events(EventQuery query, int page_size = 2) {
    std::vector<int> out;
    query.limit = page_size;
    for (int page_no = 0; page_no < 100; ++page_no) {
      model::Page<model::StoredEvent> page;
      Status st = store_->ListEvents(query, &page);
      EXPECT_TRUE(st.ok()) << st.message();
      if (!st.ok()) break;
      for (const model::StoredEvent& e : page.items) {
        out.push_back(static_cast<int>(std::stoll(e.event_id, nullptr, 16)));
      }
      if (page.next_cursor.empty()) break;
      query.cursor = page.next_cursor;
    }
    return out;
  }

  model::Project other_;
  std::vector<EventSpec> specs_;
  std::vector<model::WriteOutcome> outcomes_;
  std::map<int64_t, std::string> names_;
  std::map<std::string, int64_t> ids_;
};

using Names = std::vector<std::string>;

struct GroupCase {
  const char* name;
  std::function<void(GroupQuery*)> set;
  Names want;  // sorted by last_seen descending
};

TEST_F(StoreSearchTest, GroupFiltersAloneAndCombined) {
  ASSERT_TRUE(
      store_
          ->SetGroupStatus(ids_["oom"], model::GroupStatus::kResolved, nullptr)
          .ok());
  const int64_t p = project_.id;
  const std::vector<GroupCase> cases = {
      {"none", [](GroupQuery*) {}, {"parse", "oom", "q:timeout", "timeout"}},
      {"project",
       [&](GroupQuery* q) { q->project = p; },
       {"parse", "oom", "timeout"}},
      {"status resolved",
       [](GroupQuery* q) { q->status = model::GroupStatus::kResolved; },
       {"oom"}},
      {"status unresolved",
       [](GroupQuery* q) { q->status = model::GroupStatus::kUnresolved; },
       {"parse", "q:timeout", "timeout"}},
      {"level fatal",
       [](GroupQuery* q) { q->level = model::Level::kFatal; },
       {"oom"}},
      {"service api",
       [](GroupQuery* q) { q->service = "api"; },
       {"parse", "timeout"}},
      {"release 1.0",
       [](GroupQuery* q) { q->release = "1.0"; },
       {"q:timeout", "timeout"}},
      {"release 1.1 (any event, not only the latest)",
       [](GroupQuery* q) { q->release = "1.1"; },
       {"oom", "timeout"}},
      {"release none", [](GroupQuery* q) { q->release = "9.9"; }, {}},
      {"environment staging",
       [](GroupQuery* q) { q->environment = "staging"; },
       {"timeout"}},
      {"first_release 1.0",
       [](GroupQuery* q) { q->first_release = "1.0"; },
       {"q:timeout", "timeout"}},
      {"first_release 1.1",
       [](GroupQuery* q) { q->first_release = "1.1"; },
       {"oom"}},
      {"user alice", [](GroupQuery* q) { q->user = "alice"; }, {"timeout"}},
      {"user dave", [](GroupQuery* q) { q->user = "dave"; }, {"q:timeout"}},
      {"tag region:eu",
       [](GroupQuery* q) {
         q->tags = {{"region", "eu"}};
       },
       {"timeout"}},
      {"tag server_name",
       [](GroupQuery* q) {
         q->tags = {{"server_name", "host-1"}};
       },
       {"parse", "oom", "q:timeout", "timeout"}},
      {"tags eu and us (different events)",
       [](GroupQuery* q) {
         q->tags = {{"region", "eu"}, {"region", "us"}};
       },
       {"timeout"}},
      {"tags eu and asia",
       [](GroupQuery* q) {
         q->tags = {{"region", "eu"}, {"region", "asia"}};
       },
       {}},
      {"since",
       [](GroupQuery* q) { q->since = kDay + 3600; },
       {"parse", "oom"}},
      {"until", [](GroupQuery* q) { q->until = kDay + 100; }, {"timeout"}},
      {"since and until",
       [](GroupQuery* q) {
         q->since = kDay + 50;
         q->until = kDay + 5000;
       },
       {"oom", "q:timeout"}},
      {"project release",
       [&](GroupQuery* q) {
         q->project = p;
         q->release = "1.0";
       },
       {"timeout"}},
      {"release environment user",
       [](GroupQuery* q) {
         q->release = "1.0";
         q->environment = "prod";
         q->user = "bob";
       },
       {"timeout"}},
      {"level service",
       [](GroupQuery* q) {
         q->level = model::Level::kError;
         q->service = "api";
       },
       {"parse", "timeout"}},
      {"status first_release",
       [](GroupQuery* q) {
         q->status = model::GroupStatus::kUnresolved;
         q->first_release = "1.0";
       },
       {"q:timeout", "timeout"}},
      {"query",
       [](GroupQuery* q) { q->query = Parse("refused"); },
       {"q:timeout", "timeout"}},
      {"query and project",
       [&](GroupQuery* q) {
         q->query = Parse("refused");
         q->project = p;
       },
       {"timeout"}},
      {"query and release",
       [](GroupQuery* q) {
         q->query = Parse("refused");
         q->release = "1.1";
       },
       {"timeout"}},
      {"query and tag and since",
       [](GroupQuery* q) {
         q->query = Parse("connection");
         q->tags = {{"region", "us"}};
         q->since = kDay;
       },
       {"timeout"}},
  };
  for (const GroupCase& c : cases) {
    for (int page_size : {1, 2, 50}) {
      GroupQuery q;
      c.set(&q);
      EXPECT_EQ(Groups(q, page_size), c.want)
          << c.name << ", pages of " << page_size;
    }
  }
}

TEST_F(StoreSearchTest, GroupSortsWithFiltersAndCursors) {
  GroupQuery q;
  q.release = "1.0";
  q.sort = "first_seen";
  EXPECT_EQ(Groups(q, 1), (Names{"q:timeout", "timeout"}));
  q.sort = "count";  // timeout has 3 events, q:timeout 1
  EXPECT_EQ(Groups(q, 1), (Names{"timeout", "q:timeout"}));
  q = GroupQuery();
  q.sort = "count";
  q.query = Parse("db*");
  EXPECT_EQ(Groups(q, 1), (Names{"timeout", "q:timeout"}));

  // A cursor of one sort is refused by another.
  GroupQuery first;
  first.limit = 1;
  first.sort = "count";
  model::Page<model::Group> page;
  ASSERT_TRUE(store_->ListGroups(first, &page).ok());
  ASSERT_FALSE(page.next_cursor.empty());
  first.sort = "last_seen";
  first.cursor = page.next_cursor;
  EXPECT_EQ(store_->ListGroups(first, &page).code(), Status::Code::kInvalid);
}

TEST_F(StoreSearchTest, TagFilterBounds) {
  GroupQuery q;
  for (size_t i = 0; i <= kMaxTagFilters; ++i) q.tags.push_back({"k", "v"});
  model::Page<model::Group> groups;
  EXPECT_EQ(store_->ListGroups(q, &groups).code(), Status::Code::kInvalid);
  q.tags = {{"", "v"}};
  EXPECT_EQ(store_->ListGroups(q, &groups).code(), Status::Code::kInvalid);
  q.tags = {{std::string(kMaxTagKeyBytes + 1, 'k'), "v"}};
  EXPECT_EQ(store_->ListGroups(q, &groups).code(), Status::Code::kInvalid);
  q.tags = {{"k", std::string(kMaxTagValueBytes + 1, 'v')}};
  EXPECT_EQ(store_->ListGroups(q, &groups).code(), Status::Code::kInvalid);
  EventQuery e;
  e.tags = {{"", "v"}};
  model::Page<model::StoredEvent> events;
  EXPECT_EQ(store_->ListEvents(e, &events).code(), Status::Code::kInvalid);
  e.tags.clear();
  e.cursor = "not a cursor";
  EXPECT_EQ(store_->ListEvents(e, &events).code(), Status::Code::kInvalid);
}

struct SearchCase {
  const char* query;
  Names groups;             // by last_seen descending
  std::vector<int> events;  // newest first
};

// Search semantics over groups (title, culprit, message, exception) and
// events (title, message, exception), including user text full of FTS5
// syntax, which must stay literal.
TEST_F(StoreSearchTest, SearchSemantics) {
  const std::vector<SearchCase> cases = {
      {"timeout", {"q:timeout", "timeout"}, {6, 3, 2, 1}},
      {"TIMEOUT refused", {"q:timeout", "timeout"}, {6, 3, 2, 1}},
      {"\"connection refused\"", {"q:timeout", "timeout"}, {6, 3, 2, 1}},
      {"\"refused connection\"", {}, {}},
      {"timeout heap", {}, {}},  // AND, never OR
      {"conn*", {"q:timeout", "timeout"}, {6, 3, 2, 1}},
      {"db.pool", {"q:timeout", "timeout"}, {6, 3, 2, 1}},  // a phrase
      {"pool.db", {}, {}},
      {"exhaust*", {"oom"}, {4}},
      // What a group's message holds is the write path's choice: these
      // check the events only.
      {"timeout -\"after 31s\"", {"?"}, {6, 3, 1}},
      {"connect -31s -33s", {"?"}, {3, 1}},
      {"timeout -heap", {"q:timeout", "timeout"}, {6, 3, 2, 1}},
      {"NEAR(x)", {"parse"}, {5}},
      {"OR", {"parse"}, {5}},
      {"title:oom", {"parse"}, {5}},  // no column filter: "title" "oom"
      {"oom", {"parse"}, {5}},        // "OutOfMemory" is one word
      {"\"quoted\" AND", {"parse"}, {5}},
      {"syntaxerror ^", {"parse"}, {5}},  // '^' has no word: ignored
      {"json -x", {}, {}},  // the event's message has "-x": excluded
      {"heap* NOT", {}, {}},
  };
  for (const SearchCase& c : cases) {
    GroupQuery g;
    g.query = Parse(c.query);
    if (c.groups != Names{"?"}) {
      EXPECT_EQ(Groups(g), c.groups) << c.query;
    }
    EventQuery e;
    e.query = Parse(c.query);
    EXPECT_EQ(Events(e, 1), c.events) << c.query;
  }
}

struct EventCase {
  const char* name;
  std::function<void(EventQuery*)> set;
  std::vector<int> want;  // newest first
};

TEST_F(StoreSearchTest, EventFiltersAloneAndCombined) {
  ASSERT_TRUE(
      store_
          ->SetGroupStatus(ids_["oom"], model::GroupStatus::kResolved, nullptr)
          .ok());
  const int64_t p = project_.id;
  const int64_t timeout = ids_["timeout"];
  const std::vector<EventCase> cases = {
      {"none", [](EventQuery*) {}, {5, 4, 6, 3, 2, 1}},
      {"project", [&](EventQuery* q) { q->project = p; }, {5, 4, 3, 2, 1}},
      {"group", [&](EventQuery* q) { q->group = timeout; }, {3, 2, 1}},
      {"status",
       [](EventQuery* q) { q->status = model::GroupStatus::kResolved; },
       {4}},
      {"level", [](EventQuery* q) { q->level = model::Level::kFatal; }, {4}},
      {"service", [](EventQuery* q) { q->service = "api"; }, {5, 3, 2, 1}},
      {"release", [](EventQuery* q) { q->release = "1.0"; }, {6, 2, 1}},
      {"environment", [](EventQuery* q) { q->environment = "staging"; }, {3}},
      {"first_release",
       [](EventQuery* q) { q->first_release = "1.0"; },
       {6, 3, 2, 1}},
      {"user", [](EventQuery* q) { q->user = "alice"; }, {3, 1}},
      {"tag",
       [](EventQuery* q) {
         q->tags = {{"region", "eu"}};
       },
       {1}},
      {"server_name tag",
       [](EventQuery* q) {
         q->tags = {{"server_name", "host-1"}};
       },
       {5, 4, 6, 3, 2, 1}},
      {"since", [](EventQuery* q) { q->since = kDay + 30; }, {5, 4, 6, 3}},
      {"until", [](EventQuery* q) { q->until = kDay + 30; }, {2, 1}},
      {"since until",
       [](EventQuery* q) {
         q->since = kDay - 60;
         q->until = kDay + 3600;
       },
       {6, 3, 2}},
      {"tags on one event, not two",
       [](EventQuery* q) {
         q->tags = {{"region", "eu"}, {"release", "1.1"}};
       },
       {}},
      {"release user",
       [](EventQuery* q) {
         q->release = "1.0";
         q->user = "alice";
       },
       {1}},
      {"group release since",
       [&](EventQuery* q) {
         q->group = timeout;
         q->release = "1.0";
         q->since = kDay - 100;
       },
       {2}},
      {"project release",
       [&](EventQuery* q) {
         q->project = p;
         q->release = "1.0";
       },
       {2, 1}},
      {"status and first_release",
       [](EventQuery* q) {
         q->status = model::GroupStatus::kUnresolved;
         q->first_release = "2.0";
       },
       {5}},
      {"query and user",
       [](EventQuery* q) {
         q->query = Parse("connect");
         q->user = "alice";
       },
       {3, 1}},
      {"query and group and until",
       [&](EventQuery* q) {
         q->query = Parse("connect");
         q->group = timeout;
         q->until = kDay;
       },
       {2, 1}},
  };
  for (const EventCase& c : cases) {
    for (int page_size : {1, 2, 50}) {
      EventQuery q;
      c.set(&q);
      EXPECT_EQ(Events(q, page_size), c.want)
          << c.name << ", pages of " << page_size;
    }
  }
}

TEST_F(StoreSearchTest, EventItemsCarryTagsUserReleaseTrace) {
  EventQuery q;
  q.tags = {{"region", "us"}};
  model::Page<model::StoredEvent> page;
  ASSERT_TRUE(store_->ListEvents(q, &page).ok());
  ASSERT_EQ(page.items.size(), 1u);
  const model::StoredEvent& e = page.items[0];
  EXPECT_EQ(e.user, "alice");
  EXPECT_EQ(e.release, "1.1");
  EXPECT_EQ(e.environment, "staging");
  EXPECT_EQ(e.group_id, ids_["timeout"]);
  EXPECT_TRUE(e.payload.empty());
  bool has_region = false;
  for (const auto& tag : e.tags) {
    has_region = has_region || (tag.first == "region" && tag.second == "us");
  }
  EXPECT_TRUE(has_region);
}

TEST_F(StoreSearchTest, EventTraceIdIsListed) {
  model::WriteItem item = MakeItem(project_.id, 100, "traced", kDay + 9000);
  item.event.trace_id = std::string(32, 'a');
  Write({item});
  EventQuery q;
  q.limit = 1;
  model::Page<model::StoredEvent> page;
  ASSERT_TRUE(store_->ListEvents(q, &page).ok());
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].trace_id, std::string(32, 'a'));
}

std::vector<std::pair<double, int64_t>> Buckets(
    const std::vector<model::StatBucket>& buckets) {
  std::vector<std::pair<double, int64_t>> out;
  for (const model::StatBucket& b : buckets) out.emplace_back(b.start, b.count);
  return out;
}

TEST_F(StoreSearchTest, StatsBucketsAcrossADayBoundary) {
  using B = std::vector<std::pair<double, int64_t>>;
  const int64_t g = ids_["timeout"];  // events at D-7200, D-60, D+30
  struct Case {
    int64_t interval;
    double since, until;
    B want;
  };
  const std::vector<Case> cases = {
      {86400, kDay - 86400, kDay + 86400, {{kDay - 86400, 2}, {kDay, 1}}},
      {86400, kDay - 1, kDay + 1, {{kDay - 86400, 2}, {kDay, 1}}},
      {3600,
       kDay - 7200,
       kDay + 3600,
       {{kDay - 7200, 1}, {kDay - 3600, 1}, {kDay, 1}}},
      {3600,
       kDay - 5000,
       kDay + 10,  // widened to whole hours
       {{kDay - 7200, 1}, {kDay - 3600, 1}, {kDay, 1}}},
      {3600, kDay + 3600, kDay + 7200, {{kDay + 3600, 0}}},
      {60, kDay - 120, kDay + 60, {{kDay - 120, 0}, {kDay - 60, 1}, {kDay, 1}}},
      {60, kDay - 100, kDay + 1, {{kDay - 120, 0}, {kDay - 60, 1}, {kDay, 1}}},
  };
  for (const Case& c : cases) {
    StatsQuery q;
    q.group_id = g;
    q.interval = c.interval;
    q.since = c.since;
    q.until = c.until;
    std::vector<model::StatBucket> out;
    Status st = store_->GroupStats(q, &out);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(Buckets(out), c.want)
        << c.interval << " " << c.since << ".." << c.until;
  }
}

TEST_F(StoreSearchTest, StatsRefusesBadQueries) {
  std::vector<model::StatBucket> out;
  StatsQuery q;
  q.group_id = ids_["timeout"];
  q.since = kDay;
  q.until = kDay + 3600;
  q.interval = 120;
  EXPECT_EQ(store_->GroupStats(q, &out).code(), Status::Code::kInvalid);
  q.interval = 3600;
  q.until = kDay;
  EXPECT_EQ(store_->GroupStats(q, &out).code(), Status::Code::kInvalid);
  q.interval = 60;
  q.until = kDay + 60.0 * kMaxStatBuckets;
  EXPECT_TRUE(store_->GroupStats(q, &out).ok());
  EXPECT_EQ(out.size(), kMaxStatBuckets);
  q.until += 1;
  EXPECT_EQ(store_->GroupStats(q, &out).code(), Status::Code::kInvalid);
  q.until = kDay + 60;
  q.group_id = 999999;
  EXPECT_EQ(store_->GroupStats(q, &out).code(), Status::Code::kNotFound);
}

TEST_F(StoreSearchTest, TagCountsAndOrder) {
  std::vector<model::TagSummary> tags;
  ASSERT_TRUE(store_->GroupTags(ids_["timeout"], 1, &tags).ok());
  std::map<std::string, const model::TagSummary*> by_key;
  std::vector<std::string> keys;
  for (const model::TagSummary& t : tags) {
    by_key[t.key] = &t;
    keys.push_back(t.key);
  }
  // By events carrying the key, descending, then key.
  for (size_t i = 1; i < tags.size(); ++i) {
    EXPECT_TRUE(
        tags[i - 1].events > tags[i].events ||
        (tags[i - 1].events == tags[i].events && tags[i - 1].key < tags[i].key))
        << tags[i - 1].key << " before " << tags[i].key;
  }
  ASSERT_TRUE(by_key.count("release"));
  const model::TagSummary& release = *by_key["release"];
  EXPECT_EQ(release.events, 3);
  EXPECT_EQ(release.values, 2);
  ASSERT_EQ(release.top.size(), 1u);
  EXPECT_EQ(release.top[0].value, "1.0");
  EXPECT_EQ(release.top[0].count, 2);
  EXPECT_EQ(release.top[0].first_seen, kDay - 7200);
  EXPECT_EQ(release.top[0].last_seen, kDay - 60);
  ASSERT_TRUE(by_key.count("user"));
  EXPECT_EQ(by_key["user"]->events, 3);
  EXPECT_EQ(by_key["user"]->top[0].value, "alice");
  ASSERT_TRUE(by_key.count("region"));
  EXPECT_EQ(by_key["region"]->events, 2);
  EXPECT_EQ(by_key["region"]->top[0].value, "eu");  // tie: by value
  EXPECT_EQ(keys.back(), "region");

  ASSERT_TRUE(store_->GroupTags(ids_["timeout"], 10, &tags).ok());
  for (const model::TagSummary& t : tags) {
    if (t.key != "environment") continue;
    ASSERT_EQ(t.top.size(), 2u);
    EXPECT_EQ(t.top[0].value, "prod");
    EXPECT_EQ(t.top[0].count, 2);
    EXPECT_EQ(t.top[1].value, "staging");
    EXPECT_EQ(t.top[1].count, 1);
  }
  EXPECT_EQ(store_->GroupTags(999999, 5, &tags).code(),
            Status::Code::kNotFound);
}

// other_count: the events of values past the per-key bound count towards
// their key (and its place in the order), not as values.
TEST_F(StoreSearchTest, TagOtherCount) {
  const int64_t g = ids_["oom"];
  ASSERT_TRUE(store_
                  ->ExecOnWriter("INSERT INTO group_tag_keys (group_id, key, "
                                 "values_kept, other_count) VALUES (" +
                                 std::to_string(g) +
                                 ", 'request', 0, 7) ON CONFLICT DO UPDATE "
                                 "SET other_count = 7")
                  .ok());
  std::vector<model::TagSummary> tags;
  ASSERT_TRUE(store_->GroupTags(g, 3, &tags).ok());
  ASSERT_FALSE(tags.empty());
  EXPECT_EQ(tags[0].key, "request");
  EXPECT_EQ(tags[0].other_count, 7);
  EXPECT_EQ(tags[0].events, 7);
  EXPECT_EQ(tags[0].values, 0);
  EXPECT_TRUE(tags[0].top.empty());
}

// --- query plans ----------------------------------------------------------

// The EXPLAIN QUERY PLAN details of `sql`, with its values bound.
std::vector<std::string> Plan(const std::string& path, const SqlBuilder& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  const std::string text = "EXPLAIN QUERY PLAN " + sql.sql();
  EXPECT_EQ(sqlite3_prepare_v2(db, text.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db) << ": " << text;
  int index = 1;
  for (const SqlBuilder::Value& v : sql.values()) {
    if (const int64_t* i = std::get_if<int64_t>(&v)) {
      sqlite3_bind_int64(stmt, index, *i);
    } else if (const double* d = std::get_if<double>(&v)) {
      sqlite3_bind_double(stmt, index, *d);
    } else {
      const std::string& s = std::get<std::string>(v);
      sqlite3_bind_text(stmt, index, s.c_str(), static_cast<int>(s.size()),
                        SQLITE_TRANSIENT);
    }
    ++index;
  }
  std::vector<std::string> details;
  while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
    details.push_back(
        reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3)));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return details;
}

// Whether the plan reads all of `table` (named `table` or `alias` in it):
// a SCAN of the table itself, or a SCAN of one of its indexes when the rows
// are then sorted (USE TEMP B-TREE FOR ORDER BY). A SCAN of an index that
// gives the ORDER BY (no sort afterwards) is the ordered walk that stops at
// the page's last row, and a SEARCH uses an index's constraint: both fine.
bool ScansTable(const std::vector<std::string>& plan, const std::string& table,
                const std::string& alias = "") {
  bool sorted_after = false;
  for (const std::string& line : plan) {
    sorted_after = sorted_after || line == "USE TEMP B-TREE FOR ORDER BY";
  }
  for (const std::string& line : plan) {
    for (const std::string& name : {table, alias}) {
      if (name.empty()) continue;
      const std::string scan = "SCAN " + name;
      if (line == scan) return true;
      if (line.rfind(scan + " USING ", 0) == 0 && sorted_after) return true;
    }
  }
  return false;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += "\n  " + l;
  return out;
}

struct Filter {
  const char* name;
  std::function<void(GroupQuery*)> group;
  std::function<void(EventQuery*)> event;
};

std::vector<Filter> SingleFilters() {
  const search::Query query = Parse("timeout");
  return {
      {"project", [](GroupQuery* q) { q->project = 1; },
       [](EventQuery* q) { q->project = 1; }},
      {"group", nullptr, [](EventQuery* q) { q->group = 1; }},
      {"status",
       [](GroupQuery* q) { q->status = model::GroupStatus::kIgnored; },
       [](EventQuery* q) { q->status = model::GroupStatus::kIgnored; }},
      {"level", [](GroupQuery* q) { q->level = model::Level::kFatal; },
       [](EventQuery* q) { q->level = model::Level::kFatal; }},
      {"service", [](GroupQuery* q) { q->service = "api"; },
       [](EventQuery* q) { q->service = "api"; }},
      {"release", [](GroupQuery* q) { q->release = "1.0"; },
       [](EventQuery* q) { q->release = "1.0"; }},
      {"environment", [](GroupQuery* q) { q->environment = "prod"; },
       [](EventQuery* q) { q->environment = "prod"; }},
      {"first_release", [](GroupQuery* q) { q->first_release = "1.0"; },
       [](EventQuery* q) { q->first_release = "1.0"; }},
      {"user", [](GroupQuery* q) { q->user = "alice"; },
       [](EventQuery* q) { q->user = "alice"; }},
      {"tag",
       [](GroupQuery* q) {
         q->tags = {{"region", "eu"}};
       },
       [](EventQuery* q) {
         q->tags = {{"region", "eu"}};
       }},
      {"since", [](GroupQuery* q) { q->since = kDay; },
       [](EventQuery* q) { q->since = kDay; }},
      {"until", [](GroupQuery* q) { q->until = kDay; },
       [](EventQuery* q) { q->until = kDay; }},
      {"query", [query](GroupQuery* q) { q->query = query; },
       [query](EventQuery* q) { q->query = query; }},
  };
}

TEST_F(StoreSearchTest, EverySingleFilterWithEverySortUsesAnIndex) {
  const std::string path = dir_.File("data/crashctl.db");
  Cursor cursor;
  cursor.value = kDay;
  cursor.id = 10;
  for (const Filter& f : SingleFilters()) {
    if (f.group) {
      for (const char* sort : {"last_seen", "count", "first_seen"}) {
        for (const Cursor* c : {static_cast<const Cursor*>(nullptr),
                                static_cast<const Cursor*>(&cursor)}) {
          GroupQuery q;
          f.group(&q);
          const std::string match =
              q.query ? MatchExpression(*q.query) : std::string();
          const std::vector<std::string> plan =
              Plan(path, GroupListSql(q, match, sort, c, 50));
          EXPECT_FALSE(plan.empty());
          EXPECT_FALSE(ScansTable(plan, "groups"))
              << "groups by " << f.name << ", sort " << sort << Join(plan);
        }
      }
    }
    EventQuery q;
    f.event(&q);
    const std::string match =
        q.query ? MatchExpression(*q.query) : std::string();
    const TagPairs pairs = EventTagPairs(q);
    std::vector<EventDriver> drivers;
    if (q.group) {
      drivers = {EventDriver::kGroup};
    } else if (!match.empty()) {
      drivers = {EventDriver::kSearch, EventDriver::kTimestamp};
    } else if (!pairs.empty()) {
      drivers = {EventDriver::kTag};
    } else {
      drivers = {EventDriver::kTimestamp};
    }
    for (EventDriver driver : drivers) {
      const std::vector<std::string> plan =
          Plan(path, EventSql(q, pairs, match, driver, &cursor, 50));
      EXPECT_FALSE(plan.empty());
      EXPECT_FALSE(ScansTable(plan, "events", "e"))
          << "events by " << f.name << Join(plan);
      EXPECT_FALSE(ScansTable(plan, "event_tags", "t")) << f.name << Join(plan);
      EXPECT_FALSE(ScansTable(plan, "groups")) << f.name << Join(plan);
    }
  }
}

}  // namespace
}  // namespace store
}  // namespace crashctl
