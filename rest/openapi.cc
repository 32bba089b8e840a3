#include "openapi.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "crashctl/model/vocabulary.h"
#include "crashctl/tracing/transaction.h"

namespace crashctl {
namespace rest {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

struct QueryParamSpec {
  const char* name;
  const char* type;  // "integer" | "string" | "number"
  const char* description;
  std::vector<const char*> values;  // enum, empty = any
  bool required = false;
};

// What we know about a route beyond its pattern and summary.
struct OperationSpec {
  const char* method;
  const char* pattern;
  const char* tag;
  bool admin;  // guarded by auth.admin_token
  std::vector<QueryParamSpec> query;
  const char* request_schema;  // component name, or nullptr
  const char* request_media;   // media type of the request body
  int success_status;
  const char* success_schema;  // component name, nullptr = no schema
  const char* success_media;   // media type of the success answer
  std::vector<int> errors;     // statuses answering Error
};

const std::vector<const char*>& Statuses() {
  static const auto* v =
      new std::vector<const char*>(model::Spellings(model::AllGroupStatuses()));
  return *v;
}

// The JSON answer of a GET (no request body, 200 with `schema`).
OperationSpec JsonGet(const char* pattern, const char* tag, bool admin,
                      const char* schema, std::vector<int> errors,
                      std::vector<QueryParamSpec> query = {}) {
  return {"GET",
          pattern,
          tag,
          admin,
          std::move(query),
          nullptr,
          nullptr,
          200,
          schema,
          "application/json",
          std::move(errors)};
}

// A JSON write of the REST API: `request` in, 200/201 with `schema` out.
OperationSpec JsonWrite(const char* method, const char* pattern,
                        const char* tag, const char* request,
                        int success_status, const char* schema,
                        std::vector<int> errors) {
  return {method,
          pattern,
          tag,
          true,
          {},
          request,
          "application/json",
          success_status,
          schema,
          "application/json",
          std::move(errors)};
}

// An ingestion endpoint (public, keyed by `query`): a body of
// `request_media` answered by IngestAccepted.
OperationSpec Ingest(const char* pattern, std::vector<QueryParamSpec> query,
                     const char* request_media) {
  return {"POST",
          pattern,
          "ingest",
          false,
          std::move(query),
          nullptr,
          request_media,
          200,
          "IngestAccepted",
          "application/json",
          {400, 401, 403, 413, 429}};
}

// Relay's cron check-in form: 202 {"id"}; status and the rest in the query
// (or a JSON check-in body).
OperationSpec CronCheckIn(const char* method, const char* pattern) {
  return {method,
          pattern,
          "ingest",
          false,
          {{"status",
            "string",
            "in_progress, ok or error (without a JSON body)",
            {"in_progress", "ok", "error"}},
           {"check_in_id", "string", "The run's id (UUID)", {}},
           {"environment", "string", "Default production", {}},
           {"duration", "number", "Seconds the run took", {}},
           {"sentry_key",
            "string",
            "Project public key (or the path segment, or X-Sentry-Auth)",
            {}}},
          nullptr,
          std::string(method) == "POST" ? "application/json" : nullptr,
          202,
          "IngestAccepted",
          "application/json",
          {400, 401, 403, 404, 413, 503}};
}

// limit and cursor, of every paged list; after `filters`.
std::vector<QueryParamSpec> Paged(std::vector<QueryParamSpec> filters) {
  filters.push_back(
      {"limit", "integer", "Page size, 1..1000 (default 50)", {}});
  filters.push_back(
      {"cursor", "string", "next_cursor of the previous page", {}});
  return filters;
}

// The filters GET /api/v1/groups and GET /api/v1/events share
// (rest/search_routes.cc), after `first`.
std::vector<QueryParamSpec> ListFilters(std::vector<QueryParamSpec> first) {
  std::vector<QueryParamSpec> f = std::move(first);
  f.push_back({"project", "integer", "Only this project id", {}});
  f.push_back({"status", "string",
               "Only groups with this status (of the "
               "event's group for events; empty = any)",
               Statuses()});
  f.push_back({"level", "string",
               "Only this level (a group's latest event's; empty = any)",
               model::Spellings(model::AllLevels())});
  f.push_back({"service", "string", "Only this service", {}});
  f.push_back({"release",
               "string",
               "Only with an event of this release (tag release)",
               {}});
  f.push_back(
      {"environment", "string", "Only with an event of this environment", {}});
  f.push_back({"first_release",
               "string",
               "Only groups whose first event had this release",
               {}});
  f.push_back({"user",
               "string",
               "Only with an event of this user key (id, email, username "
               "or ip)",
               {}});
  f.push_back({"tag",
               "string",
               "key:value, repeatable (all must hold; at most 8; key <= 32 "
               "bytes, value <= 200 bytes)",
               {}});
  f.push_back({"since",
               "string",
               "Seen at or after this time (RFC 3339 or epoch seconds)",
               {}});
  f.push_back({"until",
               "string",
               "Seen before this time (RFC 3339 or epoch seconds)",
               {}});
  f.push_back({"query",
               "string",
               "Full-text search: words ANDed, \"phrases\", prefix*, "
               "-exclusion (docs/rest-api.md)",
               {}});
  return Paged(std::move(f));
}

const std::vector<OperationSpec>& KnownOperations() {
  static const auto* const ops = new std::vector<OperationSpec>{
      JsonGet("/healthz", "health", false, "Health", {}),
      JsonGet("/readyz", "health", false, "Health", {503}),
      {"GET",
       "/metrics",
       "health",
       false,
       {},
       nullptr,
       nullptr,
       200,
       nullptr,
       "text/plain",
       {}},
      JsonGet("/api/v1/openapi.json", "meta", true, nullptr, {401}),
      JsonGet("/api/v1/projects", "projects", true, "ProjectList", {401, 503}),
      JsonWrite("POST", "/api/v1/projects", "projects", "ProjectCreate", 201,
                "Project", {400, 401, 413, 503}),
      JsonGet("/api/v1/groups", "groups", true, "GroupList", {400, 401, 503},
              ListFilters({{"sort",
                            "string",
                            "Sort key, descending (default last_seen)",
                            {"last_seen", "count", "first_seen"}}})),
      {"PATCH",
       "/api/v1/groups",
       "groups",
       true,
       {{"id",
         "integer",
         "A group id; repeat for each group (1..100)",
         {},
         true}},
       "GroupPatch",
       "application/json",
       200,
       "GroupList",
       "application/json",
       {400, 401, 403, 404, 413, 503}},
      JsonGet("/api/v1/events", "events", true, "EventList", {400, 401, 503},
              ListFilters({{"group", "integer", "Only this group id", {}}})),
      {"DELETE",
       "/api/v1/events",
       "events",
       true,
       {{"user", "string", "The user key whose events are erased", {}, true},
        {"project", "integer", "Only in this project id", {}}},
       nullptr,
       nullptr,
       200,
       "EventsDeleted",
       "application/json",
       {400, 401, 403, 503}},
      JsonGet("/api/v1/groups/{id}/stats", "groups", true, "GroupStats",
              {400, 401, 404, 503},
              {{"interval",
                "string",
                "Bucket width (default 1h)",
                {"1m", "1h", "1d"}},
               {"since",
                "string",
                "Window start (RFC 3339 or epoch seconds; default 24 h "
                "before until); widened to a whole bucket",
                {}},
               {"until",
                "string",
                "Window end, exclusive (RFC 3339 or epoch seconds; default "
                "now)",
                {}}}),
      JsonGet("/api/v1/groups/{id}/tags", "groups", true, "GroupTagList",
              {400, 401, 404, 503},
              {{"top",
                "integer",
                "Most frequent values per key, 1..100 (default 10)",
                {}}}),
      JsonWrite("POST", "/api/v1/groups/{id}/merge", "groups", "GroupMerge",
                200, "Group", {400, 401, 403, 404, 413, 503}),
      {"DELETE",
       "/api/v1/groups/{id}",
       "groups",
       true,
       {},
       nullptr,
       nullptr,
       200,
       "GroupsDeleted",
       "application/json",
       {400, 401, 403, 404, 503}},
      JsonGet("/api/v1/groups/{id}", "groups", true, "Group",
              {400, 401, 404, 503}),
      JsonWrite("PATCH", "/api/v1/groups/{id}", "groups", "GroupPatch", 200,
                "Group", {400, 401, 404, 413, 503}),
      JsonGet("/api/v1/groups/{id}/events", "events", true, "EventList",
              {400, 401, 404, 503}, Paged({})),
      JsonGet("/api/v1/events/{event_id}", "events", true, "EventDetail",
              {400, 401, 404, 503}),
      JsonGet(
          "/api/v1/crashes", "crashes", true, "CrashList", {400, 401, 503},
          Paged({{"namespace", "string", "Only crashes in this namespace", {}},
                 {"type", "string", "Only crashes of this type",
                  model::Spellings(model::AllCrashTypes())},
                 {"pod", "string", "Only crashes of this pod", {}},
                 {"since",
                  "string",
                  "Only crashes finished or updated at or after this time "
                  "(RFC 3339 or epoch seconds)",
                  {}}})),
      JsonGet("/api/v1/crashes/{id}", "crashes", true, "Crash",
              {400, 401, 404, 503}),
      JsonGet(
          "/api/v1/transactions", "tracing", true, "TransactionList",
          {400, 401, 503},
          Paged(
              {{"project",
                "integer",
                "Only transactions of this project id",
                {}},
               {"service", "string", "Only transactions of this service", {}},
               {"transaction", "string", "Only transactions of this name", {}},
               {"status", "string", "Only transactions with this span status",
                tracing::SpanStatuses()},
               {"min_duration",
                "number",
                "Only transactions lasting at least this many seconds",
                {}},
               {"since",
                "string",
                "Only transactions ending at or after this time (RFC 3339 or "
                "epoch seconds)",
                {}},
               {"sort",
                "string",
                "Sort key, descending (default timestamp, the end)",
                {"timestamp", "duration"}}})),
      JsonGet(
          "/api/v1/transactions/summary", "tracing", true, "TransactionSummary",
          {400, 401, 503},
          {{"project", "integer", "Only transactions of this project id", {}},
           {"service", "string", "Only transactions of this service", {}},
           {"since",
            "string",
            "Window start, inclusive (RFC 3339 or epoch seconds; default "
            "one hour before until)",
            {}},
           {"until",
            "string",
            "Window end, exclusive (RFC 3339 or epoch seconds; default "
            "now)",
            {}},
           {"limit",
            "integer",
            "At most this many transaction names, 1..1000 (default 50)",
            {}}}),
      JsonGet("/api/v1/traces/{trace_id}", "tracing", true, "Trace",
              {400, 401, 404, 503}),
      // Release health (sessions; rest/releases_routes.cc).
      JsonGet(
          "/api/v1/releases", "releases", true, "ReleaseList", {400, 401, 503},
          Paged({{"project", "integer", "Only releases of this project id", {}},
                 {"environment",
                  "string",
                  "Only sessions, users and errors of this environment "
                  "(default: all together)",
                  {}}})),
      // --- attachments (issue 18, ingest) ---
      JsonGet("/api/v1/events/{event_id}/attachments", "events", true,
              "AttachmentList", {400, 401, 404, 503}),
      {"GET",
       "/api/v1/events/{event_id}/attachments/{attachment_id}",
       "events",
       true,
       {},
       nullptr,
       nullptr,
       200,
       nullptr,
       "application/octet-stream",
       {400, 401, 404, 503}},
      Ingest("/api/{project_id}/envelope/",
             {{"sentry_key",
               "string",
               "Project public key (or X-Sentry-Auth / envelope dsn)",
               {}}},
             "application/x-sentry-envelope"),
      Ingest("/api/{project_id}/store/",
             {{"sentry_key",
               "string",
               "Project public key (or X-Sentry-Auth)",
               {}}},
             "application/json"),
      Ingest("/api/v1/events",
             {{"key", "string", "Project public key", {}, true}},
             "application/json"),
      // Cron monitors (docs/monitors.md).
      JsonGet(
          "/api/v1/monitors", "monitors", true, "MonitorList", {400, 401, 503},
          Paged({{"project", "integer", "Only monitors of this project id", {}},
                 {"environment",
                  "string",
                  "Only monitors of this environment",
                  {}}})),
      JsonGet("/api/v1/monitors/{id}", "monitors", true, "MonitorDetail",
              {400, 401, 404, 503}),
      JsonGet("/api/v1/monitors/{id}/checkins", "monitors", true,
              "MonitorCheckInList", {400, 401, 404, 503}, Paged({})),
      CronCheckIn("POST", "/api/{project_id}/cron/{monitor_slug}/"),
      CronCheckIn("POST",
                  "/api/{project_id}/cron/{monitor_slug}/{sentry_key}/"),
      CronCheckIn("GET", "/api/{project_id}/cron/{monitor_slug}/"),
      CronCheckIn("GET", "/api/{project_id}/cron/{monitor_slug}/{sentry_key}/"),
  };
  return *ops;
}

const OperationSpec* FindSpec(const std::string& method,
                              const std::string& pattern) {
  for (const OperationSpec& op : KnownOperations()) {
    if (method == op.method && pattern == op.pattern) return &op;
  }
  return nullptr;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(c));
  return s;
}

std::vector<std::string> PathParams(const std::string& pattern) {
  std::vector<std::string> names;
  size_t pos = 0;
  while ((pos = pattern.find('{', pos)) != std::string::npos) {
    const size_t end = pattern.find('}', pos);
    if (end == std::string::npos) break;
    names.push_back(pattern.substr(pos + 1, end - pos - 1));
    pos = end + 1;
  }
  return names;
}

std::string OperationId(const std::string& method, const std::string& pattern,
                        std::set<std::string>* used) {
  std::string id = Lower(method);
  bool underscore = false;
  for (char c : pattern) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      if (underscore) id += '_';
      underscore = false;
      id += c;
    } else {
      underscore = true;
    }
  }
  std::string unique = id;
  for (int n = 2; !used->insert(unique).second && n < 1000; ++n) {
    unique = id + "_" + std::to_string(n);
  }
  return unique;
}

