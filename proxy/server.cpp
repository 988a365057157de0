#include "proxy/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
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

// Runs on the worker's thread; registers the session so drain() can reach it.
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

// `listener` is owned by the Server, which outlives every session (its destructor waits for them).
asio::awaitable<void> serve_connection(tcp::socket socket, std::shared_ptr<const Runtime> runtime, Worker* worker,
                                       const ListenerContext* listener) {
  SessionRegistration registration(runtime, worker);
  if (worker->is_draining) co_return;
  co_await run_session(beast::tcp_stream(std::move(socket)), runtime, worker, registration.control(), *listener);
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

// Session ids are unique across listeners (they only name sessions in error lines).
std::atomic<std::uint64_t> next_session_id{0};

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, const ListenerContext* listener,
                                  std::shared_ptr<Runtime> runtime, std::vector<std::unique_ptr<Worker>>* workers) {
  std::size_t next = listener->index % workers->size();
  for (;;) {
    Worker& worker = *(*workers)[next];
    next = (next + 1) % workers->size();
    auto [ec, socket] = co_await acceptor.async_accept(worker.ioc, use_nothrow);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;  // EMFILE, ECONNABORTED...: keep serving the others
    const auto session_id = next_session_id.fetch_add(1, std::memory_order_relaxed) + 1;
    const auto generation = runtime->generation();
    const auto live = runtime->connections().fetch_add(1, std::memory_order_relaxed) + 1;
    if (live > generation->settings.limits.max_connections) {
      runtime->stats().connections_refused_limit.fetch_add(1, std::memory_order_relaxed);
      asio::co_spawn(worker.ioc.get_executor(), refuse_connection(std::move(socket), runtime), SessionDone{session_id});
      continue;
    }
    runtime->stats().connections_accepted.fetch_add(1, std::memory_order_relaxed);
    // No strand: each worker's io_context is run by exactly one thread, which already serialises its
    // sessions; a strand would only add a lock and executor copies per operation (~7% CPU, bench profile).
    asio::co_spawn(worker.ioc.get_executor(), serve_connection(std::move(socket), runtime, &worker, listener),
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

std::string Server::listen(std::vector<ListenerContext> listeners) {
  listeners_.clear();
  runtime_->listen_ports.clear();
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    auto bound = std::make_unique<Listener>();
    bound->context = std::move(listeners[i]);
    bound->context.index = i;
    const auto& text = bound->context.listen;
    const auto endpoint = parse_listen_address(text);
    if (!endpoint) return "listen address \"" + text + "\" is not ADDR:PORT";
    error_code ec;
    auto& acceptor = bound->acceptor;
    acceptor = std::make_unique<tcp::acceptor>(workers_.front()->ioc);
    acceptor->open(endpoint->protocol(), ec);
    if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor->bind(*endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      listeners_.clear();
      return "cannot listen on " + text + ": " + ec.message();
    }
    runtime_->listen_ports.push_back(acceptor->local_endpoint().port());
    listeners_.push_back(std::move(bound));
  }
  return {};
}

tcp::endpoint Server::local_endpoint(std::size_t index) const {
  return listeners_.at(index)->acceptor->local_endpoint();
}

void Server::start() {
  for (auto& listener : listeners_) {
    asio::co_spawn(workers_.front()->ioc, accept_loop(*listener->acceptor, &listener->context, runtime_, &workers_),
                   [](const std::exception_ptr&) {});
  }
  for (auto& worker : workers_) {
    worker->thread = std::thread([w = worker.get()] { w->ioc.run(); });
  }
}

void Server::drain() {
  const auto grace = runtime_->generation()->settings.timeouts.shutdown_grace;
  if (!listeners_.empty()) {
    asio::post(workers_.front()->ioc, [this] {
      error_code ignored;
      for (auto& listener : listeners_) listener->acceptor->close(ignored);
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
