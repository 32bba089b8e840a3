// The records crashctl stores and shows: projects, error groups, events as
// stored, Kubernetes crashes, and pages of them. Plain values shared by the
// store, the REST API, alerting and the Kubernetes watcher.
//
// Thread-safety: plain values; copies may be used on any thread.
#ifndef CRASHCTL_MODEL_RECORDS_H_
#define CRASHCTL_MODEL_RECORDS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "crashctl/model/vocabulary.h"
#include "crashctl/tracing/transaction.h"

namespace crashctl {
namespace model {

struct Project {
  int64_t id = 0;
  std::string name;
  // The oldest active key (ProjectKey), "" when the project has none: the
  // DSN `project list` and GET /api/v1/projects show.
  std::string public_key;  // 32 lowercase hex characters
  double created_at = 0;
};

struct Group {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string fingerprint;
  std::string title;
  std::string culprit;
  Level level = Level::kError;  // level of the latest event
  GroupStatus status = GroupStatus::kUnresolved;
  int64_t count = 0;
  double first_seen = 0;
  double last_seen = 0;
  std::string service;  // service of the latest event
  std::string release;  // release of the latest event
  std::string first_release;
  int64_t regression_count = 0;
  // Distinct affected users (events' user keys, StoredEvent::user), kept at
  // ingest; at most the per-key bound of tag values (docs/rest-api.md).
  int64_t users = 0;
  std::vector<int64_t> linked_crashes;  // crash ids, newest first, <= 100
};

struct StoredEvent {
  std::string event_id;
  int64_t project_id = 0;
  int64_t group_id = 0;
  double timestamp = 0;
  double received = 0;
  Level level = Level::kError;
  std::string platform;
  std::string message;
  std::string release;
  std::string environment;
  std::string server_name;
  std::string service;
  std::string title;
  std::string payload;  // the original event JSON
  // contexts.trace of the event ("" when it had none): 32 / 16 lower-case
  // hex digits.
  std::string trace_id;
  std::string span_id;
  // The SDK that sent it (model::Event::sdk_name / sdk_version), "" when
  // unknown or stored before schema version 8.
  std::string sdk_name;
  std::string sdk_version;
  // The user key (model::Event::user) and the event's tags as stored
  // (schema 9; "" and none for events stored before).
  std::string user;
  std::vector<std::pair<std::string, std::string>> tags;
};

// A DSN key of a project (schema 9): a project has one or more; events are
// accepted with an active one. rate_limit_per_minute 0 means no limit.
struct ProjectKey {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string public_key;  // 32 lowercase hex characters
  std::string label;
  bool active = true;
  int64_t rate_limit_per_minute = 0;
  double created_at = 0;
};

// GET /api/v1/groups/{id}/tags: one tag key of a group and its most
// frequent values.
struct TagValueCount {
  std::string value;
  int64_t count = 0;
  double first_seen = 0;
  double last_seen = 0;
};
struct TagSummary {
  std::string key;
  int64_t values = 0;       // distinct values kept
  int64_t events = 0;       // events carrying the key (kept values + other)
  int64_t other_count = 0;  // events of values past the per-key bound
  std::vector<TagValueCount> top;  // by count descending, then value
};

// GET /api/v1/groups/{id}/stats: events of a group in [start, start +
// interval).
struct StatBucket {
  double start = 0;
  int64_t count = 0;
};

// A transaction as stored (issue 17, docs/tracing.md): the normalised
// Sentry transaction and where it belongs. `transaction.spans` is filled
// only where the reader asks for spans (Store::GetTraceTransactions).
struct StoredTransaction {
  int64_t id = 0;  // row id, 0 before it is written
  int64_t project_id = 0;
  double received = 0;  // when crashctl accepted it, epoch seconds
  tracing::Transaction transaction;
  // Set by Store::PrepareTransactionWrite on the caller's thread: the spans
  // in the store's own encoded form and their number; `transaction.spans`
  // is then released, and the store writes these instead of encoding the
  // spans on its writer.
  bool spans_encoded = false;
  std::string encoded_spans;
  size_t encoded_span_count = 0;
};

// A pod crash seen by the Kubernetes watcher (issue: kube/).
struct Crash {
  int64_t id = 0;
  std::string dedup_key;  // unique: identifies one crash (see kube/)
  std::string namespace_;
  std::string pod;
  std::string pod_uid;
  std::string container;
  std::string node;
  std::string workload_kind;  // Deployment, StatefulSet, Job, DaemonSet, ...
  std::string workload;
  std::string image;
  CrashType crash_type = CrashType::kErrorExit;
  std::string reason;
  int exit_code = 0;
  std::string signal;  // "SIGKILL" etc., "" when none
  int restart_count = 0;
  std::string memory_request;  // as in the pod spec, e.g. "128Mi"
  std::string memory_limit;
  double started_at = 0;
  double finished_at = 0;
  double created_at = 0;
  double updated_at = 0;
  std::string message;
  std::string logs;  // last log lines of the previous container
  std::vector<int64_t> linked_groups;  // group ids
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_cursor;  // "" when this is the last page
};

// Number of groups per (project, status), for the groups_active gauge.
struct GroupCount {
  int64_t project_id = 0;
  GroupStatus status = GroupStatus::kUnresolved;
  int64_t count = 0;
};

// Checks a project name: 1 to 200 bytes, not only blanks, no control
// characters (a tab or newline would break `project list`). "" when valid,
// else the reason.
std::string ProjectNameError(const std::string& name);

}  // namespace model
}  // namespace crashctl

#endif  // CRASHCTL_MODEL_RECORDS_H_
