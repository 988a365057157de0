#include "tls_test_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

#include "tls/x509_util.hpp"

namespace consent::test {
namespace {

using tls::X509Ptr;

bool set_validity(X509* cert, std::chrono::seconds not_before, std::chrono::seconds not_after) {
  return X509_gmtime_adj(X509_getm_notBefore(cert), static_cast<long>(not_before.count())) != nullptr &&
         X509_gmtime_adj(X509_getm_notAfter(cert), static_cast<long>(not_after.count())) != nullptr;
}

bool set_name(X509_NAME* name, const std::string& cn) {
  return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                                    -1, 0) == 1;
}

std::string one_line_issuer(X509* cert) {
  char buf[512];
  X509_NAME_oneline(X509_get_issuer_name(cert), buf, sizeof buf);
  return buf;
}

std::string serial_hex(X509* cert) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

std::string first_san(X509* cert) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return {};
  std::string out;
  if (sk_GENERAL_NAME_num(names) > 0) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, 0);
    if (n->type == GEN_DNS) {
      const auto* s = n->d.dNSName;
      out = "DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                 static_cast<std::size_t>(ASN1_STRING_length(s)));
    } else if (n->type == GEN_IPADD) {
      const auto* s = n->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      const int family = ASN1_STRING_length(s) == 4 ? AF_INET : AF_INET6;
      inet_ntop(family, ASN1_STRING_get0_data(s), text, sizeof text);
      out = std::string("IP:") + text;
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

// Reads until `needle` or `limit`; blocking socket with poll.
std::string read_until(int fd, const std::string& needle, int limit_ms) {
  std::string in;
  char chunk[4096];
  while (in.find(needle) == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, limit_ms) <= 0) break;
    const auto n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    in.append(chunk, static_cast<std::size_t>(n));
  }
  return in;
}

}  // namespace

TestPki::TestPki(const std::filesystem::path& dir) : ca_key_(EVP_EC_gen("P-256")), ca_pem_(dir / "origin-ca.pem") {
  ca_cert_.reset(X509_new());
  X509* c = ca_cert_.get();
  bool ok = ca_key_ && c && X509_set_version(c, 2) == 1 && tls::set_random_serial(c) &&
            set_validity(c, std::chrono::seconds(-3600), std::chrono::seconds(86400 * 30)) &&
            X509_set_pubkey(c, ca_key_.get()) == 1 && set_name(X509_get_subject_name(c), "test origin CA") &&
            X509_set_issuer_name(c, X509_get_subject_name(c)) == 1 &&
            tls::add_extension(c, c, NID_basic_constraints, "critical,CA:TRUE") &&
            tls::add_extension(c, c, NID_key_usage, "critical,keyCertSign,cRLSign") &&
            tls::add_extension(c, c, NID_subject_key_identifier, "hash") &&
            X509_sign(c, ca_key_.get(), EVP_sha256()) > 0;
  if (!ok) throw std::runtime_error(tls::openssl_error("test PKI: cannot make the CA"));
  std::filesystem::create_directories(dir);
  FILE* f = std::fopen(ca_pem_.c_str(), "w");
  if (f == nullptr || PEM_write_X509(f, c) != 1) throw std::runtime_error("test PKI: cannot write the CA");
  std::fclose(f);
}

tls::SslCtxPtr TestPki::server_context(const Leaf& leaf) const {
  tls::EvpPkeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr cert(X509_new());
  X509* c = cert.get();
  X509* issuer = leaf.is_self_signed ? c : ca_cert_.get();
  EVP_PKEY* signer = leaf.is_self_signed ? key.get() : ca_key_.get();
  const std::string cn = leaf.dns_names.empty() ? std::string("test origin") : leaf.dns_names.front();
  std::string san;
  for (const auto& name : leaf.dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + name;
  bool ok =
      key && c && X509_set_version(c, 2) == 1 && tls::set_random_serial(c) &&
      set_validity(c, leaf.not_before, leaf.not_after) && X509_set_pubkey(c, key.get()) == 1 &&
      set_name(X509_get_subject_name(c), cn) &&
      X509_set_issuer_name(c, leaf.is_self_signed ? X509_get_subject_name(c) : X509_get_subject_name(issuer)) == 1 &&
      tls::add_extension(c, issuer, NID_basic_constraints, "critical,CA:FALSE") &&
      tls::add_extension(c, issuer, NID_ext_key_usage, "serverAuth") &&
      (san.empty() || tls::add_extension(c, issuer, NID_subject_alt_name, san.c_str())) &&
      X509_sign(c, signer, EVP_sha256()) > 0;
  if (!ok) throw std::runtime_error(tls::openssl_error("test PKI: cannot make a leaf"));
  tls::SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx || SSL_CTX_use_certificate(ctx.get(), c) != 1 || SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1) {
    throw std::runtime_error(tls::openssl_error("test PKI: cannot make a server context"));
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  return ctx;
}

TlsProbe probe_through_proxy(std::uint16_t proxy_port, const std::string& host, std::uint16_t port,
                             const std::string& sni, const std::filesystem::path& ca_file, const std::string& request) {
  TlsProbe probe;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(proxy_port);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return probe;
  }
  const std::string authority = host + ":" + std::to_string(port);
  const std::string connect = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n";
  ::send(fd, connect.data(), connect.size(), MSG_NOSIGNAL);
  const auto reply = read_until(fd, "\r\n\r\n", 10000);
  probe.connected = reply.rfind("HTTP/1.1 200", 0) == 0;
  if (!probe.connected) {
    ::close(fd);
    return probe;
  }
  tls::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr);
  // Verification is judged after the handshake (verify_result), so a failure is observable, not fatal.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  tls::SslPtr ssl(SSL_new(ctx.get()));
  SSL_set_fd(ssl.get(), fd);
  if (!sni.empty())
    SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(sni.c_str()));
  unsigned char ip[16];
  if (inet_pton(AF_INET, host.c_str(), ip) == 1 || inet_pton(AF_INET6, host.c_str(), ip) == 1) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), host.c_str());
  } else {
    SSL_set1_host(ssl.get(), host.c_str());
  }
  if (SSL_connect(ssl.get()) == 1) {
    probe.handshake_ok = true;
    probe.verify_result = SSL_get_verify_result(ssl.get());
    if (X509* peer = SSL_get1_peer_certificate(ssl.get())) {
      probe.issuer = one_line_issuer(peer);
      probe.serial = serial_hex(peer);
      probe.san = first_san(peer);
      X509_free(peer);
    }
    if (!request.empty()) {
      SSL_write(ssl.get(), request.data(), static_cast<int>(request.size()));
      char chunk[4096];
      for (;;) {
        const int n = SSL_read(ssl.get(), chunk, sizeof chunk);
        if (n <= 0) break;
        probe.response.append(chunk, static_cast<std::size_t>(n));
      }
    }
    SSL_shutdown(ssl.get());
  }
  ERR_clear_error();
  ssl.reset();
  ::close(fd);
  return probe;
}

}  // namespace consent::test
