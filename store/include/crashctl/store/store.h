// Store: the storage interface. Projects, groups, events and crashes, in
// terms any backend can implement (crashctl/store/sqlite.h opens the
// embedded SQLite one).
//
// Thread-safety: every implementation is safe to use from any number of
// threads. A call that returns OK for a write has committed it durably.
#ifndef CRASHCTL_STORE_STORE_H_
#define CRASHCTL_STORE_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crashctl/model/items.h"
#include "crashctl/model/records.h"
#include "crashctl/model/write.h"
#include "crashctl/releases/check_in.h"
#include "crashctl/releases/sessions.h"
#include "crashctl/search/query.h"
#include "crashctl/tracing/summary.h"
#include "crashctl/util/status.h"

namespace crashctl {
namespace store {

// A tag filter: events carrying tag `key` with value `value` (issue 19).
// The pseudo tags release, environment, server_name, service, user and
// level are tags too.
struct TagFilter {
  std::string key;
  std::string value;
};

// Bounds of the filters (the REST layer refuses more with 400 first).
constexpr size_t kMaxTagFilters = 8;
constexpr size_t kMaxTagKeyBytes = 32;     // as Sentry
constexpr size_t kMaxTagValueBytes = 200;  // as Sentry

// GET /api/v1/groups. Every filter set must hold (AND). `release`,
// `environment`, `user` and `tags` select the groups that have at least one
// event with that value (group_tags), `level`, `service` and `status` the
// group's own columns (its latest event's level and service),
// `first_release` the release of the group's first event; since/until the
// groups seen in [since, until): last_seen >= since and first_seen < until.
struct GroupQuery {
  std::optional<int64_t> project;
  std::optional<model::GroupStatus> status;  // none = any
  std::optional<model::Level> level;         // none = any
  std::string service;                       // "" = any
  std::string release;                       // "" = any
  std::string environment;                   // "" = any
  std::string first_release;                 // "" = any
  std::string user;                          // "" = any
  std::vector<TagFilter> tags;               // all of them; <= kMaxTagFilters
  double since = 0;                          // 0 = any
  double until = 0;                          // 0 = any
  // Full-text search (search/query.h) over the groups' title, culprit,
  // message and exception values; none = no search.
  std::optional<search::Query> query;
  std::string sort = "last_seen";  // last_seen | count | first_seen
  int limit = 50;                  // 1..1000
  std::string cursor;              // opaque, from a previous page
};

// GET /api/v1/events: events across groups, newest first by (timestamp,
// id). `release`, `environment`, `user`, `service`, `level` and `tags`
// are the event's own; `status` and `first_release` its group's; `query`
// searches the event's title, message and exception values; since/until
// bound its timestamp: [since, until).
struct EventQuery {
  std::optional<int64_t> project;
  std::optional<int64_t> group;
  std::optional<model::GroupStatus> status;  // of the event's group
  std::optional<model::Level> level;
  std::string service;
  std::string release;
  std::string environment;
  std::string first_release;  // of the event's group
  std::string user;
  std::vector<TagFilter> tags;
  double since = 0;
  double until = 0;
  std::optional<search::Query> query;
  int limit = 50;      // 1..1000
  std::string cursor;  // opaque, from a previous page
};

// GET /api/v1/groups/{id}/stats: event counts of one group per interval,
// aligned to multiples of `interval` since the epoch (UTC), zero-filled,
// over [since, until) widened to whole buckets.
struct StatsQuery {
  int64_t group_id = 0;
  int64_t interval = 3600;  // 60, 3600 or 86400 seconds
  double since = 0;
  double until = 0;
};
constexpr size_t kMaxStatBuckets = 2000;  // kInvalid beyond

// DELETE /api/v1/events?user=…[&project=…]: erase a user's events.
struct EventDeletion {
  std::optional<int64_t> project;  // none = every project
  std::string user;                // the user key; never empty
};

// PATCH /api/v1/projects/{id}/keys/{key_id}: the fields to change.
struct KeyUpdate {
  std::optional<std::string> label;
  std::optional<bool> active;
  std::optional<int64_t> rate_limit_per_minute;  // 0 = no limit
};
constexpr size_t kMaxBulkGroups = 100;  // ids of one bulk change or merge

struct CrashQuery {
  std::string namespace_;
  std::optional<model::CrashType> crash_type;  // none = any
  std::string pod;
  double since = 0;  // finished_at/updated_at >= since; 0 = any
  int limit = 50;
  std::string cursor;
};

// GET /api/v1/transactions and /summary. Times in epoch seconds.
struct TransactionQuery {
  std::optional<int64_t> project;
  std::string service;             // "" = any
  std::string transaction;         // the name; "" = any
  std::string status;              // a span status; "" = any
  double min_duration = 0;         // seconds; 0 = any
  double since = 0;                // end >= since; 0 = any
  double until = 0;                // end < until; 0 = any
  std::string sort = "timestamp";  // timestamp (the end) | duration
  int limit = 50;                  // 1..1000
  std::string cursor;              // opaque, from a previous page
};

// GET /api/v1/releases.
struct ReleaseQuery {
  std::optional<int64_t> project;
  std::string environment;  // "" = all environments together
  int limit = 50;           // 1..1000, newest first (by first_seen)
  std::string cursor;       // opaque, from a previous page
};

// One envelope's sessions (docs/release-health.md "Wiring it in"), written
// in one transaction by Store::WriteSessions.
struct SessionWrite {
  int64_t project_id = 0;
  double now = 0;                                // when crashctl received them
  std::vector<releases::SessionUpdate> updates;  // `session` items
  std::vector<releases::SessionCount> aggregate_counts;  // CountAggregates
  releases::TrackerOptions options;  // idle timeout, max age, bounds
};

// GET /api/v1/monitors.
struct MonitorQuery {
  std::optional<int64_t> project;
  std::string environment;  // "" = any
  int limit = 50;           // 1..1000, by slug then environment
  std::string cursor;
};

// What one check-in (or one scheduler tick) did to one monitor.
struct MonitorUpdate {
  model::Monitor monitor;  // as stored after the change
  bool created = false;    // the check-in created the monitor
  releases::MonitorTransition transition;
  // One per transition.alerts entry (monitors helper): the incident it
  // raises or resolves, its failure reason and start, kept in the database
  // so that a resolve carries the labels of its raise, also after a restart.
  struct Incident {
    std::string reason;  // error | missed | timeout
    int64_t started = 0;
  };
  std::vector<Incident> alert_incidents;
  // The incident open after the change (started 0 when none).
  Incident open_incident;
};

class Store {
 public:
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  virtual ~Store() = default;