void KeyOf(Writer* w, const std::string& key) {
  w->Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}

void Ref(Writer* w, const std::string& component) {
  w->StartObject();
  w->Key("$ref");
  w->String("#/components/schemas/" + component);
  w->EndObject();
}

// {"type": type[, "format": format][, "nullable": true]}
void Type(Writer* w, const char* type, const char* format = nullptr,
          bool nullable = false) {
  w->StartObject();
  w->Key("type");
  w->String(type);
  if (format != nullptr) {
    w->Key("format");
    w->String(format);
  }
  if (nullable) {
    w->Key("nullable");
    w->Bool(true);
  }
  w->EndObject();
}

void StringEnum(Writer* w, const std::vector<const char*>& values) {
  w->StartObject();
  w->Key("type");
  w->String("string");
  w->Key("enum");
  w->StartArray();
  for (const char* v : values) w->String(v);
  w->EndArray();
  w->EndObject();
}

void ArrayOf(Writer* w, const char* item_type) {
  w->StartObject();
  w->Key("type");
  w->String("array");
  w->Key("items");
  Type(w, item_type, item_type[0] == 'i' ? "int64" : nullptr);
  w->EndObject();
}

// A property: name then schema by kind.
struct Prop {
  const char* name;
  const char* kind;  // integer|string|number|boolean|date-time|
                     // date-time-null|string-null|int-array|string-array|
                     // links|object
};

