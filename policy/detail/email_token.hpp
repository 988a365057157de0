#pragma once
// The email-pixel token test of Engine::decide (rule 4 in policy/engine.cpp), in a header of its own so
// that a test can hold it against a plain byte-by-byte reading of the same rule.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace consent::policy::detail {

// Byte classes of a token: 0 not a token byte, 1 a piece separator ('-', '_'), 2 a letter, 3 a digit.
inline constexpr std::array<std::uint8_t, 256> token_class = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = 2;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = 2;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = 3;
  t['-'] = 1;
  t['_'] = 1;
  return t;
}();

[[nodiscard]] inline bool is_token_byte(char c) noexcept { return token_class[static_cast<unsigned char>(c)] != 0; }

// One run of token bytes: does one of its '-'/'_'-separated pieces mix letters and digits over at least
// min_piece_length bytes?
[[nodiscard]] inline bool run_is_mixed(std::string_view run) noexcept {
  constexpr std::size_t min_piece_length = 6;
  std::size_t piece = 0;
  unsigned seen = 0;  // bit 0: letter, bit 1: digit
  for (char c : run) {
    const std::uint8_t k = token_class[static_cast<unsigned char>(c)];
    if (k == 1) {
      if (piece >= min_piece_length && seen == 3) return true;
      piece = 0;
      seen = 0;
      continue;
    }
    ++piece;
    seen |= k - 1U;  // letter 2 -> 1, digit 3 -> 2
  }
  return piece >= min_piece_length && seen == 3;
}

// A long unique-looking token: one per recipient is what makes a pixel a tracker. A maximal run of token
// bytes ([A-Za-z0-9_-]) qualifies when it is at least min_length long and run_is_mixed: ids (hex,
// base64url, UUIDs) do, descriptive file names ("newsletter-header-2024") do not.
//
// Most URLs have no run that long, and finding that out need not read every byte: a window of min_length
// bytes is checked from its right end, and the first byte that is not a token byte moves the window past
// it (a skip loop, as in Boyer-Moore). Each byte is read at most twice; a typical path a few times less
// than once (issue 2: this test ran on a third of the benchmark's requests, over the whole path).
[[nodiscard]] inline bool carries_token(std::string_view text, std::size_t min_length) noexcept {
  const std::size_t need = min_length == 0 ? 1 : min_length;
  const std::size_t n = text.size();
  std::size_t start = 0;  // text[start - 1], when there is one, is not a token byte
  while (n - start >= need) {
    std::size_t j = start + need;
    while (j > start && is_token_byte(text[j - 1])) --j;
    if (j > start) {  // text[j - 1] breaks every run that could hold this window
      start = j;
      continue;
    }
    std::size_t end = start + need;
    while (end < n && is_token_byte(text[end])) ++end;
    if (run_is_mixed(text.substr(start, end - start))) return true;
    if (end == n) return false;
    start = end + 1;
  }
  return false;
}

}  // namespace consent::policy::detail
