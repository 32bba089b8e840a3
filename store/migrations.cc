#include "migrations.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <string>

#include "crashctl/util/time.h"

namespace crashctl {
namespace store {
namespace {

// Version 1: projects, groups and events.
//
// Every index implicitly ends with the rowid (`id`), so an index on
// (last_seen) serves ORDER BY last_seen DESC, id DESC and the keyset
// condition (last_seen, id) < (?, ?) without a sort step.
constexpr char kV1[] = R"sql(
CREATE TABLE projects (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  public_key  TEXT NOT NULL UNIQUE,
  created_at  REAL NOT NULL
);

CREATE TABLE groups (
  id                INTEGER PRIMARY KEY,
  project_id        INTEGER NOT NULL REFERENCES projects(id),
  fingerprint       TEXT NOT NULL,
  title             TEXT NOT NULL DEFAULT '',
  culprit           TEXT NOT NULL DEFAULT '',
  level             TEXT NOT NULL DEFAULT '',
  status            TEXT NOT NULL DEFAULT 'unresolved'
                    CHECK (status IN ('unresolved', 'resolved', 'ignored')),
  count             INTEGER NOT NULL DEFAULT 0,
  first_seen        REAL NOT NULL,
  last_seen         REAL NOT NULL,
  service           TEXT NOT NULL DEFAULT '',
  release           TEXT NOT NULL DEFAULT '',
  first_release     TEXT NOT NULL DEFAULT '',
  regression_count  INTEGER NOT NULL DEFAULT 0,
  resolved_at       REAL,
  UNIQUE (project_id, fingerprint)
);
CREATE INDEX groups_project_status_last_seen
  ON groups (project_id, status, last_seen);
CREATE INDEX groups_project_last_seen ON groups (project_id, last_seen);
CREATE INDEX groups_project_count ON groups (project_id, count);
CREATE INDEX groups_project_first_seen ON groups (project_id, first_seen);
CREATE INDEX groups_last_seen ON groups (last_seen);
CREATE INDEX groups_count ON groups (count);
CREATE INDEX groups_first_seen ON groups (first_seen);
CREATE INDEX groups_level ON groups (level);
CREATE INDEX groups_service ON groups (service);

CREATE TABLE events (
  id           INTEGER PRIMARY KEY,
  event_id     TEXT NOT NULL UNIQUE,
  project_id   INTEGER NOT NULL REFERENCES projects(id),
  group_id     INTEGER NOT NULL REFERENCES groups(id),
  timestamp    REAL NOT NULL,
  received     REAL NOT NULL,
  level        TEXT NOT NULL DEFAULT '',
  platform     TEXT NOT NULL DEFAULT '',
  message      TEXT NOT NULL DEFAULT '',
  release      TEXT NOT NULL DEFAULT '',
  environment  TEXT NOT NULL DEFAULT '',
  server_name  TEXT NOT NULL DEFAULT '',
  service      TEXT NOT NULL DEFAULT '',
  pod          TEXT NOT NULL DEFAULT '',
  title        TEXT NOT NULL DEFAULT '',
  payload      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_group_timestamp ON events (group_id, timestamp);
CREATE INDEX events_timestamp ON events (timestamp);
CREATE INDEX events_pod_timestamp ON events (pod, timestamp);
)sql";

// Version 2: pod crashes from the Kubernetes watcher and their links to
// groups (both directions: the primary key serves crash -> groups, the
// index group -> crashes). Links disappear with either side.
constexpr char kV2[] = R"sql(
CREATE TABLE crashes (
  id              INTEGER PRIMARY KEY,
  dedup_key       TEXT NOT NULL UNIQUE,
  namespace       TEXT NOT NULL DEFAULT '',
  pod             TEXT NOT NULL DEFAULT '',
  pod_uid         TEXT NOT NULL DEFAULT '',
  container       TEXT NOT NULL DEFAULT '',
  node            TEXT NOT NULL DEFAULT '',
  workload_kind   TEXT NOT NULL DEFAULT '',
  workload        TEXT NOT NULL DEFAULT '',
  image           TEXT NOT NULL DEFAULT '',
  crash_type      TEXT NOT NULL DEFAULT '',
  reason          TEXT NOT NULL DEFAULT '',
  exit_code       INTEGER NOT NULL DEFAULT 0,
  signal          TEXT NOT NULL DEFAULT '',
  restart_count   INTEGER NOT NULL DEFAULT 0,
  memory_request  TEXT NOT NULL DEFAULT '',
  memory_limit    TEXT NOT NULL DEFAULT '',
  started_at      REAL NOT NULL DEFAULT 0,
  finished_at     REAL NOT NULL DEFAULT 0,
  created_at      REAL NOT NULL,
  updated_at      REAL NOT NULL,
  message         TEXT NOT NULL DEFAULT '',
  logs            TEXT NOT NULL DEFAULT ''
);
CREATE INDEX crashes_namespace_updated ON crashes (namespace, updated_at);
CREATE INDEX crashes_type_updated ON crashes (crash_type, updated_at);
CREATE INDEX crashes_pod_updated ON crashes (pod, updated_at);
CREATE INDEX crashes_updated ON crashes (updated_at);

CREATE TABLE crash_groups (
  crash_id  INTEGER NOT NULL REFERENCES crashes(id) ON DELETE CASCADE,
  group_id  INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  PRIMARY KEY (crash_id, group_id)
) WITHOUT ROWID;
CREATE INDEX crash_groups_group ON crash_groups (group_id);
)sql";

// Version 3: the groups indexes without project_id go. Every event updates
// its group's last_seen, count, first_seen, level and service, and SQLite
// rewrites an index whenever the UPDATE sets one of its columns: five fewer
// index rewrites per group per batch (at 5,000 events/s: p99 14.9 -> 12.8
// ms). Listing groups across all projects now sorts the (small) table.
constexpr char kV3[] = R"sql(
DROP INDEX IF EXISTS groups_last_seen;
DROP INDEX IF EXISTS groups_count;
DROP INDEX IF EXISTS groups_first_seen;
DROP INDEX IF EXISTS groups_level;
DROP INDEX IF EXISTS groups_service;
)sql";

// Version 4: group counters are written about once a second (GroupFolds).
// Each group records the newest event in its counters, and
// store_state.groups_folded_below the event id below which every event is
// in them; after a crash the events from there on are folded again. Every
// event that exists now is counted already.
constexpr char kV4[] = R"sql(
ALTER TABLE groups ADD COLUMN folded_event_id INTEGER NOT NULL DEFAULT 0;
CREATE TABLE store_state (
  name   TEXT PRIMARY KEY,
  value  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO store_state (name, value)
  SELECT 'groups_folded_below', coalesce(max(id), 0) + 1 FROM events;
)sql";

// Version 5: Sentry transactions (issue 17, docs/tracing.md "Wiring"), the
// label budget's saved state, and the trace context of error events. A
// transaction's spans are one compressed column (store/payload_codec.h):
// they are only ever read whole, with their trace. The events index on
// trace_id is partial: most events carry no trace, and their inserts skip
// it (queries add `trace_id != ''` so the planner can use it).
constexpr char kV5[] = R"sql(
CREATE TABLE transactions (
  id               INTEGER PRIMARY KEY,
  project_id       INTEGER NOT NULL REFERENCES projects(id),
  event_id         TEXT NOT NULL,
  trace_id         TEXT NOT NULL,
  span_id          TEXT NOT NULL DEFAULT '',
  parent_span_id   TEXT NOT NULL DEFAULT '',
  name             TEXT NOT NULL DEFAULT '',
  source           TEXT NOT NULL DEFAULT '',
  op               TEXT NOT NULL DEFAULT '',
  status           TEXT NOT NULL DEFAULT '',
  method           TEXT NOT NULL DEFAULT '',
  http_status      INTEGER NOT NULL DEFAULT 0,
  start_timestamp  REAL NOT NULL,
  timestamp        REAL NOT NULL,
  duration         REAL NOT NULL,
  received         REAL NOT NULL,
  release          TEXT NOT NULL DEFAULT '',
  environment      TEXT NOT NULL DEFAULT '',
  service          TEXT NOT NULL DEFAULT '',
  platform         TEXT NOT NULL DEFAULT '',
  time_shift       REAL NOT NULL DEFAULT 0,
  spans_cut        INTEGER NOT NULL DEFAULT 0,
  spans_invalid    INTEGER NOT NULL DEFAULT 0,
  span_count       INTEGER NOT NULL DEFAULT 0,
  spans            BLOB,
  UNIQUE (project_id, event_id)
);
CREATE INDEX transactions_trace ON transactions (trace_id, start_timestamp);
CREATE INDEX transactions_timestamp ON transactions (timestamp);
CREATE INDEX transactions_duration ON transactions (duration);
CREATE INDEX transactions_project_timestamp
  ON transactions (project_id, timestamp);
CREATE INDEX transactions_project_duration
  ON transactions (project_id, duration);

CREATE TABLE tracing_labels (
  id        INTEGER PRIMARY KEY CHECK (id = 1),
  state     TEXT NOT NULL,
  saved_at  REAL NOT NULL
);

ALTER TABLE events ADD COLUMN trace_id TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN span_id TEXT NOT NULL DEFAULT '';
CREATE INDEX events_trace ON events (trace_id, timestamp) WHERE trace_id != '';
)sql";

