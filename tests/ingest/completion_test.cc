#include "crashctl/ingest/completion.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

namespace crashctl {
namespace ingest {
namespace {

using Clock = std::chrono::steady_clock;

IngestResult Stored(int64_t group_id) {
  IngestResult result;
  result.outcome.group_id = group_id;
  return result;
}

TEST(CompletionTest, WaitsForEveryResultAndKeepsTheirOrder) {
  auto completion = std::make_shared<Completion>(3);
  std::thread writer([completion] {
    completion->Set(2, Stored(30));
    completion->Set(0, Stored(10));
    completion->Set(1, Stored(20));
  });
  ASSERT_TRUE(completion->WaitUntil(Clock::now() + std::chrono::minutes(1)));
  writer.join();
  ASSERT_EQ(completion->results().size(), 3u);
  EXPECT_EQ(completion->results()[0].outcome.group_id, 10);
  EXPECT_EQ(completion->results()[1].outcome.group_id, 20);
  EXPECT_EQ(completion->results()[2].outcome.group_id, 30);
}

TEST(CompletionTest, DeadlinePassesWhileAResultIsMissing) {
  Completion completion(2);
  completion.Set(0, Stored(1));
  const auto start = Clock::now();
  EXPECT_FALSE(completion.WaitUntil(start + std::chrono::milliseconds(20)));
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(20));
  completion.Set(1, Stored(2));
  EXPECT_TRUE(completion.WaitUntil(Clock::now()));
}

TEST(CompletionTest, WriterMaySetAfterTheWaiterGaveUp) {
  // A handler that timed out drops its reference; the writer's keeps the
  // Completion alive until its last Set() (checked under ASan/TSan).
  auto completion = std::make_shared<Completion>(1);
  std::weak_ptr<Completion> watch = completion;
  std::shared_ptr<Completion> writer_ref = completion;
  EXPECT_FALSE(completion->WaitUntil(Clock::now()));
  completion.reset();
  std::thread writer([ref = std::move(writer_ref)]() mutable {
    ref->Set(0, Stored(1));
    ref.reset();
  });
  writer.join();
  EXPECT_TRUE(watch.expired());
}

TEST(CompletionTest, EmptyCompletionIsDoneAtOnce) {
  Completion completion(0);
  EXPECT_TRUE(completion.WaitUntil(Clock::now()));
  EXPECT_TRUE(completion.results().empty());
}

}  // namespace
}  // namespace ingest
}  // namespace crashctl
