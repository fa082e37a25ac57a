/* hostile (neira-json-v1): recursion without end. Stopped by the wasm call-stack limit
 * (a stack-overflow trap: kind limit_memory, error stack_overflow). */
#include "../neira.h"

static volatile uint32_t sink;

__attribute__((noinline)) static uint32_t deeper(uint32_t n) {
    if (n == 0xFFFFFFFFu) return 0;
    uint32_t r = deeper(n + 1);
    sink = r; /* work after the call: no tail call to turn into a loop */
    return r + n;
}

NEIRA_EXPORT("neira_run") int64_t neira_run(const char *input, uint32_t len) {
    sink = deeper(0);
    return neira_result(input, len);
}
