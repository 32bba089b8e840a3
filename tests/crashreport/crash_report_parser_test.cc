// FindLastReport on the verbatim runtime output committed under testdata/
// (how each sample was made: testdata/README.md), on the same samples
// wrapped in log prefixes, and on synthetic edge cases: chains, in_app
// rules, caps, garbage.
#include "crashctl/crashreport/crash_report_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace crashctl {
namespace crashreport {
namespace {

std::string TestdataPath(const std::string& name) {
  const char* root = std::getenv("CRASHCTL_SOURCE_DIR");
  return std::string(root != nullptr ? root : CRASHCTL_TEST_SOURCE_DIR) +
         "/tests/crashreport/testdata/" + name;
}

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(TestdataPath(name), std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// The innermost in-app frame of the finally raised exception.
const model::Frame* TopInAppFrame(const Report& report) {
  const auto& frames = report.exceptions.back().frames;
  for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
    if (it->in_app.value_or(false)) return &*it;
  }
  return nullptr;
}

struct Sample {
  const char* file;
  Runtime runtime;
  size_t exceptions;
  const char* type;  // of the last exception
  const char* value;
  const char* function;  // of the top in-app frame ("" when none)
  const char* filename;
  int lineno;
  const char* signal;
  const char* thread_name;
  size_t first_line;
  size_t last_line;
};

void PrintTo(const Sample& s, std::ostream* os) { *os << s.file; }

// Expected fields, checked by hand against each sample.
const Sample kSamples[] = {
    {"go_panic_method.txt", Runtime::kGo, 1, "panic", "bad request 3 from .",
     "main.(*Server).handle", "/tmp/crs/panic.go", 12, "", "goroutine 1", 0,
     12},
    {"go_nil_map.txt", Runtime::kGo, 1, "runtime.Error",
     "assignment to entry in nil map", "main.store", "/tmp/crs/nilmap.go", 8,
     "", "goroutine 1", 0, 6},
    {"go_index_out_of_range.txt", Runtime::kGo, 1, "runtime.Error",
     "index out of range [5] with length 3", "main.pick", "/tmp/crs/index.go",
     6, "", "goroutine 1", 0, 6},
    {"go_nil_pointer_sigsegv.txt", Runtime::kGo, 1, "runtime.Error",
     "invalid memory address or nil pointer dereference", "main.get",
     "/tmp/crs/nilptr.go", 7, "SIGSEGV", "goroutine 1", 0, 7},
    {"go_recovered_repanic.txt", Runtime::kGo, 2, "panic",
     "wrapped: first failure", "main.main.func1", "/tmp/crs/errpanic.go", 22,
     "", "goroutine 1", 0, 9},
    {"go_concurrent_map_writes.txt", Runtime::kGo, 1, "fatal error",
     "concurrent map writes", "main.main.func1", "/tmp/crs/mapwrite.go", 13, "",
     "goroutine 8", 0, 68},
    {"go_deadlock.txt", Runtime::kGo, 1, "fatal error",
     "all goroutines are asleep - deadlock!", "main.main",
     "/tmp/crs/deadlock.go", 5, "", "goroutine 1", 0, 4},
    {"go_struct_value.txt", Runtime::kGo, 1, "main.MyErr", "0xc000010018",
     "main.main", "/tmp/crs/structpanic.go", 6, "", "goroutine 1", 0, 4},
    {"go_error_value.txt", Runtime::kGo, 1, "panic",
     "open /etc/x: permission denied", "main.main", "/tmp/crs/errval.go", 6, "",
     "goroutine 1", 0, 4},
    {"go_out_of_memory.txt", Runtime::kGo, 1, "fatal error", "out of memory",
     "main.grow", "/tmp/crs/oom.go", 9, "", "goroutine 1", 1, 93},
    {"go_sigquit.txt", Runtime::kGo, 1, "SIGQUIT", "quit", "", "", 0, "SIGQUIT",
     "goroutine 0", 0, 85},
    // net/http's logged (recovered) handler panic is not a crash; the nil
    // dereference after it is.
    {"go_http_recovered_then_crash.txt", Runtime::kGo, 1, "runtime.Error",
     "invalid memory address or nil pointer dereference", "main.main",
     "/tmp/crs/http.go", 18, "SIGSEGV", "goroutine 1", 16, 21},
    {"rust_1.63_expect.txt", Runtime::kRust, 1, "panic",
     "port must be a number: ParseIntError { kind: InvalidDigit }", "",
     "panic.rs", 8, "", "main", 0, 1},
    {"rust_1.63_expect_backtrace.txt", Runtime::kRust, 1, "panic",
     "port must be a number: ParseIntError { kind: InvalidDigit }",
     "panic::parse_port", "./panic.rs", 8, "", "main", 0, 16},
    {"rust_1.63_thread_full_backtrace.txt", Runtime::kRust, 1, "panic",
     "called `Result::unwrap()` on an `Err` value: Any { .. }", "index::main",
     "/tmp/crs/index.rs", 7, "", "main", 66, 136},
    {"rust_1.63_assert_eq.txt", Runtime::kRust, 1, "panic",
     "assertion failed: `(left == right)`\n  left: `2`,\n right: `1`: values "
     "differ",
     "", "assert.rs", 2, "", "main", 0, 3},
    {"rust_1.95_expect.txt", Runtime::kRust, 1, "panic",
     "port must be a number: ParseIntError { kind: InvalidDigit }", "",
     "panic.rs", 8, "", "main", 1, 3},
    {"rust_1.95_expect_backtrace.txt", Runtime::kRust, 1, "panic",
     "port must be a number: ParseIntError { kind: InvalidDigit }",
     "panic::parse_port", "./panic.rs", 8, "", "main", 1, 18},
    {"rust_1.95_expect_full_backtrace.txt", Runtime::kRust, 1, "panic",
     "port must be a number: ParseIntError { kind: InvalidDigit }",
     "panic::parse_port", "/tmp/crs/panic.rs", 8, "", "main", 1, 75},
    {"rust_1.95_assert_eq_backtrace.txt", Runtime::kRust, 1, "panic",
     "assertion `left == right` failed: values differ\n  left: 2\n right: 1",
     "assert::check", "./assert.rs", 2, "", "main", 1, 20},
    // A worker thread panics, then main's join().unwrap(): the last wins.
    {"rust_1.95_thread_backtrace.txt", Runtime::kRust, 1, "panic",
     "called `Result::unwrap()` on an `Err` value: Any { .. }", "index::main",
     "./index.rs", 9, "", "main", 16, 31},
    {"rust_1.95_stack_overflow.txt", Runtime::kRust, 1, "fatal runtime error",
     "stack overflow", "", "", 0, "", "main", 1, 2},
    {"python_value_error.txt", Runtime::kPython, 1, "ValueError",
     "invalid literal for int() with base 10: 'abc'", "parse",
     "/tmp/crs/intabc.py", 5, "", "", 0, 9},
    {"python_chained.txt", Runtime::kPython, 3, "KeyError", "'missing'",
     "handle", "/tmp/crs/chained.py", 19, "", "", 0, 32},
    {"python_during_handling.txt", Runtime::kPython, 2, "NameError",
     "name 'undefined_name' is not defined", "f", "/tmp/crs/during.py", 5, "",
     "", 0, 14},
    {"python_syntax_error.txt", Runtime::kPython, 1, "SyntaxError",
     "invalid syntax", "", "/tmp/crs/syntax.py", 1, "", "", 0, 3},
    {"python_dist_packages.txt", Runtime::kPython, 1, "ParserError",
     "while parsing a flow sequence", "load_config", "/tmp/crs/yamlerr.py", 5,
     "", "", 0, 38},
    {"java_caused_by.txt", Runtime::kJava, 2, "IllegalStateException",
     "bad config: abc0", "loadConfig", "Main.java", 15, "", "main", 0, 9},
    {"java_npe.txt", Runtime::kJava, 1, "NullPointerException",
     "Cannot invoke \"String.length()\" because the return value of "
     "\"java.util.List.get(int)\" is null",
     "main", "Main.java", 30, "", "main", 0, 1},
    {"java_suppressed.txt", Runtime::kJava, 2, "IllegalStateException",
     "bad config: x1", "loadConfig", "Main.java", 15, "", "main", 0, 12},
    {"java_thread.txt", Runtime::kJava, 1, "ClassCastException",
     "class java.lang.String cannot be cast to class java.lang.Integer "
     "(java.lang.String and java.lang.Integer are in module java.base of "
     "loader 'bootstrap')",
     "lambda$main$0", "Main.java", 38, "", "worker-7", 0, 2},
    {"node_type_error.txt", Runtime::kNode, 1, "TypeError",
     "Cannot read properties of undefined (reading 'name')", "readName",
     "/tmp/crs/typeerr.js", 4, "", "", 0, 15},
    {"node_cause.txt", Runtime::kNode, 2, "ConfigError", "bad config", "load",
     "/tmp/crs/throw.js", 8, "", "", 0, 21},
    {"node_async_throw.txt", Runtime::kNode, 1, "RangeError", "limit exceeded",
     "fetchIt", "/tmp/crs/reject.js", 3, "", "", 0, 7},
    {"node_unhandled_rejection.txt", Runtime::kNode, 1,
     "UnhandledPromiseRejection",
     "This error originated either by throwing inside of an async function "
     "without a catch block, or by rejecting a promise which was not handled "
     "with .catch(). The promise rejected with the reason \"42\".",
     "", "", 0, "", "", 0, 11},
    {"node_string_throw.txt", Runtime::kNode, 1, "Error", "a string", "",
     "/tmp/crs/strthrow.js", 1, "", "", 1, 7},
    {"node_error_properties.txt", Runtime::kNode, 1, "Error", "disk full",
     "Object.<anonymous>", "/tmp/crs/errprops.js", 1, "", "", 0, 15},
    {"node_timer_throw.txt", Runtime::kNode, 1, "Error", "boom",
     "Timeout.f [as _onTimeout]", "/tmp/crs/plainthrow.js", 1, "", "", 0, 9},
    {"cpp_terminate.txt", Runtime::kNative, 1, "std::runtime_error",
     "cannot open ./throw.gpp", "", "", 0, "SIGABRT", "", 0, 1},
    {"c_assert.txt", Runtime::kNative, 1, "Assertion failed",
     "n == 1 && \"exactly one argument\"", "check", "assert.c", 5, "SIGABRT",
     "", 0, 0},
    {"cpp_assert.txt", Runtime::kNative, 1, "Assertion failed",
     "n == 1 && \"exactly one argument\"", "int check(int)", "assert.c", 5,
     "SIGABRT", "", 0, 0},
    {"asan_heap_use_after_free.txt", Runtime::kNative, 1, "heap-use-after-free",
     "READ of size 4 at 0x602000000010 thread T0", "read_it", "/tmp/crs/uaf.c",
     4, "", "T0", 0, 52},
    {"asan_gcc_heap_use_after_free.txt", Runtime::kNative, 1,
     "heap-use-after-free", "READ of size 4 at 0x602000000010 thread T0",
     "read_it", "/tmp/crs/uaf.c", 4, "", "T0", 0, 52},
    {"asan_segv.txt", Runtime::kNative, 1, "SEGV",
     "on unknown address 0x000000000000", "Write(int volatile*)",
     "/tmp/crs/segv.cc", 2, "SIGSEGV", "T0", 0, 13},
    {"lsan_leak.txt", Runtime::kNative, 1, "memory leak",
     "Direct leak of 17 byte(s) in 1 object(s)", "make", "/tmp/crs/leak.c", 5,
     "", "", 1, 10},
    {"ubsan_signed_overflow.txt", Runtime::kNative, 1, "undefined-behavior",
     "signed integer overflow: 2147483647 + 1 cannot be represented in type "
     "'int'",
     "add", "/tmp/crs/ub.c", 4, "", "", 0, 7},
    // The same output as delivered by log collectors (make_prefixed.py).
    {"prefixed_cri_go_nil_pointer.txt", Runtime::kGo, 1, "runtime.Error",
     "invalid memory address or nil pointer dereference", "main.get",
     "/tmp/crs/nilptr.go", 7, "SIGSEGV", "goroutine 1", 2, 13},
    {"prefixed_kubectl_timestamps_java.txt", Runtime::kJava, 2,
     "IllegalStateException", "bad config: abc0", "loadConfig", "Main.java", 15,
     "", "main", 1, 10},
    {"prefixed_docker_json_python.txt", Runtime::kPython, 3, "KeyError",
     "'missing'", "handle", "/tmp/crs/chained.py", 19, "", "", 1, 35},
    {"prefixed_json_record_node.txt", Runtime::kNode, 2, "ConfigError",
     "bad config", "load", "/tmp/crs/throw.js", 8, "", "", 1, 1},
    {"prefixed_docker_json_record_java.txt", Runtime::kJava, 2,
     "IllegalStateException", "bad config: abc0", "loadConfig", "Main.java", 15,
     "", "", 0, 0},
    {"prefixed_golog_rust.txt", Runtime::kRust, 1, "panic",
     "port must be a number: ParseIntError { kind: InvalidDigit }",
     "panic::parse_port", "./panic.rs", 8, "", "main", 3, 20},
    {"prefixed_noise_go_map_writes.txt", Runtime::kGo, 1, "fatal error",
     "concurrent map writes", "main.main.func1", "/tmp/crs/mapwrite.go", 13, "",
     "goroutine 8", 0, 70},
    {"prefixed_noise_python.txt", Runtime::kPython, 1, "ValueError",
     "invalid literal for int() with base 10: 'abc'", "parse",
     "/tmp/crs/intabc.py", 5, "", "", 1, 11},
    {"prefixed_noise_java.txt", Runtime::kJava, 2, "IllegalStateException",
     "bad config: abc0", "loadConfig", "Main.java", 15, "", "main", 0, 10},
    {"prefixed_last_of_three.txt", Runtime::kGo, 1, "runtime.Error",
     "assignment to entry in nil map", "main.store", "/tmp/crs/nilmap.go", 8,
     "", "goroutine 1", 14, 21},
};

class CrashReportSampleTest : public ::testing::TestWithParam<Sample> {};

TEST_P(CrashReportSampleTest, ParsesExpectedFields) {
  const Sample& s = GetParam();
  const std::string text = ReadTestdata(s.file);
  ASSERT_FALSE(text.empty()) << TestdataPath(s.file);
  const std::optional<Report> report = FindLastReport(text);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->runtime, s.runtime);
  ASSERT_EQ(report->exceptions.size(), s.exceptions);
  const model::ExceptionValue& last = report->exceptions.back();
  EXPECT_EQ(last.type, s.type);
  EXPECT_EQ(last.value, s.value);
  const model::Frame* top = TopInAppFrame(*report);
  if (s.function[0] == '\0' && s.filename[0] == '\0') {
    EXPECT_EQ(top, nullptr);
  } else {
    ASSERT_NE(top, nullptr);
    EXPECT_EQ(top->function, s.function);
    EXPECT_EQ(top->filename, s.filename);
    EXPECT_EQ(top->lineno, s.lineno);
  }
  EXPECT_EQ(report->signal, s.signal);
  EXPECT_EQ(report->thread_name, s.thread_name);
  EXPECT_EQ(report->first_line, s.first_line);
  EXPECT_EQ(report->last_line, s.last_line);
  // Invariants of every report.
  const char* platform = s.runtime == Runtime::kGo       ? "go"
                         : s.runtime == Runtime::kPython ? "python"
                         : s.runtime == Runtime::kJava   ? "java"
                         : s.runtime == Runtime::kNode   ? "node"
                                                         : "native";
  EXPECT_EQ(report->platform, platform);
  for (const model::ExceptionValue& e : report->exceptions) {
    EXPECT_EQ(e.handled, std::optional<bool>(false));
    EXPECT_FALSE(e.mechanism_type.empty());
    for (const model::Frame& f : e.frames) EXPECT_TRUE(f.in_app.has_value());
  }
  if (!report->thread_name.empty()) {
    ASSERT_FALSE(report->threads.empty());
    EXPECT_TRUE(report->threads[0].crashed);
    EXPECT_EQ(report->threads[0].name, report->thread_name);
    EXPECT_TRUE(report->threads[0].frames.empty());
  }
  // The vector overload agrees with the text overload.
  const std::optional<Report> again = FindLastReport(SplitLines(text));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->exceptions.back().value, last.value);
  EXPECT_EQ(again->first_line, report->first_line);
  EXPECT_EQ(again->last_line, report->last_line);
}

