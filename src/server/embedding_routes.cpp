// Embeddings: POST /v1/embeddings (OpenAI), /api/embed and the legacy /api/embeddings (Ollama).
// Vectors are the model's final hidden states (after the final norm) pooled as --pooling says
// and L2-normalised; `dimensions` keeps the first N values and normalises again.
#include <chrono>
#include <cstring>

#include "base/error.h"
#include "server/base64.h"
#include "server/server_state.h"

namespace ug::server {

namespace {

constexpr size_t kMaxInputs = 2048;  // OpenAI's limit on inputs per request

const json* present(const json& o, const char* key) {
  auto it = o.find(key);
  return it == o.end() || it->is_null() ? nullptr : &*it;
}

Embedder& embedder(Backend& b) {
  std::call_once(b.embedder_once, [&b] {
    b.embedder = std::make_unique<Embedder>(b.model.weights, b.engine->options().threads,
                                            b.engine->options().step_tokens);
  });
  return *b.embedder;
}

std::vector<int32_t> text_tokens(const Tokenizer& tok, const std::string& text,
                                 const std::string& param) {
  if (text.empty()) bad_request(param + " must not be an empty string", param);
  std::vector<int32_t> ids = tok.encode(text, /*parse_special=*/false);
  if (tok.add_bos()) ids.insert(ids.begin(), tok.bos_id());
  return ids;
}

std::vector<int32_t> id_tokens(const Tokenizer& tok, const json& a, const std::string& param) {
  if (a.empty()) bad_request(param + " must not be empty", param);
  return parse_token_ids(a, tok, param);
}

// input: a string, an array of strings, an array of token ids, or an array of those arrays.
std::vector<std::vector<int32_t>> parse_inputs(const Tokenizer& tok, const json& input,
                                               const std::string& param) {
  std::vector<std::vector<int32_t>> out;
  if (input.is_string()) {
    out.push_back(text_tokens(tok, input.get<std::string>(), param));
  } else if (input.is_array() && !input.empty() && input[0].is_number()) {
    out.push_back(id_tokens(tok, input, param));
  } else if (input.is_array()) {
    if (input.empty()) bad_request(param + " must not be empty", param);
    if (input.size() > kMaxInputs)
      bad_request(param + " has " + std::to_string(input.size()) + " inputs; at most " +
                      std::to_string(kMaxInputs) + " per request",
                  param);
    for (size_t i = 0; i < input.size(); ++i) {
      const std::string p = param + "[" + std::to_string(i) + "]";
      if (input[i].is_string())
        out.push_back(text_tokens(tok, input[i].get<std::string>(), p));
      else if (input[i].is_array())
        out.push_back(id_tokens(tok, input[i], p));
      else
        bad_request(p + " must be a string or an array of token ids", p);
    }
  } else {
    bad_request(param + " must be a string, an array of strings or token ids", param);
  }
  return out;
}

// The same limit as chat prompts: shorter than the context. Ollama truncates instead unless
// told not to.
void fit_context(std::vector<std::vector<int32_t>>& inputs, int64_t n_ctx, bool truncate,
                 const std::string& param) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (static_cast<int64_t>(inputs[i].size()) < n_ctx) continue;
    if (truncate) {
      inputs[i].resize(static_cast<size_t>(n_ctx - 1));
      continue;
    }
    throw ApiError(400,
                   "input " + std::to_string(i) + " has " + std::to_string(inputs[i].size()) +
                       " tokens, more than the context of " + std::to_string(n_ctx) +
                       " tokens allows (start the server with a larger --ctx-size)",
                   param, "invalid_request_error", "context_length_exceeded");
  }
}

int64_t dimensions_of(const json& body, int64_t n_embd) {
  const json* v = present(body, "dimensions");
  if (!v) return n_embd;
  if (!v->is_number_integer() || v->get<int64_t>() < 1 || v->get<int64_t>() > n_embd)
    bad_request("dimensions must be an integer between 1 and " + std::to_string(n_embd) +
                    " (this model's embedding size)",
                "dimensions");
  return v->get<int64_t>();
}

struct Embedded {
  std::vector<std::vector<float>> vectors;  // [inputs][dims]
  int64_t tokens = 0;
  double seconds = 0;
};

