#include "policy/host.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>

using consent::policy::is_ip_literal;
using consent::policy::is_third_party;
using consent::policy::max_host_bytes;
using consent::policy::normalise_host;
using consent::policy::registrable_domain;

namespace {

// Normalises `raw` from exact-size heap copies assembled from two pieces split at every offset; every
// result must equal the whole-string one, which is returned ("!" stands for nullopt).
std::string norm(const std::string& raw) {
  const auto whole = normalise_host(raw);
  const std::string expected = whole ? *whole : "!";
  for (std::size_t cut = 0; cut <= raw.size(); ++cut) {
    std::string built = raw.substr(0, cut);
    built += raw.substr(cut);
    auto exact = std::make_unique<char[]>(built.size() + 1);
    built.copy(exact.get(), built.size());
    const auto again = normalise_host(std::string_view(exact.get(), built.size()));
    REQUIRE((again ? *again : "!") == expected);
  }
  return expected;
}

std::string labels(std::size_t count, std::size_t label_bytes) {
  std::string s;
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) s += '.';
    s += std::string(label_bytes, 'a');
  }
  return s;
}

}  // namespace

TEST_CASE("host normalisation lower-cases and strips one trailing dot and the port", "[policy]") {
  CHECK(norm("Example.COM") == "example.com");
  CHECK(norm("example.com.") == "example.com");
  CHECK(norm("example.com:443") == "example.com");
  CHECK(norm("WWW.Example.com.:8080") == "www.example.com");
  CHECK(norm("example.com:") == "example.com");
  CHECK(norm("localhost") == "localhost");
  CHECK(norm("foo_bar.example.com") == "foo_bar.example.com");  // browsers accept '_'
  CHECK(norm("-edge-.example") == "-edge-.example");
}

TEST_CASE("host normalisation rejects what is not a host", "[policy]") {
  CHECK(norm("") == "!");
  CHECK(norm(".") == "!");
  CHECK(norm("example.com..") == "!");
  CHECK(norm(".example.com") == "!");
  CHECK(norm("a..example") == "!");
  CHECK(norm(":80") == "!");
  CHECK(norm("example.com:http") == "!");
  CHECK(norm("example.com:65536") == "!");
  CHECK(norm("example.com:123456") == "!");
  CHECK(norm("exa mple.com") == "!");
  CHECK(norm("exa%2emple.com") == "!");
  CHECK(norm("user@example.com") == "!");
  CHECK(norm("example.com/path") == "!");
  CHECK(norm(std::string("example.com\0.evil", 17)) == "!");
  CHECK(norm("\xff\xfe.example") == "!");  // not UTF-8
}

TEST_CASE("host normalisation bounds label and total length", "[policy]") {
  CHECK(norm(std::string(63, 'a') + ".example") == std::string(63, 'a') + ".example");
  CHECK(norm(std::string(64, 'a') + ".example") == "!");
  const std::string longest = labels(4, 62) + "." + std::string(1, 'b');  // 4*62 + 3 dots + 2 = 253
  REQUIRE(longest.size() == max_host_bytes);
  CHECK(norm(longest) == longest);
  CHECK(norm(longest + ".") == longest);
  CHECK(norm(longest + "b") == "!");
  CHECK_FALSE(normalise_host(std::string(100000, 'a')));
}

TEST_CASE("host normalisation converts U-labels to A-labels", "[policy]") {
  CHECK(norm("b\xc3\xbc"
             "cher.example") == "xn--bcher-kva.example");
  CHECK(norm("B\xc3\x9c"
             "CHER.Example.:443") == "xn--bcher-kva.example");
  CHECK(norm("fa\xc3\x9f.de") == "xn--fa-hia.de");  // non-transitional: sharp s is kept
  CHECK(norm("xn--bcher-kva.example") == "xn--bcher-kva.example");
  // IDNA 2008 disallows symbols; browsers (UTS #46 without the strict check) would send xn--n3h.
  CHECK(norm("\xe2\x98\x83.example") == "!");
  CHECK(norm("xn--n3h.example") == "xn--n3h.example");  // what browsers send is accepted as ASCII
}

