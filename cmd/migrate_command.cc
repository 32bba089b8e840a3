// `migrate`: flags and output only; migrate::MigrateSqliteToPostgres
// (crashctl/migrate/migrate.h) does the work.
#include <chrono>
#include <cstdlib>
#include <iostream>

#include "cli.h"
#include "commands.h"
#include "crashctl/core/config.h"
#include "crashctl/migrate/migrate.h"
#include "crashctl/util/strings.h"

namespace crashctl {
namespace cmd {
namespace {

constexpr char kMigrateUsage[] =
    "usage: crashctl migrate [--from DIR] [--to DSN] [--config FILE] "
    "[--batch N]\n"
    "Copies the SQLite database <DIR>/crashctl.db into PostgreSQL: projects\n"
    "and their DSN keys (unchanged), groups, events, users, pod crashes and\n"
    "their links, with their ids; then compares the counts. Stop `crashctl\n"
    "serve` on the SQLite database first (it is refused while one runs) and\n"
    "start the replicas on PostgreSQL after. Interrupted, run it again: it\n"
    "resumes. The target must be empty or filled by an earlier migrate.\n"
    "  --from DIR     the data directory (storage.path)\n"
    "  --to DSN       libpq connection string or URI (default\n"
    "                 storage.postgres.dsn; the password may come from\n"
    "                 PGPASSWORD or PGPASSFILE)\n"
    "  --config FILE  configuration file (CRASHCTL_* variables apply too)\n"
    "  --batch N      rows per transaction, 1..50000 (default 2000)\n"
    "Exit status: 0 copied and verified, 1 failed or refused, 2 bad usage.\n";

}  // namespace

int MigrateCommand(const std::vector<std::string>& args) {
  if (WantsHelp(args)) {
    std::cout << kMigrateUsage;
    return kExitOk;
  }
  ParsedArgs parsed;
  if (!ParseCommandFlags("migrate", args, {"from", "to", "config", "batch"},
                         &parsed)) {
    return kExitUsage;
  }
  ConfigArgs config_args = ConfigArgsFrom(parsed);
  auto found = parsed.flags.find("from");
  if (found != parsed.flags.end()) {
    config_args.key_flags["storage.path"] = found->second;
  }
  core::Config config;
  std::string error;
  if (!core::LoadConfig(config_args.config_path, core::ProcessEnvironment(),
                        config_args.key_flags, &config, &error)) {
    std::cerr << "crashctl migrate: " << error << "\n";
    return kExitUsage;
  }
  migrate::Options options;
  options.sqlite_path = config.DatabasePath();
  options.conninfo = config.postgres_dsn;
  found = parsed.flags.find("to");
  if (found != parsed.flags.end()) options.conninfo = found->second;
  if (options.conninfo.empty()) {
    std::cerr << "crashctl migrate: no target: give --to DSN or set "
                 "storage.postgres.dsn (crashctl migrate --help)\n";
    return kExitUsage;
  }
  found = parsed.flags.find("batch");
  if (found != parsed.flags.end()) {
    int64_t batch = 0;
    if (!util::ParseInt64(found->second, 1, 50000, &batch)) {
      std::cerr << "crashctl migrate: --batch: want an integer 1..50000, got \""
                << found->second << "\"\n";
      return kExitUsage;
    }
    options.batch_rows = static_cast<int>(batch);
  }
  // One progress line per table per second at most, on stderr.
  auto last_line = std::chrono::steady_clock::time_point();
  options.progress = [&last_line](const std::string& table, int64_t done,
                                  int64_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_line < std::chrono::seconds(1) && done < total) return;
    last_line = now;
    std::cerr << "crashctl migrate: " << table << " " << done << "/" << total
              << "\n";
  };
  const std::string target = core::PostgresDsnForLog(options.conninfo);
  migrate::Report report;
  const Status status = migrate::MigrateSqliteToPostgres(options, &report);
  if (!status.ok()) {
    std::cerr << "crashctl migrate: " << options.sqlite_path << " -> " << target
              << ": " << status.message() << "\n";
    return kExitFailure;
  }
  std::cout << "migrated " << options.sqlite_path << " (schema version "
            << report.source_schema_version << ") to " << target
            << (report.resumed ? " (resumed)" : "") << " in " << report.seconds
            << " s\n";
  for (const migrate::TableReport& table : report.tables) {
    std::cout << "  " << table.table << ": " << table.target_rows
              << " rows (copied now " << table.copied << ")";
    if (table.orphans > 0) {
      std::cout << ", " << table.orphans
                << " left out (they point at rows the source lacks)";
    }
    std::cout << "\n";
  }
  std::cout << "  verified: row counts, attachment bytes and the sum of group "
               "counts ("
            << report.group_count_sum << ") match\n";
  for (const migrate::SkippedTable& skipped : report.skipped) {
    std::cout << "  not copied: " << skipped.table << " (" << skipped.rows
              << " rows; the postgres driver does not store them yet)\n";
  }
  return kExitOk;
}

}  // namespace cmd
}  // namespace crashctl
