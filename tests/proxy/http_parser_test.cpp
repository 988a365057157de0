#include "proxy/http_parser.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

using namespace consent::proxy;
using consent::config::Limits;
using namespace std::string_view_literals;

namespace {

std::string framing_text(const BodyFraming& f) {
  switch (f.kind) {
    case BodyKind::none:
      return "none";
    case BodyKind::content_length:
      return "length=" + std::to_string(f.content_length);
    case BodyKind::chunked:
      return "chunked";
    case BodyKind::until_close:
      return "until_close";
  }
  return "?";
}

std::string fields_text(const Headers& h) {
  std::string s;
  for (const auto f : h) s += "[" + std::string(f.name) + "=" + std::string(f.value) + "]";
  return s;
}

std::string describe(const RequestHead& h) {
  return "head " + std::string(method_name(h.method)) + " " + h.target + " v" + std::to_string(h.version) + " " +
         framing_text(h.framing) + (h.keep_alive ? " ka" : " close") + (h.is_upgrade ? " upgrade" : "") +
         (h.is_websocket ? " ws" : "") + (h.expect_100_continue ? " expect" : "") + " " + fields_text(h.headers);
}

std::string describe(const ResponseHead& h) {
  return "head " + std::to_string(h.status) + " '" + h.reason + "' v" + std::to_string(h.version) + " " +
         framing_text(h.framing) + (h.keep_alive ? " ka" : " close") + (h.is_upgrade ? " upgrade" : "") + " " +
         fields_text(h.headers);
}

void reset_for_next(RequestParser& p, const std::vector<Method>&, std::size_t) { p.reset(); }
void reset_for_next(ResponseParser& p, const std::vector<Method>& methods, std::size_t done) {
  p.reset(done < methods.size() ? methods[done] : Method::get);
}

// Plays the session: bytes arrive in `pieces`, unconsumed bytes stay in a buffer, events are recorded. Body bytes
// of a message are merged, so any split gives the same transcript. Stops after an error or an upgrade/CONNECT
// completion (the rest of the buffer is recorded as "rest:").
template <class Parser>
std::vector<std::string> drive(Parser& p, const std::vector<std::string>& pieces, bool eof,
                               const std::vector<Method>& methods = {}) {
  std::vector<std::string> out;
  std::string buffer;
  std::string body;
  std::size_t next = 0;
  std::size_t completed = 0;
  bool upgraded = false;
  for (int guard = 0; guard < 1'000'000; ++guard) {
    const auto step = p.feed(buffer);
    REQUIRE(step.consumed <= buffer.size());
    switch (step.event) {
      case ParseEvent::need_more:
        REQUIRE(step.consumed == buffer.size());
        buffer.clear();
        if (next < pieces.size()) {
          buffer += pieces[next++];
          continue;
        }
        if (!eof) return out;
        {
          const auto fin = p.finish();
          if (fin.event == ParseEvent::message_complete) {
            if (!body.empty()) out.push_back("body:" + body);
            out.push_back("complete(eof)");
          } else if (fin.event == ParseEvent::error) {
            out.push_back("error:" + std::string(reason_code(p.error())));
          } else {
            out.push_back("eof");
          }
        }
        return out;
      case ParseEvent::head:
        out.push_back(describe(p.head()));
        upgraded =
            p.head().is_upgrade || (std::is_same_v<Parser, RequestParser> && p.head().framing.kind == BodyKind::none &&
                                    out.back().rfind("head CONNECT", 0) == 0);
        break;
      case ParseEvent::body:
        REQUIRE(!step.body.empty());
        REQUIRE(step.body.data() >= buffer.data());
        REQUIRE(step.body.data() + step.body.size() <= buffer.data() + step.consumed);
        body.append(step.body);
        break;
      case ParseEvent::message_complete:
        if (!body.empty()) out.push_back("body:" + body);
        body.clear();
        out.push_back("complete " + fields_text(p.trailers()));
        ++completed;
        if (upgraded) {
          std::string rest = buffer.substr(step.consumed);
          while (next < pieces.size()) rest += pieces[next++];
          out.push_back("rest:" + rest);
          return out;
        }
        reset_for_next(p, methods, completed);
        break;
      case ParseEvent::error:
        REQUIRE(p.must_close());
        out.push_back("error:" + std::string(reason_code(p.error())));
        return out;
    }
    buffer.erase(0, step.consumed);
  }
  FAIL("parser did not make progress");
  return out;
}

template <class Parser>
std::vector<std::string> run_whole(std::string_view in, const Limits& limits = {}, bool eof = false,
                                   const std::vector<Method>& methods = {}) {
  Parser p{limits};
  if constexpr (std::is_same_v<Parser, ResponseParser>) p.reset(methods.empty() ? Method::get : methods[0]);
  return drive(p, {std::string(in)}, eof, methods);
}

// The transcript of `in` fed whole, then split in two at every offset, then byte by byte: all must be equal.
template <class Parser>
std::vector<std::string> run_all_splits(std::string_view in, const Limits& limits = {}, bool eof = false,
                                        const std::vector<Method>& methods = {}) {
  const auto whole = run_whole<Parser>(in, limits, eof, methods);
  for (std::size_t i = 1; i < in.size(); ++i) {
    Parser p{limits};
    if constexpr (std::is_same_v<Parser, ResponseParser>) p.reset(methods.empty() ? Method::get : methods[0]);
    const auto split = drive(p, {std::string(in.substr(0, i)), std::string(in.substr(i))}, eof, methods);
    INFO("split at " << i);
    REQUIRE(split == whole);
  }
  Parser p{limits};
  if constexpr (std::is_same_v<Parser, ResponseParser>) p.reset(methods.empty() ? Method::get : methods[0]);
  std::vector<std::string> bytes;
  for (char c : in) bytes.emplace_back(1, c);
  REQUIRE(drive(p, bytes, eof, methods) == whole);
  return whole;
}

std::string request_error(std::string_view in, const Limits& limits = {}) {
  const auto t = run_all_splits<RequestParser>(in, limits);
  REQUIRE(!t.empty());
  return t.back();
}

std::string response_error(std::string_view in, const std::vector<Method>& methods = {}) {
  const auto t = run_all_splits<ResponseParser>(in, {}, false, methods);
  REQUIRE(!t.empty());
  return t.back();
}

}  // namespace