  // --- projects -----------------------------------------------------------
  // kInvalid for a name ProjectNameError() refuses, kConflict when a project
  // of that name exists.
  virtual Status CreateProject(const std::string& name,
                               model::Project* out) = 0;
  virtual Status ListProjects(std::vector<model::Project>* out) = 0;
  virtual Status GetProject(int64_t id, model::Project* out) = 0;

  // --- events and groups --------------------------------------------------
  // Writes all items in one transaction: inserts each event, creates or
  // updates its group (count, last_seen, level, service, release), reopens a
  // resolved group (regression). `outcomes` gets one entry per item, in
  // order. On failure nothing is written.
  virtual Status WriteEvents(const std::vector<model::WriteItem>& items,
                             std::vector<model::WriteOutcome>* outcomes) = 0;
  // The part of writing `item` that needs no database (compressing its
  // payload), done on the caller's thread so the single writer does less.
  // Optional: WriteEvents also takes items that did not go through it.
  // Thread-safe.
  virtual void PrepareWrite(model::WriteItem* item) const { (void)item; }

  // Pages are ordered by the sort key descending, then id descending; the
  // cursor encodes the last row's (key, id), so pages stay stable while new
  // events arrive. kInvalid for an unknown sort or status, a malformed
  // cursor, or a cursor made for another sort. limit <= 0 means 50, above
  // 1000 means 1000.
  virtual Status ListGroups(const GroupQuery& query,
                            model::Page<model::Group>* out) = 0;
  virtual Status GetGroup(int64_t id, model::Group* out) = 0;
  virtual Status SetGroupStatus(int64_t id, model::GroupStatus status,
                                model::Group* out) = 0;
  // Newest first by (timestamp, id); items carry no payload (GetEvent does).
  // kNotFound when the group does not exist. limit as for ListGroups.
  virtual Status ListGroupEvents(int64_t group_id, int limit,
                                 const std::string& cursor,
                                 model::Page<model::StoredEvent>* out) = 0;
  virtual Status GetEvent(const std::string& event_id,
                          model::StoredEvent* out) = 0;
  // The distinct, non-empty trace ids of the group's latest `max_events`
  // events (newest first; at most 1000 looked at), in that order: the
  // "traces" of a group's JSON. kNotFound when the group does not exist.
  // The default reads them with ListGroupEvents.
  virtual Status ListGroupTraces(int64_t group_id, int max_events,
                                 std::vector<std::string>* trace_ids) {
    model::Page<model::StoredEvent> page;
    Status status = ListGroupEvents(group_id, max_events, "", &page);
    if (!status.ok()) return status;
    trace_ids->clear();
    for (const model::StoredEvent& event : page.items) {
      if (event.trace_id.empty()) continue;
      bool seen = false;
      for (const std::string& id : *trace_ids)
        seen = seen || id == event.trace_id;
      if (!seen) trace_ids->push_back(event.trace_id);
    }
    return Status::Ok();
  }
  virtual Status CountGroups(std::vector<model::GroupCount>* out) = 0;

