// `crashctl run` against the real crashctl server: crashing example programs
// become groups whose title is the signal (or exception) and whose culprit is
// the faulting function; programs without the SDK in C, C++, Rust, Go,
// Python and Node.js each get their type, value, top in-app frame and their
// own group; programs that recover are not reported; a report made while the
// server is down arrives once it is up.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/supervisor/tools.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace {

using testing::CommandResult;
using testing::RunCommand;
using testing::ServerProcess;

std::string Example(const std::string& name) {
  return std::string(CRASHCTL_EXAMPLES_DIR) + "/crashctl_example_" + name;
}

CommandResult RunSupervised(const std::string& dsn,
                            const std::vector<std::string>& command,
                            const std::string& spool) {
  std::vector<std::string> argv = {
      testing::CrashctlBinary(), "run", "--dsn", dsn, "--service", "e2e", "--"};
  argv.insert(argv.end(), command.begin(), command.end());
  return RunCommand(
      argv,
      {{"CRASHCTL_SPOOL_DIR", spool}, {"CRASHCTL_DELIVERY_TIMEOUT_MS", "500"}},
      60);
}

// "title -> culprit" of every group of `project`.
std::map<std::string, std::string> Groups(ServerProcess& server,
                                          int64_t project) {
  std::map<std::string, std::string> out;
  testing::HttpResult r =
      server.Get("/api/v1/groups?limit=100&project=" + std::to_string(project));
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  if (!doc.IsObject() || !doc.HasMember("items")) return out;
  for (const auto& g : doc["items"].GetArray()) {
    if (g.HasMember("title") && g["title"].IsString()) {
      out[g["title"].GetString()] =
          g.HasMember("culprit") && g["culprit"].IsString()
              ? g["culprit"].GetString()
              : "";
    }
  }
  return out;
}

TEST(RealServerTest, CrashesBecomeGroupsNamingTheFaultingFunction) {
  std::string error;
  auto server = ServerProcess::Start({}, &error);
  ASSERT_NE(server, nullptr) << error;
  ServerProcess::ProjectInfo project = server->CreateProject("e2e");
  testing::TempDir spool_dir("crashctl-run-e2e");
  const std::string& spool = spool_dir.path();

  struct Case {
    std::vector<std::string> command;
    int status;
    std::string title_prefix;
    std::string culprit_part;  // "" = no stack expected
  };
  std::vector<Case> cases = {
      {{Example("null_write")}, 139, "SIGSEGV", "examples::WriteThroughNull"},
      {{Example("abort_program")}, 134, "SIGABRT", "examples::GiveUp"},
      {{Example("uncaught_exception")},
       134,
       "std::out_of_range",
       "examples::LookUp"},
      {{Example("divide_by_zero")}, 136, "SIGFPE", "examples::Divide"},
      {{Example("no_sdk_exit"), "sigkill"}, 137, "SIGKILL", ""},
  };
  for (const Case& c : cases) {
    CommandResult r = RunSupervised(project.dsn, c.command, spool);
    EXPECT_EQ(r.exit_code, c.status) << c.command[0] << ": " << r.err;
    EXPECT_NE(r.err.find("sent"), std::string::npos) << r.err;
  }
  std::map<std::string, std::string> groups;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        groups = Groups(*server, project.id);
        return groups.size() >= cases.size();
      },
      10))
      << server->Log();
  for (const Case& c : cases) {
    bool found = false;
    for (const auto& g : groups) {
      if (g.first.rfind(c.title_prefix, 0) != 0) continue;
      found = true;
      if (!c.culprit_part.empty()) {
        EXPECT_NE(g.second.find(c.culprit_part), std::string::npos)
            << g.first << " culprit " << g.second;
      }
    }
    EXPECT_TRUE(found) << "no group titled " << c.title_prefix;
  }
}