TEST_CASE("host normalisation keeps IP literals in canonical form", "[policy]") {
  CHECK(norm("192.0.2.1") == "192.0.2.1");
  CHECK(norm("192.0.2.1:8080") == "192.0.2.1");
  CHECK(norm("[2001:DB8::1]") == "2001:db8::1");
  CHECK(norm("[2001:db8:0:0:0:0:0:1]:443") == "2001:db8::1");
  CHECK(norm("::1") == "::1");
  CHECK(norm("[::1") == "!");
  CHECK(norm("[::1]x") == "!");
  CHECK(norm("[::1]:99999") == "!");
  CHECK(norm("[fe80::1%25eth0]") == "!");
  CHECK(norm("[example.com]") == "!");
  CHECK(norm("256.0.0.1") == "!");
  CHECK(norm("010.0.0.1") == "!");  // octal shorthand: browsers canonicalise before sending
  CHECK(norm("0x7f.1") == "!");
  CHECK(norm("1.2.3") == "!");
  CHECK(norm("example.123") == "!");
  CHECK(norm("123.example") == "123.example");
}

TEST_CASE("is_ip_literal recognises normalised IPv4 and IPv6 only", "[policy]") {
  CHECK(is_ip_literal("192.0.2.1"));
  CHECK(is_ip_literal("2001:db8::1"));
  CHECK(is_ip_literal("::ffff:192.0.2.1"));
  CHECK_FALSE(is_ip_literal("[::1]"));
  CHECK_FALSE(is_ip_literal("example.com"));
  CHECK_FALSE(is_ip_literal("1.2.3"));
  CHECK_FALSE(is_ip_literal(""));
  CHECK_FALSE(is_ip_literal(std::string("::1\0x", 5)));
}

TEST_CASE("registrable domain follows the public suffix list, ICANN and private", "[policy]") {
  CHECK(registrable_domain("www.bbc.co.uk") == "bbc.co.uk");
  CHECK(registrable_domain("bbc.co.uk") == "bbc.co.uk");
  CHECK(registrable_domain("co.uk") == "co.uk");
  CHECK(registrable_domain("a.b.example.com") == "example.com");
  CHECK(registrable_domain("alice.github.io") == "alice.github.io");
  CHECK(registrable_domain("www.alice.github.io") == "alice.github.io");
  CHECK(registrable_domain("github.io") == "github.io");
  CHECK(registrable_domain("xn--bcher-kva.example") == "xn--bcher-kva.example");
  CHECK(registrable_domain("192.0.2.1") == "192.0.2.1");
  CHECK(registrable_domain("2001:db8::1") == "2001:db8::1");
  CHECK(registrable_domain("localhost") == "localhost");
  CHECK(registrable_domain("") == "");
  const std::string too_long(max_host_bytes + 1, 'a');
  CHECK(registrable_domain(too_long) == too_long);
}

TEST_CASE("registrable domain returns a view into its argument", "[policy]") {
  const std::string host = "cdn.tracker.example.com";
  const std::string_view site = registrable_domain(host);
  CHECK(site == "example.com");
  CHECK(site.data() == host.data() + 12);
}

TEST_CASE("third party is decided by registrable domain, both sides of each boundary", "[policy]") {
  CHECK_FALSE(is_third_party("a.example", "a.example"));
  CHECK_FALSE(is_third_party("x.a.example", "a.example"));
  CHECK(is_third_party("ba.example", "a.example"));
  CHECK(is_third_party("a.example", "ba.example"));
  CHECK_FALSE(is_third_party("www.bbc.co.uk", "bbc.co.uk"));
  CHECK(is_third_party("www.itv.co.uk", "bbc.co.uk"));
  CHECK(is_third_party("bob.github.io", "alice.github.io"));
  CHECK_FALSE(is_third_party("x.alice.github.io", "alice.github.io"));
  CHECK_FALSE(is_third_party("static.example.com", "www.example.com"));  // a page host works too
  CHECK(is_third_party("192.0.2.1", "192.0.2.2"));
  CHECK_FALSE(is_third_party("192.0.2.1", "192.0.2.1"));
}

TEST_CASE("an unknown first party makes every host third party", "[policy]") {
  CHECK(is_third_party("example.com", ""));
  CHECK(is_third_party("", "example.com"));
}
