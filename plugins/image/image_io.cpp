#include "image_io.hpp"

#include <featpipe/sdk.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <turbojpeg.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace featpipe::image {
namespace {

using sdk::Error;

uint32_t be16(const uint8_t* p) { return (uint32_t(p[0]) << 8) | p[1]; }
uint32_t be32(const uint8_t* p) { return (be16(p) << 16) | be16(p + 2); }
uint32_t le16(const uint8_t* p) { return (uint32_t(p[1]) << 8) | p[0]; }
uint32_t le24(const uint8_t* p) { return (uint32_t(p[2]) << 16) | le16(p); }
uint32_t le32(const uint8_t* p) { return (le16(p + 2) << 16) | le16(p); }

HeaderSize png_size(const std::vector<uint8_t>& b) {
  // signature (8), IHDR length (4), "IHDR" (4), width (4), height (4)
  if (b.size() < 24 || std::memcmp(b.data() + 12, "IHDR", 4) != 0) return {};
  return {true, be32(b.data() + 16), be32(b.data() + 20)};
}

HeaderSize jpeg_size(const std::vector<uint8_t>& b) {
  // Walk the markers up to the first start-of-frame (SOF0..SOF15 but DHT,
  // JPG and DAC), which holds height and width.
  size_t p = 2;
  while (p + 4 <= b.size()) {
    if (b[p] != 0xFF) return {};
    uint8_t m = b[p + 1];
    if (m == 0xFF) { ++p; continue; }  // fill byte
    if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) { p += 2; continue; }
    uint32_t len = be16(b.data() + p + 2);
    if (len < 2) return {};
    bool sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
    if (sof) {
      if (p + 9 > b.size()) return {};
      return {true, be16(b.data() + p + 7), be16(b.data() + p + 5)};
    }
    if (m == 0xDA || m == 0xD9) return {};  // scan or end before any frame
    p += 2 + len;
  }
  return {};
}

HeaderSize bmp_size(const std::vector<uint8_t>& b) {
  if (b.size() < 26) return {};
  uint32_t hdr = le32(b.data() + 14);
  if (hdr == 12) return {true, le16(b.data() + 18), le16(b.data() + 20)};  // OS/2 core header
  int32_t w = static_cast<int32_t>(le32(b.data() + 18)), h = static_cast<int32_t>(le32(b.data() + 22));
  return {true, std::abs(int64_t{w}), std::abs(int64_t{h})};  // negative height: top-down
}

HeaderSize webp_size(const std::vector<uint8_t>& b) {
  if (b.size() < 30) return {};
  const uint8_t* c = b.data() + 12;
  if (std::memcmp(c, "VP8X", 4) == 0)
    return {true, 1 + le24(c + 12), 1 + le24(c + 15)};  // 24-bit canvas sizes minus one, bytes 24..29
  if (std::memcmp(c, "VP8L", 4) == 0) {
    uint32_t v = le32(c + 9);
    return {true, 1 + (v & 0x3FFF), 1 + ((v >> 14) & 0x3FFF)};
  }
  if (std::memcmp(c, "VP8 ", 4) == 0) return {true, le16(c + 14) & 0x3FFF, le16(c + 16) & 0x3FFF};
  return {};
}

HeaderSize tiff_size(const std::vector<uint8_t>& b) {
  // The first IFD's ImageWidth (256) and ImageLength (257) tags.
  if (b.size() < 8) return {};
  bool le = b[0] == 'I';
  auto u16 = [&](size_t p) { return le ? le16(b.data() + p) : be16(b.data() + p); };
  auto u32 = [&](size_t p) { return le ? le32(b.data() + p) : be32(b.data() + p); };
  size_t ifd = u32(4);
  if (ifd + 2 > b.size()) return {};
  uint32_t n = u16(ifd);
  HeaderSize s;
  int found = 0;
  for (uint32_t k = 0; k < n; ++k) {
    size_t e = ifd + 2 + 12 * size_t{k};
    if (e + 12 > b.size()) return {};
    uint32_t tag = u16(e), type = u16(e + 2);
    if (tag != 256 && tag != 257) continue;
    int64_t v = type == 3 ? u16(e + 8) : u32(e + 8);  // SHORT or LONG
    (tag == 256 ? s.width : s.height) = v;
    ++found;
  }
  s.ok = found == 2;
  return s;
}

struct TjDeleter {
  void operator()(void* h) const { if (h) tjDestroy(h); }
};

