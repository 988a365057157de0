#include "config/yaml_reader.hpp"

#include <algorithm>

#include "config/value_parsers.hpp"

namespace consent::config::detail {

void Reader::error(const YAML::Mark& at, std::string key_path, std::string message) {
  ++errors_;
  out_->push_back(policy::Diagnostic{location(at), std::move(key_path), std::move(message)});
}

policy::SourceLocation Reader::location(const YAML::Mark& at) const {
  policy::SourceLocation loc{file_, 0, 0};
  if (at.line >= 0 && at.column >= 0 && at.pos >= 0) {
    loc.line = at.line + 1;
    loc.column = at.column + 1;
  }
  return loc;
}

std::string child_path(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string out = path;
  out += '.';
  out += key;
  return out;
}

std::string index_path(const std::string& path, std::size_t index) { return path + "[" + std::to_string(index) + "]"; }

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return quote(node.Scalar());
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

namespace {

std::string join_keys(std::span<const std::string_view> keys) {
  std::string out;
  for (auto k : keys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

std::string where_in(const std::string& path) { return path.empty() ? std::string{} : " in " + path; }

}  // namespace

MapReader::MapReader(Reader& reader, Field field, std::span<const std::string_view> known, bool any_key)
    : reader_(&reader), self_(std::move(field)) {
  if (!self_.node.IsMap()) {
    reader.error(self_.mark, self_.path, "expected a map, got " + describe(self_.node));
    return;
  }
  is_map_ = true;
  for (const auto& pair : self_.node) {
    // Copies: yaml-cpp's iterator yields a temporary pair whose members die with it.
    const YAML::Node key = pair.first;
    const YAML::Node value = pair.second;
    if (!key.IsScalar()) {
      reader.error(key.Mark(), self_.path, "keys must be plain strings, got " + describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    auto seen = std::find_if(key_marks_.begin(), key_marks_.end(), [&](const auto& e) { return e.first == name; });
    if (seen != key_marks_.end()) {
      reader.error(key.Mark(), "",
                   "duplicate key " + quote(name) + where_in(self_.path) + " (first at line " +
                       std::to_string(seen->second.line + 1) + ")");
      continue;
    }
    key_marks_.emplace_back(name, key.Mark());
    if (!any_key && std::find(known.begin(), known.end(), name) == known.end()) {
      auto hint = suggest(name, known);
      std::string message = "unknown key " + quote(name) + where_in(self_.path);
      if (!hint.empty()) {
        message += "; did you mean " + quote(hint) + "?";
      } else {
        message += "; expected one of: " + join_keys(known);
      }
      reader.error(key.Mark(), "", std::move(message));
      continue;
    }
    const YAML::Mark mark = value.IsNull() ? key.Mark() : value.Mark();
    entries_.emplace_back(name, Field{value, mark, child_path(self_.path, name)});
  }
}

std::optional<Field> MapReader::get(std::string_view key) const {
  for (const auto& [name, field] : entries_) {
    if (name == key) return field;
  }
  return std::nullopt;
}

std::optional<Field> MapReader::require(std::string_view key) const {
  auto f = get(key);
  if (!f && is_map_) reader_->error(self_.mark, self_.path, "missing required key " + quote(key));
  return f;
}

YAML::Mark MapReader::key_mark(std::string_view key) const {
  for (const auto& [name, mark] : key_marks_) {
    if (name == key) return mark;
  }
  return self_.mark;
}

std::optional<std::string> read_string(Reader& r, const Field& f) {
  if (!f.node.IsScalar()) {
    r.error(f.mark, f.path, "expected a string, got " + describe(f.node));
    return std::nullopt;
  }
  return f.node.Scalar();
}

std::optional<std::string> read_nonempty_string(Reader& r, const Field& f) {
  auto s = read_string(r, f);
  if (s && s->empty()) {
    r.error(f.mark, f.path, "must not be empty");
    return std::nullopt;
  }
  return s;
}

std::optional<policy::Located> read_located(Reader& r, const Field& f) {
  auto s = read_nonempty_string(r, f);
  if (!s) return std::nullopt;
  return policy::Located{std::move(*s), r.location(f.mark)};
}

std::optional<bool> read_bool(Reader& r, const Field& f) {
  if (f.node.IsScalar()) {
    // YAML 1.2 core schema booleans only: "yes"/"on" are YAML 1.1 and surprise people.
    const std::string& s = f.node.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  r.error(f.mark, f.path, "expected true or false, got " + describe(f.node));
  return std::nullopt;
}

std::optional<std::uint64_t> read_uint(Reader& r, const Field& f, std::uint64_t min, std::uint64_t max) {
  if (f.node.IsScalar()) {
    const std::string& s = f.node.Scalar();
    std::uint64_t v = 0;
    bool ok = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    for (char c : s) {
      if (!ok) break;
      const auto digit = static_cast<std::uint64_t>(c - '0');
      if (v > (max - digit) / 10)
        ok = false;
      else
        v = v * 10 + digit;
    }
    if (ok && v >= min && v <= max) return v;
  }
  r.error(f.mark, f.path,
          "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
              describe(f.node));
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> read_duration(Reader& r, const Field& f) {
  if (!f.node.IsScalar()) {
    r.error(f.mark, f.path,
            "expected a duration such as \"15s\", \"500ms\" or \"5m\" (0 disables), got " + describe(f.node));
    return std::nullopt;
  }
  std::string error;
  auto d = parse_duration(f.node.Scalar(), error);
  if (!d) r.error(f.mark, f.path, std::move(error));
  return d;
}

std::optional<std::string> read_choice(Reader& r, const Field& f, std::span<const std::string_view> choices) {
  auto s = read_string(r, f);
  if (!s) return std::nullopt;
  if (std::find(choices.begin(), choices.end(), *s) != choices.end()) return s;
  std::string message = "expected one of " + join_keys(choices) + ", got " + quote(*s);
  if (auto hint = suggest(*s, choices); !hint.empty()) message += "; did you mean " + quote(hint) + "?";
  r.error(f.mark, f.path, std::move(message));
  return std::nullopt;
}

std::optional<std::vector<Field>> read_list(Reader& r, const Field& f) {
  if (!f.node.IsSequence()) {
    r.error(f.mark, f.path, "expected a list, got " + describe(f.node));
    return std::nullopt;
  }
  std::vector<Field> out;
  out.reserve(f.node.size());
  std::size_t i = 0;
  for (const auto& element : f.node) {
    // A null element ("- " alone) is marked at the next token; the list's own mark is closer to the truth.
    out.push_back(Field{element, element.IsNull() ? f.mark : element.Mark(), index_path(f.path, i)});
    ++i;
  }
  return out;
}

std::vector<std::string> read_string_list(Reader& r, const Field& f) {
  std::vector<std::string> out;
  if (auto list = read_list(r, f)) {
    for (const auto& e : *list) {
      if (auto s = read_nonempty_string(r, e)) out.push_back(std::move(*s));
    }
  }
  return out;
}

std::vector<policy::Located> read_located_list(Reader& r, const Field& f) {
  std::vector<policy::Located> out;
  if (auto list = read_list(r, f)) {
    for (const auto& e : *list) {
      if (auto s = read_located(r, e)) out.push_back(std::move(*s));
    }
  }
  return out;
}

}  // namespace consent::config::detail
