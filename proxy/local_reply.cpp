#include "proxy/local_reply.hpp"

#include <array>
#include <string>

#include "proxy/http_error.hpp"

namespace consent::proxy {

namespace {

struct KindInfo {
  int status;
  std::string_view reason_code;
  std::string_view title;  // page title
  std::string_view text;   // what happened and what the person can do
  bool always_closes;
};

// Indexed by ReplyKind. Texts are ours only; the host (when shown) is appended by render().
constexpr std::array<KindInfo, 26> kinds{{
    {400, "malformed_request", "Bad request", "The proxy could not read this request.", true},
    {400, "ambiguous_framing", "Bad request",
     "The proxy refused this request because its length or headers are ambiguous.", true},
    {403, "connect_port_refused", "Port not allowed", "The proxy does not open tunnels to this port.", false},
    {403, "client_not_allowed", "Not allowed", "Your address is not allowed to use this proxy.", false},
    {403, "request_loop", "Loop refused", "This request is addressed to the proxy itself.", false},
    {405, "method_not_allowed", "Method not allowed", "The proxy does not forward this method.", false},
    {407, "proxy_auth_required", "Proxy authentication required", "This proxy needs a user name and password.", false},
    {408, "client_head_timeout", "Request timeout", "The request took too long to arrive.", true},
    {413, "body_too_large", "Request body too large", "The request body is larger than the proxy accepts.", true},
    {414, "uri_too_long", "URI too long", "The request's address is longer than the proxy accepts.", true},
    {421, "misdirected_request", "Misdirected request",
     "This secure connection was opened for another site: the request must name the same host and port.", true},
    {431, "request_head_too_large", "Request headers too large",
     "The request's headers are larger or more numerous than the proxy accepts.", true},
    {502, "upstream_dns_failed", "Bad gateway", "The site's name could not be resolved", false},
    {502, "upstream_refused", "Bad gateway", "The site refused the connection", false},
    {502, "upstream_unreachable", "Bad gateway", "The site could not be reached", false},
    {502, "upstream_reset", "Bad gateway", "The site closed the connection before answering completely", false},
    {502, "upstream_bad_response", "Bad gateway", "The site sent a response the proxy could not accept", false},
    {502, "upstream_tls_failed", "Bad gateway", "TLS with the site failed", false},
    {502, "upstream_tls_unknown_issuer", "Bad gateway",
     "TLS verification failed: the site's certificate has an unknown issuer", false},
    {502, "upstream_tls_expired", "Bad gateway",
     "TLS verification failed: the site's certificate is expired or not yet valid", false},
    {502, "upstream_tls_wrong_host", "Bad gateway",
     "TLS verification failed: the site's certificate is for another host", false},
    {503, "connection_limit", "Service unavailable", "The proxy is handling too many connections; try again shortly.",
     true},
    {504, "upstream_timeout", "Gateway timeout", "The site did not answer in time", false},
    {504, "upstream_connect_timeout", "Gateway timeout", "The site could not be reached in time", false},
    {504, "upstream_first_byte_timeout", "Gateway timeout", "The site did not start answering in time", false},
    {500, "internal_error", "Internal error", "internal error", false},
}};

// internal_error is last: info() falls back to it, and a kind added without its row would shift every row.
static_assert(kinds.size() == static_cast<std::size_t>(ReplyKind::internal_error) + 1);

const KindInfo& info(ReplyKind kind) noexcept {
  const auto i = static_cast<std::size_t>(kind);
  return i < kinds.size() ? kinds[i] : kinds.back();
}

std::string_view status_text(int status) noexcept {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 405:
      return "Method Not Allowed";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 421:
      return "Misdirected Request";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

// The smallest transparent 1x1 GIF89a (43 bytes).
constexpr unsigned char transparent_gif[] = {0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80,
                                             0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04,
                                             0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01,
                                             0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

bool is_host_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == ':' || c == '_';
}

// A host is shown only when it looks like one; anything else (it came from the network) is left out.
std::string_view clean_host(std::string_view host) noexcept {
  if (host.empty() || host.size() > 253) return {};
  for (const char c : host) {
    if (!is_host_char(c)) return {};
  }
  return host;
}

std::string_view clean_token(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64) return {};
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return {};
  }
  return id;
}

// Printable ASCII only, without '"' and '\': the realm goes inside a quoted-string (RFC 9110 5.6.4).
std::string clean_realm(std::string_view realm) {
  std::string out;
  for (const char c : realm) {
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') out.push_back(c);
  }
  if (out.empty()) out = "consentgate";
  return out;
}

// Reason codes go into a header: only [a-z0-9_], at most 64 bytes, or the kind's own code is used.
bool is_snake_case(std::string_view code) noexcept {
  if (code.empty() || code.size() > 64) return false;
  for (const char c : code) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

struct Body {
  std::string_view content_type;
  std::string bytes;
};

Body page(const ReplyOptions& options, std::string_view title, std::string_view text) {
  if (!options.prefers_html) return {"text/plain; charset=utf-8", std::string(text) + "\n"};
  std::string b;
  b.reserve(256 + text.size());
  b.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
  b.append(html_escape(title));
  b.append("</title></head>\n<body><h1>");
  b.append(html_escape(title));
  b.append("</h1>\n<p>");
  b.append(html_escape(text));
  b.append("</p>\n<p><small>consentgate</small></p></body></html>\n");
  return {"text/html; charset=utf-8", std::move(b)};
}

LocalReply render(int status, std::string_view reason_code, bool closes, const ReplyOptions& options, const Body& body,
                  std::string_view extra_headers) {
  LocalReply r;
  r.status = status;
  r.reason_code = reason_code;
  r.closes_connection = closes || !options.keep_alive || options.body_unread;
  std::string& out = r.bytes;
  out.reserve(256 + body.bytes.size());
  out.append("HTTP/1.1 ");
  out.append(std::to_string(status));
  out.push_back(' ');
  out.append(status_text(status));
  out.append("\r\n");
  if (status != 204) {
    if (!body.content_type.empty()) {
      out.append("Content-Type: ");
      out.append(body.content_type);
      out.append("\r\n");
    }
    // HEAD gets the length of the body a GET would have received (RFC 9110 section 9.3.2).
    out.append("Content-Length: ");
    out.append(std::to_string(body.bytes.size()));
    out.append("\r\n");
  }
  out.append("Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n");
  if (body.content_type.starts_with("text/html")) {
    out.append("Content-Security-Policy: default-src 'none'\r\n");
  }
  out.append("X-Consentgate-Reason: ");
  out.append(reason_code);
  out.append("\r\n");
  out.append(extra_headers);
  if (r.closes_connection) {
    out.append("Connection: close\r\n");
  } else if (options.is_http10) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
  if (!options.is_head && status != 204) out.append(body.bytes);
  return r;
}

}  // namespace

int status_of(ReplyKind kind) noexcept { return info(kind).status; }
std::string_view reason_code_of(ReplyKind kind) noexcept { return info(kind).reason_code; }
bool always_closes(ReplyKind kind) noexcept { return info(kind).always_closes; }

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&quot;");
        break;
      case '\'':
        out.append("&#39;");
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

namespace {

char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 9110 section 12.4.2): zero when
// every digit is 0. Anything unparsable is taken as "not zero", the lenient reading for a page format.
bool is_zero_qvalue(std::string_view q) noexcept {
  if (q.empty() || q.front() != '0') return false;
  q.remove_prefix(1);
  if (q.empty()) return true;
  if (q.front() != '.') return false;
  q.remove_prefix(1);
  for (const char c : q) {
    if (c != '0') return false;
  }
  return true;
}

}  // namespace

