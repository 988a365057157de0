#include "tls/leaf_cache.hpp"

#include <arpa/inet.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "tls/x509_util.hpp"

namespace consent::tls {
namespace {

bool is_ip(std::string_view host) {
  const std::string h(host);
  unsigned char buf[16];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

// A SAN value must not smuggle a second entry: the host is normalised upstream, but the minter is the last
// line before a signature, so it refuses anything outside the host-name alphabet itself.
bool is_plain_host(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == ':' || c == '*';
  });
}

// The shared leaf key, as a key with OpenSSL's built-in EC method rather than a provider-only key: OpenSSL
// 3.0's X509_set_pubkey() pushes a provider key through its encoder and back through its decoder on every
// call (~0.9 ms, 77% of a mint; bench/results/leaf-mint-profile.md), where a method key is encoded
// directly (~10 us). Handshakes sign with it as fast: OpenSSL exports it to the provider once and caches it.
// The conversion is the only use of the EC_KEY API, deprecated in 3.0 but the one way to get such a key.
EvpPkeyPtr make_leaf_key() {
  EvpPkeyPtr generated(EVP_EC_gen("P-256"));
  if (!generated) return generated;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  EC_KEY* ec = EVP_PKEY_get1_EC_KEY(generated.get());
  EvpPkeyPtr direct(EVP_PKEY_new());
  if (ec == nullptr || !direct || EVP_PKEY_assign(direct.get(), EVP_PKEY_EC, ec) != 1) {
    EC_KEY_free(ec);
    ERR_clear_error();
    return generated;  // slower minting, same certificates
  }
#pragma GCC diagnostic pop
  return direct;
}

}  // namespace

LeafCache::LeafCache(std::shared_ptr<const CertificateAuthority> ca, std::size_t capacity)
    : ca_(std::move(ca)), leaf_key_(make_leaf_key()), capacity_(std::max<std::size_t>(capacity, 1)) {}

Leaf LeafCache::mint(std::string_view host) const {
  Leaf leaf;
  if (!leaf_key_) {
    leaf.error = "no leaf key (key generation failed at start)";
    return leaf;
  }
  if (!is_plain_host(host)) {
    leaf.error = "refusing to mint a certificate for an invalid host name";
    return leaf;
  }
  const std::string name(host);
  X509Ptr cert(X509_new());
  X509* ca_cert = ca_->certificate();
  const long validity_s = std::chrono::duration_cast<std::chrono::seconds>(leaf_validity).count();
  // Backdate an hour: clients with a slightly slow clock must not see a "not yet valid" leaf.
  bool ok = cert && X509_set_version(cert.get(), 2) == 1 && set_random_serial(cert.get()) &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(cert.get()), validity_s) != nullptr &&
            X509_set_pubkey(cert.get(), leaf_key_.get()) == 1 &&
            X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert)) == 1;
  if (ok) {
    // The CN is informative only (clients match the SAN); a long host would not fit its 64-byte limit.
    const std::string cn = name.size() <= 64 ? name : std::string("consentgate leaf");
    ok = X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0) == 1;
  }
  const std::string san = (is_ip(name) ? "IP:" : "DNS:") + name;
  ok = ok && add_extension(cert.get(), ca_cert, NID_basic_constraints, "critical,CA:FALSE") &&
       add_extension(cert.get(), ca_cert, NID_key_usage, "critical,digitalSignature") &&
       add_extension(cert.get(), ca_cert, NID_ext_key_usage, "serverAuth") &&
       add_extension(cert.get(), ca_cert, NID_subject_alt_name, san.c_str()) &&
       add_extension(cert.get(), ca_cert, NID_subject_key_identifier, "hash") &&
       add_extension(cert.get(), ca_cert, NID_authority_key_identifier, "keyid:always") &&
       X509_sign(cert.get(), ca_->key(), EVP_sha256()) > 0;
  if (!ok) {
    leaf.error = openssl_error("cannot mint a leaf certificate");
    return leaf;
  }
  minted_.fetch_add(1, std::memory_order_relaxed);
  leaf.certificate = std::move(cert);
  return leaf;
}

std::shared_ptr<const Leaf> LeafCache::get(std::string_view host) {
  std::shared_ptr<Entry> entry;
  bool hit = false;
  {
    std::lock_guard lock(mutex_);
    const std::string key(host);
    if (auto it = entries_.find(key); it != entries_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.second);
      entry = it->second.first;
      hit = true;
    } else {
      lru_.push_front(key);
      entry = std::make_shared<Entry>();
      entries_.emplace(key, std::make_pair(entry, lru_.begin()));
      while (entries_.size() > capacity_) {
        // An evicted entry still being minted stays alive through its waiters' shared_ptr.
        entries_.erase(lru_.back());
        lru_.pop_back();
      }
    }
  }
  if (hit) hits_.fetch_add(1, std::memory_order_relaxed);
  // Outside the lock: other hosts proceed while this one mints; same-host callers wait here.
  std::call_once(entry->once, [&] { entry->leaf = std::make_shared<const Leaf>(mint(host)); });
  return entry->leaf;
}

std::size_t LeafCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace consent::tls
