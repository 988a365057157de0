#include "tls/contexts.hpp"

#include <catch2/catch.hpp>

#include <string>

#include "tls_test_util.hpp"

using namespace consent::tls;
using consent::tls::test::TempDir;

namespace {

struct HandshakeResult {
  bool client_ok = false;
  bool server_ok = false;
  long verify_result = X509_V_OK;
  std::string alpn;
  std::string sni;
};

// Runs a TLS handshake entirely in memory: the client is an upstream-style SSL (verification on), the server
// a client-facing SSL with the leaf minted for `leaf_host`.
HandshakeResult handshake(SSL_CTX* client_ctx, SSL_CTX* server_ctx, LeafCache& cache, const std::string& connect_to,
                          const std::string& leaf_host) {
  SslPtr client(SSL_new(client_ctx));
  SslPtr server(SSL_new(server_ctx));
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  REQUIRE(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0) == 1);
  SSL_set_bio(client.get(), client_bio, client_bio);
  SSL_set_bio(server.get(), server_bio, server_bio);
  REQUIRE(prepare_upstream(client.get(), connect_to));
  REQUIRE(use_leaf(server.get(), cache, leaf_host).empty());
  SSL_set_connect_state(client.get());
  SSL_set_accept_state(server.get());
  HandshakeResult r;
  for (int round = 0; round < 20 && !(r.client_ok && r.server_ok); ++round) {
    if (!r.client_ok) {
      const int rc = SSL_do_handshake(client.get());
      if (rc == 1)
        r.client_ok = true;
      else if (SSL_get_error(client.get(), rc) != SSL_ERROR_WANT_READ)
        break;
    }
    if (!r.server_ok) {
      const int rc = SSL_do_handshake(server.get());
      if (rc == 1)
        r.server_ok = true;
      else if (SSL_get_error(server.get(), rc) != SSL_ERROR_WANT_READ)
        break;
    }
  }
  ERR_clear_error();
  r.verify_result = SSL_get_verify_result(client.get());
  const unsigned char* proto = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(server.get(), &proto, &len);
  if (proto != nullptr) r.alpn.assign(reinterpret_cast<const char*>(proto), len);
  r.sni = std::string(sni_name(server.get()));
  return r;
}

}  // namespace

TEST_CASE("a client trusting the CA completes a handshake with http/1.1 and SNI", "[tls]") {
  TempDir dir;
  auto ca = CertificateAuthority::load_or_create(dir.path());
  REQUIRE(ca.ca);
  LeafCache cache(ca.ca, 8);
  auto server = make_client_facing_context();
  auto client = make_upstream_context({ca.ca->cert_path().string()});
  REQUIRE(server.context);
  REQUIRE(client.context);
  auto r = handshake(client.context.get(), server.context.get(), cache, "tracker.example.test", "tracker.example.test");
  CHECK(r.client_ok);
  CHECK(r.server_ok);
  CHECK(r.verify_result == X509_V_OK);
  CHECK(r.alpn == "http/1.1");
  CHECK(r.sni == "tracker.example.test");
}

TEST_CASE("upstream verification fails closed on a certificate for another host", "[tls]") {
  TempDir dir;
  auto ca = CertificateAuthority::load_or_create(dir.path());
  REQUIRE(ca.ca);
  LeafCache cache(ca.ca, 8);
  auto server = make_client_facing_context();
  auto client = make_upstream_context({ca.ca->cert_path().string()});
  auto r = handshake(client.context.get(), server.context.get(), cache, "bank.example.test", "evil.example.test");
  CHECK_FALSE(r.client_ok);
  CHECK(describe_verify_result(r.verify_result) == "certificate is for another host");
}

TEST_CASE("upstream verification fails closed on an unknown issuer", "[tls]") {
  TempDir dir;
  TempDir other;
  auto ca = CertificateAuthority::load_or_create(dir.path());
  auto stranger = CertificateAuthority::load_or_create(other.path());
  REQUIRE(ca.ca);
  REQUIRE(stranger.ca);
  LeafCache cache(ca.ca, 8);
  auto server = make_client_facing_context();
  auto client = make_upstream_context({stranger.ca->cert_path().string()});
  auto r = handshake(client.context.get(), server.context.get(), cache, "site.example.test", "site.example.test");
  CHECK_FALSE(r.client_ok);
  CHECK(describe_verify_result(r.verify_result) == "unknown issuer");
}

TEST_CASE("an unreadable extra CA file is a clear error", "[tls]") {
  auto r = make_upstream_context({"/nonexistent/ca.pem"});
  CHECK_FALSE(r.context);
  CHECK_THAT(r.error, Catch::Contains("cannot load upstream CA file /nonexistent/ca.pem"));
}

TEST_CASE("verification failures read as their causes", "[tls]") {
  CHECK(describe_verify_result(X509_V_ERR_CERT_HAS_EXPIRED) == "certificate has expired");
  CHECK(describe_verify_result(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT) == "self-signed certificate");
  CHECK(describe_verify_result(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY) == "unknown issuer");
}
