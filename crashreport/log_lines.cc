#include "log_lines.h"

#include <rapidjson/document.h>

#include <array>

#include "crashctl/crashreport/crash_report_parser.h"
#include "text.h"

namespace crashctl {
namespace crashreport {
namespace {

constexpr size_t kMaxOutputLines = kMaxLines * 2;
constexpr int kMaxJsonDepth = 6;
constexpr size_t kMaxJsonMembers = 512;

// Matches `n` digits at s[*pos]; advances *pos.
bool Digits(std::string_view s, size_t* pos, size_t n) {
  if (*pos + n > s.size()) return false;
  for (size_t k = 0; k < n; ++k) {
    if (!IsDigit(s[*pos + k])) return false;
  }
  *pos += n;
  return true;
}

bool Char(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

// Length of "YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|+hh:mm|+hhmm]" (also with '/'
// date separators) at the start of `s`, or 0. `rfc3339` demands 'T'.
size_t TimestampLength(std::string_view s, bool rfc3339) {
  size_t p = 0;
  if (!Digits(s, &p, 4)) return 0;
  if (p >= s.size() || (s[p] != '-' && s[p] != '/')) return 0;
  const char sep = s[p++];
  if (!Digits(s, &p, 2) || !Char(s, &p, sep) || !Digits(s, &p, 2)) return 0;
  if (p >= s.size() || (s[p] != 'T' && (rfc3339 || s[p] != ' '))) return 0;
  ++p;
  if (!Digits(s, &p, 2) || !Char(s, &p, ':') || !Digits(s, &p, 2) ||
      !Char(s, &p, ':') || !Digits(s, &p, 2)) {
    return 0;
  }
  if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
    size_t q = p + 1;
    while (q < s.size() && q - p <= 9 && IsDigit(s[q])) ++q;
    if (q == p + 1) return 0;
    p = q;
  }
  if (p < s.size() && s[p] == 'Z') {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    size_t q = p + 1;
    if (!Digits(s, &q, 2)) return 0;
    Char(s, &q, ':');
    if (!Digits(s, &q, 2)) return 0;
    p = q;
  }
  return p;
}

// Index of a stream in the partial-line buffers.
size_t StreamIndex(std::string_view stream) {
  if (stream == "stdout") return 0;
  if (stream == "stderr") return 1;
  return 2;
}

// "<RFC 3339> <stream> <tag> <text>"; tag "F" or "P", possibly followed by
// ":..." (the CRI format allows more tags after a ':').
bool ParseCri(std::string_view s, size_t* stream, bool* partial,
              std::string_view* text) {
  size_t p = TimestampLength(s, /*rfc3339=*/true);
  if (p == 0 || !Char(s, &p, ' ')) return false;
  const size_t stream_end = s.find(' ', p);
  if (stream_end == std::string_view::npos) return false;
  const std::string_view name = s.substr(p, stream_end - p);
  if (name != "stdout" && name != "stderr") return false;
  p = stream_end + 1;
  if (p >= s.size() || (s[p] != 'F' && s[p] != 'P')) return false;
  *partial = s[p] == 'P';
  ++p;
  if (p < s.size() && s[p] == ':') {
    while (p < s.size() && s[p] != ' ') ++p;
  }
  if (p < s.size() && s[p] != ' ') return false;
  *stream = StreamIndex(name);
  *text = p < s.size() ? s.substr(p + 1) : std::string_view();
  return true;
}

struct Partial {
  std::string text;
  size_t first = 0;
  size_t last = 0;
  bool active = false;
};

class Normalizer {
 public:
  explicit Normalizer(size_t base) : base_(base) {}
  Normalizer(const Normalizer&) = delete;
  Normalizer& operator=(const Normalizer&) = delete;

  void Add(std::string_view line, size_t k) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxLineBytes) line = line.substr(0, kMaxLineBytes);
    const size_t index = base_ + k;
    size_t stream = 0;
    bool partial = false;
    std::string_view text;
    if (ParseCri(line, &stream, &partial, &text)) {
      Join(stream, partial, text, index);
      return;
    }
    if (ParseDocker(line, index)) return;
    Emit(line, index, index);
  }

  std::vector<LogLine> Finish() {
    for (Partial& p : partials_) {
      if (p.active) Emit(p.text, p.first, p.last);
    }
    return std::move(out_);
  }

 private:
  void Join(size_t stream, bool partial, std::string_view text, size_t index) {
    Partial& p = partials_[stream];
    if (!p.active) {
      p.active = true;
      p.first = index;
      p.text.clear();
    }
    p.last = index;
    const size_t room = kMaxLineBytes - std::min(kMaxLineBytes, p.text.size());
    p.text.append(text.substr(0, std::min(room, text.size())));
    if (partial) return;
    p.active = false;
    Emit(p.text, p.first, index);
  }

