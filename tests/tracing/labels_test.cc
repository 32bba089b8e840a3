// Bounded labels: the name rules, op sanitising, the per-project caps in
// admission order, the series budget, export/import, and many threads.
#include "crashctl/tracing/labels.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace crashctl {
namespace tracing {
namespace {

Transaction Named(const std::string& name, const std::string& source = "route",
                  const std::string& service = "api") {
  Transaction tx;
  tx.name = name;
  tx.source = source;
  tx.service = service;
  tx.method = "GET";
  tx.status = "ok";
  return tx;
}

Span WithOp(const std::string& op) {
  Span s;
  s.op = op;
  return s;
}

TEST(LabelRulesTest, NameLabelBySource) {
  struct Case {
    const char* source;
    const char* name;
    const char* want;
  };
  const std::vector<Case> cases = {
      {"route", "GET /orders/:id", "GET /orders/:id"},
      {"view", "OrderView", "OrderView"},
      {"component", "<Checkout>", "<Checkout>"},
      {"task", "send_mail", "send_mail"},
      {"custom", "nightly", "nightly"},
      {"sanitized", "/orders/*", "/orders/*"},
      {"route", "/orders/42", "/orders/42"},  // trusted: the SDK says route
      {"url", "GET /orders/42", "<< unparameterized >>"},
      {"url", "/health", "<< unparameterized >>"},
      {"unknown", "GET /orders/42", "<< unparameterized >>"},
      {"", "/users/4c79f60c-1124-4e7a-8b0a-6a5f3b1f2a9d/edit",
       "<< unparameterized >>"},
      {"", "/files/deadbeef12", "<< unparameterized >>"},
      {"", "/search?q=x", "<< unparameterized >>"},
      {"", "https://shop.example/items/order-12345", "<< unparameterized >>"},
      {"", "/api/v2/users", "/api/v2/users"},
      {"", "POST /2fa/setup", "POST /2fa/setup"},
      {"", "process_order", "process_order"},
      {"weird", "/x/1", "<< unparameterized >>"},
      {"route", "a\nb", "a_b"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(TransactionNameLabel(c.source, c.name), c.want)
        << c.source << " " << c.name;
  }
}

TEST(LabelRulesTest, OpSanitised) {
  EXPECT_EQ(SanitizeOp("db.query"), "db.query");
  EXPECT_EQ(SanitizeOp("HTTP.Client"), "http.client");
  EXPECT_EQ(SanitizeOp("ui.react render"), "ui.react_render");
  EXPECT_EQ(SanitizeOp("db/sql:select"), "db_sql_select");
  EXPECT_EQ(SanitizeOp("caf\xc3\xa9"), "caf__");
  EXPECT_EQ(SanitizeOp(""), "default");
  EXPECT_EQ(SanitizeOp(std::string(300, 'a')).size(), kMaxOpLabelBytes);
}

TEST(LabelBudgetTest, NamesFoldInAdmissionOrderPerProject) {
  LabelLimits limits;
  limits.max_transactions = 3;
  LabelBudget budget(limits);
  const std::vector<std::string> names = {"a", "b", "a", "c", "d", "b", "e"};
  std::vector<std::string> got;
  for (const std::string& n : names) {
    got.push_back(budget.ForTransaction(1, Named(n)).transaction);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"a", "b", "a", "c", "other", "b",
                                           "other"}));
  // Another project has its own names.
  EXPECT_EQ(budget.ForTransaction(2, Named("d")).transaction, "d");
  const TransactionLabels folded = budget.ForTransaction(1, Named("f"));
  EXPECT_TRUE(folded.name_folded);
  EXPECT_FALSE(folded.series_folded);
  // Unparameterized names do not use up the budget.
  const TransactionLabels url = budget.ForTransaction(1, Named("/x", "url"));
  EXPECT_EQ(url.transaction, kUnparameterized);
  EXPECT_TRUE(url.unparameterized);
  EXPECT_FALSE(url.name_folded);
  const LabelStats stats = budget.stats();
  EXPECT_EQ(stats.name_folds, 3u);
  EXPECT_EQ(stats.unparameterized, 1u);
  EXPECT_EQ(stats.projects, 2u);
}

TEST(LabelBudgetTest, OpsAndServicesFold) {
  LabelLimits limits;
  limits.max_ops = 2;
  limits.max_services = 1;
  LabelBudget budget(limits);
  EXPECT_EQ(budget.ForSpan(1, "api", WithOp("DB")).op, "db");
  EXPECT_EQ(budget.ForSpan(1, "api", WithOp("http.client")).op, "http.client");
  const SpanLabels third = budget.ForSpan(1, "api", WithOp("cache"));
  EXPECT_EQ(third.op, "other");
  EXPECT_TRUE(third.op_folded);
  EXPECT_EQ(budget.ForSpan(1, "api", WithOp("db")).op, "db");
  const SpanLabels worker = budget.ForSpan(1, "worker", WithOp("db"));
  EXPECT_EQ(worker.service, "other");
  EXPECT_TRUE(worker.service_folded);
  EXPECT_EQ(budget.ForSpan(1, "", WithOp("db")).service, "");
  const TransactionLabels tx =
      budget.ForTransaction(1, Named("a", "route", "web"));
  EXPECT_EQ(tx.service, "other");
  EXPECT_EQ(budget.stats().service_folds, 2u);
  EXPECT_EQ(budget.stats().op_folds, 1u);
}

TEST(LabelBudgetTest, SeriesBudgetFoldsTransactionThenService) {
  LabelLimits limits;
  limits.max_series = 4;
  LabelBudget budget(limits);
  // Four series fill the budget.
  for (const char* status : {"ok", "internal_error", "not_found"}) {
    Transaction tx = Named("a");
    tx.status = status;
    EXPECT_FALSE(budget.ForTransaction(1, tx).series_folded);
  }
  EXPECT_FALSE(budget.ForSpan(1, "api", WithOp("db")).series_folded);
  // A known series stays as it is.
  EXPECT_FALSE(budget.ForTransaction(1, Named("a")).series_folded);
  // A new one: transaction -> other; that is new too -> service -> other.
  const TransactionLabels b = budget.ForTransaction(1, Named("b"));
  EXPECT_TRUE(b.series_folded);
  EXPECT_EQ(b.transaction, "other");
  EXPECT_EQ(b.service, "other");
  EXPECT_EQ(b.method, "GET");
  EXPECT_EQ(b.status, "ok");
  const SpanLabels cache = budget.ForSpan(1, "api", WithOp("cache"));
  EXPECT_TRUE(cache.series_folded);
  EXPECT_EQ(cache.op, "other");
  EXPECT_EQ(cache.service, "other");
  // Whatever arrives, the series stay bounded: max_series + 9 * 17 + 1.
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    Transaction tx =
        Named("n" + std::to_string(i), "route", "s" + std::to_string(i % 7));
    tx.method = i % 2 ? "POST" : "";
    tx.status = i % 3 ? "ok" : "aborted";
    const TransactionLabels l = budget.ForTransaction(1, tx);
    seen.insert(l.service + "|" + l.transaction + "|" + l.method + "|" +
                l.status);
    const SpanLabels s =
        budget.ForSpan(1, tx.service, WithOp("op" + std::to_string(i)));
    seen.insert(s.service + "|" + s.op);
  }
  EXPECT_LE(budget.stats().series, limits.max_series + 9 * 17 + 1);
  EXPECT_LE(seen.size(), budget.stats().series);
}

