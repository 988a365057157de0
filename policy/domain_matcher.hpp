#pragma once
// Host-suffix matching that never scans the list: a lookup hashes each suffix of the host that starts at
// a label boundary (longest first) and probes one open-addressing table, so it costs O(labels in the host)
// whatever the number of patterns.
//
// Patterns:
//   "example.com"    the host itself and every subdomain ("a.example.com", "x.a.example.com")
//   "*.example.com"  subdomains only
// Patterns are ASCII (A-labels); upper case is folded and one trailing dot is ignored, on patterns and hosts.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policy/detail/huge_page_allocator.hpp"

namespace consent::policy {

inline constexpr std::size_t max_domain_pattern_bytes = 253;  // RFC 1035 §2.3.4, without the trailing dot
inline constexpr std::size_t max_domain_label_bytes = 63;

// Checks one domain pattern. nullopt when valid, else the reason in words, e.g. "empty label", as used in
//   "*.stats..example" is not a domain pattern (empty label)
[[nodiscard]] std::optional<std::string> domain_pattern_error(std::string_view pattern);

// The canonical form of a valid pattern (lower case, no trailing dot), "*." kept.
[[nodiscard]] std::string canonical_domain_pattern(std::string_view pattern);

class DomainMatcher {
 public:
  // Adds a pattern carrying `value` (the caller's rule number). Returns the reason when the pattern is
  // invalid (see domain_pattern_error), in which case nothing is added. Several values may share a pattern.
  std::optional<std::string> add(std::string_view pattern, std::uint32_t value);

  // Freezes the table; add() must not be called afterwards, match() only afterwards.
  void compile();

  // The values of the longest pattern that matches `host` (in the order they were added, "*." patterns
  // first), or an empty span. The span points into the matcher. Never allocates.
  [[nodiscard]] std::span<const std::uint32_t> match(std::string_view host) const noexcept;

  // match() in three steps, so that a caller can do other work while the table's cache lines load (at 100k
  // patterns the table is far larger than the caches): start() hashes the host and prefetches the slots
  // it will read; peek() reads them, prefetches the record of the likeliest hit and returns a hint (the
  // value it will probably match first, for the caller's own prefetch; a hint may be wrong); finish()
  // returns exactly what match() would. `host` must outlive the Lookup.
  struct Lookup;
  [[nodiscard]] Lookup start(std::string_view host) const noexcept;
  [[nodiscard]] std::optional<std::uint32_t> peek(Lookup& lookup) const noexcept;
  [[nodiscard]] std::span<const std::uint32_t> finish(const Lookup& lookup) const noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return pattern_count_; }

 private:
  struct Pending {
    std::string suffix;
    bool subdomains_only;
    std::uint32_t value;
    std::uint32_t order;
  };
  // 8 bytes per slot so that a 100k-pattern table stays small in cache: a probe of a miss touches one
  // slot; a hit then reads one record holding the key and its values side by side.
  struct Slot {
    std::uint32_t tag = 0;              // high half of the suffix hash
    std::uint32_t record = empty_slot;  // offset into records_
    std::uint32_t hint = 0;             // the record's first value: what peek() announces
  };
  static constexpr std::uint32_t empty_slot = 0xFFFFFFFF;
  // records_: per suffix [key bytes][value count][of which "*." first][values...][key, packed 4 per word]

  std::vector<Pending> pending_;
  std::vector<Slot, detail::HugePageAllocator<Slot>> slots_;  // power-of-two size
  std::vector<std::uint32_t, detail::HugePageAllocator<std::uint32_t>> records_;
  std::size_t pattern_count_ = 0;
  std::uint64_t label_counts_ = 0;  // bit k: some pattern has k labels (63: 63 or more); unprobed otherwise
  std::size_t max_labels_ = 0;      // no suffix with more labels is hashed

 public:
  struct Lookup {
    struct Probe {
      std::size_t start;
      std::uint64_t hash;
    };
    std::string_view host;
    std::array<Probe, max_domain_pattern_bytes / 2 + 2> probes;
    std::size_t n = 0;  // probes[k] is the suffix of k + 1 labels
  };
};

}  // namespace consent::policy
