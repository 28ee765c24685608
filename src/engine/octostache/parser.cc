// The Octostache grammar as a hand-written recursive-descent parser. Octostache itself is built
// from parser combinators, and several of its observable behaviours come from how they backtrack
// (an alternative that succeeds is never revisited; a list stops at its first failing item and
// gives that item's input back). Each function below mirrors one rule of that grammar and says
// where it departs from the obvious reading. A failing function records in fail_ how far it got,
// which decides how much text a non-halting parse keeps verbatim (§5.3).
#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "engine/octostache/number_format.h"
#include "engine/octostache/template.h"

namespace cuttle::engine::octostache {
namespace {

bool IsWs(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Letters and digits, including every non-ASCII byte (a UTF-8 sequence is taken as a letter).
bool IsIdentifierChar(char c, bool allow_ws) {
  unsigned char u = static_cast<unsigned char>(c);
  if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u >= 0x80) {
    return true;
  }
  if (allow_ws && IsWs(c)) return true;
  return std::strchr("_-:/~()@", c) != nullptr && c != '\0';
}

std::string_view Trimmed(std::string_view s) {
  while (!s.empty() && IsWs(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWs(s.back())) s.remove_suffix(1);
  return s;
}

Token TextToken(std::string text) {
  Token t;
  t.kind = Token::Kind::kText;
  t.text = std::move(text);
  return t;
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s), n_(s.size()) {}

  size_t fail() const { return fail_; }
  bool too_deep() const { return too_deep_; }

  // Template := Token*  (the body kinds stop before their closing keywords)
  enum class Body { kPlain, kIf, kUnless };
  void Many(size_t& p, Body body, Tokens& out) {
    size_t end = ManyEnd(p, body);
    while (p < end) {
      const Parsed& step = TokenAt(p);
      AppendToken(out, step.token);
      p = step.next;
    }
    fail_ = end_fail_;
  }

  // Where a list of tokens starting at p stops. A block that fails (an `#{if}` without its
  // `#{/if}`) is retried from each later position once the text after it parses, and scanning its
  // body again every time takes quadratic time or worse; so each position's token and each
  // list's end are worked out once (packrat parsing), and token lists are built only for the
  // blocks that succeed.
  size_t ManyEnd(size_t p, Body body) {
    auto& ends = ends_[static_cast<int>(body)];
    std::vector<size_t> path;
    size_t q = p;
    while (true) {
      if (auto it = ends.find(q); it != ends.end()) {
        q = it->second;
        break;
      }
      if (q >= n_ || (body != Body::kPlain && At(q, "#{else}")) ||
          (body == Body::kIf && AtElseIf(q))) {
        break;
      }
      const Parsed& step = TokenAt(q);
      if (!step.ok) break;
      path.push_back(q);
      q = step.next;
    }
    for (size_t x : path) ends[x] = q;
    end_fail_ = q < n_ ? TokenAt(q).fail : n_;
    return q;
  }

  struct Parsed {
    bool ok = false;
    size_t next = 0;  // after the token
    size_t fail = 0;  // where parsing gave up, when !ok
    Token token;
  };

  const Parsed& TokenAt(size_t p) {
    auto it = tokens_.find(p);
    if (it != tokens_.end()) return it->second;
    Parsed parsed;
    size_t q = p;
    parsed.ok = ParseToken(q, parsed.token);
    parsed.next = q;
    parsed.fail = fail_;
    return tokens_.emplace(p, std::move(parsed)).first->second;
  }

  // Token := Conditional | Calculation | Repetition | Substitution | Text
  bool ParseToken(size_t& p, Token& out) {
    Nested guard(depth_);
    if (TooDeep()) return Fail(p);
    size_t best = p;
    size_t q = p;
    if (ParseConditional(q, out)) return Commit(p, q);
    best = std::max(best, fail_);
    q = p;
    if (ParseCalculation(q, out)) return Commit(p, q);
    best = std::max(best, fail_);
    q = p;
    if (ParseRepetition(q, out)) return Commit(p, q);
    best = std::max(best, fail_);
    q = p;
    if (ParseSubstitution(q, out)) return Commit(p, q);
    best = std::max(best, fail_);
    q = p;
    if (ParseText(q, out)) return Commit(p, q);
    best = std::max(best, fail_);
    return Fail(best);
  }

  // The token at p, remembered.
  bool Next(size_t& p, Token& out) {
    const Parsed& step = TokenAt(p);
    if (!step.ok) return Fail(step.fail);
    out = step.token;
    p = step.next;
    return true;
  }

  // Path := Identifier ('.' Identifier | Indexer)*
  bool ParseSymbol(size_t& p, Symbol& out) {
    out.offset = p;
    std::string first;
    if (!ParseIdentifier(p, true, first)) return false;
    out.steps.clear();
    out.steps.push_back(Step{Step::Kind::kIdentifier, std::move(first), nullptr});
    while (p < n_) {
      size_t q = p;
      if (s_[q] == '.') {
        ++q;
        std::string id;
        if (!ParseIdentifier(q, true, id)) break;
        out.steps.push_back(Step{Step::Kind::kIdentifier, std::move(id), nullptr});
        p = q;
        continue;
      }
      Step step;
      if (!ParseIndexer(q, step)) break;
      out.steps.push_back(std::move(step));
      p = q;
    }
    return true;
  }

 private:
  bool Fail(size_t at) {
    fail_ = at;
    return false;
  }

  static bool Commit(size_t& p, size_t q) {
    p = q;
    return true;
  }

  bool At(size_t p, std::string_view lit) const {
    return p <= n_ && s_.substr(p, lit.size()) == lit;
  }
  bool AtIgnoreCase(size_t p, std::string_view lit) const {
    if (p + lit.size() > n_) return false;
    for (size_t i = 0; i < lit.size(); ++i) {
      char c = s_[p + i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != lit[i]) return false;
    }
    return true;
  }
  // Matches `lit` exactly, recording the first mismatching position on failure.
  bool Literal(size_t& p, std::string_view lit) {
    size_t k = 0;
    while (k < lit.size() && p + k < n_ && s_[p + k] == lit[k]) ++k;
    if (k < lit.size()) return Fail(p + k);
    p += k;
    return true;
  }
  bool Char(size_t& p, char c) {
    if (p < n_ && s_[p] == c) {
      ++p;
      return true;
    }
    return Fail(p);
  }
  void SkipWs(size_t& p) const {
    while (p < n_ && IsWs(s_[p])) ++p;
  }
  // Octostache's look-ahead refuses to look at the input's final characters; kept because it
  // decides whether a space before a closing `}` at the very end belongs to an identifier.
  bool FollowedBy(size_t p, std::string_view look) const {
    if (static_cast<long>(p) >= static_cast<long>(n_) - static_cast<long>(look.size())) {
      return false;
    }
    return s_.substr(p, look.size()) == look;
  }
  bool AtElseIf(size_t p) const { return At(p, "#{elseif") && p + 8 < n_ && IsWs(s_[p + 8]); }

  static void AppendToken(Tokens& out, Token t) {
    if (t.kind == Token::Kind::kText && !out.empty() && out.back().kind == Token::Kind::kText) {
      out.back().text += t.text;
      return;
    }
    out.push_back(std::move(t));
  }

  // Identifier := identifier characters, with internal whitespace when allowed; a whitespace
  // character that precedes `|`, `}`, or one of the keywords ` in `, ` == `, ` != ` ends it.
  bool ParseIdentifier(size_t& p, bool allow_ws, std::string& out) {
    size_t q = p;
    while (q < n_) {
      char c = s_[q];
      if (!IsIdentifierChar(c, allow_ws)) break;
      if (IsWs(c)) {
        if (FollowedBy(q + 1, "|") || FollowedBy(q + 1, "}")) break;
        if (BeforeKeyword(q)) break;
      }
      ++q;
    }
    if (q == p) return Fail(p);
    out = std::string(Trimmed(s_.substr(p, q - p)));
    p = q;
    return true;
  }
  bool BeforeKeyword(size_t ws) const {
    for (std::string_view kw : {"in", "==", "!="}) {
      size_t after = ws + 1 + kw.size();
      if (n_ <= after) continue;
      if (!IsWs(s_[after])) continue;
      if (s_.substr(ws + 1, kw.size()) == kw) return true;
    }
    return false;
  }

  // Indexer := '[' Substitution-of-a-path ']' | '[' text and nested [..] ']'
  bool ParseIndexer(size_t& p, Step& out) {
    if (p >= n_ || s_[p] != '[') return Fail(p);
    size_t best = p;
    {
      size_t q = p + 1;
      SkipWs(q);
      Token sub;
      if (ParseSubstitution(q, sub) && sub.expression->filters.empty()) {
        SkipWs(q);
        if (q < n_ && s_[q] == ']') {
          out.kind = Step::Kind::kSymbolIndex;
          out.text.clear();
          out.symbol = std::make_shared<const Symbol>(sub.expression->symbol);
          p = q + 1;
          return true;
        }
        best = std::max(best, q);
      } else {
        best = std::max(best, fail_);
      }
    }
    size_t q = p;
    std::string index;
    if (ParseStringIndex(q, index)) {
      out.kind = Step::Kind::kIndex;
      out.text = std::move(index);
      out.symbol = nullptr;
      p = q;
      return true;
    }
    return Fail(std::max(best, fail_));
  }
  bool ParseStringIndex(size_t& p, std::string& out) {
    Nested guard(depth_);
    if (p >= n_ || s_[p] != '[' || TooDeep()) return Fail(p);
    size_t q = p + 1;
    SkipWs(q);
    std::string acc;
    while (q < n_) {
      if (s_[q] == '[') {
        size_t r = q;
        std::string inner;
        if (!ParseStringIndex(r, inner)) break;
        acc += '[';
        acc += inner;
        acc += ']';
        q = r;
        continue;
      }
      size_t start = q;
      while (q < n_ && s_[q] != '[' && s_[q] != ']') ++q;
      if (q == start) break;
      acc.append(s_.substr(start, q - start));
    }
    if (q >= n_ || s_[q] != ']') return Fail(q);
    p = q + 1;
    out = std::move(acc);
    return true;
  }

  bool LeftDelimiter(size_t& p) {
    if (!At(p, "#{")) return Literal(p, "#{");
    if (At(p, "#{/")) return Fail(p);
    p += 2;
    return true;
  }

  // Substitution := '#{' ws* Expression ws* '}'
  bool ParseSubstitution(size_t& p, Token& out) {
    Nested guard(depth_);
    if (TooDeep()) return Fail(p);
    size_t q = p;
    if (!LeftDelimiter(q)) return false;
    SkipWs(q);
    Expression e;
    if (!ParseExpression(q, e)) return false;
    SkipWs(q);
    if (!Char(q, '}')) return false;
    out = Token{};
    out.kind = Token::Kind::kSubstitution;
    out.expression = std::make_shared<const Expression>(std::move(e));
    p = q;
    return true;
  }

  // Expression := FilterChain | Path
  bool ParseExpression(size_t& p, Expression& out) {
    size_t q = p;
    if (ParseFilterChain(q, out)) return Commit(p, q);
    size_t best = fail_;
    q = p;
    Symbol symbol;
    if (ParseSymbol(q, symbol)) {
      out = Expression{std::move(symbol), {}};
      return Commit(p, q);
    }
    return Fail(std::max(best, fail_));
  }

  // FilterChain := (ws* Path ws*)? ('|' ws* Name ws* Option*)+ ; the '|' must follow at once,
  // so a `#{...}` option (which does not eat the space after it) cannot be followed by a filter.
  bool ParseFilterChain(size_t& p, Expression& out) {
    size_t q = p;
    Expression e;
    {
      size_t r = q;
      SkipWs(r);
      Symbol symbol;
      if (ParseSymbol(r, symbol)) {
        SkipWs(r);
        e.symbol = std::move(symbol);
        q = r;
      }
    }
    while (true) {
      if (q >= n_ || s_[q] != '|') {
        if (e.filters.empty()) return Fail(q);
        break;
      }
      size_t r = q + 1;
      SkipWs(r);
      Expression::Filter filter;
      if (!ParseIdentifier(r, false, filter.name)) {
        if (e.filters.empty()) return false;
        break;
      }
      SkipWs(r);
      while (true) {
        size_t t = r;
        Token option;
        if (!ParseOption(t, option)) break;
        filter.options.push_back(std::move(option));
        r = t;
      }
      e.filters.push_back(std::move(filter));
      q = r;
    }
    out = std::move(e);
    p = q;
    return true;
  }

  // Option := Conditional | Calculation | Repetition | Substitution
  //         | ws* word ws* | ws* "text" ws* | ws* \"text\" ws*
  bool ParseOption(size_t& p, Token& out) {
    size_t q = p;
    if (ParseConditional(q, out) || (q = p, ParseCalculation(q, out)) ||
        (q = p, ParseRepetition(q, out)) || (q = p, ParseSubstitution(q, out))) {
      return Commit(p, q);
    }
    std::string text;
    q = p;
    SkipWs(q);
    if (ParseIdentifier(q, false, text)) {
      SkipWs(q);
      out = TextToken(std::move(text));
      return Commit(p, q);
    }
    q = p;
    if (ParseQuoted(q, text) || (q = p, ParseEscapedQuoted(q, text))) {
      out = TextToken(std::move(text));
      return Commit(p, q);
    }
    return false;
  }
  // "text": no '"' and no '#' inside.
  bool ParseQuoted(size_t& p, std::string& out) {
    size_t q = p;
    SkipWs(q);
    if (!Char(q, '"')) return false;
    size_t start = q;
    while (q < n_ && s_[q] != '"' && s_[q] != '#') ++q;
    size_t end = q;
    if (!Char(q, '"')) return false;
    SkipWs(q);
    out = std::string(s_.substr(start, end - start));
    p = q;
    return true;
  }
  // \"text\": anything up to the next \".
  bool ParseEscapedQuoted(size_t& p, std::string& out) {
    size_t q = p;
    SkipWs(q);
    if (!Literal(q, "\\\"")) return false;
    size_t end = s_.find("\\\"", q);
    if (end == std::string_view::npos) return Fail(n_);
    out = std::string(s_.substr(q, end - q));
    q = end + 2;
    SkipWs(q);
    p = q;
    return true;
  }

  // Conditional := '#{' ws* (if|unless) ws+ Condition ws* '}' Body Elseif* ('#{else}' Template)?
  //                '#{/if}' | '#{/unless}'
  bool ParseConditional(size_t& p, Token& out) {
    size_t q = p;
    if (!LeftDelimiter(q)) return false;
    SkipWs(q);
    bool is_if;
    if (AtIgnoreCase(q, "if")) {
      is_if = true;
      q += 2;
    } else if (AtIgnoreCase(q, "unless")) {
      is_if = false;
      q += 6;
    } else {
      return Fail(q);
    }
    if (q >= n_ || !IsWs(s_[q])) return Fail(q);
    SkipWs(q);
    Condition condition;
    if (!ParseCondition(q, condition)) return false;
    SkipWs(q);
    if (!Char(q, '}')) return false;
    Tokens truthy;
    Many(q, is_if ? Body::kIf : Body::kUnless, truthy);
    std::vector<std::pair<Condition, Tokens>> elseifs;
    while (is_if && AtElseIf(q)) {
      size_t r = q + 9;
      Condition c;
      if (!ParseCondition(r, c)) break;
      SkipWs(r);
      if (!Char(r, '}')) break;
      Tokens body;
      Many(r, Body::kIf, body);
      elseifs.emplace_back(std::move(c), std::move(body));
      q = r;
    }
    Tokens otherwise;
    if (At(q, "#{else}")) {
      q += 7;
      Many(q, Body::kPlain, otherwise);
    }
    if (!Literal(q, is_if ? "#{/if}" : "#{/unless}")) return false;
    // An elseif chain is nested conditionals in the else branch, as Octostache desugars it.
    for (auto it = elseifs.rbegin(); it != elseifs.rend(); ++it) {
      Token nested =
          MakeConditional(std::move(it->first), std::move(it->second), std::move(otherwise));
      otherwise = Tokens{};
      otherwise.push_back(std::move(nested));
    }
    out = is_if ? MakeConditional(std::move(condition), std::move(truthy), std::move(otherwise))
                : MakeConditional(std::move(condition), std::move(otherwise), std::move(truthy));
    p = q;
    return true;
  }
  static Token MakeConditional(Condition c, Tokens truthy, Tokens falsy) {
    Token t;
    t.kind = Token::Kind::kConditional;
    t.conditional = std::make_shared<const Conditional>(
        Conditional{std::move(c), std::move(truthy), std::move(falsy)});
    return t;
  }

  bool ParseEquality(size_t& p, bool& equal) {
    SkipWs(p);
    if (At(p, "==")) {
      equal = true;
    } else if (At(p, "!=")) {
      equal = false;
    } else {
      return Fail(p);
    }
    p += 2;
    SkipWs(p);
    return true;
  }
  bool ParseLiteral(size_t& p, std::string& out) {
    size_t q = p;
    if (ParseQuoted(q, out)) return Commit(p, q);
    size_t best = fail_;
    q = p;
    if (ParseEscapedQuoted(q, out)) return Commit(p, q);
    return Fail(std::max(best, fail_));
  }
  // Condition := Expr (==|!=) Expr | "text" (==|!=) Expr | Expr (==|!=) "text" | Expr,
  // tried in that order; the first that parses is kept.
  bool ParseCondition(size_t& p, Condition& out) {
    size_t best = p;
    auto expression = [&](size_t& q, Expression& e) {
      SkipWs(q);
      if (!ParseExpression(q, e)) return false;
      SkipWs(q);
      return true;
    };
    {
      size_t q = p;
      Condition c;
      c.kind = Condition::Kind::kCompareExpression;
      if (expression(q, c.left) && ParseEquality(q, c.equal) && expression(q, c.right)) {
        out = std::move(c);
        return Commit(p, q);
      }
      best = std::max(best, fail_);
    }
    {
      size_t q = p;
      Condition c;
      c.kind = Condition::Kind::kCompareText;
      SkipWs(q);
      if (ParseLiteral(q, c.text) && ParseEquality(q, c.equal) && expression(q, c.left)) {
        out = std::move(c);
        return Commit(p, q);
      }
      best = std::max(best, fail_);
    }
    {
      size_t q = p;
      Condition c;
      c.kind = Condition::Kind::kCompareText;
      if (expression(q, c.left) && ParseEquality(q, c.equal) && ParseLiteral(q, c.text)) {
        SkipWs(q);
        out = std::move(c);
        return Commit(p, q);
      }
      best = std::max(best, fail_);
    }
    size_t q = p;
    Condition c;
    if (expression(q, c.left)) {
      out = std::move(c);
      return Commit(p, q);
    }
    return Fail(std::max(best, fail_));
  }

  // Repetition := '#{' ws* each ws+ Identifier ws* in ws* Path ws* '}' Template '#{/each}'
  bool ParseRepetition(size_t& p, Token& out) {
    size_t q = p;
    if (!LeftDelimiter(q)) return false;
    SkipWs(q);
    if (!AtIgnoreCase(q, "each")) return Fail(q);
    q += 4;
    if (q >= n_ || !IsWs(s_[q])) return Fail(q);
    SkipWs(q);
    Repetition r;
    if (!ParseIdentifier(q, true, r.enumerator)) return false;
    SkipWs(q);
    if (!AtIgnoreCase(q, "in")) return Fail(q);
    q += 2;
    SkipWs(q);
    if (!ParseSymbol(q, r.collection)) return false;
    SkipWs(q);
    if (!Char(q, '}')) return false;
    Many(q, Body::kPlain, r.body);
    if (!Literal(q, "#{/each}")) return false;
    out = Token{};
    out.kind = Token::Kind::kRepetition;
    out.repetition = std::make_shared<const Repetition>(std::move(r));
    p = q;
    return true;
  }

  // Calculation := '#{' ws* calc ws+ Sum ws* '}'
  bool ParseCalculation(size_t& p, Token& out) {
    size_t q = p;
    if (!LeftDelimiter(q)) return false;
    SkipWs(q);
    if (!AtIgnoreCase(q, "calc")) return Fail(q);
    q += 4;
    if (q >= n_ || !IsWs(s_[q])) return Fail(q);
    SkipWs(q);
    std::shared_ptr<const Calc> calc;
    if (!ParseSum(q, calc)) return false;
    SkipWs(q);
    if (!Char(q, '}')) return false;
    out = Token{};
    out.kind = Token::Kind::kCalculation;
    out.calc = std::move(calc);
    p = q;
    return true;
  }
  // Sum := Product (ws* [+-] ws* Product)* ; Product := Factor (ws* [*/] ws* Factor)*
  bool ParseChain(size_t& p, std::shared_ptr<const Calc>& out, const char* ops, bool sum) {
    std::shared_ptr<const Calc> left;
    if (!(sum ? ParseChain(p, left, "*/", false) : ParseFactor(p, left))) return false;
    while (true) {
      size_t q = p;
      SkipWs(q);
      if (q >= n_ || std::strchr(ops, s_[q]) == nullptr) break;
      char op = s_[q++];
      SkipWs(q);
      std::shared_ptr<const Calc> right;
      if (!(sum ? ParseChain(q, right, "*/", false) : ParseFactor(q, right))) break;
      auto node = std::make_shared<Calc>();
      node->kind = Calc::Kind::kOperation;
      node->op = op;
      node->left = std::move(left);
      node->right = std::move(right);
      left = std::move(node);
      p = q;
    }
    out = std::move(left);
    return true;
  }
  bool ParseSum(size_t& p, std::shared_ptr<const Calc>& out) {
    return ParseChain(p, out, "+-", true);
  }
  // Factor := '(' Sum ')' | Value, where a '(' that does not open a whole group fails the factor
  // (the grammar does not then retry the '(' as part of a name).
  bool ParseFactor(size_t& p, std::shared_ptr<const Calc>& out) {
    Nested guard(depth_);
    if (TooDeep()) return Fail(p);
    if (p < n_ && s_[p] == '(') {
      size_t q = p + 1;
      if (!ParseSum(q, out)) return false;
      if (!Char(q, ')')) return false;
      p = q;
      return true;
    }
    return ParseValue(p, out);
  }
  // Value := Decimal | '{' ws* Path ws* '}' | ws* Path ws*, each committed once it consumed input.
  bool ParseValue(size_t& p, std::shared_ptr<const Calc>& out) {
    size_t q = p;
    bool consumed = false;
    double value;
    if (ParseDecimal(q, value, consumed)) {
      auto node = std::make_shared<Calc>();
      node->kind = Calc::Kind::kConstant;
      node->constant = value;
      out = std::move(node);
      return Commit(p, q);
    }
    if (consumed) return false;
    auto node = std::make_shared<Calc>();
    node->kind = Calc::Kind::kVariable;
    q = p;
    if (q < n_ && s_[q] == '{') {
      ++q;
      SkipWs(q);
      if (!ParseSymbol(q, node->variable)) return false;
      SkipWs(q);
      if (!Char(q, '}')) return false;
      out = std::move(node);
      return Commit(p, q);
    }
    SkipWs(q);
    if (!ParseSymbol(q, node->variable)) return false;
    SkipWs(q);
    out = std::move(node);
    return Commit(p, q);
  }
  // Decimal := digits ('.' digits)? | '.' digits
  bool ParseDecimal(size_t& p, double& value, bool& consumed) {
    size_t q = p;
    auto digits = [&](size_t& r) {
      size_t start = r;
      while (r < n_ && s_[r] >= '0' && s_[r] <= '9') ++r;
      return r > start;
    };
    bool leading = digits(q);
    if (q < n_ && s_[q] == '.') {
      ++q;
      if (!digits(q)) {
        consumed = true;
        return Fail(q);
      }
    } else if (!leading) {
      return Fail(p);
    }
    auto parsed = ParseInvariantDouble(s_.substr(p, q - p));
    if (!parsed) return Fail(p);
    value = *parsed;
    p = q;
    return true;
  }

  // Text := (any char but '#' | '#' at the end | '##' before '#{' (one '#') | '##{' (a literal
  // '#{') | '#' and any char but '{')+
  bool ParseText(size_t& p, Token& out) {
    size_t q = p;
    std::string acc;
    while (q < n_) {
      size_t hash = s_.find('#', q);
      if (hash == std::string_view::npos) hash = n_;
      acc.append(s_.substr(q, hash - q));
      q = hash;
      if (q >= n_) break;
      if (q + 1 == n_) {
        acc += '#';
        ++q;
      } else if (At(q, "##") && FollowedBy(q + 2, "#{")) {
        acc += '#';
        q += 2;
      } else if (At(q, "##{")) {
        acc += "#{";
        q += 3;
      } else if (s_[q + 1] != '{') {
        acc += '#';
        acc += s_[q + 1];
        q += 2;
      } else {
        break;
      }
    }
    if (q == p) return Fail(p + 1);
    out = TextToken(std::move(acc));
    p = q;
    return true;
  }

  // Nesting deeper than this fails the whole template rather than exhausting the stack. (A
  // whole-template failure keeps the remembered tokens valid: a depth-limited failure remembered
  // at one depth would be wrong at a shallower one.)
  static constexpr int kMaxNesting = 100;
  bool TooDeep() {
    if (depth_ > kMaxNesting) too_deep_ = true;
    return too_deep_;
  }
  struct Nested {
    explicit Nested(int& d) : depth(d) { ++depth; }
    ~Nested() { --depth; }
    int& depth;
  };

  std::string_view s_;
  size_t n_;
  size_t fail_ = 0;
  int depth_ = 0;
  bool too_deep_ = false;
  std::unordered_map<size_t, Parsed> tokens_;
  std::unordered_map<size_t, size_t> ends_[3];  // by Body
  size_t end_fail_ = 0;
};

std::string Describe(std::string_view text, size_t at) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < at && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  std::string what = at < text.size() ? "unexpected '" + std::string(1, text[at]) + "'"
                                      : std::string("unexpected end of input");
  return "Parsing failure: " + what + " (Line " + std::to_string(line) + ", Column " +
         std::to_string(column) + ").";
}

void PrintCalc(const Calc& c, std::string& out) {
  switch (c.kind) {
    case Calc::Kind::kConstant:
      out += FormatDouble(c.constant);
      return;
    case Calc::Kind::kVariable:
      out += Print(c.variable);
      return;
    case Calc::Kind::kOperation:
      PrintCalc(*c.left, out);
      out += c.op;
      PrintCalc(*c.right, out);
      return;
  }
}

void AppendWithEscapedHashes(std::string& out, std::string_view text) {
  size_t start = 0;
  while (true) {
    size_t at = text.find("#{", start);
    if (at == std::string_view::npos) break;
    out.append(text.substr(start, at - start));
    out += "##{";
    start = at + 2;
  }
  out.append(text.substr(start));
}

void PrintTo(const Token& t, std::string& out);

void PrintTo(const Tokens& tokens, std::string& out) {
  for (const Token& t : tokens) PrintTo(t, out);
}

void PrintTo(const Expression& e, std::string& out) {
  out += Print(e.symbol);
  for (const auto& f : e.filters) {
    out += " | ";
    out += f.name;
    for (size_t i = 0; i < f.options.size(); ++i) {
      out += ' ';
      const Token& o = f.options[i];
      if (o.kind == Token::Kind::kText) {
        out += '"';
        AppendWithEscapedHashes(out, o.text);
        out += '"';
      } else {
        PrintTo(o, out);
      }
    }
  }
}

void PrintTo(const Token& t, std::string& out) {
  switch (t.kind) {
    case Token::Kind::kText:
      AppendWithEscapedHashes(out, t.text);
      return;
    case Token::Kind::kSubstitution:
      out += "#{";
      PrintTo(*t.expression, out);
      out += '}';
      return;
    case Token::Kind::kConditional: {
      const Conditional& c = *t.conditional;
      out += "#{if ";
      PrintTo(c.condition.left, out);
      const char* op = c.condition.equal ? " == " : " != ";
      if (c.condition.kind == Condition::Kind::kCompareText) {
        out += op;
        out += '"' + c.condition.text + "\" ";
      } else if (c.condition.kind == Condition::Kind::kCompareExpression) {
        out += op;
        PrintTo(c.condition.right, out);
        out += ' ';
      }
      out += '}';
      PrintTo(c.truthy, out);
      if (!c.falsy.empty()) {
        out += "#{else}";
        PrintTo(c.falsy, out);
      }
      out += "#{/if}";
      return;
    }
    case Token::Kind::kRepetition:
      out += "#{each " + t.repetition->enumerator + " in " + Print(t.repetition->collection) + "}";
      PrintTo(t.repetition->body, out);
      out += "#{/each}";
      return;
    case Token::Kind::kCalculation:
      out += "#{";
      PrintCalc(*t.calc, out);
      out += '}';
      return;
  }
}

void SymbolArguments(const Symbol& s, std::vector<std::string>& out) {
  for (const Step& step : s.steps) {
    if (step.kind == Step::Kind::kIdentifier) out.push_back(step.text);
    if (step.kind == Step::Kind::kSymbolIndex) SymbolArguments(*step.symbol, out);
  }
}

void TokenArguments(const Token& t, std::vector<std::string>& out);

void ExpressionArguments(const Expression& e, std::vector<std::string>& out) {
  SymbolArguments(e.symbol, out);
  for (const auto& f : e.filters) {
    for (const Token& o : f.options) TokenArguments(o, out);
  }
}

void CalcArguments(const Calc& c, std::vector<std::string>& out) {
  if (c.kind == Calc::Kind::kVariable) SymbolArguments(c.variable, out);
  if (c.kind == Calc::Kind::kOperation) {
    CalcArguments(*c.left, out);
    CalcArguments(*c.right, out);
  }
}

void TokenArguments(const Token& t, std::vector<std::string>& out) {
  switch (t.kind) {
    case Token::Kind::kText:
      return;
    case Token::Kind::kSubstitution:
      ExpressionArguments(*t.expression, out);
      return;
    case Token::Kind::kConditional: {
      const Condition& c = t.conditional->condition;
      ExpressionArguments(c.left, out);
      if (c.kind == Condition::Kind::kCompareText) out.push_back(c.text);
      if (c.kind == Condition::Kind::kCompareExpression) ExpressionArguments(c.right, out);
      for (const Token& x : t.conditional->truthy) TokenArguments(x, out);
      for (const Token& x : t.conditional->falsy) TokenArguments(x, out);
      return;
    }
    case Token::Kind::kRepetition:
      SymbolArguments(t.repetition->collection, out);
      return;
    case Token::Kind::kCalculation:
      CalcArguments(*t.calc, out);
      return;
  }
}

}  // namespace

