/*
 * neira.h: the `neira-json-v1` ABI of Neira's WASM nodes, for C modules built with
 * `clang --target=wasm32-wasi -mexec-model=reactor` (see scripts/build_wasm.sh and docs/wasm.md).
 *
 * THE ABI (what the host, neira_factory.backends.wasm, does for each call)
 *
 *   A fresh instance per call: nothing survives from one call to the next.
 *   1. `_initialize()`, when exported (clang's reactor model exports it: it runs the C
 *      constructors), is called once, first.
 *   2. `neira_params(ptr, len) -> i32`, only when the module exports it and the node's template
 *      declares params with values: the host allocates `len` bytes with `neira_alloc`, writes the
 *      params as a UTF-8 JSON object ({"name": value, ...}) there and calls it; 0 means accepted,
 *      anything else fails the call (kind `exception`).
 *   3. `neira_alloc(len) -> ptr`: the host asks for `len` bytes (len may be 0) of linear memory,
 *      writes the call's input there (UTF-8 JSON, no terminating NUL) ...
 *   4. ... and calls `neira_run(ptr, len) -> i64`, which returns where the output is:
 *      `(ptr << 32) | len` (`neira_result(ptr, len)` below), UTF-8 JSON of one value.
 *      The output may be anywhere in linear memory (the input buffer itself, static data, a
 *      malloc'ed buffer the module never frees: the instance is dropped after the call).
 *   The module exports its linear memory as `memory` (wasm-ld does).
 *
 *   Imports: only `wasi_snapshot_preview1` functions; there are no preopened directories
 *   (opening any file fails), no environment variables, no arguments, an empty stdin, no
 *   sockets. stdout and stderr are captured: stderr's first lines go to the call's log and to
 *   the error body when the call fails.
 *
 *   Failures: a trap (abort(), __builtin_trap(), an out-of-bounds access, ...) fails the call
 *   with kind `trap` and the wasm backtrace; exit(N) (proc_exit) from inside neira_run fails it
 *   with kind `exception`; a pointer/length outside memory or an output that is not UTF-8 JSON
 *   is `bad_output`; fuel, memory and time limits are `limit_fuel`, `limit_memory`, `timeout`.
 *
 * USING THIS HEADER
 *
 *   #include "neira.h"              (once per module: it defines the exported neira_alloc)
 *   NEIRA_EXPORT("neira_run") int64_t neira_run(const char *input, uint32_t len) {
 *       ...
 *       return neira_result(out, out_len);
 *   }
 *
 *   Helpers: a small reader for a top-level JSON object (neira_json_get, neira_json_string,
 *   neira_json_int) and an output buffer (neira_buf_*) that writes JSON strings escaped, and
 *   base64 for byte payloads.
 */
#ifndef NEIRA_H
#define NEIRA_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NEIRA_EXPORT(name) __attribute__((export_name(name), visibility("default")))

/* -- the ABI ----------------------------------------------------------------------------------- */

/* The input buffer: malloc (at least 1 byte, so that an empty input still gets a valid pointer). */
NEIRA_EXPORT("neira_alloc") void *neira_alloc(uint32_t len) { return malloc(len ? len : 1); }

/* The value neira_run returns: the output's pointer and length in one i64. */
static inline int64_t neira_result(const void *ptr, uint32_t len) {
    return (int64_t)(((uint64_t)(uintptr_t)ptr << 32) | (uint64_t)len);
}

/* -- reading the input: a top-level JSON object --------------------------------------------- */

typedef struct {
    const char *ptr; /* first byte of the value (NULL when absent) */
    uint32_t len;    /* bytes of the value */
} neira_value;

static const char *neira__ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

/* The end of the string starting at p (p at the opening quote); NULL when unterminated. */
static const char *neira__string_end(const char *p, const char *end) {
    for (p++; p < end; p++) {
        if (*p == '\\') p++;
        else if (*p == '"') return p + 1;
    }
    return NULL;
}

