#include "tls/contexts.hpp"

#include <arpa/inet.h>
#include <openssl/x509v3.h>

#include <cstring>

namespace consent::tls {
namespace {

constexpr unsigned char alpn_http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// Selects http/1.1 when the client offers it; otherwise continues without ALPN rather than failing, since
// clients that offer only h2 still speak HTTP/1.1 when no protocol is agreed (RFC 7301 §3.2 allows this).
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, alpn_http11, sizeof alpn_http11, in, inlen) == OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

bool is_ip(std::string_view host) {
  const std::string h(host);
  unsigned char buf[16];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

}  // namespace

ContextResult make_client_facing_context() {
  ContextResult r;
  r.context.reset(SSL_CTX_new(TLS_server_method()));
  if (!r.context) {
    r.error = openssl_error("cannot create the client-facing TLS context");
    return r;
  }
  SSL_CTX* ctx = r.context.get();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  return r;
}

ContextResult make_upstream_context(const std::vector<std::string>& extra_ca_files) {
  ContextResult r;
  r.context.reset(SSL_CTX_new(TLS_client_method()));
  if (!r.context) {
    r.error = openssl_error("cannot create the upstream TLS context");
    return r;
  }
  SSL_CTX* ctx = r.context.get();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    r.error = openssl_error("cannot load the system trust store");
    r.context.reset();
    return r;
  }
  for (const auto& file : extra_ca_files) {
    if (SSL_CTX_load_verify_locations(ctx, file.c_str(), nullptr) != 1) {
      r.error = openssl_error("cannot load upstream CA file " + file);
      r.context.reset();
      return r;
    }
  }
  if (SSL_CTX_set_alpn_protos(ctx, alpn_http11, sizeof alpn_http11) != 0) {
    r.error = openssl_error("cannot set ALPN");
    r.context.reset();
  }
  return r;
}

std::string use_leaf(SSL* ssl, LeafCache& cache, std::string_view host) {
  auto leaf = cache.get(host);
  if (!leaf->certificate) return leaf->error;
  // SSL_use_certificate/SSL_add1_chain_cert take their own references; the cache keeps its copy.
  if (SSL_use_certificate(ssl, leaf->certificate.get()) != 1 || SSL_use_PrivateKey(ssl, cache.leaf_key()) != 1 ||
      // SSL_add1_chain_cert() is a macro with an old-style cast; this is its expansion.
      SSL_ctrl(ssl, SSL_CTRL_CHAIN_CERT, 1, static_cast<void*>(cache.authority().certificate())) != 1) {
    return openssl_error("cannot install the leaf certificate");
  }
  return {};
}

bool prepare_upstream(SSL* ssl, std::string_view host) {
  const std::string name(host);
  if (is_ip(name)) {
    return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1;
  }
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  // SSL_set_tlsext_host_name() is a macro with an old-style cast; this is its expansion.
  return SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(name.c_str())) == 1 &&
         SSL_set1_host(ssl, name.c_str()) == 1;
}

std::string describe_verify_result(long verify_result) {
  switch (verify_result) {
    case X509_V_OK:
      return "ok";
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "certificate has expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "certificate is not yet valid";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return "certificate is for another host";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return "self-signed certificate";
    // A chain ending in a root we do not trust: to the person reading the page, an unknown issuer.
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return "unknown issuer";
    case X509_V_ERR_CERT_REVOKED:
      return "certificate revoked";
    case X509_V_ERR_INVALID_PURPOSE:
      return "certificate not valid for a TLS server";
    default:
      return X509_verify_cert_error_string(verify_result);
  }
}

std::string_view sni_name(const SSL* ssl) noexcept {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  return name != nullptr ? std::string_view(name) : std::string_view();
}

}  // namespace consent::tls
