// What tests/tracing expects of the transactions the real SDKs send
// (node_transactions.js, python_transactions.py): one row per transaction,
// used both on the committed captures (testdata/) and on fresh ones.
#ifndef CRASHCTL_TESTS_TRACING_REAL_PAYLOADS_H_
#define CRASHCTL_TESTS_TRACING_REAL_PAYLOADS_H_

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "crashctl/tracing/labels.h"
#include "crashctl/tracing/transaction.h"

namespace crashctl {
namespace tracing {
namespace testing {

struct RealCase {
  const char* file;  // under tests/tracing/testdata/
  const char* name;
  const char* source;
  const char* op;
  const char* status;
  const char* method;
  int http_status;
  const char* service;
  const char* release;
  const char* environment;
  const char* platform;
  size_t spans;
  bool has_parent;         // continues a span of another transaction
  const char* name_label;  // TransactionNameLabel
  const char* span_ops;    // the spans' ops, comma-separated, in order
  const char* span_statuses;
};

inline const std::vector<RealCase>& RealCases() {
  static const std::vector<RealCase> cases = {
      {"node_http_url_200.envelope", "GET /orders/42", "url", "http.server",
       "ok", "GET", 200, "orders", "shop@1.4.2", "test", "node", 2, true,
       "<< unparameterized >>", "db.query,serialize", "ok,ok"},
      {"node_http_url_500.envelope", "GET /fail/7", "url", "http.server",
       "internal_error", "GET", 500, "orders", "shop@1.4.2", "test", "node", 0,
       true, "<< unparameterized >>", "", ""},
      {"node_http_url_continued.envelope", "GET /orders/43", "url",
       "http.server", "ok", "GET", 200, "orders", "shop@1.4.2", "test", "node",
       2, true, "<< unparameterized >>", "db.query,serialize", "ok,ok"},
      {"node_route.envelope", "GET /orders/:id", "route", "http.server", "ok",
       "GET", 0, "orders", "shop@1.4.2", "test", "node", 3, false,
       "GET /orders/:id", "db,http.client,template.render",
       "ok,ok,deadline_exceeded"},
      {"python_task.envelope", "charge_card", "custom", "task",
       "internal_error", "", 502, "billing", "billing@2.0.1", "prod", "python",
       2, false, "charge_card", "db.query,http.client", "unknown,unavailable"},
      {"python_continued.envelope", "send_receipt", "custom", "queue.task",
       "ok", "", 0, "billing", "billing@2.0.1", "prod", "python", 1, true,
       "send_receipt", "smtp", "ok"},
      {"python_route.envelope", "/invoices/{id}", "route", "http.server",
       "not_found", "", 404, "billing", "billing@2.0.1", "prod", "python", 0,
       false, "/invoices/{id}", "", ""},
  };
  return cases;
}

inline const RealCase* FindRealCase(const std::string& name) {
  for (const RealCase& c : RealCases()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

inline std::string Join(const std::vector<Span>& spans, bool ops) {
  std::string out;
  for (const Span& s : spans) {
    if (!out.empty()) out += ",";
    out += ops ? s.op : s.status;
  }
  return out;
}

// Every field of `tx` against its row.
inline void ExpectMatches(const RealCase& c, const Transaction& tx) {
  SCOPED_TRACE(c.name);
  EXPECT_EQ(tx.name, c.name);
  EXPECT_EQ(tx.source, c.source);
  EXPECT_EQ(tx.op, c.op);
  EXPECT_EQ(tx.status, c.status);
  EXPECT_EQ(tx.method, c.method);
  EXPECT_EQ(tx.http_status, c.http_status);
  EXPECT_EQ(tx.service, c.service);
  EXPECT_EQ(tx.release, c.release);
  EXPECT_EQ(tx.environment, c.environment);
  EXPECT_EQ(tx.platform, c.platform);
  EXPECT_EQ(tx.spans.size(), c.spans);
  EXPECT_EQ(!tx.parent_span_id.empty(), c.has_parent);
  EXPECT_EQ(TransactionNameLabel(tx.source, tx.name), c.name_label);
  EXPECT_EQ(Join(tx.spans, true), c.span_ops);
  EXPECT_EQ(Join(tx.spans, false), c.span_statuses);
  EXPECT_EQ(tx.event_id.size(), 32u);
  EXPECT_EQ(tx.trace_id.size(), 32u);
  EXPECT_EQ(tx.span_id.size(), 16u);
  EXPECT_EQ(tx.spans_cut, 0u);
  EXPECT_EQ(tx.spans_invalid, 0u);
  EXPECT_GE(tx.duration(), 0);
  EXPECT_LT(tx.duration(), 10);
  for (const Span& s : tx.spans) {
    EXPECT_EQ(s.span_id.size(), 16u);
    EXPECT_FALSE(s.parent_span_id.empty());
    EXPECT_GE(s.duration(), 0);
    EXPECT_FALSE(s.description.empty());
  }
}

}  // namespace testing
}  // namespace tracing
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_TRACING_REAL_PAYLOADS_H_