ParseResult ParseTemplate(std::string_view text, bool halt_on_error) {
  Parser parser(text);
  Tokens tokens;
  size_t p = 0;
  auto too_deep = [] {
    return ParseResult{std::nullopt,
                       "Parsing failure: the template nests blocks, indexers or "
                       "parentheses more than 100 deep."};
  };
  if (halt_on_error) {
    parser.Many(p, Parser::Body::kPlain, tokens);
    if (parser.too_deep()) return too_deep();
    if (p != text.size()) return ParseResult{std::nullopt, Describe(text, parser.fail())};
    return ParseResult{std::move(tokens), {}};
  }
  // Each fragment that does not parse is kept as text, up to where the parser gave up on it.
  while (p < text.size()) {
    size_t q = p;
    Token t;
    if (parser.Next(q, t)) {
      tokens.push_back(std::move(t));
      p = q;
      continue;
    }
    if (parser.too_deep()) return too_deep();
    size_t end = std::clamp(parser.fail(), p + 1, text.size());
    tokens.push_back(TextToken(std::string(text.substr(p, end - p))));
    p = end;
  }
  if (parser.too_deep()) return too_deep();
  return ParseResult{std::move(tokens), {}};
}

std::optional<Symbol> ParsePath(std::string_view name) {
  Parser parser(name);
  size_t p = 0;
  Symbol symbol;
  if (!parser.ParseSymbol(p, symbol)) return std::nullopt;
  return symbol;
}

std::string Print(const Token& token) {
  std::string out;
  PrintTo(token, out);
  return out;
}

std::string Print(const Tokens& tokens) {
  std::string out;
  PrintTo(tokens, out);
  return out;
}

std::string Print(const Expression& expression) {
  std::string out;
  PrintTo(expression, out);
  return out;
}

std::string Print(const Symbol& symbol) {
  std::string out;
  for (size_t i = 0; i < symbol.steps.size(); ++i) {
    const Step& s = symbol.steps[i];
    switch (s.kind) {
      case Step::Kind::kIdentifier:
        if (i > 0) out += '.';
        out += s.text;
        break;
      case Step::Kind::kIndex:
        out += '[' + s.text + ']';
        break;
      case Step::Kind::kSymbolIndex:
        out += "[#{" + Print(*s.symbol) + "}]";
        break;
    }
  }
  return out;
}

std::vector<std::string> ArgumentNames(const Tokens& tokens) {
  std::vector<std::string> out;
  for (const Token& t : tokens) TokenArguments(t, out);
  return out;
}

}  // namespace cuttle::engine::octostache
