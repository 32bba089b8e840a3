// `project create|list|delete`, `project keys ...`, `cleanup` and `version`:
// short-lived commands that open the database directly (SQLite WAL lets them
// run beside a server; a server's ingest key cache sees key changes made
// here within 3 seconds).
#include <sys/stat.h>

#include <cctype>
#include <ctime>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "cli.h"
#include "commands.h"
#include "crashctl/core/config.h"
#include "crashctl/model/dsn.h"
#include "crashctl/store/retention.h"
#include "crashctl/store/store.h"
#include "store_open.h"

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
  if (!create && config->storage_driver == "sqlite" &&
      stat(config->DatabasePath().c_str(), &st) != 0) {
    std::cerr << "crashctl: no database at " << config->DatabasePath()
              << " (check --data / storage.path; `crashctl serve` and "
                 "`crashctl project create` create it)\n";
    *status = kExitFailure;
    return nullptr;
  }
  std::unique_ptr<store::Store> store =
      OpenConfiguredStore(*config, /*for_ingest=*/false, &error);
  if (!store) {
    std::cerr << "crashctl: cannot open " << StoreDescription(*config) << ": "
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
  // The DSN of each project's oldest active key; "-" when it has none.
  for (const model::Project& project : projects) {
    std::cout << project.id << "\t" << project.name << "\t"
              << (project.public_key.empty()
                      ? std::string("-")
                      : model::FormatDsn(core::PublicBaseUrl(config),
                                         project.public_key, project.id))
              << "\n";
  }
  return kExitOk;
}

// A positional id argument (`what` names it in the message): decimal
// digits, 1..10^18. Prints the usage error and returns false otherwise.
bool ParseIdArg(const std::string& command, const std::string& what,
                const std::string& text, int64_t* out) {
  bool ok = !text.empty() && text.size() <= 18;
  int64_t value = 0;
  for (size_t i = 0; ok && i < text.size(); ++i) {
    ok = std::isdigit(static_cast<unsigned char>(text[i])) != 0;
    value = value * 10 + (text[i] - '0');
  }
  if (!ok || value <= 0) {
    std::cerr << "crashctl " << command << ": " << what << " \"" << text
              << "\" is not a positive integer\n";
    return false;
  }
  *out = value;
  return true;
}

// Parses `args` as the flags `known` and exactly the positional ids
// `names` (e.g. {"PROJECT_ID", "KEY_ID"}) into `ids`.
bool ParseIdCommand(const std::string& command,
                    const std::vector<std::string>& args,
                    const std::set<std::string>& known,
                    const std::vector<std::string>& names, ParsedArgs* parsed,
                    std::vector<int64_t>* ids) {
  std::string error;
  if (!ParseFlags(args, known, parsed, &error)) {
    std::cerr << "crashctl " << command << ": " << error << "\n";
    return false;
  }
  if (parsed->positional.size() != names.size()) {
    std::string usage;
    for (const std::string& name : names) usage += " " + name;
    std::cerr << "crashctl " << command << ": expected" << usage << "\n";
    return false;
  }
  ids->resize(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    if (!ParseIdArg(command, names[i], parsed->positional[i], &(*ids)[i])) {
      return false;
    }
  }
  return true;
}

// The exit status of a failed store call: kInvalid is bad usage.
int Failed(const std::string& command, const Status& status) {
  std::cerr << "crashctl " << command << ": " << status.message() << "\n";
  return status.code() == Status::Code::kInvalid ? kExitUsage : kExitFailure;
}

// `crashctl project delete PROJECT_ID`: the project and all of its data.
int ProjectDelete(const std::vector<std::string>& args) {
  const std::string command = "project delete";
  ParsedArgs parsed;
  std::vector<int64_t> ids;
  if (!ParseIdCommand(command, args, {"data", "config"}, {"PROJECT_ID"},
                      &parsed, &ids)) {
    return kExitUsage;
  }
  core::Config config;
  int status = kExitOk;
  std::unique_ptr<store::Store> store =
      OpenForCommand(parsed, &config, &status);
  if (!store) return status;
  const Status result = store->DeleteProject(ids[0]);
  if (!result.ok()) return Failed(command, result);
  std::cout << "Deleted project " << ids[0] << "\n";
  return kExitOk;
}

