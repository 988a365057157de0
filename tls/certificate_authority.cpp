#include "tls/certificate_authority.hpp"

#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "tls/x509_util.hpp"

namespace consent::tls {
namespace {

constexpr long ca_validity_days = 3650;

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// A key readable or writable by anyone but its owner is refused: it would let them mint certificates the
// user's browser trusts for every site.
std::string check_key_permissions(const std::filesystem::path& key_file) {
  struct stat st {};
  if (::stat(key_file.c_str(), &st) != 0) {
    return "cannot stat CA key " + key_file.string() + ": " + std::strerror(errno);
  }
  if ((st.st_mode & 077) != 0) {
    return "CA key " + key_file.string() + " is accessible to group or others (mode " + mode_text(st.st_mode) +
           "); refusing to start. Run: chmod 600 " + key_file.string();
  }
  return {};
}

X509Ptr read_cert(const std::filesystem::path& file, std::string& error) {
  BioPtr bio(BIO_new_file(file.c_str(), "r"));
  if (!bio) {
    error = openssl_error("cannot open CA certificate " + file.string());
    return nullptr;
  }
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) error = openssl_error("cannot read CA certificate " + file.string());
  return cert;
}

EvpPkeyPtr read_key(const std::filesystem::path& file, std::string& error) {
  BioPtr bio(BIO_new_file(file.c_str(), "r"));
  if (!bio) {
    error = openssl_error("cannot open CA key " + file.string());
    return nullptr;
  }
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) error = openssl_error("cannot read CA key " + file.string());
  return key;
}

// Writes via a new file created 0600 from the start (never chmod after the fact: the key would be
// readable for an instant), then renames over the target so a crash never leaves half a key.
bool write_private(const std::filesystem::path& file, const std::string& data, mode_t mode, std::string& error) {
  const std::filesystem::path tmp = file.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    error = "cannot create " + tmp.string() + ": " + std::strerror(errno);
    return false;
  }
  ::fchmod(fd, mode);  // umask may have narrowed it further; never wider than asked
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = "cannot write " + tmp.string() + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    error = "cannot write " + tmp.string() + ": " + std::strerror(errno);
    return false;
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    error = "cannot rename " + tmp.string() + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

std::string random_suffix() {
  unsigned char bytes[4];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "0000";
  char out[9];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3]);
  return out;
}

CaResult create(const std::filesystem::path& dir) {
  CaResult result;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    result.error = "cannot create data directory " + dir.string() + ": " + ec.message();
    return result;
  }
  ::chmod(dir.c_str(), 0700);

  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) {
    result.error = openssl_error("cannot generate the CA key");
    return result;
  }
  X509Ptr cert(X509_new());
  const std::string name = "consentgate CA " + random_suffix();
  bool ok = cert && X509_set_version(cert.get(), 2) == 1 && set_random_serial(cert.get()) &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24L * 3600) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(cert.get()), ca_validity_days * 24L * 3600) != nullptr &&
            X509_set_pubkey(cert.get(), key.get()) == 1;
  if (ok) {
    X509_NAME* subject = X509_get_subject_name(cert.get());
    ok = X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(name.c_str()),
                                    -1, -1, 0) == 1 &&
         X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("consentgate"),
                                    -1, -1, 0) == 1 &&
         X509_set_issuer_name(cert.get(), subject) == 1;
  }
  ok = ok && add_extension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
       add_extension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign") &&
       add_extension(cert.get(), cert.get(), NID_subject_key_identifier, "hash") &&
       add_extension(cert.get(), cert.get(), NID_authority_key_identifier, "keyid:always") &&
       X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!ok) {
    result.error = openssl_error("cannot build the CA certificate");
    return result;
  }

  std::string key_pem;
  {
    BioPtr mem(BIO_new(BIO_s_mem()));
    if (!mem || PEM_write_bio_PrivateKey(mem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      result.error = openssl_error("cannot encode the CA key");
      return result;
    }
    char* data = nullptr;
    const long len = BIO_get_mem_data(mem.get(), &data);
    key_pem.assign(data, static_cast<std::size_t>(len));
  }
  const auto cert_path = dir / CertificateAuthority::cert_file_name;
  const auto key_path = dir / CertificateAuthority::key_file_name;
  auto ca = std::make_shared<const CertificateAuthority>(std::move(cert), std::move(key), cert_path);
  if (!write_private(key_path, key_pem, 0600, result.error) ||
      !write_private(cert_path, ca->pem(), 0644, result.error)) {
    return result;
  }
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  result.ca = std::move(ca);
  result.created = true;
  return result;
}

}  // namespace

CertificateAuthority::CertificateAuthority(X509Ptr cert, EvpPkeyPtr key, std::filesystem::path cert_path)
    : cert_(std::move(cert)), key_(std::move(key)), cert_path_(std::move(cert_path)) {
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert_.get()), NID_commonName, buf, sizeof buf);
  name_ = buf;
}

CaResult CertificateAuthority::load(const std::filesystem::path& cert_file, const std::filesystem::path& key_file) {
  CaResult result;
  if (result.error = check_key_permissions(key_file); !result.error.empty()) return result;
  X509Ptr cert = read_cert(cert_file, result.error);
  if (!cert) return result;
  EvpPkeyPtr key = read_key(key_file, result.error);
  if (!key) return result;
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    result.error = openssl_error("CA key " + key_file.string() + " does not match certificate " + cert_file.string());
    return result;
  }
  if (X509_check_ca(cert.get()) == 0) {
    result.error = "certificate " + cert_file.string() + " is not a CA certificate (basicConstraints CA:TRUE missing)";
    return result;
  }
  result.ca = std::make_shared<const CertificateAuthority>(std::move(cert), std::move(key), cert_file);
  return result;
}

CaResult CertificateAuthority::load_or_create(const std::filesystem::path& dir) {
  const auto cert_path = dir / cert_file_name;
  const auto key_path = dir / key_file_name;
  std::error_code ec;
  const bool has_cert = std::filesystem::exists(cert_path, ec);
  const bool has_key = std::filesystem::exists(key_path, ec);
  if (!has_cert && !has_key) return create(dir);
  if (has_cert != has_key) {
    CaResult result;
    result.error = "incomplete CA in " + dir.string() + ": " + (has_cert ? key_path : cert_path).string() +
                   " is missing; restore it, or remove " + (has_cert ? cert_path : key_path).string() +
                   " to generate a new CA (browsers must then trust the new one)";
    return result;
  }
  return load(cert_path, key_path);
}

std::string CertificateAuthority::pem() const {
  BioPtr mem(BIO_new(BIO_s_mem()));
  if (!mem || PEM_write_bio_X509(mem.get(), cert_.get()) != 1) return {};
  char* data = nullptr;
  const long len = BIO_get_mem_data(mem.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::vector<std::uint8_t> CertificateAuthority::der() const {
  const int len = i2d_X509(cert_.get(), nullptr);
  if (len <= 0) return {};
  std::vector<std::uint8_t> out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  i2d_X509(cert_.get(), &p);
  return out;
}

std::string CertificateAuthority::sha256_fingerprint() const {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert_.get(), EVP_sha256(), md, &n) != 1) return {};
  std::string out;
  char hex[4];
  for (unsigned int i = 0; i < n; ++i) {
    std::snprintf(hex, sizeof hex, i + 1 < n ? "%02X:" : "%02X", md[i]);
    out += hex;
  }
  return out;
}

std::filesystem::path default_data_dir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg == '/') {
    return std::filesystem::path(xdg) / "consentgate";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".local/share/consentgate";
  }
  return std::filesystem::path("/var/lib/consentgate");
}

}  // namespace consent::tls
