#include "crashctl/ingest/handlers.h"

#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <ctime>
#include <filesystem>

#include "auth.h"
#include "crashctl/cron/monitor_service.h"
#include "crashctl/grouping/grouping.h"
#include "crashctl/health/session_service.h"
#include "crashctl/ingest/metrics.h"
#include "crashctl/ingest/normalize.h"
#include "crashctl/ingest/trace_sampling.h"
#include "crashctl/ingest/transaction_metrics.h"
#include "crashctl/model/dsn.h"
#include "crashctl/releases/check_in.h"
#include "crashctl/releases/client_report.h"
#include "crashctl/releases/sessions.h"
#include "crashctl/util/strings.h"
#include "crashctl/util/time.h"
#include "decompress.h"
#include "envelope.h"
#include "items.h"

namespace crashctl {
namespace ingest {
namespace {

bool ParseProjectId(const std::string& text, int64_t* id) {
  if (text.empty() || text.size() > 18) return false;
  int64_t value = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    value = value * 10 + (c - '0');
  }
  if (value <= 0) return false;
  *id = value;
  return true;
}

std::string IdBody(const std::string& id) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("id");
  writer.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Envelope item types crashctl accepts without storing them as events.
bool IsEventItem(const std::string& type) { return type == "event"; }

// Finds the top-level "type" of a JSON object with rapidjson's SAX reader
// (no document built) and stops there.
class TopLevelTypeHandler
    : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>,
                                          TopLevelTypeHandler> {
 public:
  bool Default() { return Value(); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (depth_ == 1 && want_) {
      type_.assign(s, n);
      return false;  // found: stop parsing
    }
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    want_ = depth_ == 1 && std::string_view(s, n) == "type";
    return true;
  }
  bool StartObject() { return Open(); }
  bool EndObject(rapidjson::SizeType) { return --depth_ > 0; }
  bool StartArray() { return Open(); }
  bool EndArray(rapidjson::SizeType) {
    --depth_;
    return true;
  }
  const std::string& type() const { return type_; }

 private:
  bool Value() { return !(depth_ == 1 && want_); }  // "type" not text: stop
  bool Open() {
    if (!Value()) return false;
    ++depth_;  // no bound needed: the iterative parser does not recurse
    return true;
  }
  int depth_ = 0;
  bool want_ = false;
  std::string type_;
};

// True when `body` holds the text `"type"`, blanks, `:`, blanks,
// `"transaction"` somewhere: a cheap scan, so that the SAX pass below runs
// for transactions only, not for every event with a "transaction" key.
bool MayHaveTransactionType(std::string_view body) {
  constexpr std::string_view kKey = "\"type\"";
  constexpr std::string_view kValue = "\"transaction\"";
  auto blank = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  };
  for (size_t at = body.find(kKey); at != std::string_view::npos;
       at = body.find(kKey, at + 1)) {
    size_t i = at + kKey.size();
    while (i < body.size() && blank(body[i])) ++i;
    if (i >= body.size() || body[i] != ':') continue;
    ++i;
    while (i < body.size() && blank(body[i])) ++i;
    if (body.compare(i, kValue.size(), kValue) == 0) return true;
  }
  return false;
}

// True when `body` is a JSON object whose top-level "type" is
// "transaction" (a /store/ body carrying a Sentry transaction).
bool IsTransactionBody(const std::string& body) {
  if (!MayHaveTransactionType(body)) return false;
  TopLevelTypeHandler handler;
  rapidjson::Reader reader;
  rapidjson::StringStream stream(body.c_str());
  reader.Parse<rapidjson::kParseIterativeFlag |
               rapidjson::kParseStopWhenDoneFlag>(stream, handler);
  return handler.type() == "transaction";
}

}  // namespace

IngestHandlers::IngestHandlers(store::Store* store, IngestPipeline* pipeline,
                               Metrics* metrics, Options options)
    : store_(store),
      pipeline_(pipeline),
      metrics_(metrics),
      options_(options),
      keys_(store, options_.keys) {}

size_t IngestHandlers::RemoveStaleSpoolFiles(const std::string& dir) {
  const size_t removed = Spool::RemoveStale(dir);
  if (removed > 0) {
    spdlog::info("ingest: deleted {} spool files left in {}", removed, dir);
  }
  return removed;
}

