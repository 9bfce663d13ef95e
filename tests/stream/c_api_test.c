/* The C API from C: load a pipeline, run a file, stream the same samples in
 * odd-sized pushes, and get the same frames; errors come back as NULL/-1
 * with a message. Usage: c_api_test WORK_DIR */
#include <featpipe/featpipe.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CHECK(cond, ...)                                        \
  do {                                                          \
    if (!(cond)) {                                              \
      fprintf(stderr, "c_api_test: FAILED %s: ", #cond);        \
      fprintf(stderr, __VA_ARGS__);                             \
      fprintf(stderr, " (last error: %s)\n", featpipe_last_error()); \
      exit(1);                                                  \
    }                                                           \
  } while (0)

enum { RATE = 16000, N = 12345 };

static void put32(FILE *f, unsigned v) { fputc(v & 255, f); fputc(v >> 8 & 255, f); fputc(v >> 16 & 255, f); fputc(v >> 24, f); }
static void put16(FILE *f, unsigned v) { fputc(v & 255, f); fputc(v >> 8 & 255, f); }

/* A 16-bit mono WAV of a chirp, written by hand. */
static void write_wav(const char *path, const short *x, int n) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL, "cannot write %s", path);
  fwrite("RIFF", 1, 4, f); put32(f, 36 + 2 * n); fwrite("WAVEfmt ", 1, 8, f);
  put32(f, 16); put16(f, 1); put16(f, 1); put32(f, RATE); put32(f, RATE * 2); put16(f, 2); put16(f, 16);
  fwrite("data", 1, 4, f); put32(f, 2 * n);
  for (int k = 0; k < n; ++k) put16(f, (unsigned short)x[k]);
  fclose(f);
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CHECK(f != NULL, "cannot write %s", path);
  fputs(text, f);
  fclose(f);
}

int main(int argc, char **argv) {
  CHECK(argc == 2, "usage: c_api_test WORK_DIR");
  char pipe_path[4096], wav_path[4096], bad_path[4096], whole_path[4096];
  mkdir(argv[1], 0755);
  snprintf(pipe_path, sizeof pipe_path, "%s/logmel.yaml", argv[1]);
  snprintf(wav_path, sizeof wav_path, "%s/chirp.wav", argv[1]);
  snprintf(bad_path, sizeof bad_path, "%s/bad.yaml", argv[1]);
  snprintf(whole_path, sizeof whole_path, "%s/whole.yaml", argv[1]);
  write_text(pipe_path,
             "featpipe: 1\nname: logmel\nstages:\n  - use: audio.decode\n  - use: audio.stft\n"
             "    with: {n_fft: 512, win_length: 400, hop_length: 160}\n  - use: audio.mel\n    with: {n_mels: 40}\n"
             "  - use: math.log\n");
  write_text(bad_path, "featpipe: 1\nname: bad\nstages:\n  - use: audio.stfft\n");
  write_text(whole_path, "featpipe: 1\nname: w\nstages:\n  - use: audio.decode\n  - use: audio.stft\n  - use: audio.mel\n  - use: norm.cmvn\n");

  static short x[N];
  for (int k = 0; k < N; ++k) x[k] = (short)lround(12000.0 * sin(2 * M_PI * (100.0 + 3000.0 * k / N) * k / RATE));
  write_wav(wav_path, x, N);

  CHECK(strcmp(featpipe_version(), "") != 0, "no version");
  CHECK(featpipe_load(bad_path) == NULL, "a bad pipeline must not load");
  CHECK(strstr(featpipe_last_error(), "bad.yaml:4:10: unknown stage 'audio.stfft'") != NULL, "message: %s", featpipe_last_error());

  featpipe_pipeline *p = featpipe_load(pipe_path);
  CHECK(p != NULL, "load");
  CHECK(featpipe_latency_samples(p) == 256, "latency %g", featpipe_latency_samples(p));

  featpipe_session *s = featpipe_session_new(p);
  CHECK(s != NULL, "session");
  featpipe_array batch;
  CHECK(featpipe_run_file(s, wav_path, &batch) == 0, "run_file");
  CHECK(batch.rank == 2 && batch.shape[0] == 1 + N / 160 && batch.shape[1] == 40, "shape %lld x %lld",
        (long long)batch.shape[0], (long long)batch.shape[1]);
  CHECK(strcmp(batch.axes[0], "frame") == 0 && strcmp(batch.axes[1], "mel") == 0, "axes %s %s", batch.axes[0], batch.axes[1]);
  featpipe_array missing;
  CHECK(featpipe_run_file(s, "/nonexistent.wav", &missing) == -1, "a missing file must fail");

  featpipe_stream *st = featpipe_stream_open(p, RATE, 1);
  CHECK(st != NULL, "stream_open");
  float *got = calloc((size_t)(batch.shape[0] * 40), sizeof(float));
  long long frames = 0;
  int at = 0, size = 1;
  while (at <= N) {
    featpipe_array a;
    if (at < N) {
      int n = at + size > N ? N - at : size;
      CHECK(featpipe_stream_push_s16(st, x + at, (size_t)n) == 0, "push");
      at += n;
      size = size * 3 % 997 + 1; /* odd sizes: 1, 4, 13, 40, ... */
    } else {
      CHECK(featpipe_stream_flush(st) == 0, "flush");
      at = N + 1;
    }
    CHECK(featpipe_stream_pull(st, &a) == 0, "pull");
    CHECK(frames + a.shape[0] <= batch.shape[0], "too many frames");
    if (a.shape[0]) memcpy(got + frames * 40, a.data, sizeof(float) * (size_t)(a.shape[0] * 40));
    frames += a.shape[0];
  }
  CHECK(frames == batch.shape[0], "streamed %lld frames, batch %lld", frames, (long long)batch.shape[0]);
  double worst = 0;
  for (long long k = 0; k < frames * 40; ++k) {
    double d = fabs(got[k] - batch.data[k]) / fmax(1.0, fabs(batch.data[k]));
    if (d > worst) worst = d;
  }
  CHECK(worst <= 1e-6, "stream differs from batch by %g", worst);

  featpipe_pipeline *w = featpipe_load(whole_path);
  CHECK(w != NULL, "load whole");
  CHECK(featpipe_latency_samples(w) == -1, "batch-only latency");
  CHECK(featpipe_stream_open(w, RATE, 1) == NULL, "a whole-input pipeline must not stream");
  CHECK(strstr(featpipe_last_error(), "needs the whole input") != NULL, "message: %s", featpipe_last_error());

  free(got);
  featpipe_stream_free(st);
  featpipe_session_free(s);
  featpipe_pipeline_free(p);
  featpipe_pipeline_free(w);
  printf("c_api_test: ok (%lld frames, stream == batch within %g)\n", frames, worst);
  return 0;
}
