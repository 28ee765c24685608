// RunStep: runs one script step on this machine the way Octopus's Calamari runs it
// (reference-octopus-scripts.md; reference-octopus-deployment-model.md §3.7, §4.3, §4.9, §4.10).
// Shared by the server's built-in worker and the agent.
//
// The script (Bash or Python) runs in the working folder the caller gives, after a bootstrap that
// gives it Octopus's helper API and the step's variables (bootstrap.h), in its own process group
// with only the environment of script_env.h plus the caller's (script_process.h). Its output is
// streamed line by line; service-message lines (service_messages.h) are acted on and never shown:
//   stdout-verbose/-default/-highlight/-wait/-warning/-error  the level of the stdout lines after
//   setVariable name= value= [sensitive=True]   an output variable (a sensitive value is masked)
//   createArtifact path= name= length=          a file to collect when the step ends
//   resultMessage message=                      why the step failed (fail_step)
//   progress percentage= message=               the step's progress
//   mask value=                                 a value to mask from now on (also read on stderr)
// stderr lines are Error lines. Every line handed to on_line, every artifact name, the result
// message and progress messages have every sensitive variable's value and every masked value
// replaced by `********` (masker.h). Lines longer than LineSplitter::kMaxLine (64 KiB) arrive in
// pieces, each masked on its own: a secret cut in two by a piece boundary is not recognised. A
// service message longer than that is dropped whole, with an Error line saying so.
//
// Exit codes follow Calamari: bash's fail_step exits 1, python's failstep exits 255 (-1).
//
// RunStep returns when the script has ended (or was killed). The callbacks are invoked on the
// calling thread. Thread-compatible: concurrent RunSteps need distinct working folders.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "engine/log_category.h"
#include "engine/variables.h"

namespace cuttle::engine {

enum class ScriptSyntax { kBash, kPython };

// Octopus's Octopus.Action.Script.Syntax names ("Bash", "Python", case-insensitive); nullopt for
// the syntaxes this runner cannot run (PowerShell, CSharp) and anything else.
std::optional<ScriptSyntax> ParseScriptSyntax(std::string_view name);

struct StepScript {
  std::string body;
  ScriptSyntax syntax = ScriptSyntax::kBash;
  // What the script reads through get_octopusvariable, octopus_parameters and octopusvariables:
  // the values exactly as given (evaluate Octostache templates in them first). The values of the
  // sensitive ones are masked in the output.
  VariableDictionary variables;
  // Applied to the body before it is written (Octopus substitutes a script's body with
  // Octostache when substitution is on); empty means the body is run as written.
  std::function<std::string(std::string_view)> substitute;
  // An existing folder of this step's own (e.g. tasks::CreateTaskDir): the runner creates its
  // files in it (script.sh, or script.py and bootstrap.py; the variables are handed over in
  // memory), never through a symlink or over an existing file, and removes them when the script
  // ends; the script's own files stay.
  std::string work_dir;
  // Environment variables of the step (e.g. OCTOPUS_TASK_ID), on top of script_env.h's allow-list.
  std::map<std::string, std::string> env;
  std::chrono::milliseconds timeout{3'600'000};
  // At most this many artifacts and distinct output variables are kept; the rest are counted.
  size_t max_artifacts = 1000;
  size_t max_output_variables = 1000;
  // Measures the timeout.
  const core::Clock* clock = &core::SystemClock::Instance();
};

struct StepCallbacks {
  // A line of output at its level, masked.
  std::function<void(LogCategory, std::string_view)> on_line;
  // A progress message (percentage 0-100, masked message), as it arrives.
  std::function<void(int percentage, std::string_view message)> on_progress;
  // Asked at least every 50 ms; a non-empty answer kills the script with that reason.
  std::function<std::string()> should_stop;
  // Writes every line given to on_line so far to shared storage (every log it went to). A target
  // that records how far its output was logged (an agent's delivered_seq) calls it first, so a
  // node dying in between repeats lines on adoption instead of losing them. Optional.
  std::function<Result<void>()> flush;
};

struct OutputVariable {
  std::string name;
  std::string value;  // never masked: it is data for later steps
  bool sensitive = false;
};

struct ArtifactRequest {
  std::string path;  // as the script gave it: absolute, or relative to the working folder
  std::string name;  // masked; the path's file name when the script gave none
  std::optional<int64_t> length;  // what the script declared; nullopt if none or not a number
};

struct StepProgress {
  int percentage = 0;
  std::string message;  // masked
};

struct StepOutcome {
  int exit_code = 0;           // the script's exit code, or 128+signal
  std::string killed_reason;   // why it was killed (should_stop's answer, or the timeout); or ""
  bool timed_out = false;      // killed because the timeout passed
  std::string result_message;  // the last resultMessage (fail_step), masked
  // In the order first set; a name set again (names compare case-insensitively) keeps its place
  // and takes the new value and sensitivity, as the last setVariable wins in Octopus.
  std::vector<OutputVariable> output_variables;
  std::vector<ArtifactRequest> artifacts;  // in the order asked for
  size_t refused_artifacts = 0;            // past max_artifacts
  size_t refused_output_variables = 0;     // new names past max_output_variables
  std::optional<StepProgress> progress;    // the last progress message
  // The script wrote text to stderr (mask messages aside): Octopus fails such a step when
  // Octopus.Action.FailScriptOnErrorOutput is True.
  bool wrote_to_stderr = false;

  bool succeeded() const { return killed_reason.empty() && exit_code == 0; }
};

// Runs the step. Errors only when the script could not be started (the working folder cannot be
// opened or written, the interpreter is missing); a script that fails is an outcome.
Result<StepOutcome> RunStep(const StepScript& script, const StepCallbacks& callbacks);

}  // namespace cuttle::engine
