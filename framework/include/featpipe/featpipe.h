/* featpipe C API — for capture applications in C and for foreign-function
 * use (Python ctypes, Rust, Swift). A thin layer over the C++ API
 * (featpipe.hpp) with the same behaviour. A complete program in C
 * (tests/docs extracts it from this comment, builds it and runs it):
 *
 *   #include <featpipe/featpipe.h>
 *
 *   #include <stdio.h>
 *
 *   int main(int argc, char **argv) {  // app PIPELINE, e.g. pipelines/speech-logmel.yaml
 *     if (argc != 2) return 2;
 *     featpipe_pipeline *p = featpipe_load(argv[1]);
 *     featpipe_stream *s = p ? featpipe_stream_open(p, 16000, 1) : NULL;
 *     if (!s) {
 *       fprintf(stderr, "%s\n", featpipe_last_error());
 *       return 1;
 *     }
 *     static int16_t buf[1600];  // 100 ms at 16 kHz, as a capture callback would hand it over
 *     for (int k = 0; k < 1600; ++k) buf[k] = (int16_t)((k % 100) * 200 - 10000);
 *     featpipe_array out;
 *     long frames = 0;
 *     for (int push = 0; push < 10; ++push) {
 *       if (featpipe_stream_push_s16(s, buf, 1600) != 0) return 1;
 *       if (featpipe_stream_pull(s, &out) == 0 && out.rank > 0) frames += (long)out.shape[out.stream_axis];
 *     }
 *     featpipe_stream_flush(s);  // end of input: its last frames come from one more pull
 *     if (featpipe_stream_pull(s, &out) == 0 && out.rank > 0) frames += (long)out.shape[out.stream_axis];
 *     printf("%ld frames of %s\n", frames, out.rank > 1 ? out.axes[1] : "?");
 *     featpipe_stream_free(s);
 *     featpipe_pipeline_free(p);
 *     return 0;
 *   }
 *
 * Conventions:
 *   - Functions returning int return 0 on success and -1 on failure; those
 *     returning a pointer return NULL on failure. featpipe_last_error()
 *     then tells why (per thread; valid until that thread's next call).
 *   - Objects are created by the _new, _load and _open functions and freed
 *     by the matching _free.
 *   - A featpipe_pipeline is immutable and may be shared by threads; a
 *     session or stream belongs to one thread at a time.
 *   - Arrays handed out (featpipe_array) are owned by the object that
 *     produced them and stay valid until that object's next call.
 */
#ifndef FEATPIPE_H
#define FEATPIPE_H

#include <featpipe/export.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FEATPIPE_MAX_RANK 8

typedef struct featpipe_pipeline featpipe_pipeline;
typedef struct featpipe_session featpipe_session;
typedef struct featpipe_stream featpipe_stream;

/* A float32 row-major array and its axis names, owned by its producer. */
typedef struct featpipe_array {
  const float *data;
  int32_t rank;
  int64_t shape[FEATPIPE_MAX_RANK];
  const char *axes[FEATPIPE_MAX_RANK];
  int32_t stream_axis; /* the axis frames grow along (streams), else 0 */
} featpipe_array;

/* The featpipe version, "0.1.0". */
FEATPIPE_API const char *featpipe_version(void);
/* Why the last failing call of this thread failed. */
FEATPIPE_API const char *featpipe_last_error(void);

/* Loads and checks a pipeline file (errors carry file:line:col). */
FEATPIPE_API featpipe_pipeline *featpipe_load(const char *path);
FEATPIPE_API void featpipe_pipeline_free(featpipe_pipeline *p);
/* Look-ahead in samples at the first step's output rate; -1 when a step
 * needs the whole input; NaN when known only once the sample rate is. */
FEATPIPE_API double featpipe_latency_samples(const featpipe_pipeline *p);

/* Batch: one file at a time. `out` is valid until the session's next call. */
FEATPIPE_API featpipe_session *featpipe_session_new(const featpipe_pipeline *p);
FEATPIPE_API void featpipe_session_free(featpipe_session *s);
FEATPIPE_API int featpipe_run_file(featpipe_session *s, const char *path, featpipe_array *out);

/* Streaming: push interleaved samples of `channels` channels at
 * `sample_rate`; pull the frames completed so far (possibly none). */
FEATPIPE_API featpipe_stream *featpipe_stream_open(const featpipe_pipeline *p, double sample_rate, int channels);
FEATPIPE_API void featpipe_stream_free(featpipe_stream *s);
FEATPIPE_API int featpipe_stream_push(featpipe_stream *s, const float *interleaved, size_t frames);
FEATPIPE_API int featpipe_stream_push_s16(featpipe_stream *s, const int16_t *interleaved, size_t frames);
FEATPIPE_API int featpipe_stream_pull(featpipe_stream *s, featpipe_array *out);
/* End of input; the last frames then come from featpipe_stream_pull. */
FEATPIPE_API int featpipe_stream_flush(featpipe_stream *s);
/* A new input on the same stream (state cleared). */
FEATPIPE_API int featpipe_stream_reset(featpipe_stream *s);
/* The stream's look-ahead in pushed samples (a resampler's delay included). */
FEATPIPE_API double featpipe_stream_latency_samples(const featpipe_stream *s);

#ifdef __cplusplus
}
#endif

#endif /* FEATPIPE_H */
