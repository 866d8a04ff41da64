#include "http/client.h"

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

#include "http/asio.h"
#include "http/url.h"

namespace ug::http {

namespace {

namespace ssl = asio::ssl;

struct Call {
  std::string host;
  int port = 80;
  bool tls = false;
  std::string method, target;
  Headers headers;
  std::string body;
  ClientOptions options;
  const BodyReceiver* receiver = nullptr;

  std::optional<ClientResponse> response;
  std::string error;
  bool too_big = false;
};

std::string host_header(const Call& c) {
  std::string h = c.host.find(':') != std::string::npos ? "[" + c.host + "]" : c.host;
  if (c.port != (c.tls ? 443 : 80)) h += ":" + std::to_string(c.port);
  return h;
}

// Sends the request and reads the answer on a connected stream (plain or TLS).
template <class Stream>
asio::awaitable<void> talk(Stream& s, Call& call) {
  beast::tcp_stream& tcp = beast::get_lowest_layer(s);
  bhttp::request<bhttp::string_body> req;
  req.method_string(call.method);
  req.target(call.target);
  req.version(11);
  req.set(bhttp::field::host, host_header(call));
  req.set(bhttp::field::user_agent, "unigemma");
  for (const auto& [k, v] : call.headers) req.insert(k, v);
  req.keep_alive(false);
  req.body() = std::move(call.body);
  if (!req.body().empty() || call.method == "POST" || call.method == "PUT") req.prepare_payload();
  tcp.expires_after(call.options.write_timeout);
  auto [wec, wn] = co_await bhttp::async_write(s, req, kAwait);
  // A server may answer before it read the whole request (413) and close: read that answer.
  beast::flat_buffer buf;
  bhttp::response_parser<bhttp::string_body> p;
  p.header_limit(64 * 1024);
  p.body_limit(call.options.max_body_bytes);
  tcp.expires_after(wec ? std::chrono::milliseconds(2000) : call.options.read_timeout);
  auto [hec, hn] = co_await bhttp::async_read_header(s, buf, p, kAwait);
  if (hec) {
    call.error =
        wec ? "sending the request: " + wec.message() : "reading the answer: " + hec.message();
    call.too_big = hec == bhttp::error::body_limit;
    co_return;
  }
  ClientResponse r;
  r.status = static_cast<int>(p.get().result_int());
  for (const auto& f : p.get()) r.headers.add(std::string(f.name_string()), std::string(f.value()));
  auto deliver = [&] {
    std::string& body = p.get().body();
    if (!call.receiver || body.empty()) return true;
    const bool go_on = (*call.receiver)(body);
    body.clear();  // the parser appends at the end, so the taken part can go
    return go_on;
  };
  while (!p.is_done()) {
    tcp.expires_after(call.options.read_timeout);
    auto [ec, n] = co_await bhttp::async_read_some(s, buf, p, kAwait);
    if (!deliver()) {
      call.error = "hung up by the receiver";
      co_return;
    }
    if (ec == bhttp::error::body_limit) {
      call.too_big = true;
      call.error =
          "the answer is larger than " + std::to_string(call.options.max_body_bytes) + " bytes";
      co_return;
    }
    if (ec) {
      call.error = "reading the answer: " + ec.message();
      co_return;
    }
  }
  r.body = std::move(p.get().body());
  call.response = std::move(r);
}

asio::awaitable<void> connect_and_talk(Call& call) {
  auto exec = co_await asio::this_coro::executor;
  tcp::resolver resolver(exec);
  asio::steady_timer guard(exec, call.options.connect_timeout);  // resolvers have no timeout
  guard.async_wait([&resolver](beast::error_code ec) {
    if (!ec) resolver.cancel();
  });
  auto [rec, endpoints] =
      co_await resolver.async_resolve(call.host, std::to_string(call.port), kAwait);
  guard.cancel();
  if (rec) {
    call.error = "cannot resolve " + call.host + ": " + rec.message();
    co_return;
  }
  if (!call.tls) {
    beast::tcp_stream s(exec);
    s.expires_after(call.options.connect_timeout);
    auto [cec, ep] = co_await s.async_connect(endpoints, kAwait);
    if (cec) {
      call.error = "cannot connect to " + host_header(call) + ": " + cec.message();
      co_return;
    }
    co_await talk(s, call);
    beast::error_code ignored;
    s.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return;
  }
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_default_verify_paths();
  ctx.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> s(exec, ctx);
  if (!SSL_set_tlsext_host_name(s.native_handle(), call.host.c_str())) {
    call.error = "cannot set the TLS server name " + call.host;
    co_return;
  }
  s.set_verify_callback(ssl::host_name_verification(call.host));
  auto& tcp = beast::get_lowest_layer(s);
  tcp.expires_after(call.options.connect_timeout);
  auto [cec, ep] = co_await tcp.async_connect(endpoints, kAwait);
  if (cec) {
    call.error = "cannot connect to " + host_header(call) + ": " + cec.message();
    co_return;
  }
  auto [hec] = co_await s.async_handshake(ssl::stream_base::client, kAwait);
  if (hec) {
    call.error = "TLS handshake with " + call.host + " failed: " + hec.message();
    co_return;
  }
  co_await talk(s, call);
}

void run_call(Call& call) {
  asio::io_context ioc;
  asio::co_spawn(ioc, connect_and_talk(call), [&call](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      call.error = x.what();
      call.response.reset();
    }
  });
  ioc.run();
}

// A redirect's Location against the URL that gave it.
std::string resolve_location(const std::string& location, const Url& base) {
  if (parse_url(location)) return location;
  const std::string scheme = base.tls ? "https:" : "http:";
  if (location.rfind("//", 0) == 0) return scheme + location;
  const std::string host =
      base.host.find(':') != std::string::npos ? "[" + base.host + "]" : base.host;
  const std::string origin = scheme + "//" + host + ":" + std::to_string(base.port);
  if (!location.empty() && location[0] == '/') return origin + location;
  const std::string path = base.target.substr(0, base.target.find('?'));
  return origin + path.substr(0, path.rfind('/') + 1) + location;
}

}  // namespace

