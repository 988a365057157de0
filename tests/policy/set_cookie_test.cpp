#include "policy/set_cookie.hpp"

#include <catch2/catch.hpp>

#include <deque>
#include <limits>
#include <memory>
#include <string>

using consent::policy::cap_set_cookie;
using consent::policy::format_http_date;
using consent::policy::lifetime_seconds;
using consent::policy::max_set_cookie_bytes;
using consent::policy::parse_set_cookie;
using consent::policy::SetCookie;

namespace {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();

std::string describe(const std::optional<SetCookie>& c) {
  if (!c) return "<ignored>";
  std::string s = "name=[" + std::string(c->name) + "] value=[" + std::string(c->value) + "]";
  s += " max_age=" + (c->max_age ? std::to_string(*c->max_age) : "-");
  s += " expires=" + (c->expires ? std::to_string(*c->expires) : "-");
  s += " domain=[" + std::string(c->domain) + "] path=[" + std::string(c->path) + "]";
  s += c->secure ? " secure" : "";
  s += c->http_only ? " httponly" : "";
  s += " samesite=[" + std::string(c->same_site) + "]";
  s += c->partitioned ? " partitioned" : "";
  return s;
}

// Parses `header` from exact-size heap copies assembled from two pieces split at every offset; every
// result must equal the whole-string result, which is returned with views into a copy of `header` that
// lives until the end of the test run (callers pass temporaries).
std::optional<SetCookie> parse_every_way(const std::string& header) {
  static std::deque<std::string> kept;
  const std::string whole = describe(parse_set_cookie(header));
  for (std::size_t cut = 0; cut <= header.size(); ++cut) {
    std::string built = header.substr(0, cut);
    built += header.substr(cut);
    auto exact = std::make_unique<char[]>(built.size() + 1);
    built.copy(exact.get(), built.size());
    REQUIRE(describe(parse_set_cookie(std::string_view(exact.get(), built.size()))) == whole);
  }
  return parse_set_cookie(kept.emplace_back(header));
}

std::optional<std::int64_t> expires_of(const std::string& date) {
  const auto c = parse_every_way("a=b; Expires=" + date);
  REQUIRE(c);
  return c->expires;
}

}  // namespace

TEST_CASE("set-cookie examples of RFC 6265 section 3.1 parse", "[policy]") {
  auto c = parse_every_way("SID=31d4d96e407aad42; Path=/; Secure; HttpOnly");
  REQUIRE(c);
  CHECK(c->name == "SID");
  CHECK(c->value == "31d4d96e407aad42");
  CHECK(c->path == "/");
  CHECK(c->secure);
  CHECK(c->http_only);
  CHECK_FALSE(c->max_age);
  CHECK_FALSE(c->expires);

  c = parse_every_way("lang=en-US; Path=/; Domain=example.com");
  REQUIRE(c);
  CHECK(c->domain == "example.com");

  c = parse_every_way("lang=en-US; Expires=Wed, 09 Jun 2021 10:18:14 GMT");
  REQUIRE(c);
  CHECK(c->expires == 1623233894);
  CHECK(lifetime_seconds(*c, 1623233894 - 60) == 60);
}

TEST_CASE("set-cookie attribute names are case-insensitive and the last one wins", "[policy]") {
  const auto c = parse_every_way(
      "id=1; DOMAIN=.First.example; domain=.Second.Example; pAtH=/a; Path=/b; SAMESITE=lax; max-age=10; "
      "MAX-AGE=20; secure; HTTPONLY; PARTITIONED");
  REQUIRE(c);
  CHECK(c->domain == "Second.Example");  // one leading dot dropped, case as sent
  CHECK(c->path == "/b");
  CHECK(c->same_site == "Lax");
  CHECK(c->max_age == 20);
  CHECK(c->secure);
  CHECK(c->http_only);
  CHECK(c->partitioned);
}

TEST_CASE("set-cookie flag attributes ignore their value, as RFC 6265 section 5.2 reads only the name", "[policy]") {
  const auto c = parse_every_way("id=1; Secure=no; HttpOnly=false; Partitioned=0; Unknown=1; =x; ;");
  REQUIRE(c);
  CHECK(c->secure);
  CHECK(c->http_only);
  CHECK(c->partitioned);
}

