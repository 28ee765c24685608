#include "core/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace cuttle::core {
namespace {

TEST(IdsTest, ParsesOctopusIds) {
  EXPECT_EQ(ParseId("ServerTasks", "ServerTasks-12"), 12);
  EXPECT_EQ(ParseId("ServerTasks", "servertasks-3"), 3);
  EXPECT_FALSE(ParseId("ServerTasks", "ServerTasks-").has_value());
  EXPECT_FALSE(ParseId("ServerTasks", "ServerTasks-1x").has_value());
  EXPECT_FALSE(ParseId("ServerTasks", "Spaces-1").has_value());
  EXPECT_FALSE(ParseId("ServerTasks", "ServerTasks-0").has_value());
}

TEST(IdsTest, ApiKeysHaveOctopusFormat) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto key = NewApiKey();
    EXPECT_TRUE(IsApiKeyFormat(key)) << key;
    EXPECT_EQ(key.size(), 34u);
    seen.insert(key);
  }
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_FALSE(IsApiKeyFormat("API-ABC"));
  EXPECT_FALSE(IsApiKeyFormat("API-abcdefghijklmnopqrstuvwxyz0"));
  EXPECT_FALSE(IsApiKeyFormat("KEY-ABCDEFGHIJKLMNOPQRSTUVWXYZ0"));
  EXPECT_TRUE(IsApiKeyFormat("API-ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
}

TEST(IdsTest, UuidsAreVersion4) {
  auto u = NewUuid();
  ASSERT_EQ(u.size(), 36u);
  EXPECT_EQ(u[14], '4');
  EXPECT_NE(NewUuid(), u);
}

}  // namespace
}  // namespace cuttle::core
