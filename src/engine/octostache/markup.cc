#include "engine/octostache/markup.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace cuttle::engine::octostache {
namespace {

// ---------------------------------------------------------------------------------------------
// Markdown: inlines

void EscapeHtmlTo(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
}

std::string EscapeUrl(std::string_view url) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : url) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '&') {
      out += "&amp;";
    } else if (c == '"') {
      out += "%22";
    } else if (u <= 0x20 || u >= 0x7F || c == '<' || c == '>' || c == '`' || c == '\\') {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

bool IsSpaceChar(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsPunct(char c) { return std::ispunct(static_cast<unsigned char>(c)) != 0; }
bool IsAlnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || static_cast<unsigned char>(c) >= 0x80;
}

class InlineRenderer {
 public:
  std::string Render(std::string_view s, int depth = 0) {
    std::string out;
    size_t i = 0;
    while (i < s.size()) {
      if (depth > 32) {
        EscapeHtmlTo(out, s.substr(i));
        break;
      }
      char c = s[i];
      if (c == '\\' && i + 1 < s.size() && s[i + 1] == '\n') {
        out += "<br />\n";
        i += 2;
        continue;
      }
      if (c == '\\' && i + 1 < s.size() && IsPunct(s[i + 1])) {
        EscapeHtmlTo(out, s.substr(i + 1, 1));
        i += 2;
        continue;
      }
      if (c == '`' && CodeSpan(s, i, out)) continue;
      if (c == '!' && i + 1 < s.size() && s[i + 1] == '[' && Link(s, i + 1, true, out, i, depth)) {
        continue;
      }
      if (c == '[' && Link(s, i, false, out, i, depth)) continue;
      if (c == '<' && AngleAutolink(s, i, out)) continue;
      if ((c == '*' || c == '_' || c == '~') && Emphasis(s, i, out, depth)) continue;
      if (BareAutolink(s, i, out)) continue;
      if (c == '\n') {
        size_t spaces = 0;
        while (!out.empty() && out.back() == ' ') {
          out.pop_back();
          ++spaces;
        }
        out += spaces >= 2 ? "<br />\n" : "\n";
        ++i;
        continue;
      }
      EscapeHtmlTo(out, s.substr(i, 1));
      ++i;
    }
    return out;
  }

 private:
  static size_t Run(std::string_view s, size_t i) {
    size_t j = i;
    while (j < s.size() && s[j] == s[i]) ++j;
    return j - i;
  }

  static bool CodeSpan(std::string_view s, size_t& i, std::string& out) {
    size_t k = Run(s, i);
    size_t j = i + k;
    while (j < s.size()) {
      size_t at = s.find('`', j);
      if (at == std::string_view::npos) return false;
      size_t len = Run(s, at);
      if (len == k) {
        std::string code(s.substr(i + k, at - i - k));
        std::replace(code.begin(), code.end(), '\n', ' ');
        if (code.size() >= 2 && code.front() == ' ' && code.back() == ' ' &&
            code.find_first_not_of(' ') != std::string::npos) {
          code = code.substr(1, code.size() - 2);
        }
        out += "<code>";
        EscapeHtmlTo(out, code);
        out += "</code>";
        i = at + len;
        return true;
      }
      j = at + len;
    }
    return false;
  }

  // [text](destination "title") or ![alt](source).
  bool Link(std::string_view s, size_t open, bool image, std::string& out, size_t& i, int depth) {
    int nesting = 0;
    size_t close = open;
    for (size_t j = open; j < s.size(); ++j) {
      if (s[j] == '\\') {
        ++j;
      } else if (s[j] == '[') {
        ++nesting;
      } else if (s[j] == ']' && --nesting == 0) {
        close = j;
        break;
      }
    }
    if (close == open || close + 1 >= s.size() || s[close + 1] != '(') return false;
    size_t j = close + 2;
    while (j < s.size() && IsSpaceChar(s[j])) ++j;
    std::string destination;
    if (j < s.size() && s[j] == '<') {
      size_t end = s.find('>', j);
      if (end == std::string_view::npos) return false;
      destination = s.substr(j + 1, end - j - 1);
      j = end + 1;
    } else {
      int parens = 0;
      while (j < s.size() && !IsSpaceChar(s[j])) {
        if (s[j] == '(') ++parens;
        if (s[j] == ')' && parens-- == 0) break;
        destination += s[j++];
      }
    }
    while (j < s.size() && IsSpaceChar(s[j])) ++j;
    std::string title;
    if (j < s.size() && (s[j] == '"' || s[j] == '\'')) {
      size_t end = s.find(s[j], j + 1);
      if (end == std::string_view::npos) return false;
      title = s.substr(j + 1, end - j - 1);
      j = end + 1;
      while (j < s.size() && IsSpaceChar(s[j])) ++j;
    }
    if (j >= s.size() || s[j] != ')') return false;
    std::string_view text = s.substr(open + 1, close - open - 1);
    if (image) {
      out += "<img src=\"" + EscapeUrl(destination) + "\" alt=\"";
      EscapeHtmlTo(out, text);
      out += "\"";
      if (!title.empty()) {
        out += " title=\"";
        EscapeHtmlTo(out, title);
        out += "\"";
      }
      out += " />";
    } else {
      out += "<a href=\"" + EscapeUrl(destination) + "\"";
      if (!title.empty()) {
        out += " title=\"";
        EscapeHtmlTo(out, title);
        out += "\"";
      }
      out += ">" + Render(text, depth + 1) + "</a>";
    }
    i = j + 1;
    return true;
  }

  static bool AngleAutolink(std::string_view s, size_t& i, std::string& out) {
    size_t end = s.find('>', i);
    if (end == std::string_view::npos) return false;
    std::string_view inner = s.substr(i + 1, end - i - 1);
    if (inner.empty() || inner.find_first_of(" <\n") != std::string_view::npos) return false;
    size_t colon = inner.find(':');
    bool uri = colon != std::string_view::npos && colon >= 2 && std::isalpha(inner[0]);
    bool email = !uri && inner.find('@') != std::string_view::npos;
    if (!uri && !email) return false;
    std::string href = email ? "mailto:" + std::string(inner) : std::string(inner);
    out += "<a href=\"" + EscapeUrl(href) + "\">";
    EscapeHtmlTo(out, inner);
    out += "</a>";
    i = end + 1;
    return true;
  }

  static bool BareAutolink(std::string_view s, size_t& i, std::string& out) {
    if (i > 0 && !IsSpaceChar(s[i - 1]) &&
        std::string_view("*_~(").find(s[i - 1]) == std::string_view::npos) {
      return false;
    }
    static constexpr std::string_view kPrefixes[] = {"http://", "https://", "ftp://",
                                                     "mailto:", "www."};
    std::string_view rest = s.substr(i);
    std::string_view prefix;
    for (std::string_view p : kPrefixes) {
      if (rest.size() > p.size() && rest.compare(0, p.size(), p) == 0) prefix = p;
    }
    if (prefix.empty()) return false;
    size_t end = i;
    int parens = 0;
    while (end < s.size() && !IsSpaceChar(s[end]) && s[end] != '<') {
      if (s[end] == '(') ++parens;
      if (s[end] == ')') --parens;
      ++end;
    }
    while (end > i + prefix.size()) {
      char last = s[end - 1];
      if (last == ')' && parens < 0) {
        ++parens;
        --end;
      } else if (std::string_view("?!.,:;*_~\"'").find(last) != std::string_view::npos) {
        --end;
      } else {
        break;
      }
    }
    std::string_view url = s.substr(i, end - i);
    std::string_view domain = url.substr(prefix.size());
    if (domain.empty() || (prefix == "www." && domain.find('.') == std::string_view::npos)) {
      return false;
    }
    std::string href = prefix == "www." ? "http://" + std::string(url) : std::string(url);
    out += "<a href=\"" + EscapeUrl(href) + "\">";
    EscapeHtmlTo(out, url);
    out += "</a>";
    i = end;
    return true;
  }

  bool Emphasis(std::string_view s, size_t& i, std::string& out, int depth) {
    char c = s[i];
    size_t k = Run(s, i);
    size_t after = i + k;
    if (after >= s.size() || IsSpaceChar(s[after])) return false;  // not left-flanking
    if (c == '_' && i > 0 && IsAlnum(s[i - 1])) return false;
    if (c == '~' && k != 2) return false;
    size_t use = c == '~' ? 2 : std::min<size_t>(k, 3);
    // The first closing run of the same length that is right-flanking.
    for (size_t j = after; j < s.size();) {
      if (s[j] == '`') {
        size_t len = Run(s, j);
        size_t end = s.find(std::string(len, '`'), j + len);
        j = end == std::string_view::npos ? j + len : end + len;
        continue;
      }
      if (s[j] != c) {
        j += s[j] == '\\' ? 2 : 1;
        continue;
      }
      size_t len = Run(s, j);
      bool right_flanking = !IsSpaceChar(s[j - 1]);
      bool boundary = c != '_' || j + len >= s.size() || !IsAlnum(s[j + len]);
      if (len == use && right_flanking && boundary) {
        std::string inner = Render(s.substr(after, j - after), depth + 1);
        if (c == '~') {
          out += "<del>" + inner + "</del>";
        } else if (use == 1) {
          out += "<em>" + inner + "</em>";
        } else if (use == 2) {
          out += "<strong>" + inner + "</strong>";
        } else {
          out += "<em><strong>" + inner + "</strong></em>";
        }
        i = j + len;
        return true;
      }
      j += len;
    }
    return false;
  }
};

// ---------------------------------------------------------------------------------------------
// Markdown: blocks

size_t Indent(std::string_view line) {
  size_t n = 0;
  for (char c : line) {
    if (c == ' ') {
      ++n;
    } else if (c == '\t') {
      n += 4 - n % 4;
    } else {
      break;
    }
  }
  return n;
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Removes up to `n` columns of leading indentation.
std::string Dedent(std::string_view line, size_t n) {
  size_t col = 0, i = 0;
  while (i < line.size() && col < n && (line[i] == ' ' || line[i] == '\t')) {
    col += line[i] == '\t' ? 4 - col % 4 : 1;
    ++i;
  }
  return std::string(line.substr(i));
}

bool IsHr(std::string_view line) {
  if (Indent(line) > 3) return false;
  line = TrimLeft(line);
  if (line.empty() || (line[0] != '-' && line[0] != '*' && line[0] != '_')) return false;
  int count = 0;
  for (char c : line) {
    if (c == line[0]) {
      ++count;
    } else if (c != ' ' && c != '\t') {
      return false;
    }
  }
  return count >= 3;
}

bool AtxHeading(std::string_view line, int& level, std::string& text) {
  if (Indent(line) > 3) return false;
  line = TrimLeft(line);
  size_t k = 0;
  while (k < line.size() && line[k] == '#') ++k;
  if (k == 0 || k > 6 || (k < line.size() && line[k] != ' ' && line[k] != '\t')) return false;
  std::string_view rest = TrimRight(TrimLeft(line.substr(k)));
  size_t end = rest.size();
  while (end > 0 && rest[end - 1] == '#') --end;
  if (end == 0 || rest[end - 1] == ' ' || rest[end - 1] == '\t')
    rest = TrimRight(rest.substr(0, end));
  level = static_cast<int>(k);
  text = std::string(rest);
  return true;
}

bool Fence(std::string_view line, char& ch, size_t& len, std::string& info) {
  if (Indent(line) > 3) return false;
  line = TrimLeft(line);
  if (line.empty() || (line[0] != '`' && line[0] != '~')) return false;
  size_t k = 0;
  while (k < line.size() && line[k] == line[0]) ++k;
  if (k < 3) return false;
  ch = line[0];
  len = k;
  std::string_view rest = TrimRight(TrimLeft(line.substr(k)));
  if (ch == '`' && rest.find('`') != std::string_view::npos) return false;
  info = std::string(rest.substr(0, rest.find_first_of(" \t")));
  return true;
}

struct ListMarker {
  bool ordered = false;
  char delimiter = 0;  // bullet char, or '.'/')' for ordered
  int start = 1;
  size_t content = 0;  // column where the item's content starts
};

bool ListItem(std::string_view line, ListMarker& m) {
  size_t indent = Indent(line);
  if (indent > 3) return false;
  std::string_view rest = TrimLeft(line);
  size_t k = 0;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '*' || rest[0] == '+')) {
    m.ordered = false;
    m.delimiter = rest[0];
    k = 1;
  } else {
    while (k < rest.size() && k < 9 && std::isdigit(static_cast<unsigned char>(rest[k]))) ++k;
    if (k == 0 || k >= rest.size() || (rest[k] != '.' && rest[k] != ')')) return false;
    m.ordered = true;
    m.delimiter = rest[k];
    m.start = std::stoi(std::string(rest.substr(0, k)));
    ++k;
  }
  if (k < rest.size() && rest[k] != ' ' && rest[k] != '\t') return false;
  size_t spaces = 0;
  while (k + spaces < rest.size() && rest[k + spaces] == ' ') ++spaces;
  if (spaces == 0 || spaces > 4 || k + spaces >= rest.size()) spaces = 1;
  m.content = indent + k + spaces;
  return true;
}

