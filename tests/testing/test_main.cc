// main() of every GoogleTest binary: points CRASHCTL_BINARY and
// CRASHCTL_SOURCE_DIR at this build's binary and source tree unless the
// environment already says otherwise, so test binaries also run by hand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

int main(int argc, char** argv) {
  setenv("CRASHCTL_BINARY", CRASHCTL_TEST_BINARY, 0);
  setenv("CRASHCTL_SOURCE_DIR", CRASHCTL_TEST_SOURCE_DIR, 0);
  ::testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
