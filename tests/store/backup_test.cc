// store::BackupDatabase and store::RestoreDatabase.
#include "crashctl/store/backup.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "store_test_util.h"

namespace crashctl {
namespace store {
namespace {

using testing_util::EventId;
using testing_util::MakeItem;
using testing_util::QueryInt;
using testing_util::QueryText;
using testing_util::StoreTest;

bool Exists(const std::string& path) { return std::filesystem::exists(path); }

// Runs `sql` on the file with a plain read-write connection.
void ExecOn(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message),
            SQLITE_OK)
      << (message != nullptr ? message : "");
  sqlite3_free(message);
  sqlite3_close(db);
}

// Files in `dir` whose name contains `part`.
int FilesContaining(const std::string& dir, const std::string& part) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().find(part) != std::string::npos) ++n;
  }
  return n;
}

class BackupTest : public StoreTest {
 protected:
  std::string DbPath() const { return store_->path(); }

  void WriteEvents(int64_t first, int count) {
    std::vector<model::WriteItem> items;
    for (int i = 0; i < count; ++i) {
      items.push_back(MakeItem(project_.id, first + i, "fp", 100 + first + i));
    }
    Write(items);
  }
};

TEST_F(BackupTest, CopiesEverythingIntoOneSelfContainedCheckedFile) {
  WriteEvents(1, 50);  // in the WAL: the server has not checkpointed them
  const std::string to = dir_.File("backup.db");
  BackupInfo info;
  Status status = BackupDatabase(DbPath(), to, BackupOptions(), &info);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(QueryInt(to, "SELECT count(*) FROM events"), 50);
  EXPECT_EQ(QueryText(to, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(QueryText(to, "PRAGMA journal_mode"), "delete");
  EXPECT_FALSE(Exists(to + "-wal"));
  EXPECT_EQ(FilesContaining(dir_.path(), ".tmp-"), 0);
  EXPECT_GT(info.pages, 0);
  EXPECT_EQ(info.bytes, static_cast<int64_t>(std::filesystem::file_size(to)));
  EXPECT_EQ(info.schema_version,
            QueryInt(DbPath(), "SELECT max(version) FROM schema_migrations"));

  // A second backup replaces the first.
  WriteEvents(51, 10);
  status = BackupDatabase(DbPath(), to, BackupOptions(), &info);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(QueryInt(to, "SELECT count(*) FROM events"), 60);
}

TEST_F(BackupTest, CopyUnderConcurrentWritesHoldsEverythingWrittenBefore) {
  WriteEvents(1, 200);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> written{200};
  std::thread writer([&] {
    // Bounded: at most 2000 more batches.
    for (int b = 0; b < 2000 && !stop; ++b) {
      const int64_t first = written + 1;
      std::vector<model::WriteItem> items;
      for (int i = 0; i < 5; ++i) {
        items.push_back(MakeItem(project_.id, first + i, "w", 1000 + b));
      }
      std::vector<model::WriteOutcome> outcomes;
      if (!store_->WriteEvents(items, &outcomes).ok()) break;
      written += 5;
    }
  });
  // Let some writes happen, then note what is committed and back up with
  // tiny steps, so the writer commits between them.
  const auto give_up =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (written < 300 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_GE(written.load(), 300);
  const int64_t before = written;
  BackupOptions options;
  options.pages_per_step = 1;
  options.pause = std::chrono::milliseconds(1);
  BackupInfo info;
  const std::string to = dir_.File("live.db");
  Status status = BackupDatabase(DbPath(), to, options, &info);
  stop = true;
  writer.join();
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(QueryText(to, "PRAGMA integrity_check"), "ok");
  const int64_t copied = QueryInt(to, "SELECT count(*) FROM events");
  EXPECT_GE(copied, before);
  // Exactly a prefix: every event up to `copied`, none after.
  EXPECT_EQ(QueryInt(to, "SELECT count(*) FROM events WHERE event_id <= '" +
                             EventId(before) + "'"),
            before);
  EXPECT_EQ(QueryInt(to, "SELECT max(id) FROM events"), copied);
}

TEST_F(BackupTest, RefusesTheLiveFilesAMissingDatabaseOrDirectory) {
  BackupInfo info;
  for (const std::string& to :
       {DbPath(), DbPath() + "-wal", IngestLockPath(DbPath())}) {
    EXPECT_EQ(BackupDatabase(DbPath(), to, BackupOptions(), &info).code(),
              Status::Code::kInvalid)
        << to;
  }
  EXPECT_EQ(BackupDatabase(dir_.File("none.db"), dir_.File("b.db"),
                           BackupOptions(), &info)
                .code(),
            Status::Code::kNotFound);
  EXPECT_EQ(BackupDatabase(DbPath(), dir_.File("no/such/dir/b.db"),
                           BackupOptions(), &info)
                .code(),
            Status::Code::kInvalid);
}

TEST_F(BackupTest, TimeoutFailsClearlyAndLeavesNothing) {
  WriteEvents(1, 100);
  BackupOptions options;
  options.pages_per_step = 1;
  options.timeout = std::chrono::milliseconds(0);
  BackupInfo info;
  const std::string to = dir_.File("slow.db");
  Status status = BackupDatabase(DbPath(), to, options, &info);
  EXPECT_EQ(status.code(), Status::Code::kUnavailable);
  EXPECT_NE(status.message().find("did not finish within"), std::string::npos)
      << status.message();
  EXPECT_FALSE(Exists(to));
  EXPECT_EQ(FilesContaining(dir_.path(), ".tmp-"), 0);
}

TEST_F(BackupTest, RestoreIsRefusedWhileAServerHoldsTheDatabase) {
  WriteEvents(1, 5);
  const std::string backup = dir_.File("b.db");
  BackupInfo info;
  ASSERT_TRUE(BackupDatabase(DbPath(), backup, BackupOptions(), &info).ok());
  const std::string db = dir_.File("served/crashctl.db");
  std::string error;
  {
    std::unique_ptr<Store> server = OpenSqliteForIngest(db, &error);
    ASSERT_NE(server, nullptr) << error;
    EXPECT_EQ(CheckNoServer(db).code(), Status::Code::kConflict);
    Status status = RestoreDatabase(backup, db, BackupOptions(), &info);
    EXPECT_EQ(status.code(), Status::Code::kConflict);
    EXPECT_NE(status.message().find("stop it first"), std::string::npos)
        << status.message();
    EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM events"), 0);
  }
  EXPECT_TRUE(CheckNoServer(db).ok());
  Status status = RestoreDatabase(backup, db, BackupOptions(), &info);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM events"), 5);
  // The restore let go of the lock: a server starts on the restored data.
  EXPECT_NE(OpenSqliteForIngest(db, &error), nullptr) << error;
}

TEST_F(BackupTest, RestoreReplacesTheDatabaseAndDropsItsStaleWal) {
  WriteEvents(1, 10);
  const std::string backup = dir_.File("b.db");
  BackupInfo info;
  ASSERT_TRUE(BackupDatabase(DbPath(), backup, BackupOptions(), &info).ok());

  // A database whose process died with commits in its WAL.
  const std::string db = dir_.File("other/crashctl.db");
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::string error;
    std::unique_ptr<SqliteStore> other =
        SqliteStore::Open(db, SqliteStore::Options(), &error);
    model::Project project;
    if (!other || !other->CreateProject("p", &project).ok()) _exit(3);
    std::vector<model::WriteItem> items;
    for (int i = 0; i < 20; ++i) {
      items.push_back(MakeItem(project.id, 100 + i, "x", 100));
    }
    std::vector<model::WriteOutcome> outcomes;
    if (!other->WriteEvents(items, &outcomes).ok()) _exit(4);
    _exit(0);  // no close: the WAL stays
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << wstatus;
  ASSERT_TRUE(Exists(db + "-wal"));

  Status status = RestoreDatabase(backup, db, BackupOptions(), &info);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_FALSE(Exists(db + "-wal"));
  EXPECT_FALSE(Exists(db + "-shm"));
  EXPECT_FALSE(Exists(db + ".restore-tmp"));
  EXPECT_GE(info.schema_version, 1);
  std::string error;
  std::unique_ptr<SqliteStore> restored =
      SqliteStore::Open(db, SqliteStore::Options(), &error);
  ASSERT_NE(restored, nullptr) << error;
  model::StoredEvent event;
  EXPECT_TRUE(restored->GetEvent(EventId(5), &event).ok());
  EXPECT_EQ(restored->GetEvent(EventId(105), &event).code(),
            Status::Code::kNotFound);
  EXPECT_TRUE(restored->IntegrityCheck().ok());
  EXPECT_EQ(QueryText(db, "PRAGMA journal_mode"), "wal");
}

TEST_F(BackupTest, RestoreRefusesWhatIsNotACurrentCrashctlDatabase) {
  WriteEvents(1, 3);
  const std::string db = dir_.File("target/crashctl.db");
  std::filesystem::create_directories(dir_.File("target"));
  BackupInfo info;
  ASSERT_TRUE(BackupDatabase(DbPath(), db, BackupOptions(), &info).ok());

  const std::string garbage = dir_.File("garbage.db");
  std::ofstream(garbage) << std::string(8192, 'x');
  Status status = RestoreDatabase(garbage, db, BackupOptions(), &info);
  EXPECT_EQ(status.code(), Status::Code::kInvalid);
  EXPECT_NE(status.message().find("not a crashctl database"), std::string::npos)
      << status.message();

  const std::string plain = dir_.File("plain.db");
  ExecOn(plain, "CREATE TABLE t (x); INSERT INTO t VALUES (1);");
  status = RestoreDatabase(plain, db, BackupOptions(), &info);
  EXPECT_EQ(status.code(), Status::Code::kInvalid);
  EXPECT_NE(status.message().find("not a crashctl database"), std::string::npos)
      << status.message();

  const std::string newer = dir_.File("newer.db");
  ASSERT_TRUE(BackupDatabase(DbPath(), newer, BackupOptions(), &info).ok());
  ExecOn(newer, "INSERT INTO schema_migrations VALUES (999, 0);");
  status = RestoreDatabase(newer, db, BackupOptions(), &info);
  EXPECT_EQ(status.code(), Status::Code::kInvalid);
  EXPECT_NE(status.message().find("newer"), std::string::npos)
      << status.message();

  EXPECT_EQ(RestoreDatabase(dir_.File("missing.db"), db, BackupOptions(), &info)
                .code(),
            Status::Code::kNotFound);
  // Each refusal left the database as it was.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM events"), 3);
  EXPECT_FALSE(Exists(db + ".restore-tmp"));
}

}  // namespace
}  // namespace store
}  // namespace crashctl
