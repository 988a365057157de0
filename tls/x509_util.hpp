#pragma once
// Small X.509 building blocks shared by the CA and the leaf minter.
#include <openssl/x509.h>

namespace consent::tls {

// Adds an extension given in openssl.cnf syntax ("critical,CA:TRUE"), with `issuer` as the issuer
// certificate for authorityKeyIdentifier. Returns false and leaves the OpenSSL error queue set on failure.
bool add_extension(X509* cert, X509* issuer, int nid, const char* value);

// A random, positive 127-bit serial number (CA/Browser Forum: at least 64 bits of CSPRNG output).
bool set_random_serial(X509* cert);

}  // namespace consent::tls
