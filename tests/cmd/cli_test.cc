// The crashctl command line, run as a user would run it.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>

#include "tests/testing/server_process.h"

namespace crashctl {
namespace cmd {
namespace {

using testing::CommandResult;
using testing::CrashctlBinary;
using testing::RunCommand;
using testing::TempDir;

TEST(CliTest, VersionPrintsVersion) {
  CommandResult r = RunCommand({CrashctlBinary(), "version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(
      std::regex_search(r.out, std::regex(R"(^crashctl \d+\.\d+\.\d+)")))
      << r.out;
}

TEST(CliTest, ProjectCreatePrintsSentryDsnFirstThenShortForm) {
  const TempDir data_dir("cli");
  const std::string& data = data_dir.path();
  CommandResult r = RunCommand({CrashctlBinary(), "project", "create", "--name",
                                "my-app", "--data", data},
                               {{"CRASHCTL_SERVER_BASE_URL", ""}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.out, m,
      std::regex(R"(^DSN: http://([0-9a-f]{32})@localhost:9190/([0-9]+)\n)")))
      << r.out;
  const std::string key = m[1];
  const std::string id = m[2];
  EXPECT_NE(r.out.find("\nShort DSN: http://localhost:9190/api/v1/events?key=" +
                       key + "\n"),
            std::string::npos)
      << r.out;

  CommandResult second = RunCommand({CrashctlBinary(), "project", "create",
                                     "--name", "other", "--data", data});
  ASSERT_EQ(second.exit_code, 0) << second.err;

  CommandResult list =
      RunCommand({CrashctlBinary(), "project", "list", "--data", data});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(std::regex_search(
      list.out, std::regex("^" + id + "\tmy-app\thttp://" + key +
                           "@localhost:9190/" + id + "\n")))
      << list.out;
  EXPECT_NE(list.out.find("\tother\t"), std::string::npos);

  // Duplicate names are refused.
  CommandResult dup = RunCommand({CrashctlBinary(), "project", "create",
                                  "--name", "my-app", "--data", data});
  EXPECT_NE(dup.exit_code, 0);
}

TEST(CliTest, BadUsageExitsTwoWithOneLine) {
  const std::vector<std::vector<std::string>> cases = {
      {CrashctlBinary()},
      {CrashctlBinary(), "frobnicate"},
      {CrashctlBinary(), "project"},
      {CrashctlBinary(), "project", "create"},
      {CrashctlBinary(), "serve", "--bogus", "1"},
      {CrashctlBinary(), "cleanup", "extra"},
  };
  for (const auto& argv : cases) {
    CommandResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 2) << argv.back() << ": " << r.err;
    EXPECT_FALSE(r.err.empty());
  }
}

TEST(CliTest, ConfigErrorsNameTheKey) {
  const TempDir data_dir("cfg");
  const std::string& data = data_dir.path();
  const std::string file = data + "/crashctl.yaml";
  std::ofstream(file) << "server:\n  lisen: \":1\"\n";
  CommandResult r =
      RunCommand({CrashctlBinary(), "serve", "--config", file, "--data", data});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("server.lisen"), std::string::npos) << r.err;

  r = RunCommand({CrashctlBinary(), "serve", "--data", data},
                 {{"CRASHCTL_RETENTION_MAX_AGE", "forever"}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("CRASHCTL_RETENTION_MAX_AGE"), std::string::npos)
      << r.err;
}

TEST(CliTest, CleanupAppliesRetention) {
  const TempDir data_dir("cleanup");
  const std::string& data = data_dir.path();
  CommandResult r = RunCommand(
      {CrashctlBinary(), "project", "create", "--name", "app", "--data", data});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunCommand({CrashctlBinary(), "cleanup", "--data", data});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("deleted 0 events"), std::string::npos) << r.out;
}

TEST(CliTest, CommandsThatReadDoNotCreateAMissingDatabase) {
  const TempDir data_dir("missing");
  const std::string missing = data_dir.path() + "/nope";
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"project", "list"},
                                             {"cleanup"}}) {
    std::vector<std::string> argv = {CrashctlBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--data");
    argv.push_back(missing);
    CommandResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 1) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find("no database at " + missing), std::string::npos)
        << r.err;
    struct stat st;
    EXPECT_NE(stat(missing.c_str(), &st), 0) << "created " << missing;
  }
}

