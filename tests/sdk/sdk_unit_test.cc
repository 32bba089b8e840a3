// Unit tests of the SDK's building blocks: DSN, envelopes, rate limits,
// exception chains, crash records, spool.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <stdexcept>

#include "crashctl/sdk/support/crash_record.h"
#include "crashctl/sdk/support/dsn.h"
#include "crashctl/sdk/support/event_json.h"
#include "crashctl/sdk/support/http_sender.h"
#include "crashctl/sdk/support/spool.h"
#include "crashctl/sdk/support/stacktrace.h"
#include "crashctl/sdk/support/symbolizer.h"
#include "fake_sentry.h"
#include "sdk/src/exception_chain.h"
#include "tests/testing/temp_dir.h"

// Outside crashctl::sdk: frames of that namespace count as SDK-internal.
namespace probe {
__attribute__((noinline)) std::vector<uint64_t> CaptureHere() {
  std::vector<uint64_t> pcs = crashctl::sdk::CaptureStack();
  asm volatile("" ::: "memory");
  return pcs;
}
}  // namespace probe

namespace crashctl {
namespace sdk {
namespace {

TEST(DsnTest, ParsesSentryForm) {
  Dsn dsn;
  std::string error;
  ASSERT_TRUE(Dsn::Parse("http://abc123@127.0.0.1:9190/42", &dsn, &error));
  EXPECT_EQ(dsn.public_key, "abc123");
  EXPECT_EQ(dsn.project_id, "42");
  EXPECT_EQ(dsn.EnvelopeUrl(), "http://127.0.0.1:9190/api/42/envelope/");
  EXPECT_NE(dsn.AuthHeader().find("sentry_key=abc123"), std::string::npos);
  ASSERT_TRUE(Dsn::Parse("https://k:secret@host/sub/path/7/", &dsn, &error));
  EXPECT_EQ(dsn.EnvelopeUrl(), "https://host/sub/path/api/7/envelope/");
}

TEST(DsnTest, RejectsBadDsns) {
  Dsn dsn;
  std::string error;
  EXPECT_FALSE(Dsn::Parse("", &dsn, &error));
  EXPECT_FALSE(Dsn::Parse("ftp://k@h/1", &dsn, &error));
  EXPECT_FALSE(Dsn::Parse("http://host/1", &dsn, &error));
  EXPECT_FALSE(Dsn::Parse("http://k@host/project", &dsn, &error));
  EXPECT_NE(error.find("project id"), std::string::npos);
}

TEST(EnvelopeTest, HeaderItemLengthAndPayload) {
  std::string json = "{\"event_id\":\"ab\"}";
  std::string env = BuildEnvelope("ab", "http://k@h/1", json);
  size_t nl1 = env.find('\n');
  size_t nl2 = env.find('\n', nl1 + 1);
  rapidjson::Document header, item;
  header.Parse(env.substr(0, nl1).c_str());
  item.Parse(env.substr(nl1 + 1, nl2 - nl1 - 1).c_str());
  EXPECT_STREQ(header["event_id"].GetString(), "ab");
  EXPECT_STREQ(header["dsn"].GetString(), "http://k@h/1");
  EXPECT_TRUE(header.HasMember("sent_at"));
  EXPECT_STREQ(item["type"].GetString(), "event");
  EXPECT_EQ(item["length"].GetUint64(), json.size());
  EXPECT_EQ(env.substr(nl2 + 1, json.size()), json);
  std::string dsn, id;
  ASSERT_TRUE(ParseEnvelopeHeader(env, &dsn, &id));
  EXPECT_EQ(dsn, "http://k@h/1");
  EXPECT_EQ(id, "ab");
}

TEST(EventJsonTest, SerialisesEverything) {
  Event e;
  e.event_id = "0123456789abcdef0123456789abcdef";
  e.timestamp = "2026-01-01T00:00:00.000Z";
  e.level = Level::kFatal;
  e.tags["service"] = "svc";
  e.user.id = "u1";
  e.fingerprint = {"a", "b"};
  e.log_lines = {"line \"1\"", "line 2"};
  ExceptionValue v;
  v.type = "SIGSEGV";
  v.value = "Segmentation fault";
  Frame f;
  f.function = "main";
  f.lineno = 3;
  f.in_app = true;
  v.frames.push_back(f);
  e.exceptions.push_back(v);
  rapidjson::Document doc;
  std::string json = EventToJson(e);
  doc.Parse(json.c_str());
  ASSERT_FALSE(doc.HasParseError()) << json;
  EXPECT_STREQ(doc["level"].GetString(), "fatal");
  EXPECT_STREQ(doc["tags"]["service"].GetString(), "svc");
  EXPECT_STREQ(doc["user"]["id"].GetString(), "u1");
  EXPECT_EQ(doc["fingerprint"].Size(), 2u);
  EXPECT_STREQ(doc["extra"]["log_lines"][0].GetString(), "line \"1\"");
  const auto& ex = doc["exception"]["values"][0];
  EXPECT_STREQ(ex["type"].GetString(), "SIGSEGV");
  EXPECT_STREQ(ex["stacktrace"]["frames"][0]["function"].GetString(), "main");
  EXPECT_TRUE(ex["stacktrace"]["frames"][0]["in_app"].GetBool());
}

TEST(RateLimitTest, ParsesSentryHeaders) {
  EXPECT_EQ(ParseRateLimits("60:error;default:organization"), 60);
  EXPECT_EQ(ParseRateLimits("30::key, 5:transaction:org"), 30);
  EXPECT_EQ(ParseRateLimits("5:transaction:org"), 0);
  EXPECT_EQ(ParseRetryAfter("17"), 17);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), 60);
}

struct DatabaseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

TEST(ExceptionChainTest, DemanglesAndPutsRootCauseFirst) {
  try {
    try {
      throw DatabaseError("connection reset");
    } catch (...) {
      std::throw_with_nested(std::logic_error("saving order 7"));
    }
  } catch (const std::exception& e) {
    std::vector<ExceptionValue> chain = UnrollException(e);
    ASSERT_EQ(chain.size(), 2u);
    EXPECT_EQ(chain[0].type,
              "crashctl::sdk::(anonymous namespace)::DatabaseError");
    EXPECT_EQ(chain[0].value, "connection reset");
    EXPECT_EQ(chain[1].type, "std::logic_error");
    EXPECT_EQ(chain[1].value, "saving order 7");
  }
}

TEST(CrashRecordTest, ParsesRecordAndDescribesSignal) {
  std::string text =
      "garbage\nCRASHCTL-CRASH 1\npid 10\ntid 11\nsignal 11\ncode 1\n"
      "addr 0x10\npc 0x1000\npc 0x2000\n"
      "module 0x400000 1 /bin/my prog\nend\n";
  CrashRecord r;
  ASSERT_TRUE(ParseCrashRecord(text, &r));
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.pid, 10);
  EXPECT_EQ(r.tid, 11);
  EXPECT_EQ(r.signal, SIGSEGV);
  EXPECT_EQ(r.address, 0x10u);
  ASSERT_EQ(r.pcs.size(), 2u);
  EXPECT_EQ(r.pcs[1], 0x2000u);
  ASSERT_EQ(r.modules.size(), 1u);
  EXPECT_EQ(r.modules[0].path, "/bin/my prog");
  EXPECT_TRUE(r.modules[0].main_executable);
  ExceptionValue e = CrashException(r);
  EXPECT_EQ(e.type, "SIGSEGV");
  EXPECT_EQ(e.value, "Segmentation fault at address 0x10");
  EXPECT_FALSE(e.handled);
  EXPECT_FALSE(ParseCrashRecord("nothing here", &r));
}

