// The evaluator: variables become a tree of path steps (`Octopus` / `Action` / `[Package A]` /
// `Name`), as Octostache binds them, and templates are evaluated against a chain of scopes (the
// dictionary, then one scope per `#{each}` iteration). A value found in a scope is itself
// evaluated in that scope, so loop variables are visible to the values of loop items.
#include "engine/octostache.h"

#include <ctime>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "core/strings.h"
#include "engine/octostache/filters.h"
#include "engine/octostache/loose_json.h"
#include "engine/octostache/number_format.h"
#include "engine/octostache/template.h"

namespace cuttle::engine {
namespace {

using octostache::Calc;
using octostache::Condition;
using octostache::Expression;
using octostache::ParseResult;
using octostache::Step;
using octostache::Symbol;
using octostache::Token;
using octostache::Tokens;

char LowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

struct NoCaseHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const {
    size_t h = 1469598103934665603ull;
    for (char c : s) h = (h ^ static_cast<unsigned char>(LowerAscii(c))) * 1099511628211ull;
    return h;
  }
};

struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

struct NoCaseEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
    }
    return true;
  }
};

// A node's children by name, in the order first added. Most nodes have a handful, searched in
// place; a node with many (every step's `Octopus.Action[...]`) also gets a hash index.
class Children {
 public:
  const struct Node* Find(std::string_view name) const {
    if (index_) {
      auto it = index_->find(name);
      return it == index_->end() ? nullptr : it->second;
    }
    for (const auto& [k, v] : items_) {
      if (NoCaseEqual()(k, name)) return v;
    }
    return nullptr;
  }
  // Adds `name` unless present; returns the node now under it.
  const struct Node* Add(std::string_view name, const struct Node* node) {
    if (const struct Node* existing = Find(name)) return existing;
    items_.emplace_back(std::string(name), node);
    if (index_) {
      index_->emplace(items_.back().first, node);
    } else if (items_.size() > kIndexAbove) {
      index_ = std::make_unique<Index>();
      for (const auto& [k, v] : items_) index_->emplace(k, v);
    }
    return node;
  }
  bool empty() const { return items_.empty(); }
  const struct Node* front() const { return items_.front().second; }
  std::vector<const struct Node*> Nodes() const {
    std::vector<const struct Node*> out;
    out.reserve(items_.size());
    for (const auto& [_, v] : items_) out.push_back(v);
    return out;
  }

 private:
  static constexpr size_t kIndexAbove = 12;
  using Index = std::unordered_map<std::string, const struct Node*, NoCaseHash, NoCaseEqual>;
  std::vector<std::pair<std::string, const struct Node*>> items_;
  std::unique_ptr<Index> index_;
};

// One step of the variable tree (Octostache's Binding): an optional value (a raw template),
// named children (`.Name`) and indexed children (`[key]`) in first-definition order. An indexed
// child's value is its key unless a variable names it exactly.
struct Node {
  std::optional<std::string> value;
  Children children;
  Children indexed;
  bool from_dictionary = false;

  const Node* Child(std::string_view name) const { return children.Find(name); }
  const Node* Index(std::string_view key) const { return indexed.Find(key); }
};

using ParseCache =
    std::unordered_map<std::string, std::shared_ptr<const ParseResult>, TextHash, std::equal_to<>>;
constexpr size_t kCacheEntries = 4096;

struct Scope {
  const Node* root;
  const Scope* parent;
};

// A variable that refers back to itself; unwinds to the public call (or to a JSON look-up,
// which then treats the value as no JSON, as Octostache does).
struct CycleError {
  std::string message;
};

// What one evaluation could not resolve.
struct Collector {
  std::vector<std::string> unresolved;
  bool null_result = false;
};

std::string_view TrimAscii(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || (s.front() >= '\t' && s.front() <= '\r'))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || (s.back() >= '\t' && s.back() <= '\r'))) {
    s.remove_suffix(1);
  }
  return s;
}

int SystemOffsetMinutes(int64_t unix_millis) {
  std::time_t t = static_cast<std::time_t>(unix_millis / 1000);
  std::tm local{};
  localtime_r(&t, &local);
  return static_cast<int>(local.tm_gmtoff / 60);
}

}  // namespace

