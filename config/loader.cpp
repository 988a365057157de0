#include "config/loader.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>
#include <tuple>

#include "config/readers.hpp"
#include "config/value_parsers.hpp"
#include "config/yaml_reader.hpp"

namespace consent::config {
namespace {

namespace fs = std::filesystem;

// Named limit: the largest tracker packs are a few MB of YAML; anything beyond this is a mistake (a log
// file named as a policy) and would only cost memory.
constexpr std::uintmax_t max_config_file_bytes = 16U * 1024 * 1024;

// Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629), or npos. NUL is refused too:
// yaml-cpp would silently cut the text there.
std::size_t find_invalid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return i;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      const unsigned char l = k == 1 ? lo : 0x80;
      const unsigned char h = k == 1 ? hi : 0xBF;
      if (cc < l || cc > h) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

// Named limits on the parsed tree. yaml-cpp keeps aliases as shared nodes, so a small file can stand
// for a huge or even cyclic tree ("a: &a [*a]"): walking it without a budget would never end.
constexpr std::size_t max_yaml_values = 1'000'000;  // ten times the largest real pack
constexpr int max_yaml_depth = 64;                  // the formats nest 6 levels deep

enum class TreeCheck { ok, too_many, too_deep };

TreeCheck check_tree(const YAML::Node& node, int depth, std::size_t& budget) {
  if (depth > max_yaml_depth) return TreeCheck::too_deep;
  if (budget == 0) return TreeCheck::too_many;
  --budget;
  if (node.IsSequence()) {
    for (const auto& child : node) {
      if (auto r = check_tree(child, depth + 1, budget); r != TreeCheck::ok) return r;
    }
  } else if (node.IsMap()) {
    for (const auto& pair : node) {
      if (auto r = check_tree(pair.first, depth + 1, budget); r != TreeCheck::ok) return r;
      if (auto r = check_tree(pair.second, depth + 1, budget); r != TreeCheck::ok) return r;
    }
  }
  return TreeCheck::ok;
}

YAML::Mark mark_at(std::string_view text, std::size_t offset) {
  YAML::Mark m;
  m.pos = static_cast<int>(offset);
  m.line = static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
  const auto line_start = text.rfind('\n', offset == 0 ? 0 : offset - 1);
  const std::size_t column = (line_start == std::string_view::npos || offset == 0) ? offset : offset - line_start - 1;
  m.column = static_cast<int>(column);
  return m;
}

// Parses one file's text into its single YAML document; reports and returns nullopt on any problem.
std::optional<YAML::Node> parse_yaml(detail::Reader& r, const std::string& text) {
  if (auto bad = find_invalid_utf8(text); bad != std::string_view::npos) {
    r.error(mark_at(text, bad), "", "the file is not valid UTF-8");
    return std::nullopt;
  }
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::DeepRecursion& e) {
    r.error(e.mark, "", "YAML nesting is too deep");
    return std::nullopt;
  } catch (const YAML::ParserException& e) {
    r.error(e.mark, "", "YAML syntax error: " + e.msg);
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    r.error(e.mark, "", "YAML error: " + e.msg);
    return std::nullopt;
  }
  if (docs.empty() || (docs.size() == 1 && docs[0].IsNull())) {
    r.error(YAML::Mark::null_mark(), "", "the file is empty");
    return std::nullopt;
  }
  if (docs.size() > 1) {
    r.error(docs[1].Mark(), "", "a second YAML document starts here; a file holds exactly one");
    return std::nullopt;
  }
  std::size_t budget = max_yaml_values;
  switch (check_tree(docs[0], 0, budget)) {
    case TreeCheck::ok:
      return docs[0];
    case TreeCheck::too_deep:
      r.error(YAML::Mark::null_mark(), "", "YAML nesting is too deep (more than 64 levels, counting aliases)");
      return std::nullopt;
    case TreeCheck::too_many:
      r.error(YAML::Mark::null_mark(), "", "the file holds too many values (more than 1000000, counting aliases)");
      return std::nullopt;
  }
  return std::nullopt;
}

// Reads a whole file, bounded. On failure returns nullopt and a reason ("No such file or directory").
std::optional<std::string> read_text(const fs::path& path, std::string& error) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec) {
    error = ec.message();
    return std::nullopt;
  }
  if (fs::is_directory(status)) {
    error = "is a directory";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::string text;
  std::array<char, 65536> buf{};
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    text.append(buf.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_config_file_bytes) {
      error = "larger than 16MiB";
      return std::nullopt;
    }
  }
  if (in.bad()) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  return text;
}

std::string display(const fs::path& p) { return p.lexically_normal().string(); }

std::string describe_location(const policy::SourceLocation& at) {
  return at.file + ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
}

