// /health, /metrics, /tokenize, /detokenize (llama-server shapes) and the web page.
#include "server/server_state.h"
#include "server/web_assets.h"

namespace ug::server {

void add_misc_routes(Server::State& s) {
  // On the I/O thread: it answers even when every worker is busy or the connections are full.
  http::RouteOptions io_thread;
  io_thread.on_io_thread = true;
  s.get(
      "/health",
      [&s](const http::Request&, http::Response& res) {
        if (!s.backend()) {
          send_json(res, error_json(ApiError(503, "Loading model", {}, "unavailable_error")), 503);
          return;
        }
        send_json(res, {{"status", "ok"}});
      },
      io_thread);
  s.get("/metrics", [&s](const http::Request&, http::Response& res) {
    auto b = s.backend();
    res.set_content(s.metrics.render(b ? b->engine.get() : nullptr), "text/plain; version=0.0.4");
  });
  s.post_json("/tokenize", [&s](const http::Request& req, http::Response& res) {
    auto b = s.need_backend();
    json body = parse_body(req);
    auto it = body.find("content");
    if (it == body.end() || !it->is_string()) bad_request("content must be a string", "content");
    auto flag = [&](const char* key) {
      auto f = body.find(key);
      if (f == body.end() || f->is_null()) return false;
      if (!f->is_boolean()) bad_request(std::string(key) + " must be a boolean", key);
      return f->get<bool>();
    };
    const bool add_special = flag("add_special"),
               parse_special = !body.contains("parse_special") || flag("parse_special");
    const bool with_pieces = flag("with_pieces");
    const Tokenizer& tok = *b->model.tokenizer;
    // Tokens past the context are of no use to this server; refusing them bounds the work.
    check_text_fits(*b, it->get_ref<const std::string&>().size(), "content");
    std::vector<int32_t> ids = tok.encode(it->get<std::string>(), parse_special);
    if (add_special && tok.add_bos()) ids.insert(ids.begin(), tok.bos_id());
    json tokens = json::array();
    for (int32_t id : ids) {
      if (with_pieces)
        tokens.push_back({{"id", id}, {"piece", token_text(tok, id)}});
      else
        tokens.push_back(id);
    }
    send_json(res, {{"tokens", tokens}});
  });
  s.post_json("/detokenize", [&s](const http::Request& req, http::Response& res) {
    auto b = s.need_backend();
    json body = parse_body(req);
    auto it = body.find("tokens");
    if (it == body.end() || !it->is_array()) bad_request("tokens must be an array", "tokens");
    const Tokenizer& tok = *b->model.tokenizer;
    std::vector<int32_t> ids;
    for (size_t i = 0; i < it->size(); ++i) {
      const json& v = (*it)[i];
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= tok.vocab_size())
        bad_request("tokens[" + std::to_string(i) + "] is not a token id (0.." +
                        std::to_string(tok.vocab_size() - 1) + ")",
                    "tokens");
      ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
    }
    send_json(res, {{"content", tok.decode(ids)}});
  });
  for (const WebAsset& a : web_assets()) {
    auto serve = [&a](const http::Request&, http::Response& res) {
      res.set_content(std::string(reinterpret_cast<const char*>(a.data), a.size), a.mime);
      res.set_header("Cache-Control", "no-cache");
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data: blob:; media-src 'self' data: "
                     "blob:; style-src 'self' 'unsafe-inline'");
    };
    s.get(std::string(a.path), serve);
    if (a.path == "/index.html") s.get("/", serve);
  }
}

}  // namespace ug::server
