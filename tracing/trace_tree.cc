#include "crashctl/tracing/trace_tree.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace crashctl {
namespace tracing {
namespace {

struct WorkNode {
  size_t transaction;
  size_t span;
  double start;
  std::string_view id;
  std::string_view parent_id;
  size_t tx_node;  // the node of its transaction (itself for a transaction)
  size_t parent = kNoIndex;
};

// Key of a span id within one transaction.
std::string LocalKey(size_t transaction, std::string_view id) {
  std::string key(id);
  key.push_back('/');
  key += std::to_string(transaction);
  return key;
}

}  // namespace

TraceTree BuildTraceTree(const std::vector<Transaction>& transactions,
                         const TraceTreeOptions& options) {
  TraceTree tree;
  // Transactions by start, first of each event id.
  std::vector<size_t> order(transactions.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return transactions[a].start < transactions[b].start;
  });
  std::vector<size_t> kept;
  std::unordered_set<std::string_view> event_ids;
  for (size_t i : order) {
    if (!event_ids.insert(transactions[i].event_id).second) {
      ++tree.duplicate_transactions;
      continue;
    }
    if (kept.size() >= options.max_transactions) {
      ++tree.transactions_cut;
      continue;
    }
    kept.push_back(i);
  }

  // Nodes: every transaction first, then the spans while there is room.
  std::vector<WorkNode> nodes;
  for (size_t i : kept) {
    const Transaction& tx = transactions[i];
    nodes.push_back(WorkNode{i, kNoIndex, tx.start, tx.span_id,
                             tx.parent_span_id, nodes.size()});
  }
  const size_t tx_count = nodes.size();
  for (size_t t = 0; t < tx_count; ++t) {
    const Transaction& tx = transactions[nodes[t].transaction];
    for (size_t s = 0; s < tx.spans.size(); ++s) {
      if (nodes.size() >= std::max(options.max_nodes, tx_count)) {
        tree.nodes_cut += tx.spans.size() - s;
        break;
      }
      const Span& span = tx.spans[s];
      nodes.push_back(WorkNode{nodes[t].transaction, s, span.start,
                               span.span_id, span.parent_span_id, t});
    }
  }

  // Span ids: the first node of each id, in the whole trace and within its
  // own transaction.
  std::unordered_map<std::string_view, size_t> global;
  std::unordered_map<std::string, size_t> local;
  for (size_t n = 0; n < nodes.size(); ++n) {
    if (!global.emplace(nodes[n].id, n).second) ++tree.duplicate_span_ids;
    local.emplace(LocalKey(nodes[n].transaction, nodes[n].id), n);
  }

  // Parents.
  for (size_t n = 0; n < nodes.size(); ++n) {
    WorkNode& node = nodes[n];
    if (node.span == kNoIndex) {
      if (node.parent_id.empty()) continue;
      auto it = global.find(node.parent_id);
      if (it != global.end() &&
          nodes[it->second].transaction != node.transaction) {
        node.parent = it->second;
      } else {
        ++tree.orphan_transactions;
      }
      continue;
    }
    auto it = node.parent_id.empty()
                  ? local.end()
                  : local.find(LocalKey(node.transaction, node.parent_id));
    if (it != local.end() && it->second != n) {
      node.parent = it->second;
    } else {
      node.parent = node.tx_node;
      ++tree.orphan_spans;
    }
  }

  // Cycles: walk each parent chain once; a chain that meets itself is cut.
  // 0 = not seen, 1 = on the current path, 2 = known to reach a root.
  std::vector<uint8_t> state(nodes.size(), 0);
  std::vector<size_t> path;
  for (size_t n = 0; n < nodes.size(); ++n) {
    if (state[n] != 0) continue;
    path.clear();
    size_t x = n;
    // Each step either marks a new node or cuts a cycle (after which the
    // walk goes on from the cut node), so this ends.
    for (;;) {
      if (x == kNoIndex || state[x] == 2) break;
      if (state[x] == 0) {
        state[x] = 1;
        path.push_back(x);
        x = nodes[x].parent;
        continue;
      }
      // state[x] == 1: the cycle is path[from..].
      size_t from = path.size();
      while (from > 0 && path[from - 1] != x) --from;
      --from;
      size_t cut = kNoIndex;
      for (size_t k = from; k < path.size(); ++k) {
        const size_t m = path[k];
        if (nodes[m].span == kNoIndex && (cut == kNoIndex || m < cut)) cut = m;
      }
      const bool spans_only = cut == kNoIndex;
      if (spans_only) {
        for (size_t k = from; k < path.size(); ++k) {
          const size_t m = path[k];
          if (cut == kNoIndex || nodes[m].start < nodes[cut].start ||
              (nodes[m].start == nodes[cut].start && m < cut)) {
            cut = m;
          }
        }
      }
      ++tree.cycles_cut;
      nodes[cut].parent = spans_only ? nodes[cut].tx_node : kNoIndex;
      // The nodes after `cut` on the path no longer lead here: forget them.
      size_t at = from;
      while (path[at] != cut) ++at;
      for (size_t k = at + 1; k < path.size(); ++k) state[path[k]] = 0;
      path.resize(at + 1);
      x = nodes[cut].parent;
    }
    for (size_t m : path) state[m] = 2;
  }

  // Children by start, then pre-order.
  std::vector<std::vector<size_t>> children(nodes.size());
  std::vector<size_t> roots;
  for (size_t n = 0; n < nodes.size(); ++n) {
    if (nodes[n].parent == kNoIndex) {
      roots.push_back(n);
    } else {
      children[nodes[n].parent].push_back(n);
    }
  }
  auto by_start = [&nodes](size_t a, size_t b) {
    if (nodes[a].start != nodes[b].start)
      return nodes[a].start < nodes[b].start;
    return a < b;
  };
  std::sort(roots.begin(), roots.end(), by_start);
  for (auto& c : children) std::sort(c.begin(), c.end(), by_start);

  struct Item {
    size_t node;
    size_t parent;  // new index
    size_t depth;
  };
  std::vector<Item> stack;
  for (auto it = roots.rbegin(); it != roots.rend(); ++it) {
    stack.push_back(Item{*it, kNoIndex, 0});
  }
  tree.nodes.reserve(nodes.size());
  while (!stack.empty()) {
    const Item item = stack.back();
    stack.pop_back();
    const size_t index = tree.nodes.size();
    TraceNode out;
    out.transaction = nodes[item.node].transaction;
    out.span = nodes[item.node].span;
    out.parent = item.parent;
    out.depth = item.depth;
    tree.nodes.push_back(std::move(out));
    if (item.parent == kNoIndex) {
      tree.roots.push_back(index);
    } else {
      tree.nodes[item.parent].children.push_back(index);
    }
    const auto& c = children[item.node];
    for (auto it = c.rbegin(); it != c.rend(); ++it) {
      stack.push_back(Item{*it, index, item.depth + 1});
    }
  }
  return tree;
}

}  // namespace tracing
}  // namespace crashctl
