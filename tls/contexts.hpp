#pragma once
// The two TLS roles of an intercepting proxy.
//
// Client-facing (we are the server): TLS 1.2 and 1.3, ALPN offers only http/1.1 (our pipeline speaks
// HTTP/1.1), the leaf chosen per connection from the SNI name (or the CONNECT host) via LeafCache.
// Upstream (we are the client): peer verification against the system trust store plus extra CA files,
// host-name (or IP) verification and SNI; there is no "insecure" switch.
//
// Both contexts set SSL_MODE_RELEASE_BUFFERS so an idle connection holds no 34 KiB read/write buffers.
#include <string>
#include <string_view>
#include <vector>

#include "tls/leaf_cache.hpp"
#include "tls/openssl_ptr.hpp"

namespace consent::tls {

struct ContextResult {
  SslCtxPtr context;  // null on failure
  std::string error;
};

[[nodiscard]] ContextResult make_client_facing_context();

// extra_ca_files: PEM files added as trust anchors (staging origins with their own CA).
[[nodiscard]] ContextResult make_upstream_context(const std::vector<std::string>& extra_ca_files);

// Installs the leaf for `host` on a client-facing SSL before its handshake: certificate, the shared leaf
// key, and the CA certificate as chain. Returns the mint error, empty on success.
[[nodiscard]] std::string use_leaf(SSL* ssl, LeafCache& cache, std::string_view host);

// Sets SNI (host names only, RFC 6066 §3 forbids IP literals) and the name or IP the peer certificate
// must match, on an upstream SSL before its handshake.
[[nodiscard]] bool prepare_upstream(SSL* ssl, std::string_view host);

// A short, stable explanation of a failed upstream verification, for the 502 page and the log:
// "certificate has expired", "certificate is for another host", "unknown issuer"...
[[nodiscard]] std::string describe_verify_result(long verify_result);

// The SNI name a client sent, or "" (read inside or after the handshake).
[[nodiscard]] std::string_view sni_name(const SSL* ssl) noexcept;

}  // namespace consent::tls
