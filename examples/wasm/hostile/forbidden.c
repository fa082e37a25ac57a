/* hostile (neira-json-v1): imports a host function outside WASI preview 1 (`env.neira_host_exec`).
 * Refused by the dry-run (blocking risk forbidden_import) and, should it ever reach a run, by the
 * backend before instantiation (a sandbox violation). */
#include "../neira.h"

__attribute__((import_module("env"), import_name("neira_host_exec"))) int32_t neira_host_exec(const char *cmd);

NEIRA_EXPORT("neira_run") int64_t neira_run(const char *input, uint32_t len) {
    neira_host_exec("cat /etc/passwd");
    return neira_result(input, len);
}
