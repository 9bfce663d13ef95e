/* featpipe plugin ABI — the C boundary between the engine and stage plugins.
 *
 * A plugin is a shared library exporting one symbol, `featpipe_plugin_entry`,
 * that returns a pointer to a static `fp_plugin`. Its first field is the ABI
 * version: the engine reads it before anything else and refuses any other
 * version. Nothing but plain C types crosses this line: no C++ types, no
 * exceptions, no memory allocated on one side and freed on the other.
 *
 * Contract tags on function pointers:
 *   [load-time]   called once per pipeline load, on the loading thread.
 *   [stage-thread] called on the thread that owns the stage instance; one
 *                  instance is never used by two threads at once.
 *   [any-thread]  may be called from any thread at any time.
 *
 * Most plugin authors never see this file: featpipe/sdk.hpp turns a small
 * C++ class into these structs.
 */
#ifndef FEATPIPE_PLUGIN_H
#define FEATPIPE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change to the structs below. */
#define FP_ABI_VERSION 1u

#define FP_MAX_RANK 8
#define FP_AXIS_NAME_MAX 16
#define FP_MAX_ATTRS 16
#define FP_ATTR_KEY_MAX 24

#if defined(_WIN32)
#define FP_EXPORT __declspec(dllexport)
#else
#define FP_EXPORT __attribute__((visibility("default")))
#endif

/* Status returned by every stage function. On FP_ERROR the stage's
 * `error` function tells what went wrong. */
typedef enum fp_status {
  FP_OK = 0,    /* success */
  FP_ERROR = 1  /* failure; message available through fp_stage.error */
} fp_status;

/* ---------------------------------------------------------------- params */

/* Parameter types. The engine checks every value of a pipeline file against
 * these before a stage is created, so a stage never sees a wrong type. */
typedef enum fp_type {
  FP_T_BOOL = 1,   /* true/false                                        */
  FP_T_INT = 2,    /* 64-bit integer, range-checked by min/max           */
  FP_T_FLOAT = 3,  /* double, range-checked by min/max; ints accepted    */
  FP_T_STRING = 4, /* free text                                          */
  FP_T_CHOICE = 5, /* one of `choices` ("a|b|c")                         */
  FP_T_PATH = 6,   /* file path; the engine resolves it against the
                      pipeline file's folder before passing it            */
  FP_T_AXIS = 7,   /* axis name, integer (negative from the end), "all";
                      passed as text, resolved by the stage at configure  */
  FP_T_AXES = 8,   /* list of FP_T_AXIS; a scalar is taken as a 1-list    */
  FP_T_INTS = 9,   /* list of integers; a scalar is taken as a 1-list     */
  FP_T_FLOATS = 10 /* list of floats; a scalar is taken as a 1-list       */
} fp_type;

/* One parameter of a stage's schema. Static storage, owned by the plugin. */
typedef struct fp_param_desc {
  const char *name;          /* snake_case key as written in YAML        */
  fp_type type;
  const char *default_value; /* YAML text of the default ("400", "hann",
                                "[0.5, 0.5]", "null"); NULL = required     */
  int32_t nullable;          /* 1: `null` is an accepted value           */
  double min, max;           /* inclusive range for numbers and list
                                elements; min > max means unbounded       */
  int32_t min_count, max_count; /* list lengths; max_count 0 = unbounded   */
  const char *choices;       /* FP_T_CHOICE: "hann|hamming|povey"        */
  const char *unit;          /* "samples", "Hz", "ms", "" ...            */
  const char *doc;           /* one line; says the default if it depends
                                on other parameters                        */
} fp_param_desc;

/* A checked parameter value, handed to `create`. Valid only during that
 * call: a stage copies what it keeps. */
typedef struct fp_value {
  const char *name;
  fp_type type;
  int32_t is_null;               /* value was `null` (nullable params)    */
  int64_t i;                     /* BOOL (0/1) and INT                    */
  double f;                      /* FLOAT                                 */
  const char *s;                 /* STRING, CHOICE, PATH, AXIS            */
  uint32_t count;                /* INTS, FLOATS, AXES: number of items   */
  const double *numbers;         /* INTS, FLOATS: `count` items           */
  const char *const *strings;    /* AXES: `count` items                   */
} fp_value;

/* ---------------------------------------------------------------- tensors */

/* A named numeric attribute that travels with a tensor (sample_rate,
 * hop_length, ...). A value of NaN means "not known until data flows". */
typedef struct fp_attr {
  char key[FP_ATTR_KEY_MAX];
  double value;
} fp_attr;

/* What a tensor looks like: rank, shape, axis names, the axis that grows
 * with time in a stream, and attributes. Plain data, copied freely.
 * shape[k] == -1: unknown until data flows (the stream axis, image sizes). */
