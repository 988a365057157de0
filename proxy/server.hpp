#pragma once
// The listeners and the workers: one io_context per worker thread, one acceptor per listener (all on
// worker 0) handing each accepted connection to the next worker round-robin, the connection limit (503),
// and the graceful drain (SIGTERM).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proxy/asio_fwd.hpp"
#include "proxy/listener.hpp"
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

  // Binds and listens on every listener, in order; sets runtime->listen_ports. Returns "" or a message
  // naming the listener and the error ("cannot listen on 0.0.0.0:443: Address already in use"); on error
  // nothing is served. Sessions refer to their ListenerContext: the server keeps them for its whole life.
  [[nodiscard]] std::string listen(std::vector<ListenerContext> listeners);
  [[nodiscard]] std::size_t listener_count() const noexcept { return listeners_.size(); }
  [[nodiscard]] tcp::endpoint local_endpoint(std::size_t index = 0) const;

  void start();  // worker threads and the accept loop
  // Any thread: stop accepting, close idle sessions, let busy ones finish their exchange; after
  // shutdown_grace close whatever remains. wait() returns once every session ended.
  void drain();
  void wait();

 private:
  std::shared_ptr<Runtime> runtime_;
  std::vector<std::unique_ptr<Worker>> workers_;
  struct Listener {
    ListenerContext context;
    std::unique_ptr<tcp::acceptor> acceptor;
  };
  std::vector<std::unique_ptr<Listener>> listeners_;  // stable addresses: sessions hold the context
};

}  // namespace consent::proxy
