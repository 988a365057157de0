// `consentgate ca`: where the interception CA lives, its certificate in PEM or DER, and how to trust it.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "proxy/cli.hpp"
#include "tls/certificate_authority.hpp"
#include "tls/install_instructions.hpp"

namespace consent::proxy::cli {
namespace {

struct CaOptions {
  std::string data_dir;
  std::string out;
};

// Loads (or creates, on first use, exactly as `run` would) the CA in the data directory.
tls::CaResult open_ca(const CaOptions& opt) {
  const auto dir = opt.data_dir.empty() ? tls::default_data_dir() : std::filesystem::path(opt.data_dir);
  auto r = tls::CertificateAuthority::load_or_create(dir);
  if (!r.ca) std::cerr << "consentgate: " << r.error << '\n';
  if (r.created) std::cerr << "consentgate: created a new CA in " << dir.string() << '\n';
  return r;
}

int write_output(const std::string& out, const void* data, std::size_t size) {
  if (out.empty() || out == "-") {
    std::fwrite(data, 1, size, stdout);
    return std::ferror(stdout) ? 1 : 0;
  }
  std::ofstream f(out, std::ios::binary);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!f) {
    std::cerr << "consentgate: cannot write " << out << '\n';
    return 1;
  }
  return 0;
}

}  // namespace

void add_ca(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<CaOptions>();
  auto* ca = app.add_subcommand("ca", "the interception CA: path, PEM, DER, install instructions");
  ca->require_subcommand(1);
  ca->add_option("--data-dir", opt->data_dir, "where the CA lives (default $XDG_DATA_HOME/consentgate)");

  ca->add_subcommand("path", "print the path of the CA certificate (PEM)")->callback([opt, &exit_code] {
    auto r = open_ca(*opt);
    if (!r.ca) {
      exit_code = 1;
      return;
    }
    std::cout << r.ca->cert_path().string() << '\n';
  });
  auto* pem = ca->add_subcommand("pem", "print the CA certificate in PEM");
  pem->add_option("-o,--out", opt->out, "write to FILE instead of stdout");
  pem->callback([opt, &exit_code] {
    auto r = open_ca(*opt);
    if (!r.ca) {
      exit_code = 1;
      return;
    }
    const std::string text = r.ca->pem();
    exit_code = write_output(opt->out, text.data(), text.size());
  });
  auto* der = ca->add_subcommand("der", "export the CA certificate in DER (for Windows, Android)");
  der->add_option("-o,--out", opt->out, "write to FILE (default stdout)");
  der->callback([opt, &exit_code] {
    auto r = open_ca(*opt);
    if (!r.ca) {
      exit_code = 1;
      return;
    }
    const auto bytes = r.ca->der();
    exit_code = write_output(opt->out, bytes.data(), bytes.size());
  });
  ca->add_subcommand("install-help", "how to trust the CA on Debian/Ubuntu, Firefox/Chromium, macOS, Windows")
      ->callback([opt, &exit_code] {
        auto r = open_ca(*opt);
        if (!r.ca) {
          exit_code = 1;
          return;
        }
        std::cout << "CA: " << r.ca->subject_name() << "\nSHA-256 fingerprint: " << r.ca->sha256_fingerprint() << "\n\n"
                  << tls::install_instructions(r.ca->cert_path().string(), r.ca->subject_name());
      });
}

}  // namespace consent::proxy::cli
