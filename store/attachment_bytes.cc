#include "attachment_bytes.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

namespace crashctl {
namespace store {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};

}  // namespace

Status CheckAttachmentSizes(const std::vector<model::Attachment>& attachments) {
  for (const model::Attachment& a : attachments) {
    if (a.size < 0 || a.size > kMaxAttachmentBytes) {
      return Status::Invalid("attachment of " + std::to_string(a.size) +
                             " bytes: beyond the store's limit");
    }
  }
  return Status::Ok();
}

Status ForEachAttachmentChunk(
    const model::Attachment& a, size_t chunk_bytes,
    const std::function<Status(int64_t offset, std::string_view bytes)>&
        write) {
  const std::string what =
      "attachment " + a.event_id + "/" + std::to_string(a.position);
  const size_t chunk = std::max<size_t>(chunk_bytes, 1);
  if (a.spool_path.empty()) {
    if (static_cast<int64_t>(a.data.size()) != a.size) {
      return Status::Invalid(what + ": size does not match its data");
    }
    const std::string_view data(a.data);
    for (size_t at = 0; at < data.size(); at += chunk) {
      Status st = write(static_cast<int64_t>(at), data.substr(at, chunk));
      if (!st.ok()) return st;
    }
    return Status::Ok();
  }
  std::unique_ptr<std::FILE, FileCloser> file(
      std::fopen(a.spool_path.c_str(), "rb"));
  if (!file) {
    return Status::Unavailable(what + ": cannot open spool file " +
                               a.spool_path + ": " + std::strerror(errno));
  }
  if (std::fseek(file.get(), static_cast<long>(a.spool_offset), SEEK_SET) !=
      0) {
    return Status::Unavailable(what + ": cannot seek in " + a.spool_path);
  }
  std::string buffer(std::min<int64_t>(static_cast<int64_t>(chunk),
                                       std::max<int64_t>(a.size, 0)),
                     '\0');
  for (int64_t at = 0; at < a.size;) {
    const size_t want = static_cast<size_t>(
        std::min<int64_t>(static_cast<int64_t>(chunk), a.size - at));
    const size_t got = std::fread(&buffer[0], 1, want, file.get());
    if (got != want) {
      return Status::Unavailable(what + ": spool file " + a.spool_path +
                                 " ends before its " + std::to_string(a.size) +
                                 " bytes");
    }
    Status st = write(at, std::string_view(buffer.data(), got));
    if (!st.ok()) return st;
    at += static_cast<int64_t>(got);
  }
  return Status::Ok();
}

}  // namespace store
}  // namespace crashctl