std::string EvalReport::Message() const {
  if (!parse_error.empty()) return parse_error;
  if (unresolved.empty()) return {};
  std::string out = "The following tokens were unable to be evaluated: ";
  for (size_t i = 0; i < unresolved.size(); ++i) {
    if (i > 0) out += ", ";
    out += "'" + unresolved[i] + "'";
  }
  return out;
}

bool IsTruthy(std::string_view value) {
  if (value.empty() || value == "0") return false;
  std::string_view t = TrimAscii(value);
  return !NoCaseEqual()(t, "no") && !NoCaseEqual()(t, "false");
}

struct Evaluator::Impl {
  Impl(const VariableDictionary& vars, EvalOptions opts) : variables(vars), options(opts) {
    BuildTree();
  }

  // --- the variable tree ---------------------------------------------------------------------

  void BuildTree() {
    root = NewNode(tree);
    std::vector<const Variable*> ordered;
    ordered.reserve(variables.size());
    for (const auto& [_, v] : variables) ordered.push_back(&v);
    std::sort(ordered.begin(), ordered.end(),
              [](const Variable* a, const Variable* b) { return a->order < b->order; });
    for (const Variable* v : ordered) {
      auto path = octostache::ParsePath(v->name);
      if (!path) continue;
      Node* at = root;
      for (const Step& step : path->steps) {
        if (step.kind == Step::Kind::kIdentifier) {
          const Node* child = at->children.Find(step.text);
          if (child == nullptr) child = at->children.Add(step.text, NewNode(tree));
          at = const_cast<Node*>(child);
          continue;
        }
        std::string key =
            step.kind == Step::Kind::kIndex ? step.text : "#{" + Print(*step.symbol) + "}";
        const Node* child = at->indexed.Find(key);
        if (child == nullptr) {
          Node* made = NewNode(tree);
          made->value = key;
          child = at->indexed.Add(key, made);
        }
        at = const_cast<Node*>(child);
      }
      at->value = v->value;
    }
  }

  Node* NewNode(std::deque<Node>& arena) {
    arena.emplace_back();
    arena.back().from_dictionary = &arena == &tree;
    return &arena.back();
  }

  Node* Scratch(std::string value) {
    Node* n = NewNode(scratch);
    n->value = std::move(value);
    return n;
  }

  // --- parsing, cached ---------------------------------------------------------------------

  // Parsed templates are shared: one cache per evaluator in front of one per process (parsing is
  // pure, and a deployment evaluates the same values and files on every step). Callers hold the
  // shared_ptr, so trimming a cache never frees a template being evaluated.
  std::shared_ptr<const ParseResult> Parse(std::string_view text, bool halt) {
    auto& cache = halt ? parsed_halting : parsed_continuing;
    auto it = cache.find(text);
    if (it != cache.end()) return it->second;
    if (cache.size() >= kCacheEntries) cache.clear();
    auto result = SharedParse(text, halt);
    cache.emplace(std::string(text), result);
    return result;
  }

  static std::shared_ptr<const ParseResult> SharedParse(std::string_view text, bool halt) {
    static std::mutex mu;
    static ParseCache shared[2];  // guarded by mu
    {
      std::lock_guard lock(mu);
      auto& cache = shared[halt ? 1 : 0];
      auto it = cache.find(text);
      if (it != cache.end()) return it->second;
    }
    auto result = std::make_shared<const ParseResult>(octostache::ParseTemplate(text, halt));
    std::lock_guard lock(mu);
    auto& cache = shared[halt ? 1 : 0];
    if (cache.size() >= kCacheEntries) cache.clear();
    cache.emplace(std::string(text), result);
    return result;
  }

  // --- resolution -----------------------------------------------------------------------------

  struct Entry {
    std::string printed;
    size_t offset;
  };
  static constexpr size_t kMaxDepth = 200;

  struct Found {
    const Node* node = nullptr;
    std::optional<std::string> value;  // the evaluated value; nullopt when the node has none
    bool evaluated = false;            // value replaces the node (its indexed children are gone)
  };

