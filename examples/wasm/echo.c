/* echo (neira-json-v1): the output is the input, byte for byte. The smallest node of the ABI. */
#include "neira.h"

NEIRA_EXPORT("neira_run") int64_t neira_run(const char *input, uint32_t len) {
    return neira_result(input, len);
}
