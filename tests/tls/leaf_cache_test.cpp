#include "tls/leaf_cache.hpp"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "tls_test_util.hpp"

using consent::tls::CertificateAuthority;
using consent::tls::LeafCache;
using consent::tls::test::TempDir;
using consent::tls::test::verify_for_host;

namespace {
std::shared_ptr<const CertificateAuthority> make_ca(const TempDir& dir) {
  auto r = CertificateAuthority::load_or_create(dir.path());
  REQUIRE(r.ca);
  return r.ca;
}

std::string serial_of(X509* cert) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string out(hex);
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

long validity_days(X509* cert) {
  int days = 0;
  int secs = 0;
  REQUIRE(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert), X509_get0_notAfter(cert)) == 1);
  return days;
}
}  // namespace

TEST_CASE("a minted leaf verifies for its host and only its host", "[tls]") {
  TempDir dir;
  auto ca = make_ca(dir);
  LeafCache cache(ca, 16);
  auto leaf = cache.get("www.example.com");
  REQUIRE(leaf->certificate);
  CHECK(verify_for_host(leaf->certificate.get(), ca->certificate(), "www.example.com") == X509_V_OK);
  CHECK(verify_for_host(leaf->certificate.get(), ca->certificate(), "example.com") == X509_V_ERR_HOSTNAME_MISMATCH);
  CHECK(verify_for_host(leaf->certificate.get(), ca->certificate(), "wwwexample.com") == X509_V_ERR_HOSTNAME_MISMATCH);
  CHECK(X509_get_extended_key_usage(leaf->certificate.get()) & XKU_SSL_SERVER);
  CHECK(X509_check_ca(leaf->certificate.get()) == 0);
  CHECK(X509_get0_subject_key_id(leaf->certificate.get()) != nullptr);
  CHECK(X509_get0_authority_key_id(leaf->certificate.get()) != nullptr);
  CHECK(validity_days(leaf->certificate.get()) < 398);
}

TEST_CASE("an IP literal gets an IP SAN", "[tls]") {
  TempDir dir;
  auto ca = make_ca(dir);
  LeafCache cache(ca, 16);
  auto v4 = cache.get("127.0.0.1");
  REQUIRE(v4->certificate);
  CHECK(verify_for_host(v4->certificate.get(), ca->certificate(), "127.0.0.1", true) == X509_V_OK);
  CHECK(verify_for_host(v4->certificate.get(), ca->certificate(), "127.0.0.2", true) == X509_V_ERR_IP_ADDRESS_MISMATCH);
  auto v6 = cache.get("::1");
  REQUIRE(v6->certificate);
  CHECK(verify_for_host(v6->certificate.get(), ca->certificate(), "::1", true) == X509_V_OK);
}

TEST_CASE("500 distinct hosts each get their own valid leaf, and hits do not mint again", "[tls]") {
  TempDir dir;
  auto ca = make_ca(dir);
  LeafCache cache(ca, 1000);
  std::set<std::string> serials;
  for (int i = 0; i < 500; ++i) {
    const std::string host = "host" + std::to_string(i) + ".example.test";
    auto leaf = cache.get(host);
    REQUIRE(leaf->certificate);
    REQUIRE(verify_for_host(leaf->certificate.get(), ca->certificate(), host) == X509_V_OK);
    serials.insert(serial_of(leaf->certificate.get()));
  }
  CHECK(serials.size() == 500);
  CHECK(cache.minted() == 500);
  for (int i = 0; i < 500; ++i) {
    auto again = cache.get("host" + std::to_string(i) + ".example.test");
    REQUIRE(again->certificate);
  }
  CHECK(cache.minted() == 500);
  CHECK(cache.hits() == 500);
}

TEST_CASE("the cache is bounded and evicts the least recently used host", "[tls]") {
  TempDir dir;
  LeafCache cache(make_ca(dir), 3);
  auto a = cache.get("a.test");
  (void)cache.get("b.test");
  (void)cache.get("c.test");
  (void)cache.get("a.test");  // a is now the most recent
  (void)cache.get("d.test");  // evicts b
  CHECK(cache.size() == 3);
  CHECK(cache.minted() == 4);
  (void)cache.get("a.test");
  CHECK(cache.minted() == 4);
  (void)cache.get("b.test");
  CHECK(cache.minted() == 5);
  CHECK(a->certificate);  // a handed-out leaf outlives its eviction
}

TEST_CASE("concurrent handshakes for one new host mint once", "[tls]") {
  TempDir dir;
  LeafCache cache(make_ca(dir), 16);
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<const consent::tls::Leaf>> got(8);
  for (std::size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&cache, &got, i] { got[i] = cache.get("same.example.test"); });
  }
  for (auto& t : threads) t.join();
  CHECK(cache.minted() == 1);
  for (const auto& leaf : got) CHECK(leaf.get() == got[0].get());
}

TEST_CASE("hosts that could smuggle SAN entries are refused", "[tls]") {
  TempDir dir;
  LeafCache cache(make_ca(dir), 16);
  for (const char* bad : {"", "a.test,DNS:evil.test", "a.test\nb", "A B", "évil.test"}) {
    auto leaf = cache.get(bad);
    CHECK_FALSE(leaf->certificate);
    CHECK_FALSE(leaf->error.empty());
  }
  CHECK(cache.minted() == 0);
}

TEST_CASE("openssl verify accepts a minted chain", "[tls]") {
  TempDir dir;
  auto ca = make_ca(dir);
  LeafCache cache(ca, 4);
  auto leaf = cache.get("shop.example.test");
  REQUIRE(leaf->certificate);
  const auto leaf_file = dir.path() / "leaf.pem";
  FILE* f = std::fopen(leaf_file.c_str(), "w");
  REQUIRE(f != nullptr);
  PEM_write_X509(f, leaf->certificate.get());
  std::fclose(f);
  const std::string cmd = "openssl verify -CAfile " + ca->cert_path().string() +
                          " -purpose sslserver -verify_hostname shop.example.test " + leaf_file.string() +
                          " > /dev/null 2>&1";
  CHECK(std::system(cmd.c_str()) == 0);
  const std::string wrong = "openssl verify -CAfile " + ca->cert_path().string() +
                            " -purpose sslserver -verify_hostname other.example.test " + leaf_file.string() +
                            " > /dev/null 2>&1";
  CHECK(std::system(wrong.c_str()) != 0);
}