  // Group ids that have an event from pod `pod` (server_name or tag `pod`)
  // with a timestamp in [from, to]; at most 1000 ids. An empty `pod` matches
  // nothing.
  virtual Status FindGroupsForPod(const std::string& pod, double from,
                                  double to,
                                  std::vector<int64_t>* group_ids) = 0;

  // --- crashes ------------------------------------------------------------
  // Inserts the crash, or updates the row with the same dedup_key (keeping
  // its id and created_at). Sets `*id` and `*inserted`. created_at and
  // updated_at of 0 mean "now". kInvalid when dedup_key is empty.
  virtual Status UpsertCrash(const model::Crash& crash, int64_t* id,
                             bool* inserted) = 0;
  virtual Status GetCrashByKey(const std::string& dedup_key,
                               model::Crash* out) = 0;
  virtual Status GetCrash(int64_t id, model::Crash* out) = 0;
  virtual Status ListCrashes(const CrashQuery& query,
                             model::Page<model::Crash>* out) = 0;
  // Stores a crash<->group link (idempotent). kNotFound when the crash or
  // the group does not exist.
  virtual Status LinkCrashGroup(int64_t crash_id, int64_t group_id) = 0;

  // --- transactions (docs/tracing.md) ------------------------------------
  // The defaults answer kInternal: a backend that stores no transactions.
  // Writes all of `transactions` with their spans in one transaction. One
  // whose (project_id, event_id) is stored already is skipped:
  // `(*stored)[i]` is false for it, true for one written. On failure
  // nothing is written.
  virtual Status WriteTransactions(
      const std::vector<model::StoredTransaction>& transactions,
      std::vector<bool>* stored) {
    (void)transactions, (void)stored;
    return NoTransactions();
  }
  // The part of writing `item` that needs no database (encoding and
  // compressing its spans into item->encoded_spans, then releasing
  // item->transaction.spans), done on the caller's thread as PrepareWrite
  // is for events. Optional: WriteTransactions also takes items that did
  // not go through it. Thread-safe.
  virtual void PrepareTransactionWrite(model::StoredTransaction* item) const {
    (void)item;
  }
  // Pages ordered by the sort key descending, then id descending (cursors
  // as for ListGroups). Items carry no spans. kInvalid for an unknown sort
  // or status, or a malformed cursor.
  virtual Status ListTransactions(const TransactionQuery& query,
                                  model::Page<model::StoredTransaction>* out) {
    (void)query, (void)out;
    return NoTransactions();
  }
  // (name, duration, status) of the transactions `query` selects (its sort,
  // limit and cursor are ignored), newest first, at most `max_rows`;
  // `*truncated` is true when more matched.
  virtual Status TransactionSamples(const TransactionQuery& query,
                                    size_t max_rows,
                                    std::vector<tracing::NamedSample>* out,
                                    bool* truncated) {
    (void)query, (void)max_rows, (void)out, (void)truncated;
    return NoTransactions();
  }
  // The transactions of trace `trace_id` with their spans, by start, at
  // most `limit`. Empty (OK) when there are none.
  virtual Status GetTraceTransactions(
      const std::string& trace_id, size_t limit,
      std::vector<model::StoredTransaction>* out) {
    (void)trace_id, (void)limit, (void)out;
    return NoTransactions();
  }
  // The error events of trace `trace_id`, newest first, at most `limit`;
  // items carry no payload.
  virtual Status ListTraceEvents(const std::string& trace_id, size_t limit,
                                 std::vector<model::StoredEvent>* out) {
    (void)trace_id, (void)limit, (void)out;
    return NoTransactions();
  }
  // Deletes transactions (and their spans) whose end is before `cutoff`,
  // in bounded batches (retention.transactions_max_age).
  virtual Status DeleteTransactionsOlderThan(double cutoff, int64_t* deleted) {
    (void)cutoff, (void)deleted;
    return NoTransactions();
  }

