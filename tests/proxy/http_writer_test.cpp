#include "proxy/http_writer.hpp"

#include "proxy/http_parser.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace consent::proxy;

namespace {

RequestHead parse_request(std::string_view in) {
  RequestParser p{consent::config::Limits{}};
  const auto s = p.feed(in);
  REQUIRE(s.event == ParseEvent::head);
  return std::move(p.head());
}

ResponseHead parse_response(std::string_view in, Method method = Method::get) {
  ResponseParser p{consent::config::Limits{}};
  p.reset(method);
  const auto s = p.feed(in);
  REQUIRE(s.event == ParseEvent::head);
  return std::move(p.head());
}

std::string upstream(std::string_view in) {
  const auto head = parse_request(in);
  std::string out;
  REQUIRE(write_upstream_request_head(head, upstream_options_for(head), out));
  return out;
}

std::string to_client(std::string_view in, Method method = Method::get, Version client_version = 11,
                      bool client_keep_alive = true) {
  const auto head = parse_response(in, method);
  std::string out;
  write_client_response_head(head, client_options_for(head, method, client_version, client_keep_alive), out);
  return out;
}

}  // namespace

TEST_CASE("upstream request: origin-form, Host from the URI, hop-by-hop removed, Via appended", "[proxy]") {
  CHECK(
      upstream("GET http://a.example:8080/p?q HTTP/1.1\r\nHost: evil.example\r\nUser-Agent: t\r\n"
               "Connection: keep-alive, X-Secret\r\nX-Secret: s\r\nKeep-Alive: 300\r\nProxy-Connection: keep-alive\r\n"
               "Proxy-Authorization: Basic eDp5\r\nTE: trailers\r\nTrailer: X\r\nUpgrade: h2c\r\nVia: 1.0 fred\r\n"
               "Cookie: a=1\r\n\r\n") ==
      "GET /p?q HTTP/1.1\r\nHost: a.example:8080\r\nUser-Agent: t\r\nVia: 1.0 fred\r\nCookie: a=1\r\n"
      "Via: 1.1 consentgate\r\n\r\n");
}

TEST_CASE("Connection can never remove framing or routing headers", "[proxy]") {
  CHECK(upstream("POST http://a.example/ HTTP/1.1\r\nHost: a.example\r\nConnection: Content-Length, Host, "
                 "Transfer-Encoding\r\nContent-Length: 5\r\n\r\nhello") ==
        "POST / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\nVia: 1.1 consentgate\r\n\r\n");
  CHECK(upstream("POST http://a.example/u HTTP/1.1\r\nHost: a.example\r\nConnection: transfer-encoding\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n") ==
        "POST /u HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\nVia: 1.1 consentgate\r\n\r\n");
}

TEST_CASE("upstream request: empty path, query only, HTTP/1.0 client, Content-Length 0", "[proxy]") {
  CHECK(upstream("GET http://a.example HTTP/1.1\r\nHost: a.example\r\n\r\n") ==
        "GET / HTTP/1.1\r\nHost: a.example\r\nVia: 1.1 consentgate\r\n\r\n");
  CHECK(upstream("GET http://a.example?x=1 HTTP/1.1\r\nHost: a.example\r\n\r\n") ==
        "GET /?x=1 HTTP/1.1\r\nHost: a.example\r\nVia: 1.1 consentgate\r\n\r\n");
  CHECK(upstream("GET http://[::1]:8080/ HTTP/1.0\r\n\r\n") ==
        "GET / HTTP/1.1\r\nHost: [::1]:8080\r\nVia: 1.0 consentgate\r\n\r\n");
  CHECK(upstream("POST http://a.example/f HTTP/1.1\r\nHost: a.example\r\nContent-Length: 0\r\n\r\n") ==
        "POST /f HTTP/1.1\r\nHost: a.example\r\nContent-Length: 0\r\nVia: 1.1 consentgate\r\n\r\n");
  CHECK(upstream("GET /local HTTP/1.1\r\nHost: origin.example\r\n\r\n") ==
        "GET /local HTTP/1.1\r\nHost: origin.example\r\nVia: 1.1 consentgate\r\n\r\n");
}

