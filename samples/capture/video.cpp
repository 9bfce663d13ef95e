// Video: frames from a camera or a video file (OpenCV VideoCapture), each
// run through an image pipeline as an in-memory tensor, with one line per
// frame: its time, the nearest class and the compute time.
#include "capture.hpp"

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <chrono>
#include <cstdio>

namespace capture {
namespace {

// An 8-bit BGR frame as image.decode's files come out: [channel=3, height,
// width] RGB planes in [0, 1]. (In push mode image.decode converts colour
// but does not scale, so the division by 255 happens here.)
featpipe::Tensor to_tensor(const cv::Mat& bgr) {
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  featpipe::Tensor t;
  t.shape = {3, rgb.rows, rgb.cols};
  t.axes = {"channel", "height", "width"};
  t.data.resize(static_cast<size_t>(3 * rgb.rows * rgb.cols));
  std::vector<cv::Mat> planes;
  for (int c = 0; c < 3; ++c)  // each plane a view into the tensor
    planes.emplace_back(rgb.rows, rgb.cols, CV_32F, t.data.data() + static_cast<size_t>(c) * rgb.rows * rgb.cols);
  cv::Mat f;
  rgb.convertTo(f, CV_32FC3, 1.0 / 255.0);
  cv::split(f, planes);
  return t;
}

}  // namespace

int run_video(const Options& o) {
  cv::VideoCapture cap;  // opened first: a bad source fails before any work
  if (o.video.rfind("cam:", 0) == 0) {
    const std::string index = o.video.substr(4);
    if (index.empty() || index.find_first_not_of("0123456789") != std::string::npos)
      throw featpipe::Error("--video cam:N takes a camera number, got '" + o.video + "'");
    cap.open(std::stoi(index));
  } else {
    cap.open(o.video);
  }
  if (!cap.isOpened()) throw featpipe::Error(o.video + ": cannot open (not a video file or camera OpenCV can read)");

  auto pipe = featpipe::Pipeline::load(o.pipeline);
  Prototypes protos;
  protos.build(*pipe, o.classes);
  std::printf("# pipeline %s (%s): output %s\n", pipe->name().c_str(), o.pipeline.c_str(),
              pipe->steps().back().output.axes_text().c_str());
  std::printf("# classes:");
  for (size_t c = 0; c < protos.size(); ++c) std::printf(" %s", protos.label(static_cast<int>(c)).c_str());
  std::printf("\n");

  auto session = pipe->session();
  cv::Mat frame;
  long n = 0;
  while (!g_stop && (o.frames == 0 || n < o.frames) && cap.read(frame) && !frame.empty()) {
    const double t = cap.get(cv::CAP_PROP_POS_MSEC) / 1e3;
    const auto t0 = std::chrono::steady_clock::now();
    featpipe::Tensor feats = session->run(to_tensor(frame));
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const Prototypes::Match m = protos.nearest(Prototypes::summary(feats, false));
    std::printf("frame=%ld t=%.3f size=%dx%d nearest=%s cos=%.4f ms=%.1f\n", n, t, frame.cols, frame.rows,
                m.index >= 0 ? protos.label(m.index).c_str() : "?", m.cosine, ms);
    std::fflush(stdout);
    ++n;
  }
  std::printf("summary frames=%ld\n", n);
  return 0;
}

}  // namespace capture
