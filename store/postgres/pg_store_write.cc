// PostgresStore::WriteEvents: one transaction per batch, multi-row
// statements (docs/postgres.md "Writing a batch").
//
//  1. Lock or create the batch's groups: one multi-row
//     INSERT ... ON CONFLICT (project_id, fingerprint) DO UPDATE, in
//     (project_id, fingerprint) order so that concurrent batches lock rows
//     in the same order and do not deadlock. The row locks are held until
//     COMMIT: no other writer (nor a status change) touches these groups
//     meanwhile, so what the batch reads of them stays true.
//  2. Insert the events: INSERT ... ON CONFLICT (project_id, event_id) DO
//     NOTHING RETURNING, so a retried batch (e.g. after a COMMIT whose
//     outcome was unknown) stores nothing twice; RETURNING tells which were
//     new.
//  3. Add the new events to their groups in one UPDATE ... FROM (VALUES
//     ...): count, least/greatest of first/last seen, the latest event's
//     fields, and the regression (a resolved group becomes unresolved and
//     its regression_count grows), decided on the locked row.
//     The new events' users go into group_users first (ON CONFLICT DO
//     NOTHING RETURNING tells which are new), and `users` counts them.
//  4. Delete the groups step 1 created that got no event (all duplicates).
//  5. Upsert the new events' releases (first/last seen, errors), in key
//     order (pg_store_sessions.cc WriteReleaseTally).
// OK only after the checked COMMIT answered COMMIT.
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "crashctl/store/pg/batch.h"
#include "crashctl/util/time.h"
#include "payload_codec.h"
#include "pg_store.h"
#include "rows.h"
#include "session_writes.h"

