// ComputeGrouping: the grouping rules, title and culprit.

#include "crashctl/grouping/grouping.h"

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace crashctl {
namespace grouping {
namespace {

constexpr size_t kMaxTitleChars = 200;

// The first non-blank line of `text`, trimmed, at most `max_chars` UTF-8
// characters long.
std::string FirstLine(const std::string& text, size_t max_chars) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    size_t b = text.find_first_not_of(" \t\r\f\v", pos);
    if (b != std::string::npos && b < eol) {
      size_t e = eol;
      while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t' ||
                       text[e - 1] == '\r')) {
        --e;
      }
      // Count characters, not bytes: continuation bytes are 10xxxxxx.
      size_t chars = 0;
      size_t k = b;
      for (; k < e; ++k) {
        if ((static_cast<unsigned char>(text[k]) & 0xC0) != 0x80) {
          if (chars == max_chars) break;
          ++chars;
        }
      }
      return text.substr(b, k - b);
    }
    pos = eol + 1;
  }
  return std::string();
}

// The first 16 bytes of SHA-256(data), as hex. EVP_Digest fails only when
// OpenSSL cannot allocate or load its default provider; ComputeGrouping
// stays total then with two FNV-1a 64-bit hashes (different seeds) in place
// of the digest, so the same input still gets the same key.
std::string Sha256Prefix(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) !=
          1 ||
      len < 16) {
    for (int half = 0; half < 2; ++half) {
      uint64_t h = half == 0 ? 0xcbf29ce484222325ull : 0x84222325cbf29ce4ull;
      for (unsigned char c : data) h = (h ^ c) * 0x100000001b3ull;
      for (int i = 0; i < 8; ++i) md[half * 8 + i] = (h >> (8 * i)) & 0xFF;
    }
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (int i = 0; i < 16; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0x0F];
  }
  return out;
}

std::string Hash(const std::vector<std::string>& components) {
  std::string joined;
  for (size_t i = 0; i < components.size(); ++i) {
    if (i > 0) joined += '\n';
    joined += components[i];
  }
  return Sha256Prefix(joined);
}

// A frame reduced to what grouping and the culprit use.
struct FrameKey {
  std::string where;     // module, else normalised filename
  std::string function;  // normalised function
  bool empty() const { return where.empty() && function.empty(); }
};

FrameKey KeyOf(const model::Frame& frame, const model::Event& event) {
  FrameKey key;
  if (!frame.module.empty()) {
    key.where = frame.module;
  } else {
    key.where = NormalizeFilename(frame.filename.empty() ? frame.abs_path
                                                         : frame.filename);
  }
  const std::string& platform =
      frame.platform.empty() ? event.platform : frame.platform;
  const std::string& function =
      frame.function.empty() ? frame.raw_function : frame.function;
  key.function =
      NormalizeFrameFunction(function, LanguageForPlatform(platform));
  return key;
}

bool IsInApp(const model::Frame& frame) { return frame.in_app.value_or(false); }

// Rule 2: exception types and frames. Returns false when no frame
// contributes.
bool StacktraceComponents(const model::Event& event,
                          std::vector<std::string>* out) {
  bool any_in_app = false;
  for (const model::ExceptionValue& e : event.exceptions) {
    for (const model::Frame& f : e.frames)
      any_in_app = any_in_app || IsInApp(f);
  }
  bool any_frame = false;
  std::vector<std::string> components;
  for (const model::ExceptionValue& e : event.exceptions) {
    std::vector<std::string> frames;
    for (const model::Frame& f : e.frames) {
      if (any_in_app && !IsInApp(f)) continue;
      FrameKey key = KeyOf(f, event);
      if (key.empty()) continue;
      std::string component = "frame:" + key.where + ":" + key.function;
      // Direct recursion contributes once, whatever its depth.
      if (!frames.empty() && frames.back() == component) continue;
      frames.push_back(std::move(component));
    }
    any_frame = any_frame || !frames.empty();
    if (!e.type.empty()) components.push_back("exception:" + e.type);
    for (std::string& f : frames) components.push_back(std::move(f));
  }
  if (!any_frame) return false;
  *out = std::move(components);
  return true;
}

// Rule 3: exception types and normalised values.
bool ExceptionComponents(const model::Event& event,
                         std::vector<std::string>* out) {
  std::vector<std::string> components;
  for (const model::ExceptionValue& e : event.exceptions) {
    if (!e.type.empty()) components.push_back("exception:" + e.type);
    if (!e.value.empty()) {
      components.push_back("value:" + NormalizeMessage(e.value));
    }
  }
  if (components.empty()) return false;
  *out = std::move(components);
  return true;
}

