// Opening the Store that the configuration names (storage.driver): the
// embedded SQLite database under storage.path, or PostgreSQL at
// storage.postgres.dsn (crashctl/store/postgres.h). Wiring shared by
// `serve` and the short-lived data commands.
//
// Thread-safety: reentrant.
#ifndef CRASHCTL_CMD_STORE_OPEN_H_
#define CRASHCTL_CMD_STORE_OPEN_H_

#include <memory>
#include <string>

#include "crashctl/core/config.h"
#include "crashctl/store/store.h"

namespace crashctl {
namespace cmd {

// The store of `config`; null with `*error` on failure. `for_ingest`: the
// one process that ingests (`serve`; SQLite: OpenSqliteForIngest).
std::unique_ptr<store::Store> OpenConfiguredStore(const core::Config& config,
                                                  bool for_ingest,
                                                  std::string* error);

// What the store is, for messages: the SQLite database's path, or
// "postgres <dsn without its password>".
std::string StoreDescription(const core::Config& config);

}  // namespace cmd
}  // namespace crashctl

#endif  // CRASHCTL_CMD_STORE_OPEN_H_
