#include "policy/domain_matcher.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstring>

namespace consent::policy {
namespace {

constexpr char fold(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Suffix hashes, a label at a time and eight bytes at a time (issue 2: the byte-at-a-time FNV loop was a
// fifth of a decision). A suffix's hash continues the hash of the suffix one label shorter, so scanning
// a host once from its end gives the hash of every label-aligned suffix. Bytes are folded with | 0x20,
// which lower-cases ASCII letters and maps a few other bytes together: a hash only selects candidates,
// the key comparison after it is exact.
constexpr std::uint64_t hash_seed = 0x243F6A8885A308D3ULL;
constexpr std::uint64_t hash_multiplier = 0x9E3779B97F4A7C15ULL;
constexpr std::size_t hash_slack = 8;  // bytes readable past the end of a hashed text

constexpr std::uint64_t step(std::uint64_t h, std::uint64_t word) noexcept { return (h ^ word) * hash_multiplier; }

// What indexes the table: the low bits pick the slot, the high half is the slot's tag.
constexpr std::uint64_t finish_hash(std::uint64_t h) noexcept { return h ^ (h >> 29); }

std::uint64_t load_word(const char* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// One label [data, data + size); data[size .. size + hash_slack) must be readable (its bytes are masked off).
std::uint64_t hash_label(std::uint64_t h, const char* data, std::size_t size) noexcept {
  constexpr std::uint64_t lower = 0x2020202020202020ULL;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) h = step(h, load_word(data + i) | lower);
  if (const std::size_t rest = size - i; rest > 0) {
    const std::uint64_t mask = (std::uint64_t{1} << (8 * rest)) - 1;  // little-endian: the first bytes
    h = step(h, (load_word(data + i) | lower) & mask);
  }
  return step(h, size + 0x2E00);  // the length ends the label: "ab" + "c" differs from "a" + "bc"
}

// The hash of a whole suffix such as "example.co.uk", label by label from the right, as start() computes
// it while scanning a host. `padded` holds the suffix followed by hash_slack readable bytes.
std::uint64_t suffix_hash(std::string_view padded, std::size_t size) noexcept {
  std::uint64_t h = hash_seed;
  std::size_t end = size;
  while (true) {
    const std::size_t dot = padded.substr(0, end).rfind('.');
    const std::size_t begin = dot == std::string_view::npos ? 0 : dot + 1;
    h = hash_label(h, padded.data() + begin, end - begin);
    if (dot == std::string_view::npos) return finish_hash(h);
    end = dot;
  }
}

bool equal_folded(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  if (std::memcmp(a.data(), b.data(), a.size()) == 0) return true;  // hosts come normalised: the usual case
  for (std::size_t i = 0; i < a.size(); ++i)
    if (fold(a[i]) != b[i]) return false;  // b (a stored key) is already lower case
  return true;
}

bool is_label_char(char c) noexcept {
  // '_' is not a host name character (RFC 952) but real tracker hosts use it ("_dmarc", CDN shards).
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

std::string describe_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7F) return std::string("'") + c + "'";
  static constexpr char hex[] = "0123456789ABCDEF";
  return std::string("byte 0x") + hex[u >> 4] + hex[u & 0xF];
}

std::string_view strip_trailing_dot(std::string_view s) noexcept {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> domain_pattern_error(std::string_view pattern) {
  if (pattern.empty()) return "empty";
  std::string_view rest = strip_trailing_dot(pattern);
  if (rest.size() > max_domain_pattern_bytes)
    return "longer than " + std::to_string(max_domain_pattern_bytes) + " bytes";
  if (rest.starts_with("*.")) {
    rest.remove_prefix(2);
    if (rest.empty()) return "wildcard without a domain";
  } else if (rest == "*") {
    return "wildcard without a domain";
  }
  if (rest.empty()) return "empty label";
  std::size_t label_bytes = 0;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const char c = rest[i];
    if (c == '.') {
      if (label_bytes == 0) return "empty label";
      label_bytes = 0;
      continue;
    }
    if (c == '*') return "'*' is only allowed as the whole first label, as in \"*.example.com\"";
    if (!is_label_char(c)) {
      const std::size_t offset = static_cast<std::size_t>(rest.data() - pattern.data()) + i;
      if (static_cast<unsigned char>(c) >= 0x80)
        return "non-ASCII byte at offset " + std::to_string(offset) + "; write the A-label (xn--...)";
      return "invalid character " + describe_byte(c) + " at offset " + std::to_string(offset);
    }
    if (++label_bytes > max_domain_label_bytes)
      return "label longer than " + std::to_string(max_domain_label_bytes) + " bytes";
  }
  if (label_bytes == 0) return "empty label";
  return std::nullopt;
}

std::string canonical_domain_pattern(std::string_view pattern) {
  std::string out(strip_trailing_dot(pattern));
  for (char& c : out) c = fold(c);
  return out;
}

std::optional<std::string> DomainMatcher::add(std::string_view pattern, std::uint32_t value) {
  assert(slots_.empty() && "add() after compile()");
  if (auto error = domain_pattern_error(pattern)) return error;
  std::string canonical = canonical_domain_pattern(pattern);
  const bool subdomains_only = canonical.starts_with("*.");
  if (subdomains_only) canonical.erase(0, 2);
  pending_.push_back({std::move(canonical), subdomains_only, value, static_cast<std::uint32_t>(pending_.size())});
  ++pattern_count_;
  return std::nullopt;
}

void DomainMatcher::compile() {
  // Group by suffix, "*." first, then in the order added, so that each suffix owns one contiguous run of
  // values and a match on a proper suffix is the whole run while an exact match skips its "*." head.
  std::sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
    if (a.suffix != b.suffix) return a.suffix < b.suffix;
    if (a.subdomains_only != b.subdomains_only) return a.subdomains_only;
    return a.order < b.order;
  });
  std::size_t distinct = 0;
  for (std::size_t i = 0; i < pending_.size(); ++i)
    if (i == 0 || pending_[i].suffix != pending_[i - 1].suffix) ++distinct;
  // Load factor <= 1/2 keeps linear probing short.
  slots_.assign(std::bit_ceil(std::max<std::size_t>(distinct * 2, 8)), Slot{});
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = 0; i < pending_.size();) {
    const std::string& suffix = pending_[i].suffix;
    const std::uint64_t hash = suffix_hash(suffix + std::string(hash_slack, '\0'), suffix.size());
    const auto labels = static_cast<std::size_t>(std::count(suffix.begin(), suffix.end(), '.')) + 1;
    label_counts_ |= std::uint64_t{1} << std::min<std::size_t>(labels, 63);
    max_labels_ = std::max(max_labels_, labels);
    const auto record = static_cast<std::uint32_t>(records_.size());
    records_.push_back(static_cast<std::uint32_t>(suffix.size()));
    records_.push_back(0);
    records_.push_back(0);
    std::size_t j = i;
    for (; j < pending_.size() && pending_[j].suffix == suffix; ++j) {
      records_.push_back(pending_[j].value);
      if (pending_[j].subdomains_only) ++records_[record + 2];
    }
    records_[record + 1] = static_cast<std::uint32_t>(j - i);
    const std::size_t key_at = records_.size();
    records_.resize(key_at + (suffix.size() + 3) / 4, 0);
    std::memcpy(records_.data() + key_at, suffix.data(), suffix.size());
    std::size_t at = static_cast<std::size_t>(hash) & mask;
    while (slots_[at].record != empty_slot) at = (at + 1) & mask;
    slots_[at] = {static_cast<std::uint32_t>(hash >> 32), record, records_[record + 3]};
    i = j;
  }
  pending_.clear();
  pending_.shrink_to_fit();
}

