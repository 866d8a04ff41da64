// One repository's folder in the Hugging Face hub cache, laid out as huggingface_hub lays it out:
//   models--ORG--NAME/blobs/<etag>                   the bytes (etag: sha256 for LFS files,
//                                                    the git blob id for small ones)
//   models--ORG--NAME/snapshots/<commit>/<path>     symlinks to ../../blobs/<etag>
//   models--ORG--NAME/refs/<revision>               the commit a branch or tag pointed to
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ug::hub {

// "org/name": one '/', names of [A-Za-z0-9._-] not starting or ending with '.' or '-', no "..".
bool is_valid_repo_id(const std::string& repo);
// A path inside a repository: relative, no empty, "." or ".." segments, no backslashes.
bool is_safe_repo_path(const std::string& path);
// A 40-hex-digit commit id.
bool is_commit_hash(const std::string& s);

class HfRepoCache {
 public:
  // Throws ug::Error for an invalid repo id.
  HfRepoCache(std::filesystem::path cache_dir, const std::string& repo);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path blob(const std::string& etag) const;
  std::filesystem::path snapshot_dir(const std::string& commit) const;
  std::filesystem::path snapshot_file(const std::string& commit, const std::string& path) const;

  // The commit a revision resolves to in the cache: the revision itself when it is a commit
  // hash, else the content of refs/<revision>; nullopt when unknown.
  std::optional<std::string> commit_for(const std::string& revision) const;
  void write_ref(const std::string& revision, const std::string& commit) const;

  // snapshots/<commit>/<path> -> ../../blobs/<etag> (relative, as huggingface_hub makes it);
  // a copy where the file system has no symlinks.
  void link(const std::string& commit, const std::string& path, const std::string& etag) const;

  // Files of a cached snapshot whose blobs exist, as repository paths ("a/b.gguf").
  std::vector<std::string> snapshot_files(const std::string& commit) const;

 private:
  std::filesystem::path root_;
};

}  // namespace ug::hub
