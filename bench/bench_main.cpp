// Entry point of patchnet_bench. Run with --benchmark_format=json (or
// --benchmark_out=FILE --benchmark_out_format=json) for machine-readable results.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
