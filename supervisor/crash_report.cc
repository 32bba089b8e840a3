#include "supervisor/crash_report.h"

#include <signal.h>

#include <chrono>
#include <cstdio>

#include "sdk/src/crash_record.h"
#include "sdk/src/util.h"

namespace crashctl {
namespace supervisor {

bool DiedBadly(const ChildResult& child) {
  return !child.exited || child.exit_code != 0;
}

sdk::Event BuildCrashEvent(const ChildResult& child, const ReportContext& ctx) {
  sdk::Event event;
  event.event_id = sdk::NewEventId();
  event.timestamp = sdk::Iso8601Now();
  event.level = sdk::Level::kFatal;
  event.server_name = sdk::HostName();

  sdk::CrashRecord record;
  bool have_record = sdk::ParseCrashRecord(child.crash_record, &record);
  sdk::ExceptionValue e;
  if (have_record && !child.exited) {
    e = sdk::CrashException(record);
  } else if (!child.exited) {
    e.type = sdk::SignalName(child.signal);
    e.value = "killed by " + e.type + " (" +
              sdk::SignalDescription(child.signal) + ")";
    if (child.signal == SIGKILL) {
      if (ctx.oom_killed) {
        e.type = "OOMKilled";
        e.value = "killed by the kernel OOM killer (cgroup oom_kill)";
      } else {
        e.value = "killed (possible OOM)";
      }
    }
  } else {
    e.type = "ExitCode";
    e.value = "exited with status " + std::to_string(child.exit_code);
  }
  if (!have_record || child.exited) e.mechanism = "crashctl.run";
  e.handled = false;
  event.exceptions.push_back(e);

  event.tags["service"] = ctx.service;
  event.tags["exit_code"] = std::to_string(child.ShellStatus());
  event.tags["signal"] = child.exited ? "none" : sdk::SignalName(child.signal);
  event.tags["crash_source"] = "supervisor";
  if (ctx.oom_killed) event.tags["oom_killed"] = "true";

  std::string command;
  for (const std::string& arg : ctx.command) {
    if (!command.empty()) command += ' ';
    command += arg;
  }
  char run_time[32];
  std::snprintf(run_time, sizeof(run_time), "%.3f",
                std::chrono::duration<double>(child.run_time).count());
  event.extra["command"] = command;
  event.extra["pid"] = std::to_string(child.pid);
  event.extra["run_time_seconds"] = run_time;
  event.extra["host"] = event.server_name;
  if (have_record && record.tid != 0) {
    event.extra["crashed_thread"] = std::to_string(record.tid);
  }
  event.log_lines = child.last_lines;
  return event;
}

}  // namespace supervisor
}  // namespace crashctl
