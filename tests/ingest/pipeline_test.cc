// IngestPipeline against the real SQLite store: acknowledgement only after
// commit, batching, bounded queue, listeners.
#include "crashctl/ingest/pipeline.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <functional>
#include <mutex>

#include "crashctl/exporter/exporter.h"
#include "crashctl/grouping/grouping.h"
#include "crashctl/ingest/metrics.h"
#include "crashctl/store/sqlite.h"
#include "tests/rest/fake_store.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace ingest {
namespace {

using testing::FakeStore;

model::WriteItem Item(int64_t project, const std::string& id,
                      const std::string& type) {
  model::WriteItem item;
  item.event.event_id = id;
  item.event.project_id = project;
  item.event.timestamp = 1700000000;
  item.event.received = 1700000000;
  item.event.level = model::Level::kError;
  item.event.service = "api";
  model::ExceptionValue e;
  e.type = type;
  e.value = "boom";
  item.event.exceptions.push_back(e);
  item.event.raw_json = "{}";
  item.grouping = grouping::ComputeGrouping(item.event);
  return item;
}

// Waits (up to a minute) for every result of `completion`.
const std::vector<IngestResult>& Await(
    const std::shared_ptr<Completion>& completion) {
  static const std::vector<IngestResult> kNone;
  if (!completion->WaitUntil(std::chrono::steady_clock::now() +
                             std::chrono::minutes(1))) {
    ADD_FAILURE() << "results not set within a minute";
    return kNone;
  }
  return completion->results();
}

std::string Id(int n) {
  std::string s = std::to_string(n);
  return std::string(32 - s.size(), '0') + s;
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    store_ = store::OpenSqlite(dir_.File("crashctl.db"), &error);
    ASSERT_TRUE(store_) << error;
    ASSERT_TRUE(store_->CreateProject("p", &project_).ok());
  }
  testing::TempDir dir_{"pipeline"};  // outlives store_
  std::unique_ptr<store::Store> store_;
  model::Project project_;
  exporter::Exporter exporter_{exporter::Exporter::Options{}};
  Metrics metrics_{exporter_.registry(), exporter_.services()};
};

// The writer and listeners get the item cut down to what they read; the
// stored event is still whole, and alerts still name the top frame.
TEST_F(PipelineTest, QueuedItemsHoldOnlyWhatTheWriterAndListenersRead) {
  IngestPipeline pipeline(store_.get(), &metrics_, {100, 8});
  std::mutex mu;
  std::vector<model::WriteItem> heard;
  pipeline.AddListener(
      [&](const model::WriteItem& item, const model::WriteOutcome&) {
        std::lock_guard<std::mutex> lock(mu);
        heard.push_back(item);
      });
  pipeline.Start();
  model::WriteItem item = Item(project_.id, Id(1), "TypeError");
  model::Frame frame;
  frame.function = "handleOrder";
  frame.filename = "app/handlers.js";
  frame.lineno = 88;
  frame.in_app = true;
  item.event.exceptions[0].frames = {frame};
  item.event.tags = {{"pod", "api-1"}};
  item.event.breadcrumbs_json = "[{\"message\":\"b\"}]";
  item.event.raw_json =
      "{\"exception\":{\"values\":[{\"type\":\"TypeError\"}]}}";
  item.grouping = grouping::ComputeGrouping(item.event);
  ASSERT_FALSE(item.grouping.components.empty());
  store_->PrepareWrite(&item);
  ASSERT_FALSE(item.stored_payload.empty());
  std::vector<model::WriteItem> items;
  items.push_back(std::move(item));
  std::shared_ptr<Completion> completion = pipeline.Submit(std::move(items));
  ASSERT_TRUE(completion);
  ASSERT_TRUE(Await(completion).at(0).status.ok());
  pipeline.Stop();

  ASSERT_EQ(heard.size(), 1u);
  const model::WriteItem& seen = heard[0];
  EXPECT_TRUE(seen.event.exceptions.empty());
  EXPECT_TRUE(seen.event.raw_json.empty());
  EXPECT_TRUE(seen.event.breadcrumbs_json.empty());
  EXPECT_TRUE(seen.grouping.components.empty());
  EXPECT_EQ(seen.event.Tag("pod"), "api-1");
  EXPECT_EQ(seen.event.service, "api");
  EXPECT_EQ(seen.grouping.title, "TypeError: boom");
  EXPECT_EQ(seen.grouping.top_frame, "handleOrder (app/handlers.js:88)");
  model::StoredEvent stored;
  ASSERT_TRUE(store_->GetEvent(Id(1), &stored).ok());
  EXPECT_NE(stored.payload.find("TypeError"), std::string::npos);
}

