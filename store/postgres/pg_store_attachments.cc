// PostgresStore: attachments and user feedback (docs/ingestion-formats.md,
// docs/postgres.md "Attachments and feedback"), with the SQLite store's
// semantics (store/sqlite_store_attachments.cc).
//
// An attachment's bytes are rows of attachment_chunks, at most kChunk bytes
// each, inserted one at a time from memory or the spool file in the
// transaction that inserts the attachment's row: a retried envelope finds
// the row (ON CONFLICT DO NOTHING) and writes no chunk twice. Migration 7's
// statement trigger deletes both with their events.
//
// Feedback whose event is not stored when it comes (sent first, or written
// at the same moment by another writer, so neither sees the other) keeps
// group_id 0: the event's feedback shows the group read from the event,
// ListGroupFeedback also finds it through its event for a day, and
// RepairFeedbackGroups, run by Maintain at most once a minute off the write
// path, fills it in. (An insert trigger on events that did so cost 8 % of
// the event throughput with one replica and 25 % with two whenever a report
// waited: bench/RESULTS.md.)
#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "attachment_bytes.h"
#include "crashctl/util/strings.h"
#include "crashctl/util/time.h"
#include "pg_rows.h"
#include "pg_store.h"

namespace crashctl {
namespace store {
namespace pg {
namespace {

constexpr size_t kChunk = 1 << 20;

// How long ListGroupFeedback looks among feedback waiting for its event
// (older ones are the orphans of events never stored; Maintain still fills
// in any whose event comes).
constexpr double kWaitingSeconds = 24 * 3600;

constexpr char kAttachmentColumns[] =
    "a.id, a.project_id, a.event_id, a.position, a.filename, a.content_type, "
    "a.attachment_type, a.size, a.received";

// The group of feedback whose row does not hold it yet is its event's.
constexpr char kFeedbackColumns[] =
    "f.id, f.project_id, f.kind, f.feedback_id, f.event_id, "
    "CASE WHEN f.group_id <> 0 OR f.event_id = '' THEN f.group_id ELSE "
    "coalesce((SELECT e.group_id FROM events e WHERE e.project_id = "
    "f.project_id AND e.event_id = f.event_id), 0) END, "
    "f.name, f.email, f.comments, f.url, f.timestamp, f.received";

void ReadAttachment(const Result& r, int row, model::Attachment* out) {
  out->id = r.Text(row, 0);
  out->project_id = r.IntOr(row, 1, 0);
  out->event_id = r.Text(row, 2);
  out->position = static_cast<int>(r.IntOr(row, 3, 0));
  out->filename = r.Text(row, 4);
  out->content_type = r.Text(row, 5);
  out->attachment_type = r.Text(row, 6);
  out->size = r.IntOr(row, 7, 0);
  out->received = r.DoubleOr(row, 8, 0);
}

void ReadFeedback(const Result& r, int row, model::Feedback* out) {
  out->id = r.IntOr(row, 0, 0);
  out->project_id = r.IntOr(row, 1, 0);
  out->kind = r.Text(row, 2);
  out->feedback_id = r.Text(row, 3);
  out->event_id = r.Text(row, 4);
  out->group_id = r.IntOr(row, 5, 0);
  out->name = r.Text(row, 6);
  out->email = r.Text(row, 7);
  out->comments = r.Text(row, 8);
  out->url = r.Text(row, 9);
  out->timestamp = r.DoubleOr(row, 10, 0);
  out->received = r.DoubleOr(row, 11, 0);
}

// Inserts one attachment's row and, when it is new, its chunks.
Status InsertAttachment(Connection* conn, const model::Attachment& a) {
  Result inserted;
  Status st = conn->ExecPrepared(
      "INSERT INTO attachments (id, project_id, event_id, position, "
      "filename, content_type, attachment_type, size, received) VALUES ($1, "
      "$2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING id",
      Params()
          .Text(Utf8(a.id))
          .Int(a.project_id)
          .Text(Utf8(a.event_id))
          .Int(a.position)
          .Text(Utf8(a.filename))
          .Text(Utf8(a.content_type))
          .Text(Utf8(a.attachment_type))
          .Int(a.size)
          .Double(a.received),
      &inserted);
  if (!st.ok()) return st;
  if (inserted.rows() == 0) return Status::Ok();  // written by an earlier try
  return ForEachAttachmentChunk(
      a, kChunk, [&](int64_t offset, std::string_view bytes) {
        return conn->ExecPrepared(
            "INSERT INTO attachment_chunks (attachment_id, seq, data) "
            "VALUES ($1, $2, $3)",
            Params()
                .Text(Utf8(a.id))
                .Int(offset / static_cast<int64_t>(kChunk))
                .Bytea(bytes));
      });
}

}  // namespace

Status PostgresStore::WriteAttachments(
    const std::vector<model::Attachment>& attachments) {
  if (attachments.empty()) return Status::Ok();
  Status checked = CheckAttachmentSizes(attachments);
  if (!checked.ok()) return checked;
  return InTransaction("write attachments", [&](Connection* conn) {
    for (const model::Attachment& a : attachments) {
      Status st = InsertAttachment(conn, a);
      if (!st.ok()) return st;
    }
    return Status::Ok();
  });
}

Status PostgresStore::ListAttachments(const std::string& event_id,
                                      std::vector<model::Attachment>* out) {
  std::vector<model::Attachment> items;
  Status status = WithConnection("list attachments", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared(
        std::string("SELECT ") + kAttachmentColumns +
            " FROM attachments a WHERE a.event_id = $1 ORDER BY a.position "
            "LIMIT $2",
        Params().Text(Utf8(event_id)).Int(kMaxAttachmentsPerEvent), &r);
    if (!st.ok()) return st;
    items.resize(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) ReadAttachment(r, i, &items[i]);
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(items);
  return status;
}

Status PostgresStore::GetAttachment(const std::string& event_id,
                                    const std::string& attachment_id,
                                    model::Attachment* out) {
  // One snapshot for the row and its chunks, read a chunk per statement so
  // that no more than one chunk is held beside the bytes (a result of every
  // chunk would hold them twice more, hex-encoded).
  TransactionOptions options;
  options.begin_mode = "ISOLATION LEVEL REPEATABLE READ READ ONLY";
  return WithConnection("get attachment", [&](Connection* conn) {
    return RunTransaction(conn, options, [&](Connection* c) {
      Result r;
      Status st = c->ExecPrepared(
          std::string("SELECT ") + kAttachmentColumns +
              " FROM attachments a WHERE a.id = $1 AND a.event_id = $2",
          Params().Text(Utf8(attachment_id)).Text(Utf8(event_id)), &r);
      if (!st.ok()) return st;
      if (r.rows() == 0) {
        return Status::NotFound("event " + event_id + " has no attachment " +
                                attachment_id);
      }
      model::Attachment a;
      ReadAttachment(r, 0, &a);
      a.data.reserve(static_cast<size_t>(std::max<int64_t>(a.size, 0)));
      // Bounded: size / kChunk chunks.
      const int64_t chunks = (a.size + static_cast<int64_t>(kChunk) - 1) /
                             static_cast<int64_t>(kChunk);
      for (int64_t seq = 0; seq < chunks; ++seq) {
        Result chunk;
        st = c->ExecPrepared(
            "SELECT data FROM attachment_chunks WHERE attachment_id = $1 AND "
            "seq = $2",
            Params().Text(Utf8(attachment_id)).Int(seq), &chunk);
        if (!st.ok()) return st;
        std::string bytes;
        if (chunk.rows() == 1) {
          st = chunk.Bytea(0, 0, &bytes);
          if (!st.ok()) return st;
        }
        if (chunk.rows() != 1 || bytes.empty()) break;  // checked below
        a.data += bytes;
      }
      if (static_cast<int64_t>(a.data.size()) != a.size) {
        return Status::Internal("attachment " + attachment_id + ": " +
                                std::to_string(a.data.size()) + " of its " +
                                std::to_string(a.size) + " bytes are stored");
      }
      *out = std::move(a);
      return Status::Ok();
    });
  });
}

Status PostgresStore::WriteFeedback(
    const std::vector<model::Feedback>& feedback) {
  if (feedback.empty()) return Status::Ok();
  return InTransaction("write feedback", [&](Connection* conn) {
    for (const model::Feedback& f : feedback) {
      Status st = conn->ExecPrepared(
          "INSERT INTO feedback (project_id, kind, feedback_id, event_id, "
          "group_id, name, email, comments, url, timestamp, received) VALUES "
          "($1, $2, $3, $4::text, coalesce((SELECT group_id FROM events "
          "WHERE project_id = $1 AND event_id = $4::text AND $4::text <> ''), "
          "0), $5, $6, $7, $8, $9, $10) ON CONFLICT (project_id, feedback_id) "
          "DO NOTHING",
          Params()
              .Int(f.project_id)
              .Text(Utf8(f.kind))
              .Text(Utf8(f.feedback_id))
              .Text(Utf8(f.event_id))
              .Text(Utf8(f.name))
              .Text(Utf8(f.email))
              .Text(Utf8(f.comments))
              .Text(Utf8(f.url))
              .Double(f.timestamp)
              .Double(f.received));
      if (!st.ok()) return st;
    }
    return Status::Ok();
  });
}

Status PostgresStore::ListFeedbackWhere(const std::string& where,
                                        const Params& params,
                                        std::vector<model::Feedback>* out) {
  std::vector<model::Feedback> items;
  Status status = WithConnection("list feedback", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared(
        std::string("SELECT ") + kFeedbackColumns + " FROM feedback f WHERE " +
            where + " ORDER BY f.timestamp DESC, f.id DESC LIMIT $2",
        params, &r);
    if (!st.ok()) return st;
    items.resize(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) ReadFeedback(r, i, &items[i]);
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(items);
  return status;
}

Status PostgresStore::ListEventFeedback(const std::string& event_id,
                                        size_t limit,
                                        std::vector<model::Feedback>* out) {
  if (event_id.empty()) {
    out->clear();
    return Status::Ok();
  }
  return ListFeedbackWhere(
      "f.event_id = $1 AND f.event_id <> ''",
      Params()
          .Text(Utf8(event_id))
          .Int(static_cast<int64_t>(std::min<size_t>(limit, 1000))),
      out);
}

Status PostgresStore::ListGroupFeedback(int64_t group_id, size_t limit,
                                        std::vector<model::Feedback>* out) {
  if (group_id == 0) {
    out->clear();
    return Status::Ok();
  }
  // The group's rows, and those waiting for their event (sent first, or
  // written beside it by another writer) received within the last
  // kWaitingSeconds whose event is in the group: what Maintain fills in.
  const std::string where =
      "f.id IN (SELECT g.id FROM feedback g WHERE g.group_id = $1 AND "
      "g.group_id <> 0 UNION ALL SELECT w.id FROM feedback w WHERE "
      "w.group_id = 0 AND w.event_id <> '' AND w.received > $3 AND EXISTS "
      "(SELECT 1 FROM events e WHERE e.project_id = w.project_id AND "
      "e.event_id = w.event_id AND e.group_id = $1))";
  return ListFeedbackWhere(
      where,
      Params()
          .Int(group_id)
          .Int(static_cast<int64_t>(std::min<size_t>(limit, 1000)))
          .Double(util::NowSeconds() - kWaitingSeconds),
      out);
}

Status PostgresStore::RepairFeedbackGroups(int64_t* repaired) {
  *repaired = 0;
  return DeleteInBatches(
      "repair feedback groups",
      "UPDATE feedback f SET group_id = e.group_id FROM events e WHERE "
      "f.id IN (SELECT w.id FROM feedback w WHERE w.group_id = 0 AND "
      "w.event_id <> '' AND EXISTS (SELECT 1 FROM events x WHERE "
      "x.project_id = w.project_id AND x.event_id = w.event_id) LIMIT 5000 "
      "FOR UPDATE SKIP LOCKED) AND e.project_id = f.project_id AND "
      "e.event_id = f.event_id AND f.group_id = 0",
      Params(), repaired);
}

Status PostgresStore::DeleteOrphanItems(double cutoff, int64_t* deleted,
                                        Connection* conn) {
  // Those whose event is gone (or never came) and that are older than
  // `cutoff`; those of deleted events went with them (trigger).
  int64_t attachments = 0, feedback = 0;
  *deleted = 0;
  Status st = DeleteInBatches(
      "delete orphan attachments",
      "DELETE FROM attachments WHERE id IN (SELECT a.id FROM attachments a "
      "WHERE a.received < $1 AND NOT EXISTS (SELECT 1 FROM events e WHERE "
      "e.project_id = a.project_id AND e.event_id = a.event_id) LIMIT 5000)",
      Params().Double(cutoff), &attachments, conn);
  if (!st.ok()) return st;
  st = DeleteInBatches(
      "delete orphan feedback",
      "DELETE FROM feedback WHERE id IN (SELECT f.id FROM feedback f WHERE "
      "f.received < $1 AND (f.event_id = '' OR NOT EXISTS (SELECT 1 FROM "
      "events e WHERE e.project_id = f.project_id AND e.event_id = "
      "f.event_id)) LIMIT 5000)",
      Params().Double(cutoff), &feedback, conn);
  *deleted = attachments + feedback;
  if (!st.ok()) return st;
  if (*deleted > 0) {
    spdlog::info(
        "postgres: retention deleted {} attachments and {} feedback without "
        "an event, older than {:.0f}",
        attachments, feedback, cutoff);
  }
  return Status::Ok();
}

}  // namespace pg
}  // namespace store
}  // namespace crashctl
