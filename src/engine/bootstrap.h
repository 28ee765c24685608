// The bootstraps: the text that runs before a step's script and gives it Octopus's helper API
// (reference-octopus-scripts.md; reference-octopus-deployment-model.md §4.10), one per syntax, and
// the format of the variables they read.
//
// The runner (step_runner.h) writes the script into the step's working folder and the variables
// into an anonymous memory file (memfd: never on disk, so a script that packs up its folder
// cannot pack the step's secrets, and nothing needs deleting), and starts the bootstrap there
// with that file open as descriptor 3. The bootstrap reads the variables from descriptor 3 and
// closes it (the script and what it starts never see it), defines the helpers, and runs the
// script in the same process, without starting any other:
//   Bash   `bash -c <BashBootstrap()> bootstrap.sh` (no file): functions get_octopusvariable,
//   set_octopusvariable [-sensitive],
//          new_octopusartifact, fail_step, update_progress, write_verbose/highlight/wait/warning
//          (and write_error), encode_servicemessagevalue, decode_servicemessagevalue,
//          __mask_sensitive_value, and the associative array octopus_parameters; then
//          `source ./script.sh`. Needs bash 4.0 or later.
//   Python `python3 -u -B bootstrap.py` (a file in the folder): functions get_octopusvariable,
//          set_octopusvariable(name, value, sensitive=False), createartifact(path, name=None),
//          failstep(message=None), updateprogress(percentage, message=None), printverbose,
//          printhighlight, printwait, printwarning, encode, decode, and the dict
//          octopusvariables; then script.py runs as __main__ with those in its globals.
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "engine/variables.h"

namespace cuttle::engine {

inline constexpr std::string_view kVariablesFile = ".octopus-variables";

const std::string& BashBootstrap();
const std::string& PythonBootstrap();

// The variables file (the memory file's name is kVariablesFile): every variable as its name,
// NUL, its value, NUL, in the dictionary's order. Names and values cannot hold NUL in bash, so NUL
// bytes in them are dropped; a variable whose name is then empty is left out.
std::string EncodeVariablesFile(const VariableDictionary& variables);

}  // namespace cuttle::engine
