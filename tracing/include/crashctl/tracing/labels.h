// Bounded Prometheus labels for transactions and spans, as Sentry Relay
// bounds the cardinality of its transaction metrics (docs/tracing.md#labels):
//
//   crashctl_transaction_duration_seconds{project,service,transaction,method,status}
//   crashctl_span_duration_seconds{project,service,op}
//
// - transaction: the name, when its source says it is low-cardinality
//   (route, view, component, task, custom, sanitized); `<< unparameterized >>`
//   for source url, and for an unknown/missing source when the name looks
//   like a URL path holding an id (TransactionNameLabel). Past
//   max_transactions names per project, new names fold into `other`.
// - op: SanitizeOp (lower case, [a-z0-9._-], at most kMaxOpLabelBytes);
//   past max_ops per project, `other`.
// - service: at most max_services per project, then `other`.
// - method and status are closed sets already (transaction.h).
// - series: at most max_series distinct label sets per project over both
//   families; a new one past that has its transaction (op) set to `other`,
//   and if that set is new too, its service as well. Sets whose
//   transaction (op) and service are both `other` are always admitted
//   (at most 9 method values x 17 statuses + 1 span set), so a project
//   never has more than max_series + 154 series.
// Label values taken from payloads (names, services) have control
// characters replaced by '_'; they are valid UTF-8 already (the parser
// validates it).
//
// A value once admitted stays admitted for the life of the LabelBudget
// (series never move between label sets). Export()/Import() carry the
// admitted sets so that several replicas can agree on them: the integrator
// persists Export() (e.g. in the database, periodically and at shutdown)
// and each replica Import()s it at start-up and from time to time. With
// kReplace a replica adopts the stored sets as they are; with kMerge it
// keeps its own and adds the stored ones that still fit, in stored order.
//
// Thread-safety: LabelBudget is thread-safe (one mutex); BoundedSet and
// the free functions are not / are pure, respectively.
#ifndef CRASHCTL_TRACING_LABELS_H_
#define CRASHCTL_TRACING_LABELS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "crashctl/tracing/transaction.h"
#include "crashctl/util/status.h"

namespace crashctl {
namespace tracing {

inline constexpr std::string_view kUnparameterized = "<< unparameterized >>";
inline constexpr std::string_view kOther = "other";
inline constexpr size_t kMaxOpLabelBytes = 64;
// The op label of a span or transaction without op.
inline constexpr std::string_view kDefaultOp = "default";

// The label candidate for a transaction name (before the per-project cap):
// `name` for sources route, view, component, task, custom, sanitized;
// kUnparameterized for url; for unknown (or missing) source, `name` unless
// LooksLikeUrlWithIds(name).
std::string TransactionNameLabel(std::string_view source,
                                 std::string_view name);
// True when `name`, after an optional HTTP method and blank ("GET "), is a
// path ("/..." or "scheme://host/...") with a segment that looks like an id:
// one holding a digit that is all digits, a UUID, 8+ hex digits, or longer
// than 24 characters with a digit, or any query string ('?').
bool LooksLikeUrlWithIds(std::string_view name);
// `op` lower-cased, every byte outside [a-z0-9._-] replaced by '_', cut to
// kMaxOpLabelBytes; kDefaultOp when empty.
std::string SanitizeOp(std::string_view op);

// A first-come set of at most `max` values; values not admitted fold.
// Thread-compatible (LabelBudget locks around it).
class BoundedSet {
 public:
  explicit BoundedSet(size_t max) : max_(max) {}
  // True when `value` is (now) in the set: it was, or there was room.
  bool Admit(const std::string& value);
  bool Contains(const std::string& value) const {
    return index_.count(value) != 0;
  }
  size_t size() const { return order_.size(); }
  size_t max() const { return max_; }
  // In admission order.
  const std::vector<std::string>& values() const { return order_; }
  void Clear();