INSTANTIATE_TEST_SUITE_P(Testdata, CrashReportSampleTest,
                         ::testing::ValuesIn(kSamples),
                         [](const ::testing::TestParamInfo<Sample>& info) {
                           std::string name = info.param.file;
                           name = name.substr(0, name.rfind('.'));
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           }
                           return name;
                         });

// --- The raw samples wrapped in log prefixes give the same report. ---

std::string Json(const std::string& log, const char* stream) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("log");
  w.String(log.c_str(), static_cast<rapidjson::SizeType>(log.size()));
  w.Key("stream");
  w.String(stream);
  w.Key("time");
  w.String("2024-05-01T12:00:00.000000001Z");
  w.EndObject();
  return buffer.GetString();
}

using Wrapper = std::vector<std::string> (*)(const std::vector<std::string>&);

std::vector<std::string> WithIsoTimestamps(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const std::string& l : in)
    out.push_back("2024-05-01T12:00:00.123Z " + l);
  return out;
}
std::vector<std::string> WithGoLogTimestamps(
    const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const std::string& l : in) out.push_back("2024/05/01 12:00:00 " + l);
  return out;
}
std::vector<std::string> WithCri(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const std::string& l : in) {
    out.push_back("2024-05-01T12:00:00.123456789Z stderr F " + l);
  }
  return out;
}
std::vector<std::string> WithDocker(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const std::string& l : in) out.push_back(Json(l + "\n", "stderr"));
  return out;
}
std::vector<std::string> WithCrlf(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const std::string& l : in) out.push_back(l + "\r");
  return out;
}

