#include "fake_apiserver.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <sstream>
#include <thread>

namespace crashctl {
namespace testing {
namespace {

using rapidjson::Document;
using rapidjson::Value;

constexpr size_t kMaxBody = 16 << 20;
constexpr std::chrono::milliseconds kBookmarkInterval(1000);

std::string ToJson(const Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

std::string Meta(const Value& pod, const char* field) {
  if (!pod.IsObject() || !pod.HasMember("metadata")) return "";
  const Value& m = pod["metadata"];
  if (!m.IsObject() || !m.HasMember(field) || !m[field].IsString()) return "";
  return m[field].GetString();
}

const char* StatusText(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 410:
      return "Gone";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

void SendBody(mg_connection* conn, int status, const std::string& type,
              const std::string& body) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-cache, private\r\nConnection: close\r\n\r\n",
            status, StatusText(status), type.c_str(), body.size());
  mg_write(conn, body.data(), body.size());
}

// A metav1.Status object, as the API server answers errors; `name` and
// `kind` (plural resource, e.g. "leases") fill details when not "".
std::string StatusJson(int code, const std::string& reason,
                       const std::string& message, const std::string& name = "",
                       const std::string& group = "",
                       const std::string& kind = "") {
  Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("kind", "Status", a);
  d.AddMember("apiVersion", "v1", a);
  d.AddMember("metadata", Value(rapidjson::kObjectType), a);
  d.AddMember("status", "Failure", a);
  d.AddMember("message", Value(message.c_str(), a), a);
  d.AddMember("reason", Value(reason.c_str(), a), a);
  if (!name.empty() || !kind.empty()) {
    Value details(rapidjson::kObjectType);
    details.AddMember("name", Value(name.c_str(), a), a);
    if (!group.empty()) details.AddMember("group", Value(group.c_str(), a), a);
    details.AddMember("kind", Value(kind.c_str(), a), a);
    d.AddMember("details", details, a);
  }
  d.AddMember("code", code, a);
  return ToJson(d);
}

constexpr char kLeaseGroup[] = "coordination.k8s.io";
constexpr std::chrono::seconds kBlackholeTime(3);

// Server-side printing of Leases: Name, Holder, Age.
std::string LeaseTableJson(const std::vector<const Value*>& leases,
                           const std::string& rv) {
  Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("kind", "Table", a);
  d.AddMember("apiVersion", "meta.k8s.io/v1", a);
  Value meta(rapidjson::kObjectType);
  meta.AddMember("resourceVersion", Value(rv.c_str(), a), a);
  d.AddMember("metadata", meta, a);
  Value cols(rapidjson::kArrayType);
  const char* names[][2] = {{"Name", "name"}, {"Holder", ""}, {"Age", ""}};
  for (auto& n : names) {
    Value c(rapidjson::kObjectType);
    c.AddMember("name", Value(n[0], a), a);
    c.AddMember("type", "string", a);
    c.AddMember("format", Value(n[1], a), a);
    c.AddMember("description", "", a);
    c.AddMember("priority", 0, a);
    cols.PushBack(c, a);
  }
  d.AddMember("columnDefinitions", cols, a);
  Value rows(rapidjson::kArrayType);
  for (const Value* l : leases) {
    Value row(rapidjson::kObjectType);
    Value cells(rapidjson::kArrayType);
    std::string holder;
    if (l->HasMember("spec") && (*l)["spec"].IsObject() &&
        (*l)["spec"].HasMember("holderIdentity") &&
        (*l)["spec"]["holderIdentity"].IsString()) {
      holder = (*l)["spec"]["holderIdentity"].GetString();
    }
    cells.PushBack(Value(Meta(*l, "name").c_str(), a), a);
    cells.PushBack(Value(holder.c_str(), a), a);
    cells.PushBack(Value("1m", a), a);
    row.AddMember("cells", cells, a);
    Value obj(rapidjson::kObjectType);
    obj.AddMember("kind", "PartialObjectMetadata", a);
    obj.AddMember("apiVersion", "meta.k8s.io/v1", a);
    Value m;
    m.CopyFrom((*l)["metadata"], a);
    obj.AddMember("metadata", m, a);
    row.AddMember("object", obj, a);
    rows.PushBack(row, a);
  }
  d.AddMember("rows", rows, a);
  return ToJson(d);
}

void SendStatus(mg_connection* conn, int code, const std::string& reason,
                const std::string& message) {
  SendBody(conn, code, "application/json", StatusJson(code, reason, message));
}

std::string Now3339() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Columns kubectl shows for pods (server-side printing).
void AddPodColumns(Value* table, Document::AllocatorType& a) {
  Value cols(rapidjson::kArrayType);
  const char* names[][3] = {{"Name", "string", "name"},
                            {"Ready", "string", ""},
                            {"Status", "string", ""},
                            {"Restarts", "string", ""},
                            {"Age", "string", ""}};
  for (auto& n : names) {
    Value c(rapidjson::kObjectType);
    c.AddMember("name", Value(n[0], a), a);
    c.AddMember("type", Value(n[1], a), a);
    c.AddMember("format", Value(n[2], a), a);
    c.AddMember("description", "", a);
    c.AddMember("priority", 0, a);
    cols.PushBack(c, a);
  }
  table->AddMember("columnDefinitions", cols, a);
}

Value PodRow(const Value& pod, Document::AllocatorType& a) {
  int ready = 0, total = 0, restarts = 0;
  std::string status =
      pod.HasMember("status") && pod["status"].HasMember("phase")
          ? pod["status"]["phase"].GetString()
          : "Pending";
  if (pod.HasMember("status") && pod["status"].HasMember("reason") &&
      pod["status"]["reason"].IsString()) {
    status = pod["status"]["reason"].GetString();
  }
  if (pod.HasMember("status") && pod["status"].HasMember("containerStatuses") &&
      pod["status"]["containerStatuses"].IsArray()) {
    for (const auto& cs : pod["status"]["containerStatuses"].GetArray()) {
      ++total;
      if (cs.HasMember("ready") && cs["ready"].IsBool() &&
          cs["ready"].GetBool()) {
        ++ready;
      }
      if (cs.HasMember("restartCount")) restarts += cs["restartCount"].GetInt();
      if (cs.HasMember("state") && cs["state"].HasMember("waiting") &&
          cs["state"]["waiting"].HasMember("reason")) {
        status = cs["state"]["waiting"]["reason"].GetString();
      } else if (cs.HasMember("state") && cs["state"].HasMember("terminated") &&
                 cs["state"]["terminated"].HasMember("reason")) {
        status = cs["state"]["terminated"]["reason"].GetString();
      }
    }
  } else if (pod.HasMember("spec") && pod["spec"].HasMember("containers")) {
    total = static_cast<int>(pod["spec"]["containers"].Size());
  }
  Value row(rapidjson::kObjectType);
  Value cells(rapidjson::kArrayType);
  cells.PushBack(Value(Meta(pod, "name").c_str(), a), a);
  cells.PushBack(
      Value((std::to_string(ready) + "/" + std::to_string(total)).c_str(), a),
      a);
  cells.PushBack(Value(status.c_str(), a), a);
  cells.PushBack(Value(std::to_string(restarts).c_str(), a), a);
  cells.PushBack(Value("1m", a), a);
  row.AddMember("cells", cells, a);
  Value obj(rapidjson::kObjectType);
  obj.AddMember("kind", "PartialObjectMetadata", a);
  obj.AddMember("apiVersion", "meta.k8s.io/v1", a);
  Value meta;
  meta.CopyFrom(pod["metadata"], a);
  obj.AddMember("metadata", meta, a);
  row.AddMember("object", obj, a);
  return row;
}

// The head of a list answer in `d` (an object): kind, apiVersion and
// metadata with the resourceVersion `rv` and, when not "", the continue
// token `cont`.
void StartList(Document* d, const char* kind, const char* api_version,
               const std::string& rv, const std::string& cont) {
  auto& a = d->GetAllocator();
  d->AddMember("kind", rapidjson::StringRef(kind), a);
  d->AddMember("apiVersion", rapidjson::StringRef(api_version), a);
  Value meta(rapidjson::kObjectType);
  meta.AddMember("resourceVersion", Value(rv.c_str(), a), a);
  if (!cont.empty()) meta.AddMember("continue", Value(cont.c_str(), a), a);
  d->AddMember("metadata", meta, a);
}

// Columns the API server prints for core/v1 Events (priority 1 = -o wide).
void AddEventColumns(Value* table, Document::AllocatorType& a) {
  Value cols(rapidjson::kArrayType);
  struct Col {
    const char* name;
    int priority;
  };
  const Col names[] = {{"Last Seen", 0}, {"Type", 0},       {"Reason", 0},
                       {"Object", 0},    {"Subobject", 1},  {"Source", 1},
                       {"Message", 0},   {"First Seen", 1}, {"Count", 1},
                       {"Name", 1}};
  for (const Col& n : names) {
    Value c(rapidjson::kObjectType);
    c.AddMember("name", Value(n.name, a), a);
    c.AddMember("type", "string", a);
    c.AddMember("format", Value(std::string(n.name) == "Name" ? "name" : "", a),
                a);
    c.AddMember("description", "", a);
    c.AddMember("priority", n.priority, a);
    cols.PushBack(c, a);
  }
  table->AddMember("columnDefinitions", cols, a);
}

std::string Str(const Value& v, const char* a, const char* b = nullptr) {
  if (!v.IsObject() || !v.HasMember(a)) return "";
  const Value* m = &v[a];
  if (b != nullptr) {
    if (!m->IsObject() || !m->HasMember(b)) return "";
    m = &(*m)[b];
  }
  return m->IsString() ? m->GetString() : "";
}

Value EventRow(const Value& ev, Document::AllocatorType& a) {
  std::string kind = Str(ev, "involvedObject", "kind");
  for (char& c : kind) c = static_cast<char>(std::tolower(c));
  std::string source = Str(ev, "source", "component");
  if (source.empty()) source = Str(ev, "reportingComponent");
  std::string host = Str(ev, "source", "host");
  if (!host.empty()) source += ", " + host;
  int count =
      ev.HasMember("count") && ev["count"].IsInt() ? ev["count"].GetInt() : 1;
  if (ev.HasMember("series") && ev["series"].IsObject() &&
      ev["series"].HasMember("count") && ev["series"]["count"].IsInt()) {
    count = ev["series"]["count"].GetInt();
  }
  const std::string cells[] = {"1m",
                               Str(ev, "type"),
                               Str(ev, "reason"),
                               kind + "/" + Str(ev, "involvedObject", "name"),
                               Str(ev, "involvedObject", "fieldPath"),
                               source,
                               Str(ev, "message"),
                               "2m",
                               std::to_string(count),
                               Meta(ev, "name")};
  Value row(rapidjson::kObjectType);
  Value list(rapidjson::kArrayType);
  for (const std::string& c : cells) list.PushBack(Value(c.c_str(), a), a);
  row.AddMember("cells", list, a);
  Value obj(rapidjson::kObjectType);
  obj.AddMember("kind", "PartialObjectMetadata", a);
  obj.AddMember("apiVersion", "meta.k8s.io/v1", a);
  Value meta;
  meta.CopyFrom(ev["metadata"], a);
  obj.AddMember("metadata", meta, a);
  row.AddMember("object", obj, a);
  return row;
}

std::string TableJson(const std::vector<const Value*>& objects,
                      const std::string& rv, const std::string& cont,
                      bool events = false) {
  Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  StartList(&d, "Table", "meta.k8s.io/v1", rv, cont);
  if (events) {
    AddEventColumns(&d, a);
  } else {
    AddPodColumns(&d, a);
  }
  Value rows(rapidjson::kArrayType);
  for (const Value* p : objects) {
    rows.PushBack(events ? EventRow(*p, a) : PodRow(*p, a), a);
  }
  d.AddMember("rows", rows, a);
  return ToJson(d);
}

std::string Param(const std::string& query, const char* name) {
  if (query.empty()) return "";
  std::vector<char> buf(query.size() + 1);
  int n = mg_get_var(query.c_str(), query.size(), name, buf.data(), buf.size());
  if (n < 0) return "";
  return std::string(buf.data(), static_cast<size_t>(n));
}

int64_t ToInt(const std::string& s, int64_t fallback) {
  if (s.empty()) return fallback;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (end == s.c_str() || *end != '\0') return fallback;
  return v;
}

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  std::string item;
  while (std::getline(ss, item, '/')) {
    if (!item.empty()) parts.push_back(item);
  }
  return parts;
}

// Continue tokens: opaque to clients; here "<rv>:<offset>" in hex so that
// clients must pass them back exactly.
std::string MakeContinue(int64_t rv, size_t offset) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "c%llx-%zx=", static_cast<long long>(rv),
                offset);
  return buf;
}

