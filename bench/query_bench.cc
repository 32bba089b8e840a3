// The read side of issue 19 on a large database: p50 and p99 of ListGroups
// with each filter, search and sort, ListEvents, GroupStats and GroupTags
// (bench/RESULTS.md "Issue 19: filters, search, stats").
//
//   crashctl-query-bench [--db PATH] [--events N] [--groups G] [--runs R]
//
// Builds the database once at PATH (default
// /tmp/crashctl-query-bench/events.db) through Store::WriteEvents in
// batches of 1,000 (so it holds what ingest writes: events, groups, tags,
// hourly counts, search rows), and reuses it when it holds N events. Then
// runs every call R times (varying its parameters) and prints a Markdown
// table of p50 / p99 in milliseconds.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "crashctl/search/query.h"
#include "crashctl/store/sqlite.h"
#include "crashctl/store/store.h"

namespace crashctl {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kEnd = 1767225600;   // 2026-01-01T00:00:00Z
constexpr double kSpan = 30 * 86400;  // the events cover 30 days

const char* kWords[] = {
    "timeout",    "connection", "refused", "database", "pool",      "cart",
    "checkout",   "payment",    "order",   "invoice",  "user",      "session",
    "token",      "expired",    "invalid", "null",     "undefined", "index",
    "range",      "overflow",   "memory",  "heap",     "socket",    "closed",
    "reset",      "upstream",   "gateway", "parse",    "json",      "syntax",
    "unexpected", "handler",    "render",  "template", "cache",     "miss",
    "queue",      "worker",     "retry",   "limit",    "quota",     "denied",
    "permission", "file",       "missing", "config",   "deadlock",  "lock"};
constexpr int kWordCount = sizeof(kWords) / sizeof(kWords[0]);
const char* kTypes[] = {"TypeError",   "ReferenceError", "RangeError",
                        "SyntaxError", "Error",          "TimeoutError"};
const char* kReleases[] = {"shop@1.0.0", "shop@1.1.0", "shop@1.2.0",
                           "shop@1.3.0", "shop@1.4.0"};
const char* kEnvironments[] = {"production", "staging", "development"};
const char* kServices[] = {"checkout", "cart",     "search",
                           "auth",     "payments", "catalog"};
const char* kRegions[] = {"eu-west", "eu-central", "us-east", "ap-south"};
const char* kBrowsers[] = {"Chrome", "Firefox", "Safari",
                           "Edge",   "Opera",   "Samsung Internet"};

std::string EventId(int64_t n) {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%032" PRIx64, static_cast<uint64_t>(n));
  return buf;
}

// Group g's title words (deterministic).
std::string GroupTitle(int g) {
  return std::string(kTypes[g % 6]) + ": " + kWords[g % kWordCount] + " " +
         kWords[(g / kWordCount + 7 * g) % kWordCount] + " in module_" +
         std::to_string(g);
}

// The group of the n-th event: a skewed mix (a few big groups, a long tail),
// every group getting at least one event.
int GroupOf(int64_t n, int groups, std::mt19937_64* rng) {
  if (n < groups) return static_cast<int>(n);
  std::uniform_real_distribution<double> u(0, 1);
  const double x = u(*rng);
  return static_cast<int>(std::pow(x, 3.0) * groups) % groups;
}

model::WriteItem MakeEvent(int64_t n, int64_t events, int groups,
                           int64_t project, std::mt19937_64* rng) {
  const int g = GroupOf(n, groups, rng);
  std::uniform_int_distribution<int> pick(0, 1 << 30);
  model::WriteItem item;
  model::Event& e = item.event;
  e.event_id = EventId(n + 1);
  e.project_id = project;
  // Increasing with n (as arrival), spread over the 30 days.
  e.timestamp = kEnd - kSpan + kSpan * (static_cast<double>(n) / events);
  e.received = e.timestamp + 0.2;
  const int level = pick(*rng) % 20;
  e.level = level == 0  ? model::Level::kFatal
            : level < 3 ? model::Level::kWarning
                        : model::Level::kError;
  e.platform = "node";
  // Releases roll forward over the month; environments mostly production.
  const int release = std::min(
      4, static_cast<int>(5.0 * n / events) + (pick(*rng) % 4 == 0 ? -1 : 0));
  e.release = kReleases[std::max(0, release)];
  const int env = pick(*rng) % 10;
  e.environment = kEnvironments[env < 7 ? 0 : env < 9 ? 1 : 2];
  e.service = kServices[g % 6];
  e.server_name = "checkout-7f8b4d-" + std::to_string(pick(*rng) % 50);
  e.user = "user-" + std::to_string(pick(*rng) % 20000);
  e.tags = {{"service", e.service},
            {"region", kRegions[pick(*rng) % 4]},
            {"browser", kBrowsers[pick(*rng) % 6]},
            {"order", std::to_string(pick(*rng) % 100000)}};
  const std::string w1 = kWords[pick(*rng) % kWordCount];
  const std::string w2 = kWords[pick(*rng) % kWordCount];
  e.message = "order " + std::to_string(n) + " failed: " + w1 + " " + w2 +
              " after " + std::to_string(pick(*rng) % 5000) + " ms";
  model::ExceptionValue ex;
  ex.type = kTypes[g % 6];
  ex.value = std::string(kWords[g % kWordCount]) + " " + w1 + " for order " +
             std::to_string(n);
  e.exceptions.push_back(ex);
  e.trace_id = EventId(n * 7 + 3);
  // ~1 KB of JSON, as a small SDK event.
  e.raw_json = "{\"event_id\":\"" + e.event_id +
               "\",\"platform\":\"node\",\"message\":\"" + e.message +
               "\",\"release\":\"" + e.release + "\",\"environment\":\"" +
               e.environment + "\",\"user\":{\"id\":\"" + e.user +
               "\"},\"breadcrumbs\":[";
  for (int b = 0; b < 8; ++b) {
    e.raw_json += std::string(b ? "," : "") +
                  "{\"category\":\"http\",\"message\":\"GET /api/cart/" +
                  std::to_string(pick(*rng) % 1000) + " 200\"}";
  }
  e.raw_json += "]}";
  item.grouping.fingerprint = "fp-" + std::to_string(g);
  item.grouping.title = GroupTitle(g);
  item.grouping.culprit = "app/handlers/module_" + std::to_string(g) + ".js";
  item.grouping.method = "fingerprint";
  return item;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

int64_t CountEvents(store::Store* s) {
  store::EventQuery q;
  q.limit = 1;
  model::Page<model::StoredEvent> page;
  if (!s->ListEvents(q, &page).ok() || page.items.empty()) return 0;
  // The newest event's id is the number written (ids are EventId(n + 1)).
  return static_cast<int64_t>(
      std::strtoull(page.items[0].event_id.c_str(), nullptr, 16));
}

bool Build(store::Store* s, int64_t events, int groups, int64_t project) {
  std::mt19937_64 rng(42);
  const auto start = Clock::now();
  std::vector<model::WriteItem> batch;
  for (int64_t n = 0; n < events; n += 1000) {
    batch.clear();
    for (int64_t i = n; i < std::min(events, n + 1000); ++i) {
      batch.push_back(MakeEvent(i, events, groups, project, &rng));
      s->PrepareWrite(&batch.back());
    }
    std::vector<model::WriteOutcome> outcomes;
    Status st = s->WriteEvents(batch, &outcomes);
    if (!st.ok()) {
      std::fprintf(stderr, "write failed: %s\n", st.message().c_str());
      return false;
    }
    if (n % 100000 == 0) {
      std::fprintf(stderr, "  %" PRId64 " events, %.0f s\n", n,
                   std::chrono::duration<double>(Clock::now() - start).count());
    }
  }
  s->Maintain(store::Store::Maintenance::kIdle);
  std::fprintf(stderr, "built %" PRId64 " events in %.0f s\n", events,
               std::chrono::duration<double>(Clock::now() - start).count());
  return true;
}

struct Result {
  std::string name;
  double p50 = 0, p99 = 0, max = 0;
  size_t items = 0;  // of the last run
  bool failed = false;
};

// Runs `call(i)` `runs` times; the call returns the number of items.
Result Measure(const std::string& name, int runs,
               const std::function<int64_t(int)>& call) {
  Result r;
  r.name = name;
  std::vector<double> ms;
  call(0);  // warm the statement cache
  for (int i = 0; i < runs; ++i) {
    const auto t0 = Clock::now();
    const int64_t items = call(i);
    ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (items < 0) r.failed = true;
    r.items = static_cast<size_t>(std::max<int64_t>(items, 0));
  }
  std::sort(ms.begin(), ms.end());
  r.p50 = ms[ms.size() / 2];
  r.p99 = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  r.max = ms.back();
  return r;
}

search::Query Parse(const std::string& text) {
  search::Query q;
  Status st = search::ParseQuery(text, &q);
  if (!st.ok()) std::fprintf(stderr, "bad query %s\n", text.c_str());
  return q;
}

}  // namespace
}  // namespace crashctl

