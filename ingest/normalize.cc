#include "crashctl/ingest/normalize.h"

// rapidjson's writer first, without its SSE2 code: rapidjson 1.1.0 (Debian's)
// takes only bytes <= 0x19 for control characters there, so its SSE2 writer
// would copy 0x1A-0x1F raw into strings (invalid JSON), and declaring that
// specialization in one file would make it the program's (an ODR clash with
// every other Writer<StringBuffer>).
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
// Then the reader with its SSE2 string scanner (x86-64 always has SSE2): 16
// bytes at a time when parsing a NUL-terminated text in place. It has the
// same 0x19 flaw, so texts holding bytes 0x1A-0x1F never take that path
// (HasNoControlBytes below).
#if defined(__SSE2__) && !defined(RAPIDJSON_SSE2)
#include <emmintrin.h>
#define RAPIDJSON_SSE2
#endif
#include <openssl/rand.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "crashctl/util/strings.h"
#include "crashctl/util/time.h"

namespace crashctl {
namespace ingest {
namespace {

using rapidjson::Value;

// Size bounds. Strings are cut at a UTF-8 character boundary.
constexpr size_t kMaxMessage = 8 * 1024;
constexpr size_t kMaxExceptionValue = 8 * 1024;
constexpr size_t kMaxShort = 256;  // type, module, level names, ...
constexpr size_t kMaxFunction = 1024;
constexpr size_t kMaxPath = 1024;
constexpr size_t kMaxAddr = 64;
constexpr size_t kMaxTagKey = 200;
constexpr size_t kMaxTagValue = 200;
constexpr size_t kMaxSdkField = 128;  // sdk.name, sdk.version
constexpr size_t kMaxTags = 200;
constexpr size_t kMaxFingerprintParts = 32;
constexpr size_t kMaxFingerprintPart = 512;
constexpr size_t kMaxFrames = 250;
constexpr size_t kMaxChain = 10;
constexpr size_t kMaxBreadcrumbs = 100;
constexpr size_t kMaxThreads = 256;
constexpr int kMaxJsonDepth = 32;

using util::TruncateUtf8;

// Compact JSON for `v`; containers deeper than `max_depth` (kMaxJsonDepth
// for the kept subtrees) are replaced by the string "[depth limit]" so that
// writing never recurses without bound.
void WriteBounded(const Value& v, rapidjson::Writer<rapidjson::StringBuffer>* w,
                  int depth, int max_depth = kMaxJsonDepth) {
  if ((v.IsObject() || v.IsArray()) && depth >= max_depth) {
    w->String("[depth limit]");
    return;
  }
  if (v.IsObject()) {
    w->StartObject();
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      w->Key(it->name.GetString(), it->name.GetStringLength());
      WriteBounded(it->value, w, depth + 1, max_depth);
    }
    w->EndObject();
  } else if (v.IsArray()) {
    w->StartArray();
    for (const Value& e : v.GetArray()) {
      WriteBounded(e, w, depth + 1, max_depth);
    }
    w->EndArray();
  } else {
    v.Accept(*w);  // a scalar: no recursion
  }
}

std::string CompactJson(const Value& v, int max_depth = kMaxJsonDepth) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  WriteBounded(v, &w, 0, max_depth);
  return std::string(buf.GetString(), buf.GetSize());
}

// A JSON array text of at most the last `max` elements of `arr`.
std::string CompactJsonArrayTail(const Value& arr, size_t max) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartArray();
  const size_t n = arr.Size();
  for (size_t i = n > max ? n - max : 0; i < n; ++i) {
    WriteBounded(arr[static_cast<rapidjson::SizeType>(i)], &w, 1);
  }
  w.EndArray();
  return std::string(buf.GetString(), buf.GetSize());
}

// Scalars as text: strings as they are, numbers and booleans as in JSON.
// Objects and arrays become compact JSON.
std::string Stringify(const Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  return CompactJson(v);
}

