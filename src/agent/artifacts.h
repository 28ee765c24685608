// Artifacts on the agent (docs/agent.md, "PUT /commands/{id}/artifacts/{n}"). The runner stages
// each file a script asked to collect into the command's journal folder before it removes the
// working folder (artifact-<n>, listed in artifacts.json with its name, size and SHA-256); the
// agent uploads the staged files before it sends the result, and records each accepted upload in
// artifacts-sent.json, so a restarted agent neither sends one twice nor loses one.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "agent/journal.h"
#include "core/error.h"
#include "engine/step_runner.h"

namespace cuttle::agent {

struct StagedArtifact {
  int64_t n = 0;       // the request's index in the outcome: the upload's number
  std::string name;    // the file name the server stores it under
  std::string file;    // in the journal folder: artifact-<n>
  std::string sha256;  // lower-case hex
  uint64_t size = 0;
};

// Copies each requested file (absolute, or relative to `work_dir`; it must be a regular file
// inside `work_dir`, at most `max_bytes`) into the journal and writes artifacts.json. A file that
// is missing, elsewhere or too large is skipped with one call of `warn` naming it.
void StageArtifacts(const std::string& work_dir, const std::vector<engine::ArtifactRequest>& asked,
                    const CommandJournal& journal, uint64_t max_bytes,
                    const std::function<void(const std::string&)>& warn);

// artifacts.json (empty when there is none), and the numbers already uploaded.
std::vector<StagedArtifact> StagedArtifacts(const CommandJournal& journal);
std::set<int64_t> SentArtifacts(const CommandJournal& journal);
// Records `n` as uploaded (durably) and removes its staged file.
Result<void> MarkArtifactSent(const CommandJournal& journal, const StagedArtifact& a);

// Appends one line to the command's spool (the agent's own lines once the runner has ended).
void AppendSpoolLine(const CommandJournal& journal, engine::LogCategory c, std::string_view text);

}  // namespace cuttle::agent
