#pragma once
// Purposes are configured, not compiled in: an Engine numbers them 0..max_purposes-1 in the order the
// Document lists them, so a consent state is one 64-bit mask and a decision never allocates.
#include <bit>
#include <cstddef>
#include <cstdint>

namespace consent::policy {

inline constexpr std::size_t max_purposes = 64;  // named limit: a policy with more purposes is refused at load

using PurposeIndex = std::uint8_t;
inline constexpr PurposeIndex no_purpose = 0xFF;

// A set of purposes, by index. Value type, trivially copyable.
class PurposeSet {
 public:
  constexpr PurposeSet() noexcept = default;
  static constexpr PurposeSet from_bits(std::uint64_t bits) noexcept {
    PurposeSet s;
    s.bits_ = bits;
    return s;
  }
  static constexpr PurposeSet all() noexcept { return from_bits(~std::uint64_t{0}); }

  constexpr void insert(PurposeIndex p) noexcept {
    if (p < max_purposes) bits_ |= std::uint64_t{1} << p;
  }
  constexpr void erase(PurposeIndex p) noexcept {
    if (p < max_purposes) bits_ &= ~(std::uint64_t{1} << p);
  }
  [[nodiscard]] constexpr bool contains(PurposeIndex p) const noexcept {
    return p < max_purposes && (bits_ >> p & 1U) != 0;
  }
  [[nodiscard]] constexpr bool empty() const noexcept { return bits_ == 0; }
  [[nodiscard]] constexpr std::size_t size() const noexcept { return static_cast<std::size_t>(std::popcount(bits_)); }
  [[nodiscard]] constexpr std::uint64_t bits() const noexcept { return bits_; }

  constexpr PurposeSet operator&(PurposeSet o) const noexcept { return from_bits(bits_ & o.bits_); }
  constexpr PurposeSet operator|(PurposeSet o) const noexcept { return from_bits(bits_ | o.bits_); }
  constexpr PurposeSet operator~() const noexcept { return from_bits(~bits_); }
  constexpr bool operator==(const PurposeSet&) const noexcept = default;

 private:
  std::uint64_t bits_ = 0;
};

}  // namespace consent::policy
