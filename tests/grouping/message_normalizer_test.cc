// Tests for NormalizeMessage: every placeholder, the boundaries around them,
// and linear time on hostile input.

#include <chrono>
#include <string>

#include "crashctl/grouping/grouping.h"
#include "gtest/gtest.h"

namespace crashctl {
namespace grouping {
namespace {

struct MessageCase {
  const char* input;
  const char* expected;
};

class NormalizeMessageTest : public ::testing::TestWithParam<MessageCase> {};

TEST_P(NormalizeMessageTest, Normalizes) {
  EXPECT_EQ(NormalizeMessage(GetParam().input), GetParam().expected)
      << "input: " << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    Placeholders, NormalizeMessageTest,
    ::testing::Values(
        // <int>, <float>, <version>
        MessageCase{"user 42 not found", "user <int> not found"},
        MessageCase{"retry 3 of 5", "retry <int> of <int>"},
        MessageCase{"timeout after 5000ms", "timeout after <int>ms"},
        MessageCase{"id=42, order-17, -5", "id=<int>, order-<int>, -<int>"},
        MessageCase{"took 3.14 s", "took <float> s"},
        MessageCase{"found 42.", "found <int>."},
        MessageCase{"requires 1.2.3 or v2.0",
                    "requires <version> or <version>"},
        // digits inside identifiers are kept
        MessageCase{"utf8 sha256 item_42 x86_64", "utf8 sha256 item_42 x86_64"},
        // <hex>
        MessageCase{"bad pointer 0x7ffd1234abcd", "bad pointer <hex>"},
        MessageCase{"at 0XDEADBEEF", "at <hex>"},
        MessageCase{"commit 4f2a9c1d3e not found", "commit <hex> not found"},
        MessageCase{"deadbeef cafe", "deadbeef cafe"},
        // <uuid>
        MessageCase{"job 550e8400-e29b-41d4-a716-446655440000 failed",
                    "job <uuid> failed"},
        MessageCase{"job DEADBEEF-E29B-41D4-A716-446655440000 failed",
                    "job <uuid> failed"},
        // <ip>
        MessageCase{"connect 10.0.0.12:5432 refused",
                    "connect <ip>:<int> refused"},
        MessageCase{"from 192.168.1.300", "from <version>"},
        MessageCase{"connect [2001:db8::1]:443", "connect [<ip>]:<int>"},
        MessageCase{"bind ::1 failed", "bind <ip> failed"},
        MessageCase{"peer fe80::1ff:fe23:4567:890a.", "peer <ip>."},
        MessageCase{"mapped ::ffff:10.1.2.3 ok", "mapped <ip> ok"},
        MessageCase{"full 2001:0db8:85a3:0000:0000:8a2e:0370:7334 x",
                    "full <ip> x"},
        MessageCase{"std::string::npos Foo::bar", "std::string::npos Foo::bar"},
        // <email>
        MessageCase{"no user john.doe+tag@example.co.uk.", "no user <email>."},
        MessageCase{"<admin@example.com>", "<<email>>"},
        MessageCase{"a@b is not an email", "a@b is not an email"},
        // <url>
        MessageCase{"GET https://api.example.com/v1/users?id=3 failed",
                    "GET <url> failed"},
        MessageCase{"see (http://x.io/a).", "see (<url>)."},
        MessageCase{"redis://cache:6379/0 down", "<url> down"},
        // <date>, <time>
        MessageCase{"at 2024-01-15T10:20:30.123Z", "at <date>"},
        MessageCase{"at 2024-01-15T10:20:30+02:00 ok", "at <date> ok"},
        MessageCase{"at 2024-01-15 10:20:30", "at <date>"},
        MessageCase{"on 2024-01-15, again", "on <date>, again"},
        MessageCase{"at 10:20:30.5 today", "at <time> today"},
        // <quoted>
        MessageCase{"Key 'abc' missing", "Key <quoted> missing"},
        MessageCase{"column \"user_id\" does not exist",
                    "column <quoted> does not exist"},
        MessageCase{"unknown `tick`", "unknown <quoted>"},
        MessageCase{"don't stop 'can't stop' now", "don't stop <quoted> now"},
        MessageCase{"escaped \"a\\\"b\" end", "escaped <quoted> end"},
        MessageCase{"unclosed \"quote here", "unclosed \"quote here"},
        MessageCase{"it's fine", "it's fine"},
        // plain text and non-ASCII pass through
        MessageCase{"", ""},
        MessageCase{"Déjà vu 42 fois", "Déjà vu <int> fois"}));

TEST(NormalizeMessage, GroupsMessagesThatDifferOnlyInValues) {
  EXPECT_EQ(NormalizeMessage("user 42 not found"),
            NormalizeMessage("user 7 not found"));
  EXPECT_EQ(NormalizeMessage("Cannot read properties of undefined (reading "
                             "'id')"),
            NormalizeMessage("Cannot read properties of undefined (reading "
                             "'name')"));
  EXPECT_NE(NormalizeMessage("user 42 not found"),
            NormalizeMessage("order 42 not found"));
}

// Each input would take minutes with a backtracking matcher; the scanner
// must stay linear. The bound is generous (sanitizers, loaded CI machine).
TEST(NormalizeMessage, LinearOnHostileInput) {
  const size_t kSize = 200 * 1000;
  auto repeat = [&](const std::string& unit) {
    std::string s;
    while (s.size() < kSize) s += unit;
    return s;
  };
  const std::string inputs[] = {
      repeat("a."),    repeat("a-"),    repeat("'a "),
      repeat("\""),    repeat("1:"),    repeat("1."),
      repeat("a:a::"), repeat("x@"),    repeat("ab+c"),
      repeat("0x"),    repeat("\\\""),  std::string(kSize, '1'),
      repeat("a.b@c"), repeat("http:"), repeat("'"),
      repeat("v1.")};
  auto start = std::chrono::steady_clock::now();
  for (const std::string& input : inputs) {
    std::string out = NormalizeMessage(input);
    EXPECT_FALSE(out.empty());
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count(),
            10);
}

}  // namespace
}  // namespace grouping
}  // namespace crashctl
