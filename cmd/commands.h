// The crashctl subcommands. Each takes the arguments after its name and
// returns the process exit status: 0 success, 1 failure, 2 bad usage (with a
// one-line message on stderr).
#ifndef CRASHCTL_CMD_COMMANDS_H_
#define CRASHCTL_CMD_COMMANDS_H_

#include <string>
#include <vector>

namespace crashctl {
namespace cmd {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int ServeCommand(const std::vector<std::string>& args);
int ProjectCommand(const std::vector<std::string>& args);
int CleanupCommand(const std::vector<std::string>& args);
int BackupCommand(const std::vector<std::string>& args);
int RestoreCommand(const std::vector<std::string>& args);
int MigrateCommand(const std::vector<std::string>& args);
int VersionCommand(const std::vector<std::string>& args);

// The version string compiled into the binary.
const char* Version();

}  // namespace cmd
}  // namespace crashctl

#endif  // CRASHCTL_CMD_COMMANDS_H_
