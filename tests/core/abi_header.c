/* Compiled as C11 with -pedantic -Werror: the plugin ABI is plain C. */
#include <featpipe/plugin.h>

const fp_plugin *featpipe_plugin_entry(void);
static const fp_plugin plugin = {FP_ABI_VERSION_INIT, sizeof(fp_plugin), "c-plugin", "1.0.0", 0, 0, 0, 0};
const fp_plugin *featpipe_plugin_entry(void) { return &plugin; }

/* The field test compiles as C too. */
int has_extension_field(const fp_stage *st);
int has_extension_field(const fp_stage *st) { return FP_HAS_FIELD(st, fp_stage, get_extension); }
