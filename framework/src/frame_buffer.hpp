// Chunks of a pipeline's output appended along the stream axis and laid
// out as one tensor on demand: the batch result of a session and the
// frames a stream hands out on pull. Capacity is kept from take to take,
// so a steady stream does not allocate.
#pragma once

#include <featpipe/sdk.hpp>

#include <algorithm>
#include <cstring>
#include <vector>

namespace featpipe {

class FrameBuffer {
 public:
  // Appends a chunk whose frames run along `stream_axis` (a tensor without
  // one counts as a single chunk along axis 0).
  void append(const fp_tensor& t, int stream_axis) {
    sa_ = std::max(stream_axis, 0);
    like_ = t;
    const int64_t len = t.rank > sa_ ? t.shape[sa_] : 1;
    outer_ = sdk::span_of(t, 0, sa_);
    inner_ = sdk::span_of(t, sa_ + 1, t.rank);
    if (outer_ == 1) {  // the frames are the leading axis: a plain append
      data_.insert(data_.end(), t.data, t.data + len * inner_);
    } else {  // kept frame-major [frame][outer][inner] until take()
      const size_t at = data_.size();
      data_.resize(at + static_cast<size_t>(len * outer_ * inner_));
      for (int64_t f = 0; f < len; ++f)
        for (int64_t o = 0; o < outer_; ++o)
          std::memcpy(&data_[at + static_cast<size_t>((f * outer_ + o) * inner_)], t.data + (o * len + f) * inner_,
                      sizeof(float) * static_cast<size_t>(inner_));
    }
    frames_ += len;
  }

  int64_t frames() const { return frames_; }

  // Moves the frames into `out` in the chunks' own axis order and sets
  // `shape` (the last chunk's, with frames() along the stream axis); the
  // buffer is empty afterwards and keeps `out`'s former capacity.
  template <class Shape>
  void take(std::vector<float>& out, Shape& shape, int& rank) {
    rank = like_.rank;
    for (int k = 0; k < rank; ++k) shape[k] = like_.shape[k];
    if (rank > sa_) shape[sa_] = frames_;
    if (outer_ == 1) {
      out.swap(data_);
    } else {
      out.resize(data_.size());
      for (int64_t f = 0; f < frames_; ++f)
        for (int64_t o = 0; o < outer_; ++o)
          std::memcpy(&out[static_cast<size_t>((o * frames_ + f) * inner_)], &data_[static_cast<size_t>((f * outer_ + o) * inner_)],
                      sizeof(float) * static_cast<size_t>(inner_));
    }
    clear();
  }

  void clear() {
    data_.clear();
    frames_ = 0;
  }

  int stream_axis() const { return sa_; }

 private:
  std::vector<float> data_;
  fp_tensor like_{};
  int sa_ = 0;
  int64_t frames_ = 0, outer_ = 1, inner_ = 1;
};

}  // namespace featpipe
