#include "proxy/http_parser.hpp"

#include <array>
#include <cassert>
#include <cstring>
#include <functional>
#include <tuple>

namespace consent::proxy {
namespace detail {
namespace {

// Scanner states over head and trailer bytes (see ParserCore::scan_section).
constexpr std::uint8_t scan_line_start = 0;
constexpr std::uint8_t scan_in_line = 1;
constexpr std::uint8_t scan_after_cr = 2;

constexpr int paused = HPE_PAUSED;

// Byte classes for the scanner: 0 ordinary, 1 CR, 2 LF, 3 SP/HTAB, 4 forbidden control (NUL, other CTL, DEL).
constexpr std::array<std::uint8_t, 256> make_byte_classes() {
  std::array<std::uint8_t, 256> t{};
  for (std::size_t c = 0; c < 0x20; ++c) t[c] = 4;
  t[0x7f] = 4;
  t['\r'] = 1;
  t['\n'] = 2;
  t[' '] = 3;
  t['\t'] = 3;
  return t;
}
constexpr auto byte_class = make_byte_classes();

}  // namespace

struct Callbacks {
  static ParserCore& self(llhttp_t* p) noexcept { return *static_cast<ParserCore*>(p->data); }

  static int on_url_or_status(llhttp_t* p, const char* at, std::size_t n) noexcept {
    return self(p).append_start_line({at, n}) ? 0 : -1;
  }
  static Headers& section(ParserCore& s) noexcept {
    return s.phase_ == ParserCore::Phase::trailers ? s.trailers_ : s.head_headers();
  }
  static int on_header_field(llhttp_t* p, const char* at, std::size_t n) noexcept {
    auto& s = self(p);
    section(s).append_pending_name({at, n});
    return 0;
  }
  static int on_header_field_complete(llhttp_t* p) noexcept {
    auto& s = self(p);
    if (++s.fields_ > s.header_count_limit_) {
      s.callback_error_ = http_errc::too_many_headers;
      return -1;
    }
    auto& h = section(s);
    // llhttp 8.1 (even strict) accepts a line starting with ':', an empty field name (RFC 9110 5.1: 1*tchar).
    if (h.pending_name_size() == 0) {
      s.callback_error_ = http_errc::malformed_head;
      return -1;
    }
    h.end_pending_name();
    return 0;
  }
  static int on_header_value(llhttp_t* p, const char* at, std::size_t n) noexcept {
    auto& s = self(p);
    section(s).append_pending_value({at, n});
    return 0;
  }
  static int on_header_value_complete(llhttp_t* p) noexcept {
    auto& s = self(p);
    auto& h = section(s);
    if (h.pending_name_size() == 0) {
      s.callback_error_ = http_errc::malformed_head;
      return -1;
    }
    h.commit_pending();
    return 0;
  }
  static int on_headers_complete(llhttp_t* p) noexcept {
    auto& s = self(p);
    if (const auto e = s.complete_head(); e != http_errc{}) {
      s.callback_error_ = e;
      return -1;
    }
    s.phase_ = ParserCore::Phase::body;
    s.pause_ = ParserCore::Pause::head;
    return paused;
  }
  static int on_body(llhttp_t* p, const char* at, std::size_t n) noexcept {
    if (n == 0) return 0;  // llhttp flushes an empty span when a read ends exactly where the body begins
    auto& s = self(p);
    s.body_ = {at, n};
    s.pause_ = ParserCore::Pause::body;
    return paused;
  }
  // Counts the chunk-extension text of one chunk line: names and values, plus one byte for the ';' before each
  // name and the '=' before each value. llhttp has no limit of its own.
  static int count_chunk_extension(llhttp_t* p, std::size_t n) noexcept {
    auto& s = self(p);
    s.chunk_extension_bytes_ += n;
    if (s.chunk_extension_bytes_ > s.chunk_extension_limit_bytes_) {
      s.callback_error_ = http_errc::chunk_extension_too_long;
      return -1;
    }
    return 0;
  }
  static int on_chunk_extension(llhttp_t* p, const char*, std::size_t n) noexcept {
    return count_chunk_extension(p, n);
  }
  static int on_chunk_extension_complete(llhttp_t* p) noexcept { return count_chunk_extension(p, 1); }
  static int on_chunk_header(llhttp_t* p) noexcept {
    auto& s = self(p);
    s.chunk_extension_bytes_ = 0;
    if (p->content_length != 0) return 0;
    // The last chunk: what follows is the trailer section, bounded like a head. Pause so that feed_core() can
    // switch the budget before llhttp reads a single trailer byte.
    s.phase_ = ParserCore::Phase::trailers;
    s.budget_bytes_ = s.head_limit_bytes_;
    s.fields_ = 0;
    s.scan_state_ = scan_line_start;
    s.is_start_line_checked_ = true;
    s.pause_ = ParserCore::Pause::internal;
    return paused;
  }
  static int on_message_complete(llhttp_t* p) noexcept {
    auto& s = self(p);
    s.phase_ = ParserCore::Phase::complete;
    s.pause_ = ParserCore::Pause::complete;
    return paused;
  }

