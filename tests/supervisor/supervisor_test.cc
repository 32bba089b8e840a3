// `crashctl run` end to end: real crashing programs under the real
// supervisor (the crashctl binary when it dispatches `run`, else
// run_driver), reporting to a fake Sentry endpoint.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "crashctl/sdk/support/spool.h"
#include "run_helpers.h"
#include "tests/sdk/fake_sentry.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace {

using crashctl::testing::FakeSentry;
using crashctl::testing::LineOf;
using crashctl::testing::TempDir;
using run_test::Example;
using run_test::ExitStatus;
using run_test::HasLogLine;
using run_test::Outcome;
using run_test::Process;
using run_test::ReadAll;
using run_test::RunSupervised;
using run_test::Start;
using run_test::Supervisor;
using run_test::TopInApp;
using run_test::Wait;
using std::chrono::milliseconds;
using std::chrono::seconds;

class SupervisorTest : public ::testing::Test {
 protected:
  std::vector<std::string> Env() const {
    return {"CRASHCTL_SPOOL_DIR=" + spool_,
            "CRASHCTL_DELIVERY_TIMEOUT_MS=5000"};
  }
  // Runs `command` under the supervisor with the fake endpoint's DSN.
  Outcome Run(const std::vector<std::string>& command) {
    std::vector<std::string> args = {"--dsn", server_.Dsn(), "--service", "svc",
                                     "--"};
    args.insert(args.end(), command.begin(), command.end());
    return RunSupervised(args, Env());
  }
  // The single event the run reported.
  rapidjson::Document OneEvent() {
    rapidjson::Document doc;
    EXPECT_TRUE(server_.WaitFor(1, seconds(5)));
    std::vector<testing::ReceivedEnvelope> got = server_.Received();
    EXPECT_EQ(got.size(), 1u);
    if (!got.empty()) doc.Parse(got[0].event_json.c_str());
    return doc;
  }

  FakeSentry server_;
  TempDir spool_dir_{"run-test"};
  std::string spool_ = spool_dir_.path();
};

void ExpectCrash(const rapidjson::Document& doc, const char* type,
                 const char* signal, int exit_code) {
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["level"].GetString(), "fatal");
  EXPECT_STREQ(doc["exception"]["values"][0]["type"].GetString(), type);
  EXPECT_STREQ(doc["tags"]["service"].GetString(), "svc");
  EXPECT_STREQ(doc["tags"]["signal"].GetString(), signal);
  EXPECT_EQ(std::string(doc["tags"]["exit_code"].GetString()),
            std::to_string(exit_code));
  EXPECT_TRUE(doc.HasMember("server_name"));
  EXPECT_TRUE(doc["extra"].HasMember("run_time_seconds"));
}

void ExpectTopInApp(const rapidjson::Document& doc, const char* function,
                    const char* source_file) {
  const rapidjson::Value* top = TopInApp(doc["exception"]["values"][0]);
  ASSERT_NE(top, nullptr) << "no in-app frame";
  EXPECT_STREQ((*top)["function"].GetString(), function);
  std::string source =
      std::string(CRASHCTL_TEST_SOURCE_DIR) + "/sdk/examples/" + source_file;
  EXPECT_EQ((*top)["lineno"].GetInt(), LineOf(source, "// FAULT-LINE"));
}

TEST_F(SupervisorTest, NullPointerWrite) {
  Outcome o = Run({Example("null_write")});
  EXPECT_EQ(ExitStatus(o), 128 + SIGSEGV) << o.err;
  // Output is copied through.
  EXPECT_NE(o.out.find("null_write: starting\nwriting 42\n"),
            std::string::npos);
  EXPECT_NE(o.err.find("null_write: about to write through null"),
            std::string::npos);
  rapidjson::Document doc = OneEvent();
  ExpectCrash(doc, "SIGSEGV", "SIGSEGV", 139);
  EXPECT_STREQ(doc["exception"]["values"][0]["value"].GetString(),
               "Segmentation fault at address 0x0");
  ExpectTopInApp(doc, "examples::WriteThroughNull(int)", "null_write.cc");
  EXPECT_TRUE(HasLogLine(doc, "writing 42"));
  EXPECT_TRUE(HasLogLine(doc, "null_write: about to write through null"));
}