// (title, culprit) of every group of `project`.
std::vector<std::pair<std::string, std::string>> GroupList(
    ServerProcess& server, int64_t project) {
  std::vector<std::pair<std::string, std::string>> out;
  testing::HttpResult r =
      server.Get("/api/v1/groups?limit=100&project=" + std::to_string(project));
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  if (!doc.IsObject() || !doc.HasMember("items")) return out;
  for (const auto& g : doc["items"].GetArray()) {
    out.emplace_back(g.HasMember("title") && g["title"].IsString()
                         ? g["title"].GetString()
                         : "",
                     g.HasMember("culprit") && g["culprit"].IsString()
                         ? g["culprit"].GetString()
                         : "");
  }
  return out;
}

// The project's groups once there are at least `n` (polled for 10 s; a test
// failure with the server's log when they do not come).
std::vector<std::pair<std::string, std::string>> WaitForGroups(
    ServerProcess& server, int64_t project, size_t n) {
  std::vector<std::pair<std::string, std::string>> groups;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        groups = GroupList(server, project);
        return groups.size() >= n;
      },
      10))
      << server.Log();
  return groups;
}

// A program without the SDK: traced, its group's culprit is the faulting
// function (the stack from ptrace); untraced, its crashes group by service
// and signal, so two services' do not share a group.
TEST(RealServerTest, CrashesWithoutSdkGroupByStackOrByServiceAndSignal) {
  std::string error;
  auto server = ServerProcess::Start({}, &error);
  ASSERT_NE(server, nullptr) << error;
  ServerProcess::ProjectInfo project = server->CreateProject("e2e-trace");
  testing::TempDir spool_dir("crashctl-run-e2e-trace");
  const std::string segv = std::string(CRASHCTL_TRACE_PROGRAMS_DIR) + "/segv_g";
  auto run = [&](const std::string& service, bool trace) {
    std::vector<std::string> argv = {testing::CrashctlBinary(),
                                     "run",
                                     "--dsn",
                                     project.dsn,
                                     "--service",
                                     service};
    if (!trace) argv.push_back("--no-trace");
    argv.push_back("--");
    argv.push_back(segv);
    CommandResult r = RunCommand(argv,
                                 {{"CRASHCTL_SPOOL_DIR", spool_dir.path()},
                                  {"CRASHCTL_DELIVERY_TIMEOUT_MS", "500"}},
                                 60);
    EXPECT_EQ(r.exit_code, 139) << r.err;
  };
  run("traced", true);
  run("traced", true);  // the same crash again: the same group
  run("svc-a", false);
  run("svc-b", false);
  const std::vector<std::pair<std::string, std::string>> groups =
      WaitForGroups(*server, project.id, 3);
  ASSERT_GE(groups.size(), 3u);
  EXPECT_EQ(groups.size(), 3u);
  int by_stack = 0;
  for (const auto& g : groups) {
    EXPECT_EQ(g.first.rfind("SIGSEGV", 0), 0u) << g.first;
    if (g.second.find("store_value") != std::string::npos) ++by_stack;
  }
  EXPECT_EQ(by_stack, 1) << "the traced crash's culprit";
}

TEST(RealServerTest, ReportMadeWhileServerIsDownArrivesAfterItStarts) {
  testing::TempDir spool_dir("crashctl-run-e2e-spool");
  const std::string& spool = spool_dir.path();
  // Both servers use this data dir; it outlives them.
  testing::TempDir data_dir("crashctl-run-e2e-data");
  ServerProcess::Options options;
  options.port = testing::FreePort();
  options.data_dir = data_dir.path();
  std::string error;
  std::string dsn;
  int64_t project_id = 0;
  {
    // Create the project, then take the server down.
    auto server = ServerProcess::Start(options, &error);
    ASSERT_NE(server, nullptr) << error;
    ServerProcess::ProjectInfo project = server->CreateProject("spool");
    dsn = project.dsn;
    project_id = project.id;
    server->Stop(SIGTERM);
  }
  CommandResult r = RunSupervised(dsn, {Example("null_write")}, spool);
  EXPECT_EQ(r.exit_code, 139);
  EXPECT_NE(r.err.find("spooled"), std::string::npos) << r.err;

  auto server = ServerProcess::Start(options, &error);
  ASSERT_NE(server, nullptr) << error;
  // The next run delivers it (its own command exits cleanly).
  r = RunSupervised(dsn, {Example("no_sdk_exit"), "exit", "0"}, spool);
  EXPECT_EQ(r.exit_code, 0);
  std::map<std::string, std::string> groups;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        groups = Groups(*server, project_id);
        return !groups.empty();
      },
      10))
      << server->Log();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups.begin()->first.rfind("SIGSEGV", 0), 0u);
}

}  // namespace
}  // namespace crashctl

