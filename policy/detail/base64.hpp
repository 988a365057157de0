#pragma once
// Base64 (RFC 4648 §4) and base64url (§5) decoding for consent cookies. Internal to policy/.
//
// Consent cookies arrive in both alphabets, padded or not (Didomi writes standard base64 with '=',
// TC strings are unpadded base64url), so the decoder accepts either alphabet but never a mix of both,
// and only canonical encodings: padding only at the end and only where it completes a quantum, and zero
// pad bits, so that one cookie value has exactly one meaning.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace consent::policy::detail {

// 0..63 for a base64url character ('-', '_'), -1 otherwise.
[[nodiscard]] constexpr int base64url_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// 0..63 for a character of either alphabet, -1 otherwise.
[[nodiscard]] constexpr int base64_any_value(char c) noexcept {
  if (c == '+') return 62;
  if (c == '/') return 63;
  return base64url_value(c);
}

// Decodes `in` into `out` (replaced). Returns false, leaving `out` unspecified, on any character outside
// the alphabets, a mix of '+'/'/' with '-'/'_', misplaced or excess padding, a length that cannot be a
// whole number of bytes, or non-zero pad bits.
[[nodiscard]] inline bool base64_decode(std::string_view in, std::string& out) {
  out.clear();
  std::size_t padding = 0;
  while (!in.empty() && in.back() == '=') {
    in.remove_suffix(1);
    ++padding;
  }
  if (padding > 2) return false;
  if (padding > 0 && (in.size() + padding) % 4 != 0) return false;
  if (in.size() % 4 == 1) return false;  // 6 bits cannot end a byte
  bool saw_std = false;
  bool saw_url = false;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    const int v = base64_any_value(c);
    if (v < 0) return false;
    saw_std = saw_std || c == '+' || c == '/';
    saw_url = saw_url || c == '-' || c == '_';
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFFU));
    }
  }
  if (saw_std && saw_url) return false;
  if (bits > 0 && (acc & ((1U << bits) - 1U)) != 0) return false;
  return true;
}

}  // namespace consent::policy::detail
