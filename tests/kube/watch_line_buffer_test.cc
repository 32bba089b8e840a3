#include "kube/watch_line_buffer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace crashctl {
namespace kube {
namespace {

const char kStream[] =
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"\xc3\xa9\"}}}"
    "\r\n"
    "\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":"
    "\"7\"}}}\n";

const std::vector<std::string> kLines = {
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}",
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"\xc3\xa9\"}}}",
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":"
    "\"7\"}}}"};

TEST(WatchLineBufferTest, WholeStreamAtOnce) {
  WatchLineBuffer buf;
  std::vector<std::string> lines;
  buf.Feed(kStream, &lines);
  EXPECT_EQ(lines, kLines);
  EXPECT_EQ(buf.pending(), 0u);
}

TEST(WatchLineBufferTest, EverySingleSplitPoint) {
  const std::string s = kStream;
  for (size_t i = 0; i <= s.size(); ++i) {
    WatchLineBuffer buf;
    std::vector<std::string> lines;
    buf.Feed(s.substr(0, i), &lines);
    buf.Feed(s.substr(i), &lines);
    EXPECT_EQ(lines, kLines) << "split at " << i;
    EXPECT_EQ(buf.pending(), 0u);
  }
}

TEST(WatchLineBufferTest, EveryPairOfSplitPoints) {
  const std::string s = kStream;
  for (size_t i = 0; i <= s.size(); ++i) {
    for (size_t j = i; j <= s.size(); ++j) {
      WatchLineBuffer buf;
      std::vector<std::string> lines;
      buf.Feed(s.substr(0, i), &lines);
      buf.Feed(s.substr(i, j - i), &lines);
      buf.Feed(s.substr(j), &lines);
      ASSERT_EQ(lines, kLines) << "splits at " << i << "," << j;
    }
  }
}

TEST(WatchLineBufferTest, OneByteAtATime) {
  const std::string s = kStream;
  WatchLineBuffer buf;
  std::vector<std::string> lines;
  for (char c : s) buf.Feed(&c, 1, &lines);
  EXPECT_EQ(lines, kLines);
}

TEST(WatchLineBufferTest, IncompleteLineIsHeldNotReturned) {
  WatchLineBuffer buf;
  std::vector<std::string> lines;
  buf.Feed("{\"type\":\"ADDED\"", &lines);
  EXPECT_TRUE(lines.empty());
  EXPECT_EQ(buf.pending(), 15u);
  buf.Reset();  // the stream was cut
  EXPECT_EQ(buf.pending(), 0u);
  buf.Feed("{}\n", &lines);
  EXPECT_EQ(lines, std::vector<std::string>{"{}"});
}

TEST(WatchLineBufferTest, OversizedLineIsDroppedAndStreamRecovers) {
  WatchLineBuffer buf(10);
  std::vector<std::string> lines;
  buf.Feed("0123456", &lines);
  buf.Feed("789abcdef", &lines);  // now over 10 bytes: dropped
  EXPECT_EQ(buf.overflows(), 1u);
  EXPECT_EQ(buf.pending(), 0u);
  buf.Feed("ghij\nok\n", &lines);
  EXPECT_EQ(lines, std::vector<std::string>{"ok"});
  // Exactly max_line bytes is fine.
  buf.Feed("0123456789\n", &lines);
  EXPECT_EQ(lines.back(), "0123456789");
  EXPECT_EQ(buf.overflows(), 1u);
}

}  // namespace
}  // namespace kube
}  // namespace crashctl