const Value* Member(const Value& obj, const char* name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

// `v` as a lower-case id of `digits` hex digits, not all zeros; a dashed
// UUID is accepted for 32. "" when `v` is anything else.
std::string TraceHexId(const Value* v, size_t digits) {
  if (v == nullptr || !v->IsString()) return "";
  std::string_view text(v->GetString(), v->GetStringLength());
  std::string id;
  id.reserve(digits);
  const bool dashed = digits == 32 && text.size() == 36;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
      if (c != '-') return "";
      continue;
    }
    if (!std::isxdigit(static_cast<unsigned char>(c))) return "";
    id.push_back(
        static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (id.size() != digits || id.find_first_not_of('0') == std::string::npos) {
    return "";
  }
  return id;
}

// contexts.trace.trace_id / span_id of an error event (the transaction it
// happened in). Malformed ids are ignored: they never cost the event.
void ReadTraceContext(const Value& doc, model::Event* ev) {
  const Value* contexts = Member(doc, "contexts");
  if (contexts == nullptr || !contexts->IsObject()) return;
  const Value* trace = Member(*contexts, "trace");
  if (trace == nullptr || !trace->IsObject()) return;
  ev->trace_id = TraceHexId(Member(*trace, "trace_id"), 32);
  if (ev->trace_id.empty()) return;  // a span id means nothing without it
  ev->span_id = TraceHexId(Member(*trace, "span_id"), 16);
}

// Collects the first type error; later ones are ignored.
class Errors {
 public:
  void Add(const std::string& e) {
    if (first_.empty()) first_ = e;
  }
  bool ok() const { return first_.empty(); }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

// Reads a scalar field as text (numbers/bools stringified). An object or
// array where text is expected is a type error.
std::string TextValue(const Value* v, const char* name, size_t max,
                      const std::string& where, Errors* errors) {
  if (v == nullptr || v->IsNull()) return "";
  if (v->IsObject() || v->IsArray()) {
    errors->Add(where + name + ": expected a string");
    return "";
  }
  std::string s = Stringify(*v);
  TruncateUtf8(&s, max);
  return s;
}

std::string TextField(const Value& obj, const char* name, size_t max,
                      const std::string& where, Errors* errors) {
  return TextValue(Member(obj, name), name, max, where, errors);
}

int IntValue(const Value* v) {
  if (v == nullptr || v->IsNull()) return 0;
  double d = 0;
  if (v->IsNumber()) {
    d = v->GetDouble();
  } else if (v->IsString()) {
    char* end = nullptr;
    const std::string s(v->GetString(), v->GetStringLength());
    d = std::strtod(s.c_str(), &end);
    if (end == s.c_str()) return 0;
  } else {
    return 0;
  }
  if (!std::isfinite(d) || d < -2147483647.0 || d > 2147483647.0) return 0;
  return static_cast<int>(d);
}

std::optional<bool> BoolValue(const Value* v) {
  if (v == nullptr || !v->IsBool()) return std::nullopt;
  return v->GetBool();
}

std::optional<bool> BoolField(const Value& obj, const char* name) {
  return BoolValue(Member(obj, name));
}

}  // namespace

// RFC 3339 ("2024-05-01T12:00:00.123456Z", "...+02:00"); a missing zone is
// read as UTC (older Python SDKs omit it). Also accepts epoch seconds as
// text. Returns false when `s` is neither.
bool ParseTimestamp(std::string_view s, double* out) {
  if (s.empty() || s.size() > 64) return false;
  if (util::ParseRfc3339Lenient(s, out)) return true;
  if (s.size() >= 5 && s[4] == '-') return false;  // a date, but a bad one
  // Not a date: maybe epoch seconds as text.
  const std::string text(s);
  char* end = nullptr;
  const double d = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(d)) return false;
  *out = d;
  return true;
}

