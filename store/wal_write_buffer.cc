#include "wal_write_buffer.h"

#include <sqlite3.h>

#include <cstring>
#include <new>
#include <string>

namespace crashctl {
namespace store {
namespace {

constexpr char kVfsName[] = "crashctl-wal-buffer";
// At most this much is buffered: the default (unix) VFS writes at most
// 128 KB - 1 per call (it masks the length), so a larger run would be cut
// short and reported as a full disk. A commit of 70 pages is five writes.
constexpr size_t kBufferBytes = 64 << 10;

sqlite3_vfs* g_base = nullptr;  // the default VFS, set once by Register

// Our file: the base VFS's file follows this struct in the same allocation
// (szOsFile is ours plus the base's).
struct BufferedFile {
  sqlite3_file base;   // pMethods: ours
  sqlite3_file* real;  // the base VFS's file, right after this struct
  bool is_wal;
  std::string* pending;      // buffered bytes, for WAL files
  sqlite3_int64 pending_at;  // file offset of pending's first byte
};

sqlite3_file* Real(sqlite3_file* file) {
  return reinterpret_cast<BufferedFile*>(file)->real;
}

// Writes what is buffered; the buffer is empty afterwards either way.
int Flush(BufferedFile* f) {
  if (f->pending == nullptr || f->pending->empty()) return SQLITE_OK;
  const int rc = f->real->pMethods->xWrite(f->real, f->pending->data(),
                                           static_cast<int>(f->pending->size()),
                                           f->pending_at);
  f->pending->clear();
  return rc;
}

int Close(sqlite3_file* file) {
  auto* f = reinterpret_cast<BufferedFile*>(file);
  const int flushed = Flush(f);
  const int rc = f->real->pMethods != nullptr
                     ? f->real->pMethods->xClose(f->real)
                     : SQLITE_OK;
  delete f->pending;
  f->pending = nullptr;
  return flushed != SQLITE_OK ? flushed : rc;
}

int Read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  auto* f = reinterpret_cast<BufferedFile*>(file);
  const int rc = Flush(f);
  if (rc != SQLITE_OK) return rc;
  return f->real->pMethods->xRead(f->real, out, amount, offset);
}

int Write(sqlite3_file* file, const void* data, int amount,
          sqlite3_int64 offset) {
  auto* f = reinterpret_cast<BufferedFile*>(file);
  if (!f->is_wal)
    return f->real->pMethods->xWrite(f->real, data, amount, offset);
  std::string& pending = *f->pending;
  const bool extends =
      !pending.empty() &&
      offset == f->pending_at + static_cast<sqlite3_int64>(pending.size());
  if (!extends || pending.size() + static_cast<size_t>(amount) > kBufferBytes) {
    const int rc = Flush(f);
    if (rc != SQLITE_OK) return rc;
    if (static_cast<size_t>(amount) > kBufferBytes) {
      return f->real->pMethods->xWrite(f->real, data, amount, offset);
    }
    f->pending_at = offset;
  }
  pending.append(static_cast<const char*>(data), static_cast<size_t>(amount));
  return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  auto* f = reinterpret_cast<BufferedFile*>(file);
  const int rc = Flush(f);
  if (rc != SQLITE_OK) return rc;
  return f->real->pMethods->xTruncate(f->real, size);
}

int Sync(sqlite3_file* file, int flags) {
  auto* f = reinterpret_cast<BufferedFile*>(file);
  const int rc = Flush(f);
  if (rc != SQLITE_OK) return rc;
  return f->real->pMethods->xSync(f->real, flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  auto* f = reinterpret_cast<BufferedFile*>(file);
  const int rc = Flush(f);
  if (rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileSize(f->real, size);
}

int Lock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xLock(Real(file), level);
}
int Unlock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xUnlock(Real(file), level);
}
int CheckReservedLock(sqlite3_file* file, int* out) {
  return Real(file)->pMethods->xCheckReservedLock(Real(file), out);
}
int FileControl(sqlite3_file* file, int op, void* arg) {
  return Real(file)->pMethods->xFileControl(Real(file), op, arg);
}
int SectorSize(sqlite3_file* file) {
  return Real(file)->pMethods->xSectorSize(Real(file));
}
int DeviceCharacteristics(sqlite3_file* file) {
  return Real(file)->pMethods->xDeviceCharacteristics(Real(file));
}
// The shared-memory and memory-map methods exist from versions 2 and 3 of
// the base file's methods; without them SQLite falls back as it would
// without this VFS.
int ShmMap(sqlite3_file* file, int region, int size, int extend,
           void volatile** out) {
  sqlite3_file* real = Real(file);
  if (real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMMAP;
  return real->pMethods->xShmMap(real, region, size, extend, out);
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  sqlite3_file* real = Real(file);
  if (real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMLOCK;
  return real->pMethods->xShmLock(real, offset, n, flags);
}
void ShmBarrier(sqlite3_file* file) {
  sqlite3_file* real = Real(file);
  if (real->pMethods->iVersion >= 2) real->pMethods->xShmBarrier(real);
}
int ShmUnmap(sqlite3_file* file, int delete_flag) {
  sqlite3_file* real = Real(file);
  if (real->pMethods->iVersion < 2) return SQLITE_OK;
  return real->pMethods->xShmUnmap(real, delete_flag);
}
int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  auto* f = reinterpret_cast<BufferedFile*>(file);
  *out = nullptr;
  if (f->real->pMethods->iVersion < 3) return SQLITE_OK;  // no mapping
  const int rc = Flush(f);
  if (rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFetch(f->real, offset, amount, out);
}
int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  sqlite3_file* real = Real(file);
  if (real->pMethods->iVersion < 3) return SQLITE_OK;
  return real->pMethods->xUnfetch(real, offset, page);
}

const sqlite3_io_methods kMethods = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};

int Open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags,
         int* out_flags) {
  auto* f = reinterpret_cast<BufferedFile*>(file);
  f->base.pMethods = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
  f->pending = nullptr;
  f->pending_at = 0;
  std::memset(f->real, 0, static_cast<size_t>(g_base->szOsFile));
  const int rc = g_base->xOpen(g_base, name, f->real, flags, out_flags);
  if (f->real->pMethods == nullptr) return rc;  // nothing to close
  if (f->is_wal) {
    f->pending = new (std::nothrow) std::string();
    if (f->pending == nullptr) {
      f->real->pMethods->xClose(f->real);
      return SQLITE_NOMEM;
    }
  }
  f->base.pMethods = &kMethods;
  return rc;
}

// Everything but xOpen is the base VFS's.
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_base->xDelete(g_base, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_base->xAccess(g_base, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return g_base->xFullPathname(g_base, name, size, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) {
  return g_base->xDlOpen(g_base, name);
}
void DlError(sqlite3_vfs*, int size, char* out) {
  g_base->xDlError(g_base, size, out);
}
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return g_base->xDlSym(g_base, handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) { g_base->xDlClose(g_base, handle); }
int Randomness(sqlite3_vfs*, int size, char* out) {
  return g_base->xRandomness(g_base, size, out);
}
int Sleep(sqlite3_vfs*, int micros) { return g_base->xSleep(g_base, micros); }
int CurrentTime(sqlite3_vfs*, double* out) {
  return g_base->xCurrentTime(g_base, out);
}
int GetLastError(sqlite3_vfs*, int size, char* out) {
  return g_base->xGetLastError(g_base, size, out);
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_base->xCurrentTimeInt64(g_base, out);
}

sqlite3_vfs g_vfs;

bool Register() {
  sqlite3_initialize();
  g_base = sqlite3_vfs_find(nullptr);
  if (g_base == nullptr || g_base->iVersion < 2) return false;
  g_vfs = sqlite3_vfs();
  g_vfs.iVersion = 2;
  g_vfs.szOsFile = static_cast<int>(sizeof(BufferedFile)) + g_base->szOsFile;
  g_vfs.mxPathname = g_base->mxPathname;
  g_vfs.zName = kVfsName;
  g_vfs.xOpen = Open;
  g_vfs.xDelete = Delete;
  g_vfs.xAccess = Access;
  g_vfs.xFullPathname = FullPathname;
  g_vfs.xDlOpen = DlOpen;
  g_vfs.xDlError = DlError;
  g_vfs.xDlSym = DlSym;
  g_vfs.xDlClose = DlClose;
  g_vfs.xRandomness = Randomness;
  g_vfs.xSleep = Sleep;
  g_vfs.xCurrentTime = CurrentTime;
  g_vfs.xGetLastError = GetLastError;
  g_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  return sqlite3_vfs_register(&g_vfs, /*makeDflt=*/0) == SQLITE_OK;
}

}  // namespace

const char* WalWriteBuffer::VfsName() {
  static const bool registered = Register();
  return registered ? kVfsName : nullptr;
}

}  // namespace store
}  // namespace crashctl