  static llhttp_settings_t make_settings() noexcept {
    llhttp_settings_t st;
    llhttp_settings_init(&st);
    st.on_url = on_url_or_status;
    st.on_status = on_url_or_status;
    st.on_header_field = on_header_field;
    st.on_header_field_complete = on_header_field_complete;
    st.on_header_value = on_header_value;
    st.on_header_value_complete = on_header_value_complete;
    st.on_headers_complete = on_headers_complete;
    st.on_body = on_body;
    st.on_chunk_extension_name = on_chunk_extension;
    st.on_chunk_extension_value = on_chunk_extension;
    st.on_chunk_extension_name_complete = on_chunk_extension_complete;
    st.on_chunk_extension_value_complete = on_chunk_extension_complete;
    st.on_chunk_header = on_chunk_header;
    st.on_message_complete = on_message_complete;
    return st;
  }
};

namespace {
const llhttp_settings_t settings = Callbacks::make_settings();
}  // namespace

ParserCore::ParserCore(llhttp_type_t type, std::size_t head_limit_bytes, const config::Limits& limits) noexcept
    : head_limit_bytes_(head_limit_bytes),
      header_count_limit_(limits.header_count),
      chunk_extension_limit_bytes_(limits.chunk_extension_bytes) {
  llhttp_init(&parser_, type, &settings);
  parser_.data = this;
}

ParserCore::ParserCore(ParserCore&& other) noexcept
    : parser_(other.parser_),
      callback_error_(other.callback_error_),
      phase_(other.phase_),
      pause_(other.pause_),
      body_(other.body_),
      head_limit_bytes_(other.head_limit_bytes_),
      budget_bytes_(other.budget_bytes_),
      header_count_limit_(other.header_count_limit_),
      chunk_extension_limit_bytes_(other.chunk_extension_limit_bytes_),
      fields_(other.fields_),
      chunk_extension_bytes_(other.chunk_extension_bytes_),
      scan_state_(other.scan_state_),
      is_start_line_checked_(other.is_start_line_checked_),
      start_line_bytes_(other.start_line_bytes_),
      start_line_edge_(other.start_line_edge_),
      error_(other.error_),
      trailers_(std::move(other.trailers_)) {
  parser_.data = this;
}

ParserCore& ParserCore::operator=(ParserCore&& other) noexcept {
  if (this != &other) {
    parser_ = other.parser_;
    parser_.data = this;
    callback_error_ = other.callback_error_;
    phase_ = other.phase_;
    pause_ = other.pause_;
    body_ = other.body_;
    head_limit_bytes_ = other.head_limit_bytes_;
    budget_bytes_ = other.budget_bytes_;
    header_count_limit_ = other.header_count_limit_;
    chunk_extension_limit_bytes_ = other.chunk_extension_limit_bytes_;
    fields_ = other.fields_;
    chunk_extension_bytes_ = other.chunk_extension_bytes_;
    scan_state_ = other.scan_state_;
    is_start_line_checked_ = other.is_start_line_checked_;
    start_line_bytes_ = other.start_line_bytes_;
    start_line_edge_ = other.start_line_edge_;
    error_ = other.error_;
    trailers_ = std::move(other.trailers_);
  }
  return *this;
}

ParseStep ParserCore::fail(http_errc e) noexcept {
  phase_ = Phase::failed;
  error_ = make_error_code(e);
  return {0, ParseEvent::error, {}};
}

// Enforces RFC 9112 section 2.2 on the raw head (and trailer) bytes, whatever llhttp's build tolerates: every line
// ends in CRLF (a bare CR or LF is refused: the parsers behind or before us might split lines differently), no
// line starts with whitespace (obs-fold, section 5.2, and whitespace before the first field line, section 2.2),
// no NUL or other control character but HTAB anywhere.
bool ParserCore::scan_section(std::string_view bytes) noexcept {
  auto state = scan_state_;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* const end = p + bytes.size();
  while (p != end) {
    if (state == scan_in_line && is_start_line_checked_) {
      // The hot path: inside a line, anything but CR, LF and controls goes. Eight bytes at a time while none is
      // below 0x20 or DEL (the classic "has a byte less than n" bit trick; bytes >= 0x80 never match).
      constexpr std::uint64_t ones = 0x0101010101010101ULL;
      constexpr std::uint64_t highs = 0x8080808080808080ULL;
      while (end - p >= 8) {
        std::uint64_t word;
        std::memcpy(&word, p, sizeof word);
        const std::uint64_t below_space = (word - ones * 0x20) & ~word & highs;
        const std::uint64_t del = word ^ (ones * 0x7f);
        const std::uint64_t is_del = (del - ones) & ~del & highs;
        if ((below_space | is_del) != 0) break;
        p += 8;
      }
      while (p != end && (byte_class[*p] == 0 || byte_class[*p] == 3)) ++p;
      if (p == end) break;
    }
    const auto c = *p++;
    const auto cls = byte_class[c];
    if (state == scan_after_cr) {
      if (cls != 2) return false;
      state = scan_line_start;
      continue;
    }
    if (!is_start_line_checked_) {
      if (cls == 1) {
        if (start_line_bytes_ > 0) {  // else an empty line before the message, which RFC 9112 2.2 tolerates
          if (!is_start_line_protocol_ok()) return false;
          is_start_line_checked_ = true;
        }
      } else if (parser_.type == HTTP_REQUEST) {
        start_line_edge_[start_line_bytes_++ % start_line_edge_.size()] = static_cast<char>(c);
      } else if (start_line_bytes_ < 5) {
        start_line_edge_[start_line_bytes_++] = static_cast<char>(c);
      } else {
        ++start_line_bytes_;
      }
    }
    switch (cls) {
      case 0:
        state = scan_in_line;
        break;
      case 1:
        state = scan_after_cr;
        break;
      case 3:
        if (state == scan_line_start) return false;
        break;
      default:  // bare LF, forbidden control
        return false;
    }
  }
  scan_state_ = state;
  return true;
}

// RFC 9112 sections 3 and 4: the protocol is "HTTP/" at the end of a request line and at the start of a status
// line. llhttp 8.1 also takes RTSP and ICE there and reports their versions as if they were HTTP's.
bool ParserCore::is_start_line_protocol_ok() const noexcept {
  constexpr std::string_view http = "HTTP/";
  if (parser_.type != HTTP_REQUEST) {
    return start_line_bytes_ >= http.size() && std::string_view(start_line_edge_.data(), http.size()) == http;
  }
  constexpr std::size_t n = std::tuple_size_v<decltype(start_line_edge_)>;
  if (start_line_bytes_ < n) return false;
  std::array<char, n> tail{};  // " HTTP/1.1", oldest byte first
  for (std::size_t i = 0; i < n; ++i) tail[i] = start_line_edge_[(start_line_bytes_ + i) % n];
  return tail[0] == ' ' && std::string_view(tail.data() + 1, http.size()) == http;
}

http_errc ParserCore::map_llhttp_error(llhttp_errno_t err) const noexcept {
  if (callback_error_ != http_errc{}) return callback_error_;
  switch (err) {
    case HPE_INVALID_METHOD:
      return http_errc::invalid_method;
    case HPE_INVALID_VERSION:
      return http_errc::invalid_version;
    case HPE_INVALID_URL:
      return http_errc::invalid_target;
    case HPE_UNEXPECTED_CONTENT_LENGTH:
    case HPE_INVALID_CONTENT_LENGTH:
      return http_errc::ambiguous_framing;
    case HPE_INVALID_TRANSFER_ENCODING:
      return http_errc::bad_transfer_encoding;
    case HPE_INVALID_CHUNK_SIZE:
      return http_errc::bad_chunk;
    case HPE_STRICT:
      // llhttp's strict checks are mostly about line ends; after the head they are chunk framing.
      return phase_ == Phase::body ? http_errc::bad_chunk : http_errc::malformed_head;
    case HPE_CR_EXPECTED:
    case HPE_LF_EXPECTED:
      return phase_ == Phase::body ? http_errc::bad_chunk : http_errc::malformed_head;
    case HPE_CLOSED_CONNECTION:
      return http_errc::unexpected_data;
    case HPE_INVALID_EOF_STATE:
      return http_errc::truncated;
    case HPE_PAUSED_H2_UPGRADE:
      return http_errc::invalid_version;
    default:
      return http_errc::malformed_head;
  }
}

void ParserCore::start_message() noexcept {
  phase_ = Phase::head;
  budget_bytes_ = head_limit_bytes_;
  fields_ = 0;
  chunk_extension_bytes_ = 0;
  scan_state_ = scan_line_start;
  is_start_line_checked_ = false;
  start_line_bytes_ = 0;
  trailers_.clear();
  callback_error_ = {};
  body_ = {};
  begin_message();
}

ParseStep ParserCore::feed_core(std::string_view data) noexcept {
  if (phase_ == Phase::failed) return {0, ParseEvent::error, {}};
  if (phase_ == Phase::complete) reset_core();
  std::size_t total = 0;
  for (;;) {
    if (pause_ != Pause::none) {
      llhttp_resume(&parser_);
      pause_ = Pause::none;
    }
    auto rest = data.substr(total);
    if (phase_ == Phase::idle) {
      if (rest.empty()) return {total, ParseEvent::need_more, {}};
      start_message();
    }
    const bool bounded = is_bounded();
    if (bounded && rest.size() > budget_bytes_) rest = rest.substr(0, budget_bytes_);
    // llhttp must run even on zero bytes: after the head pause, the completion of a body-less message needs no
    // input.
    static constexpr char empty[1] = {};
    const char* begin = rest.empty() ? empty : rest.data();
    const auto err = llhttp_execute(&parser_, begin, rest.size());
    std::size_t used = rest.size();
    if (err != HPE_OK) {
      const char* stop = llhttp_get_error_pos(&parser_);
      const std::less_equal<const char*> le;
      used = stop != nullptr && le(begin, stop) && le(stop, begin + rest.size())
                 ? static_cast<std::size_t>(stop - begin)
                 : 0;
    }
    if (bounded) {
      if (!scan_section(rest.substr(0, used))) return fail(http_errc::malformed_head);
      budget_bytes_ -= used;
    }
    total += used;
    switch (err) {
      case HPE_OK:
        if (bounded && budget_bytes_ == 0) return fail(http_errc::head_too_large);
        return {total, ParseEvent::need_more, {}};
      case HPE_PAUSED:
        switch (pause_) {
          case Pause::head:
            return {total, ParseEvent::head, {}};
          case Pause::body:
            return {total, ParseEvent::body, body_};
          case Pause::complete:
            return {total, ParseEvent::message_complete, {}};
          case Pause::internal:
          case Pause::none:
            break;
        }
        llhttp_resume(&parser_);
        pause_ = Pause::none;
        continue;
      case HPE_PAUSED_UPGRADE:
        // The caller went on feeding after an upgrade/CONNECT message: the tunnel was refused and HTTP goes on.
        llhttp_resume_after_upgrade(&parser_);
        continue;
      default:
        return fail(map_llhttp_error(err));
    }
  }
}

ParseStep ParserCore::finish_core() noexcept {
  if (phase_ == Phase::failed) return {0, ParseEvent::error, {}};
  if (phase_ == Phase::idle || phase_ == Phase::complete) return {0, ParseEvent::need_more, {}};
  // Let llhttp reach states that need no input (a body-less message completes right after its head).
  if (pause_ != Pause::none) {
    const auto step = feed_core({});
    if (step.event != ParseEvent::need_more) return step;
  }
  const auto err = llhttp_finish(&parser_);
  if (err == HPE_PAUSED && pause_ == Pause::complete) return {0, ParseEvent::message_complete, {}};
  if (err == HPE_OK && phase_ == Phase::head && start_line_bytes_ == 0 && scan_state_ == scan_line_start) {
    // Only empty lines were received since the last message: nothing was truncated.
    return {0, ParseEvent::need_more, {}};
  }
  return fail(http_errc::truncated);
}

void ParserCore::reset_core() noexcept {
  if (phase_ == Phase::failed) return;
  if (pause_ != Pause::none) {
    llhttp_resume(&parser_);
    pause_ = Pause::none;
  }
  phase_ = Phase::idle;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------------------------

namespace {

constexpr Version version_of(const llhttp_t& p) noexcept { return p.http_major * 10 + p.http_minor; }

template <class F>
void for_each_element(std::string_view list, F&& f) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto element = trim_ows(list.substr(0, comma));
    if (!element.empty()) f(element);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// The fields that decide framing and connection handling, collected in one pass over the head (a lookup per
// fact would walk the list a dozen times per message).
struct FieldFacts {
  std::size_t hosts = 0;
  std::string_view host;
  std::size_t lengths = 0;
  bool has_transfer_encoding = false;
  std::size_t transfer_codings = 0;
  bool has_other_coding = false;
  bool connection_close = false;
  bool connection_keep_alive = false;
  bool connection_upgrade = false;
  bool has_upgrade = false;
  bool upgrade_websocket = false;
  std::size_t expects = 0;
  std::string_view expect;
};

FieldFacts collect_facts(const Headers& headers) noexcept {
  FieldFacts facts;
  for (const auto f : headers) {
    switch (f.name.size()) {
      case 4:
        if (iequals(f.name, "Host")) {
          ++facts.hosts;
          facts.host = f.value;
        }
        break;
      case 6:
        if (iequals(f.name, "Expect")) {
          ++facts.expects;
          facts.expect = f.value;
        }
        break;
      case 7:
        if (iequals(f.name, "Upgrade")) {
          facts.has_upgrade = true;
          for_each_element(f.value, [&](std::string_view e) {
            // "websocket" or "websocket/13"-style: the protocol name is before any '/'.
            if (iequals(e.substr(0, e.find('/')), "websocket")) facts.upgrade_websocket = true;
          });
        }
        break;
      case 10:
        if (iequals(f.name, "Connection")) {
          for_each_element(f.value, [&](std::string_view e) {
            if (iequals(e, "close")) facts.connection_close = true;
            if (iequals(e, "keep-alive")) facts.connection_keep_alive = true;
            if (iequals(e, "upgrade")) facts.connection_upgrade = true;
          });
        }
        break;
      case 14:
        if (iequals(f.name, "Content-Length")) ++facts.lengths;
        break;
      case 17:
        if (iequals(f.name, "Transfer-Encoding")) {
          facts.has_transfer_encoding = true;
          for_each_element(f.value, [&](std::string_view e) {
            ++facts.transfer_codings;
            if (!iequals(e, "chunked")) facts.has_other_coding = true;
          });
        }
        break;
      default:
        break;
    }
  }
  return facts;
}

// Framing checks both directions share. llhttp (strict) refuses most of these already; checking the collected
// fields again costs nothing and keeps us safe from a build or version that does not.
http_errc check_framing(const FieldFacts& facts, const llhttp_t& p, Version version) noexcept {
  // RFC 9112 section 6.3: several Content-Length lines, even identical, are refused rather than merged; a
  // sender that repeats them is broken and someone on the path may read them differently.
  if (facts.lengths > 1) return http_errc::ambiguous_framing;
  if (facts.has_transfer_encoding && facts.lengths > 0) return http_errc::ambiguous_framing;
  // RFC 9112 section 6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
  if (facts.has_transfer_encoding && version == 10) return http_errc::ambiguous_framing;
  // We only speak chunked, and other codings would reach the other side without their header (we re-frame):
  // exactly one element, "chunked", across all lines.
  if (facts.has_transfer_encoding && (facts.has_other_coding || facts.transfer_codings != 1)) {
    return http_errc::bad_transfer_encoding;
  }
  if (facts.lengths == 1 && (p.flags & F_CONTENT_LENGTH) == 0) return http_errc::ambiguous_framing;
  return {};
}

bool keep_alive_for(const FieldFacts& facts, Version version) noexcept {
  if (facts.connection_close) return false;
  return version == 11 || facts.connection_keep_alive;
}

}  // namespace

RequestParser::RequestParser(const config::Limits& limits) noexcept
    : ParserCore(HTTP_REQUEST, limits.request_head_bytes, limits), uri_limit_bytes_(limits.uri_bytes) {}

void RequestParser::begin_message() noexcept { head_.clear(); }

bool RequestParser::append_start_line(std::string_view piece) noexcept {
  if (head_.target.size() + piece.size() > uri_limit_bytes_) {
    callback_error_ = http_errc::uri_too_long;
    return false;
  }
  head_.target.append(piece);
  return true;
}

http_errc RequestParser::complete_head() noexcept {
  auto& h = head_;
  h.version = version_of(parser_);
  if (h.version != 10 && h.version != 11) return http_errc::invalid_version;
  // llhttp's request parser also knows PRI (HTTP/2 preface) and RTSP methods (ids >= 34): not HTTP/1.1.
  if (parser_.method >= HTTP_PRI) return http_errc::invalid_method;
  h.method = static_cast<Method>(parser_.method);
  const auto target = parse_request_target(h.target, h.method);
  if (!target) return http_errc::invalid_target;

  const auto facts = collect_facts(h.headers);
  // RFC 9112 section 3.2: one Host line at most, and a valid one; required where it is the only authority.
  const bool host_needed = target->form == TargetForm::origin || target->form == TargetForm::asterisk;
  if (facts.hosts > 1) return http_errc::invalid_host;
  if (facts.hosts == 1) {
    if ((host_needed || !facts.host.empty()) && !parse_authority(facts.host, 80)) return http_errc::invalid_host;
  } else if (h.version == 11 && host_needed) {
    return http_errc::invalid_host;
  }

  if (const auto e = check_framing(facts, parser_, h.version); e != http_errc{}) return e;
  const bool chunked = (parser_.flags & F_CHUNKED) != 0;
  const bool has_length = (parser_.flags & F_CONTENT_LENGTH) != 0;
  if (h.method == Method::connect) {
    // RFC 9110 section 9.3.6: CONNECT content has no defined meaning; bytes after the head are the tunnel's.
    if (chunked || parser_.content_length > 0) return http_errc::ambiguous_framing;
    h.framing = {};
  } else if (chunked) {
    h.framing = {BodyKind::chunked, 0};
  } else if (has_length) {
    h.framing = {BodyKind::content_length, parser_.content_length};
  } else {
    h.framing = {};  // RFC 9112 section 6.3: a request without framing fields has no body
  }

  h.keep_alive = keep_alive_for(facts, h.version);
  h.is_upgrade = h.method != Method::connect && facts.connection_upgrade && facts.has_upgrade;
  h.is_websocket = h.is_upgrade && h.method == Method::get && facts.upgrade_websocket;
  // RFC 9110 section 10.1.1: ignored from HTTP/1.0; any other expectation is not ours to meet.
  h.expect_100_continue = h.version == 11 && facts.expects == 1 && iequals(facts.expect, "100-continue");
  return {};
}

ResponseParser::ResponseParser(const config::Limits& limits) noexcept
    : ParserCore(HTTP_RESPONSE, limits.response_head_bytes, limits) {}

void ResponseParser::begin_message() noexcept { head_.clear(); }

bool ResponseParser::append_start_line(std::string_view piece) noexcept {
  head_.reason.append(piece);  // bounded by the head budget
  return true;
}

http_errc ResponseParser::complete_head() noexcept {
  auto& h = head_;
  h.version = version_of(parser_);
  if (h.version != 10 && h.version != 11) return http_errc::invalid_version;
  h.status = parser_.status_code;
  if (h.status < 100 || h.status > 999) return http_errc::malformed_head;
  const auto facts = collect_facts(h.headers);
  if (const auto e = check_framing(facts, parser_, h.version); e != http_errc{}) return e;

  const bool connect_ok = request_method_ == Method::connect && h.status >= 200 && h.status < 300;
  h.is_upgrade = h.status == 101 || connect_ok;
  // RFC 9110 sections 9.3.2, 15.2, 15.3.5, 15.4.5: these responses never have content, whatever their framing
  // fields say (a 304 carries the Content-Length of the representation). llhttp only knows about HEAD when told,
  // and not about 304 with Content-Length at all: without this it would wait for body bytes that never come.
  const bool no_body =
      request_method_ == Method::head || h.status < 200 || h.status == 204 || h.status == 304 || connect_ok;
  if (no_body) {
    parser_.flags = static_cast<std::uint16_t>(parser_.flags | F_SKIPBODY);
    h.framing = {};
  } else if ((parser_.flags & F_CHUNKED) != 0) {
    h.framing = {BodyKind::chunked, 0};
  } else if ((parser_.flags & F_CONTENT_LENGTH) != 0) {
    h.framing = {BodyKind::content_length, parser_.content_length};
  } else {
    h.framing = {BodyKind::until_close, 0};
  }
  h.keep_alive = keep_alive_for(facts, h.version) && h.framing.kind != BodyKind::until_close && !h.is_upgrade;
  return {};
}

bool llhttp_is_strict() noexcept {
  static const bool strict = [] {
    llhttp_t p;
    llhttp_settings_t st;
    llhttp_settings_init(&st);
    llhttp_init(&p, HTTP_REQUEST, &st);
    // Chunk data followed by "XX" instead of CRLF: the loose build skips the two bytes unchecked.
    constexpr std::string_view probe =
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXX0\r\n\r\n";
    return llhttp_execute(&p, probe.data(), probe.size()) != HPE_OK;
  }();
  return strict;
}

}  // namespace consent::proxy
