#include "pg_rows.h"

#include "rows.h"

namespace crashctl {
namespace store {
namespace pg {

const char kPgProjectColumns[] =
    "id, name, coalesce((SELECT k.public_key FROM project_keys k "
    "WHERE k.project_id = projects.id AND k.active ORDER BY k.id "
    "LIMIT 1), ''), created_at";

const char kPgGroupColumns[] =
    "id, project_id, fingerprint, title, culprit, level, status, count, "
    "first_seen, last_seen, service, release, first_release, "
    "regression_count, users";

const char kPgEventColumns[] =
    "e.event_id, e.project_id, e.group_id, e.timestamp, e.received, e.level, "
    "e.platform, e.message, e.release, e.environment, e.server_name, "
    "e.service, e.title, e.trace_id, e.span_id, e.sdk, e.user_id, e.tags";

void ReadProjectRow(const Result& r, int row, model::Project* out) {
  out->id = r.IntOr(row, 0, 0);
  out->name = r.Text(row, 1);
  out->public_key = r.Text(row, 2);
  out->created_at = r.DoubleOr(row, 3, 0);
}

void ReadGroupRow(const Result& r, int row, model::Group* out) {
  out->id = r.IntOr(row, 0, 0);
  out->project_id = r.IntOr(row, 1, 0);
  out->fingerprint = r.Text(row, 2);
  out->title = r.Text(row, 3);
  out->culprit = r.Text(row, 4);
  out->level = LevelFrom(r.Text(row, 5));
  out->status = GroupStatusFrom(r.Text(row, 6));
  out->count = r.IntOr(row, 7, 0);
  out->first_seen = r.DoubleOr(row, 8, 0);
  out->last_seen = r.DoubleOr(row, 9, 0);
  out->service = r.Text(row, 10);
  out->release = r.Text(row, 11);
  out->first_release = r.Text(row, 12);
  out->regression_count = r.IntOr(row, 13, 0);
  out->users = r.IntOr(row, 14, 0);
  out->linked_crashes.clear();  // LoadGroupLinks fills it
}

void ReadEventRow(const Result& r, int row, model::StoredEvent* out) {
  out->event_id = r.Text(row, 0);
  out->project_id = r.IntOr(row, 1, 0);
  out->group_id = r.IntOr(row, 2, 0);
  out->timestamp = r.DoubleOr(row, 3, 0);
  out->received = r.DoubleOr(row, 4, 0);
  out->level = LevelFrom(r.Text(row, 5));
  out->platform = r.Text(row, 6);
  out->message = r.Text(row, 7);
  out->release = r.Text(row, 8);
  out->environment = r.Text(row, 9);
  out->server_name = r.Text(row, 10);
  out->service = r.Text(row, 11);
  out->title = r.Text(row, 12);
  out->trace_id = r.Text(row, 13);
  out->span_id = r.Text(row, 14);
  SplitSdkColumn(r.Text(row, 15), &out->sdk_name, &out->sdk_version);
  out->user = r.Text(row, 16);
  ParseTagsColumn(r.Text(row, 17), &out->tags);
  out->payload.clear();
}

}  // namespace pg
}  // namespace store
}  // namespace crashctl
