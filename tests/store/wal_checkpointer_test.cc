// WalCheckpointer: the WAL is copied back by the background thread once the
// frames not yet copied reach the threshold (once per threshold, not once
// per commit), and by the committing connection itself when the WAL reaches
// the inline limit (thread not running), between its transactions rather
// than inside the commit; data survives either way.
#include "store/wal_checkpointer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "store_test_util.h"

namespace crashctl {
namespace store {
namespace {

using testing_util::TempDir;

constexpr SqliteDb::Options kDbOptions{5000, false};

// Polls `condition` every 5 ms for up to `seconds`.
template <typename Condition>
bool Eventually(Condition condition, double seconds) {
  const auto end =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class WalCheckpointerTest : public ::testing::Test {
 protected:
  void Open(const WalCheckpointer::Options& options) {
    path_ = dir_.File("wal.db");
    checkpointer_ =
        std::make_unique<WalCheckpointer>(path_, kDbOptions, options);
    Status status;
    db_ = SqliteDb::Open(path_, kDbOptions, &status);
    ASSERT_NE(db_, nullptr) << status.message();
    ASSERT_TRUE(
        db_->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", "create")
            .ok());
    checkpointer_->InstallOn(db_->handle());
  }

  // One transaction of `rows` rows of 2 KB: about `rows` / 2 WAL pages.
  // Runs a checkpoint that is due first, as SqliteStore's writes do.
  void Commit(int rows) {
    checkpointer_->CheckpointIfDue(db_->handle());
    CommitOnly(rows);
  }
  void CommitOnly(int rows) {
    ASSERT_TRUE(db_->Exec("BEGIN", "begin").ok());
    for (int i = 0; i < rows; ++i) {
      ASSERT_TRUE(db_->Exec("INSERT INTO t (v) VALUES (hex(randomblob(1024)))",
                            "insert")
                      .ok());
    }
    ASSERT_TRUE(db_->Exec("COMMIT", "commit").ok());
  }

  // (frames in the WAL, frames already copied to the database file).
  std::pair<int, int> WalState() {
    int log = -1;
    int copied = -1;
    sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                              &log, &copied);
    return {log, copied};
  }

  int64_t Rows() {
    SqliteStmt stmt;
    Status status;
    EXPECT_TRUE(db_->Prepare("SELECT count(*) FROM t", &stmt, &status));
    EXPECT_EQ(stmt.Step(), SQLITE_ROW);
    return stmt.Int(0);
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<WalCheckpointer> checkpointer_;
  std::unique_ptr<SqliteDb> db_;
};

TEST_F(WalCheckpointerTest, ThreadCheckpointsOnceTheWalReachesTheThreshold) {
  WalCheckpointer::Options options;
  options.threshold_pages = 40;
  options.inline_pages = 100000;
  Open(options);
  checkpointer_->Start();
  Commit(10);  // well below the threshold
  EXPECT_EQ(checkpointer_->background_checkpoints(), 0);
  for (int i = 0; i < 10; ++i) Commit(20);
  ASSERT_TRUE(Eventually(
      [&] { return checkpointer_->background_checkpoints() > 0; }, 10));
  EXPECT_EQ(checkpointer_->inline_checkpoints(), 0);
  checkpointer_->Stop();
  EXPECT_EQ(Rows(), 210);
}

TEST_F(WalCheckpointerTest, ThreadWakesOncePerThresholdOfNewFrames) {
  // A WAL restarts only when a transaction begins after a complete
  // checkpoint. The reader below keeps a snapshot open across every commit,
  // so the WAL never restarts and its length stays above the threshold;
  // the thread must still run about once per `threshold_pages` new frames,
  // not once per commit.
  WalCheckpointer::Options options;
  options.threshold_pages = 60;
  options.inline_pages = 100000;
  Open(options);
  Status status;
  std::unique_ptr<SqliteDb> reader = SqliteDb::Open(path_, kDbOptions, &status);
  ASSERT_NE(reader, nullptr) << status.message();
  checkpointer_->Start();
  constexpr int kCommits = 200;  // of about 6 frames each
  int64_t seen = 0;              // background checkpoints at the last wait
  for (int i = 0; i < kCommits; ++i) {
    ASSERT_TRUE(reader->Exec("BEGIN", "begin read").ok());
    SqliteStmt stmt;
    ASSERT_TRUE(reader->Prepare("SELECT count(*) FROM t", &stmt, &status));
    ASSERT_EQ(stmt.Step(), SQLITE_ROW);
    Commit(5);
    stmt = SqliteStmt();
    ASSERT_TRUE(reader->Exec("COMMIT", "end read").ok());
    if (i % 15 == 14) {
      // 90 new frames since the last wait: the hook has woken the thread at
      // least once more. Let it run before going on; on a loaded machine it
      // may not be scheduled at all until this loop ends (CI once saw 1
      // checkpoint), which tests the scheduler, not the wake rule.
      Eventually([&] { return checkpointer_->background_checkpoints() > seen; },
                 10);
      seen = checkpointer_->background_checkpoints();
    }
  }
  checkpointer_->Stop();
  const std::pair<int, int> state = WalState();
  EXPECT_GT(state.first, 3 * kCommits) << "the WAL restarted";
  EXPECT_GT(checkpointer_->background_checkpoints(), 5);
  // A run can copy only up to the reader's snapshot, leaving the last
  // commit's frames for the next one, so allow twice the ideal count; waking
  // once per commit (the old rule) runs about kCommits times.
  EXPECT_LT(checkpointer_->background_checkpoints(),
            2 * state.first / options.threshold_pages);
  EXPECT_EQ(Rows(), 5 * kCommits);
}

TEST_F(WalCheckpointerTest, CommitterCheckpointsInlineWhenTheThreadIsBehind) {
  WalCheckpointer::Options options;
  options.threshold_pages = 100000;
  options.inline_pages = 30;
  Open(options);  // no Start(): nobody else checkpoints
  for (int i = 0; i < 20; ++i) Commit(20);
  EXPECT_GT(checkpointer_->inline_checkpoints(), 0);
  // The WAL restarts from its beginning after a full checkpoint, so it
  // stays near the inline limit instead of growing with every commit.
  const std::pair<int, int> state = WalState();
  EXPECT_LT(state.first, 3 * options.inline_pages) << state.first;
  EXPECT_EQ(Rows(), 400);
}

TEST_F(WalCheckpointerTest, InlineCheckpointWaitsForTheCommitterToAsk) {
  // The hook only marks the checkpoint due: the commit that made the WAL
  // long returns (and its events are acknowledged) without waiting for it.
  WalCheckpointer::Options options;
  options.threshold_pages = 100000;
  options.inline_pages = 30;
  Open(options);   // no Start()
  CommitOnly(80);  // about 40 pages: over the limit
  EXPECT_EQ(checkpointer_->inline_checkpoints(), 0);
  checkpointer_->CheckpointIfDue(db_->handle());
  EXPECT_EQ(checkpointer_->inline_checkpoints(), 1);
  checkpointer_->CheckpointIfDue(db_->handle());  // nothing due any more
  EXPECT_EQ(checkpointer_->inline_checkpoints(), 1);
  // Everything was copied, so the next transaction restarts the WAL.
  CommitOnly(4);
  EXPECT_LT(WalState().first, 10);
  EXPECT_EQ(Rows(), 84);
}

TEST_F(WalCheckpointerTest, WithoutAnyCheckpointTheWalKeepsGrowing) {
  // The control for the test above: the hook replaced SQLite's automatic
  // checkpoint, so with both limits out of reach nothing is copied.
  WalCheckpointer::Options options;
  options.threshold_pages = 100000;
  options.inline_pages = 100000;
  Open(options);
  for (int i = 0; i < 20; ++i) Commit(20);
  EXPECT_EQ(checkpointer_->inline_checkpoints(), 0);
  EXPECT_GT(WalState().first, 3 * 30);
}

}  // namespace
}  // namespace store
}  // namespace crashctl