void Schema(Writer* w, const char* name, const std::vector<Prop>& props,
            const std::vector<const char*>& required) {
  w->Key(name);
  w->StartObject();
  w->Key("type");
  w->String("object");
  if (!required.empty()) {
    w->Key("required");
    w->StartArray();
    for (const char* r : required) w->String(r);
    w->EndArray();
  }
  w->Key("properties");
  w->StartObject();
  for (const Prop& p : props) {
    w->Key(p.name);
    const std::string kind = p.kind;
    if (kind == "integer") {
      Type(w, "integer", "int64");
    } else if (kind == "date-time") {
      Type(w, "string", "date-time");
    } else if (kind == "date-time-null") {
      Type(w, "string", "date-time", true);
    } else if (kind == "string-null") {
      Type(w, "string", nullptr, true);
    } else if (kind == "object-null") {
      Type(w, "object", nullptr, true);
    } else if (kind == "int-array") {
      ArrayOf(w, "integer");
    } else if (kind == "string-array") {
      ArrayOf(w, "string");
    } else if (kind == "links") {
      w->StartObject();
      w->Key("type");
      w->String("object");
      w->Key("additionalProperties");
      Type(w, "string");
      w->EndObject();
    } else if (kind == "status") {
      StringEnum(w, Statuses());
    } else if (kind == "span-status") {
      StringEnum(w, tracing::SpanStatuses());
    } else if (kind == "integer-null") {
      Type(w, "integer", "int64", true);
    } else if (kind == "number-null") {
      Type(w, "number", nullptr, true);
    } else if (kind.rfind("array:", 0) == 0) {
      w->StartObject();
      w->Key("type");
      w->String("array");
      w->Key("items");
      Ref(w, kind.substr(6));
      w->EndObject();
    } else {
      Type(w, p.kind);
    }
  }
  w->EndObject();
  w->EndObject();
}

