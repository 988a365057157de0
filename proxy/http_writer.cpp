#include "proxy/http_writer.hpp"

#include <array>
#include <charconv>

namespace consent::proxy {
namespace {

bool is_always_hop_by_hop(std::string_view name) noexcept {
  switch (name.size()) {  // one comparison at most for most names
    case 2:
      return iequals(name, "TE");
    case 7:
      return iequals(name, "Trailer") || iequals(name, "Upgrade");
    case 10:
      return iequals(name, "Connection") || iequals(name, "Keep-Alive");
    case 14:
      return iequals(name, "Content-Length");
    case 16:
      return iequals(name, "Proxy-Connection");
    case 17:
      return iequals(name, "Transfer-Encoding");
    case 18:
      return iequals(name, "Proxy-Authenticate");
    case 19:
      return iequals(name, "Proxy-Authorization");
    default:
      return false;
  }
}

// The Connection lines of a head, collected once per write instead of once per field.
class HopByHop {
 public:
  explicit HopByHop(const Headers& headers) noexcept : headers_(headers) {
    for (const auto f : headers) {
      if (f.name.size() != 10 || !iequals(f.name, "Connection")) continue;
      if (count_ < lists_.size()) {
        lists_[count_++] = f.value;
      } else {
        overflow_ = true;
      }
    }
  }
  bool operator()(std::string_view name) const noexcept {
    if (is_always_hop_by_hop(name)) return true;
    for (std::size_t i = 0; i < count_; ++i) {
      if (list_contains(lists_[i], name)) return true;
    }
    return overflow_ && headers_.has_token("Connection", name);
  }

 private:
  const Headers& headers_;
  std::array<std::string_view, 4> lists_{};
  std::size_t count_ = 0;
  bool overflow_ = false;
};

bool starts_with_ci(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append(crlf);
}

void append_number(std::string& out, std::uint64_t n) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

std::string_view version_text(Version v) noexcept { return v == 10 ? "1.0" : "1.1"; }

void append_via(std::string& out, Version received) {
  out.append("Via: ");
  out.append(version_text(received));
  out.push_back(' ');
  out.append(via_pseudonym);
  out.append(crlf);
}

// Copies the end-to-end fields; Host and the hop-by-hop/framing fields are never copied (we write our own).
void append_end_to_end(std::string& out, const Headers& headers) {
  const HopByHop hop_by_hop(headers);
  for (const auto f : headers) {
    if ((f.name.size() == 4 && iequals(f.name, "Host")) || hop_by_hop(f.name)) continue;
    append_field(out, f.name, f.value);
  }
}

void append_upgrade_fields(std::string& out, const Headers& headers) {
  for (const auto f : headers) {
    if (iequals(f.name, "Upgrade")) append_field(out, f.name, f.value);
  }
  append_field(out, "Connection", "upgrade");
}

void append_framing(std::string& out, OutBody body, std::uint64_t content_length) {
  switch (body) {
    case OutBody::content_length:
      out.append("Content-Length: ");
      append_number(out, content_length);
      out.append(crlf);
      break;
    case OutBody::chunked:
      append_field(out, "Transfer-Encoding", "chunked");
      break;
    case OutBody::none:
    case OutBody::close_delimited:
      break;
  }
}

}  // namespace

bool is_hop_by_hop(std::string_view name, const Headers& headers) noexcept { return HopByHop(headers)(name); }

UpstreamRequestOptions upstream_options_for(const RequestHead& head) noexcept {
  UpstreamRequestOptions o;
  switch (head.framing.kind) {
    case BodyKind::chunked:
      o.body = OutBody::chunked;
      break;
    case BodyKind::content_length:
      o.body = OutBody::content_length;
      o.content_length = head.framing.content_length;
      break;
    case BodyKind::none:
    case BodyKind::until_close:  // never for a request
      o.body = OutBody::none;
      break;
  }
  o.forward_websocket = head.is_websocket;
  return o;
}

bool write_upstream_request_head(const RequestHead& head, const UpstreamRequestOptions& options, std::string& out) {
  const auto target = head.parsed_target();
  const auto authority = head.authority_text();
  if (!target || authority.empty()) return false;
  out.append(method_name(head.method));
  out.push_back(' ');
  switch (target->form) {
    case TargetForm::origin:
      out.append(target->path_and_query);
      break;
    case TargetForm::absolute:
      // RFC 9112 section 3.2.1: an empty path is sent as "/".
      if (target->path_and_query.empty() || target->path_and_query.front() != '/') out.push_back('/');
      out.append(target->path_and_query);
      break;
    case TargetForm::authority:
      out.append(target->authority_text);
      break;
    case TargetForm::asterisk:
      out.push_back('*');
      break;
  }
  out.append(" HTTP/1.1\r\n");
  // RFC 9112 section 3.2.2: the Host of an absolute-form request comes from its URI, never from the client's
  // Host line (which may name another site than the one the policy judged).
  append_field(out, "Host", authority);
  append_end_to_end(out, head.headers);
  append_framing(out, options.body, options.content_length);
  if (options.forward_websocket) {
    append_upgrade_fields(out, head.headers);
  } else if (options.connection_close) {
    append_field(out, "Connection", "close");
  }
  append_via(out, head.version);
  out.append(crlf);
  return true;
}

ClientResponseOptions client_options_for(const ResponseHead& response, Method request_method, Version client_version,
                                         bool client_keep_alive) noexcept {
  ClientResponseOptions o;
  o.client_version = client_version;
  o.keep_alive = client_keep_alive;
  if (response.status == 101) {
    o.forward_upgrade = true;
    o.keep_alive = false;  // the connection becomes a tunnel
    return o;
  }
  o.pass_content_length =
      (request_method == Method::head || response.status == 304) && response.headers.contains("Content-Length");
  switch (response.framing.kind) {
    case BodyKind::none:
      o.body = OutBody::none;
      break;
    case BodyKind::content_length:
      o.body = OutBody::content_length;
      o.content_length = response.framing.content_length;
      break;
    case BodyKind::chunked:
    case BodyKind::until_close:
      if (client_version == 11) {
        o.body = OutBody::chunked;
      } else {
        // RFC 9112 section 6.1: never chunked to an HTTP/1.0 recipient; the body ends when we close.
        o.body = OutBody::close_delimited;
        o.keep_alive = false;
      }
      break;
  }
  return o;
}

void write_client_response_head(const ResponseHead& response, const ClientResponseOptions& options, std::string& out) {
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::uint64_t>(response.status));
  out.push_back(' ');
  out.append(response.reason);
  out.append(crlf);
  append_end_to_end(out, response.headers);
  if (options.body == OutBody::none && options.pass_content_length) {
    append_field(out, "Content-Length", response.headers.get("Content-Length"));
  }
  append_framing(out, options.body, options.content_length);
  if (options.forward_upgrade) {
    append_upgrade_fields(out, response.headers);
  } else if (!options.keep_alive || options.body == OutBody::close_delimited) {
    append_field(out, "Connection", "close");
  } else if (options.client_version == 10) {
    append_field(out, "Connection", "keep-alive");
  }
  append_via(out, response.version);
  out.append(crlf);
}

