#pragma once
// Template definitions for policy/cookie_header.hpp.
namespace consent::policy {

template <class Pred>
std::string rewrite_cookie_header(std::string_view header, Pred&& drop) {
  std::string out;
  out.reserve(header.size());
  for (const CookiePair& pair : parse_cookie_header(header)) {
    if (drop(pair)) continue;
    if (!out.empty()) out += "; ";
    if (!pair.name.empty()) {
      out += pair.name;
      out += '=';
    }
    out += pair.value;
  }
  return out;
}

}  // namespace consent::policy
