// The payloads captured from real SDKs in tests/ingest/testdata (the
// directory is compiled in as INGEST_TESTDATA_DIR).
//
// Thread-safety: reentrant.
#ifndef CRASHCTL_TESTS_INGEST_TESTDATA_H_
#define CRASHCTL_TESTS_INGEST_TESTDATA_H_

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace crashctl {
namespace ingest {

// The bytes of testdata file `name`; fails the test when it is missing.
inline std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(INGEST_TESTDATA_DIR) + "/" + name,
                   std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing testdata " << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace ingest
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_INGEST_TESTDATA_H_
