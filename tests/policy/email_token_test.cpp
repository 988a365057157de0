#include "policy/detail/email_token.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

namespace {

using consent::policy::detail::carries_token;

// The rule read byte by byte, as engine.cpp first wrote it: the skip loop must agree with it everywhere.
bool reference(std::string_view s, std::size_t min_length) {
  const auto token = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  };
  std::size_t run = 0;
  std::size_t piece = 0;
  bool letter = false;
  bool digit = false;
  bool mixed = false;
  const auto end_piece = [&] {
    mixed = mixed || (piece >= 6 && letter && digit);
    piece = 0;
    letter = digit = false;
  };
  for (char c : s) {
    if (token(c)) {
      ++run;
      if (c == '-' || c == '_') {
        end_piece();
        continue;
      }
      ++piece;
      letter = letter || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      digit = digit || (c >= '0' && c <= '9');
      continue;
    }
    end_piece();
    if (run >= min_length && mixed) return true;
    run = 0;
    mixed = false;
  }
  end_piece();
  return run >= min_length && mixed;
}

}  // namespace

TEST_CASE("email token: ids qualify, descriptive names do not", "[policy][email]") {
  CHECK(carries_token("/o/4f9c2a7e1b3d5f6a8c0e2b4d6f8a1c3e.gif", 20));
  CHECK(carries_token("/open?u=ab12cd34ef56gh78ij90&id=x", 20));
  CHECK(carries_token("/t/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d", 20));
  CHECK_FALSE(carries_token("/img/newsletter-header-2024-november.png", 20));
  CHECK_FALSE(carries_token("/img/2024/11/photo-123-640x360.jpg", 20));  // mixed but 17 bytes
  CHECK_FALSE(carries_token("/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 20));     // long, letters only
  CHECK(carries_token("abc123def456ghi789jk", 20));                      // exactly 20, the whole text
  CHECK_FALSE(carries_token("abc123def456ghi789j", 20));
  CHECK_FALSE(carries_token("", 20));
  CHECK_FALSE(carries_token("", 0));
  CHECK(carries_token("a1b2c3", 0));
}

TEST_CASE("email token: the skip loop agrees with the byte-by-byte rule", "[policy][email]") {
  // Random texts over an alphabet that makes runs, pieces and breaks likely, and every byte value
  // (non-UTF-8, NUL) in some of them. Bounded: 20k texts of at most 96 bytes.
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;
  const auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  static constexpr char alphabet[] = "aZ09-_/.?=&x7";
  std::size_t agreed = 0;
  for (int t = 0; t < 20000; ++t) {
    std::string s(next() % 97, '\0');
    const bool any_byte = t % 8 == 0;
    for (char& c : s) c = any_byte ? static_cast<char>(next() & 0xFF) : alphabet[next() % (sizeof(alphabet) - 1)];
    const std::size_t min_length = next() % 30;
    if (carries_token(s, min_length) == reference(s, min_length)) {
      ++agreed;
    } else {
      FAIL_CHECK("disagree on \"" << s << "\" min_length " << min_length);
    }
  }
  CHECK(agreed == 20000);
}
