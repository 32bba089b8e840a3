// crashctl-loadgen: posts realistic Sentry envelopes (about 5 KB, 30 frames,
// 500 distinct groups with Zipf frequencies) over keep-alive connections
// with libcurl multi, and reports acknowledged events/s, p50/p99 latency and
// (with --server-pid) the server's CPU use and peak RSS.
//
//   crashctl-loadgen --url http://127.0.0.1:9190/api/1/envelope/?sentry_key=K
//                    [--connections 32] [--duration 10] [--rate 0]
//                    [--groups 500] [--server-pid PID] [--label NAME]
//                    [--transactions-per-event N] [--session-item]
//
// --rate 0 sends as fast as the connections allow (closed loop); --rate R
// paces sends to R events/s. --transactions-per-event N (default 0) also
// sends N `transaction` envelopes per event (a @sentry/node transaction of
// 20 spans, bench/payload_samples.h; 20 routes), interleaved, so with
// --rate R the load is R events/s plus N*R transactions/s. Prints one
// Markdown table row (and a header with --header) so bench/run.sh can
// append it to RESULTS.md; with N > 0 the table has an "acked
// transactions/s" column. --session-item adds a `session` item to each
// event envelope (a fresh sid that ends crashed with the event, as a mobile
// SDK sends it), so release health rides on the event path.
#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/payload_samples.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string url;
  int connections = 32;
  double duration = 10;
  double rate = 0;
  int groups = 500;
  int frames = 30;
  pid_t server_pid = 0;
  std::string label = "crashctl";
  bool header = false;
  double transactions_per_event = 0;
  bool session_item = false;
};

// One event template per group; the 32-hex event id sits at a fixed offset
// so each request gets a fresh id without rebuilding the body.
struct Template {
  std::string body;
  // Envelope header and event payload (and the session item's sid).
  std::vector<size_t> id_offsets;
  // The event's "timestamp" (12 characters, "1700000000.5"): set to the
  // current time on each send, as an SDK does (the server replaces times
  // more than 30 days old, which would rewrite every payload).
  size_t timestamp_offset = 0;
};

Template MakeTemplate(int group, int frames, bool session_item) {
  std::ostringstream frames_json;
  for (int f = 0; f < frames; ++f) {
    if (f) frames_json << ",";
    const bool in_app = f >= frames - 8;
    frames_json << R"({"filename":")"
                << (in_app ? "/app/src/service/handler_"
                           : "/app/node_modules/lib/mod_")
                << (group * 7 + f) % 97 << R"(.js","function":")"
                << (f == frames - 1 ? "handle_" + std::to_string(group)
                                    : "fn_" + std::to_string(f))
                << R"(","lineno":)" << 10 + f * 3 << R"(,"colno":)" << 5 + f
                << R"(,"in_app":)" << (in_app ? "true" : "false") << "}";
  }
  const std::string id(32, '0');
  std::ostringstream event;
  event
      << R"({"event_id":")" << id
      << R"(","timestamp":1700000000.5,"platform":"node","level":"error",)"
      << R"("release":"shop@1.4.2","environment":"production",)"
      << R"("server_name":"checkout-7f8b4d-x2x9q","tags":{"service":"checkout",)"
      << R"("region":"eu-west-1"},"exception":{"values":[{"type":"TypeError",)"
      << R"("value":"order )" << group
      << R"js( failed: cannot read properties of undefined (reading 'items')",)js"
      << R"("mechanism":{"type":"onunhandledrejection","handled":false},)"
      << R"("stacktrace":{"frames":[)" << frames_json.str() << "]}}]},"
      << R"("breadcrumbs":{"values":[)";
  for (int b = 0; b < 12; ++b) {
    if (b) event << ",";
    event
        << R"({"timestamp":1700000000.1,"category":"http","message":"GET /api/cart/)"
        << b << R"( 200","level":"info"})";
  }
  event
      << R"(]},"contexts":{"runtime":{"name":"node","version":"v20.20.2"},)"
      << R"("os":{"name":"Linux"}},"sdk":{"name":"sentry.javascript.node","version":"10.0.0"}})";
  const std::string payload = event.str();
  Template t;
  std::string header =
      R"({"event_id":")" + id + R"(","sent_at":"2026-11-22T10:00:00Z"})";
  t.id_offsets.push_back(std::strlen(R"({"event_id":")"));
  t.body = header + "\n" + R"({"type":"event","length":)" +
           std::to_string(payload.size()) + "}\n";
  t.id_offsets.push_back(t.body.size() + std::strlen(R"({"event_id":")"));
  t.timestamp_offset =
      t.body.size() + payload.find("\"timestamp\":1700000000.5") + 12;
  t.body += payload + "\n";
  if (session_item) {
    char started[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ",
                  std::gmtime(&now));
    const std::string session =
        R"({"sid":")" + id + R"(","did":"user-)" + std::to_string(group) +
        R"(","init":true,"started":")" + started +
        R"(","status":"crashed","errors":1,"duration":12.5,)"
        R"("attrs":{"release":"shop@1.4.2","environment":"production"}})";
    t.body += R"({"type":"session","length":)" +
              std::to_string(session.size()) + "}\n";
    t.id_offsets.push_back(t.body.size() + std::strlen(R"({"sid":")"));
    t.body += session + "\n";
  }
  return t;
}

// A transaction envelope for route `route` (0..19), as @sentry/node sends
// it: the envelope header with the trace's dynamic sampling context, then
// one `transaction` item. Its spans start at `now`.
Template MakeTransactionTemplate(int route, double now) {
  const std::string id(32, '0');
  std::string payload =
      crashctl::bench::SampleTransaction(route, 7000 + route, now);
  // The sample's own event id becomes the placeholder patched per send.
  const size_t payload_id = payload.find("\"event_id\":\"") + 12;
  payload.replace(payload_id, 32, id);
  const size_t trace_at = payload.find("\"trace_id\":\"") + 12;
  const std::string trace_id = payload.substr(trace_at, 32);
  Template t;
  const std::string header =
      R"({"event_id":")" + id +
      R"(","sent_at":"2026-11-22T10:00:00Z","sdk":{"name":"sentry.javascript.node","version":"10.78.0"},)"
      R"("trace":{"environment":"production","release":"shop@1.4.2","public_key":"0123456789abcdef0123456789abcdef","trace_id":")" +
      trace_id + R"(","sample_rate":"1","sampled":"true"}})";
  t.id_offsets.push_back(std::strlen(R"({"event_id":")"));
  t.body = header + "\n" + R"({"type":"transaction","length":)" +
           std::to_string(payload.size()) + "}\n";
  t.id_offsets.push_back(t.body.size() + payload_id);
  t.timestamp_offset = std::string::npos;  // the spans carry their own times
  t.body += payload + "\n";
  return t;
}

