#include "agent/journal.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "agentwire/wire.h"
#include "testing/temp_dir.h"

namespace cuttle::agent {
namespace {

void Append(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << text;
}

std::string Line(const std::string& text) {
  return agentwire::EncodeLine({engine::LogCategory::kInfo, text, 1000});
}

TEST(JournalTest, StatesSurviveReopening) {
  testing::TempDir tmp;
  const std::string root = tmp.Sub("journal");
  auto j = CommandJournal::Create(root, "AgentCommands-1", 5000);
  ASSERT_TRUE(j) << j.error().message();
  EXPECT_EQ(j->state().state, CommandState::kReceived);
  EXPECT_EQ(j->state().received_ms, 5000);

  JournalState s = j->state();
  s.state = CommandState::kStarted;
  s.epoch = 3;
  s.pid = 1234;
  s.pid_start = 99;
  ASSERT_TRUE(j->Save(s));
  auto reopened = CommandJournal::Open(root, "AgentCommands-1");
  ASSERT_TRUE(reopened) << reopened.error().message();
  EXPECT_EQ(reopened->state().state, CommandState::kStarted);
  EXPECT_EQ(reopened->state().epoch, 3);
  EXPECT_EQ(reopened->state().pid, 1234);
  EXPECT_EQ(reopened->state().pid_start, 99u);
  EXPECT_EQ(reopened->state().acked_seq, -1);

  for (auto next : {CommandState::kExited, CommandState::kAcked}) {
    s.state = next;
    ASSERT_TRUE(reopened->Save(s));
    auto again = CommandJournal::Open(root, "AgentCommands-1");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->state().state, next);
  }
  // The state file is replaced whole: no temporary is left beside it.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(root + "/AgentCommands-1")) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(JournalTest, ACommandIsCreatedOnce) {
  testing::TempDir tmp;
  const std::string root = tmp.Sub("journal");
  ASSERT_TRUE(CommandJournal::Create(root, "AgentCommands-2", 1));
  auto second = CommandJournal::Create(root, "AgentCommands-2", 2);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_TRUE(CommandJournal::Exists(root, "AgentCommands-2"));
  EXPECT_FALSE(CommandJournal::Exists(root, "AgentCommands-3"));
}

TEST(JournalTest, RefusesIdsThatAreNotFileNames) {
  testing::TempDir tmp;
  EXPECT_FALSE(CommandJournal::Create(tmp.Sub("journal"), "../escape", 1));
  EXPECT_FALSE(CommandJournal::Create(tmp.Sub("journal"), "a/b", 1));
  EXPECT_FALSE(CommandJournal::Exists(tmp.Sub("journal"), ".."));
}

TEST(JournalTest, ChunksAreCutAtLineEndsAndReadBackByteIdentical) {
  testing::TempDir tmp;
  const std::string root = tmp.Sub("journal");
  auto j = CommandJournal::Create(root, "C", 1);
  ASSERT_TRUE(j);
  const std::string spool = j->PathOf("spool.jsonl");
  auto none = j->CutChunk(1024);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);  // no spool yet

  const std::string a = Line("first"), b = Line("second");
  Append(spool, a + b + "{\"c\":\"Info\",\"t\":\"half");  // a line still being written
  auto c0 = j->CutChunk(1024);
  ASSERT_TRUE(c0 && *c0);
  EXPECT_EQ((*c0)->seq, 0);
  EXPECT_EQ((*c0)->offset, 0u);
  EXPECT_EQ((*c0)->length, a.size() + b.size());
  EXPECT_EQ(*j->ReadChunk(**c0), a + b);
  auto nothing = j->CutChunk(1024);
  ASSERT_TRUE(nothing);
  EXPECT_FALSE(*nothing);  // the half line waits for its end

  Append(spool, " done\",\"ts\":1}\n");
  Append(spool, Line("third"));
  // A small limit cuts at the last line end that fits.
  const uint64_t first_len = std::string("{\"c\":\"Info\",\"t\":\"half done\",\"ts\":1}\n").size();
  auto c1 = j->CutChunk(first_len + 5);
  ASSERT_TRUE(c1 && *c1);
  EXPECT_EQ((*c1)->seq, 1);
  EXPECT_EQ((*c1)->length, first_len);
  auto c2 = j->CutChunk(1 << 20);
  ASSERT_TRUE(c2 && *c2);
  EXPECT_EQ(*j->ReadChunk(**c2), Line("third"));

  // After a crash the boundaries come back from chunks.jsonl: a resent chunk is the same bytes,
  // even though the spool grew since.
  Append(spool, Line("fourth"));
  auto reopened = CommandJournal::Open(root, "C");
  ASSERT_TRUE(reopened);
  ASSERT_EQ(reopened->chunks().size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(*reopened->ReadChunk(reopened->chunks()[i]), *j->ReadChunk(j->chunks()[i]));
  }
  auto c3 = reopened->CutChunk(1 << 20);
  ASSERT_TRUE(c3 && *c3);
  EXPECT_EQ((*c3)->seq, 3);
  EXPECT_EQ(*reopened->ReadChunk(**c3), Line("fourth"));
  EXPECT_EQ(reopened->UncutBytes(), 0u);
}

TEST(JournalTest, ATornChunkRecordIsDroppedAndCutAgain) {
  testing::TempDir tmp;
  const std::string root = tmp.Sub("journal");
  auto j = CommandJournal::Create(root, "C", 1);
  ASSERT_TRUE(j);
  Append(j->PathOf("spool.jsonl"), Line("one"));
  ASSERT_TRUE(j->CutChunk(1024));
  Append(j->PathOf("spool.jsonl"), Line("two"));
  Append(j->PathOf("chunks.jsonl"), "{\"Seq\":1,\"Off");  // the crash came mid-record
  auto reopened = CommandJournal::Open(root, "C");
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->chunks().size(), 1u);
  auto c = reopened->CutChunk(1024);
  ASSERT_TRUE(c && *c);
  EXPECT_EQ((*c)->seq, 1);
  auto again = CommandJournal::Open(root, "C");
  ASSERT_TRUE(again);
  ASSERT_EQ(again->chunks().size(), 2u);
  EXPECT_EQ(*again->ReadChunk(again->chunks()[1]), Line("two"));
}

TEST(JournalTest, PruneRemovesOnlyOldAckedCommands) {
  testing::TempDir tmp;
  const std::string root = tmp.Sub("journal");
  auto old_acked = CommandJournal::Create(root, "old-acked", 1);
  auto new_acked = CommandJournal::Create(root, "new-acked", 1);
  auto old_running = CommandJournal::Create(root, "old-running", 1);
  ASSERT_TRUE(old_acked && new_acked && old_running);
  JournalState s;
  s.state = CommandState::kAcked;
  s.changed_ms = 1000;
  ASSERT_TRUE(old_acked->Save(s));
  s.changed_ms = 9000;
  ASSERT_TRUE(new_acked->Save(s));
  s.state = CommandState::kStarted;
  s.changed_ms = 1000;
  ASSERT_TRUE(old_running->Save(s));
  EXPECT_EQ(CommandJournal::Prune(root, 5000), 1);
  EXPECT_EQ(CommandJournal::List(root), (std::vector<std::string>{"new-acked", "old-running"}));
}

}  // namespace
}  // namespace cuttle::agent