// JPEG through TurboJPEG: the same libjpeg-turbo PIL links, with the same
// defaults (accurate integer IDCT, fancy upsampling), so pixels equal PIL's.
// Unlike cv::imdecode it reports a truncated stream instead of padding the
// image with gray. Returns an empty Mat for colour spaces it cannot convert
// (CMYK), which then go through OpenCV.
cv::Mat decode_jpeg(const std::vector<uint8_t>& b, std::vector<uint8_t>& storage) {
  thread_local std::unique_ptr<void, TjDeleter> handle(tjInitDecompress());
  void* h = handle.get();
  if (!h) throw Error("cannot initialize the JPEG decoder");
  int w = 0, ht = 0, subsamp = 0, cs = 0;
  auto* src = const_cast<unsigned char*>(b.data());
  if (tjDecompressHeader3(h, src, b.size(), &w, &ht, &subsamp, &cs) != 0)
    throw Error(sdk::cat("corrupt JPEG header: ", tjGetErrorStr2(h)));
  if (cs == TJCS_CMYK || cs == TJCS_YCCK) return {};
  bool gray = cs == TJCS_GRAY;
  storage.resize(static_cast<size_t>(w) * ht * (gray ? 1 : 3));
  cv::Mat img(ht, w, gray ? CV_8UC1 : CV_8UC3, storage.data());
  int rc = tjDecompress2(h, src, b.size(), img.data, w, 0, ht, gray ? TJPF_GRAY : TJPF_RGB, 0);
  if (rc != 0) {
    std::string why = tjGetErrorStr2(h);
    // Warnings such as "extraneous bytes before marker" leave a complete
    // image (PIL accepts those too); a premature end does not.
    if (tjGetErrorCode(h) != TJERR_WARNING || why.find("Premature end") != std::string::npos)
      throw Error(sdk::cat("corrupt or truncated JPEG data: ", why));
  }
  return img;
}

}  // namespace

const char* format_name(Format f) {
  switch (f) {
    case Format::png: return "PNG";
    case Format::jpeg: return "JPEG";
    case Format::bmp: return "BMP";
    case Format::tiff: return "TIFF";
    case Format::webp: return "WebP";
    default: return "unknown";
  }
}

Format sniff(const std::vector<uint8_t>& b) {
  auto starts = [&](const char* magic, size_t n, size_t at = 0) {
    return b.size() >= at + n && std::memcmp(b.data() + at, magic, n) == 0;
  };
  if (starts("\x89PNG\r\n\x1a\n", 8)) return Format::png;
  if (starts("\xFF\xD8\xFF", 3)) return Format::jpeg;
  if (starts("BM", 2)) return Format::bmp;
  if (starts("II*\0", 4) || starts("MM\0*", 4)) return Format::tiff;
  if (starts("RIFF", 4) && starts("WEBP", 4, 8)) return Format::webp;
  return Format::unknown;
}

HeaderSize header_size(const std::vector<uint8_t>& b, Format f) {
  switch (f) {
    case Format::png: return png_size(b);
    case Format::jpeg: return jpeg_size(b);
    case Format::bmp: return bmp_size(b);
    case Format::tiff: return tiff_size(b);
    case Format::webp: return webp_size(b);
    default: return {};
  }
}

void read_file(const std::string& path, std::vector<uint8_t>& out) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw Error(sdk::cat("cannot open: ", std::strerror(errno)));
  out.clear();
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) out.insert(out.end(), buf, buf + n);
  if (std::ferror(f.get())) throw Error(sdk::cat("cannot read: ", std::strerror(errno)));
}

cv::Mat decode(const std::vector<uint8_t>& bytes, int64_t max_pixels, std::vector<uint8_t>& storage) {
  if (bytes.empty()) throw Error("empty file (0 bytes): not an image");
  Format fmt = sniff(bytes);
  if (fmt == Format::unknown) {
    char head[32];
    std::snprintf(head, sizeof head, "%02x %02x %02x %02x", bytes[0], bytes.size() > 1 ? bytes[1] : 0,
                  bytes.size() > 2 ? bytes[2] : 0, bytes.size() > 3 ? bytes[3] : 0);
    throw Error(sdk::cat("not an image: unrecognized header bytes (", head,
                         "); expected PNG, JPEG, BMP, TIFF or WebP"));
  }
  HeaderSize sz = header_size(bytes, fmt);
  if (!sz.ok) throw Error(sdk::cat("truncated or malformed ", format_name(fmt), " header"));
  if (sz.width <= 0 || sz.height <= 0)
    throw Error(sdk::cat(format_name(fmt), " header gives an empty image: ", sz.width, "x", sz.height));
  // By division: two 32-bit header sizes multiply past int64 (found by fuzz_image_decode).
  if (sz.width > max_pixels / sz.height)
    throw Error(sdk::cat(format_name(fmt), " header claims ", sz.width, "x", sz.height, " = ",
                         static_cast<uint64_t>(sz.width) * static_cast<uint64_t>(sz.height),
                         " pixels, more than max_pixels (", max_pixels, "): refused without decoding (decompression bomb?)"));

  cv::Mat img;
  if (fmt == Format::jpeg) img = decode_jpeg(bytes, storage);
  if (img.empty()) {
    // Keep alpha out, bit depth in, and ignore EXIF orientation.
    int flags = cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR | cv::IMREAD_IGNORE_ORIENTATION;
    try {
      img = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<uint8_t*>(bytes.data())),
                         flags);
    } catch (const cv::Exception& e) {
      throw Error(sdk::cat("cannot decode ", format_name(fmt), " data: ", e.err));
    }
    if (img.empty())
      throw Error(sdk::cat("cannot decode ", format_name(fmt), " data (corrupt or truncated file)"));
    if (img.channels() == 3) cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
  }
  if (img.rows != sz.height || img.cols != sz.width)
    throw Error(sdk::cat("decoded size ", img.cols, "x", img.rows, " differs from the header's ", sz.width, "x",
                         sz.height));
  int depth = img.depth();
  if (depth != CV_8U && depth != CV_16U && depth != CV_32F)
    throw Error(sdk::cat("unsupported pixel type in ", format_name(fmt), " file (OpenCV depth ", depth, ")"));
  return img;
}

}  // namespace featpipe::image