TEST(LabelBudgetTest, ExportImportRoundTrip) {
  LabelLimits limits;
  limits.max_transactions = 2;
  LabelBudget a(limits);
  a.ForTransaction(1, Named("x"));
  a.ForTransaction(1, Named("y"));
  a.ForTransaction(1, Named("z"));  // folds
  a.ForSpan(1, "api", WithOp("db"));
  a.ForTransaction(7, Named("w", "route", "svc"));
  const std::string state = a.Export();

  LabelBudget b(limits);
  b.ForTransaction(1, Named("z"));  // b admitted z first
  ASSERT_TRUE(b.Import(state, LabelBudget::ImportMode::kReplace).ok());
  EXPECT_EQ(b.Export(), state);
  EXPECT_EQ(b.ForTransaction(1, Named("z")).transaction, "other");
  EXPECT_EQ(b.ForTransaction(1, Named("y")).transaction, "y");

  LabelBudget c(limits);
  c.ForTransaction(1, Named("z"));
  ASSERT_TRUE(c.Import(state, LabelBudget::ImportMode::kMerge).ok());
  // Merge keeps c's own z, then adds x; y no longer fits.
  EXPECT_EQ(c.ForTransaction(1, Named("z")).transaction, "z");
  EXPECT_EQ(c.ForTransaction(1, Named("x")).transaction, "x");
  EXPECT_EQ(c.ForTransaction(1, Named("y")).transaction, "other");
  EXPECT_EQ(c.ForTransaction(7, Named("w", "route", "svc")).transaction, "w");
}

