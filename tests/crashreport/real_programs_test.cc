// FindLastReport on the verbatim output of real crashing programs that the
// test writes, builds and runs itself: Go (go), Rust (every rustc found:
// PATH's and Debian's /usr/bin/rustc, so both panic formats are seen where
// both exist), Python 3, Node.js, Java (javac), and C/C++ built with this
// build's compilers (uncaught exception, glibc assert, AddressSanitizer).
// A test whose toolchain is missing is skipped with a message.
//
// Each program's fault depends on its arguments so that no compiler can
// fold it away; the expected line is the one marked in the source.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "crashctl/crashreport/crash_report_parser.h"
#include "tests/testing/temp_dir.h"

extern char** environ;

namespace crashctl {
namespace crashreport {
namespace {

using crashctl::testing::TempDir;

constexpr double kBuildTimeout = 180;  // seconds; javac on a busy machine
constexpr double kRunTimeout = 60;

// `name` if it holds a '/', else its first executable match on $PATH, else "".
std::string FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return access(name.c_str(), X_OK) == 0 ? name : "";
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + name;
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

struct RunResult {
  bool ran = false;    // started and finished before the timeout
  int status = 0;      // wait status
  std::string output;  // stdout and stderr, interleaved as written
};

// Runs argv[0] (a path) in `dir` with this process's environment plus
// `env` ("KEY=value", replacing a variable of the same name); SIGKILL after
// `timeout` seconds.
RunResult RunProgram(const std::vector<std::string>& argv,
                     const std::string& dir,
                     const std::vector<std::string>& env, double timeout) {
  RunResult result;
  std::vector<std::string> environment = env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    const std::string key = kv.substr(0, kv.find('='));
    bool replaced = false;
    for (const std::string& o : env) {
      replaced = replaced || o.compare(0, key.size() + 1, key + "=") == 0;
    }
    if (!replaced) environment.push_back(kv);
  }
  std::vector<char*> envp;
  for (std::string& kv : environment) envp.push_back(kv.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (std::string& a : args) argp.push_back(a.data());
  argp.push_back(nullptr);

  int fds[2];
  if (pipe(fds) != 0) return result;
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return result;
  }
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    if (chdir(dir.c_str()) != 0) _exit(126);
    execve(argp[0], argp.data(), envp.data());
    _exit(127);
  }
  close(fds[1]);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout);
  bool eof = false;
  while (!eof && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    const ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n > 0) {
      result.output.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      eof = true;
    }
  }
  close(fds[0]);
  if (!eof) kill(pid, SIGKILL);
  waitpid(pid, &result.status, 0);
  result.ran = eof;
  return result;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

// The 1-based number of the line of `source` that contains `marker`.
int LineOf(const std::string& source, const std::string& marker) {
  std::istringstream in(source);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find(marker) != std::string::npos) return n;
  }
  return -1;
}

const model::Frame* TopInAppFrame(const model::ExceptionValue& e) {
  for (auto it = e.frames.rbegin(); it != e.frames.rend(); ++it) {
    if (it->in_app.value_or(false)) return &*it;
  }
  return nullptr;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Builds with `build` (skipped by the caller when it cannot run), runs
// `run`, parses what it printed.
std::optional<Report> BuildRunParse(const TempDir& dir,
                                    const std::vector<std::string>& build,
                                    const std::vector<std::string>& build_env,
                                    const std::vector<std::string>& run,
                                    const std::vector<std::string>& run_env,
                                    RunResult* ran) {
  if (!build.empty()) {
    const RunResult built =
        RunProgram(build, dir.path(), build_env, kBuildTimeout);
    EXPECT_TRUE(built.ran && WIFEXITED(built.status) &&
                WEXITSTATUS(built.status) == 0)
        << "build failed: " << built.output;
    if (!built.ran || !WIFEXITED(built.status) ||
        WEXITSTATUS(built.status) != 0) {
      return std::nullopt;
    }
  }
  *ran = RunProgram(run, dir.path(), run_env, kRunTimeout);
  EXPECT_TRUE(ran->ran) << "timed out: " << ran->output;
  return FindLastReport(ran->output);
}

// --- Go ---

class CrashReportGoProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    go_ = FindProgram("go");
    if (go_.empty()) GTEST_SKIP() << "go is not on PATH (Debian: golang-go)";
  }

  // Builds dir/name.go with the module system and the network off.
  std::optional<Report> Crash(const std::string& source, RunResult* ran) {
    WriteFile(dir_.File("main.go"), source);
    return BuildRunParse(
        dir_, {go_, "build", "-o", dir_.File("prog"), dir_.File("main.go")},
        {"GOCACHE=" + dir_.File("gocache"), "GOPATH=" + dir_.File("gopath"),
         "HOME=" + dir_.path(), "GO111MODULE=off",
         "GOFLAGS=", "GOTOOLCHAIN=local", "GOPROXY=off", "CGO_ENABLED=0"},
        {dir_.File("prog")}, {"GOTRACEBACK=single"}, ran);
  }

  TempDir dir_{"crashreport-go"};
  std::string go_;
};