// Version 6: release health (issue 18, docs/release-health.md). Sessions are
// merged by (project_id, sid) into session_records (open until counted,
// then kept closed until forget_at so duplicates are not counted again);
// `deadline` is releases::RecordDeadline (open: when it times out; closed:
// forget_at), indexed with `closed` for the expiry pass and the eviction of
// the earliest open deadline; session_open_count holds how many are open
// (for sessions.max_open, without counting the index). What ended is added to
// release_sessions per (release, environment, status); release_users holds the
// distinct-id hashes (never the ids). releases keeps, per (release,
// environment), when it was first and last seen and how many error events were
// stored with it (one upsert per distinct release of an event batch). No
// foreign keys: the rows are small and written on the ingest path.
constexpr char kV6[] = R"sql(
CREATE TABLE session_records (
  project_id        INTEGER NOT NULL,
  sid               TEXT NOT NULL,
  distinct_id_hash  TEXT NOT NULL DEFAULT '',
  release           TEXT NOT NULL,
  environment       TEXT NOT NULL DEFAULT '',
  started           REAL NOT NULL,
  last_seen         REAL NOT NULL,
  order_key         INTEGER NOT NULL DEFAULT 0,
  errors            INTEGER NOT NULL DEFAULT 0,
  duration          REAL,
  closed            INTEGER NOT NULL DEFAULT 0,
  forget_at         REAL NOT NULL DEFAULT 0,
  deadline          REAL NOT NULL,
  PRIMARY KEY (project_id, sid)
) WITHOUT ROWID;
CREATE INDEX session_records_deadline ON session_records (closed, deadline);
CREATE TABLE session_open_count (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  open  INTEGER NOT NULL
);
INSERT INTO session_open_count (id, open) VALUES (1, 0);

