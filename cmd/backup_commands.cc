// `backup` and `restore`: flags and output only; store::BackupDatabase and
// store::RestoreDatabase (crashctl/store/backup.h) do the work.
#include <cstdlib>
#include <iostream>

#include "cli.h"
#include "commands.h"
#include "crashctl/core/config.h"
#include "crashctl/store/backup.h"

namespace crashctl {
namespace cmd {
namespace {

constexpr char kBackupUsage[] =
    "usage: crashctl backup --to FILE [--data DIR] [--config FILE] "
    "[--timeout DURATION] [--pages-per-step N]\n"
    "Writes a consistent copy of the database (<data>/crashctl.db) to FILE,\n"
    "also while `crashctl serve` runs on it. The copy is checked (integrity\n"
    "and schema version), synced and renamed into place; FILE is replaced.\n"
    "  --to FILE           the backup file (its directory must exist)\n"
    "  --data DIR          data directory (storage.path)\n"
    "  --config FILE       configuration file\n"
    "  --timeout DURATION  give up after this long (default 30m)\n"
    "  --pages-per-step N  database pages copied per step, with a 2 ms pause\n"
    "                      between steps (default 1024, 4 MiB)\n"
    "Exit status: 0 done, 1 failed, 2 bad usage.\n";

constexpr char kRestoreUsage[] =
    "usage: crashctl restore --from FILE [--data DIR] [--config FILE] "
    "[--timeout DURATION]\n"
    "Replaces the database (<data>/crashctl.db) with the backup FILE, after\n"
    "checking it (integrity and schema version). Refused while `crashctl\n"
    "serve` uses the data directory: stop the server first, restore, start "
    "it.\n"
    "  --from FILE         a file `crashctl backup` wrote\n"
    "  --data DIR          data directory (storage.path)\n"
    "  --config FILE       configuration file\n"
    "  --timeout DURATION  give up after this long (default 30m)\n"
    "Exit status: 0 done, 1 failed or refused, 2 bad usage.\n";

// Parses the flags shared by both commands; `file_flag` is "to" or "from".
// Prints the reason and returns kExitUsage on bad usage, else kExitOk.
int ParseBackupArgs(const std::string& command, const std::string& file_flag,
                    const std::vector<std::string>& args, core::Config* config,
                    std::string* file, store::BackupOptions* options) {
  ParsedArgs parsed;
  if (!ParseCommandFlags(
          command, args,
          {file_flag, "data", "config", "timeout", "pages-per-step"},
          &parsed)) {
    return kExitUsage;
  }
  auto found = parsed.flags.find(file_flag);
  if (found == parsed.flags.end() || found->second.empty()) {
    std::cerr << "crashctl " << command << ": --" << file_flag
              << " FILE is required (crashctl " << command << " --help)\n";
    return kExitUsage;
  }
  *file = found->second;
  found = parsed.flags.find("timeout");
  if (found != parsed.flags.end()) {
    double seconds = 0;
    if (!core::ParseDuration(found->second, &seconds) || seconds <= 0) {
      std::cerr << "crashctl " << command << ": --timeout: bad duration \""
                << found->second << "\" (want e.g. 90s, 5m, 1h)\n";
      return kExitUsage;
    }
    options->timeout = std::chrono::milliseconds(
        static_cast<std::chrono::milliseconds::rep>(seconds * 1000));
  }
  found = parsed.flags.find("pages-per-step");
  if (found != parsed.flags.end()) {
    char* end = nullptr;
    const long pages = std::strtol(found->second.c_str(), &end, 10);
    if (found->second.empty() || *end != '\0' || pages < 1 || pages > 1000000) {
      std::cerr << "crashctl " << command
                << ": --pages-per-step: want an integer 1..1000000, got \""
                << found->second << "\"\n";
      return kExitUsage;
    }
    options->pages_per_step = static_cast<int>(pages);
  }
  const ConfigArgs config_args = ConfigArgsFrom(parsed);
  std::string error;
  if (!core::LoadConfig(config_args.config_path, core::ProcessEnvironment(),
                        config_args.key_flags, config, &error)) {
    std::cerr << "crashctl " << command << ": " << error << "\n";
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace

int BackupCommand(const std::vector<std::string>& args) {
  if (WantsHelp(args)) {
    std::cout << kBackupUsage;
    return kExitOk;
  }
  core::Config config;
  std::string to;
  store::BackupOptions options;
  const int usage =
      ParseBackupArgs("backup", "to", args, &config, &to, &options);
  if (usage != kExitOk) return usage;
  store::BackupInfo info;
  const Status status =
      store::BackupDatabase(config.DatabasePath(), to, options, &info);
  if (!status.ok()) {
    std::cerr << "crashctl backup: " << status.message() << "\n";
    return kExitFailure;
  }
  std::cout << "backup of " << config.DatabasePath() << " written to " << to
            << ": " << info.bytes << " bytes, " << info.pages
            << " pages, schema version " << info.schema_version << ", "
            << info.seconds << " s\n";
  return kExitOk;
}

int RestoreCommand(const std::vector<std::string>& args) {
  if (WantsHelp(args)) {
    std::cout << kRestoreUsage;
    return kExitOk;
  }
  core::Config config;
  std::string from;
  store::BackupOptions options;
  const int usage =
      ParseBackupArgs("restore", "from", args, &config, &from, &options);
  if (usage != kExitOk) return usage;
  store::BackupInfo info;
  const Status status =
      store::RestoreDatabase(from, config.DatabasePath(), options, &info);
  if (!status.ok()) {
    std::cerr << "crashctl restore: " << status.message() << "\n";
    return kExitFailure;
  }
  std::cout << "restored " << from << " into " << config.DatabasePath() << ": "
            << info.bytes << " bytes, schema version " << info.schema_version
            << ", " << info.seconds << " s\n";
  return kExitOk;
}

}  // namespace cmd
}  // namespace crashctl