TEST_CASE("llhttp is built in strict mode", "[proxy]") { CHECK(llhttp_is_strict()); }

TEST_CASE("an absolute-form GET gives its head and completes", "[proxy]") {
  const auto t = run_all_splits<RequestParser>(
      "GET http://a.example/x?y=1 HTTP/1.1\r\nHost: a.example\r\nUser-Agent: t\r\nAccept:  */*  \r\n\r\n");
  REQUIRE(t.size() == 2);
  CHECK(t[0] == "head GET http://a.example/x?y=1 v11 none ka [Host=a.example][User-Agent=t][Accept=*/*]");
  CHECK(t[1] == "complete ");
}

TEST_CASE("llhttp's sample requests parse (curl, firefox, OPTIONS, HEAD)", "[proxy]") {
  CHECK(run_all_splits<RequestParser>(
            "OPTIONS /url HTTP/1.1\r\nHost: h\r\nHeader1: Value1\r\nHeader2:\t Value2\r\n\r\n")[0] ==
        "head OPTIONS /url v11 none ka [Host=h][Header1=Value1][Header2=Value2]");
  CHECK(run_all_splits<RequestParser>("HEAD /url HTTP/1.1\r\nHost: h\r\n\r\n")[0] ==
        "head HEAD /url v11 none ka [Host=h]");
  CHECK(run_all_splits<RequestParser>(
            "GET /test HTTP/1.1\r\nUser-Agent: curl/7.18.0 (i486-pc-linux-gnu) libcurl/7.18.0 OpenSSL/0.9.8g "
            "zlib/1.2.3.3 libidn/1.1\r\nHost: 0.0.0.0:5000\r\nAccept: */*\r\n\r\n")[0] ==
        "head GET /test v11 none ka [User-Agent=curl/7.18.0 (i486-pc-linux-gnu) libcurl/7.18.0 OpenSSL/0.9.8g "
        "zlib/1.2.3.3 libidn/1.1][Host=0.0.0.0:5000][Accept=*/*]");
  CHECK(run_all_splits<RequestParser>(
            "GET /favicon.ico HTTP/1.1\r\nHost: 0.0.0.0:5000\r\nUser-Agent: Mozilla/5.0 (X11; U; Linux i686; en-US; "
            "rv:1.9) Gecko/2008061015 Firefox/3.0\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/"
            "*;q=0.8\r\nAccept-Language: en-us,en;q=0.5\r\nAccept-Encoding: gzip,deflate\r\nAccept-Charset: "
            "ISO-8859-1,utf-8;q=0.7,*;q=0.7\r\nKeep-Alive: 300\r\nConnection: keep-alive\r\n\r\n")
            .size() == 2);
  CHECK(
      run_all_splits<RequestParser>("PUT /url HTTP/1.1\r\nHost: h\r\nContent-Length: 003\r\nOhai: world\r\n\r\nabc") ==
      std::vector<std::string>{"head PUT /url v11 length=3 ka [Host=h][Content-Length=003][Ohai=world]", "body:abc",
                               "complete "});
}

TEST_CASE("pipelined requests split at every offset give the same heads and bodies", "[proxy]") {
  const std::string in =
      "GET http://a.example/1 HTTP/1.1\r\nHost: a.example\r\n\r\n"
      "POST http://a.example/2 HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\n\r\nhello"
      "POST http://b.example/3 HTTP/1.1\r\nHost: b.example\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3;flag;other\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nDigest: x\r\nServer-Timing: y\r\n\r\n"
      "DELETE /4 HTTP/1.1\r\nHost: c.example:8080\r\nConnection: close\r\n\r\n";
  const auto t = run_all_splits<RequestParser>(in);
  const std::vector<std::string> expected{
      "head GET http://a.example/1 v11 none ka [Host=a.example]",
      "complete ",
      "head POST http://a.example/2 v11 length=5 ka [Host=a.example][Content-Length=5]",
      "body:hello",
      "complete ",
      "head POST http://b.example/3 v11 chunked ka [Host=b.example][Transfer-Encoding=chunked]",
      "body:abc0123456789abcdef",
      "complete [Digest=x][Server-Timing=y]",
      "head DELETE /4 v11 none close [Host=c.example:8080][Connection=close]",
      "complete ",
  };
  CHECK(t == expected);
}

TEST_CASE("a pipelined request stays in the caller's buffer until reset", "[proxy]") {
  RequestParser p{Limits{}};
  const std::string in = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
  auto s = p.feed(in);
  REQUIRE(s.event == ParseEvent::head);
  const auto first_head = s.consumed;
  s = p.feed(std::string_view(in).substr(first_head));
  REQUIRE(s.event == ParseEvent::message_complete);
  CHECK(s.consumed == 0);
  CHECK(p.is_message_complete());
  p.reset();
  s = p.feed(std::string_view(in).substr(first_head));
  REQUIRE(s.event == ParseEvent::head);
  CHECK(p.head().target == "/b");
  CHECK(first_head + s.consumed == in.size());
}

