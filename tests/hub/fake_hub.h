// A Hugging Face hub on 127.0.0.1 for the download tests: the API and resolve URLs, LFS files
// behind a 302 to a "CDN" path (with Range support), gated repositories (401 without the token,
// 403 with another), and faults on demand: a transfer cut after N bytes, bytes that do not
// match the LFS id. Every request is logged.
#pragma once

#include <httplib.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "hub/sha256.h"

namespace ug::hub::testing {

struct FakeFile {
  std::string content;
  bool lfs = false;
};

struct FakeRepo {
  std::string commit;
  std::map<std::string, FakeFile> files;
  std::string gated_token;  // non-empty: only this bearer token may download
};

struct LoggedRequest {
  std::string method, path, range, authorization;
};

inline std::string sha256_of(const std::string& s) {
  Sha256 h;
  h.update(s.data(), s.size());
  return h.hex_digest();
}

// A 40-hex etag for small files (the hub uses the git blob id; any stable id will do here).
inline std::string small_etag(const std::string& s) { return sha256_of(s).substr(0, 40); }

class FakeHub {
 public:
  FakeHub() {
    server_.Get("/api/models/(.+)/(.+)/revision/(.+)",
                [this](const auto& q, auto& r) { api(q, r); });
    server_.Get("/([^/]+)/([^/]+)/resolve/([^/]+)/(.+)",
                [this](const auto& q, auto& r) { resolve(q, r); });
    server_.Get("/cdn/([0-9a-f]+)", [this](const auto& q, auto& r) { cdn(q, r); });
    // Logged on arrival (a logger runs after the answer is sent, when the client may already
    // have moved on).
    server_.set_pre_routing_handler([this](const httplib::Request& q, httplib::Response&) {
      std::lock_guard<std::mutex> lock(mu_);
      log_.push_back(
          {q.method, q.path, q.get_header_value("Range"), q.get_header_value("Authorization")});
      return httplib::Server::HandlerResponse::Unhandled;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~FakeHub() {
    server_.stop();
    thread_.join();
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void add(const std::string& repo, FakeRepo r) {
    std::lock_guard<std::mutex> lock(mu_);
    repos_[repo] = std::move(r);
  }
  // The next GET of this LFS blob stops after `bytes` bytes (the connection drops).
  void cut_next_transfer(const std::string& sha, size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    cuts_[sha] = bytes;
  }
  // The CDN serves other bytes (same length) for this blob: the hash check must refuse them.
  void corrupt(const std::string& sha) {
    std::lock_guard<std::mutex> lock(mu_);
    corrupt_.insert(sha);
  }
  std::vector<LoggedRequest> log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  void clear_log() {
    std::lock_guard<std::mutex> lock(mu_);
    log_.clear();
  }

 private:
  const FakeRepo* find(const std::string& repo) {
    auto it = repos_.find(repo);
    return it == repos_.end() ? nullptr : &it->second;
  }

  // 401 without a token, 403 with a wrong one, as the hub answers for gated models.
  bool refuse_gated(const FakeRepo& r, const httplib::Request& q, httplib::Response& res) {
    if (r.gated_token.empty()) return false;
    const std::string auth = q.get_header_value("Authorization");
    if (auth == "Bearer " + r.gated_token) return false;
    res.status = auth.empty() ? 401 : 403;
    res.set_header("X-Error-Code", "GatedRepo");
    res.set_header("X-Error-Message", "Access to model is restricted.");
    return true;
  }

  void api(const httplib::Request& q, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    const FakeRepo* r = find(q.matches[1].str() + "/" + q.matches[2].str());
    if (!r) {
      res.status = 404;
      res.set_header("X-Error-Code", "RepoNotFound");
      res.set_content(R"({"error":"Repository not found"})", "application/json");
      return;
    }
    std::string siblings;
    for (const auto& [path, f] : r->files) {
      siblings += siblings.empty() ? "" : ",";
      siblings += "{\"rfilename\":\"" + path + "\",\"size\":" + std::to_string(f.content.size());
      if (f.lfs)
        siblings += ",\"lfs\":{\"sha256\":\"" + sha256_of(f.content) +
                    "\",\"size\":" + std::to_string(f.content.size()) + ",\"pointerSize\":134}";
      siblings += "}";
    }
    res.set_content("{\"id\":\"x\",\"sha\":\"" + r->commit + "\",\"siblings\":[" + siblings + "]}",
                    "application/json");
  }

  void resolve(const httplib::Request& q, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    const FakeRepo* r = find(q.matches[1].str() + "/" + q.matches[2].str());
    if (!r) {
      res.status = 401;  // the hub answers 401 for a repository it will not name
      res.set_header("X-Error-Code", "RepoNotFound");
      return;
    }
    if (refuse_gated(*r, q, res)) return;
    auto f = r->files.find(q.matches[4].str());
    if (f == r->files.end()) {
      res.status = 404;
      res.set_header("X-Error-Code", "EntryNotFound");
      return;
    }
    res.set_header("X-Repo-Commit", r->commit);
    if (f->second.lfs) {
      const std::string sha = sha256_of(f->second.content);
      blobs_[sha] = f->second.content;
      res.set_header("X-Linked-Etag", "\"" + sha + "\"");
      res.set_header("X-Linked-Size", std::to_string(f->second.content.size()));
      res.set_redirect(endpoint() + "/cdn/" + sha, 302);
      return;
    }
    res.set_header("ETag", "\"" + small_etag(f->second.content) + "\"");
    res.set_content(f->second.content, "application/octet-stream");
  }

  void cdn(const httplib::Request& q, httplib::Response& res) {
    std::string body, sha = q.matches[1].str();
    size_t cut = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto b = blobs_.find(sha);
      if (b == blobs_.end()) {
        res.status = 404;
        return;
      }
      body = b->second;
      if (corrupt_.count(sha)) body[body.size() / 2] ^= 0x5a;
      if (auto c = cuts_.find(sha); c != cuts_.end()) {
        cut = c->second;
        cuts_.erase(c);
      }
    }
    res.set_content_provider(body.size(), "application/octet-stream",
                             [body, cut](size_t offset, size_t length, httplib::DataSink& sink) {
                               size_t end = offset + length;
                               if (cut && end > cut)
                                 end = cut;  // a cut counts from the start of the file
                               if (end > offset) sink.write(body.data() + offset, end - offset);
                               return !(cut && end == cut);  // false drops the connection mid-body
                             });
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::map<std::string, FakeRepo> repos_;
  std::map<std::string, std::string> blobs_;  // sha256 -> bytes
  std::map<std::string, size_t> cuts_;
  std::set<std::string> corrupt_;
  std::vector<LoggedRequest> log_;
};

}  // namespace ug::hub::testing