  // The saved state of the process-wide tracing::LabelBudget (its Export()
  // JSON, docs/tracing.md "Label state"): one value, replaced by each Save.
  // Load gives "" (OK) when none was saved. Defaults answer kInternal.
  virtual Status SaveTracingLabels(const std::string& json) {
    (void)json;
    return NoTransactions();
  }
  virtual Status LoadTracingLabels(std::string* json) {
    (void)json;
    return NoTransactions();
  }

  // --- release health (docs/release-health.md) ---------------------------
  // The defaults answer kInternal (a backend that keeps none of it).
  //
  // In one transaction: merges each update into the stored record of its
  // (project, sid) (releases::MergeSessionUpdate), adds what that counts and
  // `aggregate_counts` to the release's counters (per release, environment
  // and status; distinct users by distinct_id_hash). `counts` gets every
  // SessionCount applied, for the metrics. When more than
  // options.max_open sessions are open, the earliest deadline is closed as
  // abnormal first (counted, kEvicted). On failure nothing is written.
  virtual Status WriteSessions(const SessionWrite& write,
                               std::vector<releases::SessionCount>* counts) {
    (void)write, (void)counts;
    return NotKept("sessions");
  }
  // Closes at most `max_items` open sessions past their deadline
  // (releases::RecordDeadline) as abnormal, counting them, and forgets
  // closed records past forget_at. `*handled` = records handled.
  virtual Status ExpireSessions(double now,
                                const releases::TrackerOptions& options,
                                size_t max_items,
                                std::vector<releases::SessionCount>* counts,
                                size_t* handled) {
    (void)now, (void)options, (void)max_items, (void)counts, (void)handled;
    return NotKept("sessions");
  }
  // Releases newest first (by first_seen, then release), with their
  // session counts, users, errors and new groups.
  virtual Status ListReleases(const ReleaseQuery& query,
                              model::Page<model::ReleaseSummary>* out) {
    (void)query, (void)out;
    return NotKept("releases");
  }
  // The `per_project` most recent releases (by first_seen) of each project,
  // (project_id, release): the label values crashctl_sessions_total keeps
  // after a restart.
  virtual Status RecentReleases(
      size_t per_project, std::vector<std::pair<int64_t, std::string>>* out) {
    (void)per_project, (void)out;
    return NotKept("releases");
  }

