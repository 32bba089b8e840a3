// The embedded SQLite backend of the Store (docs/storage.md): one database
// file in WAL mode, writes through one connection, reads from a small pool of
// read connections, synchronous=FULL (an OK write is durable).
//
// Thread-safety: the functions are safe to call from any thread; the Store
// they return is safe to use from any number of threads.
#ifndef CRASHCTL_STORE_SQLITE_H_
#define CRASHCTL_STORE_SQLITE_H_

#include <memory>
#include <string>

#include "crashctl/store/store.h"

namespace crashctl {
namespace store {

// Opens (creating if needed) the database at `path`, switches it to WAL mode
// and applies pending schema migrations. Returns null and sets `*error` on
// failure.
std::unique_ptr<Store> OpenSqlite(const std::string& path, std::string* error);

// OpenSqlite() for the one process that ingests events (`crashctl serve`):
// group counters are written about once a second instead of with every batch
// (Store::Stats::deferred_updates), and the ones a crash left unwritten are
// recovered here. A second such open of the same database fails.
std::unique_ptr<Store> OpenSqliteForIngest(const std::string& path,
                                           std::string* error);

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_SQLITE_H_
