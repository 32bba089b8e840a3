// Store: projects, groups, events and crashes in one embedded SQLite database.
//
// Thread-safety: a Store is safe to use from any number of threads. Writes go
// through one write connection, serialised by a mutex; reads use a small pool
// of separate read connections (WAL mode lets them run beside the writer).
// A call that returns OK for a write has committed it durably
// (synchronous=FULL).
#ifndef CRASHCTL_STORE_STORE_H_
#define CRASHCTL_STORE_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "grouping/grouping.h"

namespace crashctl {

// Outcome of a store call. `code` tells callers how to answer over HTTP.
struct StoreStatus {
  enum Code {
    kOk = 0,
    kNotFound,     // no such row
    kInvalid,      // bad argument (e.g. malformed cursor, unknown status)
    kConflict,     // the row exists already (e.g. a project of that name)
    kUnavailable,  // disk full, read-only database, I/O error: retry later
    kInternal,
  };
  Code code = kOk;
  std::string message;
  bool ok() const { return code == kOk; }
  static StoreStatus Ok() { return {}; }
};

struct Project {
  int64_t id = 0;
  std::string name;
  std::string public_key;  // 32 lowercase hex characters
  double created_at = 0;
};

// Group status values as stored and shown: "unresolved", "resolved",
// "ignored".
struct Group {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string fingerprint;
  std::string title;
  std::string culprit;
  std::string level;   // level of the latest event
  std::string status;  // unresolved | resolved | ignored
  int64_t count = 0;
  double first_seen = 0;
  double last_seen = 0;
  std::string service;  // service of the latest event
  std::string release;  // release of the latest event
  std::string first_release;
  int64_t regression_count = 0;
  std::vector<int64_t> linked_crashes;  // crash ids, newest first, <= 100
};

struct StoredEvent {
  std::string event_id;
  int64_t project_id = 0;
  int64_t group_id = 0;
  double timestamp = 0;
  double received = 0;
  std::string level;
  std::string platform;
  std::string message;
  std::string release;
  std::string environment;
  std::string server_name;
  std::string service;
  std::string title;
  std::string payload;  // the original event JSON
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
  std::string crash_type;  // oom_killed, crash_loop, init_failed, evicted,
                           // restart_threshold, error_exit
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

// One event on its way into the store, with its computed group.
struct WriteItem {
  Event event;
  GroupingResult grouping;
  // The store's encoding of event.raw_json, made by Store::PrepareWrite on
  // the submitting thread; empty when the item did not go through it.
  std::string stored_payload;
};

// What happened to one WriteItem.
struct WriteOutcome {
  int64_t group_id = 0;
  bool new_group = false;   // the group was created by this event
  bool regression = false;  // the group was resolved and reopened
  bool duplicate = false;   // event_id already stored: nothing written
};

struct GroupQuery {
  std::optional<int64_t> project;
  std::string status;              // "" = any
  std::string level;               // "" = any
  std::string service;             // "" = any
  std::string sort = "last_seen";  // last_seen | count | first_seen
  int limit = 50;                  // 1..1000
  std::string cursor;              // opaque, from a previous page
};

struct CrashQuery {
  std::string namespace_;
  std::string crash_type;
  std::string pod;
  double since = 0;  // finished_at/updated_at >= since; 0 = any
  int limit = 50;
  std::string cursor;
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_cursor;  // "" when this is the last page
};

// Number of groups per (project, status), for the groups_active gauge.
struct GroupCount {
  int64_t project_id = 0;
  std::string status;
  int64_t count = 0;
};

// Checks a project name: 1 to 200 bytes, not only blanks, no control
// characters (a tab or newline would break `project list`). "" when valid,
// else the reason.
std::string ProjectNameError(const std::string& name);

class Store {
 public:
  // Opens (creating if needed) the database at `path`, switches it to WAL
  // mode and applies pending schema migrations. Returns null and sets
  // `*error` on failure.
  static std::unique_ptr<Store> Open(const std::string& path,
                                     std::string* error);
  // Open() for the one process that ingests events (`crashctl serve`): group
  // counters are written about once a second instead of with every batch,
  // and the ones a crash left unwritten are recovered here.
  static std::unique_ptr<Store> OpenForIngest(const std::string& path,
                                              std::string* error);
  virtual ~Store() = default;

  // --- projects -----------------------------------------------------------
  // kInvalid for a name ProjectNameError() refuses, kConflict when a project
  // of that name exists.
  virtual StoreStatus CreateProject(const std::string& name, Project* out) = 0;
  virtual StoreStatus ListProjects(std::vector<Project>* out) = 0;
  virtual StoreStatus GetProject(int64_t id, Project* out) = 0;

