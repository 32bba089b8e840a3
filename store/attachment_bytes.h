// The bytes of an attachment on their way into a store, a chunk at a time,
// from memory or from the spool file ingest wrote (model::Attachment), so
// that neither backend reads a large attachment whole into memory. Private
// to store/ (SQLite and PostgreSQL stores).
//
// Thread-safety: a free function; it only reads `attachment` and its file.
#ifndef CRASHCTL_STORE_ATTACHMENT_BYTES_H_
#define CRASHCTL_STORE_ATTACHMENT_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "crashctl/model/items.h"
#include "crashctl/util/status.h"

namespace crashctl {
namespace store {

// The largest attachment a store takes (SQLite's own blob limit is 1e9;
// a PostgreSQL bytea 1 GiB).
constexpr int64_t kMaxAttachmentBytes = int64_t{512} << 20;
// The most attachments listed for one event.
constexpr int kMaxAttachmentsPerEvent = 1000;

// kInvalid when an attachment's size is negative or beyond
// kMaxAttachmentBytes (checked before a store writes any of them).
Status CheckAttachmentSizes(const std::vector<model::Attachment>& attachments);

// Calls `write(offset, bytes)` for consecutive chunks of at most
// `chunk_bytes` covering the attachment's `size` bytes, in order (no call
// for an empty one; bounded: size / chunk_bytes calls). The bytes come from
// `data` when `spool_path` is empty (kInvalid when its size differs from
// `size`), else from the spool file at `spool_offset` (kUnavailable when it
// cannot be read or ends early). Stops at, and returns, the first error of
// `write`.
Status ForEachAttachmentChunk(
    const model::Attachment& attachment, size_t chunk_bytes,
    const std::function<Status(int64_t offset, std::string_view bytes)>& write);

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_ATTACHMENT_BYTES_H_