typedef struct fp_spec {
  int32_t rank;
  int64_t shape[FP_MAX_RANK];
  char axes[FP_MAX_RANK][FP_AXIS_NAME_MAX];
  int32_t stream_axis;   /* index of the axis that grows in a stream, -1 none */
  uint32_t attr_count;
  fp_attr attrs[FP_MAX_ATTRS];
} fp_spec;

/* A dense float32 row-major view. Its axes are those of the spec agreed at
 * configure time; only the stream axis' length changes between chunks. */
typedef struct fp_tensor {
  float *data;
  int32_t rank;
  int64_t shape[FP_MAX_RANK];
} fp_tensor;

/* How a stage behaves along the stream axis, declared by `configure`. */
typedef struct fp_stream_info {
  int32_t whole_input;  /* 1: needs the whole input before emitting (per-
                           utterance CMVN, top_db): refused in a stream   */
  double hop;           /* input units per output unit along the stream
                           axis (STFT: hop_length samples per frame; 1 for
                           frame-wise stages; 3 when resampling 48 kHz to
                           16 kHz); 0 = no stream axis                    */
  int64_t lookahead;    /* input units needed after an output's position  */
  int64_t history;      /* input units needed before it                  */
} fp_stream_info;

/* ---------------------------------------------------------------- stages */

typedef struct fp_stage fp_stage;

/* A stage instance: state for one input at a time, on one thread. */
struct fp_stage {
  void *self; /* the plugin's instance data */

  /* [load-time] Agree shapes: `in` is the previous stage's output spec (for
   * a source stage, rank 0). Fill `out` and `info`. Checks parameters that
   * depend on each other or on the input; allocates tables. */
  fp_status (*configure)(fp_stage *st, const fp_spec *in, fp_spec *out,
                         fp_stream_info *info);

  /* [stage-thread] Start a new input. `in` is the concrete spec for this
   * input (attributes known, e.g. the file's sample rate); fill `out` the
   * same way. Resets any stream state. */
  fp_status (*start)(fp_stage *st, const fp_spec *in, fp_spec *out);

  /* [stage-thread] Source stages only (NULL otherwise): decode `path` as a
   * new input. Fills `out` with the concrete spec; the data follows from
   * `flush`. `path` is valid during the call. */
  fp_status (*open_file)(fp_stage *st, const char *path, fp_spec *out);

  /* [stage-thread] Consume a chunk along the stream axis (or a whole
   * tensor) and set `out` to what it makes ready (possibly zero-length on
   * the stream axis). The stage may overwrite `in->data` and may return it
   * as `out->data` (in-place); so a stage never relies on the contents of a
   * buffer once it has returned it as `out`. `out->data` stays valid until
   * the next call on this stage. `out->data == NULL` or a zero length on
   * the stream axis: nothing ready yet. */
  fp_status (*push)(fp_stage *st, fp_tensor *in, fp_tensor *out);

  /* [stage-thread] End of input: emit what remains (padding at the end).
   * Same ownership as push. */
  fp_status (*flush)(fp_stage *st, fp_tensor *out);

  /* [any-thread] The last error's message, and the parameter it concerns
   * (or NULL). Owned by the stage, valid until its next call. */
  const char *(*error)(const fp_stage *st, const char **param);

  /* [load-time] Optional (NULL allowed): extra text for `featpipe
   * validate`, e.g. a model's layer names. Owned by the stage. */
  const char *(*describe)(fp_stage *st);

  /* [stage-thread] Free everything; `st` is invalid afterwards. */
  void (*destroy)(fp_stage *st);
};

/* What a plugin says about one stage it provides. Static storage. */
typedef struct fp_stage_desc {
  const char *name;        /* "family.name", e.g. "audio.stft"           */
  const char *doc;         /* what it computes; references it matches   */
  const char *example;     /* a runnable YAML step                       */
  const char *extensions;  /* source stages: "wav flac ogg" (lowercase, no
                              dots); NULL for stages that take tensors    */
  uint32_t param_count;
  const fp_param_desc *params;
  /* [any-thread] New instance from checked values (all schema params, in
   * schema order, defaults filled in). Returns NULL only when out of
   * memory; parameter problems are reported by `configure`. */
  fp_stage *(*create)(const fp_value *values, uint32_t count);
} fp_stage_desc;

/* The entry point's result. Static storage; ABI version first, always. */
typedef struct fp_plugin {
  uint32_t abi_version;    /* FP_ABI_VERSION the plugin was built with   */
  const char *name;        /* "featpipe-audio"                           */
  const char *version;     /* the plugin's own version, "1.2.0"          */
  uint32_t stage_count;
  const fp_stage_desc *stages;
} fp_plugin;

/* The one exported symbol. */
typedef const fp_plugin *(*fp_plugin_entry_fn)(void);
#define FP_PLUGIN_ENTRY_SYMBOL "featpipe_plugin_entry"

#ifdef __cplusplus
}
#endif

#endif /* FEATPIPE_PLUGIN_H */