TEST(SymbolizerTest, NamesOwnFunctionWithFileAndLine) {
  std::vector<uint64_t> pcs = probe::CaptureHere();
  ASSERT_FALSE(pcs.empty());
  Symbolizer symbolizer(LoadedModules());
  std::vector<Frame> frames = symbolizer.Symbolize(pcs, false);
  const Frame& top = frames.back();
  EXPECT_NE(top.function.find("CaptureHere"), std::string::npos)
      << top.function;
  EXPECT_NE(top.filename.find("sdk_unit_test.cc"), std::string::npos);
  EXPECT_GT(top.lineno, 0);
  EXPECT_TRUE(top.in_app);
}

// Another (exited) program, built with clang: libdwfl alone finds no
// compilation unit for its addresses (no .debug_aranges); the symbolizer
// looks through the units' own ranges.
TEST(SymbolizerTest, FindsLinesInClangBuiltPrograms) {
#ifndef CRASHCTL_CLANG_PROBE
  GTEST_SKIP() << "no clang++ was found when the build was configured";
#else
  FILE* out = popen(CRASHCTL_CLANG_PROBE, "r");
  ASSERT_NE(out, nullptr);
  unsigned long bias = 0;
  unsigned long pc = 0;
  const int read = fscanf(out, "%lx %lx", &bias, &pc);
  ASSERT_EQ(pclose(out), 0);
  ASSERT_EQ(read, 2);
  Module probe;
  probe.base = bias;
  probe.path = CRASHCTL_CLANG_PROBE;
  probe.main_executable = true;
  Symbolizer symbolizer({probe});
  std::vector<Frame> frames = symbolizer.Symbolize({pc}, true);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_NE(frames[0].function.find("ProbeFunction"), std::string::npos)
      << frames[0].function;
  const std::string source =
      std::string(CRASHCTL_TEST_SOURCE_DIR) + "/tests/sdk/clang_probe.cc";
  EXPECT_EQ(frames[0].filename, source);
  EXPECT_EQ(frames[0].lineno,
            crashctl::testing::LineOf(source, "// PROBE-LINE"));
#endif
}

