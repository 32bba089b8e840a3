#include "crashctl/tracing/trace_context.h"

#include <random>

namespace crashctl {
namespace tracing {
namespace {

bool Fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

bool IsLowerHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// Exactly `length` lower-case hex digits, not all zeros.
bool IsId(std::string_view s, size_t length) {
  if (s.size() != length) return false;
  bool nonzero = false;
  for (char c : s) {
    if (!IsLowerHexDigit(c)) return false;
    if (c != '0') nonzero = true;
  }
  return nonzero;
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// A short, printable rendering of untrusted text for error messages.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 48;
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  if (s.size() > kMax) out += "...";
  out += "\"";
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string RandomId(size_t hex_digits) {
  thread_local std::mt19937_64 engine([] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }());
  static const char kHex[] = "0123456789abcdef";
  std::string out(hex_digits, '0');
  for (;;) {
    uint64_t bits = 0;
    bool nonzero = false;
    for (size_t i = 0; i < hex_digits; ++i) {
      if (i % 16 == 0) bits = engine();
      const int digit = static_cast<int>(bits & 0xF);
      bits >>= 4;
      out[i] = kHex[digit];
      if (digit != 0) nonzero = true;
    }
    if (nonzero) return out;
  }
}

// RFC 7230 tchar.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9')) {
    return true;
  }
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// W3C baggage-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E.
bool IsBaggageOctet(char ch) {
  const unsigned char c = static_cast<unsigned char>(ch);
  return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
         (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

// Baggage-octets whose '%' each start a valid escape.
bool IsBaggageValue(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (!IsBaggageOctet(s[i])) return false;
    if (s[i] == '%') {
      if (s.size() - i < 3) return false;
      if (HexValue(s[i + 1]) < 0 || HexValue(s[i + 2]) < 0) return false;
      i += 2;
    }
  }
  return true;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
        (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// One baggage list-member split into key, value (raw) and properties.
struct Member {
  std::string_view key;
  std::string_view value;
};

bool ParseMember(std::string_view text, size_t index, Member* out,
                 std::string* error) {
  const std::string where = "baggage member " + std::to_string(index) + " ";
  // The value ends at the first ';' (properties follow).
  const size_t semicolon = text.find(';');
  std::string_view head = text.substr(0, semicolon);
  const size_t eq = head.find('=');
  if (eq == std::string_view::npos) {
    return Fail(error, where + Quote(text) + " has no '='");
  }
  const std::string_view key = TrimBlanks(head.substr(0, eq));
  const std::string_view value = TrimBlanks(head.substr(eq + 1));
  if (!IsToken(key)) {
    return Fail(error, where + Quote(text) + ": the key is not a token");
  }
  if (!IsBaggageValue(value)) {
    return Fail(error, where + Quote(text) +
                           ": the value has a character baggage does not "
                           "allow or a bad %-escape");
  }
  if (semicolon != std::string_view::npos) {
    std::string_view rest = text.substr(semicolon + 1);
    for (;;) {
      const size_t next = rest.find(';');
      const std::string_view property = TrimBlanks(rest.substr(0, next));
      const size_t peq = property.find('=');
      const std::string_view pkey = TrimBlanks(property.substr(0, peq));
      if (!IsToken(pkey) ||
          (peq != std::string_view::npos &&
           !IsBaggageValue(TrimBlanks(property.substr(peq + 1))))) {
        return Fail(error, where + Quote(text) + ": a bad property");
      }
      if (next == std::string_view::npos) break;
      rest = rest.substr(next + 1);
    }
  }
  out->key = key;
  out->value = value;
  return true;
}

bool IsKnownSentryName(std::string_view name) {
  return name == "trace_id" || name == "public_key" || name == "sample_rate" ||
         name == "release" || name == "environment" || name == "transaction" ||
         name == "sampled";
}

std::optional<std::string>* SentryField(Baggage* b, std::string_view name) {
  if (name == "trace_id") return &b->trace_id;
  if (name == "public_key") return &b->public_key;
  if (name == "sample_rate") return &b->sample_rate;
  if (name == "release") return &b->release;
  if (name == "environment") return &b->environment;
  if (name == "transaction") return &b->transaction;
  if (name == "sampled") return &b->sampled;
  return nullptr;
}

}  // namespace

bool IsTraceId(std::string_view s) { return IsId(s, 32); }
bool IsSpanId(std::string_view s) { return IsId(s, 16); }

std::string NewTraceId() { return RandomId(32); }
std::string NewSpanId() { return RandomId(16); }

// --- sentry-trace ---------------------------------------------------------

bool ParseSentryTrace(std::string_view header, SentryTrace* out,
                      std::string* error) {
  const std::string_view s = TrimBlanks(header);
  if (s.size() > 64) {
    return Fail(error, "sentry-trace: longer than \"traceid-spanid-1\"");
  }
  if (s.size() < 49 || s[32] != '-') {
    return Fail(error, "sentry-trace " + Quote(s) +
                           ": expected \"<32 hex trace id>-<16 hex span "
                           "id>[-0|1]\"");
  }
  const std::string_view trace_id = s.substr(0, 32);
  const std::string_view span_id = s.substr(33, 16);
  if (!IsTraceId(trace_id)) {
    return Fail(error, "sentry-trace " + Quote(s) +
                           ": the trace id is not 32 lower-case hex digits "
                           "(or is all zeros)");
  }
  if (!IsSpanId(span_id)) {
    return Fail(error, "sentry-trace " + Quote(s) +
                           ": the span id is not 16 lower-case hex digits "
                           "(or is all zeros)");
  }
  std::optional<bool> sampled;
  if (s.size() != 49) {
    if (s.size() != 51 || s[49] != '-' || (s[50] != '0' && s[50] != '1')) {
      return Fail(error, "sentry-trace " + Quote(s) +
                             ": after the span id only \"-0\" or \"-1\" may "
                             "follow");
    }
    sampled = s[50] == '1';
  }
  out->trace_id.assign(trace_id);
  out->span_id.assign(span_id);
  out->sampled = sampled;
  return true;
}

std::string FormatSentryTrace(const SentryTrace& value) {
  if (!IsTraceId(value.trace_id) || !IsSpanId(value.span_id)) return "";
  std::string out = value.trace_id + "-" + value.span_id;
  if (value.sampled.has_value()) out += *value.sampled ? "-1" : "-0";
  return out;
}

// --- traceparent ----------------------------------------------------------

bool ParseTraceparent(std::string_view header, TraceParent* out,
                      std::string* error) {
  const std::string_view s = TrimBlanks(header);
  if (s.size() > 512) return Fail(error, "traceparent: longer than 512 bytes");
  if (s.size() < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-') {
    return Fail(error, "traceparent " + Quote(s) +
                           ": expected \"<2 hex version>-<32 hex trace "
                           "id>-<16 hex parent id>-<2 hex flags>\"");
  }
  const int v1 = IsLowerHexDigit(s[0]) ? HexValue(s[0]) : -1;
  const int v2 = IsLowerHexDigit(s[1]) ? HexValue(s[1]) : -1;
  if (v1 < 0 || v2 < 0) {
    return Fail(error, "traceparent " + Quote(s) +
                           ": the version is not 2 lower-case hex digits");
  }
  const int version = v1 * 16 + v2;
  if (version == 0xff) {
    return Fail(error, "traceparent " + Quote(s) + ": version ff is invalid");
  }
  if (version == 0 && s.size() != 55) {
    return Fail(error, "traceparent " + Quote(s) +
                           ": version 00 has exactly four fields");
  }
  if (version > 0 && s.size() > 55 && s[55] != '-') {
    return Fail(error, "traceparent " + Quote(s) +
                           ": fields after the flags must follow a '-'");
  }
  const std::string_view trace_id = s.substr(3, 32);
  const std::string_view parent_id = s.substr(36, 16);
  if (!IsTraceId(trace_id)) {
    return Fail(error, "traceparent " + Quote(s) +
                           ": the trace id is not 32 lower-case hex digits "
                           "(or is all zeros)");
  }
  if (!IsSpanId(parent_id)) {
    return Fail(error, "traceparent " + Quote(s) +
                           ": the parent id is not 16 lower-case hex digits "
                           "(or is all zeros)");
  }
  const int f1 = IsLowerHexDigit(s[53]) ? HexValue(s[53]) : -1;
  const int f2 = IsLowerHexDigit(s[54]) ? HexValue(s[54]) : -1;
  if (f1 < 0 || f2 < 0) {
    return Fail(error, "traceparent " + Quote(s) +
                           ": the flags are not 2 lower-case hex digits");
  }
  out->version = static_cast<uint8_t>(version);
  out->trace_id.assign(trace_id);
  out->parent_id.assign(parent_id);
  out->flags = static_cast<uint8_t>(f1 * 16 + f2);
  return true;
}

std::string FormatTraceparent(const TraceParent& value) {
  if (!IsTraceId(value.trace_id) || !IsSpanId(value.parent_id)) return "";
  static const char kHex[] = "0123456789abcdef";
  std::string out = "00-" + value.trace_id + "-" + value.parent_id + "-";
  out.push_back(kHex[value.flags >> 4]);
  out.push_back(kHex[value.flags & 0xF]);
  return out;
}

SentryTrace ToSentryTrace(const TraceParent& value) {
  SentryTrace out;
  out.trace_id = value.trace_id;
  out.span_id = value.parent_id;
  out.sampled = value.sampled();
  return out;
}

TraceParent ToTraceparent(const SentryTrace& value) {
  TraceParent out;
  out.trace_id = value.trace_id;
  out.parent_id = value.span_id;
  out.flags = value.sampled.value_or(false) ? 1 : 0;
  return out;
}

// --- baggage --------------------------------------------------------------

bool Baggage::has_sentry_entries() const {
  return trace_id || public_key || sample_rate || release || environment ||
         transaction || sampled || !other_sentry.empty();
}

std::string PercentEncode(std::string_view value) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '!' || c == '~' || c == '*' || c == '\'' || c == '(' || c == ')') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

bool PercentDecode(std::string_view value, std::string* out) {
  std::string decoded;
  decoded.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      decoded.push_back(value[i]);
      continue;
    }
    if (value.size() - i < 3) return false;
    const int hi = HexValue(value[i + 1]);
    const int lo = HexValue(value[i + 2]);
    if (hi < 0 || lo < 0) return false;
    decoded.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  *out = std::move(decoded);
  return true;
}

bool ParseBaggage(std::string_view header, Baggage* out, std::string* error) {
  if (header.size() > kMaxBaggageBytes) {
    return Fail(error, "baggage: " + std::to_string(header.size()) +
                           " bytes, more than " +
                           std::to_string(kMaxBaggageBytes));
  }
  Baggage result;
  const std::string_view all = TrimBlanks(header);
  if (all.empty()) {
    *out = std::move(result);
    return true;
  }
  size_t start = 0;
  size_t index = 0;
  while (start <= all.size()) {
    size_t comma = all.find(',', start);
    if (comma == std::string_view::npos) comma = all.size();
    const std::string_view text = TrimBlanks(all.substr(start, comma - start));
    if (index >= kMaxBaggageMembers) {
      return Fail(error, "baggage: more than " +
                             std::to_string(kMaxBaggageMembers) + " members");
    }
    if (text.empty()) {
      return Fail(error,
                  "baggage member " + std::to_string(index) + " is empty");
    }
    Member member;
    if (!ParseMember(text, index, &member, error)) return false;
    constexpr std::string_view kPrefix = "sentry-";
    if (member.key.size() > kPrefix.size() &&
        member.key.substr(0, kPrefix.size()) == kPrefix) {
      const std::string_view name = member.key.substr(kPrefix.size());
      std::string decoded;
      if (!PercentDecode(member.value, &decoded) || !IsValidUtf8(decoded)) {
        return Fail(error, "baggage member " + std::to_string(index) + " " +
                               Quote(text) +
                               ": the value is not %-encoded UTF-8");
      }
      if (std::optional<std::string>* field = SentryField(&result, name)) {
        if (!field->has_value()) *field = std::move(decoded);
      } else {
        bool seen = false;
        for (const auto& entry : result.other_sentry) {
          if (entry.first == name) seen = true;
        }
        if (!seen) result.other_sentry.emplace_back(name, std::move(decoded));
      }
    } else {
      result.third_party.emplace_back(text);
    }
    ++index;
    start = comma + 1;
  }
  *out = std::move(result);
  return true;
}

std::string FormatBaggage(const Baggage& value, size_t* dropped) {
  size_t dropped_count = 0;
  std::string out;
  auto append = [&out](std::string_view member) {
    if (!out.empty()) out.push_back(',');
    out.append(member.data(), member.size());
  };
  const std::pair<const char*, const std::optional<std::string>*> fields[] = {
      {"trace_id", &value.trace_id},       {"public_key", &value.public_key},
      {"sample_rate", &value.sample_rate}, {"release", &value.release},
      {"environment", &value.environment}, {"transaction", &value.transaction},
      {"sampled", &value.sampled}};
  size_t members = 0;
  for (const auto& field : fields) {
    if (!field.second->has_value()) continue;
    append(std::string("sentry-") + field.first + "=" +
           PercentEncode(**field.second));
    ++members;
  }
  for (const auto& entry : value.other_sentry) {
    if (!IsToken(entry.first) || IsKnownSentryName(entry.first)) {
      ++dropped_count;
      continue;
    }
    append("sentry-" + entry.first + "=" + PercentEncode(entry.second));
    ++members;
  }
  for (const std::string& member : value.third_party) {
    const size_t size = out.size() + (out.empty() ? 0 : 1) + member.size();
    if (size > kMaxBaggageBytes || members >= kMaxBaggageMembers ||
        member.empty()) {
      ++dropped_count;
      continue;
    }
    append(member);
    ++members;
  }
  if (dropped != nullptr) *dropped = dropped_count;
  return out;
}

std::string_view SpanStatusForHttp(int code) {
  if (code >= 100 && code < 400) return "ok";
  switch (code) {
    case 401:
      return "unauthenticated";
    case 403:
      return "permission_denied";
    case 404:
      return "not_found";
    case 409:
      return "already_exists";
    case 413:
      return "failed_precondition";
    case 429:
      return "resource_exhausted";
    case 501:
      return "unimplemented";
    case 503:
      return "unavailable";
    case 504:
      return "deadline_exceeded";
    default:
      break;
  }
  if (code >= 400 && code < 500) return "invalid_argument";
  if (code >= 500 && code < 600) return "internal_error";
  return "unknown";
}

}  // namespace tracing
}  // namespace crashctl