void write_informational_head(const ResponseHead& response, std::string& out) {
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::uint64_t>(response.status));
  out.push_back(' ');
  out.append(response.reason);
  out.append(crlf);
  const HopByHop hop_by_hop(response.headers);
  for (const auto f : response.headers) {
    if (iequals(f.name, "Set-Cookie") || iequals(f.name, "Set-Cookie2") || iequals(f.name, "Host") ||
        hop_by_hop(f.name)) {
      continue;
    }
    append_field(out, f.name, f.value);
  }
  out.append(crlf);
}

std::string_view format_chunk_header(std::uint64_t size, ChunkHeaderBuffer& buf) noexcept {
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size() - 2, size, 16);
  auto* end = r.ptr;
  *end++ = '\r';
  *end++ = '\n';
  return {buf.data(), static_cast<std::size_t>(end - buf.data())};
}

void append_chunk_header(std::uint64_t size, std::string& out) {
  ChunkHeaderBuffer buf;
  out.append(format_chunk_header(size, buf));
}

bool is_forwardable_trailer(std::string_view name) noexcept {
  static constexpr std::string_view prefixes[] = {"Content-", "Proxy-", "If-", "Sec-"};
  static constexpr std::string_view names[] = {"Set-Cookie",
                                               "Cookie",
                                               "Transfer-Encoding",
                                               "Host",
                                               "Connection",
                                               "Keep-Alive",
                                               "TE",
                                               "Trailer",
                                               "Upgrade",
                                               "Authorization",
                                               "WWW-Authenticate",
                                               "Cache-Control",
                                               "Expires",
                                               "Pragma",
                                               "Age",
                                               "Vary",
                                               "Location",
                                               "Retry-After",
                                               "Date",
                                               "Expect",
                                               "Range",
                                               "Max-Forwards",
                                               "Via",
                                               "Forwarded",
                                               "Referer",
                                               "Origin",
                                               "Strict-Transport-Security",
                                               "Alt-Svc",
                                               "Clear-Site-Data",
                                               "Link",
                                               "Refresh"};
  if (!is_token(name)) return false;
  for (const auto p : prefixes) {
    if (starts_with_ci(name, p)) return false;
  }
  for (const auto n : names) {
    if (iequals(name, n)) return false;
  }
  return true;
}

void append_last_chunk(const Headers* trailers, std::string& out) {
  out.append("0\r\n");
  if (trailers != nullptr) {
    for (const auto f : *trailers) {
      if (is_forwardable_trailer(f.name)) append_field(out, f.name, f.value);
    }
  }
  out.append(crlf);
}

}  // namespace consent::proxy
