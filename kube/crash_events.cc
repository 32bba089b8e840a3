#include "crash_events.h"

#include <openssl/sha.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <vector>

#include "crashctl/util/strings.h"

namespace crashctl {
namespace kube {
namespace {

constexpr size_t kMaxReportLines = 500;
constexpr size_t kMaxReportBytes = 64 << 10;

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(JsonWriter* w, const char* key, const std::string& value) {
  w->Key(key);
  w->String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void StrIf(JsonWriter* w, const char* key, const std::string& value) {
  if (!value.empty()) Str(w, key, value);
}

void WriteFrame(JsonWriter* w, const model::Frame& f) {
  w->StartObject();
  StrIf(w, "function", f.function);
  StrIf(w, "raw_function", f.raw_function);
  StrIf(w, "module", f.module);
  StrIf(w, "package", f.package);
  StrIf(w, "filename", f.filename);
  StrIf(w, "abs_path", f.abs_path);
  if (f.lineno > 0) {
    w->Key("lineno");
    w->Int(f.lineno);
  }
  if (f.colno > 0) {
    w->Key("colno");
    w->Int(f.colno);
  }
  StrIf(w, "instruction_addr", f.instruction_addr);
  if (f.in_app.has_value()) {
    w->Key("in_app");
    w->Bool(*f.in_app);
  }
  StrIf(w, "platform", f.platform);
  w->EndObject();
}

void WriteException(JsonWriter* w, const model::ExceptionValue& e) {
  w->StartObject();
  Str(w, "type", e.type);
  Str(w, "value", e.value);
  StrIf(w, "module", e.module);
  w->Key("mechanism");
  w->StartObject();
  Str(w, "type", e.mechanism_type.empty() ? "kubernetes" : e.mechanism_type);
  w->Key("handled");
  w->Bool(false);
  w->EndObject();
  if (!e.frames.empty()) {
    w->Key("stacktrace");
    w->StartObject();
    w->Key("frames");
    w->StartArray();
    for (const model::Frame& f : e.frames) WriteFrame(w, f);
    w->EndArray();
    w->EndObject();
  }
  w->EndObject();
}

// Lines of `text` split on '\n' (no final empty piece).
std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(std::move(line));
    start = end + 1;
  }
  return out;
}

void WriteLines(JsonWriter* w, const char* key,
                const std::vector<std::string>& lines, size_t first,
                size_t last) {
  w->Key(key);
  w->StartArray();
  size_t bytes = 0;
  // At most kMaxReportLines lines, kMaxReportBytes bytes: the last ones.
  if (last >= lines.size()) last = lines.empty() ? 0 : lines.size() - 1;
  if (!lines.empty() && first <= last) {
    if (last - first + 1 > kMaxReportLines) first = last + 1 - kMaxReportLines;
    size_t from = last + 1;
    while (from > first && bytes + lines[from - 1].size() <= kMaxReportBytes) {
      bytes += lines[from - 1].size();
      --from;
    }
    for (size_t i = from; i <= last; ++i) {
      w->String(lines[i].data(),
                static_cast<rapidjson::SizeType>(lines[i].size()));
    }
  }
  w->EndArray();
}

}  // namespace

std::string KeepLastBytes(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t cut = text.size() - max_bytes;
  // Drop the partial line at the cut (unless the cut is at a line start).
  if (cut > 0 && text[cut - 1] != '\n') {
    size_t nl = text.find('\n', cut);
    cut = nl == std::string::npos ? text.size() : nl + 1;
  }
  return text.substr(cut);
}

std::string LastLines(const std::string& text, size_t n) {
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  size_t lines = 0;
  while (pos > 0) {
    if (text[pos - 1] == '\n' && ++lines == n) break;
    --pos;
  }
  return text.substr(pos);
}

std::string CrashEventId(const std::string& dedup_key, int restart_count) {
  const std::string input =
      "crashctl-kube\n" + dedup_key + "\n" + std::to_string(restart_count);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(),
         digest);
  return util::HexEncode(digest, 16);
}

std::string CrashEventJson(const model::Crash& crash,
                           const crashreport::Report& report,
                           const std::string& logs, const std::string& event_id,
                           double timestamp) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Str(&w, "event_id", event_id);
  w.Key("timestamp");
  w.Double(timestamp);
  Str(&w, "level", "fatal");
  Str(&w, "platform", report.platform.empty() ? "native" : report.platform);
  Str(&w, "logger", "kubernetes");
  Str(&w, "server_name", crash.pod);
  w.Key("exception");
  w.StartObject();
  w.Key("values");
  w.StartArray();
  for (const model::ExceptionValue& e : report.exceptions) {
    WriteException(&w, e);
  }
  w.EndArray();
  w.EndObject();

  w.Key("tags");
  w.StartObject();
  Str(&w, "namespace", crash.namespace_);
  Str(&w, "pod", crash.pod);
  Str(&w, "container", crash.container);
  Str(&w, "workload", crash.workload);
  Str(&w, "image", crash.image);
  Str(&w, "node", crash.node);
  Str(&w, "crash_type", model::ToString(crash.crash_type));
  Str(&w, "exit_code", std::to_string(crash.exit_code));
  Str(&w, "signal",
      !crash.signal.empty()    ? crash.signal
      : !report.signal.empty() ? report.signal
                               : "none");
  Str(&w, "crash_source", "kubernetes");
  w.EndObject();

  const std::vector<std::string> lines = SplitLines(logs);
  w.Key("extra");
  w.StartObject();
  Str(&w, "crash_dedup_key", crash.dedup_key);
  if (crash.id > 0) {
    w.Key("crash_id");
    w.Int64(crash.id);
  }
  StrIf(&w, "workload_kind", crash.workload_kind);
  StrIf(&w, "reason", crash.reason);
  w.Key("restart_count");
  w.Int(crash.restart_count);
  Str(&w, "runtime", crashreport::RuntimeName(report.runtime));
  StrIf(&w, "crashed_thread", report.thread_name);
  WriteLines(&w, "crash_report", lines, report.first_line, report.last_line);
  size_t tail_from =
      lines.size() > kRecordLogLines ? lines.size() - kRecordLogLines : 0;
  WriteLines(&w, "log_lines", lines, tail_from,
             lines.empty() ? 0 : lines.size() - 1);
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace kube
}  // namespace crashctl