// Merges policy files in order: purposes, trackers and allow_domains are appended; the consent, caps
// and email sections may each come from one file only, so no file silently overrides another.
void merge(std::vector<detail::PolicyPart>& parts, policy::Document& doc, std::vector<policy::Diagnostic>& out) {
  std::optional<policy::SourceLocation> consent_at, caps_at, email_at;
  const detail::PolicyPart* consent_part = nullptr;
  const auto single = [&out](std::optional<policy::SourceLocation>& first,
                             const std::optional<policy::SourceLocation>& at, std::string_view section) {
    if (!at) return false;
    if (first) {
      out.push_back(policy::Diagnostic{*at, std::string(section),
                                       "already defined at " + describe_location(*first) + "; the " +
                                           std::string(section) + " section must be in one file"});
      return false;
    }
    first = at;
    return true;
  };
  for (auto& part : parts) {
    if (doc.name.empty()) doc.name = part.doc.name;
    if (doc.version.empty()) doc.version = part.doc.version;
    std::move(part.doc.purposes.begin(), part.doc.purposes.end(), std::back_inserter(doc.purposes));
    std::move(part.doc.trackers.begin(), part.doc.trackers.end(), std::back_inserter(doc.trackers));
    std::move(part.doc.allow_domains.begin(), part.doc.allow_domains.end(), std::back_inserter(doc.allow_domains));
    if (single(consent_at, part.consent_at, "consent")) {
      doc.consent = std::move(part.doc.consent);
      consent_part = &part;
    }
    if (single(caps_at, part.caps_at, "caps")) doc.caps = part.doc.caps;
    if (single(email_at, part.email_at, "email")) doc.email = std::move(part.doc.email);
  }
  // The override is a plain map without locations, so Engine::build could not point at a typo in it:
  // its keys are checked here, against the merged purposes.
  if (consent_part == nullptr) return;
  for (const auto& [key, at] : consent_part->user_override_at) {
    const bool known = std::any_of(doc.purposes.begin(), doc.purposes.end(), [&key](const policy::PurposeDef& p) {
      return p.id == key || std::find(p.aliases.begin(), p.aliases.end(), key) != p.aliases.end();
    });
    if (!known) {
      out.push_back(policy::Diagnostic{at, "consent.user_override", "unknown purpose " + quote(key)});
    }
  }
}

// The policy files named by one `policies:` entry: the file itself, or a directory's *.yaml, sorted.
std::vector<fs::path> expand(detail::Reader& r, const detail::PolicyRef& ref, const fs::path& base_dir) {
  fs::path p(ref.text);
  if (p.is_relative() && !base_dir.empty()) p = base_dir / p;
  p = p.lexically_normal();
  std::error_code ec;
  const auto status = fs::status(p, ec);
  if (ec) {
    r.error(ref.field.mark, ref.field.path, "cannot read " + quote(display(p)) + ": " + ec.message());
    return {};
  }
  if (!fs::is_directory(status)) return {p};
  std::vector<fs::path> files;
  fs::directory_iterator it(p, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".yaml" && it->is_regular_file(ec)) files.push_back(it->path());
  }
  if (ec) {
    r.error(ref.field.mark, ref.field.path, "cannot read " + quote(display(p)) + ": " + ec.message());
    return {};
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) r.error(ref.field.mark, ref.field.path, "no *.yaml files in " + quote(display(p)));
  return files;
}

// Reading order follows the structs, not the file; people read diagnostics top to bottom, so each file's
// come in line order, and files in the order they were first mentioned.
void sort_diagnostics(std::vector<policy::Diagnostic>& diags) {
  std::vector<std::string> files;
  for (const auto& d : diags) {
    if (std::find(files.begin(), files.end(), d.where.file) == files.end()) files.push_back(d.where.file);
  }
  const auto rank = [&files](const policy::Diagnostic& d) {
    return std::tuple(std::find(files.begin(), files.end(), d.where.file) - files.begin(), d.where.line,
                      d.where.column);
  };
  std::stable_sort(diags.begin(), diags.end(), [&rank](const auto& a, const auto& b) { return rank(a) < rank(b); });
}

}  // namespace

LoadResult load_config(const fs::path& file) {
  LoadResult result;
  auto& diags = result.diagnostics;
  const std::string name = file.string();
  detail::Reader settings_reader(name, diags);
  std::string error;
  auto text = read_text(file, error);
  if (!text) {
    diags.push_back(policy::Diagnostic{{name, 0, 0}, "", "cannot read file: " + error});
    return result;
  }
  auto root = parse_yaml(settings_reader, *text);
  if (!root) return result;

  Config config;
  config.source = file;
  const fs::path base_dir = file.parent_path();
  std::vector<detail::PolicyRef> refs;
  detail::read_settings(settings_reader, *root, base_dir, config.settings, refs);

  std::vector<detail::PolicyPart> parts;
  std::vector<std::pair<fs::path, std::string>> loaded;  // canonical path -> the entry that loaded it
  for (const auto& ref : refs) {
    for (const auto& path : expand(settings_reader, ref, base_dir)) {
      const std::string shown = display(path);
      config.settings.policies.push_back(shown);
      std::error_code ec;
      const auto canonical = fs::weakly_canonical(path, ec);
      auto seen =
          std::find_if(loaded.begin(), loaded.end(), [&](const auto& e) { return !ec && e.first == canonical; });
      if (seen != loaded.end()) {
        settings_reader.error(ref.field.mark, ref.field.path, quote(shown) + " is already loaded by " + seen->second);
        continue;
      }
      loaded.emplace_back(canonical, ref.field.path);
      auto policy_text = read_text(path, error);
      if (!policy_text) {
        settings_reader.error(ref.field.mark, ref.field.path, "cannot read " + quote(shown) + ": " + error);
        continue;
      }
      detail::Reader policy_reader(shown, diags);
      auto policy_root = parse_yaml(policy_reader, *policy_text);
      if (!policy_root) continue;
      detail::read_policy(policy_reader, *policy_root, parts.emplace_back());
    }
  }
  merge(parts, config.policy, diags);
  sort_diagnostics(diags);
  if (diags.empty()) result.config = std::move(config);
  return result;
}

LoadResult load_policy_text(const std::string& text, const std::string& name) {
  LoadResult result;
  detail::Reader reader(name, result.diagnostics);
  auto root = parse_yaml(reader, text);
  if (!root) return result;
  std::vector<detail::PolicyPart> parts(1);
  detail::read_policy(reader, *root, parts.front());
  Config config;
  config.source = name;
  merge(parts, config.policy, result.diagnostics);
  sort_diagnostics(result.diagnostics);
  if (result.diagnostics.empty()) result.config = std::move(config);
  return result;
}

}  // namespace consent::config
