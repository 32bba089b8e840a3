// Command-line helpers shared by the crashctl subcommands.
// Pure functions, thread-safe.
#ifndef CRASHCTL_CMD_CLI_H_
#define CRASHCTL_CMD_CLI_H_

#include <map>
#include <set>
#include <string>
#include <vector>

namespace crashctl {
namespace core {
struct Config;
}  // namespace core
namespace cmd {

struct ParsedArgs {
  std::map<std::string, std::string> flags;  // "listen" -> value
  std::vector<std::string> positional;
};

// Parses `--name value` and `--name=value` for the names in `known`
// (without dashes). Returns false with a one-line `*error` for an unknown
// flag or a flag missing its value.
bool ParseFlags(const std::vector<std::string>& args,
                const std::set<std::string>& known, ParsedArgs* out,
                std::string* error);

// Config-loading inputs common to every subcommand that touches the data:
// --config (or $CRASHCTL_CONFIG) and the flag -> config key mapping
// (--listen -> server.listen, --data -> storage.path).
struct ConfigArgs {
  std::string config_path;
  std::map<std::string, std::string> key_flags;
};
ConfigArgs ConfigArgsFrom(const ParsedArgs& args);

// ParseFlags for subcommand `command` ("project create") that also refuses
// positional arguments; prints "crashctl <command>: <reason>" to stderr and
// returns false on bad usage.
bool ParseCommandFlags(const std::string& command,
                       const std::vector<std::string>& args,
                       const std::set<std::string>& known, ParsedArgs* out);

// True when `args` hold --help or -h.
bool WantsHelp(const std::vector<std::string>& args);

}  // namespace cmd
}  // namespace crashctl

#endif  // CRASHCTL_CMD_CLI_H_
