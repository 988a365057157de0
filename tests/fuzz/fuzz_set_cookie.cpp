// Fuzzes parse_set_cookie and cap_set_cookie; aborts when an invariant of the contract breaks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "policy/set_cookie.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace consent::policy;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto cookie = parse_set_cookie(input);
  if (cookie) {
    check(input.size() <= max_set_cookie_bytes);
    check(inside(cookie->name, input) && inside(cookie->value, input));
    check(inside(cookie->domain, input) && inside(cookie->path, input));
    check(!cookie->name.empty() || !cookie->value.empty());
  }
  // A realistic clock: the cap's output must then parse back to a cookie living at most the cap.
  constexpr std::int64_t now = 1'700'000'000;
  constexpr std::int64_t cap = 34'128'000;  // 395 days
  const auto capped = cap_set_cookie(input, cap, now);
  if (!capped) return 0;
  check(cookie.has_value());
  if (capped->size() > max_set_cookie_bytes) return 0;  // grew past the limit: nothing more to check
  const auto again = parse_set_cookie(*capped);
  check(again.has_value());
  check(again->name == cookie->name && again->value == cookie->value);
  const auto lifetime = lifetime_seconds(*again, now);
  check(lifetime.has_value() && *lifetime <= cap);
  check(!cap_set_cookie(*capped, cap, now).has_value());
  (void)format_http_date(static_cast<std::int64_t>(size) * 977'000'000 - 1'000'000'000);
  return 0;
}