DomainMatcher::Lookup DomainMatcher::start(std::string_view host) const noexcept {
  Lookup l;
  if (pattern_count_ == 0 || slots_.empty()) return l;
  host = strip_trailing_dot(host);
  l.host = host;
  // Suffixes that start at a label boundary, shortest first, hashed label by label in one right-to-left
  // pass that stops after the most labels any pattern has (and at the longest possible pattern): a long
  // host costs no more than the patterns it could match. The host's tail is copied so that the hash may
  // read whole words past the end of a label.
  const std::size_t stop = host.size() - std::min(host.size(), max_domain_pattern_bytes);
  const std::size_t size = host.size() - stop;
  std::array<char, max_domain_pattern_bytes + hash_slack> tail;
  std::memcpy(tail.data(), host.data() + stop, size);
  std::memset(tail.data() + size, 0, hash_slack);
  auto& probes = l.probes;
  std::size_t n = 0;
  std::uint64_t h = hash_seed;
  std::size_t end = size;
  while (n < max_labels_ && n < probes.size()) {
    std::size_t begin = end;
    while (begin > 0 && tail[begin - 1] != '.') --begin;
    // A label cut by `stop` is no whole label: no pattern (at most max_domain_pattern_bytes) can match there.
    if (begin == 0 && stop > 0 && host[stop - 1] != '.') break;
    h = hash_label(h, tail.data() + begin, end - begin);
    probes[n++] = {stop + begin, finish_hash(h)};
    if (begin == 0) break;
    end = begin - 1;
  }
  l.n = n;
  // Fetch every slot this lookup will read at once, so that their misses overlap with each other and with
  // whatever the caller does before peek() (issue 2: 100k patterns within 1.5x of 1k).
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t k = 0; k < n; ++k) {
    if ((label_counts_ >> std::min<std::size_t>(k + 1, 63) & 1U) != 0)
      __builtin_prefetch(&slots_[static_cast<std::size_t>(probes[k].hash) & mask]);
  }
  return l;
}