bool BlockQuote(std::string_view line) {
  return Indent(line) <= 3 && TrimLeft(line).starts_with(">");
}

std::vector<std::string> Cells(std::string_view row) {
  row = TrimRight(TrimLeft(row));
  if (row.starts_with("|")) row.remove_prefix(1);
  if (row.ends_with("|") && !row.ends_with("\\|")) row.remove_suffix(1);
  std::vector<std::string> cells(1);
  for (size_t i = 0; i < row.size(); ++i) {
    if (row[i] == '\\' && i + 1 < row.size() && row[i + 1] == '|') {
      cells.back() += '|';
      ++i;
    } else if (row[i] == '|') {
      cells.emplace_back();
    } else {
      cells.back() += row[i];
    }
  }
  for (auto& c : cells) c = std::string(TrimRight(TrimLeft(c)));
  return cells;
}

bool TableDelimiter(std::string_view line, std::vector<std::string>& aligns) {
  if (line.find('-') == std::string_view::npos) return false;
  if (line.find('|') == std::string_view::npos &&
      TrimLeft(line).find(' ') != std::string_view::npos) {
    return false;
  }
  aligns.clear();
  for (const std::string& cell : Cells(line)) {
    if (cell.empty()) return false;
    bool left = cell.front() == ':', right = cell.back() == ':';
    std::string_view dashes(cell);
    if (left) dashes.remove_prefix(1);
    if (right && !dashes.empty()) dashes.remove_suffix(1);
    if (dashes.empty() || dashes.find_first_not_of('-') != std::string_view::npos) return false;
    aligns.push_back(left && right ? "center" : left ? "left" : right ? "right" : "");
  }
  return true;
}

