#include "tls/install_instructions.hpp"

namespace consent::tls {

std::string install_instructions(const std::string& cert_path, const std::string& name) {
  std::string t;
  t += "Trusting \"" + name + "\" lets consentgate judge HTTPS requests. Install it only on devices whose\n";
  t += "traffic goes through your own consentgate: whoever holds its key can read that traffic.\n\n";
  t += "Debian / Ubuntu (system store: curl, wget, most command-line tools)\n";
  t += "  sudo cp " + cert_path + " /usr/local/share/ca-certificates/consentgate-ca.crt\n";
  t += "  sudo update-ca-certificates\n";
  t += "  (remove: delete the file, then sudo update-ca-certificates --fresh)\n\n";
  t += "Chromium / Chrome on Linux (NSS database of the user; package libnss3-tools)\n";
  t += "  certutil -d sql:$HOME/.pki/nssdb -A -t \"C,,\" -n \"" + name + "\" -i " + cert_path + "\n\n";
  t += "Firefox (each profile has its own store)\n";
  t += "  Settings > Privacy & Security > Certificates > View Certificates > Authorities > Import,\n";
  t += "  choose " + cert_path + ", tick \"Trust this CA to identify websites\". Or, per profile:\n";
  t += "  certutil -d sql:$HOME/.mozilla/firefox/<profile> -A -t \"C,,\" -n \"" + name + "\" -i " + cert_path + "\n\n";
  t += "macOS\n";
  t += "  sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain " + cert_path + "\n\n";
  t += "Windows (PowerShell as administrator; use the DER file from `consentgate ca der`)\n";
  t += "  Import-Certificate -FilePath consentgate-ca.cer -CertStoreLocation Cert:\\LocalMachine\\Root\n";
  t += "  (or: certutil -addstore -f ROOT consentgate-ca.cer)\n";
  return t;
}

}  // namespace consent::tls
