// Storage failure: when the database cannot be written (here: the server's
// file size limit, RLIMIT_FSIZE, lowered below the database files, so every
// write fails with EFBIG exactly as on a full disk), ingestion answers 503
// with Retry-After, /metrics shows crashctl_storage_up 0 and
// crashctl_ingest_rejected_total{reason="storage"}, /readyz answers 503; once
// the limit is lifted the server recovers without a restart and without any
// event having to arrive first (readiness probes the store).
//
// RLIMIT_FSIZE needs no privileges and works in any CI container, unlike a
// small tmpfs, a read-only bind mount or chmod (root ignores permissions).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <string>

#include "tests/testing/server_process.h"

namespace crashctl {
namespace {

using testing::HttpResult;
using testing::ServerProcess;

std::string Event(int n) {
  char id[33];
  snprintf(id, sizeof(id), "%032x", 0xd15c0000 + n);
  return R"({"event_id":")" + std::string(id) +
         R"(","level":"error","message":"disk test )" + std::to_string(n) +
         R"("})";
}

bool SetFileSizeLimit(pid_t pid, rlim_t soft) {
  struct rlimit old_limit;
  if (prlimit(pid, RLIMIT_FSIZE, nullptr, &old_limit) != 0) return false;
  struct rlimit limit = old_limit;
  limit.rlim_cur = soft;
  return prlimit(pid, RLIMIT_FSIZE, &limit, nullptr) == 0;
}

TEST(StorageFailureTest, FullDiskAnswers503AndRecoversWithoutRestart) {
  ServerProcess::Options options;
  options.env = {{"CRASHCTL_LOG_LEVEL", "warn"}};
  std::string error;
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(options, &error);
  ASSERT_TRUE(server) << error;
  const ServerProcess::ProjectInfo project = server->CreateProject("disk");
  const std::string path = project.StorePath();
  ASSERT_EQ(server->Post(path, Event(1)).status, 200);
  ASSERT_EQ(server->Get("/readyz").status, 200);

  // "The disk is full": no file of the server may grow past 1 byte.
  ASSERT_TRUE(SetFileSizeLimit(server->pid(), 1));
  HttpResult refused = server->Post(path, Event(2));
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_FALSE(refused.headers["retry-after"].empty());
  const HttpResult not_ready = server->Get("/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_NE(not_ready.body.find("storage"), std::string::npos)
      << not_ready.body;
  const std::string metrics = server->Get("/metrics").body;
  EXPECT_NE(metrics.find("\ncrashctl_storage_up 0"), std::string::npos);
  EXPECT_NE(metrics.find("crashctl_ingest_rejected_total{reason=\"storage\"}"),
            std::string::npos);

  // Space returns. No event is sent: readiness alone must notice.
  ASSERT_TRUE(SetFileSizeLimit(server->pid(), RLIM_INFINITY));
  EXPECT_TRUE(testing::WaitFor(
      [&] { return server->Get("/readyz").status == 200; }, 10));
  EXPECT_NE(server->Get("/metrics").body.find("\ncrashctl_storage_up 1"),
            std::string::npos);
  EXPECT_EQ(server->Post(path, Event(3)).status, 200);
  char id3[33];
  snprintf(id3, sizeof(id3), "%032x", 0xd15c0000 + 3);
  EXPECT_EQ(server->Get("/api/v1/events/" + std::string(id3)).status, 200);
  // The refused event was not stored.
  char id2[33];
  snprintf(id2, sizeof(id2), "%032x", 0xd15c0000 + 2);
  EXPECT_EQ(server->Get("/api/v1/events/" + std::string(id2)).status, 404);

  const std::string data_dir = server->data_dir();
  EXPECT_EQ(server->Stop(SIGTERM), 0);
  testing::CommandResult check = testing::RunCommand(
      {"sqlite3", data_dir + "/crashctl.db", "PRAGMA integrity_check;"});
  EXPECT_EQ(check.out, "ok\n") << check.err;
}

}  // namespace
}  // namespace crashctl