void ExpectSameReport(const Report& a, const Report& b) {
  EXPECT_EQ(a.runtime, b.runtime);
  EXPECT_EQ(a.signal, b.signal);
  EXPECT_EQ(a.thread_name, b.thread_name);
  EXPECT_EQ(a.threads.size(), b.threads.size());
  EXPECT_EQ(a.first_line, b.first_line);
  EXPECT_EQ(a.last_line, b.last_line);
  ASSERT_EQ(a.exceptions.size(), b.exceptions.size());
  for (size_t e = 0; e < a.exceptions.size(); ++e) {
    const model::ExceptionValue& x = a.exceptions[e];
    const model::ExceptionValue& y = b.exceptions[e];
    EXPECT_EQ(x.type, y.type);
    EXPECT_EQ(x.module, y.module);
    EXPECT_EQ(x.value, y.value);
    ASSERT_EQ(x.frames.size(), y.frames.size());
    for (size_t f = 0; f < x.frames.size(); ++f) {
      EXPECT_EQ(x.frames[f].function, y.frames[f].function);
      EXPECT_EQ(x.frames[f].filename, y.frames[f].filename);
      EXPECT_EQ(x.frames[f].lineno, y.frames[f].lineno);
      EXPECT_EQ(x.frames[f].in_app, y.frames[f].in_app);
    }
  }
}

