// Octostache's parsed form: a template is a list of tokens (text, substitutions, conditionals,
// loops and calculations), parsed once and evaluated many times (engine/octostache.h).
// Internal to the engine; the grammar follows reference-octopus-deployment-model.md §5.1-§5.8.
// Parsed templates are immutable values; sharing them between threads is safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cuttle::engine::octostache {

struct Symbol;

// One step of a variable path: `Octopus`, `[Package A]`, or `[#{StepName}]`.
struct Step {
  enum class Kind { kIdentifier, kIndex, kSymbolIndex };
  Kind kind = Kind::kIdentifier;
  std::string text;                      // kIdentifier, kIndex
  std::shared_ptr<const Symbol> symbol;  // kSymbolIndex
};

// A variable path. No steps is the empty input of `#{ | NowDate}`.
struct Symbol {
  std::vector<Step> steps;
  // Where the path starts in its template. Octostache tells a path being resolved from the same
  // path met again by spelling and position, so a self-reference is caught when the same place
  // in a template is re-entered; the evaluator does the same (octostache.cc, EnterSymbol).
  size_t offset = 0;
};

struct Token;
using Tokens = std::vector<Token>;

// `Symbol | Filter opt opt | Filter`. Options are tokens: bare words and quoted text become text
// tokens, `#{...}` options are evaluated.
struct Expression {
  struct Filter {
    std::string name;  // as written; looked up case-insensitively
    Tokens options;
  };
  Symbol symbol;
  std::vector<Filter> filters;
};

struct Condition {
  enum class Kind { kTruthy, kCompareText, kCompareExpression };
  Kind kind = Kind::kTruthy;
  bool equal = true;  // == (true) or != (false)
  Expression left;
  std::string text;  // kCompareText: the literal
  Expression right;  // kCompareExpression
};

struct Conditional {
  Condition condition;
  Tokens truthy;
  Tokens falsy;
};

struct Repetition {
  std::string enumerator;
  Symbol collection;
  Tokens body;
};

struct Calc {
  enum class Kind { kConstant, kVariable, kOperation };
  Kind kind = Kind::kConstant;
  double constant = 0;
  Symbol variable;
  char op = '+';
  std::shared_ptr<const Calc> left, right;
};

struct Token {
  enum class Kind { kText, kSubstitution, kConditional, kRepetition, kCalculation };
  Kind kind = Kind::kText;
  std::string text;  // kText, already unescaped (`##{` read as `#{`)
  std::shared_ptr<const Expression> expression;
  std::shared_ptr<const Conditional> conditional;
  std::shared_ptr<const Repetition> repetition;
  std::shared_ptr<const Calc> calc;
};

struct ParseResult {
  std::optional<Tokens> tokens;  // nullopt when parsing failed
  std::string error;             // why, when it failed
};

// Parses a template. `halt_on_error` fails the whole template at the first fragment that does not
// parse (Octostache's default); otherwise that fragment is kept as text and parsing goes on
// (Calamari's file substitution).
ParseResult ParseTemplate(std::string_view text, bool halt_on_error);

// Parses a variable name into a path (`Octopus.Action[Package A].Name`), as Octostache binds
// dictionary names: the longest prefix that is a path; nullopt when none is.
std::optional<Symbol> ParsePath(std::string_view name);

// The canonical text Octostache echoes for an unresolved token (§5.3): `#{Foo | Match "a" "b"}`.
std::string Print(const Token& token);
std::string Print(const Tokens& tokens);
std::string Print(const Symbol& symbol);
std::string Print(const Expression& expression);

// The names a template refers to outside loop bodies, one per identifier step (Octostache's
// ParseTemplateAndGetArgumentNames): `#{a[#{b}].c}` gives a, b, c.
std::vector<std::string> ArgumentNames(const Tokens& tokens);

}  // namespace cuttle::engine::octostache
