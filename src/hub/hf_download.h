// Downloads one file of a Hugging Face repository into the hub cache (huggingface_hub's
// hf_hub_download): the bytes land in blobs/<etag>.incomplete, resume with a Range request after
// a broken connection (in this run or a later one), are checked against the LFS sha256, then
// become blobs/<etag> and get their snapshots/<commit>/<path> link.
#pragma once

#include <filesystem>
#include <string>

#include "hub/hf_api.h"
#include "hub/hub_settings.h"

namespace ug::hub {

// Returns snapshots/<commit>/<file.path>. A file whose snapshot link already resolves is not
// fetched again. Throws ug::Error when the hub refuses, the network fails on every attempt, or
// the bytes do not hash to the LFS id (the partial file is deleted).
std::filesystem::path download_file(const HubSettings& s, const std::string& repo,
                                    const std::string& commit, const RepoFile& file);

}  // namespace ug::hub
