#pragma once
// Template definitions for policy/cookie_header.hpp.
namespace consent::policy {
namespace detail {

// The exact bytes a pair occupied in the header, from the first byte of its (trimmed) segment to the
// last. parse_cookie_header positions even empty names and values inside their segment, so for "=x"
// this is "=x" and for "a = b" it is "a = b": a rewrite changes nothing it keeps.
inline std::string_view pair_bytes(const CookiePair& pair) noexcept {
  const char* begin = pair.name.data();
  const char* end = pair.value.data() + pair.value.size();
  return {begin, static_cast<std::size_t>(end - begin)};
}

}  // namespace detail

template <class Pred>
std::string rewrite_cookie_header(std::string_view header, Pred&& drop) {
  std::string out;
  out.reserve(header.size());
  for (const CookiePair& pair : parse_cookie_header(header)) {
    if (drop(pair)) continue;
    if (!out.empty()) out += "; ";
    out += detail::pair_bytes(pair);
  }
  return out;
}

}  // namespace consent::policy