namespace {

// The Sentry level, any case; "warn" and "critical" as the Python logging
// names; anything else is an error.
model::Level NormalizeLevel(const Value* v) {
  if (v == nullptr || !v->IsString()) return model::Level::kError;
  const std::string s = util::ToLower(std::string_view(
      v->GetString(), std::min<size_t>(v->GetStringLength(), 16)));
  if (s == "warn") return model::Level::kWarning;
  if (s == "critical") return model::Level::kFatal;
  model::Level level = model::Level::kError;
  model::ParseLevel(s, &level);
  return level;
}

// Lower-case 32-hex form of a hex or dashed-UUID id; "" when invalid.
std::string CanonicalEventId(const Value* v) {
  if (v == nullptr || !v->IsString()) return "";
  std::string_view s(v->GetString(), v->GetStringLength());
  std::string out;
  if (s.size() == 36) {
    if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return "";
  } else if (s.size() != 32) {
    return "";
  }
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (s.size() == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return "";
    out.push_back(
        static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

// The path of frame `index` for error messages:
// "<stacktrace>.frames[<index>]".
std::string FramePath(const std::string& stacktrace, size_t index) {
  return stacktrace + ".frames[" + std::to_string(index) + "]";
}

// Frame `index` of the stack trace at path `stacktrace`. One pass over the
// frame's members instead of one lookup per field: this runs for every frame
// of every event. The first of duplicated keys wins, as with FindMember.
model::Frame ParseFrame(const Value& f, const std::string& stacktrace,
                        size_t index, Errors* errors) {
  enum Field {
    kFunction,
    kRawFunction,
    kModule,
    kPackage,
    kFilename,
    kAbsPath,
    kLineno,
    kColno,
    kInstructionAddr,
    kInApp,
    kPlatform,
    kFieldCount
  };
  static const char* const kNames[kFieldCount] = {
      "function",         "raw_function", "module",  "package",
      "filename",         "abs_path",     "lineno",  "colno",
      "instruction_addr", "in_app",       "platform"};
  const Value* values[kFieldCount] = {};
  for (auto it = f.MemberBegin(); it != f.MemberEnd(); ++it) {
    const std::string_view name(it->name.GetString(),
                                it->name.GetStringLength());
    for (int i = 0; i < kFieldCount; ++i) {
      if (name == kNames[i]) {
        if (values[i] == nullptr) values[i] = &it->value;
        break;
      }
    }
  }
  // Only error messages name the frame, and only an object or an array
  // where text belongs is an error here: the path is built for such a frame
  // alone, not for each of the ~30 frames of every event.
  std::string where;
  for (const Value* v : values) {
    if (v != nullptr && (v->IsObject() || v->IsArray())) {
      where = FramePath(stacktrace, index) + ".";
      break;
    }
  }
  model::Frame frame;
  frame.function = TextValue(values[kFunction], kNames[kFunction], kMaxFunction,
                             where, errors);
  frame.raw_function = TextValue(values[kRawFunction], kNames[kRawFunction],
                                 kMaxFunction, where, errors);
  frame.module =
      TextValue(values[kModule], kNames[kModule], kMaxShort, where, errors);
  frame.package =
      TextValue(values[kPackage], kNames[kPackage], kMaxPath, where, errors);
  frame.filename =
      TextValue(values[kFilename], kNames[kFilename], kMaxPath, where, errors);
  frame.abs_path =
      TextValue(values[kAbsPath], kNames[kAbsPath], kMaxPath, where, errors);
  frame.lineno = IntValue(values[kLineno]);
  frame.colno = IntValue(values[kColno]);
  frame.instruction_addr =
      TextValue(values[kInstructionAddr], kNames[kInstructionAddr], kMaxAddr,
                where, errors);
  frame.in_app = BoolValue(values[kInApp]);
  frame.platform =
      TextValue(values[kPlatform], kNames[kPlatform], kMaxShort, where, errors);
  return frame;
}

// Reads `stacktrace.frames`. More than kMaxFrames frames keeps the first and
// the last kMaxFrames/2 (the outermost calls and the ones nearest the crash).
std::vector<model::Frame> ParseStacktrace(const Value& st,
                                          const std::string& where,
                                          Errors* errors) {
  std::vector<model::Frame> frames;
  if (!st.IsObject()) {
    errors->Add(where + ": expected an object");
    return frames;
  }
  const Value* fs = Member(st, "frames");
  if (fs == nullptr) return frames;
  if (!fs->IsArray()) {
    errors->Add(where + ".frames: expected an array");
    return frames;
  }
  const size_t n = fs->Size();
  const size_t half = kMaxFrames / 2;
  frames.reserve(std::min(n, kMaxFrames));
  for (size_t i = 0; i < n; ++i) {
    if (n > kMaxFrames && i == half) i = n - half;
    const Value& f = (*fs)[static_cast<rapidjson::SizeType>(i)];
    if (!f.IsObject()) {
      if (!f.IsNull())
        errors->Add(FramePath(where, i) + ": expected an object");
      continue;
    }
    frames.push_back(ParseFrame(f, where, i, errors));
  }
  return frames;
}

model::ExceptionValue ParseException(const Value& e, const std::string& where,
                                     Errors* errors) {
  model::ExceptionValue ex;
  ex.type = TextField(e, "type", kMaxShort, where, errors);
  ex.value = TextField(e, "value", kMaxExceptionValue, where, errors);
  ex.module = TextField(e, "module", kMaxShort, where, errors);
  if (const Value* m = Member(e, "mechanism")) {
    if (m->IsObject()) {
      ex.mechanism_type =
          TextField(*m, "type", kMaxShort, where + "mechanism.", errors);
      ex.handled = BoolField(*m, "handled");
    } else {
      errors->Add(where + "mechanism: expected an object");
    }
  }
  if (const Value* st = Member(e, "stacktrace")) {
    ex.frames = ParseStacktrace(*st, where + "stacktrace", errors);
  }
  return ex;
}

// `exception` as {"values": [...]}, a bare array, or a single exception
// object. Keeps the last kMaxChain (the finally raised one is last).
void ParseExceptions(const Value& v, model::Event* ev, Errors* errors) {
  const Value* values = nullptr;
  if (v.IsArray()) {
    values = &v;
  } else if (v.IsObject()) {
    auto it = v.FindMember("values");
    if (it != v.MemberEnd()) {
      if (it->value.IsNull()) return;
      if (!it->value.IsArray()) {
        errors->Add("exception.values: expected an array");
        return;
      }
      values = &it->value;
    } else {
      ev->exceptions.push_back(ParseException(v, "exception.", errors));
      return;
    }
  } else {
    errors->Add("exception: expected an object or an array");
    return;
  }
  const size_t n = values->Size();
  for (size_t i = n > kMaxChain ? n - kMaxChain : 0; i < n; ++i) {
    const Value& e = (*values)[static_cast<rapidjson::SizeType>(i)];
    const std::string where = "exception.values[" + std::to_string(i) + "]";
    if (!e.IsObject()) {
      if (!e.IsNull()) errors->Add(where + ": expected an object");
      continue;
    }
    ev->exceptions.push_back(ParseException(e, where + ".", errors));
  }
}

// Frames of the crashed thread in `threads` ({"values": [...]} or array);
// empty when no thread says crashed: true.
std::vector<model::Frame> CrashedThreadFrames(const Value& v, Errors* errors) {
  const Value* values = &v;
  if (v.IsObject()) values = Member(v, "values");
  if (values == nullptr) return {};
  if (!values->IsArray()) {
    errors->Add("threads: expected an object with `values` or an array");
    return {};
  }
  const size_t n = std::min<size_t>(values->Size(), kMaxThreads);
  for (size_t i = 0; i < n; ++i) {
    const Value& t = (*values)[static_cast<rapidjson::SizeType>(i)];
    if (!t.IsObject() || BoolField(t, "crashed") != true) continue;
    const Value* st = Member(t, "stacktrace");
    if (st == nullptr) return {};
    return ParseStacktrace(
        *st, "threads.values[" + std::to_string(i) + "].stacktrace", errors);
  }
  return {};
}

void ParseTags(const Value& v, model::Event* ev, Errors* errors) {
  auto add = [ev](const Value& key, const Value& value) {
    if (value.IsNull() || ev->tags.size() >= kMaxTags) return;
    std::string k = Stringify(key);
    std::string val = Stringify(value);
    TruncateUtf8(&k, kMaxTagKey);
    TruncateUtf8(&val, kMaxTagValue);
    if (k.empty()) return;
    ev->tags.emplace_back(std::move(k), std::move(val));
  };
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      add(it->name, it->value);
    }
  } else if (v.IsArray()) {
    for (const Value& pair : v.GetArray()) {
      if (pair.IsArray() && pair.Size() == 2 && !pair[0].IsNull()) {
        add(pair[0], pair[1]);
      }
    }
  } else {
    errors->Add("tags: expected an object or an array of pairs");
  }
}

void ParseFingerprint(const Value& v, model::Event* ev, Errors* errors) {
  auto add = [ev](const Value& part) {
    if (part.IsNull() || part.IsObject() || part.IsArray()) return;
    if (ev->fingerprint.size() >= kMaxFingerprintParts) return;
    std::string s = Stringify(part);
    TruncateUtf8(&s, kMaxFingerprintPart);
    ev->fingerprint.push_back(std::move(s));
  };
  if (v.IsArray()) {
    for (const Value& part : v.GetArray()) add(part);
  } else if (v.IsString()) {
    add(v);
  } else {
    errors->Add("fingerprint: expected an array of strings");
  }
}

// message: logentry.formatted, logentry.message, message (string), then
// message.formatted / message.message.
std::string ParseMessage(const Value& doc, Errors* errors) {
  std::string msg;
  if (const Value* le = Member(doc, "logentry")) {
    if (le->IsObject()) {
      msg = TextField(*le, "formatted", kMaxMessage, "logentry.", errors);
      if (msg.empty()) {
        msg = TextField(*le, "message", kMaxMessage, "logentry.", errors);
      }
    } else if (le->IsString()) {
      msg = Stringify(*le);
    } else {
      errors->Add("logentry: expected an object");
    }
  }
  if (msg.empty()) {
    if (const Value* m = Member(doc, "message")) {
      if (m->IsObject()) {
        msg = TextField(*m, "formatted", kMaxMessage, "message.", errors);
        if (msg.empty()) {
          msg = TextField(*m, "message", kMaxMessage, "message.", errors);
        }
      } else if (m->IsArray()) {
        errors->Add("message: expected a string or an object");
      } else {
        msg = Stringify(*m);
      }
    }
  }
  TruncateUtf8(&msg, kMaxMessage);
  return msg;
}

// An object field kept as compact JSON text; other types are errors.
std::string ObjectJson(const Value& doc, const char* name, Errors* errors) {
  const Value* v = Member(doc, name);
  if (v == nullptr) return "";
  if (!v->IsObject()) {
    errors->Add(std::string(name) + ": expected an object");
    return "";
  }
  return CompactJson(*v);
}

}  // namespace

std::string NewEventId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    std::random_device rd;
    for (size_t i = 0; i < sizeof(bytes); i += 4) {
      const uint32_t r = rd();
      std::memcpy(bytes + i, &r, 4);
    }
  }
  static const char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (size_t i = 0; i < sizeof(bytes); ++i) {
    id[2 * i] = kHex[bytes[i] >> 4];
    id[2 * i + 1] = kHex[bytes[i] & 0xF];
  }
  return id;
}

