#include "report/render.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

#include "report/analyzer.hpp"
#include "report/log_record.hpp"

namespace consent::report {

namespace {

using ojson = nlohmann::ordered_json;

std::string str(const ojson& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return {};
  return j.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

std::uint64_t num(const ojson& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

// Terminal-safe: no control characters (escape sequences) from the log reach the terminal.
std::string text_safe(std::string_view s, std::size_t max_chars = 60) {
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    out.push_back(c < 0x20 || c == 0x7F ? '?' : ch);
  }
  if (out.size() > max_chars) {
    out.resize(max_chars - 3);
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0U) == 0x80U) out.pop_back();  // UTF-8 cut
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0U) out.pop_back();
    out += "...";
  }
  return out;
}

std::string site_label(const std::string& site) { return site.empty() ? "(unknown site)" : site; }

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string lpad(const std::string& s, std::size_t width) {
  return s.size() < width ? std::string(width - s.size(), ' ') + s : s;
}

std::string_view kind_description(std::string_view kind) {
  if (kind == "tracker_before_consent") return "Tracker request before any consent signal for the site";
  if (kind == "set_cookie_before_consent") return "Set-Cookie of a non-exempt purpose without consent";
  if (kind == "withdrawn_cookie_sent") return "Cookie of a purpose withdrawn earlier still sent";
  if (kind == "audience_cookie_too_long") return "Exempt audience cookie living longer than 13 months";
  if (kind == "consent_cookie_too_long") return "Consent cookie living longer than 6 months";
  if (kind == "cname_cloaked_tracker") return "Tracker reached through a first-party subdomain (CNAME cloaking)";
  if (kind == "tracker_without_consent") return "Tracker request whose purpose the consent refuses";
  if (kind == "cookie_without_consent") return "Cookie of a purpose never granted sent to a tracker";
  return "";
}

}  // namespace

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (const char ch : s) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default: {
        const auto c = static_cast<unsigned char>(ch);
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F) {
          out += "\xEF\xBF\xBD";
        } else {
          out.push_back(ch);
        }
      }
    }
  }
  return out;
}

std::string render_text(const ojson& summary) {
  std::string out;
  const auto line = [&](const std::string& s) {
    out += s;
    out += '\n';
  };
  const auto& lines = summary.at("lines");
  const auto& totals = summary.at("totals");
  line("consentgate report: " + std::to_string(summary.at("inputs").size()) + " input(s), " +
       std::to_string(num(lines, "total")) + " lines (" + std::to_string(num(lines, "records")) + " records, " +
       std::to_string(num(lines, "malformed")) + " malformed, " + std::to_string(num(lines, "blank")) + " blank)");
  const auto& range = summary.at("time_range");
  if (!range.at("first").is_null()) {
    std::string modes;
    for (const auto& [mode, n] : summary.at("modes").items()) {
      modes += (modes.empty() ? "" : ", ") + text_safe(mode, 20) + " " + std::to_string(n.get<std::uint64_t>());
    }
    line("period: " + str(range.at("first")) + " .. " + str(range.at("last")) + "   modes: " + modes);
  }
  line("violations: " + std::to_string(num(totals, "violations")) +
       "   accepted by --allow: " + std::to_string(num(totals, "allowed")) +
       "   prevented by enforcement: " + std::to_string(num(totals, "prevented")));
  bool header = false;
  for (const auto& [kind, c] : summary.at("by_kind").items()) {
    if (num(c, "violations") + num(c, "allowed") + num(c, "prevented") == 0) continue;
    if (!header) {
      line("  " + pad("kind", 28) + lpad("violations", 11) + lpad("allowed", 9) + lpad("prevented", 11));
      header = true;
    }
    line("  " + pad(kind, 28) + lpad(std::to_string(num(c, "violations")), 11) +
         lpad(std::to_string(num(c, "allowed")), 9) + lpad(std::to_string(num(c, "prevented")), 11));
  }
  const auto& sites = summary.at("sites");
  std::size_t shown = 0;
  for (const auto& site : sites) {
    const auto& t = site.at("totals");
    if (num(t, "violations") == 0) break;  // sorted: violations first
    if (shown == 0) line("sites with violations:");
    if (shown == 5) {
      std::size_t rest = 0;
      for (const auto& s2 : sites) rest += num(s2.at("totals"), "violations") != 0 ? 1 : 0;
      line("  ... and " + std::to_string(rest - shown) + " more site(s)");
      break;
    }
    std::string detail;
    if (!site.at("by_host").empty()) {
      const auto& h = site.at("by_host").front();
      detail += "top host " + text_safe(str(h.at("host")), 40) + " (" + std::to_string(num(h, "violations")) + ")";
    }
    line("  " + pad(text_safe(site_label(str(site.at("site"))), 30), 30) +
         lpad(std::to_string(num(t, "violations")), 6) + " violation(s)  " + detail);
    ++shown;
  }
  if (num(lines, "malformed") != 0) {
    std::string by;
    for (const auto& [error, n] : summary.at("malformed").at("by_error").items()) {
      by += (by.empty() ? "" : ", ") + error + " " + std::to_string(n.get<std::uint64_t>());
    }
    std::string first;
    const auto& ex = summary.at("malformed").at("examples");
    if (!ex.empty()) {
      first = "; first at " + text_safe(str(ex.front().at("input")), 40) + ":" + str(ex.front().at("line"));
    }
    line("malformed lines: " + std::to_string(num(lines, "malformed")) + " (" + by + ")" + first);
  }
  for (const auto& rule : summary.at("allow_rules")) {
    const auto n = num(rule, "matched");
    line("allow " + text_safe(str(rule.at("rule")), 50) + ": matched " + std::to_string(n) +
         (n == 0 ? " (unused)" : ""));
  }
  std::string hits;
  for (const auto& [name, n] : summary.at("limits").at("hit").items()) {
    if (n.get<std::uint64_t>() != 0)
      hits += (hits.empty() ? "" : ", ") + name + " " + std::to_string(n.get<std::uint64_t>());
  }
  if (!hits.empty()) line("limits hit (counted under \"(other)\" or dropped): " + hits);
  const auto v = num(totals, "violations");
  line(v == 0 ? "result: PASS (no violations)" : "result: FAIL (" + std::to_string(v) + " violation(s))");
  return out;
}