TEST_CASE("upstream request: a WebSocket upgrade keeps Upgrade and Connection: upgrade", "[proxy]") {
  CHECK(upstream("GET http://a.example/chat HTTP/1.1\r\nHost: a.example\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: k==\r\nSec-WebSocket-Version: 13\r\n\r\n") ==
        "GET /chat HTTP/1.1\r\nHost: a.example\r\nSec-WebSocket-Key: k==\r\nSec-WebSocket-Version: 13\r\n"
        "Upgrade: websocket\r\nConnection: upgrade\r\nVia: 1.1 consentgate\r\n\r\n");
  // Not a WebSocket (h2c): Upgrade is dropped, as for any hop-by-hop field.
  CHECK(upstream("GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n") ==
        "GET / HTTP/1.1\r\nHost: a.example\r\nVia: 1.1 consentgate\r\n\r\n");
}

TEST_CASE("upstream request: CONNECT keeps authority-form, connection_close writes close", "[proxy]") {
  const auto connect = parse_request("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n");
  std::string out;
  REQUIRE(write_upstream_request_head(connect, upstream_options_for(connect), out));
  CHECK(out == "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\nVia: 1.1 consentgate\r\n\r\n");
  const auto get = parse_request("GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n");
  auto options = upstream_options_for(get);
  options.connection_close = true;
  out.clear();
  REQUIRE(write_upstream_request_head(get, options, out));
  CHECK(out == "GET / HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\nVia: 1.1 consentgate\r\n\r\n");
  RequestHead no_authority;
  no_authority.method = Method::options;
  no_authority.target = "*";
  no_authority.version = 10;
  out.clear();
  CHECK_FALSE(write_upstream_request_head(no_authority, {}, out));
  CHECK(out.empty());
}

TEST_CASE("client response: Content-Length kept, Set-Cookie passes to the filters, Via appended", "[proxy]") {
  CHECK(to_client("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nContent-Length: 2\r\n"
                  "Keep-Alive: timeout=5\r\nConnection: keep-alive\r\n\r\n") ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nContent-Length: 2\r\n"
        "Via: 1.1 consentgate\r\n\r\n");
}