/* The end of the value starting at p (strings, numbers, literals, nested objects/arrays). */
static const char *neira__value_end(const char *p, const char *end) {
    if (p >= end) return NULL;
    if (*p == '"') return neira__string_end(p, end);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < end) {
            if (*p == '"') {
                p = neira__string_end(p, end);
                if (!p) return NULL;
                continue;
            }
            if (*p == '{' || *p == '[') depth++;
            else if (*p == '}' || *p == ']') {
                if (--depth == 0) return p + 1;
            }
            p++;
        }
        return NULL;
    }
    while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' && *p != '\r' &&
           *p != '\t')
        p++;
    return p;
}

/* The value of `key` in the top-level object `json` (keys compared without unescaping). */
static neira_value neira_json_get(const char *json, uint32_t len, const char *key) {
    neira_value none = {NULL, 0};
    const char *p = json, *end = json + len;
    size_t klen = strlen(key);
    p = neira__ws(p, end);
    if (p >= end || *p != '{') return none;
    p++;
    for (;;) {
        p = neira__ws(p, end);
        if (p >= end || *p == '}') return none;
        if (*p != '"') return none;
        const char *kend = neira__string_end(p, end);
        if (!kend) return none;
        int match = (size_t)(kend - p - 2) == klen && memcmp(p + 1, key, klen) == 0;
        p = neira__ws(kend, end);
        if (p >= end || *p != ':') return none;
        p = neira__ws(p + 1, end);
        const char *vend = neira__value_end(p, end);
        if (!vend) return none;
        if (match) {
            neira_value v = {p, (uint32_t)(vend - p)};
            return v;
        }
        p = neira__ws(vend, end);
        if (p < end && *p == ',') p++;
    }
}

static int neira__hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static char *neira__utf8(char *o, uint32_t cp) {
    if (cp < 0x80) *o++ = (char)cp;
    else if (cp < 0x800) { *o++ = (char)(0xC0 | cp >> 6); *o++ = (char)(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | cp >> 12); *o++ = (char)(0x80 | ((cp >> 6) & 0x3F)); *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | cp >> 18); *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F)); *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* The string value `v`, unescaped into a new NUL-terminated buffer (malloc); *out_len gets its
 * length. NULL when `v` is not a string. */
static char *neira_json_string(neira_value v, uint32_t *out_len) {
    if (!v.ptr || v.len < 2 || v.ptr[0] != '"') return NULL;
    char *out = malloc(v.len), *o = out;
    if (!out) return NULL;
    const char *p = v.ptr + 1, *end = v.ptr + v.len - 1;
    while (p < end) {
        char c = *p++;
        if (c != '\\') { *o++ = c; continue; }
        if (p >= end) break;
        c = *p++;
        switch (c) {
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'r': *o++ = '\r'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'u': {
            uint32_t cp = 0;
            for (int i = 0; i < 4 && p < end; i++) cp = cp << 4 | (uint32_t)neira__hex(*p++);
            if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                uint32_t lo = 0;
                for (int i = 2; i < 6; i++) lo = lo << 4 | (uint32_t)neira__hex(p[i]);
                if (lo >= 0xDC00 && lo < 0xE000) { cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00); p += 6; }
            }
            o = neira__utf8(o, cp);
            break;
        }
        default: *o++ = c; /* \" \\ \/ */
        }
    }
    *o = 0;
    if (out_len) *out_len = (uint32_t)(o - out);
    return out;
}

/* The integer value `v`, or `fallback` when it is absent or not an integer. */
static long long neira_json_int(neira_value v, long long fallback) {
    if (!v.ptr || v.len == 0) return fallback;
    const char *p = v.ptr, *end = v.ptr + v.len;
    int neg = 0;
    long long n = 0;
    if (*p == '-') { neg = 1; p++; }
    if (p >= end) return fallback;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') return fallback;
        n = n * 10 + (*p - '0');
    }
    return neg ? -n : n;
}