CREATE TABLE release_sessions (
  project_id   INTEGER NOT NULL,
  release      TEXT NOT NULL,
  environment  TEXT NOT NULL DEFAULT '',
  status       TEXT NOT NULL,
  count        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, release, environment, status)
) WITHOUT ROWID;

CREATE TABLE release_users (
  project_id        INTEGER NOT NULL,
  release           TEXT NOT NULL,
  environment       TEXT NOT NULL DEFAULT '',
  distinct_id_hash  TEXT NOT NULL,
  crashed           INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, release, environment, distinct_id_hash)
) WITHOUT ROWID;

CREATE TABLE releases (
  project_id   INTEGER NOT NULL,
  release      TEXT NOT NULL,
  environment  TEXT NOT NULL DEFAULT '',
  first_seen   REAL NOT NULL,
  last_seen    REAL NOT NULL,
  errors       INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, release, environment)
) WITHOUT ROWID;
-- Retention deletes a release that was not seen within retention.max_age,
-- with its counters and users.
CREATE INDEX releases_last_seen ON releases (last_seen);
CREATE TRIGGER releases_delete_counts AFTER DELETE ON releases
BEGIN
  DELETE FROM release_sessions WHERE project_id = old.project_id
    AND release = old.release AND environment = old.environment;
  DELETE FROM release_users WHERE project_id = old.project_id
    AND release = old.release AND environment = old.environment;