TEST(CrashReportPrefixTest, EveryRawSampleParsesTheSameUnderEveryLogPrefix) {
  const std::pair<const char*, Wrapper> wrappers[] = {
      {"iso", WithIsoTimestamps},
      {"golog", WithGoLogTimestamps},
      {"cri", WithCri},
      {"docker", WithDocker},
      {"crlf", WithCrlf}};
  size_t checked = 0;
  for (const Sample& s : kSamples) {
    if (std::string(s.file).rfind("prefixed_", 0) == 0) continue;
    const std::vector<std::string> lines = SplitLines(ReadTestdata(s.file));
    const std::optional<Report> plain = FindLastReport(lines);
    ASSERT_TRUE(plain.has_value()) << s.file;
    for (const auto& [name, wrap] : wrappers) {
      SCOPED_TRACE(std::string(s.file) + " wrapped " + name);
      const std::optional<Report> wrapped = FindLastReport(wrap(lines));
      ASSERT_TRUE(wrapped.has_value());
      ExpectSameReport(*plain, *wrapped);
      ++checked;
    }
  }
  EXPECT_GT(checked, 200u);
}

TEST(CrashReportPrefixTest, CriPartialLinesAreJoinedPerStream) {
  const std::vector<std::string> lines = {
      "2024-05-01T12:00:00.1Z stderr F Traceback (most recent call last):",
      "2024-05-01T12:00:00.2Z stderr P   File \"/app/m",
      "2024-05-01T12:00:00.2Z stdout F unrelated stdout line",
      "2024-05-01T12:00:00.2Z stderr P ain.py\", line",
      "2024-05-01T12:00:00.2Z stderr F  7, in <module>",
      "2024-05-01T12:00:00.3Z stderr F     run()",
      "2024-05-01T12:00:00.4Z stderr F RuntimeError: stop",
  };
  const std::optional<Report> report = FindLastReport(lines);
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->exceptions.size(), 1u);
  ASSERT_EQ(report->exceptions[0].frames.size(), 1u);
  EXPECT_EQ(report->exceptions[0].frames[0].filename, "/app/main.py");
  EXPECT_EQ(report->exceptions[0].frames[0].lineno, 7);
  EXPECT_EQ(report->first_line, 0u);
  EXPECT_EQ(report->last_line, 6u);
}

TEST(CrashReportPrefixTest, DockerPartialRecordsAreJoined) {
  const std::vector<std::string> lines = {
      Json("panic: boo", "stderr"),
      Json("m\n", "stderr"),
      Json("\n", "stderr"),
      Json("goroutine 1 [running]:\n", "stderr"),
      Json("main.main()\n", "stderr"),
      Json("\t/app/main.go:4 +0x1d\n", "stderr")};
  const std::optional<Report> report = FindLastReport(lines);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->exceptions[0].value, "boom");
  ASSERT_EQ(report->exceptions[0].frames.size(), 1u);
  EXPECT_EQ(report->exceptions[0].frames[0].lineno, 4);
  EXPECT_EQ(report->first_line, 0u);
  EXPECT_EQ(report->last_line, 5u);
}

TEST(CrashReportPrefixTest, SpanCoversPartialsFlushedAtTheEnd) {
  // Fuzzer regression: a stdout partial that never ends is flushed after
  // every other line and may end the report; the span stays ordered.
  const std::vector<std::string> lines = {
      Json("Tn", "stdout"),
      Json("Traceback (most recent call last):\n", "stderr"),
      Json("  File \"/a.py\", line 2, in <module>\n", "stderr"),
  };
  const std::optional<Report> report = FindLastReport(lines);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->exceptions[0].type, "Tn");
  EXPECT_EQ(report->first_line, 0u);
  EXPECT_EQ(report->last_line, 2u);
}

// --- Chains and in_app per runtime. ---

TEST(CrashReportJavaTest, CauseGetsTheEnclosingFramesOfDotDotDotMore) {
  const std::optional<Report> report =
      FindLastReport(ReadTestdata("java_caused_by.txt"));
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->exceptions.size(), 2u);
  const model::ExceptionValue& root = report->exceptions[0];
  EXPECT_EQ(root.type, "NumberFormatException");
  EXPECT_EQ(root.module, "java.lang");
  EXPECT_EQ(root.value, "For input string: \"abc0\"");
  // Five printed frames and "... 1 more" (Main.main from the outer trace).
  ASSERT_EQ(root.frames.size(), 6u);
  EXPECT_EQ(root.frames[0].function, "main");
  EXPECT_EQ(root.frames[0].lineno, 43);
  EXPECT_EQ(root.frames[5].function, "forInputString");
  EXPECT_EQ(root.frames[5].module, "java.lang.NumberFormatException");
  EXPECT_EQ(root.frames[5].in_app, std::optional<bool>(false));
  EXPECT_EQ(root.frames[2].function, "parsePort");
  EXPECT_EQ(root.frames[2].in_app, std::optional<bool>(true));
}