namespace {

// True when every byte is 7-bit ASCII (then it is valid UTF-8). Eight bytes
// at a time: most SDK payloads are pure ASCII.
bool IsAscii(std::string_view s) {
  size_t i = 0;
  uint64_t bits = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, sizeof(word));
    bits |= word;
  }
  for (; i < s.size(); ++i) bits |= static_cast<unsigned char>(s[i]);
  return (bits & 0x8080808080808080ULL) == 0;
}

// True when `s` holds no NUL (it ends the in-place parse) and no byte
// 0x1A-0x1F, which rapidjson 1.1.0's SSE2 string scanner would accept raw
// inside a string. Eight bytes at a time: bytes below 0x20 are rare outside
// pretty-printed JSON (newlines), and only then are they looked at.
bool NoBytesTheSimdScannerMisreads(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  uint64_t below_space = 0;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, sizeof(word));
    below_space |= (word - kOnes * 0x20) & ~word & kHigh;
  }
  for (; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) < 0x20) below_space = 1;
  }
  if (below_space == 0) return true;
  for (char c : s) {
    const unsigned char b = static_cast<unsigned char>(c);
    if (b == 0 || (b >= 0x1A && b <= 0x1F)) return false;
  }
  return true;
}

// --- payload rewriting: depth bound, scrubbing, client addresses --------