END;
)sql";

// Version 7: cron monitors (one per project, slug and environment) and their
// check-in rows (received, missed, timed out). state_json is the monitor's
// releases::MonitorState; next_deadline (NULL: nothing pending) is when the
// scheduler next has to look at it.
constexpr char kV7[] = R"sql(
CREATE TABLE monitors (
  id              INTEGER PRIMARY KEY,
  project_id      INTEGER NOT NULL REFERENCES projects(id),
  slug            TEXT NOT NULL,
  environment     TEXT NOT NULL,
  state_json      TEXT NOT NULL,
  next_deadline   INTEGER,
  created_at      REAL NOT NULL,
  updated_at      REAL NOT NULL,
  last_checkin    REAL NOT NULL DEFAULT 0,
  last_status     TEXT NOT NULL DEFAULT '',
  checkins_total  INTEGER NOT NULL DEFAULT 0,
  missed_total    INTEGER NOT NULL DEFAULT 0,
  timeouts_total  INTEGER NOT NULL DEFAULT 0,
  incident_reason TEXT NOT NULL DEFAULT '',
  incident_started INTEGER NOT NULL DEFAULT 0,
  UNIQUE (project_id, slug, environment)
);
CREATE INDEX monitors_next_deadline ON monitors (next_deadline)
  WHERE next_deadline IS NOT NULL;

CREATE TABLE monitor_checkins (
  id              INTEGER PRIMARY KEY,
  monitor_id      INTEGER NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
  check_in_id     TEXT NOT NULL DEFAULT '',
  status          TEXT NOT NULL,
  kind            TEXT NOT NULL,
  run_started     INTEGER NOT NULL DEFAULT 0,
  duration        REAL,
  received        INTEGER NOT NULL,
  missed_count    INTEGER NOT NULL DEFAULT 0,
  last_scheduled  INTEGER NOT NULL DEFAULT 0,
  release         TEXT NOT NULL DEFAULT '',
  trace_id        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX monitor_checkins_monitor_received
  ON monitor_checkins (monitor_id, received);
CREATE INDEX monitor_checkins_received ON monitor_checkins (received);
)sql";

// Version 8 (issue 18): attachments and user feedback kept with their
// events, and the SDK that sent an event ("name/version", "" when unknown).
// Attachments and feedback go with their event: the triggers delete them in
// the retention batch that deletes the event (a bounded number per event:
// an envelope holds at most 1,000 items); those whose event never arrived
// are swept by age (DeleteOlderThan / DeleteOldestEvents). `data` is
// written in place with sqlite3_blob_write (zeroblob first), so a large
// attachment is never held whole in memory on its way in.
constexpr char kV8[] = R"sql(
CREATE TABLE attachments (
  id               TEXT NOT NULL UNIQUE,
  project_id       INTEGER NOT NULL REFERENCES projects(id),
  event_id         TEXT NOT NULL,
  position         INTEGER NOT NULL,
  filename         TEXT NOT NULL DEFAULT '',
  content_type     TEXT NOT NULL DEFAULT '',
  attachment_type  TEXT NOT NULL DEFAULT '',
  size             INTEGER NOT NULL DEFAULT 0,
  received         REAL NOT NULL,
  data             BLOB,
  UNIQUE (project_id, event_id, position)
);
CREATE INDEX attachments_event ON attachments (event_id, position);
CREATE INDEX attachments_received ON attachments (received);