Client::Client(std::string host, int port, ClientOptions options)
    : host_(std::move(host)), port_(port), options_(options) {}

std::optional<ClientResponse> Client::get(const std::string& target, const Headers& headers) {
  return send("GET", target, headers, {});
}

std::optional<ClientResponse> Client::post(const std::string& target, std::string body,
                                           const std::string& content_type,
                                           const Headers& headers) {
  Headers h = headers;
  if (!content_type.empty() && !h.has("Content-Type")) h.add("Content-Type", content_type);
  return send("POST", target, h, std::move(body));
}

std::optional<ClientResponse> Client::send(const std::string& method, const std::string& target,
                                           const Headers& headers, std::string body,
                                           const BodyReceiver& receiver) {
  Call call;
  call.host = host_;
  call.port = port_;
  call.method = method;
  call.target = target;
  call.headers = headers;
  call.body = std::move(body);
  call.options = options_;
  call.receiver = receiver ? &receiver : nullptr;
  run_call(call);
  error_ = call.error;
  return std::move(call.response);
}

FetchResult fetch(const std::string& url, const ClientOptions& options, int max_redirects) {
  FetchResult out;
  std::string current = url;
  for (int hop = 0;; ++hop) {
    auto u = parse_url(current);
    if (!u) {
      out.error = "not an http(s) URL: " + current;
      return out;
    }
    Call call;
    call.host = u->host;
    call.port = u->port;
    call.tls = u->tls;
    call.method = "GET";
    call.target = u->target;
    call.options = options;
    run_call(call);
    if (!call.response) {
      out.error = call.error;
      out.too_big = call.too_big;
      return out;
    }
    const int status = call.response->status;
    const std::string location = call.response->header("Location");
    if ((status == 301 || status == 302 || status == 303 || status == 307 || status == 308) &&
        !location.empty()) {
      if (hop >= max_redirects) {
        out.error = "more than " + std::to_string(max_redirects) + " redirects";
        return out;
      }
      current = resolve_location(location, *u);
      continue;
    }
    out.status = status;
    out.body = std::move(call.response->body);
    return out;
  }
}

}  // namespace ug::http
