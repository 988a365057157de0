#pragma once
// The consent ledger: the consent a client has given on a first-party site, so that third-party
// requests made from that site (which carry no first-party cookie) are judged by the site's consent.
//
// Contract
// - Keyed by (client, site): client is the client address (no port), site the registrable domain.
//   Keys longer than max_client_bytes / max_site_bytes, or with an empty site, are never stored
//   (lookup misses, update is ignored): no site, no consent.
// - update() always replaces the entry, whatever the timestamps: the latest observation wins, so a
//   withdrawal takes effect on the very next lookup.
// - Entries expire with the consent lifetime. No clock inside: `now` is epoch seconds passed in.
//   An entry observed at `now` with state.timestamp T expires at (T > 0 ? T : now) + lifetime_seconds;
//   lifetime_seconds <= 0 means "no lifetime" (the entry lives until evicted or replaced). An update
//   whose expiry is already past removes the entry instead of storing it.
// - Memory is bounded: at most `capacity` entries in total (rounded up to whole shards), evicting the
//   least recently used entry of the shard. lookup() counts as a use.
// - lookup() returns the stored state with source = ConsentSource::ledger.
// - Each entry also remembers which purposes were withdrawn (granted by an earlier update, not by the
//   latest), for the decision log's withdrawn_cookie_sent.
// Thread-safety: all member functions are safe from any thread; the table is split into shards, each
// behind its own mutex, so concurrent exchanges rarely contend. No member allocates on lookup().
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "policy/consent_state.hpp"

namespace consent::proxy {

class ConsentLedger {
 public:
  static constexpr std::size_t max_client_bytes = 64;
  static constexpr std::size_t max_site_bytes = 253;
  static constexpr std::size_t default_shards = 16;
  static constexpr std::size_t min_shard_entries = 64;

  // `capacity` = limits.ledger_entries (0 = store nothing). `shards` is clamped to
  // [1, capacity / min_shard_entries]: a small ledger is one shard, i.e. exact LRU.
  explicit ConsentLedger(std::size_t capacity, std::size_t shards = default_shards);
  ~ConsentLedger();
  ConsentLedger(const ConsentLedger&) = delete;
  ConsentLedger& operator=(const ConsentLedger&) = delete;

  [[nodiscard]] std::optional<policy::ConsentState> lookup(std::string_view client, std::string_view site,
                                                           std::int64_t now);
  void update(std::string_view client, std::string_view site, const policy::ConsentState& state, std::int64_t now,
              std::int64_t lifetime_seconds);
  // The purposes this client granted on this site by an earlier state of the entry and no longer grants
  // (issue 7, "a cookie of a withdrawn purpose still sent"). Kept across updates until granted again;
  // forgotten with the entry (expiry, eviction, erase). Empty when there is no live entry. Not a use (LRU).
  [[nodiscard]] policy::PurposeSet withdrawn(std::string_view client, std::string_view site, std::int64_t now);
  void erase(std::string_view client, std::string_view site);

  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::uint64_t evictions() const noexcept { return evictions_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t expirations() const noexcept { return expirations_.load(std::memory_order_relaxed); }

 private:
  struct Shard;
  Shard& shard_for(std::string_view key) noexcept;
  std::size_t capacity_;
  std::size_t per_shard_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<std::uint64_t> evictions_{0};
  std::atomic<std::uint64_t> expirations_{0};
};

}  // namespace consent::proxy
