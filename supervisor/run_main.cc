#include "crashctl/supervisor/run_main.h"

#include <signal.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "crash_report.h"
#include "crashctl/sdk/support/dsn.h"
#include "crashctl/sdk/support/event_json.h"
#include "crashctl/sdk/support/http_sender.h"
#include "crashctl/sdk/support/spool.h"
#include "crashctl/sdk/support/util.h"
#include "oom.h"

namespace crashctl {
namespace supervisor {
namespace {

const char kUsage[] =
    "usage: crashctl run [--dsn DSN] [--service NAME] [--no-trace] -- CMD "
    "[ARGS...]";

struct Args {
  std::string dsn;
  std::string service;
  bool no_trace = false;
  std::vector<std::string> command;
};

bool EnvIsTrue(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr &&
         (std::strcmp(v, "1") == 0 || std::strcmp(v, "true") == 0 ||
          std::strcmp(v, "yes") == 0);
}

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
    if (a == "--no-trace") {
      args->no_trace = true;
      continue;
    }
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

  CgroupPaths cgroups = FindCgroupPaths();
  OomCounters oom_before = ReadOomCounters(cgroups);
  std::vector<std::string> child_env;
  // The child's own SDK reports to the same place unless told otherwise.
  if (!args.dsn.empty() && std::getenv("CRASHCTL_DSN") == nullptr) {
    child_env.push_back("CRASHCTL_DSN=" + args.dsn);
  }

  ReportContext ctx;
  ctx.service = args.service;
  ctx.command = args.command;
  ctx.trace_requested = !args.no_trace && !EnvIsTrue("CRASHCTL_NO_TRACE");
  ctx.runtime_parser = FactsFromRuntimeOutput;

  // Reports of crashes of descendants while the command runs on (a
  // pre-forking server's worker): spooled at once, sent by this thread.
  std::mutex mu;
  std::condition_variable cv;
  bool kick = false, stop = false;
  std::thread live_sender;
  auto report_now = [&](const sdk::Event& event) {
    if (args.dsn.empty()) {
      const sdk::ExceptionValue& what = event.exceptions.back();
      std::fprintf(stderr,
                   "crashctl run: a process of %s crashed (%s: %s); no DSN, "
                   "not reported\n",
                   args.command[0].c_str(), what.type.c_str(),
                   what.value.c_str());
      return;
    }
    std::string envelope =
        sdk::BuildEnvelope(event.event_id, dsn.raw, sdk::EventToJson(event));
    if (!spool.Write(event.event_id, envelope)) {
      (void)sdk::PostEnvelope(dsn, envelope, DeliveryTimeout());
      return;
    }
    std::lock_guard<std::mutex> lock(mu);
    kick = true;
    cv.notify_one();
  };
  if (!args.dsn.empty() && ctx.trace_requested) {
    live_sender = std::thread([&] {
      std::unique_lock<std::mutex> lock(mu);
      for (;;) {
        cv.wait(lock, [&] { return kick || stop; });
        if (stop) return;
        kick = false;
        lock.unlock();
        sdk::DeliverSpool(spool,
                          std::chrono::steady_clock::now() + DeliveryTimeout(),
                          /*retry=*/true, /*debug=*/false);
        lock.lock();
      }
    });
  }

