// An application that reports one message to crashctl, inside a traced
// transaction (sent too), then exits.
//   CRASHCTL_DSN=http://KEY@127.0.0.1:9190/1 ./consumer "message" [via]
// Prints the event id (and the trace id on stderr); exits 0 when the event
// was sent.
#include <chrono>
#include <cstdio>
#include <string>

#include "crashctl/sdk.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MESSAGE [VIA]\n", argv[0]);
    return 2;
  }
  crashctl::sdk::Options options;  // DSN from env CRASHCTL_DSN
  options.service = "consumer";
  options.release = "consumer@1.0";
  options.traces_sample_rate = 1.0;
  if (!crashctl::sdk::Init(options)) {
    std::fprintf(stderr, "crashctl::sdk::Init failed (CRASHCTL_DSN?)\n");
    return 1;
  }
  crashctl::sdk::EventOptions event;
  event.level = crashctl::sdk::Level::kWarning;
  event.tags["via"] = argc > 2 ? argv[2] : "unknown";
  crashctl::sdk::Transaction tx =
      crashctl::sdk::StartTransaction("consumer.run", "task");
  std::string id;
  {
    crashctl::sdk::SpanScope scope(tx);  // the event carries the trace
    crashctl::sdk::Span span = tx.StartChild("capture", "CaptureMessage");
    id = crashctl::sdk::CaptureMessage(argv[1], event);
    span.Finish();
  }
  tx.Finish();
  std::fprintf(stderr, "trace %s\n", tx.TraceId().c_str());
  const bool flushed = crashctl::sdk::Flush(std::chrono::seconds(10));
  crashctl::sdk::Shutdown();
  std::printf("%s\n", id.c_str());
  return !id.empty() && flushed ? 0 : 3;
}
