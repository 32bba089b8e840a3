// In-memory Store for REST tests: keeps rows in vectors, records the last
// queries it was given, and can be told to fail the next call with a given
// status. Cursors are "off:<index>" (anything else answers kInvalid).
//
// Thread-safety: not thread-safe; tests use it from one thread.
#ifndef CRASHCTL_TESTS_REST_FAKE_STORE_H_
#define CRASHCTL_TESTS_REST_FAKE_STORE_H_

#include <algorithm>
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crashctl/store/store.h"

namespace crashctl {
namespace testing {

class FakeStore : public store::Store {
 public:
  std::vector<model::Project> projects;
  std::vector<model::Group> groups;  // returned in this order by ListGroups
  std::vector<model::StoredEvent> events;
  std::vector<model::Crash> crashes;
  // Kept in write order; ListTransactions and TransactionSamples answer
  // them newest-written first (filtered), GetTraceTransactions in order.
  std::vector<model::StoredTransaction> transactions;
  std::string tracing_labels;  // Save/LoadTracingLabels

  // Recorded arguments.
  std::optional<store::GroupQuery> last_group_query;
  std::optional<store::CrashQuery> last_crash_query;
  std::optional<store::TransactionQuery> last_transaction_query;
  // Issue 19's calls.
  std::optional<store::EventQuery> last_event_query;
  std::optional<store::StatsQuery> last_stats_query;
  size_t last_tags_top = 0;
  std::vector<int64_t> last_bulk_ids;
  std::optional<store::EventDeletion> last_event_deletion;
  // What GroupTags answers for any existing group.
  std::vector<model::TagSummary> tag_summaries;
  size_t last_samples_max_rows = 0;
  size_t last_trace_limit = 0;
  int last_events_limit = 0;
  std::string last_events_cursor;
  int calls = 0;

  // When set, the next store call returns this status and clears it.
  std::optional<Status> fail_next;

  Status CreateProject(const std::string& name, model::Project* out) override;
  Status ListProjects(std::vector<model::Project>* out) override;
  Status GetProject(int64_t id, model::Project* out) override;
  Status WriteEvents(const std::vector<model::WriteItem>& items,
                     std::vector<model::WriteOutcome>* outcomes) override;
  Status ListGroups(const store::GroupQuery& query,
                    model::Page<model::Group>* out) override;
  Status GetGroup(int64_t id, model::Group* out) override;
  Status SetGroupStatus(int64_t id, model::GroupStatus status,
                        model::Group* out) override;
  Status ListGroupEvents(int64_t group_id, int limit, const std::string& cursor,
                         model::Page<model::StoredEvent>* out) override;
  Status GetEvent(const std::string& event_id,
                  model::StoredEvent* out) override;
  Status CountGroups(std::vector<model::GroupCount>* out) override;
  Status FindGroupsForPod(const std::string& pod, double from, double to,
                          std::vector<int64_t>* group_ids) override;
  Status UpsertCrash(const model::Crash& crash, int64_t* id,
                     bool* inserted) override;
  Status GetCrashByKey(const std::string& dedup_key,
                       model::Crash* out) override;
  Status GetCrash(int64_t id, model::Crash* out) override;
  Status ListCrashes(const store::CrashQuery& query,
                     model::Page<model::Crash>* out) override;
  Status LinkCrashGroup(int64_t crash_id, int64_t group_id) override;
  Status WriteTransactions(const std::vector<model::StoredTransaction>& items,
                           std::vector<bool>* stored) override;
  // Filters on every TransactionQuery field but sort (write order, newest
  // first); cursors as above.
  Status ListTransactions(const store::TransactionQuery& query,
                          model::Page<model::StoredTransaction>* out) override;
  Status TransactionSamples(const store::TransactionQuery& query,
                            size_t max_rows,
                            std::vector<tracing::NamedSample>* out,
                            bool* truncated) override;
  Status GetTraceTransactions(
      const std::string& trace_id, size_t limit,
      std::vector<model::StoredTransaction>* out) override;
  // `events` whose trace_id matches, in reverse order, without payload.
  Status ListTraceEvents(const std::string& trace_id, size_t limit,
                         std::vector<model::StoredEvent>* out) override;
  // Issue 19 (simple in-memory behaviour). ListEvents filters `events` on
  // project, group, level, service, release, environment, user, tags
  // (StoredEvent::tags) and since/until, newest written first; the other
  // fields are only recorded.
  Status ListEvents(const store::EventQuery& query,
                    model::Page<model::StoredEvent>* out) override;
  // Buckets counting `events` of the group, as the contract says.
  Status GroupStats(const store::StatsQuery& query,
                    std::vector<model::StatBucket>* out) override;
  // `tag_summaries`, each cut to `top` values; kNotFound for no group.
  Status GroupTags(int64_t group_id, size_t top,
                   std::vector<model::TagSummary>* out) override;
  Status SetGroupsStatus(const std::vector<int64_t>& ids,
                         model::GroupStatus status,
                         std::vector<model::Group>* out) override;
  // Moves the events of `from` to `into`, adds their counts, erases them.
  Status MergeGroups(int64_t into, const std::vector<int64_t>& from,
                     model::Group* out) override;
  Status DeleteGroup(int64_t id) override;
  // Erases the user's events and the groups left without events.
  Status DeleteEvents(const store::EventDeletion& which,
                      int64_t* deleted) override;