TEST(CliTest, ProjectNamesAreCheckedAsByRestAndDuplicatesFail) {
  const TempDir data_dir("names");
  const std::string& data = data_dir.path();
  CommandResult r = RunCommand({CrashctlBinary(), "project", "create", "--name",
                                "a\tb", "--data", data});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("control characters"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = RunCommand(
      {CrashctlBinary(), "project", "create", "--name", "app", "--data", data});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunCommand(
      {CrashctlBinary(), "project", "create", "--name", "app", "--data", data});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  r = RunCommand({CrashctlBinary(), "project", "list", "--data", data});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

TEST(CliTest, NoArgumentsIsOneLineOfUsage) {
  CommandResult r = RunCommand({CrashctlBinary()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.out, "");
}

// `project keys ...`, `project delete` and `project list` with several keys
// (issue 19).
TEST(CliTest, ProjectKeysLifecycleAndListShowsOldestActiveKey) {
  const TempDir data_dir("cli-keys");
  const std::string& data = data_dir.path();
  const std::map<std::string, std::string> env = {
      {"CRASHCTL_SERVER_BASE_URL", ""}};
  CommandResult r = RunCommand(
      {CrashctlBinary(), "project", "create", "--name", "app", "--data", data},
      env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.out, m,
      std::regex(R"(^DSN: http://([0-9a-f]{32})@localhost:9190/1\n)")))
      << r.out;
  const std::string first = m[1];

  r = RunCommand({CrashctlBinary(), "project", "keys", "create", "1", "--label",
                  "ci", "--rate-limit", "120", "--data", data},
                 env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(std::regex_search(
      r.out, m,
      std::regex(R"(^DSN: http://([0-9a-f]{32})@localhost:9190/1\n)"
                 R"(Short DSN: http://localhost:9190/api/v1/events\?key=)"
                 R"([0-9a-f]{32}\nKey: 2\n$)")))
      << r.out;
  const std::string second = m[1];
  EXPECT_NE(second, first);

  r = RunCommand(
      {CrashctlBinary(), "project", "keys", "list", "1", "--data", data}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1\tactive\tunlimited\tDefault\thttp://" + first +
                       "@localhost:9190/1\n"
                       "2\tactive\t120/min\tci\thttp://" +
                       second + "@localhost:9190/1\n");

  r = RunCommand({CrashctlBinary(), "project", "keys", "disable", "1", "1",
                  "--data", data},
                 env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("1\tdisabled\t", 0), 0u) << r.out;
  r = RunCommand({CrashctlBinary(), "project", "list", "--data", data}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1\tapp\thttp://" + second + "@localhost:9190/1\n");
  r = RunCommand(
      {CrashctlBinary(), "project", "keys", "enable", "1", "1", "--data", data},
      env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunCommand({CrashctlBinary(), "project", "list", "--data", data}, env);
  EXPECT_EQ(r.out, "1\tapp\thttp://" + first + "@localhost:9190/1\n");

  r = RunCommand(
      {CrashctlBinary(), "project", "keys", "delete", "1", "1", "--data", data},
      env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunCommand(
      {CrashctlBinary(), "project", "keys", "delete", "1", "1", "--data", data},
      env);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no key 1"), std::string::npos) << r.err;
  r = RunCommand(
      {CrashctlBinary(), "project", "keys", "delete", "1", "2", "--data", data},
      env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Without an active key the project shows no DSN.
  r = RunCommand({CrashctlBinary(), "project", "list", "--data", data}, env);
  EXPECT_EQ(r.out, "1\tapp\t-\n");

  r = RunCommand({CrashctlBinary(), "project", "delete", "1", "--data", data},
                 env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Deleted project 1\n");
  r = RunCommand({CrashctlBinary(), "project", "list", "--data", data}, env);
  EXPECT_EQ(r.out, "");
  r = RunCommand({CrashctlBinary(), "project", "delete", "1", "--data", data},
                 env);
  EXPECT_EQ(r.exit_code, 1);
  r = RunCommand(
      {CrashctlBinary(), "project", "keys", "list", "1", "--data", data}, env);
  EXPECT_EQ(r.exit_code, 1);
}

TEST(CliTest, ProjectKeysBadUsageExitsTwo) {
  const TempDir data_dir("cli-keys-usage");
  const std::string& data = data_dir.path();
  ASSERT_EQ(RunCommand({CrashctlBinary(), "project", "create", "--name", "app",
                        "--data", data})
                .exit_code,
            0);
  const std::vector<std::vector<std::string>> cases = {
      {"project", "keys"},
      {"project", "keys", "rotate", "1"},
      {"project", "keys", "list"},
      {"project", "keys", "list", "x"},
      {"project", "keys", "list", "1", "2"},
      {"project", "keys", "disable", "1"},
      {"project", "keys", "create", "1", "--rate-limit", "-5"},
      {"project", "keys", "create", "1", "--label", "x", "--bogus", "1"},
      {"project", "keys", "create", "1", "--label", std::string(201, 'a')},
      {"project", "delete"},
      {"project", "delete", "0"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {CrashctlBinary()};
    argv.insert(argv.end(), c.begin(), c.end());
    argv.push_back("--data");
    argv.push_back(data);
    CommandResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 2) << c.back() << ": " << r.err;
    EXPECT_FALSE(r.err.empty());
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

}  // namespace
}  // namespace cmd
}  // namespace crashctl
