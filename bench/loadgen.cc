// crashctl-loadgen: posts realistic Sentry envelopes (about 5 KB, 30 frames,
// 500 distinct groups with Zipf frequencies) over keep-alive connections
// with libcurl multi, and reports acknowledged events/s, p50/p99 latency and
// (with --server-pid) the server's CPU use and peak RSS.
//
//   crashctl-loadgen --url http://127.0.0.1:9190/api/1/envelope/?sentry_key=K
//                    [--connections 32] [--duration 10] [--rate 0]
//                    [--groups 500] [--server-pid PID] [--label NAME]
//
// --rate 0 sends as fast as the connections allow (closed loop); --rate R
// paces sends to R events/s. Prints one Markdown table row (and a header
// with --header) so bench/run.sh can append it to RESULTS.md.
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
};

// One event template per group; the 32-hex event id sits at a fixed offset
// so each request gets a fresh id without rebuilding the body.
struct Template {
  std::string body;
  size_t id_offsets[2];  // envelope header and event payload
  // The event's "timestamp" (12 characters, "1700000000.5"): set to the
  // current time on each send, as an SDK does (the server replaces times
  // more than 30 days old, which would rewrite every payload).
  size_t timestamp_offset = 0;
};

Template MakeTemplate(int group, int frames) {
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
  t.id_offsets[0] = std::strlen(R"({"event_id":")");
  t.body = header + "\n" + R"({"type":"event","length":)" +
           std::to_string(payload.size()) + "}\n";
  t.id_offsets[1] = t.body.size() + std::strlen(R"({"event_id":")");
  t.timestamp_offset =
      t.body.size() + payload.find("\"timestamp\":1700000000.5") + 12;
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
    else
      return false;
  }
  return !o->url.empty() && o->connections > 0 && o->duration > 0 &&
         o->duration <= 600 && o->groups > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: crashctl-loadgen --url URL [--connections N] "
                 "[--duration S<=600] [--rate R] [--groups G] [--frames F] "
                 "[--server-pid PID] [--label NAME] [--header]\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::vector<Template> templates;
  for (int g = 0; g < o.groups; ++g)
    templates.push_back(MakeTemplate(g, o.frames));
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
  std::map<long, uint64_t> failures;  // status (0 = transport) -> count
  std::vector<double> latencies_ms;
  latencies_ms.reserve(1 << 20);

  auto send = [&](Slot* s) {
    const int group = static_cast<int>(
        std::lower_bound(cdf.begin(), cdf.end(), uniform(rng)) - cdf.begin());
    const Template& t = templates[std::min(group, o.groups - 1)];
    s->body = t.body;
    char id[33];
    std::snprintf(id, sizeof(id), "%016llx%016llx",
                  static_cast<unsigned long long>(getpid()),
                  static_cast<unsigned long long>(next_id++));
    for (size_t offset : t.id_offsets) std::memcpy(&s->body[offset], id, 32);
    char timestamp[16];
    std::snprintf(timestamp, sizeof(timestamp), "%012.1f",
                  static_cast<double>(std::time(nullptr)) + 0.5);
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
        const double due =
            std::chrono::duration<double>(now - start).count() * o.rate;
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
      if (status == 200)
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
  if (o.header) {
    std::printf(
        "| run | connections | rate | acked events/s | p50 ms | p99 ms | "
        "server CPU %% | server peak RSS MB | failures |\n"
        "|---|---|---|---|---|---|---|---|---|\n");
  }
  std::printf(
      "| %s | %d | %s | %.0f | %.2f | %.2f | %s | %s | %s |\n", o.label.c_str(),
      o.connections,
      o.rate > 0 ? std::to_string(static_cast<int>(o.rate)).c_str() : "max",
      acked / elapsed, pct(0.50), pct(0.99),
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
  return acked > 0 ? 0 : 1;
}
