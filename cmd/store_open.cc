#include "store_open.h"

#include "crashctl/store/postgres.h"
#include "crashctl/store/sqlite.h"

namespace crashctl {
namespace cmd {

std::unique_ptr<store::Store> OpenConfiguredStore(const core::Config& config,
                                                  bool for_ingest,
                                                  std::string* error) {
  if (config.storage_driver == "postgres") {
    store::PostgresOptions options;
    options.conninfo = config.postgres_dsn;
    options.pool_size = config.postgres_pool_size;
    std::unique_ptr<store::Store> out;
    const Status status = store::OpenPostgres(options, &out);
    if (!status.ok()) {
      // libpq's messages name host and port, never the password.
      *error = status.ToString();
      return nullptr;
    }
    return out;
  }
  return for_ingest ? store::OpenSqliteForIngest(config.DatabasePath(), error)
                    : store::OpenSqlite(config.DatabasePath(), error);
}

std::string StoreDescription(const core::Config& config) {
  if (config.storage_driver == "postgres") {
    return "postgres " + core::PostgresDsnForLog(config.postgres_dsn);
  }
  return config.DatabasePath();
}

}  // namespace cmd
}  // namespace crashctl
