#pragma once
// Importers of public tracker lists into consentgate policy YAML (issue 5, `consentgate import`):
//   Disconnect services.json      categories -> purposes (the map is configurable), session-replay flag
//   Open Cookie Database CSV      cookie names and prefixes -> purposes, retention kept as comments
//   hosts files and ABP/uBO lists one domain per line, "0.0.0.0 host", or domain-only "||host^" rules,
//                                 all with the one purpose given by the caller
// Pure functions: text in, trackers and problems out; no files, no logs. The output is deterministic
// (trackers sorted by id, patterns sorted) so that re-importing an unchanged list changes no byte.
//
// Problems carry file:line:column (or a JSON path for the structure of services.json). Errors mean the
// input is malformed or unusable and nothing must be written; warnings name an entry that was skipped
// (an invalid domain, an unmapped category), so nothing is ever dropped silently.
// Untrusted input is bounded: whole input, line length, JSON nesting and the number of problems kept.
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "policy/document.hpp"

namespace consent::config {

inline constexpr std::size_t max_import_bytes = 128U * 1024U * 1024U;  // a whole input list
inline constexpr std::size_t max_import_line_bytes = 64U * 1024U;      // one line of a hosts/ABP/CSV list
inline constexpr std::size_t max_import_json_depth = 32;               // services.json needs 6
inline constexpr std::size_t max_import_problems = 200;                // kept; the rest are only counted
inline constexpr std::size_t max_import_text_bytes = 160;              // one name, note or source, in YAML

// The purpose a category maps to; this value drops the category instead.
inline constexpr std::string_view skip_purpose = "skip";

struct ImportProblem {
  std::string file;
  std::size_t line = 0;    // 1-based; 0 when the problem is not tied to a line
  std::size_t column = 0;  // 1-based; 0 when unknown
  std::string where;       // JSON path ("categories.Advertising[3]") or CSV column; may be empty
  std::string message;
  bool is_error = true;

  // "file:line:column: where: message", parts that are unknown left out; warnings say "warning: ".
  [[nodiscard]] std::string to_string() const;
};

struct ImportedTracker {
  std::string id;                     // unique in the result, [a-z0-9][a-z0-9._-]*
  std::string purpose;                // a purpose id or alias of the policy the file joins
  std::string source;                 // provenance, written as the tracker's `source:`
  std::string note;                   // one comment line (entity, homepage, category)
  std::vector<std::string> domains;   // canonical domain patterns, sorted, no entry under another one
  std::vector<std::string> cookies;   // cookie-name patterns, sorted
  std::vector<std::string> urls;      // RE2 patterns on "host/path?query", sorted
  std::vector<std::string> comments;  // further comment lines (cookie retention periods)
};

struct ImportResult {
  std::vector<ImportedTracker> trackers;       // sorted by id
  std::vector<ImportProblem> problems;         // at most max_import_problems, in input order
  std::size_t problems_not_kept = 0;           // beyond that limit
  std::map<std::string, std::size_t> skipped;  // entries left out on purpose, by reason ("comment" not counted)
  std::vector<std::string> header;             // provenance and licence lines for the file's header comment

  [[nodiscard]] bool has_errors() const noexcept;
  [[nodiscard]] std::size_t domain_count() const noexcept;
  [[nodiscard]] std::size_t cookie_count() const noexcept;
};

// Category -> purpose. Unmapped categories are skipped with a warning naming the --map option.
using PurposeMap = std::map<std::string, std::string, std::less<>>;

struct ImportOptions {
  std::string file = "input";  // as shown in problems and in the provenance
  PurposeMap purposes;         // merged over the format's defaults (disconnect, ocd)
  std::string purpose;         // hosts: the purpose of every domain (required)
  std::string id;              // hosts: tracker id; empty = "import-" + the file's stem
  std::string source;          // provenance text; empty = a description of the format and file
  std::string licence;         // licence line(s) for the header; empty = what the input declares, if anything
};

// Defaults, documented in docs/pack.md. Disconnect: Advertising -> advertising-personalised, Analytics ->
// audience-measurement, Social -> social-media, Email -> email-tracking, FingerprintingInvasive ->
// advertising-personalised, the rest (Content, EmailAggressive, FingerprintingGeneral, Cryptomining,
// Anti-fraud, ConsentManagers) skipped; the "session-replay" entity flag -> session-replay.
// Open Cookie Database: Analytics -> audience-measurement, Marketing -> advertising-personalised,
// Personalization -> content-personalisation; Functional, Necessary and Security skipped.
[[nodiscard]] const PurposeMap& default_disconnect_purposes();
[[nodiscard]] const PurposeMap& default_ocd_purposes();

[[nodiscard]] ImportResult import_disconnect(std::string_view json_text, const ImportOptions& options);
[[nodiscard]] ImportResult import_open_cookie_database(std::string_view csv_text, const ImportOptions& options);
[[nodiscard]] ImportResult import_host_list(std::string_view text, const ImportOptions& options);

// What an existing policy already recognises, to import only what is new (`--against`).
class PackIndex {
 public:
  void add(const policy::Document& doc);
  // True when `domain` or one of its parent domains is a domain pattern of the pack.
  [[nodiscard]] bool covers_domain(std::string_view domain) const;
  // True when `pattern` is one of the pack's cookie patterns, or a plain name one of them matches.
  [[nodiscard]] bool covers_cookie(std::string_view pattern) const;
  [[nodiscard]] bool empty() const noexcept { return domains_.empty() && cookies_.empty(); }

 private:
  std::unordered_set<std::string> domains_;           // "x.example" (also for "*.x.example": see covers_domain)
  std::unordered_set<std::string> wildcard_domains_;  // "x.example" of "*.x.example"
  std::unordered_set<std::string> cookies_;
  std::vector<std::string> cookie_globs_;
};

// Removes from `result` the domains and cookies `pack` already covers, and trackers left empty. Returns
// how many patterns were removed (also counted in result.skipped).
std::size_t remove_covered(ImportResult& result, const PackIndex& pack);

// The policy YAML of an import: a header comment (`header` lines, then result.header), then `trackers:`.
[[nodiscard]] std::string to_policy_yaml(const ImportResult& result, const std::vector<std::string>& header);

}  // namespace consent::config