void ListSchema(Writer* w, const char* name, const char* item) {
  w->Key(name);
  w->StartObject();
  w->Key("type");
  w->String("object");
  w->Key("required");
  w->StartArray();
  w->String("items");
  w->String("next_cursor");
  w->EndArray();
  w->Key("properties");
  w->StartObject();
  w->Key("items");
  w->StartObject();
  w->Key("type");
  w->String("array");
  w->Key("items");
  Ref(w, item);
  w->EndObject();
  w->Key("next_cursor");
  Type(w, "string", nullptr, true);
  w->EndObject();
  w->EndObject();
}

void Components(Writer* w) {
  w->Key("components");
  w->StartObject();
  w->Key("securitySchemes");
  w->StartObject();
  w->Key("adminToken");
  w->StartObject();
  w->Key("type");
  w->String("http");
  w->Key("scheme");
  w->String("bearer");
  w->Key("description");
  w->String("auth.admin_token; required only when it is configured");
  w->EndObject();
  w->Key("readToken");
  w->StartObject();
  w->Key("type");
  w->String("http");
  w->Key("scheme");
  w->String("bearer");
  w->Key("description");
  w->String(
      "auth.read_token: accepted by GET and HEAD routes only; any other "
      "method answers 403");
  w->EndObject();
  w->EndObject();

  w->Key("schemas");
  w->StartObject();
  Schema(w, "Error", {{"error", "string"}}, {"error"});
  Schema(w, "Health", {{"status", "string"}, {"error", "string"}}, {"status"});
  Schema(w, "IngestAccepted", {{"id", "string"}}, {"id"});
  Schema(w, "ProjectCreate", {{"name", "string"}}, {"name"});
  Schema(w, "Project",
         {{"id", "integer"},
          {"name", "string"},
          {"public_key", "string"},
          {"dsn", "string"},
          {"short_dsn", "string"},
          {"created_at", "date-time-null"}},
         {"id", "name", "public_key", "dsn", "short_dsn"});
  ListSchema(w, "ProjectList", "Project");
  Schema(w, "GroupPatch", {{"status", "status"}}, {"status"});
  Schema(w, "Group",
         {{"id", "integer"},
          {"project", "integer"},
          {"fingerprint", "string"},
          {"title", "string"},
          {"culprit", "string"},
          {"level", "string"},
          {"status", "status"},
          {"count", "integer"},
          {"first_seen", "date-time-null"},
          {"last_seen", "date-time-null"},
          {"service", "string"},
          {"release", "string"},
          {"first_release", "string"},
          {"regression_count", "integer"},
          {"users", "integer"},
          {"linked_crashes", "int-array"},
          {"traces", "string-array"},
          {"feedback", "array:Feedback"},
          {"links", "links"}},
         {"id", "project", "fingerprint", "title", "culprit", "level", "status",
          "count", "first_seen", "last_seen", "service", "linked_crashes"});
  ListSchema(w, "GroupList", "Group");
  Schema(w, "GroupMerge", {{"from", "int-array"}}, {"from"});
  Schema(w, "GroupsDeleted", {{"deleted_groups", "int-array"}},
         {"deleted_groups"});
  Schema(w, "EventsDeleted",
         {{"deleted_events", "integer"}, {"deleted_groups", "int-array"}},
         {"deleted_events", "deleted_groups"});
  Schema(w, "Tag", {{"key", "string"}, {"value", "string"}}, {"key", "value"});
  Schema(w, "StatBucket", {{"start", "date-time"}, {"count", "integer"}},
         {"start", "count"});
  Schema(w, "GroupStats",
         {{"group", "integer"},
          {"interval", "string"},
          {"since", "date-time"},
          {"until", "date-time"},
          {"buckets", "array:StatBucket"},
          {"total", "integer"}},
         {"group", "interval", "since", "until", "buckets", "total"});
  Schema(w, "TagValue",
         {{"value", "string"},
          {"count", "integer"},
          {"first_seen", "date-time"},
          {"last_seen", "date-time"}},
         {"value", "count"});
  Schema(w, "TagKey",
         {{"key", "string"},
          {"values", "integer"},
          {"events", "integer"},
          {"other_count", "integer"},
          {"top", "array:TagValue"}},
         {"key", "values", "events", "other_count", "top"});
  Schema(w, "GroupTagList", {{"group", "integer"}, {"items", "array:TagKey"}},
         {"group", "items"});
  const std::vector<Prop> event_props = {{"event_id", "string"},
                                         {"project", "integer"},
                                         {"group", "integer"},
                                         {"timestamp", "date-time-null"},
                                         {"received", "date-time-null"},
                                         {"level", "string"},
                                         {"platform", "string"},
                                         {"title", "string"},
                                         {"message", "string"},
                                         {"release", "string"},
                                         {"environment", "string"},
                                         {"server_name", "string"},
                                         {"service", "string"},
                                         {"trace_id", "string-null"},
                                         {"span_id", "string-null"},
                                         {"user", "string-null"},
                                         {"tags", "array:Tag"},
                                         {"sdk", "object-null"},
                                         {"links", "links"}};
  const std::vector<const char*> event_required = {"event_id", "project",
                                                   "group", "timestamp"};
  Schema(w, "Event", event_props, event_required);
  std::vector<Prop> detail_props = event_props;
  detail_props.push_back({"payload", "object-null"});
  detail_props.push_back({"payload_text", "string"});
  detail_props.push_back({"attachments", "integer"});
  detail_props.push_back({"feedback", "array:Feedback"});
  std::vector<const char*> detail_required = event_required;
  detail_required.push_back("payload");
  Schema(w, "EventDetail", detail_props, detail_required);
  ListSchema(w, "EventList", "Event");
  Schema(w, "Crash",
         {{"id", "integer"},
          {"namespace", "string"},
          {"pod", "string"},
          {"pod_uid", "string"},
          {"container", "string"},
          {"node", "string"},
          {"workload_kind", "string"},
          {"workload", "string"},
          {"image", "string"},
          {"crash_type", "string"},
          {"reason", "string"},
          {"exit_code", "integer"},
          {"signal", "string-null"},
          {"restart_count", "integer"},
          {"memory_request", "string-null"},
          {"memory_limit", "string-null"},
          {"started_at", "date-time-null"},
          {"finished_at", "date-time-null"},
          {"created_at", "date-time-null"},
          {"updated_at", "date-time-null"},
          {"message", "string"},
          {"logs", "string-array"},
          {"linked_groups", "int-array"},
          {"links", "links"}},
         {"id", "namespace", "pod", "container", "node", "crash_type", "reason",
          "exit_code", "signal", "restart_count", "memory_limit", "started_at",
          "finished_at", "logs", "linked_groups"});
  ListSchema(w, "CrashList", "Crash");
  Schema(w, "Transaction",
         {{"event_id", "string"},
          {"project_id", "integer"},
          {"trace_id", "string"},
          {"span_id", "string"},
          {"parent_span_id", "string-null"},
          {"transaction", "string"},
          {"source", "string"},
          {"op", "string"},
          {"status", "span-status"},
          {"method", "string-null"},
          {"http_status", "integer-null"},
          {"service", "string"},
          {"release", "string"},
          {"environment", "string"},
          {"start_timestamp", "date-time-null"},
          {"timestamp", "date-time-null"},
          {"duration", "number-null"}},
         {"event_id", "project_id", "trace_id", "span_id", "transaction",
          "status", "start_timestamp", "timestamp", "duration"});
  ListSchema(w, "TransactionList", "Transaction");
  Schema(w, "TransactionSummaryItem",
         {{"transaction", "string"},
          {"count", "integer"},
          {"error_ratio", "number"},
          {"p50", "number-null"},
          {"p95", "number-null"},
          {"p99", "number-null"}},
         {"transaction", "count", "error_ratio", "p50", "p95", "p99"});
  Schema(w, "TransactionSummary",
         {{"items", "array:TransactionSummaryItem"},
          {"since", "date-time-null"},
          {"until", "date-time-null"},
          {"truncated", "boolean"}},
         {"items", "since", "until", "truncated"});
  Schema(w, "TraceNode",
         {{"kind", "string"},
          {"event_id", "string"},
          {"transaction", "string"},
          {"span_id", "string"},
          {"parent_span_id", "string-null"},
          {"op", "string"},
          {"description", "string-null"},
          {"status", "span-status"},
          {"start_timestamp", "date-time-null"},
          {"timestamp", "date-time-null"},
          {"duration", "number-null"},
          {"depth", "integer"},
          {"parent", "integer-null"},
          {"children", "int-array"}},
         {"kind", "event_id", "span_id", "depth", "parent", "children"});
  Schema(w, "TraceError",
         {{"event_id", "string"},
          {"group_id", "integer"},
          {"title", "string"},
          {"span_id", "string-null"},
          {"timestamp", "date-time-null"},
          {"node", "integer-null"}},
         {"event_id", "group_id", "node"});
  Schema(w, "TraceGroup",
         {{"id", "integer"},
          {"title", "string"},
          {"status", "status"},
          {"count", "integer"}},
         {"id", "title", "status", "count"});
  Schema(w, "Trace",
         {{"trace_id", "string"},
          {"transactions", "integer"},
          {"nodes", "array:TraceNode"},
          {"roots", "int-array"},
          {"errors", "array:TraceError"},
          {"groups", "array:TraceGroup"}},
         {"trace_id", "transactions", "nodes", "roots", "errors", "groups"});
  // Release health (sessions).
  Schema(w, "ReleaseSessions",
         {{"total", "integer"},
          {"exited", "integer"},
          {"errored", "integer"},
          {"crashed", "integer"},
          {"abnormal", "integer"}},
         {"total", "exited", "errored", "crashed", "abnormal"});
  Schema(w, "Release",
         {{"project", "integer"},
          {"release", "string"},
          {"sessions", "object"},
          {"crash_free_sessions", "number-null"},
          {"crash_free_users", "number-null"},
          {"healthy_sessions", "number-null"},
          {"users", "integer"},
          {"crashed_users", "integer"},
          {"errors", "integer"},
          {"new_groups", "integer"},
          {"first_seen", "date-time"},
          {"last_seen", "date-time"},
          {"environments", "string-array"},
          {"links", "links"}},
         {"project", "release", "sessions", "crash_free_sessions",
          "crash_free_users", "users", "errors", "new_groups", "first_seen",
          "last_seen", "environments"});
  ListSchema(w, "ReleaseList", "Release");
  // Cron monitors.
  const std::vector<Prop> monitor_props = {
      {"id", "integer"},
      {"project", "integer"},
      {"slug", "string"},
      {"environment", "string"},
      {"schedule", "object-null"},
      {"checkin_margin", "integer"},
      {"max_runtime", "integer"},
      {"timezone", "string"},
      {"failure_issue_threshold", "integer"},
      {"recovery_threshold", "integer"},
      {"status", "string"},
      {"incident_open", "boolean"},
      {"next_expected", "date-time-null"},
      {"last_checkin", "date-time-null"},
      {"created_at", "date-time-null"},
      {"updated_at", "date-time-null"},
      {"checkins_total", "integer"},
      {"missed_total", "integer"},
      {"timeouts_total", "integer"},
      {"links", "links"}};
  const std::vector<const char*> monitor_required = {
      "id",     "project",       "slug",          "environment", "schedule",
      "status", "incident_open", "next_expected", "last_checkin"};
  Schema(w, "Monitor", monitor_props, monitor_required);
  ListSchema(w, "MonitorList", "Monitor");
  Schema(w, "MonitorCheckIn",
         {{"id", "integer"},
          {"check_in_id", "string-null"},
          {"status", "string"},
          {"kind", "string"},
          {"run_started", "date-time-null"},
          {"duration", "number-null"},
          {"received", "date-time"},
          {"missed_count", "integer"},
          {"last_scheduled", "date-time-null"},
          {"release", "string-null"},
          {"trace_id", "string-null"}},
         {"id", "status", "kind", "received"});
  ListSchema(w, "MonitorCheckInList", "MonitorCheckIn");
  Schema(w, "MonitorRun",
         {{"check_in_id", "string-null"},
          {"started", "date-time"},
          {"timeout_at", "date-time"}},
         {"check_in_id", "started", "timeout_at"});
  std::vector<Prop> monitor_detail_props = monitor_props;
  monitor_detail_props.push_back({"checkins", "array:MonitorCheckIn"});
  monitor_detail_props.push_back({"in_progress", "array:MonitorRun"});
  std::vector<const char*> monitor_detail_required = monitor_required;
  monitor_detail_required.push_back("checkins");
  monitor_detail_required.push_back("in_progress");
  Schema(w, "MonitorDetail", monitor_detail_props, monitor_detail_required);
  // --- attachments and feedback (issue 18, ingest) ---
  Schema(w, "Feedback",
         {{"id", "integer"},
          {"kind", "string"},
          {"event_id", "string-null"},
          {"group_id", "integer-null"},
          {"name", "string"},
          {"email", "string"},
          {"comments", "string"},
          {"url", "string"},
          {"timestamp", "date-time"}},
         {"id", "kind", "event_id", "group_id", "comments", "timestamp"});
  Schema(w, "Attachment",
         {{"id", "string"},
          {"event_id", "string"},
          {"filename", "string"},
          {"content_type", "string"},
          {"attachment_type", "string"},
          {"size", "integer"},
          {"received", "date-time"},
          {"links", "links"}},
         {"id", "event_id", "filename", "content_type", "size", "links"});
  ListSchema(w, "AttachmentList", "Attachment");
  w->EndObject();
  w->EndObject();
}