void IngestHandlers::Register(http::Router* router) {
  // Requests the HTTP server refuses before a handler runs (framing, slow or
  // oversized bodies) are ingestion refusals too.
  auto refused = [this](const std::string& reason) {
    if (metrics_) metrics_->Rejected(reason);
  };
  router->Add(
      "POST", "/api/{project_id}/envelope/", "Ingest a Sentry envelope",
      [this](http::HttpRequest& r) { return HandleEnvelope(r); },
      http::RouteKind::kIngest, refused);
  router->Add(
      "POST", "/api/{project_id}/store/",
      "Ingest one Sentry event (store endpoint)",
      [this](http::HttpRequest& r) { return HandleStore(r); },
      http::RouteKind::kIngest, refused);
  router->Add(
      "POST", "/api/v1/events",
      "Ingest one Sentry event (short DSN form, ?key=KEY)",
      [this](http::HttpRequest& r) { return HandleShortForm(r); },
      http::RouteKind::kIngest, refused);
  // Cron check-ins (Relay's form), with or without the key segment.
  for (const char* method : {"POST", "GET"}) {
    for (const char* pattern : {"/api/{project_id}/cron/{monitor_slug}/",
                                "/api/{project_id}/cron/{monitor_slug}/"
                                "{sentry_key}/"}) {
      router->Add(
          method, pattern, "Cron monitor check-in (Sentry's HTTP form)",
          [this](http::HttpRequest& r) { return HandleCron(r); },
          http::RouteKind::kIngest, refused);
    }
  }
}

http::HttpResponse IngestHandlers::Refuse(const Refusal& refusal) {
  if (metrics_) metrics_->Rejected(refusal.reason);
  spdlog::debug("ingest: refused ({} {}): {}", refusal.status, refusal.reason,
                refusal.message);
  return http::HttpResponse::Error(refusal.status, refusal.message);
}

http::HttpResponse IngestHandlers::StorageUnavailable(const Status& status) {
  http::HttpResponse response =
      Refuse({503, "storage", "storage unavailable: " + status.message()});
  response.headers.emplace_back("Retry-After", "5");
  return response;
}

bool IngestHandlers::DecodeBody(const http::HttpRequest& request,
                                std::string* out, Refusal* refusal) {
  const std::string encoding = request.Header("content-encoding");
  switch (Decompress(encoding, request.body, options_.max_request_bytes, out)) {
    case DecompressStatus::kOk:
      return true;
    case DecompressStatus::kTooLarge:
      *refusal = {413, "too_large",
                  "request body exceeds " +
                      std::to_string(options_.max_request_bytes) +
                      " bytes after decompression"};
      return false;
    case DecompressStatus::kCorrupt:
      *refusal = {400, "decompression",
                  "body is not valid " + encoding + " data"};
      return false;
    case DecompressStatus::kUnsupportedEncoding:
      *refusal = {415, "unsupported_encoding",
                  "unsupported Content-Encoding \"" + encoding +
                      "\" (gzip, deflate and identity are accepted)"};
      return false;
  }
  return false;
}

bool IngestHandlers::ResolveKey(const std::string& public_key,
                                model::Project* project, model::ProjectKey* key,
                                Refusal* refusal) {
  model::ProjectKey found;
  if (!keys_.Find(public_key, &found)) {
    *refusal = {403, "auth", "unknown key"};
    return false;
  }
  if (!found.active) {
    *refusal = {403, "key_disabled", "key is disabled"};
    return false;
  }
  project->id = found.project_id;
  if (key != nullptr) *key = std::move(found);
  return true;
}

bool IngestHandlers::AdmitByRate(const model::ProjectKey& key, int64_t events,
                                 http::HttpResponse* response) {
  if (events <= 0 || key.rate_limit_per_minute <= 0) return true;
  const int64_t wait =
      rate_limiter_.Acquire(key.id, key.rate_limit_per_minute, events);
  if (wait == 0) return true;
  *response = Refuse({429, "rate_limited",
                      "key is over its rate limit of " +
                          std::to_string(key.rate_limit_per_minute) +
                          " events per minute, retry after " +
                          std::to_string(wait) + "s"});
  for (auto& header : KeyRateLimitHeaders(wait)) {
    response->headers.push_back(std::move(header));
  }
  return false;
}