  // --- cron monitors (docs/monitors.md) -----------------------------------
  // In one transaction: loads the state of (project, check_in.monitor_slug,
  // check_in.environment) (a new monitor starts from releases::MonitorState
  // {}; kTooLarge, nothing written, when the project has
  // `max_monitors_per_project` monitors already), applies
  // releases::ApplyCheckIn at `now`, stores the new state, its next deadline
  // and the transition's records (none when it was ignored).
  virtual Status ApplyCheckIn(int64_t project_id,
                              const releases::CheckIn& check_in, int64_t now,
                              size_t max_monitors_per_project,
                              MonitorUpdate* out) {
    (void)project_id, (void)check_in, (void)now, (void)max_monitors_per_project,
        (void)out;
    return NotKept("monitors");
  }
  // For at most `max_monitors` monitors whose next deadline is <= now, in
  // deadline order: releases::TickMonitor at `now`, stored as ApplyCheckIn
  // stores (each monitor in its own transaction, or all in one). Only the
  // monitors whose transition has records or alerts are appended.
  virtual Status TickMonitors(int64_t now, size_t max_monitors,
                              std::vector<MonitorUpdate>* out) {
    (void)now, (void)max_monitors, (void)out;
    return NotKept("monitors");
  }
  // The earliest next deadline of any monitor; none when nothing is due.
  virtual Status NextMonitorDeadline(std::optional<int64_t>* out) {
    (void)out;
    return NotKept("monitors");
  }
  virtual Status ListMonitors(const MonitorQuery& query,
                              model::Page<model::Monitor>* out) {
    (void)query, (void)out;
    return NotKept("monitors");
  }
  // kNotFound when there is no monitor `id`.
  virtual Status GetMonitor(int64_t id, model::Monitor* out) {
    (void)id, (void)out;
    return NotKept("monitors");
  }
  // Newest first (by received, then id); cursors as for ListGroups.
  virtual Status ListMonitorCheckIns(int64_t monitor_id, int limit,
                                     const std::string& cursor,
                                     model::Page<model::MonitorCheckIn>* out) {
    (void)monitor_id, (void)limit, (void)cursor, (void)out;
    return NotKept("monitors");
  }

  // --- attachments and feedback -------------------------------------------
  // Writes the attachments in one transaction, idempotent on (project_id,
  // event_id, position): a retried envelope writes nothing twice. Spooled
  // ones are read from their file (the caller deletes it afterwards).
  virtual Status WriteAttachments(
      const std::vector<model::Attachment>& attachments) {
    (void)attachments;
    return NotKept("attachments");
  }
  // The attachments of an event, by position, without their bytes.
  virtual Status ListAttachments(const std::string& event_id,
                                 std::vector<model::Attachment>* out) {
    (void)event_id, (void)out;
    return NotKept("attachments");
  }
  // One attachment with its bytes; kNotFound when the event has none of
  // that id.
  virtual Status GetAttachment(const std::string& event_id,
                               const std::string& attachment_id,
                               model::Attachment* out) {
    (void)event_id, (void)attachment_id, (void)out;
    return NotKept("attachments");
  }
  // Writes user reports and feedback in one transaction, idempotent on
  // (project_id, feedback_id).
  virtual Status WriteFeedback(const std::vector<model::Feedback>& feedback) {
    (void)feedback;
    return NotKept("feedback");
  }
  // The feedback about an event / a group's events, newest first.
  virtual Status ListEventFeedback(const std::string& event_id, size_t limit,
                                   std::vector<model::Feedback>* out) {
    (void)event_id, (void)limit, (void)out;
    return NotKept("feedback");
  }
  virtual Status ListGroupFeedback(int64_t group_id, size_t limit,
                                   std::vector<model::Feedback>* out) {
    (void)group_id, (void)limit, (void)out;
    return NotKept("feedback");
  }