TEST(LabelBudgetTest, ImportRefusesMalformedStateAndKeepsOwn) {
  LabelBudget budget;
  budget.ForTransaction(1, Named("mine"));
  const std::string before = budget.Export();
  for (const char* bad :
       {"", "[]", "{\"version\":2,\"projects\":[]}",
        "{\"version\":1,\"projects\":{}}",
        "{\"version\":1,\"projects\":[{\"project\":\"1\"}]}",
        "{\"version\":1,\"projects\":[{\"project\":1,\"ops\":[1]}]}",
        "{\"version\":1,\"projects\":[{\"project\":1,\"span_series\":[[\"a\"]]}"
        "]}"}) {
    EXPECT_TRUE(
        budget.Import(bad, LabelBudget::ImportMode::kReplace).IsInvalid())
        << bad;
    EXPECT_EQ(budget.Export(), before);
  }
  // Imported values are sanitised like live ones.
  ASSERT_TRUE(
      budget
          .Import(
              R"({"version":1,"projects":[{"project":1,"ops":["DB Query"]}]})",
              LabelBudget::ImportMode::kMerge)
          .ok());
  const std::string after = budget.Export();
  EXPECT_NE(after.find("\"ops\":[\"db_query\"]"), std::string::npos) << after;
  EXPECT_EQ(after.find("DB Query"), std::string::npos);
}

TEST(LabelBudgetTest, ManyThreadsAgreeOnOneBoundedSet) {
  LabelLimits limits;
  limits.max_transactions = 10;
  limits.max_ops = 5;
  LabelBudget budget(limits);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  std::vector<std::set<std::string>> names(kThreads), ops(kThreads);
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int k = (i * 7 + t) % 40;
        const TransactionLabels l = budget.ForTransaction(
            1 + (i % 2), Named("name" + std::to_string(k)));
        if (l.transaction == "other") ++other;
        names[t].insert(std::to_string(1 + (i % 2)) + l.transaction);
        ops[t].insert(
            budget.ForSpan(1, "api", WithOp("op" + std::to_string(k))).op);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all_names, all_ops;
  for (int t = 0; t < kThreads; ++t) {
    all_names.insert(names[t].begin(), names[t].end());
    all_ops.insert(ops[t].begin(), ops[t].end());
  }
  // 10 names per project plus `other`, 5 ops plus `other`, whatever the
  // interleaving.
  EXPECT_EQ(all_names.size(), 2u * 11);
  EXPECT_EQ(all_ops.size(), 6u);
  EXPECT_GT(other.load(), 0);
  const LabelStats stats = budget.stats();
  EXPECT_EQ(stats.name_folds, static_cast<uint64_t>(other.load()));
  // Every thread saw the same decision for the same name afterwards.
  for (int k = 0; k < 40; ++k) {
    const std::string n = "name" + std::to_string(k);
    const std::string first = budget.ForTransaction(1, Named(n)).transaction;
    EXPECT_EQ(budget.ForTransaction(1, Named(n)).transaction, first);
  }
}

}  // namespace
}  // namespace tracing
}  // namespace crashctl