TEST_F(CrashReportGoProgramTest, PanicInMethod) {
  const std::string source = R"(package main

import (
	"fmt"
	"os"
)

type Server struct{ name string }

func (s *Server) handle(n int) {
	if n > 1 {
		panic(fmt.Sprintf("bad request %d from %s", n, s.name)) // PANIC-LINE
	}
	s.handle(n + 1)
}

func main() {
	s := &Server{name: fmt.Sprint(len(os.Args))}
	s.handle(0)
}
)";
  RunResult ran;
  const auto report = Crash(source, &ran);
  ASSERT_TRUE(report.has_value()) << ran.output;
  EXPECT_TRUE(WIFEXITED(ran.status) && WEXITSTATUS(ran.status) == 2);
  EXPECT_EQ(report->runtime, Runtime::kGo);
  EXPECT_EQ(report->platform, "go");
  ASSERT_EQ(report->exceptions.size(), 1u);
  const model::ExceptionValue& e = report->exceptions[0];
  EXPECT_EQ(e.type, "panic");
  EXPECT_EQ(e.value, "bad request 2 from 1");
  EXPECT_EQ(e.mechanism_type, "panic");
  const model::Frame* top = TopInAppFrame(e);
  ASSERT_NE(top, nullptr) << ran.output;
  EXPECT_EQ(top->function, "main.(*Server).handle");
  EXPECT_EQ(top->filename, dir_.File("main.go"));
  EXPECT_EQ(top->lineno, LineOf(source, "PANIC-LINE"));
  EXPECT_EQ(e.frames.front().function, "main.main");
  EXPECT_EQ(report->thread_name, "goroutine 1");
}

TEST_F(CrashReportGoProgramTest, NilMapWrite) {
  const std::string source = R"(package main

import "os"

var counts map[string]int

func record(key string) {
	counts[key]++ // NILMAP-LINE
}

func main() {
	record(os.Args[0])
}
)";
  RunResult ran;
  const auto report = Crash(source, &ran);
  ASSERT_TRUE(report.has_value()) << ran.output;
  const model::ExceptionValue& e = report->exceptions.back();
  EXPECT_EQ(e.type, "runtime.Error");
  EXPECT_EQ(e.value, "assignment to entry in nil map");
  const model::Frame* top = TopInAppFrame(e);
  ASSERT_NE(top, nullptr) << ran.output;
  EXPECT_EQ(top->function, "main.record");
  EXPECT_EQ(top->filename, dir_.File("main.go"));
  EXPECT_EQ(top->lineno, LineOf(source, "NILMAP-LINE"));
}

TEST_F(CrashReportGoProgramTest, IndexOutOfRange) {
  const std::string source = R"(package main

import (
	"fmt"
	"os"
)

func pick(xs []int, i int) int {
	return xs[i] // INDEX-LINE
}

func main() {
	xs := []int{1, 2, 3}
	fmt.Println(pick(xs, len(os.Args)+4))
}
)";
  RunResult ran;
  const auto report = Crash(source, &ran);
  ASSERT_TRUE(report.has_value()) << ran.output;
  const model::ExceptionValue& e = report->exceptions.back();
  EXPECT_EQ(e.type, "runtime.Error");
  EXPECT_EQ(e.value, "index out of range [5] with length 3");
  const model::Frame* top = TopInAppFrame(e);
  ASSERT_NE(top, nullptr) << ran.output;
  EXPECT_EQ(top->function, "main.pick");
  EXPECT_EQ(top->lineno, LineOf(source, "INDEX-LINE"));
}

// --- Rust ---

