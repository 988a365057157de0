#include "proxy/dns_resolver.hpp"

#include <ares.h>
#include <poll.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <algorithm>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cassert>
#include <charconv>
#include <cstring>
#include <list>
#include <optional>
#include <unordered_map>

#include "proxy/dns_cname.hpp"

namespace consent::proxy {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// boost::system::error_category has a protected non-virtual destructor by design (categories are static
// singletons, never deleted through a base pointer); GCC warns anyway.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class DnsCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "consent.dns"; }
  std::string message(int value) const override {
    switch (static_cast<dns_errc>(value)) {
      case dns_errc::invalid_host:
        return "not a valid host name";
      case dns_errc::not_found:
        return "unknown host";
      case dns_errc::timeout:
        return "DNS servers did not answer in time";
      case dns_errc::server_failure:
        return "DNS server failure";
      case dns_errc::resolver_unavailable:
        return "DNS resolver unavailable";
    }
    return "unknown DNS error";
  }
};
#pragma GCC diagnostic pop

// ares_library_init is reference-counted but not thread-safe in 1.18: a function-local static runs it once.
int ares_library_status() {
  static const int status = ares_library_init(ARES_LIB_INIT_ALL);
  return status;
}

error_code from_ares_status(int status) {
  switch (status) {
    case ARES_SUCCESS:
      return {};
    case ARES_ENODATA:
    case ARES_ENOTFOUND:
    case ARES_ENONAME:
      return dns_errc::not_found;
    case ARES_ETIMEOUT:
      return dns_errc::timeout;
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION:
      return asio::error::operation_aborted;
    case ARES_EBADNAME:
      return dns_errc::invalid_host;
    default:
      return dns_errc::server_failure;  // SERVFAIL, REFUSED, FORMERR, NOTIMP, EBADRESP, ECONNREFUSED, ...
  }
}