class BlockRenderer {
 public:
  std::string Render(const std::vector<std::string>& lines, bool tight = false, int depth = 0) {
    std::vector<std::string> blocks;
    std::vector<bool> paragraph;
    size_t i = 0;
    while (i < lines.size()) {
      if (IsBlank(lines[i])) {
        ++i;
        continue;
      }
      bool is_paragraph = false;
      blocks.push_back(Block(lines, i, tight, depth, is_paragraph));
      paragraph.push_back(is_paragraph);
    }
    std::string out;
    for (size_t b = 0; b < blocks.size(); ++b) {
      out += blocks[b];
      if (paragraph[b] && tight && b + 1 < blocks.size()) out += '\n';
    }
    return out;
  }

 private:
  bool StartsBlock(const std::vector<std::string>& lines, size_t i) {
    int level;
    std::string text, info;
    char ch;
    size_t len;
    ListMarker m;
    return AtxHeading(lines[i], level, text) || Fence(lines[i], ch, len, info) || IsHr(lines[i]) ||
           BlockQuote(lines[i]) ||
           (ListItem(lines[i], m) && (!m.ordered || m.start == 1) &&
            !IsBlank(lines[i].substr(std::min(m.content, lines[i].size()))));
  }

  std::string Block(const std::vector<std::string>& lines, size_t& i, bool tight, int depth,
                    bool& is_paragraph) {
    const std::string& line = lines[i];
    int level;
    std::string text, info;
    char fence_char;
    size_t fence_len;
    ListMarker marker;
    std::vector<std::string> aligns;
    if (Fence(line, fence_char, fence_len, info)) {
      size_t indent = Indent(line);
      std::string code;
      ++i;
      while (i < lines.size()) {
        char c2;
        size_t l2;
        std::string info2;
        if (Fence(lines[i], c2, l2, info2) && c2 == fence_char && l2 >= fence_len &&
            info2.empty()) {
          ++i;
          break;
        }
        code += Dedent(lines[i], indent) + "\n";
        ++i;
      }
      std::string out = "<pre><code";
      if (!info.empty()) {
        out += " class=\"language-";
        EscapeHtmlTo(out, info);
        out += "\"";
      }
      out += ">";
      EscapeHtmlTo(out, code);
      return out + "</code></pre>\n";
    }
    if (Indent(line) >= 4) {
      std::vector<std::string> code;
      while (i < lines.size() && (IsBlank(lines[i]) || Indent(lines[i]) >= 4)) {
        code.push_back(Dedent(lines[i], 4));
        ++i;
      }
      while (!code.empty() && IsBlank(code.back())) code.pop_back();
      std::string out = "<pre><code>";
      for (const auto& c : code) {
        EscapeHtmlTo(out, c);
        out += '\n';
      }
      return out + "</code></pre>\n";
    }
    if (AtxHeading(line, level, text)) {
      ++i;
      std::string n = std::to_string(level);
      return "<h" + n + ">" + inline_.Render(text) + "</h" + n + ">\n";
    }
    if (IsHr(line)) {
      ++i;
      return "<hr />\n";
    }
    if (depth < 16 && BlockQuote(line)) {
      std::vector<std::string> inner;
      while (i < lines.size() && !IsBlank(lines[i])) {
        if (BlockQuote(lines[i])) {
          std::string_view rest = TrimLeft(lines[i]).substr(1);
          if (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
          inner.emplace_back(rest);
        } else if (!StartsBlock(lines, i)) {
          inner.push_back(lines[i]);  // a lazy continuation line
        } else {
          break;
        }
        ++i;
      }
      return "<blockquote>\n" + Render(inner, false, depth + 1) + "</blockquote>\n";
    }
    // Nesting deeper than any real document is rendered as paragraph text.
    if (depth < 16 && ListItem(line, marker)) return List(lines, i, marker, depth);
    if (i + 1 < lines.size() && line.find('|') != std::string::npos &&
        TableDelimiter(lines[i + 1], aligns)) {
      return Table(lines, i, aligns);
    }
    // A paragraph, or a setext heading when underlined.
    std::string body;
    while (i < lines.size() && !IsBlank(lines[i])) {
      if (!body.empty() && StartsBlock(lines, i)) break;
      std::string_view l = TrimLeft(lines[i]);
      if (!body.empty()) {
        std::string_view underline = TrimRight(l);
        if (!underline.empty() && underline.find_first_not_of('=') == std::string_view::npos) {
          ++i;
          return "<h1>" + inline_.Render(std::string(TrimRight(body))) + "</h1>\n";
        }
        if (!underline.empty() && underline.find_first_not_of('-') == std::string_view::npos) {
          ++i;
          return "<h2>" + inline_.Render(std::string(TrimRight(body))) + "</h2>\n";
        }
        body += '\n';
      }
      body += l;
      ++i;
    }
    is_paragraph = true;
    std::string html = inline_.Render(std::string(TrimRight(body)));
    return tight ? html : "<p>" + html + "</p>\n";
  }

  std::string List(const std::vector<std::string>& lines, size_t& i, const ListMarker& first,
                   int depth) {
    std::vector<std::vector<std::string>> items;
    bool loose = false;
    bool pending_blank = false;
    while (i < lines.size()) {
      const std::string& line = lines[i];
      ListMarker m;
      if (IsBlank(line)) {
        pending_blank = true;
        if (!items.empty()) items.back().push_back("");
        ++i;
        continue;
      }
      if (ListItem(line, m) && Indent(line) < (items.empty() ? 4 : first.content) &&
          m.ordered == first.ordered && m.delimiter == first.delimiter) {
        if (pending_blank && !items.empty()) loose = true;
        pending_blank = false;
        items.emplace_back();
        items.back().push_back(line.size() > m.content ? line.substr(m.content) : "");
        ++i;
        continue;
      }
      if (Indent(line) >= first.content) {
        if (pending_blank) loose = true;
        pending_blank = false;
        items.back().push_back(Dedent(line, first.content));
        ++i;
        continue;
      }
      if (!pending_blank && !StartsBlock(lines, i)) {
        items.back().push_back(std::string(TrimLeft(line)));  // a lazy continuation line
        ++i;
        continue;
      }
      break;
    }
    // Blank lines that only trail the list do not make it loose.
    for (auto& item : items) {
      while (!item.empty() && IsBlank(item.back())) item.pop_back();
    }
    if (pending_blank && !loose) loose = false;
    std::string tag = first.ordered ? "ol" : "ul";
    std::string out = "<" + tag;
    if (first.ordered && first.start != 1) out += " start=\"" + std::to_string(first.start) + "\"";
    out += ">\n";
    for (const auto& item : items) {
      if (item.empty()) {
        out += "<li></li>\n";
        continue;
      }
      if (loose) {
        out += "<li>\n" + Render(item, false, depth + 1) + "</li>\n";
        continue;
      }
      std::string body = Render(item, true, depth + 1);
      bool starts_with_block = !body.empty() && body[0] == '<' && !ListStartsWithParagraph(item);
      out += "<li>" + std::string(starts_with_block ? "\n" : "") + body + "</li>\n";
    }
    return out + "</" + tag + ">\n";
  }

  bool ListStartsWithParagraph(const std::vector<std::string>& item) {
    size_t k = 0;
    while (k < item.size() && IsBlank(item[k])) ++k;
    if (k == item.size()) return false;
    int level;
    std::string text, info;
    char ch;
    size_t len;
    ListMarker m;
    return !(AtxHeading(item[k], level, text) || Fence(item[k], ch, len, info) || IsHr(item[k]) ||
             BlockQuote(item[k]) || ListItem(item[k], m) || Indent(item[k]) >= 4);
  }

  std::string Table(const std::vector<std::string>& lines, size_t& i,
                    const std::vector<std::string>& aligns) {
    auto row = [&](const std::string& line, const char* cell_tag) {
      std::vector<std::string> cells = Cells(line);
      std::string out = "<tr>\n";
      for (size_t c = 0; c < aligns.size(); ++c) {
        out += std::string("<") + cell_tag;
        if (!aligns[c].empty()) out += " style=\"text-align: " + aligns[c] + ";\"";
        out += ">" + (c < cells.size() ? inline_.Render(cells[c]) : "") + "</" + cell_tag + ">\n";
      }
      return out + "</tr>\n";
    };
    std::string out = "<table>\n<thead>\n" + row(lines[i], "th") + "</thead>\n";
    i += 2;
    std::string body;
    while (i < lines.size() && !IsBlank(lines[i]) && lines[i].find('|') != std::string::npos) {
      body += row(lines[i], "td");
      ++i;
    }
    if (!body.empty()) out += "<tbody>\n" + body + "</tbody>\n";
    return out + "</table>\n";
  }

  InlineRenderer inline_;
};

// ---------------------------------------------------------------------------------------------
// URIs

struct Uri {
  std::string scheme, user_info, host, path, query, fragment;
  int port = -1;
  bool has_authority = false;
};

int DefaultPort(const std::string& scheme) {
  static const std::pair<const char*, int> kPorts[] = {
      {"http", 80},     {"https", 443}, {"ftp", 21},    {"ws", 80},
      {"wss", 443},     {"ldap", 389},  {"mailto", 25}, {"nntp", 119},
      {"net.tcp", 808}, {"gopher", 70}, {"telnet", 23}};
  for (const auto& [s, p] : kPorts) {
    if (scheme == s) return p;
  }
  return -1;
}

std::string Lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string EscapePath(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || std::string_view("\"<>`{}|^").find(c) != std::string_view::npos) {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c == '\\' ? '/' : c;
    }
  }
  return out;
}

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// nullopt: not a URI at all; a Uri with an empty scheme: a relative reference.
std::optional<Uri> ParseUri(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  Uri u;
  size_t colon = text.find(':');
  bool has_scheme = colon != std::string_view::npos && colon >= 2 &&
                    std::isalpha(static_cast<unsigned char>(text[0]));
  for (size_t k = 1; has_scheme && k < colon; ++k) {
    char c = text[k];
    has_scheme = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  }
  std::string_view rest = text;
  if (text.size() >= 3 && std::isalpha(static_cast<unsigned char>(text[0])) && text[1] == ':' &&
      (text[2] == '\\' || text[2] == '/')) {
    u.scheme = "file";  // a Windows path
    u.has_authority = true;
    u.path = "/" + EscapePath(text);
    return u;
  }
  if (!has_scheme) return u;
  u.scheme = Lowered(text.substr(0, colon));
  rest = text.substr(colon + 1);
  if (rest.starts_with("//")) {
    u.has_authority = true;
    rest.remove_prefix(2);
    size_t end = rest.find_first_of("/?#\\");
    std::string_view authority = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    size_t at = authority.rfind('@');
    if (at != std::string_view::npos) {
      u.user_info = authority.substr(0, at);
      authority.remove_prefix(at + 1);
    }
    std::string_view host = authority;
    size_t port_colon = authority.rfind(':');
    if (port_colon != std::string_view::npos &&
        authority.find(']', port_colon) == std::string_view::npos) {
      host = authority.substr(0, port_colon);
      std::string_view digits = authority.substr(port_colon + 1);
      if (digits.empty() || digits.size() > 5 ||
          digits.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
      }
      u.port = std::stoi(std::string(digits));
      if (u.port > 65535) return std::nullopt;
    }
    if (host.empty() && u.scheme != "file") return std::nullopt;
    u.host = Lowered(host);
  }
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) {
    u.fragment = std::string(rest.substr(hash));
    rest = rest.substr(0, hash);
  }
  size_t question = rest.find('?');
  if (question != std::string_view::npos) {
    u.query = std::string(rest.substr(question));
    rest = rest.substr(0, question);
  }
  u.path = EscapePath(rest);
  if (u.has_authority && u.path.empty()) u.path = "/";
  return u;
}

