// The PostgreSQL backend of the Store (storage.driver: postgres,
// docs/postgres.md): a first slice. Projects, project keys, events and
// groups (writes, lists, lookups, status changes), pod crashes and their
// links to groups, retention by age, used bytes and health are implemented; every other Store method answers kInternal
// ("this store keeps no ..." from the Store defaults, or "not supported by
// the postgres driver yet: <Method>").
//
// Thread-safety: OpenPostgres is safe to call from any thread; the Store it
// returns is safe to use from any number of threads (each call leases its
// own connection from a bounded pool).
#ifndef CRASHCTL_STORE_POSTGRES_H_
#define CRASHCTL_STORE_POSTGRES_H_

#include <memory>
#include <string>

#include "crashctl/store/store.h"
#include "crashctl/util/status.h"

namespace crashctl {
namespace store {

struct PostgresOptions {
  // A libpq connection string or URI (storage.postgres.dsn). A password
  // may come from PGPASSWORD / PGPASSFILE instead; it is never logged.
  std::string conninfo;
  int pool_size = 8;  // storage.postgres.pool_size, >= 1
  int connect_timeout_ms = 5000;
  int statement_timeout_ms = 30000;  // each statement, on the server
  int acquire_timeout_ms = 5000;     // waiting for a free connection
  std::string application_name = "crashctl";
};

// Connects (one connection, to fail fast on a bad DSN or a server that is
// down), applies the schema migrations the database lacks (advisory-locked,
// so replicas starting together apply each once) and sets `*out`.
// kInvalid for bad options or a malformed DSN, kUnavailable when the server
// cannot be reached, kInternal when it refuses (authentication, no such
// database) or a migration fails.
Status OpenPostgres(const PostgresOptions& options,
                    std::unique_ptr<Store>* out);

// The prefix of the message of every method the driver lacks (kInternal).
inline constexpr char kPostgresNotSupported[] =
    "not supported by the postgres driver yet: ";

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_POSTGRES_H_
