#include "proxy/first_party.hpp"

#include <catch2/catch.hpp>
#include <string>

using consent::policy::FetchDest;
using consent::proxy::first_party_of;
using consent::proxy::FirstPartyInputs;
using consent::proxy::SiteSource;

namespace {

FirstPartyInputs browser(std::string_view host, std::string_view mode, std::string_view dest) {
  FirstPartyInputs in;
  in.method = "GET";
  in.host = host;
  in.path = "/";
  in.sec_fetch_mode = mode;
  in.sec_fetch_dest = dest;
  in.sec_fetch_site = "cross-site";
  return in;
}

}  // namespace

TEST_CASE("a top-level navigation is its own first party", "[proxy]") {
  auto in = browser("www.news.example.co.uk", "navigate", "document");
  in.referer = "https://search.example/?q=x";
  const auto fp = first_party_of(in);
  CHECK(fp.site == "example.co.uk");
  CHECK(fp.source == SiteSource::navigation);
  CHECK(fp.is_navigation);
  CHECK(fp.dest == FetchDest::document);
  CHECK(fp.has_referer);
  // Safari before 16.4 sent only the mode.
  CHECK(first_party_of(browser("a.shop.example", "navigate", "")).site == "shop.example");
}

TEST_CASE("a document fetched with fetch() is not a navigation", "[proxy]") {
  auto in = browser("tracker.example", "cors", "document");
  in.origin = "https://news.example";
  const auto fp = first_party_of(in);
  CHECK_FALSE(fp.is_navigation);
  CHECK(fp.site == "news.example");
  CHECK(fp.source == SiteSource::origin);
}

TEST_CASE("an iframe's site is its parent, known from Origin or Referer", "[proxy]") {
  auto in = browser("ads.tracker.example", "navigate", "iframe");
  in.referer = "https://www.news.example/article/1?x=y";
  auto fp = first_party_of(in);
  CHECK_FALSE(fp.is_navigation);
  CHECK(fp.site == "news.example");
  CHECK(fp.source == SiteSource::referer);
  CHECK(fp.dest == FetchDest::iframe);
  in.referer = {};
  fp = first_party_of(in);
  CHECK(fp.site.empty());
  CHECK(fp.source == SiteSource::unknown);
}

TEST_CASE("subresources take Origin first, then Referer", "[proxy]") {
  auto in = browser("www.google-analytics.com", "no-cors", "script");
  in.origin = "https://shop.example:8443";
  in.referer = "https://other.example/";
  auto fp = first_party_of(in);
  CHECK(fp.site == "shop.example");
  CHECK(fp.source == SiteSource::origin);
  CHECK(fp.dest == FetchDest::script);
  in.origin = "null";  // opaque origin: fall back to Referer
  fp = first_party_of(in);
  CHECK(fp.site == "other.example");
  CHECK(fp.source == SiteSource::referer);
  in.origin = "chrome-extension://abcdef";
  CHECK(first_party_of(in).site == "other.example");
}

TEST_CASE("unusable Origin and Referer values give an unknown site", "[proxy]") {
  auto in = browser("t.example", "no-cors", "image");
  for (const std::string_view bad :
       {"", "null", "ftp://a.example/", "https://", "https:///x", "https://[::1", "https://exa mple.com/",
        "about:blank", "https://a..example/", "\xff\xfe", "https://a.example:99999/"}) {
    INFO(bad);
    in.origin = bad;
    in.referer = bad;
    const auto fp = first_party_of(in);
    CHECK(fp.site.empty());
    CHECK(fp.source == SiteSource::unknown);
  }
}

TEST_CASE("Referer hosts are normalised: case, trailing dot, userinfo, ports, IP literals", "[proxy]") {
  auto in = browser("t.example", "no-cors", "image");
  in.referer = "HTTPS://User:Pw@WWW.News.Example.:443/path";
  CHECK(first_party_of(in).site == "news.example");
  in.referer = "http://[2001:DB8::1]:8080/x";
  CHECK(first_party_of(in).site == "2001:db8::1");
  in.referer = "http://192.0.2.1/";
  CHECK(first_party_of(in).site == "192.0.2.1");
  in.referer = "https://evil.example#@news.example/";
  CHECK(first_party_of(in).site == "evil.example");
  in.referer = "https://news.example\\@evil.example/";
  CHECK(first_party_of(in).site == "news.example");  // WHATWG: '\' ends the authority of an http(s) URL
}