  // --- search, stats, tags (issue 19; sqlite_store_search.cc) -------------
  // The defaults answer kInternal (a backend that keeps none of it).
  //
  // Cursors as for ListGroups (sort "timestamp"). kInvalid for a malformed
  // cursor or filters past their bounds.
  virtual Status ListEvents(const EventQuery& query,
                            model::Page<model::StoredEvent>* out) {
    (void)query, (void)out;
    return NotKept("event search");
  }
  // One bucket per interval from floor(since / interval) * interval up to
  // until, in order, zero-filled; kInvalid for an interval other than 60,
  // 3600 or 86400, since >= until, or more than kMaxStatBuckets buckets;
  // kNotFound when the group does not exist.
  virtual Status GroupStats(const StatsQuery& query,
                            std::vector<model::StatBucket>* out) {
    (void)query, (void)out;
    return NotKept("group stats");
  }
  // Every tag key of the group (by events carrying it, descending, then
  // key), each with its `top` most frequent values. kNotFound when the
  // group does not exist.
  virtual Status GroupTags(int64_t group_id, size_t top,
                           std::vector<model::TagSummary>* out) {
    (void)group_id, (void)top, (void)out;
    return NotKept("group tags");
  }

  // --- bulk changes, merge, deletes (issue 19; sqlite_store_admin.cc) -----
  // Sets the status of every group in `ids` (1..kMaxBulkGroups, duplicates
  // ignored) in one transaction; kNotFound naming the first missing id and
  // nothing changed. `out` gets the groups after the change, in `ids`' order.
  virtual Status SetGroupsStatus(const std::vector<int64_t>& ids,
                                 model::GroupStatus status,
                                 std::vector<model::Group>* out) {
    (void)ids, (void)status, (void)out;
    return NotKept("group changes");
  }
  // Merges the groups `from` (1..kMaxBulkGroups, same project as `into`,
  // not `into`) into `into`, in one transaction: their events, tag counts,
  // hourly counts, search rows, crash links and feedback move; their
  // fingerprints (and those aliased to them) become aliases of `into`, so
  // later events of them land there; `into`'s count, first/last seen,
  // first_release and users are recomputed; the `from` groups are deleted.
  // kNotFound for a missing group, kInvalid for another project or `into`
  // in `from`. `out` gets `into` after the merge.
  virtual Status MergeGroups(int64_t into, const std::vector<int64_t>& from,
                             model::Group* out) {
    (void)into, (void)from, (void)out;
    return NotKept("group changes");
  }
  // Deletes a group with its events (in bounded batches, each its own
  // transaction; the group row last), links, attachments, feedback, tags,
  // stats and aliases. A later event of its fingerprint makes a new group.
  // kNotFound when it does not exist.
  virtual Status DeleteGroup(int64_t id) {
    (void)id;
    return NotKept("group changes");
  }
  // Deletes the events of `which.user` in bounded batches; the counters of
  // the groups they were in are recomputed (count, first/last seen, tags,
  // users, hourly counts) and groups left without events deleted.
  // `*deleted` = events deleted. kInvalid for an empty user.
  virtual Status DeleteEvents(const EventDeletion& which, int64_t* deleted) {
    (void)which, (void)deleted;
    return NotKept("event deletes");
  }
  // Deletes a project and everything of it (events in bounded batches;
  // groups, crashes links, transactions, sessions, releases, monitors,
  // attachments, feedback, keys). kNotFound when it does not exist.
  virtual Status DeleteProject(int64_t id) {
    (void)id;
    return NotKept("project deletes");
  }

