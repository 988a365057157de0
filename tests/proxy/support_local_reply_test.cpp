#include "proxy/local_reply.hpp"

#include <catch2/catch.hpp>

#include <string>
#include "proxy/http_error.hpp"

using consent::policy::Decision;
using consent::policy::Surrogate;
using consent::policy::Verdict;
using consent::proxy::LocalReply;
using consent::proxy::ReplyKind;
using consent::proxy::ReplyOptions;

namespace {

struct Parsed {
  std::string status_line;
  std::string headers;  // "\r\n"-separated, ending with "\r\n"
  std::string body;
};

Parsed split(const std::string& bytes) {
  const auto eol = bytes.find("\r\n");
  const auto end = bytes.find("\r\n\r\n");
  REQUIRE(eol != std::string::npos);
  REQUIRE(end != std::string::npos);
  return {bytes.substr(0, eol), bytes.substr(eol + 2, end - eol), bytes.substr(end + 4)};
}

bool has_header(const Parsed& p, std::string_view line) {
  return p.headers.find(std::string(line) + "\r\n") != std::string::npos;
}

Decision blocked(Surrogate s) {
  Decision d;
  d.verdict = Verdict::block;
  d.surrogate = s;
  d.rule_id = "google-analytics/domains[0]";
  d.reason = "consent_missing";
  return d;
}

}  // namespace

TEST_CASE("a 204 surrogate has no body and no Content-Length", "[proxy]") {
  const auto r = LocalReply::surrogate(blocked(Surrogate::no_content), "Analytics", {});
  CHECK(r.status == 204);
  CHECK(r.reason_code == "consent_missing");
  CHECK_FALSE(r.closes_connection);
  const auto p = split(r.bytes);
  CHECK(p.status_line == "HTTP/1.1 204 No Content");
  CHECK(p.body.empty());
  CHECK(p.headers.find("Content-Length") == std::string::npos);
  CHECK(has_header(p, "Cache-Control: no-store"));
  CHECK(has_header(p, "X-Consentgate-Reason: consent_missing"));
  CHECK_FALSE(has_header(p, "Connection: close"));
  // Surrogate::none is answered the same way.
  CHECK(LocalReply::surrogate(blocked(Surrogate::none), "Analytics", {}).bytes == r.bytes);
}

TEST_CASE("the GIF surrogate is a 43-byte transparent GIF", "[proxy]") {
  const auto r = LocalReply::surrogate(blocked(Surrogate::gif), "Analytics", {});
  const auto p = split(r.bytes);
  CHECK(p.status_line == "HTTP/1.1 200 OK");
  CHECK(has_header(p, "Content-Type: image/gif"));
  CHECK(has_header(p, "Content-Length: 43"));
  REQUIRE(p.body.size() == 43);
  CHECK(p.body.substr(0, 6) == "GIF89a");
  CHECK(p.body.back() == ';');
}

TEST_CASE("empty JS and CSS surrogates", "[proxy]") {
  const auto js = split(LocalReply::surrogate(blocked(Surrogate::empty_js), "Ads", {}).bytes);
  CHECK(has_header(js, "Content-Type: application/javascript; charset=utf-8"));
  CHECK(has_header(js, "Content-Length: 0"));
  CHECK(js.body.empty());
  const auto css = split(LocalReply::surrogate(blocked(Surrogate::empty_css), "Ads", {}).bytes);
  CHECK(has_header(css, "Content-Type: text/css; charset=utf-8"));
  CHECK(css.body.empty());
}

