#include "rows.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>

#include "crashctl/util/strings.h"
#include "cursor.h"

namespace crashctl {
namespace store {

// public_key: the oldest active key (model::Project::public_key).
const char kProjectColumns[] =
    "id, name, coalesce((SELECT k.public_key FROM project_keys k "
    "WHERE k.project_id = projects.id AND k.active = 1 ORDER BY k.id "
    "LIMIT 1), ''), created_at";

const char kGroupColumns[] =
    "id, project_id, fingerprint, title, culprit, level, status, count, "
    "first_seen, last_seen, service, release, first_release, "
    "regression_count, users";

const char kEventColumns[] =
    "event_id, project_id, group_id, timestamp, received, level, platform, "
    "message, release, environment, server_name, service, title, trace_id, "
    "span_id, sdk, user_id, tags";

const char kTransactionColumns[] =
    "id, project_id, event_id, trace_id, span_id, parent_span_id, name, "
    "source, op, status, method, http_status, start_timestamp, timestamp, "
    "received, release, environment, service, platform, time_shift, "
    "spans_cut, spans_invalid";

const char kCrashColumns[] =
    "id, dedup_key, namespace, pod, pod_uid, container, node, workload_kind, "
    "workload, image, crash_type, reason, exit_code, signal, restart_count, "
    "memory_request, memory_limit, started_at, finished_at, created_at, "
    "updated_at, message, logs";

std::string SdkColumn(const std::string& name, const std::string& version) {
  if (name.empty() && version.empty()) return "";
  return name + "/" + version;
}

void SplitSdkColumn(const std::string& column, std::string* name,
                    std::string* version) {
  const size_t slash = column.rfind('/');
  if (slash == std::string::npos) {
    *name = column;
    version->clear();
    return;
  }
  *name = column.substr(0, slash);
  *version = column.substr(slash + 1);
}

namespace {

// The pseudo tags of IndexedTags(), in order; the user one is last.
constexpr const char* kPseudoTags[] = {"level",       "release", "environment",
                                       "server_name", "service", "user"};

bool IsPseudoTag(const std::string& key) {
  for (const char* pseudo : kPseudoTags) {
    if (key == pseudo) return true;
  }
  return false;
}

}  // namespace

TagList CustomTags(const model::Event& event) {
  TagList out;
  for (const auto& tag : event.tags) {
    if (out.size() == kMaxCustomTags) break;
    if (tag.first.empty() || tag.second.empty() ||
        tag.first.size() > kMaxTagKeyBytes ||
        tag.second.size() > kMaxTagValueBytes || IsPseudoTag(tag.first)) {
      continue;
    }
    bool repeated = false;
    for (const auto& kept : out) repeated = repeated || kept.first == tag.first;
    if (!repeated) out.push_back(tag);
  }
  return out;
}

TagList IndexedTags(const model::Event& event) {
  TagList out;
  const std::string* values[] = {
      nullptr,        &event.release, &event.environment, &event.server_name,
      &event.service, &event.user};
  out.emplace_back(kPseudoTags[0], model::ToString(event.level));
  for (size_t i = 1; i < sizeof(kPseudoTags) / sizeof(kPseudoTags[0]); ++i) {
    if (!values[i]->empty()) out.emplace_back(kPseudoTags[i], *values[i]);
  }
  for (auto& tag : CustomTags(event)) out.push_back(std::move(tag));
  return out;
}

std::string MessageSearchText(const model::Event& event) {
  std::string out = event.message;
  util::TruncateUtf8(&out, kMaxSearchMessageBytes);
  return out;
}

std::string ExceptionSearchText(const model::Event& event) {
  std::string out;
  for (const model::ExceptionValue& ex : event.exceptions) {
    std::string line = ex.type;
    if (!ex.type.empty() && !ex.value.empty()) line += ": ";
    line += ex.value;
    if (line.empty()) continue;
    if (!out.empty()) line.insert(0, "\n");
    if (out.size() + line.size() > kMaxSearchExceptionBytes) break;
    out += line;
  }
  return out;
}

void ReadProject(const SqliteStmt& stmt, model::Project* out) {
  out->id = stmt.Int(0);
  out->name = stmt.Text(1);
  out->public_key = stmt.Text(2);
  out->created_at = stmt.Double(3);
}

std::string TagsColumn(
    const std::vector<std::pair<std::string, std::string>>& tags) {
  if (tags.empty()) return "";
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartArray();
  for (const auto& tag : tags) {
    w.StartArray();
    w.String(tag.first.data(),
             static_cast<rapidjson::SizeType>(tag.first.size()));
    w.String(tag.second.data(),
             static_cast<rapidjson::SizeType>(tag.second.size()));
    w.EndArray();
  }
  w.EndArray();
  return std::string(buffer.GetString(), buffer.GetSize());
}

void ParseTagsColumn(const std::string& column,
                     std::vector<std::pair<std::string, std::string>>* tags) {
  tags->clear();
  if (column.empty()) return;
  rapidjson::Document doc;
  doc.Parse(column.data(), column.size());
  if (doc.HasParseError() || !doc.IsArray()) return;
  for (const rapidjson::Value& pair : doc.GetArray()) {
    if (!pair.IsArray() || pair.Size() != 2 || !pair[0].IsString() ||
        !pair[1].IsString()) {
      continue;
    }
    tags->emplace_back(
        std::string(pair[0].GetString(), pair[0].GetStringLength()),
        std::string(pair[1].GetString(), pair[1].GetStringLength()));
  }
}

void ReadGroup(const SqliteStmt& stmt, model::Group* out) {
  out->id = stmt.Int(0);
  out->project_id = stmt.Int(1);
  out->fingerprint = stmt.Text(2);
  out->title = stmt.Text(3);
  out->culprit = stmt.Text(4);
  out->level = LevelFrom(stmt.Text(5));
  out->status = GroupStatusFrom(stmt.Text(6));
  out->count = stmt.Int(7);
  out->first_seen = stmt.Double(8);
  out->last_seen = stmt.Double(9);
  out->service = stmt.Text(10);
  out->release = stmt.Text(11);
  out->first_release = stmt.Text(12);
  out->regression_count = stmt.Int(13);
  out->users = stmt.Int(14);
  out->linked_crashes.clear();
}

void ReadEvent(const SqliteStmt& stmt, model::StoredEvent* out) {
  out->event_id = stmt.Text(0);
  out->project_id = stmt.Int(1);
  out->group_id = stmt.Int(2);
  out->timestamp = stmt.Double(3);
  out->received = stmt.Double(4);
  out->level = LevelFrom(stmt.Text(5));
  out->platform = stmt.Text(6);
  out->message = stmt.Text(7);
  out->release = stmt.Text(8);
  out->environment = stmt.Text(9);
  out->server_name = stmt.Text(10);
  out->service = stmt.Text(11);
  out->title = stmt.Text(12);
  out->trace_id = stmt.Text(13);
  out->span_id = stmt.Text(14);
  SplitSdkColumn(stmt.Text(15), &out->sdk_name, &out->sdk_version);
  out->user = stmt.Text(16);
  ParseTagsColumn(stmt.Text(17), &out->tags);
  out->payload.clear();
}

void ReadTransaction(const SqliteStmt& stmt, model::StoredTransaction* out) {
  out->id = stmt.Int(0);
  out->project_id = stmt.Int(1);
  tracing::Transaction& tx = out->transaction;
  tx = tracing::Transaction();
  tx.event_id = stmt.Text(2);
  tx.trace_id = stmt.Text(3);
  tx.span_id = stmt.Text(4);
  tx.parent_span_id = stmt.Text(5);
  tx.name = stmt.Text(6);
  tx.source = stmt.Text(7);
  tx.op = stmt.Text(8);
  tx.status = stmt.Text(9);
  tx.method = stmt.Text(10);
  tx.http_status = static_cast<int>(stmt.Int(11));
  tx.start = stmt.Double(12);
  tx.end = stmt.Double(13);
  out->received = stmt.Double(14);
  tx.release = stmt.Text(15);
  tx.environment = stmt.Text(16);
  tx.service = stmt.Text(17);
  tx.platform = stmt.Text(18);
  tx.time_shift = stmt.Double(19);
  tx.spans_cut = static_cast<size_t>(stmt.Int(20));
  tx.spans_invalid = static_cast<size_t>(stmt.Int(21));
}

Status ReadEventPage(SqliteDb* db, SqliteStmt* stmt, int limit,
                     const char* what, model::Page<model::StoredEvent>* page) {
  int rc;
  int64_t last_row_id = 0;
  while ((rc = stmt->Step()) == SQLITE_ROW) {
    if (static_cast<int>(page->items.size()) == limit) {
      Cursor next;
      next.sort = "timestamp";
      next.value = page->items.back().timestamp;
      next.id = last_row_id;
      page->next_cursor = EncodeCursor(next);
      break;
    }
    model::StoredEvent event;
    ReadEvent(*stmt, &event);
    last_row_id = stmt->Int(kEventColumnCount);
    page->items.push_back(std::move(event));
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db->LastStatus(what);
  return Status::Ok();
}

void ReadCrash(const SqliteStmt& stmt, model::Crash* out) {
  out->id = stmt.Int(0);
  out->dedup_key = stmt.Text(1);
  out->namespace_ = stmt.Text(2);
  out->pod = stmt.Text(3);
  out->pod_uid = stmt.Text(4);
  out->container = stmt.Text(5);
  out->node = stmt.Text(6);
  out->workload_kind = stmt.Text(7);
  out->workload = stmt.Text(8);
  out->image = stmt.Text(9);
  out->crash_type = CrashTypeFrom(stmt.Text(10));
  out->reason = stmt.Text(11);
  out->exit_code = static_cast<int>(stmt.Int(12));
  out->signal = stmt.Text(13);
  out->restart_count = static_cast<int>(stmt.Int(14));
  out->memory_request = stmt.Text(15);
  out->memory_limit = stmt.Text(16);
  out->started_at = stmt.Double(17);
  out->finished_at = stmt.Double(18);
  out->created_at = stmt.Double(19);
  out->updated_at = stmt.Double(20);
  out->message = stmt.Text(21);
  out->logs = stmt.Text(22);
  out->linked_groups.clear();
}

namespace {

Status LoadIds(SqliteDb* db, const char* sql, int64_t key, const char* what,
               std::vector<int64_t>* ids) {
  ids->clear();
  SqliteStmt stmt;
  Status status;
  if (!db->Prepare(sql, &stmt, &status)) return status;
  stmt.Bind(1, key).Bind(2, kMaxLinks);
  int rc;
  while ((rc = stmt.Step()) == SQLITE_ROW) ids->push_back(stmt.Int(0));
  if (rc != SQLITE_DONE) return db->LastStatus(what);
  return Status::Ok();
}

}  // namespace

Status LoadLinkedCrashes(SqliteDb* db, model::Group* group) {
  return LoadIds(db,
                 "SELECT crash_id FROM crash_groups WHERE group_id = ?1 "
                 "ORDER BY crash_id DESC LIMIT ?2",
                 group->id, "load linked crashes", &group->linked_crashes);
}

Status LoadLinkedGroups(SqliteDb* db, model::Crash* crash) {
  return LoadIds(db,
                 "SELECT group_id FROM crash_groups WHERE crash_id = ?1 "
                 "ORDER BY group_id DESC LIMIT ?2",
                 crash->id, "load linked groups", &crash->linked_groups);
}

int ClampLimit(int limit, int fallback) {
  if (limit <= 0) return fallback;
  return std::min(limit, 1000);
}

Status StepToRow(SqliteDb* db, SqliteStmt* stmt, const std::string& what,
                 const std::string& not_found) {
  const int rc = stmt->Step();
  if (rc == SQLITE_ROW) return Status::Ok();
  if (rc == SQLITE_DONE) return MakeStatus(Status::Code::kNotFound, not_found);
  return db->LastStatus(what);
}

double FiniteOr(double value, double fallback) {
  return std::isfinite(value) ? value : fallback;
}

}  // namespace store
}  // namespace crashctl
