// Octostache, Octopus's variable template language (reference-octopus-deployment-model.md §5):
// `#{Name}`, `#{Octopus.Action[#{Step}].Output.X}`, `#{if}`/`#{unless}`/`#{else}`, `#{each}`,
// filters (`#{Name | ToUpper}`), `#{calc}`, and JSON paths into JSON values. Variable values are
// templates too and are evaluated on lookup. What Cuttle deliberately does differently from
// Octostache is listed in docs/octostache.md.
//
// Contract, as Octostache's: an unknown variable leaves its token in the output (re-rendered in
// canonical form) and is listed in the report; a template that does not parse is returned
// unchanged (or, with halt_on_parse_error off, only its bad fragments are kept as text); a
// variable that refers to itself, directly or through others, is an error value naming the loop.
//
// Thread-safety: an Evaluator caches resolved values and is not thread-safe; use one per thread.
// It takes the dictionary's names and values when constructed and keeps a reference for
// EvaluateVariable's name lookup, so the dictionary must outlive it and should not change while
// it is in use (changes would not be seen). Parsed templates are shared by all evaluators of the
// process behind a mutex. The free functions build a short-lived Evaluator and are safe to call
// concurrently on a dictionary no one writes.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "engine/variables.h"

namespace cuttle::engine {

struct EvalOptions {
  // Octostache's default: a template with a syntax error comes back verbatim, with the error in
  // the report. Off (Calamari's file substitution), each fragment that does not parse is kept as
  // text and the rest is evaluated.
  bool halt_on_parse_error = true;
  // The clock behind NowDate and NowDateUtc; nullptr means the system clock.
  const core::Clock* clock = nullptr;
  // The server's time zone as a fixed offset from UTC, for NowDate and dates written without one;
  // nullopt means the machine's local offset at the time of the call.
  std::optional<std::chrono::minutes> local_utc_offset;
};

// What an evaluation could not do. Empty when everything resolved.
struct EvalReport {
  // Tokens left in the output unresolved, in canonical form (`#{Foo | ToUpper}`), each once, in
  // the order first met.
  std::vector<std::string> unresolved;
  // Set when the template did not parse (the output then is the template, or its text fragments).
  std::string parse_error;
  // Set when a `#{ | null}` filter was evaluated: Octostache's result is then null, not text.
  bool null_result = false;

  bool ok() const { return unresolved.empty() && parse_error.empty(); }
  // Octostache's error text: the parse error, or "The following tokens were unable to be
  // evaluated: '#{A}', '#{B}'"; empty when ok().
  std::string Message() const;
};

class Evaluator {
 public:
  explicit Evaluator(const VariableDictionary& variables, EvalOptions options = {});
  ~Evaluator();
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  // Evaluates a template. Fails (kInvalidArgument) only on a self-referencing variable, with
  // Octostache's message: `... symbol "Foo" ... self referencing loop (Foo -> Bar -> Foo) ...`.
  Result<std::string> Evaluate(std::string_view tmpl, EvalReport* report = nullptr);

  // The fully evaluated value of the variable named `name` (a dictionary name, not a path).
  // kNotFound when there is no such variable; kInvalidArgument on a self-referencing loop.
  Result<std::string> EvaluateVariable(std::string_view name, EvalReport* report = nullptr);

  // Octostache's GetFlag: the evaluated variable read strictly as a boolean ("true" or "false" in
  // any case, around whitespace); `default_value` when it is unset, blank or anything else. Not
  // template truthiness.
  Result<bool> EvaluateFlag(std::string_view name, bool default_value = false);

  // Octostache's GetInt32: the evaluated variable as a 32-bit integer; nullopt when it is unset or
  // is not one.
  Result<std::optional<int>> EvaluateInt32(std::string_view name);

  // Octostache's EvaluateTruthy, the rule of run conditions: true when the template evaluates
  // without unresolved tokens or parse errors to a value that is not "", "0", "false" or "no"
  // (the last two case-insensitively, around whitespace).
  Result<bool> EvaluateTruthy(std::string_view tmpl);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Result<std::string> Evaluate(std::string_view tmpl, const VariableDictionary& variables,
                             EvalReport* report = nullptr, const EvalOptions& options = {});
Result<std::string> EvaluateVariable(std::string_view name, const VariableDictionary& variables,
                                     EvalReport* report = nullptr, const EvalOptions& options = {});
Result<bool> EvaluateTruthy(std::string_view tmpl, const VariableDictionary& variables,
                            const EvalOptions& options = {});

// Octostache's truthiness of a value: false for "", "0", and (trimmed, any case) "false", "no".
bool IsTruthy(std::string_view value);

}  // namespace cuttle::engine
