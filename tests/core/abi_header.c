/* Compiled as C11 with -pedantic -Werror: the plugin ABI is plain C. */
#include <featpipe/plugin.h>

const fp_plugin *featpipe_plugin_entry(void);
static const fp_plugin plugin = {FP_ABI_VERSION, "c-plugin", "1.0.0", 0, 0};
const fp_plugin *featpipe_plugin_entry(void) { return &plugin; }
