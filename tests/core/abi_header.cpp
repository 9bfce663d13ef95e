// Compiled as C++17 and C++20 with -pedantic -Werror: the ABI header is
// usable from C++ as is.
#include <featpipe/plugin.h>

#include <type_traits>

static_assert(std::is_standard_layout_v<fp_spec> && std::is_trivially_copyable_v<fp_spec>);
static_assert(std::is_standard_layout_v<fp_tensor> && std::is_trivially_copyable_v<fp_tensor>);
static_assert(offsetof(fp_plugin, abi) == 0, "the ABI version must stay the first field");
static_assert(offsetof(fp_host, abi) == 0, "the host's version comes first too");
// Growable structs begin with struct_size (plugin.h, rule 2).
static_assert(offsetof(fp_stage_desc, struct_size) == 0 && offsetof(fp_param_desc, struct_size) == 0 &&
              offsetof(fp_stage, struct_size) == 0 && offsetof(fp_value, struct_size) == 0 &&
              offsetof(fp_stream_info, struct_size) == 0);
