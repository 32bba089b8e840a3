#include "crashctl/rest/rest_api.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "admin_auth.h"
#include "attachments_routes.h"
#include "crashctl/model/dsn.h"
#include "crashctl/model/vocabulary.h"
#include "crashctl/tracing/summary.h"
#include "crashctl/tracing/trace_tree.h"
#include "crashctl/tracing/transaction.h"
#include "crashctl/util/time.h"
#include "monitors_routes.h"
#include "openapi.h"
#include "projects_routes.h"
#include "request_params.h"
#include "resource_json.h"
#include "rest_responses.h"
#include "search_routes.h"

namespace crashctl {
namespace rest {
namespace {

constexpr size_t kMaxBodyBytes = 64 * 1024;

const char* const kSorts[] = {"last_seen", "count", "first_seen"};
const char* const kTransactionSorts[] = {"timestamp", "duration"};

// Bounds of the tracing endpoints (docs/rest-api.md).
constexpr int kGroupTraceEvents = 10;  // a group's "traces": its latest events
constexpr size_t kMaxSummaryRows = 100000;      // rows /summary reads
constexpr double kDefaultSummaryWindow = 3600;  // seconds
constexpr size_t kMaxTraceTransactions = 1000;
constexpr size_t kMaxTraceNodes = 20000;
constexpr size_t kMaxTraceErrors = 100;

template <size_t N>
bool OneOf(const std::string& value, const char* const (&allowed)[N]) {
  for (const char* a : allowed) {
    if (value == a) return true;
  }
  return false;
}

template <size_t N>
std::string Joined(const char* const (&allowed)[N]) {
  std::string out;
  for (const char* a : allowed) {
    if (!out.empty()) out += ", ";
    out += a;
  }
  return out;
}

// Echoes user input in error messages: bounded and valid UTF-8.
std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

std::string Shown(const std::string& value) {
  return "\"" + SanitizeUtf8(value.substr(0, 64)) + "\"";
}

bool ProjectFilter(const http::HttpRequest& request,
                   std::optional<int64_t>* project, http::HttpResponse* error) {
  return IdFilter(request, "project", project, error);
}

bool IdFilter(const http::HttpRequest& request, const std::string& name,
              std::optional<int64_t>* id, http::HttpResponse* error) {
  if (!request.HasQueryParam(name)) return true;
  int64_t value = 0;
  const std::string text = request.QueryParam(name);
  if (!ParsePositiveId(text, &value)) {
    *error = http::HttpResponse::Error(
        400, InvalidParam(name, text, "must be a positive id"));
    return false;
  }
  *id = value;
  return true;
}

bool GroupIdParam(http::HttpRequest& request, int64_t* id,
                  http::HttpResponse* error) {
  const std::string raw = request.path_params["id"];
  if (ParsePositiveId(raw, id)) return true;
  *error = http::HttpResponse::Error(
      400, "invalid group id " + Shown(raw) + ": must be a positive id");
  return false;
}

void AddApiRoute(http::Router* router, const RestOptions& options,
                 const char* method, const char* pattern, const char* summary,
                 ParamList params, http::HttpHandler handler) {
  router->Add(
      method, pattern, summary,
      RequireToken(ApiTokens{options.admin_token, options.read_token},
                   WithQueryParams(std::move(params), std::move(handler))));
}

http::HttpResponse JsonOk(int status, const rapidjson::StringBuffer& buffer) {
  return http::HttpResponse::Json(
      status, std::string(buffer.GetString(), buffer.GetSize()));
}

// Maps a failed store call to its HTTP answer. `what` names the operation.
http::HttpResponse StoreFailure(const Status& status, const std::string& what) {
  const std::string detail =
      what + (status.message().empty() ? "" : ": " + status.message());
  switch (status.code()) {
    case Status::Code::kNotFound:
      // The store's message already names the row ("group 9 not found").
      return http::HttpResponse::Error(404, status.message().empty()
                                                ? what + " not found"
                                                : status.message());
    case Status::Code::kInvalid:
      // The store refuses a cursor it did not make: name the parameter.
      if (status.message().find("cursor") != std::string::npos) {
        return http::HttpResponse::Error(
            400, "invalid \"cursor\": " + status.message() +
                     " (give the next_cursor of a previous page)");
      }
      return http::HttpResponse::Error(400, detail);
    case Status::Code::kConflict:
      return http::HttpResponse::Error(409, detail);
    case Status::Code::kTooLarge:
      return http::HttpResponse::Error(413, detail);
    case Status::Code::kUnavailable: {
      spdlog::warn("rest: store unavailable: {}", detail);
      http::HttpResponse response =
          http::HttpResponse::Error(503, "storage unavailable: " + detail);
      response.headers.emplace_back("Retry-After", "5");
      return response;
    }
    case Status::Code::kInternal:
      // A store without the feature (Store's defaults: "this store keeps
      // no ..."; the PostgreSQL store's "not supported by the postgres
      // driver yet: ..."): 501, not a crash of the request.
      if (status.message().rfind("this store keeps no ", 0) == 0 ||
          status.message().rfind("not supported by the postgres driver yet",
                                 0) == 0) {
        return http::HttpResponse::Error(501, detail);
      }
      break;
    case Status::Code::kOk:
      break;
  }
  spdlog::error("rest: store error: {}", detail);
  return http::HttpResponse::Error(500, "internal error: " + detail);
}

// Parses a small JSON object body. On failure returns false with the answer
// in `*error`.
bool ParseJsonObjectBody(const http::HttpRequest& request,
                         rapidjson::Document* doc, http::HttpResponse* error) {
  if (request.body.size() > kMaxBodyBytes) {
    *error = http::HttpResponse::Error(413, "request body larger than 64 KiB");
    return false;
  }
  doc->Parse<rapidjson::kParseValidateEncodingFlag |
             rapidjson::kParseIterativeFlag>(request.body.data(),
                                             request.body.size());
  if (doc->HasParseError()) {
    *error = http::HttpResponse::Error(
        400, std::string("malformed JSON body: ") +
                 rapidjson::GetParseError_En(doc->GetParseError()) +
                 " at offset " + std::to_string(doc->GetErrorOffset()));
    return false;
  }
  if (!doc->IsObject()) {
    *error = http::HttpResponse::Error(400, "JSON body must be an object");
    return false;
  }
  return true;
}

http::HttpResponse GroupAnswer(store::Store* store, const model::Group& group,
                               const std::string& base_url) {
  std::vector<std::string> traces;
  Status status = store->ListGroupTraces(group.id, kGroupTraceEvents, &traces);
  if (!status.ok()) {
    return StoreFailure(status, "traces of group " + std::to_string(group.id));
  }
  std::vector<model::Feedback> feedback;
  status = LoadGroupFeedback(store, group.id, &feedback);
  if (!status.ok()) {
    return StoreFailure(status,
                        "feedback of group " + std::to_string(group.id));
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  WriteGroup(&w, group, base_url, traces, &feedback);
  return JsonOk(200, buffer);
}

namespace {

// Handlers share one immutable context.
class RestHandlers {
 public:
  RestHandlers(http::Router* router, store::Store* store,
               const RestOptions& options)
      : router_(router), store_(store), options_(options) {
    options_.base_url = TrimSlash(options_.base_url);
  }

  http::HttpResponse Healthz(http::HttpRequest&) {
    return http::HttpResponse::Json(200, "{\"status\":\"ok\"}");
  }

  http::HttpResponse Readyz(http::HttpRequest&) {
    std::string reason;
    if (!options_.ready || options_.ready(&reason)) {
      return http::HttpResponse::Json(200, "{\"status\":\"ok\"}");
    }
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("status");
    w.String("unavailable");
    WriteField(&w, "error", reason.empty() ? "not ready" : reason);
    w.EndObject();
    return JsonOk(503, buffer);
  }

  http::HttpResponse OpenApi(http::HttpRequest&) {
    return http::HttpResponse::Json(200, BuildOpenApi(*router_));
  }

  http::HttpResponse ListProjects(http::HttpRequest&) {
    std::vector<model::Project> projects;
    Status status = store_->ListProjects(&projects);
    if (!status.ok()) return StoreFailure(status, "listing projects");
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("items");
    w.StartArray();
    for (const model::Project& p : projects) WriteProjectWithDsn(&w, p);
    w.EndArray();
    w.Key("next_cursor");
    w.Null();
    w.EndObject();
    return JsonOk(200, buffer);
  }

  http::HttpResponse CreateProject(http::HttpRequest& request) {
    rapidjson::Document doc;
    http::HttpResponse error;
    if (!ParseJsonObjectBody(request, &doc, &error)) return error;
    auto name_it = doc.FindMember("name");
    if (name_it == doc.MemberEnd() || !name_it->value.IsString()) {
      return http::HttpResponse::Error(400, "body needs \"name\": a string");
    }
    const std::string name(name_it->value.GetString(),
                           name_it->value.GetStringLength());
    const std::string invalid = model::ProjectNameError(name);
    if (!invalid.empty()) return http::HttpResponse::Error(400, invalid);
    model::Project project;
    Status status = store_->CreateProject(name, &project);
    if (!status.ok()) {
      return StoreFailure(status, "creating project " + Shown(name));
    }
    spdlog::info("rest: created project {} ({})", project.id, project.name);
    if (options_.on_project_created) options_.on_project_created(project);
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    WriteProjectWithDsn(&w, project);
    http::HttpResponse response = JsonOk(201, buffer);
    response.headers.emplace_back(
        "Location",
        options_.base_url + "/api/v1/projects/" + std::to_string(project.id));
    return response;
  }

  http::HttpResponse ListGroups(http::HttpRequest& request) {
    store::GroupQuery query;
    http::HttpResponse invalid;
    if (!ParseListFilters(request, &query, &invalid)) return invalid;
    if (request.HasQueryParam("sort")) {
      query.sort = request.QueryParam("sort");
      if (!OneOf(query.sort, kSorts)) {
        return http::HttpResponse::Error(
            400,
            InvalidParam("sort", query.sort, "use one of " + Joined(kSorts)));
      }
    }
    model::Page<model::Group> page;
    Status status = store_->ListGroups(query, &page);
    if (!status.ok()) return StoreFailure(status, "listing groups");
    std::vector<std::vector<std::string>> traces(page.items.size());
    for (size_t i = 0; i < page.items.size(); ++i) {
      status = store_->ListGroupTraces(page.items[i].id, kGroupTraceEvents,
                                       &traces[i]);
      // A group deleted by retention since the page was read has none.
      if (status.code() == Status::Code::kNotFound) continue;
      if (!status.ok()) return StoreFailure(status, "listing group traces");
    }
    size_t index = 0;
    return PageJson(
        page, [this, &traces, &index](JsonWriter* w, const model::Group& g) {
          WriteGroup(w, g, options_.base_url, traces[index++]);
        });
  }

  http::HttpResponse GetGroup(http::HttpRequest& request) {
    int64_t id = 0;
    http::HttpResponse error;
    if (!GroupIdParam(request, &id, &error)) return error;
    model::Group group;
    Status status = store_->GetGroup(id, &group);
    if (!status.ok()) {
      return StoreFailure(status, "group " + std::to_string(id));
    }
    return GroupResponse(group);
  }

  http::HttpResponse PatchGroup(http::HttpRequest& request) {
    int64_t id = 0;
    http::HttpResponse error;
    if (!GroupIdParam(request, &id, &error)) return error;
    rapidjson::Document doc;
    if (!ParseJsonObjectBody(request, &doc, &error)) return error;
    auto it = doc.FindMember("status");
    if (it == doc.MemberEnd() || !it->value.IsString()) {
      return http::HttpResponse::Error(
          400, "body needs \"status\": one of " +
                   model::JoinedSpellings(model::AllGroupStatuses()));
    }
    const std::string status_text(it->value.GetString(),
                                  it->value.GetStringLength());
    model::GroupStatus new_status;
    if (!model::ParseGroupStatus(status_text, &new_status)) {
      return http::HttpResponse::Error(
          400, "unknown status " + Shown(status_text) + ": use one of " +
                   model::JoinedSpellings(model::AllGroupStatuses()));
    }
    model::Group group;
    Status status = store_->SetGroupStatus(id, new_status, &group);
    if (!status.ok()) {
      return StoreFailure(status, "group " + std::to_string(id));
    }
    spdlog::info("rest: group {} set to {}", id, model::ToString(new_status));
    return GroupResponse(group);
  }

  http::HttpResponse ListGroupEvents(http::HttpRequest& request) {
    int64_t id = 0;
    http::HttpResponse error;
    if (!GroupIdParam(request, &id, &error)) return error;
    int limit = 50;
    std::string message;
    if (!ParseLimitParam(request, &limit, &message)) {
      return http::HttpResponse::Error(400, message);
    }
    model::Group group;
    Status status = store_->GetGroup(id, &group);
    if (!status.ok()) {
      return StoreFailure(status, "group " + std::to_string(id));
    }
    model::Page<model::StoredEvent> page;
    status =
        store_->ListGroupEvents(id, limit, request.QueryParam("cursor"), &page);
    if (!status.ok()) {
      return StoreFailure(status,
                          "listing events of group " + std::to_string(id));
    }
    return PageJson(page, [this](JsonWriter* w, const model::StoredEvent& e) {
      WriteEvent(w, e, options_.base_url, /*with_payload=*/false);
    });
  }

  http::HttpResponse GetEvent(http::HttpRequest& request) {
    const std::string raw = request.path_params["event_id"];
    std::string event_id;
    if (!NormalizeEventId(raw, &event_id)) {
      return http::HttpResponse::Error(
          400, "invalid event id " + Shown(raw) + ": must be 32 hex digits");
    }
    model::StoredEvent event;
    Status status = store_->GetEvent(event_id, &event);
    if (!status.ok()) return StoreFailure(status, "event " + event_id);
    EventExtras extras;
    status = LoadEventExtras(store_, event_id, &extras);
    if (!status.ok())
      return StoreFailure(status, "extras of event " + event_id);
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    WriteEvent(&w, event, options_.base_url, /*with_payload=*/true, &extras);
    return JsonOk(200, buffer);
  }

  http::HttpResponse ListCrashes(http::HttpRequest& request) {
    store::CrashQuery query;
    std::string error;
    http::HttpResponse invalid;
    if (!StringFilter(request, "namespace", &query.namespace_, &invalid) ||
        !StringFilter(request, "pod", &query.pod, &invalid)) {
      return invalid;
    }
    const std::string type_text = request.QueryParam("type");
    model::CrashType crash_type;
    if (!type_text.empty() && !model::ParseCrashType(type_text, &crash_type)) {
      return http::HttpResponse::Error(
          400, InvalidParam("type", type_text,
                            "use one of " + model::JoinedSpellings(
                                                model::AllCrashTypes())));
    }
    if (!type_text.empty()) query.crash_type = crash_type;
    if (request.HasQueryParam("since") &&
        !ParseSinceParam(request.QueryParam("since"), &query.since, &error)) {
      return http::HttpResponse::Error(400, error);
    }
    if (!ParseLimitParam(request, &query.limit, &error)) {
      return http::HttpResponse::Error(400, error);
    }
    query.cursor = request.QueryParam("cursor");
    model::Page<model::Crash> page;
    Status status = store_->ListCrashes(query, &page);
    if (!status.ok()) return StoreFailure(status, "listing crashes");
    return PageJson(page, [this](JsonWriter* w, const model::Crash& c) {
      WriteCrash(w, c, options_.base_url);
    });
  }

  http::HttpResponse GetCrash(http::HttpRequest& request) {
    const std::string raw = request.path_params["id"];
    int64_t id = 0;
    if (!ParsePositiveId(raw, &id)) {
      return http::HttpResponse::Error(
          400, "invalid crash id " + Shown(raw) + ": must be a positive id");
    }
    model::Crash crash;
    Status status = store_->GetCrash(id, &crash);
    if (!status.ok()) {
      return StoreFailure(status, "crash " + std::to_string(id));
    }
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    WriteCrash(&w, crash, options_.base_url);
    return JsonOk(200, buffer);
  }

  http::HttpResponse ListTransactions(http::HttpRequest& request) {
    store::TransactionQuery query;
    http::HttpResponse error;
    if (!TransactionFilters(request, &query, &error)) return error;
    if (request.HasQueryParam("sort")) {
      query.sort = request.QueryParam("sort");
      if (!OneOf(query.sort, kTransactionSorts)) {
        return http::HttpResponse::Error(
            400, InvalidParam("sort", query.sort,
                              "use one of " + Joined(kTransactionSorts)));
      }
    }
    std::string message;
    if (!ParseLimitParam(request, &query.limit, &message)) {
      return http::HttpResponse::Error(400, message);
    }
    query.cursor = request.QueryParam("cursor");
    model::Page<model::StoredTransaction> page;
    Status status = store_->ListTransactions(query, &page);
    if (!status.ok()) return StoreFailure(status, "listing transactions");
    return PageJson(page, [](JsonWriter* w, const model::StoredTransaction& t) {
      WriteTransaction(w, t);
    });
  }

  http::HttpResponse TransactionSummary(http::HttpRequest& request) {
    store::TransactionQuery query;
    std::string message;
    http::HttpResponse invalid;
    if (!ProjectFilter(request, &query.project, &invalid)) return invalid;
    if (!StringFilter(request, "service", &query.service, &invalid)) {
      return invalid;
    }
    const double now = util::NowSeconds();
    query.until = now;
    if (request.HasQueryParam("until") &&
        !ParseTimeParam("until", request.QueryParam("until"), &query.until,
                        &message)) {
      return http::HttpResponse::Error(400, message);
    }
    query.since = query.until - kDefaultSummaryWindow;
    if (request.HasQueryParam("since") &&
        !ParseSinceParam(request.QueryParam("since"), &query.since, &message)) {
      return http::HttpResponse::Error(400, message);
    }
    if (query.since >= query.until) {
      return http::HttpResponse::Error(
          400, "invalid \"since\": must be before until");
    }
    int limit = 50;
    if (!ParseLimitParam(request, &limit, &message)) {
      return http::HttpResponse::Error(400, message);
    }
    // A window starting at the epoch: since 0 would mean "any" to the store.
    store::TransactionQuery selection = query;
    if (selection.since <= 0) selection.since = 0;
    std::vector<tracing::NamedSample> samples;
    bool truncated = false;
    Status status = store_->TransactionSamples(selection, kMaxSummaryRows,
                                               &samples, &truncated);
    if (!status.ok()) return StoreFailure(status, "summarising transactions");
    const std::vector<tracing::TransactionSummary> items =
        tracing::SummarizeByTransaction(samples, static_cast<size_t>(limit));
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("items");
    w.StartArray();
    for (const tracing::TransactionSummary& item : items) {
      w.StartObject();
      WriteField(&w, "transaction", item.transaction);
      w.Key("count");
      w.Uint64(item.summary.count);
      w.Key("error_ratio");
      w.Double(item.summary.error_ratio);
      w.Key("p50");
      WriteSeconds(&w, item.summary.p50);
      w.Key("p95");
      WriteSeconds(&w, item.summary.p95);
      w.Key("p99");
      WriteSeconds(&w, item.summary.p99);
      w.EndObject();
    }
    w.EndArray();
    w.Key("since");
    WriteTime(&w, query.since);
    w.Key("until");
    WriteTime(&w, query.until);
    w.Key("truncated");
    w.Bool(truncated);
    w.EndObject();
    return JsonOk(200, buffer);
  }

  http::HttpResponse GetTrace(http::HttpRequest& request) {
    const std::string raw = request.path_params["trace_id"];
    std::string trace_id;
    if (!NormalizeTraceId(raw, &trace_id)) {
      return http::HttpResponse::Error(
          400, "invalid trace id " + Shown(raw) + ": must be 32 hex digits");
    }
    std::vector<model::StoredTransaction> stored;
    Status status =
        store_->GetTraceTransactions(trace_id, kMaxTraceTransactions, &stored);
    if (!status.ok()) return StoreFailure(status, "trace " + trace_id);
    std::vector<model::StoredEvent> errors;
    status = store_->ListTraceEvents(trace_id, kMaxTraceErrors, &errors);
    if (!status.ok()) {
      return StoreFailure(status, "error events of trace " + trace_id);
    }
    if (stored.empty() && errors.empty()) {
      return http::HttpResponse::Error(404, "trace " + trace_id + " not found");
    }
    std::vector<tracing::Transaction> txs;
    txs.reserve(stored.size());
    for (model::StoredTransaction& t : stored) {
      txs.push_back(std::move(t.transaction));
    }
    tracing::TraceTreeOptions tree_options;
    tree_options.max_transactions = kMaxTraceTransactions;
    tree_options.max_nodes = kMaxTraceNodes;
    const tracing::TraceTree tree = tracing::BuildTraceTree(txs, tree_options);

    // The groups of the errors, each once, in order of first appearance.
    std::vector<model::Group> groups;
    for (const model::StoredEvent& e : errors) {
      bool seen = false;
      for (const model::Group& g : groups) seen = seen || g.id == e.group_id;
      if (seen) continue;
      model::Group group;
      status = store_->GetGroup(e.group_id, &group);
      if (status.code() == Status::Code::kNotFound) continue;  // retention
      if (!status.ok()) {
        return StoreFailure(status, "group " + std::to_string(e.group_id));
      }
      groups.push_back(std::move(group));
    }

    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    WriteField(&w, "trace_id", trace_id);
    w.Key("transactions");
    w.Uint64(txs.size() - tree.duplicate_transactions - tree.transactions_cut);
    w.Key("nodes");
    w.StartArray();
    for (size_t i = 0; i < tree.nodes.size(); ++i) {
      WriteTraceNode(&w, tree, i, txs);
    }
    w.EndArray();
    w.Key("roots");
    w.StartArray();
    for (size_t root : tree.roots) w.Uint64(root);
    w.EndArray();
    w.Key("errors");
    w.StartArray();
    for (const model::StoredEvent& e : errors) {
      w.StartObject();
      WriteField(&w, "event_id", e.event_id);
      w.Key("group_id");
      w.Int64(e.group_id);
      WriteField(&w, "title", e.title);
      WriteOptionalField(&w, "span_id", e.span_id);
      w.Key("timestamp");
      WriteTime(&w, e.timestamp);
      // The first node whose span id is the error's (bounded: nodes are).
      w.Key("node");
      size_t node = tracing::kNoIndex;
      for (size_t i = 0; !e.span_id.empty() && i < tree.nodes.size(); ++i) {
        const tracing::TraceNode& n = tree.nodes[i];
        const tracing::Transaction& tx = txs[n.transaction];
        const std::string& span_id =
            n.span == tracing::kNoIndex ? tx.span_id : tx.spans[n.span].span_id;
        if (span_id == e.span_id) {
          node = i;
          break;
        }
      }
      if (node == tracing::kNoIndex) {
        w.Null();
      } else {
        w.Uint64(node);
      }
      w.EndObject();
    }
    w.EndArray();
    w.Key("groups");
    w.StartArray();
    for (const model::Group& g : groups) {
      w.StartObject();
      w.Key("id");
      w.Int64(g.id);
      WriteField(&w, "title", g.title);
      w.Key("status");
      w.String(std::string(model::ToString(g.status)).c_str());
      w.Key("count");
      w.Int64(g.count);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return JsonOk(200, buffer);
  }

 private:
  http::HttpResponse GroupResponse(const model::Group& group) const {
    return GroupAnswer(store_, group, options_.base_url);
  }

  // The filters GET /api/v1/transactions and /summary share: project,
  // service, transaction, status, min_duration, since. False with the 400
  // in `*error`.
  static bool TransactionFilters(const http::HttpRequest& request,
                                 store::TransactionQuery* query,
                                 http::HttpResponse* error) {
    std::string message;
    if (!ProjectFilter(request, &query->project, error)) return false;
    if (!StringFilter(request, "service", &query->service, error) ||
        !StringFilter(request, "transaction", &query->transaction, error)) {
      return false;
    }
    query->status = request.QueryParam("status");
    if (!query->status.empty() &&
        tracing::CanonicalSpanStatus(query->status) != query->status) {
      *error = http::HttpResponse::Error(
          400, InvalidParam("status", query->status,
                            "use a Sentry span status (ok, cancelled, "
                            "unknown, internal_error, deadline_exceeded, "
                            "...)"));
      return false;
    }
    if (request.HasQueryParam("min_duration") &&
        !ParseSecondsParam("min_duration", request.QueryParam("min_duration"),
                           &query->min_duration, &message)) {
      *error = http::HttpResponse::Error(400, message);
      return false;
    }
    if (request.HasQueryParam("since") &&
        !ParseSinceParam(request.QueryParam("since"), &query->since,
                         &message)) {
      *error = http::HttpResponse::Error(400, message);
      return false;
    }
    return true;
  }

  // The node of a trace tree for JSON: kind, ids, names, times.
  static void WriteTraceNode(JsonWriter* w, const tracing::TraceTree& tree,
                             size_t index,
                             const std::vector<tracing::Transaction>& txs) {
    const tracing::TraceNode& node = tree.nodes[index];
    const tracing::Transaction& tx = txs[node.transaction];
    const bool is_span = node.span != tracing::kNoIndex;
    w->StartObject();
    w->Key("kind");
    w->String(is_span ? "span" : "transaction");
    WriteField(w, "event_id", tx.event_id);
    WriteField(w, "transaction", tx.name);
    double start = tx.start, end = tx.end;
    if (is_span) {
      const tracing::Span& span = tx.spans[node.span];
      start = span.start;
      end = span.end;
      WriteField(w, "span_id", span.span_id);
      WriteOptionalField(w, "parent_span_id", span.parent_span_id);
      WriteField(w, "op", span.op);
      WriteField(w, "description", span.description);
      WriteField(w, "status", span.status);
    } else {
      WriteField(w, "span_id", tx.span_id);
      WriteOptionalField(w, "parent_span_id", tx.parent_span_id);
      WriteField(w, "op", tx.op);
      w->Key("description");
      w->Null();
      WriteField(w, "status", tx.status);
    }
    w->Key("start_timestamp");
    WriteTime(w, start);
    w->Key("timestamp");
    WriteTime(w, end);
    w->Key("duration");
    WriteSeconds(w, end - start);
    w->Key("depth");
    w->Uint64(node.depth);
    w->Key("parent");
    if (node.parent == tracing::kNoIndex) {
      w->Null();
    } else {
      w->Uint64(node.parent);
    }
    w->Key("children");
    w->StartArray();
    for (size_t child : node.children) w->Uint64(child);
    w->EndArray();
    w->EndObject();
  }

  void WriteProjectWithDsn(JsonWriter* w, const model::Project& p) const {
    const std::string dsn =
        model::FormatDsn(options_.base_url, p.public_key, p.id);
    WriteProject(w, p, dsn,
                 model::FormatShortDsn(options_.base_url, p.public_key));
  }

  http::Router* const router_;
  store::Store* const store_;
  RestOptions options_;
};

}  // namespace

void RegisterRestRoutes(http::Router* router, store::Store* store,
                        const RestOptions& options) {
  auto h = std::make_shared<RestHandlers>(router, store, options);
  using Method = http::HttpResponse (RestHandlers::*)(http::HttpRequest&);
  // Open routes: probes never need the admin token.
  auto open = [&](const char* method, const char* pattern, const char* summary,
                  Method m) {
    router->Add(
        method, pattern, summary,
        [h, m](http::HttpRequest& r) { return ((*h).*m)(r); },
        http::RouteKind::kProbe);
  };
  auto api = [&](const char* method, const char* pattern, const char* summary,
                 ParamList params, Method m) {
    AddApiRoute(router, options, method, pattern, summary, std::move(params),
                [h, m](http::HttpRequest& r) { return ((*h).*m)(r); });
  };
  open("GET", "/healthz", "Liveness probe: always 200 while serving",
       &RestHandlers::Healthz);
  open("GET", "/readyz", "Readiness probe: 503 with a reason when not ready",
       &RestHandlers::Readyz);
  api("GET", "/api/v1/openapi.json", "This OpenAPI document", {},
      &RestHandlers::OpenApi);
  api("GET", "/api/v1/projects", "List projects with their DSNs", {},
      &RestHandlers::ListProjects);
  api("POST", "/api/v1/projects", "Create a project and its DSN key", {},
      &RestHandlers::CreateProject);
  api("GET", "/api/v1/groups",
      "List error groups (filter, search, sort, paginate)", GroupListParams(),
      &RestHandlers::ListGroups);
  api("GET", "/api/v1/groups/{id}", "Get one error group", {},
      &RestHandlers::GetGroup);
  api("PATCH", "/api/v1/groups/{id}",
      "Set a group's status (resolved, ignored, unresolved)", {},
      &RestHandlers::PatchGroup);
  api("GET", "/api/v1/groups/{id}/events",
      "List a group's events, newest first", {{"limit"}, {"cursor"}},
      &RestHandlers::ListGroupEvents);
  api("GET", "/api/v1/events/{event_id}",
      "Get one event with its original payload", {}, &RestHandlers::GetEvent);
  api("GET", "/api/v1/crashes", "List Kubernetes pod crashes",
      {{"namespace"}, {"type"}, {"pod"}, {"since"}, {"limit"}, {"cursor"}},
      &RestHandlers::ListCrashes);
  api("GET", "/api/v1/crashes/{id}", "Get one pod crash with its logs", {},
      &RestHandlers::GetCrash);
  api("GET", "/api/v1/transactions",
      "List stored transactions (filter, sort, paginate)",
      {{"project"},
       {"service"},
       {"transaction"},
       {"status"},
       {"min_duration"},
       {"since"},
       {"sort"},
       {"limit"},
       {"cursor"}},
      &RestHandlers::ListTransactions);
  api("GET", "/api/v1/transactions/summary",
      "Count, error ratio and p50/p95/p99 per transaction name over a window",
      {{"project"}, {"service"}, {"since"}, {"until"}, {"limit"}},
      &RestHandlers::TransactionSummary);
  api("GET", "/api/v1/traces/{trace_id}",
      "One trace: its transactions as span trees, its errors and their "
      "groups",
      {}, &RestHandlers::GetTrace);
  RegisterReleaseRoutes(router, store, options);
  RegisterSearchRoutes(router, store, options);
  RegisterMonitorRoutes(router, store, options);  // cron monitors
  RegisterAttachmentRoutes(router, store, options);
  RegisterProjectRoutes(router, store, options);  // one project, its keys
}

}  // namespace rest
}  // namespace crashctl
