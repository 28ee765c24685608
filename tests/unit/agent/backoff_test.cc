#include "agent/backoff.h"

#include <gtest/gtest.h>

namespace cuttle::agent {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, FirstRetryAtOnceThenExponentialCeilingCappedAtTenSeconds) {
  Backoff b([] { return 0.999999; });
  EXPECT_EQ(b.Next(), milliseconds(0));
  EXPECT_EQ(b.Next(), milliseconds(249));
  EXPECT_EQ(b.Next(), milliseconds(499));
  EXPECT_EQ(b.Next(), milliseconds(999));
  for (int i = 0; i < 50; ++i) b.Next();
  EXPECT_EQ(b.Next(), milliseconds(9999));
  EXPECT_EQ(Backoff::Ceiling(1), milliseconds(0));
  EXPECT_EQ(Backoff::Ceiling(2), milliseconds(250));
  EXPECT_EQ(Backoff::Ceiling(7), milliseconds(8000));
  EXPECT_EQ(Backoff::Ceiling(8), milliseconds(10000));
  EXPECT_EQ(Backoff::Ceiling(1000), milliseconds(10000));
}

TEST(BackoffTest, FullJitterDrawsFromZeroAndResetStartsOver) {
  Backoff low([] { return 0.0; });
  for (int i = 0; i < 10; ++i) EXPECT_EQ(low.Next(), milliseconds(0));
  Backoff real;
  for (int i = 0; i < 200; ++i) {
    auto d = real.Next();
    EXPECT_GE(d, milliseconds(0));
    EXPECT_LE(d, Backoff::Ceiling(real.failures()));
    EXPECT_LE(d, Backoff::kCap);
  }
  real.Reset();
  EXPECT_EQ(real.Next(), milliseconds(0));
}

}  // namespace
}  // namespace cuttle::agent
