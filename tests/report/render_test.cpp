#include "report/render.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "report/analyzer.hpp"

using consent::report::Analyzer;
using consent::report::html_escape;
using consent::report::render_html;
using consent::report::render_text;

namespace {

const std::string hostile_line =
    R"({"time":"2026-11-22T13:00:00Z","client":"<img src=x onerror=alert(1)>","site":"<script>alert('s')</script>",)"
    R"("host":"evil\"><script>alert(1)</script>.example","path":"/<svg onload=alert(2)>?&amp;",)"
    R"("purpose":"ads</td>","action":"would_block","reason":"consent_missing","rule":"r&d/x","consent":"missing",)"
    R"("cookies":["a'b"],"mode":"report-only\u001b[31m"})";

// Tags outside the ones we write would mean the log injected markup.
std::vector<std::string> tags(const std::string& html) {
  std::vector<std::string> out;
  for (std::size_t i = html.find('<'); i != std::string::npos; i = html.find('<', i + 1)) {
    std::size_t j = i + 1;
    if (j < html.size() && html[j] == '/') ++j;
    std::size_t k = j;
    while (k < html.size() && (std::isalnum(static_cast<unsigned char>(html[k])) != 0 || html[k] == '!')) ++k;
    out.push_back(html.substr(j, k - j));
  }
  return out;
}

}  // namespace

TEST_CASE("html_escape escapes markup and replaces control characters", "[report]") {
  CHECK(html_escape("<a href=\"x\">&'</a>") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  CHECK(html_escape(std::string("a\0b\x1b\x7f\tc\n", 8)) ==
        "a\xEF\xBF\xBD"
        "b\xEF\xBF\xBD\xEF\xBF\xBD\tc\n");
  CHECK(html_escape("") == "");
  CHECK(html_escape("caf\xC3\xA9") == "caf\xC3\xA9");
}

TEST_CASE("hostile hosts and paths never reach the HTML as markup", "[report]") {
  Analyzer a;
  a.add_line(hostile_line);
  const std::string html = render_html(a.summary());
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("<svg onload") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(&#39;s&#39;)&lt;/script&gt;") != std::string::npos);
  CHECK(html.find("/&lt;svg onload=alert(2)&gt;?&amp;amp;") != std::string::npos);
  CHECK(html.find('\x1b') == std::string::npos);
  const std::vector<std::string> allowed = {"!DOCTYPE", "html", "head", "meta",    "title", "style", "body", "main",
                                            "h1",       "h2",   "h3",   "p",       "span",  "table", "tr",   "th",
                                            "td",       "a",    "code", "section", "svg",   "rect",  "text", "line"};
  for (const auto& t : tags(html)) {
    INFO(t);
    CHECK(std::find(allowed.begin(), allowed.end(), t) != allowed.end());
  }
}

TEST_CASE("the HTML report is one self-contained document with balanced sections", "[report]") {
  Analyzer a;
  a.add_line(R"({"time":"2026-11-22T13:00:00Z","client":"c","site":"news.example","host":"t.example","purpose":"ads",)"
             R"("action":"would_block","reason":"consent_missing","consent":"missing","mode":"report-only"})");
  a.add_line(
      R"({"time":"2026-11-22T13:10:00Z","client":"c","site":"news.example","host":"t.example","purpose":"ads",)"
      R"("action":"allow","reason":"purpose_granted","consent":"valid","granted":["ads"],"mode":"report-only"})");
  const std::string html = render_html(a.summary());
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("</html>") != std::string::npos);
  CHECK(html.find("http://") == std::string::npos);  // no external assets (the SVG namespace is https-less below)
  CHECK(html.find("src=") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  for (const char* t : {"section", "table", "svg", "tr", "td", "h2", "p"}) {
    const auto count = [&](const std::string& needle) {
      std::size_t n = 0;
      for (auto i = html.find(needle); i != std::string::npos; i = html.find(needle, i + 1)) ++n;
      return n;
    };
    INFO(t);
    CHECK(count(std::string("<") + t + ">") + count(std::string("<") + t + " ") == count(std::string("</") + t + ">"));
  }
  CHECK(html.find("FAIL") != std::string::npos);
  CHECK(html.find("stroke-dasharray") != std::string::npos);  // the consent marker in the chart
}

TEST_CASE("the text summary fits a screen and is terminal-safe", "[report]") {
  Analyzer a;
  a.add_line(hostile_line);
  for (int i = 0; i < 50; ++i) {
    a.add_line(
        R"({"time":"2026-11-22T13:00:00Z","client":"c","site":"s)" + std::to_string(i) +
        R"(.example","host":"t.example","purpose":"ads","action":"would_block","consent":"missing","mode":"report-only"})");
  }
  a.add_line("junk");
  const std::string text = render_text(a.summary());
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') <= 25);
  CHECK(text.find("result: FAIL (51 violation(s))") != std::string::npos);
  CHECK(text.find("malformed lines: 1 (invalid_json 1); first at -:52") != std::string::npos);

  Analyzer clean;
  CHECK(render_text(clean.summary()).find("result: PASS") != std::string::npos);
  CHECK(render_html(clean.summary()).find("PASS") != std::string::npos);
}
