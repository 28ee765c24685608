// ScriptRunner: the one capability migrations need beyond db::Transaction — running a
// parameterless script of several statements (a migration file) inside the transaction. Both
// backends' transactions implement it. Used by the thread that owns the transaction.
#pragma once

#include <string_view>

#include "core/error.h"

namespace cuttle::db::internal {

class ScriptRunner {
 public:
  virtual ~ScriptRunner() = default;
  virtual Result<void> ExecuteScript(std::string_view sql) = 0;
};

}  // namespace cuttle::db::internal
