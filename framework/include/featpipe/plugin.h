/* featpipe plugin ABI — the C boundary between the engine and stage plugins.
 *
 * A plugin is a shared library exporting one symbol, `featpipe_plugin_entry`,
 * that returns a pointer to a static `fp_plugin`. Nothing but plain C types
 * crosses this line: no C++ types, no exceptions, no memory allocated on one
 * side and freed on the other.
 *
 * Compatibility (ABI 2.x)
 *   1. `fp_plugin` begins with `fp_version abi`, the version of this header
 *      the plugin was built with. The engine reads it before anything else
 *      and loads the plugin only when abi.major equals its own FP_ABI_MAJOR;
 *      abi.minor may be lower or higher than the engine's.
 *   2. Within a major, structs never change what they hold: fields are only
 *      added at the end (each addition bumps FP_ABI_MINOR). Every struct
 *      that may grow begins with `uint32_t struct_size` (after `abi` in
 *      fp_plugin and fp_host), set by its writer to sizeof as it was built.
 *      A reader uses a field only when it lies within struct_size
 *      (FP_HAS_FIELD); a field beyond it counts as zero/NULL, which is
 *      always its documented default. Arrays of such structs are strided by
 *      their first element's struct_size. So the engine reads exactly the
 *      fields a plugin's minor declares, and a plugin built for a later
 *      minor loads in an older engine, its extra fields unread.
 *      The fields of 2.0 are always there: a smaller struct_size is refused.
 *   3. Output structs the engine owns and a plugin fills (fp_stream_info)
 *      carry the engine's struct_size: a plugin writes only fields within it.
 *   4. fp_version, fp_attr, fp_spec and fp_tensor are value types copied
 *      and embedded everywhere: they are frozen for a major.
 *   5. Anything else new is an extension: get_extension("NAME/REV") on the
 *      plugin, on a stage instance or on the host returns a pointer to a
 *      struct the id defines, or NULL when unsupported. NAME is
 *      "featpipe.<word>" for extensions this project defines and a reverse
 *      domain name ("org.example.<word>") for others; REV is an integer.
 *      An extension's struct never changes: a new revision is a new id
 *      ("featpipe.dtypes/2"), and a caller may ask for /2, then /1.
 *   A major bump (refused both ways) is reserved for removing or changing
 *   what a field means.
 *
 * Rationale: as in CLAP, a plugin built once keeps working across engine
 * releases, and the engine grows without a flag day. struct_size rather
 * than "fields gated by the minor" because it also gives the stride of
 * descriptor arrays, which a reader of an older minor could not know.
 * Trailing growth covers what every plugin has (a new descriptor field);
 * extensions cover what only some have, and can be probed at run time.
 *
 * Start-up: the engine calls the entry point (more than once is allowed:
 * it must have no side effects), checks the version, then calls
 * `init(host)` once before anything else. The host struct lives as long as
 * the process: plugins are never unloaded (stage code must stay mapped while
 * any instance lives), so there is no deinit; a plugin's own static
 * destructors run at exit. The host comes to `init`, not to `create`, so
 * plugin-wide code (logging, extension queries) can reach it and `create`
 * keeps its signature.
 *
 * Contract tags on function pointers:
 *   [once]         called once per process, by one thread, before any other
 *                  call into the plugin except the entry point.
 *   [any-thread]   may be called from several threads at once.
 *   [stage-thread] called by the thread that currently owns the instance:
 *                  calls on one instance never overlap and each finishes
 *                  before the next begins, though the engine may hand an
 *                  instance to another thread between calls (a runner
 *                  creates sessions on its main thread, runs them on
 *                  workers). Different instances run concurrently.
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

/* The version of this header. MAJOR: an incompatible change (refused).
 * MINOR: fields or extension ids added. PATCH: comments and fixes only. */
#define FP_ABI_MAJOR 2
#define FP_ABI_MINOR 2
#define FP_ABI_PATCH 0

#define FP_STRINGIFY_(x) #x
#define FP_STRINGIFY(x) FP_STRINGIFY_(x)
#define FP_ABI_VERSION_STRING FP_STRINGIFY(FP_ABI_MAJOR) "." FP_STRINGIFY(FP_ABI_MINOR) "." FP_STRINGIFY(FP_ABI_PATCH)

/* Whether a struct written with `struct_size` holds `field` (rule 2). */
#define FP_HAS_FIELD(ptr, type, field) \
  ((size_t)(ptr)->struct_size >= offsetof(type, field) + sizeof(((const type *)0)->field))

