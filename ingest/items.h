// Envelope `attachment`, `user_report` and `feedback` items, the spool file
// that keeps large attachments out of the heap while their envelope waits
// for its events to commit, and the legacy /store/ body (base64 of
// zlib-deflated JSON). docs/ingestion-formats.md describes the formats.
//
// Thread-safety: the functions are pure; a Spool belongs to one request.
#ifndef CRASHCTL_INGEST_ITEMS_H_
#define CRASHCTL_INGEST_ITEMS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "crashctl/model/items.h"
#include "crashctl/util/status.h"

namespace crashctl {
namespace ingest {

// Fills filename (the last path component, at most 255 bytes; "" becomes
// "attachment"), content_type (default application/octet-stream) and
// attachment_type (default event.attachment) from an item header. kInvalid
// when a field is present but not a string, or a value has control bytes.
Status ParseAttachmentHeader(std::string_view header_json,
                             model::Attachment* out);

// A `user_report` item: {event_id, name, email, comments}. kInvalid when it
// is not such an object or event_id is not a UUID (32 hex, dashes allowed).
// Fills kind, feedback_id (= event_id: one report per event, as Sentry
// keeps it), event_id, name, email, comments; timestamp = received = now.
Status ParseUserReport(std::string_view payload, double now,
                       model::Feedback* out);

// A `feedback` item: an event whose contexts.feedback holds message
// (required), contact_email, name, url and associated_event_id. Fills
// kind, feedback_id (the item's event_id, required), event_id (the
// associated one, "" when none), name, email, comments (= message), url,
// timestamp (as sent, else now), received = now.
Status ParseFeedbackItem(std::string_view payload, double now,
                         model::Feedback* out);

// 32 lower-case hex from a UUID with or without dashes; false otherwise.
bool NormalizeEventId(std::string_view text, std::string* out);

enum class LegacyBody {
  kJson,     // not legacy: the body as is (starts with '{' after blanks)
  kDecoded,  // base64 (of zlib-deflated) JSON, decoded into *out
  kTooLarge,
  kCorrupt,  // neither JSON nor valid base64 (of zlib data)
};
// A /store/ body without Content-Encoding: when its first non-blank byte is
// a base64 letter (or 0x78), it is decoded as base64 (blanks ignored) and, when
// that is zlib data (a 0x78 first byte), inflated; at most `max_output` bytes
// either way.
LegacyBody DecodeLegacyBody(std::string_view body, size_t max_output,
                            std::string* out);

// Large attachments of one request, appended to one temporary file in
// `dir`, created on first use (mode 0600) and deleted by the destructor.
class Spool {
 public:
  explicit Spool(std::string dir) : dir_(std::move(dir)) {}
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends `data`; sets the attachment's spool_path / spool_offset.
  Status Append(std::string_view data, model::Attachment* attachment);
  const std::string& path() const { return path_; }

  // File names this class creates start with this prefix.
  static constexpr char kPrefix[] = "crashctl-spool-";
  // Deletes spool files a crash left in `dir` (at most 10,000 entries
  // looked at); returns how many were deleted.
  static size_t RemoveStale(const std::string& dir);

 private:
  std::string dir_;
  std::string path_;
  int fd_ = -1;
  int64_t size_ = 0;
};

}  // namespace ingest
}  // namespace crashctl

#endif  // CRASHCTL_INGEST_ITEMS_H_