  bool ParseDocker(std::string_view line, size_t index) {
    if (line.size() < 2 || line[0] != '{' || !Contains(line, "\"log\"")) {
      return false;
    }
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(line.data(), line.size());
    if (doc.HasParseError() || !doc.IsObject()) return false;
    auto log = doc.FindMember("log");
    auto stream = doc.FindMember("stream");
    if (log == doc.MemberEnd() || !log->value.IsString() ||
        stream == doc.MemberEnd() || !stream->value.IsString() ||
        !doc.HasMember("time")) {
      return false;
    }
    std::string_view text(log->value.GetString(), log->value.GetStringLength());
    const bool partial = text.empty() || text.back() != '\n';
    if (!partial) text.remove_suffix(1);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    Join(StreamIndex(std::string_view(stream->value.GetString(),
                                      stream->value.GetStringLength())),
         partial, text, index);
    return true;
  }

  // One logical line (it may still contain '\n').
  void Emit(std::string_view text, size_t first, size_t last) {
    size_t start = 0;
    while (start <= text.size() && out_.size() < kMaxOutputLines) {
      size_t nl = text.find('\n', start);
      if (nl == std::string_view::npos) nl = text.size();
      std::string_view piece = text.substr(start, nl - start);
      if (!piece.empty() && piece.back() == '\r') piece.remove_suffix(1);
      piece.remove_prefix(TimestampPrefixLength(piece));
      if (!ExpandJson(piece, first, last)) Push(piece, first, last);
      start = nl + 1;
    }
  }

  void Push(std::string_view text, size_t first, size_t last) {
    if (out_.size() >= kMaxOutputLines) return;
    out_.push_back(LogLine{Truncated(text, kMaxTextBytes), first, last});
  }

  struct Field {
    std::string_view key;
    std::string_view value;
    bool multiline;
  };

  void Collect(const rapidjson::Value& v, std::string_view key, int depth,
               std::vector<Field>* fields, size_t* budget) {
    if (*budget == 0 || depth > kMaxJsonDepth) return;
    --*budget;
    if (v.IsString()) {
      std::string_view s(v.GetString(), v.GetStringLength());
      fields->push_back(Field{key, s, Contains(s, "\n")});
    } else if (v.IsObject()) {
      for (auto it = v.MemberBegin(); it != v.MemberEnd() && *budget > 0;
           ++it) {
        Collect(
            it->value,
            std::string_view(it->name.GetString(), it->name.GetStringLength()),
            depth + 1, fields, budget);
      }
    } else if (v.IsArray()) {
      for (auto it = v.Begin(); it != v.End() && *budget > 0; ++it) {
        Collect(*it, key, depth + 1, fields, budget);
      }
    }
  }

  static bool IsMessageKey(std::string_view key) {
    return key == "msg" || key == "message" || key == "error" || key == "err" ||
           key == "exception" || key == "panic";
  }

  // A JSON record with multi-line string fields becomes those fields' lines;
  // false (nothing emitted) for anything else.
  bool ExpandJson(std::string_view text, size_t first, size_t last) {
    const std::string_view t = Trim(text);
    if (t.size() < 2 || t.front() != '{' || t.back() != '}') return false;
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(t.data(), t.size());
    if (doc.HasParseError() || !doc.IsObject()) return false;
    std::vector<Field> fields;
    size_t budget = kMaxJsonMembers;
    Collect(doc, "", 0, &fields, &budget);
    bool any = false;
    for (const Field& f : fields) any = any || f.multiline;
    if (!any) return false;
    for (const Field& f : fields) {
      if (!f.multiline) {
        if (IsMessageKey(f.key)) Push(f.value, first, last);
        continue;
      }
      size_t start = 0;
      while (start <= f.value.size() && out_.size() < kMaxOutputLines) {
        size_t nl = f.value.find('\n', start);
        if (nl == std::string_view::npos) nl = f.value.size();
        std::string_view piece = f.value.substr(start, nl - start);
        if (!piece.empty() && piece.back() == '\r') piece.remove_suffix(1);
        // A trailing '\n' ends the text; it does not start an empty line.
        if (!(nl == f.value.size() && piece.empty() && start > 0)) {
          Push(piece, first, last);
        }
        start = nl + 1;
      }
    }
    return true;
  }

  size_t base_;
  std::array<Partial, 3> partials_;
  std::vector<LogLine> out_;
};

}  // namespace

size_t TimestampPrefixLength(std::string_view s) {
  const size_t n = TimestampLength(s, /*rfc3339=*/false);
  if (n == 0 || n >= s.size() || s[n] != ' ') return 0;
  return n + 1;
}

std::vector<LogLine> NormalizeLogLines(const std::vector<std::string_view>& raw,
                                       size_t base) {
  Normalizer normalizer(base);
  for (size_t k = 0; k < raw.size(); ++k) normalizer.Add(raw[k], k);
  return normalizer.Finish();
}

}  // namespace crashreport
}  // namespace crashctl
