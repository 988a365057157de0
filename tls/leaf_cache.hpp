#pragma once
// Leaf certificates for intercepted hosts, minted on demand and kept in a bounded LRU cache.
//
// Every leaf shares one ECDSA P-256 key (as mitmproxy does): minting costs a single CA signature, not a
// key generation. A leaf carries the host as its only SAN (DNS name, or IP address for an IP literal),
// serverAuth EKU, a random serial, AKI/SKI, and lives `leaf_validity` (well under the 398 days browsers
// accept). Concurrent handshakes for the same new host mint once: the others wait for that one result.
//
// Thread-safe. Minting runs on the calling thread (CPU work of ~0.1 ms, no I/O).
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tls/certificate_authority.hpp"
#include "tls/openssl_ptr.hpp"

namespace consent::tls {

inline constexpr std::chrono::hours leaf_validity{24 * 90};

struct Leaf {
  X509Ptr certificate;  // null when minting failed (error says why)
  std::string error;
};

class LeafCache {
 public:
  // Generates the shared leaf key. capacity: how many hosts' leaves are kept (at least 1).
  LeafCache(std::shared_ptr<const CertificateAuthority> ca, std::size_t capacity);

  // The leaf for `host` (a normalised host name or IP literal), minting it on a miss.
  [[nodiscard]] std::shared_ptr<const Leaf> get(std::string_view host);

  // Mints without caching (benchmarks and tests).
  [[nodiscard]] Leaf mint(std::string_view host) const;

  [[nodiscard]] EVP_PKEY* leaf_key() const noexcept { return leaf_key_.get(); }
  [[nodiscard]] const CertificateAuthority& authority() const noexcept { return *ca_; }
  [[nodiscard]] std::uint64_t minted() const noexcept { return minted_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t hits() const noexcept { return hits_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t size() const;

 private:
  struct Entry {
    std::once_flag once;
    std::shared_ptr<const Leaf> leaf;
  };
  using Lru = std::list<std::string>;

  std::shared_ptr<const CertificateAuthority> ca_;
  EvpPkeyPtr leaf_key_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  Lru lru_;  // front = most recently used
  std::unordered_map<std::string, std::pair<std::shared_ptr<Entry>, Lru::iterator>> entries_;
  mutable std::atomic<std::uint64_t> minted_{0};
  std::atomic<std::uint64_t> hits_{0};
};

}  // namespace consent::tls
