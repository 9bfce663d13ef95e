// capture — a live featpipe application: microphone/stdin audio through a
// streaming pipeline, or camera/video frames through an image pipeline,
// printing per-frame energy and nearest class. See README.md.
#include "capture.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

const char* kUsage =
    "usage: capture --audio SOURCE [--rate HZ] [--chunk SAMPLES] [--every FRAMES] [--seconds S]\n"
    "               [--pipeline FILE.yaml] [--class FILE|DIR]...\n"
    "       capture --video SOURCE [--frames N] [--pipeline FILE.yaml] [--class FILE|DIR]...\n"
    "  audio SOURCE: '-' (raw s16le mono PCM on standard input) or alsa:DEVICE (e.g. alsa:default)\n"
    "  video SOURCE: a video file, or cam:N (camera N)\n"
    "  --class: reference files (or folders of them); each file is a class, named by its stem,\n"
    "           whose prototype is its mean feature vector (default: samples/audio or samples/images)\n"
    "  --pipeline default: pipelines/speech-logmel.yaml (else samples/capture/logmel.yaml) for audio,\n"
    "           pipelines/image-embedding.yaml for video\n";

[[noreturn]] void usage_error(const std::string& msg) {
  std::fprintf(stderr, "capture: %s\n%s", msg.c_str(), kUsage);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  capture::Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(a + " needs a value");
      return argv[++i];
    };
    auto number = [&]() -> double {
      const std::string v = value();
      char* end = nullptr;
      const double x = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || !(x >= 0)) usage_error(a + " takes a non-negative number, got '" + v + "'");
      return x;
    };
    if (a == "--audio") o.audio = value();
    else if (a == "--video") o.video = value();
    else if (a == "--pipeline") o.pipeline = value();
    else if (a == "--class") o.classes.push_back(value());
    else if (a == "--rate") o.rate = number();
    else if (a == "--chunk") o.chunk = static_cast<int>(number());
    else if (a == "--every") o.every = static_cast<int>(number());
    else if (a == "--seconds") o.seconds = number();
    else if (a == "--frames") o.frames = static_cast<long>(number());
    else if (a == "-h" || a == "--help") return std::printf("%s", kUsage), 0;
    else usage_error("unknown argument '" + a + "'");
  }
  if (o.audio.empty() == o.video.empty()) usage_error("give one of --audio or --video");
  if (o.rate <= 0 || o.chunk < 1 || o.every < 1) usage_error("--rate, --chunk and --every must be positive");

  // Defaults: the repository this sample was built from.
  const std::string repo = std::string(CAPTURE_SOURCE_DIR) + "/../..";
  if (o.pipeline.empty()) {
    if (!o.audio.empty())
      o.pipeline = std::filesystem::exists(repo + "/pipelines/speech-logmel.yaml")
                       ? repo + "/pipelines/speech-logmel.yaml"
                       : std::string(CAPTURE_SOURCE_DIR) + "/logmel.yaml";
    else
      o.pipeline = repo + "/pipelines/image-embedding.yaml";
  }
  if (o.classes.empty()) o.classes.push_back(repo + (o.audio.empty() ? "/samples/images" : "/samples/audio"));

  // Ctrl-C ends the capture cleanly: flush, print the last block and summary.
  struct sigaction sa {};
  sa.sa_handler = [](int) { capture::g_stop = true; };
  sigaction(SIGINT, &sa, nullptr);  // no SA_RESTART: a blocking read returns
  try {
    return o.audio.empty() ? capture::run_video(o) : capture::run_audio(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "capture: %s\n", e.what());
    return 1;
  }
}
