#pragma once
// A small, bounded JSON reader (RFC 8259) for consent cookies. Internal to policy/.
//
// Why not nlohmann-json: consent cookies are tiny, untrusted and read on the request path; we need a hard
// bound on size, depth and node count, no exceptions for bad input, strict UTF-8, and duplicate keys kept
// (so the caller can refuse ambiguity) rather than silently overwritten. That is simpler to guarantee in
// ~250 lines than to configure from outside a general library.
//
// Options::js_literals additionally accepts what Cookiebot writes (a JavaScript object literal): bare
// identifier keys and single-quoted strings. Nothing else of JavaScript is accepted.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace consent::policy::detail::json {

enum class Kind : std::uint8_t { null, boolean, number, string, array, object };

struct Value {
  Kind kind = Kind::null;
  bool boolean = false;
  std::string text;               // string: decoded UTF-8; number: exactly as written
  std::vector<std::string> keys;  // object: member names in order, duplicates kept
  std::vector<Value> items;       // array: elements; object: member values, parallel to `keys`

  [[nodiscard]] bool is_bool() const noexcept { return kind == Kind::boolean; }
};

struct Options {
  std::size_t max_bytes = 4096;
  std::size_t max_depth = 8;    // nesting of arrays/objects; the top level counts as 1
  std::size_t max_nodes = 512;  // values of any kind
  bool js_literals = false;
};

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
[[nodiscard]] inline bool is_valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if ((c & 0xE0U) == 0xC0U) {
      len = 2;
      cp = c & 0x1FU;
      min = 0x80;
    } else if ((c & 0xF0U) == 0xE0U) {
      len = 3;
      cp = c & 0x0FU;
      min = 0x800;
    } else if ((c & 0xF8U) == 0xF0U) {
      len = 4;
      cp = c & 0x07U;
      min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0U) != 0x80U) return false;
      cp = (cp << 6) | (cc & 0x3FU);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

namespace parser_detail {

class Parser {
 public:
  Parser(std::string_view in, const Options& options) : in_(in), options_(options) {}

  // Empty string_view on success; otherwise a short static reason.
  std::string_view run(Value& out) {
    if (in_.size() > options_.max_bytes) return "too large";
    skip_ws();
    if (pos_ == in_.size()) return "empty";
    if (!value(out, 1)) return error_;
    skip_ws();
    if (pos_ != in_.size()) return "trailing characters";
    return {};
  }

