// Decides whether a child died badly and describes how, as one Sentry event.
//
// The event is merged from "sources" of facts about the crash, best first,
// field by field (MergeFacts): the crashctl SDK's crash record, then the
// program's runtime output (the Go/Rust/Python/JVM/Node/C++ crash report in
// the last log lines, crashreport::FindLastReport via FactsFromRuntimeOutput,
// plugged in as ReportContext::runtime_parser), then the stack unwound with
// ptrace at the fatal signal, then the wait status alone. An OOM kill's facts
// come first: nothing else explains a SIGKILL.
// Thread-safety: pure functions, thread-safe.
#ifndef CRASHCTL_SUPERVISOR_CRASH_REPORT_H_
#define CRASHCTL_SUPERVISOR_CRASH_REPORT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "child_process.h"
#include "crashctl/sdk.h"
#include "tracer.h"

namespace crashctl {
namespace supervisor {

// What one source knows about a crash; empty fields are unknown.
struct CrashFacts {
  std::string source;      // "sdk", "runtime", "ptrace", "exit"
  std::string type;        // "SIGSEGV", "std::out_of_range", "OOMKilled", ...
  std::string value;       // "Segmentation fault (SEGV_MAPERR) at 0x0", ...
  std::string mechanism;   // "signalhandler", "terminate", "ptrace", ...
  std::string platform;    // Sentry platform ("native", "go", "python", ...)
  sdk::SignalMeta signal;  // number 0: unknown
  std::vector<sdk::Frame> frames;    // the crashed thread, outermost first
  uint64_t thread_id = 0;            // the crashed thread
  std::vector<sdk::Thread> threads;  // every thread, the crashed one first
  std::map<std::string, std::string> extra;  // added to the event's extra
  // The exceptions that led to this one (Python's "During handling of the
  // above exception", Java's "Caused by:", Go's nested panics), root cause
  // first; taken with `type`, from the same source.
  std::vector<sdk::ExceptionValue> causes;
  // Runtime output only: the signal the output names or implies ("SIGABRT"
  // after std::terminate or a failed assert, "SIGSEGV" for a Go runtime
  // fault), "" when none.
  std::string implied_signal;
};

// Takes each field from the first of `best_first` that has it (frames and
// threads as a whole; causes with the type; extra merged key by key, earlier
// sources winning).
CrashFacts MergeFacts(const std::vector<CrashFacts>& best_first);

// The seam for the runtime-output parser: given the last log lines, fill
// `facts` (source "runtime") and return true if they describe a crash.
using RuntimeOutputParser = std::function<bool(
    const std::vector<std::string>& last_lines, CrashFacts* facts)>;

struct ReportContext {
  std::string service;
  std::vector<std::string> command;
  bool oom_killed = false;          // an OOM counter went up while it ran
  std::string oom_evidence;         // which one (oom.h OomEvidence)
  bool trace_requested = false;     // tracing was on (not --no-trace)
  int64_t cgroup_memory_peak = -1;  // bytes, see oom.h
  std::string cgroup_memory_peak_source;
  int64_t supervisor_peak_rss = -1;    // crashctl's own VmHWM, bytes
  RuntimeOutputParser runtime_parser;  // may be empty
};

// True unless the child exited with status 0.
bool DiedBadly(const ChildResult& child);

// Facts of each source.
CrashFacts FactsFromSdkRecord(const std::string& crash_record_text);
// The last runtime crash report in `last_lines` (crashreport::FindLastReport)
// as facts of source "runtime": the raised exception's type, value,
// mechanism and frames, the earlier exceptions of its chain as causes,
// platform per runtime (go, native for Rust and C/C++, python, java, node),
// the goroutines/threads the output shows (when it shows more than the
// crashed one), extra runtime_report (the runtime's name). False when the
// lines hold no report. A RuntimeOutputParser.
bool FactsFromRuntimeOutput(const std::vector<std::string>& last_lines,
                            CrashFacts* facts);
// Whether runtime-output facts can explain this death: a report printed
// before a death by signal S is only taken when it names S, or names no
// signal and S is SIGABRT (a Rust panic=abort, Go's GOTRACEBACK=crash);
// otherwise it is an older report (a logged traceback) that did not kill
// the child. Any report is taken for a non-zero exit.
bool RuntimeFactsFitDeath(const CrashFacts& runtime, const ChildResult& child);
CrashFacts FactsFromPtrace(const CapturedCrash& crash);
CrashFacts FactsFromWaitStatus(const ChildResult& child,
                               const ReportContext& ctx);

// The crash of `child.crashes` that explains the child's death: its own
// (same pid), else the latest of a descendant; null when none.
const CapturedCrash* CrashForChild(const ChildResult& child);

// The fatal event for a child that died badly: exception (type, value,
// mechanism with meta.signal, thread_id, frames; preceded by its causes),
// `threads`, tags service, exit_code, signal, crash_source, stack (sdk |
// runtime | ptrace | unavailable, when tracing was asked for; sdk, runtime
// or nothing without tracing), oom_killed; the runtime output's facts only
// when RuntimeFactsFitDeath, and its frames only when they are more than a
// location (a glibc assert's or a panic's one frame yields to a ptrace
// stack); extra with the last log lines, run
// time, command, pid, peak memory; a fingerprint {crashctl-run, service,
// signal | exit code} when no frame has a function name; server_name the
// host or pod name.
sdk::Event BuildCrashEvent(const ChildResult& child, const ReportContext& ctx);

// An event for a crash of a process other than the command (a worker of a
// pre-forking server, a program a script ran) that was not the cause of the
// command's death.
sdk::Event BuildDescendantCrashEvent(const CapturedCrash& crash,
                                     const std::vector<std::string>& last_lines,
                                     const ReportContext& ctx);

// At most `max_frames` frames over all threads that are not the crashed one
// (the innermost of each are kept), so that an event of 64 threads stays far
// below the server's 1 MiB event limit.
void TrimThreads(std::vector<sdk::Thread>* threads, size_t max_frames);

}  // namespace supervisor
}  // namespace crashctl

#endif  // CRASHCTL_SUPERVISOR_CRASH_REPORT_H_