bool ParseContinue(const std::string& token, int64_t* rv, size_t* offset) {
  long long r = 0;
  size_t o = 0;
  if (std::sscanf(token.c_str(), "c%llx-%zx=", &r, &o) != 2) return false;
  *rv = r;
  *offset = o;
  return true;
}

}  // namespace

struct FakeApiServer::Request {
  std::string method;
  std::string path;
  std::string query;
  std::string accept;
  std::string body;
};

FakeApiServer::FakeApiServer() { mg_init_library(0); }

FakeApiServer::~FakeApiServer() { Stop(); }

std::string FakeApiServer::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

bool FakeApiServer::Start(int port, std::string* error) {
  std::string ports = "127.0.0.1:" + std::to_string(port);
  const char* options[] = {
      "listening_ports",   ports.c_str(), "num_threads", "64",
      "enable_keep_alive", "no",          nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof(callbacks));
  callbacks.begin_request = &FakeApiServer::BeginRequest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  ctx_ = mg_start(&callbacks, this, options);
  if (ctx_ == nullptr) {
    *error = "fake apiserver: cannot listen on " + ports;
    return false;
  }
  mg_server_port sp[4];
  int n = mg_get_server_ports(ctx_, 4, sp);
  if (n < 1) {
    *error = "fake apiserver: no listening port";
    Stop();
    return false;
  }
  port_ = sp[0].port;
  return true;
}

void FakeApiServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (ctx_ == nullptr) return;
  mg_context* ctx = ctx_;
  std::atomic<bool> done{false};
  std::thread stopper([ctx, &done] {
    mg_stop(ctx);
    done = true;
  });
  // civetweb's listener waits in poll() for up to 2 s before it looks at the
  // stop flag; a connection wakes it, so mg_stop returns at once.
  for (int i = 0; i < 300 && !done; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0) {
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(port_));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
      close(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stopper.join();
  ctx_ = nullptr;
}

int FakeApiServer::BeginRequest(mg_connection* conn) {
  auto* self =
      static_cast<FakeApiServer*>(mg_get_user_data(mg_get_context(conn)));
  self->Handle(conn);
  return 1;
}

std::string FakeApiServer::ApplyPod(const std::string& pod_json, bool cut) {
  return ApplyObject("pods", pod_json, cut);
}

std::string FakeApiServer::ApplyEvent(const std::string& event_json) {
  return ApplyObject("events", event_json, false);
}

std::string FakeApiServer::ApplyObject(const std::string& resource,
                                       const std::string& pod_json, bool cut) {
  Document d;
  d.Parse(pod_json.c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("metadata") ||
      !d["metadata"].IsObject()) {
    return "";
  }
  auto& a = d.GetAllocator();
  Value& meta = d["metadata"];
  std::string ns = Meta(d, "namespace");
  if (ns.empty()) {
    ns = "default";
    meta.AddMember("namespace", "default", a);
  }
  std::string name = Meta(d, "name");
  if (name.empty()) return "";
  std::string rv_text;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<std::string, std::string>& objects =
        resource == "events" ? kube_events_ : pods_;
    std::string key = ns + "/" + name;
    auto existing = objects.find(key);
    if (Meta(d, "uid").empty()) {
      std::string uid;
      if (existing != objects.end()) {
        Document old;
        old.Parse(existing->second.c_str());
        uid = Meta(old, "uid");
      }
      if (uid.empty()) {
        char buf[64];
        std::snprintf(buf, sizeof(buf), "00000000-0000-4000-8000-%012lld",
                      static_cast<long long>(next_uid_++));
        uid = buf;
      }
      meta.RemoveMember("uid");
      meta.AddMember("uid", Value(uid.c_str(), a), a);
    }
    if (Meta(d, "creationTimestamp").empty()) {
      meta.RemoveMember("creationTimestamp");
      meta.AddMember("creationTimestamp", Value(Now3339().c_str(), a), a);
    }
    ++rv_;
    rv_text = std::to_string(rv_);
    meta.RemoveMember("resourceVersion");
    meta.AddMember("resourceVersion", Value(rv_text.c_str(), a), a);
    if (!d.HasMember("kind")) {
      d.AddMember("kind", Value(resource == "events" ? "Event" : "Pod", a), a);
    }
    if (!d.HasMember("apiVersion")) d.AddMember("apiVersion", "v1", a);
    std::string json = ToJson(d);
    WatchEvent ev;
    ev.rv = rv_;
    ev.resource = resource;
    ev.type = existing == objects.end() ? "ADDED" : "MODIFIED";
    ev.pod = json;
    ev.ns = ns;
    ev.cut = cut;
    ev.cut_below = cut ? watch_seq_ + 1 : 0;
    events_.push_back(std::move(ev));
    objects[key] = json;
  }
  cv_.notify_all();
  return rv_text;
}

bool FakeApiServer::DeletePod(const std::string& ns, const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pods_.find(ns + "/" + name);
    if (it == pods_.end()) return false;
    Document d;
    d.Parse(it->second.c_str());
    ++rv_;
    std::string rv_text = std::to_string(rv_);
    d["metadata"].RemoveMember("resourceVersion");
    d["metadata"].AddMember("resourceVersion",
                            Value(rv_text.c_str(), d.GetAllocator()),
                            d.GetAllocator());
    WatchEvent ev;
    ev.rv = rv_;
    ev.resource = "pods";
    ev.type = "DELETED";
    ev.pod = ToJson(d);
    ev.ns = ns;
    events_.push_back(std::move(ev));
    pods_.erase(it);
  }
  cv_.notify_all();
  return true;
}

void FakeApiServer::SetLogs(const std::string& ns, const std::string& pod,
                            const std::string& container, bool previous,
                            const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  logs_[ns + "/" + pod + "/" + container + (previous ? "/1" : "/0")] = text;
}

void FakeApiServer::Bookmark() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++bookmark_generation_;
  }
  cv_.notify_all();
}

void FakeApiServer::Expire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    expired_before_ = rv_;
    ++expire_generation_;
  }
  cv_.notify_all();
}

void FakeApiServer::CloseWatches() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++close_generation_;
  }
  cv_.notify_all();
}

void FakeApiServer::FailRequests(int count, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_count_ = count;
  fail_status_ = status;
}