  // --- events and groups --------------------------------------------------
  // Writes all items in one transaction: inserts each event, creates or
  // updates its group (count, last_seen, level, service, release), reopens a
  // resolved group (regression). `outcomes` gets one entry per item, in
  // order. On failure nothing is written.
  virtual StoreStatus WriteEvents(const std::vector<WriteItem>& items,
                                  std::vector<WriteOutcome>* outcomes) = 0;
  // The part of writing `item` that needs no database (compressing its
  // payload), done on the caller's thread so the single writer does less.
  // Optional: WriteEvents also takes items that did not go through it.
  // Thread-safe.
  virtual void PrepareWrite(WriteItem* item) const { (void)item; }

  // Pages are ordered by the sort key descending, then id descending; the
  // cursor encodes the last row's (key, id), so pages stay stable while new
  // events arrive. kInvalid for an unknown sort or status, a malformed
  // cursor, or a cursor made for another sort. limit <= 0 means 50, above
  // 1000 means 1000.
  virtual StoreStatus ListGroups(const GroupQuery& query, Page<Group>* out) = 0;
  virtual StoreStatus GetGroup(int64_t id, Group* out) = 0;
  virtual StoreStatus SetGroupStatus(int64_t id, const std::string& status,
                                     Group* out) = 0;
  // Newest first by (timestamp, id); items carry no payload (GetEvent does).
  // kNotFound when the group does not exist. limit as for ListGroups.
  virtual StoreStatus ListGroupEvents(int64_t group_id, int limit,
                                      const std::string& cursor,
                                      Page<StoredEvent>* out) = 0;
  virtual StoreStatus GetEvent(const std::string& event_id,
                               StoredEvent* out) = 0;
  virtual StoreStatus CountGroups(std::vector<GroupCount>* out) = 0;

  // Group ids that have an event from pod `pod` (server_name or tag `pod`)
  // with a timestamp in [from, to]; at most 1000 ids. An empty `pod` matches
  // nothing.
  virtual StoreStatus FindGroupsForPod(const std::string& pod, double from,
                                       double to,
                                       std::vector<int64_t>* group_ids) = 0;

  // --- crashes ------------------------------------------------------------
  // Inserts the crash, or updates the row with the same dedup_key (keeping
  // its id and created_at). Sets `*id` and `*inserted`. created_at and
  // updated_at of 0 mean "now". kInvalid when dedup_key is empty.
  virtual StoreStatus UpsertCrash(const Crash& crash, int64_t* id,
                                  bool* inserted) = 0;
  virtual StoreStatus GetCrashByKey(const std::string& dedup_key,
                                    Crash* out) = 0;
  virtual StoreStatus GetCrash(int64_t id, Crash* out) = 0;
  virtual StoreStatus ListCrashes(const CrashQuery& query,
                                  Page<Crash>* out) = 0;
  // Stores a crash<->group link (idempotent). kNotFound when the crash or
  // the group does not exist.
  virtual StoreStatus LinkCrashGroup(int64_t crash_id, int64_t group_id) = 0;

  // --- maintenance --------------------------------------------------------
  // Deletes events (and crashes) older than `cutoff` (epoch seconds) in
  // bounded batches; groups left without events are deleted too. The
  // newest event (by id) is kept whatever its age: event ids must only
  // grow (see GroupFolds).
  virtual StoreStatus DeleteOlderThan(double cutoff, int64_t* deleted) = 0;
  // Size of the database files (main + WAL) in bytes.
  virtual int64_t SizeBytes() = 0;
  // Runs `PRAGMA integrity_check`; OK when it answers "ok".
  virtual StoreStatus IntegrityCheck() = 0;
  // Number of times a write met SQLITE_BUSY and retried.
  virtual int64_t BusyRetries() = 0;

  // Commits a tiny write transaction that changes no data, to tell whether
  // writes can succeed right now (after a disk-full or read-only failure).
  // kUnavailable when they cannot. The default does nothing.
  virtual StoreStatus ProbeWrite() { return StoreStatus::Ok(); }
  // Writes what the store keeps in memory for a while (SqliteStore: group
  // counters); reads of groups do this themselves. The ingest writer calls
  // it when no events have arrived for a while.
  virtual StoreStatus FlushGroupCounters() { return StoreStatus::Ok(); }
  // Runs the WAL checkpoint a write left due (SqliteStore: the WAL reached
  // its inline limit), outside any transaction. The ingest writer calls it
  // after acknowledging each batch, so that no acknowledgement waits for
  // it; a write that finds one due runs it before it begins. The default
  // does nothing.
  virtual void CheckpointIfDue() {}
  // Groups whose counters wait in memory (the crashctl_group_counters_pending
  // gauge); at most 10,000.
  virtual size_t PendingGroupCounters() { return 0; }
};

}  // namespace crashctl

#endif  // CRASHCTL_STORE_STORE_H_