const char* StatusText(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted (committed)";
    case 400:
      return "Bad request: invalid parameter or body";
    case 401:
      return "Missing or wrong admin token (or ingestion key)";
    case 403:
      return "Key not allowed for this project";
    case 404:
      return "Not found";
    case 413:
      return "Body too large";
    case 429:
      return "Rate limited or queue full; see Retry-After";
    case 503:
      return "Storage unavailable or not ready";
  }
  return "Response";
}

void Content(Writer* w, const char* media, const char* schema) {
  w->Key("content");
  w->StartObject();
  w->Key(media);
  w->StartObject();
  w->Key("schema");
  if (schema != nullptr) {
    Ref(w, schema);
  } else if (std::string(media) == "application/json") {
    Type(w, "object");
  } else {
    Type(w, "string");
  }
  w->EndObject();
  w->EndObject();
}

void PathParameter(Writer* w, const std::string& name) {
  w->StartObject();
  w->Key("name");
  w->String(name);
  w->Key("in");
  w->String("path");
  w->Key("required");
  w->Bool(true);
  w->Key("schema");
  if (name == "trace_id") {
    w->StartObject();
    w->Key("type");
    w->String("string");
    w->Key("pattern");
    w->String("^[0-9a-fA-F]{32}$");
    w->EndObject();
  } else if (name == "event_id") {
    w->StartObject();
    w->Key("type");
    w->String("string");
    w->Key("pattern");
    w->String("^[0-9a-fA-F]{32}$|^[0-9a-fA-F-]{36}$");
    w->EndObject();
  } else if (name == "id" || (name.size() > 3 &&
                              name.compare(name.size() - 3, 3, "_id") == 0)) {
    w->StartObject();
    w->Key("type");
    w->String("integer");
    w->Key("format");
    w->String("int64");
    w->Key("minimum");
    w->Int(1);
    w->EndObject();
  } else {
    Type(w, "string");
  }
  w->EndObject();
}

