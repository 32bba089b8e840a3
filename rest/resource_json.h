// JSON views of stored resources (projects, groups, events, crashes) for the
// REST API, written with a rapidjson Writer. Every string is made valid UTF-8
// first (invalid sequences become U+FFFD), so stored bytes can never produce
// invalid JSON. Timestamps are RFC 3339 UTC strings with milliseconds.
//
// Thread-safety: free functions without shared state; a JsonWriter must not
// be shared between threads.
#ifndef CRASHCTL_REST_RESOURCE_JSON_H_
#define CRASHCTL_REST_RESOURCE_JSON_H_

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>
#include <vector>

#include "crashctl/store/store.h"

namespace crashctl {
namespace rest {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Returns `s` with every invalid UTF-8 sequence (bad lead or continuation
// bytes, overlong forms, surrogates, code points above U+10FFFF, truncated
// sequences) replaced by U+FFFD; valid input is returned unchanged.
std::string SanitizeUtf8(const std::string& s);

// Writes `s` as a JSON string after SanitizeUtf8.
void WriteJsonString(JsonWriter* w, const std::string& s);
// Writes `"key": value` with WriteJsonString.
void WriteField(JsonWriter* w, const char* key, const std::string& value);
// Writes `"key": value`, or `"key": null` when `value` is "" (absent).
void WriteOptionalField(JsonWriter* w, const char* key,
                        const std::string& value);
// Writes an RFC 3339 string, or null when `epoch_seconds` is 0 (unknown):
// for times that may be absent (a crash's started_at).
void WriteTimestamp(JsonWriter* w, double epoch_seconds);
// Writes an RFC 3339 string; epoch 0 is 1970-01-01T00:00:00.000Z (event and
// group times are never absent).
void WriteTime(JsonWriter* w, double epoch_seconds);

// Bounds on an embedded payload as served: JSON readers (Python's json, jq)
// fail on very deep nesting, and a reply should not grow without bound.
struct EmbedLimits {
  int max_depth = 64;              // deeper containers: "[depth limit]"
  size_t max_bytes = 1024 * 1024;  // then every further value: "[size limit]"
};
// What WriteEmbeddedJson replaced.
struct EmbedCuts {
  uint64_t depth = 0;
  uint64_t size = 0;
};

// Writes `json_text` (e.g. an event's original payload) as a JSON value,
// within `limits` (counted in `*cuts`, which may be null). Returns false,
// writing nothing, when it is not valid JSON after SanitizeUtf8. Numbers are
// copied verbatim (no precision loss); nesting is handled iteratively (no
// recursion).
bool WriteEmbeddedJson(JsonWriter* w, const std::string& json_text,
                       const EmbedLimits& limits = EmbedLimits(),
                       EmbedCuts* cuts = nullptr);

// Splits stored crash logs into lines ("\n" or "\r\n"); a trailing newline
// does not produce an empty last line; "" gives no lines.
std::vector<std::string> SplitLogLines(const std::string& logs);

// URLs in `links` objects are `base_url` + path; base_url has no trailing
// '/' ("" gives root-relative URLs).
void WriteProject(JsonWriter* w, const model::Project& project,
                  const std::string& dsn, const std::string& short_dsn);
// `traces`: the trace ids of the group's latest events (Store::
// ListGroupTraces), written as "traces".
// `feedback` (may be null: left out): the group's newest feedback, written
// as "feedback".
void WriteGroup(JsonWriter* w, const model::Group& group,
                const std::string& base_url,
                const std::vector<std::string>& traces = {},
                const std::vector<model::Feedback>* feedback = nullptr);
// What the single-event answer adds (issue 18): the number of attachments
// ("attachments") and the feedback about it ("feedback").
struct EventExtras {
  int64_t attachments = 0;
  std::vector<model::Feedback> feedback;
};
// `with_payload`: adds `payload` (the stored event JSON as an object, or
// null plus `payload_text` when it cannot be parsed), within EmbedLimits;
// when anything was cut, `payload_cut` {depth_limit, size_limit,
// stored_bytes} says so.
// Every event carries "sdk": {name, version} (null when unknown); `extras`
// (may be null: left out) adds "attachments" and "feedback".
void WriteEvent(JsonWriter* w, const model::StoredEvent& event,
                const std::string& base_url, bool with_payload,
                const EventExtras* extras = nullptr);
// Feedback JSON (docs/rest-api.md): {id, kind, event_id, group_id, name,
// email, comments, url, timestamp}.
void WriteFeedback(JsonWriter* w, const model::Feedback& feedback);
// One item of GET /api/v1/events/{id}/attachments, with links.download.
void WriteAttachment(JsonWriter* w, const model::Attachment& attachment,
                     const std::string& base_url);
void WriteCrash(JsonWriter* w, const model::Crash& crash,
                const std::string& base_url);
// One item of GET /api/v1/transactions (docs/rest-api.md): times RFC 3339,
// duration in seconds; parent_span_id and method null when absent,
// http_status null when 0.
void WriteTransaction(JsonWriter* w, const model::StoredTransaction& stored);
// A number of seconds; null when not finite.
void WriteSeconds(JsonWriter* w, double seconds);

}  // namespace rest
}  // namespace crashctl

#endif  // CRASHCTL_REST_RESOURCE_JSON_H_
