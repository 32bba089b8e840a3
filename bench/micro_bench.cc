// Micro benchmarks of the hot paths: envelope parsing, event normalisation,
// grouping, payload compression, one SQLite write batch, and /metrics with
// 10,000 series.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "crashctl/exporter/exporter.h"
#include "crashctl/grouping/grouping.h"
#include "crashctl/ingest/metrics.h"
#include "crashctl/ingest/normalize.h"
#include "crashctl/store/sqlite.h"
#include "crashctl/store/store.h"
#include "ingest/envelope.h"
#include "store/payload_codec.h"

namespace crashctl {
namespace {

// A ~5 KB Node.js event with 30 frames, like bench/loadgen sends.
std::string SampleEvent(int group, int n) {
  std::string frames;
  for (int f = 0; f < 30; ++f) {
    if (f) frames += ",";
    frames += R"({"filename":"/app/src/handler_)" + std::to_string(f) +
              R"(.js","function":"fn_)" + std::to_string(f == 29 ? group : f) +
              R"(","lineno":)" + std::to_string(10 + f) +
              R"(,"colno":7,"in_app":)" + (f > 20 ? "true" : "false") + "}";
  }
  char id[33];
  std::snprintf(id, sizeof(id), "%032x", n);
  std::string crumbs;
  for (int b = 0; b < 12; ++b) {
    if (b) crumbs += ",";
    crumbs +=
        R"({"timestamp":1700000000.1,"category":"http","message":"GET /api/cart/)" +
        std::to_string(b) + R"( 200"})";
  }
  return std::string(R"({"event_id":")") + id +
         R"(","timestamp":1700000000.5,"platform":"node","level":"error","release":"shop@1.4.2",)"
         R"("server_name":"checkout-7f8b4d-x2x9q","tags":{"service":"checkout"},)"
         R"("exception":{"values":[{"type":"TypeError","value":"order )" +
         std::to_string(n) + R"( failed","stacktrace":{"frames":[)" + frames +
         R"(]}}]},"breadcrumbs":{"values":[)" + crumbs + "]}}";
}

void BM_ParseEnvelope(benchmark::State& state) {
  const std::string event = SampleEvent(1, 1);
  const std::string body = R"({"event_id":"00000000000000000000000000000001"})"
                           "\n{\"type\":\"event\",\"length\":" +
                           std::to_string(event.size()) + "}\n" + event + "\n";
  for (auto _ : state) {
    ingest::Envelope envelope;
    std::string error;
    benchmark::DoNotOptimize(ingest::ParseEnvelope(body, &envelope, &error));
  }
  state.SetBytesProcessed(state.iterations() * body.size());
}
BENCHMARK(BM_ParseEnvelope);

void BM_NormalizeEvent(benchmark::State& state) {
  const std::string event = SampleEvent(1, 1);
  for (auto _ : state) {
    model::Event out;
    std::string error;
    benchmark::DoNotOptimize(
        ingest::NormalizeEvent(event, 1, 1700000000, &out, &error));
  }
  state.SetBytesProcessed(state.iterations() * event.size());
}
BENCHMARK(BM_NormalizeEvent);

void BM_ComputeGrouping(benchmark::State& state) {
  model::Event event;
  std::string error;
  ingest::NormalizeEvent(SampleEvent(1, 1), 1, 1700000000, &event, &error);
  for (auto _ : state)
    benchmark::DoNotOptimize(grouping::ComputeGrouping(event));
}
BENCHMARK(BM_ComputeGrouping);

// The handler-side part of a write: compressing the payload.
void BM_EncodePayload(benchmark::State& state) {
  const std::string event = SampleEvent(1, 1);
  std::string stored;
  for (auto _ : state) {
    store::EncodePayload(event, &stored);
    benchmark::DoNotOptimize(stored.data());
  }
  state.SetBytesProcessed(state.iterations() * event.size());
  state.counters["ratio"] = static_cast<double>(event.size()) / stored.size();
}
BENCHMARK(BM_EncodePayload);

void BM_StoreWriteBatch(benchmark::State& state) {
  char dir[] = "/tmp/crashctl-bench-XXXXXX";
  if (!mkdtemp(dir)) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  std::string error;
  std::unique_ptr<store::Store> store =
      store::OpenSqlite(std::string(dir) + "/crashctl.db", &error);
  model::Project project;
  store->CreateProject("bench", &project);
  const int batch = static_cast<int>(state.range(0));
  int n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<model::WriteItem> items(batch);
    for (model::WriteItem& item : items) {
      ingest::NormalizeEvent(SampleEvent(n % 500, n), project.id, 1700000000,
                             &item.event, &error);
      item.grouping = grouping::ComputeGrouping(item.event);
      store->PrepareWrite(&item);  // on the handler threads in the server
      ++n;
    }
    state.ResumeTiming();
    std::vector<model::WriteOutcome> outcomes;
    if (!store->WriteEvents(items, &outcomes).ok())
      state.SkipWithError("write failed");
  }
  state.SetItemsProcessed(state.iterations() * batch);
  store.reset();
  std::system((std::string("rm -rf ") + dir).c_str());
}
BENCHMARK(BM_StoreWriteBatch)
    ->Arg(512)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_MetricsSerialize10kSeries(benchmark::State& state) {
  exporter::Exporter::Options options;
  options.max_services = 100;
  exporter::Exporter exporter(options);
  ingest::Metrics metrics(exporter.registry(), exporter.services());
  // 100 projects x 5 levels x 20 services = 10,000 events_total series.
  for (int p = 1; p <= 100; ++p) {
    for (model::Level level : model::AllLevels()) {
      for (int s = 0; s < 20; ++s) {
        metrics.EventStored(p, level, "service-" + std::to_string(s));
      }
    }
  }
  // As `crashctl serve` configures the allocator (cmd/serve_command.cc).
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = exporter.Serialize();
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_MetricsSerialize10kSeries)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace crashctl

BENCHMARK_MAIN();