TEST_CASE("HTTP/1.0 requests: keep-alive only when asked, no Expect", "[proxy]") {
  CHECK(run_all_splits<RequestParser>("GET http://a.example/ HTTP/1.0\r\nExpect: 100-continue\r\n\r\n")[0] ==
        "head GET http://a.example/ v10 none close [Expect=100-continue]");
  CHECK(run_all_splits<RequestParser>("GET http://a.example/ HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")[0] ==
        "head GET http://a.example/ v10 none ka [Connection=Keep-Alive]");
  // HTTP/1.0 origin-form without Host is valid (the authority is unknown, not ambiguous).
  CHECK(run_all_splits<RequestParser>("GET / HTTP/1.0\r\n\r\n")[0] == "head GET / v10 none close ");
}

TEST_CASE("framing facts: expect, upgrade, websocket, connection tokens", "[proxy]") {
  CHECK(run_all_splits<RequestParser>(
            "PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok")[0] ==
        "head PUT /u v11 length=2 ka expect [Host=h][Expect=100-Continue][Content-Length=2]");
  const auto ws = run_all_splits<RequestParser>(
      "GET http://h/chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
      "Sec-WebSocket-Key: k\r\n\r\n\x81\x05hello");
  REQUIRE(ws.size() == 3);
  CHECK(ws[0] ==
        "head GET http://h/chat v11 none ka upgrade ws [Host=h][Upgrade=websocket][Connection=keep-alive, "
        "Upgrade][Sec-WebSocket-Key=k]");
  CHECK(ws[2] == "rest:\x81\x05hello");
  CHECK(run_all_splits<RequestParser>("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo,  CLOSE \r\n\r\n")[0] ==
        "head GET / v11 none close [Host=h][Connection=foo,  CLOSE]");
}

TEST_CASE("CONNECT: authority-form head, then the tunnel bytes stay unconsumed", "[proxy]") {
  const auto t = run_all_splits<RequestParser>(
      "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n\x16\x03\x01 client hello");
  REQUIRE(t.size() == 3);
  CHECK(t[0] == "head CONNECT a.example:443 v11 none ka [Host=a.example:443]");
  CHECK(t[1] == "complete ");
  CHECK(t[2] == "rest:\x16\x03\x01 client hello");
  CHECK(request_error("CONNECT a.example HTTP/1.1\r\nHost: a.example\r\n\r\n") == "error:invalid_target");
  CHECK(request_error("CONNECT a.example:443 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc") == "error:ambiguous_framing");
  CHECK(request_error("CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n") == "error:invalid_target");
}

TEST_CASE("a refused upgrade lets HTTP continue on the connection", "[proxy]") {
  RequestParser p{Limits{}};
  const std::string in =
      "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\nGET /next HTTP/1.1\r\nHost: "
      "h\r\n\r\n";
  std::string_view rest = in;
  auto s = p.feed(rest);
  REQUIRE(s.event == ParseEvent::head);
  CHECK(p.head().is_websocket);
  rest.remove_prefix(s.consumed);
  s = p.feed(rest);
  REQUIRE(s.event == ParseEvent::message_complete);
  rest.remove_prefix(s.consumed);
  p.reset();
  s = p.feed(rest);
  REQUIRE(s.event == ParseEvent::head);
  CHECK(p.head().target == "/next");
}

