// LabelStateSync: the label budget's state loaded at start, merged with
// what another replica saved, and saved again.
#include "crashctl/ingest/label_state.h"

#include <gtest/gtest.h>

#include <mutex>
#include <string>

#include "tests/rest/fake_store.h"

namespace crashctl {
namespace ingest {
namespace {

class LabelStore : public testing::FakeStore {
 public:
  Status SaveTracingLabels(const std::string& json) override {
    std::lock_guard<std::mutex> lock(mu);
    if (fail) return Status::Internal("disk full");
    saved = json;
    ++saves;
    return Status::Ok();
  }
  Status LoadTracingLabels(std::string* json) override {
    std::lock_guard<std::mutex> lock(mu);
    if (fail) return Status::Internal("disk full");
    *json = saved;
    return Status::Ok();
  }
  std::mutex mu;
  bool fail = false;
  std::string saved;
  int saves = 0;
};

tracing::Transaction Named(const std::string& name) {
  tracing::Transaction tx;
  tx.name = name;
  tx.source = "route";
  tx.status = "ok";
  tx.service = "api";
  return tx;
}

TEST(LabelStateSyncTest, ReplicasConvergeOnTheFirstAdmittedNames) {
  LabelStore store;
  tracing::LabelLimits limits;
  limits.max_transactions = 2;
  tracing::LabelBudget a(limits), b(limits);
  LabelStateSync sync_a(&store, &a), sync_b(&store, &b);
  ASSERT_TRUE(sync_a.Load().ok());  // nothing saved yet: OK
  EXPECT_EQ(a.ForTransaction(1, Named("one")).transaction, "one");
  ASSERT_TRUE(sync_a.Sync().ok());
  EXPECT_EQ(store.saves, 1);
  // Replica b admitted "two" and "three" on its own, then syncs: the
  // stored "one" comes first, b keeps its own, which it cannot give up.
  EXPECT_EQ(b.ForTransaction(1, Named("two")).transaction, "two");
  ASSERT_TRUE(sync_b.Sync().ok());
  EXPECT_NE(store.saved.find("\"one\""), std::string::npos) << store.saved;
  EXPECT_NE(store.saved.find("\"two\""), std::string::npos) << store.saved;
  // a learns "two" at its next sync, so a third name folds on both.
  ASSERT_TRUE(sync_a.Sync().ok());
  EXPECT_EQ(a.ForTransaction(1, Named("two")).transaction, "two");
  EXPECT_EQ(a.ForTransaction(1, Named("three")).transaction, "other");
  EXPECT_EQ(b.ForTransaction(1, Named("three")).transaction, "other");
  // Nothing changed since the last sync: no write.
  ASSERT_TRUE(sync_a.Sync().ok());
  const int saves = store.saves;
  ASSERT_TRUE(sync_a.Sync().ok());
  EXPECT_EQ(store.saves, saves);
}

TEST(LabelStateSyncTest, LoadAtStartAndSaveAtStop) {
  LabelStore store;
  {
    tracing::LabelBudget budget;
    LabelStateSync sync(&store, &budget, std::chrono::hours(1));
    sync.Start();
    budget.ForTransaction(3, Named("checkout"));
    sync.Stop();  // saves
  }
  ASSERT_NE(store.saved.find("checkout"), std::string::npos);
  tracing::LabelLimits one;
  one.max_transactions = 1;
  tracing::LabelBudget restarted(one);
  LabelStateSync sync(&store, &restarted);
  ASSERT_TRUE(sync.Load().ok());
  EXPECT_EQ(restarted.ForTransaction(3, Named("other_name")).transaction,
            "other");
  EXPECT_EQ(restarted.ForTransaction(3, Named("checkout")).transaction,
            "checkout");
}

TEST(LabelStateSyncTest, FailuresAndBadDocumentsAreReported) {
  LabelStore store;
  tracing::LabelBudget budget;
  LabelStateSync sync(&store, &budget);
  store.fail = true;
  EXPECT_FALSE(sync.Load().ok());
  EXPECT_FALSE(sync.Sync().ok());
  store.fail = false;
  store.saved = "not json";
  EXPECT_TRUE(sync.Load().IsInvalid());
  budget.ForTransaction(1, Named("a"));
  ASSERT_TRUE(sync.Sync().ok());  // replaces the unreadable document
  EXPECT_NE(store.saved.find("\"a\""), std::string::npos);
}

}  // namespace
}  // namespace ingest
}  // namespace crashctl
