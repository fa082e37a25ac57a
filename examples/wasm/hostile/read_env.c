/* hostile (wasi-command): tries to read the environment (secrets, tokens). The environment is
 * empty, so there is nothing to read: the module says so on stderr and exits 3 (kind
 * exception). Had it found anything, it would print the variables' names on stdout. */
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int main(void) {
    int count = 0;
    for (char **e = environ; e && *e; e++) count++;
    const char *token = getenv("NEIRA_ADMIN_TOKEN");
    const char *home = getenv("HOME");
    if (count == 0 && !token && !home) {
        fprintf(stderr, "read_env: the environment is empty (%d variables)\n", count);
        return 3;
    }
    printf("{\"variables\":%d}\n", count);
    return 0;
}