CREATE TABLE feedback (
  id           INTEGER PRIMARY KEY,
  project_id   INTEGER NOT NULL REFERENCES projects(id),
  kind         TEXT NOT NULL,
  feedback_id  TEXT NOT NULL,
  event_id     TEXT NOT NULL DEFAULT '',
  group_id     INTEGER NOT NULL DEFAULT 0,
  name         TEXT NOT NULL DEFAULT '',
  email        TEXT NOT NULL DEFAULT '',
  comments     TEXT NOT NULL DEFAULT '',
  url          TEXT NOT NULL DEFAULT '',
  timestamp    REAL NOT NULL,
  received     REAL NOT NULL,
  UNIQUE (project_id, feedback_id)
);
CREATE INDEX feedback_event ON feedback (event_id, timestamp)
  WHERE event_id != '';
CREATE INDEX feedback_group ON feedback (group_id, timestamp)
  WHERE group_id != 0;
CREATE INDEX feedback_received ON feedback (received);

CREATE TRIGGER events_delete_attachments AFTER DELETE ON events
BEGIN
  DELETE FROM attachments
    WHERE project_id = old.project_id AND event_id = old.event_id;
  DELETE FROM feedback WHERE project_id = old.project_id
    AND event_id = old.event_id AND event_id != '';
END;

-- Feedback sent before its event: the group is filled in when the event is
-- stored (one probe of a small partial index per event).
CREATE TRIGGER events_group_feedback AFTER INSERT ON events
BEGIN
  UPDATE feedback SET group_id = new.group_id
    WHERE project_id = new.project_id AND event_id = new.event_id
      AND event_id != '' AND group_id = 0;
END;

ALTER TABLE events ADD COLUMN sdk TEXT NOT NULL DEFAULT '';
)sql";

// Version 9 (issue 19, docs/rest-api.md "Filters and search"): what the
// REST filters, search, tags, stats, merges and keys need.
// - group_aliases: the fingerprints of merged groups, pointing at the group
//   that absorbed them; every group lookup of the writer goes through it.
// - event_tags: one row per (tag, event), also for the pseudo tags release,
//   environment, server_name, service, user and level: the events filters
//   (key, value, then newest first) in one index. The rowid of the event is
//   kept, its project checked on the events row.
// - group_tags / group_tag_keys: per group, the count of each tag value,
//   kept at ingest; at most kMaxGroupTagValues (store/batch_writer.h)
//   values per (group, key), the events of later values counted in
//   group_tag_keys.other_count. groups.users is the number of its `user`
//   values. group_tags_value serves "groups with tag k:v".
// - group_hours: events per group per UTC hour, for the 1h and 1d stats.
// - group_search / event_search: FTS5 over title, culprit, message and
//   exception values (search/query.h's tokenizer); one group_search row per
//   group (more after a merge), one event_search row per event (rowid =
//   events.id).
// - events.user_id (the user key: id, else email, else username, else
//   ip_address) and events.tags (the event's tags as a JSON array of
//   [key, value] pairs, shown in lists).
// - project_keys: a project's DSN keys (the one it had becomes its first),
//   each with an optional rate limit in events per minute.
// Existing rows are indexed from their columns (release, environment,
// server_name, service, level, title, message); custom tags, users and
// exception values of events stored before version 9 are not (their
// payloads are compressed), docs/rest-api.md says so.
constexpr char kV9[] = R"sql(
CREATE TABLE group_aliases (
  project_id   INTEGER NOT NULL,
  fingerprint  TEXT NOT NULL,
  group_id     INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  PRIMARY KEY (project_id, fingerprint)
) WITHOUT ROWID;
CREATE INDEX group_aliases_group ON group_aliases (group_id);

ALTER TABLE groups ADD COLUMN users INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN tags TEXT NOT NULL DEFAULT '';
CREATE INDEX events_project_timestamp ON events (project_id, timestamp);
-- The filters of ListGroups without a project (issue 19): one index per
-- filtered column of groups, with last_seen (the default sort). Group rows
-- change about once a second (GroupFolds), not per event, so these cost
-- little at ingest.
CREATE INDEX groups_all_last_seen ON groups (last_seen);
CREATE INDEX groups_all_first_seen ON groups (first_seen);
CREATE INDEX groups_status_last_seen ON groups (status, last_seen);
CREATE INDEX groups_level_last_seen ON groups (level, last_seen);
CREATE INDEX groups_service_last_seen ON groups (service, last_seen);
CREATE INDEX groups_first_release_last_seen ON groups (first_release, last_seen);

