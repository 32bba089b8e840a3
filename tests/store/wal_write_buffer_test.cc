// WalWriteBuffer: WAL frames gathered into few writes reach the file by the
// commit's sync (other connections and the default VFS see every committed
// row), and a write that fails fails the commit and nothing else.
#include "store/wal_write_buffer.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "store/sqlite_db.h"
#include "store_test_util.h"

namespace crashctl {
namespace store {
namespace {

using testing_util::QueryInt;
using testing_util::QueryText;
using testing_util::TempDir;

constexpr SqliteDb::Options kDbOptions{5000, false};

// One transaction of `rows` rows of 4 KB (a WAL page and more each).
Status InsertRows(SqliteDb* db, int rows) {
  Status status = db->Exec("BEGIN IMMEDIATE", "begin");
  for (int i = 0; status.ok() && i < rows; ++i) {
    status = db->Exec("INSERT INTO t (v) VALUES (randomblob(4096))", "insert");
  }
  if (status.ok()) status = db->Exec("COMMIT", "commit");
  if (!status.ok()) db->RollbackIfOpen();
  return status;
}

TEST(WalWriteBufferTest, IsTheVfsOfEveryConnection) {
  ASSERT_NE(WalWriteBuffer::VfsName(), nullptr);
  TempDir dir;
  Status status;
  std::unique_ptr<SqliteDb> db =
      SqliteDb::Open(dir.File("a.db"), kDbOptions, &status);
  ASSERT_NE(db, nullptr) << status.message();
  sqlite3_vfs* vfs = nullptr;
  ASSERT_EQ(sqlite3_file_control(db->handle(), "main", SQLITE_FCNTL_VFS_POINTER,
                                 &vfs),
            SQLITE_OK);
  ASSERT_NE(vfs, nullptr);
  EXPECT_STREQ(vfs->zName, WalWriteBuffer::VfsName());
}

TEST(WalWriteBufferTest, CommittedFramesReachOtherConnections) {
  TempDir dir;
  const std::string path = dir.File("a.db");
  Status status;
  std::unique_ptr<SqliteDb> db = SqliteDb::Open(path, kDbOptions, &status);
  ASSERT_NE(db, nullptr) << status.message();
  ASSERT_TRUE(
      db->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)", "create")
          .ok());
  // 1.2 MB in one commit: many 64 KB writes; then small ones; then again
  // after the WAL restarted from its beginning (a new WAL header).
  ASSERT_TRUE(InsertRows(db.get(), 300).ok());
  EXPECT_EQ(QueryInt(path, "SELECT count(*) FROM t"), 300);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(InsertRows(db.get(), 1).ok());
  EXPECT_EQ(QueryInt(path, "SELECT count(*) FROM t"), 305);
  ASSERT_EQ(
      sqlite3_wal_checkpoint_v2(db->handle(), nullptr,
                                SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr),
      SQLITE_OK);
  ASSERT_TRUE(InsertRows(db.get(), 40).ok());
  EXPECT_EQ(QueryInt(path, "SELECT count(*) FROM t"), 345);
  EXPECT_EQ(QueryInt(path, "SELECT sum(length(v)) FROM t"), 345 * 4096);
  db.reset();
  EXPECT_EQ(QueryInt(path, "SELECT count(*) FROM t"), 345);
}

TEST(WalWriteBufferTest, AFailedWriteFailsOnlyItsCommit) {
  // In a child process: file size limit (RLIMIT_FSIZE) just above the WAL's
  // size, so the buffered writes of a large commit fail when flushed; the
  // commit must fail, and once the limit is lifted the database works.
  TempDir dir;
  const std::string path = dir.File("a.db");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of death
    Status status;
    std::unique_ptr<SqliteDb> db = SqliteDb::Open(path, kDbOptions, &status);
    bool ok =
        db != nullptr &&
        db->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)", "create")
            .ok() &&
        InsertRows(db.get(), 10).ok();
    struct stat wal;
    ok = ok && stat((path + "-wal").c_str(), &wal) == 0;
    rlimit limit;
    ok = ok && getrlimit(RLIMIT_FSIZE, &limit) == 0;
    const rlimit saved = limit;
    limit.rlim_cur = static_cast<rlim_t>(wal.st_size) + (100 << 10);
    ok = ok && setrlimit(RLIMIT_FSIZE, &limit) == 0;
    // 1.2 MB does not fit: the commit fails, with an I/O error.
    const Status failed = ok ? InsertRows(db.get(), 300) : Status();
    ok = ok && !failed.ok();
    ok = ok && setrlimit(RLIMIT_FSIZE, &saved) == 0;
    // The connection may have to be reopened after an I/O error, as the
    // store does.
    db.reset();
    db = SqliteDb::Open(path, kDbOptions, &status);
    ok = ok && db != nullptr && InsertRows(db.get(), 5).ok();
    db.reset();
    _exit(ok ? 0 : 1);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0);
  EXPECT_EQ(QueryInt(path, "SELECT count(*) FROM t"), 15);
  EXPECT_EQ(QueryText(path, "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace store
}  // namespace crashctl