#define FP_MAX_RANK 8
#define FP_AXIS_NAME_MAX 16
#define FP_MAX_ATTRS 16
#define FP_ATTR_KEY_MAX 24

#if defined(_WIN32)
#define FP_EXPORT __declspec(dllexport)
#else
#define FP_EXPORT __attribute__((visibility("default")))
#endif

/* A version triple: of this header (fp_plugin.abi, fp_host.abi). Frozen. */
typedef struct fp_version {
  uint32_t major;
  uint32_t minor;
  uint32_t patch;
} fp_version;

#define FP_ABI_VERSION_INIT {FP_ABI_MAJOR, FP_ABI_MINOR, FP_ABI_PATCH}

/* Status returned by every stage function. On FP_ERROR the stage's
 * `error` function tells what went wrong. */
typedef enum fp_status {
  FP_OK = 0,    /* success */
  FP_ERROR = 1  /* failure; message available through fp_stage.error */
} fp_status;

/* ---------------------------------------------------------------- host */

typedef enum fp_log_level {
  FP_LOG_DEBUG = 0,
  FP_LOG_INFO = 1,
  FP_LOG_WARNING = 2,
  FP_LOG_ERROR = 3
} fp_log_level;

/* What the engine offers plugins; given to fp_plugin.init, valid for the
 * rest of the process. One per plugin, so the engine knows who speaks. */
typedef struct fp_host fp_host;
struct fp_host {
  fp_version abi;          /* the engine's FP_ABI_* version               */
  uint32_t struct_size;    /* sizeof(fp_host) as the engine was built     */
  const char *name;        /* "featpipe"                                  */
  const char *version;     /* the engine's own version, "0.1.0"           */
  void *host_data;         /* the engine's; plugins leave it alone        */

  /* [any-thread] One line of text for the engine's log (no trailing
   * newline needed). `message` is copied before the call returns. */
  void (*log)(const fp_host *host, fp_log_level level, const char *message);

  /* [any-thread] An engine extension by id ("featpipe.NAME/REV"), or NULL
   * when this engine has none by that id. */
  const void *(*get_extension)(const fp_host *host, const char *id);
};

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
  uint32_t struct_size;      /* sizeof(fp_param_desc) as built            */
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
 * call: a stage copies what it keeps. Written by the engine: a plugin reads
 * the fields within struct_size and strides the array by it. */