constexpr char kDepthLimit[] = "[depth limit]";

struct Rewriter {
  const scrub::Scrubber* scrubber;
  int max_depth;
  rapidjson::Document::AllocatorType* allocator;
  NormalizeReport* report;

  void Filter(Value* v) {
    if (v->IsNull()) return;
    if (v->IsString() &&
        std::string_view(v->GetString(), v->GetStringLength()) ==
            scrub::kFiltered) {
      return;
    }
    v->SetString(scrub::kFiltered.data(),
                 static_cast<rapidjson::SizeType>(scrub::kFiltered.size()));
    ++report->scrubbed;
  }

  void ScrubString(Value* v) {
    const std::string_view text(v->GetString(), v->GetStringLength());
    if (!scrubber->TextNeedsScrubbing(text)) return;
    std::string copy(text);
    report->scrubbed += scrubber->ScrubText(&copy);
    v->SetString(copy.data(), static_cast<rapidjson::SizeType>(copy.size()),
                 *allocator);
  }

  // Visits `root` (the payload object, at nesting 1) and everything under
  // it. Iterative, with its own work list: civetweb's worker threads have
  // 100 KiB stacks (Debian builds it with USE_STACK_SIZE=102400), too little
  // for 64 recursive frames under the sanitizers. Deeper containers than
  // max_depth are cut, not visited. Scalars under the fields that hold code
  // locations or identifiers (Scrubber::IsCodeField) are not visited.
  void Walk(Value* root) {
    struct Item {
      Value* v;
      int depth;
    };
    std::vector<Item> work{{root, 1}};
    // Each node is pushed at most once: the loop ends after as many steps
    // as the payload has values.
    while (!work.empty()) {
      const Item item = work.back();
      work.pop_back();
      Value* v = item.v;
      const int depth = item.depth;
      if (v->IsString()) {
        if (scrubber->enabled()) ScrubString(v);
        continue;
      }
      if (!v->IsObject() && !v->IsArray()) continue;
      if (depth > max_depth) {
        v->SetString(kDepthLimit, *allocator);
        ++report->depth_cuts;
        continue;
      }
      if (v->IsObject()) {
        for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
          const std::string_view name(it->name.GetString(),
                                      it->name.GetStringLength());
          if (!it->value.IsObject() && !it->value.IsArray() &&
              scrub::Scrubber::IsCodeField(name)) {
            continue;  // a code location or identifier: nothing to scrub
          }
          if (scrubber->enabled() && scrubber->IsSecretKey(name)) {
            Filter(&it->value);
            continue;
          }
          work.push_back({&it->value, depth + 1});
        }
        continue;
      }
      for (Value& element : v->GetArray()) {
        // [key, value] pairs: headers, cookies, query strings, tags.
        if (scrubber->enabled() && element.IsArray() && element.Size() == 2 &&
            element[0].IsString() &&
            scrubber->IsSecretKey(std::string_view(
                element[0].GetString(), element[0].GetStringLength()))) {
          if (depth + 1 > max_depth) {
            element.SetString(kDepthLimit, *allocator);
            ++report->depth_cuts;
          } else {
            Filter(&element[1]);
          }
          continue;
        }
        work.push_back({&element, depth + 1});
      }
    }
  }
};