TEST_CASE("set-cookie ignores an invalid attribute value without touching the earlier valid one", "[policy]") {
  auto c = parse_every_way("id=1; Max-Age=10; Max-Age=ten; Domain=a.example; Domain=; Expires=bogus");
  REQUIRE(c);
  CHECK(c->max_age == 10);
  CHECK(c->domain == "a.example");
  CHECK_FALSE(c->expires);

  c = parse_every_way("id=1; Path=/a; Path=relative");
  REQUIRE(c);
  CHECK(c->path.empty());  // the default path: a later invalid Path still replaces the earlier one

  c = parse_every_way("id=1; SameSite=Strict; SameSite=bogus");
  REQUIRE(c);
  CHECK(c->same_site.empty());

  c = parse_every_way("id=1; Domain=..double.example");
  REQUIRE(c);
  CHECK(c->domain == ".double.example");

  c = parse_every_way("id=1; Max-Age=5; Max-Age=" + std::string(1025, '9'));
  REQUIRE(c);
  CHECK(c->max_age == 5);  // 6265bis: an attribute value over 1024 bytes is ignored
}

TEST_CASE("set-cookie name and value are trimmed and may contain '=' and quotes", "[policy]") {
  auto c = parse_every_way("  a b \t=  \"x=y\"  ; Path=/");
  REQUIRE(c);
  CHECK(c->name == "a b");
  CHECK(c->value == "\"x=y\"");

  c = parse_every_way("=nameless");
  REQUIRE(c);
  CHECK(c->name.empty());
  CHECK(c->value == "nameless");

  c = parse_every_way("valueless=");
  REQUIRE(c);
  CHECK(c->name == "valueless");
  CHECK(c->value.empty());

  c = parse_every_way("tab=\ta\tb\t");
  REQUIRE(c);
  CHECK(c->value == "a\tb");
}

TEST_CASE("set-cookie headers that must be ignored give nullopt", "[policy]") {
  CHECK_FALSE(parse_every_way(""));
  CHECK_FALSE(parse_every_way("novalue"));
  CHECK_FALSE(parse_every_way("novalue; a=b"));
  CHECK_FALSE(parse_every_way("="));
  CHECK_FALSE(parse_every_way("  =  ; Path=/"));
  CHECK_FALSE(parse_every_way(";a=b"));
  CHECK_FALSE(parse_every_way(std::string("a=b\0c", 5)));
  CHECK_FALSE(parse_every_way("a=b\r\nSet-Cookie: evil=1"));
  CHECK_FALSE(parse_every_way("a=b; Path=/\x7f"));
  CHECK_FALSE(parse_every_way("a=b; Path=/\x01"));
  CHECK(parse_every_way("a=\xff\xfe; Path=/\xc3"));  // non-UTF-8 bytes are not control characters
}

TEST_CASE("set-cookie size limits follow 6265bis and the named header limit", "[policy]") {
  CHECK(parse_set_cookie("n=" + std::string(4095, 'v')));
  CHECK_FALSE(parse_set_cookie("n=" + std::string(4096, 'v')));
  const std::string padded = "n=v; Path=/" + std::string(max_set_cookie_bytes - 11, ' ');
  REQUIRE(padded.size() == max_set_cookie_bytes);
  CHECK(parse_set_cookie(padded));
  CHECK_FALSE(parse_set_cookie(padded + " "));
}

TEST_CASE("set-cookie Max-Age accepts digits with an optional leading minus only", "[policy]") {
  const auto max_age = [](const std::string& v) { return parse_every_way("a=b; Max-Age=" + v)->max_age; };
  CHECK(max_age("0") == 0);
  CHECK(max_age("86400") == 86400);
  CHECK(max_age("-1") == -1);
  CHECK(max_age("-0") == 0);
  CHECK(max_age(" 42 ") == 42);
  CHECK_FALSE(max_age(""));
  CHECK_FALSE(max_age("-"));
  CHECK_FALSE(max_age("+5"));
  CHECK_FALSE(max_age("5s"));
  CHECK_FALSE(max_age("1 2"));
  CHECK_FALSE(max_age("0x10"));
  CHECK(max_age("99999999999999999999999999") == int64_max);
  CHECK(max_age("9223372036854775807") == int64_max);
  CHECK(max_age("9223372036854775808") == int64_max);
  CHECK(max_age("-99999999999999999999999999") == -int64_max);
  CHECK(max_age(std::string(1024, '7')) == int64_max);
}