CREATE TABLE event_tags (
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  timestamp  REAL NOT NULL,
  event_row  INTEGER NOT NULL,
  PRIMARY KEY (key, value, timestamp, event_row)
) WITHOUT ROWID;
CREATE INDEX event_tags_event ON event_tags (event_row);

CREATE TABLE group_tags (
  group_id    INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  key         TEXT NOT NULL,
  value       TEXT NOT NULL,
  count       INTEGER NOT NULL DEFAULT 0,
  first_seen  REAL NOT NULL,
  last_seen   REAL NOT NULL,
  PRIMARY KEY (group_id, key, value)
) WITHOUT ROWID;
CREATE INDEX group_tags_value ON group_tags (key, value, group_id);

CREATE TABLE group_tag_keys (
  group_id     INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  key          TEXT NOT NULL,
  values_kept  INTEGER NOT NULL DEFAULT 0,
  other_count  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (group_id, key)
) WITHOUT ROWID;

CREATE TABLE group_hours (
  group_id  INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  hour      INTEGER NOT NULL,
  count     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (group_id, hour)
) WITHOUT ROWID;

CREATE VIRTUAL TABLE group_search USING fts5(
  group_id UNINDEXED, title, culprit, message, exception,
  tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE event_search USING fts5(
  title, message, exception,
  tokenize = 'unicode61 remove_diacritics 2');

CREATE TRIGGER events_delete_search AFTER DELETE ON events
BEGIN
  DELETE FROM event_search WHERE rowid = old.id;
  DELETE FROM event_tags WHERE event_row = old.id;
END;
CREATE TRIGGER groups_delete_search AFTER DELETE ON groups
BEGIN
  DELETE FROM group_search WHERE group_id = old.id;
END;

CREATE TABLE project_keys (
  id                     INTEGER PRIMARY KEY,
  project_id             INTEGER NOT NULL REFERENCES projects(id),
  public_key             TEXT NOT NULL UNIQUE,
  label                  TEXT NOT NULL DEFAULT '',
  active                 INTEGER NOT NULL DEFAULT 1,
  rate_limit_per_minute  INTEGER NOT NULL DEFAULT 0,
  created_at             REAL NOT NULL
);
CREATE INDEX project_keys_project ON project_keys (project_id, id);
INSERT INTO project_keys (project_id, public_key, label, created_at)
  SELECT id, public_key, 'Default', created_at FROM projects;

INSERT INTO group_search (group_id, title, culprit, message, exception)
  SELECT id, title, culprit, '', '' FROM groups;
INSERT INTO event_search (rowid, title, message, exception)
  SELECT id, title, message, '' FROM events;
INSERT INTO event_tags (key, value, timestamp, event_row)
  SELECT 'release', release, timestamp, id FROM events WHERE release != ''
  UNION ALL
  SELECT 'environment', environment, timestamp, id FROM events
    WHERE environment != ''
  UNION ALL
  SELECT 'server_name', server_name, timestamp, id FROM events
    WHERE server_name != ''
  UNION ALL
  SELECT 'service', service, timestamp, id FROM events WHERE service != ''
  UNION ALL
  SELECT 'level', level, timestamp, id FROM events WHERE level != '';
INSERT INTO group_tags (group_id, key, value, count, first_seen, last_seen)
  SELECT e.group_id, t.key, t.value, count(*), min(t.timestamp),
         max(t.timestamp)
  FROM event_tags t JOIN events e ON e.id = t.event_row
  GROUP BY e.group_id, t.key, t.value;
INSERT INTO group_tag_keys (group_id, key, values_kept)
  SELECT group_id, key, count(*) FROM group_tags GROUP BY group_id, key;
INSERT INTO group_hours (group_id, hour, count)
  SELECT group_id, CAST(timestamp / 3600 AS INTEGER), count(*) FROM events
  GROUP BY group_id, CAST(timestamp / 3600 AS INTEGER);
)sql";

