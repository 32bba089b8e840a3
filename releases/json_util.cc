#include "json_util.h"

#include <rapidjson/error/en.h>

#include <cmath>
#include <string>

#include "crashctl/util/strings.h"
#include "crashctl/util/time.h"

namespace crashctl::releases::internal {
namespace {

// 9999-12-31T23:59:59Z
constexpr double kMaxEpoch = 253402300799.0;

}  // namespace

Status ParseObject(std::string_view json, size_t max_bytes, const char* what,
                   rapidjson::Document* doc) {
  if (json.size() > max_bytes) {
    return Status::TooLarge(
        std::string(what) + " is " + std::to_string(json.size()) +
        " bytes, more than the limit of " + std::to_string(max_bytes));
  }
  doc->Parse<rapidjson::kParseIterativeFlag |
             rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (doc->HasParseError()) {
    return Status::Invalid(std::string(what) + " is not valid JSON: " +
                           rapidjson::GetParseError_En(doc->GetParseError()) +
                           " at byte " + std::to_string(doc->GetErrorOffset()));
  }
  if (!doc->IsObject()) {
    return Status::Invalid(std::string(what) + " is not a JSON object");
  }
  return Status::Ok();
}

const rapidjson::Value* Member(const rapidjson::Value& obj, const char* name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

Status GetString(const rapidjson::Value* v, std::string_view path,
                 size_t max_bytes, std::string* out) {
  if (v == nullptr) return Status::Ok();
  if (!v->IsString()) {
    return Status::Invalid("field " + std::string(path) +
                           ": expected a string");
  }
  *out = Cut(std::string_view(v->GetString(), v->GetStringLength()), max_bytes);
  return Status::Ok();
}

Status GetUint(const rapidjson::Value* v, std::string_view path, uint64_t max,
               uint64_t* out) {
  if (v == nullptr) return Status::Ok();
  uint64_t value = 0;
  if (v->IsUint64()) {
    value = v->GetUint64();
  } else if (v->IsDouble()) {
    const double d = v->GetDouble();
    // 2^64 is exactly representable; anything at or above it is too large.
    if (!std::isfinite(d) || d < 0 || d != std::floor(d) ||
        d >= 18446744073709551616.0) {
      return Status::Invalid("field " + std::string(path) +
                             ": expected a non-negative integer");
    }
    value = static_cast<uint64_t>(d);
  } else {
    return Status::Invalid("field " + std::string(path) +
                           ": expected a non-negative integer");
  }
  if (value > max) {
    return Status::Invalid("field " + std::string(path) + ": " +
                           std::to_string(value) + " is larger than " +
                           std::to_string(max));
  }
  *out = value;
  return Status::Ok();
}

Status GetNumber(const rapidjson::Value* v, std::string_view path,
                 double* out) {
  if (v == nullptr) return Status::Ok();
  if (!v->IsNumber() || !std::isfinite(v->GetDouble())) {
    return Status::Invalid("field " + std::string(path) +
                           ": expected a number");
  }
  *out = v->GetDouble();
  return Status::Ok();
}

bool ParseTimeValue(const rapidjson::Value& v, double* out) {
  double t = 0;
  if (v.IsString()) {
    std::string_view text(v.GetString(), v.GetStringLength());
    if (text.size() > 64 || !util::ParseRfc3339Lenient(text, &t)) return false;
  } else if (v.IsNumber()) {
    t = v.GetDouble();
  } else {
    return false;
  }
  if (!std::isfinite(t) || t < 0 || t > kMaxEpoch) return false;
  *out = t;
  return true;
}

bool ParseUuid(std::string_view text, std::string* hex32) {
  if (util::StartsWith(text, "urn:uuid:")) {
    text.remove_prefix(9);
  } else if (text.size() == 38 && text.front() == '{' && text.back() == '}') {
    text = text.substr(1, 36);
  }
  std::string hex;
  if (text.size() == 32) {
    hex.assign(text);
  } else if (text.size() == 36) {
    for (size_t i = 0; i < text.size(); ++i) {
      const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash_position != (text[i] == '-')) return false;
      if (!dash_position) hex.push_back(text[i]);
    }
  } else {
    return false;
  }
  for (char& c : hex) {
    if (!util::IsHexDigit(c)) return false;
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  *hex32 = std::move(hex);
  return true;
}

bool IsValidApiAttribute(std::string_view value) {
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') return false;
  }
  return true;
}

std::string ReleaseProblem(std::string_view release) {
  if (release.empty()) return "is empty";
  if (release.size() > 200) {
    return "is " + std::to_string(release.size()) + " bytes, more than 200";
  }
  if (release == "." || release == ".." ||
      util::EqualsIgnoreCase(release, "latest")) {
    return "\"" + std::string(release) + "\" is a reserved name";
  }
  if (!IsValidApiAttribute(release)) {
    return "contains '/', '\\\\' or a control character";
  }
  return "";
}

std::string EnvironmentProblem(std::string_view environment) {
  if (environment.size() > 64) {
    return "is " + std::to_string(environment.size()) + " bytes, more than 64";
  }
  if (environment == "." || environment == ".." ||
      util::EqualsIgnoreCase(environment, "none")) {
    return "\"" + std::string(environment) + "\" is a reserved name";
  }
  if (!IsValidApiAttribute(environment)) {
    return "contains '/', '\\\\' or a control character";
  }
  return "";
}

std::string Cut(std::string_view s, size_t max) {
  std::string out(s.substr(0, std::min(s.size(), max + 4)));
  util::TruncateUtf8(&out, max);
  return out;
}

std::string Quote(std::string_view s) {
  std::string out = Cut(s, 64);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return "\"" + out + (s.size() > 64 ? "...\"" : "\"");
}

}  // namespace crashctl::releases::internal