TEST_F(PipelineTest, AcknowledgesOnlyCommittedEvents) {
  IngestPipeline pipeline(store_.get(), &metrics_, {100, 8});
  std::atomic<int> heard{0};
  pipeline.AddListener(
      [&](const model::WriteItem&, const model::WriteOutcome&) { ++heard; });
  pipeline.Start();
  std::vector<model::WriteItem> items;
  for (int i = 0; i < 20; ++i) {
    items.push_back(Item(project_.id, Id(i), i % 2 ? "KeyError" : "TypeError"));
  }
  std::shared_ptr<Completion> completion = pipeline.Submit(std::move(items));
  ASSERT_TRUE(completion);
  const std::vector<IngestResult>& results = Await(completion);
  ASSERT_EQ(results.size(), 20u);
  int new_groups = 0;
  for (const IngestResult& r : results) {
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    new_groups += r.outcome.new_group;
    // Acknowledged means readable from the store right now.
  }
  EXPECT_EQ(new_groups, 2);
  model::StoredEvent stored;
  EXPECT_TRUE(store_->GetEvent(Id(19), &stored).ok());
  pipeline.Stop();
  EXPECT_EQ(heard.load(), 20);
  const std::string text = exporter_.Serialize();
  EXPECT_NE(text.find("crashctl_groups_created_total{project=\"" +
                      std::to_string(project_.id) + "\"} 2"),
            std::string::npos)
      << text;
}

TEST(PipelineIdleTest, IdleWriterHasTheStoreWriteDeferredCounters) {
  // The store `crashctl serve` opens keeps group counters in memory for a
  // while; once no events arrive, the writer has it write them, so the
  // file itself catches up without a reader asking.
  testing::TempDir dir("pipeline");
  const std::string path = dir.File("crashctl.db");
  std::string error;
  std::unique_ptr<store::Store> store =
      store::OpenSqliteForIngest(path, &error);
  ASSERT_TRUE(store) << error;
  model::Project project;
  ASSERT_TRUE(store->CreateProject("p", &project).ok());
  exporter::Exporter exporter(exporter::Exporter::Options{});
  Metrics metrics(exporter.registry(), exporter.services());
  IngestPipeline::Options options{100, 8};
  options.idle_flush = std::chrono::milliseconds(50);
  IngestPipeline pipeline(store.get(), &metrics, options);
  pipeline.Start();
  std::shared_ptr<Completion> completion =
      pipeline.Submit({Item(project.id, Id(1), "TypeError"),
                       Item(project.id, Id(2), "TypeError"),
                       Item(project.id, Id(3), "TypeError")});
  ASSERT_TRUE(completion);
  for (const IngestResult& r : Await(completion)) ASSERT_TRUE(r.status.ok());
  auto stored_count = [&] {
    sqlite3* db = nullptr;
    int64_t count = -1;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
        SQLITE_OK) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db, "SELECT sum(count) FROM groups", -1, &stmt,
                             nullptr) == SQLITE_OK &&
          sqlite3_step(stmt) == SQLITE_ROW) {
        count = sqlite3_column_int64(stmt, 0);
      }
      sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return count;
  };
  EXPECT_TRUE(testing::WaitFor([&] { return stored_count() == 3; }, 10))
      << stored_count();
  pipeline.Stop();
}

