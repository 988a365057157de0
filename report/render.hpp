#pragma once
// Views of a summary made by Analyzer::summary() (docs/report.md): a self-contained HTML page and a
// one-screen text summary. Pure functions of the JSON; every string from the log is escaped for its
// output (HTML entities; control characters shown as U+FFFD in HTML and '?' in text, so a hostile
// host name cannot inject markup or terminal escape sequences).
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace consent::report {

// One HTML document, no external assets (inline CSS and SVG, no scripts).
[[nodiscard]] std::string render_html(const nlohmann::ordered_json& summary);
// At most ~25 lines of 100 columns.
[[nodiscard]] std::string render_text(const nlohmann::ordered_json& summary);

// &, <, >, ", ' as entities; C0 controls (but tab and newline) and DEL as U+FFFD.
[[nodiscard]] std::string html_escape(std::string_view s);

}  // namespace consent::report