TEST(CrashReportRustProgramTest, PanicWithAndWithoutBacktraceForEveryRustc) {
  std::vector<std::string> compilers;
  for (const std::string& name :
       {std::string("rustc"), std::string("/usr/bin/rustc")}) {
    const std::string path = FindProgram(name);
    if (path.empty()) continue;
    char* real = realpath(path.c_str(), nullptr);
    const std::string resolved = real != nullptr ? real : path;
    std::free(real);
    bool seen = false;
    for (const std::string& c : compilers) {
      char* other = realpath(c.c_str(), nullptr);
      seen = seen || (other != nullptr && resolved == other);
      std::free(other);
    }
    if (!seen) compilers.push_back(path);
  }
  if (compilers.empty()) GTEST_SKIP() << "rustc is not on PATH (Debian: rustc)";
  std::string used;
  for (const std::string& c : compilers) used += (used.empty() ? "" : " ") + c;
  ::testing::Test::RecordProperty("rustc", used);
  const std::string source = R"(use std::env;

fn parse_port(s: &str) -> u16 {
    s.parse().expect("port must be a number") // EXPECT-LINE
}

fn main() {
    let arg = env::args().next().unwrap_or_default();
    println!("{}", parse_port(&arg));
}
)";
  const int line = LineOf(source, "EXPECT-LINE");
  for (const std::string& rustc : compilers) {
    SCOPED_TRACE(rustc);
    TempDir dir("crashreport-rust");
    WriteFile(dir.File("crash.rs"), source);
    RunResult ran;
    const auto report =
        BuildRunParse(dir,
                      {rustc, "-g", "-C", "opt-level=0", "-o",
                       dir.File("crash"), dir.File("crash.rs")},
                      {}, {dir.File("crash")}, {"RUST_BACKTRACE=1"}, &ran);
    ASSERT_TRUE(report.has_value()) << ran.output;
    EXPECT_EQ(report->runtime, Runtime::kRust);
    EXPECT_EQ(report->platform, "native");
    EXPECT_EQ(report->thread_name, "main");
    ASSERT_EQ(report->exceptions.size(), 1u);
    const model::ExceptionValue& e = report->exceptions[0];
    EXPECT_EQ(e.type, "panic");
    EXPECT_EQ(e.value,
              "port must be a number: ParseIntError { kind: InvalidDigit }");
    const model::Frame* top = TopInAppFrame(e);
    ASSERT_NE(top, nullptr) << ran.output;
    EXPECT_EQ(top->function, "crash::parse_port");
    EXPECT_TRUE(EndsWith(top->filename, "crash.rs")) << top->filename;
    EXPECT_EQ(top->lineno, line);
    EXPECT_GT(e.frames.size(), 2u);

    // Without RUST_BACKTRACE: the panic location is the only frame.
    const RunResult plain = RunProgram({dir.File("crash")}, dir.path(),
                                       {"RUST_BACKTRACE=0"}, kRunTimeout);
    const auto located = FindLastReport(plain.output);
    ASSERT_TRUE(located.has_value()) << plain.output;
    EXPECT_EQ(located->exceptions[0].value, e.value);
    ASSERT_EQ(located->exceptions[0].frames.size(), 1u);
    EXPECT_TRUE(
        EndsWith(located->exceptions[0].frames[0].filename, "crash.rs"));
    EXPECT_EQ(located->exceptions[0].frames[0].lineno, line);
  }
}

// --- Python ---

class CrashReportPythonProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    python_ = FindProgram("python3");
    if (python_.empty()) GTEST_SKIP() << "python3 is not on PATH";
  }
  std::optional<Report> Crash(const std::string& source, RunResult* ran) {
    WriteFile(dir_.File("app.py"), source);
    return BuildRunParse(dir_, {}, {}, {python_, dir_.File("app.py")},
                         {"PYTHONDONTWRITEBYTECODE=1"}, ran);
  }
  TempDir dir_{"crashreport-python"};
  std::string python_;
};