TEST(InAppTest, SystemLibrariesAndSdkAreNotInApp) {
  EXPECT_TRUE(IsInApp("/srv/app", true, "main"));
  EXPECT_FALSE(IsInApp("/srv/app", true, "crashctl::sdk::CaptureException"));
  EXPECT_FALSE(IsInApp("/lib/x86_64-linux-gnu/libc.so.6", false, "abort"));
  EXPECT_FALSE(IsInApp("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", false, ""));
  EXPECT_TRUE(IsInApp("/opt/app/libmine.so", false, "Mine"));
  // The SDK linked shared, even stripped (no function name).
  EXPECT_FALSE(IsInApp("/usr/local/lib/libcrashctl_sdk.so.0", false, ""));
  // Language runtimes, wherever they are installed.
  EXPECT_FALSE(IsInApp("/opt/rust/lib/libstd-8e1a2b3c4d5e6f70.so", false,
                       "std::rt::lang_start"));
  EXPECT_FALSE(IsInApp("/opt/py/lib/libpython3.11.so.1.0", false, "f"));
  EXPECT_FALSE(IsInApp("/opt/jdk/lib/server/libjvm.so", false, "f"));
  EXPECT_FALSE(IsInApp("/opt/node/lib/libnode.so.108", false, "f"));
  EXPECT_FALSE(IsInApp("/srv/app/libgcc_s.so.1", false, "f"));
  // The standard library statically linked into a Rust program.
  EXPECT_FALSE(IsInApp("/srv/app", true, "std::rt::lang_start_internal"));
  EXPECT_FALSE(IsInApp("/srv/app", true, "core::panicking::panic"));
  EXPECT_FALSE(IsInApp("/srv/app", true,
                       "<alloc::boxed::Box<F,A> as core::ops::function::"
                       "FnOnce<Args>>::call_once"));
  EXPECT_TRUE(IsInApp("/srv/app", true, "myapp::handler::store"));
  // An interpreter's executable runs the program; it is not the program.
  EXPECT_FALSE(IsInApp("/usr/local/bin/python3.11", true, "_PyEval_Eval"));
  EXPECT_FALSE(IsInApp("/opt/node/bin/node", true, "v8::internal::Foo"));
  EXPECT_TRUE(IsInApp("/srv/nodeapp", true, "main"));
  EXPECT_TRUE(IsInApp("/srv/python-worker", true, "main"));
  EXPECT_FALSE(
      IsInApp("/root/.pyenv/versions/3.11.7/lib/python3.11/lib-dynload/"
              "_ctypes.cpython-311-x86_64-linux-gnu.so",
              false, "string_at"));
  EXPECT_FALSE(
      IsInApp("/srv/venv/lib/python3.11/site-packages/numpy/core/"
              "_multiarray_umath.so",
              false, "f"));
}