TEST_CASE("the 403 page names the purpose and the rule, in text or HTML", "[proxy]") {
  const auto text = LocalReply::surrogate(blocked(Surrogate::forbidden_page), "Audience measurement", {});
  CHECK(text.status == 403);
  auto p = split(text.bytes);
  CHECK(p.status_line == "HTTP/1.1 403 Forbidden");
  CHECK(has_header(p, "Content-Type: text/plain; charset=utf-8"));
  CHECK(p.body == "Blocked: you have not consented to Audience measurement. Rule google-analytics/domains[0].\n");
  CHECK(has_header(p, "Content-Length: " + std::to_string(p.body.size())));

  ReplyOptions html;
  html.prefers_html = true;
  const auto page = LocalReply::surrogate(blocked(Surrogate::forbidden_page), "Ads & <tracking>", html);
  p = split(page.bytes);
  CHECK(has_header(p, "Content-Type: text/html; charset=utf-8"));
  CHECK(has_header(p, "Content-Security-Policy: default-src 'none'"));
  CHECK(p.body.find("Ads &amp; &lt;tracking&gt;") != std::string::npos);
  CHECK(p.body.find("<tracking>") == std::string::npos);
  CHECK(has_header(p, "Content-Length: " + std::to_string(p.body.size())));
}

TEST_CASE("HEAD gets the headers and the length but no body", "[proxy]") {
  ReplyOptions head;
  head.is_head = true;
  const auto full = split(LocalReply::surrogate(blocked(Surrogate::gif), "A", {}).bytes);
  const auto r = split(LocalReply::surrogate(blocked(Surrogate::gif), "A", head).bytes);
  CHECK(r.body.empty());
  CHECK(r.headers == full.headers);
}

TEST_CASE("Connection: close when the body was not read or keep-alive is off", "[proxy]") {
  ReplyOptions unread;
  unread.body_unread = true;
  auto r = LocalReply::surrogate(blocked(Surrogate::no_content), "A", unread);
  CHECK(r.closes_connection);
  CHECK(has_header(split(r.bytes), "Connection: close"));
  ReplyOptions no_keep_alive;
  no_keep_alive.keep_alive = false;
  r = LocalReply::error(ReplyKind::forbidden_connect_port, no_keep_alive);
  CHECK(r.closes_connection);
  r = LocalReply::error(ReplyKind::forbidden_connect_port, {});
  CHECK_FALSE(r.closes_connection);
}

TEST_CASE("each error kind has its status, reason code and closing rule", "[proxy]") {
  struct Expect {
    ReplyKind kind;
    int status;
    std::string_view code;
    bool closes;
  };
  const Expect table[] = {
      {ReplyKind::bad_request, 400, "malformed_request", true},
      {ReplyKind::ambiguous_framing, 400, "ambiguous_framing", true},
      {ReplyKind::forbidden_connect_port, 403, "connect_port_refused", false},
      {ReplyKind::forbidden_client, 403, "client_not_allowed", false},
      {ReplyKind::forbidden_loop, 403, "request_loop", false},
      {ReplyKind::method_not_allowed, 405, "method_not_allowed", false},
      {ReplyKind::proxy_auth_required, 407, "proxy_auth_required", false},
      {ReplyKind::request_timeout, 408, "client_head_timeout", true},
      {ReplyKind::payload_too_large, 413, "body_too_large", true},
      {ReplyKind::uri_too_long, 414, "uri_too_long", true},
      {ReplyKind::misdirected_request, 421, "misdirected_request", true},
      {ReplyKind::header_fields_too_large, 431, "request_head_too_large", true},
      {ReplyKind::upstream_dns_failed, 502, "upstream_dns_failed", false},
      {ReplyKind::upstream_refused, 502, "upstream_refused", false},
      {ReplyKind::upstream_unreachable, 502, "upstream_unreachable", false},
      {ReplyKind::upstream_reset, 502, "upstream_reset", false},
      {ReplyKind::upstream_bad_response, 502, "upstream_bad_response", false},
      {ReplyKind::upstream_tls_failed, 502, "upstream_tls_failed", false},
      {ReplyKind::upstream_tls_unknown_issuer, 502, "upstream_tls_unknown_issuer", false},
      {ReplyKind::upstream_tls_expired, 502, "upstream_tls_expired", false},
      {ReplyKind::upstream_tls_wrong_host, 502, "upstream_tls_wrong_host", false},
      {ReplyKind::connection_limit, 503, "connection_limit", true},
      {ReplyKind::upstream_timeout, 504, "upstream_timeout", false},
      {ReplyKind::upstream_connect_timeout, 504, "upstream_connect_timeout", false},
      {ReplyKind::upstream_first_byte_timeout, 504, "upstream_first_byte_timeout", false},
      {ReplyKind::internal_error, 500, "internal_error", false},
  };
  static_assert(sizeof(table) / sizeof(table[0]) == static_cast<std::size_t>(ReplyKind::internal_error) + 1,
                "every kind listed");
  for (const auto& e : table) {
    INFO(e.code);
    const auto r = LocalReply::error(e.kind, {});
    CHECK(r.status == e.status);
    CHECK(r.reason_code == e.code);
    CHECK(r.closes_connection == e.closes);
    CHECK(consent::proxy::status_of(e.kind) == e.status);
    CHECK(consent::proxy::reason_code_of(e.kind) == e.code);
    const auto p = split(r.bytes);
    CHECK(p.status_line.starts_with("HTTP/1.1 " + std::to_string(e.status) + " "));
    CHECK(has_header(p, "Cache-Control: no-store"));
    CHECK(has_header(p, "X-Consentgate-Reason: " + std::string(e.code)));
    CHECK(has_header(p, "Content-Length: " + std::to_string(p.body.size())));
    CHECK(has_header(p, "Connection: close") == e.closes);
    CHECK_FALSE(p.body.empty());
  }
}