  // Re-entering a path already being resolved is a loop. As in Octostache, "the same path" is
  // the same spelling (case-sensitive) at the same position of its template, so resolution may
  // go round once more through another spelling or place before the loop is caught; the depth
  // bound is a backstop for values built at run time (JSON), which Octostache does not have.
  void EnterSymbol(const Symbol& symbol) {
    std::string printed = octostache::Print(symbol);
    for (const Entry& e : stack) {
      if (e.offset == symbol.offset && e.printed == printed) {
        ++cycles_seen;
        std::string chain;
        for (const Entry& x : stack) chain += x.printed + " -> ";
        throw CycleError{"An attempt to parse the variable symbol \"" + printed +
                         "\" appears to have resulted in a self referencing loop (" + chain +
                         printed +
                         "). Ensure that recursive loops do not exist in the variable values."};
      }
    }
    if (stack.size() >= kMaxDepth) {
      ++cycles_seen;
      throw CycleError{"Resolving the variable symbol \"" + printed + "\" went deeper than " +
                       std::to_string(kMaxDepth) +
                       " levels. Ensure that recursive loops do not exist in the variable values."};
    }
    stack.push_back(Entry{std::move(printed), symbol.offset});
  }

  struct StackGuard {
    std::vector<Entry>& stack;
    ~StackGuard() { stack.pop_back(); }
  };

  // Octostache's WalkTo: follows the path in this scope, then in each enclosing one.
  std::optional<Found> Walk(const Scope& scope, const Symbol& symbol, Collector& c) {
    if (symbol.steps.empty()) return Found{};
    EnterSymbol(symbol);
    StackGuard guard{stack};
    const Symbol* path = &symbol;
    Symbol resolved;
    if (HasSymbolIndex(symbol)) {
      resolved = ResolveIndexers(scope, symbol);
      path = &resolved;
    }
    for (const Scope* s = &scope; s != nullptr; s = s->parent) {
      const Node* node = nullptr;
      bool stop = false;
      if (WalkIn(*s, *path, node, stop)) return Finish(*s, node, c);
      if (stop) return std::nullopt;
    }
    return std::nullopt;
  }

  static bool HasSymbolIndex(const Symbol& s) {
    for (const Step& step : s.steps) {
      if (step.kind == Step::Kind::kSymbolIndex) return true;
    }
    return false;
  }

  // `[#{Name}]` becomes `[value of Name]`; an unknown or valueless Name stays, and then matches
  // nothing.
  Symbol ResolveIndexers(const Scope& scope, const Symbol& symbol) {
    Symbol out = symbol;
    for (Step& step : out.steps) {
      if (step.kind != Step::Kind::kSymbolIndex) continue;
      Collector discarded;
      auto found = Walk(scope, *step.symbol, discarded);
      if (found && found->value) {
        step.kind = Step::Kind::kIndex;
        step.text = *found->value;
        step.symbol = nullptr;
      }
    }
    return out;
  }

  bool WalkIn(const Scope& scope, const Symbol& path, const Node*& node, bool& stop) {
    const Node* at = scope.root;
    for (const Step& step : path.steps) {
      const Node* next = nullptr;
      if (step.kind == Step::Kind::kSymbolIndex) {
        stop = true;
        return false;
      }
      if (step.kind == Step::Kind::kIdentifier) {
        next = at->Child(step.text);
      } else if (step.text == "*" && !at->indexed.empty()) {
        next = at->indexed.front();
      } else {
        next = at->Index(step.text);
      }
      if (next == nullptr) next = JsonStep(scope, at, step.text);
      if (next == nullptr) return false;
      at = next;
    }
    node = at;
    return true;
  }

  // A path that runs past a variable whose value is JSON continues inside the JSON.
  const Node* JsonStep(const Scope& scope, const Node* parent, const std::string& property) {
    if (!parent->value || parent->value->empty() || property.empty()) return nullptr;
    std::string text = *parent->value;
    if (text.find("#{") != std::string::npos) {
      try {
        Collector discarded;
        text = EvaluateValue(scope, text, discarded);
      } catch (const CycleError&) {
        return nullptr;
      }
    }
    auto json = octostache::ParseLooseJson(text);
    if (!json) return nullptr;
    const octostache::JsonValue* member = nullptr;
    if (json->kind == octostache::JsonValue::Kind::kObject) {
      member = json->Member(property);
    } else if (json->kind == octostache::JsonValue::Kind::kArray) {
      auto index = core::ParseInt(property);
      if (!index) return nullptr;
      if (*index >= 0 && static_cast<size_t>(*index) < json->items.size()) {
        member = &json->items[*index];
      }
    } else {
      return nullptr;
    }
    // A missing property, a null and an index past the end all read as "".
    return Scratch(member ? octostache::JsonText(*member).value_or("") : "");
  }

