// The agent's on-disk journal (docs/agent.md, "The agent"): one folder per command under
// <home>/journal/<command id>/, which is what makes a command run at most once and lets a restarted
// agent re-attach to a runner that outlived it.
//   state.json    received -> started{pid, start} -> exited -> acked, with the epoch and the last
//                 chunk the server acknowledged; rewritten atomically and fsync'd on every change
//   command.json  what the runner runs (the envelope, the package's path); 0600, the runner
//                 deletes it once read (it holds sensitive values)
//   spool.jsonl   the runner's masked lines (wire::EncodeLine), append-only
//   chunks.jsonl  every chunk cut from the spool: {"Seq","Offset","Length"}, fsync'd before the
//                 chunk is first sent, so a chunk is the same bytes however often it is sent
//   result.json   the outcome (agentwire::ResultToJson), written by the runner (or by the agent
//                 when the runner vanished without one)
//   runner.lock   flock'd by the runner for its whole life: free means the runner is gone
//   cancel        present once the server asked to cancel; the runner's should_stop reads it
// A CommandJournal is used by one thread at a time; the runner and the agent share a folder
// through the files' roles above (only the agent writes state.json and chunks.jsonl).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace cuttle::agent {

enum class CommandState { kReceived, kStarted, kExited, kAcked };
std::string_view StateName(CommandState s);

struct JournalState {
  CommandState state = CommandState::kReceived;
  int64_t epoch = 0;        // the claim's; 0 before the first claim
  int pid = 0;              // the runner's (kStarted on); 0 if not known yet
  uint64_t pid_start = 0;   // the runner's start time (/proc/<pid>/stat field 22): not a reused pid
  int64_t acked_seq = -1;   // every chunk up to this one was accepted by the server
  int64_t received_ms = 0;  // unix ms
  int64_t changed_ms = 0;   // unix ms of the last change (pruning counts from an acked's)
  std::string note;         // why it ended without a result being recorded (410, 409...)
};

struct ChunkMark {
  int64_t seq = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
};

class CommandJournal {
 public:
  // <root>/<id>/ must not exist yet: kAlreadyExists when it does (the command is known).
  static Result<CommandJournal> Create(const std::string& root, const std::string& command_id,
                                       int64_t now_ms);
  static Result<CommandJournal> Open(const std::string& root, const std::string& command_id);
  static bool Exists(const std::string& root, const std::string& command_id);
  // The ids of the commands in the journal.
  static std::vector<std::string> List(const std::string& root);
  // Removes the folders of acked commands last changed before `before_ms`; returns how many.
  static int Prune(const std::string& root, int64_t before_ms);

  const std::string& id() const { return id_; }
  const std::string& dir() const { return dir_; }
  std::string PathOf(std::string_view file) const { return dir_ + "/" + std::string(file); }
  const JournalState& state() const { return state_; }
  const std::vector<ChunkMark>& chunks() const { return chunks_; }

  // Replaces state.json (temp file, fsync, rename, fsync of the folder).
  Result<void> Save(JournalState s);

  // Cuts the next chunk from the spool: the complete lines after the last chunk, at most
  // `max_bytes` (cut at a line end; a single longer line is cut whole). Records it in
  // chunks.jsonl (fsync'd) before returning it. nullopt when no complete line is waiting.
  Result<std::optional<ChunkMark>> CutChunk(uint64_t max_bytes);
  // Bytes of the spool after the last chunk (complete lines or not).
  uint64_t UncutBytes() const;
  // A chunk's bytes, read from the spool.
  Result<std::string> ReadChunk(const ChunkMark& mark) const;

 private:
  CommandJournal(std::string id, std::string dir) : id_(std::move(id)), dir_(std::move(dir)) {}
  Result<void> Load();

  std::string id_;
  std::string dir_;
  JournalState state_;
  std::vector<ChunkMark> chunks_;
};

// Writes `content` to `path` atomically with `mode` (temp file in the same folder, fsync, rename,
// fsync of the folder).
Result<void> WriteFileDurably(const std::string& path, std::string_view content,
                              uint32_t mode = 0600);
// The whole file; kNotFound when it does not exist.
Result<std::string> ReadWholeFile(const std::string& path);
// Reads the file in blocks of 64 KiB, handing each to `each`; kNotFound when it does not exist.
Result<void> ReadBlocks(const std::string& path, const std::function<void(std::string_view)>& each);

}  // namespace cuttle::agent