TEST_CASE("502 pages name the reason and a clean host, never raw text", "[proxy]") {
  ReplyOptions o;
  o.host = "tracker.example";
  auto p = split(LocalReply::error(ReplyKind::upstream_tls_expired, o).bytes);
  CHECK(p.body ==
        "TLS verification failed: the site's certificate is expired or not yet valid (tracker.example). Try again "
        "later, or contact the site if it persists.\n");
  o.host = "evil.example\r\nSet-Cookie: a=b";
  p = split(LocalReply::error(ReplyKind::upstream_refused, o).bytes);
  CHECK(p.body.find("evil") == std::string::npos);
  CHECK(p.headers.find("Set-Cookie") == std::string::npos);
  o.host = "<script>";
  o.prefers_html = true;
  p = split(LocalReply::error(ReplyKind::upstream_timeout, o).bytes);
  CHECK(p.body.find("script") == std::string::npos);
}

TEST_CASE("the 500 page shows only a clean exchange id", "[proxy]") {
  ReplyOptions o;
  o.exchange_id = "a1b2";
  CHECK(split(LocalReply::error(ReplyKind::internal_error, o).bytes).body == "internal error (exchange a1b2).\n");
  o.exchange_id = "x<y";
  CHECK(split(LocalReply::error(ReplyKind::internal_error, o).bytes).body == "internal error.\n");
}

TEST_CASE("407 carries a Basic challenge with a sanitised realm; 503 a Retry-After", "[proxy]") {
  ReplyOptions o;
  auto p = split(LocalReply::error(ReplyKind::proxy_auth_required, o).bytes);
  CHECK(has_header(p, R"(Proxy-Authenticate: Basic realm="consentgate", charset="UTF-8")"));
  o.realm = "staging \"proxy\"\r\nX: y";
  p = split(LocalReply::error(ReplyKind::proxy_auth_required, o).bytes);
  CHECK(has_header(p, R"(Proxy-Authenticate: Basic realm="staging proxyX: y", charset="UTF-8")"));
  p = split(LocalReply::error(ReplyKind::connection_limit, {}).bytes);
  CHECK(has_header(p, "Retry-After: 5"));
}