TEST_F(SupervisorTest, Abort) {
  Outcome o = Run({Example("abort_program")});
  EXPECT_EQ(ExitStatus(o), 128 + SIGABRT);
  rapidjson::Document doc = OneEvent();
  ExpectCrash(doc, "SIGABRT", "SIGABRT", 134);
  ExpectTopInApp(doc, "examples::GiveUp(char const*)", "abort_program.cc");
  EXPECT_TRUE(HasLogLine(doc, "giving up: invariant broken"));
}

TEST_F(SupervisorTest, UncaughtException) {
  Outcome o = Run({Example("uncaught_exception")});
  EXPECT_EQ(ExitStatus(o), 128 + SIGABRT);
  rapidjson::Document doc = OneEvent();
  ExpectCrash(doc, "std::out_of_range", "SIGABRT", 134);
  EXPECT_STREQ(doc["exception"]["values"][0]["value"].GetString(),
               "index 7 is out of range");
  ExpectTopInApp(doc, "examples::LookUp(int)", "uncaught_exception.cc");
  EXPECT_TRUE(HasLogLine(doc, "looking up 7"));
}

TEST_F(SupervisorTest, DivisionByZero) {
  Outcome o = Run({Example("divide_by_zero")});
  EXPECT_EQ(ExitStatus(o), 128 + SIGFPE);
  rapidjson::Document doc = OneEvent();
  ExpectCrash(doc, "SIGFPE", "SIGFPE", 136);
  ExpectTopInApp(doc, "examples::Divide(int)", "divide_by_zero.cc");
  EXPECT_TRUE(HasLogLine(doc, "dividing 10"));
}

TEST_F(SupervisorTest, ProgramWithoutSdkKilledBySegv) {
  Outcome o = Run({Example("no_sdk_segv")});
  EXPECT_EQ(ExitStatus(o), 139);
  rapidjson::Document doc = OneEvent();
  ExpectCrash(doc, "SIGSEGV", "SIGSEGV", 139);
  EXPECT_TRUE(HasLogLine(doc, "no_sdk_segv: line 2"));
  EXPECT_TRUE(HasLogLine(doc, "no_sdk_segv: crashing now"));
  // The stack, taken from outside with ptrace -- unless the example is built
  // with ASan, whose leak checker needs ptrace itself (not traced then).
  if (doc["tags"]["stack"] == "unavailable") {
    EXPECT_NE(std::string(doc["extra"]["trace_detached"].GetString())
                  .find("(LeakSanitizer)"),
              std::string::npos);
    return;
  }
  EXPECT_STREQ(doc["tags"]["stack"].GetString(), "ptrace");
  const rapidjson::Value* top = TopInApp(doc["exception"]["values"][0]);
  ASSERT_NE(top, nullptr);
  EXPECT_STREQ((*top)["function"].GetString(), "main");
}

TEST_F(SupervisorTest, ProgramWithoutSdkKilledBySigkill) {
  Outcome o = Run({Example("no_sdk_exit"), "sigkill"});
  EXPECT_EQ(ExitStatus(o), 137);
  rapidjson::Document doc = OneEvent();
  ASSERT_TRUE(doc.IsObject());
  std::string type = doc["exception"]["values"][0]["type"].GetString();
  // OOMKilled only if the cgroup counted an OOM kill meanwhile.
  EXPECT_TRUE(type == "SIGKILL" || type == "OOMKilled") << type;
  if (type == "SIGKILL") {
    EXPECT_STREQ(doc["exception"]["values"][0]["value"].GetString(),
                 "killed (possible OOM)");
  }
  EXPECT_STREQ(doc["tags"]["exit_code"].GetString(), "137");
  EXPECT_TRUE(HasLogLine(doc, "no_sdk_exit: about to be killed"));
}

TEST_F(SupervisorTest, NonZeroExitIsReportedAndPropagated) {
  Outcome o = Run({Example("no_sdk_exit"), "exit", "3"});
  EXPECT_EQ(ExitStatus(o), 3);
  rapidjson::Document doc = OneEvent();
  ExpectCrash(doc, "ExitCode", "none", 3);
  EXPECT_STREQ(doc["exception"]["values"][0]["value"].GetString(),
               "exited with status 3");
}

