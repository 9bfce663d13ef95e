// Image file reading for image.decode: format sniffing, header-only size
// checks (decompression bombs are refused before any pixel is allocated),
// JPEG through libjpeg-turbo's TurboJPEG API, the rest through OpenCV.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace featpipe::image {

enum class Format { unknown, png, jpeg, bmp, tiff, webp };

const char* format_name(Format f);

// The format by its magic bytes (the extension is not trusted).
Format sniff(const std::vector<uint8_t>& bytes);

struct HeaderSize {
  bool ok = false;      // false: the header is too short or malformed
  int64_t width = 0, height = 0;
};

// Width and height as the file's header states them, without decoding.
HeaderSize header_size(const std::vector<uint8_t>& bytes, Format f);

// Decodes a whole file to an 8-bit (CV_8UC1/CV_8UC3), 16-bit (CV_16UC1/3)
// or float (CV_32FC1/3) image with channels in RGB order (or gray). Alpha is
// dropped; EXIF orientation is ignored (as PIL and torchvision do).
// Refuses images of more than `max_pixels` pixels by their header. Throws
// sdk::Error with a message naming the problem (the engine adds the file).
// JPEG pixels land in `storage` (reused from call to call: no page faults
// for a fresh multi-megabyte buffer per image); the result may point there.
cv::Mat decode(const std::vector<uint8_t>& bytes, int64_t max_pixels, std::vector<uint8_t>& storage);

// Reads a whole file into `out` (its capacity reused); throws sdk::Error
// when it cannot.
void read_file(const std::string& path, std::vector<uint8_t>& out);

}  // namespace featpipe::image
