// A float buffer that grows without zero-filling and keeps its memory from
// input to input (std::vector::resize would clear every new element, and a
// fresh allocation per image costs page faults).
#pragma once

#include <cstddef>
#include <memory>

namespace featpipe::image {

class Buffer {
 public:
  float* ensure(size_t n) {
    if (n > cap_) {
      data_ = std::make_unique_for_overwrite<float[]>(n);
      cap_ = n;
    }
    return data_.get();
  }
  float* data() { return data_.get(); }

 private:
  std::unique_ptr<float[]> data_;
  size_t cap_ = 0;
};

}  // namespace featpipe::image