TEST_F(CrashReportPythonProgramTest, ValueErrorFromInt) {
  const std::string source = R"(import sys


def parse(s):
    return int(s)  # PARSE-LINE


def main():
    print(parse("abc" + sys.argv[0][:0]))


main()
)";
  RunResult ran;
  const auto report = Crash(source, &ran);
  ASSERT_TRUE(report.has_value()) << ran.output;
  EXPECT_EQ(report->runtime, Runtime::kPython);
  ASSERT_EQ(report->exceptions.size(), 1u);
  const model::ExceptionValue& e = report->exceptions[0];
  EXPECT_EQ(e.type, "ValueError");
  EXPECT_EQ(e.value, "invalid literal for int() with base 10: 'abc'");
  const model::Frame* top = TopInAppFrame(e);
  ASSERT_NE(top, nullptr);
  EXPECT_EQ(top->function, "parse");
  EXPECT_EQ(top->filename, dir_.File("app.py"));
  EXPECT_EQ(top->lineno, LineOf(source, "PARSE-LINE"));
  ASSERT_EQ(e.frames.size(), 3u);
  EXPECT_EQ(e.frames[0].function, "<module>");
}

TEST_F(CrashReportPythonProgramTest, ChainedException) {
  const std::string source = R"(import json


class ConfigError(Exception):
    pass


def load(text):
    try:
        return json.loads(text)
    except ValueError as e:
        raise ConfigError("bad config") from e  # RAISE-LINE


load("{oops")
)";
  RunResult ran;
  const auto report = Crash(source, &ran);
  ASSERT_TRUE(report.has_value()) << ran.output;
  ASSERT_EQ(report->exceptions.size(), 2u);
  const model::ExceptionValue& root = report->exceptions[0];
  EXPECT_EQ(root.type, "JSONDecodeError");
  EXPECT_EQ(root.module, "json.decoder");
  ASSERT_FALSE(root.frames.empty());
  // The innermost frames are the standard library's json module.
  EXPECT_EQ(root.frames.back().in_app, std::optional<bool>(false));
  EXPECT_EQ(root.frames.front().in_app, std::optional<bool>(true));
  const model::ExceptionValue& raised = report->exceptions[1];
  EXPECT_EQ(raised.type, "ConfigError");
  EXPECT_EQ(raised.value, "bad config");
  const model::Frame* top = TopInAppFrame(raised);
  ASSERT_NE(top, nullptr);
  EXPECT_EQ(top->function, "load");
  EXPECT_EQ(top->lineno, LineOf(source, "RAISE-LINE"));
}

// --- Node.js ---

class CrashReportNodeProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = FindProgram("node");
    if (node_.empty()) node_ = FindProgram("nodejs");
    if (node_.empty()) GTEST_SKIP() << "node is not on PATH";
  }
  std::optional<Report> Crash(const std::string& source, RunResult* ran) {
    WriteFile(dir_.File("app.js"), source);
    return BuildRunParse(dir_, {}, {}, {node_, dir_.File("app.js")}, {}, ran);
  }
  TempDir dir_{"crashreport-node"};
  std::string node_;
};

TEST_F(CrashReportNodeProgramTest, TypeErrorReadingUndefined) {
  const std::string source = R"('use strict';

function readName(user) {
  return user.profile.name; // READ-LINE
}

const input = process.argv.length > 10 ? '{"profile":{}}' : '{}';
console.log(readName(JSON.parse(input)));
)";
  RunResult ran;
  const auto report = Crash(source, &ran);
  ASSERT_TRUE(report.has_value()) << ran.output;
  EXPECT_EQ(report->runtime, Runtime::kNode);
  EXPECT_EQ(report->platform, "node");
  const model::ExceptionValue& e = report->exceptions.back();
  EXPECT_EQ(e.type, "TypeError");
  // Node >= 16: "Cannot read properties of undefined (reading 'name')".
  EXPECT_EQ(e.value.rfind("Cannot read propert", 0), 0u) << e.value;
  const model::Frame* top = TopInAppFrame(e);
  ASSERT_NE(top, nullptr);
  EXPECT_EQ(top->function, "readName");
  EXPECT_EQ(top->filename, dir_.File("app.js"));
  EXPECT_EQ(top->lineno, LineOf(source, "READ-LINE"));
  EXPECT_GT(top->colno, 0);
  // The report spans the preamble ("app.js:4") to the "Node.js v" trailer.
  EXPECT_EQ(report->first_line, 0u);
}