TEST(CrashReportJavaTest, SuppressedExceptionsAreNotInTheChain) {
  const std::optional<Report> report =
      FindLastReport(ReadTestdata("java_suppressed.txt"));
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->exceptions.size(), 2u);
  for (const model::ExceptionValue& e : report->exceptions) {
    EXPECT_NE(e.type, "UnsupportedOperationException");
    for (const model::Frame& f : e.frames) EXPECT_NE(f.function, "close");
  }
  EXPECT_EQ(report->exceptions[1].frames.size(), 2u);
}

TEST(CrashReportJavaTest, LogbackCommonFramesOmitted) {
  const std::optional<Report> report = FindLastReport(std::string_view(
      "12:00:01.000 [http-1] ERROR c.e.Api - failed\n"
      "com.example.ApiException: upstream failed\n"
      "\tat com.example.Api.call(Api.java:20) ~[app.jar:1.0]\n"
      "\tat com.example.Api.handle(Api.java:10) ~[app.jar:1.0]\n"
      "Caused by: java.net.ConnectException: Connection refused\n"
      "\tat java.base/sun.nio.ch.Net.connect0(Native Method)\n"
      "\tat com.example.Client.open(Client.java:5) ~[app.jar:1.0]\n"
      "\t... 2 common frames omitted\n"));
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->runtime, Runtime::kJava);
  EXPECT_TRUE(report->thread_name.empty());
  ASSERT_EQ(report->exceptions.size(), 2u);
  EXPECT_EQ(report->exceptions[0].type, "ConnectException");
  ASSERT_EQ(report->exceptions[0].frames.size(), 4u);
  EXPECT_EQ(report->exceptions[0].frames[0].function, "handle");
  EXPECT_EQ(report->exceptions[0].frames[3].function, "connect0");
  EXPECT_EQ(report->exceptions[0].frames[3].filename, "");
  EXPECT_EQ(report->exceptions[0].frames[3].in_app, std::optional<bool>(false));
  EXPECT_EQ(report->first_line, 1u);
  EXPECT_EQ(report->last_line, 7u);
}

TEST(CrashReportJavaTest, HeaderWithoutFramesDoesNotSwallowTheNext) {
  const std::optional<Report> report = FindLastReport(std::string_view(
      "Exception in thread \"gc\" java.lang.OutOfMemoryError: Java heap "
      "space\n"
      "Exception in thread \"main\" java.lang.IllegalStateException: x\n"
      "\tat com.example.Main.main(Main.java:3)\n"));
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->thread_name, "main");
  EXPECT_EQ(report->exceptions.back().value, "x");
  EXPECT_EQ(report->first_line, 1u);
  const std::optional<Report> alone = FindLastReport(std::string_view(
      "Exception in thread \"gc\" java.lang.OutOfMemoryError: Java heap "
      "space\n"));
  ASSERT_TRUE(alone.has_value());
  EXPECT_EQ(alone->exceptions.back().type, "OutOfMemoryError");
  EXPECT_TRUE(alone->exceptions.back().frames.empty());
}

TEST(CrashReportNodeTest, CauseAndElidedFramesAreFilledFromTheCause) {
  const std::optional<Report> report =
      FindLastReport(ReadTestdata("node_cause.txt"));
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->exceptions.size(), 2u);
  const model::ExceptionValue& cause = report->exceptions[0];
  EXPECT_EQ(cause.type, "SyntaxError");
  ASSERT_EQ(cause.frames.size(), 9u);
  EXPECT_EQ(cause.frames.back().function, "JSON.parse");
  EXPECT_EQ(cause.frames.back().in_app, std::optional<bool>(false));
  const model::ExceptionValue& outer = report->exceptions[1];
  // load, Object.<anonymous>, 5 elided (Module._compile .. executeUser-
  // EntryPoint), run_main_module.
  ASSERT_EQ(outer.frames.size(), 8u);
  EXPECT_EQ(outer.frames[1].function,
            "Function.executeUserEntryPoint [as runMain]");
  EXPECT_EQ(outer.frames[5].function, "Module._compile");
  EXPECT_EQ(outer.frames[7].function, "load");
  EXPECT_EQ(outer.frames[7].colno, 11);
  EXPECT_EQ(outer.frames[0].in_app, std::optional<bool>(false));
}

TEST(CrashReportNodeTest, LoggedStackWithoutPreambleAndNodeModules) {
  const std::optional<Report> report = FindLastReport(std::string_view(
      "request failed\n"
      "TypeError [ERR_INVALID_ARG_TYPE]: The \"path\" argument must be of type "
      "string\n"
      "    at new NodeError (node:internal/errors:405:5)\n"
      "    at Object.open (/srv/app/node_modules/fs-extra/lib/index.js:3:9)\n"
      "    at async handler (file:///srv/app/src/routes.mjs:12:5)\n"
      "    at /srv/app/src/server.js:40:7\n"));
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->runtime, Runtime::kNode);
  const model::ExceptionValue& e = report->exceptions[0];
  EXPECT_EQ(e.type, "TypeError");
  EXPECT_EQ(e.value, "The \"path\" argument must be of type string");
  ASSERT_EQ(e.frames.size(), 4u);
  EXPECT_EQ(e.frames[0].function, "");
  EXPECT_EQ(e.frames[0].filename, "/srv/app/src/server.js");
  EXPECT_EQ(e.frames[0].in_app, std::optional<bool>(true));
  EXPECT_EQ(e.frames[1].function, "async handler");
  EXPECT_EQ(e.frames[1].filename, "/srv/app/src/routes.mjs");
  EXPECT_EQ(e.frames[1].in_app, std::optional<bool>(true));
  EXPECT_EQ(e.frames[2].in_app, std::optional<bool>(false));
  EXPECT_EQ(e.frames[3].in_app, std::optional<bool>(false));
  EXPECT_EQ(report->first_line, 1u);
}

