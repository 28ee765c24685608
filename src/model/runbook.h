// The Octopus JSON shapes of runbooks, runbook processes, snapshots and runs
// (reference-octopus-api.md §2.9); a runbook's process is model/process.h's.
#pragma once

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "repo/runbooks.h"

namespace cuttle::model {

nlohmann::json RunbookJson(const repo::RunbookRow& r);
nlohmann::json RunbookSnapshotJson(const repo::RunbookSnapshotRow& s);
nlohmann::json RunbookRunJson(const repo::RunbookRunRow& r);

}  // namespace cuttle::model
