/* hostile (neira-json-v1): an endless loop. Stopped by its fuel (limit_fuel) or, with fuel to
 * spare, by its epoch deadline (timeout). */
#include "../neira.h"

NEIRA_EXPORT("neira_run") int64_t neira_run(const char *input, uint32_t len) {
    volatile uint64_t turns = 0;
    for (;;) turns++;
    return neira_result(input, len);
}
