// WalWriteBuffer: an SQLite VFS that wraps the default one and gathers the
// writes to a write-ahead log into one buffer, written out with a single
// pwrite per 64 KB when SQLite syncs the log (see docs/storage.md, "WAL
// writes").
//
// SQLite appends every WAL frame with two writes (its 24-byte header, then
// the page), so a commit of 70 pages costs 140 system calls; on a VM each
// costs a few microseconds of the single writer's time. Gathered, such a
// commit is five writes and one fdatasync.
//
// Contract: a buffered frame reaches the file before the log is synced
// (xSync), read, sized, truncated, memory-mapped or closed through the
// same handle, and before any write that does not extend the buffered run;
// so nothing changes for SQLite. Other connections (and processes) find WAL
// frames only through the WAL index, which SQLite updates after the sync of
// a commit, so this is exact for every connection that syncs each commit
// (`synchronous=FULL`, which SqliteDb sets on every connection). A failed
// write is reported by the call that flushes it (xSync at the latest), with
// the code the default VFS gave (SQLITE_FULL for a full disk), and the
// transaction fails as it would have.
//
// Thread-safety: Register() is safe to call from any thread, any number of
// times; each file handle is used by one connection at a time, as SQLite
// guarantees.
#ifndef CRASHCTL_STORE_WAL_WRITE_BUFFER_H_
#define CRASHCTL_STORE_WAL_WRITE_BUFFER_H_

namespace crashctl {
namespace store {

class WalWriteBuffer {
 public:
  WalWriteBuffer() = default;
  WalWriteBuffer(const WalWriteBuffer&) = delete;
  WalWriteBuffer& operator=(const WalWriteBuffer&) = delete;
  // The VFS name to pass to sqlite3_open_v2; registers it on first use.
  // Null if registration failed (then open with the default VFS).
  static const char* VfsName();
};

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_WAL_WRITE_BUFFER_H_