  std::optional<Found> Finish(const Scope& scope, const Node* node, Collector& c) {
    if (!node->value) return Found{node, std::nullopt, false};
    const std::string& raw = *node->value;
    if (raw.find("#{") == std::string::npos) return Found{node, raw, true};
    bool memoizable = scope.parent == nullptr && node->from_dictionary;
    if (memoizable) {
      auto it = memo.find(node);
      if (it != memo.end()) {
        c.unresolved.insert(c.unresolved.end(), it->second.unresolved.begin(),
                            it->second.unresolved.end());
        return Found{node, it->second.value, true};
      }
    }
    auto parsed = Parse(raw, true);
    if (!parsed->tokens) return Found{node, raw, false};
    uint64_t cycles_before = cycles_seen;
    bool clock_before = used_clock;
    used_clock = false;
    Collector inner;  // a nested `#{ | null}` does not null the outer result
    std::string out;
    EvalTokens(*parsed->tokens, scope, out, inner);
    c.unresolved.insert(c.unresolved.end(), inner.unresolved.begin(), inner.unresolved.end());
    if (memoizable && cycles_seen == cycles_before && !used_clock) {
      memo.emplace(node, Memo{out, inner.unresolved});
    }
    used_clock = used_clock || clock_before;
    return Found{node, std::move(out), true};
  }

  std::string EvaluateValue(const Scope& scope, const std::string& text, Collector& c) {
    auto parsed = Parse(text, true);
    if (!parsed->tokens) return text;
    std::string out;
    EvalTokens(*parsed->tokens, scope, out, c);
    return out;
  }

  std::optional<std::string> ResolveOptional(const Scope& scope, const Symbol& s, Collector& c) {
    auto found = Walk(scope, s, c);
    if (!found) return std::nullopt;
    return found->value;
  }