int64_t FakeApiServer::resource_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rv_;
}

FakeApiServer::Stats FakeApiServer::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

std::string FakeApiServer::GetLease(const std::string& ns,
                                    const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(ns + "/" + name);
  return it == leases_.end() ? "" : it->second;
}

void FakeApiServer::ConflictLeaseWrites(int count) {
  std::lock_guard<std::mutex> lock(mu_);
  lease_conflicts_to_inject_ = count;
}

void FakeApiServer::CutClient(const std::string& identity) {
  std::lock_guard<std::mutex> lock(mu_);
  cut_clients_[identity] = true;
}

void FakeApiServer::RestoreClient(const std::string& identity) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cut_clients_[identity] = false;
  }
  cv_.notify_all();
}

// parts: apis coordination.k8s.io v1 namespaces NS leases [NAME]
void FakeApiServer::HandleLeases(mg_connection* conn, const Request& req,
                                 const std::vector<std::string>& parts) {
  const std::string& ns = parts[4];
  const bool one = parts.size() == 7;
  if (parts.size() > 7) {
    SendStatus(conn, 404, "NotFound",
               "the server could not find the requested resource");
    return;
  }
  const bool table = req.accept.find("as=Table") != std::string::npos;
  if (req.method == "GET") {
    std::unique_lock<std::mutex> lock(mu_);
    if (one) {
      ++stats_.lease_gets;
      auto it = leases_.find(ns + "/" + parts[6]);
      if (it == leases_.end()) {
        lock.unlock();
        SendBody(conn, 404, "application/json",
                 StatusJson(404, "NotFound",
                            "leases.coordination.k8s.io \"" + parts[6] +
                                "\" not found",
                            parts[6], kLeaseGroup, "leases"));
        return;
      }
      std::string json = it->second;
      const std::string rv = std::to_string(rv_);
      lock.unlock();
      if (table) {
        Document d;
        d.Parse(json.c_str());
        SendBody(conn, 200, "application/json", LeaseTableJson({&d}, rv));
      } else {
        SendBody(conn, 200, "application/json", json);
      }
      return;
    }
    std::vector<std::string> items;
    for (const auto& [key, json] : leases_) {
      if (key.compare(0, ns.size() + 1, ns + "/") == 0) items.push_back(json);
    }
    const std::string rv = std::to_string(rv_);
    lock.unlock();
    std::vector<Document> docs(items.size());
    std::vector<const Value*> ptrs;
    for (size_t i = 0; i < items.size(); ++i) {
      docs[i].Parse(items[i].c_str());
      ptrs.push_back(&docs[i]);
    }
    if (table) {
      SendBody(conn, 200, "application/json", LeaseTableJson(ptrs, rv));
      return;
    }
    Document d(rapidjson::kObjectType);
    auto& a = d.GetAllocator();
    StartList(&d, "LeaseList", "coordination.k8s.io/v1", rv, "");
    Value list(rapidjson::kArrayType);
    for (const Value* p : ptrs) {
      Value v;
      v.CopyFrom(*p, a);
      list.PushBack(v, a);
    }
    d.AddMember("items", list, a);
    SendBody(conn, 200, "application/json", ToJson(d));
    return;
  }
  const bool create = req.method == "POST" && !one;
  const bool update = req.method == "PUT" && one;
  if (!create && !update) {
    SendStatus(conn, 405, "MethodNotAllowed",
               "the server does not allow this method on the requested "
               "resource");
    return;
  }
  Document d;
  d.Parse(req.body.c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("metadata") ||
      !d["metadata"].IsObject()) {
    SendStatus(conn, 400, "BadRequest", "the body is not a Lease object");
    return;
  }
  const std::string name = Meta(d, "name");
  if (name.empty() || (one && name != parts[6])) {
    SendStatus(conn, 400, "BadRequest",
               "the name of the object does not match the name on the URL");
    return;
  }
  if (!Meta(d, "namespace").empty() && Meta(d, "namespace") != ns) {
    SendStatus(conn, 400, "BadRequest",
               "the namespace of the provided object does not match the "
               "namespace sent on the request");
    return;
  }
  auto& a = d.GetAllocator();
  std::unique_lock<std::mutex> lock(mu_);
  ++stats_.lease_writes;
  const std::string key = ns + "/" + name;
  auto existing = leases_.find(key);
  auto conflict = [&](const std::string& reason, const std::string& message) {
    ++stats_.lease_conflicts;
    lock.unlock();
    SendBody(conn, 409, "application/json",
             StatusJson(409, reason, message, name, kLeaseGroup, "leases"));
  };
  if (lease_conflicts_to_inject_ > 0) {
    --lease_conflicts_to_inject_;
    conflict(create ? "AlreadyExists" : "Conflict",
             create
                 ? "leases.coordination.k8s.io \"" + name + "\" already exists"
                 : "Operation cannot be fulfilled on "
                   "leases.coordination.k8s.io \"" +
                       name +
                       "\": the object has been modified; please apply "
                       "your changes to the latest version and try again");
    return;
  }
  std::string uid, created_at;
  if (create) {
    if (existing != leases_.end()) {
      conflict("AlreadyExists",
               "leases.coordination.k8s.io \"" + name + "\" already exists");
      return;
    }
    char buf[64];
    std::snprintf(buf, sizeof(buf), "00000000-0000-4000-9000-%012lld",
                  static_cast<long long>(next_uid_++));
    uid = buf;
    created_at = Now3339();
  } else {
    if (existing == leases_.end()) {
      lock.unlock();
      SendBody(
          conn, 404, "application/json",
          StatusJson(404, "NotFound",
                     "leases.coordination.k8s.io \"" + name + "\" not found",
                     name, kLeaseGroup, "leases"));
      return;
    }
    Document old;
    old.Parse(existing->second.c_str());
    const std::string sent_rv = Meta(d, "resourceVersion");
    if (!sent_rv.empty() && sent_rv != Meta(old, "resourceVersion")) {
      conflict("Conflict",
               "Operation cannot be fulfilled on leases.coordination.k8s.io "
               "\"" +
                   name +
                   "\": the object has been modified; please apply your "
                   "changes to the latest version and try again");
      return;
    }
    uid = Meta(old, "uid");
    created_at = Meta(old, "creationTimestamp");
  }
  ++rv_;
  Value& meta = d["metadata"];
  for (const char* f :
       {"namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    meta.RemoveMember(f);
  }
  meta.AddMember("namespace", Value(ns.c_str(), a), a);
  meta.AddMember("uid", Value(uid.c_str(), a), a);
  meta.AddMember("resourceVersion", Value(std::to_string(rv_).c_str(), a), a);
  meta.AddMember("creationTimestamp", Value(created_at.c_str(), a), a);
  d.RemoveMember("kind");
  d.RemoveMember("apiVersion");
  d.AddMember("kind", "Lease", a);
  d.AddMember("apiVersion", "coordination.k8s.io/v1", a);
  if (!d.HasMember("spec") || !d["spec"].IsObject()) {
    d.RemoveMember("spec");
    d.AddMember("spec", Value(rapidjson::kObjectType), a);
  }
  const std::string json = ToJson(d);
  leases_[key] = json;
  lock.unlock();
  SendBody(conn, create ? 201 : 200, "application/json", json);
}

void FakeApiServer::Handle(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  Request req;
  req.method = info->request_method ? info->request_method : "";
  req.path = info->local_uri ? info->local_uri : "";
  req.query = info->query_string ? info->query_string : "";
  const char* accept = mg_get_header(conn, "Accept");
  req.accept = accept ? accept : "";
  if (const char* auth = mg_get_header(conn, "Authorization")) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.last_authorization = auth;
  }
  char buf[8192];
  int n;
  while (req.body.size() < kMaxBody &&
         (n = mg_read(conn, buf, sizeof(buf))) > 0) {
    req.body.append(buf, static_cast<size_t>(n));
  }
  bool stopping = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping = stopping_;
  }
  if (stopping) {
    SendStatus(conn, 503, "ServiceUnavailable", "shutting down");
    return;
  }
  std::vector<std::string> parts = Split(req.path);
  if (!parts.empty() && parts[0] == "_control") {
    HandleControl(conn, req);
    return;
  }
  const char* agent = mg_get_header(conn, "User-Agent");
  const std::string user_agent = agent ? agent : "";
  {
    std::unique_lock<std::mutex> lock(mu_);
    for (const auto& [identity, cut] : cut_clients_) {
      const std::string suffix = "/" + identity;
      if (!cut || user_agent.size() < suffix.size() ||
          user_agent.compare(user_agent.size() - suffix.size(), suffix.size(),
                             suffix) != 0) {
        continue;
      }
      ++stats_.blackholed;
      const std::string who = identity;
      cv_.wait_for(lock, kBlackholeTime,
                   [this, &who] { return stopping_ || !cut_clients_[who]; });
      return;  // no answer: civetweb closes the connection
    }
  }
  if (parts.size() >= 1 && parts[0] == "apis") {
    if (parts.size() >= 6 && parts[1] == kLeaseGroup && parts[2] == "v1" &&
        parts[3] == "namespaces" && parts[5] == "leases") {
      HandleLeases(conn, req, parts);
      return;
    }
  }
  if (req.method != "GET") {
    SendStatus(conn, 405, "MethodNotAllowed", "the fake is read-only");
    return;
  }
  if (req.path == "/version") {
    Document d(rapidjson::kObjectType);
    auto& a = d.GetAllocator();
    d.AddMember("major", "1", a);
    d.AddMember("minor", "32", a);
    d.AddMember("gitVersion", "v1.32.0-crashctl-fake", a);
    d.AddMember("gitCommit", "0000000000000000000000000000000000000000", a);
    d.AddMember("gitTreeState", "clean", a);
    d.AddMember("buildDate", "2025-01-01T00:00:00Z", a);
    d.AddMember("goVersion", "go1.23.0", a);
    d.AddMember("compiler", "gc", a);
    d.AddMember("platform", "linux/amd64", a);
    SendBody(conn, 200, "application/json", ToJson(d));
    return;
  }
  if (req.path == "/api" || req.path == "/api/") {
    Document d(rapidjson::kObjectType);
    auto& a = d.GetAllocator();
    d.AddMember("kind", "APIVersions", a);
    Value versions(rapidjson::kArrayType);
    versions.PushBack("v1", a);
    d.AddMember("versions", versions, a);
    Value addrs(rapidjson::kArrayType);
    Value addr(rapidjson::kObjectType);
    addr.AddMember("clientCIDR", "0.0.0.0/0", a);
    addr.AddMember("serverAddress",
                   Value(("127.0.0.1:" + std::to_string(port_)).c_str(), a), a);
    addrs.PushBack(addr, a);
    d.AddMember("serverAddressByClientCIDRs", addrs, a);
    SendBody(conn, 200, "application/json", ToJson(d));
    return;
  }
  if (req.path == "/apis" || req.path == "/apis/") {
    Document d(rapidjson::kObjectType);
    auto& a = d.GetAllocator();
    d.AddMember("kind", "APIGroupList", a);
    d.AddMember("apiVersion", "v1", a);
    Value groups(rapidjson::kArrayType);
    Value group(rapidjson::kObjectType);
    group.AddMember("name", Value(kLeaseGroup, a), a);
    Value versions(rapidjson::kArrayType);
    Value version(rapidjson::kObjectType);
    version.AddMember("groupVersion", "coordination.k8s.io/v1", a);
    version.AddMember("version", "v1", a);
    Value preferred;
    preferred.CopyFrom(version, a);
    versions.PushBack(version, a);
    group.AddMember("versions", versions, a);
    group.AddMember("preferredVersion", preferred, a);
    groups.PushBack(group, a);
    d.AddMember("groups", groups, a);
    SendBody(conn, 200, "application/json", ToJson(d));
    return;
  }
  if (req.path == "/apis/coordination.k8s.io" ||
      req.path == "/apis/coordination.k8s.io/") {
    Document d(rapidjson::kObjectType);
    auto& a = d.GetAllocator();
    d.AddMember("kind", "APIGroup", a);
    d.AddMember("apiVersion", "v1", a);
    d.AddMember("name", Value(kLeaseGroup, a), a);
    Value versions(rapidjson::kArrayType);
    Value version(rapidjson::kObjectType);
    version.AddMember("groupVersion", "coordination.k8s.io/v1", a);
    version.AddMember("version", "v1", a);
    Value preferred;
    preferred.CopyFrom(version, a);
    versions.PushBack(version, a);
    d.AddMember("versions", versions, a);
    d.AddMember("preferredVersion", preferred, a);
    SendBody(conn, 200, "application/json", ToJson(d));
    return;
  }
  if (req.path == "/apis/coordination.k8s.io/v1" ||
      req.path == "/apis/coordination.k8s.io/v1/") {
    Document d(rapidjson::kObjectType);
    auto& a = d.GetAllocator();
    d.AddMember("kind", "APIResourceList", a);
    d.AddMember("apiVersion", "v1", a);
    d.AddMember("groupVersion", "coordination.k8s.io/v1", a);
    Value resources(rapidjson::kArrayType);
    Value v(rapidjson::kObjectType);
    v.AddMember("name", "leases", a);
    v.AddMember("singularName", "lease", a);
    v.AddMember("namespaced", true, a);
    v.AddMember("kind", "Lease", a);
    Value verbs(rapidjson::kArrayType);
    for (const char* verb : {"create", "get", "list", "update"}) {
      verbs.PushBack(Value(verb, a), a);
    }
    v.AddMember("verbs", verbs, a);
    resources.PushBack(v, a);
    d.AddMember("resources", resources, a);
    SendBody(conn, 200, "application/json", ToJson(d));
    return;
  }
  if (req.path == "/api/v1" || req.path == "/api/v1/") {
    Document d(rapidjson::kObjectType);
    auto& a = d.GetAllocator();
    d.AddMember("kind", "APIResourceList", a);
    d.AddMember("groupVersion", "v1", a);
    Value resources(rapidjson::kArrayType);
    struct Res {
      const char* name;
      const char* kind;
      bool namespaced;
      std::vector<const char*> verbs;
      const char* short_name;
    };
    std::vector<Res> list = {
        {"pods", "Pod", true, {"get", "list", "watch"}, "po"},
        {"pods/log", "Pod", true, {"get"}, nullptr},
        {"events", "Event", true, {"get", "list", "watch"}, "ev"},
        {"namespaces", "Namespace", false, {"get", "list", "watch"}, "ns"}};
    for (const auto& r : list) {
      Value v(rapidjson::kObjectType);
      v.AddMember("name", Value(r.name, a), a);
      v.AddMember("singularName", "", a);
      v.AddMember("namespaced", r.namespaced, a);
      v.AddMember("kind", Value(r.kind, a), a);
      Value verbs(rapidjson::kArrayType);
      for (const char* verb : r.verbs) verbs.PushBack(Value(verb, a), a);
      v.AddMember("verbs", verbs, a);
      if (r.short_name != nullptr) {
        Value sn(rapidjson::kArrayType);
        sn.PushBack(Value(r.short_name, a), a);
        v.AddMember("shortNames", sn, a);
      }
      resources.PushBack(v, a);
    }
    d.AddMember("resources", resources, a);
    SendBody(conn, 200, "application/json", ToJson(d));
    return;
  }
  // /api/v1/pods | /api/v1/events | /api/v1/namespaces/NS/pods[/NAME[/log]]
  // | /api/v1/namespaces/NS/events
  if (parts.size() == 3 && parts[0] == "api" && parts[1] == "v1" &&
      (parts[2] == "pods" || parts[2] == "events")) {
    std::string watch = Param(req.query, "watch");
    if (watch == "true" || watch == "1") {
      HandleWatch(conn, req, "", parts[2]);
    } else {
      HandleList(conn, req, "", parts[2]);
    }
    return;
  }
  if (parts.size() == 5 && parts[0] == "api" && parts[1] == "v1" &&
      parts[2] == "namespaces" && parts[4] == "events") {
    std::string watch = Param(req.query, "watch");
    if (watch == "true" || watch == "1") {
      HandleWatch(conn, req, parts[3], "events");
    } else {
      HandleList(conn, req, parts[3], "events");
    }
    return;
  }
  if (parts.size() >= 5 && parts[0] == "api" && parts[1] == "v1" &&
      parts[2] == "namespaces" && parts[4] == "pods") {
    const std::string& ns = parts[3];
    if (parts.size() == 5) {
      std::string watch = Param(req.query, "watch");
      if (watch == "true" || watch == "1") {
        HandleWatch(conn, req, ns, "pods");
      } else {
        HandleList(conn, req, ns, "pods");
      }
      return;
    }
    if (parts.size() == 6) {
      std::string json;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = pods_.find(ns + "/" + parts[5]);
        if (it != pods_.end()) json = it->second;
      }
      if (json.empty()) {
        SendStatus(conn, 404, "NotFound",
                   "pods \"" + parts[5] + "\" not found");
      } else {
        SendBody(conn, 200, "application/json", json);
      }
      return;
    }
    if (parts.size() == 7 && parts[6] == "log") {
      HandleLogs(conn, req, ns, parts[5]);
      return;
    }
  }
  SendStatus(conn, 404, "NotFound",
             "the server could not find the requested resource");
}

