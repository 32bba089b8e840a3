// Tests for ComputeGrouping on event shapes as the real SDKs send them:
// @sentry/node, sentry-python, sentry-go and native (C/C++) crash reports.

#include "crashctl/grouping/grouping.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace crashctl {
namespace grouping {
namespace {

using ::testing::ElementsAre;
using ::testing::MatchesRegex;

model::Frame MakeFrame(const std::string& function, const std::string& filename,
                       std::optional<bool> in_app) {
  model::Frame f;
  f.function = function;
  f.filename = filename;
  f.in_app = in_app;
  return f;
}

// @sentry/node: absolute filenames, a module relative to the entry point,
// line and column numbers, node_modules and node: internals not in app.
model::Event NodeEvent(const std::string& app_root, int line_shift) {
  model::Event e;
  e.event_id = "0123456789abcdef0123456789abcdef";
  e.platform = "node";
  e.transaction = "POST /orders";
  model::ExceptionValue ex;
  ex.type = "TypeError";
  ex.value = "Cannot read properties of undefined (reading 'id')";
  ex.mechanism_type = "onuncaughtexception";
  ex.handled = false;

  model::Frame internal = MakeFrame("process.processTicksAndRejections",
                                    "node:internal/process/task_queues", false);
  internal.module = "task_queues";
  internal.lineno = 95 + line_shift;
  internal.colno = 5;

  model::Frame express = MakeFrame("Layer.handle [as handle_request]",
                                   app_root +
                                       "/node_modules/express/lib/router/"
                                       "layer.js",
                                   false);
  express.abs_path = express.filename;
  express.module = "express.lib.router:layer";
  express.lineno = 95;
  express.colno = 5;

  model::Frame router =
      MakeFrame("async Object.handleRoute", app_root + "/src/router.js", true);
  router.abs_path = router.filename;
  router.module = "router";
  router.lineno = 12 + line_shift;
  router.colno = 3 + line_shift;

  model::Frame handler =
      MakeFrame("handleOrder", app_root + "/src/handlers.js", true);
  handler.abs_path = handler.filename;
  handler.module = "handlers";
  handler.lineno = 42 + line_shift;
  handler.colno = 17 + line_shift;

  ex.frames = {internal, express, router, handler};
  e.exceptions.push_back(ex);
  return e;
}

// sentry-python: module and function, filename relative, abs_path absolute,
// framework frames not in app.
model::Event PythonEvent(const std::string& root, int line_shift) {
  model::Event e;
  e.platform = "python";
  e.transaction = "/orders/{id}";
  e.logger = "django.request";
  model::ExceptionValue ex;
  ex.type = "KeyError";
  ex.value = "'user_id'";
  model::Frame django =
      MakeFrame("inner", "django/core/handlers/exception.py", false);
  django.module = "django.core.handlers.exception";
  django.abs_path = root +
                    "/venv/lib/python3.11/site-packages/django/core/"
                    "handlers/exception.py";
  django.lineno = 55 + line_shift;
  model::Frame view = MakeFrame("order_detail", "shop/views.py", true);
  view.module = "shop.views";
  view.abs_path = root + "/shop/views.py";
  view.lineno = 30 + line_shift;
  model::Frame helper = MakeFrame("load_user", "shop/users.py", true);
  helper.module = "shop.users";
  helper.abs_path = root + "/shop/users.py";
  helper.lineno = 8 + line_shift;
  ex.frames = {django, view, helper};
  e.exceptions.push_back(ex);
  return e;
}

// sentry-go: module is the package path, function the rest.
model::Event GoEvent(const std::string& gopath, int line_shift) {
  model::Event e;
  e.platform = "go";
  model::ExceptionValue ex;
  ex.type = "*errors.errorString";
  ex.value = "order 42 not found";
  model::Frame goexit = MakeFrame("goexit", "", false);
  goexit.module = "runtime";
  goexit.abs_path = "/usr/local/go/src/runtime/asm_amd64.s";
  goexit.lineno = 1650;
  model::Frame serve = MakeFrame("(*Server).Handle", "", true);
  serve.module = "github.com/acme/shop/handlers";
  serve.abs_path = gopath + "/src/github.com/acme/shop/handlers/server.go";
  serve.lineno = 88 + line_shift;
  model::Frame find = MakeFrame("(*Store).FindOrder", "", true);
  find.module = "github.com/acme/shop/store";
  find.abs_path = gopath + "/src/github.com/acme/shop/store/orders.go";
  find.lineno = 21 + line_shift;
  ex.frames = {goexit, serve, find};
  e.exceptions.push_back(ex);
  return e;
}

// Native crash: mangled names, instruction addresses, libc not in app,
// build paths that depend on the CI machine.
model::Event NativeEvent(const std::string& build_root, int addr_shift) {
  model::Event e;
  e.platform = "native";
  model::ExceptionValue ex;
  ex.type = "SIGSEGV";
  ex.value = "Segmentation fault at 0x0000000000000010";
  ex.mechanism_type = "signalhandler";
  auto addr = [&](unsigned long base) {
    char buf[32];
    snprintf(buf, sizeof(buf), "0x%lx", base + addr_shift);
    return std::string(buf);
  };
  model::Frame start = MakeFrame("__libc_start_main", "", false);
  start.package = "/lib/x86_64-linux-gnu/libc.so.6";
  start.instruction_addr = addr(0x7f3a2c029d90);
  model::Frame main_frame =
      MakeFrame("main", build_root + "/src/main.cc", true);
  main_frame.package = "/usr/bin/shopd";
  main_frame.instruction_addr = addr(0x55d0c0a01234);
  main_frame.lineno = 20 + addr_shift;
  model::Frame handle = MakeFrame(
      "_ZNK3app6Server6handleERKNSt7__cxx1112basic_stringIcSt11char_"
      "traitsIcESaIcEEE",
      build_root + "/src/server.cc", true);
  handle.package = "/usr/bin/shopd";
  handle.instruction_addr = addr(0x55d0c0a05678);
  handle.lineno = 88 + addr_shift;
  model::Frame parse = MakeFrame("_ZN12_GLOBAL__N_15parseEPKc.cold",
                                 build_root + "/src/parser.cc", true);
  parse.package = "/usr/bin/shopd";
  parse.instruction_addr = addr(0x55d0c0a09abc);
  model::Frame memcpy_frame =
      MakeFrame("__memmove_avx_unaligned_erms", "", false);
  memcpy_frame.package = "/lib/x86_64-linux-gnu/libc.so.6";
  memcpy_frame.instruction_addr = addr(0x7f3a2c1a0b5d);
  ex.frames = {start, main_frame, handle, parse, memcpy_frame};
  e.exceptions.push_back(ex);
  return e;
}

// --- Same call site, different build: same group. -----------------------

struct VariantCase {
  const char* name;
  std::function<model::Event()> a;
  std::function<model::Event()> b;
};

class SameGroupTest : public ::testing::TestWithParam<VariantCase> {};

TEST_P(SameGroupTest, IgnoresLinesColumnsAddressesAndPaths) {
  model::GroupingResult a = ComputeGrouping(GetParam().a());
  model::GroupingResult b = ComputeGrouping(GetParam().b());
  EXPECT_EQ(a.method, "stacktrace");
  EXPECT_EQ(a.fingerprint, b.fingerprint)
      << ::testing::PrintToString(a.components) << " vs "
      << ::testing::PrintToString(b.components);
  EXPECT_EQ(a.title, b.title);
  EXPECT_EQ(a.culprit, b.culprit);
}

model::Event BrowserEvent(const std::string& url_prefix,
                          const std::string& hash, int col) {
  model::Event e;
  e.platform = "javascript";
  model::ExceptionValue ex;
  ex.type = "TypeError";
  ex.value = "x is undefined";
  model::Frame f =
      MakeFrame("async Object.submitOrder",
                url_prefix + "/static/js/main." + hash + ".js?v=" + hash, true);
  f.colno = col;
  ex.frames = {f};
  e.exceptions.push_back(ex);
  return e;
}

INSTANTIATE_TEST_SUITE_P(
    Sdks, SameGroupTest,
    ::testing::Values(
        VariantCase{"node", [] { return NodeEvent("/app", 0); },
                    [] { return NodeEvent("/home/ci/build/shop", 7); }},
        VariantCase{"python", [] { return PythonEvent("/srv/app", 0); },
                    [] { return PythonEvent("/home/dev/shop", 3); }},
        VariantCase{"go", [] { return GoEvent("/go", 0); },
                    [] { return GoEvent("/home/ci/go", 5); }},
        VariantCase{"native", [] { return NativeEvent("/build", 0); },
                    [] { return NativeEvent("/home/ci/build", 64); }},
        VariantCase{
            "browser",
            [] {
              return BrowserEvent("https://cdn.example.com", "3f2a1b9c", 10);
            },
            [] {
              return BrowserEvent("https://shop.example.org", "a1b2c3d4e5", 99);
            }}),
    [](const ::testing::TestParamInfo<VariantCase>& info) {
      return std::string(info.param.name);
    });

// --- Different call site: different group. ------------------------------

TEST(ComputeGrouping, DifferentFunctionsAreDifferentGroups) {
  model::Event a = NodeEvent("/app", 0);
  model::Event b = NodeEvent("/app", 0);
  b.exceptions[0].frames.back().function = "handleRefund";
  EXPECT_NE(ComputeGrouping(a).fingerprint, ComputeGrouping(b).fingerprint);

  model::Event c = NativeEvent("/build", 0);
  model::Event d = NativeEvent("/build", 0);
  d.exceptions[0].frames[2].function =
      "_ZNK3app6Server6renderERKNSt7__cxx1112basic_stringIcSt11char_"
      "traitsIcESaIcEEE";
  EXPECT_NE(ComputeGrouping(c).fingerprint, ComputeGrouping(d).fingerprint);
}

TEST(ComputeGrouping, DifferentExceptionTypesAreDifferentGroups) {
  model::Event a = PythonEvent("/srv", 0);
  model::Event b = PythonEvent("/srv", 0);
  b.exceptions[0].type = "AttributeError";
  EXPECT_NE(ComputeGrouping(a).fingerprint, ComputeGrouping(b).fingerprint);
}

TEST(ComputeGrouping, ExceptionValueDoesNotSplitStacktraceGroups) {
  model::Event a = GoEvent("/go", 0);
  model::Event b = GoEvent("/go", 0);
  b.exceptions[0].value = "connection reset by peer";
  EXPECT_EQ(ComputeGrouping(a).fingerprint, ComputeGrouping(b).fingerprint);
}

// --- In-app filtering. ---------------------------------------------------

TEST(ComputeGrouping, OnlyInAppFramesContributeWhenThereAreAny) {
  model::GroupingResult r = ComputeGrouping(NativeEvent("/build", 0));
  EXPECT_THAT(r.components,
              ElementsAre("exception:SIGSEGV", "frame:src/main.cc:main",
                          "frame:src/server.cc:app::Server::handle",
                          "frame:src/parser.cc:parse"));

  // A different libc path or function (not in app) does not matter.
  model::Event other_libc = NativeEvent("/build", 0);
  other_libc.exceptions[0].frames.back().function = "__memcpy_sse2";
  EXPECT_EQ(ComputeGrouping(other_libc).fingerprint, r.fingerprint);
}

TEST(ComputeGrouping, AllFramesContributeWhenNoneIsInApp) {
  model::Event a = NativeEvent("/build", 0);
  for (model::Frame& f : a.exceptions[0].frames) f.in_app.reset();
  model::GroupingResult ra = ComputeGrouping(a);
  EXPECT_EQ(ra.method, "stacktrace");
  EXPECT_EQ(ra.components.size(), 6u);  // exception + 5 frames
  EXPECT_EQ(ra.components[1], "frame::__libc_start_main");

  model::Event b = a;
  b.exceptions[0].frames.back().function = "__memcpy_sse2";
  EXPECT_NE(ComputeGrouping(b).fingerprint, ra.fingerprint);
}

TEST(ComputeGrouping, FramesWithoutFunctionAndFileAreSkipped) {
  model::Event a = NativeEvent("/build", 0);
  model::Frame unknown;
  unknown.instruction_addr = "0x55d0c0a0ffff";
  unknown.package = "/usr/bin/shopd";
  unknown.in_app = true;
  a.exceptions[0].frames.insert(a.exceptions[0].frames.begin() + 2, unknown);
  EXPECT_EQ(ComputeGrouping(a).fingerprint,
            ComputeGrouping(NativeEvent("/build", 0)).fingerprint);
}

TEST(ComputeGrouping, DirectRecursionContributesOnce) {
  model::Event shallow = PythonEvent("/srv", 0);
  model::Event deep = PythonEvent("/srv", 0);
  std::vector<model::Frame>& frames = deep.exceptions[0].frames;
  for (int i = 0; i < 50; ++i) frames.insert(frames.end() - 1, frames[1]);
  EXPECT_EQ(ComputeGrouping(shallow).fingerprint,
            ComputeGrouping(deep).fingerprint);
}

TEST(ComputeGrouping, ChainContributesEveryException) {
  model::Event e = PythonEvent("/srv", 0);
  model::ExceptionValue cause;
  cause.type = "ConnectionError";
  cause.value = "db down";
  model::Frame f = MakeFrame("connect", "shop/db.py", true);
  f.module = "shop.db";
  cause.frames = {f};
  e.exceptions.insert(e.exceptions.begin(), cause);
  model::GroupingResult r = ComputeGrouping(e);
  EXPECT_THAT(r.components,
              ElementsAre("exception:ConnectionError", "frame:shop.db:connect",
                          "exception:KeyError", "frame:shop.views:order_detail",
                          "frame:shop.users:load_user"));
  EXPECT_EQ(r.title, "KeyError: 'user_id'");
  EXPECT_EQ(r.culprit, "shop.users in load_user");
}

TEST(ComputeGrouping, GoFunctionWithoutModuleDropsPackagePath) {
  model::Event e;
  e.platform = "go";
  model::ExceptionValue ex;
  ex.type = "panic";
  ex.value = "runtime error: index out of range [5] with length 3";
  model::Frame f =
      MakeFrame("github.com/acme/shop/handlers.(*Server).Handle",
                "/home/ci/go/src/github.com/acme/shop/handlers/s.go", true);
  ex.frames = {f};
  e.exceptions.push_back(ex);
  EXPECT_THAT(ComputeGrouping(e).components,
              ElementsAre("exception:panic",
                          "frame:handlers/s.go:handlers.(*Server).Handle"));
}

// --- Fallbacks: exception, message. ---------------------------------------

TEST(ComputeGrouping, NoContributingFrameFallsBackToExceptionValue) {
  auto make = [](const std::string& value) {
    model::Event e;
    e.platform = "native";
    model::ExceptionValue ex;
    ex.type = "std::runtime_error";
    ex.value = value;
    model::Frame unsymbolicated;
    unsymbolicated.instruction_addr = "0x55d0c0a01234";
    unsymbolicated.package = "/usr/bin/shopd";
    ex.frames = {unsymbolicated};
    e.exceptions.push_back(ex);
    return e;
  };
  model::GroupingResult a = ComputeGrouping(make("user 42 not found"));
  model::GroupingResult b = ComputeGrouping(make("user 7 not found"));
  model::GroupingResult c = ComputeGrouping(make("order 7 not found"));
  EXPECT_EQ(a.method, "exception");
  EXPECT_THAT(a.components, ElementsAre("exception:std::runtime_error",
                                        "value:user <int> not found"));
  EXPECT_EQ(a.fingerprint, b.fingerprint);
  EXPECT_NE(a.fingerprint, c.fingerprint);
  EXPECT_EQ(a.title, "std::runtime_error: user 42 not found");
  EXPECT_EQ(a.culprit, "");
}

TEST(ComputeGrouping, MessageEvents) {
  auto make = [](const std::string& message) {
    model::Event e;
    e.platform = "python";
    e.logger = "shop.orders";
    e.message = message;
    return e;
  };
  model::GroupingResult a =
      ComputeGrouping(make("payment 42 failed for a@b.io"));
  model::GroupingResult b =
      ComputeGrouping(make("payment 9 failed for c@d.org"));
  EXPECT_EQ(a.method, "message");
  EXPECT_THAT(a.components,
              ElementsAre("message:payment <int> failed for <email>"));
  EXPECT_EQ(a.fingerprint, b.fingerprint);
  EXPECT_EQ(a.title, "payment 42 failed for a@b.io");
  EXPECT_EQ(a.culprit, "shop.orders");
  EXPECT_NE(ComputeGrouping(make("refund 42 failed")).fingerprint,
            a.fingerprint);
}

TEST(ComputeGrouping, EmptyEventIsUnlabeled) {
  model::Event e;
  model::GroupingResult r = ComputeGrouping(e);
  EXPECT_EQ(r.method, "message");
  EXPECT_EQ(r.title, "<unlabeled event>");
  EXPECT_EQ(r.culprit, "");
  EXPECT_THAT(r.fingerprint, MatchesRegex("[0-9a-f]{32}"));
}

// --- Client fingerprints. -------------------------------------------------

TEST(ComputeGrouping, ClientFingerprintWins) {
  model::Event a = NodeEvent("/app", 0);
  model::Event b = NativeEvent("/build", 0);
  a.fingerprint = {"database-unavailable"};
  b.fingerprint = {"database-unavailable"};
  model::GroupingResult ra = ComputeGrouping(a);
  EXPECT_EQ(ra.method, "fingerprint");
  EXPECT_THAT(ra.components, ElementsAre("fingerprint:database-unavailable"));
  EXPECT_EQ(ra.fingerprint, ComputeGrouping(b).fingerprint);
  // Title and culprit still describe the event.
  EXPECT_EQ(ra.title,
            "TypeError: Cannot read properties of undefined (reading 'id')");
  EXPECT_EQ(ra.culprit, "handlers in handleOrder");
}

TEST(ComputeGrouping, DefaultVariableExpandsToComputedDefault) {
  model::Event plain = NodeEvent("/app", 0);
  model::GroupingResult def = ComputeGrouping(plain);

  for (const char* spelling :
       {"{{ default }}", "{{default}}", " {{  default }} "}) {
    model::Event only_default = plain;
    only_default.fingerprint = {spelling};
    model::GroupingResult r = ComputeGrouping(only_default);
    EXPECT_EQ(r.fingerprint, def.fingerprint) << spelling;
    EXPECT_EQ(r.method, "stacktrace") << spelling;
  }

  model::Event tenant_a = plain;
  tenant_a.fingerprint = {"{{ default }}", "tenant-a"};
  model::Event tenant_b = plain;
  tenant_b.fingerprint = {"{{default}}", "tenant-b"};
  model::GroupingResult ra = ComputeGrouping(tenant_a);
  EXPECT_EQ(ra.method, "fingerprint");
  std::vector<std::string> expected = def.components;
  expected.push_back("fingerprint:tenant-a");
  EXPECT_EQ(ra.components, expected);
  EXPECT_NE(ra.fingerprint, ComputeGrouping(tenant_b).fingerprint);
  EXPECT_NE(ra.fingerprint, def.fingerprint);

  // Same extra entry, different call site: different groups.
  model::Event other_site = NodeEvent("/app", 0);
  other_site.exceptions[0].frames.back().function = "handleRefund";
  other_site.fingerprint = {"{{ default }}", "tenant-a"};
  EXPECT_NE(ComputeGrouping(other_site).fingerprint, ra.fingerprint);

  // Not the variable: taken literally.
  model::Event literal = plain;
  literal.fingerprint = {"{{ defaults }}"};
  EXPECT_THAT(ComputeGrouping(literal).components,
              ElementsAre("fingerprint:{{ defaults }}"));
}

// --- Title. -------------------------------------------------------------

TEST(ComputeGrouping, TitleDerivation) {
  model::Event e = NodeEvent("/app", 0);
  EXPECT_EQ(ComputeGrouping(e).title,
            "TypeError: Cannot read properties of undefined (reading 'id')");

  e.exceptions[0].value = "\n  first line  \nsecond line";
  EXPECT_EQ(ComputeGrouping(e).title, "TypeError: first line");

  e.exceptions[0].value = std::string(300, 'x');
  EXPECT_EQ(ComputeGrouping(e).title, "TypeError: " + std::string(200, 'x'));

  // 200 characters, not bytes: a multi-byte character is never split.
  std::string accents;
  for (int i = 0; i < 250; ++i) accents += "\xC3\xA9";  // é
  e.exceptions[0].value = accents;
  EXPECT_EQ(ComputeGrouping(e).title, "TypeError: " + accents.substr(0, 400));

  e.exceptions[0].value = "";
  EXPECT_EQ(ComputeGrouping(e).title, "TypeError");

  e.exceptions[0].type = "";
  e.exceptions[0].value = "only a value";
  EXPECT_EQ(ComputeGrouping(e).title, "only a value");

  model::Event msg;
  msg.message = "disk almost full\ndetails follow";
  EXPECT_EQ(ComputeGrouping(msg).title, "disk almost full");
}

// --- Culprit. -----------------------------------------------------------

TEST(ComputeGrouping, CulpritDerivation) {
  EXPECT_EQ(ComputeGrouping(NodeEvent("/app", 0)).culprit,
            "handlers in handleOrder");
  EXPECT_EQ(ComputeGrouping(PythonEvent("/srv", 0)).culprit,
            "shop.users in load_user");
  EXPECT_EQ(ComputeGrouping(GoEvent("/go", 0)).culprit,
            "github.com/acme/shop/store in (*Store).FindOrder");
  // The innermost frame is libc (not in app): the innermost in-app wins.
  EXPECT_EQ(ComputeGrouping(NativeEvent("/home/ci/build", 0)).culprit,
            "src/parser.cc in parse");

  // No in-app frame at all: the innermost frame.
  model::Event no_app = NativeEvent("/build", 0);
  for (model::Frame& f : no_app.exceptions[0].frames) f.in_app = false;
  EXPECT_EQ(ComputeGrouping(no_app).culprit, "__memmove_avx_unaligned_erms");

  // The last exception without frames is passed over for one with frames.
  model::Event chained = PythonEvent("/srv", 0);
  model::ExceptionValue bare;
  bare.type = "RuntimeError";
  chained.exceptions.push_back(bare);
  EXPECT_EQ(ComputeGrouping(chained).culprit, "shop.users in load_user");
  EXPECT_EQ(ComputeGrouping(chained).title, "RuntimeError");

  // No frames: the transaction, then the logger.
  model::Event no_frames;
  no_frames.message = "hello";
  no_frames.transaction = "GET /health";
  no_frames.logger = "app";
  EXPECT_EQ(ComputeGrouping(no_frames).culprit, "GET /health");
  no_frames.transaction.clear();
  EXPECT_EQ(ComputeGrouping(no_frames).culprit, "app");
}

// --- Top frame (named by alerts). ----------------------------------------

TEST(ComputeGrouping, TopFrameIsInnermostInAppFrameAsSent) {
  model::Frame lib =
      MakeFrame("dispatch", "node_modules/express/router.js", false);
  lib.lineno = 10;
  model::Frame app = MakeFrame("handleOrder", "app/handlers.js", true);
  app.lineno = 88;
  model::Event js;
  model::ExceptionValue ex;
  ex.type = "TypeError";
  ex.frames = {lib, app, lib};
  js.exceptions = {ex};
  EXPECT_EQ(ComputeGrouping(js).top_frame, "handleOrder (app/handlers.js:88)");

  // A later exception without frames is passed over.
  model::ExceptionValue bare;
  bare.type = "RuntimeError";
  js.exceptions.push_back(bare);
  EXPECT_EQ(ComputeGrouping(js).top_frame, "handleOrder (app/handlers.js:88)");

  // No in-app frame: the innermost one, named by its shared object.
  model::Event native;
  model::Frame f;
  f.function = "crash_me";
  f.package = "/usr/lib/libx.so";
  ex.frames = {f};
  native.exceptions = {ex};
  EXPECT_EQ(ComputeGrouping(native).top_frame, "crash_me (/usr/lib/libx.so)");

  model::Event no_frames;
  no_frames.message = "hello";
  EXPECT_EQ(ComputeGrouping(no_frames).top_frame, "");
}

// --- Stability: these hashes must never change for these inputs. ---------

TEST(ComputeGrouping, StableFingerprints) {
  model::Event js;
  js.platform = "node";
  model::ExceptionValue ex;
  ex.type = "TypeError";
  ex.value = "boom";
  ex.frames = {MakeFrame("handleOrder", "/srv/app/handlers.js", true)};
  js.exceptions.push_back(ex);
  model::GroupingResult r = ComputeGrouping(js);
  EXPECT_THAT(r.components, ElementsAre("exception:TypeError",
                                        "frame:app/handlers.js:handleOrder"));
  // printf 'exception:TypeError\nframe:app/handlers.js:handleOrder' |
  //   sha256sum | cut -c1-32
  EXPECT_EQ(r.fingerprint, "6ca28ed3edaf526c815e7c39604926a1");

  model::Event msg;
  msg.message = "user 42 not found";
  // printf 'message:user <int> not found' | sha256sum | cut -c1-32
  EXPECT_EQ(ComputeGrouping(msg).fingerprint,
            "710ff688099ba1d62e19576dd38d79a6");

  model::Event fp;
  fp.fingerprint = {"db", "timeout"};
  // printf 'fingerprint:db\nfingerprint:timeout' | sha256sum | cut -c1-32
  EXPECT_EQ(ComputeGrouping(fp).fingerprint,
            "f4a28dab6feb2ce9945af81ddb80f096");

  model::GroupingResult native = ComputeGrouping(NativeEvent("/build", 0));
  EXPECT_EQ(native.fingerprint,
            ComputeGrouping(NativeEvent("/home/ci/build", 128)).fingerprint);
  EXPECT_EQ(native.fingerprint, "99f93e5bb385df5c2f110dde6d8b435b");
}

TEST(ComputeGrouping, DeterministicAcrossCalls) {
  model::Event e = NodeEvent("/app", 0);
  model::GroupingResult first = ComputeGrouping(e);
  for (int i = 0; i < 10; ++i) {
    model::GroupingResult again = ComputeGrouping(e);
    EXPECT_EQ(again.fingerprint, first.fingerprint);
    EXPECT_EQ(again.components, first.components);
  }
  EXPECT_THAT(first.fingerprint, MatchesRegex("[0-9a-f]{32}"));
}

}  // namespace
}  // namespace grouping
}  // namespace crashctl