  // The items of `#{each x in Collection}`: indexed children, else the value's JSON array
  // elements or object properties, else its comma-separated parts.
  std::vector<const Node*> Items(const Scope& scope, const Symbol& collection, Collector& c) {
    auto found = Walk(scope, collection, c);
    if (!found) return {};
    if (!found->evaluated && found->node != nullptr && !found->node->indexed.empty()) {
      return found->node->indexed.Nodes();
    }
    if (!found->value) return {};
    const std::string& text = *found->value;
    std::vector<const Node*> items;
    auto json = octostache::ParseLooseJson(text);
    if (json && json->kind == octostache::JsonValue::Kind::kArray) {
      for (const auto& item : json->items) {
        items.push_back(Scratch(octostache::JsonText(item).value_or("")));
      }
      return items;
    }
    if (json && json->kind == octostache::JsonValue::Kind::kObject) {
      for (const auto& [key, value] : json->members) {
        Node* item = Scratch(key);
        item->children.Add("Key", Scratch(key));
        item->children.Add("Value", Scratch(octostache::JsonText(value).value_or("")));
        items.push_back(item);
      }
      return items;
    }
    size_t start = 0;
    while (true) {
      size_t comma = text.find(',', start);
      items.push_back(Scratch(text.substr(start, comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return items;
  }

  // --- evaluation -----------------------------------------------------------------------------

  void EvalTokens(const Tokens& tokens, const Scope& scope, std::string& out, Collector& c) {
    for (const Token& t : tokens) EvalToken(t, scope, out, c);
  }

  void Unresolved(std::string text, std::string& out, Collector& c) {
    out += text;
    c.unresolved.push_back(std::move(text));
  }

  void EvalToken(const Token& t, const Scope& scope, std::string& out, Collector& c) {
    switch (t.kind) {
      case Token::Kind::kText:
        out += t.text;
        return;
      case Token::Kind::kSubstitution: {
        auto value = Calculate(*t.expression, scope, c);
        if (value) {
          out += *value;
          return;
        }
        const auto& filters = t.expression->filters;
        if (!filters.empty() && filters.back().name == "null") {
          c.null_result = true;
          out += octostache::Print(t);
          return;
        }
        Unresolved(octostache::Print(t), out, c);
        return;
      }
      case Token::Kind::kConditional:
        EvalConditional(t, scope, out, c);
        return;
      case Token::Kind::kRepetition: {
        const auto& r = *t.repetition;
        std::vector<const Node*> items = Items(scope, r.collection, c);
        for (size_t i = 0; i < items.size(); ++i) {
          Node* locals = NewNode(scratch);
          locals->children.Add(r.enumerator, items[i]);
          Node* each = NewNode(scratch);
          each->children.Add("Index", Scratch(std::to_string(i)));
          each->children.Add("First", Scratch(i == 0 ? "True" : "False"));
          each->children.Add("Last", Scratch(i + 1 == items.size() ? "True" : "False"));
          Node* tmpl = NewNode(scratch);
          tmpl->children.Add("Each", each);
          Node* octopus = NewNode(scratch);
          octopus->children.Add("Template", tmpl);
          locals->children.Add("Octopus", octopus);
          Scope inner{locals, &scope};
          EvalTokens(r.body, inner, out, c);
        }
        return;
      }
      case Token::Kind::kCalculation: {
        auto value = Compute(*t.calc, scope, c);
        if (value) {
          out += octostache::FormatDouble(*value);
        } else {
          // Octostache echoes this silently; Cuttle reports it like any unresolved token.
          Unresolved(octostache::Print(t), out, c);
        }
        return;
      }
    }
  }

  // One side of a condition: a bare path reads as "" when unknown; a filtered one may fail.
  std::optional<std::string> Side(const Expression& e, const Scope& scope, Collector& c) {
    if (e.filters.empty()) return ResolveOptional(scope, e.symbol, c).value_or("");
    return Calculate(e, scope, c);
  }

  void EvalConditional(const Token& t, const Scope& scope, std::string& out, Collector& c) {
    const auto& cond = t.conditional->condition;
    auto left = Side(cond.left, scope, c);
    if (!left) {
      out += octostache::Print(t);
      c.unresolved.push_back(octostache::Print(cond.left));
      return;
    }
    bool take = false;
    switch (cond.kind) {
      case Condition::Kind::kTruthy:
        take = IsTruthy(*left);
        break;
      case Condition::Kind::kCompareText:
        take = (*left == cond.text) == cond.equal;
        break;
      case Condition::Kind::kCompareExpression: {
        auto right = Side(cond.right, scope, c);
        if (!right) {
          out += octostache::Print(t);
          c.unresolved.push_back(octostache::Print(cond.right));
          return;
        }
        take = (*left == *right) == cond.equal;
        break;
      }
    }
    EvalTokens(take ? t.conditional->truthy : t.conditional->falsy, scope, out, c);
  }

  std::optional<std::string> Calculate(const Expression& e, const Scope& scope, Collector& c) {
    std::optional<std::string> value = ResolveOptional(scope, e.symbol, c);
    for (const auto& filter : e.filters) {
      std::vector<std::string> options;
      options.reserve(filter.options.size());
      for (const Token& o : filter.options) {
        if (o.kind == Token::Kind::kText) {
          options.push_back(o.text);
        } else {
          std::string text;
          EvalToken(o, scope, text, c);
          options.push_back(std::move(text));
        }
      }
      if (NoCaseEqual()(filter.name, "nowdate") || NoCaseEqual()(filter.name, "nowdateutc")) {
        used_clock = true;
      }
      value = octostache::ApplyFilter(filter.name, value, options, filter_context);
    }
    return value;
  }

  std::optional<double> Compute(const Calc& calc, const Scope& scope, Collector& c) {
    switch (calc.kind) {
      case Calc::Kind::kConstant:
        return calc.constant;
      case Calc::Kind::kVariable: {
        auto text = ResolveOptional(scope, calc.variable, c);
        if (!text) return std::nullopt;
        return octostache::ParseCultureDouble(*text);
      }
      case Calc::Kind::kOperation: {
        auto l = Compute(*calc.left, scope, c);
        if (!l) return std::nullopt;
        auto r = Compute(*calc.right, scope, c);
        if (!r) return std::nullopt;
        switch (calc.op) {
          case '+':
            return *l + *r;
          case '-':
            return *l - *r;
          case '*':
            return *l * *r;
          default:
            return *l / *r;
        }
      }
    }
    return std::nullopt;
  }

  // --- the public calls -----------------------------------------------------------------------

  void BeginCall() {
    scratch.clear();
    stack.clear();
    int64_t now =
        core::ToUnixMillis((options.clock ? options.clock : &core::SystemClock::Instance())->Now());
    filter_context.now_unix_millis = now;
    filter_context.local_offset_minutes = options.local_utc_offset
                                              ? static_cast<int>(options.local_utc_offset->count())
                                              : SystemOffsetMinutes(now);
  }

  Result<std::string> Run(std::string_view tmpl, EvalReport* report) {
    EvalReport local;
    EvalReport& r = report ? *report : local;
    r = EvalReport{};
    if (tmpl.find("#{") == std::string_view::npos) return std::string(tmpl);
    BeginCall();
    auto parsed = Parse(tmpl, options.halt_on_parse_error);
    if (!parsed->tokens) {
      r.parse_error = parsed->error;
      return std::string(tmpl);
    }
    Collector c;
    std::string out;
    try {
      EvalTokens(*parsed->tokens, Scope{root, nullptr}, out, c);
    } catch (const CycleError& e) {
      return std::unexpected(Error::InvalidArgument(e.message));
    }
    for (std::string& u : c.unresolved) {
      if (std::find(r.unresolved.begin(), r.unresolved.end(), u) == r.unresolved.end()) {
        r.unresolved.push_back(std::move(u));
      }
    }
    r.null_result = c.null_result;
    if (c.null_result) return std::string();
    return out;
  }

  struct Memo {
    std::string value;
    std::vector<std::string> unresolved;
  };

  const VariableDictionary& variables;
  EvalOptions options;
  std::deque<Node> tree;     // the dictionary's nodes
  std::deque<Node> scratch;  // nodes made during one call: JSON values, loop items, loop scopes
  Node* root = nullptr;
  ParseCache parsed_halting, parsed_continuing;
  std::unordered_map<const Node*, Memo> memo;  // dictionary values evaluated at the top scope
  std::vector<Entry> stack;                    // the paths being resolved, outermost first
  uint64_t cycles_seen = 0;
  bool used_clock = false;
  octostache::FilterContext filter_context;
};

Evaluator::Evaluator(const VariableDictionary& variables, EvalOptions options)
    : impl_(std::make_unique<Impl>(variables, options)) {}

Evaluator::~Evaluator() = default;

Result<std::string> Evaluator::Evaluate(std::string_view tmpl, EvalReport* report) {
  return impl_->Run(tmpl, report);
}

Result<std::string> Evaluator::EvaluateVariable(std::string_view name, EvalReport* report) {
  const Variable* v = impl_->variables.Find(name);
  if (v == nullptr) return std::unexpected(Error::NotFound("variable", name));
  return impl_->Run(v->value, report);
}

Result<bool> Evaluator::EvaluateFlag(std::string_view name, bool default_value) {
  if (impl_->variables.Find(name) == nullptr) return default_value;
  auto value = EvaluateVariable(name);
  if (!value) return std::unexpected(value.error());
  std::string_view t = TrimAscii(*value);
  if (NoCaseEqual()(t, "true")) return true;
  if (NoCaseEqual()(t, "false")) return false;
  return default_value;
}

Result<std::optional<int>> Evaluator::EvaluateInt32(std::string_view name) {
  if (impl_->variables.Find(name) == nullptr) return std::optional<int>();
  auto value = EvaluateVariable(name);
  if (!value) return std::unexpected(value.error());
  std::string_view t = TrimAscii(*value);
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  auto n = core::ParseInt(t);
  if (!n || *n < INT32_MIN || *n > INT32_MAX) return std::optional<int>();
  return std::optional<int>(static_cast<int>(*n));
}

Result<bool> Evaluator::EvaluateTruthy(std::string_view tmpl) {
  EvalReport report;
  auto value = impl_->Run(tmpl, &report);
  if (!value) return std::unexpected(value.error());
  return report.ok() && !report.null_result && IsTruthy(*value);
}

Result<std::string> Evaluate(std::string_view tmpl, const VariableDictionary& variables,
                             EvalReport* report, const EvalOptions& options) {
  if (tmpl.find("#{") == std::string_view::npos) {
    if (report) *report = EvalReport{};
    return std::string(tmpl);
  }
  return Evaluator(variables, options).Evaluate(tmpl, report);
}

Result<std::string> EvaluateVariable(std::string_view name, const VariableDictionary& variables,
                                     EvalReport* report, const EvalOptions& options) {
  return Evaluator(variables, options).EvaluateVariable(name, report);
}

Result<bool> EvaluateTruthy(std::string_view tmpl, const VariableDictionary& variables,
                            const EvalOptions& options) {
  return Evaluator(variables, options).EvaluateTruthy(tmpl);
}

}  // namespace cuttle::engine
