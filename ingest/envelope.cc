#include "envelope.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <string>

namespace crashctl {
namespace ingest {
namespace {

// A header line ends at the next '\n' or at the end of input.
struct Line {
  std::string_view text;
  size_t next;       // offset just past the line (and its '\n', if any)
  bool had_newline;  // false when the line ran to the end of input
};

Line ReadLine(std::string_view body, size_t pos) {
  size_t nl = body.find('\n', pos);
  if (nl == std::string_view::npos) {
    return Line{body.substr(pos), body.size(), false};
  }
  return Line{body.substr(pos, nl - pos), nl + 1, true};
}

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// Parses `line` as a JSON object into `doc`. On failure sets `*error` to a
// message naming `what`.
bool ParseObjectLine(std::string_view line, const std::string& what,
                     rapidjson::Document* doc, std::string* error) {
  doc->Parse<rapidjson::kParseIterativeFlag |
             rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
  if (doc->HasParseError()) {
    *error = what + " is not valid JSON: " +
             rapidjson::GetParseError_En(doc->GetParseError()) + " (at byte " +
             std::to_string(doc->GetErrorOffset()) + ")";
    return false;
  }
  if (!doc->IsObject()) {
    *error = what + " is not a JSON object";
    return false;
  }
  return true;
}

std::string StringMember(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace

bool ParseEnvelope(std::string_view body, Envelope* out, std::string* error,
                   size_t max_items) {
  *out = Envelope();
  if (body.empty()) {
    *error = "envelope is empty";
    return false;
  }

  Line header = ReadLine(body, 0);
  rapidjson::Document doc;
  if (!ParseObjectLine(header.text, "envelope header", &doc, error)) {
    return false;
  }
  out->header_json = std::string(header.text);
  out->event_id = StringMember(doc, "event_id");
  out->dsn = StringMember(doc, "dsn");
  out->sent_at = StringMember(doc, "sent_at");

  size_t pos = header.next;
  // Each iteration consumes at least one byte (a blank line or an item
  // header line), so the loop is bounded by the size of `body`.
  while (pos < body.size()) {
    Line item_header = ReadLine(body, pos);
    if (IsBlank(item_header.text)) {
      // Blank lines between items and at the end are tolerated.
      pos = item_header.next;
      continue;
    }
    const size_t index = out->items.size();
    const std::string what = "item " + std::to_string(index) +
                             " header (at byte " + std::to_string(pos) + ")";
    if (index >= max_items) {
      *error = "envelope has more than " + std::to_string(max_items) + " items";
      return false;
    }
    if (!ParseObjectLine(item_header.text, what, &doc, error)) return false;

    EnvelopeItem item;
    item.header_json = std::string(item_header.text);
    auto type = doc.FindMember("type");
    if (type == doc.MemberEnd() || !type->value.IsString() ||
        type->value.GetStringLength() == 0) {
      *error = what + " has no string `type`";
      return false;
    }
    item.type.assign(type->value.GetString(), type->value.GetStringLength());

    size_t payload_start = item_header.next;
    auto length = doc.FindMember("length");
    if (length != doc.MemberEnd() && !length->value.IsNull()) {
      if (!length->value.IsUint64()) {
        *error = what + " has a `length` that is not a non-negative integer";
        return false;
      }
      const uint64_t len = length->value.GetUint64();
      if (len > 0 && !item_header.had_newline) {
        *error = what + " is truncated: `length` " + std::to_string(len) +
                 " but the envelope ends after the item header";
        return false;
      }
      const size_t available = body.size() - payload_start;
      if (len > available) {
        *error = what + " is truncated: `length` " + std::to_string(len) +
                 " but only " + std::to_string(available) + " bytes follow";
        return false;
      }
      const size_t end = payload_start + static_cast<size_t>(len);
      item.payload.assign(body.data() + payload_start,
                          static_cast<size_t>(len));
      if (end == body.size()) {
        pos = end;
      } else if (body[end] == '\n') {
        pos = end + 1;
      } else {
        *error = what + ": expected a newline after its " +
                 std::to_string(len) + "-byte payload, found another byte";
        return false;
      }
    } else if (!item_header.had_newline) {
      // Header at the very end without a payload line: an empty payload.
      pos = body.size();
    } else {
      Line payload = ReadLine(body, payload_start);
      item.payload = std::string(payload.text);
      pos = payload.next;
    }
    out->items.push_back(std::move(item));
  }
  return true;
}

}  // namespace ingest
}  // namespace crashctl
