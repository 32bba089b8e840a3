#include "search_routes.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "crashctl/model/vocabulary.h"
#include "crashctl/search/query.h"
#include "crashctl/util/time.h"
#include "resource_json.h"
#include "rest_responses.h"

namespace crashctl {
namespace rest {
namespace {

constexpr double kDefaultStatsWindow = 24 * 3600;  // seconds
constexpr int64_t kDefaultTagValues = 10;
constexpr int64_t kMaxTagValues = 100;
// Pages of a user's events read to learn which groups a delete may empty.
constexpr int kMaxDeletePages = 100;

struct Interval {
  const char* name;
  int64_t seconds;
};
constexpr Interval kIntervals[] = {{"1m", 60}, {"1h", 3600}, {"1d", 86400}};

// The parameters both lists share, in the order the docs list them.
ParamList SharedListParams() {
  return {{"project"},       {"status"},  {"level"},
          {"service"},       {"release"}, {"environment"},
          {"first_release"}, {"user"},    {"tag", /*repeatable=*/true},
          {"since"},         {"until"},   {"query"},
          {"limit"},         {"cursor"}};
}

http::HttpResponse BadParam(const std::string& name, const std::string& value,
                            const std::string& why) {
  return http::HttpResponse::Error(400, InvalidParam(name, value, why));
}

// `tag=key:value`, repeatable (store::kMaxTagFilters at most).
bool TagParams(const http::HttpRequest& request,
               std::vector<store::TagFilter>* out, http::HttpResponse* error) {
  const std::vector<std::string> values = QueryParamValues(request, "tag");
  if (values.size() > store::kMaxTagFilters) {
    *error = http::HttpResponse::Error(
        400, "invalid \"tag\": at most " +
                 std::to_string(store::kMaxTagFilters) + " tag filters");
    return false;
  }
  for (const std::string& text : values) {
    const size_t colon = text.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
      *error = BadParam("tag", text, "give key:value");
      return false;
    }
    store::TagFilter tag{text.substr(0, colon), text.substr(colon + 1)};
    if (tag.key.size() > store::kMaxTagKeyBytes) {
      *error = BadParam("tag", text,
                        "the key is longer than " +
                            std::to_string(store::kMaxTagKeyBytes) + " bytes");
      return false;
    }
    if (tag.value.size() > store::kMaxTagValueBytes) {
      *error =
          BadParam("tag", text,
                   "the value is longer than " +
                       std::to_string(store::kMaxTagValueBytes) + " bytes");
      return false;
    }
    out->push_back(std::move(tag));
  }
  return true;
}

// An optional time parameter (ParseTimeParam); absent leaves `*out`.
bool TimeParam(const http::HttpRequest& request, const char* name, double* out,
               http::HttpResponse* error) {
  if (!request.HasQueryParam(name)) return true;
  std::string message;
  if (ParseTimeParam(name, request.QueryParam(name), out, &message)) {
    return true;
  }
  *error = http::HttpResponse::Error(400, message);
  return false;
}

// since < until when both are set.
bool TimeWindow(const http::HttpRequest& request, double* since, double* until,
                http::HttpResponse* error) {
  if (!TimeParam(request, "since", since, error) ||
      !TimeParam(request, "until", until, error)) {
    return false;
  }
  if (*since > 0 && *until > 0 && *since >= *until) {
    *error =
        BadParam("until", request.QueryParam("until"), "must be after since");
    return false;
  }
  return true;
}

// A list of positive ids: 1..store::kMaxBulkGroups of them. `name` names
// them in errors.
bool IdList(const std::string& name, const std::vector<std::string>& texts,
            std::vector<int64_t>* out, http::HttpResponse* error) {
  if (texts.empty() || texts.size() > store::kMaxBulkGroups) {
    *error = http::HttpResponse::Error(
        400, "invalid \"" + name + "\": give 1 to " +
                 std::to_string(store::kMaxBulkGroups) + " group ids");
    return false;
  }
  for (const std::string& text : texts) {
    int64_t id = 0;
    if (!ParsePositiveId(text, &id)) {
      *error = BadParam(name, text, "must be a positive id");
      return false;
    }
    out->push_back(id);
  }
  return true;
}

// Body {"status": "..."}: a group status.
bool StatusBody(const http::HttpRequest& request, model::GroupStatus* out,
                http::HttpResponse* error) {
  rapidjson::Document doc;
  if (!ParseJsonObjectBody(request, &doc, error)) return false;
  const std::string spellings =
      model::JoinedSpellings(model::AllGroupStatuses());
  auto it = doc.FindMember("status");
  if (it == doc.MemberEnd() || !it->value.IsString()) {
    *error = http::HttpResponse::Error(
        400, "body needs \"status\": one of " + spellings);
    return false;
  }
  const std::string text(it->value.GetString(), it->value.GetStringLength());
  if (!model::ParseGroupStatus(text, out)) {
    *error = BadParam("status", text, "use one of " + spellings);
    return false;
  }
  for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) {
    const std::string key(m->name.GetString(), m->name.GetStringLength());
    if (key != "status") {
      *error = http::HttpResponse::Error(
          400, "unknown body field " + Shown(key) + ": use status");
      return false;
    }
  }
  return true;
}

class SearchHandlers {
 public:
  SearchHandlers(store::Store* store, const RestOptions& options)
      : store_(store), options_(options) {
    while (!options_.base_url.empty() && options_.base_url.back() == '/') {
      options_.base_url.pop_back();
    }
  }

