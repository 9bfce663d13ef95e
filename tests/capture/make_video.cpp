// Writes a small MJPG .avi for the capture test: each photo, centre-cropped
// to the frame's 3:2 aspect and resized to 480x320, shown for N frames.
//   capture_make_video OUT.avi FRAMES_PER_IMAGE IMAGE...
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: capture_make_video OUT.avi FRAMES_PER_IMAGE IMAGE...\n");
    return 2;
  }
  const cv::Size size(480, 320);
  cv::VideoWriter out(argv[1], cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10.0, size);
  if (!out.isOpened()) {
    std::fprintf(stderr, "capture_make_video: cannot write %s\n", argv[1]);
    return 1;
  }
  const int repeat = std::atoi(argv[2]);
  for (int i = 3; i < argc; ++i) {
    cv::Mat img = cv::imread(argv[i], cv::IMREAD_COLOR);
    if (img.empty()) {
      std::fprintf(stderr, "capture_make_video: cannot read %s\n", argv[i]);
      return 1;
    }
    // Centre crop to 3:2, then resize to the frame size.
    int w = img.cols, h = img.rows;
    if (w * 2 > h * 3) w = h * 3 / 2;
    else h = w * 2 / 3;
    cv::Mat frame;
    cv::resize(img(cv::Rect((img.cols - w) / 2, (img.rows - h) / 2, w, h)), frame, size, 0, 0, cv::INTER_AREA);
    for (int k = 0; k < repeat; ++k) out.write(frame);
  }
  return 0;
}