bool IsClientAddressHeader(std::string_view name) {
  static const char* const kNames[] = {"x-forwarded-for", "x-real-ip",
                                       "forwarded",       "cf-connecting-ip",
                                       "true-client-ip",  "x-client-ip"};
  for (const char* n : kNames) {
    if (name.size() == std::strlen(n) &&
        strncasecmp(name.data(), n, name.size()) == 0) {
      return true;
    }
  }
  return false;
}

// The user key of `doc` (model::Event::user): user.id (a string or a
// number), else user.email, else user.username, else user.ip_address (only
// still there when privacy.store_ip keeps it); "" when none. Other shapes
// are ignored: the key is only what filters and erasure match on.
std::string UserKey(const Value& doc) {
  const Value* user = Member(doc, "user");
  if (user == nullptr || !user->IsObject()) return "";
  for (const char* name : {"id", "email", "username", "ip_address"}) {
    const Value* v = Member(*user, name);
    if (v == nullptr) continue;
    std::string key;
    if (v->IsString()) {
      key.assign(v->GetString(), v->GetStringLength());
    } else if (v->IsInt64() || v->IsUint64()) {
      key = Stringify(*v);
    }
    if (key.empty()) continue;
    TruncateUtf8(&key, model::kMaxUserKeyBytes);
    return key;
  }
  return "";
}

// privacy.store_ip: removes (or, when kept, resolves "{{auto}}") the
// addresses an event carries of its client.
void ApplyIpPolicy(Value* doc, const NormalizeOptions& options,
                   rapidjson::Document::AllocatorType* allocator,
                   NormalizeReport* report) {
  auto user = doc->FindMember("user");
  if (user != doc->MemberEnd() && user->value.IsObject()) {
    auto ip = user->value.FindMember("ip_address");
    if (ip != user->value.MemberEnd() && !ip->value.IsNull()) {
      if (!options.store_ip) {
        user->value.RemoveMember(ip);
        ++report->scrubbed;
      } else if (ip->value.IsString() &&
                 std::string_view(ip->value.GetString(),
                                  ip->value.GetStringLength()) == "{{auto}}") {
        ip->value.SetString(
            options.remote_addr.data(),
            static_cast<rapidjson::SizeType>(options.remote_addr.size()),
            *allocator);
      }
    }
  }
  if (options.store_ip) return;
  auto request = doc->FindMember("request");
  if (request == doc->MemberEnd() || !request->value.IsObject()) return;
  auto env = request->value.FindMember("env");
  if (env != request->value.MemberEnd() && env->value.IsObject()) {
    auto addr = env->value.FindMember("REMOTE_ADDR");
    if (addr != env->value.MemberEnd()) {
      env->value.RemoveMember(addr);
      ++report->scrubbed;
    }
  }
  auto headers = request->value.FindMember("headers");
  if (headers == request->value.MemberEnd()) return;
  auto filter = [&](Value* v) {
    if (v->IsNull() ||
        (v->IsString() &&
         std::string_view(v->GetString(), v->GetStringLength()) ==
             scrub::kFiltered)) {
      return;
    }
    v->SetString(scrub::kFiltered.data(),
                 static_cast<rapidjson::SizeType>(scrub::kFiltered.size()));
    ++report->scrubbed;
  };
  if (headers->value.IsObject()) {
    for (auto it = headers->value.MemberBegin();
         it != headers->value.MemberEnd(); ++it) {
      if (IsClientAddressHeader(std::string_view(it->name.GetString(),
                                                 it->name.GetStringLength()))) {
        filter(&it->value);
      }
    }
  } else if (headers->value.IsArray()) {
    for (Value& pair : headers->value.GetArray()) {
      if (pair.IsArray() && pair.Size() == 2 && pair[0].IsString() &&
          IsClientAddressHeader(std::string_view(pair[0].GetString(),
                                                 pair[0].GetStringLength()))) {
        filter(&pair[1]);
      }
    }
  }
}

