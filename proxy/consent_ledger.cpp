#include "proxy/consent_ledger.hpp"

#include <algorithm>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace consent::proxy {

namespace {

constexpr std::size_t max_key_bytes = ConsentLedger::max_client_bytes + 1 + ConsentLedger::max_site_bytes;

// The key is "client\0site": NUL cannot occur in a normalised host or an address, so keys never collide.
// Composed into a caller-provided stack buffer so that lookup() does not allocate.
std::string_view compose_key(std::string_view client, std::string_view site, char (&buf)[max_key_bytes]) {
  if (site.empty() || client.size() > ConsentLedger::max_client_bytes || site.size() > ConsentLedger::max_site_bytes) {
    return {};
  }
  std::copy(client.begin(), client.end(), buf);
  buf[client.size()] = '\0';
  std::copy(site.begin(), site.end(), buf + client.size() + 1);
  return {buf, client.size() + 1 + site.size()};
}

struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct Entry {
  std::string key;
  policy::ConsentState state;
  std::int64_t expires_at = 0;  // epoch seconds; 0 = no lifetime
  policy::PurposeSet withdrawn;
};

}  // namespace

struct ConsentLedger::Shard {
  std::mutex mutex;
  std::list<Entry> lru;  // front = most recently used
  std::unordered_map<std::string, std::list<Entry>::iterator, KeyHash, std::equal_to<>> index;
};

ConsentLedger::ConsentLedger(std::size_t capacity, std::size_t shards) : capacity_(capacity) {
  // LRU is per shard: keep shards big enough (min_shard_entries) that eviction stays close to global LRU.
  const std::size_t n = std::clamp<std::size_t>(shards, 1, std::max<std::size_t>(capacity / min_shard_entries, 1));
  per_shard_ = (capacity + n - 1) / n;
  shards_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>());
}

ConsentLedger::~ConsentLedger() = default;

ConsentLedger::Shard& ConsentLedger::shard_for(std::string_view key) noexcept {
  // Mix the hash again so that the shard choice and the bucket choice inside it use different bits.
  std::size_t h = KeyHash{}(key);
  h ^= h >> 33U;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33U;
  return *shards_[h % shards_.size()];
}

std::optional<policy::ConsentState> ConsentLedger::lookup(std::string_view client, std::string_view site,
                                                          std::int64_t now) {
  char buf[max_key_bytes];
  const auto key = compose_key(client, site, buf);
  if (key.empty()) return std::nullopt;
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.index.find(key);
  if (it == shard.index.end()) return std::nullopt;
  const auto entry = it->second;
  if (entry->expires_at != 0 && entry->expires_at <= now) {
    shard.index.erase(it);
    shard.lru.erase(entry);
    expirations_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, entry);
  policy::ConsentState state = entry->state;
  state.source = policy::ConsentSource::ledger;
  return state;
}

void ConsentLedger::update(std::string_view client, std::string_view site, const policy::ConsentState& state,
                           std::int64_t now, std::int64_t lifetime_seconds) {
  if (capacity_ == 0) return;
  char buf[max_key_bytes];
  const auto key = compose_key(client, site, buf);
  if (key.empty()) return;
  std::int64_t expires_at = 0;
  if (lifetime_seconds > 0) {
    const std::int64_t from = state.timestamp > 0 ? state.timestamp : now;
    expires_at = from > INT64_MAX - lifetime_seconds ? INT64_MAX : from + lifetime_seconds;
  }
  const bool already_expired = expires_at != 0 && expires_at <= now;

  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.index.find(key);
  if (it != shard.index.end()) {
    if (already_expired) {
      shard.lru.erase(it->second);
      shard.index.erase(it);
      expirations_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    Entry& entry = *it->second;
    entry.withdrawn = (entry.withdrawn | entry.state.granted) & ~state.granted;
    entry.state = state;
    entry.expires_at = expires_at;
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
    return;
  }
  if (already_expired) return;
  // Evict before inserting so that the shard never holds more than per_shard_ entries, even transiently.
  while (shard.lru.size() >= per_shard_ && !shard.lru.empty()) {
    shard.index.erase(shard.lru.back().key);
    shard.lru.pop_back();
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
  shard.lru.push_front(Entry{std::string(key), state, expires_at, {}});
  try {
    shard.index.emplace(shard.lru.front().key, shard.lru.begin());
  } catch (...) {
    shard.lru.pop_front();  // keep index and list consistent if the map cannot grow
    throw;
  }
}

policy::PurposeSet ConsentLedger::withdrawn(std::string_view client, std::string_view site, std::int64_t now) {
  char buf[max_key_bytes];
  const auto key = compose_key(client, site, buf);
  if (key.empty()) return {};
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.index.find(key);
  if (it == shard.index.end()) return {};
  const Entry& entry = *it->second;
  if (entry.expires_at != 0 && entry.expires_at <= now) return {};  // lookup() removes it
  return entry.withdrawn;
}

void ConsentLedger::erase(std::string_view client, std::string_view site) {
  char buf[max_key_bytes];
  const auto key = compose_key(client, site, buf);
  if (key.empty()) return;
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.index.find(key);
  if (it == shard.index.end()) return;
  shard.lru.erase(it->second);
  shard.index.erase(it);
}

std::size_t ConsentLedger::size() const {
  std::size_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    total += shard->lru.size();
  }
  return total;
}

}  // namespace consent::proxy
