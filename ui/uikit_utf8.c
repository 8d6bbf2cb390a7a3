/* teleop ui kit — UTF-8 decoding and editing for text fields. */
#include <string.h>

#include "uikit.h"

int uk_utf8_decode(const char *str, size_t n, uint32_t *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    if (!n) {
        *cp = 0xFFFD;
        return 1;
    }
    unsigned c = s[0];
    int len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    if ((size_t)len > n) {
        *cp = 0xFFFD;
        return 1;
    }
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return i;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = 0xFFFD;
        return len;
    }
    *cp = v;
    return len;
}

bool uk_utf8_append(char *buf, size_t cap, uint32_t cp)
{
    char e[4];
    int n;
    if (cp < 0x80) {
        e[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        e[0] = (char)(0xC0 | (cp >> 6)), e[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            return false;
        e[0] = (char)(0xE0 | (cp >> 12)), e[1] = (char)(0x80 | ((cp >> 6) & 0x3F)), e[2] = (char)(0x80 | (cp & 0x3F)),
        n = 3;
    } else if (cp <= 0x10FFFF) {
        e[0] = (char)(0xF0 | (cp >> 18)), e[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
        e[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), e[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    } else {
        return false;
    }
    size_t len = strlen(buf);
    if (len + (size_t)n + 1 > cap)
        return false;
    memcpy(buf + len, e, (size_t)n);
    buf[len + n] = 0;
    return true;
}

bool uk_utf8_pop(char *buf)
{
    size_t len = strlen(buf);
    if (!len)
        return false;
    do
        len--;
    while (len > 0 && ((unsigned char)buf[len] & 0xC0) == 0x80);
    buf[len] = 0;
    return true;
}