void QueryParameter(Writer* w, const QueryParamSpec& q) {
  w->StartObject();
  w->Key("name");
  w->String(q.name);
  w->Key("in");
  w->String("query");
  w->Key("required");
  w->Bool(q.required);
  w->Key("description");
  w->String(q.description);
  w->Key("schema");
  if (!q.values.empty()) {
    StringEnum(w, q.values);
  } else if (std::string(q.name) == "limit") {
    w->StartObject();
    w->Key("type");
    w->String("integer");
    w->Key("minimum");
    w->Int(1);
    w->Key("maximum");
    w->Int(1000);
    w->Key("default");
    w->Int(50);
    w->EndObject();
  } else {
    Type(w, q.type);
  }
  w->EndObject();
}

void Operation(Writer* w, const http::Router::Route& route,
               std::set<std::string>* operation_ids) {
  const OperationSpec* spec = FindSpec(route.method, route.pattern);
  KeyOf(w, Lower(route.method));
  w->StartObject();
  w->Key("operationId");
  w->String(OperationId(route.method, route.pattern, operation_ids));
  w->Key("summary");
  w->String(route.summary.empty() ? route.method + " " + route.pattern
                                  : route.summary);
  if (spec != nullptr) {
    w->Key("tags");
    w->StartArray();
    w->String(spec->tag);
    w->EndArray();
  }
  const std::vector<std::string> path_params = PathParams(route.pattern);
  if (!path_params.empty() || (spec != nullptr && !spec->query.empty())) {
    w->Key("parameters");
    w->StartArray();
    for (const std::string& name : path_params) PathParameter(w, name);
    if (spec != nullptr) {
      for (const QueryParamSpec& q : spec->query) QueryParameter(w, q);
    }
    w->EndArray();
  }
  if (spec != nullptr && spec->request_media != nullptr) {
    w->Key("requestBody");
    w->StartObject();
    w->Key("required");
    w->Bool(true);
    Content(w, spec->request_media, spec->request_schema);
    w->EndObject();
  }
  if (spec != nullptr && spec->admin) {
    // Either token reads; only the admin token writes.
    w->Key("security");
    w->StartArray();
    for (const char* scheme : {"adminToken", "readToken"}) {
      if (route.method != "GET" && scheme == std::string("readToken")) {
        continue;
      }
      w->StartObject();
      w->Key(scheme);
      w->StartArray();
      w->EndArray();
      w->EndObject();
    }
    w->EndArray();
  }
  w->Key("responses");
  w->StartObject();
  if (spec == nullptr) {
    w->Key("default");
    w->StartObject();
    w->Key("description");
    w->String("Response");
    w->EndObject();
  } else {
    KeyOf(w, std::to_string(spec->success_status));
    w->StartObject();
    w->Key("description");
    w->String(StatusText(spec->success_status));
    Content(w, spec->success_media, spec->success_schema);
    w->EndObject();
    for (int status : spec->errors) {
      KeyOf(w, std::to_string(status));
      w->StartObject();
      w->Key("description");
      w->String(StatusText(status));
      Content(w, "application/json",
              status == 503 && spec->tag == std::string("health") ? "Health"
                                                                  : "Error");
      w->EndObject();
    }
  }
  w->EndObject();
  w->EndObject();
}

}  // namespace

