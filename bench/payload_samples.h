// Realistic Sentry payloads for the benchmarks: a @sentry/node error event
// (30 frames, source context on the in-app frames, 12 breadcrumbs, the
// contexts and SDK block @sentry/node 10 sends) and a @sentry/node
// transaction with 20 spans (express middleware, db.query, http.client,
// cache spans with the OpenTelemetry attributes the SDK copies into `data`).
// Shapes follow the captured envelopes in tests/ingest/testdata/ and
// tests/tracing/testdata/; ids, timestamps, durations and numbers vary per
// `seed`, so samples trained on (codec dictionaries) and measured differ.
//
// Used by bench/codec_bench.cc and bench/loadgen.cc. Header-only; pure
// functions, safe from any thread.
#ifndef CRASHCTL_BENCH_PAYLOAD_SAMPLES_H_
#define CRASHCTL_BENCH_PAYLOAD_SAMPLES_H_

#include <cstdint>
#include <cstdio>
#include <string>

namespace crashctl {
namespace bench {

// splitmix64: a deterministic sequence per seed.
class SampleRng {
 public:
  explicit SampleRng(uint64_t seed) : state_(seed * 0x9e3779b97f4a7c15ull) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  int Below(int n) { return static_cast<int>(Next() % n); }
  // `hex_chars` lowercase hex digits (an event id is 32, a span id 16).
  std::string Hex(int hex_chars) {
    std::string out;
    while (static_cast<int>(out.size()) < hex_chars) {
      char buf[17];
      std::snprintf(buf, sizeof(buf), "%016llx",
                    static_cast<unsigned long long>(Next()));
      out += buf;
    }
    out.resize(hex_chars);
    return out;
  }

 private:
  uint64_t state_;
};

inline std::string SampleTime(double t) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.7f", t);
  return buf;
}

inline const char* SampleSdkJson() {
  return R"("sdk":{"integrations":["InboundFilters","FunctionToString","LinkedErrors","RequestData","NodeSystemError","Console","OnUncaughtException","OnUnhandledRejection","ContextLines","LocalVariablesAsync","Context","ChildProcess","ProcessSession","Modules","Http","NodeFetch","Express","Graphql","Mongo","Mysql2","Redis","Postgres","Prisma","Koa","Connect","GenericPool","Kafka","Amqplib"],"name":"sentry.javascript.node","version":"10.78.0","packages":[{"name":"npm:@sentry/node","version":"10.78.0"}]})";
}

inline std::string SampleContextsJson(SampleRng* rng) {
  return std::string(
             R"("runtime":{"name":"node","version":"v20.20.2"},)"
             R"("app":{"app_start_time":"2026-12-01T23:57:24.585Z","app_memory":)") +
         std::to_string(80000000 + rng->Below(20000000)) +
         R"(,"free_memory":)" +
         std::to_string(24000000000ll + rng->Below(1 << 30)) +
         R"(},"os":{"kernel_version":"6.1.0-28-amd64","name":"Debian","version":"12.11"},)"
         R"("device":{"boot_time":"2026-12-01T21:57:09.780Z","arch":"x64","memory_size":25276502016,"free_memory":)" +
         std::to_string(24000000000ll + rng->Below(1 << 30)) +
         R"(,"processor_count":4,"cpu_description":"AMD EPYC 7B13","processor_frequency":2450},)"
         R"("culture":{"locale":"en-US","timezone":"UTC"},"cloud_resource":{})";
}

// A @sentry/node error event of group `group` (0..499: the function and
// files of the stack differ per group), about 9 KB.
inline std::string SampleErrorEvent(int group, uint64_t seed) {
  SampleRng rng(seed);
  const double now = 1796169445.0 + rng.Below(86400);
  const std::string trace_id = rng.Hex(32);
  std::string frames;
  constexpr int kFrames = 30;
  for (int f = 0; f < kFrames; ++f) {
    const bool in_app = f >= kFrames - 8;
    const std::string file = in_app
                                 ? "/srv/app/src/routes/orders_" +
                                       std::to_string((group + f) % 13) + ".js"
                                 : "/srv/app/node_modules/express/lib/router/" +
                                       std::string(f % 3 == 0   ? "layer"
                                                   : f % 3 == 1 ? "index"
                                                                : "route") +
                                       ".js";
    if (f) frames += ',';
    frames += R"({"filename":")" + file + R"(","module":")" +
              (in_app ? "orders_" + std::to_string((group + f) % 13)
                      : std::string("express.lib.router:layer")) +
              R"(","function":")" +
              (f == kFrames - 1 ? "OrderService.load" + std::to_string(group)
               : in_app         ? "handler" + std::to_string(f)
                        : std::string("Layer.handle [as handle_request]")) +
              R"(","lineno":)" +
              std::to_string(10 + (group * 31 + f * 7) % 400) + R"(,"colno":)" +
              std::to_string(5 + f % 40) + R"(,"in_app":)" +
              (in_app ? "true" : "false");
    if (in_app) {
      frames +=
          R"(,"pre_context":["  const order = await db.orders.findOne({ id });","  if (!order) {","    throw new NotFound(`order ${id}`);","  }"],)"
          R"("context_line":"  const total = order.items.reduce((sum, i) => sum + i.price * i.qty, 0);",)"
          R"("post_context":["  res.json({ id, total });","}","","module.exports = { load };"])";
    }
    frames += '}';
  }
  std::string crumbs;
  for (int b = 0; b < 12; ++b) {
    if (b) crumbs += ',';
    crumbs += R"({"timestamp":)" + SampleTime(now - 2 + b * 0.1) +
              R"(,"category":"http","data":{"status_code":)" +
              (b % 5 == 4 ? "500" : "200") +
              R"(,"url":"http://inventory.internal:8080/items/)" +
              std::to_string(rng.Below(100000)) +
              R"(","http.method":"GET"},"type":"http"})";
  }
  const std::string event_id = rng.Hex(32);
  return std::string(
             R"({"exception":{"values":[{"type":"TypeError","value":"Cannot read properties of undefined (reading 'items') in order )") +
         std::to_string(rng.Below(1000000)) + R"(","stacktrace":{"frames":[)" +
         frames +
         R"(]},"mechanism":{"type":"onunhandledrejection","handled":false}}]},)"
         R"("event_id":")" +
         event_id +
         R"(","level":"error","platform":"node","contexts":{"trace":{"trace_id":")" +
         trace_id + R"(","span_id":")" + rng.Hex(16) + R"("},)" +
         SampleContextsJson(&rng) + R"(},"server_name":"checkout-7f8b4d-)" +
         rng.Hex(5) + R"(","timestamp":)" + SampleTime(now) +
         R"(,"environment":"production","release":"shop@1.4.2",)"
         R"("request":{"method":"GET","url":"https://shop.example.com/api/orders/)" +
         std::to_string(rng.Below(1000000)) +
         R"(","headers":{"host":"shop.example.com","user-agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36","accept":"application/json","x-request-id":")" +
         rng.Hex(32) +
         R"("}},"tags":{"service":"checkout","region":"eu-west-1"},)"
         R"("breadcrumbs":[)" +
         crumbs + "]," + SampleSdkJson() + R"(,"modules":{}})";
}

