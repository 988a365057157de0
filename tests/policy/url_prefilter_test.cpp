#include "policy/url_prefilter.hpp"

#include <re2/re2.h>
#include <catch2/catch.hpp>

#include <string>
#include <vector>

using consent::policy::LiteralScanner;
using consent::policy::required_literals;

namespace {

using Literals = std::optional<std::vector<std::string>>;
using L = std::vector<std::string>;

}  // namespace

TEST_CASE("the longest literal every match must contain is the pattern's key", "[policy]") {
  CHECK(required_literals(R"(/hotjar-[0-9]+\.js\?sv=)") == Literals{L{"/hotjar-"}});
  CHECK(required_literals(R"(\.gif\?stat=open)") == Literals{L{".gif?stat=open"}});
  CHECK(required_literals(R"(/i\?e=pv&url=.*&tv=js-)") == Literals{L{"/i?e=pv&url="}});
  CHECK(required_literals(R"(^email\..*/o/)") == Literals{L{"email."}});
  CHECK(required_literals(R"(/rec/(bundle|page|integrations)(/v2)?\?)") == Literals{L{"/rec/"}});
  CHECK(required_literals(R"(/ruxitagentjs_[A-Za-z0-9_]+\.js)") == Literals{L{"/ruxitagentjs_"}});
  CHECK(required_literals("/Collect") == Literals{L{"/collect"}});  // ASCII case folded
}

TEST_CASE("a quantified byte is not required", "[policy]") {
  CHECK(required_literals("abcdx?") == Literals{L{"abcd"}});
  CHECK(required_literals("abcdx*yz") == Literals{L{"abcd"}});
  CHECK(required_literals("abcdx+yz") == Literals{L{"abcd"}});
  CHECK(required_literals(R"(abcd\.{0,3}yz)") == Literals{L{"abcd"}});
  CHECK(required_literals(R"(ab\.?cdefgh)") == Literals{L{"cdefgh"}});
  CHECK(required_literals("abcd{2}") == Literals{L{"abc"}});
  CHECK(required_literals("abcx+?") == Literals{L{"abc"}});
}

TEST_CASE("each top-level alternative brings its own literal", "[policy]") {
  CHECK(required_literals("/open\\.gif|/pixel\\.png") == Literals{L{"/open.gif", "/pixel.png"}});
  CHECK_FALSE(required_literals("/open\\.gif|x"));  // one alternative without a literal: always run
  CHECK_FALSE(required_literals("abc|"));
}

TEST_CASE("patterns without a usable literal always run", "[policy]") {
  CHECK_FALSE(required_literals("ab"));
  CHECK_FALSE(required_literals(".*"));
  CHECK_FALSE(required_literals("[a-z]+\\d+"));
  CHECK_FALSE(required_literals("(abcdef)"));  // groups are not looked into
  CHECK_FALSE(required_literals("\\Qabcdef\\E"));
  CHECK_FALSE(required_literals("ab{c"));        // RE2 reads a literal '{': not followed here
  CHECK_FALSE(required_literals("ca\xC3\xA9"));  // non-ASCII bytes end a literal
  CHECK(required_literals("caf\xC3\xA9s") == Literals{L{"caf"}});
}

TEST_CASE("escapes that are not literal bytes end a literal and are skipped whole", "[policy]") {
  CHECK(required_literals(R"(abc\x41def)") == Literals{L{"abc"}});
  CHECK(required_literals(R"(abc\x{263a}defg)") == Literals{L{"defg"}});
  CHECK(required_literals(R"(abc\p{Greek}defg)") == Literals{L{"defg"}});
  CHECK(required_literals(R"(abc\pLdefg)") == Literals{L{"defg"}});
  CHECK(required_literals(R"(abc\d\w\sdefg)") == Literals{L{"defg"}});
  CHECK(required_literals(R"(abcd\Q|)(\Exyz)") == Literals{L{"abcd"}});
  CHECK(required_literals(R"([]|)(]abcd)") == Literals{L{"abcd"}});
  CHECK(required_literals(R"([[:alpha:]\]]abcd)") == Literals{L{"abcd"}});
  CHECK(required_literals(R"((a(b)[)]c)wxyz)") == Literals{L{"wxyz"}});
}

TEST_CASE("under case folding k and s are not byte literals", "[policy]") {
  // (?i) "k" also matches U+212A KELVIN SIGN, "s" U+017F LONG S: their UTF-8 bytes hold no k or s.
  CHECK(required_literals("(?i)/track/pixel") == Literals{L{"/pixel"}});
  CHECK(required_literals("(?i:x)/track/pixel") == Literals{L{"/pixel"}});
  CHECK(required_literals("/track/pixel") == Literals{L{"/track/pixel"}});
  const RE2 folding("(?i)/track/pixel");
  CHECK(RE2::PartialMatch("/trac\xE2\x84\xAA/pixel", folding));
}

TEST_CASE("the scanner finds any literal across the host and path boundary", "[policy]") {
  LiteralScanner s;
  REQUIRE(s.build({"/collect", "hotjar-", "example.com/p"}));
  CHECK(s.occurs_in("www.google-analytics.com", "/g/collect?v=2"));
  CHECK(s.occurs_in("static.HOTJAR-cdn.example", "/"));
  CHECK(s.occurs_in("a.example.com", "/pixel"));  // spans the two parts
  CHECK_FALSE(s.occurs_in("a.example.com", "/ixel"));
  CHECK_FALSE(s.occurs_in("www.lemonde.fr", "/img/photo.jpg"));
  CHECK_FALSE(s.occurs_in("", ""));
  CHECK(s.occurs_in("", "/collect"));
}

TEST_CASE("the scanner finds literals that end inside others", "[policy]") {
  LiteralScanner s;
  REQUIRE(s.build({"abcdef", "cde", "xbcx"}));
  CHECK(s.occurs_in("zzabcdzz", "") == false);
  CHECK(s.occurs_in("zzabcdezz", ""));  // "cde" inside a partial "abcdef"
  CHECK(s.occurs_in("abxbcx", ""));     // restart after a failed "ab..."
  CHECK_FALSE(s.occurs_in("abcxbc", ""));
}

TEST_CASE("an empty scanner finds nothing and a huge one is refused", "[policy]") {
  LiteralScanner s;
  CHECK(s.empty());
  CHECK_FALSE(s.occurs_in("a", "b"));
  REQUIRE(s.build({}));
  CHECK_FALSE(s.occurs_in("a", "b"));
  // Every byte value in distinct literals: 95 classes x ~200k states x 4 bytes is past the table limit.
  std::vector<std::string> many;
  for (int i = 0; i < 20000; ++i) {
    std::string l;
    for (int j = 0; j < 10; ++j) l += static_cast<char>(33 + (i * 7 + j * 13) % 94);
    many.push_back(l);
  }
  CHECK_FALSE(s.build(many));
  CHECK(s.empty());
  CHECK_FALSE(s.occurs_in(many[0], ""));
}
