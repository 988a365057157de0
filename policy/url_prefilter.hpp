#pragma once
// A literal pre-filter for the URL RE2::Set (issue 2: decide() under 500 ns). Most URL patterns carry a
// literal that every match must contain ("/hotjar-" in "/hotjar-[0-9]+\.js\?sv="). One pass of a
// multi-literal automaton over "host/path?query" tells whether any such literal occurs; when none does,
// no filtered pattern can match and the RE2::Set, with its locked DFA cache, is not consulted at all.
//
// The filter only ever answers "maybe" or "certainly not": a wrong "maybe" costs time, a wrong
// "certainly not" would let a tracker through, so every doubt in required_literals() gives up on the
// pattern (it then runs on every URL) rather than guess.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace consent::policy {

inline constexpr std::size_t min_prefilter_literal_bytes = 3;  // shorter literals select too little
// Named limit on the automaton's table; past it the pre-filter is off and every URL runs the set.
inline constexpr std::size_t max_prefilter_table_bytes = 16U << 20;

// Literals, one per top-level alternative of an RE2 `pattern`, such that every match of the pattern
// contains at least one of them, ASCII-lower-cased (a match may differ in ASCII case only, never more).
// nullopt when some alternative has no literal of min_prefilter_literal_bytes or more, or uses syntax
// this reading does not follow (the pattern must then always run). `pattern` must be valid RE2.
[[nodiscard]] std::optional<std::vector<std::string>> required_literals(std::string_view pattern);

// Aho-Corasick over lower-case ASCII literals, as a full transition table over byte classes (ASCII
// upper case folded), so that a scan costs one table load per byte and never allocates.
class LiteralScanner {
 public:
  // Builds the automaton. False (and the scanner stays empty) when the table would exceed
  // max_prefilter_table_bytes. Literals must be non-empty.
  bool build(const std::vector<std::string>& literals);

  // True when some literal occurs in `first` followed by `second` read as one text (ASCII case ignored).
  [[nodiscard]] bool occurs_in(std::string_view first, std::string_view second) const noexcept;

  [[nodiscard]] bool empty() const noexcept { return table_.empty(); }
  [[nodiscard]] std::size_t table_bytes() const noexcept { return table_.size() * sizeof(std::uint32_t); }

 private:
  static constexpr std::uint32_t found_bit = 0x80000000U;
  std::array<std::uint8_t, 256> class_of_{};  // 0: a byte no literal contains
  std::size_t classes_ = 1;
  // table_[state_row + class] = next state's row | found_bit when a literal ends there.
  std::vector<std::uint32_t> table_;
};

}  // namespace consent::policy
