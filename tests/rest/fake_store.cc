#include "tests/rest/fake_store.h"

#include <cstdlib>

namespace crashctl {
namespace {

StoreStatus Status(StoreStatus::Code code, const std::string& message) {
  StoreStatus status;
  status.code = code;
  status.message = message;
  return status;
}

// "" -> 0; "off:N" -> N; anything else -> false.
bool DecodeCursor(const std::string& cursor, size_t* offset) {
  if (cursor.empty()) {
    *offset = 0;
    return true;
  }
  if (cursor.rfind("off:", 0) != 0 || cursor.size() == 4) return false;
  for (size_t i = 4; i < cursor.size(); ++i) {
    if (cursor[i] < '0' || cursor[i] > '9') return false;
  }
  *offset = std::strtoul(cursor.c_str() + 4, nullptr, 10);
  return true;
}

template <typename T>
StoreStatus Paginate(const std::vector<T>& rows, int limit,
                     const std::string& cursor, Page<T>* out) {
  size_t offset = 0;
  if (!DecodeCursor(cursor, &offset)) {
    return Status(StoreStatus::kInvalid, "malformed cursor");
  }
  out->items.clear();
  for (size_t i = offset;
       i < rows.size() && out->items.size() < static_cast<size_t>(limit); ++i) {
    out->items.push_back(rows[i]);
  }
  const size_t next = offset + out->items.size();
  out->next_cursor = next < rows.size() ? "off:" + std::to_string(next) : "";
  return StoreStatus::Ok();
}

}  // namespace

std::optional<StoreStatus> FakeStore::TakeFailure() {
  ++calls;
  std::optional<StoreStatus> failure = fail_next;
  fail_next.reset();
  return failure;
}

StoreStatus FakeStore::CreateProject(const std::string& name, Project* out) {
  if (auto f = TakeFailure()) return *f;
  Project p;
  p.id = static_cast<int64_t>(projects.size()) + 1;
  p.name = name;
  p.public_key = std::string(31, 'a') + std::to_string(p.id % 10);
  p.created_at = 1795341600.5;
  projects.push_back(p);
  *out = p;
  return StoreStatus::Ok();
}

StoreStatus FakeStore::ListProjects(std::vector<Project>* out) {
  if (auto f = TakeFailure()) return *f;
  *out = projects;
  return StoreStatus::Ok();
}

StoreStatus FakeStore::GetProject(int64_t id, Project* out) {
  if (auto f = TakeFailure()) return *f;
  for (const Project& p : projects) {
    if (p.id == id) {
      *out = p;
      return StoreStatus::Ok();
    }
  }
  return Status(StoreStatus::kNotFound, "no such project");
}

StoreStatus FakeStore::WriteEvents(const std::vector<WriteItem>&,
                                   std::vector<WriteOutcome>*) {
  return Status(StoreStatus::kInternal, "not used by REST");
}

StoreStatus FakeStore::ListGroups(const GroupQuery& query, Page<Group>* out) {
  last_group_query = query;
  if (auto f = TakeFailure()) return *f;
  return Paginate(groups, query.limit, query.cursor, out);
}

StoreStatus FakeStore::GetGroup(int64_t id, Group* out) {
  if (auto f = TakeFailure()) return *f;
  for (const Group& g : groups) {
    if (g.id == id) {
      *out = g;
      return StoreStatus::Ok();
    }
  }
  return Status(StoreStatus::kNotFound, "no such group");
}

StoreStatus FakeStore::SetGroupStatus(int64_t id, const std::string& status,
                                      Group* out) {
  if (auto f = TakeFailure()) return *f;
  for (Group& g : groups) {
    if (g.id == id) {
      g.status = status;
      *out = g;
      return StoreStatus::Ok();
    }
  }
  return Status(StoreStatus::kNotFound, "no such group");
}

StoreStatus FakeStore::ListGroupEvents(int64_t group_id, int limit,
                                       const std::string& cursor,
                                       Page<StoredEvent>* out) {
  last_events_limit = limit;
  last_events_cursor = cursor;
  if (auto f = TakeFailure()) return *f;
  std::vector<StoredEvent> rows;
  for (const StoredEvent& e : events) {
    if (e.group_id == group_id) rows.push_back(e);
  }
  return Paginate(rows, limit, cursor, out);
}

StoreStatus FakeStore::GetEvent(const std::string& event_id, StoredEvent* out) {
  if (auto f = TakeFailure()) return *f;
  for (const StoredEvent& e : events) {
    if (e.event_id == event_id) {
      *out = e;
      return StoreStatus::Ok();
    }
  }
  return Status(StoreStatus::kNotFound, "no such event");
}

StoreStatus FakeStore::CountGroups(std::vector<GroupCount>*) {
  return StoreStatus::Ok();
}

StoreStatus FakeStore::FindGroupsForPod(const std::string&, double, double,
                                        std::vector<int64_t>*) {
  return StoreStatus::Ok();
}

StoreStatus FakeStore::UpsertCrash(const Crash&, int64_t*, bool*) {
  return Status(StoreStatus::kInternal, "not used by REST");
}

StoreStatus FakeStore::GetCrashByKey(const std::string&, Crash*) {
  return Status(StoreStatus::kInternal, "not used by REST");
}

StoreStatus FakeStore::GetCrash(int64_t id, Crash* out) {
  if (auto f = TakeFailure()) return *f;
  for (const Crash& c : crashes) {
    if (c.id == id) {
      *out = c;
      return StoreStatus::Ok();
    }
  }
  return Status(StoreStatus::kNotFound, "no such crash");
}

StoreStatus FakeStore::ListCrashes(const CrashQuery& query, Page<Crash>* out) {
  last_crash_query = query;
  if (auto f = TakeFailure()) return *f;
  return Paginate(crashes, query.limit, query.cursor, out);
}

StoreStatus FakeStore::LinkCrashGroup(int64_t, int64_t) {
  return StoreStatus::Ok();
}

StoreStatus FakeStore::DeleteOlderThan(double, int64_t* deleted) {
  *deleted = 0;
  return StoreStatus::Ok();
}

}  // namespace crashctl