// Rules 2-4.
void DefaultGrouping(const model::Event& event, model::GroupingResult* result) {
  if (StacktraceComponents(event, &result->components)) {
    result->method = "stacktrace";
  } else if (ExceptionComponents(event, &result->components)) {
    result->method = "exception";
  } else {
    result->components = {"message:" + NormalizeMessage(event.message)};
    result->method = "message";
  }
}

// "{{ default }}", "{{default}}", "{{  default }}".
bool IsDefaultVariable(const std::string& entry) {
  size_t b = entry.find_first_not_of(" \t");
  size_t e = entry.find_last_not_of(" \t");
  if (b == std::string::npos || e - b + 1 < 4) return false;
  if (entry.compare(b, 2, "{{") != 0 || entry.compare(e - 1, 2, "}}") != 0) {
    return false;
  }
  std::string inner = entry.substr(b + 2, e - b - 3);
  size_t ib = inner.find_first_not_of(" \t");
  size_t ie = inner.find_last_not_of(" \t");
  return ib != std::string::npos && inner.substr(ib, ie - ib + 1) == "default";
}

std::string ComputeTitle(const model::Event& event) {
  if (!event.exceptions.empty()) {
    const model::ExceptionValue& last = event.exceptions.back();
    std::string value = FirstLine(last.value, kMaxTitleChars);
    if (!last.type.empty() && !value.empty()) return last.type + ": " + value;
    if (!last.type.empty()) return last.type;
    if (!value.empty()) return value;
  }
  std::string message = FirstLine(event.message, kMaxTitleChars);
  return message.empty() ? "<unlabeled event>" : message;
}

std::string ComputeCulprit(const model::Event& event) {
  for (size_t i = event.exceptions.size(); i-- > 0;) {
    const std::vector<model::Frame>& frames = event.exceptions[i].frames;
    FrameKey innermost;
    FrameKey innermost_in_app;
    // From the innermost frame outwards, computing keys only where they can
    // still matter: the first non-empty key, then in-app frames only.
    for (size_t j = frames.size(); j-- > 0;) {
      const model::Frame& f = frames[j];
      const bool in_app = IsInApp(f);
      if (!innermost.empty() && !in_app) continue;
      FrameKey key = KeyOf(f, event);
      if (key.empty()) continue;
      if (in_app) {
        innermost_in_app = std::move(key);
        break;
      }
      innermost = std::move(key);
    }
    const FrameKey& top =
        innermost_in_app.empty() ? innermost : innermost_in_app;
    if (top.empty()) continue;
    if (top.where.empty()) return top.function;
    if (top.function.empty()) return top.where;
    return top.where + " in " + top.function;
  }
  if (!event.transaction.empty()) return event.transaction;
  return event.logger;
}

// "function (file:line)", from the frame's own fields.
std::string FormatFrame(const model::Frame& frame) {
  std::string function =
      !frame.function.empty() ? frame.function : frame.raw_function;
  if (function.empty()) function = "?";
  std::string where = !frame.filename.empty()   ? frame.filename
                      : !frame.abs_path.empty() ? frame.abs_path
                      : !frame.module.empty()   ? frame.module
                                                : frame.package;
  if (where.empty()) return function;
  if (frame.lineno > 0) where += ":" + std::to_string(frame.lineno);
  return function + " (" + where + ")";
}

std::string ComputeTopFrame(const model::Event& event) {
  for (auto it = event.exceptions.rbegin(); it != event.exceptions.rend();
       ++it) {
    const std::vector<model::Frame>& frames = it->frames;
    if (frames.empty()) continue;
    for (auto f = frames.rbegin(); f != frames.rend(); ++f) {
      if (f->in_app.value_or(false)) return FormatFrame(*f);
    }
    return FormatFrame(frames.back());
  }
  return "";
}

}  // namespace

model::GroupingResult ComputeGrouping(const model::Event& event) {
  model::GroupingResult result;
  if (!event.fingerprint.empty()) {
    model::GroupingResult fallback;
    DefaultGrouping(event, &fallback);
    if (event.fingerprint.size() == 1 &&
        IsDefaultVariable(event.fingerprint[0])) {
      result = std::move(fallback);
    } else {
      for (const std::string& entry : event.fingerprint) {
        if (IsDefaultVariable(entry)) {
          result.components.insert(result.components.end(),
                                   fallback.components.begin(),
                                   fallback.components.end());
        } else {
          result.components.push_back("fingerprint:" + entry);
        }
      }
      result.method = "fingerprint";
    }
  } else {
    DefaultGrouping(event, &result);
  }
  result.fingerprint = Hash(result.components);
  result.title = ComputeTitle(event);
  result.culprit = ComputeCulprit(event);
  result.top_frame = ComputeTopFrame(event);
  return result;
}

}  // namespace grouping
}  // namespace crashctl