void FakeApiServer::HandleControl(mg_connection* conn, const Request& req) {
  std::vector<std::string> parts = Split(req.path);
  std::string what = parts.size() > 1 ? parts[1] : "";
  if (what == "pods" && req.method == "POST") {
    bool cut = Param(req.query, "cut") == "true";
    std::string rv = ApplyPod(req.body, cut);
    if (rv.empty()) {
      SendStatus(conn, 400, "BadRequest", "body is not a pod");
      return;
    }
    Document d(rapidjson::kObjectType);
    d.AddMember("resourceVersion", Value(rv.c_str(), d.GetAllocator()),
                d.GetAllocator());
    SendBody(conn, 200, "application/json", ToJson(d));
    return;
  }
  if (what == "events" && req.method == "POST") {
    std::string rv = ApplyEvent(req.body);
    if (rv.empty()) {
      SendStatus(conn, 400, "BadRequest", "body is not an event");
      return;
    }
    Document d(rapidjson::kObjectType);
    d.AddMember("resourceVersion", Value(rv.c_str(), d.GetAllocator()),
                d.GetAllocator());
    SendBody(conn, 200, "application/json", ToJson(d));
    return;
  }
  if (what == "pods" && req.method == "DELETE" && parts.size() == 4) {
    if (DeletePod(parts[2], parts[3])) {
      SendBody(conn, 200, "application/json", "{}");
    } else {
      SendStatus(conn, 404, "NotFound", "no such pod");
    }
    return;
  }
  if (what == "logs" && req.method == "POST") {
    SetLogs(Param(req.query, "namespace"), Param(req.query, "pod"),
            Param(req.query, "container"),
            Param(req.query, "previous") == "true", req.body);
    SendBody(conn, 200, "application/json", "{}");
    return;
  }
  if (req.method == "POST" &&
      (what == "bookmark" || what == "expire" || what == "close")) {
    if (what == "bookmark") Bookmark();
    if (what == "expire") Expire();
    if (what == "close") CloseWatches();
    SendBody(conn, 200, "application/json", "{}");
    return;
  }
  if (what == "fail" && req.method == "POST") {
    FailRequests(static_cast<int>(ToInt(Param(req.query, "count"), 1)),
                 static_cast<int>(ToInt(Param(req.query, "status"), 500)));
    SendBody(conn, 200, "application/json", "{}");
    return;
  }
  if ((what == "cut" || what == "restore") && req.method == "POST") {
    const std::string identity = Param(req.query, "identity");
    if (identity.empty()) {
      SendStatus(conn, 400, "BadRequest", "identity= missing");
      return;
    }
    if (what == "cut") {
      CutClient(identity);
    } else {
      RestoreClient(identity);
    }
    SendBody(conn, 200, "application/json", "{}");
    return;
  }
  if (what == "stats" && req.method == "GET") {
    Stats s = stats();
    Document d(rapidjson::kObjectType);
    auto& a = d.GetAllocator();
    d.AddMember("lists", s.lists, a);
    d.AddMember("watches", s.watches, a);
    d.AddMember("logs", s.logs, a);
    d.AddMember("open_watches", s.open_watches, a);
    d.AddMember("event_lists", s.event_lists, a);
    d.AddMember("event_watches", s.event_watches, a);
    d.AddMember("event_open_watches", s.event_open_watches, a);
    d.AddMember("lease_gets", s.lease_gets, a);
    d.AddMember("lease_writes", s.lease_writes, a);
    d.AddMember("lease_conflicts", s.lease_conflicts, a);
    d.AddMember("blackholed", s.blackholed, a);
    d.AddMember("resource_version", resource_version(), a);
    SendBody(conn, 200, "application/json", ToJson(d));
    return;
  }
  SendStatus(conn, 404, "NotFound", "unknown control endpoint");
}