typedef struct fp_value {
  uint32_t struct_size;          /* sizeof(fp_value) as the engine built  */
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

/* How a stage behaves along the stream axis, declared by `configure`. The
 * engine zeroes it and sets struct_size; a stage writes fields within it. */
typedef struct fp_stream_info {
  uint32_t struct_size; /* sizeof(fp_stream_info) as the engine built     */
  int32_t whole_input;  /* 1: needs the whole input (per-utterance CMVN,
                           top_db). The engine then buffers the input and
                           calls `push` once, at the end of the input, with
                           all of it (the chunks joined along the stream
                           axis; nothing if the input was empty), then
                           `flush`; the stage never joins chunks itself.
                           Refused in a stream.                          */
  double hop;           /* input units per output unit along the stream
                           axis (STFT: hop_length samples per frame; 1 for
                           frame-wise stages; 3 when resampling 48 kHz to
                           16 kHz); 0 = no stream axis                    */
  int64_t lookahead;    /* input units needed after an output's position  */
  int64_t history;      /* input units needed before it                  */
  /* ABI 2.1: with whole_input, why, for a user: the parameter that makes
   * it so and how to stream instead ("top_db is set: remove top_db, or set
   * it to null, to stream"); NULL: no reason given. Static storage or owned
   * by the stage until its next call (the engine copies it at once). */
  const char *whole_input_reason;
} fp_stream_info;

/* ---------------------------------------------------------------- stages */

typedef struct fp_stage fp_stage;

/* A stage instance: state for one input at a time. Allocated by `create`
 * (struct_size set by the plugin), freed by `destroy`. */
struct fp_stage {
  uint32_t struct_size; /* sizeof(fp_stage) as the plugin built */
  void *self;           /* the plugin's instance data */

  /* [stage-thread] First call on every instance. Agree shapes: `in` is the
   * previous stage's output spec (for a source stage, rank 0). Fill `out`
   * and `info`. Checks parameters that depend on each other or on the
   * input; allocates tables. The engine configures a throw-away instance
   * when a pipeline loads, and each session's instances when it opens. */
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
   * the stream axis: nothing ready yet. A whole_input stage gets one push
   * holding the whole input (see fp_stream_info). */
  fp_status (*push)(fp_stage *st, fp_tensor *in, fp_tensor *out);

  /* [stage-thread] End of input: emit what remains (padding at the end).
   * Same ownership as push. */
  fp_status (*flush)(fp_stage *st, fp_tensor *out);

  /* [stage-thread] After a call returned FP_ERROR: the message, and the
   * parameter it concerns (or NULL). Owned by the stage and rewritten by
   * its calls, so valid until the next call on the instance. */
  const char *(*error)(const fp_stage *st, const char **param);

  /* [stage-thread] Optional (NULL allowed), after configure: extra text for
   * `featpipe validate`, e.g. a model's layer names. Owned by the stage,
   * valid until its next call. */
  const char *(*describe)(fp_stage *st);

  /* [stage-thread] Free everything; `st` is invalid afterwards. */
  void (*destroy)(fp_stage *st);

  /* [stage-thread] Optional (NULL allowed): an extension of this instance
   * by id ("NAME/REV"), or NULL when unsupported. The struct it points to
   * lives as long as the instance; its functions take `st` and follow the
   * instance's [stage-thread] rule. */
  const void *(*get_extension)(const fp_stage *st, const char *id);
};

/* fp_stage_desc.flags */
#define FP_STAGE_SOURCE 0x1u /* reads files (open_file); only a first step */

/* What a plugin says about one stage it provides. Static storage. */
typedef struct fp_stage_desc {
  uint32_t struct_size;    /* sizeof(fp_stage_desc) as the plugin built  */
  uint32_t flags;          /* FP_STAGE_*; unknown bits are ignored       */
  const char *name;        /* "family.name", e.g. "audio.stft"           */
  const char *doc;         /* what it computes; references it matches   */
  const char *example;     /* a runnable YAML step                       */
  const char *extensions;  /* source stages: file types it reads, "wav
                              flac ogg" (lowercase, no dots); else NULL   */
  uint32_t param_count;
  const fp_param_desc *params; /* strided by params[0].struct_size      */
  /* [any-thread] New instance from checked values (all schema params, in
   * schema order, defaults filled in). Returns NULL only when out of
   * memory; parameter problems are reported by `configure`. */
  fp_stage *(*create)(const fp_value *values, uint32_t count);
} fp_stage_desc;

/* The entry point's result. Static storage; the ABI version first, always. */
typedef struct fp_plugin {
  fp_version abi;          /* FP_ABI_VERSION_INIT as the plugin was built */
  uint32_t struct_size;    /* sizeof(fp_plugin) as the plugin built      */
  const char *name;        /* "featpipe-audio"                           */
  const char *version;     /* the plugin's own version, "1.2.0"          */
  uint32_t stage_count;
  const fp_stage_desc *stages; /* strided by stages[0].struct_size      */

  /* [once] Optional (NULL allowed): called after the version check and
   * before any other call. `host` stays valid for the process. FP_ERROR
   * refuses the plugin (say why through host->log first). */
  fp_status (*init)(const fp_host *host);

  /* [any-thread] Optional (NULL allowed), after init: a plugin-wide
   * extension by id ("NAME/REV"), or NULL when unsupported. The struct it
   * points to lives as long as the process. */
  const void *(*get_extension)(const char *id);
} fp_plugin;

/* ------------------------------------------------------ stage extensions */

/* "featpipe.source_chunks/1" (a source stage instance's get_extension):
 * decode a file in bounded chunks, so a long recording never sits whole in
 * memory. The engine uses it when no step needs the whole input. */
#define FP_EXT_SOURCE_CHUNKS "featpipe.source_chunks/1"
typedef struct fp_source_chunks {
  uint32_t struct_size; /* sizeof(fp_source_chunks) as the plugin built */
  /* [stage-thread] As open_file, but the data then comes from repeated
   * `flush` calls, each emitting at most about `chunk` units along the
   * stream axis (of the file, before any resampling), until one emits
   * nothing: the end of the input. The concatenated chunks equal what
   * open_file + flush give. `out` may leave the stream axis's length
   * unknown (-1). Errors found while reading (a truncated file, NaN
   * samples) fail a later flush. */
  fp_status (*open_file_chunked)(fp_stage *st, const char *path, int64_t chunk, fp_spec *out);
} fp_source_chunks;

/* The one exported symbol. */
typedef const fp_plugin *(*fp_plugin_entry_fn)(void);
#define FP_PLUGIN_ENTRY_SYMBOL "featpipe_plugin_entry"

#ifdef __cplusplus
}
#endif

#endif /* FEATPIPE_PLUGIN_H */