 private:
  bool fail(std::string_view why) {
    error_ = why;
    return false;
  }
  void skip_ws() noexcept {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool literal(std::string_view word) noexcept {
    if (in_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool value(Value& out, std::size_t depth) {
    if (++nodes_ > options_.max_nodes) return fail("too many values");
    if (pos_ >= in_.size()) return fail("truncated");
    const char c = in_[pos_];
    if (c == '{' || c == '[') {
      if (depth > options_.max_depth) return fail("nested too deeply");
      return c == '{' ? object(out, depth) : array(out, depth);
    }
    if (c == '"' || (options_.js_literals && c == '\'')) {
      out.kind = Kind::string;
      return string(out.text);
    }
    if (c == 't' || c == 'f' || c == 'n') {
      if (literal("true")) {
        out.kind = Kind::boolean;
        out.boolean = true;
      } else if (literal("false")) {
        out.kind = Kind::boolean;
        out.boolean = false;
      } else if (literal("null")) {
        out.kind = Kind::null;
      } else {
        return fail("invalid literal");
      }
      return ident_continues();
    }
    if (c == '-' || (c >= '0' && c <= '9')) return number(out);
    return fail("unexpected character");
  }

  // "truex" must not parse as true followed by garbage that a caller might skip.
  bool ident_continues() {
    if (pos_ < in_.size() && is_ident_char(in_[pos_])) return fail("invalid literal");
    return true;
  }
  static constexpr bool is_ident_start(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
  }
  static constexpr bool is_ident_char(char c) noexcept { return is_ident_start(c) || (c >= '0' && c <= '9'); }
  static constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

  bool number(Value& out) {
    const std::size_t start = pos_;
    if (in_[pos_] == '-') ++pos_;
    if (pos_ >= in_.size() || !is_digit(in_[pos_])) return fail("invalid number");
    if (in_[pos_] == '0') {
      ++pos_;
    } else {
      while (pos_ < in_.size() && is_digit(in_[pos_])) ++pos_;
    }
    if (pos_ < in_.size() && in_[pos_] == '.') {
      ++pos_;
      if (pos_ >= in_.size() || !is_digit(in_[pos_])) return fail("invalid number");
      while (pos_ < in_.size() && is_digit(in_[pos_])) ++pos_;
    }
    if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) ++pos_;
      if (pos_ >= in_.size() || !is_digit(in_[pos_])) return fail("invalid number");
      while (pos_ < in_.size() && is_digit(in_[pos_])) ++pos_;
    }
    if (pos_ < in_.size() && is_ident_char(in_[pos_])) return fail("invalid number");
    out.kind = Kind::number;
    out.text.assign(in_.substr(start, pos_ - start));
    return true;
  }

  bool hex4(std::uint32_t& v) noexcept {
    if (in_.size() - pos_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = in_[pos_++];
      std::uint32_t d = 0;
      if (h >= '0' && h <= '9') {
        d = static_cast<std::uint32_t>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        d = static_cast<std::uint32_t>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        d = static_cast<std::uint32_t>(h - 'A' + 10);
      } else {
        return false;
      }
      v = (v << 4) | d;
    }
    return true;
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0U | (cp >> 6)));
      out.push_back(static_cast<char>(0x80U | (cp & 0x3FU)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0U | (cp >> 12)));
      out.push_back(static_cast<char>(0x80U | ((cp >> 6) & 0x3FU)));
      out.push_back(static_cast<char>(0x80U | (cp & 0x3FU)));
    } else {
      out.push_back(static_cast<char>(0xF0U | (cp >> 18)));
      out.push_back(static_cast<char>(0x80U | ((cp >> 12) & 0x3FU)));
      out.push_back(static_cast<char>(0x80U | ((cp >> 6) & 0x3FU)));
      out.push_back(static_cast<char>(0x80U | (cp & 0x3FU)));
    }
  }

  bool string(std::string& out) {
    const char quote = in_[pos_++];
    out.clear();
    while (true) {
      if (pos_ >= in_.size()) return fail("unterminated string");
      const char c = in_[pos_];
      if (c == quote) {
        ++pos_;
        break;
      }
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in string");
      if (c != '\\') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (pos_ >= in_.size()) return fail("unterminated string");
      const char e = in_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case '\'':
          if (!options_.js_literals) return fail("invalid escape");
          out.push_back(e);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp)) return fail("invalid escape");
          if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("lone surrogate");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t lo = 0;
            if (!literal("\\u") || !hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return fail("lone surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          // A NUL inside a key would let two different keys compare equal in C-string land.
          if (cp == 0) return fail("NUL in string");
          append_utf8(out, cp);
          break;
        }
        default:
          return fail("invalid escape");
      }
    }
    if (!is_valid_utf8(out)) return fail("invalid UTF-8");
    return true;
  }

  bool key(std::string& out) {
    if (pos_ >= in_.size()) return fail("truncated");
    const char c = in_[pos_];
    if (c == '"' || (options_.js_literals && c == '\'')) return string(out);
    if (options_.js_literals && is_ident_start(c)) {
      const std::size_t start = pos_;
      while (pos_ < in_.size() && is_ident_char(in_[pos_])) ++pos_;
      out.assign(in_.substr(start, pos_ - start));
      return true;
    }
    return fail("expected a key");
  }

  bool object(Value& out, std::size_t depth) {
    out.kind = Kind::object;
    ++pos_;
    skip_ws();
    if (pos_ < in_.size() && in_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_ws();
      std::string name;
      if (!key(name)) return false;
      skip_ws();
      if (pos_ >= in_.size() || in_[pos_] != ':') return fail("expected ':'");
      ++pos_;
      skip_ws();
      Value member;
      if (!value(member, depth + 1)) return false;
      out.keys.push_back(std::move(name));
      out.items.push_back(std::move(member));
      skip_ws();
      if (pos_ >= in_.size()) return fail("truncated");
      if (in_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (in_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  bool array(Value& out, std::size_t depth) {
    out.kind = Kind::array;
    ++pos_;
    skip_ws();
    if (pos_ < in_.size() && in_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_ws();
      Value item;
      if (!value(item, depth + 1)) return false;
      out.items.push_back(std::move(item));
      skip_ws();
      if (pos_ >= in_.size()) return fail("truncated");
      if (in_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (in_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  std::string_view in_;
  const Options& options_;
  std::size_t pos_ = 0;
  std::size_t nodes_ = 0;
  std::string_view error_ = "invalid JSON";
};

}  // namespace parser_detail

// Parses the whole of `in` as one JSON value into `out` (replaced). Returns an empty view on success,
// otherwise a short static reason ("trailing characters", "nested too deeply"...). Throws only
// std::bad_alloc.
[[nodiscard]] inline std::string_view parse(std::string_view in, Value& out, const Options& options = {}) {
  out = Value{};
  parser_detail::Parser p(in, options);
  return p.run(out);
}

}  // namespace consent::policy::detail::json
