#include "policy/url_prefilter.hpp"

#include <re2/re2.h>
#include <catch2/catch.hpp>

#include <cstdint>
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

namespace {

// What occurs_in must say: some literal occurs in first + second, ASCII case ignored.
bool occurs_naive(const std::vector<std::string>& literals, const std::string& text) {
  const auto fold = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  for (const std::string& l : literals) {
    for (std::size_t p = 0; p + l.size() <= text.size(); ++p) {
      std::size_t k = 0;
      while (k < l.size() && fold(text[p + k]) == fold(l[k])) ++k;
      if (k == l.size()) return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("the scanner finds exactly what a naive search finds", "[policy]") {
  // Random literal sets (3 to 14 bytes) and texts over a small alphabet with upper case, every byte value
  // in some, split at a random point; the answer is held against a naive search.
  // Bounded: 200 sets x 100 texts of at most 170 bytes, plus a few texts of 3000 bytes.
  std::uint64_t x = 0x2545F4914F6CDD1DULL;
  const auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  static constexpr char alphabet[] = "abcAB/.-_?0";
  const auto random_text = [&](std::size_t size, bool any_byte) {
    std::string t(size, '\0');
    for (char& c : t) c = any_byte ? static_cast<char>(next() & 0xFF) : alphabet[next() % (sizeof(alphabet) - 1)];
    return t;
  };
  std::size_t checked = 0;
  for (int set = 0; set < 200; ++set) {
    std::vector<std::string> literals;
    const std::size_t shortest = 3 + next() % 7;
    const std::size_t count = 1 + next() % 12;
    for (std::size_t i = 0; i < count; ++i) {
      std::string l = random_text(shortest + (i == 0 ? 0 : next() % 6), false);
      for (char& c : l) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;  // as required_literals
      literals.push_back(l);
    }
    LiteralScanner s;
    REQUIRE(s.build(literals));
    for (int t = 0; t < 100; ++t) {
      std::string text = random_text(next() % 161, t % 10 == 0);
      if (t % 3 == 0) {  // plant a literal, in a random case, somewhere
        std::string l = literals[next() % literals.size()];
        for (char& c : l)
          if ((next() & 1) != 0 && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        text.insert(next() % (text.size() + 1), l);
      }
      const std::size_t cut = next() % (text.size() + 1);
      const bool expected = occurs_naive(literals, text);
      if (s.occurs_in(std::string_view(text).substr(0, cut), std::string_view(text).substr(cut)) != expected)
        FAIL_CHECK("literal set " << set << ", text \"" << text << "\" cut at " << cut << ": expected " << expected);
      ++checked;
    }
  }
  CHECK(checked == 20000);
  LiteralScanner s;
  REQUIRE(s.build({"/needle-"}));
  const std::string long_text = std::string(3000, 'a') + "/NEEDLE-" + std::string(10, 'b');
  CHECK(s.occurs_in(long_text, ""));
  CHECK(s.occurs_in(std::string_view(long_text).substr(0, 3003), std::string_view(long_text).substr(3003)));
  CHECK_FALSE(s.occurs_in(std::string(3000, 'a'), "/needl"));
}

TEST_CASE("many literals sharing a prefix with a long text are answered", "[policy]") {
  // 2000 literals share their first bytes with a text of 2000 'a': a partial match everywhere.
  std::vector<std::string> literals;
  for (int i = 0; i < 2000; ++i) literals.push_back("aaaa" + std::to_string(i) + "z");
  LiteralScanner s;
  REQUIRE(s.build(literals));
  CHECK_FALSE(s.occurs_in(std::string(2000, 'a'), ""));
  CHECK(s.occurs_in(std::string(1000, 'a') + "1999z", ""));
}