namespace crashctl {
namespace {

using run_test::FindTool;
using run_test::Shell;

std::string Program(const std::string& name) {
  return std::string(CRASHCTL_TRACE_PROGRAMS_DIR) + "/" + name;
}

std::string Source(const std::string& name) {
  return std::string(CRASHCTL_TRACE_SOURCES_DIR) + "/" + name;
}

using testing::LineOf;

// True when `out` exists and is newer than every one of `sources`.
bool UpToDate(const std::string& out, const std::vector<std::string>& sources) {
  struct stat o;
  if (stat(out.c_str(), &o) != 0) return false;
  for (const std::string& src : sources) {
    struct stat st;
    if (stat(src.c_str(), &st) != 0 || st.st_mtime >= o.st_mtime) return false;
  }
  return true;
}

// The Go and Rust subjects, compiled when first asked for, into
// CRASHCTL_TEST_CACHE_DIR (the build tree), so that the test processes ctest
// starts (one per test) reuse them; each is built under a temporary name and
// renamed into place, so that parallel tests never see half a binary. ""
// (with the reason in *_why) when the toolchain is missing or fails.
class Toolchains {
 public:
  static Toolchains& Get() {
    static Toolchains t;
    return t;
  }
  const std::string& go_crash() { return Go().crash; }
  const std::string& go_recover() { return Go().recover; }
  const std::string& go_why() { return Go().why; }
  const std::string& rust_panic() { return Rust().panic; }
  const std::string& rust_ffi_segv() { return Rust().ffi; }
  const std::string& rust_why() { return Rust().why; }

 private:
  struct GoBuilt {
    bool tried = false;
    std::string crash, recover, why;
  };
  struct RustBuilt {
    bool tried = false;
    std::string panic, ffi, why;
  };

  Toolchains() {
    cache_ = CRASHCTL_TEST_CACHE_DIR;
    mkdir(cache_.c_str(), 0755);
  }

  // A unique temporary name next to `out`.
  std::string TempName(const std::string& out) {
    return out + ".tmp" + std::to_string(getpid());
  }

  GoBuilt& Go() {
    if (go_.tried) return go_;
    go_.tried = true;
    std::string go = FindTool({"go", "/usr/bin/go", "/usr/lib/go/bin/go"});
    if (go.empty()) {
      go_.why = "no go toolchain (Debian: golang-go, scripts/install-deps.sh)";
      return go_;
    }
    const std::string d = work_.path();
    const std::string env = "cd " + d + " && HOME=" + d + " GOCACHE=" + d +
                            "/gocache GOFLAGS= GO111MODULE=off ";
    for (const char* name : {"go_crash", "go_recover"}) {
      const std::string out = cache_ + "/" + name;
      const std::string src = Source(std::string(name) + ".go");
      if (!UpToDate(out, {src})) {
        const std::string tmp = TempName(out);
        if (!Shell(env + go + " build -o " + tmp + " " + src) ||
            rename(tmp.c_str(), out.c_str()) != 0) {
          go_.why = std::string("go build of ") + name + " failed";
          return go_;
        }
      }
    }
    go_.crash = cache_ + "/go_crash";
    go_.recover = cache_ + "/go_recover";
    return go_;
  }