bool prefers_html(std::string_view accept) noexcept {
  while (!accept.empty()) {
    const auto comma = accept.find(',');
    const auto item = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    auto semi = item.find(';');
    const auto type = trim_ows(item.substr(0, semi));
    if (!iequals(type, "text/html") && !iequals(type, "application/xhtml+xml")) continue;
    bool refused = false;
    while (semi != std::string_view::npos) {
      const auto rest = item.substr(semi + 1);
      const auto next = rest.find(';');
      const auto param = trim_ows(rest.substr(0, next));
      if (param.size() >= 2 && ascii_lower(param[0]) == 'q' && param[1] == '=') {
        refused = is_zero_qvalue(trim_ows(param.substr(2)));
      }
      semi = next == std::string_view::npos ? next : semi + 1 + next;
    }
    if (!refused) return true;
  }
  return false;
}

LocalReply LocalReply::surrogate(const policy::Decision& decision, std::string_view purpose_label,
                                 const ReplyOptions& options) {
  const std::string_view reason = decision.reason.empty() ? std::string_view{"blocked"} : decision.reason;
  switch (decision.surrogate) {
    case policy::Surrogate::gif:
      return render(200, reason, false, options,
                    {"image/gif", std::string(reinterpret_cast<const char*>(transparent_gif), sizeof transparent_gif)},
                    {});
    case policy::Surrogate::empty_js:
      return render(200, reason, false, options, {"application/javascript; charset=utf-8", {}}, {});
    case policy::Surrogate::empty_css:
      return render(200, reason, false, options, {"text/css; charset=utf-8", {}}, {});
    case policy::Surrogate::forbidden_page: {
      std::string text = "Blocked: you have not consented to ";
      text.append(purpose_label.empty() ? std::string_view{"this purpose"} : purpose_label);
      text.append(".");
      if (!decision.rule_id.empty()) {
        text.append(" Rule ");
        text.append(decision.rule_id);
        text.append(".");
      }
      return render(403, reason, false, options, page(options, "Blocked", text), {});
    }
    case policy::Surrogate::none:
    case policy::Surrogate::no_content:
      break;
  }
  return render(204, reason, false, options, {{}, {}}, {});
}