std::optional<std::uint32_t> DomainMatcher::peek(Lookup& l) const noexcept {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t k = l.n; k-- > 0;) {
    if ((label_counts_ >> std::min<std::size_t>(k + 1, 63) & 1U) == 0) continue;
    const auto tag = static_cast<std::uint32_t>(l.probes[k].hash >> 32);
    for (std::size_t at = static_cast<std::size_t>(l.probes[k].hash) & mask; slots_[at].record != empty_slot;
         at = (at + 1) & mask) {
      if (slots_[at].tag != tag) continue;
      __builtin_prefetch(records_.data() + slots_[at].record);
      return slots_[at].hint;
    }
  }
  return std::nullopt;
}

std::span<const std::uint32_t> DomainMatcher::finish(const Lookup& l) const noexcept {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t k = l.n; k-- > 0;) {  // longest suffix first
    if ((label_counts_ >> std::min<std::size_t>(k + 1, 63) & 1U) == 0) continue;
    const Lookup::Probe probe = l.probes[k];
    const std::string_view suffix = l.host.substr(probe.start);
    const auto tag = static_cast<std::uint32_t>(probe.hash >> 32);
    for (std::size_t at = static_cast<std::size_t>(probe.hash) & mask; slots_[at].record != empty_slot;
         at = (at + 1) & mask) {
      if (slots_[at].tag != tag) continue;
      const std::uint32_t* record = records_.data() + slots_[at].record;
      const std::uint32_t key_bytes = record[0];
      const std::uint32_t count = record[1];
      // char may alias the words the key was packed into.
      const std::string_view key(reinterpret_cast<const char*>(record + 3 + count), key_bytes);
      if (!equal_folded(suffix, key)) continue;
      const std::uint32_t skip = probe.start == 0 ? record[2] : 0;  // an exact match skips the "*." values
      if (count > skip) return {record + 3 + skip, count - skip};
      break;
    }
  }
  return {};
}

std::span<const std::uint32_t> DomainMatcher::match(std::string_view host) const noexcept {
  if (pattern_count_ == 0) return {};  // the usual allow-list: not even a Lookup to build
  return finish(start(host));
}

}  // namespace consent::policy
