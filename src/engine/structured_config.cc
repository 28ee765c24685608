#include "engine/structured_config.h"

#include <fmt/format.h>
#include <yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/strings.h"
#include "engine/text_file.h"

namespace cuttle::engine {
namespace {

using Json = nlohmann::ordered_json;  // keeps the file's key order

// Configuration files are written by people; deeper than this is not one.
constexpr int kMaxJsonDepth = 256;

// Names that start with "Octopus" belong to Octopus, except "Octopus:..." paths.
bool IsReservedName(std::string_view name) {
  if (name.size() < 7 || !core::EqualsIgnoreCase(name.substr(0, 7), "Octopus")) return false;
  return !(name.size() > 7 && name[7] == ':');
}

std::optional<std::string> Find(const VariableLookup& lookup, std::string_view path) {
  if (path.empty() || IsReservedName(path)) return std::nullopt;
  return lookup(path);
}

// ---- JSON ----

std::optional<int64_t> ParseInt64(std::string_view s) {
  s = core::Trim(s);
  if (s.empty()) return std::nullopt;
  std::string copy(s);
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(copy.c_str(), &end, 10);
  if (errno != 0 || end != copy.c_str() + copy.size()) return std::nullopt;
  return v;
}

std::optional<double> ParseDouble(std::string_view s) {
  s = core::Trim(s);
  if (s.empty()) return std::nullopt;
  // Decimal only: strtod would also take hex, "inf" and "nan", which JSON cannot hold.
  if (s.find_first_not_of("+-0123456789.eE") != std::string_view::npos) return std::nullopt;
  std::string copy(s);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(copy.c_str(), &end);
  if (errno != 0 || end != copy.c_str() + copy.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

Json ParseJsonText(std::string_view text) {
  Json::parser_callback_t guard = [](int depth, Json::parse_event_t, Json&) {
    if (depth > kMaxJsonDepth) throw std::runtime_error("it nests deeper than 256 levels");
    return true;
  };
  return Json::parse(text, guard, /*allow_exceptions=*/true, /*ignore_comments=*/true);
}

class JsonReplacer {
 public:
  explicit JsonReplacer(const VariableLookup& lookup) : lookup_(lookup) {}

  void Visit(Json& node, const std::string& path) {
    if (auto value = Find(lookup_, path)) {
      if (Apply(node, path, *value)) {
        ++result_.replaced;
        return;  // the subtree is gone: its own paths have nothing left to replace
      }
    }
    if (node.is_object()) {
      for (auto& [key, child] : node.items()) Visit(child, path.empty() ? key : path + ":" + key);
    } else if (node.is_array()) {
      for (size_t i = 0; i < node.size(); ++i) {
        Visit(node[i], (path.empty() ? "" : path + ":") + std::to_string(i));
      }
    }
  }

  StructuredReplacement& result() { return result_; }

 private:
  bool Apply(Json& node, const std::string& path, const std::string& value) {
    if (node.is_object() || node.is_array()) {
      try {
        node = ParseJsonText(value);
        return true;
      } catch (const std::exception& e) {
        result_.warnings.push_back(
            fmt::format("Unable to set value for {}: the value is not JSON ({}).", path, e.what()));
        return false;
      }
    }
    if (node.is_number()) {
      if (auto i = ParseInt64(value)) {
        node = *i;
      } else if (auto d = ParseDouble(value)) {
        node = *d;
      } else {
        node = value;
      }
      return true;
    }
    if (node.is_boolean()) {
      const std::string lower = core::ToLower(core::Trim(value));
      if (lower == "true" || lower == "false") {
        node = lower == "true";
      } else {
        node = value;
      }
      return true;
    }
    node = value;
    return true;
  }

  const VariableLookup& lookup_;
  StructuredReplacement result_;
};

// ---- YAML ----

struct ParserHandle {
  yaml_parser_t parser;
  ParserHandle() { yaml_parser_initialize(&parser); }
  ~ParserHandle() { yaml_parser_delete(&parser); }
};
struct EmitterHandle {
  yaml_emitter_t emitter;
  EmitterHandle() { yaml_emitter_initialize(&emitter); }
  ~EmitterHandle() { yaml_emitter_delete(&emitter); }
};
struct EventHandle {
  yaml_event_t event{};
  bool owned = false;
  ~EventHandle() {
    if (owned) yaml_event_delete(&event);
  }
};

int AppendToString(void* data, unsigned char* buffer, size_t size) {
  static_cast<std::string*>(data)->append(reinterpret_cast<const char*>(buffer), size);
  return 1;
}

bool HasBreak(std::string_view v) { return v.find_first_of("\r\n") != std::string_view::npos; }

// `value` parsed as one YAML node and written back in flow style on one line ("{a: 1}",
// "[x, y]", "hello"); nullopt if it does not parse or holds no node.
std::optional<std::string> RenderFlow(std::string_view value) {
  ParserHandle p;
  yaml_parser_set_input_string(&p.parser, reinterpret_cast<const unsigned char*>(value.data()),
                               value.size());
  EmitterHandle e;
  std::string out;
  yaml_emitter_set_output(&e.emitter, AppendToString, &out);
  yaml_emitter_set_width(&e.emitter, -1);
  yaml_emitter_set_unicode(&e.emitter, 1);
  int documents = 0;
  int nodes = 0;
  for (;;) {
    yaml_event_t event;
    if (!yaml_parser_parse(&p.parser, &event)) return std::nullopt;
    const yaml_event_type_t type = event.type;
    switch (type) {
      case YAML_DOCUMENT_START_EVENT:
        if (++documents > 1 || event.data.document_start.version_directive != nullptr ||
            event.data.document_start.tag_directives.start !=
                event.data.document_start.tag_directives.end) {
          yaml_event_delete(&event);
          return std::nullopt;
        }
        event.data.document_start.implicit = 1;
        break;
      case YAML_DOCUMENT_END_EVENT:
        event.data.document_end.implicit = 1;
        break;
      case YAML_MAPPING_START_EVENT:
        ++nodes;
        event.data.mapping_start.style = YAML_FLOW_MAPPING_STYLE;
        break;
      case YAML_SEQUENCE_START_EVENT:
        ++nodes;
        event.data.sequence_start.style = YAML_FLOW_SEQUENCE_STYLE;
        break;
      case YAML_SCALAR_EVENT: {
        ++nodes;
        auto& s = event.data.scalar;
        const std::string_view text(reinterpret_cast<const char*>(s.value), s.length);
        if (s.style == YAML_LITERAL_SCALAR_STYLE || s.style == YAML_FOLDED_SCALAR_STYLE ||
            HasBreak(text)) {
          s.style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        }
        break;
      }
      case YAML_ALIAS_EVENT:
        ++nodes;
        break;
      default:
        break;
    }
    // The emitter owns the event from here, whether or not it succeeds.
    if (!yaml_emitter_emit(&e.emitter, &event)) return std::nullopt;
    if (type == YAML_STREAM_END_EVENT) break;
  }
  if (nodes == 0) return std::nullopt;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  if (out.ends_with("\n...")) out.resize(out.size() - 4);
  if (HasBreak(out)) return std::nullopt;
  return out;
}

std::string DoubleQuoted(std::string_view v) {
  std::string out = "\"";
  for (unsigned char c : v) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\0':
        out += "\\0";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02X}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

bool HasControl(std::string_view v) {
  return std::any_of(v.begin(), v.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// Whether `v` may be written as a plain scalar where the original one stood.
bool PlainAllowed(std::string_view v, bool in_flow) {
  if (v.empty() || HasControl(v) || v.front() == ' ' || v.back() == ' ') return false;
  constexpr std::string_view kIndicators = "-?:,[]{}#&*!|>'\"%@`";
  constexpr std::string_view kFlowIndicators = ",[]{}";
  if (kIndicators.find(v.front()) != std::string_view::npos) {
    // "-x", "?x" and ":x" are plain; a lone indicator or one before a space is not.
    const bool may_lead = v.front() == '-' || v.front() == '?' || v.front() == ':';
    if (!may_lead || v.size() < 2 || v[1] == ' ' ||
        (in_flow && kFlowIndicators.find(v[1]) != std::string_view::npos)) {
      return false;
    }
  }
  if (v.find(": ") != std::string_view::npos || v.find(" #") != std::string_view::npos ||
      v.back() == ':' || v.starts_with("---") || v.starts_with("...")) {
    return false;
  }
  return !in_flow || v.find_first_of(kFlowIndicators) == std::string_view::npos;
}

std::string RenderScalar(std::string_view v, yaml_scalar_style_t original, bool in_flow) {
  if (original == YAML_PLAIN_SCALAR_STYLE && PlainAllowed(v, in_flow)) return std::string(v);
  if ((original == YAML_PLAIN_SCALAR_STYLE || original == YAML_SINGLE_QUOTED_SCALAR_STYLE) &&
      !HasControl(v)) {
    std::string out = "'";
    for (char c : v) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }
  return DoubleQuoted(v);
}

class YamlReplacer {
 public:
  YamlReplacer(std::string_view text, const VariableLookup& lookup) : text_(text), lookup_(lookup) {
    // libyaml's marks count characters; replacements need byte offsets.
    for (size_t i = 0; i < text.size(); ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) offsets_.push_back(i);
    }
    offsets_.push_back(text.size());
  }

  Result<StructuredReplacement> Run() {
    ParserHandle p;
    yaml_parser_set_input_string(&p.parser, reinterpret_cast<const unsigned char*>(text_.data()),
                                 text_.size());
    for (;;) {
      EventHandle e;
      if (!yaml_parser_parse(&p.parser, &e.event)) {
        const auto& mark = p.parser.problem_mark;
        return Fail(Error::InvalidArgument(
            fmt::format("line {} column {}: {}", mark.line + 1, mark.column + 1,
                        p.parser.problem != nullptr ? p.parser.problem : "malformed YAML")));
      }
      e.owned = true;
      if (e.event.type == YAML_STREAM_END_EVENT) break;
      OnEvent(e.event);
    }
    std::string out(text_);
    // Ranges never overlap (a replaced node's inside is skipped): apply from the end.
    std::sort(edits_.begin(), edits_.end(),
              [](const Edit& a, const Edit& b) { return a.begin > b.begin; });
    for (const Edit& edit : edits_) out.replace(edit.begin, edit.end - edit.begin, edit.text);
    result_.text = std::move(out);
    return std::move(result_);
  }

 private:
  struct Frame {
    bool mapping = false;
    bool flow = false;
    bool expecting_key = true;       // mappings: the next node is a key
    std::optional<std::string> key;  // mappings: the key whose value is being read
    size_t key_line = 0, key_column = 0;
    long index = -1;      // sequences: the current item
    bool dead = false;    // inside a complex key or a node being replaced
    bool is_key = false;  // this collection is itself a (complex) key
    size_t start_line = 0, start_column = 0;
  };
  struct Pending {  // a mapping/sequence being replaced, until its end event
    size_t depth;   // frames_.size() once its frame is pushed
    size_t begin;   // character index where its content starts
    std::string text;
    size_t last_end = 0;  // character index after the last thing inside it
  };
  struct Edit {
    size_t begin, end;  // bytes
    std::string text;
  };

  static constexpr std::string_view kNoKey = "\x01";  // a key no variable names

  size_t Byte(size_t char_index) const {
    return offsets_[std::min(char_index, offsets_.size() - 1)];
  }

  bool Dead() const { return !frames_.empty() && frames_.back().dead; }

  std::string Path() const {
    std::string path;
    for (const Frame& f : frames_) {
      std::string part;
      if (f.mapping && f.key && !f.expecting_key) {
        part = *f.key;
      } else if (!f.mapping && f.index >= 0) {
        part = std::to_string(f.index);
      } else {
        continue;
      }
      path += path.empty() ? part : ":" + part;
    }
    return path;
  }

  // The character index where a node's content starts, past its anchor, tag and comments.
  size_t ContentStart(size_t start) const {
    size_t i = Byte(start);
    for (;;) {
      while (i < text_.size() &&
             (text_[i] == ' ' || text_[i] == '\t' || text_[i] == '\r' || text_[i] == '\n')) {
        ++i;
      }
      if (i < text_.size() && text_[i] == '#') {
        while (i < text_.size() && text_[i] != '\n') ++i;
        continue;
      }
      if (i < text_.size() && (text_[i] == '&' || text_[i] == '!')) {
        while (i < text_.size() && text_[i] != ' ' && text_[i] != '\t' && text_[i] != '\n' &&
               text_[i] != '\r') {
          ++i;
        }
        continue;
      }
      break;
    }
    return CharIndex(i);
  }

  void Touch(size_t end_index) {
    if (pending_) pending_->last_end = std::max(pending_->last_end, end_index);
  }

  // A node begins in the current frame: advance the sequence index or take the mapping key.
  // Returns true when the node is a value (not a key).
  bool BeginNode() {
    if (frames_.empty()) return true;
    Frame& top = frames_.back();
    if (!top.mapping) {
      ++top.index;
      return true;
    }
    return !top.expecting_key;
  }

  // A value node ended: its mapping now waits for the next key.
  void EndValue() {
    if (!frames_.empty() && frames_.back().mapping) frames_.back().expecting_key = true;
  }

  void OnEvent(const yaml_event_t& e) {
    switch (e.type) {
      case YAML_DOCUMENT_START_EVENT:
        frames_.clear();
        break;
      case YAML_SCALAR_EVENT:
        OnScalar(e);
        break;
      case YAML_ALIAS_EVENT:
        Touch(e.end_mark.index);
        if (BeginNode()) {
          EndValue();
        } else {
          TakeKey(std::string(kNoKey), e.start_mark);
        }
        break;
      case YAML_MAPPING_START_EVENT:
      case YAML_SEQUENCE_START_EVENT:
        OnCollectionStart(e);
        break;
      case YAML_MAPPING_END_EVENT:
      case YAML_SEQUENCE_END_EVENT:
        OnCollectionEnd(e);
        break;
      default:
        break;
    }
  }

  void TakeKey(std::string key, const yaml_mark_t& mark) {
    Frame& top = frames_.back();
    top.key = std::move(key);
    top.key_line = mark.line;
    top.key_column = mark.column;
    top.expecting_key = false;
  }

  void OnScalar(const yaml_event_t& e) {
    Touch(e.end_mark.index);
    const auto& s = e.data.scalar;
    std::string value(reinterpret_cast<const char*>(s.value), s.length);
    if (!BeginNode()) {
      TakeKey(Dead() ? std::string(kNoKey) : std::move(value), e.start_mark);
      return;
    }
    if (!Dead()) {
      if (auto replacement = Find(lookup_, Path())) {
        ReplaceScalar(e, *replacement);
        ++result_.replaced;
      }
    }
    EndValue();
  }

  void ReplaceScalar(const yaml_event_t& e, const std::string& value) {
    const auto style = e.data.scalar.style;
    size_t begin = Byte(ContentStart(e.start_mark.index));
    size_t end = Byte(e.end_mark.index);
    if (style == YAML_LITERAL_SCALAR_STYLE || style == YAML_FOLDED_SCALAR_STYLE) {
      // A block scalar's range runs over its final line breaks; they stay.
      while (end > begin && (text_[end - 1] == '\n' || text_[end - 1] == '\r' ||
                             text_[end - 1] == ' ' || text_[end - 1] == '\t')) {
        --end;
      }
    }
    const bool in_flow = !frames_.empty() && frames_.back().flow;
    if (begin >= end) {        // an empty value ("key:", "- ", "key: &anchor")
      std::string text = " ";  // not " " + string: GCC 12's -Wrestrict false positive
      text += RenderScalar(value, style, in_flow);
      edits_.push_back({end, end, std::move(text)});
      return;
    }
    edits_.push_back({begin, end, RenderScalar(value, style, in_flow)});
  }

  void OnCollectionStart(const yaml_event_t& e) {
    const bool mapping = e.type == YAML_MAPPING_START_EVENT;
    const bool flow = mapping ? e.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
                              : e.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
    const bool is_value = BeginNode();
    std::optional<std::string> replacement;
    if (is_value && !Dead()) replacement = Find(lookup_, Path());
    Frame frame;
    frame.mapping = mapping;
    frame.flow = flow;
    frame.dead = Dead() || !is_value || replacement.has_value();
    frame.is_key = !is_value;
    frame.start_line = e.start_mark.line;
    frame.start_column = e.start_mark.column;
    if (replacement) {
      std::string text = RenderFlow(*replacement).value_or(DoubleQuoted(*replacement));
      const size_t begin = ContentStart(e.start_mark.index);
      // A block collection under a key may start on the next line at the key's own column
      // (a sequence may); a flow node there would end the mapping, so it moves right.
      if (!frames_.empty() && frames_.back().mapping) {
        const Frame& parent = frames_.back();
        const size_t column = Column(begin);
        if (Line(begin) > parent.key_line && column <= parent.key_column) {
          text.insert(0, parent.key_column - column + 2, ' ');
        }
      }
      ++result_.replaced;
      pending_ = Pending{frames_.size() + 1, begin, std::move(text), begin};
    }
    frames_.push_back(std::move(frame));
  }

  void OnCollectionEnd(const yaml_event_t& e) {
    if (frames_.empty()) return;
    const Frame frame = frames_.back();
    if (frame.flow) Touch(e.end_mark.index);
    if (pending_ && pending_->depth == frames_.size()) {
      edits_.push_back({Byte(pending_->begin), Byte(pending_->last_end), pending_->text});
      pending_.reset();
    }
    frames_.pop_back();
    if (frame.is_key) {
      if (!frames_.empty()) TakeKey(std::string(kNoKey), e.start_mark);
    } else {
      EndValue();
    }
  }

  size_t Line(size_t char_index) const {
    const size_t byte = Byte(char_index);
    return static_cast<size_t>(std::count(text_.begin(), text_.begin() + byte, '\n'));
  }
  // In characters, as libyaml counts columns.
  size_t Column(size_t char_index) const {
    const size_t byte = Byte(char_index);
    size_t line_start = byte;
    while (line_start > 0 && text_[line_start - 1] != '\n') --line_start;
    return CharIndex(byte) - CharIndex(line_start);
  }
  size_t CharIndex(size_t byte) const {
    return static_cast<size_t>(std::lower_bound(offsets_.begin(), offsets_.end(), byte) -
                               offsets_.begin());
  }

  std::string_view text_;
  const VariableLookup& lookup_;
  std::vector<size_t> offsets_;
  std::vector<Frame> frames_;
  std::optional<Pending> pending_;
  std::vector<Edit> edits_;
  StructuredReplacement result_;
};

std::string Indented(const Json& root, LineEnding ending) {
  std::string out = root.dump(2, ' ', false, Json::error_handler_t::replace);
  if (ending == LineEnding::kLf) return out;
  std::string crlf;
  crlf.reserve(out.size() + out.size() / 16);
  for (char c : out) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  return crlf;
}

}  // namespace

Result<StructuredReplacement> ReplaceJsonVariables(std::string_view text,
                                                   const VariableLookup& lookup) {
  Json root;
  if (text.empty()) {
    root = Json::object();  // as Octopus does: an empty file becomes {}
  } else {
    try {
      root = ParseJsonText(text);
    } catch (const std::exception& e) {
      return Fail(Error::InvalidArgument(e.what()));
    }
  }
  JsonReplacer replacer(lookup);
  replacer.Visit(root, "");
  StructuredReplacement result = std::move(replacer.result());
  result.text = Indented(root, DominantLineEnding(text));
  return result;
}

Result<StructuredReplacement> ReplaceYamlVariables(std::string_view text,
                                                   const VariableLookup& lookup) {
  return YamlReplacer(text, lookup).Run();
}

Result<StructuredFileResult> ReplaceStructuredVariablesInFile(const std::string& path,
                                                              const VariableLookup& lookup,
                                                              bool json_only) {
  CUTTLE_TRY(TextFile file, ReadTextFile(path));
  const std::string lower = core::ToLower(path);
  const bool json_name = lower.ends_with(".json");
  const bool unsupported = lower.ends_with(".xml") || lower.ends_with(".properties");
  std::vector<StructuredFormat> formats = {StructuredFormat::kJson};
  if (!json_only && !json_name && !unsupported) formats.push_back(StructuredFormat::kYaml);
  std::string problems;
  for (StructuredFormat format : formats) {
    auto replaced = format == StructuredFormat::kJson ? ReplaceJsonVariables(file.text, lookup)
                                                      : ReplaceYamlVariables(file.text, lookup);
    if (!replaced) {
      problems += fmt::format("{}{} ({})", problems.empty() ? "" : "; ",
                              format == StructuredFormat::kJson ? "JSON" : "YAML",
                              replaced.error().message());
      continue;
    }
    if (replaced->text != file.text) {
      CUTTLE_TRY_VOID(WriteTextFile(path, replaced->text, file.encoding));
    }
    return StructuredFileResult{format, replaced->replaced, std::move(replaced->warnings)};
  }
  std::string message = fmt::format(
      "Structured variable replacement failed on file '{}': it could not be parsed as {}", path,
      problems);
  if (unsupported) message += "; XML and Java properties files are not supported by Cuttle";
  return Fail(Error::InvalidArgument(message + "."));
}

}  // namespace cuttle::engine
