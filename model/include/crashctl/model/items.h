// The envelope items besides events and transactions, as stored and shown
// (issue 18, docs/ingestion-formats.md): attachments, user feedback, release
// health per release, and cron monitors with their check-ins. Plain values
// shared by ingest, the store, the REST API and the services that count
// sessions and check-ins.
//
// Thread-safety: plain values; copies may be used on any thread.
#ifndef CRASHCTL_MODEL_ITEMS_H_
#define CRASHCTL_MODEL_ITEMS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace crashctl {
namespace model {

// One `attachment` item of an envelope, stored with the envelope's event.
struct Attachment {
  std::string id;  // 32 lower-case hex, assigned by crashctl at ingest
  int64_t project_id = 0;
  std::string event_id;         // the envelope's (or its event's) event_id
  int position = 0;             // index among the envelope's attachments
  std::string filename;         // item header `filename` (cut, never a path)
  std::string content_type;     // item header, "application/octet-stream"
  std::string attachment_type;  // "event.attachment" (default), ...
  int64_t size = 0;             // bytes
  double received = 0;          // epoch seconds
  // The bytes: held in `data`, or, for a large attachment spooled on its way
  // in, in the file `spool_path` (from byte `spool_offset`, `size` bytes).
  // Reads of a list leave both empty; Store::GetAttachment fills `data`.
  std::string data;
  std::string spool_path;
  int64_t spool_offset = 0;
};

// A user's feedback: a `user_report` item ({event_id, name, email,
// comments}) or a `feedback` item (an event whose contexts.feedback holds
// message, contact_email, name, url and associated_event_id).
struct Feedback {
  int64_t id = 0;  // row id, 0 before it is written
  int64_t project_id = 0;
  std::string kind;         // "user_report" | "feedback"
  std::string feedback_id;  // the item's own event_id (32 hex)
  // The error event it is about, "" when none; the group is found from it
  // when that event is stored (0 when not, or not yet).
  std::string event_id;
  int64_t group_id = 0;
  std::string name;
  std::string email;
  std::string comments;  // user_report `comments`, feedback `message`
  std::string url;       // feedback `url`
  double timestamp = 0;  // as sent, else `received`
  double received = 0;
};

// Release health of one release of one project (GET /api/v1/releases).
struct ReleaseSummary {
  int64_t project_id = 0;
  std::string release;
  // Sessions counted per final status (docs/release-health.md).
  uint64_t exited = 0;
  uint64_t errored = 0;
  uint64_t crashed = 0;
  uint64_t abnormal = 0;
  uint64_t users = 0;          // distinct `did` hashes with a session
  uint64_t crashed_users = 0;  // of those, with a crashed session
  uint64_t errors = 0;         // error events stored with this release
  int64_t new_groups = 0;      // groups whose first_release is this one
  double first_seen = 0;       // earliest session start or event
  double last_seen = 0;        // latest session or event
  std::vector<std::string> environments;  // seen with it, sorted
};

// A cron monitor: one per (project, slug, environment).
struct Monitor {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string slug;
  std::string environment;
  // releases::MonitorStateToJson of its state machine (config, schedule,
  // runs in progress, failure counts, incident).
  std::string state_json;
  double created_at = 0;
  double updated_at = 0;
  double last_checkin = 0;  // 0 = never
  std::string last_status;  // status of the newest check-in row, "" none
  // When the scheduler next has something to do for it (epoch seconds),
  // none when nothing is pending.
  std::optional<int64_t> next_deadline;
  int64_t checkins_total = 0;  // check-in rows of kind check-in/finished
  int64_t missed_total = 0;    // scheduled runs reported missed
  int64_t timeouts_total = 0;  // runs reported timed out
};

// One stored check-in row of a monitor (received, missed or timed out).
struct MonitorCheckIn {
  int64_t id = 0;
  int64_t monitor_id = 0;
  std::string check_in_id;  // 32 hex; "" for missed runs
  // in_progress | ok | error | missed | timeout
  std::string status;
  // check_in | run_finished | missed | timeout
  std::string kind;
  int64_t run_started = 0;  // missed: the first scheduled time
  std::optional<double> duration_seconds;
  int64_t received = 0;
  int64_t missed_count = 0;    // missed: runs this row stands for
  int64_t last_scheduled = 0;  // missed: the last of them
  std::string release;
  std::string trace_id;
};

}  // namespace model
}  // namespace crashctl

#endif  // CRASHCTL_MODEL_ITEMS_H_
