/* grayscale (neira-json-v1): {"width": W, "height": H, "rgba": base64 of W*H*4 bytes}
 *   -> {"width": W, "height": H, "gray": base64 of W*H bytes}
 * Luma by ITU-R BT.601 (0.299 R + 0.587 G + 0.114 B), transparency flattened onto the
 * `background` grey (param, 0..255, default 255: white), like the library's image_grayscale. */
#include <stdio.h>
#include "neira.h"

static long long background = 255;

/* params: {"background": 0..255} */
NEIRA_EXPORT("neira_params") int32_t neira_params(const char *json, uint32_t len) {
    long long value = neira_json_int(neira_json_get(json, len, "background"), 255);
    if (value < 0 || value > 255) return 1;
    background = value;
    return 0;
}

/* A bad input: the message on stderr, exit(2) (a failed call, kind `exception`; the host puts
 * stderr's first lines in the error body). */
static int64_t fail(const char *message) {
    fprintf(stderr, "grayscale: %s\n", message);
    exit(2);
}

NEIRA_EXPORT("neira_run") int64_t neira_run(const char *input, uint32_t len) {
    long long width = neira_json_int(neira_json_get(input, len, "width"), -1);
    long long height = neira_json_int(neira_json_get(input, len, "height"), -1);
    if (width <= 0 || height <= 0 || width > 16384 || height > 16384) return fail("width and height must be 1..16384");
    uint32_t text_len = 0, n = 0;
    char *text = neira_json_string(neira_json_get(input, len, "rgba"), &text_len);
    if (!text) return fail("rgba must be a base64 string");
    unsigned char *rgba = neira_base64_decode(text, text_len, &n);
    if (!rgba) return fail("rgba is not valid base64");
    uint32_t pixels = (uint32_t)(width * height);
    if (n != pixels * 4) return fail("rgba must hold width * height * 4 bytes");
    unsigned char *gray = malloc(pixels ? pixels : 1);
    if (!gray) abort();
    for (uint32_t i = 0; i < pixels; i++) {
        const unsigned char *p = rgba + 4 * i;
        uint32_t luma = (299u * p[0] + 587u * p[1] + 114u * p[2] + 500u) / 1000u;
        uint32_t a = p[3];
        gray[i] = (unsigned char)((luma * a + (uint32_t)background * (255u - a) + 127u) / 255u);
    }
    neira_buf out = {0};
    neira_buf_str(&out, "{\"width\":");
    neira_buf_int(&out, width);
    neira_buf_str(&out, ",\"height\":");
    neira_buf_int(&out, height);
    neira_buf_str(&out, ",\"gray\":");
    neira_buf_base64(&out, gray, pixels);
    neira_buf_str(&out, "}");
    if (out.failed) abort();
    return neira_buf_result(&out);
}