std::string HostNameType(const Uri& u) {
  if (u.host.empty()) return "Basic";
  if (u.host.front() == '[') return "IPv6";
  int dots = 0;
  bool digits_only = true;
  for (char c : u.host) {
    if (c == '.') {
      ++dots;
    } else if (!std::isdigit(static_cast<unsigned char>(c))) {
      digits_only = false;
    }
  }
  if (digits_only && dots == 3) return "IPv4";
  for (char c : u.host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
      return "Basic";
    }
  }
  return "Dns";
}

std::string PortSuffix(const Uri& u) {
  return u.port >= 0 && u.port != DefaultPort(u.scheme) ? ":" + std::to_string(u.port) : "";
}

}  // namespace

std::string MarkdownToHtml(std::string_view markdown) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= markdown.size()) {
    size_t end = markdown.find('\n', start);
    if (end == std::string_view::npos) end = markdown.size();
    std::string_view line = markdown.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    start = end + 1;
  }
  return BlockRenderer().Render(lines);
}

std::optional<std::string> UriPart(std::string_view text, std::string_view part_name) {
  auto parsed = ParseUri(text);
  if (!parsed) return std::nullopt;
  const Uri& u = *parsed;
  std::string part = Lowered(part_name);
  std::string name(part_name);
  static const char* kParts[] = {
      "absolutepath",    "absoluteuri",  "authority",     "dnssafehost",   "fragment", "host",
      "hostandport",     "hostnametype", "isabsoluteuri", "isdefaultport", "isfile",   "isloopback",
      "isunc",           "path",         "pathandquery",  "port",          "query",    "scheme",
      "schemeandserver", "userinfo"};
  if (std::find(std::begin(kParts), std::end(kParts), part) == std::end(kParts)) {
    return "[UriPart " + name + " error: argument '" + name + "' not supported]";
  }
  bool absolute = !u.scheme.empty();
  if (part == "isabsoluteuri") return absolute ? "true" : "false";
  if (!absolute) {
    return "[UriPart " + name + " error: This operation is not supported for a relative URI.]";
  }
  int default_port = DefaultPort(u.scheme);
  int port = u.port >= 0 ? u.port : default_port;
  std::string authority = u.host + PortSuffix(u);
  std::string prefix = u.has_authority ? u.scheme + "://" : u.scheme + ":";
  if (part == "absolutepath") return u.path;
  if (part == "absoluteuri") {
    return prefix + (u.user_info.empty() ? "" : u.user_info + "@") + authority + u.path + u.query +
           u.fragment;
  }
  if (part == "authority") return authority;
  if (part == "dnssafehost") {
    std::string h = u.host;
    if (h.size() >= 2 && h.front() == '[') h = h.substr(1, h.size() - 2);
    return h;
  }
  if (part == "fragment") return u.fragment;
  if (part == "host") return u.host;
  if (part == "hostandport") return port >= 0 ? u.host + ":" + std::to_string(port) : u.host;
  if (part == "hostnametype") return HostNameType(u);
  if (part == "isdefaultport") return port == default_port ? "true" : "false";
  if (part == "isfile") return u.scheme == "file" ? "true" : "false";
  if (part == "isloopback") {
    bool loopback = u.host == "localhost" || u.host.starts_with("127.") || u.host == "[::1]" ||
                    (u.scheme == "file" && u.host.empty());
    return loopback ? "true" : "false";
  }
  if (part == "isunc") return u.scheme == "file" && !u.host.empty() ? "true" : "false";
  if (part == "path") return Unescape(u.path);
  if (part == "pathandquery") return u.path + u.query;
  if (part == "port") return std::to_string(port);
  if (part == "query") return u.query;
  if (part == "scheme") return u.scheme;
  if (part == "schemeandserver") return prefix + authority;
  return u.user_info;  // userinfo
}

}  // namespace cuttle::engine::octostache
