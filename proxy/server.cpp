#include "proxy/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <charconv>
#include <exception>
#include <iostream>

#include "proxy/local_reply.hpp"
#include "proxy/session.hpp"

namespace consent::proxy {

std::optional<tcp::endpoint> parse_listen_address(const std::string& text) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || port.empty() || value > 65535) return std::nullopt;
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  error_code bad;
  const auto address = asio::ip::make_address(host, bad);
  if (bad) return std::nullopt;
  return tcp::endpoint(address, static_cast<std::uint16_t>(value));
}

namespace {

// Runs on the worker's strand; registers the session so drain() can reach it.
class SessionRegistration {
 public:
  SessionRegistration(std::shared_ptr<const Runtime> runtime, Worker* worker)
      : runtime_(std::move(runtime)), worker_(worker) {
    worker_->sessions.emplace_front();
    it_ = worker_->sessions.begin();
  }
  ~SessionRegistration() {
    worker_->sessions.erase(it_);
    runtime_->connections().fetch_sub(1, std::memory_order_relaxed);
    worker_->on_session_end();
  }
  SessionRegistration(const SessionRegistration&) = delete;
  SessionRegistration& operator=(const SessionRegistration&) = delete;
  SessionControl* control() { return &*it_; }

 private:
  std::shared_ptr<const Runtime> runtime_;
  Worker* worker_;
  std::list<SessionControl>::iterator it_;
};

asio::awaitable<void> serve_connection(tcp::socket socket, std::shared_ptr<const Runtime> runtime, Worker* worker) {
  SessionRegistration registration(runtime, worker);
  if (worker->is_draining) co_return;
  co_await run_session(beast::tcp_stream(std::move(socket)), runtime, worker, registration.control());
}

// Over the connection limit: answer 503 and close, without reading the request (it may never come).
asio::awaitable<void> refuse_connection(tcp::socket socket, std::shared_ptr<const Runtime> runtime) {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::seconds(5));
  ReplyOptions options;
  options.keep_alive = false;
  const auto reply = LocalReply::error(ReplyKind::connection_limit, options);
  co_await asio::async_write(stream, asio::buffer(reply.bytes), use_nothrow);
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  runtime->connections().fetch_sub(1, std::memory_order_relaxed);
}

struct SessionDone {
  std::uint64_t id;
  void operator()(const std::exception_ptr& error) const {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      std::cerr << "consentgate: session " << id << " ended by an internal error: " << e.what() << '\n';
    }
  }
};

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, std::shared_ptr<Runtime> runtime,
                                  std::vector<std::unique_ptr<Worker>>* workers) {
  std::size_t next = 0;
  std::uint64_t session_id = 0;
  for (;;) {
    Worker& worker = *(*workers)[next];
    next = (next + 1) % workers->size();
    auto [ec, socket] = co_await acceptor.async_accept(worker.ioc, use_nothrow);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;  // EMFILE, ECONNABORTED...: keep serving the others
    ++session_id;
    const auto generation = runtime->generation();
    const auto live = runtime->connections().fetch_add(1, std::memory_order_relaxed) + 1;
    if (live > generation->settings.limits.max_connections) {
      runtime->stats().connections_refused_limit.fetch_add(1, std::memory_order_relaxed);
      asio::co_spawn(asio::make_strand(worker.ioc), refuse_connection(std::move(socket), runtime),
                     SessionDone{session_id});
      continue;
    }
    runtime->stats().connections_accepted.fetch_add(1, std::memory_order_relaxed);
    asio::co_spawn(asio::make_strand(worker.ioc), serve_connection(std::move(socket), runtime, &worker),
                   SessionDone{session_id});
  }
}

void drain_worker(Worker& worker, std::chrono::milliseconds grace) {
  worker.is_draining = true;
  worker.pool.clear();
  for (auto& control : worker.sessions) {
    control.is_draining = true;
    // An idle session has nothing in flight: closing it now loses nothing (RFC 9112 section 9.6).
    if (control.is_idle && control.client != nullptr) {
      error_code ignored;
      control.client->cancel(ignored);
    }
  }
  if (worker.sessions.empty()) {
    worker.guard.reset();
    return;
  }
  if (grace.count() <= 0) return;  // zero disables the terminal step: busy sessions finish however long
  worker.grace_timer.emplace(worker.ioc, grace);
  worker.grace_timer->async_wait([&worker](error_code) {
    // Terminal: whatever is still running after shutdown_grace is cut.
    for (auto& control : worker.sessions) {
      error_code ignored;
      if (control.client != nullptr) control.client->close(ignored);
      if (control.upstream != nullptr) control.upstream->close(ignored);
    }
    worker.guard.reset();
  });
}

}  // namespace

Server::Server(std::shared_ptr<Runtime> runtime, unsigned workers) : runtime_(std::move(runtime)) {
  const auto generation = runtime_->generation();
  const auto& s = generation->settings;
  if (workers == 0) workers = std::max(1U, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < workers; ++i) {
    workers_.push_back(std::make_unique<Worker>(s.limits.upstream_pool_per_host,
                                                std::max<std::size_t>(1, s.limits.upstream_pool_total / workers),
                                                s.timeouts.keepalive));
  }
}

Server::~Server() {
  drain();
  wait();
}

error_code Server::listen(const tcp::endpoint& endpoint) {
  error_code ec;
  acceptor_ = std::make_unique<tcp::acceptor>(workers_.front()->ioc);
  if (acceptor_->open(endpoint.protocol(), ec); ec) return ec;
  if (acceptor_->set_option(tcp::acceptor::reuse_address(true), ec); ec) return ec;
  if (acceptor_->bind(endpoint, ec); ec) return ec;
  if (acceptor_->listen(asio::socket_base::max_listen_connections, ec); ec) return ec;
  runtime_->listen_port = acceptor_->local_endpoint().port();
  return {};
}

tcp::endpoint Server::local_endpoint() const { return acceptor_->local_endpoint(); }

void Server::start() {
  asio::co_spawn(workers_.front()->ioc, accept_loop(*acceptor_, runtime_, &workers_), [](const std::exception_ptr&) {});
  for (auto& worker : workers_) {
    worker->thread = std::thread([w = worker.get()] { w->ioc.run(); });
  }
}

void Server::drain() {
  const auto grace = runtime_->generation()->settings.timeouts.shutdown_grace;
  if (acceptor_) {
    asio::post(workers_.front()->ioc, [this] {
      error_code ignored;
      acceptor_->close(ignored);
    });
  }
  for (auto& worker : workers_) {
    asio::post(worker->ioc, [w = worker.get(), grace] {
      if (!w->is_draining) drain_worker(*w, grace);
    });
  }
}

void Server::wait() {
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) worker->thread.join();
  }
}

}  // namespace consent::proxy
