#include "resource_json.h"

#include <rapidjson/reader.h>

#include <cmath>
#include <cstdint>

#include "crashctl/util/time.h"

namespace crashctl {
namespace rest {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at s[i], 0 when invalid.
size_t ValidSequenceLength(const std::string& s, size_t i) {
  const auto byte = [&](size_t k) -> unsigned {
    return static_cast<unsigned char>(s[k]);
  };
  const unsigned c = byte(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

// Forwards SAX events to a Writer, copying numbers verbatim (the reader runs
// with kParseNumbersAsStringsFlag).
// Copies parse events to a writer, cutting what is nested deeper than
// `limits.max_depth` ("[depth limit]") and, once `limits.max_bytes` have been
// written, every further value inside the top-level container
// ("[size limit]"), so the copy stays valid JSON of bounded depth and size.
struct VerbatimHandler
    : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, VerbatimHandler> {
  VerbatimHandler(JsonWriter* writer, const rapidjson::StringBuffer* out,
                  const EmbedLimits& embed_limits, EmbedCuts* embed_cuts)
      : w(writer), buffer(out), limits(embed_limits), cuts(embed_cuts) {}

  // A value at the current depth: true to write it, false when it is
  // replaced (by its marker, already written) or inside a skipped subtree.
  bool Admit(bool container) {
    if (skip_depth > 0) {
      if (container) ++skip_depth;
      return false;
    }
    const char* marker = nullptr;
    if (container && depth >= limits.max_depth) {
      marker = "[depth limit]";
      ++cuts->depth;
    } else if (depth >= 1 && buffer->GetSize() > limits.max_bytes) {
      marker = "[size limit]";
      ++cuts->size;
    }
    if (marker == nullptr) return true;
    w->String(marker);
    if (container) skip_depth = 1;
    return false;
  }
  bool Null() { return !Admit(false) || w->Null(); }
  bool Bool(bool b) { return !Admit(false) || w->Bool(b); }
  bool RawNumber(const char* str, rapidjson::SizeType len, bool) {
    return !Admit(false) || w->RawValue(str, len, rapidjson::kNumberType);
  }
  bool String(const char* str, rapidjson::SizeType len, bool) {
    return !Admit(false) || w->String(str, len);
  }
  bool Key(const char* str, rapidjson::SizeType len, bool) {
    return skip_depth > 0 || w->Key(str, len);
  }
  bool StartObject() { return Open(&JsonWriter::StartObject); }
  bool EndObject(rapidjson::SizeType) { return Close(&JsonWriter::EndObject); }
  bool StartArray() { return Open(&JsonWriter::StartArray); }
  bool EndArray(rapidjson::SizeType) { return Close(&JsonWriter::EndArray); }
  // Opens a container with `start` (the writer's StartObject or StartArray),
  // unless it is replaced or skipped.
  bool Open(bool (JsonWriter::*start)()) {
    if (!Admit(true)) return true;
    ++depth;
    return (w->*start)();
  }
  // Closes a container with `end` (EndObject or EndArray), or one level of
  // a skipped subtree.
  bool Close(bool (JsonWriter::*end)(rapidjson::SizeType)) {
    if (skip_depth > 0) {
      --skip_depth;
      return true;
    }
    --depth;
    return (w->*end)(0);
  }
  // Never called with kParseNumbersAsStringsFlag; required by the interface.
  bool Default() { return false; }

  JsonWriter* w;
  const rapidjson::StringBuffer* buffer;
  EmbedLimits limits;
  EmbedCuts* cuts;
  int depth = 0;       // containers open in the copy
  int skip_depth = 0;  // > 0: inside a replaced subtree
};

std::string Url(const std::string& base_url, const std::string& path) {
  return base_url + path;
}

void WriteIdArray(JsonWriter* w, const std::vector<int64_t>& ids) {
  w->StartArray();
  for (int64_t id : ids) w->Int64(id);
  w->EndArray();
}

}  // namespace

std::string SanitizeUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = ValidSequenceLength(s, i);
    if (n == 0) break;
    i += n;
  }
  if (i == s.size()) return s;  // fast path: already valid
  std::string out(s, 0, i);
  out.reserve(s.size() + 8);
  while (i < s.size()) {
    const size_t n = ValidSequenceLength(s, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

void WriteJsonString(JsonWriter* w, const std::string& s) {
  const std::string clean = SanitizeUtf8(s);
  w->String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
}

void WriteField(JsonWriter* w, const char* key, const std::string& value) {
  w->Key(key);
  WriteJsonString(w, value);
}

void WriteOptionalField(JsonWriter* w, const char* key,
                        const std::string& value) {
  w->Key(key);
  if (value.empty()) {
    w->Null();
  } else {
    WriteJsonString(w, value);
  }
}

void WriteTime(JsonWriter* w, double epoch_seconds) {
  if (std::isnan(epoch_seconds) || std::isinf(epoch_seconds)) {
    w->Null();
    return;
  }
  const std::string text = util::FormatRfc3339Millis(epoch_seconds);
  w->String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void WriteTimestamp(JsonWriter* w, double epoch_seconds) {
  if (epoch_seconds == 0 || std::isnan(epoch_seconds)) {
    w->Null();
    return;
  }
  const std::string text = util::FormatRfc3339Millis(epoch_seconds);
  w->String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

bool WriteEmbeddedJson(JsonWriter* w, const std::string& json_text,
                       const EmbedLimits& limits, EmbedCuts* cuts) {
  EmbedCuts ignored;
  if (cuts == nullptr) cuts = &ignored;
  const std::string clean = SanitizeUtf8(json_text);
  rapidjson::StringBuffer buffer;
  JsonWriter inner(buffer);
  VerbatimHandler handler(&inner, &buffer, limits, cuts);
  rapidjson::Reader reader;
  rapidjson::StringStream stream(clean.c_str());
  constexpr unsigned kFlags =
      rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag |
      rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseStopWhenDoneFlag;
  if (!reader.Parse<kFlags>(stream, handler) || !inner.IsComplete()) {
    return false;
  }
  // Only whitespace may follow the value; an embedded NUL ends the text
  // early for the reader, so the whole string must have been consumed.
  size_t pos = stream.Tell();
  while (pos < clean.size() && (clean[pos] == ' ' || clean[pos] == '\t' ||
                                clean[pos] == '\n' || clean[pos] == '\r')) {
    ++pos;
  }
  if (pos != clean.size()) return false;
  const char first = buffer.GetString()[0];
  const rapidjson::Type type = first == '{'   ? rapidjson::kObjectType
                               : first == '[' ? rapidjson::kArrayType
                                              : rapidjson::kStringType;
  return w->RawValue(buffer.GetString(), buffer.GetSize(), type);
}

std::vector<std::string> SplitLogLines(const std::string& logs) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < logs.size()) {
    size_t end = logs.find('\n', start);
    if (end == std::string::npos) end = logs.size();
    size_t stop = end;
    if (stop > start && logs[stop - 1] == '\r') --stop;
    lines.emplace_back(logs, start, stop - start);
    start = end + 1;
  }
  return lines;
}

void WriteProject(JsonWriter* w, const model::Project& project,
                  const std::string& dsn, const std::string& short_dsn) {
  w->StartObject();
  w->Key("id");
  w->Int64(project.id);
  WriteField(w, "name", project.name);
  WriteField(w, "public_key", project.public_key);
  WriteField(w, "dsn", dsn);
  WriteField(w, "short_dsn", short_dsn);
  w->Key("created_at");
  WriteTimestamp(w, project.created_at);
  w->EndObject();
}

void WriteFeedback(JsonWriter* w, const model::Feedback& f) {
  w->StartObject();
  w->Key("id");
  w->Int64(f.id);
  WriteField(w, "kind", f.kind);
  WriteOptionalField(w, "event_id", f.event_id);
  w->Key("group_id");
  if (f.group_id == 0) {
    w->Null();
  } else {
    w->Int64(f.group_id);
  }
  WriteField(w, "name", f.name);
  WriteField(w, "email", f.email);
  WriteField(w, "comments", f.comments);
  WriteField(w, "url", f.url);
  w->Key("timestamp");
  WriteTime(w, f.timestamp);
  w->EndObject();
}

void WriteAttachment(JsonWriter* w, const model::Attachment& a,
                     const std::string& base_url) {
  w->StartObject();
  WriteField(w, "id", a.id);
  WriteField(w, "event_id", a.event_id);
  WriteField(w, "filename", a.filename);
  WriteField(w, "content_type", a.content_type);
  WriteField(w, "attachment_type", a.attachment_type);
  w->Key("size");
  w->Int64(a.size);
  w->Key("received");
  WriteTime(w, a.received);
  w->Key("links");
  w->StartObject();
  WriteField(
      w, "download",
      Url(base_url, "/api/v1/events/" + a.event_id + "/attachments/" + a.id));
  w->EndObject();
  w->EndObject();
}

void WriteGroup(JsonWriter* w, const model::Group& g,
                const std::string& base_url,
                const std::vector<std::string>& traces,
                const std::vector<model::Feedback>* feedback) {
  const std::string self = "/api/v1/groups/" + std::to_string(g.id);
  w->StartObject();
  w->Key("id");
  w->Int64(g.id);
  w->Key("project");
  w->Int64(g.project_id);
  WriteField(w, "fingerprint", g.fingerprint);
  WriteField(w, "title", g.title);
  WriteField(w, "culprit", g.culprit);
  WriteField(w, "level", model::ToString(g.level));
  WriteField(w, "status", model::ToString(g.status));
  w->Key("count");
  w->Int64(g.count);
  w->Key("first_seen");
  WriteTime(w, g.first_seen);
  w->Key("last_seen");
  WriteTime(w, g.last_seen);
  WriteField(w, "service", g.service);
  WriteField(w, "release", g.release);
  WriteField(w, "first_release", g.first_release);
  w->Key("regression_count");
  w->Int64(g.regression_count);
  w->Key("users");
  w->Int64(g.users);
  w->Key("linked_crashes");
  WriteIdArray(w, g.linked_crashes);
  w->Key("traces");
  w->StartArray();
  for (const std::string& trace : traces) WriteJsonString(w, trace);
  w->EndArray();
  if (feedback != nullptr) {
    w->Key("feedback");
    w->StartArray();
    for (const model::Feedback& f : *feedback) WriteFeedback(w, f);
    w->EndArray();
  }
  w->Key("links");
  w->StartObject();
  WriteField(w, "self", Url(base_url, self));
  WriteField(w, "events", Url(base_url, self + "/events"));
  WriteField(w, "stats", Url(base_url, self + "/stats"));
  WriteField(w, "tags", Url(base_url, self + "/tags"));
  w->EndObject();
  w->EndObject();
}

void WriteEvent(JsonWriter* w, const model::StoredEvent& e,
                const std::string& base_url, bool with_payload,
                const EventExtras* extras) {
  w->StartObject();
  WriteField(w, "event_id", e.event_id);
  w->Key("project");
  w->Int64(e.project_id);
  w->Key("group");
  w->Int64(e.group_id);
  w->Key("timestamp");
  WriteTime(w, e.timestamp);
  w->Key("received");
  WriteTime(w, e.received);
  WriteField(w, "level", model::ToString(e.level));
  WriteField(w, "platform", e.platform);
  WriteField(w, "title", e.title);
  WriteField(w, "message", e.message);
  WriteField(w, "release", e.release);
  WriteField(w, "environment", e.environment);
  WriteField(w, "server_name", e.server_name);
  WriteField(w, "service", e.service);
  WriteOptionalField(w, "trace_id", e.trace_id);
  WriteOptionalField(w, "span_id", e.span_id);
  WriteOptionalField(w, "user", e.user);
  // As Sentry: [{"key": ..., "value": ...}] in stored order.
  w->Key("tags");
  w->StartArray();
  for (const auto& tag : e.tags) {
    w->StartObject();
    WriteField(w, "key", tag.first);
    WriteField(w, "value", tag.second);
    w->EndObject();
  }
  w->EndArray();
  w->Key("sdk");
  if (e.sdk_name.empty() && e.sdk_version.empty()) {
    w->Null();
  } else {
    w->StartObject();
    WriteField(w, "name", e.sdk_name);
    WriteOptionalField(w, "version", e.sdk_version);
    w->EndObject();
  }
  if (extras != nullptr) {
    w->Key("attachments");
    w->Int64(extras->attachments);
    w->Key("feedback");
    w->StartArray();
    for (const model::Feedback& f : extras->feedback) WriteFeedback(w, f);
    w->EndArray();
  }
  w->Key("links");
  w->StartObject();
  WriteField(w, "self", Url(base_url, "/api/v1/events/" + e.event_id));
  if (extras != nullptr) {
    WriteField(w, "attachments",
               Url(base_url, "/api/v1/events/" + e.event_id + "/attachments"));
  }
  WriteField(w, "group",
             Url(base_url, "/api/v1/groups/" + std::to_string(e.group_id)));
  w->EndObject();
  if (with_payload) {
    w->Key("payload");
    EmbedCuts cuts;
    if (!WriteEmbeddedJson(w, e.payload, EmbedLimits(), &cuts)) {
      w->Null();
      std::string text = e.payload.substr(0, EmbedLimits().max_bytes);
      if (text.size() < e.payload.size()) ++cuts.size;
      WriteField(w, "payload_text", text);
    }
    if (cuts.depth > 0 || cuts.size > 0) {
      // Marked: what this answer left out of the stored payload.
      w->Key("payload_cut");
      w->StartObject();
      w->Key("depth_limit");
      w->Uint64(cuts.depth);
      w->Key("size_limit");
      w->Uint64(cuts.size);
      w->Key("stored_bytes");
      w->Uint64(e.payload.size());
      w->EndObject();
    }
  }
  w->EndObject();
}

void WriteCrash(JsonWriter* w, const model::Crash& c,
                const std::string& base_url) {
  w->StartObject();
  w->Key("id");
  w->Int64(c.id);
  WriteField(w, "namespace", c.namespace_);
  WriteField(w, "pod", c.pod);
  WriteField(w, "pod_uid", c.pod_uid);
  WriteField(w, "container", c.container);
  WriteField(w, "node", c.node);
  WriteField(w, "workload_kind", c.workload_kind);
  WriteField(w, "workload", c.workload);
  WriteField(w, "image", c.image);
  WriteField(w, "crash_type", model::ToString(c.crash_type));
  WriteField(w, "reason", c.reason);
  w->Key("exit_code");
  w->Int(c.exit_code);
  WriteOptionalField(w, "signal", c.signal);
  w->Key("restart_count");
  w->Int(c.restart_count);
  WriteOptionalField(w, "memory_request", c.memory_request);
  WriteOptionalField(w, "memory_limit", c.memory_limit);
  w->Key("started_at");
  WriteTimestamp(w, c.started_at);
  w->Key("finished_at");
  WriteTimestamp(w, c.finished_at);
  w->Key("created_at");
  WriteTimestamp(w, c.created_at);
  w->Key("updated_at");
  WriteTimestamp(w, c.updated_at);
  WriteField(w, "message", c.message);
  w->Key("logs");
  w->StartArray();
  for (const std::string& line : SplitLogLines(c.logs)) {
    WriteJsonString(w, line);
  }
  w->EndArray();
  w->Key("linked_groups");
  WriteIdArray(w, c.linked_groups);
  w->Key("links");
  w->StartObject();
  WriteField(w, "self",
             Url(base_url, "/api/v1/crashes/" + std::to_string(c.id)));
  w->EndObject();
  w->EndObject();
}

void WriteSeconds(JsonWriter* w, double seconds) {
  if (!std::isfinite(seconds)) {
    w->Null();
  } else {
    w->Double(seconds);
  }
}

void WriteTransaction(JsonWriter* w, const model::StoredTransaction& stored) {
  const tracing::Transaction& tx = stored.transaction;
  w->StartObject();
  WriteField(w, "event_id", tx.event_id);
  w->Key("project_id");
  w->Int64(stored.project_id);
  WriteField(w, "trace_id", tx.trace_id);
  WriteField(w, "span_id", tx.span_id);
  WriteOptionalField(w, "parent_span_id", tx.parent_span_id);
  WriteField(w, "transaction", tx.name);
  WriteField(w, "source", tx.source);
  WriteField(w, "op", tx.op);
  WriteField(w, "status", tx.status);
  WriteOptionalField(w, "method", tx.method);
  w->Key("http_status");
  if (tx.http_status == 0) {
    w->Null();
  } else {
    w->Int(tx.http_status);
  }
  WriteField(w, "service", tx.service);
  WriteField(w, "release", tx.release);
  WriteField(w, "environment", tx.environment);
  w->Key("start_timestamp");
  WriteTime(w, tx.start);
  w->Key("timestamp");
  WriteTime(w, tx.end);
  w->Key("duration");
  WriteSeconds(w, tx.duration());
  w->EndObject();
}

}  // namespace rest
}  // namespace crashctl
