#include "fake_store.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

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

bool Matches(const store::TransactionQuery& q,
             const model::StoredTransaction& stored) {
  const tracing::Transaction& tx = stored.transaction;
  if (q.project && *q.project != stored.project_id) return false;
  if (!q.service.empty() && q.service != tx.service) return false;
  if (!q.transaction.empty() && q.transaction != tx.name) return false;
  if (!q.status.empty() && q.status != tx.status) return false;
  if (q.min_duration > 0 && tx.duration() < q.min_duration) return false;
  if (q.since > 0 && tx.end < q.since) return false;
  if (q.until > 0 && tx.end >= q.until) return false;
  return true;
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

Status FakeStore::WriteTransactions(
    const std::vector<model::StoredTransaction>& items,
    std::vector<bool>* stored) {
  if (auto f = TakeFailure()) return *f;
  std::vector<bool> results;
  for (const model::StoredTransaction& item : items) {
    const bool duplicate = std::any_of(
        transactions.begin(), transactions.end(),
        [&](const model::StoredTransaction& t) {
          return t.project_id == item.project_id &&
                 t.transaction.event_id == item.transaction.event_id;
        });
    results.push_back(!duplicate);
    if (!duplicate) {
      transactions.push_back(item);
      transactions.back().id = static_cast<int64_t>(transactions.size());
    }
  }
  if (stored != nullptr) *stored = std::move(results);
  return Status::Ok();
}

Status FakeStore::ListTransactions(const store::TransactionQuery& query,
                                   model::Page<model::StoredTransaction>* out) {
  last_transaction_query = query;
  if (auto f = TakeFailure()) return *f;
  std::vector<model::StoredTransaction> rows;
  for (auto it = transactions.rbegin(); it != transactions.rend(); ++it) {
    if (Matches(query, *it)) {
      rows.push_back(*it);
      rows.back().transaction.spans.clear();
    }
  }
  return Paginate(rows, query.limit, query.cursor, out);
}

Status FakeStore::TransactionSamples(const store::TransactionQuery& query,
                                     size_t max_rows,
                                     std::vector<tracing::NamedSample>* out,
                                     bool* truncated) {
  last_transaction_query = query;
  last_samples_max_rows = max_rows;
  if (auto f = TakeFailure()) return *f;
  out->clear();
  *truncated = false;
  for (auto it = transactions.rbegin(); it != transactions.rend(); ++it) {
    if (!Matches(query, *it)) continue;
    if (out->size() == max_rows) {
      *truncated = true;
      break;
    }
    out->push_back({it->transaction.name, it->transaction.duration(),
                    it->transaction.status});
  }
  return Status::Ok();
}

Status FakeStore::GetTraceTransactions(
    const std::string& trace_id, size_t limit,
    std::vector<model::StoredTransaction>* out) {
  last_trace_limit = limit;
  if (auto f = TakeFailure()) return *f;
  out->clear();
  for (const model::StoredTransaction& t : transactions) {
    if (out->size() >= limit) break;
    if (t.transaction.trace_id == trace_id) out->push_back(t);
  }
  return Status::Ok();
}

Status FakeStore::ListTraceEvents(const std::string& trace_id, size_t limit,
                                  std::vector<model::StoredEvent>* out) {
  if (auto f = TakeFailure()) return *f;
  out->clear();
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    if (out->size() >= limit) break;
    if (!trace_id.empty() && it->trace_id == trace_id) {
      out->push_back(*it);
      out->back().payload.clear();
    }
  }
  return Status::Ok();
}

Status FakeStore::DeleteTransactionsOlderThan(double cutoff, int64_t* deleted) {
  const size_t before = transactions.size();
  transactions.erase(std::remove_if(transactions.begin(), transactions.end(),
                                    [&](const model::StoredTransaction& t) {
                                      return t.transaction.end < cutoff;
                                    }),
                     transactions.end());
  *deleted = static_cast<int64_t>(before - transactions.size());
  return Status::Ok();
}

Status FakeStore::SaveTracingLabels(const std::string& json) {
  if (auto f = TakeFailure()) return *f;
  tracing_labels = json;
  return Status::Ok();
}

Status FakeStore::LoadTracingLabels(std::string* json) {
  if (auto f = TakeFailure()) return *f;
  *json = tracing_labels;
  return Status::Ok();
}

Status FakeStore::DeleteOlderThan(double, int64_t* deleted) {
  *deleted = 0;
  return Status::Ok();
}

}  // namespace testing
}  // namespace crashctl