// Appends {"type": type, ...} to the payload's `errors` list (created, or
// replacing a value that is not a list).
Value& AddPayloadError(Value* doc, const char* type,
                       rapidjson::Document::AllocatorType* allocator) {
  auto errors = doc->FindMember("errors");
  if (errors == doc->MemberEnd()) {
    doc->AddMember("errors", Value(rapidjson::kArrayType), *allocator);
    errors = doc->FindMember("errors");
  } else if (!errors->value.IsArray()) {
    errors->value.SetArray();
  }
  Value entry(rapidjson::kObjectType);
  entry.AddMember("type", Value(type, *allocator), *allocator);
  errors->value.PushBack(entry, *allocator);
  return errors->value[errors->value.Size() - 1];
}

const scrub::Scrubber& DefaultScrubber() {
  static const scrub::Scrubber* scrubber = new scrub::Scrubber();
  return *scrubber;
}

}  // namespace

bool NormalizeEvent(std::string_view json, int64_t project_id, double now,
                    model::Event* out, std::string* error) {
  return NormalizeEvent(json, project_id, now, NormalizeOptions(), out, nullptr,
                        error);
}

bool NormalizeEvent(std::string_view json, int64_t project_id, double now,
                    const NormalizeOptions& options, model::Event* out,
                    NormalizeReport* report_out, std::string* error) {
  rapidjson::Document doc;
  // Iterative parsing: deeply nested input cannot exhaust the stack.
  // UTF-8 validation (a third of the parse time) is needed only when the
  // payload has non-ASCII bytes.
  //
  // An ASCII payload is parsed from a NUL-terminated copy, in place: the
  // document's strings point into `text` (no copy of each, unescaped where
  // they lie), and rapidjson scans it with SSE2 (it does so only for C
  // strings); with no NUL inside, the text is the same. The SSE2 scanner loads
  // whole aligned 16-byte blocks and so reads up to 15 bytes past the NUL: the
  // spare capacity keeps those reads inside the allocation (an AddressSanitizer
  // heap-buffer-overflow otherwise). `text` outlives every use of `doc`.
  std::string text;
  if (IsAscii(json) && NoBytesTheSimdScannerMisreads(json)) {
    text.reserve(json.size() + 16);
    text.assign(json.data(), json.size());
    doc.ParseInsitu<rapidjson::kParseIterativeFlag>(&text[0]);
  } else {
    doc.Parse<rapidjson::kParseIterativeFlag |
              rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  }
  if (doc.HasParseError()) {
    *error = std::string("event is not valid JSON: ") +
             rapidjson::GetParseError_En(doc.GetParseError()) + " (at byte " +
             std::to_string(doc.GetErrorOffset()) + ")";
    return false;
  }
  if (!doc.IsObject()) {
    *error = "event is not a JSON object";
    return false;
  }

  // Bound the depth and scrub secrets before any field is read, so that no
  // field, and no stored byte, carries what was cut or filtered.
  NormalizeReport report;
  Rewriter rewriter{
      options.scrubber != nullptr ? options.scrubber : &DefaultScrubber(),
      std::max(1, options.max_depth), &doc.GetAllocator(), &report};
  rewriter.Walk(&doc);
  ApplyIpPolicy(&doc, options, &doc.GetAllocator(), &report);

  Errors errors;
  model::Event ev;
  ev.project_id = project_id;
  ev.received = now;

  ev.event_id = CanonicalEventId(Member(doc, "event_id"));
  if (ev.event_id.empty()) ev.event_id = NewEventId();

  ev.timestamp = now;
  if (const Value* ts = Member(doc, "timestamp")) {
    double t = 0;
    bool parsed = false;
    if (ts->IsNumber()) {
      t = ts->GetDouble();
      parsed = std::isfinite(t);
    } else if (ts->IsString()) {
      parsed = ParseTimestamp(
          std::string_view(ts->GetString(), ts->GetStringLength()), &t);
    } else if (ts->IsObject() || ts->IsArray()) {
      errors.Add("timestamp: expected a string or a number");
    }
    if (parsed) {
      const char* kind = nullptr;
      if (options.max_future_seconds > 0 &&
          t > now + options.max_future_seconds) {
        kind = "future_timestamp";
        report.future_timestamp = true;
      } else if (options.max_past_seconds > 0 &&
                 t < now - options.max_past_seconds) {
        kind = "past_timestamp";
        report.past_timestamp = true;
      }
      if (kind == nullptr) {
        ev.timestamp = t;
      } else {
        // As Relay does: the receive time, with the SDK's kept and flagged.
        Value sdk_time(*ts, doc.GetAllocator());
        Value& entry = AddPayloadError(&doc, kind, &doc.GetAllocator());
        entry.AddMember("name", "timestamp", doc.GetAllocator());
        entry.AddMember("sdk_time", sdk_time, doc.GetAllocator());
        entry.AddMember("server_time", Value(now), doc.GetAllocator());
        doc["timestamp"].SetDouble(now);
      }
    }
  }
  if (report.depth_cuts > 0) {
    Value& entry = AddPayloadError(&doc, "depth_limit", &doc.GetAllocator());
    entry.AddMember("count", Value(static_cast<uint64_t>(report.depth_cuts)),
                    doc.GetAllocator());
    entry.AddMember("max_depth", Value(options.max_depth), doc.GetAllocator());
  }
  if (report.rewritten()) {
    // The walk left no container deeper than max_depth.
    ev.raw_json = CompactJson(doc, std::max(1, options.max_depth) + 1);
  } else {
    ev.raw_json.assign(json.data(), json.size());
  }

  ev.level = NormalizeLevel(Member(doc, "level"));
  ev.platform = TextField(doc, "platform", 64, "", &errors);
  ev.logger = TextField(doc, "logger", kMaxShort, "", &errors);
  ev.transaction = TextField(doc, "transaction", kMaxPath, "", &errors);
  ev.release = TextField(doc, "release", 200, "", &errors);
  ev.environment = TextField(doc, "environment", 64, "", &errors);
  ev.server_name = TextField(doc, "server_name", kMaxShort, "", &errors);
  ev.message = ParseMessage(doc, &errors);

  if (const Value* ex = Member(doc, "exception")) {
    ParseExceptions(*ex, &ev, &errors);
  }
  if (const Value* st = Member(doc, "stacktrace")) {
    std::vector<model::Frame> frames =
        ParseStacktrace(*st, "stacktrace", &errors);
    if (ev.exceptions.empty()) {
      if (!frames.empty()) {
        ev.exceptions.emplace_back();
        ev.exceptions.back().frames = std::move(frames);
      }
    } else if (ev.exceptions.back().frames.empty()) {
      ev.exceptions.back().frames = std::move(frames);
    }
  }
  if (const Value* th = Member(doc, "threads")) {
    if (ev.exceptions.empty() || ev.exceptions.back().frames.empty()) {
      std::vector<model::Frame> frames = CrashedThreadFrames(*th, &errors);
      if (!frames.empty()) {
        if (ev.exceptions.empty()) ev.exceptions.emplace_back();
        ev.exceptions.back().frames = std::move(frames);
      }
    }
  }

  if (const Value* tags = Member(doc, "tags")) ParseTags(*tags, &ev, &errors);
  if (const Value* fp = Member(doc, "fingerprint")) {
    ParseFingerprint(*fp, &ev, &errors);
  }

  ev.user_json = ObjectJson(doc, "user", &errors);
  ev.user = UserKey(doc);
  ev.contexts_json = ObjectJson(doc, "contexts", &errors);
  ev.request_json = ObjectJson(doc, "request", &errors);
  if (const Value* bc = Member(doc, "breadcrumbs")) {
    const Value* values = bc;
    if (bc->IsObject()) values = Member(*bc, "values");
    if (values != nullptr) {
      if (values->IsArray()) {
        ev.breadcrumbs_json = CompactJsonArrayTail(*values, kMaxBreadcrumbs);
      } else {
        errors.Add("breadcrumbs: expected an array or {\"values\": [...]}");
      }
    }
  }

  ev.service = ev.Tag("service");
  if (ev.service.empty()) {
    if (const Value* contexts = Member(doc, "contexts")) {
      if (const Value* app = Member(*contexts, "app")) {
        if (const Value* name = Member(*app, "app_name")) {
          if (name->IsString()) ev.service = Stringify(*name);
        }
      }
    }
  }
  TruncateUtf8(&ev.service, kMaxTagValue);
  ReadTraceContext(doc, &ev);
  // `sdk` {name, version}: kept when they are strings, other shapes ignored
  // (Sentry treats the sdk block as informational).
  if (const Value* sdk = Member(doc, "sdk")) {
    if (sdk->IsObject()) {
      const Value* name = Member(*sdk, "name");
      const Value* version = Member(*sdk, "version");
      if (name != nullptr && name->IsString()) ev.sdk_name = Stringify(*name);
      if (version != nullptr && version->IsString()) {
        ev.sdk_version = Stringify(*version);
      }
      TruncateUtf8(&ev.sdk_name, kMaxSdkField);
      TruncateUtf8(&ev.sdk_version, kMaxSdkField);
    }
  }

  if (!errors.ok()) {
    *error = "event field " + errors.first();
    return false;
  }
  *out = std::move(ev);
  if (report_out != nullptr) *report_out = report;
  return true;
}

}  // namespace ingest
}  // namespace crashctl