  // Takes no injected failure (as DeleteOlderThan).
  Status DeleteTransactionsOlderThan(double cutoff, int64_t* deleted) override;
  Status SaveTracingLabels(const std::string& json) override;
  Status LoadTracingLabels(std::string* json) override;
  Status DeleteOlderThan(double cutoff, int64_t* deleted) override;
  // Erases the `limit` events with the smallest (timestamp, position),
  // keeping the last one of `events` (the newest written), and the groups
  // left without events.
  Status DeleteOldestEvents(int64_t limit, int64_t* deleted) override {
    *deleted = 0;
    if (auto f = TakeFailure()) return *f;
    if (events.size() <= 1 || limit <= 0) return Status::Ok();
    std::vector<size_t> order(events.size() - 1);  // all but the newest
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return events[a].timestamp < events[b].timestamp;
    });
    std::set<size_t> gone(
        order.begin(),
        order.begin() + static_cast<std::ptrdiff_t>(std::min<int64_t>(
                            limit, static_cast<int64_t>(order.size()))));
    std::vector<model::StoredEvent> kept;
    for (size_t i = 0; i < events.size(); ++i) {
      if (!gone.count(i)) kept.push_back(std::move(events[i]));
    }
    events = std::move(kept);
    groups.erase(std::remove_if(groups.begin(), groups.end(),
                                [&](const model::Group& g) {
                                  return std::none_of(
                                      events.begin(), events.end(),
                                      [&](const model::StoredEvent& e) {
                                        return e.group_id == g.id;
                                      });
                                }),
                 groups.end());
    *deleted = static_cast<int64_t>(gone.size());
    return Status::Ok();
  }
  // UsedBytes(): `used_bytes` when set, else bytes_per_event per event.
  std::optional<int64_t> used_bytes;
  int64_t bytes_per_event = 1000;
  Status UsedBytes(int64_t* bytes) override {
    if (auto f = TakeFailure()) return *f;
    *bytes = used_bytes ? *used_bytes
                        : static_cast<int64_t>(events.size()) * bytes_per_event;
    return Status::Ok();
  }
  Stats GetStats() override { return {}; }
  Status IntegrityCheck() override { return Status::Ok(); }

  // --- project keys and project deletes (issue 19; fake_store_keys.cc) ---
  // `keys` holds every key. A project of `projects` without any key yet
  // gets its public_key as its first key when keys are first read or
  // changed (so that tests filling `projects` directly keep working).
  // ListAllKeys (the ingest key cache's read) takes no injected failure.
  // DeleteProject erases the project, its keys, groups, events and
  // transactions and records its id.
  std::vector<model::ProjectKey> keys;
  std::vector<int64_t> deleted_projects;
  Status DeleteProject(int64_t id) override;
  Status ListKeys(int64_t project_id,
                  std::vector<model::ProjectKey>* out) override;
  Status ListAllKeys(std::vector<model::ProjectKey>* out) override;
  Status CreateKey(int64_t project_id, const std::string& label,
                   int64_t rate_limit_per_minute,
                   model::ProjectKey* out) override;
  Status UpdateKey(int64_t project_id, int64_t key_id,
                   const store::KeyUpdate& update,
                   model::ProjectKey* out) override;
  Status DeleteKey(int64_t project_id, int64_t key_id) override;

 private:
  // Returns the injected failure, if any (and counts the call).
  std::optional<Status> TakeFailure();
  // Gives the projects without keys their first key (see `keys`).
  void MaterializeKeys();
  std::set<int64_t> keyed_projects_;
  int64_t next_key_id_ = 1;
};

}  // namespace testing
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_REST_FAKE_STORE_H_