TEST(CrashReportGoTest, StdlibDependencyAndRuntimeFramesAreNotInApp) {
  const std::optional<Report> report = FindLastReport(std::string_view(
      "panic: boom\n"
      "\n"
      "goroutine 7 [running]:\n"
      "github.com/acme/lib.(*Pool).Get(0xc000010000)\n"
      "\t/root/go/pkg/mod/github.com/acme/lib@v1.2.0/pool.go:33 +0x1d\n"
      "example.com/shop/internal/db.Query({0x5, 0x3})\n"
      "\t/src/shop/internal/db/db.go:88 +0x40\n"
      "net/http.HandlerFunc.ServeHTTP(0x0?, {0x73ade8?, 0xc00016e000?})\n"
      "\t/usr/local/go/src/net/http/server.go:2109 +0x2f\n"
      "created by net/http.(*Server).Serve in goroutine 1\n"
      "\t/usr/local/go/src/net/http/server.go:3102 +0x4db\n"));
  ASSERT_TRUE(report.has_value());
  const auto& frames = report->exceptions[0].frames;
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].function, "net/http.HandlerFunc.ServeHTTP");
  EXPECT_EQ(frames[0].module, "net/http");
  EXPECT_EQ(frames[0].in_app, std::optional<bool>(false));
  EXPECT_EQ(frames[1].function, "example.com/shop/internal/db.Query");
  EXPECT_EQ(frames[1].module, "example.com/shop/internal/db");
  EXPECT_EQ(frames[1].in_app, std::optional<bool>(true));
  EXPECT_EQ(frames[2].in_app, std::optional<bool>(false));  // module cache
  EXPECT_EQ(report->thread_name, "goroutine 7");
  EXPECT_EQ(report->last_line, 10u);
}

TEST(CrashReportGoTest, RecoveredPanicChainAndOtherGoroutines) {
  const std::optional<Report> report =
      FindLastReport(ReadTestdata("go_recovered_repanic.txt"));
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->exceptions.size(), 2u);
  EXPECT_EQ(report->exceptions[0].value, "first failure");
  EXPECT_TRUE(report->exceptions[0].frames.empty());
  EXPECT_EQ(report->exceptions[1].frames.size(), 3u);

  const std::optional<Report> many =
      FindLastReport(ReadTestdata("go_concurrent_map_writes.txt"));
  ASSERT_TRUE(many.has_value());
  ASSERT_EQ(many->threads.size(), 9u);
  EXPECT_TRUE(many->threads[0].crashed);
  EXPECT_EQ(many->threads[0].id, "8");
  EXPECT_EQ(many->threads[1].name, "goroutine 1");
  EXPECT_FALSE(many->threads[1].crashed);
  ASSERT_EQ(many->threads[1].frames.size(), 3u);
  EXPECT_EQ(many->threads[1].frames[2].function, "sync.runtime_Semacquire");
  EXPECT_EQ(many->threads[1].frames[0].function, "main.main");
}

TEST(CrashReportGoTest, SignalLineWithoutGoroutinesAndPlainPanicLogLine) {
  const std::optional<Report> bare = FindLastReport(std::string_view(
      "panic: runtime error: invalid memory address or nil pointer "
      "dereference\n"
      "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x46]\n"));
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->signal, "SIGSEGV");
  EXPECT_EQ(bare->last_line, 1u);
  // A log line that says "panic:" is not a crash.
  EXPECT_FALSE(
      FindLastReport(
          std::string_view("panic: disk almost full\nretrying in 5s\nok\n"))
          .has_value());
  // Nor is it the header of the panic that follows it.
  const std::optional<Report> next =
      FindLastReport(std::string_view("panic: disk almost full\n"
                                      "panic: boom\n"
                                      "\n"
                                      "goroutine 1 [running]:\n"
                                      "main.main()\n"
                                      "\t/app/main.go:4 +0x1d\n"));
  ASSERT_TRUE(next.has_value());
  ASSERT_EQ(next->exceptions.size(), 1u);
  EXPECT_EQ(next->exceptions[0].value, "boom");
  EXPECT_EQ(next->first_line, 1u);
}

TEST(CrashReportRustTest, FramesAreCleanedAndStdIsNotInApp) {
  const std::optional<Report> report =
      FindLastReport(ReadTestdata("rust_1.95_expect_full_backtrace.txt"));
  ASSERT_TRUE(report.has_value());
  const auto& frames = report->exceptions[0].frames;
  ASSERT_EQ(frames.size(), 38u);
  for (const model::Frame& f : frames) {
    EXPECT_EQ(f.function.find("[e28293b1aa0f68bd]"), std::string::npos);
    EXPECT_FALSE(f.instruction_addr.empty());
  }
  const model::Frame& top =
      frames[frames.size() - 19];  // "18: panic::parse_port"
  EXPECT_EQ(top.function, "panic::parse_port");
  EXPECT_EQ(top.raw_function, "panic::parse_port::hd7cbdd02a4d8ecdd");
  EXPECT_EQ(top.colno, 31);
  EXPECT_EQ(frames.back().function,
            "std::backtrace_rs::backtrace::libunwind::trace");
  EXPECT_EQ(frames.back().in_app, std::optional<bool>(false));
  EXPECT_EQ(frames[0].function, "<unknown>");
  EXPECT_EQ(frames[0].in_app, std::optional<bool>(false));
  size_t in_app = 0;
  for (const model::Frame& f : frames)
    in_app += f.in_app.value_or(false) ? 1 : 0;
  EXPECT_EQ(in_app, 2u);                      // panic::main, panic::parse_port
  EXPECT_EQ(report->threads[0].id, "18296");  // "thread 'main' (18296)"
}

