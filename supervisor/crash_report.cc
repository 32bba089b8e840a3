#include "crash_report.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "crashctl/crashreport/crash_report_parser.h"
#include "crashctl/sdk/support/crash_record.h"
#include "crashctl/sdk/support/util.h"
#include "oom.h"
#include "signal_info.h"

namespace crashctl {
namespace supervisor {
namespace {

// Frames over all threads other than the crashed one.
constexpr size_t kMaxThreadFrames = 1500;

bool HasFunctionNames(const std::vector<sdk::Frame>& frames) {
  for (const sdk::Frame& f : frames) {
    if (!f.function.empty()) return true;
  }
  return false;
}

uint64_t ParseId(const std::string& text) {
  if (text.empty() || text.size() > 19) return 0;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

uint64_t ParseAddress(const std::string& text) {
  if (text.size() < 3 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
    return 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str() + 2, &end, 16);
  return end != nullptr && *end == '\0' ? static_cast<uint64_t>(v) : 0;
}

sdk::Frame FrameFromModel(const model::Frame& m, crashreport::Runtime runtime) {
  sdk::Frame f;
  f.function = m.function.empty() ? m.raw_function : m.function;
  // A JVM frame's module is its class: "com.example.Foo" + "bar".
  if (runtime == crashreport::Runtime::kJava && !m.module.empty() &&
      !f.function.empty()) {
    f.function = m.module + "." + f.function;
  }
  f.filename = m.filename.empty() ? m.abs_path : m.filename;
  f.lineno = m.lineno > 0 ? m.lineno : 0;
  f.in_app = m.in_app.value_or(false);
  // The native shared object; other runtimes' modules are not paths.
  f.module = m.package;
  f.instruction_addr = ParseAddress(m.instruction_addr);
  return f;
}

sdk::ExceptionValue ExceptionFromModel(const model::ExceptionValue& m,
                                       crashreport::Runtime runtime) {
  sdk::ExceptionValue e;
  e.type = m.type;
  // As printed: "json.decoder.JSONDecodeError", "java.lang.IllegalState..."
  // (the event has no exception module of its own).
  if (!m.module.empty() && (runtime == crashreport::Runtime::kJava ||
                            runtime == crashreport::Runtime::kPython)) {
    e.type = m.module + "." + m.type;
  }
  e.value = m.value;
  e.mechanism = m.mechanism_type.empty() ? "runtime" : m.mechanism_type;
  e.handled = false;
  for (const model::Frame& f : m.frames) {
    e.frames.push_back(FrameFromModel(f, runtime));
  }
  return e;
}

std::string JoinCommand(const std::vector<std::string>& command) {
  std::string out;
  for (const std::string& arg : command) {
    if (!out.empty()) out += ' ';
    out += arg;
  }
  return out;
}

// The parts every crashctl-run event shares, from the merged facts.
sdk::Event EventFromFacts(const CrashFacts& facts, const ReportContext& ctx) {
  sdk::Event event;
  event.event_id = sdk::NewEventId();
  event.timestamp = sdk::Iso8601Now();
  event.level = sdk::Level::kFatal;
  event.server_name = sdk::HostName();
  event.platform = facts.platform.empty() ? "native" : facts.platform;

  sdk::ExceptionValue e;
  e.type = facts.type;
  e.value = facts.value;
  e.mechanism = facts.mechanism.empty() ? "crashctl.run" : facts.mechanism;
  e.handled = false;
  e.frames = facts.frames;
  e.signal = facts.signal;
  e.thread_id = facts.thread_id;
  event.exceptions = facts.causes;
  event.exceptions.push_back(e);

  event.threads = facts.threads;
  for (sdk::Thread& t : event.threads) {
    t.crashed = facts.thread_id != 0 && t.id == facts.thread_id;
    t.current = t.crashed;
    // Its stack is the exception's: not sent twice.
    if (t.crashed && !e.frames.empty()) t.frames.clear();
  }
  TrimThreads(&event.threads, kMaxThreadFrames);

  event.tags["service"] = ctx.service;
  event.tags["crash_source"] = "supervisor";
  for (const auto& kv : facts.extra) event.extra[kv.first] = kv.second;
  event.extra["command"] = JoinCommand(ctx.command);
  event.extra["host"] = event.server_name;
  if (facts.thread_id != 0) {
    event.extra["crashed_thread"] = std::to_string(facts.thread_id);
  }
  return event;
}

// Without a stack there is nothing to group by but what killed it: one
// group per service and signal (or exit code), not one for every non-zero
// exit of the project.
void SetFingerprintWithoutStack(sdk::Event* event, const ReportContext& ctx,
                                const ChildResult* child) {
  const sdk::ExceptionValue& e = event->exceptions.back();
  if (HasFunctionNames(e.frames)) return;
  if (child != nullptr && child->exited && e.type == "ExitCode") {
    event->fingerprint = {"crashctl-run", ctx.service, "exit",
                          std::to_string(child->exit_code)};
  } else {
    event->fingerprint = {"crashctl-run", ctx.service, e.type};
  }
}

}  // namespace

bool DiedBadly(const ChildResult& child) {
  return !child.exited || child.exit_code != 0;
}

CrashFacts MergeFacts(const std::vector<CrashFacts>& best_first) {
  CrashFacts out;
  auto take = [](std::string* dst, const std::string& src) {
    if (dst->empty()) *dst = src;
  };
  for (const CrashFacts& f : best_first) {
    if (out.type.empty() && !f.type.empty()) {
      out.type = f.type;
      out.source = f.source;  // the source that says what happened
      out.causes = f.causes;
    }
    take(&out.implied_signal, f.implied_signal);
    take(&out.value, f.value);
    take(&out.mechanism, f.mechanism);
    take(&out.platform, f.platform);
    if (out.signal.number == 0 && f.signal.number != 0) out.signal = f.signal;
    if (out.signal.number == f.signal.number && out.signal.code_name.empty() &&
        !f.signal.code_name.empty()) {
      out.signal.code = f.signal.code;
      out.signal.code_name = f.signal.code_name;
    }
    if (out.frames.empty() && !f.frames.empty()) {
      out.frames = f.frames;
      out.extra["stack_source"] = f.source;
    }
    if (out.thread_id == 0) out.thread_id = f.thread_id;
    if (out.threads.empty()) out.threads = f.threads;
    for (const auto& kv : f.extra) out.extra.emplace(kv.first, kv.second);
  }
  return out;
}

CrashFacts FactsFromSdkRecord(const std::string& crash_record_text) {
  CrashFacts f;
  f.source = "sdk";
  sdk::CrashRecord record;
  if (!sdk::ParseCrashRecord(crash_record_text, &record)) return f;
  sdk::ExceptionValue e = sdk::CrashException(record);
  f.type = e.type;
  f.value = e.value;
  f.mechanism = e.mechanism;
  f.platform = "native";
  f.frames = e.frames;
  f.signal.number = record.signal;
  f.signal.code = record.code;
  f.signal.name = sdk::SignalName(record.signal);
  f.signal.code_name = SignalCodeName(record.signal, record.code);
  f.thread_id = record.tid > 0 ? static_cast<uint64_t>(record.tid) : 0;
  if (record.pid > 0) f.extra["crashed_pid"] = std::to_string(record.pid);
  return f;
}

bool FactsFromRuntimeOutput(const std::vector<std::string>& last_lines,
                            CrashFacts* facts) {
  std::optional<crashreport::Report> report =
      crashreport::FindLastReport(last_lines);
  if (!report || report->exceptions.empty()) return false;
  const crashreport::Runtime runtime = report->runtime;
  CrashFacts f;
  f.source = "runtime";
  sdk::ExceptionValue raised =
      ExceptionFromModel(report->exceptions.back(), runtime);
  f.type = raised.type;
  f.value = raised.value;
  f.mechanism = raised.mechanism;
  f.frames = std::move(raised.frames);
  for (size_t i = 0; i + 1 < report->exceptions.size(); ++i) {
    f.causes.push_back(ExceptionFromModel(report->exceptions[i], runtime));
  }
  f.platform = report->platform.empty() ? "native" : report->platform;
  f.implied_signal = report->signal;
  // Goroutines and threads, when the output shows more than the crashed one
  // (else the tracer's threads, if any, are the better list).
  if (report->threads.size() > 1) {
    for (const crashreport::Thread& rt : report->threads) {
      sdk::Thread t;
      t.id = ParseId(rt.id);
      t.name = rt.name;
      for (const model::Frame& m : rt.frames) {
        t.frames.push_back(FrameFromModel(m, runtime));
      }
      if (rt.crashed) f.thread_id = t.id;
      f.threads.push_back(std::move(t));
    }
    if (f.thread_id == 0) f.threads.clear();  // cannot mark the crashed one
  }
  if (!report->thread_name.empty()) {
    f.extra["crashed_thread_name"] = report->thread_name;
  }
  f.extra["runtime_report"] = crashreport::RuntimeName(runtime);
  *facts = std::move(f);
  return true;
}

bool RuntimeFactsFitDeath(const CrashFacts& runtime, const ChildResult& child) {
  if (child.exited) return child.exit_code != 0;
  const std::string name = sdk::SignalName(child.signal);
  if (runtime.implied_signal == name) return true;
  return runtime.implied_signal.empty() && child.signal == SIGABRT;
}

CrashFacts FactsFromPtrace(const CapturedCrash& crash) {
  CrashFacts f;
  f.source = "ptrace";
  f.type = sdk::SignalName(crash.signal);
  f.value = CrashValue(crash.signal, crash.code, crash.address);
  f.mechanism = "ptrace";
  f.platform = "native";
  f.signal.number = crash.signal;
  f.signal.code = crash.code;
  f.signal.name = f.type;
  f.signal.code_name = SignalCodeName(crash.signal, crash.code);
  f.thread_id = static_cast<uint64_t>(crash.tid);
  f.threads = crash.threads;
  if (!crash.threads.empty()) {
    f.frames = crash.threads[0].frames;
    if (!crash.threads[0].name.empty()) {
      f.extra["crashed_thread_name"] = crash.threads[0].name;
    }
  }
  f.extra["crashed_pid"] = std::to_string(crash.pid);
  if (!crash.exe.empty()) f.extra["crashed_exe"] = crash.exe;
  if (crash.truncated) f.extra["stack_truncated"] = "true";
  if (!crash.error.empty()) f.extra["unwind_error"] = crash.error;
  return f;
}

CrashFacts FactsFromWaitStatus(const ChildResult& child,
                               const ReportContext& ctx) {
  CrashFacts f;
  f.source = "exit";
  f.mechanism = "crashctl.run";
  if (child.exited) {
    f.type = "ExitCode";
    f.value = "exited with status " + std::to_string(child.exit_code);
    return f;
  }
  f.type = sdk::SignalName(child.signal);
  f.value =
      "killed by " + f.type + " (" + sdk::SignalDescription(child.signal) + ")";
  f.signal.number = child.signal;
  f.signal.name = f.type;
  if (child.signal == SIGKILL) {
    if (ctx.oom_killed) {
      f.type = "OOMKilled";
      f.value = ctx.oom_evidence == "/proc/vmstat"
                    ? "killed by the kernel OOM killer (system-wide "
                      "/proc/vmstat oom_kill went up)"
                    : "killed by the kernel OOM killer (cgroup oom_kill)";
    } else {
      f.value = "killed (possible OOM)";
    }
  }
  return f;
}

const CapturedCrash* CrashForChild(const ChildResult& child) {
  const CapturedCrash* latest = nullptr;
  for (const CapturedCrash& c : child.crashes) {
    if (c.pid == child.pid) return &c;
    latest = &c;
  }
  return latest;
}

void TrimThreads(std::vector<sdk::Thread>* threads, size_t max_frames) {
  size_t total = 0, others = 0;
  for (const sdk::Thread& t : *threads) {
    if (t.crashed) continue;
    total += t.frames.size();
    ++others;
  }
  if (total <= max_frames || others == 0) return;
  const size_t each = std::max<size_t>(1, max_frames / others);
  for (sdk::Thread& t : *threads) {
    if (t.crashed || t.frames.size() <= each) continue;
    // Frames are outermost first: keep the innermost (the end).
    t.frames.erase(t.frames.begin(), t.frames.end() - static_cast<long>(each));
  }
}

sdk::Event BuildCrashEvent(const ChildResult& child, const ReportContext& ctx) {
  std::vector<CrashFacts> sources;
  CrashFacts wait = FactsFromWaitStatus(child, ctx);
  if (ctx.oom_killed) sources.push_back(wait);
  CrashFacts sdk_facts = FactsFromSdkRecord(child.crash_record);
  if (!sdk_facts.type.empty()) sources.push_back(sdk_facts);
  CrashFacts runtime;
  const CapturedCrash* crash = CrashForChild(child);
  CrashFacts ptrace;
  if (crash != nullptr) ptrace = FactsFromPtrace(*crash);
  if (ctx.runtime_parser && ctx.runtime_parser(child.last_lines, &runtime) &&
      RuntimeFactsFitDeath(runtime, child)) {
    runtime.source = "runtime";
    // One frame is where the output says it failed (an assert's, a panic's
    // location), not a stack: an unwound stack is better.
    if (runtime.frames.size() <= 1 && !ptrace.frames.empty()) {
      runtime.frames.clear();
    }
    sources.push_back(runtime);
  }
  if (crash != nullptr) sources.push_back(ptrace);
  if (!ctx.oom_killed) sources.push_back(wait);
  CrashFacts merged = MergeFacts(sources);

  sdk::Event event = EventFromFacts(merged, ctx);
  event.tags["exit_code"] = std::to_string(child.ShellStatus());
  event.tags["signal"] = child.exited ? "none" : sdk::SignalName(child.signal);
  if (ctx.oom_killed) event.tags["oom_killed"] = "true";
  auto stack_source = merged.extra.find("stack_source");
  if (!ctx.trace_requested && stack_source != merged.extra.end()) {
    event.tags["stack"] = stack_source->second;  // sdk or runtime
  }
  if (ctx.trace_requested) {
    if (stack_source != merged.extra.end()) {
      event.tags["stack"] = stack_source->second;
    } else if (!child.exited) {
      event.tags["stack"] = "unavailable";
      event.extra["stack_unavailable_reason"] =
          !child.trace_error.empty() ? child.trace_error
          : !child.detached.empty()  ? "not traced: " + child.detached.front()
          : child.signal == SIGKILL  ? "SIGKILL cannot be intercepted"
          : merged.extra.count("unwind_error") != 0
              ? merged.extra.at("unwind_error")
              : "no fatal signal delivery was seen";
    }
  }
  if (!child.detached.empty()) {
    event.extra["trace_detached"] = child.detached.front();
  }
  char run_time[32];
  std::snprintf(run_time, sizeof(run_time), "%.3f",
                std::chrono::duration<double>(child.run_time).count());
  event.extra["pid"] = std::to_string(child.pid);
  event.extra["run_time_seconds"] = run_time;
  if (WIFSIGNALED(child.wait_status)) {
    event.extra["core_dumped"] =
        WCOREDUMP(child.wait_status) ? "true" : "false";
  }
  if (child.root_peak_rss >= 0) {
    event.extra["peak_rss_bytes"] = std::to_string(child.root_peak_rss);
  }
  if (child.max_peak_rss >= 0 && child.max_peak_rss != child.root_peak_rss) {
    event.extra["max_peak_rss_bytes"] = std::to_string(child.max_peak_rss);
  }
  if (!child.exited && child.signal == SIGKILL) {
    // Peak memory of what was killed: the cgroup v2 peak, else the traced
    // processes' highest VmHWM or cgroup v1's less crashctl's own
    // (oom.h KilledPeak).
    const bool v2 =
        ctx.cgroup_memory_peak >= 0 &&
        ctx.cgroup_memory_peak_source.find("v2") != std::string::npos;
    std::string source;
    const int64_t peak =
        v2 ? ctx.cgroup_memory_peak
           // Only an OOM kill has its memory reaped before the exit stop;
           // after another SIGKILL the VmHWM is right.
           : KilledPeak(child.max_peak_rss,
                        ctx.oom_killed || child.max_peak_rss < 0
                            ? ctx.cgroup_memory_peak
                            : -1,
                        ctx.supervisor_peak_rss, &source);
    if (v2) source = ctx.cgroup_memory_peak_source;
    if (peak >= 0) {
      event.extra["peak_memory_bytes"] = std::to_string(peak);
      event.extra["peak_memory_source"] = source;
    }
    if (ctx.cgroup_memory_peak >= 0) {
      event.extra["cgroup_memory_peak_bytes"] =
          std::to_string(ctx.cgroup_memory_peak);
      event.extra["cgroup_memory_peak_source"] = ctx.cgroup_memory_peak_source;
    }
  }
  if (ctx.oom_killed) event.extra["oom_evidence"] = ctx.oom_evidence;
  event.log_lines = child.last_lines;
  SetFingerprintWithoutStack(&event, ctx, &child);
  return event;
}

sdk::Event BuildDescendantCrashEvent(const CapturedCrash& crash,
                                     const std::vector<std::string>& last_lines,
                                     const ReportContext& ctx) {
  CrashFacts merged = MergeFacts({FactsFromPtrace(crash)});
  sdk::Event event = EventFromFacts(merged, ctx);
  event.tags["exit_code"] = std::to_string(128 + crash.signal);
  event.tags["signal"] = sdk::SignalName(crash.signal);
  event.tags["process"] = "descendant";
  event.tags["stack"] = merged.frames.empty() ? "unavailable" : "ptrace";
  event.extra["pid"] = std::to_string(crash.pid);
  event.log_lines = last_lines;
  SetFingerprintWithoutStack(&event, ctx, nullptr);
  return event;
}

}  // namespace supervisor
}  // namespace crashctl
