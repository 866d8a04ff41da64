#include "hub/hf_download.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "base/error.h"
#include "hub/hf_cache.h"
#include "hub/progress_bar.h"
#include "hub/sha256.h"

namespace ug::hub {

namespace fs = std::filesystem;

namespace {

// An exclusive flock on blobs/<etag>.lock, so two processes never write the same blob.
class BlobLock {
 public:
  explicit BlobLock(const fs::path& p) {
    fd_ = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) fail(p.string(), ": cannot create the lock file");
    ::flock(fd_, LOCK_EX);
  }
  ~BlobLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_ = -1;
};

// Hashes what a previous attempt left in the partial file, so a resumed download is checked
// over all its bytes without reading them twice.
int64_t hash_existing(const fs::path& p, Sha256& h) {
  std::FILE* f = std::fopen(p.c_str(), "rb");
  if (!f) return 0;
  std::vector<char> buf(1 << 20);
  int64_t total = 0;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
    h.update(buf.data(), n);
    total += static_cast<int64_t>(n);
  }
  std::fclose(f);
  return total;
}

// Fills `part` with the blob's bytes from `url`, resuming what is there. Returns the sha256.
std::string fetch_blob(const HubSettings& s, const std::string& repo, const std::string& label,
                       const std::string& url, const fs::path& part, int64_t size) {
  Sha256 hash;
  int64_t have = hash_existing(part, hash);
  if (size >= 0 && have > size) {  // longer than the file: not ours, start over
    fs::remove(part);
    hash.reset();
    have = 0;
  }
  // Only the hub itself gets the token; a storage (CDN) URL is already signed.
  const bool same_host = url_host(url) == url_host(s.endpoint);
  ProgressBar bar(label, size, have, s.progress);
  double delay = s.retry_delay_s;
  std::string last_error;
  bool done = false;
  for (int attempt = 0; attempt < std::max(1, s.attempts); ++attempt) {
    if (size >= 0 && have == size) {
      done = true;
      break;
    }
    if (attempt > 0) {
      std::fprintf(stderr, "\n%s: %s at %s; resuming in %.0f s (attempt %d of %d)\n", label.c_str(),
                   last_error.c_str(), format_bytes(double(have)).c_str(), delay, attempt + 1,
                   s.attempts);
      std::this_thread::sleep_for(std::chrono::duration<double>(delay));
      delay *= 2;
    }
    std::FILE* out = std::fopen(part.c_str(), have > 0 ? "ab" : "wb");
    if (!out) fail(part.string(), ": cannot open for writing");
    HttpRequest req;
    req.url = url;
    if (same_host) req.headers = auth_headers(s);
    req.follow_redirects = true;
    req.resume_from = have;
    bool write_failed = false, restarted = false;
    int64_t got = have;
    StreamResult r;
    try {
      r = http_stream(req, [&](long status, const char* data, size_t n) {
        // A server that ignores the Range answers 200 with the whole file: start over.
        if (status == 200 && have > 0 && !restarted) {
          restarted = true;
          out = std::freopen(part.c_str(), "wb", out);
          if (!out) {
            write_failed = true;
            return false;
          }
          hash.reset();
          got = 0;
        }
        if (std::fwrite(data, 1, n, out) != n) {
          write_failed = true;
          return false;
        }
        hash.update(data, n);
        got += static_cast<int64_t>(n);
        bar.update(got);
        return true;
      });
    } catch (const Error& e) {
      if (out) std::fclose(out);
      last_error = e.what();
      continue;  // the network is down: try again after the delay
    }
    const bool closed_ok = out && std::fclose(out) == 0;
    if (write_failed || !closed_ok) {
      bar.finish(false);
      fail(part.string(), ": cannot write (disk full?)");
    }
    const long st = r.response.status;
    if (st == 416) {  // nothing left to send: what we have is either the file or garbage
      if (size >= 0 && have == size) {
        done = true;
        break;
      }
      fs::remove(part);
      hash.reset();
      have = 0;
      last_error = "the server refused the resume point";
      continue;
    }
    have = got;  // the sink only ever sees a 2xx body
    if (st >= 500 || st == 429) {
      last_error = "the server answered HTTP " + std::to_string(st);
      continue;
    }
    if (st < 200 || st >= 300) {
      bar.finish(false);
      fail_hub_status(s, r.response, repo, label);
    }
    if (r.complete && (size < 0 || have == size)) {
      done = true;
      break;
    }
    last_error = r.complete ? "the transfer ended early" : "the connection broke (" + r.error + ")";
  }
  if (!done) {
    bar.finish(false);
    fail(label, ": download failed after ", s.attempts, " attempts: ", last_error, " (",
         format_bytes(double(have)), size >= 0 ? " of " + format_bytes(double(size)) : "",
         " kept; run the command again to resume)");
  }
  bar.finish(true);
  return hash.hex_digest();
}

}  // namespace

fs::path download_file(const HubSettings& s, const std::string& repo, const std::string& commit,
                       const RepoFile& file) {
  if (!is_safe_repo_path(file.path)) fail(repo, ": refusing the file name '", file.path, "'");
  HfRepoCache cache(s.cache_dir, repo);
  const fs::path snap = cache.snapshot_file(commit, file.path);
  std::error_code ec;
  if (fs::is_regular_file(snap, ec) &&
      (file.size < 0 || static_cast<int64_t>(fs::file_size(snap, ec)) == file.size))
    return snap;
  const std::string label = repo + "/" + file.path;
  if (s.offline)
    fail(label, ": not in the cache (", s.cache_dir.string(),
         ") and HF_HUB_OFFLINE is set, so it cannot be downloaded");

  FileMetadata meta = fetch_file_metadata(s, repo, commit, file.path);
  const int64_t size = file.size >= 0 ? file.size : meta.size;
  if (file.size >= 0 && meta.size >= 0 && meta.size != file.size)
    fail(label, ": the hub lists ", file.size, " bytes but the file has ", meta.size);
  // The expected hash: the LFS id from the file list, else an LFS etag (64 hex digits).
  std::string want =
      file.lfs_sha256.empty() && is_sha256_hex(meta.etag) ? meta.etag : file.lfs_sha256;
  fs::create_directories(cache.root() / "blobs");
  const fs::path blob = cache.blob(meta.etag);
  // Locks live where huggingface_hub keeps them: <cache>/.locks/models--org--name/<etag>.lock.
  const fs::path locks = s.cache_dir / ".locks" / cache.root().filename();
  fs::create_directories(locks);
  {
    BlobLock lock(locks / (meta.etag + ".lock"));
    if (!fs::is_regular_file(blob, ec)) {
      const fs::path part = blob.string() + ".incomplete";
      const std::string got = fetch_blob(s, repo, label, meta.location, part, size);
      if (!want.empty() && got != want) {
        fs::remove(part, ec);
        fail(label, ": the downloaded bytes have sha256 ", got, " but the hub's LFS id is ", want,
             "; the file was deleted (a corrupted transfer or a tampered mirror)");
      }
      fs::rename(part, blob);
    }
  }
  cache.link(commit, file.path, meta.etag);
  return snap;
}

}  // namespace ug::hub