  RustBuilt& Rust() {
    if (rust_.tried) return rust_;
    rust_.tried = true;
    std::string rustc =
        FindTool({"rustc", "/usr/bin/rustc", "/root/.cargo/bin/rustc"});
    std::string cc = FindTool({"cc", "gcc", "clang"});
    if (rustc.empty() || cc.empty()) {
      rust_.why = "no rustc or cc (Debian: rustc, scripts/install-deps.sh)";
      return rust_;
    }
    const std::string d = work_.path();
    const std::string panic = cache_ + "/rust_panic";
    if (!UpToDate(panic, {Source("rust_panic.rs")})) {
      const std::string tmp = TempName(panic);
      if (!Shell(rustc + " -g -o " + tmp + " " + Source("rust_panic.rs") +
                 " 2>/dev/null") ||
          rename(tmp.c_str(), panic.c_str()) != 0) {
        rust_.why = "rustc failed on rust_panic.rs";
        return rust_;
      }
    }
    const std::string ffi = cache_ + "/rust_ffi_segv";
    if (!UpToDate(ffi,
                  {Source("rust_ffi_segv.rs"), Source("rust_ffi_segv_c.c")})) {
      const std::string tmp = TempName(ffi);
      if (!Shell(cc + " -O1 -g -c " + Source("rust_ffi_segv_c.c") + " -o " + d +
                 "/c.o && ar rcs " + d + "/libffic.a " + d + "/c.o") ||
          !Shell(rustc + " -O -g -L " + d + " -l static=ffic " +
                 Source("rust_ffi_segv.rs") + " -o " + tmp + " 2>/dev/null") ||
          rename(tmp.c_str(), ffi.c_str()) != 0) {
        rust_.why = "rustc failed on rust_ffi_segv.rs";
        return rust_;
      }
    }
    rust_.panic = panic;
    rust_.ffi = ffi;
    return rust_;
  }

