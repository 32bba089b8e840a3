// The public API (crashctl/sdk.h): one process-wide client.
#include "crashctl/sdk.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "crash_handler.h"
#include "crashctl/sdk/support/crash_record.h"
#include "crashctl/sdk/support/dsn.h"
#include "crashctl/sdk/support/event_json.h"
#include "crashctl/sdk/support/spool.h"
#include "crashctl/sdk/support/stacktrace.h"
#include "crashctl/sdk/support/symbolizer.h"
#include "crashctl/sdk/support/util.h"
#include "exception_chain.h"
#include "tracing.h"
#include "transport.h"

namespace crashctl {
namespace sdk {
namespace {

struct Client {
  Options options;
  Dsn dsn;
  std::string server_name;
  std::string spool_dir;
  std::unique_ptr<Transport> transport;
  std::mt19937_64 rng{std::random_device{}()};

  // Scope, guarded by g_mu.
  std::map<std::string, std::string> tags;
  User user;
  std::deque<Breadcrumb> breadcrumbs;
};

std::mutex g_mu;                   // guards g_client and its scope
std::shared_ptr<Client> g_client;  // null when not initialised
std::atomic<uint64_t> g_dropped_before{0};

std::shared_ptr<Client> Current() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_client;
}

bool StartsWith(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

// One symbolizer for the process (loading ELF/DWARF is the slow part),
// rebuilt when the set of loaded modules changes (dlopen/dlclose).
std::mutex g_symbolizer_mu;
std::unique_ptr<Symbolizer> g_symbolizer;  // guarded by g_symbolizer_mu
std::vector<Module> g_symbolizer_modules;  // guarded by g_symbolizer_mu

bool SameModules(const std::vector<Module>& a, const std::vector<Module>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].base != b[i].base || a[i].path != b[i].path) return false;
  }
  return true;
}

std::vector<Frame> SymbolizeCached(const std::vector<uint64_t>& pcs) {
  std::vector<Module> modules = LoadedModules();
  std::lock_guard<std::mutex> lock(g_symbolizer_mu);
  if (!g_symbolizer || !SameModules(modules, g_symbolizer_modules)) {
    g_symbolizer = std::make_unique<Symbolizer>(modules);
    g_symbolizer_modules = modules;
    RefreshCrashModules();
  }
  return g_symbolizer->Symbolize(pcs, false);
}

// Bytes of stack left below the caller, or SIZE_MAX if unknown.
size_t StackLeft() {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return SIZE_MAX;
  void* base = nullptr;
  size_t size = 0;
  int rc = pthread_attr_getstack(&attr, &base, &size);
  pthread_attr_destroy(&attr);
  if (rc != 0 || base == nullptr) return SIZE_MAX;
  char here;
  uintptr_t sp = reinterpret_cast<uintptr_t>(&here);
  uintptr_t low = reinterpret_cast<uintptr_t>(base);
  return sp > low ? sp - low : 0;
}

// Frames of the calling thread, SDK-internal frames at the top removed.
std::vector<Frame> CaptureFrames() {
  std::vector<uint64_t> pcs = CaptureStack();
  std::vector<Frame> frames;
  // libdw needs deep stacks to read DWARF; server worker threads (civetweb's
  // are ~100 KiB) may not have them, so symbolise on a fresh thread then.
  if (StackLeft() < (1u << 20)) {
    std::thread([&] { frames = SymbolizeCached(pcs); }).join();
  } else {
    frames = SymbolizeCached(pcs);
  }
  while (!frames.empty() &&
         StartsWith(frames.back().function, "crashctl::sdk::")) {
    frames.pop_back();
  }
  return frames;
}