  http::HttpResponse ListEvents(http::HttpRequest& request) {
    store::GroupQuery filters;
    http::HttpResponse error;
    if (!ParseListFilters(request, &filters, &error)) return error;
    store::EventQuery query;
    CopyListFilters(filters, &query);
    if (!IdFilter(request, "group", &query.group, &error)) return error;
    model::Page<model::StoredEvent> page;
    Status status = store_->ListEvents(query, &page);
    if (!status.ok()) return StoreFailure(status, "listing events");
    return PageJson(page, [this](JsonWriter* w, const model::StoredEvent& e) {
      WriteEvent(w, e, options_.base_url, /*with_payload=*/false);
    });
  }

  http::HttpResponse Stats(http::HttpRequest& request) {
    int64_t id = 0;
    http::HttpResponse error;
    if (!GroupIdParam(request, &id, &error)) return error;
    store::StatsQuery query;
    query.group_id = id;
    const char* interval_name = "1h";
    if (request.HasQueryParam("interval")) {
      const std::string text = request.QueryParam("interval");
      bool found = false;
      for (const Interval& i : kIntervals) {
        if (text == i.name) {
          query.interval = i.seconds;
          interval_name = i.name;
          found = true;
        }
      }
      if (!found) return BadParam("interval", text, "use one of 1m, 1h, 1d");
    }
    if (!TimeWindow(request, &query.since, &query.until, &error)) return error;
    if (query.until <= 0) query.until = util::NowSeconds();
    if (query.since <= 0) {
      if (request.HasQueryParam("since")) {
        // since=0 is the epoch itself, not "the default".
        query.since = 0;
      } else {
        query.since = query.until - kDefaultStatsWindow;
      }
    }
    if (query.since >= query.until) {
      return BadParam("since", request.QueryParam("since"),
                      "must be before until");
    }
    const double first =
        std::floor(query.since / static_cast<double>(query.interval)) *
        static_cast<double>(query.interval);
    const double buckets =
        std::ceil((query.until - first) / static_cast<double>(query.interval));
    if (buckets > static_cast<double>(store::kMaxStatBuckets)) {
      return http::HttpResponse::Error(
          400, "invalid \"since\": the window holds " +
                   std::to_string(static_cast<int64_t>(buckets)) + " " +
                   interval_name + " buckets; at most " +
                   std::to_string(store::kMaxStatBuckets) +
                   " (narrow since/until or use a longer interval)");
    }
    std::vector<model::StatBucket> out;
    Status status = store_->GroupStats(query, &out);
    if (!status.ok()) {
      return StoreFailure(status, "stats of group " + std::to_string(id));
    }
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("group");
    w.Int64(id);
    w.Key("interval");
    w.String(interval_name);
    w.Key("since");
    WriteTime(&w, query.since);
    w.Key("until");
    WriteTime(&w, query.until);
    int64_t total = 0;
    w.Key("buckets");
    w.StartArray();
    for (const model::StatBucket& b : out) {
      w.StartObject();
      w.Key("start");
      WriteTime(&w, b.start);
      w.Key("count");
      w.Int64(b.count);
      w.EndObject();
      total += b.count;
    }
    w.EndArray();
    w.Key("total");
    w.Int64(total);
    w.EndObject();
    return JsonOk(200, buffer);
  }

