// Head parsing and writing figures for the codec (informative, not pass/fail). A proxy parses one request head
// and one response head per exchange and writes one of each: these four numbers bound the codec's share of an
// exchange.
#include "proxy/http_parser.hpp"
#include "proxy/http_writer.hpp"

#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

namespace {

using namespace consent::proxy;

constexpr std::string_view browser_request =
    "GET http://www.tracker.example/collect?v=1&tid=UA-1&cid=555&t=pageview&dp=%2Fhome HTTP/1.1\r\n"
    "Host: www.tracker.example\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0\r\n"
    "Accept: image/avif,image/webp,*/*\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Referer: https://news.example/article/2023/10/some-long-slug-of-an-article\r\n"
    "Cookie: _ga=GA1.2.1234567890.1690000000; _gid=GA1.2.987654321.1690000000; "
    "euconsent-v2=CPzXXXXPzXXXXAGABCENDRCsAP_AAH_AAAqIHWtf_X_fb39j-_59_9t0eY1f9_7_v-0zjhfdl-8N2f_X_L8X_"
    "2M7vF36pq4KuR4Eu3LBAQdlHOHcTQmw6okVryPsbk2cr7NKJ7PEmnMbO2dYGH9_n93T-ZKY7_____77__-____3_____-_f___5_3____f_V__"
    "97fn9_____9_P___9v__9__________3___gAAA\r\n"
    "Sec-Fetch-Dest: image\r\n"
    "Sec-Fetch-Mode: no-cors\r\n"
    "Sec-Fetch-Site: cross-site\r\n"
    "Proxy-Connection: keep-alive\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

constexpr std::string_view origin_response =
    "HTTP/1.1 200 OK\r\n"
    "Date: Sun, 22 Nov 2026 13:00:00 GMT\r\n"
    "Content-Type: image/gif\r\n"
    "Content-Length: 43\r\n"
    "Cache-Control: no-cache, no-store, must-revalidate\r\n"
    "Set-Cookie: _tid=abcdef0123456789; Domain=.tracker.example; Path=/; Max-Age=63072000; Secure; SameSite=None\r\n"
    "Server: origin\r\n"
    "\r\n";

void parse_request_head(benchmark::State& state) {
  RequestParser parser{consent::config::Limits{}};
  for (auto _ : state) {
    auto step = parser.feed(browser_request);
    benchmark::DoNotOptimize(step);
    step = parser.feed({});  // message_complete
    parser.reset();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * browser_request.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(parse_request_head);

void parse_request_head_moved_out(benchmark::State& state) {
  // What a session does: the head is moved into the exchange, so the parser's buffers are allocated again.
  RequestParser parser{consent::config::Limits{}};
  for (auto _ : state) {
    auto step = parser.feed(browser_request);
    RequestHead head = std::move(parser.head());
    benchmark::DoNotOptimize(head);
    step = parser.feed({});
    parser.reset();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(parse_request_head_moved_out);

void parse_request_split_in_three(benchmark::State& state) {
  RequestParser parser{consent::config::Limits{}};
  const auto a = browser_request.substr(0, 100);
  const auto b = browser_request.substr(100, 300);
  const auto c = browser_request.substr(400);
  for (auto _ : state) {
    benchmark::DoNotOptimize(parser.feed(a));
    benchmark::DoNotOptimize(parser.feed(b));
    benchmark::DoNotOptimize(parser.feed(c));
    benchmark::DoNotOptimize(parser.feed({}));
    parser.reset();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(parse_request_split_in_three);

void parse_response_head_and_body(benchmark::State& state) {
  std::string wire(origin_response);
  wire.append(43, 'G');
  ResponseParser parser{consent::config::Limits{}};
  for (auto _ : state) {
    parser.reset(Method::get);
    std::string_view rest = wire;
    for (;;) {
      const auto step = parser.feed(rest);
      rest.remove_prefix(step.consumed);
      if (step.event == ParseEvent::message_complete || step.event == ParseEvent::error) break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(parse_response_head_and_body);

void write_upstream_request(benchmark::State& state) {
  RequestParser parser{consent::config::Limits{}};
  (void)parser.feed(browser_request);
  const RequestHead& head = parser.head();
  std::string out;
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(write_upstream_request_head(head, upstream_options_for(head), out));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(write_upstream_request);

void write_client_response(benchmark::State& state) {
  ResponseParser parser{consent::config::Limits{}};
  parser.reset(Method::get);
  (void)parser.feed(origin_response);
  const ResponseHead& head = parser.head();
  std::string out;
  for (auto _ : state) {
    out.clear();
    write_client_response_head(head, client_options_for(head, Method::get, 11, true), out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(write_client_response);

void raw_llhttp_request_head(benchmark::State& state) {
  // Baseline: llhttp alone, no callbacks, no copies.
  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  llhttp_t p;
  llhttp_init(&p, HTTP_REQUEST, &settings);
  for (auto _ : state) {
    benchmark::DoNotOptimize(llhttp_execute(&p, browser_request.data(), browser_request.size()));
    llhttp_reset(&p);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(raw_llhttp_request_head);

}  // namespace

BENCHMARK_MAIN();