TEST_CASE("request smuggling shapes are refused and must close", "[proxy]") {
  const Limits l;
  SECTION("Content-Length with Transfer-Encoding, both orders") {
    CHECK(request_error(
              "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") ==
          "error:ambiguous_framing");
    CHECK(request_error(
              "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n") ==
          "error:ambiguous_framing");
  }
  SECTION("duplicate Content-Length, differing or identical (identical is refused too: documented)") {
    CHECK(request_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd") ==
          "error:ambiguous_framing");
    CHECK(request_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc") ==
          "error:ambiguous_framing");
    CHECK(request_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc") == "error:ambiguous_framing");
  }
  SECTION("invalid Content-Length values") {
    for (const char* v : {"-1", "+3", "3x", "0x3", "3 3", "", "99999999999999999999999"}) {
      INFO(v);
      CHECK(request_error(std::string("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ") + v + "\r\n\r\nabc") ==
            "error:ambiguous_framing");
    }
  }
  SECTION("Transfer-Encoding other than plain chunked") {
    for (const char* v : {"gzip", "chunked, gzip", "gzip, chunked", "xchunked", "chunked, chunked", "identity"}) {
      INFO(v);
      CHECK(request_error(std::string("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ") + v + "\r\n\r\n0\r\n\r\n") ==
            "error:bad_transfer_encoding");
    }
    CHECK(request_error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
                        "chunked\r\n\r\n0\r\n\r\n") == "error:bad_transfer_encoding");
    CHECK(request_error("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == "error:ambiguous_framing");
  }
  SECTION("bad and huge chunk sizes, missing CRLF after chunk data") {
    const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (const char* chunk :
         {"zz\r\n", "-1\r\n", "0x1\r\na\r\n0\r\n\r\n", "1 \r\na\r\n0\r\n\r\n", "\r\n", "fffffffffffffffff\r\n",
          "100000000000000000\r\n", "1\r\naXX0\r\n\r\n", "1\r\na\n0\r\n\r\n", "1\na\r\n0\r\n\r\n"}) {
      INFO(chunk);
      const auto t = run_all_splits<RequestParser>(head + chunk, l);
      CHECK(t.back() == "error:bad_chunk");
    }
  }
  SECTION("obs-fold, NUL, CR and LF inside field values") {
    CHECK(request_error("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n") == "error:malformed_head");
    CHECK(request_error("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n") == "error:malformed_head");
    CHECK(request_error("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"sv) == "error:malformed_head");
    CHECK(request_error("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n") == "error:malformed_head");
    CHECK(request_error("GET / HTTP/1.1\r\nHost: h\r\nX: a\nTransfer-Encoding: chunked\r\n\r\n") ==
          "error:malformed_head");
    CHECK(request_error("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01\r\n\r\n") == "error:malformed_head");
    CHECK(request_error("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n") == "error:malformed_head");
  }
  SECTION("bare CR or LF as line ends") {
    CHECK(request_error("GET / HTTP/1.1\nHost: h\n\n") == "error:malformed_head");
    CHECK(request_error("GET / HTTP/1.1\r\nHost: h\n\r\n") == "error:malformed_head");
    CHECK(request_error("GET / HTTP/1.1\r\nHost: h\r\n\n") == "error:malformed_head");
    const auto cr_after_version = request_error("GET / HTTP/1.1\rHost: h\r\n\r\n");
    CHECK((cr_after_version == "error:malformed_head" || cr_after_version == "error:invalid_version"));
    CHECK(request_error("GET / HTTP/1.1\r\nHost: h\r\n\rX") == "error:malformed_head");
  }
  SECTION("whitespace before the colon or before the first field") {
    CHECK(request_error("GET / HTTP/1.1\r\nHost : h\r\n\r\n") == "error:malformed_head");
    CHECK(request_error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding\t: chunked\r\n\r\n") ==
          "error:malformed_head");
    CHECK(request_error("GET / HTTP/1.1\r\n Host: h\r\n\r\n") == "error:malformed_head");
    CHECK(request_error("GET / HTTP/1.1\r\nHo st: h\r\n\r\n") == "error:malformed_head");
    CHECK(request_error("GET / HTTP/1.1\r\n: h\r\n\r\n") == "error:malformed_head");
  }
  SECTION("invalid methods") {
    for (const char* line : {"FOO / HTTP/1.1", "get / HTTP/1.1", "G ET / HTTP/1.1", "GET\t/ HTTP/1.1",
                             "DESCRIBE / HTTP/1.1", "SETUP / HTTP/1.1"}) {
      INFO(line);
      const auto e = request_error(std::string(line) + "\r\nHost: h\r\n\r\n");
      CHECK((e == "error:invalid_method" || e == "error:malformed_head"));
    }
  }
  SECTION("invalid versions") {
    for (const char* line : {"GET / HTTP/1.2", "GET / HTTP/2.0", "GET / HTTP/0.9", "GET / HTTP/1.1x", "GET / http/1.1",
                             "GET / HTTP/1", "GET /", "GET / HTTP/11.1", "PRI * HTTP/2.0"}) {
      INFO(line);
      const auto e = request_error(std::string(line) + "\r\nHost: h\r\n\r\n");
      CHECK((e == "error:invalid_version" || e == "error:malformed_head" || e == "error:invalid_method"));
      CHECK(e.rfind("error:", 0) == 0);
    }
  }
  SECTION("targets") {
    CHECK(request_error("GET http://user@a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n") == "error:invalid_target");
    CHECK(request_error("GET http://user:pw@a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n") == "error:invalid_target");
    CHECK(request_error("GET ftp://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n") == "error:invalid_target");
    CHECK(request_error("GET a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n") == "error:invalid_target");
    CHECK(request_error("GET http://a.example:0/ HTTP/1.1\r\nHost: a.example\r\n\r\n") == "error:invalid_target");
    CHECK(request_error("GET http://a.example:65536/ HTTP/1.1\r\nHost: a.example\r\n\r\n") == "error:invalid_target");
    CHECK(request_error("GET http:///x HTTP/1.1\r\nHost: a.example\r\n\r\n") == "error:invalid_target");
    CHECK(request_error("GET * HTTP/1.1\r\nHost: a.example\r\n\r\n") == "error:invalid_target");
    CHECK(request_error("GET /a#frag HTTP/1.1\r\nHost: a.example\r\n\r\n").rfind("error:", 0) == 0);
  }
  SECTION("Host rules") {
    CHECK(request_error("GET / HTTP/1.1\r\n\r\n") == "error:invalid_host");
    CHECK(request_error("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == "error:invalid_host");
    CHECK(request_error("GET http://a/ HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n") == "error:invalid_host");
    CHECK(request_error("GET / HTTP/1.1\r\nHost: a b\r\n\r\n") == "error:invalid_host");
    CHECK(request_error("GET / HTTP/1.1\r\nHost: a@b\r\n\r\n") == "error:invalid_host");
    CHECK(request_error("GET / HTTP/1.1\r\nHost: \r\n\r\n") == "error:invalid_host");
  }
}

TEST_CASE("every smuggling error maps to a 4xx for requests and 502 for responses", "[proxy]") {
  RequestParser p{Limits{}};
  const auto s = p.feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
  REQUIRE(s.event == ParseEvent::error);
  CHECK(p.must_close());
  CHECK(status_for(p.error(), MessageSide::request) == 400);
  CHECK(status_for(p.error(), MessageSide::response) == 502);
  // An errored parser stays errored.
  CHECK(p.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n").event == ParseEvent::error);
  p.reset();
  CHECK(p.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n").event == ParseEvent::error);
}

TEST_CASE("data after a Connection: close request is refused", "[proxy]") {
  const auto t = run_all_splits<RequestParser>(
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE(t.size() == 3);
  CHECK(t[2] == "error:unexpected_data");
}

TEST_CASE("request head limit: boundary - 1, boundary, boundary + 1", "[proxy]") {
  const std::string in = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: aaaaaaaaaa\r\n\r\n";
  Limits l;
  l.request_head_bytes = in.size();
  CHECK(run_all_splits<RequestParser>(in, l).back() == "complete ");
  l.request_head_bytes = in.size() + 1;
  CHECK(run_all_splits<RequestParser>(in, l).back() == "complete ");
  l.request_head_bytes = in.size() - 1;
  CHECK(run_all_splits<RequestParser>(in, l).back() == "error:head_too_large");
  CHECK(status_for(make_error_code(http_errc::head_too_large), MessageSide::request) == 431);
}

TEST_CASE("the head budget is one per message, not per read", "[proxy]") {
  Limits l;
  l.request_head_bytes = 100;
  RequestParser p{l};
  // 30 reads of 4 bytes: each read is small, the head is not.
  std::string line = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
  line += std::string(200, 'a');
  std::size_t offered = 0;
  ParseStep s;
  for (std::size_t i = 0; i < line.size(); i += 4) {
    s = p.feed(std::string_view(line).substr(i, 4));
    offered += 4;
    if (s.event != ParseEvent::need_more) break;
  }
  CHECK(s.event == ParseEvent::error);
  CHECK(reason_code(p.error()) == "head_too_large");
  CHECK(offered <= 104);
  // The next message gets a fresh budget: with a correct message after reset, no error.
  RequestParser q{l};
  const std::string two = "GET /1 HTTP/1.1\r\nHost: h\r\nX: " + std::string(60, 'a') +
                          "\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\nX: " + std::string(60, 'a') + "\r\n\r\n";
  CHECK(run_all_splits<RequestParser>(two, l).size() == 4);
}

TEST_CASE("a giant read is bounded by the head limit before llhttp sees it", "[proxy]") {
  Limits l;
  l.request_head_bytes = 1024;
  RequestParser p{l};
  const std::string in = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(1 << 20, 'a');
  const auto s = p.feed(in);
  CHECK(s.event == ParseEvent::error);
  CHECK(reason_code(p.error()) == "head_too_large");
}

TEST_CASE("header count limit: boundary - 1, boundary, boundary + 1", "[proxy]") {
  const std::string in = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";  // 4 lines
  Limits l;
  l.header_count = 5;
  CHECK(run_all_splits<RequestParser>(in, l).back() == "complete ");
  l.header_count = 4;
  CHECK(run_all_splits<RequestParser>(in, l).back() == "complete ");
  l.header_count = 3;
  CHECK(run_all_splits<RequestParser>(in, l).back() == "error:too_many_headers");
  CHECK(status_for(make_error_code(http_errc::too_many_headers), MessageSide::request) == 431);
}

TEST_CASE("URI limit: boundary - 1, boundary, boundary + 1", "[proxy]") {
  const std::string target = "http://a.example/" + std::string(50, 'p');
  const std::string in = "GET " + target + " HTTP/1.1\r\nHost: a.example\r\n\r\n";
  Limits l;
  l.uri_bytes = target.size() + 1;
  CHECK(run_all_splits<RequestParser>(in, l).back() == "complete ");
  l.uri_bytes = target.size();
  CHECK(run_all_splits<RequestParser>(in, l).back() == "complete ");
  l.uri_bytes = target.size() - 1;
  CHECK(run_all_splits<RequestParser>(in, l).back() == "error:uri_too_long");
  CHECK(status_for(make_error_code(http_errc::uri_too_long), MessageSide::request) == 414);
}

TEST_CASE("chunk extension limit: boundary - 1, boundary, boundary + 1", "[proxy]") {
  // ";ab=cd" is 6 bytes of extension text.
  const std::string in = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2;ab=cd\r\nxy\r\n0\r\n\r\n";
  Limits l;
  l.chunk_extension_bytes = 7;
  CHECK(run_all_splits<RequestParser>(in, l).back() == "complete ");
  l.chunk_extension_bytes = 6;
  CHECK(run_all_splits<RequestParser>(in, l).back() == "complete ");
  l.chunk_extension_bytes = 5;
  CHECK(run_all_splits<RequestParser>(in, l).back() == "error:chunk_extension_too_long");
}

TEST_CASE("chunk extensions are bounded per chunk line and cannot be repeated without bound", "[proxy]") {
  Limits l;
  l.chunk_extension_bytes = 256;
  std::string ext;
  for (int i = 0; i < 200; ++i) ext += ";a";
  const auto t = run_whole<RequestParser>(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1" + ext + "\r\nx\r\n0\r\n\r\n", l);
  CHECK(t.back() == "error:chunk_extension_too_long");
  // Each chunk line gets the full allowance again.
  std::string body;
  for (int i = 0; i < 50; ++i) body += "1;name=value\r\nx\r\n";
  const auto ok = run_whole<RequestParser>(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + body + "0\r\n\r\n", l);
  CHECK(ok.back() == "complete ");
}

TEST_CASE("trailers have their own bounded budget and line count", "[proxy]") {
  Limits l;
  l.request_head_bytes = 80;
  l.header_count = 2;
  const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  CHECK(run_all_splits<RequestParser>(head + "0\r\nA: 1\r\nB: 2\r\n\r\n", l).back() == "complete [A=1][B=2]");
  CHECK(run_all_splits<RequestParser>(head + "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", l).back() ==
        "error:too_many_headers");
  CHECK(run_whole<RequestParser>(head + "0\r\nA: " + std::string(100, 'a') + "\r\n\r\n", l).back() ==
        "error:head_too_large");
  CHECK(run_all_splits<RequestParser>(head + "0\r\nA: 1\r\n b\r\n\r\n", l).back() == "error:malformed_head");
  CHECK(run_all_splits<RequestParser>(head + "0\r\nA: 1\n\r\n", l).back() == "error:malformed_head");
}

TEST_CASE("EOF: clean between messages, truncated inside one", "[proxy]") {
  CHECK(run_whole<RequestParser>("", {}, true) == std::vector<std::string>{"eof"});
  CHECK(run_whole<RequestParser>("GET / HTTP/1.1\r\nHost: h\r\n\r\n", {}, true) ==
        std::vector<std::string>{"head GET / v11 none ka [Host=h]", "complete ", "eof"});
  CHECK(run_all_splits<RequestParser>("GET / HTTP/1.1\r\nHo", {}, true).back() == "error:truncated");
  CHECK(run_all_splits<RequestParser>("GET / HTTP/1.1\r\n", {}, true).back() == "error:truncated");
  CHECK(run_all_splits<RequestParser>("GET / HTTP/1.1\r\nHost: h\r\n", {}, true).back() == "error:truncated");
  CHECK(run_all_splits<RequestParser>("\r\n", {}, true).back() == "eof");
  CHECK(run_all_splits<RequestParser>("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab", {}, true).back() ==
        "error:truncated");
  CHECK(
      run_all_splits<RequestParser>("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", {}, true)
          .back() == "error:truncated");
}

TEST_CASE("a parser moved in the middle of a message carries on", "[proxy]") {
  RequestParser p{Limits{}};
  auto s = p.feed("POST / HTTP/1.1\r\nHost: h\r\nContent-");
  REQUIRE(s.event == ParseEvent::need_more);
  RequestParser q = std::move(p);
  s = q.feed("Length: 2\r\n\r\nok");
  REQUIRE(s.event == ParseEvent::head);
  CHECK(q.head().framing.content_length == 2);
  RequestHead taken = std::move(q.head());
  s = q.feed("ok");
  REQUIRE(s.event == ParseEvent::body);
  CHECK(s.body == "ok");
  CHECK(q.feed("").event == ParseEvent::message_complete);
  CHECK(taken.headers.get("host") == "h");
}

// ------------------------------------------------------------------------------------------------- responses

TEST_CASE("responses: content-length, chunked with trailers, keep-alive", "[proxy]") {
  const auto t = run_all_splits<ResponseParser>(
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: a=1\r\n\r\nok"
      "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nnope\r\n0\r\nServer-Timing: t\r\n\r\n");
  const std::vector<std::string> expected{
      "head 200 'OK' v11 length=2 ka [Content-Length=2][Set-Cookie=a=1]", "body:ok",   "complete ",
      "head 404 'Not Found' v11 chunked ka [Transfer-Encoding=chunked]",  "body:nope", "complete [Server-Timing=t]"};
  CHECK(t == expected);
}

TEST_CASE("1xx responses are their own messages before the final one", "[proxy]") {
  const auto t = run_all_splits<ResponseParser>(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx");
  const std::vector<std::string> expected{"head 100 'Continue' v11 none ka ",
                                          "complete ",
                                          "head 103 'Early Hints' v11 none ka [Link=</s.css>]",
                                          "complete ",
                                          "head 201 'Created' v11 length=1 ka [Content-Length=1]",
                                          "body:x",
                                          "complete "};
  CHECK(t == expected);
}

TEST_CASE("HEAD, 204 and 304 responses have no body whatever their framing says", "[proxy]") {
  const auto head = run_all_splits<ResponseParser>(
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", {}, false,
      {Method::head, Method::head});
  CHECK(head == std::vector<std::string>{"head 200 'OK' v11 none ka [Content-Length=10]", "complete ",
                                         "head 200 'OK' v11 none ka [Transfer-Encoding=chunked]", "complete "});
  const auto t = run_all_splits<ResponseParser>(
      "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz");
  CHECK(t == std::vector<std::string>{"head 204 'No Content' v11 none ka [Content-Length=5]", "complete ",
                                      "head 304 'Not Modified' v11 none ka [Content-Length=1234]", "complete ",
                                      "head 200 'OK' v11 length=1 ka [Content-Length=1]", "body:z", "complete "});
}

TEST_CASE("a response without length is read until close", "[proxy]") {
  const auto t =
      run_all_splits<ResponseParser>("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it", {}, true);
  CHECK(t == std::vector<std::string>{"head 200 'OK' v11 until_close close [Content-Type=text/plain]", "body:all of it",
                                      "complete(eof)"});
  CHECK(run_whole<ResponseParser>("HTTP/1.0 200 OK\r\n\r\n", {}, true) ==
        std::vector<std::string>{"head 200 'OK' v10 until_close close ", "complete(eof)"});
}

TEST_CASE("HTTP/1.0 responses keep alive only when they say so", "[proxy]") {
  CHECK(run_all_splits<ResponseParser>("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")[0] ==
        "head 200 'OK' v10 length=0 close [Content-Length=0]");
  CHECK(run_all_splits<ResponseParser>("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")[0] ==
        "head 200 'OK' v10 length=0 ka [Connection=keep-alive][Content-Length=0]");
}

TEST_CASE("101 Switching Protocols ends the HTTP part; the rest is the tunnel's", "[proxy]") {
  const auto t = run_all_splits<ResponseParser>(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi");
  CHECK(t == std::vector<std::string>{
                 "head 101 'Switching Protocols' v11 none close upgrade [Upgrade=websocket][Connection=Upgrade]",
                 "complete ", "rest:\x81\x02hi"});
}

TEST_CASE("response smuggling shapes are refused: no Set-Cookie slips past", "[proxy]") {
  CHECK(response_error("HTTP/1.1 200 OK\r\nSet-Cookie : a=1\r\nContent-Length: 0\r\n\r\n") == "error:malformed_head");
  CHECK(response_error("HTTP/1.1 200 OK\r\nX: y\nSet-Cookie: a=1\r\nContent-Length: 0\r\n\r\n") ==
        "error:malformed_head");
  CHECK(response_error("HTTP/1.1 200 OK\r\nX: y\rSet-Cookie: a=1\r\nContent-Length: 0\r\n\r\n") ==
        "error:malformed_head");
  CHECK(response_error("HTTP/1.1 200 OK\r\nX: y\r\n Set-Cookie: a=1\r\nContent-Length: 0\r\n\r\n") ==
        "error:malformed_head");
  CHECK(response_error("HTTP/1.1 200 OK\nSet-Cookie: a=1\n\n") == "error:malformed_head");
  CHECK(response_error("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab") ==
        "error:ambiguous_framing");
  CHECK(response_error("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") ==
        "error:ambiguous_framing");
  CHECK(response_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx") == "error:bad_transfer_encoding");
  CHECK(response_error("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == "error:ambiguous_framing");
  CHECK(response_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") == "error:bad_chunk");
  CHECK(response_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nSet-Cookie : a\r\n\r\n") ==
        "error:malformed_head");
  CHECK(response_error("HTTP/2.0 200 OK\r\n\r\n").rfind("error:", 0) == 0);
  CHECK(response_error("HTTP/1.1 20 OK\r\n\r\n").rfind("error:", 0) == 0);
  CHECK(response_error("HTTP/1.1 2000 OK\r\n\r\n").rfind("error:", 0) == 0);
  CHECK(response_error("HTTP/1.1 200 O\x01K\r\n\r\n") == "error:malformed_head");
  CHECK(response_error("HTTP/1.1 200 OK\r\nX: \0\r\n\r\n"sv) == "error:malformed_head");
}

TEST_CASE("only HTTP/ is a protocol: RTSP and ICE start lines are refused", "[proxy]") {
  CHECK(request_error("GET / RTSP/1.0\r\nHost: h\r\n\r\n").rfind("error:", 0) == 0);
  CHECK(request_error("GET / ICE/1.0\r\nHost: h\r\n\r\n").rfind("error:", 0) == 0);
  CHECK(request_error("GET /HTTP/1.1 RTSP/1.0\r\nHost: h\r\n\r\n").rfind("error:", 0) == 0);
  CHECK(response_error("RTSP/1.1 200 OK\r\n\r\n").rfind("error:", 0) == 0);
  CHECK(response_error("ICE/1.1 200 OK\r\n\r\n").rfind("error:", 0) == 0);
  CHECK(response_error("HTTPER/1.1 200 OK\r\n\r\n").rfind("error:", 0) == 0);
}

TEST_CASE("llhttp's sample responses parse (google 301, amazon chunked, no reason, empty values)", "[proxy]") {
  const std::string google =
      "HTTP/1.1 301 Moved Permanently\r\nLocation: http://www.google.com/\r\nContent-Type: text/html; "
      "charset=UTF-8\r\nX-$PrototypeBI-Version: 1.6.0.3\r\nContent-Length:  10  \r\n\r\n<HTML>\n</>";
  CHECK(run_all_splits<ResponseParser>(google) ==
        std::vector<std::string>{"head 301 'Moved Permanently' v11 length=10 ka [Location=http://www.google.com/]"
                                 "[Content-Type=text/html; charset=UTF-8][X-$PrototypeBI-Version=1.6.0.3]"
                                 "[Content-Length=10]",
                                 "body:<HTML>\n</>", "complete "});
  CHECK(run_all_splits<ResponseParser>("HTTP/1.1 301 MovedPermanently\r\nVary: Accept-Encoding,User-Agent\r\n"
                                       "Transfer-Encoding: chunked\r\n\r\n1\r\n\n\r\n0\r\n\r\n") ==
        std::vector<std::string>{
            "head 301 'MovedPermanently' v11 chunked ka [Vary=Accept-Encoding,User-Agent][Transfer-Encoding=chunked]",
            "body:\n", "complete "});
  CHECK(run_all_splits<ResponseParser>("HTTP/1.1 301\r\nContent-Length: 0\r\n\r\n")[0] ==
        "head 301 '' v11 length=0 ka [Content-Length=0]");
  CHECK(run_all_splits<ResponseParser>("HTTP/1.0 301 Moved Permanently\r\nCache-Control: public\r\nPragma: \r\n"
                                       "Location: http://www.bonjourmadame.fr/\r\nContent-Length: 0\r\n"
                                       "Connection: keep-alive\r\n\r\n")[0] ==
        "head 301 'Moved Permanently' v10 length=0 ka [Cache-Control=public][Pragma=]"
        "[Location=http://www.bonjourmadame.fr/][Content-Length=0][Connection=keep-alive]");
  CHECK(run_all_splits<ResponseParser>(
            "HTTP/1.1 200 OK\r\nDCLK_imp: v7;x;114750856;0-0\r\nContent-Length: 0\r\n\r\n")[0] ==
        "head 200 'OK' v11 length=0 ka [DCLK_imp=v7;x;114750856;0-0][Content-Length=0]");
  // "No carriage ret": refused in strict mode.
  CHECK(response_error("HTTP/1.1 200 OK\nContent-Type: text/html\n\nbody") == "error:malformed_head");
}

TEST_CASE("response head limit is separate from the request one", "[proxy]") {
  const std::string in = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX: abcdef\r\n\r\n";
  Limits l;
  l.request_head_bytes = 1;
  l.response_head_bytes = in.size();
  CHECK(run_all_splits<ResponseParser>(in, l).back() == "complete ");
  l.response_head_bytes = in.size() - 1;
  CHECK(run_all_splits<ResponseParser>(in, l).back() == "error:head_too_large");
  CHECK(status_for(make_error_code(http_errc::head_too_large), MessageSide::response) == 502);
}

TEST_CASE("a truncated response is an error, never a short body", "[proxy]") {
  CHECK(run_all_splits<ResponseParser>("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", {}, true).back() ==
        "error:truncated");
  CHECK(
      run_all_splits<ResponseParser>("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", {}, true).back() ==
      "error:truncated");
  CHECK(run_all_splits<ResponseParser>("HTTP/1.1 200 OK\r\nContent-", {}, true).back() == "error:truncated");
}

TEST_CASE("a 2xx answer to CONNECT is a tunnel", "[proxy]") {
  const auto t =
      run_all_splits<ResponseParser>("HTTP/1.1 200 Connection established\r\n\r\nTLS", {}, false, {Method::connect});
  CHECK(t ==
        std::vector<std::string>{"head 200 'Connection established' v11 none close upgrade ", "complete ", "rest:TLS"});
}

TEST_CASE("hostile inputs: empty feeds, garbage, non-UTF-8", "[proxy]") {
  RequestParser p{Limits{}};
  CHECK(p.feed("").event == ParseEvent::need_more);
  CHECK_FALSE(p.is_message_started());
  CHECK(request_error("\x16\x03\x01\x02\x00").rfind("error:", 0) == 0);
  CHECK(run_all_splits<RequestParser>("GET /\xff\xfe HTTP/1.1\r\nHost: h\r\n\r\n").back().rfind("error:", 0) == 0);
  // obs-text in values is allowed (RFC 9110 section 5.5) and passed through as bytes.
  CHECK(run_all_splits<RequestParser>("GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n")[0] ==
        "head GET / v11 none ka [Host=h][X=caf\xc3\xa9]");
  // Leading empty lines before a request are tolerated (RFC 9112 section 2.2) and count toward the head budget.
  CHECK(run_all_splits<RequestParser>("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")[0] ==
        "head GET / v11 none ka [Host=h]");
}

TEST_CASE("mutated inputs give the same transcript whole and split, and never crash", "[proxy]") {
  const std::string seed =
      "POST http://a.example/2 HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\n\r\nhello"
      "POST http://b.example/3 HTTP/1.1\r\nHost: b.example\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3;flag\r\nabc\r\n0\r\nDigest: x\r\n\r\n"
      "GET /4 HTTP/1.1\r\nHost: c.example:8080\r\n\r\n";
  const char alphabet[] = {'\r', '\n', ' ', '\t', ':', '\0', '0', 'a', ';', '=', ',', '\x7f', '\xff', 'H', '/'};
  std::mt19937 rng(20261122);  // fixed: failures must reproduce
  Limits limits;
  limits.request_head_bytes = 120;
  limits.header_count = 4;
  for (int round = 0; round < 300; ++round) {
    std::string in = seed;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const auto pos = rng() % in.size();
      switch (rng() % 3) {
        case 0:
          in[pos] = alphabet[rng() % sizeof alphabet];
          break;
        case 1:
          in.insert(in.begin() + static_cast<std::ptrdiff_t>(pos), alphabet[rng() % sizeof alphabet]);
          break;
        default:
          in.erase(pos, 1);
          break;
      }
    }
    INFO("round " << round);
    const auto whole = run_whole<RequestParser>(in, limits, true);
    RequestParser p{limits};
    std::vector<std::string> pieces;
    for (std::size_t off = 0; off < in.size();) {
      const auto n = 1 + rng() % 17;
      pieces.push_back(in.substr(off, n));
      off += n;
    }
    CHECK(drive(p, pieces, true) == whole);
  }
}

TEST_CASE("a large body streams through as views of each read, never buffered", "[proxy]") {
  RequestParser p{Limits{}};
  const std::uint64_t size = 8 * 1024 * 1024;
  const std::string head =
      "PUT http://a.example/big HTTP/1.1\r\nHost: a.example\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n";
  REQUIRE(p.feed(head).event == ParseEvent::head);
  const std::string read(64 * 1024, 'b');
  std::uint64_t received = 0;
  bool complete = false;
  while (!complete) {
    std::string_view rest = read;
    while (!rest.empty() || !complete) {
      const auto s = p.feed(rest);
      if (s.event == ParseEvent::body) {
        REQUIRE(s.body.data() == rest.data());  // a view of the read itself
        received += s.body.size();
      } else if (s.event == ParseEvent::message_complete) {
        complete = true;
        break;
      } else {
        REQUIRE(s.event == ParseEvent::need_more);
        break;
      }
      rest.remove_prefix(s.consumed);
    }
  }
  CHECK(received == size);
}
