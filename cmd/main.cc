// crashctl: one binary for the server and its command-line tools.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "crashctl/supervisor/run_main.h"

namespace {

void PrintUsage(std::ostream& out) {
  out << "usage: crashctl <command> [flags]\n"
         "  serve [--config FILE] [--listen ADDR] [--data DIR]\n"
         "  project create --name NAME [--data DIR]\n"
         "  project list [--data DIR]\n"
         "  project delete PROJECT_ID [--data DIR]\n"
         "  project keys list PROJECT_ID [--data DIR]\n"
         "  project keys create PROJECT_ID [--label L] [--rate-limit N] "
         "[--data DIR]\n"
         "  project keys disable|enable|delete PROJECT_ID KEY_ID [--data DIR]\n"
         "  cleanup [--data DIR]\n"
         "  backup --to FILE [--data DIR] [--timeout DURATION]\n"
         "  restore --from FILE [--data DIR] [--timeout DURATION]\n"
         "  migrate [--from DIR] [--to DSN] [--batch N]\n"
         "  run [--dsn DSN] [--service NAME] [--no-trace] -- CMD [ARGS...]\n"
         "  version\n";
}

}  // namespace

int main(int argc, char** argv) {
  // Logs go to stderr: stdout carries command output (DSNs, lists) and the
  // supervised child's output under `crashctl run`. `serve` reconfigures.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("crashctl"));
  spdlog::set_level(spdlog::level::warn);
  if (argc < 2) {
    // Bad usage: one line on stderr (CONTRACT.md); `crashctl help` lists
    // the commands.
    std::cerr << "crashctl: missing command (serve, project, cleanup, backup, "
                 "restore, migrate, run, version; crashctl help for "
                 "usage)\n";
    return crashctl::cmd::kExitUsage;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "serve") return crashctl::cmd::ServeCommand(args);
  if (command == "project") return crashctl::cmd::ProjectCommand(args);
  if (command == "cleanup") return crashctl::cmd::CleanupCommand(args);
  if (command == "backup") return crashctl::cmd::BackupCommand(args);
  if (command == "restore") return crashctl::cmd::RestoreCommand(args);
  if (command == "migrate") return crashctl::cmd::MigrateCommand(args);
  if (command == "version" || command == "--version") {
    return crashctl::cmd::VersionCommand(args);
  }
  if (command == "run")
    return crashctl::supervisor::RunMain(argc - 2, argv + 2);
  if (command == "help" || command == "--help" || command == "-h") {
    PrintUsage(std::cout);
    return crashctl::cmd::kExitOk;
  }
  std::cerr << "crashctl: unknown command \"" << command
            << "\" (try crashctl help)\n";
  return crashctl::cmd::kExitUsage;
}