int main(int argc, char** argv) {
  using namespace crashctl;
  std::string path = "/tmp/crashctl-query-bench/events.db";
  int64_t events = 1000000;
  int groups = 5000;
  int runs = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--db") {
      path = argv[i + 1];
    } else if (flag == "--events") {
      events = std::atoll(argv[i + 1]);
    } else if (flag == "--groups") {
      groups = std::atoi(argv[i + 1]);
    } else if (flag == "--runs") {
      runs = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  const std::string dir = path.substr(0, path.rfind('/'));
  if (!dir.empty()) mkdir(dir.c_str(), 0755);
  std::string error;
  int64_t project = 1;
  {
    const bool existed = FileExists(path);
    std::unique_ptr<store::Store> s = store::OpenSqliteForIngest(path, &error);
    if (!s) {
      std::fprintf(stderr, "open: %s\n", error.c_str());
      return 1;
    }
    std::vector<model::Project> projects;
    s->ListProjects(&projects);
    if (projects.empty()) {
      model::Project p;
      if (!s->CreateProject("bench", &p).ok()) return 1;
      project = p.id;
    } else {
      project = projects[0].id;
    }
    const int64_t have = existed ? CountEvents(s.get()) : 0;
    if (have != events) {
      if (have != 0) {
        std::fprintf(stderr,
                     "%s holds %" PRId64 " events, not %" PRId64
                     "; remove it first\n",
                     path.c_str(), have, events);
        return 1;
      }
      if (!Build(s.get(), events, groups, project)) return 1;
    }
  }
  std::unique_ptr<store::Store> s = store::OpenSqlite(path, &error);
  if (!s) {
    std::fprintf(stderr, "open: %s\n", error.c_str());
    return 1;
  }
  // The biggest group, a middling one, and their ids.
  store::GroupQuery by_count;
  by_count.sort = "count";
  by_count.limit = 1000;
  model::Page<model::Group> top;
  s->ListGroups(by_count, &top);
  if (top.items.size() < 100) return 1;
  const int64_t big = top.items[0].id;
  const int64_t mid = top.items[99].id;

  std::vector<Result> results;
  auto groups_call = [&](const std::string& name,
                         std::function<void(store::GroupQuery*, int)> set) {
    results.push_back(Measure(name, runs, [&](int i) -> int64_t {
      store::GroupQuery q;
      q.project = project;
      set(&q, i);
      model::Page<model::Group> page;
      if (!s->ListGroups(q, &page).ok()) return -1;
      return static_cast<int64_t>(page.items.size());
    }));
  };
  auto events_call = [&](const std::string& name,
                         std::function<void(store::EventQuery*, int)> set) {
    results.push_back(Measure(name, runs, [&](int i) -> int64_t {
      store::EventQuery q;
      q.project = project;
      set(&q, i);
      model::Page<model::StoredEvent> page;
      if (!s->ListEvents(q, &page).ok()) return -1;
      return static_cast<int64_t>(page.items.size());
    }));
  };
  const char* sorts[] = {"last_seen", "count", "first_seen"};
  for (const char* sort : sorts) {
    const std::string sfx = std::string(" (sort ") + sort + ")";
    groups_call("groups, no filter" + sfx,
                [&](store::GroupQuery* q, int) { q->sort = sort; });
    groups_call("groups, status" + sfx, [&](store::GroupQuery* q, int) {
      q->sort = sort;
      q->status = model::GroupStatus::kUnresolved;
    });
    groups_call("groups, level fatal" + sfx, [&](store::GroupQuery* q, int) {
      q->sort = sort;
      q->level = model::Level::kFatal;
    });
    groups_call("groups, service" + sfx, [&](store::GroupQuery* q, int i) {
      q->sort = sort;
      q->service = kServices[i % 6];
    });
    groups_call("groups, release" + sfx, [&](store::GroupQuery* q, int i) {
      q->sort = sort;
      q->release = kReleases[i % 5];
    });
    groups_call("groups, environment" + sfx, [&](store::GroupQuery* q, int i) {
      q->sort = sort;
      q->environment = kEnvironments[i % 3];
    });
    groups_call("groups, first_release" + sfx,
                [&](store::GroupQuery* q, int i) {
                  q->sort = sort;
                  q->first_release = kReleases[i % 5];
                });
    groups_call("groups, user" + sfx, [&](store::GroupQuery* q, int i) {
      q->sort = sort;
      q->user = "user-" + std::to_string(i * 97 % 20000);
    });
    groups_call("groups, tag region" + sfx, [&](store::GroupQuery* q, int i) {
      q->sort = sort;
      q->tags = {{"region", kRegions[i % 4]}};
    });
    groups_call("groups, since (last day)" + sfx,
                [&](store::GroupQuery* q, int) {
                  q->sort = sort;
                  q->since = kEnd - 86400;
                });
    groups_call("groups, until (first week)" + sfx,
                [&](store::GroupQuery* q, int) {
                  q->sort = sort;
                  q->until = kEnd - kSpan + 7 * 86400;
                });
    groups_call("groups, query word" + sfx, [&](store::GroupQuery* q, int i) {
      q->sort = sort;
      q->query = Parse(kWords[i % kWordCount]);
    });
  }
  groups_call("groups, no project, release", [&](store::GroupQuery* q, int i) {
    q->project.reset();
    q->release = kReleases[i % 5];
  });
  groups_call("groups, query phrase", [&](store::GroupQuery* q, int i) {
    q->query = Parse(std::string("\"") + kWords[i % kWordCount] + " " +
                     kWords[(i + 7) % kWordCount] + "\"");
  });
  groups_call("groups, query prefix", [&](store::GroupQuery* q, int i) {
    q->query = Parse(std::string(kWords[i % kWordCount]).substr(0, 3) + "*");
  });
  groups_call("groups, query with exclusion", [&](store::GroupQuery* q, int i) {
    q->query = Parse(std::string(kWords[i % kWordCount]) + " -" +
                     kWords[(i + 1) % kWordCount]);
  });
  groups_call("groups, release+environment+tag+since",
              [&](store::GroupQuery* q, int i) {
                q->release = kReleases[i % 5];
                q->environment = "production";
                q->tags = {{"browser", kBrowsers[i % 6]}};
                q->since = kEnd - 7 * 86400;
              });
  groups_call("groups, page 2 by cursor", [&](store::GroupQuery* q, int i) {
    store::GroupQuery first = *q;
    first.release = kReleases[i % 5];
    model::Page<model::Group> page;
    s->ListGroups(first, &page);
    q->release = first.release;
    q->cursor = page.next_cursor;
  });

  events_call("events, no filter", [](store::EventQuery*, int) {});
  events_call("events, group (big)",
              [&](store::EventQuery* q, int) { q->group = big; });
  events_call("events, group (100th)",
              [&](store::EventQuery* q, int) { q->group = mid; });
  events_call("events, status", [&](store::EventQuery* q, int) {
    q->status = model::GroupStatus::kUnresolved;
  });
  events_call("events, level fatal", [&](store::EventQuery* q, int) {
    q->level = model::Level::kFatal;
  });
  events_call("events, service", [&](store::EventQuery* q, int i) {
    q->service = kServices[i % 6];
  });
  events_call("events, release", [&](store::EventQuery* q, int i) {
    q->release = kReleases[i % 5];
  });
  events_call("events, environment", [&](store::EventQuery* q, int i) {
    q->environment = kEnvironments[i % 3];
  });
  events_call("events, first_release", [&](store::EventQuery* q, int i) {
    q->first_release = kReleases[i % 5];
  });
  events_call("events, user", [&](store::EventQuery* q, int i) {
    q->user = "user-" + std::to_string(i * 97 % 20000);
  });
  events_call("events, tag order (rare)", [&](store::EventQuery* q, int i) {
    q->tags = {{"order", std::to_string(i * 31 % 100000)}};
  });
  events_call("events, tag region", [&](store::EventQuery* q, int i) {
    q->tags = {{"region", kRegions[i % 4]}};
  });
  events_call("events, since/until (one hour, 10 days ago)",
              [&](store::EventQuery* q, int) {
                q->since = kEnd - 10 * 86400;
                q->until = q->since + 3600;
              });
  events_call("events, query word", [&](store::EventQuery* q, int i) {
    q->query = Parse(kWords[i % kWordCount]);
  });
  events_call("events, query two words", [&](store::EventQuery* q, int i) {
    q->query = Parse(std::string(kWords[i % kWordCount]) + " " +
                     kWords[(i + 5) % kWordCount]);
  });
  events_call("events, query rare (order number)",
              [&](store::EventQuery* q, int i) {
                q->query = Parse("\"order " + std::to_string(i * 4999) + "\"");
              });
  events_call("events, query prefix", [&](store::EventQuery* q, int i) {
    q->query = Parse(std::string(kWords[i % kWordCount]).substr(0, 3) + "*");
  });
  events_call("events, release+environment+user",
              [&](store::EventQuery* q, int i) {
                q->release = kReleases[i % 5];
                q->environment = "production";
                q->user = "user-" + std::to_string(i * 97 % 20000);
              });
  events_call("events, group+release+query", [&](store::EventQuery* q, int i) {
    q->group = big;
    q->release = kReleases[i % 5];
    q->query = Parse(kWords[i % kWordCount]);
  });
  events_call("events, page 2 by cursor", [&](store::EventQuery* q, int i) {
    store::EventQuery first = *q;
    first.release = kReleases[i % 5];
    model::Page<model::StoredEvent> page;
    s->ListEvents(first, &page);
    q->release = first.release;
    q->cursor = page.next_cursor;
  });

  struct StatsCase {
    const char* name;
    int64_t interval;
    double span;
  };
  const StatsCase stats[] = {{"stats 1m over a day", 60, 86400},
                             {"stats 1h over 30 days", 3600, kSpan},
                             {"stats 1d over 30 days", 86400, kSpan}};
  for (const StatsCase& c : stats) {
    for (int64_t g : {big, mid}) {
      results.push_back(Measure(
          std::string(c.name) + (g == big ? " (big group)" : " (100th group)"),
          runs, [&](int) -> int64_t {
            store::StatsQuery q;
            q.group_id = g;
            q.interval = c.interval;
            q.until = kEnd;
            q.since = kEnd - c.span;
            std::vector<model::StatBucket> out;
            if (!s->GroupStats(q, &out).ok()) return -1;
            return static_cast<int64_t>(out.size());
          }));
    }
  }
  for (int64_t g : {big, mid}) {
    results.push_back(
        Measure(std::string("tags top 10") +
                    (g == big ? " (big group)" : " (100th group)"),
                runs, [&](int) -> int64_t {
                  std::vector<model::TagSummary> out;
                  if (!s->GroupTags(g, 10, &out).ok()) return -1;
                  return static_cast<int64_t>(out.size());
                }));
  }

  std::printf("| call | p50 ms | p99 ms | max ms | items |\n");
  std::printf("|---|---:|---:|---:|---:|\n");
  int failures = 0;
  for (const Result& r : results) {
    std::printf("| %s | %.2f | %.2f | %.2f | %zu%s |\n", r.name.c_str(), r.p50,
                r.p99, r.max, r.items, r.failed ? " FAILED" : "");
    failures += r.failed ? 1 : 0;
  }
  return failures == 0 ? 0 : 1;
}
