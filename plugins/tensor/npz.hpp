// Reading one array out of a NumPy .npz file (np.savez / np.savez_compressed:
// a zip archive of .npy members, stored or deflated, zip64 as numpy writes it).
#pragma once

#include <string>

namespace featpipe::tensor {

// The bytes of the .npy member for array `key`; an empty key takes the only
// array of the archive. Throws std::runtime_error saying what is wrong
// (not a zip archive, no such array, several arrays and no key, truncated,
// an unsupported compression method, a CRC mismatch).
std::string npz_member(const std::string& path, const std::string& key);

}  // namespace featpipe::tensor