void FakeApiServer::HandleList(mg_connection* conn, const Request& req,
                               const std::string& ns,
                               const std::string& resource) {
  const bool is_events = resource == "events";
  int64_t limit = ToInt(Param(req.query, "limit"), 0);
  std::string cont = Param(req.query, "continue");
  bool table = req.accept.find("as=Table") != std::string::npos;
  std::vector<std::string> pods;
  int64_t rv = 0;
  size_t offset = 0;
  std::string next;
  int fail_status = 0;
  bool bad_token = false;
  bool expired = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++(is_events ? stats_.event_lists : stats_.lists);
    rv = rv_;
    if (fail_count_ > 0 && !is_events) {
      --fail_count_;
      fail_status = fail_status_;
    } else if (!cont.empty()) {
      int64_t token_rv = 0;
      if (!ParseContinue(cont, &token_rv, &offset)) {
        bad_token = true;
      } else if (token_rv < expired_before_) {
        expired = true;
      }
      rv = token_rv;
    }
    for (const auto& kv : is_events ? kube_events_ : pods_) {
      if (ns.empty() || kv.first.compare(0, ns.size() + 1, ns + "/") == 0) {
        pods.push_back(kv.second);
      }
    }
  }
  if (fail_status != 0) {
    SendStatus(conn, fail_status, "InternalError", "injected failure");
    return;
  }
  if (bad_token) {
    SendStatus(conn, 400, "BadRequest", "invalid continue token");
    return;
  }
  if (expired) {
    SendStatus(conn, 410, "Expired",
               "The provided continue parameter is too old to display a "
               "consistent list result. You can start a new list without "
               "the continue parameter.");
    return;
  }
  std::vector<std::string> page;
  for (size_t i = offset; i < pods.size(); ++i) {
    if (limit > 0 && static_cast<int64_t>(page.size()) >= limit) {
      next = MakeContinue(rv, i);
      break;
    }
    page.push_back(pods[i]);
  }
  std::vector<Document> docs(page.size());
  std::vector<const Value*> ptrs;
  for (size_t i = 0; i < page.size(); ++i) {
    docs[i].Parse(page[i].c_str());
    ptrs.push_back(&docs[i]);
  }
  std::string rv_text = std::to_string(rv);
  if (table) {
    SendBody(conn, 200, "application/json",
             TableJson(ptrs, rv_text, next, is_events));
    return;
  }
  Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  StartList(&d, is_events ? "EventList" : "PodList", "v1", rv_text, next);
  Value items(rapidjson::kArrayType);
  for (const Value* p : ptrs) {
    Value copy;
    copy.CopyFrom(*p, a);
    items.PushBack(copy, a);
  }
  d.AddMember("items", items, a);
  SendBody(conn, 200, "application/json", ToJson(d));
}

