// `crashctl run` against the real crashctl server: crashing example programs
// become groups whose title is the signal (or exception) and whose culprit is
// the faulting function; a report made while the server is down arrives once
// it is up.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/testing/server_process.h"

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
  std::vector<std::pair<std::string, std::string>> groups;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        groups = GroupList(*server, project.id);
        return groups.size() >= 3;
      },
      10))
      << server->Log();
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