void PrintKey(const core::Config& config, const model::ProjectKey& key) {
  std::cout << key.id << "\t" << (key.active ? "active" : "disabled") << "\t"
            << (key.rate_limit_per_minute > 0
                    ? std::to_string(key.rate_limit_per_minute) + "/min"
                    : std::string("unlimited"))
            << "\t" << (key.label.empty() ? "-" : key.label) << "\t"
            << model::FormatDsn(core::PublicBaseUrl(config), key.public_key,
                                key.project_id)
            << "\n";
}

// `crashctl project keys list|create|disable|enable|delete ...`.
int ProjectKeys(const std::vector<std::string>& args) {
  static const char kUsage[] =
      "expected list PROJECT_ID, create PROJECT_ID [--label L] "
      "[--rate-limit N], disable|enable|delete PROJECT_ID KEY_ID";
  if (args.empty()) {
    std::cerr << "crashctl project keys: " << kUsage << "\n";
    return kExitUsage;
  }
  const std::string sub = args[0];
  const std::string command = "project keys " + sub;
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  const bool with_key = sub == "disable" || sub == "enable" || sub == "delete";
  if (sub != "list" && sub != "create" && !with_key) {
    std::cerr << "crashctl project keys: unknown subcommand " << sub << " ("
              << kUsage << ")\n";
    return kExitUsage;
  }
  std::set<std::string> known = {"data", "config"};
  if (sub == "create") known.insert({"label", "rate-limit"});
  std::vector<std::string> names = {"PROJECT_ID"};
  if (with_key) names.push_back("KEY_ID");
  ParsedArgs parsed;
  std::vector<int64_t> ids;
  if (!ParseIdCommand(command, rest, known, names, &parsed, &ids)) {
    return kExitUsage;
  }
  int64_t rate_limit = 0;
  if (parsed.flags.count("rate-limit")) {
    const std::string& text = parsed.flags["rate-limit"];
    if (text != "0" &&
        !ParseIdArg(command, "--rate-limit", text, &rate_limit)) {
      return kExitUsage;
    }
  }
  core::Config config;
  int status = kExitOk;
  std::unique_ptr<store::Store> store =
      OpenForCommand(parsed, &config, &status);
  if (!store) return status;
  model::ProjectKey key;
  Status result;
  if (sub == "list") {
    std::vector<model::ProjectKey> keys;
    result = store->ListKeys(ids[0], &keys);
    if (!result.ok()) return Failed(command, result);
    for (const model::ProjectKey& k : keys) PrintKey(config, k);
    return kExitOk;
  }
  if (sub == "create") {
    result = store->CreateKey(ids[0], parsed.flags["label"], rate_limit, &key);
    if (!result.ok()) return Failed(command, result);
    std::cout << "DSN: "
              << model::FormatDsn(core::PublicBaseUrl(config), key.public_key,
                                  key.project_id)
              << "\n"
              << "Short DSN: "
              << model::FormatShortDsn(core::PublicBaseUrl(config),
                                       key.public_key)
              << "\n"
              << "Key: " << key.id << "\n";
    return kExitOk;
  }
  if (sub == "delete") {
    result = store->DeleteKey(ids[0], ids[1]);
    if (!result.ok()) return Failed(command, result);
    std::cout << "Deleted key " << ids[1] << "\n";
    return kExitOk;
  }
  store::KeyUpdate update;
  update.active = sub == "enable";
  result = store->UpdateKey(ids[0], ids[1], update, &key);
  if (!result.ok()) return Failed(command, result);
  PrintKey(config, key);
  return kExitOk;
}

}  // namespace

const char* Version() { return CRASHCTL_VERSION; }

int ProjectCommand(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << "crashctl project: expected create, list, delete or keys\n";
    return kExitUsage;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "create") return ProjectCreate(rest);
  if (args[0] == "list") return ProjectList(rest);
  if (args[0] == "delete") return ProjectDelete(rest);
  if (args[0] == "keys") return ProjectKeys(rest);
  std::cerr << "crashctl project: unknown subcommand " << args[0]
            << " (expected create, list, delete or keys)\n";
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
