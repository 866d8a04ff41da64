// The two Hugging Face hub endpoints unigemma uses:
//   GET  {endpoint}/api/models/{repo}/revision/{revision}?blobs=true   commit + file list
//   HEAD {endpoint}/{repo}/resolve/{commit}/{path}                      one file's metadata
// and the messages a user sees when the hub says no (gated, missing, unauthorised).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hub/http_client.h"
#include "hub/hub_settings.h"

namespace ug::hub {

struct RepoFile {
  std::string path;        // "model-00001-of-00005.safetensors", "sub/x.gguf"
  int64_t size = -1;       // -1: unknown
  std::string lfs_sha256;  // the LFS object id (sha256 of the bytes); empty for small files
};

struct RepoInfo {
  std::string repo;
  std::string commit;  // 40 hex digits
  std::vector<RepoFile> files;
};

// Throws ug::Error: gated (accept the licence, set HF_TOKEN), unauthorised, not found,
// network failures, or an answer that is not the expected JSON.
RepoInfo fetch_repo_info(const HubSettings& s, const std::string& repo,
                         const std::string& revision);

// What the hub says about one file before it is downloaded.
struct FileMetadata {
  std::string commit;    // X-Repo-Commit
  std::string etag;      // X-Linked-Etag (LFS: the sha256) or ETag, without quotes and W/
  int64_t size = -1;     // X-Linked-Size or Content-Length
  std::string location;  // where the bytes are: a redirect's Location, else the resolve URL
};

FileMetadata fetch_file_metadata(const HubSettings& s, const std::string& repo,
                                 const std::string& commit, const std::string& path);

std::string resolve_url(const HubSettings& s, const std::string& repo, const std::string& revision,
                        const std::string& path);

// "Authorization: Bearer ..." when a token is set.
std::vector<std::string> auth_headers(const HubSettings& s);

// Throws the ug::Error that explains a failed answer (401/403 gated or unauthorised, 404 repo /
// revision / file, 5xx). what: "google/gemma-4-12B-it" or "google/gemma-4-12B-it/config.json".
[[noreturn]] void fail_hub_status(const HubSettings& s, const HttpResponse& r,
                                  const std::string& repo, const std::string& what);

}  // namespace ug::hub
