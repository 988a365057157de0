#pragma once
// Owning smart pointers for OpenSSL objects, and the error queue rendered as text.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace consent::tls {

namespace detail {
template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
}  // namespace detail

using X509Ptr = std::unique_ptr<X509, detail::Deleter<X509_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, detail::Deleter<EVP_PKEY_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, detail::Deleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, detail::Deleter<SSL_free>>;
using BioPtr = std::unique_ptr<BIO, detail::Deleter<BIO_free_all>>;

// Drains the thread's OpenSSL error queue into one line ("what: reason; reason"), so a failure is
// reported once and never leaks into the next, unrelated call on this thread.
inline std::string openssl_error(const std::string& what) {
  std::string out = what;
  bool first = true;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    out += first ? ": " : "; ";
    out += buf;
    first = false;
  }
  return out;
}

}  // namespace consent::tls