// A crate named like a runtime symbol ("rust_panic", "clone") is the
// program's; the symbols themselves are not.
TEST(CrashReportRustTest, CrateNamedLikeARuntimeSymbolIsInApp) {
  const std::optional<Report> report = FindLastReport(
      std::string_view("thread 'main' panicked at src/main.rs:7:15:\n"
                       "port must be a number\n"
                       "stack backtrace:\n"
                       "   0: rust_panic\n"
                       "   1: std::panicking::rust_panic_with_hook\n"
                       "   2: rust_panic::parse_port\n"
                       "             at ./src/main.rs:7:15\n"
                       "   3: clone_tool::main\n"
                       "             at ./src/main.rs:13:16\n"
                       "   4: __libc_start_main\n"));
  ASSERT_TRUE(report.has_value());
  const auto& frames = report->exceptions[0].frames;
  ASSERT_EQ(frames.size(), 5u);
  // Outermost first: __libc_start_main, clone_tool::main, ...
  EXPECT_EQ(frames[0].in_app, std::optional<bool>(false));
  EXPECT_EQ(frames[1].function, "clone_tool::main");
  EXPECT_EQ(frames[1].in_app, std::optional<bool>(true));
  EXPECT_EQ(frames[2].function, "rust_panic::parse_port");
  EXPECT_EQ(frames[2].in_app, std::optional<bool>(true));
  EXPECT_EQ(frames[3].in_app, std::optional<bool>(false));
  EXPECT_EQ(frames[4].function, "rust_panic");
  EXPECT_EQ(frames[4].in_app, std::optional<bool>(false));
}

TEST(CrashReportRustTest, ThreadNamesAndOldMultiLineMessage) {
  const std::optional<Report> report = FindLastReport(std::string_view(
      "thread 'tokio-runtime-worker' panicked at 'called `Option::unwrap()`\n"
      "on a `None` value', src/worker.rs:31:18\n"
      "note: run with `RUST_BACKTRACE=1` environment variable to display a "
      "backtrace\n"));
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->thread_name, "tokio-runtime-worker");
  EXPECT_EQ(report->exceptions[0].value,
            "called `Option::unwrap()`\non a `None` value");
  ASSERT_EQ(report->exceptions[0].frames.size(), 1u);
  EXPECT_EQ(report->exceptions[0].frames[0].filename, "src/worker.rs");
  EXPECT_EQ(report->exceptions[0].frames[0].lineno, 31);
  EXPECT_EQ(report->exceptions[0].frames[0].in_app, std::optional<bool>(true));
  EXPECT_EQ(report->last_line, 2u);
}

TEST(CrashReportPythonTest, ChainOrderModulesAndStdlib) {
  const std::optional<Report> report =
      FindLastReport(ReadTestdata("python_chained.txt"));
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->exceptions.size(), 3u);
  const model::ExceptionValue& root = report->exceptions[0];
  EXPECT_EQ(root.type, "JSONDecodeError");
  EXPECT_EQ(root.module, "json.decoder");
  ASSERT_EQ(root.frames.size(), 4u);
  EXPECT_EQ(root.frames[0].function, "load");
  EXPECT_EQ(root.frames[0].in_app, std::optional<bool>(true));
  EXPECT_EQ(root.frames[3].function, "raw_decode");
  EXPECT_EQ(root.frames[3].in_app, std::optional<bool>(false));
  EXPECT_EQ(report->exceptions[1].type, "ConfigError");
  EXPECT_EQ(report->exceptions[1].module, "");
  EXPECT_EQ(report->exceptions[2].frames[0].function, "<module>");

  const std::optional<Report> yaml =
      FindLastReport(ReadTestdata("python_dist_packages.txt"));
  ASSERT_TRUE(yaml.has_value());
  const auto& frames = yaml->exceptions[0].frames;
  ASSERT_EQ(frames.size(), 13u);
  EXPECT_EQ(frames[2].filename,
            "/usr/lib/python3/dist-packages/yaml/__init__.py");
  EXPECT_EQ(frames[2].in_app, std::optional<bool>(false));

  const std::optional<Report> frozen = FindLastReport(std::string_view(
      "Traceback (most recent call last):\n"
      "  File \"<frozen runpy>\", line 198, in _run_module_as_main\n"
      "  File \"/app/venv/lib/python3.12/site-packages/click/core.py\", line "
      "1157, in __call__\n"
      "  File \"/app/cli.py\", line 9, in main\n"
      "    raise SystemExit(3)\n"
      "SystemExit: 3\n"));
  ASSERT_TRUE(frozen.has_value());
  ASSERT_EQ(frozen->exceptions[0].frames.size(), 3u);
  EXPECT_EQ(frozen->exceptions[0].frames[0].in_app, std::optional<bool>(false));
  EXPECT_EQ(frozen->exceptions[0].frames[1].in_app, std::optional<bool>(false));
  EXPECT_EQ(frozen->exceptions[0].frames[2].in_app, std::optional<bool>(true));
}

TEST(CrashReportNativeTest, LibcxxTerminateMuslAssertAndUbsanWithoutStack) {
  auto libcxx = FindLastReport(std::string_view(
      "libc++abi: terminating due to uncaught exception of type "
      "std::out_of_range: vector\n"));
  ASSERT_TRUE(libcxx.has_value());
  EXPECT_EQ(libcxx->exceptions[0].type, "std::out_of_range");
  EXPECT_EQ(libcxx->exceptions[0].value, "vector");
  EXPECT_EQ(libcxx->signal, "SIGABRT");

  auto musl = FindLastReport(
      std::string_view("Assertion failed: fd >= 0 (src/io.c: open_log: 42)\n"));
  ASSERT_TRUE(musl.has_value());
  EXPECT_EQ(musl->exceptions[0].value, "fd >= 0");
  ASSERT_EQ(musl->exceptions[0].frames.size(), 1u);
  EXPECT_EQ(musl->exceptions[0].frames[0].function, "open_log");
  EXPECT_EQ(musl->exceptions[0].frames[0].filename, "src/io.c");
  EXPECT_EQ(musl->exceptions[0].frames[0].lineno, 42);

  auto ubsan = FindLastReport(std::string_view(
      "src/a.cc:5:12: runtime error: load of null pointer of type 'int'\n"));
  ASSERT_TRUE(ubsan.has_value());
  ASSERT_EQ(ubsan->exceptions[0].frames.size(), 1u);
  EXPECT_EQ(ubsan->exceptions[0].frames[0].colno, 12);

  auto no_active = FindLastReport(
      std::string_view("terminate called without an active exception\n"));
  ASSERT_TRUE(no_active.has_value());
  EXPECT_EQ(no_active->exceptions[0].type, "std::terminate");
  EXPECT_EQ(no_active->exceptions[0].mechanism_type, "terminate");
}

