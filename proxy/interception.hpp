#pragma once
// The TLS material of a running proxy (issue 4): the interception CA, the leaf cache, the client-facing
// context (we are the server inside an intercepted CONNECT) and the upstream context (we are the client
// of https origins, in both modes). Built once at start by `consentgate run` (blocking file reads and key
// generation: never on an I/O thread), immutable afterwards and shared by every worker thread. A reload
// does not replace it: data_dir, upstream_ca and tls.leaf_cache_entries are start-time settings.
//
// Naming: the *TLS name* of an intercepted connection is the host its leaf certificate was minted for:
// the client's SNI when it is a valid host name, else the CONNECT host. Inner requests must address
// that host and the CONNECT port (else 421, see session.cpp).
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "config/settings.hpp"
#include "tls/certificate_authority.hpp"
#include "tls/leaf_cache.hpp"
#include "tls/openssl_ptr.hpp"

namespace consent::proxy {

// Per-handshake state of a client-facing SSL, owned by the session frame that runs the handshake; the
// SSL points at it only until the handshake ends (interception.cpp clears the callback).
struct LeafSelection {
  std::string connect_host;  // normalised CONNECT host: the name when the client sends no usable SNI
  std::string tls_name;      // set during the handshake: the host the leaf was minted for
  std::string error;         // mint failure, for the log
};

class Interception {
 public:
  struct Built {
    std::shared_ptr<const Interception> value;  // null when errors is non-empty
    std::vector<std::string> errors;            // for the operator: what failed and what to do
    bool created_ca = false;                    // a new CA was generated in data_dir by this start
    std::string ca_path;                        // the CA certificate file, when intercepting
  };

  // `with_ca`: load or create the CA in data_dir (empty = tls::default_data_dir()) and build the
  // client-facing side; false builds only the upstream side (gateway mode, --no-intercept).
  [[nodiscard]] static Built build(const config::Settings& settings, bool with_ca);

  [[nodiscard]] bool is_intercepting() const noexcept { return ca_ != nullptr; }
  [[nodiscard]] const tls::CertificateAuthority* ca() const noexcept { return ca_.get(); }
  [[nodiscard]] tls::LeafCache* leaves() const noexcept { return leaves_.get(); }

  // A client-facing SSL that mints its leaf during the handshake for `selection` (which must outlive
  // the handshake). Null when interception is off or OpenSSL fails.
  [[nodiscard]] tls::SslPtr new_client_facing(LeafSelection* selection) const;
  // Call once the client-facing handshake ended, successfully or not: the SSL forgets `selection`.
  static void end_selection(SSL* ssl) noexcept;

  // An upstream SSL with SNI and host (or IP) verification for `name`. Null when OpenSSL fails.
  [[nodiscard]] tls::SslPtr new_upstream(std::string_view name) const;

  // True the first time `client` (an address) fails a handshake because it does not trust our CA; the
  // set is bounded (cleared when full: a hint may then repeat, never grow memory).
  [[nodiscard]] bool is_first_untrusted(std::string_view client) const;

 private:
  std::shared_ptr<const tls::CertificateAuthority> ca_;
  std::unique_ptr<tls::LeafCache> leaves_;
  tls::SslCtxPtr client_facing_;
  tls::SslCtxPtr upstream_;
  mutable std::mutex untrusted_mutex_;
  mutable std::unordered_set<std::string> untrusted_;
};

// The TLS name of a client-facing connection (see above): the normalised SNI, else `connect_host`.
// Also right after a resumed handshake, where no certificate was selected.
[[nodiscard]] std::string tls_name_of(const SSL* ssl, std::string_view connect_host);

// tls.passthrough matching: "bank.example" matches the host and its subdomains, "*.apple.com" only
// subdomains. `host` is normalised; patterns are compared case-insensitively, a trailing dot ignored.
[[nodiscard]] bool is_passthrough(const std::vector<std::string>& patterns, std::string_view host);

// True when a client-facing handshake failed because the client refused our certificate (alerts
// unknown_ca, bad_certificate, certificate_unknown): it does not trust the consentgate CA.
[[nodiscard]] bool is_untrusted_ca_alert(const boost::system::error_code& ec) noexcept;

}  // namespace consent::proxy