// A @sentry/node transaction for route `route` (0..19) with 20 spans:
// express middleware and request handler, pg queries, outgoing HTTP calls,
// redis and a render; about 15 KB. It starts at `start_time` (seconds since
// the epoch) when given, else on 2026-12-02 at a time drawn from `seed`.
inline std::string SampleTransaction(int route, uint64_t seed,
                                     double start_time = 0) {
  static const char* kRoutes[] = {
      "GET /orders/:id",      "POST /orders",           "GET /cart",
      "PUT /cart/items/:id",  "GET /products",          "GET /products/:id",
      "POST /checkout",       "GET /users/:id",         "PATCH /users/:id",
      "GET /search",          "DELETE /cart/items/:id", "GET /health",
      "POST /login",          "POST /logout",           "GET /categories",
      "GET /recommendations", "POST /payments",         "GET /payments/:id",
      "GET /inventory/:sku",  "POST /webhooks/stripe"};
  SampleRng rng(seed);
  const std::string name = kRoutes[route % 20];
  const std::string trace_id = rng.Hex(32);
  const std::string root = rng.Hex(16);
  const double start =
      (start_time > 0 ? start_time : 1796169445.0 + rng.Below(86400)) +
      rng.Below(1000) / 1e3;
  double t = start + 0.0002;
  std::string spans;
  std::string parent = root;
  for (int s = 0; s < 20; ++s) {
    const std::string id = rng.Hex(16);
    const double duration = (1 + rng.Below(4000)) / 1e6;
    std::string op;
    std::string description;
    std::string data;
    std::string origin;
    if (s < 4) {
      op = "middleware.express";
      static const char* kMiddleware[] = {"query", "expressInit", "jsonParser",
                                          "corsMiddleware"};
      description = kMiddleware[s];
      origin = "auto.http.otel.express";
      data =
          R"("express.name":")" + description +
          R"(","express.type":"middleware","sentry.origin":"auto.http.otel.express","sentry.op":"middleware.express")";
    } else if (s == 4) {
      op = "request_handler.express";
      description = name.substr(name.find(' ') + 1);
      origin = "auto.http.otel.express";
      data =
          R"("http.route":")" + description + R"(","express.name":")" +
          description +
          R"(","express.type":"request_handler","sentry.origin":"auto.http.otel.express","sentry.op":"request_handler.express")";
    } else if (s % 4 == 1) {
      op = "db";
      description =
          "SELECT o.id, o.status, o.total, i.sku, i.qty, i.price FROM orders o "
          "JOIN order_items i ON i.order_id = o.id WHERE o.id = $1 AND "
          "o.tenant_id = $2";
      origin = "auto.db.otel.postgres";
      data =
          R"("db.system":"postgresql","db.name":"shop","db.user":"shop","db.connection_string":"postgresql://db.internal:5432/shop","net.peer.name":"db.internal","net.peer.port":5432,"db.statement":")" +
          description +
          R"(","sentry.origin":"auto.db.otel.postgres","sentry.op":"db")";
    } else if (s % 4 == 2) {
      op = "http.client";
      const std::string path = "/items/" + std::to_string(rng.Below(100000));
      description = "GET http://inventory.internal:8080" + path;
      origin = "auto.http.otel.http";
      data =
          R"("sentry.origin":"auto.http.otel.http","sentry.op":"http.client","otel.kind":"CLIENT","http.url":"http://inventory.internal:8080)" +
          path + R"(","http.method":"GET","http.target":")" + path +
          R"(","net.peer.name":"inventory.internal","http.host":"inventory.internal:8080","http.request.method":"GET","url.path":")" +
          path + R"(","url.full":"http://inventory.internal:8080)" + path +
          R"(","url.port":"8080","url.scheme":"http:","url.domain":"inventory.internal","http.response.status_code":200,"network.protocol.version":"1.1","http.flavor":"1.1","network.transport":"ip_tcp","net.transport":"ip_tcp","http.status_text":"OK","http.status_code":200,"http.response_content_length_uncompressed":)" +
          std::to_string(200 + rng.Below(4000)) +
          R"(,"network.peer.address":"10.0.3.17","network.peer.port":8080,"net.peer.ip":"10.0.3.17","net.peer.port":8080)";
    } else if (s % 4 == 3) {
      op = "cache.get";
      description = "GET session:" + rng.Hex(12);
      origin = "auto.db.otel.redis";
      data =
          R"("db.system":"redis","db.statement":")" + description +
          R"(","net.peer.name":"redis.internal","net.peer.port":6379,"cache.hit":)" +
          (rng.Below(2) ? "true" : "false") +
          R"(,"sentry.origin":"auto.db.otel.redis","sentry.op":"cache.get")";
    } else {
      op = "template.render";
      description = "render orders/show";
      origin = "manual";
      data = R"("sentry.origin":"manual","sentry.op":"template.render")";
    }
    if (s) spans += ',';
    spans += R"({"data":{)" + data + R"(},"description":")" + description +
             R"(","op":")" + op + R"(","parent_span_id":")" + parent +
             R"(","span_id":")" + id + R"(","start_timestamp":)" +
             SampleTime(t) + R"(,"status":"ok","timestamp":)" +
             SampleTime(t + duration) + R"(,"trace_id":")" + trace_id +
             R"(","origin":")" + origin + R"("})";
    if (s == 4) parent = id;  // the handler's children
    t += duration + 0.00005;
  }
  const std::string method = name.substr(0, name.find(' '));
  return std::string(R"({"contexts":{"trace":{"span_id":")") + root +
         R"(","trace_id":")" + trace_id +
         R"(","data":{"sentry.origin":"auto.http.otel.http","sentry.op":"http.server","sentry.source":"route","sentry.sample_rate":1,"http.request.method":")" +
         method + R"(","http.response.status_code":200,"url.path":")" +
         name.substr(name.find(' ') + 1) +
         R"("},"op":"http.server","status":"ok","origin":"auto.http.otel.http"},"response":{"status_code":200},)" +
         SampleContextsJson(&rng) +
         R"(,"otel":{"resource":{"service.namespace":"sentry","service.name":"orders","service.version":"10.78.0","telemetry.sdk.language":"nodejs","telemetry.sdk.name":"opentelemetry","telemetry.sdk.version":"2.12.1"}}},)"
         R"("spans":[)" +
         spans + R"(],"start_timestamp":)" + SampleTime(start) +
         R"(,"timestamp":)" + SampleTime(t + 0.0003) + R"(,"transaction":")" +
         name +
         R"(","type":"transaction","transaction_info":{"source":"route"},"platform":"node","server_name":"orders-5c9d7b-)" +
         rng.Hex(5) + R"(","event_id":")" + rng.Hex(32) +
         R"(","environment":"production","release":"shop@1.4.2","request":{"method":")" +
         method + R"(","url":"https://shop.example.com)" +
         name.substr(name.find(' ') + 1) +
         R"(","headers":{"host":"shop.example.com","user-agent":"okhttp/4.12.0","accept":"application/json"}},)" +
         SampleSdkJson() + R"(,"tags":{"service":"orders"},"modules":{}})";
}

}  // namespace bench
}  // namespace crashctl

#endif  // CRASHCTL_BENCH_PAYLOAD_SAMPLES_H_