std::string FakeApiServer::EventLine(const std::string& type,
                                     const std::string& pod_json, bool table,
                                     bool events) const {
  Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("type", Value(type.c_str(), a), a);
  Document pod;
  pod.Parse(pod_json.c_str());
  if (table) {
    Document t;
    std::vector<const Value*> one = {&pod};
    t.Parse(TableJson(one, Meta(pod, "resourceVersion"), "", events).c_str());
    Value obj;
    obj.CopyFrom(t, a);
    d.AddMember("object", obj, a);
  } else {
    Value obj;
    obj.CopyFrom(pod, a);
    d.AddMember("object", obj, a);
  }
  return ToJson(d) + "\n";
}

void FakeApiServer::SendEventLine(mg_connection* conn, const std::string& line,
                                  bool cut) {
  if (cut) {
    // Announce the whole line as one chunk but send only half of it; the
    // caller then drops the connection.
    size_t half = line.size() / 2;
    mg_printf(conn, "%zx\r\n", line.size());
    mg_write(conn, line.data(), half);
    return;
  }
  // Two chunks per line, split inside the JSON.
  size_t split = line.size() / 3;
  mg_send_chunk(conn, line.data(), static_cast<unsigned int>(split));
  mg_send_chunk(conn, line.data() + split,
                static_cast<unsigned int>(line.size() - split));
}