  std::string cache_;
  testing::TempDir work_{"crashctl-run-e2e-toolchains"};
  GoBuilt go_;
  RustBuilt rust_;
};

CommandResult RunAs(const std::string& dsn, const std::string& service,
                    const std::vector<std::string>& command,
                    const std::string& spool,
                    const std::map<std::string, std::string>& extra_env = {}) {
  std::vector<std::string> argv = {testing::CrashctlBinary(),
                                   "run",
                                   "--dsn",
                                   dsn,
                                   "--service",
                                   service,
                                   "--"};
  argv.insert(argv.end(), command.begin(), command.end());
  std::map<std::string, std::string> env = {
      {"CRASHCTL_SPOOL_DIR", spool}, {"CRASHCTL_DELIVERY_TIMEOUT_MS", "2000"}};
  for (const auto& kv : extra_env) env[kv.first] = kv.second;
  return RunCommand(argv, env, 60);
}

// service -> the group id and the payload of its latest event.
struct GroupOfService {
  int64_t id = 0;
  std::string title;
  rapidjson::Document payload;
};

std::map<std::string, GroupOfService> GroupsByService(ServerProcess& server,
                                                      int64_t project) {
  std::map<std::string, GroupOfService> out;
  testing::HttpResult r =
      server.Get("/api/v1/groups?limit=100&project=" + std::to_string(project));
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  if (!doc.IsObject() || !doc.HasMember("items")) return out;
  for (const auto& g : doc["items"].GetArray()) {
    if (!g.HasMember("service") || !g["service"].IsString()) continue;
    GroupOfService& s = out[g["service"].GetString()];
    s.id = g["id"].GetInt64();
    s.title = g["title"].IsString() ? g["title"].GetString() : "";
    testing::HttpResult events = server.Get(
        "/api/v1/groups/" + std::to_string(s.id) + "/events?limit=1");
    rapidjson::Document list;
    list.Parse(events.body.c_str());
    if (!list.IsObject() || !list.HasMember("items") || list["items"].Empty()) {
      continue;
    }
    testing::HttpResult event =
        server.Get(std::string("/api/v1/events/") +
                   list["items"][0]["event_id"].GetString());
    rapidjson::Document full;
    full.Parse(event.body.c_str());
    if (full.IsObject() && full.HasMember("payload") &&
        full["payload"].IsObject()) {
      s.payload.CopyFrom(full["payload"], s.payload.GetAllocator());
    }
  }
  return out;
}

// The innermost in-app frame of the raised (last) exception, or null.
const rapidjson::Value* TopInAppFrame(const rapidjson::Value& payload) {
  if (!payload.IsObject() || !payload.HasMember("exception")) return nullptr;
  const auto& values = payload["exception"]["values"];
  if (values.Empty()) return nullptr;
  const auto& e = values[values.Size() - 1];
  if (!e.HasMember("stacktrace")) return nullptr;
  const auto& frames = e["stacktrace"]["frames"];
  for (rapidjson::SizeType i = frames.Size(); i-- > 0;) {
    if (frames[i].HasMember("in_app") && frames[i]["in_app"].GetBool()) {
      return &frames[i];
    }
  }
  return nullptr;
}

std::string Str(const rapidjson::Value& v, const char* key) {
  return v.IsObject() && v.HasMember(key) && v[key].IsString()
             ? v[key].GetString()
             : "";
}

// Programs without the SDK, one per language and kind of death: each event
// has its type, value, platform and top in-app frame (function, and
// file:line where debug information or the runtime's output has it), each
// crash is a group of its own, and crashctl exits with the child's status.
// One server and project for all of them (so that a crash grouped with
// another's would show); a case whose toolchain is missing is skipped.
enum class Subject {
  kBuilt,      // Program(args[0])
  kGoCrash,    // compiled at test time
  kRustPanic,  // compiled at test time
  kRustFfi,    // compiled at test time
  kPython,     // python3 Source(args[0])
  kNode,       // node Source(args[0])
};

struct LanguageCase {
  std::string service;  // also the test's name
  Subject subject;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  int status;
  std::string platform, type, value_prefix, function_part;
  std::string file;    // source file of the top frame; "" = no file:line
  std::string marker;  // its line's marker
};

std::vector<LanguageCase> LanguageCases() {
  return {
      {"c_segv_g",
       Subject::kBuilt,
       {"segv_g"},
       {},
       139,
       "native",
       "SIGSEGV",
       "Segmentation fault (SEGV_MAPERR) at 0x0",
       "store_value",
       "segv_deep.c",
       "// FAULT-LINE"},
      {"c_segv_nog",
       Subject::kBuilt,
       {"segv_nog"},
       {},
       139,
       "native",
       "SIGSEGV",
       "Segmentation fault (SEGV_MAPERR) at 0x0",
       "store_value",
       "",
       ""},
      {"c_assert",
       Subject::kBuilt,
       {"assert_fail"},
       {},
       134,
       "native",
       "Assertion failed",
       "items > 0 && \"need at least one item\"",
       "check_items",
       "assert_fail.c",
       "// FAULT-LINE"},
      {"cpp_uncaught_exception",
       Subject::kBuilt,
       {"cpp_throw"},
       {},
       134,
       "native",
       "std::runtime_error",
       "config file missing: app.yaml",
       "load_config",
       "cpp_throw.cc",
       "// THROW-LINE"},
      {"rust_panic",
       Subject::kRustPanic,
       {},
       {{"RUST_BACKTRACE", "1"}},
       101,
       "native",
       "panic",
       "port must be a number",
       "rust_panic::parse_port",
       "rust_panic.rs",
       "// PANIC-LINE"},
      {"rust_ffi_segv",
       Subject::kRustFfi,
       {},
       {},
       139,
       "native",
       "SIGSEGV",
       "Segmentation fault (SEGV_MAPERR) at 0x0",
       "c_store",
       "rust_ffi_segv_c.c",
       "// FAULT-LINE"},
      {"go_index",
       Subject::kGoCrash,
       {"index"},
       {},
       2,
       "go",
       "runtime.Error",
       "index out of range [6] with length 3",
       "main.pick",
       "go_crash.go",
       "// INDEX-LINE"},
      {"go_nil_map",
       Subject::kGoCrash,
       {"nilmap"},
       {},
       2,
       "go",
       "runtime.Error",
       "assignment to entry in nil map",
       "main.record",
       "go_crash.go",
       "// NILMAP-LINE"},
      {"python",
       Subject::kPython,
       {"py_crash.py"},
       {},
       1,
       "python",
       "ValueError",
       "invalid literal for int() with base 10: 'abc'",
       "parse_count",
       "py_crash.py",
       "# PARSE-LINE"},
      {"node",
       Subject::kNode,
       {"node_crash.js"},
       {},
       1,
       "node",
       "TypeError",
       "Cannot read properties of undefined",
       "readName",
       "node_crash.js",
       "// READ-LINE"},
  };
}

class LanguageCrashTest : public ::testing::TestWithParam<LanguageCase> {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    server_ = ServerProcess::Start({}, &error).release();
    if (server_ == nullptr) {
      std::fprintf(stderr, "cannot start the server: %s\n", error.c_str());
      return;
    }
    project_ =
        new ServerProcess::ProjectInfo(server_->CreateProject("e2e-languages"));
    spool_ = new testing::TempDir("crashctl-run-e2e-languages");
  }
  static void TearDownTestSuite() {
    delete spool_;
    delete project_;
    delete server_;  // stops it
    spool_ = nullptr;
    project_ = nullptr;
    server_ = nullptr;
  }

