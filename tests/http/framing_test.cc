#include "http/framing.h"

#include <gtest/gtest.h>

#include <limits>

namespace crashctl {
namespace http {
namespace {

using Headers = std::vector<std::pair<std::string_view, std::string_view>>;

TEST(BodyFramingTest, AcceptsOnlyWhatEveryReaderReadsAlike) {
  struct Case {
    Headers headers;
    const char* version;
    BodyFraming::Kind kind;
    int64_t length;
  };
  const Case cases[] = {
      {{}, "1.1", BodyFraming::kNone, 0},
      {{{"Host", "x"}}, "1.1", BodyFraming::kNone, 0},
      {{{"Content-Length", "22"}}, "1.1", BodyFraming::kLength, 22},
      {{{"content-length", " 22 "}}, "1.0", BodyFraming::kLength, 22},
      {{{"Content-Length", "0"}}, "1.1", BodyFraming::kLength, 0},
      {{{"Content-Length", "007"}}, "1.1", BodyFraming::kLength, 7},
      {{{"Content-Length", "22"}, {"CONTENT-LENGTH", "22"}},
       "1.1",
       BodyFraming::kLength,
       22},
      {{{"Content-Length", "99999999999999999999999"}},
       "1.1",
       BodyFraming::kLength,
       std::numeric_limits<int64_t>::max()},
      {{{"Transfer-Encoding", "chunked"}}, "1.1", BodyFraming::kChunked, 0},
      {{{"transfer-encoding", "Chunked"}}, "1.1", BodyFraming::kChunked, 0},
      // Refused: each a way two readers could disagree.
      {{{"Content-Length", "0x2b"}}, "1.1", BodyFraming::kInvalid, 0},
      {{{"Content-Length", "+22"}}, "1.1", BodyFraming::kInvalid, 0},
      {{{"Content-Length", "-1"}}, "1.1", BodyFraming::kInvalid, 0},
      {{{"Content-Length", "5,22"}}, "1.1", BodyFraming::kInvalid, 0},
      {{{"Content-Length", "22, 22"}}, "1.1", BodyFraming::kInvalid, 0},
      {{{"Content-Length", ""}}, "1.1", BodyFraming::kInvalid, 0},
      {{{"Content-Length", "2 2"}}, "1.1", BodyFraming::kInvalid, 0},
      {{{"Content-Length", "22"}, {"Content-Length", "65"}},
       "1.1",
       BodyFraming::kInvalid,
       0},
      {{{"Transfer-Encoding", "chunked"}, {"Content-Length", "22"}},
       "1.1",
       BodyFraming::kInvalid,
       0},
      {{{"Content-Length", "22"}, {"Transfer-Encoding", "chunked"}},
       "1.1",
       BodyFraming::kInvalid,
       0},
      {{{"Transfer-Encoding", "identity"}}, "1.1", BodyFraming::kInvalid, 0},
      {{{"Transfer-Encoding", "gzip, chunked"}},
       "1.1",
       BodyFraming::kInvalid,
       0},
      {{{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}},
       "1.1",
       BodyFraming::kInvalid,
       0},
      {{{"Transfer-Encoding", "chunked"}}, "1.0", BodyFraming::kInvalid, 0},
  };
  for (const Case& c : cases) {
    std::string shown;
    for (const auto& h : c.headers) {
      shown += std::string(h.first) + ": " + std::string(h.second) + "; ";
    }
    SCOPED_TRACE(shown + "HTTP/" + c.version);
    const BodyFraming f = CheckBodyFraming(c.headers, c.version, false);
    EXPECT_EQ(f.kind, c.kind) << f.error;
    if (c.kind == BodyFraming::kLength) {
      EXPECT_EQ(f.length, c.length);
    }
    if (c.kind == BodyFraming::kInvalid) {
      EXPECT_FALSE(f.error.empty());
    }
  }
}

TEST(BodyFramingTest, ACappedHeaderListIsRefused) {
  const BodyFraming f =
      CheckBodyFraming({{"Content-Length", "5"}}, "1.1", true);
  EXPECT_EQ(f.kind, BodyFraming::kInvalid);
}

TEST(BodyFramingTest, ErrorsShowTheValueBoundedAndPrintable) {
  const std::string value = "\x01" + std::string(100, '9') + "x";
  const BodyFraming f =
      CheckBodyFraming({{"Content-Length", value}}, "1.1", false);
  ASSERT_EQ(f.kind, BodyFraming::kInvalid);
  EXPECT_LT(f.error.size(), 100u);
  for (char c : f.error) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << f.error;
}

}  // namespace
}  // namespace http
}  // namespace crashctl
