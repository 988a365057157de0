#pragma once
// URL patterns (RE2 syntax, unanchored) compiled into one RE2::Set and matched against
// "host/path?query" (no scheme, no port): one pass over the URL whatever the number of patterns.
// Each pattern is first compiled alone so a bad one is reported by itself, with its limit.
// A literal pre-filter (url_prefilter.hpp) runs first: a URL holding none of the patterns' required
// literals never reaches the set, which is what most URLs do.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}  // namespace re2

namespace consent::policy {

inline constexpr std::size_t max_url_pattern_bytes = 2048;          // named limit on one pattern's text
inline constexpr int max_url_pattern_program_size = 2000;           // RE2 program size of one pattern
inline constexpr std::int64_t max_url_set_memory_bytes = 64 << 20;  // RE2::Set max_mem (DFA budget included)
inline constexpr std::size_t max_url_match_bytes = 8192;            // longer URLs are matched on their head

class UrlMatcher {
 public:
  UrlMatcher();
  ~UrlMatcher();
  UrlMatcher(UrlMatcher&&) noexcept;
  UrlMatcher& operator=(UrlMatcher&&) noexcept;

  // Validates and adds one pattern. On error returns the reason in words (nothing added), e.g.
  //   not a valid RE2 pattern (missing ): ()
  //   too complex (RE2 program size 5231, limit 2000)
  std::optional<std::string> add(std::string_view pattern, std::uint32_t value);

  // Compiles the set. On error (the combined set exceeds its memory budget) returns the reason.
  std::optional<std::string> compile();

  // True when some pattern matches host + path_and_query. Uses a fixed stack buffer, allocates nothing.
  [[nodiscard]] bool matches(std::string_view host, std::string_view path_and_query) const noexcept;

  // Appends to `values` the value of every matching pattern, in the order added. Allocates only for a URL
  // that passes the literal pre-filter (RE2 collects the matches in a set of its own), and `values` only
  // when some pattern matches; most URLs cost one pre-filter pass.
  void match(std::string_view host, std::string_view path_and_query, std::vector<std::uint32_t>& values) const;

  [[nodiscard]] std::size_t size() const noexcept { return values_.size(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<std::uint32_t> values_;  // by RE2::Set index
};

}  // namespace consent::policy
