/* hostile (neira-json-v1): memory growth without end, 1 MiB at a time, every page touched.
 * Stopped by the memory cap: memory.grow fails, malloc returns NULL, the module aborts
 * (limit_memory: the host sees its memory at the cap when it fails). */
#include "../neira.h"

static char *volatile last; /* the blocks escape: the compiler keeps every allocation */

NEIRA_EXPORT("neira_run") int64_t neira_run(const char *input, uint32_t len) {
    for (;;) {
        char *block = malloc(1 << 20);
        if (!block) abort();
        for (int page = 0; page < (1 << 20); page += 4096) block[page] = (char)page;
        last = block;
    }
    return neira_result(input, len);
}