std::string BuildOpenApi(const http::Router& router) {
  // Distinct patterns in registration order, each with its distinct methods.
  std::vector<std::pair<std::string, std::vector<const http::Router::Route*>>>
      paths;
  for (const http::Router::Route& route : router.routes()) {
    auto it = paths.begin();
    while (it != paths.end() && it->first != route.pattern) ++it;
    if (it == paths.end()) {
      paths.emplace_back(route.pattern,
                         std::vector<const http::Router::Route*>());
      it = paths.end() - 1;
    }
    bool seen = false;
    for (const http::Router::Route* r : it->second) {
      seen = seen || Lower(r->method) == Lower(route.method);
    }
    if (!seen) it->second.push_back(&route);
  }

  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("openapi");
  w.String("3.0.3");
  w.Key("info");
  w.StartObject();
  w.Key("title");
  w.String("crashctl");
  w.Key("version");
  w.String("1.0.0");
  w.Key("description");
  w.String(
      "Self-hosted crash and error tracker: Sentry-protocol ingestion, "
      "error groups, Kubernetes pod crashes, stored transactions and traces. "
      "Timestamps are RFC 3339 UTC "
      "with milliseconds; lists answer {items, next_cursor}; errors answer "
      "{error}.");
  w.EndObject();
  w.Key("paths");
  w.StartObject();
  std::set<std::string> operation_ids;
  for (const auto& path : paths) {
    KeyOf(&w, path.first);
    w.StartObject();
    for (const http::Router::Route* route : path.second) {
      Operation(&w, *route, &operation_ids);
    }
    w.EndObject();
  }
  w.EndObject();
  Components(&w);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace rest
}  // namespace crashctl
