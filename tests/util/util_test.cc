#include <gtest/gtest.h>

#include <thread>

#include "crashctl/util/periodic_task.h"
#include "crashctl/util/status.h"
#include "crashctl/util/strings.h"

namespace crashctl {
namespace {

TEST(StatusTest, CodesMessagesAndContext) {
  EXPECT_TRUE(Status().ok());
  EXPECT_EQ(Status::Ok().ToString(), "OK");
  const Status s = Status::NotFound("group 7");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_EQ(s.message(), "group 7");
  EXPECT_EQ(s.ToString(), "not found: group 7");
  const Status annotated = s.Annotate("reading events");
  EXPECT_EQ(annotated.code(), Status::Code::kNotFound);
  EXPECT_EQ(annotated.message(), "reading events: group 7");
  EXPECT_TRUE(Status::Ok().Annotate("x").ok());
  EXPECT_TRUE(Status::Conflict("exists").IsConflict());
  EXPECT_TRUE(Status::Unavailable("disk full").IsUnavailable());
  EXPECT_TRUE(Status::Invalid("bad").IsInvalid());
}

TEST(StringsTest, Helpers) {
  EXPECT_EQ(util::Trim(" \t a b \r\n"), "a b");
  EXPECT_EQ(util::Trim("   "), "");
  EXPECT_EQ(util::ToLower("AbC-\xC3\x84"), "abc-\xC3\x84");
  EXPECT_TRUE(util::EqualsIgnoreCase("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(util::EqualsIgnoreCase("a", "ab"));
  EXPECT_TRUE(util::StartsWith("crashctl", "crash"));
  EXPECT_FALSE(util::StartsWith("cr", "crash"));
  EXPECT_TRUE(util::EndsWith("file.go", ".go"));
  EXPECT_EQ(util::Split("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(util::Split("a,,b", ',', true),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(util::IsHex("09aF"));
  EXPECT_FALSE(util::IsHex(""));
  EXPECT_FALSE(util::IsHex("0x1"));
  EXPECT_TRUE(util::IsLowerHex("0123456789abcdef", 16));
  EXPECT_FALSE(util::IsLowerHex("0123456789ABCDEF", 16));
  const unsigned char bytes[] = {0x00, 0xab, 0xff};
  EXPECT_EQ(util::HexEncode(bytes, 3), "00abff");
  const std::string random = util::RandomHex(16);
  EXPECT_TRUE(util::IsLowerHex(random, 32));
  EXPECT_NE(random, util::RandomHex(16));
  int64_t v = 0;
  EXPECT_TRUE(util::ParseInt64("-42", -100, 100, &v));
  EXPECT_EQ(v, -42);
  EXPECT_FALSE(util::ParseInt64("42x", 0, 100, &v));
  EXPECT_FALSE(util::ParseInt64("", 0, 100, &v));
  EXPECT_FALSE(util::ParseInt64("101", 0, 100, &v));
  EXPECT_FALSE(util::ParseInt64("99999999999999999999", 0, INT64_MAX, &v));
  std::string s = "a\xC3\xA9";
  util::TruncateUtf8(&s, 2);
  EXPECT_EQ(s, "a");
}

TEST(StringsTest, ToValidUtf8ReplacesWhatIsNotWellFormed) {
  const std::string kReplacement = "\xEF\xBF\xBD";
  // Well-formed text (1- to 4-byte sequences) passes unchanged.
  const std::string good = "ok \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x92\xA5";
  EXPECT_EQ(util::ToValidUtf8(good), good);
  EXPECT_EQ(util::ToValidUtf8(""), "");
  struct Case {
    std::string in, want;
  };
  const Case cases[] = {
      {std::string("a\0b", 3), "a" + kReplacement + "b"},  // NUL
      {"\xFF", kReplacement},                              // never valid
      {"\xC0\xAF", kReplacement + kReplacement},           // overlong
      {"\xE0\x80\xAF", kReplacement + kReplacement + kReplacement},
      {"\xED\xA0\x80",
       kReplacement + kReplacement + kReplacement},  // surrogate
      {"\xF4\x90\x80\x80", kReplacement + kReplacement + kReplacement +
                               kReplacement},            // above U+10FFFF
      {"x\xE2\x82", "x" + kReplacement + kReplacement},  // cut short
      {"\x80z", kReplacement + "z"},                     // lone continuation
  };
  for (const Case& c : cases) {
    EXPECT_EQ(util::ToValidUtf8(c.in), c.want) << c.in;
  }
}

TEST(PeriodicTaskTest, RunsUntilStopped) {
  std::atomic<int> runs{0};
  util::PeriodicTask task("test", std::chrono::milliseconds(10),
                          [&] { ++runs; });
  for (int i = 0; i < 500 && runs < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  task.Stop();
  const int after_stop = runs;
  EXPECT_GE(after_stop, 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(runs, after_stop);
}

}  // namespace
}  // namespace crashctl