  // --- project keys (issue 19; sqlite_store_keys.cc) ---------------------
  // A project's keys, oldest first. kNotFound for an unknown project.
  virtual Status ListKeys(int64_t project_id,
                          std::vector<model::ProjectKey>* out) {
    (void)project_id, (void)out;
    return NotKept("project keys");
  }
  // Every key of every project (active or not), for the ingest key cache.
  virtual Status ListAllKeys(std::vector<model::ProjectKey>* out) {
    (void)out;
    return NotKept("project keys");
  }
  // A new random key. kNotFound for an unknown project, kInvalid for a
  // negative rate limit or a label over 200 bytes.
  virtual Status CreateKey(int64_t project_id, const std::string& label,
                           int64_t rate_limit_per_minute,
                           model::ProjectKey* out) {
    (void)project_id, (void)label, (void)rate_limit_per_minute, (void)out;
    return NotKept("project keys");
  }
  // kNotFound when the project has no key `key_id`.
  virtual Status UpdateKey(int64_t project_id, int64_t key_id,
                           const KeyUpdate& update, model::ProjectKey* out) {
    (void)project_id, (void)key_id, (void)update, (void)out;
    return NotKept("project keys");
  }
  virtual Status DeleteKey(int64_t project_id, int64_t key_id) {
    (void)project_id, (void)key_id;
    return NotKept("project keys");
  }

  // --- maintenance --------------------------------------------------------
  // Deletes events (and crashes) older than `cutoff` (epoch seconds) in
  // bounded batches; groups left without events are deleted too. The
  // newest event (by id) is kept whatever its age: event ids must only
  // grow (see GroupFolds).
  virtual Status DeleteOlderThan(double cutoff, int64_t* deleted) = 0;
  // Deletes up to `limit` of the oldest events (by timestamp, then id), in
  // bounded batches, then the groups left without events and the crashes
  // last updated before the oldest event that remains; `*deleted` = events
  // deleted. As for DeleteOlderThan, the newest event (by id) is kept: when
  // only it is left, nothing is deleted and `*deleted` is 0. For size-based
  // retention (Retention::Options::max_size_bytes).
  virtual Status DeleteOldestEvents(int64_t limit, int64_t* deleted) = 0;
  // Bytes the stored data occupies, not counting space the backend holds
  // free for reuse (SQLite: (page_count - freelist_count) * page_size of the
  // database; the WAL is not counted). What size-based retention compares
  // with its limit. The default is Stats::size_bytes.
  virtual Status UsedBytes(int64_t* bytes) {
    *bytes = GetStats().size_bytes;
    return Status::Ok();
  }
  // Verifies the stored data (SQLite: `PRAGMA integrity_check`); OK when
  // nothing is wrong.
  virtual Status IntegrityCheck() = 0;

  // --- health and housekeeping -------------------------------------------
  struct Stats {
    int64_t size_bytes = 0;     // storage used by this store's data
    int64_t write_retries = 0;  // writes that met a lock and retried, ever
    // Counter updates held in memory, not yet written (readers never see
    // them missing: a read of groups writes them first). At most 10,000.
    size_t deferred_updates = 0;
  };
  // Cheap: no I/O beyond a stat().
  virtual Stats GetStats() = 0;

  // Commits a write that changes no data, to tell whether writes can
  // succeed right now (after a disk-full, read-only or connection failure).
  // kUnavailable when they cannot. The default does nothing.
  virtual Status HealthProbe() { return Status::Ok(); }

  // Work a backend keeps off the acknowledged write path. The ingest writer
  // calls Maintain(kAfterBatch) after it has acknowledged each batch (so no
  // acknowledgement waits for it), and Maintain(kIdle) when no events have
  // arrived for a while (SqliteStore: writes the deferred group counters at
  // kIdle and runs a WAL checkpoint a write left due at kAfterBatch). The
  // default does nothing.
  enum class Maintenance { kAfterBatch, kIdle };
  virtual Status Maintain(Maintenance when) {
    (void)when;
    return Status::Ok();
  }

 private:
  static Status NoTransactions() { return NotKept("transactions"); }
  static Status NotKept(const char* what) {
    return Status::Internal(std::string("this store keeps no ") + what);
  }
};

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_STORE_H_
