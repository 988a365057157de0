#pragma once
// Streaming HTTP/1.1 parsers over llhttp (strict build, no lenient flag): bytes in, one event out per call.
// No I/O, no clock, no allocation per body byte; the session drives them from its coroutine:
//
//   RequestParser parser{settings.limits};
//   for (;;) {                                       // `buffer` holds unread client bytes
//     auto step = parser.feed(buffer.data());
//     buffer.consume(step.consumed);                 // ALWAYS, whatever the event
//     switch (step.event) {
//       case ParseEvent::need_more:        read more into buffer (deadline!); on EOF call parser.finish()
//       case ParseEvent::head:             parser.head() is complete: filters, connect upstream, send head
//       case ParseEvent::body:             forward step.body (a view into `buffer`: send it before consuming more)
//       case ParseEvent::message_complete: exchange done; parser.trailers() has the trailers; next message:
//                                          parser.reset() (bytes still in `buffer` are the next pipelined request)
//       case ParseEvent::error:            reply status_for(parser.error(), MessageSide::request); close.
//     }
//   }
//
// Every event is reported exactly once; feed() never consumes bytes beyond the current message, so pipelined
// requests and the bytes after a CONNECT/101 head stay in the caller's buffer. The same bytes split at any offsets
// give the same sequence of heads, body bytes and completions.
//
// Limits (config::Limits): head bytes count the start line, every header line and the final CRLF with ONE budget
// per message however many reads it takes (the caller adds the one overall deadline); trailers get their own
// budget of the same size and the same line count limit.
//
// Threading: a parser belongs to one session (one strand); not thread-safe. Movable (llhttp keeps a pointer to
// us; moves re-point it), not copyable.
#include "config/settings.hpp"
#include "proxy/http_error.hpp"
#include "proxy/http_message.hpp"

#include <llhttp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace consent::proxy {

enum class ParseEvent : std::uint8_t {
  need_more,         // all offered bytes consumed, message not finished: read more
  head,              // the head is complete (head() valid); for a message without body, message_complete follows
  body,              // ParseStep::body holds decoded body bytes (chunk framing removed)
  message_complete,  // the message ended; trailers() valid; call reset() before feeding the next message
  error,             // error() says why; the connection must be closed (must_close() is true)
};

struct ParseStep {
  std::size_t consumed = 0;  // bytes of the offered data used; always <= data.size()
  ParseEvent event = ParseEvent::need_more;
  std::string_view body;  // ParseEvent::body: view into the data passed to feed(), never copied
};

namespace detail {

// The machinery shared by both parsers (llhttp driving, limits, CR/LF scanning, trailers). Not for direct use.
class ParserCore {
 public:
  ParserCore(const ParserCore&) = delete;
  ParserCore& operator=(const ParserCore&) = delete;
  virtual ~ParserCore() = default;

  // Trailer fields of the message (chunked only), valid from message_complete until reset().
  [[nodiscard]] const Headers& trailers() const noexcept { return trailers_; }
  // The error after ParseEvent::error (category http_category()); empty otherwise.
  [[nodiscard]] const boost::system::error_code& error() const noexcept { return error_; }
  // True after an error: the connection's framing is lost, close it (never reuse an upstream connection).
  [[nodiscard]] bool must_close() const noexcept { return static_cast<bool>(error_); }
  [[nodiscard]] bool is_message_complete() const noexcept { return phase_ == Phase::complete; }
  // True once a byte of the current message has been consumed: an EOF now would truncate it.
  [[nodiscard]] bool is_message_started() const noexcept { return phase_ != Phase::idle; }

 protected:
  ParserCore(llhttp_type_t type, std::size_t head_limit_bytes, const config::Limits& limits) noexcept;
  ParserCore(ParserCore&& other) noexcept;
  ParserCore& operator=(ParserCore&& other) noexcept;

  enum class Phase : std::uint8_t { idle, head, body, trailers, complete, failed };
  enum class Pause : std::uint8_t { none, head, body, complete, internal };

  ParseStep feed_core(std::string_view data) noexcept;
  ParseStep finish_core() noexcept;
  void reset_core() noexcept;

  // Hooks of the concrete parser, called from llhttp callbacks.
  virtual void begin_message() noexcept = 0;
  // Appends a piece of the request-target (request) or reason phrase (response); false if over a limit, after
  // setting callback_error_.
  virtual bool append_start_line(std::string_view piece) noexcept = 0;
  virtual Headers& head_headers() noexcept = 0;
  // Validates the complete head and computes its framing; may set llhttp flags (F_SKIPBODY). 0 = accepted.
  virtual http_errc complete_head() noexcept = 0;

  llhttp_t parser_{};
  http_errc callback_error_{};

