/* hostile (neira-json-v1): tries to read host files. There are no preopened directories, so
 * every open fails inside the module (errno ENOTCAPABLE); this module then reports on stderr and
 * aborts (kind trap: the host never saw a file). Had it succeeded, the output would carry the
 * file's first bytes. */
#include <errno.h>
#include <stdio.h>
#include "../neira.h"

NEIRA_EXPORT("neira_run") int64_t neira_run(const char *input, uint32_t len) {
    static const char *paths[] = {"/etc/passwd", "/proc/self/environ", "./neira.db", "/"};
    for (unsigned i = 0; i < sizeof paths / sizeof *paths; i++) {
        FILE *f = fopen(paths[i], "r");
        if (!f) {
            fprintf(stderr, "read_file: cannot open %s: %s\n", paths[i], strerror(errno));
            continue;
        }
        char head[64];
        size_t n = fread(head, 1, sizeof head, f);
        neira_buf out = {0};
        neira_buf_str(&out, "{\"path\":");
        neira_buf_json_string(&out, paths[i], (uint32_t)strlen(paths[i]));
        neira_buf_str(&out, ",\"bytes_read\":");
        neira_buf_int(&out, (long long)n);
        neira_buf_str(&out, "}");
        return neira_buf_result(&out);
    }
    abort();
}