  http::HttpResponse Tags(http::HttpRequest& request) {
    int64_t id = 0;
    http::HttpResponse error;
    if (!GroupIdParam(request, &id, &error)) return error;
    int64_t top = kDefaultTagValues;
    if (request.HasQueryParam("top")) {
      const std::string text = request.QueryParam("top");
      if (!ParsePositiveId(text, &top) || top > kMaxTagValues) {
        return BadParam(
            "top", text,
            "must be an integer from 1 to " + std::to_string(kMaxTagValues));
      }
    }
    std::vector<model::TagSummary> tags;
    Status status = store_->GroupTags(id, static_cast<size_t>(top), &tags);
    if (!status.ok()) {
      return StoreFailure(status, "tags of group " + std::to_string(id));
    }
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("group");
    w.Int64(id);
    w.Key("items");
    w.StartArray();
    for (const model::TagSummary& t : tags) {
      w.StartObject();
      WriteField(&w, "key", t.key);
      w.Key("values");
      w.Int64(t.values);
      w.Key("events");
      w.Int64(t.events);
      w.Key("other_count");
      w.Int64(t.other_count);
      w.Key("top");
      w.StartArray();
      for (const model::TagValueCount& v : t.top) {
        w.StartObject();
        WriteField(&w, "value", v.value);
        w.Key("count");
        w.Int64(v.count);
        w.Key("first_seen");
        WriteTime(&w, v.first_seen);
        w.Key("last_seen");
        WriteTime(&w, v.last_seen);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return JsonOk(200, buffer);
  }

  http::HttpResponse PatchGroups(http::HttpRequest& request) {
    std::vector<int64_t> ids;
    http::HttpResponse error;
    if (!IdList("id", QueryParamValues(request, "id"), &ids, &error)) {
      return error;
    }
    model::GroupStatus new_status;
    if (!StatusBody(request, &new_status, &error)) return error;
    std::vector<model::Group> groups;
    Status status = store_->SetGroupsStatus(ids, new_status, &groups);
    if (!status.ok()) return StoreFailure(status, "changing groups");
    spdlog::info("rest: {} groups set to {}", groups.size(),
                 model::ToString(new_status));
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("items");
    w.StartArray();
    for (const model::Group& g : groups) WriteGroup(&w, g, options_.base_url);
    w.EndArray();
    w.Key("next_cursor");
    w.Null();
    w.EndObject();
    return JsonOk(200, buffer);
  }

  http::HttpResponse Merge(http::HttpRequest& request) {
    int64_t into = 0;
    http::HttpResponse error;
    if (!GroupIdParam(request, &into, &error)) return error;
    rapidjson::Document doc;
    if (!ParseJsonObjectBody(request, &doc, &error)) return error;
    auto it = doc.FindMember("from");
    const std::string need = "body needs \"from\": an array of 1 to " +
                             std::to_string(store::kMaxBulkGroups) +
                             " group ids";
    if (it == doc.MemberEnd() || !it->value.IsArray()) {
      return http::HttpResponse::Error(400, need);
    }
    for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) {
      const std::string key(m->name.GetString(), m->name.GetStringLength());
      if (key != "from") {
        return http::HttpResponse::Error(
            400, "unknown body field " + Shown(key) + ": use from");
      }
    }
    const auto& array = it->value;
    if (array.Empty() || array.Size() > store::kMaxBulkGroups) {
      return http::HttpResponse::Error(400, need);
    }
    std::vector<int64_t> from;
    for (const auto& v : array.GetArray()) {
      if (!v.IsInt64() || v.GetInt64() <= 0) {
        return http::HttpResponse::Error(
            400, "invalid \"from\": every item must be a positive group id");
      }
      if (v.GetInt64() == into) {
        return http::HttpResponse::Error(
            400, "invalid \"from\": group " + std::to_string(into) +
                     " cannot be merged into itself");
      }
      from.push_back(v.GetInt64());
    }
    model::Group merged;
    Status status = store_->MergeGroups(into, from, &merged);
    if (!status.ok()) {
      return StoreFailure(status, "merging into group " + std::to_string(into));
    }
    spdlog::info("rest: merged {} groups into group {}", from.size(), into);
    if (options_.on_groups_merged) options_.on_groups_merged(into, from);
    return GroupAnswer(store_, merged, options_.base_url);
  }

  http::HttpResponse DeleteGroup(http::HttpRequest& request) {
    int64_t id = 0;
    http::HttpResponse error;
    if (!GroupIdParam(request, &id, &error)) return error;
    Status status = store_->DeleteGroup(id);
    if (!status.ok()) {
      return StoreFailure(status, "deleting group " + std::to_string(id));
    }
    spdlog::info("rest: deleted group {}", id);
    if (options_.on_groups_deleted) options_.on_groups_deleted({id});
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("deleted_groups");
    w.StartArray();
    w.Int64(id);
    w.EndArray();
    w.EndObject();
    return JsonOk(200, buffer);
  }

  http::HttpResponse DeleteEvents(http::HttpRequest& request) {
    store::EventDeletion which;
    http::HttpResponse error;
    if (!ProjectFilter(request, &which.project, &error)) return error;
    if (!StringFilter(request, "user", &which.user, &error)) return error;
    if (which.user.empty()) {
      return http::HttpResponse::Error(
          400, request.HasQueryParam("user")
                   ? "invalid \"user\": must not be empty"
                   : "DELETE /api/v1/events needs \"user\" (the user key; "
                     "\"project\" narrows it to one project)");
    }
    // The groups the user's events are in: those the delete empties are
    // deleted with them, and the metrics must forget them.
    std::set<int64_t> candidates;
    if (options_.on_groups_deleted) CandidateGroups(which, &candidates);
    int64_t deleted = 0;
    Status status = store_->DeleteEvents(which, &deleted);
    if (!status.ok()) return StoreFailure(status, "deleting events");
    std::vector<int64_t> gone;
    for (int64_t group_id : candidates) {
      model::Group group;
      if (store_->GetGroup(group_id, &group).code() ==
          Status::Code::kNotFound) {
        gone.push_back(group_id);
      }
    }
    spdlog::info("rest: deleted {} events of a user ({} groups emptied)",
                 deleted, gone.size());
    if (options_.on_groups_deleted && !gone.empty()) {
      options_.on_groups_deleted(gone);
    }
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("deleted_events");
    w.Int64(deleted);
    w.Key("deleted_groups");
    w.StartArray();
    for (int64_t g : gone) w.Int64(g);
    w.EndArray();
    w.EndObject();
    return JsonOk(200, buffer);
  }

 private:
  // The groups of `which`'s events, read in at most kMaxDeletePages pages
  // (a best effort: a store without ListEvents gives none).
  void CandidateGroups(const store::EventDeletion& which,
                       std::set<int64_t>* out) const {
    store::EventQuery query;
    query.project = which.project;
    query.user = which.user;
    query.limit = 1000;
    for (int page_no = 0; page_no < kMaxDeletePages; ++page_no) {
      model::Page<model::StoredEvent> page;
      if (!store_->ListEvents(query, &page).ok()) return;
      for (const model::StoredEvent& e : page.items) out->insert(e.group_id);
      if (page.next_cursor.empty()) return;
      query.cursor = page.next_cursor;
    }
  }

  store::Store* const store_;
  RestOptions options_;
};

}  // namespace

bool StringFilter(const http::HttpRequest& request, const char* name,
                  std::string* out, http::HttpResponse* error) {
  *out = request.QueryParam(name);
  if (out->size() <= kMaxFilterBytes) return true;
  *error = BadParam(
      name, *out, "longer than " + std::to_string(kMaxFilterBytes) + " bytes");
  return false;
}

ParamList GroupListParams() {
  ParamList params = SharedListParams();
  params.push_back({"sort"});
  return params;
}

ParamList EventListParams() {
  ParamList params = SharedListParams();
  params.push_back({"group"});
  return params;
}

bool ParseListFilters(const http::HttpRequest& request,
                      store::GroupQuery* query, http::HttpResponse* error) {
  if (!ProjectFilter(request, &query->project, error)) return false;
  const std::string status_text = request.QueryParam("status");
  // "" = any, as the string filters (a dashboard's "All").
  if (!status_text.empty()) {
    model::GroupStatus status;
    if (!model::ParseGroupStatus(status_text, &status)) {
      *error = BadParam(
          "status", status_text,
          "use one of " + model::JoinedSpellings(model::AllGroupStatuses()));
      return false;
    }
    query->status = status;
  }
  const std::string level_text = request.QueryParam("level");
  if (!level_text.empty()) {
    model::Level level;
    if (!model::ParseLevel(level_text, &level)) {
      *error =
          BadParam("level", level_text,
                   "use one of " + model::JoinedSpellings(model::AllLevels()));
      return false;
    }
    query->level = level;
  }
  if (!StringFilter(request, "service", &query->service, error) ||
      !StringFilter(request, "release", &query->release, error) ||
      !StringFilter(request, "environment", &query->environment, error) ||
      !StringFilter(request, "first_release", &query->first_release, error) ||
      !StringFilter(request, "user", &query->user, error) ||
      !TagParams(request, &query->tags, error) ||
      !TimeWindow(request, &query->since, &query->until, error)) {
    return false;
  }
  if (!request.QueryParam("query").empty()) {  // "" = no search
    search::Query parsed;
    const Status status =
        search::ParseQuery(request.QueryParam("query"), &parsed);
    if (status.code() == Status::Code::kInvalid) {
      *error = http::HttpResponse::Error(
          400, "invalid \"query\": " + status.message());
      return false;
    }
    if (!status.ok()) {
      *error = StoreFailure(status, "parsing \"query\"");
      return false;
    }
    query->query = std::move(parsed);
  }
  std::string message;
  if (!ParseLimitParam(request, &query->limit, &message)) {
    *error = http::HttpResponse::Error(400, message);
    return false;
  }
  query->cursor = request.QueryParam("cursor");
  return true;
}

void CopyListFilters(const store::GroupQuery& from, store::EventQuery* to) {
  to->project = from.project;
  to->status = from.status;
  to->level = from.level;
  to->service = from.service;
  to->release = from.release;
  to->environment = from.environment;
  to->first_release = from.first_release;
  to->user = from.user;
  to->tags = from.tags;
  to->since = from.since;
  to->until = from.until;
  to->query = from.query;
  to->limit = from.limit;
  to->cursor = from.cursor;
}

void RegisterSearchRoutes(http::Router* router, store::Store* store,
                          const RestOptions& options) {
  auto h = std::make_shared<SearchHandlers>(store, options);
  using Method = http::HttpResponse (SearchHandlers::*)(http::HttpRequest&);
  auto api = [&](const char* method, const char* pattern, const char* summary,
                 ParamList params, Method m) {
    AddApiRoute(router, options, method, pattern, summary, std::move(params),
                [h, m](http::HttpRequest& r) { return ((*h).*m)(r); });
  };
  api("GET", "/api/v1/events",
      "List events across groups, newest first (filter, search, paginate)",
      EventListParams(), &SearchHandlers::ListEvents);
  api("GET", "/api/v1/groups/{id}/stats",
      "A group's event counts per minute, hour or day, zero-filled",
      {{"interval"}, {"since"}, {"until"}}, &SearchHandlers::Stats);
  api("GET", "/api/v1/groups/{id}/tags",
      "A group's tag keys with their most frequent values", {{"top"}},
      &SearchHandlers::Tags);
  api("PATCH", "/api/v1/groups",
      "Set the status of several groups at once (?id=..&id=..)",
      {{"id", /*repeatable=*/true}}, &SearchHandlers::PatchGroups);
  api("POST", "/api/v1/groups/{id}/merge",
      "Merge other groups (their events and fingerprints) into this one", {},
      &SearchHandlers::Merge);
  api("DELETE", "/api/v1/groups/{id}",
      "Delete a group with its events, links and attachments", {},
      &SearchHandlers::DeleteGroup);
  api("DELETE", "/api/v1/events",
      "Delete a user's events (data-protection requests)",
      {{"user"}, {"project"}}, &SearchHandlers::DeleteEvents);
}

}  // namespace rest
}  // namespace crashctl
