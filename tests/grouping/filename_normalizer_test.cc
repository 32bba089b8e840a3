// Tests for NormalizeFilename: stable relative paths from the many shapes
// SDKs send.

#include <string>

#include "crashctl/grouping/grouping.h"
#include "gtest/gtest.h"

namespace crashctl {
namespace grouping {
namespace {

struct FilenameCase {
  const char* input;
  const char* expected;
};

class NormalizeFilenameTest : public ::testing::TestWithParam<FilenameCase> {};

TEST_P(NormalizeFilenameTest, Normalizes) {
  EXPECT_EQ(NormalizeFilename(GetParam().input), GetParam().expected)
      << "input: " << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    Paths, NormalizeFilenameTest,
    ::testing::Values(
        // Build and deployment roots disappear.
        FilenameCase{"/home/ci/build/app/handlers.js", "app/handlers.js"},
        FilenameCase{"/build/app/handlers.js", "app/handlers.js"},
        FilenameCase{"/app/src/handlers.js", "src/handlers.js"},
        FilenameCase{"/home/ci/build/src/server.cc", "src/server.cc"},
        FilenameCase{"C:\\Users\\ci\\build\\src\\server.cc", "src/server.cc"},
        FilenameCase{"../../src/server.cc", "src/server.cc"},
        FilenameCase{"handlers.js", "handlers.js"},
        // Scheme prefixes, hosts, query strings, fragments.
        FilenameCase{"webpack://my-app/./src/handlers.js", "src/handlers.js"},
        FilenameCase{"webpack-internal:///./src/handlers.js",
                     "src/handlers.js"},
        FilenameCase{"file:///home/u/app/src/handlers.js", "src/handlers.js"},
        FilenameCase{"app:///dist/main.js", "dist/main.js"},
        FilenameCase{"https://cdn.example.com/static/js/main.js?v=3#L1",
                     "js/main.js"},
        // Bundle hashes.
        FilenameCase{"app:///dist/main.3f2a1b9c.js", "dist/main.js"},
        FilenameCase{"/assets/index-BxR3k9aZ.js", "assets/index.js"},
        FilenameCase{"/static/vendors~main.a1b2c3d4.chunk.js",
                     "static/vendors~main.chunk.js"},
        FilenameCase{"/static/handlers.js", "static/handlers.js"},
        FilenameCase{"/src/sha256sum.cc", "src/sha256sum.cc"},
        // Package directories and version dirs.
        FilenameCase{"/app/node_modules/express/lib/router/index.js",
                     "express/lib/router/index.js"},
        FilenameCase{"/app/node_modules/.pnpm/express@4.18.2/node_modules/"
                     "express/lib/router/index.js",
                     "express/lib/router/index.js"},
        FilenameCase{"/srv/node_modules/@scope/pkg@1.2.3/lib/x.js",
                     "@scope/pkg/lib/x.js"},
        FilenameCase{"/usr/lib/python3.11/site-packages/requests/api.py",
                     "requests/api.py"},
        FilenameCase{"/usr/lib/python3/dist-packages/yaml/reader.py",
                     "yaml/reader.py"},
        FilenameCase{"/root/go/pkg/mod/github.com/acme/lib@v1.2.3/h/h.go",
                     "github.com/acme/lib/h/h.go"},
        FilenameCase{"", ""}));

}  // namespace
}  // namespace grouping
}  // namespace crashctl
