// Unit tests of the supervisor's pieces: log tail, OOM counters and cgroup
// paths, signal names and dispositions, merging crash facts, the crash event.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "supervisor/crash_report.h"
#include "supervisor/elf_probe.h"
#include "supervisor/log_tail.h"
#include "supervisor/oom.h"
#include "supervisor/signal_info.h"

namespace crashctl {
namespace supervisor {
namespace {

TEST(LogTailTest, KeepsLastLinesOfBothStreams) {
  LogTail tail(3);
  std::string out = "a\nb\nc";
  tail.Feed(0, out.data(), out.size());
  tail.Feed(1, "err1\n", 5);
  tail.Feed(0, "d\r\ne\n", 5);
  tail.Feed(1, "partial", 7);
  tail.Finish();
  std::vector<std::string> lines = tail.Lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "cd");
  EXPECT_EQ(lines[1], "e");
  EXPECT_EQ(lines[2], "partial");
}

TEST(LogTailTest, CutsVeryLongLines) {
  LogTail tail(2);
  std::string big(LogTail::kMaxLineBytes * 3, 'x');
  big += "\n";
  tail.Feed(0, big.data(), big.size());
  ASSERT_EQ(tail.Lines().size(), 1u);
  EXPECT_EQ(tail.Lines()[0].size(), LogTail::kMaxLineBytes);
}

TEST(OomTest, ReadsOomKillCounter) {
  char path[] = "/tmp/crashctl-memory-events-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\n";
  EXPECT_EQ(ReadOomKills(path), 2);
  EXPECT_EQ(ReadOomKills("/nonexistent/memory.events"), -1);
  EXPECT_EQ(ReadOomKills(""), -1);
  unlink(path);
}

TEST(CrashReportTest, DescribesExitCodesAndKills) {
  ChildResult exited;
  exited.exited = true;
  exited.exit_code = 0;
  EXPECT_FALSE(DiedBadly(exited));
  exited.exit_code = 3;
  EXPECT_TRUE(DiedBadly(exited));
  ReportContext ctx;
  ctx.service = "svc";
  ctx.command = {"prog", "arg"};
  sdk::Event e = BuildCrashEvent(exited, ctx);
  EXPECT_EQ(e.level, sdk::Level::kFatal);
  EXPECT_EQ(e.exceptions.back().type, "ExitCode");
  EXPECT_EQ(e.tags["exit_code"], "3");
  EXPECT_EQ(e.tags["signal"], "none");
  EXPECT_EQ(e.tags["service"], "svc");
  EXPECT_EQ(e.extra["command"], "prog arg");

  ChildResult killed;
  killed.signal = SIGKILL;
  e = BuildCrashEvent(killed, ctx);
  EXPECT_EQ(e.exceptions.back().type, "SIGKILL");
  EXPECT_EQ(e.exceptions.back().value, "killed (possible OOM)");
  EXPECT_EQ(e.tags["exit_code"], "137");
  ctx.oom_killed = true;
  e = BuildCrashEvent(killed, ctx);
  EXPECT_EQ(e.exceptions.back().type, "OOMKilled");
}

TEST(SignalInfoTest, NamesCodesAndValues) {
  EXPECT_TRUE(IsCrashSignal(SIGSEGV));
  EXPECT_TRUE(IsCrashSignal(SIGSYS));
  EXPECT_TRUE(IsCrashSignal(SIGTRAP));
  EXPECT_FALSE(IsCrashSignal(SIGTERM));
  EXPECT_FALSE(IsCrashSignal(SIGKILL));
  EXPECT_EQ(SignalCodeName(SIGSEGV, 1), "SEGV_MAPERR");
  EXPECT_EQ(SignalCodeName(SIGSEGV, 2), "SEGV_ACCERR");
  EXPECT_EQ(SignalCodeName(SIGBUS, 1), "BUS_ADRALN");
  EXPECT_EQ(SignalCodeName(SIGFPE, 1), "FPE_INTDIV");
  EXPECT_EQ(SignalCodeName(SIGILL, 2), "ILL_ILLOPN");
  EXPECT_EQ(SignalCodeName(SIGABRT, SI_TKILL), "SI_TKILL");
  EXPECT_EQ(SignalCodeName(SIGSEGV, SI_USER), "SI_USER");
  EXPECT_EQ(SignalCodeName(SIGSEGV, SI_KERNEL), "SI_KERNEL");
  EXPECT_EQ(SignalCodeName(SIGSEGV, 99), "");
  EXPECT_EQ(CrashValue(SIGSEGV, 1, 0),
            "Segmentation fault (SEGV_MAPERR) at 0x0");
  EXPECT_EQ(CrashValue(SIGFPE, 1, 0x4011d6),
            "Floating point exception (FPE_INTDIV) at 0x4011d6");
  // Sent, not a fault: no address.
  EXPECT_EQ(CrashValue(SIGABRT, SI_TKILL, 0x1234), "Aborted (SI_TKILL)");
  EXPECT_EQ(CrashValue(SIGSEGV, SI_USER, 0), "Segmentation fault (SI_USER)");
}

TEST(SignalInfoTest, DispositionFromProcStatus) {
  // SIGSEGV (11) caught, SIGPIPE (13) ignored; as /proc/PID/status has it.
  const std::string status =
      "Name:\tapp\nTgid:\t42\nSigQ:\t0/95000\nSigPnd:\t0000000000000000\n"
      "ShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\n"
      "SigIgn:\t0000000000001000\nSigCgt:\t0000000000000400\n";
  SignalMasks m = ParseSignalMasks(status);
  ASSERT_TRUE(m.valid);
  EXPECT_FALSE(TakesDefaultAction(m, SIGSEGV));
  EXPECT_FALSE(TakesDefaultAction(m, SIGPIPE));
  EXPECT_TRUE(TakesDefaultAction(m, SIGABRT));
  EXPECT_TRUE(TakesDefaultAction(m, SIGBUS));
  // Unreadable status: assume the default (unwinding a handled signal only
  // costs time; missing a crash loses its stack).
  EXPECT_FALSE(ParseSignalMasks("garbage").valid);
  EXPECT_TRUE(TakesDefaultAction(ParseSignalMasks(""), SIGSEGV));
}

TEST(OomTest, CgroupPathsOnHybridV1AndV2AndInContainers) {
  const std::string mountinfo =
      "30 24 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
      "31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
      "33 30 0:29 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup "
      "cgroup rw,memory\n"
      "34 30 0:30 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup "
      "rw,cpu,cpuacct\n";
  CgroupPaths hybrid = ParseCgroupPaths(
      "4:memory:/process_api/abc\n2:cpu,cpuacct:/\n0::/\n", mountinfo);
  EXPECT_EQ(hybrid.v2_dir, "/sys/fs/cgroup/unified");
  EXPECT_EQ(hybrid.v1_memory_dir, "/sys/fs/cgroup/memory/process_api/abc");

  CgroupPaths v2 = ParseCgroupPaths(
      "0::/system.slice/app.service\n",
      "25 1 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n");
  EXPECT_EQ(v2.v2_dir, "/sys/fs/cgroup/system.slice/app.service");
  EXPECT_EQ(v2.v1_memory_dir, "");

  // A container: the hierarchy is mounted at its own cgroup (root field).
  CgroupPaths container = ParseCgroupPaths(
      "9:memory:/docker/0123\n",
      "40 35 0:31 /docker/0123 /sys/fs/cgroup/memory ro - cgroup cgroup "
      "rw,memory\n");
  EXPECT_EQ(container.v1_memory_dir, "/sys/fs/cgroup/memory");
  EXPECT_EQ(ParseCgroupPaths("garbage", "garbage").v2_dir, "");
}

TEST(OomTest, EvidenceFromTheFirstCounterThatWentUp) {
  OomCounters before, after;
  before.v1 = 0;
  after.v1 = 1;
  before.system = after.system = 5;
  EXPECT_EQ(OomEvidence(before, after), "cgroup v1 memory.oom_control");
  after.v1 = 0;
  EXPECT_EQ(OomEvidence(before, after), "");
  // The system-wide counter counts only without a cgroup counter.
  after.system = 6;
  EXPECT_EQ(OomEvidence(before, after), "");
  before.v1 = after.v1 = -1;
  EXPECT_EQ(OomEvidence(before, after), "/proc/vmstat");
  before.v2 = 3;
  after.v2 = 4;
  EXPECT_EQ(OomEvidence(before, after), "cgroup v2 memory.events");
  EXPECT_EQ(ParseVmHwm("Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t    2048 kB\n"),
            2048 * 1024);
  EXPECT_EQ(ParseVmHwm("Name:\tx\n"), -1);
}

TEST(OomTest, KilledPeakTakesTheHigherOfVmHwmAndV1LessCrashctl) {
  constexpr int64_t kMiB = 1 << 20;
  std::string source;
  // A VmHWM that the OOM reaper left low: the v1 peak less crashctl's own.
  EXPECT_EQ(KilledPeak(32 * kMiB, 64 * kMiB, 6 * kMiB, &source), 58 * kMiB);
  EXPECT_EQ(source,
            "cgroup v1 memory.max_usage_in_bytes less crashctl's own VmHWM");
  // A VmHWM at least as high wins.
  EXPECT_EQ(KilledPeak(60 * kMiB, 64 * kMiB, 6 * kMiB, &source), 60 * kMiB);
  EXPECT_EQ(source, "VmHWM at the exit stop (ptrace)");
  // No cgroup v1 peak; no VmHWM; neither.
  EXPECT_EQ(KilledPeak(10 * kMiB, -1, 6 * kMiB, &source), 10 * kMiB);
  EXPECT_EQ(KilledPeak(-1, 64 * kMiB, -1, &source), 64 * kMiB);
  EXPECT_NE(source.find("includes crashctl"), std::string::npos) << source;
  EXPECT_EQ(KilledPeak(-1, -1, 6 * kMiB, &source), -1);
  // crashctl's own peak above the cgroup's (a stale counter): no estimate.
  EXPECT_EQ(KilledPeak(-1, 4 * kMiB, 6 * kMiB, &source), -1);
  EXPECT_GT(SelfPeakRss(), 0);
}

TEST(OomTest, ReadsV1OomControlAndVmstat) {
  char path[] = "/tmp/crashctl-oom-control-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n";
  EXPECT_EQ(ReadOomKills(path), 4);
  unlink(path);
  EXPECT_GE(ReadOomKills("/proc/vmstat"), 0);
}

CrashFacts Facts(const std::string& source, const std::string& type,
                 const std::string& value, size_t frames) {
  CrashFacts f;
  f.source = source;
  f.type = type;
  f.value = value;
  for (size_t i = 0; i < frames; ++i) {
    sdk::Frame frame;
    frame.function = source + std::to_string(i);
    f.frames.push_back(frame);
  }
  return f;
}

TEST(CrashReportTest, MergesSourcesFieldByField) {
  CrashFacts sdk_facts = Facts("sdk", "SIGSEGV", "", 0);
  sdk_facts.signal.number = SIGSEGV;
  CrashFacts runtime = Facts("runtime", "", "", 2);
  runtime.platform = "go";
  CrashFacts ptrace = Facts("ptrace", "SIGSEGV", "Segmentation fault (X)", 3);
  ptrace.signal.number = SIGSEGV;
  ptrace.signal.code_name = "SEGV_MAPERR";
  ptrace.thread_id = 7;
  ptrace.threads.resize(2);
  CrashFacts merged = MergeFacts({sdk_facts, runtime, ptrace});
  EXPECT_EQ(merged.type, "SIGSEGV");
  EXPECT_EQ(merged.source, "sdk");
  EXPECT_EQ(merged.value, "Segmentation fault (X)");  // the SDK had none
  EXPECT_EQ(merged.platform, "go");
  ASSERT_EQ(merged.frames.size(), 2u);  // the runtime's, before ptrace's
  EXPECT_EQ(merged.frames[0].function, "runtime0");
  EXPECT_EQ(merged.extra["stack_source"], "runtime");
  EXPECT_EQ(merged.signal.code_name, "SEGV_MAPERR");
  EXPECT_EQ(merged.thread_id, 7u);
  EXPECT_EQ(merged.threads.size(), 2u);
}

TEST(CrashReportTest, RuntimeParserSeamSitsBetweenSdkAndPtrace) {
  ChildResult child;
  child.started = true;
  child.signal = SIGABRT;
  child.pid = 10;
  CapturedCrash crash;
  crash.pid = 10;
  crash.tid = 10;
  crash.signal = SIGABRT;
  crash.code = SI_TKILL;
  sdk::Thread t;
  t.id = 10;
  sdk::Frame f;
  f.function = "abort";
  t.frames.push_back(f);
  crash.threads.push_back(t);
  child.crashes.push_back(crash);
  ReportContext ctx;
  ctx.service = "svc";
  ctx.trace_requested = true;
  sdk::Event e = BuildCrashEvent(child, ctx);
  EXPECT_EQ(e.exceptions[0].type, "SIGABRT");
  EXPECT_EQ(e.exceptions[0].mechanism, "ptrace");
  EXPECT_EQ(e.tags["stack"], "ptrace");
  EXPECT_TRUE(e.fingerprint.empty());
  ASSERT_EQ(e.threads.size(), 1u);
  EXPECT_TRUE(e.threads[0].crashed);
  EXPECT_TRUE(e.threads[0].frames.empty());  // it is the exception's

  ctx.runtime_parser = [](const std::vector<std::string>&, CrashFacts* out) {
    out->type = "panic";
    out->value = "runtime error: index out of range";
    out->platform = "go";
    sdk::Frame g;
    g.function = "main.main";
    out->frames.push_back(g);
    g.function = "main.handler";
    g.in_app = true;
    out->frames.push_back(g);
    return true;
  };
  e = BuildCrashEvent(child, ctx);
  EXPECT_EQ(e.exceptions[0].type, "panic");
  EXPECT_EQ(e.platform, "go");
  ASSERT_EQ(e.exceptions[0].frames.size(), 2u);
  EXPECT_EQ(e.exceptions[0].frames[1].function, "main.handler");
  EXPECT_EQ(e.tags["stack"], "runtime");
}

std::vector<std::string> SampleLines(const std::string& name) {
  std::ifstream in(std::string(CRASHCTL_TEST_SOURCE_DIR) +
                   "/tests/crashreport/testdata/" + name);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// A child killed by `signal` whose own process the tracer unwound: frames
// abort (libc, not in app) <- `function` (in app).
ChildResult KilledWithStack(int signal, const std::string& function) {
  ChildResult child;
  child.started = true;
  child.signal = signal;
  child.pid = 10;
  CapturedCrash crash;
  crash.pid = 10;
  crash.tid = 10;
  crash.signal = signal;
  crash.code = SI_TKILL;
  sdk::Thread t;
  t.id = 10;
  sdk::Frame f;
  f.function = function;
  f.filename = "/src/app.cc";
  f.lineno = 12;
  f.in_app = true;
  t.frames.push_back(f);
  f = sdk::Frame();
  f.function = "abort";
  t.frames.push_back(f);
  crash.threads.push_back(t);
  child.crashes.push_back(crash);
  return child;
}

ReportContext RuntimeContext() {
  ReportContext ctx;
  ctx.service = "svc";
  ctx.trace_requested = true;
  ctx.runtime_parser = FactsFromRuntimeOutput;
  return ctx;
}

TEST(CrashReportTest, RuntimeOutputBecomesFactsWithTheChain) {
  CrashFacts f;
  ASSERT_TRUE(FactsFromRuntimeOutput(SampleLines("python_chained.txt"), &f));
  EXPECT_EQ(f.source, "runtime");
  EXPECT_EQ(f.platform, "python");
  EXPECT_EQ(f.extra["runtime_report"], "python");
  EXPECT_FALSE(f.type.empty());
  ASSERT_FALSE(f.causes.empty());  // the exception it was raised from
  EXPECT_FALSE(f.causes[0].type.empty());
  EXPECT_FALSE(f.causes[0].handled);
  ASSERT_FALSE(f.frames.empty());
  EXPECT_FALSE(f.frames.back().filename.empty());
  EXPECT_GT(f.frames.back().lineno, 0);

  CrashFacts none;
  EXPECT_FALSE(FactsFromRuntimeOutput({"starting", "listening on :80"}, &none));
  EXPECT_FALSE(FactsFromRuntimeOutput({}, &none));
  EXPECT_TRUE(none.type.empty());
}

TEST(CrashReportTest, GoroutinesAreThreadsWithTheCrashedOneMarked) {
  CrashFacts f;
  ASSERT_TRUE(
      FactsFromRuntimeOutput(SampleLines("go_concurrent_map_writes.txt"), &f));
  EXPECT_EQ(f.platform, "go");
  ASSERT_GT(f.threads.size(), 1u);
  EXPECT_EQ(f.thread_id, 8u);
  EXPECT_EQ(f.threads[0].id, 8u);
  ChildResult child;
  child.started = true;
  child.exited = true;
  child.exit_code = 2;
  child.last_lines = SampleLines("go_concurrent_map_writes.txt");
  ReportContext ctx = RuntimeContext();
  ctx.trace_requested = false;
  sdk::Event e = BuildCrashEvent(child, ctx);
  EXPECT_EQ(e.platform, "go");
  EXPECT_EQ(e.exceptions.back().type, f.type);
  EXPECT_TRUE(e.fingerprint.empty());  // grouped by its stack
  EXPECT_EQ(e.tags["stack"], "runtime");
  EXPECT_EQ(e.tags["exit_code"], "2");
  ASSERT_FALSE(e.threads.empty());
  EXPECT_TRUE(e.threads[0].crashed);
  EXPECT_TRUE(e.threads[0].frames.empty());  // the exception's
}

// A C++ program without the SDK: type and what() from its stderr, frames
// from the tracer, signal and exit code from its death.
TEST(CrashReportTest, TerminateOutputGivesTypeAndPtraceTheFrames) {
  ChildResult child = KilledWithStack(SIGABRT, "LoadConfig()");
  child.last_lines = SampleLines("cpp_terminate.txt");
  sdk::Event e = BuildCrashEvent(child, RuntimeContext());
  ASSERT_EQ(e.exceptions.size(), 1u);
  const sdk::ExceptionValue& x = e.exceptions[0];
  EXPECT_EQ(x.type, "std::runtime_error");
  EXPECT_EQ(x.value, "cannot open ./throw.gpp");
  EXPECT_EQ(x.signal.number, SIGABRT);
  EXPECT_EQ(x.signal.code_name, "SI_TKILL");
  ASSERT_EQ(x.frames.size(), 2u);
  EXPECT_EQ(x.frames[0].function, "LoadConfig()");
  EXPECT_EQ(e.platform, "native");
  EXPECT_EQ(e.tags["stack"], "ptrace");
  EXPECT_EQ(e.tags["signal"], "SIGABRT");
  EXPECT_EQ(e.tags["exit_code"], "134");
  EXPECT_EQ(e.extra["runtime_report"], "native");
  EXPECT_TRUE(e.fingerprint.empty());
}

// A failed assert names one location: the unwound stack is the better one.
TEST(CrashReportTest, AnAssertsLocationYieldsToTheUnwoundStack) {
  ChildResult child = KilledWithStack(SIGABRT, "check");
  child.last_lines = SampleLines("c_assert.txt");
  sdk::Event e = BuildCrashEvent(child, RuntimeContext());
  const sdk::ExceptionValue& x = e.exceptions.back();
  EXPECT_EQ(x.type, "Assertion failed");
  EXPECT_EQ(x.value, "n == 1 && \"exactly one argument\"");
  ASSERT_EQ(x.frames.size(), 2u);
  EXPECT_EQ(x.frames[0].function, "check");
  EXPECT_EQ(e.tags["stack"], "ptrace");

  // Without a stack from the tracer the location is kept.
  child.crashes.clear();
  e = BuildCrashEvent(child, RuntimeContext());
  ASSERT_EQ(e.exceptions.back().frames.size(), 1u);
  EXPECT_EQ(e.exceptions.back().frames[0].lineno, 5);
  EXPECT_EQ(e.tags["stack"], "runtime");
}

// A traceback the program logged earlier did not kill it with SIGSEGV.
TEST(CrashReportTest, AnOlderReportDoesNotExplainADeathBySignal) {
  ChildResult child = KilledWithStack(SIGSEGV, "store");
  child.last_lines = SampleLines("python_value_error.txt");
  child.last_lines.push_back("still serving");
  sdk::Event e = BuildCrashEvent(child, RuntimeContext());
  EXPECT_EQ(e.exceptions.size(), 1u);
  EXPECT_EQ(e.exceptions[0].type, "SIGSEGV");
  EXPECT_EQ(e.platform, "native");
  EXPECT_EQ(e.extra.count("runtime_report"), 0u);

  CrashFacts runtime;
  ChildResult exited;
  exited.exited = true;
  exited.exit_code = 1;
  EXPECT_TRUE(RuntimeFactsFitDeath(runtime, exited));
  exited.exit_code = 0;
  EXPECT_FALSE(RuntimeFactsFitDeath(runtime, exited));
  ChildResult killed;
  killed.signal = SIGABRT;
  EXPECT_TRUE(RuntimeFactsFitDeath(runtime, killed));  // panic=abort
  runtime.implied_signal = "SIGSEGV";
  EXPECT_FALSE(RuntimeFactsFitDeath(runtime, killed));
  killed.signal = SIGSEGV;
  EXPECT_TRUE(RuntimeFactsFitDeath(runtime, killed));
  killed.signal = SIGKILL;
  EXPECT_FALSE(RuntimeFactsFitDeath(runtime, killed));
}

TEST(CrashReportTest, WithoutAStackTheFingerprintIsServiceAndSignal) {
  ReportContext ctx;
  ctx.service = "svc";
  ctx.trace_requested = true;
  ChildResult child;
  child.signal = SIGSEGV;
  child.trace_error = "PTRACE_SEIZE: Operation not permitted";
  sdk::Event e = BuildCrashEvent(child, ctx);
  EXPECT_EQ(e.fingerprint,
            (std::vector<std::string>{"crashctl-run", "svc", "SIGSEGV"}));
  EXPECT_EQ(e.tags["stack"], "unavailable");
  EXPECT_EQ(e.extra["stack_unavailable_reason"],
            "PTRACE_SEIZE: Operation not permitted");
  ChildResult exited;
  exited.exited = true;
  exited.exit_code = 2;
  e = BuildCrashEvent(exited, ctx);
  EXPECT_EQ(e.fingerprint,
            (std::vector<std::string>{"crashctl-run", "svc", "exit", "2"}));
  EXPECT_EQ(e.tags.count("stack"), 0u);
}

TEST(CrashReportTest, TrimsOtherThreadsToTheirInnermostFrames) {
  std::vector<sdk::Thread> threads(3);
  threads[0].crashed = true;
  threads[0].frames.resize(300);
  for (size_t i = 1; i < 3; ++i) {
    for (int j = 0; j < 100; ++j) {
      sdk::Frame f;
      f.lineno = j;
      threads[i].frames.push_back(f);
    }
  }
  TrimThreads(&threads, 50);
  EXPECT_EQ(threads[0].frames.size(), 300u);
  ASSERT_EQ(threads[1].frames.size(), 25u);
  EXPECT_EQ(threads[1].frames.back().lineno, 99);  // innermost kept
  EXPECT_EQ(threads[2].frames.size(), 25u);
}

TEST(ElfProbeTest, FindsSectionsAndTellsGoFromC) {
  EXPECT_TRUE(HasElfSection("/proc/self/exe", ".text"));
  EXPECT_FALSE(HasElfSection("/proc/self/exe", ".no-such-section"));
  EXPECT_FALSE(IsGoBinary("/proc/self/exe"));
  EXPECT_FALSE(IsGoBinary("/nonexistent"));
  EXPECT_FALSE(IsGoBinary("/proc/self/status"));  // not ELF
  ExecutableFacts self = ProbeExecutable("/proc/self/exe");
  EXPECT_TRUE(self.elf);
  EXPECT_FALSE(self.go);
#if defined(__SANITIZE_ADDRESS__)
  EXPECT_TRUE(self.leak_sanitizer);
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  EXPECT_TRUE(self.leak_sanitizer);
#else
  EXPECT_FALSE(self.leak_sanitizer);
#endif
#else
  EXPECT_FALSE(self.leak_sanitizer);
#endif
}

}  // namespace
}  // namespace supervisor
}  // namespace crashctl
