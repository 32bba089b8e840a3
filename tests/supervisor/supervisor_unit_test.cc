// Unit tests of the supervisor's pieces: log tail, OOM counter, crash event.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "supervisor/crash_report.h"
#include "supervisor/log_tail.h"
#include "supervisor/oom.h"

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

}  // namespace
}  // namespace supervisor
}  // namespace crashctl
