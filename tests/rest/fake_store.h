// In-memory Store for REST tests: keeps rows in vectors, records the last
// queries it was given, and can be told to fail the next call with a given
// status. Cursors are "off:<index>" (anything else answers kInvalid).
//
// Thread-safety: not thread-safe; tests use it from one thread.
#ifndef CRASHCTL_TESTS_REST_FAKE_STORE_H_
#define CRASHCTL_TESTS_REST_FAKE_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "store/store.h"

namespace crashctl {

class FakeStore : public Store {
 public:
  std::vector<Project> projects;
  std::vector<Group> groups;  // returned in this order by ListGroups
  std::vector<StoredEvent> events;
  std::vector<Crash> crashes;

  // Recorded arguments.
  std::optional<GroupQuery> last_group_query;
  std::optional<CrashQuery> last_crash_query;
  int last_events_limit = 0;
  std::string last_events_cursor;
  int calls = 0;

  // When set, the next store call returns this status and clears it.
  std::optional<StoreStatus> fail_next;

  StoreStatus CreateProject(const std::string& name, Project* out) override;
  StoreStatus ListProjects(std::vector<Project>* out) override;
  StoreStatus GetProject(int64_t id, Project* out) override;
  StoreStatus WriteEvents(const std::vector<WriteItem>& items,
                          std::vector<WriteOutcome>* outcomes) override;
  StoreStatus ListGroups(const GroupQuery& query, Page<Group>* out) override;
  StoreStatus GetGroup(int64_t id, Group* out) override;
  StoreStatus SetGroupStatus(int64_t id, const std::string& status,
                             Group* out) override;
  StoreStatus ListGroupEvents(int64_t group_id, int limit,
                              const std::string& cursor,
                              Page<StoredEvent>* out) override;
  StoreStatus GetEvent(const std::string& event_id, StoredEvent* out) override;
  StoreStatus CountGroups(std::vector<GroupCount>* out) override;
  StoreStatus FindGroupsForPod(const std::string& pod, double from, double to,
                               std::vector<int64_t>* group_ids) override;
  StoreStatus UpsertCrash(const Crash& crash, int64_t* id,
                          bool* inserted) override;
  StoreStatus GetCrashByKey(const std::string& dedup_key, Crash* out) override;
  StoreStatus GetCrash(int64_t id, Crash* out) override;
  StoreStatus ListCrashes(const CrashQuery& query, Page<Crash>* out) override;
  StoreStatus LinkCrashGroup(int64_t crash_id, int64_t group_id) override;
  StoreStatus DeleteOlderThan(double cutoff, int64_t* deleted) override;
  int64_t SizeBytes() override { return 0; }
  StoreStatus IntegrityCheck() override { return StoreStatus::Ok(); }
  int64_t BusyRetries() override { return 0; }

 private:
  // Returns the injected failure, if any (and counts the call).
  std::optional<StoreStatus> TakeFailure();
};

}  // namespace crashctl

#endif  // CRASHCTL_TESTS_REST_FAKE_STORE_H_