TEST_CASE("set-cookie Expires uses the cookie-date algorithm of RFC 6265 section 5.1.1", "[policy]") {
  CHECK(expires_of("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777);   // IMF-fixdate
  CHECK(expires_of("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777);  // RFC 850
  CHECK(expires_of("Sun Nov  6 08:49:37 1994") == 784111777);        // asctime
  CHECK(expires_of("6 nov 1994 8:49:37") == 784111777);              // any order, one-digit fields
  CHECK(expires_of("08:49:37 1994 NOVEMBER 06") == 784111777);       // month by its first 3 letters
  CHECK(expires_of("Thu, 01-Jan-1970 00:00:00 GMT") == 0);
  CHECK(expires_of("01 Jan 99 00:00:00") == 915148800);   // 70..99 -> 19xx
  CHECK(expires_of("01 Jan 69 00:00:00") == 3124224000);  // 00..69 -> 20xx
  CHECK(expires_of("29 Feb 2024 00:00:00") == 1709164800);
  CHECK(expires_of("01 Jan 1601 00:00:00") == -11644473600);
  CHECK(expires_of("06 Nov 1994 08:49:37xyz") == 784111777);  // time = hms-time ( non-digit *OCTET )
}

TEST_CASE("set-cookie Expires that is no date is ignored", "[policy]") {
  CHECK_FALSE(expires_of("29 Feb 2023 00:00:00"));
  CHECK_FALSE(expires_of("31 Apr 2023 00:00:00"));
  CHECK_FALSE(expires_of("00 Jan 2023 00:00:00"));
  CHECK_FALSE(expires_of("01 Jan 1600 00:00:00"));
  CHECK_FALSE(expires_of("01 Jan 2023 24:00:00"));
  CHECK_FALSE(expires_of("01 Jan 2023 23:60:00"));
  CHECK_FALSE(expires_of("01 Jan 2023 23:59:60"));
  CHECK_FALSE(expires_of("01 Jan 2023"));
  CHECK_FALSE(expires_of("Jan 2023 00:00:00"));
  CHECK_FALSE(expires_of("01 2023 00:00:00"));
  CHECK_FALSE(expires_of("01 Jan 12345 00:00:00"));
  CHECK_FALSE(expires_of("001 Jan 2023 00:00:00"));
  CHECK_FALSE(expires_of("01 Jan 2023 000:00:00"));
  CHECK_FALSE(expires_of("01 Jan 2023 00:00"));
  CHECK_FALSE(expires_of(""));
  CHECK_FALSE(expires_of(std::string(1000, '9')));
}

TEST_CASE("lifetime prefers Max-Age over Expires and saturates", "[policy]") {
  SetCookie c;
  CHECK_FALSE(lifetime_seconds(c, 0));
  c.expires = 1000;
  CHECK(lifetime_seconds(c, 400) == 600);
  CHECK(lifetime_seconds(c, 2000) == -1000);
  c.max_age = 5;
  CHECK(lifetime_seconds(c, 400) == 5);
  c.max_age.reset();
  c.expires = int64_max;
  CHECK(lifetime_seconds(c, int64_min) == int64_max);
  c.expires = int64_min;
  CHECK(lifetime_seconds(c, int64_max) == int64_min);
}

TEST_CASE("format_http_date writes IMF-fixdate and clamps to four-digit years", "[policy]") {
  CHECK(format_http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(format_http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(format_http_date(1709164800) == "Thu, 29 Feb 2024 00:00:00 GMT");
  CHECK(format_http_date(-5) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(format_http_date(int64_max) == "Fri, 31 Dec 9999 23:59:59 GMT");
  for (const std::int64_t t : {std::int64_t{0}, std::int64_t{951782400}, std::int64_t{4116219494}}) {
    CHECK(expires_of(format_http_date(t)) == t);
  }
}

TEST_CASE("cap_set_cookie shortens a long Max-Age and adds Expires, keeping other bytes", "[policy]") {
  const std::int64_t now = 1000000000;  // Sun, 09 Sep 2001 01:46:40 GMT
  const auto capped = cap_set_cookie("_ga=GA1.2.3;  path=/ ;Max-Age=63072000;Domain=.example.com", 1000, now);
  REQUIRE(capped);
  CHECK(*capped == "_ga=GA1.2.3;  path=/ ; Max-Age=1000;Domain=.example.com; Expires=Sun, 09 Sep 2001 02:03:20 GMT");
  const auto reparsed = parse_set_cookie(*capped);
  REQUIRE(reparsed);
  CHECK(lifetime_seconds(*reparsed, now) == 1000);
  CHECK(reparsed->expires == now + 1000);
  CHECK(reparsed->domain == "example.com");
  CHECK_FALSE(cap_set_cookie(*capped, 1000, now));  // idempotent
}

TEST_CASE("cap_set_cookie rewrites a far Expires in place and adds Max-Age", "[policy]") {
  const std::int64_t now = 1000000000;
  const auto capped = cap_set_cookie("id=1; Expires=Wed, 09 Jun 2100 10:18:14 GMT; Secure", 1000, now);
  REQUIRE(capped);
  CHECK(*capped == "id=1; Expires=Sun, 09 Sep 2001 02:03:20 GMT; Secure; Max-Age=1000");
}

TEST_CASE("cap_set_cookie fixes a far Expires even when Max-Age is short", "[policy]") {
  const std::int64_t now = 1000000000;
  const auto capped = cap_set_cookie("id=1; max-age=10; expires=Wed, 09 Jun 2100 10:18:14 GMT", 1000, now);
  REQUIRE(capped);
  CHECK(*capped == "id=1; Max-Age=10; Expires=Sun, 09 Sep 2001 01:46:50 GMT");
}

TEST_CASE("cap_set_cookie replaces every Max-Age and Expires occurrence by one", "[policy]") {
  const std::int64_t now = 1000000000;
  const auto capped = cap_set_cookie("id=1; MAX-AGE=x; Expires=junk; Max-Age=99999; HttpOnly; expires", 1000, now);
  REQUIRE(capped);
  CHECK(*capped == "id=1; Max-Age=1000; Expires=Sun, 09 Sep 2001 02:03:20 GMT; HttpOnly");
}

TEST_CASE("cap_set_cookie leaves short, deleting, session and invalid cookies alone", "[policy]") {
  const std::int64_t now = 1000000000;
  CHECK_FALSE(cap_set_cookie("id=1; Max-Age=1000", 1000, now));
  CHECK_FALSE(cap_set_cookie("id=1; Max-Age=999", 1000, now));
  CHECK_FALSE(cap_set_cookie("id=1; Max-Age=0; Expires=Wed, 09 Jun 2100 10:18:14 GMT", 1000, now));
  CHECK_FALSE(cap_set_cookie("id=1; Max-Age=-1", 1000, now));
  CHECK_FALSE(cap_set_cookie("id=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT", 1000, now));
  CHECK_FALSE(cap_set_cookie("id=1; Path=/", 1000, now));
  CHECK_FALSE(cap_set_cookie("id=1; Expires=nonsense", 1000, now));
  CHECK_FALSE(cap_set_cookie("no-equals-sign; Max-Age=99999", 1000, now));
  CHECK_FALSE(cap_set_cookie("", 1000, now));
}

TEST_CASE("cap_set_cookie survives hostile numbers without overflow", "[policy]") {
  auto capped = cap_set_cookie("id=1; Max-Age=" + std::string(200, '9'), 1000, int64_max);
  REQUIRE(capped);
  CHECK(*capped == "id=1; Max-Age=1000; Expires=Fri, 31 Dec 9999 23:59:59 GMT");
  capped = cap_set_cookie("id=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT", 1000, int64_min);
  REQUIRE(capped);
  CHECK(*capped == "id=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=1000");
  capped = cap_set_cookie("id=1; Max-Age=50", -7, 0);
  REQUIRE(capped);
  CHECK(*capped == "id=1; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
}