void FakeApiServer::HandleWatch(mg_connection* conn, const Request& req,
                                const std::string& ns,
                                const std::string& resource) {
  const bool is_events = resource == "events";
  const std::string rv_param = Param(req.query, "resourceVersion");
  const int64_t from_rv = ToInt(rv_param, 0);
  const bool bookmarks = Param(req.query, "allowWatchBookmarks") == "true";
  const int64_t timeout = ToInt(Param(req.query, "timeoutSeconds"), 1800);
  const bool table = req.accept.find("as=Table") != std::string::npos;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
  std::unique_lock<std::mutex> lock(mu_);
  ++(is_events ? stats_.event_watches : stats_.watches);
  (is_events ? stats_.event_watch_paths : stats_.watch_paths)
      .push_back(req.path + "?" + req.query);
  if (fail_count_ > 0 && !is_events) {
    --fail_count_;
    int status = fail_status_;
    lock.unlock();
    SendStatus(conn, status, "InternalError", "injected failure");
    return;
  }
  const int64_t my_seq = ++watch_seq_;
  const bool too_old = from_rv > 0 && from_rv < expired_before_;
  lock.unlock();
  mg_printf(conn,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            "Cache-Control: no-cache, private\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
  const std::string expired_line =
      "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":"
      "\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old "
      "resource version: " +
      std::to_string(from_rv) + " (" + std::to_string(expired_before_) +
      ")\",\"reason\":\"Expired\",\"code\":410}}\n";
  if (too_old) {
    SendEventLine(conn, expired_line, false);
    mg_write(conn, "0\r\n\r\n", 5);
    return;
  }
  lock.lock();
  ++(is_events ? stats_.event_open_watches : stats_.open_watches);
  int64_t sent_rv = from_rv;
  size_t next_event = 0;
  std::vector<std::string> initial;
  if (from_rv == 0) {
    // No resourceVersion: current state as ADDED events, then changes.
    for (const auto& kv : is_events ? kube_events_ : pods_) {
      if (ns.empty() || kv.first.compare(0, ns.size() + 1, ns + "/") == 0) {
        initial.push_back(kv.second);
      }
    }
    sent_rv = rv_;
  }
  const int64_t close_gen = close_generation_;
  const int64_t expire_gen = expire_generation_;
  int64_t bookmark_gen = bookmark_generation_;
  // Like the real API server, idle watches get a BOOKMARK now and then.
  auto last_bookmark = std::chrono::steady_clock::now();
  enum { kOpen, kClosed, kExpired, kCut, kGone } end = kOpen;
  lock.unlock();
  for (const auto& p : initial) {
    SendEventLine(conn, EventLine("ADDED", p, table, is_events), false);
  }
  while (end == kOpen) {
    struct Out {
      std::string line;
      bool cut;
    };
    std::vector<Out> out;
    lock.lock();
    if (stopping_) end = kGone;
    for (; next_event < events_.size(); ++next_event) {
      const WatchEvent& ev = events_[next_event];
      if (ev.rv <= sent_rv) continue;
      sent_rv = ev.rv;
      if (ev.resource != resource) continue;
      if (!ns.empty() && ev.ns != ns) continue;
      bool cut = ev.cut && my_seq < ev.cut_below;
      out.push_back({EventLine(ev.type, ev.pod, table, is_events), cut});
      if (cut) break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (end == kOpen && bookmarks &&
        (bookmark_generation_ != bookmark_gen ||
         now - last_bookmark >= kBookmarkInterval)) {
      bookmark_gen = bookmark_generation_;
      last_bookmark = now;
      Document d(rapidjson::kObjectType);
      auto& a = d.GetAllocator();
      d.AddMember("type", "BOOKMARK", a);
      Value obj(rapidjson::kObjectType);
      obj.AddMember("kind", Value(is_events ? "Event" : "Pod", a), a);
      obj.AddMember("apiVersion", "v1", a);
      Value meta(rapidjson::kObjectType);
      meta.AddMember("resourceVersion", Value(std::to_string(rv_).c_str(), a),
                     a);
      obj.AddMember("metadata", meta, a);
      d.AddMember("object", obj, a);
      out.push_back({ToJson(d) + "\n", false});
      sent_rv = std::max(sent_rv, rv_);
    }
    bool closing = close_generation_ != close_gen;
    bool expiring = expire_generation_ != expire_gen;
    if (out.empty() && !closing && !expiring && end == kOpen) {
      if (std::chrono::steady_clock::now() >= deadline) {
        end = kClosed;
      } else {
        cv_.wait_for(lock, std::chrono::milliseconds(100));
      }
      lock.unlock();
      continue;
    }
    lock.unlock();
    for (const Out& o : out) {
      SendEventLine(conn, o.line, o.cut);
      if (o.cut) end = kCut;
    }
    if (end == kOpen && expiring) end = kExpired;
    if (end == kOpen && closing) end = kClosed;
  }
  if (end == kExpired) SendEventLine(conn, expired_line, false);
  if (end != kCut) mg_write(conn, "0\r\n\r\n", 5);
  lock.lock();
  --(is_events ? stats_.event_open_watches : stats_.open_watches);
}

void FakeApiServer::HandleLogs(mg_connection* conn, const Request& req,
                               const std::string& ns, const std::string& pod) {
  std::string container = Param(req.query, "container");
  bool previous = Param(req.query, "previous") == "true";
  int64_t tail = ToInt(Param(req.query, "tailLines"), -1);
  std::string text;
  bool found = false;
  bool pod_exists = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.logs;
    pod_exists = pods_.count(ns + "/" + pod) > 0;
    auto it =
        logs_.find(ns + "/" + pod + "/" + container + (previous ? "/1" : "/0"));
    if (it != logs_.end()) {
      found = true;
      text = it->second;
    }
  }
  if (!pod_exists) {
    SendStatus(conn, 404, "NotFound", "pods \"" + pod + "\" not found");
    return;
  }
  if (!found && previous) {
    SendStatus(conn, 400, "BadRequest",
               "previous terminated container \"" + container + "\" in pod \"" +
                   pod + "\" not found");
    return;
  }
  if (tail >= 0) {
    // Keep the last `tail` lines.
    size_t pos = text.size();
    if (pos > 0 && text[pos - 1] == '\n') --pos;
    int64_t lines = 0;
    while (pos > 0) {
      if (text[pos - 1] == '\n' && ++lines == tail) break;
      --pos;
    }
    text = text.substr(pos);
  }
  SendBody(conn, 200, "text/plain", text);
}

}  // namespace testing
}  // namespace crashctl
