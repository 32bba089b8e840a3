// `project create|list`, `cleanup` and `version`: short-lived commands that
// open the database directly (SQLite WAL lets them run beside a server).
#include <sys/stat.h>

#include <ctime>
#include <iostream>

#include "cli.h"
#include "commands.h"
#include "crashctl/core/config.h"
#include "crashctl/model/dsn.h"
#include "crashctl/store/retention.h"
#include "crashctl/store/sqlite.h"
#include "crashctl/store/store.h"

namespace crashctl {
namespace cmd {
namespace {

// Loads the configuration and opens the store; prints the reason and
// returns null on failure (`*status` gets the exit status). Unless
// `create`, a missing database is a failure, not a new empty one.
std::unique_ptr<store::Store> OpenForCommand(const ParsedArgs& args,
                                             core::Config* config, int* status,
                                             bool create = false) {
  const ConfigArgs config_args = ConfigArgsFrom(args);
  std::string error;
  if (!core::LoadConfig(config_args.config_path, core::ProcessEnvironment(),
                        config_args.key_flags, config, &error)) {
    std::cerr << "crashctl: " << error << "\n";
    *status = kExitUsage;
    return nullptr;
  }
  struct stat st;
  if (!create && stat(config->DatabasePath().c_str(), &st) != 0) {
    std::cerr << "crashctl: no database at " << config->DatabasePath()
              << " (check --data / storage.path; `crashctl serve` and "
                 "`crashctl project create` create it)\n";
    *status = kExitFailure;
    return nullptr;
  }
  std::unique_ptr<store::Store> store =
      store::OpenSqlite(config->DatabasePath(), &error);
  if (!store) {
    std::cerr << "crashctl: cannot open " << config->DatabasePath() << ": "
              << error << "\n";
    *status = kExitFailure;
  }
  return store;
}

std::string ShortDsn(const core::Config& config,
                     const model::Project& project) {
  return core::PublicBaseUrl(config) +
         "/api/v1/events?key=" + project.public_key;
}

int ProjectCreate(const std::vector<std::string>& args) {
  ParsedArgs parsed;
  if (!ParseCommandFlags("project create", args, {"name", "data", "config"},
                         &parsed)) {
    return kExitUsage;
  }
  auto name = parsed.flags.find("name");
  if (name == parsed.flags.end() || name->second.empty()) {
    std::cerr << "crashctl project create: --name NAME is required\n";
    return kExitUsage;
  }
  const std::string invalid = model::ProjectNameError(name->second);
  if (!invalid.empty()) {
    std::cerr << "crashctl project create: " << invalid << "\n";
    return kExitUsage;
  }
  core::Config config;
  int status = kExitOk;
  std::unique_ptr<store::Store> store =
      OpenForCommand(parsed, &config, &status, /*create=*/true);
  if (!store) return status;
  model::Project project;
  Status result = store->CreateProject(name->second, &project);
  if (!result.ok()) {
    std::cerr << "crashctl project create: " << result.message() << "\n";
    // A bad name is bad usage; an existing one is a failure (exit 1).
    return result.code() == Status::Code::kInvalid ? kExitUsage : kExitFailure;
  }
  std::cout << "DSN: "
            << model::FormatDsn(core::PublicBaseUrl(config), project.public_key,
                                project.id)
            << "\n"
            << "Short DSN: " << ShortDsn(config, project) << "\n"
            << "Project: " << project.id << " " << project.name << "\n";
  return kExitOk;
}

int ProjectList(const std::vector<std::string>& args) {
  ParsedArgs parsed;
  if (!ParseCommandFlags("project list", args, {"data", "config"}, &parsed)) {
    return kExitUsage;
  }
  core::Config config;
  int status = kExitOk;
  std::unique_ptr<store::Store> store =
      OpenForCommand(parsed, &config, &status);
  if (!store) return status;
  std::vector<model::Project> projects;
  Status result = store->ListProjects(&projects);
  if (!result.ok()) {
    std::cerr << "crashctl project list: " << result.message() << "\n";
    return kExitFailure;
  }
  for (const model::Project& project : projects) {
    std::cout << project.id << "\t" << project.name << "\t"
              << model::FormatDsn(core::PublicBaseUrl(config),
                                  project.public_key, project.id)
              << "\n";
  }
  return kExitOk;
}

}  // namespace

const char* Version() { return CRASHCTL_VERSION; }

int ProjectCommand(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << "crashctl project: expected create or list\n";
    return kExitUsage;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "create") return ProjectCreate(rest);
  if (args[0] == "list") return ProjectList(rest);
  std::cerr << "crashctl project: unknown subcommand " << args[0]
            << " (expected create or list)\n";
  return kExitUsage;
}

int CleanupCommand(const std::vector<std::string>& args) {
  ParsedArgs parsed;
  if (!ParseCommandFlags("cleanup", args, {"data", "config"}, &parsed)) {
    return kExitUsage;
  }
  core::Config config;
  int status = kExitOk;
  std::unique_ptr<store::Store> store =
      OpenForCommand(parsed, &config, &status);
  if (!store) return status;
  store::Retention::Options retention_options;
  retention_options.max_age_seconds = config.retention_max_age;
  retention_options.interval_seconds = config.retention_cleanup_interval;
  retention_options.max_size_bytes = config.retention_max_size;
  retention_options.transactions_max_age =
      config.retention_transactions_max_age;
  store::Retention retention(store.get(), retention_options, nullptr);
  int64_t deleted = 0, deleted_for_size = 0;
  Status result = retention.RunOnce(&deleted, &deleted_for_size);
  if (!result.ok()) {
    std::cerr << "crashctl cleanup: " << result.message() << "\n";
    return kExitFailure;
  }
  std::cout << "deleted " << deleted - deleted_for_size << " events older than "
            << config.retention_max_age / 3600 << "h\n";
  if (config.retention_max_size > 0) {
    std::cout << "deleted " << deleted_for_size
              << " oldest events for retention.max_size ("
              << config.retention_max_size << " bytes)\n";
  }
  return kExitOk;
}

int VersionCommand(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "crashctl version: takes no arguments\n";
    return kExitUsage;
  }
  std::cout << "crashctl " << Version() << "\n";
  return kExitOk;
}

}  // namespace cmd
}  // namespace crashctl
