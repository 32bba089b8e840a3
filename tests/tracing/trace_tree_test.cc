// Trace trees: nesting across transactions, orphans, duplicates, cycles,
// bounds.
#include "crashctl/tracing/trace_tree.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace crashctl {
namespace tracing {
namespace {

std::string Id(int n) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016x", n);
  return buf;
}

Transaction Tx(const std::string& event, int span, int parent, double start) {
  Transaction tx;
  tx.event_id = event;
  tx.trace_id = "0af7651916cd43dd8448eb211c80319c";
  tx.span_id = Id(span);
  tx.parent_span_id = parent ? Id(parent) : "";
  tx.name = event;
  tx.start = start;
  tx.end = start + 1;
  return tx;
}

void AddSpan(Transaction* tx, int span, int parent, double start) {
  Span s;
  s.span_id = Id(span);
  s.parent_span_id = parent ? Id(parent) : "";
  s.start = start;
  s.end = start + 0.1;
  tx->spans.push_back(s);
}

// "name:depth" in pre-order: a transaction's name, or its name/span index.
std::vector<std::string> Draw(const TraceTree& tree,
                              const std::vector<Transaction>& txs) {
  std::vector<std::string> out;
  for (const TraceNode& n : tree.nodes) {
    std::string s = txs[n.transaction].name;
    if (n.span != kNoIndex) s += "/" + std::to_string(n.span);
    out.push_back(s + ":" + std::to_string(n.depth));
  }
  return out;
}

using Lines = std::vector<std::string>;

TEST(TraceTreeTest, TransactionsNestUnderTheSpanTheyContinue) {
  Transaction front = Tx("front", 1, 0, 10);
  AddSpan(&front, 2, 1, 10.1);  // http.client -> back
  AddSpan(&front, 3, 1, 10.5);
  Transaction back = Tx("back", 10, 2, 10.2);
  AddSpan(&back, 11, 10, 10.3);
  AddSpan(&back, 12, 11, 10.31);
  // Input order does not matter.
  const std::vector<Transaction> txs = {back, front};
  const TraceTree tree = BuildTraceTree(txs);
  EXPECT_EQ(Draw(tree, txs), (Lines{"front:0", "front/0:1", "back:2",
                                    "back/0:3", "back/1:4", "front/1:1"}));
  ASSERT_EQ(tree.roots.size(), 1u);
  EXPECT_EQ(tree.nodes[2].parent, 1u);
  EXPECT_EQ(tree.nodes[1].children, (std::vector<size_t>{2}));
  EXPECT_EQ(tree.nodes[0].children, (std::vector<size_t>{1, 5}));
  EXPECT_EQ(tree.orphan_transactions, 0u);
  EXPECT_EQ(tree.orphan_spans, 0u);
}

TEST(TraceTreeTest, OrphansGoToTheRootOrTheirTransaction) {
  Transaction a = Tx("a", 1, 99, 1);  // its parent was never received
  AddSpan(&a, 2, 77, 1.5);            // unknown parent: under a
  AddSpan(&a, 3, 0, 1.2);             // no parent: under a
  AddSpan(&a, 4, 4, 1.1);             // itself: under a
  Transaction b = Tx("b", 5, 0, 0.5);
  const std::vector<Transaction> txs = {a, b};
  const TraceTree tree = BuildTraceTree(txs);
  EXPECT_EQ(Draw(tree, txs), (Lines{"b:0", "a:0", "a/2:1", "a/1:1", "a/0:1"}));
  EXPECT_EQ(tree.roots.size(), 2u);
  EXPECT_EQ(tree.orphan_transactions, 1u);
  EXPECT_EQ(tree.orphan_spans, 3u);
}

TEST(TraceTreeTest, DuplicatesAreHandled) {
  Transaction a = Tx("a", 1, 0, 1);
  AddSpan(&a, 2, 1, 1.1);
  AddSpan(&a, 2, 1, 1.2);            // the same span id again
  AddSpan(&a, 3, 2, 1.3);            // hangs under the first
  const Transaction again = a;       // the same event twice
  Transaction b = Tx("b", 2, 0, 5);  // a transaction reusing a span id
  const std::vector<Transaction> txs = {a, again, b};
  const TraceTree tree = BuildTraceTree(txs);
  EXPECT_EQ(tree.duplicate_transactions, 1u);
  EXPECT_EQ(tree.duplicate_span_ids, 2u);
  EXPECT_EQ(Draw(tree, txs), (Lines{"a:0", "a/0:1", "a/2:2", "a/1:1", "b:0"}));
}

TEST(TraceTreeTest, CyclesAreCut) {
  // x continues a span of y, y continues a span of x.
  Transaction x = Tx("x", 1, 20, 1);
  AddSpan(&x, 10, 1, 1.1);
  Transaction y = Tx("y", 2, 10, 2);
  AddSpan(&y, 20, 2, 2.1);
  const std::vector<Transaction> txs = {y, x};
  const TraceTree tree = BuildTraceTree(txs);
  EXPECT_EQ(tree.cycles_cut, 1u);
  // The earliest transaction becomes the root.
  EXPECT_EQ(Draw(tree, txs), (Lines{"x:0", "x/0:1", "y:2", "y/0:3"}));

  // Spans of one transaction pointing at each other.
  Transaction z = Tx("z", 1, 0, 1);
  AddSpan(&z, 2, 3, 1.2);
  AddSpan(&z, 3, 2, 1.1);
  AddSpan(&z, 4, 3, 1.3);
  const std::vector<Transaction> one = {z};
  const TraceTree t2 = BuildTraceTree(one);
  EXPECT_EQ(t2.cycles_cut, 1u);
  EXPECT_EQ(Draw(t2, one), (Lines{"z:0", "z/1:1", "z/0:2", "z/2:2"}));
}

TEST(TraceTreeTest, CycleThroughSpansAndTransactionsTerminates) {
  // a's span s (under a) is the parent of b; b's span t is a's parent, and
  // a's spans form a loop with s as well.
  Transaction a = Tx("a", 1, 30, 1);
  AddSpan(&a, 10, 11, 1.1);
  AddSpan(&a, 11, 10, 1.2);
  Transaction b = Tx("b", 2, 10, 2);
  AddSpan(&b, 30, 2, 2.1);
  const std::vector<Transaction> txs = {a, b};
  const TraceTree tree = BuildTraceTree(txs);
  EXPECT_GE(tree.cycles_cut, 2u);
  EXPECT_EQ(tree.nodes.size(), 5u);
  ASSERT_FALSE(tree.roots.empty());
  // Every node is reached once from a root, depths consistent.
  for (size_t i = 0; i < tree.nodes.size(); ++i) {
    const TraceNode& n = tree.nodes[i];
    if (n.parent == kNoIndex) {
      EXPECT_EQ(n.depth, 0u);
    } else {
      EXPECT_LT(n.parent, i);
      EXPECT_EQ(n.depth, tree.nodes[n.parent].depth + 1);
    }
  }
}

TEST(TraceTreeTest, Bounded) {
  std::vector<Transaction> txs;
  for (int i = 0; i < 5; ++i) {
    Transaction t = Tx("t" + std::to_string(i), 100 + i, 0, i);
    for (int s = 0; s < 10; ++s)
      AddSpan(&t, 1000 + i * 100 + s, 100 + i, i + 0.01 * s);
    txs.push_back(t);
  }
  TraceTreeOptions options;
  options.max_transactions = 3;
  options.max_nodes = 20;
  const TraceTree tree = BuildTraceTree(txs, options);
  EXPECT_EQ(tree.transactions_cut, 2u);
  EXPECT_EQ(tree.nodes.size(), 20u);
  EXPECT_EQ(tree.nodes_cut, 30u - 17u);
  EXPECT_EQ(tree.roots.size(), 3u);
}

TEST(TraceTreeTest, DeepChainNeedsNoRecursion) {
  Transaction t = Tx("deep", 1, 0, 0);
  for (int s = 2; s <= 50001; ++s) AddSpan(&t, s, s - 1, s * 1e-6);
  const std::vector<Transaction> txs = {t};
  const TraceTree tree = BuildTraceTree(txs);
  ASSERT_EQ(tree.nodes.size(), 50001u);
  EXPECT_EQ(tree.nodes.back().depth, 50000u);
}

TEST(TraceTreeTest, Empty) {
  const TraceTree tree = BuildTraceTree({});
  EXPECT_TRUE(tree.nodes.empty());
  EXPECT_TRUE(tree.roots.empty());
}

}  // namespace
}  // namespace tracing
}  // namespace crashctl
