#include "fake_store.h"

#include <algorithm>
#include <cmath>
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

bool HasTag(const model::StoredEvent& e, const store::TagFilter& tag) {
  for (const auto& t : e.tags) {
    if (t.first == tag.key && t.second == tag.value) return true;
  }
  return false;
}

bool Matches(const store::EventQuery& q, const model::StoredEvent& e) {
  if (q.project && *q.project != e.project_id) return false;
  if (q.group && *q.group != e.group_id) return false;
  if (q.level && *q.level != e.level) return false;
  if (!q.service.empty() && q.service != e.service) return false;
  if (!q.release.empty() && q.release != e.release) return false;
  if (!q.environment.empty() && q.environment != e.environment) return false;
  if (!q.user.empty() && q.user != e.user) return false;
  for (const store::TagFilter& tag : q.tags) {
    if (!HasTag(e, tag)) return false;
  }
  if (q.since > 0 && e.timestamp < q.since) return false;
  if (q.until > 0 && e.timestamp >= q.until) return false;
  return true;
}

}  // namespace

Status FakeStore::ListEvents(const store::EventQuery& query,
                             model::Page<model::StoredEvent>* out) {
  last_event_query = query;
  if (auto f = TakeFailure()) return *f;
  std::vector<model::StoredEvent> matched;
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    if (!Matches(query, *it)) continue;
    matched.push_back(*it);
    matched.back().payload.clear();
  }
  return Paginate(matched, query.limit, query.cursor, out);
}

Status FakeStore::GroupStats(const store::StatsQuery& query,
                             std::vector<model::StatBucket>* out) {
  last_stats_query = query;
  if (auto f = TakeFailure()) return *f;
  if (query.interval != 60 && query.interval != 3600 &&
      query.interval != 86400) {
    return MakeStatus(Status::Code::kInvalid, "bad interval");
  }
  if (query.since >= query.until) {
    return MakeStatus(Status::Code::kInvalid, "since >= until");
  }
  model::Group group;
  Status found = GetGroup(query.group_id, &group);
  if (!found.ok()) return found;
  const double step = static_cast<double>(query.interval);
  out->clear();
  for (double start = std::floor(query.since / step) * step;
       start < query.until; start += step) {
    if (out->size() >= store::kMaxStatBuckets) {
      return MakeStatus(Status::Code::kInvalid, "too many buckets");
    }
    model::StatBucket bucket;
    bucket.start = start;
    for (const model::StoredEvent& e : events) {
      if (e.group_id == query.group_id && e.timestamp >= start &&
          e.timestamp < start + step) {
        ++bucket.count;
      }
    }
    out->push_back(bucket);
  }
  return Status::Ok();
}

Status FakeStore::GroupTags(int64_t group_id, size_t top,
                            std::vector<model::TagSummary>* out) {
  last_tags_top = top;
  if (auto f = TakeFailure()) return *f;
  model::Group group;
  Status found = GetGroup(group_id, &group);
  if (!found.ok()) return found;
  *out = tag_summaries;
  for (model::TagSummary& t : *out) {
    if (t.top.size() > top) t.top.resize(top);
  }
  return Status::Ok();
}

Status FakeStore::SetGroupsStatus(const std::vector<int64_t>& ids,
                                  model::GroupStatus status,
                                  std::vector<model::Group>* out) {
  last_bulk_ids = ids;
  if (auto f = TakeFailure()) return *f;
  for (int64_t id : ids) {
    if (std::none_of(groups.begin(), groups.end(),
                     [id](const model::Group& g) { return g.id == id; })) {
      return MakeStatus(Status::Code::kNotFound,
                        "group " + std::to_string(id) + " not found");
    }
  }
  out->clear();
  for (int64_t id : ids) {
    for (model::Group& g : groups) {
      if (g.id != id) continue;
      g.status = status;
      out->push_back(g);
    }
  }
  return Status::Ok();
}

Status FakeStore::MergeGroups(int64_t into, const std::vector<int64_t>& from,
                              model::Group* out) {
  if (auto f = TakeFailure()) return *f;
  auto find = [this](int64_t id) {
    return std::find_if(groups.begin(), groups.end(),
                        [id](const model::Group& g) { return g.id == id; });
  };
  if (find(into) == groups.end()) {
    return MakeStatus(Status::Code::kNotFound,
                      "group " + std::to_string(into) + " not found");
  }
  for (int64_t id : from) {
    auto it = find(id);
    if (it == groups.end()) {
      return MakeStatus(Status::Code::kNotFound,
                        "group " + std::to_string(id) + " not found");
    }
    if (id == into || it->project_id != find(into)->project_id) {
      return MakeStatus(Status::Code::kInvalid, "cannot merge");
    }
  }
  for (int64_t id : from) {
    auto it = find(id);
    if (it == groups.end()) continue;  // listed twice
    find(into)->count += it->count;
    groups.erase(it);
    for (model::StoredEvent& e : events) {
      if (e.group_id == id) e.group_id = into;
    }
  }
  *out = *find(into);
  return Status::Ok();
}

Status FakeStore::DeleteGroup(int64_t id) {
  if (auto f = TakeFailure()) return *f;
  auto it = std::find_if(groups.begin(), groups.end(),
                         [id](const model::Group& g) { return g.id == id; });
  if (it == groups.end()) {
    return MakeStatus(Status::Code::kNotFound,
                      "group " + std::to_string(id) + " not found");
  }
  groups.erase(it);
  events.erase(std::remove_if(events.begin(), events.end(),
                              [id](const model::StoredEvent& e) {
                                return e.group_id == id;
                              }),
               events.end());
  return Status::Ok();
}

Status FakeStore::DeleteEvents(const store::EventDeletion& which,
                               int64_t* deleted) {
  last_event_deletion = which;
  *deleted = 0;
  if (auto f = TakeFailure()) return *f;
  if (which.user.empty()) {
    return MakeStatus(Status::Code::kInvalid, "empty user");
  }
  const size_t before = events.size();
  events.erase(std::remove_if(events.begin(), events.end(),
                              [&which](const model::StoredEvent& e) {
                                return e.user == which.user &&
                                       (!which.project ||
                                        *which.project == e.project_id);
                              }),
               events.end());
  *deleted = static_cast<int64_t>(before - events.size());
  groups.erase(std::remove_if(groups.begin(), groups.end(),
                              [this](const model::Group& g) {
                                return std::none_of(
                                    events.begin(), events.end(),
                                    [&g](const model::StoredEvent& e) {
                                      return e.group_id == g.id;
                                    });
                              }),
               groups.end());
  return Status::Ok();
}

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
