#pragma once
// Serialises heads for the other side of the proxy, and the chunked body encoding. Appends to a caller-owned
// std::string (reuse it: clear() keeps its capacity), never allocates otherwise.
//
// Hop-by-hop handling (RFC 9110 section 7.6.1): removed are Connection and every field it names, Keep-Alive,
// Proxy-Connection, Proxy-Authorization, Proxy-Authenticate (responses), TE, Trailer, Upgrade (kept, with
// "Connection: upgrade", only when forwarding a WebSocket upgrade / its 101), and the framing fields
// Content-Length and Transfer-Encoding, which the writer regenerates from the framing the session chose. Host is
// regenerated from the request's authority. So `Connection: content-length, host` can never remove framing or
// routing: those are written by us, not copied. Each head gets `Via: <received version> consentgate` appended
// after any Via received (RFC 9110 section 7.6.3).
#include "proxy/http_message.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace consent::proxy {

inline constexpr std::string_view via_pseudonym = "consentgate";

// True for fields that never cross the proxy as received (the list above, plus those named by Connection in
// `headers`).
[[nodiscard]] bool is_hop_by_hop(std::string_view name, const Headers& headers) noexcept;

// How the body that follows a written head is delimited on the wire we write to.
enum class OutBody : std::uint8_t {
  none,             // no body bytes follow
  content_length,   // "Content-Length: N", N bytes follow
  chunked,          // "Transfer-Encoding: chunked", the session encodes chunks (append_chunk_header...)
  close_delimited,  // no length: the body ends when we close the connection ("Connection: close" is written)
};

struct UpstreamRequestOptions {
  OutBody body = OutBody::none;
  std::uint64_t content_length = 0;  // OutBody::content_length
  bool forward_websocket = false;    // keep "Upgrade: websocket" + "Connection: upgrade" (head.is_websocket)
  bool connection_close = false;     // write "Connection: close" (we will not reuse this upstream connection)
};
// The framing to use upstream for a received request body: same kind, re-encoded by the session.
[[nodiscard]] UpstreamRequestOptions upstream_options_for(const RequestHead& head) noexcept;

// Writes "METHOD origin-form HTTP/1.1", Host from head.authority_text() (absolute URI first, RFC 9112 section
// 3.2.2), the end-to-end fields in received order, framing per `options`, Via. For CONNECT, writes
// "CONNECT authority HTTP/1.1". An absolute URI without path is sent as "/" (or "/?query"). Returns false (out
// unchanged) if the head has no usable authority (asterisk without Host): a bug for a parser-delivered head.
[[nodiscard]] bool write_upstream_request_head(const RequestHead& head, const UpstreamRequestOptions& options,
                                               std::string& out);

struct ClientResponseOptions {
  OutBody body = OutBody::none;
  std::uint64_t content_length = 0;  // OutBody::content_length
  bool keep_alive = true;            // false: "Connection: close" and the session closes after the body
  Version client_version = 11;       // 10: "Connection: keep-alive" when keep_alive (HTTP/1.0 default is close)
  bool forward_upgrade = false;      // a 101 the session will tunnel: keep Upgrade + "Connection: upgrade"
  bool pass_content_length = false;  // OutBody::none for HEAD/304: copy the received Content-Length (metadata)
};
// Decides how to send `response` (to a request `request_method` from a client speaking `client_version`, whose
// own request allows keep-alive `client_keep_alive`):
//  - no body (HEAD, 1xx, 204, 304) -> none; a HEAD/304 response keeps its received Content-Length value, as
//    metadata, through write_client_response_head.
//  - content_length -> content_length, same N.
//  - chunked or until_close -> chunked for an HTTP/1.1 client (re-chunking an until_close body keeps the client
//    connection alive); an HTTP/1.0 client NEVER gets chunked: close_delimited, keep_alive false.
[[nodiscard]] ClientResponseOptions client_options_for(const ResponseHead& response, Method request_method,
                                                       Version client_version, bool client_keep_alive) noexcept;

// Writes "HTTP/1.1 status reason", the end-to-end fields, framing per `options`, Connection, Via.
void write_client_response_head(const ResponseHead& response, const ClientResponseOptions& options, std::string& out);

// Writes an informational response relayed before the final one (103 Early Hints, RFC 8297) for an HTTP/1.1
// client: "HTTP/1.1 status reason", the end-to-end fields except Set-Cookie/Set-Cookie2 (a cookie set through a
// 1xx would never meet the consent filters, which judge final heads), no framing, no Via (RFC 9110 section
// 15.2: a 1xx has no content; browsers use only its Link and CSP fields). The caller never sends one to an
// HTTP/1.0 client.
void write_informational_head(const ResponseHead& response, std::string& out);

// Chunked encoding (RFC 9112 section 7.1). A chunk on the wire is:
//   chunk header ("1a2b\r\n") + data + "\r\n"; the body ends with the last chunk + trailers + "\r\n".
// The session writes [header][data view][crlf] as one gathered write, so body bytes are never copied.
inline constexpr std::string_view crlf = "\r\n";
// Formats the header of a chunk of `size` bytes (size > 0; a zero size would end the body) into `buf`; returns
// the view of `buf` to send.
using ChunkHeaderBuffer = std::array<char, 20>;
[[nodiscard]] std::string_view format_chunk_header(std::uint64_t size, ChunkHeaderBuffer& buf) noexcept;
void append_chunk_header(std::uint64_t size, std::string& out);
// Appends "0\r\n", the forwardable trailers, "\r\n". Trailers that could change the meaning of the message or
// slip past the head filters are dropped (RFC 9110 section 6.5.1): framing, routing, hop-by-hop, authentication,
// caching, Content-*, and Set-Cookie/Cookie, which the consent filters only ever see in heads.
void append_last_chunk(const Headers* trailers, std::string& out);
[[nodiscard]] bool is_forwardable_trailer(std::string_view name) noexcept;

}  // namespace consent::proxy