 private:
  size_t max_;
  std::vector<std::string> order_;
  std::unordered_set<std::string> index_;
};

struct LabelLimits {
  size_t max_transactions = 100;  // per project (tracing.max_transactions)
  size_t max_ops = 50;            // per project
  size_t max_services = 100;      // per project
  size_t max_series = 20000;      // per project, both histogram families
};

// Labels of one crashctl_transaction_duration_seconds observation, and
// which of them were folded (for a folds counter).
struct TransactionLabels {
  std::string service;
  std::string transaction;
  std::string method;  // "" when the transaction had no HTTP method
  std::string status;
  bool name_folded = false;      // the name became `other` (per-project cap)
  bool unparameterized = false;  // the name became `<< unparameterized >>`
  bool service_folded = false;   // the service became `other`
  bool series_folded = false;    // the series budget changed the labels
};

// Labels of one crashctl_span_duration_seconds observation.
struct SpanLabels {
  std::string service;
  std::string op;
  bool op_folded = false;
  bool service_folded = false;
  bool series_folded = false;
};

// Totals since construction (or since the last Import with kReplace, for
// the sizes), for gauges and counters.
struct LabelStats {
  uint64_t name_folds = 0;
  uint64_t unparameterized = 0;
  uint64_t op_folds = 0;
  uint64_t service_folds = 0;
  uint64_t series_folds = 0;
  size_t projects = 0;
  size_t series = 0;  // admitted label sets, all projects
};

class LabelBudget {
 public:
  explicit LabelBudget(const LabelLimits& limits = LabelLimits());
  LabelBudget(const LabelBudget&) = delete;
  LabelBudget& operator=(const LabelBudget&) = delete;

  // The labels under which to observe `tx.duration()` for `project`.
  TransactionLabels ForTransaction(int64_t project, const Transaction& tx);
  // The labels under which to observe `span.duration()`; `service` is the
  // service as sent (the transaction's), folded here the same way.
  SpanLabels ForSpan(int64_t project, std::string_view service,
                     const Span& span);

  LabelStats stats() const;
  const LabelLimits& limits() const { return limits_; }

  // The admitted sets as JSON (docs/tracing.md#label-state):
  // {"version":1,"projects":[{"project":N,"transactions":[...],"ops":[...],
  //  "services":[...],"transaction_series":[[service,transaction,method,
  //  status],...],"span_series":[[service,op],...]}]}, projects by id, each
  // list in admission order. Deterministic for a given state.
  std::string Export() const;
  enum class ImportMode { kMerge, kReplace };
  // Reads what Export() wrote. Values are bounded and sanitised again and
  // the limits of this LabelBudget apply (what does not fit is skipped).
  // kInvalid (state unchanged) when `json` is not such a document.
  Status Import(std::string_view json, ImportMode mode);

 private:
  struct ProjectState {
    explicit ProjectState(const LabelLimits& limits);
    BoundedSet names;
    BoundedSet ops;
    BoundedSet services;
    // Both families' label sets, keyed by SeriesKey (family 't' or 's'
    // and the length-prefixed labels), and in admission order.
    std::unordered_set<std::string> series;
    std::vector<std::vector<std::string>> transaction_series;
    std::vector<std::vector<std::string>> span_series;
  };
  ProjectState& Project(int64_t project);  // mu_ held
  std::string FoldService(ProjectState* p, std::string_view service,
                          bool* folded);  // mu_ held
  // Admits the label set `labels` of family `family` ('t' or 's'), or
  // returns false when the budget is full (unless `always`).
  bool AdmitSeries(ProjectState* p, char family,
                   const std::vector<std::string>& labels,
                   bool always);  // mu_ held

  const LabelLimits limits_;
  mutable std::mutex mu_;
  std::map<int64_t, ProjectState> projects_;
  LabelStats stats_;
};

}  // namespace tracing
}  // namespace crashctl

#endif  // CRASHCTL_TRACING_LABELS_H_