TEST_CASE("legacy clients without Sec-Fetch headers", "[proxy]") {
  FirstPartyInputs in;
  in.method = "GET";
  in.host = "www.news.example";
  in.path = "/";
  in.accept = "text/html,application/xhtml+xml;q=0.9";
  auto fp = first_party_of(in);
  CHECK(fp.is_navigation);
  CHECK(fp.site == "news.example");
  in.method = "POST";  // a form post is judged by its Referer/Origin
  in.referer = "https://form.example/";
  CHECK(first_party_of(in).site == "form.example");
  // A mail client fetching a pixel: no Referer, no Origin, no site.
  in = {};
  in.method = "GET";
  in.host = "pixel.mailer.example";
  in.path = "/open.gif?u=1";
  in.accept = "image/*";
  fp = first_party_of(in);
  CHECK(fp.site.empty());
  CHECK_FALSE(fp.has_referer);
  CHECK(fp.dest == FetchDest::image);
}

TEST_CASE("FetchDest comes from Sec-Fetch-Dest, then Accept, then the extension", "[proxy]") {
  using consent::proxy::fetch_dest_of;
  CHECK(fetch_dest_of("image", "text/html", "/a.js") == FetchDest::image);
  CHECK(fetch_dest_of("IFRAME", "", "") == FetchDest::iframe);
  CHECK(fetch_dest_of("empty", "", "") == FetchDest::xhr);
  CHECK(fetch_dest_of("report", "", "") == FetchDest::xhr);
  CHECK(fetch_dest_of("font", "", "") == FetchDest::other);
  CHECK(fetch_dest_of("serviceworker", "", "") == FetchDest::script);
  CHECK(fetch_dest_of("no-such-dest", "text/css", "") == FetchDest::style);
  CHECK(fetch_dest_of("", "image/avif,image/webp,*/*", "/x") == FetchDest::image);
  CHECK(fetch_dest_of("", "application/javascript", "/x") == FetchDest::script);
  CHECK(fetch_dest_of("", "*/*", "/js/gtag.JS?id=1") == FetchDest::script);
  CHECK(fetch_dest_of("", "*/*", "/pixel.gif#x") == FetchDest::image);
  CHECK(fetch_dest_of("", "*/*", "/s/site.css") == FetchDest::style);
  CHECK(fetch_dest_of("", "*/*", "/index.html") == FetchDest::document);
  CHECK(fetch_dest_of("", "*/*", "/collect") == FetchDest::unknown);
  CHECK(fetch_dest_of("", "*/*", "/a.js/collect") == FetchDest::unknown);
  CHECK(fetch_dest_of("", "*/*", "/collect?f=a.js") == FetchDest::unknown);
  CHECK(fetch_dest_of("", "", "") == FetchDest::unknown);
}

TEST_CASE("host_of_url extracts only http(s) hosts", "[proxy]") {
  using consent::proxy::host_of_url;
  CHECK(host_of_url("https://a.example") == "a.example");
  CHECK(host_of_url("http://a.example:80?x") == "a.example");
  CHECK(host_of_url("https://a.example/p:q@r") == "a.example");
  CHECK(host_of_url("wss://a.example/").empty());
  CHECK(host_of_url("https://[::1]x/").empty());
  CHECK(host_of_url("").empty());
}

TEST_CASE("Sec-Fetch-Site same-site stands in for a missing Origin and Referer", "[proxy]") {
  auto in = browser("metrics.news.example", "no-cors", "script");
  in.sec_fetch_site = "same-site";
  auto fp = first_party_of(in);
  CHECK(fp.site == "news.example");
  CHECK(fp.source == SiteSource::sec_fetch_site);
  in.sec_fetch_site = "same-origin";
  CHECK(first_party_of(in).site == "news.example");
  in.sec_fetch_site = "cross-site";
  CHECK(first_party_of(in).site.empty());
  in.sec_fetch_site = "none";
  CHECK(first_party_of(in).site.empty());
  in.sec_fetch_site = "same-site";
  in.referer = "https://other.example/";  // Referer is more precise and wins
  CHECK(first_party_of(in).source == SiteSource::referer);
  CHECK(consent::proxy::to_string(SiteSource::sec_fetch_site) == "sec_fetch_site");
}

TEST_CASE("huge and repeated header values do not confuse the first party", "[proxy]") {
  auto in = browser("t.example", "no-cors", "image");
  const std::string huge = "https://" + std::string(100'000, 'a') + ".example/";
  in.origin = huge;
  in.referer = huge;
  CHECK(first_party_of(in).site.empty());
  in.origin = "https://a.example, https://b.example";  // a list (two Origin lines joined) is not an origin
  in.referer = {};
  CHECK(first_party_of(in).site.empty());
  const std::string long_dest(10'000, 'x');
  const std::string long_accept(10'000, ',');
  const std::string long_path(10'000, '.');
  in.sec_fetch_dest = long_dest;
  in.accept = long_accept;
  in.path = long_path;
  CHECK(first_party_of(in).dest == FetchDest::unknown);
}