// Fills scope and options, runs sampling and before_send, and builds the
// envelope. False if the event is dropped.
bool Prepare(Client& client, Event& event, const EventOptions& opts,
             std::string* envelope) {
  event.event_id = NewEventId();
  event.timestamp = Iso8601Now();
  event.level = opts.level;
  event.server_name = client.server_name;
  event.release = client.options.release;
  event.environment = client.options.environment;
  event.fingerprint = opts.fingerprint;
  event.extra.insert(opts.extra.begin(), opts.extra.end());
  // The trace of the thread's current span (SpanScope), and its DSC for the
  // envelope header.
  std::string trace_json;
  if (std::shared_ptr<detail::SpanState> span = detail::CurrentSpanState()) {
    event.trace.trace_id = span->root->trace_id;
    event.trace.span_id = span->span_id;
    event.trace.parent_span_id = span->parent_span_id;
    {
      std::lock_guard<std::mutex> lock(span->mu);
      event.trace.op = span->record.op;
    }
    trace_json = detail::DscToJson(span->root->dsc);
  }
  {
    std::lock_guard<std::mutex> lock(g_mu);
    double draw = std::uniform_real_distribution<double>(0, 1)(client.rng);
    if (client.options.sample_rate < 1.0 &&
        draw >= client.options.sample_rate) {
      return false;
    }
    event.tags = client.tags;
    event.user = client.user;
    event.breadcrumbs.assign(client.breadcrumbs.begin(),
                             client.breadcrumbs.end());
  }
  if (!client.options.service.empty()) {
    event.tags["service"] = client.options.service;
  }
  for (const auto& kv : opts.tags) event.tags[kv.first] = kv.second;
  if (!opts.user.empty()) event.user = opts.user;
  if (client.options.before_send && !client.options.before_send(event)) {
    return false;
  }
  *envelope = BuildEnvelope(event.event_id, client.dsn.raw, EventToJson(event),
                            "event", trace_json);
  return true;
}

// Prepares and queues. Returns the event id or "".
std::string Dispatch(Client& client, Event event, const EventOptions& opts) {
  std::string envelope;
  if (!Prepare(client, event, opts, &envelope)) return "";
  if (!client.transport->Enqueue(event.event_id, std::move(envelope))) {
    return "";
  }
  return event.event_id;
}

bool PidAlive(long pid) {
  return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

// Crash records spooled by processes that crashed without a supervisor:
// turn each into a spooled envelope (sent by the transport at start), then
// delete it. Runs before the transport starts.
void ReportSpooledCrashes(Client& client) {
  DIR* d = opendir(client.spool_dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> names;
  for (int i = 0; i < 100000; ++i) {
    struct dirent* e = readdir(d);
    if (e == nullptr) break;
    std::string name = e->d_name;
    if (StartsWith(name, "crash-") && name.size() > 7 &&
        name.compare(name.size() - 7, 7, ".record") == 0) {
      names.push_back(name);
    }
  }
  closedir(d);
  for (const std::string& name : names) {
    long pid = std::atol(name.c_str() + 6);
    if (pid == getpid() || PidAlive(pid)) continue;
    std::string path = client.spool_dir + "/" + name;
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    unlink(path.c_str());
    CrashRecord record;
    if (!ParseCrashRecord(text.str(), &record)) continue;
    Event event;
    event.exceptions.push_back(CrashException(record));
    event.extra["crashed_pid"] = std::to_string(record.pid);
    EventOptions opts;
    opts.level = Level::kFatal;
    opts.tags["signal"] = SignalName(record.signal);
    opts.tags["crash_source"] = "spooled_record";
    std::string envelope;
    if (Prepare(client, event, opts, &envelope)) {
      Spool(client.spool_dir).Write(event.event_id, envelope);
    }
  }
}

}  // namespace

namespace detail {

bool CurrentTracingConfig(TracingConfig* out) {
  std::shared_ptr<Client> client = Current();
  if (!client) return false;
  out->traces_sample_rate = client->options.traces_sample_rate;
  out->traces_sampler = client->options.traces_sampler;
  out->max_spans = client->options.max_spans;
  out->release = client->options.release;
  out->environment = client->options.environment;
  out->public_key = client->dsn.public_key;
  return true;
}

void SendTransaction(TransactionPayload payload,
                     const std::string& trace_json) {
  std::shared_ptr<Client> client = Current();
  if (!client) return;
  payload.release = client->options.release;
  payload.environment = client->options.environment;
  payload.server_name = client->server_name;
  std::map<std::string, std::string> tags;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    tags = client->tags;
  }
  if (!client->options.service.empty()) {
    tags["service"] = client->options.service;
  }
  for (const auto& kv : payload.self.tags) tags[kv.first] = kv.second;
  payload.self.tags.swap(tags);
  std::string envelope =
      BuildEnvelope(payload.event_id, client->dsn.raw,
                    TransactionToJson(payload), "transaction", trace_json);
  client->transport->Enqueue(payload.event_id, std::move(envelope),
                             /*transaction=*/true);
}

}  // namespace detail

