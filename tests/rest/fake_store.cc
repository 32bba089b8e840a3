#include "fake_store.h"

#include <cstdlib>

namespace crashctl {
namespace testing {
namespace {

Status MakeStatus(Status::Code code, const std::string& message) {
  return Status(code, message);
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
Status Paginate(const std::vector<T>& rows, int limit,
                const std::string& cursor, model::Page<T>* out) {
  size_t offset = 0;
  if (!DecodeCursor(cursor, &offset)) {
    return MakeStatus(Status::Code::kInvalid, "malformed cursor");
  }
  out->items.clear();
  for (size_t i = offset;
       i < rows.size() && out->items.size() < static_cast<size_t>(limit); ++i) {
    out->items.push_back(rows[i]);
  }
  const size_t next = offset + out->items.size();
  out->next_cursor = next < rows.size() ? "off:" + std::to_string(next) : "";
  return Status::Ok();
}

}  // namespace

std::optional<Status> FakeStore::TakeFailure() {
  ++calls;
  std::optional<Status> failure = fail_next;
  fail_next.reset();
  return failure;
}

Status FakeStore::CreateProject(const std::string& name, model::Project* out) {
  if (auto f = TakeFailure()) return *f;
  model::Project p;
  p.id = static_cast<int64_t>(projects.size()) + 1;
  p.name = name;
  p.public_key = std::string(31, 'a') + std::to_string(p.id % 10);
  p.created_at = 1795341600.5;
  projects.push_back(p);
  *out = p;
  return Status::Ok();
}

Status FakeStore::ListProjects(std::vector<model::Project>* out) {
  if (auto f = TakeFailure()) return *f;
  *out = projects;
  return Status::Ok();
}

Status FakeStore::GetProject(int64_t id, model::Project* out) {
  if (auto f = TakeFailure()) return *f;
  for (const model::Project& p : projects) {
    if (p.id == id) {
      *out = p;
      return Status::Ok();
    }
  }
  return MakeStatus(Status::Code::kNotFound, "no such project");
}

Status FakeStore::WriteEvents(const std::vector<model::WriteItem>&,
                              std::vector<model::WriteOutcome>*) {
  return MakeStatus(Status::Code::kInternal, "not used by REST");
}

Status FakeStore::ListGroups(const store::GroupQuery& query,
                             model::Page<model::Group>* out) {
  last_group_query = query;
  if (auto f = TakeFailure()) return *f;
  return Paginate(groups, query.limit, query.cursor, out);
}

Status FakeStore::GetGroup(int64_t id, model::Group* out) {
  if (auto f = TakeFailure()) return *f;
  for (const model::Group& g : groups) {
    if (g.id == id) {
      *out = g;
      return Status::Ok();
    }
  }
  return MakeStatus(Status::Code::kNotFound, "no such group");
}

Status FakeStore::SetGroupStatus(int64_t id, model::GroupStatus status,
                                 model::Group* out) {
  if (auto f = TakeFailure()) return *f;
  for (model::Group& g : groups) {
    if (g.id == id) {
      g.status = status;
      *out = g;
      return Status::Ok();
    }
  }
  return MakeStatus(Status::Code::kNotFound, "no such group");
}

Status FakeStore::ListGroupEvents(int64_t group_id, int limit,
                                  const std::string& cursor,
                                  model::Page<model::StoredEvent>* out) {
  last_events_limit = limit;
  last_events_cursor = cursor;
  if (auto f = TakeFailure()) return *f;
  std::vector<model::StoredEvent> rows;
  for (const model::StoredEvent& e : events) {
    if (e.group_id == group_id) rows.push_back(e);
  }
  return Paginate(rows, limit, cursor, out);
}

Status FakeStore::GetEvent(const std::string& event_id,
                           model::StoredEvent* out) {
  if (auto f = TakeFailure()) return *f;
  for (const model::StoredEvent& e : events) {
    if (e.event_id == event_id) {
      *out = e;
      return Status::Ok();
    }
  }
  return MakeStatus(Status::Code::kNotFound, "no such event");
}

Status FakeStore::CountGroups(std::vector<model::GroupCount>*) {
  return Status::Ok();
}

Status FakeStore::FindGroupsForPod(const std::string&, double, double,
                                   std::vector<int64_t>*) {
  return Status::Ok();
}

Status FakeStore::UpsertCrash(const model::Crash&, int64_t*, bool*) {
  return MakeStatus(Status::Code::kInternal, "not used by REST");
}

Status FakeStore::GetCrashByKey(const std::string&, model::Crash*) {
  return MakeStatus(Status::Code::kInternal, "not used by REST");
}

Status FakeStore::GetCrash(int64_t id, model::Crash* out) {
  if (auto f = TakeFailure()) return *f;
  for (const model::Crash& c : crashes) {
    if (c.id == id) {
      *out = c;
      return Status::Ok();
    }
  }
  return MakeStatus(Status::Code::kNotFound, "no such crash");
}

Status FakeStore::ListCrashes(const store::CrashQuery& query,
                              model::Page<model::Crash>* out) {
  last_crash_query = query;
  if (auto f = TakeFailure()) return *f;
  return Paginate(crashes, query.limit, query.cursor, out);
}

Status FakeStore::LinkCrashGroup(int64_t, int64_t) { return Status::Ok(); }

Status FakeStore::DeleteOlderThan(double, int64_t* deleted) {
  *deleted = 0;
  return Status::Ok();
}

}  // namespace testing
}  // namespace crashctl