/* -- writing the output ---------------------------------------------------------------------- */

typedef struct {
    char *data;
    uint32_t len, cap;
    int failed; /* an allocation failed: the output is incomplete */
} neira_buf;

static void neira_buf_reserve(neira_buf *b, uint32_t more) {
    if (b->failed || b->len + more <= b->cap) return;
    uint32_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + more) cap *= 2;
    char *data = realloc(b->data, cap);
    if (!data) { b->failed = 1; return; }
    b->data = data;
    b->cap = cap;
}

static void neira_buf_write(neira_buf *b, const char *s, uint32_t n) {
    neira_buf_reserve(b, n);
    if (b->failed) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void neira_buf_str(neira_buf *b, const char *s) { neira_buf_write(b, s, (uint32_t)strlen(s)); }

static void neira_buf_int(neira_buf *b, long long n) {
    char tmp[24];
    int i = 0;
    unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
    do { tmp[i++] = (char)('0' + u % 10); u /= 10; } while (u);
    if (n < 0) tmp[i++] = '-';
    while (i--) neira_buf_write(b, &tmp[i], 1);
}

/* A JSON string: quotes and escapes added (the bytes are expected to be UTF-8). */
static void neira_buf_json_string(neira_buf *b, const char *s, uint32_t n) {
    static const char hex[] = "0123456789abcdef";
    neira_buf_write(b, "\"", 1);
    for (uint32_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') { char e[2] = {'\\', (char)c}; neira_buf_write(b, e, 2); }
        else if (c == '\n') neira_buf_write(b, "\\n", 2);
        else if (c == '\t') neira_buf_write(b, "\\t", 2);
        else if (c == '\r') neira_buf_write(b, "\\r", 2);
        else if (c < 0x20) { char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]}; neira_buf_write(b, e, 6); }
        else neira_buf_write(b, (const char *)&s[i], 1);
    }
    neira_buf_write(b, "\"", 1);
}

static int64_t neira_buf_result(neira_buf *b) { return neira_result(b->data, b->len); }

/* -- base64 ------------------------------------------------------------------------------------- */

static const char neira__b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 of `n` bytes, written as a JSON string (with quotes). */
static void neira_buf_base64(neira_buf *b, const unsigned char *s, uint32_t n) {
    neira_buf_reserve(b, (n + 2) / 3 * 4 + 2);
    if (b->failed) return;
    char *o = b->data + b->len;
    *o++ = '"';
    uint32_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = neira__b64[v >> 18]; *o++ = neira__b64[(v >> 12) & 63];
        *o++ = neira__b64[(v >> 6) & 63]; *o++ = neira__b64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
        *o++ = neira__b64[v >> 18]; *o++ = neira__b64[(v >> 12) & 63];
        *o++ = i + 1 < n ? neira__b64[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o++ = '"';
    b->len = (uint32_t)(o - b->data);
}

/* Decodes base64 (standard alphabet, padding optional, no whitespace) into a new buffer (malloc);
 * *out_len gets the byte count. NULL on a character outside the alphabet. */
static unsigned char *neira_base64_decode(const char *s, uint32_t n, uint32_t *out_len) {
    while (n && s[n - 1] == '=') n--;
    unsigned char *out = malloc(n / 4 * 3 + 3), *o = out;
    if (!out) return NULL;
    uint32_t acc = 0, bits = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *at = memchr(neira__b64, s[i], 64);
        if (!at || !s[i]) { free(out); return NULL; }
        acc = acc << 6 | (uint32_t)(at - neira__b64);
        bits += 6;
        if (bits >= 8) { bits -= 8; *o++ = (unsigned char)(acc >> bits); }
    }
    *out_len = (uint32_t)(o - out);
    return out;
}

#endif /* NEIRA_H */