bool IngestHandlers::Authenticate(const http::HttpRequest& request,
                                  const std::string& path_id,
                                  const std::string& envelope_dsn,
                                  model::Project* project, Refusal* refusal,
                                  model::ProjectKey* key) {
  int64_t project_id = 0;
  if (!path_id.empty() && !ParseProjectId(path_id, &project_id)) {
    *refusal = {400, "unknown_project",
                "project id \"" + path_id + "\" is not a positive integer"};
    return false;
  }
  // Every place a key can come from; all that are present must agree.
  std::vector<std::pair<std::string, std::string>> offered;
  const std::string query_key = request.QueryParam("sentry_key");
  if (!query_key.empty()) offered.emplace_back("sentry_key", query_key);
  const std::string key_param = request.QueryParam("key");
  if (!key_param.empty()) offered.emplace_back("key", key_param);
  std::string header = request.Header("x-sentry-auth");
  if (header.empty()) {
    const std::string authorization = request.Header("authorization");
    if (authorization.rfind("Sentry ", 0) == 0) header = authorization;
  }
  const std::string header_key = SentryKeyFromAuthHeader(header);
  if (!header_key.empty()) offered.emplace_back("X-Sentry-Auth", header_key);
  if (!envelope_dsn.empty()) {
    model::Dsn dsn;
    if (!model::ParseDsn(envelope_dsn, &dsn)) {
      *refusal = {401, "auth", "envelope header dsn is not a valid DSN"};
      return false;
    }
    if (project_id != 0 && dsn.project_id != project_id) {
      *refusal = {403, "auth",
                  "envelope dsn names project " +
                      std::to_string(dsn.project_id) + ", the URL project " +
                      path_id};
      return false;
    }
    offered.emplace_back("envelope dsn", dsn.public_key);
  }
  if (offered.empty()) {
    *refusal = {401, "auth",
                "missing Sentry key (sentry_key query parameter, "
                "X-Sentry-Auth header or envelope dsn)"};
    return false;
  }
  for (const auto& source : offered) {
    if (source.second != offered.front().second) {
      *refusal = {401, "auth",
                  "keys disagree: " + offered.front().first + " and " +
                      source.first + " carry different keys"};
      return false;
    }
  }
  if (!ResolveKey(offered.front().second, project, key, refusal)) {
    return false;
  }
  if (project_id != 0 && project->id != project_id) {
    *refusal = {403, "auth",
                "key does not belong to project " + std::to_string(project_id)};
    return false;
  }
  return true;
}

bool IngestHandlers::PrepareEvent(const std::string& payload,
                                  int64_t project_id,
                                  const std::string& remote_addr,
                                  model::WriteItem* item, Refusal* refusal,
                                  const std::string& sentry_client) {
  if (payload.size() > options_.max_event_bytes) {
    *refusal = {413, "too_large",
                "event of " + std::to_string(payload.size()) +
                    " bytes exceeds the limit of " +
                    std::to_string(options_.max_event_bytes)};
    return false;
  }
  std::string error;
  NormalizeOptions normalize = options_.normalize;
  normalize.remote_addr = remote_addr;
  NormalizeReport report;
  if (!NormalizeEvent(payload, project_id, util::NowSeconds(), normalize,
                      &item->event, &report, &error)) {
    *refusal = {400, "malformed_json", "invalid event: " + error};
    return false;
  }
  if (item->event.sdk_name.empty() && !sentry_client.empty()) {
    // "raven-python/6.10.0": name and version at the last '/'.
    const size_t slash = sentry_client.rfind('/');
    item->event.sdk_name = sentry_client.substr(0, slash);
    if (slash != std::string::npos) {
      item->event.sdk_version = sentry_client.substr(slash + 1);
    }
    util::TruncateUtf8(&item->event.sdk_name, 128);
    util::TruncateUtf8(&item->event.sdk_version, 128);
  }
  if (metrics_ && report.rewritten()) {
    if (report.depth_cuts > 0) metrics_->Adjusted("depth_limit");
    if (report.scrubbed > 0) metrics_->Adjusted("scrubbed");
    if (report.future_timestamp) metrics_->Adjusted("future_timestamp");
    if (report.past_timestamp) metrics_->Adjusted("past_timestamp");
  }
  item->grouping = grouping::ComputeGrouping(item->event);
  store_->PrepareWrite(item);
  return true;
}

