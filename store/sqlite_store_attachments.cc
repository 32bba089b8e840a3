// SqliteStore: attachments and user feedback (issue 18, schema version 8).
//
// An attachment's bytes are written in place: the row is inserted with a
// zeroblob of its size, then filled with sqlite3_blob_write in chunks of
// kChunk bytes, from memory or from its spool file, so a large attachment is
// never read whole into memory here. Both tables go with their events
// (triggers of migration 8); DeleteOrphanItems sweeps those whose event
// never arrived.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "attachment_bytes.h"
#include "rows.h"
#include "sqlite_store.h"

namespace crashctl {
namespace store {
namespace {

constexpr size_t kChunk = 64 * 1024;

constexpr char kInsertAttachment[] =
    "INSERT INTO attachments (id, project_id, event_id, position, filename, "
    "content_type, attachment_type, size, received, data) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, zeroblob(?8)) "
    "ON CONFLICT (project_id, event_id, position) DO NOTHING";

constexpr char kAttachmentColumns[] =
    "id, project_id, event_id, position, filename, content_type, "
    "attachment_type, size, received";

constexpr char kInsertFeedback[] =
    "INSERT INTO feedback (project_id, kind, feedback_id, event_id, group_id, "
    "name, email, comments, url, timestamp, received) "
    "VALUES (?1, ?2, ?3, ?4, coalesce((SELECT group_id FROM events WHERE "
    "event_id = ?4 AND project_id = ?1 AND ?4 != ''), 0), ?5, ?6, ?7, ?8, ?9, "
    "?10) "
    "ON CONFLICT (project_id, feedback_id) DO NOTHING";

constexpr char kFeedbackColumns[] =
    "id, project_id, kind, feedback_id, event_id, group_id, name, email, "
    "comments, url, timestamp, received";

void ReadAttachment(const SqliteStmt& stmt, model::Attachment* out) {
  out->id = stmt.Text(0);
  out->project_id = stmt.Int(1);
  out->event_id = stmt.Text(2);
  out->position = static_cast<int>(stmt.Int(3));
  out->filename = stmt.Text(4);
  out->content_type = stmt.Text(5);
  out->attachment_type = stmt.Text(6);
  out->size = stmt.Int(7);
  out->received = stmt.Double(8);
}

void ReadFeedback(const SqliteStmt& stmt, model::Feedback* out) {
  out->id = stmt.Int(0);
  out->project_id = stmt.Int(1);
  out->kind = stmt.Text(2);
  out->feedback_id = stmt.Text(3);
  out->event_id = stmt.Text(4);
  out->group_id = stmt.Int(5);
  out->name = stmt.Text(6);
  out->email = stmt.Text(7);
  out->comments = stmt.Text(8);
  out->url = stmt.Text(9);
  out->timestamp = stmt.Double(10);
  out->received = stmt.Double(11);
}

struct BlobCloser {
  void operator()(sqlite3_blob* b) const {
    if (b != nullptr) sqlite3_blob_close(b);
  }
};

// Fills the zeroblob of row `rowid` with the attachment's bytes, a chunk at
// a time (bounded: size / kChunk writes).
Status FillBlob(SqliteDb* db, int64_t rowid, const model::Attachment& a) {
  const std::string what =
      "attachment " + a.event_id + "/" + std::to_string(a.position);
  sqlite3_blob* raw = nullptr;
  int rc = sqlite3_blob_open(db->handle(), "main", "attachments", "data", rowid,
                             /*flags=*/1, &raw);
  std::unique_ptr<sqlite3_blob, BlobCloser> blob(raw);
  if (rc != SQLITE_OK) {
    db->RecordError(rc);
    return db->LastStatus("open blob of " + what);
  }
  return ForEachAttachmentChunk(
      a, kChunk, [&](int64_t at, std::string_view bytes) {
        rc = sqlite3_blob_write(blob.get(), bytes.data(),
                                static_cast<int>(bytes.size()),
                                static_cast<int>(at));
        if (rc != SQLITE_OK) {
          db->RecordError(rc);
          return db->LastStatus("write blob of " + what);
        }
        return Status::Ok();
      });
}

}  // namespace

Status SqliteStore::WriteAttachments(
    const std::vector<model::Attachment>& attachments) {
  if (attachments.empty()) return Status::Ok();
  Status checked = CheckAttachmentSizes(attachments);
  if (!checked.ok()) return checked;
  return Write("write attachments", [&](SqliteDb* db) {
    for (const model::Attachment& a : attachments) {
      Status st;
      SqliteStmt stmt;
      if (!db->Prepare(kInsertAttachment, &stmt, &st)) return st;
      stmt.Bind(1, a.id)
          .Bind(2, a.project_id)
          .Bind(3, a.event_id)
          .Bind(4, a.position)
          .Bind(5, a.filename)
          .Bind(6, a.content_type)
          .Bind(7, a.attachment_type)
          .Bind(8, a.size)
          .Bind(9, a.received);
      if (stmt.Run() != SQLITE_DONE) return db->LastStatus("insert attachment");
      if (db->Changes() == 0) continue;  // written by an earlier try
      const int64_t rowid = db->LastInsertRowid();
      stmt = SqliteStmt();
      if (a.size > 0) {
        st = FillBlob(db, rowid, a);
        if (!st.ok()) return st;
      }
    }
    return Status::Ok();
  });
}

Status SqliteStore::ListAttachments(const std::string& event_id,
                                    std::vector<model::Attachment>* out) {
  std::vector<model::Attachment> items;
  Status status = Read("list attachments", [&](SqliteDb* db) {
    items.clear();
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare(std::string("SELECT ") + kAttachmentColumns +
                         " FROM attachments WHERE event_id = ?1 "
                         "ORDER BY position LIMIT ?2",
                     &stmt, &st)) {
      return st;
    }
    stmt.Bind(1, event_id).Bind(2, int64_t{kMaxAttachmentsPerEvent});
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      items.emplace_back();
      ReadAttachment(stmt, &items.back());
    }
    if (rc != SQLITE_DONE) return db->LastStatus("list attachments");
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(items);
  return status;
}

Status SqliteStore::GetAttachment(const std::string& event_id,
                                  const std::string& attachment_id,
                                  model::Attachment* out) {
  return Read("get attachment", [&](SqliteDb* db) {
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare(std::string("SELECT ") + kAttachmentColumns +
                         ", data FROM attachments WHERE id = ?1 AND "
                         "event_id = ?2",
                     &stmt, &st)) {
      return st;
    }
    stmt.Bind(1, attachment_id).Bind(2, event_id);
    st = StepToRow(db, &stmt, "get attachment",
                   "event " + event_id + " has no attachment " + attachment_id);
    if (!st.ok()) return st;
    ReadAttachment(stmt, out);
    out->data = stmt.IsNull(9) ? std::string() : stmt.Text(9);
    return Status::Ok();
  });
}

Status SqliteStore::WriteFeedback(
    const std::vector<model::Feedback>& feedback) {
  if (feedback.empty()) return Status::Ok();
  return Write("write feedback", [&](SqliteDb* db) {
    for (const model::Feedback& f : feedback) {
      Status st;
      SqliteStmt stmt;
      if (!db->Prepare(kInsertFeedback, &stmt, &st)) return st;
      stmt.Bind(1, f.project_id)
          .Bind(2, f.kind)
          .Bind(3, f.feedback_id)
          .Bind(4, f.event_id)
          .Bind(5, f.name)
          .Bind(6, f.email)
          .Bind(7, f.comments)
          .Bind(8, f.url)
          .Bind(9, f.timestamp)
          .Bind(10, f.received);
      if (stmt.Run() != SQLITE_DONE) return db->LastStatus("insert feedback");
    }
    return Status::Ok();
  });
}

Status SqliteStore::ListFeedbackWhere(const char* where, const Key& key,
                                      size_t limit,
                                      std::vector<model::Feedback>* out) {
  std::vector<model::Feedback> items;
  Status status = Read("list feedback", [&](SqliteDb* db) {
    items.clear();
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare(std::string("SELECT ") + kFeedbackColumns +
                         " FROM feedback WHERE " + where +
                         " ORDER BY timestamp DESC, id DESC LIMIT ?2",
                     &stmt, &st)) {
      return st;
    }
    if (key.text.empty()) {
      stmt.Bind(1, key.number);
    } else {
      stmt.Bind(1, key.text);
    }
    stmt.Bind(2, static_cast<int64_t>(std::min<size_t>(limit, 1000)));
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      items.emplace_back();
      ReadFeedback(stmt, &items.back());
    }
    if (rc != SQLITE_DONE) return db->LastStatus("list feedback");
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(items);
  return status;
}

Status SqliteStore::ListEventFeedback(const std::string& event_id, size_t limit,
                                      std::vector<model::Feedback>* out) {
  if (event_id.empty()) {
    out->clear();
    return Status::Ok();
  }
  return ListFeedbackWhere("event_id = ?1 AND event_id != ''", Key{event_id, 0},
                           limit, out);
}

Status SqliteStore::ListGroupFeedback(int64_t group_id, size_t limit,
                                      std::vector<model::Feedback>* out) {
  if (group_id == 0) {
    out->clear();
    return Status::Ok();
  }
  return ListFeedbackWhere("group_id = ?1 AND group_id != 0", Key{"", group_id},
                           limit, out);
}

Status SqliteStore::DeleteOrphanItems(double cutoff, int64_t* deleted) {
  int64_t attachments = 0, feedback = 0;
  // Those whose event is gone (or never came) and that are older than
  // `cutoff`; those of stored events went with them (triggers).
  Status status = DeleteInBatches(
      "retention: attachments",
      "DELETE FROM attachments WHERE rowid IN (SELECT a.rowid FROM "
      "attachments a WHERE a.received < ?1 AND NOT EXISTS (SELECT 1 FROM "
      "events e WHERE e.event_id = a.event_id) LIMIT ?2)",
      cutoff, &attachments);
  if (!status.ok()) return status;
  status = DeleteInBatches(
      "retention: feedback",
      "DELETE FROM feedback WHERE id IN (SELECT f.id FROM feedback f WHERE "
      "f.received < ?1 AND (f.event_id = '' OR NOT EXISTS (SELECT 1 FROM "
      "events e WHERE e.event_id = f.event_id)) LIMIT ?2)",
      cutoff, &feedback);
  if (deleted != nullptr) *deleted = attachments + feedback;
  if (!status.ok()) return status;
  if (attachments + feedback > 0) {
    spdlog::info(
        "store: retention deleted {} attachments and {} feedback without an "
        "event, older than {:.0f}",
        attachments, feedback, cutoff);
  }
  return Status::Ok();
}

}  // namespace store
}  // namespace crashctl