TEST_F(CrashReportNodeProgramTest, ErrorWithCause) {
  const std::string source = R"(function load(text) {
  try {
    return JSON.parse(text); // PARSE-LINE
  } catch (e) {
    throw new Error('bad config', { cause: e }); // THROW-LINE
  }
}
load(process.argv.length > 10 ? '{}' : '{oops');
)";
  RunResult ran;
  const auto report = Crash(source, &ran);
  ASSERT_TRUE(report.has_value()) << ran.output;
  ASSERT_EQ(report->exceptions.size(), 2u) << ran.output;
  EXPECT_EQ(report->exceptions[0].type, "SyntaxError");
  const model::Frame* cause_top = TopInAppFrame(report->exceptions[0]);
  ASSERT_NE(cause_top, nullptr);
  EXPECT_EQ(cause_top->lineno, LineOf(source, "PARSE-LINE"));
  EXPECT_EQ(report->exceptions[1].type, "Error");
  EXPECT_EQ(report->exceptions[1].value, "bad config");
  const model::Frame* top = TopInAppFrame(report->exceptions[1]);
  ASSERT_NE(top, nullptr);
  EXPECT_EQ(top->function, "load");
  EXPECT_EQ(top->lineno, LineOf(source, "THROW-LINE"));
}

// --- C and C++, built with this build's compilers ---

class CrashReportNativeProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cxx_ = FindProgram(CRASHCTL_CXX_COMPILER);
    if (cxx_.empty()) GTEST_SKIP() << "no C++ compiler " CRASHCTL_CXX_COMPILER;
  }
  std::optional<Report> Crash(const std::string& name,
                              const std::string& source,
                              const std::vector<std::string>& flags,
                              const std::vector<std::string>& run_env,
                              RunResult* ran) {
    WriteFile(dir_.File(name), source);
    std::vector<std::string> build = {cxx_, "-g", "-O0", "-U", "NDEBUG"};
    build.insert(build.end(), flags.begin(), flags.end());
    build.insert(build.end(), {"-o", dir_.File("prog"), dir_.File(name)});
    return BuildRunParse(dir_, build, {}, {dir_.File("prog")}, run_env, ran);
  }
  TempDir dir_{"crashreport-native"};
  std::string cxx_;
};

TEST_F(CrashReportNativeProgramTest, UncaughtRuntimeError) {
  const std::string source = R"(#include <cstdio>
#include <stdexcept>
#include <string>

static void Load(const std::string& path) {
  if (!path.empty()) throw std::runtime_error("cannot open " + path);
}

int main(int argc, char**) {
  Load("config-" + std::to_string(argc) + ".yaml");
  std::puts("unreachable");
  return 0;
}
)";
  RunResult ran;
  const auto report = Crash("throw.cc", source, {}, {}, &ran);
  ASSERT_TRUE(report.has_value()) << ran.output;
  EXPECT_TRUE(WIFSIGNALED(ran.status) && WTERMSIG(ran.status) == SIGABRT);
  EXPECT_EQ(report->runtime, Runtime::kNative);
  ASSERT_EQ(report->exceptions.size(), 1u);
  EXPECT_EQ(report->exceptions[0].type, "std::runtime_error");
  EXPECT_EQ(report->exceptions[0].value, "cannot open config-1.yaml");
  EXPECT_EQ(report->exceptions[0].mechanism_type, "uncaught_exception");
  EXPECT_EQ(report->signal, "SIGABRT");
}

TEST_F(CrashReportNativeProgramTest, GlibcAssert) {
  const std::string source = R"(#include <cassert>
#include <cstdio>

static int Check(int n) {
  assert(n == 1 && "exactly one argument");  // ASSERT-LINE
  return n;
}

int main(int argc, char**) {
  std::printf("%d\n", Check(argc + 1));
  return 0;
}
)";
  RunResult ran;
  const auto report = Crash("assert.cc", source, {}, {}, &ran);
  ASSERT_TRUE(report.has_value()) << ran.output;
  const model::ExceptionValue& e = report->exceptions[0];
  EXPECT_EQ(e.type, "Assertion failed");
  EXPECT_EQ(e.value, "n == 1 && \"exactly one argument\"");
  EXPECT_EQ(e.mechanism_type, "assert");
  ASSERT_EQ(e.frames.size(), 1u);
  EXPECT_EQ(e.frames[0].function, "int Check(int)");
  EXPECT_EQ(e.frames[0].filename, dir_.File("assert.cc"));
  EXPECT_EQ(e.frames[0].lineno, LineOf(source, "ASSERT-LINE"));
  EXPECT_EQ(e.frames[0].in_app, std::optional<bool>(true));
}

