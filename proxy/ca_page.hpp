#pragma once
// The page the proxy serves itself at http://consentgate.ca/ (like mitmproxy's mitm.it), so a person can
// fetch and install consentgate's CA from the device that uses the proxy:
//   /         a small page: the CA's name and SHA-256 fingerprint, links to the two files, the PEM inline,
//             and the install instructions per platform (HTML when the client prefers it, else text)
//   /ca.pem   the certificate in PEM (application/x-pem-file), saved as consentgate-ca.pem
//   /ca.der   the certificate in DER (application/x-x509-ca-cert), saved as consentgate-ca.cer
//   else      404
// The query string, if any, is ignored. Only the CA's public certificate is ever served, never the key.
// Same safety rules as proxy/local_reply.hpp: Cache-Control: no-store, nosniff, X-Consentgate-Reason,
// Content-Length, a CSP that forbids every subresource on HTML, HEAD answered without a body, and
// Connection: close when ReplyOptions say the connection cannot be kept. Nothing from the request is echoed.
// The caller answers only GET and HEAD here (other methods get its 405). Pure, thread-safe.
#include <string_view>

#include "proxy/local_reply.hpp"

namespace consent::tls {
class CertificateAuthority;
}

namespace consent::proxy {

// The magic host name; a request for it (any port) never leaves the proxy.
inline constexpr std::string_view ca_page_host = "consentgate.ca";

// `path` is the request's origin-form target ("/ca.pem", "/?x=1").
[[nodiscard]] LocalReply ca_page(const tls::CertificateAuthority& ca, std::string_view path,
                                 const ReplyOptions& options);

}  // namespace consent::proxy