TEST_F(PipelineTest, FullQueueRefusesAtOnceWithoutQueueingAny) {
  IngestPipeline pipeline(store_.get(), &metrics_, {4, 2});
  // Not started: nothing drains the queue.
  std::vector<model::WriteItem> three = {Item(project_.id, Id(1), "A"),
                                         Item(project_.id, Id(2), "A"),
                                         Item(project_.id, Id(3), "A")};
  std::shared_ptr<Completion> accepted = pipeline.Submit(three);
  ASSERT_TRUE(accepted);
  EXPECT_EQ(pipeline.depth(), 3u);
  std::vector<model::WriteItem> two = {Item(project_.id, Id(4), "A"),
                                       Item(project_.id, Id(5), "A")};
  EXPECT_FALSE(pipeline.Submit(two));
  EXPECT_EQ(pipeline.depth(), 3u);
  // Stop() drains and commits what was accepted.
  pipeline.Start();
  pipeline.Stop();
  ASSERT_EQ(Await(accepted).size(), 3u);
  for (const IngestResult& r : Await(accepted)) EXPECT_TRUE(r.status.ok());
  model::StoredEvent stored;
  EXPECT_TRUE(store_->GetEvent(Id(3), &stored).ok());
  EXPECT_EQ(store_->GetEvent(Id(4), &stored).code(), Status::Code::kNotFound);
}

TEST_F(PipelineTest, DuplicateEventIdsAreNotCountedTwice) {
  IngestPipeline pipeline(store_.get(), &metrics_, {10, 10});
  pipeline.Start();
  for (int round = 0; round < 2; ++round) {
    std::shared_ptr<Completion> completion =
        pipeline.Submit({Item(project_.id, Id(7), "A")});
    ASSERT_TRUE(completion);
    const IngestResult r = Await(completion).at(0);
    ASSERT_TRUE(r.status.ok());
    EXPECT_EQ(r.outcome.duplicate, round == 1);
  }
  model::Group group;
  model::Page<model::Group> page;
  store::GroupQuery query;
  ASSERT_TRUE(store_->ListGroups(query, &page).ok());
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].count, 1);
}

// Accepts every event and records, each time the pipeline asks for the
// checkpoint a write left due, whether the batch was acknowledged by then.
// WriteEvents and Maintain run on the writer thread only.
class CheckpointOrderStore : public FakeStore {
 public:
  std::function<bool()> acknowledged;
  std::vector<bool> acknowledged_at_checkpoint;

  Status WriteEvents(const std::vector<model::WriteItem>& items,
                     std::vector<model::WriteOutcome>* outcomes) override {
    outcomes->assign(items.size(), model::WriteOutcome{});
    return Status::Ok();
  }
  Status Maintain(Maintenance when) override {
    if (when == Maintenance::kAfterBatch) {
      acknowledged_at_checkpoint.push_back(acknowledged());
    }
    return Status::Ok();
  }
};

TEST(PipelineCheckpointTest, DueCheckpointRunsOnlyAfterTheBatchIsAcknowledged) {
  // A checkpoint takes milliseconds (it fsyncs the database file); the
  // handlers of the batch whose commit made it due must not wait for it.
  CheckpointOrderStore store;
  exporter::Exporter exporter(exporter::Exporter::Options{});
  Metrics metrics(exporter.registry(), exporter.services());
  IngestPipeline pipeline(&store, &metrics, {100, 8});
  // Queued before the writer starts, so `completion` is set before the
  // writer can look at it.
  std::shared_ptr<Completion> completion =
      pipeline.Submit({Item(1, Id(1), "A"), Item(1, Id(2), "B")});
  ASSERT_TRUE(completion);
  store.acknowledged = [&] {
    return completion->WaitUntil(std::chrono::steady_clock::now());
  };
  pipeline.Start();
  ASSERT_EQ(Await(completion).size(), 2u);
  pipeline.Stop();
  EXPECT_EQ(store.acknowledged_at_checkpoint, std::vector<bool>{true});
}

}  // namespace
}  // namespace ingest
}  // namespace crashctl
