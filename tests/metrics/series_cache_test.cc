#include "crashctl/metrics/series_cache.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace crashctl {
namespace metrics {
namespace {

TEST(SeriesCacheTest, AddsEachKeyOnceAndReturnsItsSeries) {
  prometheus::Registry registry;
  auto& family = prometheus::BuildCounter().Name("c").Register(registry);
  SeriesCache<prometheus::Counter> cache;
  int adds = 0;
  auto add = [&](const std::string& value) {
    return [&family, &adds, value]() -> prometheus::Counter& {
      ++adds;
      return family.Add({{"l", value}});
    };
  };
  cache.Get("a", add("a")).Increment();
  cache.Get("a", add("a")).Increment();
  cache.Get("b", add("b")).Increment(5);
  EXPECT_EQ(adds, 2);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(family.Add({{"l", "a"}}).Value(), 2);
  EXPECT_EQ(family.Add({{"l", "b"}}).Value(), 5);
  EXPECT_EQ(&cache.Get("a", add("wrong")), &family.Add({{"l", "a"}}));
}

TEST(SeriesCacheTest, ConcurrentGetsCountEveryIncrementInOneSeriesPerKey) {
  prometheus::Registry registry;
  auto& family = prometheus::BuildCounter().Name("c").Register(registry);
  SeriesCache<prometheus::Counter> cache;
  std::atomic<int> adds{0};
  constexpr int kThreads = 8, kKeys = 16, kRounds = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < kRounds; ++round) {
        for (int k = 0; k < kKeys; ++k) {
          const std::string key = "key" + std::to_string(k);
          cache
              .Get(key,
                   [&]() -> prometheus::Counter& {
                     adds.fetch_add(1);
                     return family.Add({{"k", key}});
                   })
              .Increment();
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(adds.load(), kKeys);
  EXPECT_EQ(cache.size(), static_cast<size_t>(kKeys));
  for (int k = 0; k < kKeys; ++k) {
    EXPECT_EQ(family.Add({{"k", "key" + std::to_string(k)}}).Value(),
              kThreads * kRounds)
        << k;
  }
}

}  // namespace
}  // namespace metrics
}  // namespace crashctl