bool Init(const Options& options) {
  Shutdown(std::chrono::milliseconds(0));
  auto client = std::make_shared<Client>();
  client->options = options;
  std::string dsn_text = options.dsn;
  if (dsn_text.empty()) {
    const char* env = std::getenv("CRASHCTL_DSN");
    if (env != nullptr) dsn_text = env;
  }
  std::string error = "no DSN";
  if (dsn_text.empty() || !Dsn::Parse(dsn_text, &client->dsn, &error)) {
    if (options.debug || !dsn_text.empty()) {
      std::fprintf(stderr, "crashctl: %s; SDK disabled\n", error.c_str());
    }
    // Under `crashctl run` crashes are still worth recording: the
    // supervisor reports them with its own DSN.
    const char* crash_fd = std::getenv("CRASHCTL_CRASH_FD");
    if (options.install_crash_handler && crash_fd != nullptr) {
      InstallCrashHandler("", options.debug);
    }
    return false;
  }
  // libunwind initialises itself lazily without synchronisation: do it
  // here, before threads capture concurrently.
  CaptureStack(1);
  client->server_name = HostName();
  client->spool_dir = ResolveSpoolDir(options.spool_dir);
  client->options.sample_rate = std::clamp(options.sample_rate, 0.0, 1.0);
  ReportSpooledCrashes(*client);
  client->transport = std::make_unique<Transport>(
      client->dsn, client->spool_dir, options.queue_size, options.debug);
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_client = client;
  }
  if (options.install_crash_handler) {
    InstallCrashHandler(client->spool_dir, options.debug);
  }
  return true;
}

std::string CaptureException(const std::exception& e,
                             const EventOptions& options) {
  std::shared_ptr<Client> client = Current();
  if (!client) return "";
  Event event;
  event.exceptions = UnrollException(e);
  event.exceptions.back().frames = CaptureFrames();
  return Dispatch(*client, std::move(event), options);
}

std::string CaptureMessage(const std::string& message,
                           const EventOptions& options) {
  std::shared_ptr<Client> client = Current();
  if (!client) return "";
  Event event;
  event.message = message;
  return Dispatch(*client, std::move(event), options);
}

void SetTag(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_client) g_client->tags[key] = value;
}

void RemoveTag(const std::string& key) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_client) g_client->tags.erase(key);
}

void SetUser(const User& user) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_client) g_client->user = user;
}

void AddBreadcrumb(const std::string& category, const std::string& message,
                   Level level) {
  Breadcrumb b{Iso8601Now(), category, message, level};
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_client) return;
  g_client->breadcrumbs.push_back(std::move(b));
  size_t cap = std::max<size_t>(1, g_client->options.max_breadcrumbs);
  while (g_client->breadcrumbs.size() > cap) g_client->breadcrumbs.pop_front();
}

bool Flush(std::chrono::milliseconds timeout) {
  std::shared_ptr<Client> client = Current();
  return !client || client->transport->Flush(timeout);
}

void Shutdown(std::chrono::milliseconds timeout) {
  std::shared_ptr<Client> client;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    client.swap(g_client);
  }
  if (!client) return;
  UninstallCrashHandler();
  client->transport->Shutdown(timeout);
  g_dropped_before.fetch_add(client->transport->dropped());
}

uint64_t DroppedEvents() {
  std::shared_ptr<Client> client = Current();
  return client ? client->transport->dropped() : g_dropped_before.load();
}

}  // namespace sdk
}  // namespace crashctl
