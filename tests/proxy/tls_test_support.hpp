#pragma once
// TLS test helpers: a test PKI for HTTPS origins (its own CA, distinct from consentgate's: the proxy
// trusts it through --upstream-ca), server contexts with good, expired, self-signed or wrong-host
// certificates, and a blocking TLS client that speaks CONNECT through the proxy.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tls/openssl_ptr.hpp"

namespace consent::test {

class TestPki {
 public:
  // Creates a CA named "test origin CA" and writes its certificate to <dir>/origin-ca.pem.
  explicit TestPki(const std::filesystem::path& dir);

  [[nodiscard]] const std::filesystem::path& ca_pem() const noexcept { return ca_pem_; }

  struct Leaf {
    std::vector<std::string> dns_names;
    std::chrono::seconds not_before{-3600};  // relative to now
    std::chrono::seconds not_after{86400};
    bool is_self_signed = false;  // signed by its own key, not by the test CA
  };
  // A server context presenting that certificate (TLS 1.2+).
  [[nodiscard]] tls::SslCtxPtr server_context(const Leaf& leaf) const;

 private:
  tls::EvpPkeyPtr ca_key_;
  tls::X509Ptr ca_cert_;
  std::filesystem::path ca_pem_;
};

// What a TLS client saw after CONNECT host:port through the proxy and a handshake with SNI `host`.
struct TlsProbe {
  bool connected = false;     // the proxy answered 200 to CONNECT
  bool handshake_ok = false;  // handshake completed (the verification result is separate)
  long verify_result = -1;    // X509_V_OK when the chain verifies against the CA file and names `host`
  std::string issuer;         // peer certificate issuer, one line
  std::string serial;         // peer certificate serial, hex
  std::string san;            // first SAN entry: "DNS:x" or "IP:1.2.3.4"
  std::string response;       // reply to `request` when one was given and the handshake succeeded
};

// CONNECT host:port via the proxy on 127.0.0.1:proxy_port, TLS with SNI `sni` (empty: none), peer
// verified against `ca_file` for `host`. Sends `request` (if not empty) and reads until close or 5 s.
[[nodiscard]] TlsProbe probe_through_proxy(std::uint16_t proxy_port, const std::string& host, std::uint16_t port,
                                           const std::string& sni, const std::filesystem::path& ca_file,
                                           const std::string& request = {});

}  // namespace consent::test
