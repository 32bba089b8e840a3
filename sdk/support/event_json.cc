#include "crashctl/sdk/support/event_json.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cinttypes>
#include <cstdio>

#include "crashctl/sdk/support/util.h"

namespace crashctl {
namespace sdk {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

void StringMap(Writer& w, const std::map<std::string, std::string>& map) {
  w.StartObject();
  for (const auto& kv : map) Str(w, kv.first.c_str(), kv.second);
  w.EndObject();
}

void Hex(Writer& w, const char* key, uint64_t value) {
  char addr[32];
  std::snprintf(addr, sizeof(addr), "0x%" PRIx64, value);
  Str(w, key, addr);
}

void WriteFrame(Writer& w, const Frame& f) {
  w.StartObject();
  Hex(w, "instruction_addr", f.instruction_addr);
  if (f.symbol_addr != 0) Hex(w, "symbol_addr", f.symbol_addr);
  if (f.image_addr != 0) Hex(w, "image_addr", f.image_addr);
  if (!f.function.empty()) Str(w, "function", f.function);
  if (!f.module.empty()) Str(w, "package", f.module);
  if (!f.filename.empty()) {
    Str(w, "filename", f.filename);
    Str(w, "abs_path", f.filename);
  }
  if (f.lineno > 0) {
    w.Key("lineno");
    w.Int(f.lineno);
  }
  w.Key("in_app");
  w.Bool(f.in_app);
  w.EndObject();
}

void WriteStacktrace(Writer& w, const std::vector<Frame>& frames) {
  if (frames.empty()) return;
  w.Key("stacktrace");
  w.StartObject();
  w.Key("frames");
  w.StartArray();
  for (const Frame& f : frames) WriteFrame(w, f);
  w.EndArray();
  w.EndObject();
}

void WriteException(Writer& w, const ExceptionValue& e) {
  w.StartObject();
  Str(w, "type", e.type);
  Str(w, "value", e.value);
  w.Key("mechanism");
  w.StartObject();
  Str(w, "type", e.mechanism);
  w.Key("handled");
  w.Bool(e.handled);
  if (!e.mechanism_data.empty()) {
    w.Key("data");
    StringMap(w, e.mechanism_data);
  }
  if (e.signal.number != 0) {
    w.Key("meta");
    w.StartObject();
    w.Key("signal");
    w.StartObject();
    w.Key("number");
    w.Int(e.signal.number);
    if (!e.signal.code_name.empty()) {
      w.Key("code");
      w.Int(e.signal.code);
    }
    if (!e.signal.name.empty()) Str(w, "name", e.signal.name);
    if (!e.signal.code_name.empty()) Str(w, "code_name", e.signal.code_name);
    w.EndObject();
    w.EndObject();
  }
  w.EndObject();
  if (e.thread_id != 0) {
    w.Key("thread_id");
    w.Uint64(e.thread_id);
  }
  WriteStacktrace(w, e.frames);
  w.EndObject();
}

void WriteThreads(Writer& w, const std::vector<Thread>& threads) {
  w.StartObject();
  w.Key("values");
  w.StartArray();
  for (const Thread& t : threads) {
    w.StartObject();
    w.Key("id");
    w.Uint64(t.id);
    if (!t.name.empty()) Str(w, "name", t.name);
    w.Key("crashed");
    w.Bool(t.crashed);
    w.Key("current");
    w.Bool(t.current);
    WriteStacktrace(w, t.frames);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void WriteExtra(Writer& w, const Event& event) {
  w.StartObject();
  for (const auto& kv : event.extra) Str(w, kv.first.c_str(), kv.second);
  if (!event.log_lines.empty()) {
    w.Key("log_lines");
    w.StartArray();
    for (const std::string& line : event.log_lines) {
      w.String(line.c_str(), static_cast<rapidjson::SizeType>(line.size()));
    }
    w.EndArray();
  }
  w.EndObject();
}

}  // namespace

std::string EventToJson(const Event& event) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Str(w, "event_id", event.event_id);
  Str(w, "timestamp", event.timestamp);
  Str(w, "platform", event.platform.empty() ? "native" : event.platform);
  Str(w, "level", LevelName(event.level));
  Str(w, "logger", "crashctl");
  if (!event.server_name.empty()) Str(w, "server_name", event.server_name);
  if (!event.release.empty()) Str(w, "release", event.release);
  if (!event.environment.empty()) Str(w, "environment", event.environment);
  if (!event.message.empty()) {
    w.Key("message");
    w.StartObject();
    Str(w, "formatted", event.message);
    w.EndObject();
  }
  if (!event.exceptions.empty()) {
    w.Key("exception");
    w.StartObject();
    w.Key("values");
    w.StartArray();
    for (const ExceptionValue& e : event.exceptions) WriteException(w, e);
    w.EndArray();
    w.EndObject();
  }
  if (!event.threads.empty()) {
    w.Key("threads");
    WriteThreads(w, event.threads);
  }
  w.Key("tags");
  StringMap(w, event.tags);
  if (!event.extra.empty() || !event.log_lines.empty()) {
    w.Key("extra");
    WriteExtra(w, event);
  }
  w.Key("contexts");
  w.StartObject();
  if (!event.extra.empty() || !event.log_lines.empty()) {
    w.Key("crashctl");
    WriteExtra(w, event);
  }
  if (!event.trace.trace_id.empty()) {
    w.Key("trace");
    w.StartObject();
    Str(w, "trace_id", event.trace.trace_id);
    if (!event.trace.span_id.empty()) Str(w, "span_id", event.trace.span_id);
    if (!event.trace.parent_span_id.empty()) {
      Str(w, "parent_span_id", event.trace.parent_span_id);
    }
    if (!event.trace.op.empty()) Str(w, "op", event.trace.op);
    w.EndObject();
  }
  w.EndObject();
  if (!event.user.empty()) {
    w.Key("user");
    w.StartObject();
    if (!event.user.id.empty()) Str(w, "id", event.user.id);
    if (!event.user.username.empty()) Str(w, "username", event.user.username);
    if (!event.user.email.empty()) Str(w, "email", event.user.email);
    if (!event.user.ip_address.empty()) {
      Str(w, "ip_address", event.user.ip_address);
    }
    w.EndObject();
  }
  if (!event.fingerprint.empty()) {
    w.Key("fingerprint");
    w.StartArray();
    for (const std::string& f : event.fingerprint) w.String(f.c_str());
    w.EndArray();
  }
  if (!event.breadcrumbs.empty()) {
    w.Key("breadcrumbs");
    w.StartObject();
    w.Key("values");
    w.StartArray();
    for (const Breadcrumb& b : event.breadcrumbs) {
      w.StartObject();
      Str(w, "timestamp", b.timestamp);
      if (!b.category.empty()) Str(w, "category", b.category);
      Str(w, "message", b.message);
      Str(w, "level", LevelName(b.level));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.Key("sdk");
  w.StartObject();
  Str(w, "name", "crashctl.cpp");
  Str(w, "version", "0.1.0");
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string BuildEnvelope(const std::string& event_id, const std::string& dsn,
                          const std::string& event_json,
                          const std::string& item_type,
                          const std::string& trace_json) {
  rapidjson::StringBuffer header;
  Writer w(header);
  w.StartObject();
  Str(w, "event_id", event_id);
  Str(w, "dsn", dsn);
  Str(w, "sent_at", Iso8601Now());
  if (!trace_json.empty()) {
    w.Key("trace");
    w.RawValue(trace_json.c_str(), trace_json.size(), rapidjson::kObjectType);
  }
  w.EndObject();
  rapidjson::StringBuffer item;
  Writer iw(item);
  iw.StartObject();
  Str(iw, "type", item_type);
  iw.Key("length");
  iw.Uint64(event_json.size());
  iw.EndObject();
  std::string out;
  out.reserve(header.GetSize() + item.GetSize() + event_json.size() + 3);
  out.append(header.GetString(), header.GetSize()).append("\n");
  out.append(item.GetString(), item.GetSize()).append("\n");
  out.append(event_json).append("\n");
  return out;
}

bool ParseEnvelopeHeader(const std::string& envelope, std::string* dsn,
                         std::string* event_id) {
  size_t nl = envelope.find('\n');
  std::string line = envelope.substr(0, nl);
  rapidjson::Document doc;
  doc.Parse(line.c_str(), line.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  auto it = doc.FindMember("dsn");
  if (it == doc.MemberEnd() || !it->value.IsString()) return false;
  *dsn = it->value.GetString();
  auto id = doc.FindMember("event_id");
  if (event_id != nullptr) {
    *event_id = (id != doc.MemberEnd() && id->value.IsString())
                    ? id->value.GetString()
                    : "";
  }
  return true;
}

// Declared in crashctl/sdk.h; defined here, where the JSON needs it.
const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
    case Level::kFatal:
      return "fatal";
  }
  return "error";
}

}  // namespace sdk
}  // namespace crashctl
