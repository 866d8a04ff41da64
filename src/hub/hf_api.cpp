#include "hub/hf_api.h"

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "hub/hf_cache.h"

namespace ug::hub {

namespace {

std::string normalize_etag(std::string e) {
  if (e.rfind("W/", 0) == 0) e = e.substr(2);
  if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
  return e;
}

int64_t parse_size(const std::string& v) {
  if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos)
    return -1;
  return std::stoll(v);
}

// An answer's own explanation: the X-Error-Message header, else {"error": "..."} in the body.
std::string hub_message(const HttpResponse& r) {
  std::string m = r.header("x-error-message");
  if (!m.empty()) return m;
  try {
    auto j = nlohmann::json::parse(r.body);
    if (j.is_object() && j.contains("error") && j["error"].is_string())
      return j["error"].get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  return "";
}

}  // namespace

std::vector<std::string> auth_headers(const HubSettings& s) {
  if (s.token.empty()) return {};
  return {"Authorization: Bearer " + s.token};
}

std::string resolve_url(const HubSettings& s, const std::string& repo, const std::string& revision,
                        const std::string& path) {
  return s.endpoint + "/" + repo + "/resolve/" + url_encode(revision, false) + "/" +
         url_encode(path, true);
}

void fail_hub_status(const HubSettings& s, const HttpResponse& r, const std::string& repo,
                     const std::string& what) {
  const std::string code = r.header("x-error-code");
  const std::string msg = hub_message(r);
  const std::string page = s.endpoint + "/" + repo;
  const std::string detail = msg.empty() ? "" : " (the hub says: " + msg + ")";
  if (code == "GatedRepo" ||
      ((r.status == 401 || r.status == 403) && msg.find("gated") != std::string::npos)) {
    if (s.token.empty())
      fail(repo, " is a gated model: accept its licence at ", page,
           " while logged in, then set HF_TOKEN to an access token of that account (", s.endpoint,
           "/settings/tokens)", detail);
    fail(repo,
         " is a gated model and the token in HF_TOKEN has no access to it yet: accept its "
         "licence at ",
         page,
         " with the account the token belongs to (access can take a while to "
         "be granted)",
         detail);
  }
  if (r.status == 401) {
    if (s.token.empty())
      fail(what,
           ": the hub answered 401 Unauthorized: the repository is private, gated or does "
           "not exist; check the name, or set HF_TOKEN to a token that can read it",
           detail);
    fail(what,
         ": the hub refused the token in HF_TOKEN (401 Unauthorized): it is invalid or "
         "expired, or the repository does not exist",
         detail);
  }
  if (r.status == 403)
    fail(what, ": access denied (403 Forbidden); the token in HF_TOKEN may lack read permission",
         detail);
  if (r.status == 404) {
    if (code == "RevisionNotFound")
      fail(what, ": no such revision (branch, tag or commit)", detail);
    if (code == "EntryNotFound") fail(what, ": no such file in the repository", detail);
    if (code == "RepoNotFound") fail(repo, ": no such repository on ", s.endpoint, detail);
    fail(what, ": not found (404)", detail);
  }
  fail(what, ": the hub answered HTTP ", r.status, detail);
}

RepoInfo fetch_repo_info(const HubSettings& s, const std::string& repo,
                         const std::string& revision) {
  if (!is_valid_repo_id(repo))
    fail("'", repo, "' is not a Hugging Face repository id (expected ORG/NAME)");
  HttpRequest req;
  req.url = s.endpoint + "/api/models/" + repo + "/revision/" + url_encode(revision, false) +
            "?blobs=true";
  req.headers = auth_headers(s);
  req.headers.push_back("Accept: application/json");
  req.follow_redirects = true;
  HttpResponse r = http_fetch(req);
  if (r.status != 200) fail_hub_status(s, r, repo, repo + "@" + revision);
  RepoInfo info;
  info.repo = repo;
  try {
    auto j = nlohmann::json::parse(r.body);
    if (!j.is_object() || !j.contains("sha") || !j["sha"].is_string())
      fail(req.url, ": the answer has no commit id ('sha')");
    info.commit = j["sha"].get<std::string>();
    if (!is_commit_hash(info.commit)) fail(req.url, ": '", info.commit, "' is not a commit id");
    if (!j.contains("siblings") || !j["siblings"].is_array())
      fail(req.url, ": the answer has no file list ('siblings')");
    for (const auto& f : j["siblings"]) {
      if (!f.is_object() || !f.contains("rfilename") || !f["rfilename"].is_string()) continue;
      RepoFile rf;
      rf.path = f["rfilename"].get<std::string>();
      if (!is_safe_repo_path(rf.path)) continue;  // never let a name escape the snapshot
      if (f.contains("size") && f["size"].is_number_integer()) rf.size = f["size"].get<int64_t>();
      if (f.contains("lfs") && f["lfs"].is_object()) {
        const auto& l = f["lfs"];
        if (l.contains("sha256") && l["sha256"].is_string()) rf.lfs_sha256 = l["sha256"];
        if (l.contains("size") && l["size"].is_number_integer()) rf.size = l["size"].get<int64_t>();
      }
      info.files.push_back(std::move(rf));
    }
  } catch (const nlohmann::json::exception& e) {
    fail(req.url, ": the answer is not the expected JSON: ", e.what());
  }
  return info;
}

FileMetadata fetch_file_metadata(const HubSettings& s, const std::string& repo,
                                 const std::string& commit, const std::string& path) {
  HttpRequest req;
  req.url = resolve_url(s, repo, commit, path);
  req.headers = auth_headers(s);
  req.head = true;
  HttpResponse r;
  // Like huggingface_hub: follow only relative redirects (a renamed repository); an absolute one
  // points at the storage (CDN) the bytes come from.
  for (int hop = 0;; ++hop) {
    r = http_fetch(req);
    const std::string loc = r.header("location");
    if (r.status >= 300 && r.status < 400 && !loc.empty() && loc[0] == '/' && hop < 5) {
      req.url = s.endpoint + loc;
      continue;
    }
    break;
  }
  if (r.status < 200 || r.status >= 400) fail_hub_status(s, r, repo, repo + "/" + path);
  FileMetadata m;
  m.commit = r.header("x-repo-commit");
  m.etag = normalize_etag(r.header("x-linked-etag").empty() ? r.header("etag")
                                                            : r.header("x-linked-etag"));
  m.size = parse_size(r.header("x-linked-size"));
  if (m.size < 0) m.size = parse_size(r.header("content-length"));
  m.location = r.status >= 300 ? r.header("location") : req.url;
  if (m.location.empty()) m.location = req.url;
  if (m.etag.empty())
    fail(repo, "/", path, ": the hub gave no ETag for the file, so it cannot be cached safely");
  // The etag names the blob file: it must not be able to leave blobs/.
  if (m.etag.find_first_of("/\\") != std::string::npos || m.etag == "." || m.etag == ".." ||
      m.etag.size() > 128)
    fail(repo, "/", path, ": the hub gave an unusable ETag '", m.etag, "'");
  return m;
}

}  // namespace ug::hub
