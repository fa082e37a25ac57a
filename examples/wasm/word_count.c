/* word_count (wasi-command): reads {"text": "..."} on stdin, writes
 * {"words": N, "lines": L, "chars": C, "bytes": B} on stdout and exits 0.
 * Words are runs of characters other than ASCII whitespace; chars are Unicode code points;
 * lines count the line feeds, plus one for a last line without one. */
#include <stdio.h>
#include "neira.h"

int main(void) {
    size_t cap = 4096, len = 0, got;
    char *input = malloc(cap);
    if (!input) return 1;
    while ((got = fread(input + len, 1, cap - len, stdin)) > 0) {
        len += got;
        if (len == cap) {
            char *bigger = realloc(input, cap *= 2);
            if (!bigger) { fprintf(stderr, "word_count: input too large\n"); return 1; }
            input = bigger;
        }
    }
    uint32_t n = 0;
    char *text = neira_json_string(neira_json_get(input, (uint32_t)len, "text"), &n);
    if (!text) { fprintf(stderr, "word_count: the input needs a string `text`\n"); return 2; }
    long long words = 0, lines = 0, chars = 0;
    int in_word = 0;
    for (uint32_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        int space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
        if (!space && !in_word) words++;
        in_word = !space;
        if (c == '\n') lines++;
        if ((c & 0xC0) != 0x80) chars++;
    }
    if (n > 0 && text[n - 1] != '\n') lines++;
    printf("{\"words\":%lld,\"lines\":%lld,\"chars\":%lld,\"bytes\":%u}\n", words, lines, chars, n);
    return 0;
}