  RunOptions options;
  options.trace = ctx.trace_requested;
  options.tracer.detach_go = !EnvIsTrue("CRASHCTL_TRACE_GO");
  if (const char* rate = std::getenv("CRASHCTL_TRACE_MAX_SIGNALS")) {
    char* end = nullptr;
    unsigned long v = std::strtoul(rate, &end, 10);
    if (end != rate && *end == '\0') options.tracer.max_signal_rate = v;
  }
  options.on_descendant_crash = [&](const CapturedCrash& crash,
                                    const std::vector<std::string>& lines) {
    report_now(BuildDescendantCrashEvent(crash, lines, ctx));
  };
  ChildResult child = RunChild(args.command, child_env, options);
  OomCounters oom_after = ReadOomCounters(cgroups);
  if (live_sender.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
      cv.notify_one();
    }
    live_sender.join();
  }
  if (earlier.joinable()) earlier.join();
  if (!child.started) {
    std::fprintf(stderr, "crashctl run: cannot run %s: %s\n",
                 args.command[0].c_str(), child.error.c_str());
    return 127;
  }
  if (!child.trace_error.empty()) {
    // One line: the command ran untraced.
    std::fprintf(stderr,
                 "crashctl run: warning: cannot trace %s (%s): a crash is "
                 "reported without its stack unless the program uses the "
                 "crashctl SDK; --no-trace silences this\n",
                 args.command[0].c_str(), child.trace_error.c_str());
  }
  int status = child.ShellStatus();
  bool died_badly = DiedBadly(child);
  // Stopped on request (we forwarded SIGTERM/SIGINT/SIGHUP): not a crash.
  if (died_badly && child.forwarded_signal != 0 &&
      (child.signal == child.forwarded_signal ||
       (child.exited && child.exit_code == 128 + child.forwarded_signal))) {
    died_badly = false;
  }

  std::vector<sdk::Event> events;
  const CapturedCrash* cause = died_badly ? CrashForChild(child) : nullptr;
  if (died_badly) {
    std::string evidence = OomEvidence(oom_before, oom_after);
    ctx.oom_killed =
        !child.exited && child.signal == SIGKILL && !evidence.empty();
    ctx.oom_evidence = evidence;
    if (!child.exited && child.signal == SIGKILL) {
      ctx.cgroup_memory_peak =
          ReadCgroupMemoryPeak(cgroups, &ctx.cgroup_memory_peak_source);
      ctx.supervisor_peak_rss = SelfPeakRss();
    }
    events.push_back(BuildCrashEvent(child, ctx));
  }
  // Crashes of other processes that did not take the command down.
  for (const CapturedCrash& crash : child.crashes) {
    if (&crash == cause) continue;
    events.push_back(BuildDescendantCrashEvent(crash, child.last_lines, ctx));
  }
  if (events.empty()) return status;

  // events[0] is the command's own death when died_badly.
  auto describe = [&](size_t i) {
    const sdk::ExceptionValue& what = events[i].exceptions.back();
    std::string who = (i == 0 && died_badly)
                          ? args.command[0] + " died"
                          : "a process of " + args.command[0] + " crashed";
    return who + " (" + what.type + ")";
  };
  std::vector<bool> spooled(events.size(), false);
  for (size_t i = 0; i < events.size(); ++i) {
    const sdk::Event& event = events[i];
    const sdk::ExceptionValue& what = event.exceptions.back();
    if (args.dsn.empty()) {
      std::fprintf(stderr, "crashctl run: %s: %s; no DSN, not reported\n",
                   describe(i).c_str(), what.value.c_str());
      continue;
    }
    std::string envelope =
        sdk::BuildEnvelope(event.event_id, dsn.raw, sdk::EventToJson(event));
    spooled[i] = spool.Write(event.event_id, envelope);
    if (!spooled[i]) {
      // No spool: send directly, once.
      sdk::SendResult r = sdk::PostEnvelope(dsn, envelope, DeliveryTimeout());
      std::fprintf(
          stderr, "crashctl run: %s; report %s %s\n", describe(i).c_str(),
          event.event_id.c_str(),
          r.Delivered() ? "sent" : "LOST (spool unwritable, send failed)");
    }
  }
  if (args.dsn.empty()) return status;
  size_t left = sdk::DeliverSpool(
      spool, std::chrono::steady_clock::now() + DeliveryTimeout(),
      /*retry=*/true, /*debug=*/false);
  for (size_t i = 0; i < events.size(); ++i) {
    if (!spooled[i]) continue;
    std::fprintf(stderr, "crashctl run: %s; report %s %s\n",
                 describe(i).c_str(), events[i].event_id.c_str(),
                 left == 0
                     ? "sent"
                     : ("spooled in " + spool.dir() + ", will retry").c_str());
  }
  return status;
}

}  // namespace supervisor
}  // namespace crashctl
