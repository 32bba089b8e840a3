// The parsers and state machines on what real SDKs send: @sentry/node
// (sessions, request-mode aggregates, a client report, check-ins with monitor
// configs) and Python's sentry_sdk (WSGI request-mode aggregates).
//
// - *Testdata tests replay the envelopes committed in testdata/node_sdk/ and
//   testdata/python_sdk/ (captured byte for byte by the capture tests).
// - *Capture tests run the SDKs now against a loopback CaptureServer
//   (GTEST_SKIP when node, @sentry/node or python3's sentry_sdk is missing;
//   NODE_PATH or <source>/tests/node_modules locates @sentry/node). With
//   CRASHCTL_RELEASES_UPDATE_TESTDATA=1 they rewrite the testdata.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "crashctl/releases/check_in.h"
#include "crashctl/releases/client_report.h"
#include "crashctl/releases/sessions.h"
#include "crashctl/util/time.h"
#include "tests/releases/capture_server.h"
#include "tests/testing/server_process.h"

namespace crashctl::releases {
namespace {

using testing::CaptureServer;
using testing::Envelope;
using testing::SplitEnvelope;

const char kKey[] = "0123456789abcdef0123456789abcdef";

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TestdataDir() {
  return testing::SourceDir() + "/tests/releases/testdata";
}

// The testdata envelopes of `dir`, in name order.
std::vector<Envelope> LoadEnvelopes(const std::string& dir) {
  std::vector<Envelope> out;
  for (int i = 1; i < 100; ++i) {
    char name[32];
    snprintf(name, sizeof(name), "/%02d.envelope", i);
    if (!Exists(dir + name)) break;
    Envelope env;
    EXPECT_TRUE(SplitEnvelope(ReadFile(dir + name), &env)) << dir << name;
    out.push_back(std::move(env));
  }
  return out;
}

bool Interesting(const Envelope& env) {
  for (const auto& item : env.items) {
    if (item.type == "session" || item.type == "sessions" ||
        item.type == "client_report" || item.type == "check_in") {
      return true;
    }
  }
  return false;
}

// Runs the captured requests through SplitEnvelope; keeps the envelopes with
// release-health or cron items (events carry stack traces with local paths
// and are left out), and writes them to `dir` when asked to.
std::vector<Envelope> FromCapture(const CaptureServer& server,
                                  const std::string& dir) {
  std::vector<Envelope> out;
  std::vector<std::string> bodies;
  for (const auto& req : server.Requests()) {
    EXPECT_EQ(req.method, "POST");
    // Events may come to /store/ (sentry_sdk 1.x); only envelopes matter.
    if (req.target.find("/api/42/envelope/") == std::string::npos) {
      EXPECT_NE(req.target.find("/api/42/store/"), std::string::npos)
          << req.target;
      continue;
    }
    Envelope env;
    EXPECT_TRUE(SplitEnvelope(req.body, &env)) << req.body;
    if (!Interesting(env)) continue;
    out.push_back(std::move(env));
    bodies.push_back(req.body);
  }
  const char* update = getenv("CRASHCTL_RELEASES_UPDATE_TESTDATA");
  if (update != nullptr && std::string(update) == "1") {
    mkdir(dir.c_str(), 0755);
    // The time of the capture: `now` for envelopes without sent_at (the
    // Python SDK sends none).
    std::ofstream(dir + "/captured_at")
        << static_cast<int64_t>(util::NowSeconds());
    for (size_t i = 0; i < bodies.size(); ++i) {
      char name[32];
      snprintf(name, sizeof(name), "/%02zu.envelope", i + 1);
      std::ofstream(dir + name, std::ios::binary) << bodies[i];
    }
  }
  return out;
}

// Everything the envelopes mean, through the component's API.
struct Replay {
  std::vector<SessionCount> session_counts;  // tracker + aggregates
  std::vector<DiscardedRow> discarded;
  std::map<std::string, MonitorState> monitors;  // by slug
  std::vector<MonitorTransition> transitions;
  std::vector<std::string> errors;
};

// `now` for envelopes without sent_at (and before the first one with it).
Replay ReplayEnvelopes(const std::vector<Envelope>& envelopes,
                       double fallback_now) {
  Replay r;
  SessionTracker tracker;
  double now = fallback_now;
  for (const Envelope& env : envelopes) {
    if (env.sent_at) now = *env.sent_at + 0.05;
    for (const auto& item : env.items) {
      ParseOptions options;
      options.now = now;
      options.sent_at = env.sent_at;
      if (item.type == "session") {
        SessionUpdate u;
        Status s = ParseSessionUpdate(item.payload, options, &u);
        if (!s.ok()) {
          r.errors.push_back(s.ToString());
          continue;
        }
        tracker.Apply(42, u, now, &r.session_counts);
      } else if (item.type == "sessions") {
        SessionAggregates a;
        Status s = ParseSessionAggregates(item.payload, options, &a);
        if (!s.ok()) {
          r.errors.push_back(s.ToString());
          continue;
        }
        for (auto& c : CountAggregates(42, a)) {
          r.session_counts.push_back(std::move(c));
        }
      } else if (item.type == "client_report") {
        ClientReport report;
        Status s = ParseClientReport(item.payload, &report);
        if (!s.ok()) {
          r.errors.push_back(s.ToString());
          continue;
        }
        for (auto& row : report.rows) r.discarded.push_back(row);
      } else if (item.type == "check_in") {
        CheckIn c;
        Status s = ParseCheckIn(item.payload, &c);
        if (!s.ok()) {
          r.errors.push_back(s.ToString());
          continue;
        }
        MonitorTransition t = ApplyCheckIn(r.monitors[c.monitor_slug], c,
                                           static_cast<int64_t>(now));
        r.monitors[c.monitor_slug] = t.state;
        r.transitions.push_back(std::move(t));
      }
    }
  }
  return r;
}

uint64_t Count(const std::vector<SessionCount>& counts, CountedStatus status,
               SessionCount::Reason reason) {
  uint64_t n = 0;
  for (const auto& c : counts) {
    if (c.status == status && c.reason == reason) n += c.quantity;
  }
  return n;
}

struct ExpectedCount {
  CountedStatus status;
  SessionCount::Reason reason;
  uint64_t quantity;
};

void ExpectCounts(const std::vector<SessionCount>& counts,
                  std::initializer_list<ExpectedCount> expected) {
  for (const ExpectedCount& e : expected) {
    EXPECT_EQ(Count(counts, e.status, e.reason), e.quantity)
        << CountedStatusName(e.status) << ", reason "
        << static_cast<int>(e.reason);
  }
}

void CheckNode(const std::vector<Envelope>& envelopes, double now) {
  ASSERT_FALSE(envelopes.empty());
  const Replay r = ReplayEnvelopes(envelopes, now);
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();

  using Reason = SessionCount::Reason;
  ExpectCounts(r.session_counts,
               {// Two individual sessions, each counted once: user-7's
                // exited with errors: 1 (errored), user-8's crashed (the SDK
                // sends the crashed update twice; the second is not counted
                // again).
                {CountedStatus::kErrored, Reason::kEnded, 1},
                {CountedStatus::kCrashed, Reason::kEnded, 1},
                {CountedStatus::kExited, Reason::kEnded, 0},
                // Request-mode aggregates: four requests, one with a
                // captured error.
                {CountedStatus::kExited, Reason::kAggregate, 3},
                {CountedStatus::kErrored, Reason::kAggregate, 1}});
  for (const auto& c : r.session_counts) {
    EXPECT_EQ(c.release, "shop@2.0.1");
    EXPECT_EQ(c.environment, "staging");
    if (c.reason == SessionCount::Reason::kEnded) {
      EXPECT_EQ(c.distinct_id_hash,
                HashDistinctId(c.status == CountedStatus::kCrashed ? "user-8"
                                                                   : "user-7"));
    }
  }

  // The client report: the event dropped in beforeSend.
  bool before_send = false;
  for (const auto& row : r.discarded) {
    if (row.reason == "before_send" && row.category == "error") {
      before_send = row.quantity == 1;
    }
    EXPECT_NE(
        std::find(DiscardReasons().begin(), DiscardReasons().end(), row.reason),
        DiscardReasons().end())
        << row.reason;
  }
  EXPECT_TRUE(before_send);

  // Check-ins: nightly-backup (crontab, Vienna) in_progress then ok;
  // hourly-sync (interval 2 h, withMonitor) in_progress then error.
  ASSERT_EQ(r.transitions.size(), 4u);
  ASSERT_TRUE(r.monitors.count("nightly-backup"));
  ASSERT_TRUE(r.monitors.count("hourly-sync"));
  const MonitorState& nightly = r.monitors.at("nightly-backup");
  ASSERT_TRUE(nightly.config);
  EXPECT_EQ(nightly.config->schedule.crontab, "0 3 * * *");
  EXPECT_EQ(nightly.config->timezone, "Europe/Vienna");
  EXPECT_EQ(nightly.config->margin_seconds(), 300);
  EXPECT_EQ(nightly.config->failure_threshold(), 2);
  EXPECT_TRUE(nightly.open_runs.empty());
  ASSERT_TRUE(nightly.next_expected);
  EXPECT_GT(*nightly.next_expected, nightly.last_checkin);
  EXPECT_LE(*nightly.next_expected, nightly.last_checkin + 25 * 3600);
  EXPECT_EQ(r.transitions[1].records.at(0).kind,
            CheckInRecord::Kind::kRunFinished);
  EXPECT_EQ(r.transitions[1].records.at(0).duration_seconds, 1.5);
  EXPECT_TRUE(r.transitions[1].alerts.empty());
  const MonitorState& hourly = r.monitors.at("hourly-sync");
  ASSERT_TRUE(hourly.config);
  EXPECT_EQ(hourly.config->schedule.type, ScheduleConfig::Type::kInterval);
  ASSERT_TRUE(hourly.next_expected);
  EXPECT_EQ(*hourly.next_expected, hourly.schedule_anchor + 2 * 3600);
  ASSERT_EQ(r.transitions[3].alerts.size(), 1u);
  EXPECT_EQ(r.transitions[3].alerts[0].kind, MonitorAlert::Kind::kRaise);
  EXPECT_EQ(r.transitions[3].alerts[0].reason, "error");
}

void CheckPython(const std::vector<Envelope>& envelopes, double now) {
  ASSERT_FALSE(envelopes.empty());
  const Replay r = ReplayEnvelopes(envelopes, now);
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  // Five requests: three fine, one captured error, one unhandled exception.
  using Reason = SessionCount::Reason;
  ExpectCounts(r.session_counts,
               {{CountedStatus::kExited, Reason::kAggregate, 3},
                {CountedStatus::kErrored, Reason::kAggregate, 1},
                {CountedStatus::kCrashed, Reason::kAggregate, 1}});
  for (const auto& c : r.session_counts) {
    EXPECT_EQ(c.release, "api@3.1.0");
    EXPECT_EQ(c.environment, "production");
  }
}

TEST(RealSdkTestdata, NodeEnvelopes) {
  const std::string dir = TestdataDir() + "/node_sdk";
  CheckNode(LoadEnvelopes(dir),
            std::atof(ReadFile(dir + "/captured_at").c_str()));
}

TEST(RealSdkTestdata, PythonWsgiEnvelopes) {
  const std::string dir = TestdataDir() + "/python_sdk";
  CheckPython(LoadEnvelopes(dir),
              std::atof(ReadFile(dir + "/captured_at").c_str()));
}

std::string NodeModules() {
  std::vector<std::string> candidates;
  if (const char* p = getenv("NODE_PATH")) {
    std::string s(p);
    candidates.push_back(s.substr(0, s.find(':')));
  }
  candidates.push_back(testing::SourceDir() + "/tests/node_modules");
  for (const auto& dir : candidates) {
    if (Exists(dir + "/@sentry/node/package.json")) return dir;
  }
  return "";
}

TEST(RealSdkCapture, Node) {
  if (testing::RunCommand({"node", "--version"}, {}, 20).exit_code != 0) {
    GTEST_SKIP() << "node is not installed";
  }
  const std::string modules = NodeModules();
  if (modules.empty()) GTEST_SKIP() << "@sentry/node is not installed";
  CaptureServer server;
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  const std::string dsn = std::string("http://") + kKey +
                          "@127.0.0.1:" + std::to_string(server.port()) + "/42";
  testing::CommandResult run = testing::RunCommand(
      {"node", testing::SourceDir() + "/tests/releases/sentry_node_releases.js",
       dsn},
      {{"NODE_PATH", modules}}, 90);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  CheckNode(FromCapture(server, TestdataDir() + "/node_sdk"),
            util::NowSeconds());
}

TEST(RealSdkCapture, PythonWsgi) {
  const std::string python =
      Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  if (testing::RunCommand({python, "-c", "import sentry_sdk"}, {}, 30)
          .exit_code != 0) {
    GTEST_SKIP() << "python3's sentry_sdk is not installed";
  }
  CaptureServer server;
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  const std::string dsn = std::string("http://") + kKey +
                          "@127.0.0.1:" + std::to_string(server.port()) + "/42";
  testing::CommandResult run = testing::RunCommand(
      {python, testing::SourceDir() + "/tests/releases/sentry_python_wsgi.py",
       dsn},
      {}, 90);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  CheckPython(FromCapture(server, TestdataDir() + "/python_sdk"),
              util::NowSeconds());
}

}  // namespace
}  // namespace crashctl::releases