TEST_F(CrashReportNativeProgramTest, AddressSanitizerUseAfterFree) {
  const std::string source = R"(#include <cstdio>

__attribute__((noinline)) static int ReadIt(const int* p) {
  return *p;  // READ-LINE
}

int main(int argc, char**) {
  int* p = new int[4];
  p[0] = argc;
  delete[] p;
  std::printf("%d\n", ReadIt(p));
  return 0;
}
)";
  WriteFile(dir_.File("probe.cc"), "int main() { return 0; }\n");
  const RunResult probe =
      RunProgram({cxx_, "-fsanitize=address", "-o", dir_.File("probe"),
                  dir_.File("probe.cc")},
                 dir_.path(), {}, kBuildTimeout);
  if (!probe.ran || !WIFEXITED(probe.status) || WEXITSTATUS(probe.status)) {
    GTEST_SKIP() << "the C++ compiler cannot link with -fsanitize=address: "
                 << probe.output;
  }
  RunResult ran;
  const auto report =
      Crash("uaf.cc", source, {"-fsanitize=address", "-fno-omit-frame-pointer"},
            {"ASAN_OPTIONS=detect_leaks=0:abort_on_error=0"}, &ran);
  ASSERT_TRUE(report.has_value()) << ran.output;
  const model::ExceptionValue& e = report->exceptions[0];
  EXPECT_EQ(e.type, "heap-use-after-free");
  EXPECT_EQ(e.value.rfind("READ of size 4 at 0x", 0), 0u) << e.value;
  EXPECT_EQ(e.mechanism_type, "sanitizer");
  const model::Frame* top = TopInAppFrame(e);
  ASSERT_NE(top, nullptr) << ran.output;
  EXPECT_EQ(top->function.rfind("ReadIt", 0), 0u) << top->function;
  EXPECT_EQ(top->filename, dir_.File("uaf.cc"));
  EXPECT_EQ(top->lineno, LineOf(source, "READ-LINE"));
  EXPECT_EQ(report->thread_name, "T0");
}

// --- Java (optional: committed samples cover machines without a JDK) ---

TEST(CrashReportJavaProgramTest, CausedByChain) {
  const std::string javac = FindProgram("javac");
  const std::string java = FindProgram("java");
  if (javac.empty() || java.empty()) {
    GTEST_SKIP() << "javac/java are not on PATH (the committed samples in "
                    "testdata/ still cover the JVM format)";
  }
  TempDir dir("crashreport-java");
  const std::string source = R"(public class Main {
    static int parsePort(String s) {
        return Integer.parseInt(s); // PARSE-LINE
    }

    static void loadConfig(String s) {
        try {
            parsePort(s);
        } catch (NumberFormatException e) {
            throw new IllegalStateException("bad config: " + s, e); // THROW-LINE
        }
    }

    public static void main(String[] args) {
        loadConfig("abc" + args.length);
    }
}
)";
  WriteFile(dir.File("Main.java"), source);
  RunResult ran;
  const auto report = BuildRunParse(
      dir, {javac, "-g", "-d", dir.File("out"), dir.File("Main.java")}, {},
      {java, "-cp", dir.File("out"), "Main"}, {}, &ran);
  ASSERT_TRUE(report.has_value()) << ran.output;
  EXPECT_EQ(report->runtime, Runtime::kJava);
  EXPECT_EQ(report->thread_name, "main");
  ASSERT_EQ(report->exceptions.size(), 2u);
  const model::ExceptionValue& root = report->exceptions[0];
  EXPECT_EQ(root.type, "NumberFormatException");
  EXPECT_EQ(root.module, "java.lang");
  const model::Frame* root_top = TopInAppFrame(root);
  ASSERT_NE(root_top, nullptr);
  EXPECT_EQ(root_top->function, "parsePort");
  EXPECT_EQ(root_top->lineno, LineOf(source, "PARSE-LINE"));
  EXPECT_EQ(root.frames.back().in_app, std::optional<bool>(false));
  const model::ExceptionValue& raised = report->exceptions[1];
  EXPECT_EQ(raised.type, "IllegalStateException");
  EXPECT_EQ(raised.value, "bad config: abc0");
  const model::Frame* top = TopInAppFrame(raised);
  ASSERT_NE(top, nullptr);
  EXPECT_EQ(top->module, "Main");
  EXPECT_EQ(top->function, "loadConfig");
  EXPECT_EQ(top->filename, "Main.java");
  EXPECT_EQ(top->lineno, LineOf(source, "THROW-LINE"));
}

}  // namespace
}  // namespace crashreport
}  // namespace crashctl
