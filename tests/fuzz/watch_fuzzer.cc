// libFuzzer target: the Kubernetes watch stream as kube/kube_watcher.cc
// consumes it. The first bytes of the input choose chunk sizes; the rest is
// the response body, fed to a WatchLineBuffer in those chunks. The lines must
// be the same as when the body is fed at once (any split gives the same
// lines). Each line is parsed as a watch event the way the watcher does
// ({"type": ..., "object": {...}}) and the pod object goes through
// ParsePodSnapshot -> ClassifyPod / PodIsCrashLooping.
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "kube/pod_classifier.h"
#include "kube/watch_line_buffer.h"

namespace {

constexpr size_t kMaxLine = 64 << 10;

void HandleLine(const std::string& line) {
  rapidjson::Document doc;
  doc.Parse(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject()) return;
  auto type_it = doc.FindMember("type");
  auto obj_it = doc.FindMember("object");
  if (type_it == doc.MemberEnd() || !type_it->value.IsString() ||
      obj_it == doc.MemberEnd() || !obj_it->value.IsObject()) {
    return;
  }
  const rapidjson::Value& obj = obj_it->value;
  crashctl::kube::PodSnapshot pod;
  std::string error;
  if (!crashctl::kube::ParsePodSnapshot(obj, &pod, &error)) {
    if (error.empty()) std::abort();
    return;
  }
  for (int threshold : {0, 1, 5}) {
    crashctl::kube::ClassifyPod(pod, threshold);
  }
  crashctl::kube::PodIsCrashLooping(pod);
  crashctl::kube::EvictionResource(pod.message);
  crashctl::kube::ParseRfc3339(pod.start_time);
  auto metadata = obj.FindMember("metadata");
  if (metadata != obj.MemberEnd()) {
    std::string kind, name;
    crashctl::kube::OwnerWorkload(metadata->value, &kind, &name);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Two bytes of chunk sizes (1..256 each, alternating).
  const size_t chunk[2] = {static_cast<size_t>(data[0]) + 1,
                           static_cast<size_t>(data[1]) + 1};
  const char* body = reinterpret_cast<const char*>(data + 2);
  const size_t body_size = size - 2;

  crashctl::kube::WatchLineBuffer whole(kMaxLine);
  std::vector<std::string> expected;
  whole.Feed(body, body_size, &expected);

  crashctl::kube::WatchLineBuffer chunked(kMaxLine);
  std::vector<std::string> lines;
  std::vector<std::string> batch;
  size_t offset = 0;
  for (int i = 0; offset < body_size; ++i) {
    size_t n = chunk[i % 2];
    if (n > body_size - offset) n = body_size - offset;
    batch.clear();
    chunked.Feed(body + offset, n, &batch);
    for (std::string& line : batch) {
      if (line.empty() || line.size() > kMaxLine) std::abort();
      HandleLine(line);
      lines.push_back(std::move(line));
    }
    offset += n;
  }
  if (lines != expected) std::abort();
  if (chunked.pending() != whole.pending()) std::abort();
  if (chunked.overflows() != whole.overflows()) std::abort();
  return 0;
}
