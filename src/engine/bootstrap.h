// The bootstraps: the text that runs before a step's script and gives it Octopus's helper API
// (reference-octopus-scripts.md; reference-octopus-deployment-model.md §4.10), one per syntax, and
// the variables file they read the step's variables from.
//
// The runner (step_runner.h) writes three files into the step's working folder: the bootstrap,
// the script, and the variables file; it opens the variables file, deletes it (a script that
// packs up its folder must not pack the step's secrets) and runs the bootstrap there with the
// file open as descriptor 3. The bootstrap reads the variables from descriptor 3 and closes it
// (the script and what it starts never see it), defines the helpers, and runs the script in the
// same process, without starting any other:
//   Bash   `bash bootstrap.sh`: functions get_octopusvariable, set_octopusvariable [-sensitive],
//          new_octopusartifact, fail_step, update_progress, write_verbose/highlight/wait/warning
//          (and write_error), encode_servicemessagevalue, decode_servicemessagevalue,
//          __mask_sensitive_value, and the associative array octopus_parameters; then
//          `source ./script.sh`. Needs bash 4.0 or later.
//   Python `python3 -u -B bootstrap.py`: functions get_octopusvariable,
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

// The variables file (named kVariablesFile while the runner writes it): every variable as its name,
// NUL, its value, NUL, in the dictionary's order. Names and values cannot hold NUL in bash, so NUL
// bytes in them are dropped; a variable whose name is then empty is left out.
std::string EncodeVariablesFile(const VariableDictionary& variables);

}  // namespace cuttle::engine
