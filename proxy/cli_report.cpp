// `consentgate report LOG... [--json FILE] [--html FILE] [--allow RULE]... [--quiet]` (issue 7):
// summarises decision logs. Exit status: 0 no violations, 1 violations (a CI gate), 2 usage or I/O error.
// The analysis lives in report/ (pure); this file only opens files and maps results to exit codes.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "proxy/cli.hpp"
#include "report/analyzer.hpp"
#include "report/render.hpp"

namespace consent::proxy::cli {

namespace {

constexpr int exit_violations = 1;
constexpr int exit_usage = 2;

struct ReportArgs {
  std::vector<std::string> logs;
  std::string json_path;
  std::string html_path;
  std::vector<std::string> allow;
  bool quiet = false;
  std::int64_t audience_max_age_seconds = report::Options{}.audience_max_age_seconds;
  std::int64_t consent_max_age_seconds = report::Options{}.consent_max_age_seconds;
};

int fail(const std::string& message) {
  std::cerr << "consentgate report: " << message << '\n';
  return exit_usage;
}

// Writes `text` to `path` ("-" = stdout); false with a message on stderr on failure.
bool write_output(const std::string& path, const std::string& text, const char* what) {
  if (path == "-") {
    std::cout << text << std::flush;
    return static_cast<bool>(std::cout);
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out << text;
  if (out) out.close();
  if (!out) {
    std::cerr << "consentgate report: cannot write " << what << " to " << path << ": " << std::strerror(errno) << '\n';
    return false;
  }
  return true;
}

int run_report(const ReportArgs& args, const std::vector<std::string>& extras) {
  if (!extras.empty()) return fail("unexpected argument \"" + extras.front() + "\" (see consentgate report --help)");
  if (args.logs.empty()) return fail("no decision log given (a path, or - for stdin)");
  if (std::count(args.logs.begin(), args.logs.end(), "-") > 1) return fail("stdin (-) can be read only once");
  if (args.json_path == "-" && args.html_path == "-") return fail("--json - and --html - cannot both use stdout");
  if (args.audience_max_age_seconds < 0 || args.consent_max_age_seconds < 0)
    return fail("a max age cannot be negative");
  report::Options options;
  options.audience_max_age_seconds = args.audience_max_age_seconds;
  options.consent_max_age_seconds = args.consent_max_age_seconds;
  for (const auto& text : args.allow) {
    std::string error;
    auto rule = report::parse_allow_rule(text, error);
    if (!rule) return fail(error);
    options.allow.push_back(std::move(*rule));
  }
  // Every input is checked before any is read, so a typo in the last path costs no long run.
  for (const auto& path : args.logs) {
    if (path == "-") continue;
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return fail("cannot read " + path + ": Is a directory");
    std::ifstream probe(path, std::ios::binary);
    if (!probe) return fail("cannot open " + path + ": " + std::strerror(errno));
  }

  report::Analyzer analyzer(std::move(options));
  for (const auto& path : args.logs) {
    bool ok = false;
    if (path == "-") {
      ok = report::analyze_stream(analyzer, std::cin, "-");
    } else {
      std::ifstream in(path, std::ios::binary);
      if (!in) return fail("cannot open " + path + ": " + std::strerror(errno));
      ok = report::analyze_stream(analyzer, in, path);
    }
    if (!ok) return fail("read error on " + path);
  }

  const auto summary = analyzer.summary();
  bool ok = true;
  if (!args.json_path.empty()) {
    ok = write_output(args.json_path,
                      summary.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n",
                      "the JSON summary") &&
         ok;
  }
  if (!args.html_path.empty()) ok = write_output(args.html_path, report::render_html(summary), "the HTML report") && ok;
  if (!args.quiet) {
    // stdout may carry the JSON or the HTML; the text summary then goes to stderr.
    const bool stdout_taken = args.json_path == "-" || args.html_path == "-";
    (stdout_taken ? std::cerr : std::cout) << report::render_text(summary) << std::flush;
  }
  if (!ok) return exit_usage;
  return analyzer.violations() != 0 ? exit_violations : 0;
}

}  // namespace

void add_report(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand("report", "summarise decision logs (JSON, HTML, text); exit 1 on violations");
  cmd->add_option("logs", args->logs, "decision logs, one JSON object per line ('-' = stdin)");
  cmd->add_option("--json", args->json_path, "write the JSON summary (docs/report.md) to FILE ('-' = stdout)");
  cmd->add_option("--html", args->html_path, "write a self-contained HTML report to FILE ('-' = stdout)");
  cmd->add_option("--allow", args->allow,
                  "accepted exception, KEY=GLOB[,KEY=GLOB]... with keys kind, site, host, purpose, rule, reason, "
                  "cookie (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--quiet,-q", args->quiet, "no text summary");
  cmd->add_option("--audience-max-age", args->audience_max_age_seconds,
                  "seconds an exempt audience cookie may live (default 395 days, 13 months)");
  cmd->add_option("--consent-max-age", args->consent_max_age_seconds,
                  "seconds a consent cookie may live (default 183 days, 6 months)");
  // Unknown options are collected and reported by us, so that usage errors exit with 2.
  cmd->allow_extras();
  cmd->callback([args, cmd, &exit_code] { exit_code = run_report(*args, cmd->remaining()); });
}

}  // namespace consent::proxy::cli
