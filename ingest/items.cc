#include "items.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

#include "crashctl/util/strings.h"
#include "crashctl/util/time.h"
#include "decompress.h"

namespace crashctl {
namespace ingest {
namespace {

using rapidjson::Value;

constexpr size_t kMaxFilename = 255;
constexpr size_t kMaxContentType = 128;
constexpr size_t kMaxAttachmentType = 64;
constexpr size_t kMaxName = 256;
constexpr size_t kMaxEmail = 256;
constexpr size_t kMaxComments = 8192;
constexpr size_t kMaxUrl = 2048;

bool ParseObject(std::string_view json, rapidjson::Document* doc) {
  doc->Parse<rapidjson::kParseIterativeFlag |
             rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  return !doc->HasParseError() && doc->IsObject();
}

const Value* Member(const Value& obj, const char* name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

// A string member, cut to `max` bytes; false when present but not a string.
bool StringField(const Value& obj, const char* name, size_t max,
                 std::string* out) {
  const Value* v = Member(obj, name);
  if (v == nullptr) return true;
  if (!v->IsString()) return false;
  out->assign(v->GetString(), v->GetStringLength());
  util::TruncateUtf8(out, max);
  return true;
}

bool HasControl(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

Status Invalid(const std::string& message) {
  return Status(Status::Code::kInvalid, message);
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

bool NormalizeEventId(std::string_view text, std::string* out) {
  std::string id;
  id.reserve(32);
  for (char c : text) {
    if (c == '-') continue;
    if (!util::IsHexDigit(c) || id.size() == 32) return false;
    id.push_back(
        static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (id.size() != 32) return false;
  *out = std::move(id);
  return true;
}

Status ParseAttachmentHeader(std::string_view header_json,
                             model::Attachment* out) {
  rapidjson::Document doc;
  if (!ParseObject(header_json, &doc)) {
    return Invalid("attachment item header is not a JSON object");
  }
  std::string filename, content_type, attachment_type;
  if (!StringField(doc, "filename", 4096, &filename) ||
      !StringField(doc, "content_type", kMaxContentType, &content_type) ||
      !StringField(doc, "attachment_type", kMaxAttachmentType,
                   &attachment_type)) {
    return Invalid(
        "attachment item header: filename, content_type and "
        "attachment_type must be strings");
  }
  // Never a path: the last component (either separator).
  const size_t slash = filename.find_last_of("/\\");
  if (slash != std::string::npos) filename = filename.substr(slash + 1);
  util::TruncateUtf8(&filename, kMaxFilename);
  if (HasControl(filename) || HasControl(content_type) ||
      HasControl(attachment_type)) {
    return Invalid("attachment item header has control characters");
  }
  // The content type is echoed as a response header: keep it a token/token.
  for (char c : content_type) {
    if (c == '"' || c == '\\') {
      return Invalid("attachment content_type is not a media type");
    }
  }
  out->filename = filename.empty() ? "attachment" : filename;
  out->content_type =
      content_type.empty() ? "application/octet-stream" : content_type;
  out->attachment_type =
      attachment_type.empty() ? "event.attachment" : attachment_type;
  return Status::Ok();
}

Status ParseUserReport(std::string_view payload, double now,
                       model::Feedback* out) {
  rapidjson::Document doc;
  if (!ParseObject(payload, &doc)) {
    return Invalid("user_report is not a JSON object");
  }
  model::Feedback f;
  f.kind = "user_report";
  const Value* id = Member(doc, "event_id");
  if (id == nullptr || !id->IsString() ||
      !NormalizeEventId(
          std::string_view(id->GetString(), id->GetStringLength()),
          &f.event_id)) {
    return Invalid("user_report has no event_id (32 hex digits)");
  }
  f.feedback_id = f.event_id;
  if (!StringField(doc, "name", kMaxName, &f.name) ||
      !StringField(doc, "email", kMaxEmail, &f.email) ||
      !StringField(doc, "comments", kMaxComments, &f.comments)) {
    return Invalid("user_report: name, email and comments must be strings");
  }
  f.timestamp = now;
  f.received = now;
  *out = std::move(f);
  return Status::Ok();
}

Status ParseFeedbackItem(std::string_view payload, double now,
                         model::Feedback* out) {
  rapidjson::Document doc;
  if (!ParseObject(payload, &doc)) {
    return Invalid("feedback is not a JSON object");
  }
  model::Feedback f;
  f.kind = "feedback";
  const Value* id = Member(doc, "event_id");
  if (id == nullptr || !id->IsString() ||
      !NormalizeEventId(
          std::string_view(id->GetString(), id->GetStringLength()),
          &f.feedback_id)) {
    return Invalid("feedback has no event_id (32 hex digits)");
  }
  const Value* contexts = Member(doc, "contexts");
  const Value* fb = contexts ? Member(*contexts, "feedback") : nullptr;
  if (fb == nullptr || !fb->IsObject()) {
    return Invalid("feedback has no contexts.feedback object");
  }
  std::string associated;
  if (!StringField(*fb, "message", kMaxComments, &f.comments) ||
      !StringField(*fb, "contact_email", kMaxEmail, &f.email) ||
      !StringField(*fb, "name", kMaxName, &f.name) ||
      !StringField(*fb, "url", kMaxUrl, &f.url) ||
      !StringField(*fb, "associated_event_id", 64, &associated)) {
    return Invalid(
        "contexts.feedback: message, contact_email, name, url and "
        "associated_event_id must be strings");
  }
  if (util::Trim(f.comments).empty()) {
    return Invalid("contexts.feedback.message is missing or empty");
  }
  if (!associated.empty() && !NormalizeEventId(associated, &f.event_id)) {
    return Invalid("contexts.feedback.associated_event_id is not an event id");
  }
  f.timestamp = now;
  if (const Value* ts = Member(doc, "timestamp")) {
    double t = 0;
    if (ts->IsNumber() && std::isfinite(ts->GetDouble()) &&
        ts->GetDouble() > 0) {
      f.timestamp = ts->GetDouble();
    } else if (ts->IsString() &&
               util::ParseRfc3339Lenient(
                   std::string_view(ts->GetString(), ts->GetStringLength()),
                   &t)) {
      f.timestamp = t;
    }
  }
  f.received = now;
  *out = std::move(f);
  return Status::Ok();
}

LegacyBody DecodeLegacyBody(std::string_view body, size_t max_output,
                            std::string* out) {
  size_t first = 0;
  while (first < body.size() && IsBlank(body[first])) ++first;
  if (first == body.size() || body[first] == '{') return LegacyBody::kJson;
  const unsigned char lead = static_cast<unsigned char>(body[first]);
  if (lead != 0x78 && !std::isalnum(lead) && lead != '+' && lead != '/') {
    return LegacyBody::kJson;  // "[1]", "\"x\"": the JSON parser says why
  }
  std::string decoded;
  if (static_cast<unsigned char>(body[first]) == 0x78) {
    decoded.assign(body.data(), body.size());  // zlib without base64
  } else {
    // EVP_DecodeUpdate skips blanks and newlines; output is at most 3/4 of
    // the input, which is within the request limit already.
    std::unique_ptr<EVP_ENCODE_CTX, decltype(&EVP_ENCODE_CTX_free)> ctx(
        EVP_ENCODE_CTX_new(), &EVP_ENCODE_CTX_free);
    if (!ctx) return LegacyBody::kCorrupt;
    EVP_DecodeInit(ctx.get());
    decoded.resize(body.size() / 4 * 3 + 80);
    size_t have = 0;
    constexpr size_t kStep = 1 << 20;  // EVP takes an int length
    for (size_t at = 0; at < body.size(); at += kStep) {
      const size_t n = std::min(kStep, body.size() - at);
      int produced = 0;
      if (EVP_DecodeUpdate(
              ctx.get(), reinterpret_cast<unsigned char*>(&decoded[have]),
              &produced,
              reinterpret_cast<const unsigned char*>(body.data() + at),
              static_cast<int>(n)) < 0) {
        return LegacyBody::kCorrupt;
      }
      have += static_cast<size_t>(produced);
      if (have + kStep > decoded.size() && at + n < body.size()) {
        decoded.resize(have + kStep);
      }
    }
    int produced = 0;
    if (EVP_DecodeFinal(ctx.get(),
                        reinterpret_cast<unsigned char*>(&decoded[have]),
                        &produced) != 1) {
      return LegacyBody::kCorrupt;
    }
    have += static_cast<size_t>(produced);
    decoded.resize(have);
    if (decoded.empty()) return LegacyBody::kCorrupt;
  }
  size_t start = 0;
  while (start < decoded.size() && IsBlank(decoded[start])) ++start;
  if (start < decoded.size() && decoded[start] == '{') {
    if (decoded.size() > max_output) return LegacyBody::kTooLarge;
    *out = std::move(decoded);  // base64 of plain JSON
    return LegacyBody::kDecoded;
  }
  switch (Decompress("deflate", decoded, max_output, out)) {
    case DecompressStatus::kOk:
      return LegacyBody::kDecoded;
    case DecompressStatus::kTooLarge:
      return LegacyBody::kTooLarge;
    default:
      return LegacyBody::kCorrupt;
  }
}

Spool::~Spool() {
  if (fd_ >= 0) ::close(fd_);
  if (!path_.empty() && ::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    spdlog::warn("ingest: cannot delete spool file {}: {}", path_,
                 std::strerror(errno));
  }
}

Status Spool::Append(std::string_view data, model::Attachment* attachment) {
  if (fd_ < 0) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    std::string templ = dir_ + "/" + kPrefix + "XXXXXX";
    std::vector<char> name(templ.begin(), templ.end());
    name.push_back('\0');
    fd_ = ::mkstemp(name.data());
    if (fd_ < 0) {
      return Status(Status::Code::kUnavailable,
                    "cannot create a spool file in " + dir_ + ": " +
                        std::strerror(errno));
    }
    path_ = name.data();
  }
  size_t done = 0;
  // Bounded: every pass writes at least one byte or returns.
  while (done < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Status(
          Status::Code::kUnavailable,
          "cannot write spool file " + path_ + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  attachment->spool_path = path_;
  attachment->spool_offset = size_;
  size_ += static_cast<int64_t>(data.size());
  return Status::Ok();
}

size_t Spool::RemoveStale(const std::string& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec), end;
  size_t removed = 0;
  for (int seen = 0; !ec && it != end && seen < 10000;
       it.increment(ec), ++seen) {
    const std::string name = it->path().filename().string();
    if (!util::StartsWith(name, kPrefix)) continue;
    std::error_code rm;
    if (std::filesystem::remove(it->path(), rm)) ++removed;
  }
  return removed;
}

}  // namespace ingest
}  // namespace crashctl