// Zipf(s=1.1) over [0, n): cumulative weights for sampling.
std::vector<double> ZipfCdf(int n) {
  std::vector<double> cdf(n);
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    sum += 1.0 / std::pow(i + 1, 1.1);
    cdf[i] = sum;
  }
  for (double& c : cdf) c /= sum;
  return cdf;
}

struct ProcSample {
  double cpu_seconds = 0;
  long peak_rss_kb = 0;
};

ProcSample SampleProcess(pid_t pid) {
  ProcSample sample;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)),
                      std::istreambuf_iterator<char>());
  const size_t close = content.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(content.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    sample.cpu_seconds =
        static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0)
      sample.peak_rss_kb = std::stol(line.substr(6));
  }
  return sample;
}

struct Slot {
  CURL* easy = nullptr;
  std::string body;
  Clock::time_point sent;
  curl_slist* headers = nullptr;
  bool transaction = false;
};

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--url")
      o->url = next();
    else if (a == "--connections")
      o->connections = std::stoi(next());
    else if (a == "--duration")
      o->duration = std::stod(next());
    else if (a == "--rate")
      o->rate = std::stod(next());
    else if (a == "--groups")
      o->groups = std::stoi(next());
    else if (a == "--frames")
      o->frames = std::stoi(next());
    else if (a == "--server-pid")
      o->server_pid = std::stoi(next());
    else if (a == "--label")
      o->label = next();
    else if (a == "--header")
      o->header = true;
    else if (a == "--transactions-per-event")
      o->transactions_per_event = std::stod(next());
    else if (a == "--session-item")
      o->session_item = true;
    else
      return false;
  }
  return !o->url.empty() && o->connections > 0 && o->duration > 0 &&
         o->duration <= 600 && o->groups > 0 &&
         o->transactions_per_event >= 0 && o->transactions_per_event <= 1000;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: crashctl-loadgen --url URL [--connections N] "
                 "[--duration S<=600] [--rate R] [--groups G] [--frames F] "
                 "[--server-pid PID] [--label NAME] [--header] "
                 "[--transactions-per-event N<=1000] [--session-item]\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::vector<Template> templates;
  for (int g = 0; g < o.groups; ++g)
    templates.push_back(MakeTemplate(g, o.frames, o.session_item));
  std::vector<Template> transactions;
  if (o.transactions_per_event > 0) {
    const double now = static_cast<double>(std::time(nullptr));
    for (int r = 0; r < 20; ++r)
      transactions.push_back(MakeTransactionTemplate(r, now));
  }
  const std::vector<double> cdf = ZipfCdf(o.groups);
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> uniform(0, 1);
  uint64_t next_id = 1;

  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                    static_cast<long>(o.connections));
  std::vector<Slot> slots(o.connections);
  std::vector<Slot*> idle;
  for (Slot& s : slots) {
    s.easy = curl_easy_init();
    s.headers = curl_slist_append(
        nullptr, "Content-Type: application/x-sentry-envelope");
    s.headers = curl_slist_append(s.headers, "Expect:");
    curl_easy_setopt(s.easy, CURLOPT_URL, o.url.c_str());
    curl_easy_setopt(s.easy, CURLOPT_HTTPHEADER, s.headers);
    curl_easy_setopt(s.easy, CURLOPT_WRITEFUNCTION, &Discard);
    curl_easy_setopt(s.easy, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(s.easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s.easy, CURLOPT_PRIVATE, &s);
    idle.push_back(&s);
  }

  const ProcSample before =
      o.server_pid ? SampleProcess(o.server_pid) : ProcSample{};
  const Clock::time_point start = Clock::now();
  const Clock::time_point end =
      start + std::chrono::duration_cast<Clock::duration>(
                  std::chrono::duration<double>(o.duration));
  uint64_t sent = 0, acked = 0;
  uint64_t events_sent = 0, transactions_sent = 0, transactions_acked = 0;
  std::map<long, uint64_t> failures;  // status (0 = transport) -> count
  std::vector<double> latencies_ms;
  latencies_ms.reserve(1 << 20);

  auto send = [&](Slot* s) {
    // Transactions interleaved: N of them after each event.
    s->transaction =
        !transactions.empty() &&
        static_cast<double>(transactions_sent) <
            o.transactions_per_event * static_cast<double>(events_sent);
    const Template* chosen = nullptr;
    if (s->transaction) {
      chosen = &transactions[transactions_sent++ % transactions.size()];
    } else {
      const int group = static_cast<int>(
          std::lower_bound(cdf.begin(), cdf.end(), uniform(rng)) - cdf.begin());
      chosen = &templates[std::min(group, o.groups - 1)];
      ++events_sent;
    }
    const Template& t = *chosen;
    s->body = t.body;
    char id[33];
    std::snprintf(id, sizeof(id), "%016llx%016llx",
                  static_cast<unsigned long long>(getpid()),
                  static_cast<unsigned long long>(next_id++));
    for (size_t offset : t.id_offsets) std::memcpy(&s->body[offset], id, 32);
    char timestamp[16];
    std::snprintf(timestamp, sizeof(timestamp), "%012.1f",
                  static_cast<double>(std::time(nullptr)) + 0.5);
    if (t.timestamp_offset != std::string::npos)
      std::memcpy(&s->body[t.timestamp_offset], timestamp, 12);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body.data());
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE,
                     static_cast<long>(s->body.size()));
    s->sent = Clock::now();
    curl_multi_add_handle(multi, s->easy);
    ++sent;
  };

  int running = 0;
  while (Clock::now() < end || running > 0) {
    const Clock::time_point now = Clock::now();
    while (now < end && !idle.empty()) {
      if (o.rate > 0) {
        const double due = std::chrono::duration<double>(now - start).count() *
                           o.rate * (1 + o.transactions_per_event);
        if (static_cast<double>(sent) >= due) break;
      }
      send(idle.back());
      idle.pop_back();
    }
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Slot* s = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &s);
      long status = 0;
      if (msg->data.result == CURLE_OK) {
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      }
      latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - s->sent)
              .count());
      if (status == 200 && s->transaction)
        ++transactions_acked;
      else if (status == 200)
        ++acked;
      else
        ++failures[status];
      curl_multi_remove_handle(multi, s->easy);
      idle.push_back(s);
    }
    curl_multi_poll(multi, nullptr, 0, o.rate > 0 ? 1 : 10, nullptr);
  }
  const double elapsed =
      std::chrono::duration<double>(Clock::now() - start).count();
  const ProcSample after =
      o.server_pid ? SampleProcess(o.server_pid) : ProcSample{};

  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double p) {
    if (latencies_ms.empty()) return 0.0;
    return latencies_ms[std::min(latencies_ms.size() - 1,
                                 static_cast<size_t>(p * latencies_ms.size()))];
  };
  std::string failed;
  for (const auto& f : failures) {
    failed += (failed.empty() ? "" : " ") + std::to_string(f.first) + ":" +
              std::to_string(f.second);
  }
  const bool mixed = o.transactions_per_event > 0;
  if (o.header) {
    std::printf(
        "| run | connections | rate | acked events/s | %sp50 ms | p99 ms | "
        "server CPU %% | server peak RSS MB | failures |\n"
        "|---|---|---|---|%s---|---|---|---|---|\n",
        mixed ? "acked transactions/s | " : "", mixed ? "---|" : "");
  }
  const std::string transactions_column =
      mixed ? std::to_string(static_cast<long>(transactions_acked / elapsed)) +
                  " | "
            : "";
  std::printf(
      "| %s | %d | %s | %.0f | %s%.2f | %.2f | %s | %s | %s |\n",
      o.label.c_str(), o.connections,
      o.rate > 0 ? std::to_string(static_cast<int>(o.rate)).c_str() : "max",
      acked / elapsed, transactions_column.c_str(), pct(0.50), pct(0.99),
      o.server_pid
          ? std::to_string(
                static_cast<int>(
                    100 * (after.cpu_seconds - before.cpu_seconds) / elapsed))
                .c_str()
          : "-",
      o.server_pid ? std::to_string(after.peak_rss_kb / 1024).c_str() : "-",
      failed.empty() ? "0" : failed.c_str());
  for (Slot& s : slots) {
    curl_easy_cleanup(s.easy);
    curl_slist_free_all(s.headers);
  }
  curl_multi_cleanup(multi);
  curl_global_cleanup();
  return acked + transactions_acked > 0 ? 0 : 1;
}