namespace {

constexpr std::string_view css =
    R"(body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:1em 1.5em}h1{margin:.2em 0}h2{margin-top:2em;border-bottom:2px solid #ddd}
table{border-collapse:collapse;margin:.6em 0 1.2em;width:100%;background:#fff}th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums}.bad{color:#b3261e;font-weight:600}.ok{color:#1e7a34;font-weight:600}
.badge{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff}.badge.bad{background:#b3261e}.badge.ok{background:#1e7a34}
code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px;word-break:break-all}
section.site{background:#fff;border:1px solid #ddd;border-radius:6px;padding:0 1em 1em;margin:1.5em 0}
.legend span{display:inline-block;margin-right:1em}.sw{display:inline-block;width:10px;height:10px;margin-right:4px}
.muted{color:#777})";

struct Series {
  const char* key;
  const char* label;
  const char* color;
};
constexpr Series series[] = {{"violations", "violations", "#c0392b"},
                             {"allowed", "accepted (--allow)", "#e67e22"},
                             {"prevented", "prevented", "#2980b9"},
                             {"permitted", "permitted by policy", "#b0b7bb"}};

std::string fmt_double(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string svg_chart(const ojson& site) {
  const auto& activity = site.at("activity");
  const auto& buckets = activity.at("buckets");
  if (buckets.empty() || activity.at("start").is_null()) return "<p class=\"muted\">No tracker activity.</p>\n";
  const auto start = parse_rfc3339_ms(str(activity.at("start"))).value_or(0);
  const auto width_ms = static_cast<double>(num(activity, "bucket_ms"));
  const double x0 = 50, y0 = 10, pw = 660, ph = 110;
  const double bw = pw / static_cast<double>(buckets.size());
  std::uint64_t max_total = 1;
  for (const auto& b : buckets) {
    std::uint64_t t = 0;
    for (const auto& s : series) t += num(b, s.key);
    max_total = std::max(max_total, t);
  }
  std::string out =
      "<svg width=\"720\" height=\"160\" viewBox=\"0 0 720 160\" "
      "role=\"img\" aria-label=\"tracker activity over time\">\n";
  out += "<rect x=\"" + fmt_double(x0) + "\" y=\"" + fmt_double(y0) + "\" width=\"" + fmt_double(pw) + "\" height=\"" +
         fmt_double(ph) + "\" fill=\"#fff\" stroke=\"#ccc\"/>\n";
  out += "<text x=\"45\" y=\"20\" font-size=\"10\" text-anchor=\"end\">" + std::to_string(max_total) + "</text>\n";
  out += "<text x=\"45\" y=\"120\" font-size=\"10\" text-anchor=\"end\">0</text>\n";
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    const auto& b = buckets[i];
    double y = y0 + ph;
    const auto t0 = start + static_cast<std::int64_t>(static_cast<double>(i) * width_ms);
    std::string tip = format_rfc3339_ms(t0) + ":";
    for (const auto& s : series) tip += std::string(" ") + s.label + " " + std::to_string(num(b, s.key)) + ";";
    for (const auto& s : series) {
      const auto n = num(b, s.key);
      if (n == 0) continue;
      const double h = ph * static_cast<double>(n) / static_cast<double>(max_total);
      y -= h;
      out += "<rect x=\"" + fmt_double(x0 + bw * static_cast<double>(i) + 0.5) + "\" y=\"" + fmt_double(y) +
             "\" width=\"" + fmt_double(std::max(bw - 1, 0.5)) + "\" height=\"" + fmt_double(h) + "\" fill=\"" +
             s.color + "\"><title>" + html_escape(tip) + "</title></rect>\n";
    }
  }
  const double span = width_ms * static_cast<double>(buckets.size());
  for (const auto& ev : site.at("consent_events")) {
    const auto t = parse_rfc3339_ms(str(ev.at("time")));
    if (!t) continue;
    const double x = x0 + pw * std::clamp(static_cast<double>(*t - start) / span, 0.0, 1.0);
    const bool granted = !ev.at("granted").empty();
    std::string tip = str(ev.at("time")) + " consent " + str(ev.at("consent"));
    if (granted) tip += ", granted: " + str(ev.at("granted"));
    if (!ev.at("withdrawn").empty()) tip += ", withdrawn: " + str(ev.at("withdrawn"));
    out += "<line x1=\"" + fmt_double(x) + "\" x2=\"" + fmt_double(x) + "\" y1=\"" + fmt_double(y0) + "\" y2=\"" +
           fmt_double(y0 + ph) + "\" stroke=\"" + (granted ? "#1e7a34" : "#555") +
           "\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"><title>" + html_escape(tip) + "</title></line>\n";
  }
  const auto end = start + static_cast<std::int64_t>(span);
  out += "<text x=\"50\" y=\"135\" font-size=\"10\">" + html_escape(format_rfc3339_ms(start)) + "</text>\n";
  out += "<text x=\"710\" y=\"135\" font-size=\"10\" text-anchor=\"end\">" + html_escape(format_rfc3339_ms(end)) +
         "</text>\n";
  double lx = 50;
  for (const auto& s : series) {
    out += "<rect x=\"" + fmt_double(lx) + "\" y=\"145\" width=\"10\" height=\"10\" fill=\"" + s.color + "\"/>";
    out += "<text x=\"" + fmt_double(lx + 14) + "\" y=\"154\" font-size=\"10\">" + s.label + "</text>\n";
    lx += 150;
  }
  out +=
      "<line x1=\"650\" x2=\"650\" y1=\"144\" y2=\"156\" stroke=\"#1e7a34\" stroke-dasharray=\"4 3\"/>"
      "<text x=\"655\" y=\"154\" font-size=\"10\">consent</text>\n</svg>\n";
  return out;
}

std::string td(const std::string& s, const char* cls = nullptr) {
  return cls != nullptr ? "<td class=\"" + std::string(cls) + "\">" + html_escape(s) + "</td>"
                        : "<td>" + html_escape(s) + "</td>";
}
std::string tdn(std::uint64_t n, bool bad = false) {
  return std::string("<td class=\"n") + (bad && n != 0 ? " bad" : "") + "\">" + std::to_string(n) + "</td>";
}
std::string join(const ojson& arr) {
  std::string out;
  for (const auto& v : arr) out += (out.empty() ? "" : ", ") + str(v);
  return out;
}

}  // namespace

std::string render_html(const ojson& summary) {
  const auto& totals = summary.at("totals");
  const auto& lines = summary.at("lines");
  const auto violations = num(totals, "violations");
  std::string h;
  h.reserve(64 * 1024);
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
       "<title>consentgate report</title>\n<style>\n";
  h += css;
  h += "\n</style>\n</head>\n<body>\n<main>\n<h1>consentgate report</h1>\n<p>";
  h += violations == 0 ? "<span class=\"badge ok\">PASS</span> no violations"
                       : "<span class=\"badge bad\">FAIL</span> " + std::to_string(violations) + " violation(s)";
  h += " &middot; " + std::to_string(num(totals, "allowed")) + " accepted by --allow &middot; " +
       std::to_string(num(totals, "prevented")) + " prevented by enforcement</p>\n<p class=\"muted\">";
  std::string inputs;
  for (const auto& in : summary.at("inputs")) inputs += (inputs.empty() ? "" : ", ") + str(in.at("name"));
  h += html_escape(std::to_string(summary.at("inputs").size()) + " input(s): " + inputs) + " &middot; " +
       std::to_string(num(lines, "total")) + " lines, " + std::to_string(num(lines, "records")) + " records, " +
       std::to_string(num(lines, "malformed")) + " malformed";
  const auto& range = summary.at("time_range");
  if (!range.at("first").is_null()) {
    h += " &middot; " + html_escape(str(range.at("first"))) + " to " + html_escape(str(range.at("last")));
  }
  h += "</p>\n";

  h += "<h2>Violations by kind</h2>\n<table>\n<tr><th>kind</th><th>what it means</th><th>violations</th>"
       "<th>accepted</th><th>prevented</th></tr>\n";
  for (const auto& [kind, c] : summary.at("by_kind").items()) {
    h += "<tr><td><code>" + html_escape(kind) + "</code></td>" + td(std::string(kind_description(kind))) +
         tdn(num(c, "violations"), true) + tdn(num(c, "allowed")) + tdn(num(c, "prevented")) + "</tr>\n";
  }
  h += "</table>\n";

  const auto& sites = summary.at("sites");
  constexpr std::size_t max_site_sections = 100;  // the overview lists every site; details for the worst ones
  h += "<h2>Sites</h2>\n<table>\n<tr><th>site</th><th>records</th><th>tracker requests</th><th>violations</th>"
       "<th>accepted</th><th>prevented</th><th>first consent</th><th>first violation</th></tr>\n";
  for (std::size_t i = 0; i < sites.size(); ++i) {
    const auto& s = sites[i];
    const auto& t = s.at("totals");
    const std::string label = html_escape(site_label(str(s.at("site"))));
    h += "<tr><td>" +
         (i < max_site_sections ? "<a href=\"#site-" + std::to_string(i) + "\">" + label + "</a>" : label) + "</td>" +
         tdn(num(s, "records")) + tdn(num(s, "tracker_requests")) + tdn(num(t, "violations"), true) +
         tdn(num(t, "allowed")) + tdn(num(t, "prevented")) + td(str(s.at("first_consent"))) +
         td(str(s.at("first_violation"))) + "</tr>\n";
  }
  h += "</table>\n";

  for (std::size_t i = 0; i < sites.size() && i < max_site_sections; ++i) {
    const auto& s = sites[i];
    const auto& t = s.at("totals");
    h += "<section class=\"site\" id=\"site-" + std::to_string(i) + "\">\n<h2>" +
         html_escape(site_label(str(s.at("site")))) + "</h2>\n<p>";
    h += std::to_string(num(t, "violations")) + " violation(s), " + std::to_string(num(t, "allowed")) + " accepted, " +
         std::to_string(num(t, "prevented")) + " prevented; " + std::to_string(num(s, "tracker_requests")) +
         " tracker request(s) in " + std::to_string(num(s, "records")) + " record(s). First consent: " +
         html_escape(s.at("first_consent").is_null() ? "never" : str(s.at("first_consent"))) + ".</p>\n";
    h += "<h3>Timeline: tracker activity and consent</h3>\n" + svg_chart(s);

    h += "<h3>Consent state</h3>\n";
    const auto& events = s.at("consent_events");
    if (events.empty()) {
      h += "<p class=\"muted\">No consent state recorded.</p>\n";
    } else {
      h += "<table>\n<tr><th>time</th><th>client</th><th>consent</th><th>granted</th><th>withdrawn</th></tr>\n";
      for (const auto& ev : events) {
        h += "<tr>" + td(str(ev.at("time")), "mono") + td(str(ev.at("client"))) + td(str(ev.at("consent"))) +
             td(join(ev.at("granted"))) + td(join(ev.at("withdrawn")), "bad") + "</tr>\n";
      }
      h += "</table>\n";
      if (num(s, "consent_events_dropped") != 0) {
        h += "<p class=\"muted\">" + std::to_string(num(s, "consent_events_dropped")) +
             " later change(s) not shown.</p>\n";
      }
    }
    const auto counts_table = [&](const char* title, const char* key, const char* column) {
      h += std::string("<h3>") + title + "</h3>\n";
      const auto& rows = s.at(key);
      if (rows.empty()) {
        h += "<p class=\"muted\">None.</p>\n";
        return;
      }
      h += std::string("<table>\n<tr><th>") + column +
           "</th><th>requests</th><th>violations</th><th>accepted</th><th>prevented</th>" +
           (std::string_view(key) == "by_host" ? "<th>kinds</th>" : "") + "</tr>\n";
      for (const auto& r : rows) {
        h += "<tr>" + td(str(r.at(column)), "mono") + tdn(num(r, "requests")) + tdn(num(r, "violations"), true) +
             tdn(num(r, "allowed")) + tdn(num(r, "prevented"));
        if (r.contains("kinds")) h += td(join(r.at("kinds")));
        h += "</tr>\n";
      }
      h += "</table>\n";
    };
    counts_table("By purpose", "by_purpose", "purpose");
    counts_table("By host", "by_host", "host");

    const auto& examples = s.at("examples");
    if (!examples.empty()) {
      h += "<h3>Violations (first " + std::to_string(examples.size()) +
           ")</h3>\n<table>\n<tr><th>time</th><th>kind</th>"
           "<th>outcome</th><th>action</th><th>host and path</th><th>purpose</th><th>rule / reason</th>"
           "<th>cookies</th><th>where</th></tr>\n";
      for (const auto& ex : examples) {
        std::string outcome = str(ex.at("outcome"));
        if (!ex.at("allow_rule").is_null()) outcome += " by " + str(ex.at("allow_rule"));
        std::string cookies = join(ex.at("cookies"));
        if (!ex.at("max_age").is_null()) cookies += " (max-age " + str(ex.at("max_age")) + " s)";
        h += "<tr>" + td(str(ex.at("time")), "mono") + td(str(ex.at("kind")), "mono") +
             td(outcome, outcome == "violation" ? "bad" : nullptr) + td(str(ex.at("action"))) +
             td(str(ex.at("host")) + str(ex.at("path")), "mono") + td(str(ex.at("purpose"))) +
             td(str(ex.at("rule")) + " / " + str(ex.at("reason")), "mono") + td(cookies, "mono") +
             td(str(ex.at("input")) + ":" + str(ex.at("line")), "mono") + "</tr>\n";
      }
      h += "</table>\n";
      if (num(s, "examples_dropped") != 0) {
        h += "<p class=\"muted\">" + std::to_string(num(s, "examples_dropped")) + " more not shown.</p>\n";
      }
    }
    h += "</section>\n";
  }
  if (sites.size() > max_site_sections) {
    h += "<p class=\"muted\">Details are shown for the first " + std::to_string(max_site_sections) +
         " sites; the JSON summary has all.</p>\n";
  }

  const auto& allow = summary.at("allow_rules");
  if (!allow.empty()) {
    h += "<h2>Accepted exceptions (--allow)</h2>\n<table>\n<tr><th>rule</th><th>matched</th></tr>\n";
    for (const auto& r : allow) h += "<tr>" + td(str(r.at("rule")), "mono") + tdn(num(r, "matched")) + "</tr>\n";
    h += "</table>\n";
  }
  if (num(lines, "malformed") != 0) {
    h += "<h2>Malformed lines</h2>\n<table>\n<tr><th>input</th><th>line</th><th>error</th></tr>\n";
    for (const auto& m : summary.at("malformed").at("examples")) {
      h += "<tr>" + td(str(m.at("input")), "mono") + tdn(num(m, "line")) + td(str(m.at("error"))) + "</tr>\n";
    }
    h += "</table>\n";
  }
  h += "<p class=\"muted\">consentgate report, summary schema version " + str(summary.at("schema_version")) +
       ". Derivation of each kind: docs/report.md.</p>\n</main>\n</body>\n</html>\n";
  return h;
}

}  // namespace consent::report
