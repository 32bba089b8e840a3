// The crashctl command line, run as a user would run it.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
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

}  // namespace
}  // namespace cmd
}  // namespace crashctl