namespace crashctl {
namespace store {
namespace pg {
namespace {

using Key = std::pair<int64_t, std::string>;  // (project_id, fingerprint)

// Rows per statement: group updates have 11 parameters, events 20.
constexpr int kRowsPerStatement = 500;

struct GroupBatch {
  size_t first_item = 0;  // the batch's first item of this group
  // Set by step 1.
  int64_t id = 0;
  bool created = false;
  std::string stored_status;
  // The batch's new events of it (step 2).
  int64_t events = 0;
  double first_seen = 0;
  double last_seen = 0;
  size_t latest_item = 0;
  std::string first_release;
  std::set<std::string> users;  // of its new events, non-empty
  int64_t new_users = 0;        // of them not counted before
};

// At most this many distinct users are counted per group (as the SQLite
// store's kMaxGroupUsers).
constexpr int64_t kMaxGroupUsers = 10000;

constexpr char kGroupUpdate[] =
    "UPDATE groups AS g SET "
    "count = g.count + v.n, "
    "first_seen = least(g.first_seen, v.first_seen), "
    "last_seen = greatest(g.last_seen, v.last_seen), "
    "title = CASE WHEN v.last_seen >= g.last_seen THEN v.title "
    "ELSE g.title END, "
    "culprit = CASE WHEN v.last_seen >= g.last_seen THEN v.culprit "
    "ELSE g.culprit END, "
    "level = CASE WHEN v.last_seen >= g.last_seen THEN v.level "
    "ELSE g.level END, "
    "service = CASE WHEN v.last_seen >= g.last_seen THEN v.service "
    "ELSE g.service END, "
    "release = CASE WHEN v.last_seen >= g.last_seen THEN v.release "
    "ELSE g.release END, "
    "first_release = CASE WHEN g.first_release = '' THEN v.first_release "
    "ELSE g.first_release END, "
    "status = CASE WHEN g.status = 'resolved' THEN 'unresolved' "
    "ELSE g.status END, "
    "regression_count = g.regression_count + "
    "CASE WHEN g.status = 'resolved' THEN 1 ELSE 0 END, "
    "resolved_at = CASE WHEN g.status = 'resolved' THEN NULL "
    "ELSE g.resolved_at END, "
    "users = least(g.users + v.users, 10000) "  // kMaxGroupUsers
    "FROM (VALUES ";
constexpr char kGroupUpdateTail[] =
    ") AS v (id, n, first_seen, last_seen, title, culprit, level, service, "
    "release, first_release, users) WHERE g.id = v.id";

}  // namespace

Status PostgresStore::WriteEvents(const std::vector<model::WriteItem>& items,
                                  std::vector<model::WriteOutcome>* outcomes) {
  if (outcomes != nullptr) outcomes->clear();
  if (items.empty()) return Status::Ok();
  const size_t n = items.size();

  // What needs no database, once for all attempts: times (a non-finite one
  // falls back to the receive time, or now), payloads, repeats of an event
  // within the batch, and the groups in lock order.
  std::vector<double> timestamps(n), received(n);
  std::vector<std::string> payloads(n);
  std::vector<bool> repeated(n, false);
  std::map<Key, GroupBatch> groups;
  std::set<std::pair<int64_t, std::string>> event_keys;
  for (size_t i = 0; i < n; ++i) {
    const model::Event& event = items[i].event;
    received[i] =
        std::isfinite(event.received) ? event.received : util::NowSeconds();
    timestamps[i] =
        std::isfinite(event.timestamp) ? event.timestamp : received[i];
    if (!items[i].stored_payload.empty()) {
      payloads[i] = items[i].stored_payload;
    } else if (!EncodePayload(event.raw_json, &payloads[i])) {
      payloads[i] = event.raw_json;  // read back as the JSON itself
    }
    repeated[i] = !event_keys.emplace(event.project_id, event.event_id).second;
    Key key(event.project_id, items[i].grouping.fingerprint);
    if (groups.find(key) == groups.end()) {
      GroupBatch batch;
      batch.first_item = i;
      groups.emplace(std::move(key), std::move(batch));
    }
  }

  std::vector<model::WriteOutcome> results;
  Status status = InTransaction("write events", [&](Connection* conn) {
    results.assign(n, model::WriteOutcome());  // fresh on every attempt
    // 1. Lock or create the groups.
    std::vector<Params> rows;
    std::vector<GroupBatch*> order;
    for (auto& [key, batch] : groups) {
      const model::WriteItem& item = items[batch.first_item];
      const double ts = timestamps[batch.first_item];
      rows.push_back(Params()
                         .Int(key.first)
                         .Text(key.second)
                         .Text(item.grouping.title)
                         .Text(item.grouping.culprit)
                         .Text(model::ToString(item.event.level))
                         .Double(ts)
                         .Double(ts)
                         .Text(item.event.service)
                         .Text(item.event.release)
                         .Text(item.event.release));
      const size_t first = batch.first_item;
      batch = GroupBatch();
      batch.first_item = first;
      order.push_back(&batch);
    }
    std::vector<Result> returned;
    Status st = InsertRows(
        conn, "groups",
        {"project_id", "fingerprint", "title", "culprit", "level", "first_seen",
         "last_seen", "service", "release", "first_release"},
        rows,
        "ON CONFLICT (project_id, fingerprint) DO UPDATE SET "
        "count = groups.count "
        "RETURNING id, status, (xmax = 0), project_id, fingerprint",
        &returned, kRowsPerStatement);
    if (!st.ok()) return st;
    // RETURNING promises no row order: rows are matched by their key.
    size_t matched = 0;
    for (const Result& r : returned) {
      for (int row = 0; row < r.rows(); ++row) {
        auto it = groups.find(Key(r.IntOr(row, 3, 0), r.Text(row, 4)));
        if (it == groups.end() || it->second.id != 0) continue;
        GroupBatch& batch = it->second;
        st = r.Int(row, 0, &batch.id);
        if (!st.ok()) return st;
        batch.stored_status = r.Text(row, 1);
        bool created = false;
        r.Bool(row, 2, &created);
        batch.created = created;
        ++matched;
      }
    }
    if (matched != order.size()) {
      return Status::Internal("write events: " + std::to_string(matched) +
                              " group rows returned for " +
                              std::to_string(order.size()));
    }

    // 2. Insert the events, in (project, event_id) order.
    std::map<std::pair<int64_t, std::string>, size_t> by_event;
    for (size_t i = 0; i < n; ++i) {
      if (!repeated[i]) {
        by_event.emplace(
            std::make_pair(items[i].event.project_id, items[i].event.event_id),
            i);
      }
    }
    rows.clear();
    for (const auto& [event_key, i] : by_event) {
      const model::Event& event = items[i].event;
      const GroupBatch& batch =
          groups.at(Key(event.project_id, items[i].grouping.fingerprint));
      const std::string& pod_tag = event.Tag("pod");
      rows.push_back(Params()
                         .Text(event.event_id)
                         .Int(event.project_id)
                         .Int(batch.id)
                         .Double(timestamps[i])
                         .Double(received[i])
                         .Text(model::ToString(event.level))
                         .Text(event.platform)
                         .Text(event.message)
                         .Text(event.release)
                         .Text(event.environment)
                         .Text(event.server_name)
                         .Text(event.service)
                         .Text(pod_tag.empty() ? event.server_name : pod_tag)
                         .Text(items[i].grouping.title)
                         .Bytea(payloads[i])
                         .Text(event.trace_id)
                         .Text(event.span_id)
                         .Text(SdkColumn(event.sdk_name, event.sdk_version))
                         .Text(event.user)
                         .Text(TagsColumn(CustomTags(event))));
    }
    returned.clear();
    st = InsertRows(
        conn, "events",
        {"event_id",    "project_id", "group_id", "timestamp", "received",
         "level",       "platform",   "message",  "release",   "environment",
         "server_name", "service",    "pod",      "title",     "payload",
         "trace_id",    "span_id",    "sdk",      "user_id",   "tags"},
        rows,
        "ON CONFLICT (project_id, event_id) DO NOTHING "
        "RETURNING project_id, event_id",
        &returned, kRowsPerStatement);
    if (!st.ok()) return st;
    std::vector<bool> inserted(n, false);
    for (const Result& r : returned) {
      for (int row = 0; row < r.rows(); ++row) {
        auto it =
            by_event.find(std::make_pair(r.IntOr(row, 0, 0), r.Text(row, 1)));
        if (it != by_event.end()) inserted[it->second] = true;
      }
    }

    // 3. The new events' share of their groups, in batch order.
    for (size_t i = 0; i < n; ++i) {
      if (!inserted[i]) {
        results[i].duplicate = true;
        continue;
      }
      const model::Event& event = items[i].event;
      GroupBatch& batch =
          groups.at(Key(event.project_id, items[i].grouping.fingerprint));
      const double ts = timestamps[i];
      results[i].group_id = batch.id;
      if (batch.events == 0) {
        results[i].new_group = batch.created;
        results[i].regression = batch.stored_status == "resolved";
        batch.first_seen = ts;
        batch.last_seen = ts;
        batch.latest_item = i;
      } else {
        if (ts < batch.first_seen) batch.first_seen = ts;
        if (ts >= batch.last_seen) {
          batch.last_seen = ts;
          batch.latest_item = i;
        }
      }
      if (batch.first_release.empty()) batch.first_release = event.release;
      if (!event.user.empty()) batch.users.insert(event.user);
      ++batch.events;
    }
    // Their users: the ones a group did not have, while its (locked)
    // counter is below kMaxGroupUsers. The rows may pass the bound by one
    // batch's users; the counter never does.
    {
      std::vector<Params> user_rows;
      std::map<int64_t, GroupBatch*> by_id;
      for (GroupBatch* batch : order) {
        by_id[batch->id] = batch;
        for (const std::string& user : batch->users) {
          user_rows.push_back(Params().Int(batch->id).Text(user));
        }
      }
      for (size_t start = 0; start < user_rows.size();
           start += kRowsPerStatement) {
        const size_t end =
            std::min(user_rows.size(), start + kRowsPerStatement);
        std::string sql =
            "INSERT INTO group_users (group_id, user_id) SELECT v.g, v.u "
            "FROM (VALUES ";
        Params params;
        for (size_t k = start; k < end; ++k) {
          const size_t base = params.size();
          sql += (k == start ? "($" : ", ($") + std::to_string(base + 1) +
                 "::bigint, $" + std::to_string(base + 2) + "::text)";
          params.Append(user_rows[k]);
        }
        sql +=
            ") AS v (g, u) WHERE (SELECT users FROM groups "
            "WHERE id = v.g) < " +
            std::to_string(kMaxGroupUsers) +
            " ON CONFLICT (group_id, user_id) DO NOTHING RETURNING group_id";
        Result r;
        st = conn->Exec(sql, params, &r);
        if (!st.ok()) return st;
        for (int row = 0; row < r.rows(); ++row) {
          auto it = by_id.find(r.IntOr(row, 0, 0));
          if (it != by_id.end()) ++it->second->new_users;
        }
      }
    }
    std::vector<GroupBatch*> updates;
    std::string unused;  // created groups that got no event
    for (GroupBatch* batch : order) {
      if (batch->events > 0) {
        updates.push_back(batch);
      } else if (batch->created) {
        unused += (unused.empty() ? "" : ",") + std::to_string(batch->id);
      }
    }
    for (size_t start = 0; start < updates.size(); start += kRowsPerStatement) {
      const size_t end = std::min(updates.size(), start + kRowsPerStatement);
      std::string sql = kGroupUpdate;
      Params params;
      for (size_t k = start; k < end; ++k) {
        const GroupBatch& batch = *updates[k];
        const model::WriteItem& latest = items[batch.latest_item];
        const size_t base = params.size();
        auto p = [&](int j) { return "$" + std::to_string(base + j); };
        sql += (k == start ? "(" : ", (") + p(1) + "::bigint, " + p(2) +
               "::bigint, " + p(3) + "::float8, " + p(4) + "::float8, " + p(5) +
               "::text, " + p(6) + "::text, " + p(7) + "::text, " + p(8) +
               "::text, " + p(9) + "::text, " + p(10) + "::text, " + p(11) +
               "::bigint)";
        params.Int(batch.id)
            .Int(batch.events)
            .Double(batch.first_seen)
            .Double(batch.last_seen)
            .Text(latest.grouping.title)
            .Text(latest.grouping.culprit)
            .Text(model::ToString(latest.event.level))
            .Text(latest.event.service)
            .Text(latest.event.release)
            .Text(batch.first_release)
            .Int(batch.new_users);
      }
      sql += kGroupUpdateTail;
      st = conn->Exec(sql, params);
      if (!st.ok()) return st;
    }
    // 4. Groups created for events that all turned out stored already.
    if (!unused.empty()) {
      st = conn->Exec(
          "DELETE FROM groups WHERE id = ANY($1::bigint[]) AND count = 0",
          Params().Text("{" + unused + "}"));
      if (!st.ok()) return st;
    }
    // 5. The releases of the new events: one multi-row upsert of
    // (project, release, environment), in key order.
    ReleaseTally releases;
    releases.AddEvents(items, results);
    return WriteReleaseTally(conn, releases);
  });
  if (status.ok() && outcomes != nullptr) *outcomes = std::move(results);
  return status;
}

}  // namespace pg
}  // namespace store
}  // namespace crashctl