TEST(DemangleTest, RustLegacyAndV0WithoutHashesAndCxx) {
  EXPECT_EQ(DemangleSymbol("_ZN4core9panicking5panic17h5d3a1b2c3d4e5f60E"),
            "core::panicking::panic");
  EXPECT_EQ(DemangleSymbol("_ZN3std2rt10lang_start28_$u7b$$u7b$closure$u7d$"
                           "$u7d$17h8a9c5f1e3a1b2c3dE"),
            "std::rt::lang_start::{{closure}}");
  EXPECT_EQ(DemangleSymbol("_ZN5myapp7handler5store17h0123456789abcdefE"),
            "myapp::handler::store");
  EXPECT_EQ(DemangleSymbol("_RNvNtCs1234abcd_5myapp7handler5store"),
            "myapp::handler::store");
  EXPECT_EQ(DemangleSymbol("_ZN8examples16WriteThroughNullEi"),
            "examples::WriteThroughNull(int)");
  EXPECT_EQ(DemangleSymbol("main"), "main");
  EXPECT_EQ(DemangleSymbol("_Rgarbage"), "_Rgarbage");
  EXPECT_EQ(DemangleSymbol(""), "");
}

TEST(EventJsonTest, SerialisesThreadsSignalAndAddresses) {
  Event event;
  event.event_id = "0123456789abcdef0123456789abcdef";
  event.platform = "native";
  ExceptionValue e;
  e.type = "SIGSEGV";
  e.value = "Segmentation fault (SEGV_MAPERR) at 0x0";
  e.mechanism = "ptrace";
  e.handled = false;
  e.signal.number = SIGSEGV;
  e.signal.code = 1;
  e.signal.name = "SIGSEGV";
  e.signal.code_name = "SEGV_MAPERR";
  e.thread_id = 42;
  Frame f;
  f.instruction_addr = 0x1010;
  f.symbol_addr = 0x1000;
  f.image_addr = 0x400;
  f.function = "store_value";
  e.frames.push_back(f);
  event.exceptions.push_back(e);
  Thread crashed;
  crashed.id = 42;
  crashed.name = "crasher";
  crashed.crashed = crashed.current = true;
  Thread other;
  other.id = 43;
  other.name = "idle";
  other.frames.push_back(f);
  event.threads = {crashed, other};
  rapidjson::Document doc;
  doc.Parse(EventToJson(event).c_str());
  ASSERT_TRUE(doc.IsObject());
  const auto& ex = doc["exception"]["values"][0];
  EXPECT_EQ(ex["thread_id"].GetUint64(), 42u);
  const auto& sig = ex["mechanism"]["meta"]["signal"];
  EXPECT_EQ(sig["number"].GetInt(), SIGSEGV);
  EXPECT_EQ(sig["code"].GetInt(), 1);
  EXPECT_STREQ(sig["code_name"].GetString(), "SEGV_MAPERR");
  const auto& frame = ex["stacktrace"]["frames"][0];
  EXPECT_STREQ(frame["symbol_addr"].GetString(), "0x1000");
  EXPECT_STREQ(frame["image_addr"].GetString(), "0x400");
  const auto& threads = doc["threads"]["values"];
  ASSERT_EQ(threads.Size(), 2u);
  EXPECT_EQ(threads[0]["id"].GetUint64(), 42u);
  EXPECT_STREQ(threads[0]["name"].GetString(), "crasher");
  EXPECT_TRUE(threads[0]["crashed"].GetBool());
  EXPECT_FALSE(threads[0].HasMember("stacktrace"));
  EXPECT_FALSE(threads[1]["crashed"].GetBool());
  EXPECT_EQ(threads[1]["stacktrace"]["frames"].Size(), 1u);
  // An event without threads has no `threads` key.
  event.threads.clear();
  doc.Parse(EventToJson(event).c_str());
  EXPECT_FALSE(doc.HasMember("threads"));
}

TEST(SpoolTest, WriteClaimFinish) {
  testing::TempDir dir("spool-test");
  Spool spool(dir.File("nested/dir"));
  ASSERT_TRUE(spool.Write("aa", "envelope-a"));
  ASSERT_TRUE(spool.Write("bb", "envelope-b"));
  EXPECT_EQ(spool.Count(), 2u);
  std::vector<Spool::Claimed> claimed = spool.Claim(10);
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_TRUE(spool.Claim(10).empty());  // already claimed by this process
  spool.Finish(claimed[0], true);
  spool.Finish(claimed[1], false);
  EXPECT_EQ(spool.Count(), 1u);
  std::vector<Spool::Claimed> again = spool.Claim(10);
  ASSERT_EQ(again.size(), 1u);
  spool.Finish(again[0], true);
  EXPECT_EQ(spool.Count(), 0u);
}

}  // namespace
}  // namespace sdk
}  // namespace crashctl