constexpr char kBootstrap[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "  version     INTEGER PRIMARY KEY,"
    "  applied_at  REAL NOT NULL)";

// Reads the version inside the caller's transaction.
Status ReadVersion(SqliteDb* db, int* version) {
  SqliteStmt stmt;
  Status status;
  if (!db->Prepare("SELECT coalesce(max(version), 0) FROM schema_migrations",
                   &stmt, &status)) {
    return status;
  }
  if (stmt.Step() != SQLITE_ROW) {
    return db->LastStatus("read schema version");
  }
  *version = static_cast<int>(stmt.Int(0));
  return Status::Ok();
}

}  // namespace

const std::vector<Migration>& SchemaMigrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "projects, groups, events", kV1},
      {2, "crashes and crash_groups", kV2},
      {3, "groups indexes without project_id dropped", kV3},
      {4, "group counters folded with a watermark", kV4},
      {5, "transactions, tracing labels, trace ids of events", kV5},
      {6, "sessions and releases", kV6},
      {7, "cron monitors and their check-ins", kV7},
      {8, "attachments, feedback, the sdk of events", kV8},
      {9, "tags, search, stats, aliases and keys", kV9},
  };
  return kMigrations;
}

int LatestSchemaVersion() { return SchemaMigrations().back().version; }

Status CurrentSchemaVersion(SqliteDb* db, int* version) {
  Status status = db->Exec(kBootstrap, "create schema_migrations");
  if (!status.ok()) return status;
  return ReadVersion(db, version);
}

Status ApplyMigrations(SqliteDb* db) {
  db->ClearError();
  Status status = db->Exec(kBootstrap, "create schema_migrations");
  if (!status.ok()) return status;
  int current = 0;
  status = ReadVersion(db, &current);
  if (!status.ok()) return status;
  if (current > LatestSchemaVersion()) {
    return Status::Internal(
        "database schema version " + std::to_string(current) +
        " is newer than this crashctl knows (" +
        std::to_string(LatestSchemaVersion()) + "); upgrade crashctl");
  }
  if (current == LatestSchemaVersion()) return Status::Ok();

  for (const Migration& migration : SchemaMigrations()) {
    std::string context = "migration " + std::to_string(migration.version) +
                          " (" + migration.name + ")";
    status = db->Exec("BEGIN IMMEDIATE", context + ": begin");
    if (!status.ok()) return status;
    int version = 0;
    status = ReadVersion(db, &version);
    if (status.ok() && version > LatestSchemaVersion()) {
      status = Status::Internal(
          "database schema version " + std::to_string(version) +
          " is newer than this crashctl knows (" +
          std::to_string(LatestSchemaVersion()) + "); upgrade crashctl");
    }
    if (status.ok() && version >= migration.version) {
      db->RollbackIfOpen();
      continue;  // already applied (possibly by another process just now)
    }
    if (status.ok()) status = db->Exec(migration.sql, context);
    if (status.ok()) {
      SqliteStmt stmt;
      if (db->Prepare("INSERT INTO schema_migrations (version, applied_at) "
                      "VALUES (?1, ?2)",
                      &stmt, &status)) {
        stmt.Bind(1, migration.version).Bind(2, util::NowSeconds());
        if (stmt.Run() != SQLITE_DONE) {
          status = db->LastStatus(context + ": record version");
        }
      }
    }
    if (status.ok()) {
      status =
          db->Exec("PRAGMA user_version=" + std::to_string(migration.version),
                   context + ": user_version");
    }
    if (status.ok()) status = db->Exec("COMMIT", context + ": commit");
    if (!status.ok()) {
      db->RollbackIfOpen();
      return status;
    }
    spdlog::info("store: applied schema migration {} ({})", migration.version,
                 migration.name);
  }
  return Status::Ok();
}

}  // namespace store
}  // namespace crashctl