bool IngestHandlers::PrepareTransaction(const std::string& payload,
                                        tracing::Transaction* tx,
                                        Refusal* refusal) {
  if (payload.size() > options_.max_event_bytes) {
    *refusal = {413, "too_large",
                "transaction of " + std::to_string(payload.size()) +
                    " bytes exceeds the limit of " +
                    std::to_string(options_.max_event_bytes)};
    return false;
  }
  const Status status = tracing::NormalizeTransaction(
      payload, util::NowSeconds(), options_.transaction, tx);
  if (!status.ok()) {
    *refusal = {400, "invalid_transaction",
                "invalid transaction: " + status.message()};
    return false;
  }
  if (metrics_) {
    if (tx->time_adjustment == tracing::TimeAdjustment::kFuture) {
      metrics_->Adjusted("future_timestamp");
    } else if (tx->time_adjustment == tracing::TimeAdjustment::kPast) {
      metrics_->Adjusted("past_timestamp");
    }
  }
  return true;
}

http::HttpResponse IngestHandlers::Commit(
    std::vector<model::WriteItem> items,
    std::vector<tracing::Transaction> accepted, size_t invalid,
    int64_t project_id, const std::string& id,
    std::chrono::steady_clock::time_point start) {
  // Which of the accepted transactions are stored (per trace id).
  std::vector<model::StoredTransaction> transactions;
  std::vector<size_t> stored_index;  // in `accepted`, per transaction
  const double now = util::NowSeconds();
  for (size_t i = 0; i < accepted.size(); ++i) {
    if (!StoreTrace(accepted[i].trace_id, options_.store_sample_rate)) {
      continue;
    }
    model::StoredTransaction stored;
    stored.project_id = project_id;
    stored.received = now;
    stored.transaction = accepted[i];
    store_->PrepareTransactionWrite(&stored);  // off the one writer thread
    transactions.push_back(std::move(stored));
    stored_index.push_back(i);
  }
  TransactionMetrics* tx_metrics = options_.transaction_metrics;
  // Observes every accepted transaction; `outcomes` holds the outcome of
  // each stored one (by stored_index), the rest were sampled out.
  auto observe = [&](const std::vector<std::string>& outcomes) {
    if (tx_metrics == nullptr) return;
    for (size_t i = 0; i < invalid; ++i) {
      tx_metrics->Outcome(project_id, "invalid");
    }
    std::vector<const std::string*> outcome_of(accepted.size(), nullptr);
    for (size_t k = 0; k < stored_index.size(); ++k) {
      outcome_of[stored_index[k]] = &outcomes[k];
    }
    for (size_t i = 0; i < accepted.size(); ++i) {
      tx_metrics->Observe(project_id, accepted[i]);
      tx_metrics->Outcome(project_id,
                          outcome_of[i] ? *outcome_of[i] : "sampled_out");
    }
  };
  if (items.empty() && transactions.empty()) {
    observe({});
    return http::HttpResponse::Json(200, IdBody(id));
  }
  const size_t event_count = items.size();
  const std::shared_ptr<Completion> completion =
      pipeline_->Submit(std::move(items), std::move(transactions));
  if (!completion) {
    if (metrics_) metrics_->Rejected("queue_full");
    http::HttpResponse response = http::HttpResponse::Error(
        429, "ingest queue is full, retry after " +
                 std::to_string(options_.retry_after_seconds) + "s");
    const std::string seconds = std::to_string(options_.retry_after_seconds);
    response.headers.emplace_back("Retry-After", seconds);
    response.headers.emplace_back("X-Sentry-Rate-Limits",
                                  seconds + "::organization:queue_full");
    return response;
  }
  const auto deadline =
      start +
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(options_.commit_timeout_seconds));
  if (!completion->WaitUntil(deadline)) {
    if (metrics_) metrics_->Rejected("storage");
    http::HttpResponse response =
        http::HttpResponse::Error(503, "timed out waiting for storage");
    response.headers.emplace_back("Retry-After", "5");
    return response;
  }
  for (const IngestResult& result : completion->results()) {
    if (!result.status.ok()) return StorageUnavailable(result.status);
  }
  if (metrics_) {
    metrics_->ObserveIngestion(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::vector<std::string> outcomes;
  for (size_t k = event_count; k < completion->results().size(); ++k) {
    outcomes.push_back(completion->results()[k].outcome.duplicate ? "duplicate"
                                                                  : "stored");
  }
  observe(outcomes);
  return http::HttpResponse::Json(200, IdBody(id));
}

http::HttpResponse IngestHandlers::HandleEnvelope(http::HttpRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  Refusal refusal;
  std::string body;
  if (!DecodeBody(request, &body, &refusal)) return Refuse(refusal);
  Envelope envelope;
  std::string error;
  if (!ParseEnvelope(body, &envelope, &error)) {
    return Refuse({400, "bad_envelope", "invalid envelope: " + error});
  }
  model::Project project;
  model::ProjectKey key;
  if (!Authenticate(request, request.path_params["project_id"], envelope.dsn,
                    &project, &refusal, &key)) {
    return Refuse(refusal);
  }
  // The rate limit counts the envelope's events and transactions.
  int64_t limited_items = 0;
  for (const EnvelopeItem& item : envelope.items) {
    if (IsEventItem(item.type) || item.type == "transaction") ++limited_items;
  }
  http::HttpResponse limited;
  if (!AdmitByRate(key, limited_items, &limited)) return limited;
  // Validate every item before queueing any: a bad envelope stores nothing.
  const double now = util::NowSeconds();
  std::optional<double> sent_at;
  double sent_at_value = 0;
  if (!envelope.sent_at.empty() &&
      util::ParseRfc3339Lenient(envelope.sent_at, &sent_at_value)) {
    sent_at = sent_at_value;
  }
  OtherItems others;
  others.max_attachment_bytes = options_.max_attachment_bytes;
  others.spool_threshold = options_.spool_threshold;
  others.spool_dir = options_.spool_dir;
  const std::string sentry_client = SentryClient(request);
  std::vector<model::WriteItem> items;
  std::vector<tracing::Transaction> transactions;
  size_t invalid_transactions = 0;  // counted once the envelope is accepted
  for (const EnvelopeItem& item : envelope.items) {
    if (metrics_) metrics_->EnvelopeItem(item.type);
    if (item.type == "transaction" && options_.tracing_enabled) {
      tracing::Transaction tx;
      if (PrepareTransaction(item.payload, &tx, &refusal)) {
        transactions.push_back(std::move(tx));
      } else if (refusal.status == 413) {
        return Refuse(refusal);  // the byte limit, as for events
      } else {
        // The item is skipped and the envelope still answered 200, as
        // Sentry does for a bad item.
        if (metrics_) metrics_->Rejected(refusal.reason);
        ++invalid_transactions;
        spdlog::debug("ingest: skipped a transaction item: {}",
                      refusal.message);
      }
      continue;
    }
    if (others.Take(item, now, sent_at, metrics_)) {
      if (others.refuse_status == 413) {
        return Refuse({413, "too_large", others.refuse_message});
      }
      if (others.refuse_status != 0) {
        return Refuse({others.refuse_status, "storage", others.refuse_message});
      }
      continue;
    }
    if (!IsEventItem(item.type)) continue;
    model::WriteItem write;
    if (!PrepareEvent(item.payload, project.id, request.remote_addr, &write,
                      &refusal, sentry_client)) {
      return Refuse(refusal);
    }
    items.push_back(std::move(write));
  }
  std::string id = envelope.event_id;
  if (id.empty() && !items.empty()) id = items.front().event.event_id;
  if (id.empty() && !transactions.empty()) id = transactions.front().event_id;
  // What waits for the commit: the parsed items, the attachments (in
  // memory up to spool_threshold, the rest in the spool file); not the
  // body and its copies.
  envelope = Envelope();
  std::string().swap(body);
  std::string().swap(request.body);
  AttachTo(&others, project.id, id);
  http::HttpResponse response =
      Commit(std::move(items), std::move(transactions), invalid_transactions,
             project.id, id, start);
  if (response.status != 200) return response;
  // The items stored apart from events, once those committed (a 503 here is
  // retried by the SDK; its events are then duplicates, not stored twice).
  return CommitOthers(&others, project.id, now, std::move(response));
}

bool IngestHandlers::OtherItems::Take(const EnvelopeItem& item, double now,
                                      std::optional<double> sent_at,
                                      Metrics* metrics) {
  auto invalid = [&](const char* reason, const Status& status) {
    if (metrics) metrics->Rejected(reason);
    spdlog::debug("ingest: skipped a {} item: {}", item.type, status.message());
  };
  releases::ParseOptions parse;
  parse.now = now;
  parse.sent_at = sent_at;
  if (item.type == "session") {
    releases::SessionUpdate update;
    const Status status =
        releases::ParseSessionUpdate(item.payload, parse, &update);
    if (status.ok()) {
      session_updates.push_back(std::move(update));
    } else {
      invalid("invalid_session", status);
    }
    return true;
  }
  if (item.type == "sessions") {
    releases::SessionAggregates aggregates;
    const Status status =
        releases::ParseSessionAggregates(item.payload, parse, &aggregates);
    if (status.ok()) {
      session_aggregates.push_back(std::move(aggregates));
    } else {
      invalid("invalid_session", status);
    }
    return true;
  }
  if (item.type == "client_report") {
    releases::ClientReport report;
    const Status status = releases::ParseClientReport(item.payload, &report);
    if (status.ok()) {
      client_reports.push_back(std::move(report));
    } else {
      invalid("invalid_client_report", status);
    }
    return true;
  }
  if (item.type == "check_in") {
    releases::CheckIn check_in;
    const Status status = releases::ParseCheckIn(item.payload, &check_in);
    if (status.ok()) {
      check_ins.push_back(std::move(check_in));
    } else {
      invalid("invalid_check_in", status);
    }
    return true;
  }
  return TakeAttachmentOrFeedback(item, now, metrics);
}

bool IngestHandlers::OtherItems::TakeAttachmentOrFeedback(
    const EnvelopeItem& item, double now, Metrics* metrics) {
  auto invalid = [&](const char* reason, const Status& status) {
    if (metrics) metrics->Rejected(reason);
    spdlog::debug("ingest: skipped a {} item: {}", item.type, status.message());
  };
  if (item.type == "attachment") {
    if (item.payload.size() > max_attachment_bytes) {
      refuse_status = 413;
      refuse_message = "attachment of " + std::to_string(item.payload.size()) +
                       " bytes exceeds ingest.max_attachment_bytes (" +
                       std::to_string(max_attachment_bytes) + ")";
      return true;
    }
    model::Attachment attachment;
    const Status status = ParseAttachmentHeader(item.header_json, &attachment);
    if (!status.ok()) {
      invalid("invalid_attachment", status);
      return true;
    }
    attachment.position = static_cast<int>(attachments.size());
    attachment.size = static_cast<int64_t>(item.payload.size());
    attachment.received = now;
    attachment.id = util::RandomHex(16);
    if (attachment_bytes_in_memory + attachment.size >
        static_cast<int64_t>(spool_threshold)) {
      if (!spool) {
        spool = std::make_shared<Spool>(
            spool_dir.empty() ? std::filesystem::temp_directory_path().string()
                              : spool_dir);
      }
      const Status spooled = spool->Append(item.payload, &attachment);
      if (!spooled.ok()) {
        refuse_status = 503;
        refuse_message = spooled.message();
        return true;
      }
    } else {
      attachment.data = item.payload;
      attachment_bytes_in_memory += attachment.size;
    }
    attachments.push_back(std::move(attachment));
    return true;
  }
  if (item.type == "user_report" || item.type == "feedback") {
    model::Feedback feedback_item;
    const Status status =
        item.type == "user_report"
            ? ParseUserReport(item.payload, now, &feedback_item)
            : ParseFeedbackItem(item.payload, now, &feedback_item);
    if (status.ok()) {
      feedback.push_back(std::move(feedback_item));
    } else {
      invalid("invalid_feedback", status);
    }
    return true;
  }
  return false;
}

void IngestHandlers::AttachTo(OtherItems* others, int64_t project_id,
                              const std::string& event_id) {
  for (model::Feedback& f : others->feedback) f.project_id = project_id;
  if (others->attachments.empty()) return;
  std::string id;
  if (!NormalizeEventId(event_id, &id)) {
    // Nothing to store them with: skipped and counted, as Sentry drops
    // attachments without an event.
    if (metrics_) {
      for (size_t i = 0; i < others->attachments.size(); ++i) {
        metrics_->Rejected("invalid_attachment");
      }
    }
    spdlog::debug("ingest: skipped {} attachments without an event id",
                  others->attachments.size());
    others->attachments.clear();
    return;
  }
  for (model::Attachment& a : others->attachments) {
    a.project_id = project_id;
    a.event_id = id;
  }
}

std::string IngestHandlers::SentryClient(const http::HttpRequest& request) {
  std::string header = request.Header("x-sentry-auth");
  if (header.empty()) {
    const std::string authorization = request.Header("authorization");
    if (authorization.rfind("Sentry ", 0) == 0) header = authorization;
  }
  std::string client = SentryAuthField(header, "sentry_client");
  if (client.empty()) client = request.QueryParam("sentry_client");
  util::TruncateUtf8(&client, 256);
  return client;
}

http::HttpResponse IngestHandlers::CommitOthers(OtherItems* others,
                                                int64_t project_id, double now,
                                                http::HttpResponse response) {
  // Attachments and feedback after the events (retried on a 503: both
  // writes are idempotent).
  // A store that keeps neither (Store's defaults, e.g. PostgreSQL) drops
  // them, and sessions likewise: retrying could never succeed.
  auto not_kept = [](const Status& status) {
    return status.code() == Status::Code::kInternal &&
           status.message().rfind("this store keeps no ", 0) == 0;
  };
  if (!others->attachments.empty()) {
    const Status status = store_->WriteAttachments(others->attachments);
    if (not_kept(status)) {
      spdlog::debug("ingest: dropped {} attachments: {}",
                    others->attachments.size(), status.message());
      others->attachments.clear();
    } else if (!status.ok()) {
      return StorageUnavailable(status);
    }
  }
  if (!others->feedback.empty()) {
    const Status status = store_->WriteFeedback(others->feedback);
    if (not_kept(status)) {
      others->feedback.clear();
    } else if (!status.ok()) {
      return StorageUnavailable(status);
    }
  }
  // Check-ins after the idempotent writes above, so that a failure there
  // does not have the SDK retry check-ins already applied (the state
  // machine ignores a retried in_progress or an end it has seen, but a
  // standalone check-in without id would be recorded again).
  if (options_.monitors != nullptr) {
    for (const releases::CheckIn& check_in : others->check_ins) {
      const Status status = options_.monitors->CheckIn(project_id, check_in);
      if (status.code() == Status::Code::kTooLarge) {
        // Skipped like an invalid item: the envelope is still answered 200.
        if (metrics_) metrics_->Rejected("too_many_monitors");
        spdlog::debug("ingest: skipped a check-in: {}", status.message());
      } else if (!status.ok()) {
        return StorageUnavailable(status);
      }
    }
  }
  // Sessions last: aggregates carry no id, so a retry after a later failure
  // would count them twice (updates are merged by sid and would not).
  if (options_.sessions != nullptr && (!others->session_updates.empty() ||
                                       !others->session_aggregates.empty())) {
    const Status status = options_.sessions->Record(
        project_id, others->session_updates, others->session_aggregates, now);
    if (not_kept(status)) {
      spdlog::debug("ingest: dropped sessions: {}", status.message());
    } else if (!status.ok()) {
      return StorageUnavailable(status);
    }
  }
  others->spool.reset();  // deletes the spool file
  if (metrics_) {
    for (const model::Attachment& a : others->attachments) {
      metrics_->AttachmentStored(project_id, static_cast<double>(a.size));
    }
    for (const model::Feedback& f : others->feedback) {
      metrics_->FeedbackStored(project_id, f.kind);
    }
  }
  // Client reports are counted once the envelope is accepted: a retried
  // envelope (429, 503) must not count twice.
  if (metrics_) {
    for (const releases::ClientReport& report : others->client_reports) {
      for (const releases::DiscardedRow& row : report.rows) {
        metrics_->SdkDiscarded(project_id, row.reason, row.category,
                               static_cast<double>(row.quantity));
      }
    }
  }
  return response;
}

http::HttpResponse IngestHandlers::HandleStore(http::HttpRequest& request) {
  return HandleSingleEvent(request, request.path_params["project_id"]);
}

http::HttpResponse IngestHandlers::HandleShortForm(http::HttpRequest& request) {
  return HandleSingleEvent(request, "");
}

http::HttpResponse IngestHandlers::HandleSingleEvent(
    http::HttpRequest& request, const std::string& path_id) {
  const auto start = std::chrono::steady_clock::now();
  Refusal refusal;
  std::string body;
  if (!DecodeBody(request, &body, &refusal)) return Refuse(refusal);
  model::Project project;
  model::ProjectKey key;
  if (!Authenticate(request, path_id, "", &project, &refusal, &key)) {
    return Refuse(refusal);
  }
  http::HttpResponse limited;
  if (!AdmitByRate(key, 1, &limited)) return limited;
  const std::string encoding =
      util::ToLower(util::Trim(request.Header("content-encoding")));
  if (encoding.empty() || encoding == "identity") {
    // Older SDKs (raven-python, raven-js...) send base64 of zlib-deflated
    // JSON with no Content-Encoding; Sentry accepts it.
    std::string decoded;
    switch (DecodeLegacyBody(body, options_.max_request_bytes, &decoded)) {
      case LegacyBody::kJson:
        break;
      case LegacyBody::kDecoded:
        body = std::move(decoded);
        break;
      case LegacyBody::kTooLarge:
        return Refuse({413, "too_large",
                       "request body exceeds " +
                           std::to_string(options_.max_request_bytes) +
                           " bytes after decoding"});
      case LegacyBody::kCorrupt:
        return Refuse({400, "decompression",
                       "body is neither JSON nor base64 of (zlib-deflated) "
                       "JSON"});
    }
  }
  if (IsTransactionBody(body)) {
    std::vector<tracing::Transaction> transactions(1);
    if (!options_.tracing_enabled) {
      return http::HttpResponse::Json(200, IdBody(""));  // dropped
    }
    if (!PrepareTransaction(body, &transactions[0], &refusal)) {
      // Answered 400 (not retried): the invalid outcome is counted now.
      if (refusal.status == 400 && options_.transaction_metrics) {
        options_.transaction_metrics->Outcome(project.id, "invalid");
      }
      return Refuse(refusal);
    }
    const std::string id = transactions[0].event_id;
    return Commit({}, std::move(transactions), 0, project.id, id, start);
  }
  std::vector<model::WriteItem> items(1);
  if (!PrepareEvent(body, project.id, request.remote_addr, &items[0], &refusal,
                    SentryClient(request))) {
    return Refuse(refusal);
  }
  const std::string id = items[0].event.event_id;
  return Commit(std::move(items), {}, 0, project.id, id, start);
}

http::HttpResponse IngestHandlers::HandleCron(http::HttpRequest& request) {
  Refusal refusal;
  if (options_.monitors == nullptr) {
    return Refuse({404, "other", "cron monitors are disabled"});
  }
  std::string body;
  if (!DecodeBody(request, &body, &refusal)) return Refuse(refusal);
  releases::CronRequest cron;
  const Status parsed = releases::ParseCronRequest(
      request.path, request.query, request.Header("content-type"), body, &cron);
  if (!parsed.ok()) {
    if (parsed.code() == Status::Code::kTooLarge) {
      return Refuse({413, "too_large", parsed.message()});
    }
    return Refuse({400, "invalid_check_in", parsed.message()});
  }
  model::Project project;
  if (!cron.sentry_key.empty()) {
    // The key of the path; a key also offered elsewhere must be the same.
    const std::string query_key = request.QueryParam("sentry_key");
    if (!query_key.empty() && query_key != cron.sentry_key) {
      return Refuse({401, "auth",
                     "keys disagree: the path and sentry_key carry "
                     "different keys"});
    }
    if (!ResolveKey(cron.sentry_key, &project, nullptr, &refusal)) {
      return Refuse(refusal);
    }
    if (project.id != cron.project_id) {
      return Refuse({403, "auth",
                     "key does not belong to project " +
                         std::to_string(cron.project_id)});
    }
  } else if (!Authenticate(request, std::to_string(cron.project_id), "",
                           &project, &refusal)) {
    return Refuse(refusal);
  }
  const Status status = options_.monitors->CheckIn(project.id, cron.check_in);
  if (status.code() == Status::Code::kTooLarge) {
    return Refuse({413, "too_many_monitors", status.message()});
  }
  if (!status.ok()) return StorageUnavailable(status);
  return http::HttpResponse::Json(202, IdBody(cron.check_in.check_in_id));
}

}  // namespace ingest
}  // namespace crashctl