// Labels of letters, digits, '-' and '_' (the latter is common in real names, e.g. _dmarc or CDN hosts);
// the caller has already applied IDNA (policy::normalise_host).
bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  if (label == 0) return false;
  // An all-numeric top label is no name (RFC 3696 section 2) but a mistyped or inet_aton-style address
  // ("1.2.3.4.5", "127.1"): never send it to a DNS server.
  const std::string_view top = name.substr(name.size() - label);
  return !std::all_of(top.begin(), top.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_localhost(std::string_view name) {
  constexpr std::string_view suffix = ".localhost";
  return name == "localhost" || (name.size() > suffix.size() && name.ends_with(suffix));
}

struct ServerAddress {
  asio::ip::address address;
  std::uint16_t port = 53;
};

std::optional<ServerAddress> parse_server(std::string_view text, std::string& why) {
  std::string_view host = text;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      why = "missing ']' after the IPv6 address";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        why = "expected ':PORT' after ']'";
        return std::nullopt;
      }
      port_text = rest.substr(1);
      if (port_text.empty()) {
        why = "empty port";
        return std::nullopt;
      }
    }
  } else if (const auto colon = text.find(':'); colon != std::string_view::npos) {
    if (text.find(':', colon + 1) != std::string_view::npos) {
      why = "write an IPv6 server as [ADDR]:PORT";
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (port_text.empty()) {
      why = "empty port";
      return std::nullopt;
    }
  }
  ServerAddress out;
  error_code ec;
  out.address = asio::ip::make_address(std::string{host}, ec);
  if (ec || host.empty()) {
    why = "not an IP address (a DNS server cannot be a name)";
    return std::nullopt;
  }
  if (text.starts_with('[') != out.address.is_v6()) {
    why = out.address.is_v6() ? "write an IPv6 server as [ADDR]:PORT" : "brackets are for IPv6 addresses";
    return std::nullopt;
  }
  if (!port_text.empty()) {
    unsigned value = 0;
    const auto [end, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (err != std::errc{} || end != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      why = "port must be 1 to 65535";
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  return out;
}

}  // namespace

const boost::system::error_category& dns_category() noexcept {
  static const DnsCategory category;
  return category;
}

std::chrono::milliseconds dns_timeout_bound(const DnsOptions& options, std::size_t server_count) {
  std::chrono::milliseconds total{0};
  const int tries = std::clamp(options.tries, 1, 16);
  for (int t = 0; t < tries; ++t) total += options.timeout * (1 << t);
  return total * static_cast<long>(std::max<std::size_t>(server_count, 1));
}

std::string check_dns_server(std::string_view server) {
  std::string why;
  if (!parse_server(server, why)) return "\"" + std::string{server} + "\" is not a DNS server: " + why;
  return {};
}

namespace detail {

class DnsState : public std::enable_shared_from_this<DnsState> {
 public:
  DnsState(asio::any_io_executor executor, DnsOptions options)
      : executor_(std::move(executor)), options_(std::move(options)), timer_(executor_) {
    if (!options_.now) options_.now = [] { return std::chrono::steady_clock::now(); };
  }
  DnsState(const DnsState&) = delete;
  DnsState& operator=(const DnsState&) = delete;
  ~DnsState() { shutdown(); }

  void init() {
    if (const int status = ares_library_status(); status != ARES_SUCCESS) {
      fail_init(std::string{"c-ares library: "} + ares_strerror(status));
      return;
    }
    std::vector<ServerAddress> servers;
    for (const std::string& text : options_.servers) {
      std::string why;
      const auto server = parse_server(text, why);
      if (!server) {
        fail_init(check_dns_server(text));
        return;
      }
      servers.push_back(*server);
    }
    ares_options opts{};
    opts.flags = ARES_FLAG_NOSEARCH;
    opts.timeout = static_cast<int>(std::clamp<long>(options_.timeout.count(), 1, 3'600'000));
    opts.tries = std::clamp(options_.tries, 1, 16);
    opts.ndomains = 0;
    char lookups[] = "b";
    opts.lookups = lookups;
    opts.sock_state_cb = &DnsState::on_sock_state;
    opts.sock_state_cb_data = this;
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_DOMAINS | ARES_OPT_LOOKUPS |
               ARES_OPT_SOCK_STATE_CB;
    if (!servers.empty()) {
      // With servers, sortlist and ndots given too, c-ares 1.18 has nothing left to read from
      // /etc/resolv.conf (ARES_CONFIG_CHECK): a worker's resolver then opens no file on its I/O thread.
      // The empty server list is replaced by ares_set_servers_ports below.
      opts.nservers = 0;
      opts.servers = nullptr;
      opts.nsort = 0;
      opts.sortlist = nullptr;
      opts.ndots = 1;
      mask |= ARES_OPT_SERVERS | ARES_OPT_SORTLIST | ARES_OPT_NDOTS;
    }
    if (const int status = ares_init_options(&channel_, &opts, mask); status != ARES_SUCCESS) {
      channel_ = nullptr;
      fail_init(std::string{"c-ares: "} + ares_strerror(status));
      return;
    }
    if (!servers.empty()) {
      std::vector<ares_addr_port_node> nodes(servers.size());
      for (std::size_t i = 0; i < servers.size(); ++i) {
        ares_addr_port_node& n = nodes[i];
        n.next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
        n.udp_port = servers[i].port;
        n.tcp_port = servers[i].port;
        if (servers[i].address.is_v4()) {
          n.family = AF_INET;
          const auto bytes = servers[i].address.to_v4().to_bytes();
          std::memcpy(&n.addr.addr4, bytes.data(), bytes.size());
        } else {
          n.family = AF_INET6;
          const auto bytes = servers[i].address.to_v6().to_bytes();
          std::memcpy(&n.addr.addr6, bytes.data(), bytes.size());
        }
      }
      if (const int status = ares_set_servers_ports(channel_, nodes.data()); status != ARES_SUCCESS) {
        fail_init(std::string{"c-ares servers: "} + ares_strerror(status));
        return;
      }
    }
  }

  void shutdown() {
    if (channel_ != nullptr) {
      // Calls on_addrinfo with ARES_EDESTRUCTION for every query and closes every socket.
      ares_channel channel = std::exchange(channel_, nullptr);
      ares_destroy(channel);
    }
    for (auto& [fd, watch] : watches_) watch->descriptor.release();
    watches_.clear();
    timer_.cancel();
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [id, p] : pending) post_completion(std::move(p), DnsResult{asio::error::operation_aborted, {}, {}});
  }

  void start(std::string host, std::uint16_t port, asio::any_io_executor handler_executor,
             asio::any_completion_handler<void(DnsResult)> handler) {
    auto slot = asio::get_associated_cancellation_slot(handler);  // before the handler is moved from
    Pending p{std::move(handler), slot, std::move(handler_executor), port};
    if (init_error_) return post_completion(std::move(p), DnsResult{init_error_, {}, {}});

    std::string name;
    if (auto now = immediate(host, port, name)) return post_completion(std::move(p), std::move(*now));

    const std::uint64_t id = next_id_++;
    if (p.slot.is_connected()) {
      p.slot.assign([weak = weak_from_this(), id](asio::cancellation_type type) {
        if (type == asio::cancellation_type::none) return;
        if (auto self = weak.lock()) self->cancel(id);
      });
    }
    pending_.emplace(id, std::move(p));
    ares_addrinfo_hints hints{};
    hints.ai_flags = ARES_AI_NOSORT;  // keep the server's order; RFC 6724 sorting would open sockets per query
    hints.ai_family = AF_UNSPEC;
    // The callback may run before ares_getaddrinfo returns (bad name, no memory): pending_ already holds id.
    ares_getaddrinfo(channel_, name.c_str(), nullptr, &hints, &DnsState::on_addrinfo, new CallbackArg{this, id, name});
    rearm_timer();
  }

  // An answer that needs no query (see DnsResolver::try_immediate); otherwise `name` is the name to query.
  std::optional<DnsResult> immediate(std::string_view host, std::uint16_t port, std::string& name) {
    if (init_error_) return DnsResult{init_error_, {}, {}};
    std::string_view text = host;
    const bool is_bracketed = text.size() >= 2 && text.front() == '[' && text.back() == ']';
    if (is_bracketed) text = text.substr(1, text.size() - 2);
    error_code ec;
    if (const auto address = asio::ip::make_address(std::string{text}, ec); !ec) {
      return DnsResult{{}, {{address, port}}, {}};
    }
    if (is_bracketed) return DnsResult{dns_errc::invalid_host, {}, {}};
    name = normalise_dns_name(text);
    if (is_localhost(name)) {
      return DnsResult{{}, {{asio::ip::address_v4::loopback(), port}, {asio::ip::address_v6::loopback(), port}}, {}};
    }
    if (!is_dns_name(name)) return DnsResult{dns_errc::invalid_host, {}, {}};
    return cache_lookup(name, port);
  }

  [[nodiscard]] std::size_t pending_count() const noexcept { return pending_.size(); }
  [[nodiscard]] std::size_t cache_count() const noexcept { return cache_.size(); }
  [[nodiscard]] error_code init_error() const noexcept { return init_error_; }
  [[nodiscard]] const std::string& init_message() const noexcept { return init_message_; }

 private:
  struct Pending {
    asio::any_completion_handler<void(DnsResult)> handler;
    asio::cancellation_slot slot;
    asio::any_io_executor executor;  // the handler's associated executor (the session's strand)
    std::uint16_t port = 0;
  };
  struct CallbackArg {
    DnsState* state;
    std::uint64_t id;
    std::string name;
  };
  struct SocketWatch {
    explicit SocketWatch(const asio::any_io_executor& ex) : descriptor(ex) {}
    asio::posix::stream_descriptor descriptor;
    std::uint64_t generation = 0;
    bool want_read = false;
    bool want_write = false;
    bool is_reading = false;
    bool is_writing = false;
  };
  struct CacheEntry {
    std::vector<asio::ip::address> addresses;
    std::vector<std::string> cname_chain;
    std::chrono::steady_clock::time_point expires;
    std::list<std::string>::iterator lru;
  };

  void fail_init(std::string message) {
    init_error_ = dns_errc::resolver_unavailable;
    init_message_ = std::move(message);
  }

  void post_completion(Pending p, DnsResult result) {
    asio::post(p.executor, [h = std::move(p.handler), slot = p.slot, r = std::move(result)]() mutable {
      // Cleared here, not in the cancellation handler: clearing there would destroy the running handler.
      if (slot.is_connected()) slot.clear();
      std::move(h)(std::move(r));
    });
  }

  void cancel(std::uint64_t id) {
    const auto it = pending_.find(id);
    if (it == pending_.end()) return;
    Pending p = std::move(it->second);
    pending_.erase(it);
    // The c-ares query runs on until it ends on its own (bounded by timeout x tries); its result is cached.
    post_completion(std::move(p), DnsResult{asio::error::operation_aborted, {}, {}});
  }

  static void on_addrinfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* res) {
    std::unique_ptr<CallbackArg> ctx{static_cast<CallbackArg*>(arg)};
    std::unique_ptr<ares_addrinfo, decltype(&ares_freeaddrinfo)> info{res, &ares_freeaddrinfo};
    ctx->state->finish(ctx->id, ctx->name, status, info.get());
  }

  void finish(std::uint64_t id, const std::string& name, int status, const ares_addrinfo* info) {
    DnsResult result;
    result.error = from_ares_status(status);
    std::vector<asio::ip::address> addresses;
    auto ttl = std::chrono::seconds{options_.max_cache_ttl};
    if (!result.error && info != nullptr) {
      for (const ares_addrinfo_node* n = info->nodes; n != nullptr; n = n->ai_next) {
        asio::ip::address address;
        if (n->ai_family == AF_INET && n->ai_addrlen >= sizeof(sockaddr_in)) {
          sockaddr_in sin{};
          std::memcpy(&sin, n->ai_addr, sizeof sin);
          asio::ip::address_v4::bytes_type bytes{};
          std::memcpy(bytes.data(), &sin.sin_addr, bytes.size());
          address = asio::ip::address_v4{bytes};
        } else if (n->ai_family == AF_INET6 && n->ai_addrlen >= sizeof(sockaddr_in6)) {
          sockaddr_in6 sin6{};
          std::memcpy(&sin6, n->ai_addr, sizeof sin6);
          asio::ip::address_v6::bytes_type bytes{};
          std::memcpy(bytes.data(), &sin6.sin6_addr, bytes.size());
          address = asio::ip::address_v6{bytes, sin6.sin6_scope_id};
        } else {
          continue;
        }
        if (std::find(addresses.begin(), addresses.end(), address) == addresses.end()) addresses.push_back(address);
        ttl = std::min(ttl, std::chrono::seconds{std::max(n->ai_ttl, 0)});
      }
      std::vector<CnameRecord> records;
      for (const ares_addrinfo_cname* c = info->cnames; c != nullptr; c = c->next) {
        if (c->alias == nullptr || c->name == nullptr) continue;
        records.push_back({c->alias, c->name});
        ttl = std::min(ttl, std::chrono::seconds{std::max(c->ttl, 0)});
      }
      result.cname_chain = follow_cname_chain(name, records);
      if (addresses.empty()) result.error = dns_errc::not_found;
    }
    if (!result.error) cache_insert(name, addresses, result.cname_chain, ttl);

    const auto it = pending_.find(id);
    if (it == pending_.end()) return;  // cancelled: the caller already has operation_aborted
    Pending p = std::move(it->second);
    pending_.erase(it);
    if (!result.error) {
      for (const auto& address : addresses) result.endpoints.emplace_back(address, p.port);
    } else {
      result.cname_chain.clear();
    }
    post_completion(std::move(p), std::move(result));
  }

  // c-ares tells which of its sockets to watch; (0, 0) comes just before it closes one.
  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<DnsState*>(data)->update_watch(fd, readable != 0, writable != 0);
  }

  void update_watch(ares_socket_t fd, bool want_read, bool want_write) {
    auto it = watches_.find(fd);
    if (!want_read && !want_write) {
      if (it == watches_.end()) return;
      // release(), not close(): the socket is c-ares'; pending waits complete with operation_aborted.
      it->second->descriptor.release();
      watches_.erase(it);
      return;
    }
    if (it == watches_.end()) {
      auto watch = std::make_unique<SocketWatch>(executor_);
      watch->generation = next_generation_++;
      error_code ec;
      watch->descriptor.assign(fd, ec);
      // Registering a fresh socket with epoll only fails without memory; the query then times out.
      if (ec) return;
      it = watches_.emplace(fd, std::move(watch)).first;
    }
    it->second->want_read = want_read;
    it->second->want_write = want_write;
    arm(fd, *it->second);
  }

  void arm(ares_socket_t fd, SocketWatch& watch) {
    if (watch.want_read && !watch.is_reading) {
      watch.is_reading = true;
      watch.descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                                  [weak = weak_from_this(), fd, gen = watch.generation](error_code ec) {
                                    if (auto self = weak.lock()) self->on_ready(fd, gen, true, ec);
                                  });
    }
    if (watch.want_write && !watch.is_writing) {
      watch.is_writing = true;
      watch.descriptor.async_wait(asio::posix::stream_descriptor::wait_write,
                                  [weak = weak_from_this(), fd, gen = watch.generation](error_code ec) {
                                    if (auto self = weak.lock()) self->on_ready(fd, gen, false, ec);
                                  });
    }
  }

  SocketWatch* find_watch(ares_socket_t fd, std::uint64_t generation) {
    const auto it = watches_.find(fd);
    if (it == watches_.end() || it->second->generation != generation) return nullptr;
    return it->second.get();
  }

  void on_ready(ares_socket_t fd, std::uint64_t generation, bool is_read, error_code ec) {
    SocketWatch* watch = find_watch(fd, generation);
    if (watch == nullptr) return;  // a socket c-ares has closed since; the number may be reused
    (is_read ? watch->is_reading : watch->is_writing) = false;
    if (ec || channel_ == nullptr) return;
    if (is_read) {
      ares_process_fd(channel_, fd, ARES_SOCKET_BAD);
    } else {
      ares_process_fd(channel_, ARES_SOCKET_BAD, fd);
    }
    watch = find_watch(fd, generation);  // processing may have closed it
    if (watch != nullptr) {
      // Asio registers sockets edge-triggered and a wait is not speculative: bytes c-ares left unread
      // (it reads one TCP chunk per call) would raise no new edge, so look before waiting again.
      pollfd pfd{fd, POLLIN, 0};
      if (is_read && watch->want_read && ::poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN) != 0) {
        watch->is_reading = true;
        asio::post(executor_, [weak = weak_from_this(), fd, generation] {
          if (auto self = weak.lock()) self->on_ready(fd, generation, true, {});
        });
      }
      arm(fd, *watch);
    }
    rearm_timer();
  }

  void rearm_timer() {
    if (channel_ == nullptr) return;
    timeval tv{};
    if (ares_timeout(channel_, nullptr, &tv) == nullptr) {
      timer_.cancel();
      return;
    }
    timer_.expires_after(std::chrono::seconds{tv.tv_sec} + std::chrono::microseconds{tv.tv_usec});
    timer_.async_wait([weak = weak_from_this()](error_code ec) {
      if (ec) return;
      auto self = weak.lock();
      if (!self || self->channel_ == nullptr) return;
      ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // expires timed-out tries
      self->rearm_timer();
    });
  }

  std::optional<DnsResult> cache_lookup(const std::string& name, std::uint16_t port) {
    const auto it = cache_.find(name);
    if (it == cache_.end()) return std::nullopt;
    if (options_.now() >= it->second.expires) {
      lru_.erase(it->second.lru);
      cache_.erase(it);
      return std::nullopt;
    }
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    DnsResult result;
    for (const auto& address : it->second.addresses) result.endpoints.emplace_back(address, port);
    result.cname_chain = it->second.cname_chain;
    return result;
  }

  void cache_insert(const std::string& name, const std::vector<asio::ip::address>& addresses,
                    const std::vector<std::string>& chain, std::chrono::seconds ttl) {
    if (options_.cache_entries == 0 || ttl <= std::chrono::seconds{0}) return;
    const auto expires = options_.now() + ttl;
    if (const auto it = cache_.find(name); it != cache_.end()) {
      it->second.addresses = addresses;
      it->second.cname_chain = chain;
      it->second.expires = expires;
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return;
    }
    while (cache_.size() >= options_.cache_entries && !lru_.empty()) {
      cache_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(name);
    cache_.emplace(name, CacheEntry{addresses, chain, expires, lru_.begin()});
  }

  asio::any_io_executor executor_;
  DnsOptions options_;
  ares_channel channel_ = nullptr;
  error_code init_error_;
  std::string init_message_;
  asio::steady_timer timer_;
  std::unordered_map<ares_socket_t, std::unique_ptr<SocketWatch>> watches_;
  std::unordered_map<std::uint64_t, Pending> pending_;
  std::uint64_t next_id_ = 1;
  std::uint64_t next_generation_ = 1;
  std::unordered_map<std::string, CacheEntry> cache_;
  std::list<std::string> lru_;  // most recently used first
};

}  // namespace detail

