// The real SDKs against a loopback listener: @sentry/node (tests/
// node_modules, or $NODE_PATH) and sentry_sdk 1.9 (Debian
// python3-sentry-sdk). Each test is skipped when its SDK is missing. With
// CRASHCTL_TRACING_CAPTURE_DIR set, the envelopes are also written there
// under the names testdata/ uses (how testdata/ was made).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "crashctl/tracing/trace_tree.h"
#include "crashctl/tracing/transaction.h"
#include "crashctl/util/time.h"
#include "tests/testing/server_process.h"
#include "tests/tracing/envelope_sink.h"
#include "tests/tracing/real_payloads.h"

namespace crashctl {
namespace tracing {
namespace {

using testing::EnvelopeSink;

struct Captured {
  std::string envelope;
  Transaction tx;
};

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// Runs `argv` against a fresh sink; returns the transactions sent, by name.
std::map<std::string, Captured> Capture(
    const std::vector<std::string>& argv_without_dsn,
    const std::map<std::string, std::string>& env, size_t expected) {
  EnvelopeSink sink;
  EXPECT_TRUE(sink.ok());
  std::vector<std::string> argv = argv_without_dsn;
  argv.push_back(sink.Dsn(1));
  crashctl::testing::CommandResult run =
      crashctl::testing::RunCommand(argv, env, 90);
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  std::map<std::string, Captured> out;
  auto collect = [&] {
    out.clear();
    for (const std::string& body : sink.Bodies()) {
      for (const std::string& item : testing::TransactionItems(body)) {
        Captured c;
        c.envelope = body;
        const Status s =
            NormalizeTransaction(item, util::NowSeconds(), Options(), &c.tx);
        EXPECT_TRUE(s.ok()) << s.ToString() << "\n" << item;
        if (s.ok()) out[c.tx.name] = std::move(c);
      }
    }
    return out.size() >= expected;
  };
  EXPECT_TRUE(crashctl::testing::WaitFor(collect, 10))
      << out.size() << " transactions; " << run.out << run.err;
  const char* dir = std::getenv("CRASHCTL_TRACING_CAPTURE_DIR");
  for (const auto& [name, c] : out) {
    const testing::RealCase* row = testing::FindRealCase(name);
    if (dir != nullptr && row != nullptr) {
      std::ofstream(std::string(dir) + "/" + row->file, std::ios::binary)
          << c.envelope;
    }
  }
  return out;
}

void ExpectRows(const std::map<std::string, Captured>& got,
                const std::string& file_prefix) {
  size_t rows = 0;
  for (const testing::RealCase& row : testing::RealCases()) {
    if (std::string(row.file).rfind(file_prefix, 0) != 0) continue;
    ++rows;
    auto it = got.find(row.name);
    ASSERT_NE(it, got.end()) << "no transaction " << row.name;
    testing::ExpectMatches(row, it->second.tx);
    EXPECT_EQ(it->second.tx.time_adjustment, TimeAdjustment::kNone);
  }
  EXPECT_EQ(got.size(), rows);
}

TEST(SdkCaptureTest, SentryNodeBareHttpServerAndRoute) {
  const char* node_path = std::getenv("NODE_PATH");
  const std::string modules =
      node_path != nullptr && *node_path != '\0'
          ? node_path
          : crashctl::testing::SourceDir() + "/tests/node_modules";
  if (!Exists(modules + "/@sentry/node/package.json")) {
    GTEST_SKIP() << "@sentry/node is not installed under " << modules;
  }
  const auto got = Capture({"node", crashctl::testing::SourceDir() +
                                        "/tests/tracing/node_transactions.js"},
                           {{"NODE_PATH", modules}}, 4);
  ExpectRows(got, "node_");
  if (got.size() != 4) return;
  // The routed handler's outgoing call continues the trace in the bare
  // server: its http.client span is the server transaction's parent.
  const Transaction& route = got.at("GET /orders/:id").tx;
  const Transaction& served = got.at("GET /orders/43").tx;
  EXPECT_EQ(served.trace_id, route.trace_id);
  ASSERT_EQ(route.spans.size(), 3u);
  EXPECT_EQ(served.parent_span_id, route.spans[1].span_id);
  const TraceTree tree = BuildTraceTree({route, served});
  ASSERT_EQ(tree.roots.size(), 1u);
  ASSERT_EQ(tree.nodes.size(), 1u + 3 + 1 + 2);
  EXPECT_EQ(tree.orphan_transactions, 0u);
  // route > load order > http.client > GET /orders/43 > db.query > serialize
  EXPECT_EQ(tree.nodes[3].transaction, 1u);
  EXPECT_EQ(tree.nodes[3].span, kNoIndex);
  EXPECT_EQ(tree.nodes[3].depth, 3u);
  EXPECT_EQ(tree.nodes[5].depth, 5u);
}

TEST(SdkCaptureTest, SentryPythonTransactions) {
  std::string python;
  for (const char* candidate : {"/usr/bin/python3", "python3"}) {
    if (crashctl::testing::RunCommand({candidate, "-c", "import sentry_sdk"},
                                      {}, 30)
            .exit_code == 0) {
      python = candidate;
      break;
    }
  }
  if (python.empty()) GTEST_SKIP() << "no python3 with sentry_sdk";
  const auto got =
      Capture({python, crashctl::testing::SourceDir() +
                           "/tests/tracing/python_transactions.py"},
              {}, 3);
  ExpectRows(got, "python_");
  if (got.size() != 3) return;
  const Transaction& task = got.at("charge_card").tx;
  const Transaction& continued = got.at("send_receipt").tx;
  EXPECT_EQ(task.trace_id, "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(continued.trace_id, task.trace_id);
  ASSERT_EQ(task.spans.size(), 2u);
  EXPECT_EQ(continued.parent_span_id, task.spans[1].span_id);
}

}  // namespace
}  // namespace tracing
}  // namespace crashctl
