/* teleop — validation and escaping of user-given text. */
#include "teleop/text.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

bool tp_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq(p + i, n - i);
        if (!l)
            return false;
        i += l;
    }
    return true;
}

/* C0 controls, DEL, and C1 controls (U+0080..U+009F, C2 80..C2 9F). */
static bool control_at(const unsigned char *p, size_t l)
{
    return (l == 1 && (p[0] < 0x20 || p[0] == 0x7F)) || (l == 2 && p[0] == 0xC2 && p[1] < 0xA0);
}

int tp_text_check(const char *s, size_t max_bytes, char *why, size_t whylen)
{
    size_t n = strlen(s);
    if (n > max_bytes) {
        snprintf(why, whylen, "%zu bytes, the limit is %zu", n, max_bytes);
        return -1;
    }
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq(p + i, n - i);
        if (!l) {
            snprintf(why, whylen, "is not valid UTF-8 (byte %zu)", i + 1);
            return -1;
        }
        if (control_at(p + i, l)) {
            snprintf(why, whylen, "contains a control character (byte %zu)", i + 1);
            return -1;
        }
        i += l;
    }
    return 0;
}

int tp_name_check(const char *s, size_t max_bytes, char *why, size_t whylen)
{
    size_t n = strlen(s);
    if (n == 0) {
        snprintf(why, whylen, "is empty");
        return -1;
    }
    if (n > max_bytes) {
        snprintf(why, whylen, "%zu bytes, the limit is %zu", n, max_bytes);
        return -1;
    }
    if (s[0] == '-') {
        snprintf(why, whylen, "starts with '-'");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) {
            snprintf(why, whylen, "byte %zu is not a letter, digit, '_' or '-' (ASCII)", i + 1);
            return -1;
        }
    }
    return 0;
}

char *tp_text_escape(const char *s, char *out, size_t outlen)
{
    if (!outlen)
        return out;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p), o = 0;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq(p + i, n - i);
        char tmp[8];
        size_t tl;
        if (!l || control_at(p + i, l)) {
            tl = (size_t)snprintf(tmp, sizeof tmp, "\\x%02X", p[i]);
            l = 1;
        } else {
            memcpy(tmp, p + i, l);
            tl = l;
        }
        if (o + tl + 4 > outlen) { /* room for "..." and NUL */
            if (o + 4 <= outlen) {
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        memcpy(out + o, tmp, tl);
        o += tl;
        i += l;
    }
    out[o < outlen ? o : outlen - 1] = '\0';
    return out;
}