DnsResolver::DnsResolver(asio::any_io_executor executor, DnsOptions options)
    : executor_(executor), state_(std::make_shared<detail::DnsState>(std::move(executor), std::move(options))) {
  state_->init();
}

DnsResolver::~DnsResolver() { state_->shutdown(); }

error_code DnsResolver::init_error() const noexcept { return state_->init_error(); }
const std::string& DnsResolver::init_message() const noexcept { return state_->init_message(); }

asio::awaitable<DnsResult> DnsResolver::resolve(std::string host, std::uint16_t port) {
  return async_resolve(std::move(host), port, asio::use_awaitable);
}

std::optional<DnsResult> DnsResolver::try_immediate(std::string_view host, std::uint16_t port) {
  std::string name;
  return state_->immediate(host, port, name);
}

std::vector<std::string> system_dns_servers(std::string& error) {
  if (const int status = ares_library_status(); status != ARES_SUCCESS) {
    error = std::string{"c-ares library: "} + ares_strerror(status);
    return {};
  }
  ares_channel channel = nullptr;
  ares_options opts{};
  if (const int status = ares_init_options(&channel, &opts, 0); status != ARES_SUCCESS) {
    error = std::string{"c-ares: "} + ares_strerror(status);
    return {};
  }
  ares_addr_port_node* nodes = nullptr;
  std::vector<std::string> out;
  if (const int status = ares_get_servers_ports(channel, &nodes); status != ARES_SUCCESS) {
    error = std::string{"c-ares servers: "} + ares_strerror(status);
  } else {
    for (const ares_addr_port_node* n = nodes; n != nullptr; n = n->next) {
      const int port = n->udp_port != 0 ? n->udp_port : 53;
      if (n->family == AF_INET) {
        asio::ip::address_v4::bytes_type bytes{};
        std::memcpy(bytes.data(), &n->addr.addr4, bytes.size());
        out.push_back(asio::ip::address_v4{bytes}.to_string() + ':' + std::to_string(port));
      } else if (n->family == AF_INET6) {
        asio::ip::address_v6::bytes_type bytes{};
        std::memcpy(bytes.data(), &n->addr.addr6, bytes.size());
        out.push_back('[' + asio::ip::address_v6{bytes}.to_string() + "]:" + std::to_string(port));
      }
    }
    ares_free_data(nodes);
  }
  ares_destroy(channel);
  return out;
}

std::size_t DnsResolver::queries_in_flight() const noexcept { return state_->pending_count(); }
std::size_t DnsResolver::cache_size() const noexcept { return state_->cache_count(); }

const asio::any_io_executor& DnsResolver::executor() const noexcept { return executor_; }

void DnsResolver::start(std::string host, std::uint16_t port, asio::any_io_executor handler_executor,
                        asio::any_completion_handler<void(DnsResult)> handler) {
  state_->start(std::move(host), port, std::move(handler_executor), std::move(handler));
}

}  // namespace consent::proxy