TEST_CASE("prefers_html reads Accept", "[proxy]") {
  using consent::proxy::prefers_html;
  CHECK(prefers_html("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
  CHECK(prefers_html("TEXT/HTML"));
  CHECK(prefers_html("image/png, application/xhtml+xml;q=0.5"));
  CHECK(prefers_html("text/html;level=1;q=0.001"));
  CHECK_FALSE(prefers_html(""));
  CHECK_FALSE(prefers_html("*/*"));
  CHECK_FALSE(prefers_html("text/htmlx"));
  CHECK_FALSE(prefers_html("text/html;q=0"));
  CHECK_FALSE(prefers_html("text/html ; q=0.000"));
  CHECK_FALSE(prefers_html("application/json, text/html;q=0.0"));
}

TEST_CASE("html_escape escapes the five characters", "[proxy]") {
  CHECK(consent::proxy::html_escape(R"(<a href="x">'&'</a>)") ==
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  CHECK(consent::proxy::html_escape("") == "");
}

TEST_CASE("interim and tunnel replies are bare status lines", "[proxy]") {
  CHECK(LocalReply::connection_established().bytes == "HTTP/1.1 200 Connection established\r\n\r\n");
  CHECK(LocalReply::continue_100().bytes == "HTTP/1.1 100 Continue\r\n\r\n");
}

TEST_CASE("codec errors map to 431, 414 and 400 with the codec's reason and always close", "[proxy]") {
  using consent::proxy::http_errc;
  const auto reply = [](http_errc e) { return LocalReply::for_request_error(make_error_code(e), {}); };
  auto r = reply(http_errc::too_many_headers);
  CHECK(r.status == 431);
  CHECK(r.reason_code == "too_many_headers");
  CHECK(r.closes_connection);
  CHECK(has_header(split(r.bytes), "Connection: close"));
  CHECK(has_header(split(r.bytes), "X-Consentgate-Reason: too_many_headers"));
  CHECK(reply(http_errc::uri_too_long).status == 414);
  r = reply(http_errc::bad_chunk);
  CHECK(r.status == 400);
  CHECK(r.reason_code == "bad_chunk");
  CHECK(split(r.bytes).body.find("ambiguous") != std::string::npos);
  r = reply(http_errc::invalid_host);
  CHECK(r.status == 400);
  CHECK(r.reason_code == "invalid_host");
  CHECK(r.closes_connection);
  r = LocalReply::for_request_error(boost::system::errc::make_error_code(boost::system::errc::io_error), {});
  CHECK(r.status == 500);
  CHECK(r.reason_code == "internal_error");
  CHECK(r.closes_connection);
}

TEST_CASE("a reason code override must be snake_case", "[proxy]") {
  ReplyOptions o;
  o.reason_code = "upstream_tls_revoked";
  CHECK(LocalReply::error(ReplyKind::upstream_tls_failed, o).reason_code == "upstream_tls_revoked");
  o.reason_code = "Bad\r\nX: y";
  const auto r = LocalReply::error(ReplyKind::upstream_tls_failed, o);
  CHECK(r.reason_code == "upstream_tls_failed");
  CHECK(r.bytes.find("X: y") == std::string::npos);
}

TEST_CASE("an HTTP/1.0 client kept alive is told so", "[proxy]") {
  ReplyOptions o;
  o.is_http10 = true;
  CHECK(has_header(split(LocalReply::surrogate(blocked(Surrogate::gif), "A", o).bytes), "Connection: keep-alive"));
  o.keep_alive = false;
  const auto p = split(LocalReply::surrogate(blocked(Surrogate::gif), "A", o).bytes);
  CHECK(has_header(p, "Connection: close"));
  CHECK(p.headers.find("keep-alive") == std::string::npos);
}

TEST_CASE("a misdirected request is answered 421 Misdirected Request and closes", "[proxy]") {
  consent::proxy::ReplyOptions html;
  html.prefers_html = true;
  html.host = "other.example";
  const auto r = LocalReply::error(ReplyKind::misdirected_request, html);
  const auto p = split(r.bytes);
  CHECK(p.status_line == "HTTP/1.1 421 Misdirected Request");
  CHECK(has_header(p, "Connection: close"));
  CHECK(has_header(p, "Content-Security-Policy: default-src 'none'"));
  CHECK(p.body.find("opened for another site") != std::string::npos);
  // The request's host is not echoed: only 502/504 pages name the site.
  CHECK(p.body.find("other.example") == std::string::npos);
}
