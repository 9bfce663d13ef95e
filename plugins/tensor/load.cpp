// tensor.load — a source stage reading NumPy .npy and .npz files (any numeric
// data: embeddings, item factors, precomputed features) into a float32 tensor.
//
// Reads bool, int8..int64, uint8..uint64, float16 (exactly: every half is a
// float32), float32 and float64, either byte
// order, C or Fortran order (featpipe/npy.hpp), converted to float32 in C
// order. Axes: [row, col] for a 2-D array, [axis0, axis1, ...] otherwise; no
// stream axis. At load time the files' rank is not known: the declared
// output is [row, col] (the common case) unless `axes` names the axes (and
// so the rank) of the arrays, e.g. [channel, height, width] — which later
// steps can then refer to by name or index when the pipeline loads. Each
// file's concrete spec follows from open_file; with `axes`, a file of
// another rank is an error for that file. An .npz (np.savez, compressed or
// not) gives one array: its only one, or the one `key` names. A Kaldi
// archive (.ark, featpipe/kaldi_io.hpp) gives one matrix likewise (its only
// entry, or the one `key` names); "FILE.ark:OFFSET" (an .scp line's second
// field) reads the matrix at OFFSET.
//
// In-memory input (Session::run with a tensor) passes through unchanged.
#include <featpipe/kaldi_io.hpp>
#include <featpipe/npy.hpp>
#include <featpipe/sdk.hpp>
#include <featpipe/version.h>  // built-in plugins carry featpipe's version

#include "npz.hpp"

#include <array>
#include <cctype>
#include <fstream>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace featpipe::tensor {
namespace {

class Load final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "tensor.load";
  static constexpr const char* kDoc =
      "reads a .npy file (bool, integer, float16/32/64 dtypes; C or Fortran order), one array of an "
      ".npz, or one matrix of a Kaldi .ark (by key, or as FILE.ark:OFFSET), as a float32 tensor with axes "
      "[row, col] for 2-D, [axis0, axis1, ...] otherwise.";
  static constexpr const char* kExample = "- use: tensor.load";
  static constexpr const char* kExtensions = "npy npz ark";
  static constexpr uint32_t kFlags = FP_STAGE_SOURCE;
  static constexpr fp_param_desc kParams[] = {
      sdk::Param::Axes("axes", "null").nullable().count(1, FP_MAX_RANK)
          .doc("names of the arrays' axes (their rank); null: [row, col] for 2-D, [axis0, ...] otherwise"),
      sdk::Param::String("key", "null").nullable()
          .doc("the array to read from an .npz (as np.savez named it), or the entry (utterance id) of an .ark; "
               "null: the archive's only one")};

  explicit Load(const sdk::Params& p)
      : names_(p.is_null("axes") ? std::vector<std::string>{} : p.strings("axes")),
        key_(p.is_null("key") ? std::string() : p.s("key")) {
    for (size_t k = 0; k < names_.size(); ++k) {
      sdk::check(!names_[k].empty() && names_[k].size() < FP_AXIS_NAME_MAX, "axes", "axis name '", names_[k],
                 "' must have 1 to ", FP_AXIS_NAME_MAX - 1, " characters");
      for (size_t j = 0; j < k; ++j) sdk::check(names_[j] != names_[k], "axes", "axis '", names_[k], "' named twice");
    }
  }

  sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
    if (in.rank() == 0) {  // a file: its rank as `axes` says, else the common 2-D
      if (names_.empty()) return sdk::Spec({{"row", -1}, {"col", -1}});
      sdk::Spec out;
      for (const auto& n : names_) out.append(n, -1);
      return out;
    }
    info.hop = in.stream_axis() >= 0 ? 1 : 0;  // in-memory tensor: passed through
    return in;
  }

  sdk::Spec start(const sdk::Spec& in) override {
    if (in.rank() == 0 && loaded_) return spec_;  // the file open_file read
    fp_stream_info info{};
    return configure(in, info);
  }

  sdk::Spec open_file(const std::string& path) override {
    loaded_ = pending_ = false;
    npy::Array a;
    std::string ext = path.size() > 4 ? path.substr(path.size() - 4) : "";
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // Folders are walked case-insensitively: X.NPZ too.
    std::string ark;
    int64_t offset = -1;
    // "FILE.ark:OFFSET" only: a file of another name with a colon stays a file.
    const bool at_offset = ext != ".ark" && kaldi::split_rxfilename(path, ark, offset) && ark.size() > 4 &&
                           lower(ark.substr(ark.size() - 4)) == ".ark";
    const std::string kind = ext == ".npz" ? ".npz" : ext == ".ark" || at_offset ? ".ark" : ".npy";
    const std::string cannot = "cannot read " + kind + ": ";
    try {
      if (kind == ".npz") {
        std::istringstream member(npz_member(path, key_));
        a = npy::read(member);
      } else if (kind == ".ark") {
        kaldi::Matrix m = at_offset ? kaldi::read_at(ark, offset) : ark_entry(path, key_);
        a.shape = {m.rows, m.cols};
        a.data = std::move(m.data);
      } else {
        a = npy::read(path);
      }
    } catch (const std::bad_alloc&) {
      throw sdk::Error(sdk::cat(cannot, "the header's shape is too large to load"));
    } catch (const sdk::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw sdk::Error(sdk::cat(cannot, e.what()));
    }
    const size_t rank = a.shape.size();
    sdk::check(rank >= 1, nullptr, cannot, "a 0-d array (a scalar) is not a tensor");
    sdk::check(rank <= FP_MAX_RANK, nullptr, cannot, "rank ", rank, " exceeds ", FP_MAX_RANK);
    sdk::check(!a.data.empty(), nullptr, cannot, "the array is empty (shape ", shape_text(a.shape), ")");
    sdk::check(names_.empty() || names_.size() == rank, nullptr, "the array has rank ", rank, " (shape ",
               shape_text(a.shape), "), the pipeline's `axes` name ", names_.size());
    spec_ = sdk::Spec();
    for (size_t k = 0; k < rank; ++k) {
      const std::string name = !names_.empty() ? names_[k]
                               : rank == 2     ? (k == 0 ? "row" : "col")
                                               : "axis" + std::to_string(k);
      spec_.append(name, a.shape[k]);
    }
    data_ = std::move(a.data);
    loaded_ = pending_ = true;
    return spec_;
  }

  void push(fp_tensor& in, fp_tensor& out) override { out = in; }  // in-memory tensor

  void flush(fp_tensor& out) override {
    out = fp_tensor{};
    if (!pending_) return;
    pending_ = false;
    out.data = data_.data();
    out.rank = spec_.rank();
    for (int k = 0; k < out.rank; ++k) out.shape[k] = spec_.dim(k);
  }

 private:
  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  // The matrix of entry `key` of an ark, or of its only entry when `key` is "".
  static kaldi::Matrix ark_entry(const std::string& path, const std::string& key) {
    std::ifstream is(path, std::ios::binary);
    if (!is) throw sdk::Error(sdk::cat("cannot read .ark: cannot open ", path));
    kaldi::ArkReader reader(is);
    std::string k;
    int64_t offset = 0, rows = 0, cols = 0, found = -1;
    size_t n = 0;
    while (reader.skip(k, offset, rows, cols)) {
      ++n;
      if (key.empty() ? n == 1 : k == key) found = offset;
      if (!key.empty() && found >= 0) break;
    }
    if (found < 0 && key.empty()) throw sdk::Error("cannot read .ark: the archive is empty");
    if (found < 0) throw sdk::Error(sdk::cat("cannot read .ark: no entry '", key, "' among its ", n));
    if (key.empty() && n > 1)
      throw sdk::Error(sdk::cat("cannot read .ark: the archive holds ", n, " entries; set `key` to the one to read"));
    is.clear();
    is.seekg(found);
    return kaldi::read_matrix(is);
  }

  static std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s = "(";
    for (size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
    return s + (shape.size() == 1 ? ",)" : ")");
  }

  std::vector<std::string> names_;  // `axes`, or empty
  std::string key_;                 // `key`, or empty
  sdk::Spec spec_;
  std::vector<float> data_;
  bool loaded_ = false;   // open_file read a file (its spec is spec_)
  bool pending_ = false;  // its data is still to be emitted
};

}  // namespace

fp_stage_desc load_stage() { return sdk::stage<Load>(); }

}  // namespace featpipe::tensor

FEATPIPE_PLUGIN("featpipe-tensor", FEATPIPE_VERSION, featpipe::tensor::load_stage())
