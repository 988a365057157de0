#pragma once
// Reading yaml-cpp nodes into plain values while collecting every problem. Internal to config/.
//
// yaml-cpp 0.7 gives no error for duplicate keys (they stay in the node; lookups see the first) and its
// marks are 0-based; MapReader reports the former and Reader converts the latter to 1-based lines.
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/diagnostic.hpp"
#include "policy/document.hpp"

namespace consent::config::detail {

// Collects the diagnostics of one file.
class Reader {
 public:
  Reader(std::string file, std::vector<policy::Diagnostic>& out) : file_(std::move(file)), out_(&out) {}

  void error(const YAML::Mark& at, std::string key_path, std::string message);
  [[nodiscard]] policy::SourceLocation location(const YAML::Mark& at) const;
  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] std::size_t error_count() const noexcept { return errors_; }

 private:
  std::string file_;
  std::vector<policy::Diagnostic>* out_;
  std::size_t errors_ = 0;
};

// A value, where to point at it, and its key path ("trackers[2].domains[1]").
struct Field {
  YAML::Node node;
  YAML::Mark mark;  // yaml-cpp marks a null value at the next token, so for nulls this is the key's mark
  std::string path;
};

[[nodiscard]] std::string child_path(const std::string& path, std::string_view key);
[[nodiscard]] std::string index_path(const std::string& path, std::size_t index);

// "a map", "a list", "nothing", or the quoted scalar: the "got ..." half of a type error.
[[nodiscard]] std::string describe(const YAML::Node& node);

// A mapping, checked once for its shape, duplicate keys and (unless any key is allowed) unknown keys.
class MapReader {
 public:
  // `known` empty and `any_key` true: a map whose keys are data (purpose ids, CMP categories).
  MapReader(Reader& reader, Field field, std::span<const std::string_view> known, bool any_key = false);

  [[nodiscard]] bool is_map() const noexcept { return is_map_; }
  [[nodiscard]] const Field& self() const noexcept { return self_; }
  [[nodiscard]] std::optional<Field> get(std::string_view key) const;
  // As get(), and reports `missing required key "KEY"` at the map when absent.
  [[nodiscard]] std::optional<Field> require(std::string_view key) const;
  // Every (first) entry in file order, for maps with data keys.
  [[nodiscard]] const std::vector<std::pair<std::string, Field>>& entries() const noexcept { return entries_; }
  // Where a key itself was written (for diagnostics about the key rather than its value).
  [[nodiscard]] YAML::Mark key_mark(std::string_view key) const;

 private:
  Reader* reader_;
  Field self_;
  bool is_map_ = false;
  std::vector<std::pair<std::string, Field>> entries_;
  std::vector<std::pair<std::string, YAML::Mark>> key_marks_;
};

[[nodiscard]] std::optional<std::string> read_string(Reader& r, const Field& f);
// A string that must not be empty.
[[nodiscard]] std::optional<std::string> read_nonempty_string(Reader& r, const Field& f);
[[nodiscard]] std::optional<policy::Located> read_located(Reader& r, const Field& f);
[[nodiscard]] std::optional<bool> read_bool(Reader& r, const Field& f);
[[nodiscard]] std::optional<std::uint64_t> read_uint(Reader& r, const Field& f, std::uint64_t min, std::uint64_t max);
[[nodiscard]] std::optional<std::chrono::milliseconds> read_duration(Reader& r, const Field& f);
// One of `choices`, with a suggestion for a near miss.
[[nodiscard]] std::optional<std::string> read_choice(Reader& r, const Field& f,
                                                     std::span<const std::string_view> choices);
// The elements of a list, as fields with index paths; nullopt (and an error) when not a list.
[[nodiscard]] std::optional<std::vector<Field>> read_list(Reader& r, const Field& f);
// Lists of strings; invalid elements are reported and skipped.
[[nodiscard]] std::vector<std::string> read_string_list(Reader& r, const Field& f);
[[nodiscard]] std::vector<policy::Located> read_located_list(Reader& r, const Field& f);

}  // namespace consent::config::detail
