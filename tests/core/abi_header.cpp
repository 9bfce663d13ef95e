// Compiled as C++17 and C++20 with -pedantic -Werror: the ABI header is
// usable from C++ as is.
#include <featpipe/plugin.h>

#include <type_traits>

static_assert(std::is_standard_layout_v<fp_spec> && std::is_trivially_copyable_v<fp_spec>);
static_assert(std::is_standard_layout_v<fp_tensor> && std::is_trivially_copyable_v<fp_tensor>);
static_assert(offsetof(fp_plugin, abi_version) == 0, "the ABI version must stay the first field");