TEST(CrashReportNativeTest, SystemFramesAreNotInApp) {
  const std::optional<Report> report =
      FindLastReport(ReadTestdata("asan_heap_use_after_free.txt"));
  ASSERT_TRUE(report.has_value());
  const auto& frames = report->exceptions[0].frames;
  ASSERT_EQ(frames.size(), 5u);
  EXPECT_EQ(frames[0].function, "_start");
  EXPECT_EQ(frames[0].package, "/tmp/crs/uaf.asan");
  EXPECT_EQ(frames[0].in_app, std::optional<bool>(false));
  EXPECT_EQ(frames[1].function, "__libc_start_main");
  EXPECT_EQ(frames[1].in_app, std::optional<bool>(false));
  EXPECT_EQ(frames[4].function, "read_it");
  EXPECT_EQ(frames[4].colno, 63);
  EXPECT_EQ(frames[4].instruction_addr, "0x55853dd5ff88");
  EXPECT_EQ(frames[4].in_app, std::optional<bool>(true));
}

// --- Bounds and garbage. ---

TEST(CrashReportBoundsTest, FramesThreadsAndChainsAreCapped) {
  std::string go = "panic: deep\n\ngoroutine 1 [running]:\n";
  for (int k = 0; k < 300; ++k) {
    go += "main.f" + std::to_string(k) +
          "()\n\t/app/main.go:" + std::to_string(k + 1) + " +0x1\n";
  }
  for (int g = 2; g < 100; ++g) {
    go += "\ngoroutine " + std::to_string(g) +
          " [select]:\nmain.w()\n\t/app/w.go:3 +0x1\n";
  }
  auto report = FindLastReport(go);
  ASSERT_TRUE(report.has_value());
  const auto& frames = report->exceptions[0].frames;
  ASSERT_EQ(frames.size(), kMaxFramesPerThread);
  EXPECT_EQ(frames.back().function, "main.f0");  // the crashing frame kept
  EXPECT_EQ(frames.back().lineno, 1);
  EXPECT_EQ(report->threads.size(), kMaxThreads);

  std::string java =
      "Exception in thread \"main\" a.E0: m\n\tat a.B.c(B.java:1)\n";
  for (int k = 1; k < 15; ++k) {
    java +=
        "Caused by: a.E" + std::to_string(k) + ": m\n\tat a.B.c(B.java:1)\n";
  }
  report = FindLastReport(java);
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->exceptions.size(), kMaxExceptions);
  EXPECT_EQ(report->exceptions.front().type, "E14");  // the root cause
  EXPECT_EQ(report->exceptions[1].type, "E8");
  EXPECT_EQ(report->exceptions.back().type, "E0");  // the one raised
}

TEST(CrashReportBoundsTest, LongLinesAndValuesAreCutAtUtf8Boundaries) {
  std::string value(3 * kMaxTextBytes, 'x');
  value[kMaxTextBytes - 1] = '\xc3';  // a two-byte sequence across the cut
  value[kMaxTextBytes] = '\xa9';
  const std::string text =
      "Traceback (most recent call last):\n  File \"/a.py\", line 1, in f\n"
      "ValueError: " +
      value + "\n";
  auto report = FindLastReport(text);
  ASSERT_TRUE(report.has_value());
  const std::string& v = report->exceptions[0].value;
  EXPECT_LE(v.size(), kMaxTextBytes);
  EXPECT_NE(static_cast<unsigned char>(v.back()), 0xc3);
}

TEST(CrashReportBoundsTest, LineNumbersCountTheWholeInput) {
  std::string text;
  for (size_t k = 0; k < kMaxLines + 500; ++k) text += "noise\n";
  text += ReadTestdata("go_nil_map.txt");
  auto report = FindLastReport(text);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->first_line, kMaxLines + 500);
  auto from_vector = FindLastReport(SplitLines(text));
  ASSERT_TRUE(from_vector.has_value());
  EXPECT_EQ(from_vector->first_line, kMaxLines + 500);
  EXPECT_EQ(from_vector->last_line, report->last_line);
}

TEST(CrashReportGarbageTest, NothingIsFoundInNonReports) {
  const std::vector<std::string> inputs = {
      "",
      "\n\n\n",
      "Traceback (most recent call last):\n",
      "Traceback (most recent call last):\n  File \"x\", line 1, in y\n",
      "Error: something\nthat is not a stack\n",
      "goroutine 1 [running]:\nmain.main()\n\t/a.go:1 +0x1\n",
      "thread 'main' panicked at\n",
      "thread 'main' panicked at 'unterminated\n",
      "Exception in thread \"main\n",
      "==1==ERROR: nothing\n",
      "INFO: all good\nWARN: disk 80%\n",
      "{\"level\":\"info\",\"msg\":\"ok\"}\n",
      "{\"msg\":\"multi\\nline\\nbut no report\"}\n",
      std::string(100000, '[') + "\n",
      std::string("\0\xff\xfe\x01panic: \x80\n\tat\n", 18),
  };
  for (const std::string& in : inputs) {
    EXPECT_FALSE(FindLastReport(in).has_value()) << in.substr(0, 80);
  }
}

}  // namespace
}  // namespace crashreport
}  // namespace crashctl