 private:
  friend struct Callbacks;
  ParseStep fail(http_errc e) noexcept;
  void start_message() noexcept;
  [[nodiscard]] bool scan_section(std::string_view bytes) noexcept;
  [[nodiscard]] bool is_start_line_protocol_ok() const noexcept;
  [[nodiscard]] bool is_bounded() const noexcept { return phase_ == Phase::head || phase_ == Phase::trailers; }
  [[nodiscard]] http_errc map_llhttp_error(llhttp_errno_t err) const noexcept;

  Phase phase_ = Phase::idle;
  Pause pause_ = Pause::none;
  std::string_view body_;
  std::size_t head_limit_bytes_;
  std::size_t budget_bytes_ = 0;  // left in the current bounded section (head or trailers)
  std::size_t header_count_limit_;
  std::size_t chunk_extension_limit_bytes_;
  std::size_t fields_ = 0;  // lines in the current section
  std::size_t chunk_extension_bytes_ = 0;
  std::uint8_t scan_state_ = 0;  // CR/LF scanner state, carried across feeds (see .cpp)
  // The start line's protocol, checked by the scanner (llhttp 8.1 takes "GET / RTSP/1.0" and "ICE/1.0"):
  bool is_start_line_checked_ = false;
  std::size_t start_line_bytes_ = 0;
  std::array<char, 9> start_line_edge_{};  // requests: last 9 bytes (ring); responses: first 5 bytes
  boost::system::error_code error_;
  Headers trailers_;
};

}  // namespace detail

// Parses requests from a client. Every accepted head has: an HTTP method llhttp knows (not PRI/RTSP), version
// 1.0 or 1.1, a target of a form allowed for the method (parse_request_target), exactly one valid Host line when
// HTTP/1.1 origin-form (at most one, valid, otherwise), unambiguous framing.
class RequestParser final : public detail::ParserCore {
 public:
  explicit RequestParser(const config::Limits& limits) noexcept;
  RequestParser(RequestParser&&) noexcept = default;
  RequestParser& operator=(RequestParser&&) noexcept = default;

  // Parses from `data` up to the next event. See the file comment.
  [[nodiscard]] ParseStep feed(std::string_view data) noexcept { return feed_core(data); }
  // The client closed its sending side. Returns need_more with consumed 0 if no message was started (clean
  // end), else error truncated.
  [[nodiscard]] ParseStep finish() noexcept { return finish_core(); }
  // Prepares for the next message after message_complete (feed() does it itself if forgotten). After a CONNECT
  // or upgrade request, only call it when the tunnel was refused and HTTP continues on the connection.
  void reset() noexcept { reset_core(); }

  // The head: valid from ParseEvent::head until reset(); may be moved out (the parser does not read it again).
  [[nodiscard]] RequestHead& head() noexcept { return head_; }
  [[nodiscard]] const RequestHead& head() const noexcept { return head_; }

 private:
  void begin_message() noexcept override;
  bool append_start_line(std::string_view piece) noexcept override;
  Headers& head_headers() noexcept override { return head_.headers; }
  http_errc complete_head() noexcept override;

  std::size_t uri_limit_bytes_;
  RequestHead head_;
};

// Parses responses from upstream. Each response must be announced with reset(request_method) (HEAD and CONNECT
// change the framing). Handles 1xx: a 1xx is a complete message of its own (head, message_complete); call
// reset(same method) and keep feeding for the final response. 101 and 2xx-to-CONNECT end with is_upgrade: the
// bytes after the head belong to the tunnel. A body without length (BodyKind::until_close) ends with finish().
class ResponseParser final : public detail::ParserCore {
 public:
  explicit ResponseParser(const config::Limits& limits) noexcept;
  ResponseParser(ResponseParser&&) noexcept = default;
  ResponseParser& operator=(ResponseParser&&) noexcept = default;

  [[nodiscard]] ParseStep feed(std::string_view data) noexcept { return feed_core(data); }
  // Upstream closed: message_complete for an until_close body, need_more (consumed 0) if no response was
  // started, else error truncated.
  [[nodiscard]] ParseStep finish() noexcept { return finish_core(); }
  // Announces the next response, answering a request with this method.
  void reset(Method request_method) noexcept {
    request_method_ = request_method;
    reset_core();
  }

  [[nodiscard]] ResponseHead& head() noexcept { return head_; }
  [[nodiscard]] const ResponseHead& head() const noexcept { return head_; }

 private:
  void begin_message() noexcept override;
  bool append_start_line(std::string_view piece) noexcept override;
  Headers& head_headers() noexcept override { return head_.headers; }
  http_errc complete_head() noexcept override;

  Method request_method_ = Method::get;
  ResponseHead head_;
};

// True when the linked llhttp was built with LLHTTP_STRICT_MODE=1 (probed once by parsing a chunk whose data is
// not followed by CRLF). The loose build lets such bytes through, which smuggles requests: the proxy refuses to
// start without it.
[[nodiscard]] bool llhttp_is_strict() noexcept;

}  // namespace consent::proxy