Embedded embed_all(Server::State& s, Backend& b, const std::vector<std::vector<int32_t>>& inputs,
                   int64_t dims) {
  if (s.opt.pooling == Pooling::kNone)
    bad_request(
        "the server runs with --pooling none (one vector per token), which these endpoints "
        "cannot return; restart it with --pooling mean, last or cls");
  Embedder& e = embedder(b);
  Embedded out;
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& ids : inputs) {
    std::vector<float> v;
    try {
      v = e.embed(ids, s.opt.pooling);
    } catch (const Error& err) {
      bad_request(err.what(), "input");
    }
    if (dims < static_cast<int64_t>(v.size())) {
      v.resize(static_cast<size_t>(dims));
      l2_normalize(v.data(), dims);
    }
    out.tokens += static_cast<int64_t>(ids.size());
    out.vectors.push_back(std::move(v));
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

void openai_embeddings(Server::State& s, const http::Request& req, http::Response& res) {
  auto b = s.need_backend();
  json body = parse_body(req);
  const json* input = present(body, "input");
  if (!input) bad_request("input is missing", "input");
  std::string format = "float";
  if (const json* f = present(body, "encoding_format")) {
    if (!f->is_string() || (*f != "float" && *f != "base64"))
      bad_request("encoding_format must be float or base64", "encoding_format");
    format = f->get<std::string>();
  }
  const int64_t dims = dimensions_of(body, b->model.weights->config.n_embd);
  auto inputs = parse_inputs(*b->model.tokenizer, *input, "input");
  fit_context(inputs, b->engine->options().n_ctx, false, "input");
  Embedded e = embed_all(s, *b, inputs, dims);
  json data = json::array();
  for (size_t i = 0; i < e.vectors.size(); ++i) {
    const auto& v = e.vectors[i];
    json vec;
    if (format == "base64")  // little-endian float32, as OpenAI sends it
      vec = base64_encode(reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(float));
    else
      vec = v;
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", std::move(vec)}});
  }
  send_json(res, {{"object", "list"},
                  {"data", std::move(data)},
                  {"model", b->name},
                  {"usage", {{"prompt_tokens", e.tokens}, {"total_tokens", e.tokens}}}});
}

bool truncate_flag(const json& body) {
  const json* t = present(body, "truncate");
  if (!t) return true;  // Ollama's default
  if (!t->is_boolean()) bad_request("truncate must be a boolean", "truncate");
  return t->get<bool>();
}

void ollama_embed(Server::State& s, const http::Request& req, http::Response& res, bool legacy) {
  auto b = s.need_backend();
  json body = parse_body(req);
  if (!ollama_model_known(s, *b, body, res)) return;
  const char* key = legacy ? "prompt" : "input";
  const json* input = present(body, key);
  if (!input) bad_request(std::string(key) + " is missing", key);
  if (legacy && !input->is_string()) bad_request("prompt must be a string", "prompt");
  const int64_t dims = dimensions_of(body, b->model.weights->config.n_embd);
  auto inputs = parse_inputs(*b->model.tokenizer, *input, key);
  fit_context(inputs, b->engine->options().n_ctx, truncate_flag(body), key);
  Embedded e = embed_all(s, *b, inputs, dims);
  if (legacy) {
    send_json(res, {{"embedding", e.vectors.front()}});
    return;
  }
  const int64_t ns = static_cast<int64_t>(e.seconds * 1e9);
  send_json(res, {{"model", b->name},
                  {"embeddings", e.vectors},
                  {"total_duration", ns},
                  {"load_duration", 0},
                  {"prompt_eval_count", e.tokens}});
}

}  // namespace

void add_embedding_routes(Server::State& s) {
  auto openai = [&s](const http::Request& req, http::Response& res) {
    openai_embeddings(s, req, res);
  };
  s.post_json("/v1/embeddings", openai);
  s.post_json("/embeddings", openai);
  s.post_json("/api/embed", [&s](const http::Request& req, http::Response& res) {
    ollama_embed(s, req, res, false);
  });
  s.post_json("/api/embeddings", [&s](const http::Request& req, http::Response& res) {
    ollama_embed(s, req, res, true);
  });
}

}  // namespace ug::server
