#include "supervisor/run_main.h"

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "sdk/src/dsn.h"
#include "sdk/src/event_json.h"
#include "sdk/src/http_sender.h"
#include "sdk/src/spool.h"
#include "sdk/src/util.h"
#include "supervisor/child_process.h"
#include "supervisor/crash_report.h"
#include "supervisor/oom.h"

namespace crashctl {
namespace {

const char kUsage[] =
    "usage: crashctl run [--dsn DSN] [--service NAME] -- CMD [ARGS...]";

struct Args {
  std::string dsn;
  std::string service;
  std::vector<std::string> command;
};

int UsageError(const std::string& message) {
  std::fprintf(stderr, "crashctl run: %s (%s)\n", message.c_str(), kUsage);
  return 2;
}

// Returns -1 on success, else the exit status for a usage error.
int ParseArgs(int argc, char** argv, Args* args) {
  int i = 0;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    auto value = [&](const char* flag, std::string* out) -> int {
      size_t n = std::strlen(flag);
      if (a.compare(0, n, flag) == 0 && a.size() > n && a[n] == '=') {
        *out = a.substr(n + 1);
        return 1;
      }
      if (a == flag) {
        if (i + 1 >= argc) return -1;
        *out = argv[++i];
        return 1;
      }
      return 0;
    };
    int r = value("--dsn", &args->dsn);
    if (r == 0) r = value("--service", &args->service);
    if (r < 0) return UsageError(a + " needs a value");
    if (r > 0) continue;
    if (a.size() > 1 && a[0] == '-') return UsageError("unknown flag " + a);
    break;  // the command starts here
  }
  for (; i < argc; ++i) args->command.push_back(argv[i]);
  if (args->command.empty() || args->command[0].empty()) {
    return UsageError("no command given");
  }
  return -1;
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::chrono::milliseconds DeliveryTimeout() {
  const char* env = std::getenv("CRASHCTL_DELIVERY_TIMEOUT_MS");
  if (env != nullptr && *env != '\0') {
    long ms = std::atol(env);
    if (ms >= 0 && ms <= 600000) return std::chrono::milliseconds(ms);
  }
  return std::chrono::seconds(10);
}

}  // namespace

int RunMain(int argc, char** argv) {
  Args args;
  int usage = ParseArgs(argc, argv, &args);
  if (usage >= 0) return usage;
  if (args.dsn.empty()) {
    const char* env = std::getenv("CRASHCTL_DSN");
    if (env != nullptr) args.dsn = env;
  }
  sdk::Dsn dsn;
  if (!args.dsn.empty()) {
    std::string error;
    if (!sdk::Dsn::Parse(args.dsn, &dsn, &error)) return UsageError(error);
  }
  if (args.service.empty()) {
    const char* env = std::getenv("CRASHCTL_SERVICE");
    args.service =
        env != nullptr && *env != '\0' ? env : BaseName(args.command[0]);
  }
  sdk::Spool spool(sdk::ResolveSpoolDir(""));

  // Reports left over by earlier runs go out while the child runs.
  std::thread earlier;
  if (!args.dsn.empty()) {
    sdk::EnsureCurlInitialized();
    earlier = std::thread([&spool] {
      sdk::DeliverSpool(
          spool, std::chrono::steady_clock::now() + std::chrono::seconds(5),
          /*retry=*/false, /*debug=*/false);
    });
  }

  std::string oom_path = supervisor::MemoryEventsPath();
  long oom_before = supervisor::ReadOomKills(oom_path);
  std::vector<std::string> child_env;
  // The child's own SDK reports to the same place unless told otherwise.
  if (!args.dsn.empty() && std::getenv("CRASHCTL_DSN") == nullptr) {
    child_env.push_back("CRASHCTL_DSN=" + args.dsn);
  }
  supervisor::ChildResult child = supervisor::RunChild(args.command, child_env);
  long oom_after = supervisor::ReadOomKills(oom_path);
  if (earlier.joinable()) earlier.join();
  if (!child.started) {
    std::fprintf(stderr, "crashctl run: cannot run %s: %s\n",
                 args.command[0].c_str(), child.error.c_str());
    return 127;
  }
  int status = child.ShellStatus();
  if (!supervisor::DiedBadly(child)) return status;
  // Stopped on request (we forwarded SIGTERM/SIGINT/SIGHUP): not a crash.
  if (child.forwarded_signal != 0 &&
      (child.signal == child.forwarded_signal ||
       (child.exited && child.exit_code == 128 + child.forwarded_signal))) {
    return status;
  }

  supervisor::ReportContext ctx;
  ctx.service = args.service;
  ctx.command = args.command;
  ctx.oom_killed = !child.exited && child.signal == SIGKILL &&
                   oom_before >= 0 && oom_after > oom_before;
  sdk::Event event = supervisor::BuildCrashEvent(child, ctx);
  const sdk::ExceptionValue& what = event.exceptions.back();
  if (args.dsn.empty()) {
    std::fprintf(
        stderr, "crashctl run: %s died (%s: %s); no DSN, not reported\n",
        args.command[0].c_str(), what.type.c_str(), what.value.c_str());
    return status;
  }
  std::string envelope =
      sdk::BuildEnvelope(event.event_id, dsn.raw, sdk::EventToJson(event));
  if (!spool.Write(event.event_id, envelope)) {
    // No spool: send directly, once.
    sdk::SendResult r = sdk::PostEnvelope(dsn, envelope, DeliveryTimeout());
    std::fprintf(
        stderr, "crashctl run: %s died (%s); report %s %s\n",
        args.command[0].c_str(), what.type.c_str(), event.event_id.c_str(),
        r.Delivered() ? "sent" : "LOST (spool unwritable, send failed)");
    return status;
  }
  size_t left = sdk::DeliverSpool(
      spool, std::chrono::steady_clock::now() + DeliveryTimeout(),
      /*retry=*/true, /*debug=*/false);
  std::fprintf(
      stderr, "crashctl run: %s died (%s); report %s %s\n",
      args.command[0].c_str(), what.type.c_str(), event.event_id.c_str(),
      left == 0 ? "sent"
                : ("spooled in " + spool.dir() + ", will retry").c_str());
  return status;
}

}  // namespace crashctl
