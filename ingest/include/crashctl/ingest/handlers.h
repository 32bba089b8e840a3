// IngestHandlers: the Sentry-protocol HTTP endpoints.
//
//   POST /api/{project_id}/envelope/   Sentry envelopes
//   POST /api/{project_id}/store/      one event JSON
//   POST /api/v1/events?key=KEY        one event JSON (short DSN form)
//
// Sentry transactions (envelope `transaction` items, store bodies with
// "type":"transaction") follow the same rules (auth, limits, the queue,
// 2xx once committed); an invalid one in an envelope is counted and
// skipped (the envelope is still answered 200), on the store endpoints it
// is answered 400.
//
// Each request is decompressed (bounded), parsed, normalised and grouped on
// the calling thread, then handed to the IngestPipeline; the answer is sent
// only after the events are committed. Every refusal answers
// {"error": "..."} with the status the contract names and is counted in
// crashctl_ingest_rejected_total{reason}.
//
// Thread-safety: handlers may run on any number of threads at once.
#ifndef CRASHCTL_INGEST_HANDLERS_H_
#define CRASHCTL_INGEST_HANDLERS_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "crashctl/http/http.h"
#include "crashctl/ingest/key_cache.h"
#include "crashctl/ingest/normalize.h"
#include "crashctl/ingest/pipeline.h"
#include "crashctl/ingest/rate_limiter.h"
#include "crashctl/model/event.h"
#include "crashctl/releases/check_in.h"
#include "crashctl/releases/client_report.h"
#include "crashctl/releases/sessions.h"
#include "crashctl/store/store.h"
#include "crashctl/tracing/transaction.h"

namespace crashctl {
namespace cron {
class MonitorService;
}
namespace health {
class SessionService;
}
namespace ingest {

class Metrics;
class TransactionMetrics;
struct EnvelopeItem;
class Spool;

class IngestHandlers {
 public:
  struct Options {
    size_t max_event_bytes = 1 << 20;     // one event, decompressed
    size_t max_request_bytes = 20 << 20;  // whole body, decompressed
    double commit_timeout_seconds = 30;   // wait for the writer at most
    int retry_after_seconds = 1;          // advertised on 429
    // Time bounds, depth bound, scrubbing and privacy.store_ip for every
    // event (NormalizeOptions; remote_addr is filled per request).
    NormalizeOptions normalize;
    // Sentry transactions: envelope `transaction` items and store bodies
    // whose "type" is "transaction" (docs/tracing.md). Disabled: envelope
    // items are counted and dropped, store bodies answered 200 and dropped.
    bool tracing_enabled = true;
    // tracing.store_sample_rate: the share of traces stored (StoreTrace).
    double store_sample_rate = 1.0;
    // Time, depth and span bounds of NormalizeTransaction.
    tracing::Options transaction;
    // Histograms and outcome counters (null: none). Not owned.
    TransactionMetrics* transaction_metrics = nullptr;
    // `session` / `sessions` items (release health) and `check_in` items
    // with the cron endpoint (monitors); null: counted and dropped. Not
    // owned.
    health::SessionService* sessions = nullptr;
    cron::MonitorService* monitors = nullptr;
    // ingest.max_attachment_bytes: one `attachment` item (within
    // max_request_bytes); beyond it the envelope is answered 413.
    size_t max_attachment_bytes = 10 << 20;
    // Where attachments wait for their envelope's events to commit once a
    // request holds more than spool_threshold bytes of them in memory
    // (docs/ingestion-formats.md): one temporary file per request, deleted
    // when the request is answered. "" = the system's temp directory.
    std::string spool_dir;
    size_t spool_threshold = 1 << 20;
    // The reload intervals of the DSN key cache (KeyCache).
    KeyCache::Options keys;
  };

  IngestHandlers(store::Store* store, IngestPipeline* pipeline,
                 Metrics* metrics, Options options);
  IngestHandlers(const IngestHandlers&) = delete;
  IngestHandlers& operator=(const IngestHandlers&) = delete;

  // Deletes the attachment spool files a crash left in `dir` (call before
  // serving); returns how many.
  static size_t RemoveStaleSpoolFiles(const std::string& dir);

  // Drops the cached DSN keys: the next request reloads them (after keys
  // were created, changed or deleted, or a project deleted).
  void InvalidateKeys() { keys_.Invalidate(); }

  // Adds the ingestion routes to `router` (envelope, store, short form,
  // and the cron check-in form).
  void Register(http::Router* router);

  http::HttpResponse HandleEnvelope(http::HttpRequest& request);
  http::HttpResponse HandleStore(http::HttpRequest& request);
  http::HttpResponse HandleShortForm(http::HttpRequest& request);
  // Relay's cron check-in form (GET or POST
  // /api/{project_id}/cron/{monitor_slug}/[{sentry_key}/]): 202 {"id"}
  // once committed, 400 on a bad check-in (invalid_check_in), 413 for a
  // new monitor beyond monitors.max_per_project (too_many_monitors), 404
  // when monitors are disabled.
  http::HttpResponse HandleCron(http::HttpRequest& request);

 private:
  // Why a request was refused: HTTP status, metric reason, message.
  struct Refusal {
    int status = 0;
    std::string reason;
    std::string message;
  };