  static ServerProcess* server_;
  static ServerProcess::ProjectInfo* project_;
  static testing::TempDir* spool_;

 public:
  // The command for `c`, or {} with *why set when it cannot run here.
  static std::vector<std::string> Command(const LanguageCase& c,
                                          std::string* why) {
    Toolchains& tc = Toolchains::Get();
    std::vector<std::string> cmd;
    switch (c.subject) {
      case Subject::kBuilt:
        cmd = {Program(c.args[0])};
        break;
      case Subject::kGoCrash:
        if (tc.go_crash().empty()) *why = tc.go_why();
        cmd = {tc.go_crash()};
        cmd.insert(cmd.end(), c.args.begin(), c.args.end());
        break;
      case Subject::kRustPanic:
        if (tc.rust_panic().empty()) *why = tc.rust_why();
        cmd = {tc.rust_panic()};
        break;
      case Subject::kRustFfi:
        if (tc.rust_ffi_segv().empty()) *why = tc.rust_why();
        cmd = {tc.rust_ffi_segv()};
        break;
      case Subject::kPython: {
        std::string python = FindTool({"python3"});
        if (python.empty()) *why = "no python3";
        cmd = {python, Source(c.args[0])};
        break;
      }
      case Subject::kNode: {
        std::string node = FindTool({"node", "nodejs"});
        if (node.empty()) *why = "no node (Debian: nodejs)";
        cmd = {node, Source(c.args[0])};
        break;
      }
    }
    return why->empty() ? cmd : std::vector<std::string>{};
  }
};

ServerProcess* LanguageCrashTest::server_ = nullptr;
ServerProcess::ProjectInfo* LanguageCrashTest::project_ = nullptr;
testing::TempDir* LanguageCrashTest::spool_ = nullptr;

TEST_P(LanguageCrashTest, HasItsTypeValueTopFrameAndOwnGroup) {
  const LanguageCase& c = GetParam();
  std::string why;
  std::vector<std::string> command = Command(c, &why);
  if (!why.empty()) GTEST_SKIP() << why;
  ASSERT_NE(server_, nullptr);
  CommandResult r =
      RunAs(project_->dsn, c.service, command, spool_->path(), c.env);
  EXPECT_EQ(r.exit_code, c.status) << r.err;
  EXPECT_NE(r.err.find("sent"), std::string::npos) << r.err;

  GroupOfService group;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        std::map<std::string, GroupOfService> groups =
            GroupsByService(*server_, project_->id);
        auto it = groups.find(c.service);
        if (it == groups.end() || !it->second.payload.IsObject()) return false;
        group.id = it->second.id;
        group.title = it->second.title;
        group.payload.CopyFrom(it->second.payload,
                               group.payload.GetAllocator());
        return true;
      },
      10))
      << "no group whose latest event is this one's\n"
      << server_->Log();
  // Its own group: no other event (of the cases before) is in it.
  testing::HttpResult g =
      server_->Get("/api/v1/groups/" + std::to_string(group.id));
  rapidjson::Document gdoc;
  gdoc.Parse(g.body.c_str());
  ASSERT_TRUE(gdoc.IsObject() && gdoc.HasMember("count")) << g.body;
  EXPECT_EQ(gdoc["count"].GetInt64(), 1) << group.title;

  const rapidjson::Value& payload = group.payload;
  EXPECT_EQ(Str(payload, "platform"), c.platform);
  const auto& values = payload["exception"]["values"];
  ASSERT_FALSE(values.Empty());
  const auto& e = values[values.Size() - 1];
  EXPECT_EQ(Str(e, "type"), c.type);
  EXPECT_EQ(Str(e, "value").rfind(c.value_prefix, 0), 0u) << Str(e, "value");
  EXPECT_FALSE(payload.HasMember("fingerprint")) << "grouped by its stack";
  const rapidjson::Value* top = TopInAppFrame(payload);
  ASSERT_NE(top, nullptr) << "no in-app frame";
  EXPECT_NE(Str(*top, "function").find(c.function_part), std::string::npos)
      << Str(*top, "function");
  if (c.file.empty()) {
    EXPECT_FALSE(top->HasMember("lineno"));
    return;
  }
  const std::string file = Str(*top, "filename");
  ASSERT_GE(file.size(), c.file.size()) << file;
  EXPECT_EQ(file.substr(file.size() - c.file.size()), c.file);
  ASSERT_TRUE(top->HasMember("lineno"));
  EXPECT_EQ((*top)["lineno"].GetInt(), LineOf(Source(c.file), c.marker));
}

