#include "proxy/ca_page.hpp"

#include <string>
#include <vector>

#include "tls/certificate_authority.hpp"
#include "tls/install_instructions.hpp"

namespace consent::proxy {

namespace {

// The names the browser saves the files under; the instructions refer to them, so a person who clicked
// the link can paste the commands as they are. ".cer" is the name Windows' import dialog expects for DER.
constexpr std::string_view pem_file_name = "consentgate-ca.pem";
constexpr std::string_view der_file_name = "consentgate-ca.cer";

struct Content {
  int status;
  std::string_view status_text;
  std::string_view reason_code;
  std::string_view content_type;
  std::string_view disposition;  // Content-Disposition value, or empty
  std::string body;
};

// The status line and the headers local_reply.cpp puts on every reply, so this page behaves like the
// proxy's other pages for caches, content sniffing and connection reuse.
LocalReply render(const Content& c, const ReplyOptions& options) {
  LocalReply r;
  r.status = c.status;
  r.reason_code = c.reason_code;
  r.closes_connection = !options.keep_alive || options.body_unread;
  std::string& out = r.bytes;
  out.reserve(320 + c.body.size());
  out.append("HTTP/1.1 ");
  out.append(std::to_string(c.status));
  out.push_back(' ');
  out.append(c.status_text);
  out.append("\r\nContent-Type: ");
  out.append(c.content_type);
  // HEAD gets the length of the body a GET would have received (RFC 9110 section 9.3.2).
  out.append("\r\nContent-Length: ");
  out.append(std::to_string(c.body.size()));
  out.append("\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n");
  if (c.content_type.starts_with("text/html")) out.append("Content-Security-Policy: default-src 'none'\r\n");
  if (!c.disposition.empty()) {
    out.append("Content-Disposition: ");
    out.append(c.disposition);
    out.append("\r\n");
  }
  out.append("X-Consentgate-Reason: ");
  out.append(c.reason_code);
  out.append("\r\n");
  if (r.closes_connection) {
    out.append("Connection: close\r\n");
  } else if (options.is_http10) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
  if (!options.is_head) out.append(c.body);
  return r;
}

std::string text_page(const tls::CertificateAuthority& ca) {
  std::string t;
  t += "consentgate CA: " + ca.subject_name() + "\n";
  t += "SHA-256 fingerprint: " + ca.sha256_fingerprint() + "\n\n";
  t += "Download: http://consentgate.ca/ca.pem (PEM, save as " + std::string(pem_file_name) + ")\n";
  t += "          http://consentgate.ca/ca.der (DER, save as " + std::string(der_file_name) + ")\n";
  t += "Compare the fingerprint above with `consentgate ca pem | openssl x509 -noout -fingerprint -sha256`\n";
  t += "on the machine that runs the proxy before you trust the file.\n\n";
  t += tls::install_instructions(std::string(pem_file_name), ca.subject_name());
  return t;
}

std::string html_page(const tls::CertificateAuthority& ca) {
  const std::string name = html_escape(ca.subject_name());
  std::string b;
  b.reserve(4096);
  b.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
  b.append(name);
  b.append("</title></head>\n<body><h1>");
  b.append(name);
  b.append("</h1>\n<p>SHA-256 fingerprint: <code>");
  b.append(html_escape(ca.sha256_fingerprint()));
  b.append("</code></p>\n<p>Compare it with <code>consentgate ca pem | openssl x509 -noout -fingerprint -sha256");
  b.append("</code> on the machine that runs the proxy before you trust the file.</p>\n");
  b.append("<ul><li><a href=\"/ca.pem\" download=\"");
  b.append(pem_file_name);
  b.append("\">");
  b.append(pem_file_name);
  b.append("</a> (PEM: Linux, macOS, Firefox, Chromium)</li>\n<li><a href=\"/ca.der\" download=\"");
  b.append(der_file_name);
  b.append("\">");
  b.append(der_file_name);
  b.append("</a> (DER: Windows, Android)</li></ul>\n<h2>Install</h2>\n<pre>");
  b.append(html_escape(tls::install_instructions(std::string(pem_file_name), ca.subject_name())));
  b.append("</pre>\n<h2>Certificate (PEM)</h2>\n<pre>");
  b.append(html_escape(ca.pem()));
  b.append("</pre>\n<p><small>consentgate</small></p></body></html>\n");
  return b;
}

}  // namespace

LocalReply ca_page(const tls::CertificateAuthority& ca, std::string_view path, const ReplyOptions& options) {
  if (const auto q = path.find_first_of("?#"); q != std::string_view::npos) path = path.substr(0, q);
  if (path.empty() || path == "/" || path == "/index.html") {
    if (options.prefers_html) {
      return render({200, "OK", "ca_page", "text/html; charset=utf-8", {}, html_page(ca)}, options);
    }
    return render({200, "OK", "ca_page", "text/plain; charset=utf-8", {}, text_page(ca)}, options);
  }
  if (path == "/ca.pem") {
    return render({200, "OK", "ca_certificate", "application/x-pem-file", "attachment; filename=\"consentgate-ca.pem\"",
                   ca.pem()},
                  options);
  }
  if (path == "/ca.der") {
    const std::vector<std::uint8_t> der = ca.der();
    return render({200, "OK", "ca_certificate", "application/x-x509-ca-cert",
                   "attachment; filename=\"consentgate-ca.cer\"", std::string(der.begin(), der.end())},
                  options);
  }
  if (options.prefers_html) {
    return render({404,
                   "Not Found",
                   "not_found",
                   "text/html; charset=utf-8",
                   {},
                   "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title>"
                   "</head>\n<body><h1>Not found</h1>\n<p>This page serves <a href=\"/\">consentgate's CA</a>."
                   "</p></body></html>\n"},
                  options);
  }
  return render({404,
                 "Not Found",
                 "not_found",
                 "text/plain; charset=utf-8",
                 {},
                 "Not found. http://consentgate.ca/ serves consentgate's CA.\n"},
                options);
}

}  // namespace consent::proxy