LocalReply LocalReply::connection_established() {
  LocalReply r;
  r.status = 200;
  r.reason_code = "connection_established";
  r.bytes = "HTTP/1.1 200 Connection established\r\n\r\n";
  return r;
}

LocalReply LocalReply::continue_100() {
  LocalReply r;
  r.status = 100;
  r.reason_code = "continue";
  r.bytes = "HTTP/1.1 100 Continue\r\n\r\n";
  return r;
}

LocalReply LocalReply::for_request_error(const boost::system::error_code& ec, const ReplyOptions& options) {
  ReplyKind kind = ReplyKind::internal_error;
  if (ec.category() == http_category()) {
    switch (static_cast<http_errc>(ec.value())) {
      case http_errc::head_too_large:
      case http_errc::too_many_headers:
        kind = ReplyKind::header_fields_too_large;
        break;
      case http_errc::uri_too_long:
        kind = ReplyKind::uri_too_long;
        break;
      case http_errc::ambiguous_framing:
      case http_errc::bad_transfer_encoding:
      case http_errc::bad_chunk:
      case http_errc::chunk_extension_too_long:
        kind = ReplyKind::ambiguous_framing;
        break;
      default:
        kind = ReplyKind::bad_request;
    }
  }
  ReplyOptions o = options;
  if (kind != ReplyKind::internal_error) o.reason_code = proxy::reason_code(ec);
  LocalReply r = error(kind, o);
  if (!r.closes_connection) {
    // The codec's errors leave the stream position unknown (http_error.hpp): never keep the connection.
    o.keep_alive = false;
    r = error(kind, o);
  }
  return r;
}

LocalReply LocalReply::error(ReplyKind kind, const ReplyOptions& options) {
  const KindInfo& k = info(kind);
  std::string text(k.text);
  std::string extra;
  if (k.status == 502 || k.status == 504) {
    if (const auto host = clean_host(options.host); !host.empty()) {
      text.append(" (");
      text.append(host);
      text.append(")");
    }
    text.append(". Try again later, or contact the site if it persists.");
  } else if (kind == ReplyKind::internal_error) {
    if (const auto id = clean_token(options.exchange_id); !id.empty()) {
      text.append(" (exchange ");
      text.append(id);
      text.append(")");
    }
    text.append(".");
  } else if (kind == ReplyKind::proxy_auth_required) {
    extra = "Proxy-Authenticate: Basic realm=\"" + clean_realm(options.realm) + "\", charset=\"UTF-8\"\r\n";
  } else if (kind == ReplyKind::connection_limit) {
    extra = "Retry-After: 5\r\n";
  }
  const std::string_view code = is_snake_case(options.reason_code) ? options.reason_code : k.reason_code;
  return render(k.status, code, k.always_closes, options, page(options, k.title, text), extra);
}

}  // namespace consent::proxy
