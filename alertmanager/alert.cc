#include "crashctl/alertmanager/alert.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstdio>
#include <ctime>

namespace crashctl {
namespace alertmanager {
namespace {

void WriteStringMap(rapidjson::Writer<rapidjson::StringBuffer>* writer,
                    const char* name,
                    const std::map<std::string, std::string>& values) {
  writer->Key(name);
  writer->StartObject();
  for (const auto& kv : values) {
    if (kv.second.empty()) continue;
    writer->Key(kv.first.c_str(),
                static_cast<rapidjson::SizeType>(kv.first.size()));
    writer->String(kv.second.c_str(),
                   static_cast<rapidjson::SizeType>(kv.second.size()));
  }
  writer->EndObject();
}

}  // namespace

std::string FormatRfc3339(double epoch_seconds) {
  double whole = std::floor(epoch_seconds);
  int millis = static_cast<int>(std::lround((epoch_seconds - whole) * 1000));
  if (millis >= 1000) {
    whole += 1;
    millis -= 1000;
  }
  const std::time_t t = static_cast<std::time_t>(whole);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, millis);
  return buf;
}

std::string EncodeAlerts(const std::vector<Alert>& alerts) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartArray();
  for (const Alert& alert : alerts) {
    writer.StartObject();
    WriteStringMap(&writer, "labels", alert.labels);
    WriteStringMap(&writer, "annotations", alert.annotations);
    if (alert.starts_at > 0) {
      writer.Key("startsAt");
      writer.String(FormatRfc3339(alert.starts_at));
    }
    if (alert.ends_at > 0) {
      writer.Key("endsAt");
      writer.String(FormatRfc3339(alert.ends_at));
    }
    if (!alert.generator_url.empty()) {
      writer.Key("generatorURL");
      writer.String(alert.generator_url);
    }
    writer.EndObject();
  }
  writer.EndArray();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace alertmanager
}  // namespace crashctl
