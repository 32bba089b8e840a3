// Parsing of `client_report` items: the documented shape verbatim, the
// real @sentry/node report, folding into closed label sets, bad input.
#include "crashctl/releases/client_report.h"

#include <gtest/gtest.h>

#include <string>

namespace crashctl::releases {
namespace {

// develop.sentry.dev/sdk/telemetry/client-reports, "Wire Format".
const char kDocReport[] = R"({
  "timestamp": "2020-02-07T14:16:00Z",
  "discarded_events": [
    {
      "reason": "queue_overflow",
      "category": "error",
      "quantity": 23
    },
    {
      "reason": "queue_overflow",
      "category": "transaction",
      "quantity": 1321
    }
  ]
})";

// What @sentry/node 10.78 sent (tests/releases/testdata/node_sdk).
const char kNodeReport[] =
    R"({"timestamp":1796169365.362,"discarded_events":[{"reason":"before_send","category":"error","quantity":1},{"reason":"no_parent_span","category":"span","quantity":4},{"reason":"sample_rate","category":"transaction","quantity":4}]})";

TEST(ParseClientReportTest, DocumentedPayload) {
  ClientReport r;
  ASSERT_TRUE(ParseClientReport(kDocReport, &r).ok());
  ASSERT_TRUE(r.timestamp);
  EXPECT_EQ(*r.timestamp, 1581084960.0);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].reason, "queue_overflow");
  EXPECT_EQ(r.rows[0].category, "error");
  EXPECT_EQ(r.rows[0].quantity, 23u);
  EXPECT_EQ(r.rows[1].category, "transaction");
  EXPECT_EQ(r.rows[1].quantity, 1321u);
}

TEST(ParseClientReportTest, NodeSdkPayload) {
  ClientReport r;
  ASSERT_TRUE(ParseClientReport(kNodeReport, &r).ok());
  EXPECT_DOUBLE_EQ(*r.timestamp, 1796169365.362);
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0].reason, "before_send");
  EXPECT_EQ(r.rows[1].reason, "no_parent_span");
  EXPECT_EQ(r.rows[1].category, "span");
  EXPECT_EQ(r.rows[2].reason, "sample_rate");
}

TEST(ParseClientReportTest, FoldsAndMerges) {
  ClientReport r;
  ASSERT_TRUE(ParseClientReport(R"({
    "discarded_events": [
      {"reason": "cosmic_ray", "category": "error", "quantity": 2},
      {"reason": "made_up", "category": "error", "quantity": 3},
      {"reason": "queue_overflow", "category": "hologram", "quantity": 1},
      {"reason": "QUEUE_OVERFLOW", "category": "error", "quantity": 1},
      {"reason": "sample_rate", "category": "error", "quantity": 0}
    ],
    "rate_limited_events": [
      {"reason": "quota_project_abc", "category": "error", "quantity": 5}
    ],
    "filtered_events": [
      {"reason": "browser-extensions", "category": "error", "quantity": 1}
    ],
    "filtered_sampling_events": [
      {"reason": "Sampled:0,1", "category": "transaction", "quantity": 7}
    ]
  })",
                                &r)
                  .ok());
  ASSERT_EQ(r.rows.size(), 5u);
  // Sorted by (reason, category); unknown reasons and categories -> other;
  // zero quantities dropped; relay outcome lists keep their outcome name.
  EXPECT_EQ(r.rows[0].reason, "filtered");
  EXPECT_EQ(r.rows[1].reason, "filtered_sampling");
  EXPECT_EQ(r.rows[1].quantity, 7u);
  EXPECT_EQ(r.rows[2].reason, "other");
  EXPECT_EQ(r.rows[2].category, "error");
  EXPECT_EQ(r.rows[2].quantity,
            6u);  // 2 + 3 + 1 (QUEUE_OVERFLOW: no case folding)
  EXPECT_EQ(r.rows[3].reason, "queue_overflow");
  EXPECT_EQ(r.rows[3].category, "other");
  EXPECT_EQ(r.rows[4].reason, "rate_limited");
  EXPECT_FALSE(r.timestamp);
  // Every label value comes from the closed sets.
  for (const auto& row : r.rows) {
    EXPECT_EQ(FoldDataCategory(row.category), row.category);
  }
}

TEST(ParseClientReportTest, SaturatingSum) {
  std::string json = R"({"discarded_events":[)";
  for (int i = 0; i < 900; ++i) {
    json +=
        std::string(i ? "," : "") +
        R"({"reason":"network_error","category":"error","quantity":4294967295})";
  }
  json += "]}";
  ClientReport r;
  ASSERT_TRUE(ParseClientReport(json, &r).ok());
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].quantity, 900ull * 4294967295ull);
}

TEST(ParseClientReportTest, BadInput) {
  const char* bad[] = {
      "",
      "null",
      R"({"timestamp": "yesterday"})",
      R"({"timestamp": true})",
      R"({"discarded_events": {}})",
      R"({"discarded_events": [1]})",
      R"({"discarded_events": [{"category": "error", "quantity": 1}]})",
      R"({"discarded_events": [{"reason": "x", "quantity": 1}]})",
      R"({"discarded_events": [{"reason": "x", "category": "error"}]})",
      R"({"discarded_events": [{"reason": "x", "category": "error", "quantity": -1}]})",
      R"({"discarded_events": [{"reason": "x", "category": "error", "quantity": 1.5}]})",
      R"({"discarded_events": [{"reason": "x", "category": "error", "quantity": "3"}]})",
      R"({"discarded_events": [{"reason": "x", "category": "error", "quantity": 4294967296}]})",
      R"({"discarded_events": [{"reason": 1, "category": "error", "quantity": 1}]})",
  };
  for (const char* json : bad) {
    ClientReport r;
    Status s = ParseClientReport(json, &r);
    EXPECT_TRUE(s.IsInvalid()) << json << " -> " << s.ToString();
  }
  std::string many = R"({"discarded_events":[)";
  for (size_t i = 0; i <= kMaxClientReportEntries; ++i) {
    many += std::string(i ? "," : "") +
            R"({"reason":"x","category":"error","quantity":1})";
  }
  many += "]}";
  ClientReport r;
  EXPECT_EQ(ParseClientReport(many, &r).code(), Status::Code::kTooLarge);
}

TEST(ClosedSetsTest, Folding) {
  for (std::string_view reason : DiscardReasons()) {
    EXPECT_EQ(FoldDiscardReason(reason), reason);
  }
  for (std::string_view category : DataCategories()) {
    EXPECT_EQ(FoldDataCategory(category), category);
  }
  EXPECT_EQ(FoldDiscardReason(""), "other");
  EXPECT_EQ(FoldDiscardReason("before_send\n"), "other");
  EXPECT_EQ(FoldDataCategory("unknown"), "other");
  EXPECT_EQ(DiscardReasons().size(), 15u);
  EXPECT_EQ(DataCategories().size(), 17u);
}

}  // namespace
}  // namespace crashctl::releases