TEST_F(SupervisorTest, KeepsTheLastHundredLines) {
  Outcome o = Run({Example("no_sdk_exit"), "spam", "150"});
  EXPECT_EQ(ExitStatus(o), 1);
  rapidjson::Document doc = OneEvent();
  ASSERT_TRUE(doc.IsObject());
  const auto& lines = doc["extra"]["log_lines"];
  ASSERT_EQ(lines.Size(), 100u);
  // stdout and stderr are separate pipes, so where the single stderr line
  // lands among the stdout lines may vary: check the stdout lines only.
  std::vector<std::string> numbered;
  for (const auto& l : lines.GetArray()) {
    if (std::string(l.GetString()).rfind("line ", 0) == 0) {
      numbered.push_back(l.GetString());
    }
  }
  ASSERT_GE(numbered.size(), 99u);
  EXPECT_EQ(numbered.back(), "line 150");
  EXPECT_EQ(numbered[numbered.size() - 99], "line 52");
}

TEST_F(SupervisorTest, CleanExitReportsNothing) {
  Outcome o = Run({Example("no_sdk_exit"), "exit", "0"});
  EXPECT_EQ(ExitStatus(o), 0);
  EXPECT_NE(o.out.find("no_sdk_exit: mode exit"), std::string::npos);
  EXPECT_EQ(server_.Requests(), 0u);
  EXPECT_EQ(sdk::Spool(spool_).Count(), 0u);
}

TEST_F(SupervisorTest, ForwardsSigtermAndExitsWithTheChildsStatus) {
  std::vector<std::string> argv = Supervisor();
  for (const char* a : {"--dsn", "", "--"}) argv.push_back(a);
  argv[argv.size() - 2] = server_.Dsn();
  argv.push_back(Example("no_sdk_exit"));
  argv.push_back("sleep");
  argv.push_back("20");
  Process p = Start(argv, Env());
  auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (ReadAll(p.out_path).find("ready") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_NE(ReadAll(p.out_path).find("ready"), std::string::npos);
  kill(p.pid, SIGTERM);
  int status = Wait(p, seconds(5));
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
  EXPECT_EQ(server_.Requests(), 0u);  // a requested stop is not a crash
}

TEST(SupervisorUsageTest, BadUsageExitsTwoWithOneLine) {
  for (std::vector<std::string> args : {std::vector<std::string>{},
                                        {"--bogus", "--", "true"},
                                        {"--dsn", "not-a-dsn", "--", "true"},
                                        {"--dsn"}}) {
    Outcome o = RunSupervised(args, {});
    EXPECT_EQ(ExitStatus(o), 2) << o.err;
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
    EXPECT_EQ(o.err.rfind("crashctl run: ", 0), 0u) << o.err;
  }
}

TEST(SupervisorSpoolTest, ReportMadeWhileServerIsDownArrivesLater) {
  TempDir spool_dir("run-test");
  const std::string& spool = spool_dir.path();
  int port = 0;
  {
    FakeSentry probe;
    port = probe.port();
  }
  std::string dsn = "http://0123456789abcdef0123456789abcdef@127.0.0.1:" +
                    std::to_string(port) + "/1";
  std::vector<std::string> env = {"CRASHCTL_SPOOL_DIR=" + spool,
                                  "CRASHCTL_DELIVERY_TIMEOUT_MS=300"};
  Outcome o = RunSupervised({"--dsn", dsn, "--", Example("no_sdk_segv")}, env);
  EXPECT_EQ(ExitStatus(o), 139);
  EXPECT_NE(o.err.find("spooled"), std::string::npos) << o.err;
  EXPECT_EQ(sdk::Spool(spool).Count(), 1u);

  FakeSentry server(port);
  // The next run (which itself exits cleanly) delivers the spooled report.
  o = RunSupervised({"--dsn", dsn, "--", Example("no_sdk_exit"), "exit", "0"},
                    env);
  EXPECT_EQ(ExitStatus(o), 0);
  ASSERT_TRUE(server.WaitFor(1, seconds(5)));
  rapidjson::Document doc;
  doc.Parse(server.Received()[0].event_json.c_str());
  EXPECT_STREQ(doc["exception"]["values"][0]["type"].GetString(), "SIGSEGV");
  EXPECT_EQ(sdk::Spool(spool).Count(), 0u);
}

}  // namespace
}  // namespace crashctl