INSTANTIATE_TEST_SUITE_P(
    RealServer, LanguageCrashTest, ::testing::ValuesIn(LanguageCases()),
    [](const ::testing::TestParamInfo<LanguageCase>& info) {
      return info.param.service;
    });

// All of the cases' crashes in one project: as many groups as crashes,
// each with one event (under ctest each case above runs in a process and
// with a server of its own).
TEST(RealServerTest, EveryLanguagesCrashIsAGroupOfItsOwn) {
  std::string error;
  auto server = ServerProcess::Start({}, &error);
  ASSERT_NE(server, nullptr) << error;
  ServerProcess::ProjectInfo project = server->CreateProject("e2e-distinct");
  testing::TempDir spool_dir("crashctl-run-e2e-distinct");
  std::vector<std::string> ran;
  for (const LanguageCase& c : LanguageCases()) {
    std::string why;
    std::vector<std::string> command = LanguageCrashTest::Command(c, &why);
    if (!why.empty()) continue;  // its own test says why
    CommandResult r =
        RunAs(project.dsn, c.service, command, spool_dir.path(), c.env);
    EXPECT_EQ(r.exit_code, c.status) << c.service << ": " << r.err;
    ran.push_back(c.service);
  }
  if (ran.empty()) GTEST_SKIP() << "no subject can run here";
  std::map<std::string, GroupOfService> groups;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        groups = GroupsByService(*server, project.id);
        return groups.size() >= ran.size();
      },
      20))
      << server->Log();
  EXPECT_EQ(groups.size(), ran.size());
  for (const std::string& service : ran) {
    auto it = groups.find(service);
    ASSERT_NE(it, groups.end()) << service << " was grouped with another";
    testing::HttpResult g =
        server->Get("/api/v1/groups/" + std::to_string(it->second.id));
    rapidjson::Document doc;
    doc.Parse(g.body.c_str());
    ASSERT_TRUE(doc.IsObject() && doc.HasMember("count")) << g.body;
    EXPECT_EQ(doc["count"].GetInt64(), 1)
        << service << ": " << it->second.title;
  }
}

