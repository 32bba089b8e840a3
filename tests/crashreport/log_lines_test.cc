// NormalizeLogLines (crashreport/log_lines.h, internal): the wrappers log
// collectors put around a program's output come off, and every text line
// knows the input lines it came from.
#include "crashreport/log_lines.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "crashctl/crashreport/crash_report_parser.h"

namespace crashctl {
namespace crashreport {
namespace {

std::vector<LogLine> Normalize(const std::vector<std::string>& lines,
                               size_t base = 0) {
  std::vector<std::string_view> raw(lines.begin(), lines.end());
  return NormalizeLogLines(raw, base);
}

std::vector<std::string> Texts(const std::vector<LogLine>& lines) {
  std::vector<std::string> out;
  for (const LogLine& l : lines) out.push_back(l.text);
  return out;
}

TEST(CrashReportTimestampTest, KnownFormats) {
  EXPECT_EQ(TimestampPrefixLength("2024-05-01T12:00:00Z x"), 21u);
  EXPECT_EQ(TimestampPrefixLength("2024-05-01T12:00:00.123456789Z x"), 31u);
  EXPECT_EQ(TimestampPrefixLength("2024-05-01T12:00:00.123+02:00 x"), 30u);
  EXPECT_EQ(TimestampPrefixLength("2024-05-01T12:00:00-0700 x"), 25u);
  EXPECT_EQ(TimestampPrefixLength("2024-05-01 12:00:00,123 x"), 24u);
  EXPECT_EQ(TimestampPrefixLength("2024/05/01 12:00:00 x"), 20u);
  EXPECT_EQ(TimestampPrefixLength("2024/05/01 12:00:00.000123 x"), 27u);
  EXPECT_EQ(TimestampPrefixLength("2024-05-01T12:00:00Z"), 0u);  // no space
  EXPECT_EQ(TimestampPrefixLength("2024-05-01 x"), 0u);
  EXPECT_EQ(TimestampPrefixLength("12:00:00 x"), 0u);
  EXPECT_EQ(TimestampPrefixLength("2024-05/01 12:00:00 x"), 0u);
  EXPECT_EQ(TimestampPrefixLength(""), 0u);
}

TEST(CrashReportNormalizeTest, PlainLinesKeepTheirIndentation) {
  const auto lines =
      Normalize({"\tat a.B.c(B.java:1)", "    at f (/x.js:1:2)\r", ""}, 7);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "\tat a.B.c(B.java:1)");
  EXPECT_EQ(lines[1].text, "    at f (/x.js:1:2)");
  EXPECT_EQ(lines[2].text, "");
  EXPECT_EQ(lines[1].first, 8u);
  EXPECT_EQ(lines[1].last, 8u);
}

TEST(CrashReportNormalizeTest, CriStreamsAndPartials) {
  const auto lines = Normalize({
      "2024-05-01T12:00:00.1Z stderr P ab",
      "2024-05-01T12:00:00.1Z stdout F out",
      "2024-05-01T12:00:00.1Z stderr P cd",
      "2024-05-01T12:00:00.1Z stderr F ef",
      "2024-05-01T12:00:00.1Z stderr F ",
      "2024-05-01T12:00:00.1Z stderr F:x \tindented",
      "2024-05-01T12:00:00.1Z stderr P never finished",
  });
  EXPECT_EQ(Texts(lines),
            (std::vector<std::string>{"out", "abcdef", "", "\tindented",
                                      "never finished"}));
  EXPECT_EQ(lines[1].first, 0u);
  EXPECT_EQ(lines[1].last, 3u);
  EXPECT_EQ(lines[4].first, 6u);
}

TEST(CrashReportNormalizeTest, DockerJsonAndRecordsWithTraces) {
  const auto lines = Normalize({
      R"({"log":"plain\n","stream":"stdout","time":"t"})",
      R"({"log":"2024-05-01T12:00:00Z with timestamp\n","stream":"stderr","time":"t"})",
      R"({"log":"part","stream":"stderr","time":"t"})",
      R"({"log":"ial\n","stream":"stderr","time":"t"})",
      R"({"level":"error","msg":"failed","stack":"Error: x\n    at f (/a.js:1:2)\n","n":3})",
      R"({"level":"info","msg":"single line"})",
      R"({"log":"{\"msg\":\"m\",\"trace\":\"a\\nb\"}\n","stream":"stdout","time":"t"})",
      R"({"not":"json")",
  });
  EXPECT_EQ(Texts(lines), (std::vector<std::string>{
                              "plain", "with timestamp", "partial", "failed",
                              "Error: x", "    at f (/a.js:1:2)",
                              R"({"level":"info","msg":"single line"})", "m",
                              "a", "b", R"({"not":"json")"}));
  EXPECT_EQ(lines[2].first, 2u);
  EXPECT_EQ(lines[2].last, 3u);
  EXPECT_EQ(lines[4].first, 4u);
  EXPECT_EQ(lines[5].last, 4u);
}

TEST(CrashReportNormalizeTest, OutputIsBounded) {
  std::string record = R"({"stack":")";
  for (int k = 0; k < 50000; ++k) record += "x\\n";
  record += "\"}";
  const auto lines = Normalize({record, record});
  EXPECT_LE(lines.size(), 2 * kMaxLines);
  const auto huge = Normalize({std::string(10 << 20, 'y')});
  ASSERT_EQ(huge.size(), 1u);
  EXPECT_EQ(huge[0].text.size(), kMaxTextBytes);
}

}  // namespace
}  // namespace crashreport
}  // namespace crashctl
