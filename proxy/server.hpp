#pragma once
// The listener and the workers: one io_context per worker thread, one acceptor (on worker 0) handing
// each accepted connection to the next worker round-robin, the connection limit (503), and the
// graceful drain (SIGTERM).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proxy/asio_fwd.hpp"
#include "proxy/runtime.hpp"
#include "proxy/worker.hpp"

namespace consent::proxy {

// "127.0.0.1:8080", "[::1]:0", "0.0.0.0:3128" -> endpoint; nullopt when it does not parse.
[[nodiscard]] std::optional<tcp::endpoint> parse_listen_address(const std::string& text);

class Server {
 public:
  Server(std::shared_ptr<Runtime> runtime, unsigned workers);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; sets runtime->listen_port. Returns the error (address in use...) as a value.
  error_code listen(const tcp::endpoint& endpoint);
  [[nodiscard]] tcp::endpoint local_endpoint() const;

  void start();  // worker threads and the accept loop
  // Any thread: stop accepting, close idle sessions, let busy ones finish their exchange; after
  // shutdown_grace close whatever remains. wait() returns once every session ended.
  void drain();
  void wait();

 private:
  std::shared_ptr<Runtime> runtime_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<tcp::acceptor> acceptor_;
};

}  // namespace consent::proxy