// The case: a Python script dying of int('abc') and a Go program
// dying of an index out of range, under one service, were one group
// "ExitCode: exited with status 2"; now each is grouped by its traceback.
TEST(RealServerTest, PythonAndGoExitsOfOneServiceAreTwoGroups) {
  Toolchains& tc = Toolchains::Get();
  const std::string python = FindTool({"python3"});
  if (python.empty()) GTEST_SKIP() << "no python3";
  if (tc.go_crash().empty()) GTEST_SKIP() << tc.go_why();
  std::string error;
  auto server = ServerProcess::Start({}, &error);
  ASSERT_NE(server, nullptr) << error;
  ServerProcess::ProjectInfo project = server->CreateProject("e2e-shared");
  testing::TempDir spool_dir("crashctl-run-e2e-shared");
  CommandResult r = RunAs(project.dsn, "shared",
                          {python, Source("py_crash.py")}, spool_dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  r = RunAs(project.dsn, "shared", {tc.go_crash(), "index"}, spool_dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const std::vector<std::pair<std::string, std::string>> groups =
      WaitForGroups(*server, project.id, 2);
  ASSERT_GE(groups.size(), 2u);
  ASSERT_EQ(groups.size(), 2u);
  std::vector<std::string> titles = {groups[0].first, groups[1].first};
  std::sort(titles.begin(), titles.end());
  EXPECT_EQ(titles[0].rfind("ValueError", 0), 0u) << titles[0];
  EXPECT_EQ(titles[1].rfind("runtime.Error", 0), 0u) << titles[1];
}

// A child under a storm of handled signals keeps working, a C program whose
// SIGSEGV handler recovers and a Go program recovering from a nil
// dereference exit 0: none is reported (the one crash run last is the only
// group).
TEST(RealServerTest, ProgramsThatRecoverAreNotReported) {
  Toolchains& tc = Toolchains::Get();
  std::string error;
  auto server = ServerProcess::Start({}, &error);
  ASSERT_NE(server, nullptr) << error;
  ServerProcess::ProjectInfo project = server->CreateProject("e2e-recover");
  testing::TempDir spool_dir("crashctl-run-e2e-recover");
  CommandResult r =
      RunAs(project.dsn, "storm", {Program("signal_storm"), "10000", "1"},
            spool_dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("work ok"), std::string::npos) << r.out;
  r = RunAs(project.dsn, "recover-segv", {Program("recover_segv")},
            spool_dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("recovered 3 times"), std::string::npos) << r.out;
  if (!tc.go_recover().empty()) {
    r = RunAs(project.dsn, "go-recover", {tc.go_recover()}, spool_dir.path());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("recovered: runtime error"), std::string::npos)
        << r.out;
  } else {
    std::printf("[ SKIPPED  ] go-recover: %s\n", tc.go_why().c_str());
  }
  // The sentinel: once its group is there, anything sent before is too.
  r = RunAs(project.dsn, "sentinel", {Program("segv_g")}, spool_dir.path());
  EXPECT_EQ(r.exit_code, 139) << r.err;
  const std::vector<std::pair<std::string, std::string>> groups =
      WaitForGroups(*server, project.id, 1);
  ASSERT_GE(groups.size(), 1u);
  ASSERT_EQ(groups.size(), 1u) << groups[1].first;
  EXPECT_NE(groups[0].second.find("store_value"), std::string::npos);
}

}  // namespace
}  // namespace crashctl
