// Span trees for GET /api/v1/traces/{trace_id}: the transactions of one
// trace, each with its spans, as one forest (docs/tracing.md#trace-trees).
//
// Rules:
// - Nodes: each transaction (its own span, Transaction::span_id) and each
//   of its spans. Transactions are taken in start order (ties: input
//   order); a transaction whose event_id was seen already is dropped
//   (duplicate_transactions).
// - A span's parent is the span of its own transaction named by
//   parent_span_id (or the transaction itself); when there is none, the
//   span hangs under its transaction (orphan_spans).
// - A transaction hangs under the node, of another transaction of the
//   trace, whose span id is its parent_span_id (the span it continues);
//   with no parent_span_id, or one that matches nothing, it is a root
//   (orphan_transactions counts the latter).
// - A span id seen twice: the first node (in order) keeps it for children
//   to hang under; the later ones are still nodes (duplicate_span_ids).
// - A parent chain that comes back to itself (a cycle, only possible from
//   inconsistent data) is cut (cycles_cut): in the cycle, the earliest
//   transaction becomes a root; a cycle of spans of one transaction has
//   its earliest span hang under the transaction.
// - Bounded: at most `max_transactions` transactions and `max_nodes` nodes
//   (the rest are cut, counted); building is O(nodes log nodes), no
//   recursion.
// - Children are ordered by start time (ties: input order).
//
// Thread-safety: pure function.
#ifndef CRASHCTL_TRACING_TRACE_TREE_H_
#define CRASHCTL_TRACING_TRACE_TREE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "crashctl/tracing/transaction.h"

namespace crashctl {
namespace tracing {

inline constexpr size_t kNoIndex = static_cast<size_t>(-1);

struct TraceNode {
  size_t transaction = 0;    // index into the input vector
  size_t span = kNoIndex;    // index into that transaction's spans; kNoIndex:
                             // the transaction's own node
  size_t parent = kNoIndex;  // index into TraceTree::nodes; kNoIndex: a root
  size_t depth = 0;          // 0 for roots
  std::vector<size_t> children;  // indexes into TraceTree::nodes, by start
};

struct TraceTree {
  // Depth-first, pre-order (a parent before its children, children in
  // order): writing nodes[0..] with their depth draws the tree, and a
  // nested JSON can be written with an explicit stack.
  std::vector<TraceNode> nodes;
  std::vector<size_t> roots;  // indexes into nodes, by start
  size_t duplicate_transactions = 0;
  size_t duplicate_span_ids = 0;
  size_t orphan_transactions = 0;
  size_t orphan_spans = 0;
  size_t cycles_cut = 0;
  size_t transactions_cut = 0;  // beyond max_transactions
  size_t nodes_cut = 0;         // spans beyond max_nodes
};

struct TraceTreeOptions {
  size_t max_transactions = 1000;
  size_t max_nodes = 100000;
};

TraceTree BuildTraceTree(const std::vector<Transaction>& transactions,
                         const TraceTreeOptions& options = TraceTreeOptions());

}  // namespace tracing
}  // namespace crashctl

#endif  // CRASHCTL_TRACING_TRACE_TREE_H_
