#include "tls/certificate_authority.hpp"

#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <catch2/catch.hpp>

#include <fstream>

#include "tls_test_util.hpp"

using consent::tls::CertificateAuthority;
using consent::tls::test::TempDir;

namespace {
mode_t mode_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}
}  // namespace

TEST_CASE("first start creates a CA whose key only its owner can read", "[tls]") {
  TempDir dir;
  const auto data = dir.path() / "data";
  auto r = CertificateAuthority::load_or_create(data);
  REQUIRE(r.error.empty());
  REQUIRE(r.ca);
  CHECK(r.created);
  CHECK(mode_of(data / CertificateAuthority::key_file_name) == 0600);
  CHECK(mode_of(data) == 0700);
  CHECK(r.ca->subject_name().rfind("consentgate CA ", 0) == 0);
  CHECK(r.ca->subject_name().size() == std::string("consentgate CA ").size() + 8);
  CHECK(X509_check_ca(r.ca->certificate()) != 0);
  CHECK(r.ca->pem().rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
  CHECK(r.ca->der().size() > 200);
  CHECK(r.ca->sha256_fingerprint().size() == 32 * 3 - 1);
}

TEST_CASE("a second start loads the same CA instead of making a new one", "[tls]") {
  TempDir dir;
  auto first = CertificateAuthority::load_or_create(dir.path());
  REQUIRE(first.ca);
  auto second = CertificateAuthority::load_or_create(dir.path());
  REQUIRE(second.error.empty());
  REQUIRE(second.ca);
  CHECK_FALSE(second.created);
  CHECK(second.ca->sha256_fingerprint() == first.ca->sha256_fingerprint());
  CHECK(second.ca->subject_name() == first.ca->subject_name());
}

TEST_CASE("a CA key readable by others is refused with the fix in the message", "[tls]") {
  TempDir dir;
  REQUIRE(CertificateAuthority::load_or_create(dir.path()).ca);
  const auto key = dir.path() / CertificateAuthority::key_file_name;
  for (const mode_t mode : {0644, 0640, 0604, 0660}) {
    REQUIRE(::chmod(key.c_str(), mode) == 0);
    auto r = CertificateAuthority::load_or_create(dir.path());
    CHECK_FALSE(r.ca);
    CHECK_THAT(r.error, Catch::Contains("is accessible to group or others") && Catch::Contains("chmod 600"));
  }
  REQUIRE(::chmod(key.c_str(), 0400) == 0);
  CHECK(CertificateAuthority::load_or_create(dir.path()).ca);
}

TEST_CASE("a half-present CA is an error, not a silent regeneration", "[tls]") {
  TempDir dir;
  REQUIRE(CertificateAuthority::load_or_create(dir.path()).ca);
  std::filesystem::remove(dir.path() / CertificateAuthority::key_file_name);
  auto r = CertificateAuthority::load_or_create(dir.path());
  CHECK_FALSE(r.ca);
  CHECK_THAT(r.error, Catch::Contains("incomplete CA"));
}

TEST_CASE("a user-given CA must be a CA and match its key", "[tls]") {
  TempDir a;
  TempDir b;
  REQUIRE(CertificateAuthority::load_or_create(a.path()).ca);
  REQUIRE(CertificateAuthority::load_or_create(b.path()).ca);
  auto mismatched = CertificateAuthority::load(a.path() / CertificateAuthority::cert_file_name,
                                               b.path() / CertificateAuthority::key_file_name);
  CHECK_FALSE(mismatched.ca);
  CHECK_THAT(mismatched.error, Catch::Contains("does not match"));

  auto garbage = a.path() / "garbage.pem";
  std::ofstream(garbage) << "not a certificate\n";
  auto bad = CertificateAuthority::load(garbage, a.path() / CertificateAuthority::key_file_name);
  CHECK_FALSE(bad.ca);
  CHECK_THAT(bad.error, Catch::Contains("cannot read CA certificate"));
}