  http::HttpResponse Refuse(const Refusal& refusal);
  // 503 with Retry-After for a failed store write, counted as `storage`.
  http::HttpResponse StorageUnavailable(const Status& status);
  // Store endpoint and short form: one event JSON; `path_id` may be "".
  http::HttpResponse HandleSingleEvent(http::HttpRequest& request,
                                       const std::string& path_id);
  // Decodes the body per Content-Encoding into `*out`.
  bool DecodeBody(const http::HttpRequest& request, std::string* out,
                  Refusal* refusal);
  // Resolves the project from the path id and the offered keys (query
  // `sentry_key`, X-Sentry-Auth / Authorization header, envelope dsn).
  // `*key` (if not null) gets the key used. An unknown key is refused 403
  // `auth`, a disabled one 403 `key_disabled`.
  bool Authenticate(const http::HttpRequest& request,
                    const std::string& path_id, const std::string& envelope_dsn,
                    model::Project* project, Refusal* refusal,
                    model::ProjectKey* key = nullptr);
  // The project of DSN key `public_key`; false with `*refusal` when the key
  // is unknown or disabled.
  bool ResolveKey(const std::string& public_key, model::Project* project,
                  model::ProjectKey* key, Refusal* refusal);
  // Takes `events` (0: nothing to limit) from the rate limit of `key`;
  // false with `*response` (429, KeyRateLimitHeaders, counted as
  // `rate_limited`) when the key is over its limit.
  bool AdmitByRate(const model::ProjectKey& key, int64_t events,
                   http::HttpResponse* response);
  // Normalises and groups one event payload.
  // `sentry_client` (X-Sentry-Auth) names the SDK when the event does not.
  bool PrepareEvent(const std::string& payload, int64_t project_id,
                    const std::string& remote_addr, model::WriteItem* item,
                    Refusal* refusal, const std::string& sentry_client = "");
  // Normalises one transaction payload (kInvalid: `*refusal` 400
  // invalid_transaction; over the byte limit: 413 too_large). Counts time
  // adjustments; the caller counts the refusal and the `invalid` outcome.
  bool PrepareTransaction(const std::string& payload, tracing::Transaction* tx,
                          Refusal* refusal);
  // Queues the items and the transactions of `accepted` that the sample
  // rate stores, waits for their commit and answers 200 {"id": id}; only
  // then are `accepted` observed in the metrics with their outcomes, and
  // `invalid` (the envelope's skipped invalid transactions) counted as
  // `invalid` outcomes (a 429 or 503 is retried by the SDK and must not
  // count twice).
  http::HttpResponse Commit(std::vector<model::WriteItem> items,
                            std::vector<tracing::Transaction> accepted,
                            size_t invalid, int64_t project_id,
                            const std::string& id,
                            std::chrono::steady_clock::time_point start);

  // The items of an envelope that are not events or transactions, parsed
  // (invalid ones counted and skipped, as Sentry skips them) and applied
  // once the events committed (CommitOthers).
  struct OtherItems {
    std::vector<releases::SessionUpdate> session_updates;
    std::vector<releases::SessionAggregates> session_aggregates;
    std::vector<releases::ClientReport> client_reports;
    std::vector<releases::CheckIn> check_ins;
    // --- attachments and feedback (ingest) ---
    // Set by HandleEnvelope before the items are taken.
    size_t max_attachment_bytes = 10 << 20;
    size_t spool_threshold = 1 << 20;
    std::string spool_dir;
    // Filled by Take; event_id (the envelope's, else its event's) and
    // project_id by HandleEnvelope before CommitOthers.
    std::vector<model::Attachment> attachments;
    std::vector<model::Feedback> feedback;
    int64_t attachment_bytes_in_memory = 0;
    std::shared_ptr<Spool> spool;  // created for the first large one
    // Set when the envelope must be refused (413 over the attachment
    // limit, 503 when the spool file cannot be written): status, message.
    int refuse_status = 0;
    std::string refuse_message;
    // True when `item` is one of these types (taken, or counted invalid).
    bool Take(const EnvelopeItem& item, double now,
              std::optional<double> sent_at, Metrics* metrics);
    bool TakeAttachmentOrFeedback(const EnvelopeItem& item, double now,
                                  Metrics* metrics);
  };
  // Sets the project and event id of the attachments and feedback of
  // `others`; attachments without a valid event id are counted
  // (invalid_attachment) and dropped.
  void AttachTo(OtherItems* others, int64_t project_id,
                const std::string& event_id);
  // The `sentry_client` of X-Sentry-Auth (or the query), "" if none.
  static std::string SentryClient(const http::HttpRequest& request);
  // Applies `others` (sessions, check-ins, client report counts); answers
  // `response` when all of it committed, else 503.
  http::HttpResponse CommitOthers(OtherItems* others, int64_t project_id,
                                  double now, http::HttpResponse response);

  store::Store* store_;
  IngestPipeline* pipeline_;
  Metrics* metrics_;
  Options options_;

  // The DSN keys (reloaded every 3 s, on a miss at most once a second, and
  // after InvalidateKeys) and their rate limits.
  KeyCache keys_;
  RateLimiter rate_limiter_;
};

}  // namespace ingest
}  // namespace crashctl

#endif  // CRASHCTL_INGEST_HANDLERS_H_
