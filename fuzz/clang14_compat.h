/* Force-included in the fuzz build only (scripts/ci-fuzz.sh). clang 14
 * cannot multiversion function templates with target_clones (image.decode
 * uses it for SIMD dispatch); fuzzing needs no dispatch, so the attribute
 * expands to nothing here: __attribute__(()) is valid and empty. */
#define target_clones(...)