TEST_CASE("client response: an HTTP/1.0 client never gets chunked", "[proxy]") {
  const auto head = parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  const auto o = client_options_for(head, Method::get, 10, true);
  CHECK(o.body == OutBody::close_delimited);
  CHECK_FALSE(o.keep_alive);
  std::string out;
  write_client_response_head(head, o, out);
  CHECK(out == "HTTP/1.1 200 OK\r\nConnection: close\r\nVia: 1.1 consentgate\r\n\r\n");
  // An HTTP/1.1 client gets it re-chunked, and a body without length is chunked too (keeps the client alive).
  CHECK(to_client("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") ==
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nVia: 1.1 consentgate\r\n\r\n");
  CHECK(to_client("HTTP/1.0 200 OK\r\n\r\n") ==
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nVia: 1.0 consentgate\r\n\r\n");
  CHECK(to_client("HTTP/1.0 200 OK\r\n\r\n", Method::get, 10) ==
        "HTTP/1.1 200 OK\r\nConnection: close\r\nVia: 1.0 consentgate\r\n\r\n");
}

TEST_CASE("client response: HTTP/1.0 keep-alive and close", "[proxy]") {
  CHECK(to_client("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", Method::get, 10, true) ==
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\nVia: 1.1 consentgate\r\n\r\n");
  CHECK(to_client("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", Method::get, 11, false) ==
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\nVia: 1.1 consentgate\r\n\r\n");
}

TEST_CASE("client response: HEAD and 304 keep Content-Length as metadata, 204 drops it", "[proxy]") {
  CHECK(to_client("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", Method::head) ==
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nVia: 1.1 consentgate\r\n\r\n");
  CHECK(to_client("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 10\r\n\r\n") ==
        "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 10\r\nVia: 1.1 consentgate\r\n\r\n");
  CHECK(to_client("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n") ==
        "HTTP/1.1 204 No Content\r\nVia: 1.1 consentgate\r\n\r\n");
  CHECK(to_client("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Method::head) ==
        "HTTP/1.1 200 OK\r\nVia: 1.1 consentgate\r\n\r\n");
}

TEST_CASE("client response: 101 keeps the upgrade fields, 1xx and empty reasons", "[proxy]") {
  CHECK(to_client("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Accept: a=\r\n\r\n") ==
        "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: a=\r\nUpgrade: websocket\r\nConnection: "
        "upgrade\r\nVia: 1.1 consentgate\r\n\r\n");
  CHECK(to_client("HTTP/1.1 100 Continue\r\n\r\n") == "HTTP/1.1 100 Continue\r\nVia: 1.1 consentgate\r\n\r\n");
  CHECK(to_client("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n") ==
        "HTTP/1.1 200 \r\nContent-Length: 0\r\nVia: 1.1 consentgate\r\n\r\n");
}

TEST_CASE("chunk headers are lower-case hex with CRLF", "[proxy]") {
  ChunkHeaderBuffer buf;
  CHECK(format_chunk_header(0x1a2b, buf) == "1a2b\r\n");
  CHECK(format_chunk_header(1, buf) == "1\r\n");
  CHECK(format_chunk_header(0xffffffffffffffffULL, buf) == "ffffffffffffffff\r\n");
  std::string out;
  append_chunk_header(16, out);
  CHECK(out == "10\r\n");
}

TEST_CASE("last chunk forwards harmless trailers only: never Set-Cookie", "[proxy]") {
  Headers t;
  REQUIRE(t.add("Server-Timing", "db;dur=53"));
  REQUIRE(t.add("Set-Cookie", "tracker=1"));
  REQUIRE(t.add("set-cookie", "tracker=2"));
  REQUIRE(t.add("Cookie", "a=1"));
  REQUIRE(t.add("Content-Length", "5"));
  REQUIRE(t.add("Transfer-Encoding", "chunked"));
  REQUIRE(t.add("Host", "evil.example"));
  REQUIRE(t.add("Location", "http://evil.example/"));
  REQUIRE(t.add("Content-Type", "text/html"));
  REQUIRE(t.add("Digest", "sha-256=x"));
  std::string out;
  append_last_chunk(&t, out);
  CHECK(out == "0\r\nServer-Timing: db;dur=53\r\nDigest: sha-256=x\r\n\r\n");
  out.clear();
  append_last_chunk(nullptr, out);
  CHECK(out == "0\r\n\r\n");
}

TEST_CASE("parsed chunked body re-encoded by the writer parses back to the same bytes", "[proxy]") {
  std::string wire = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string body(1000, 'z');
  for (std::size_t off = 0; off < body.size(); off += 333) {
    const auto piece = body.substr(off, 333);
    append_chunk_header(piece.size(), wire);
    wire += piece;
    wire += crlf;
  }
  Headers trailers;
  REQUIRE(trailers.add("Server-Timing", "x"));
  append_last_chunk(&trailers, wire);
  RequestParser p{consent::config::Limits{}};
  std::string_view rest = wire;
  std::string got;
  for (;;) {
    const auto s = p.feed(rest);
    rest.remove_prefix(s.consumed);
    if (s.event == ParseEvent::body) got.append(s.body);
    if (s.event == ParseEvent::message_complete || s.event == ParseEvent::error) break;
  }
  CHECK(got == body);
  CHECK(p.trailers() == trailers);
  CHECK(rest.empty());
}

TEST_CASE("hop-by-hop classification", "[proxy]") {
  Headers h;
  REQUIRE(h.add("Connection", "X-Foo, close"));
  for (const char* name : {"Connection", "keep-alive", "PROXY-CONNECTION", "Proxy-Authorization", "TE", "Trailer",
                           "Upgrade", "Transfer-Encoding", "Content-Length", "x-foo"}) {
    INFO(name);
    CHECK(is_hop_by_hop(name, h));
  }
  CHECK_FALSE(is_hop_by_hop("Cookie", h));
  CHECK_FALSE(is_hop_by_hop("Set-Cookie", h));
  CHECK_FALSE(is_hop_by_hop("Host", h));  // Host is not hop-by-hop: the writer regenerates it
}

TEST_CASE("103 Early Hints keep Link and CSP, lose Set-Cookie, hop-by-hop and framing fields", "[proxy]") {
  const auto hints = parse_response(
      "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload; as=style\r\nSet-Cookie: id=1\r\n"
      "set-cookie2: old=1\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: 5\r\nContent-Length: 3\r\n"
      "Content-Security-Policy: script-src 'self'\r\nLink: <http://t.example/x.js>; rel=preload; as=script\r\n\r\n");
  std::string out;
  write_informational_head(hints, out);
  CHECK(out ==
        "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload; as=style\r\n"
        "Content-Security-Policy: script-src 'self'\r\nLink: <http://t.example/x.js>; rel=preload; as=script\r\n\r\n");
}

TEST_CASE("103 Early Hints with an empty reason keep it empty", "[proxy]") {
  const auto hints = parse_response("HTTP/1.1 103 \r\nLink: </b.js>; rel=preload\r\n\r\n");
  std::string out;
  write_informational_head(hints, out);
  CHECK(out == "HTTP/1.1 103 \r\nLink: </b.js>; rel=preload\r\n\r\n");
}
