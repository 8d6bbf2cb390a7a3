/* teleop — a growable byte buffer for the export encoders.
 *
 * Appends never fail loudly: an allocation failure sets `failed` and later
 * appends do nothing, so encoders check once at the end. The buffer owns
 * `data`; tp_bytebuf_free releases it.
 */
#ifndef TELEOP_EXPORT_BYTEBUF_H
#define TELEOP_EXPORT_BYTEBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct tp_bytebuf {
    uint8_t *data;
    size_t len, cap;
    bool failed;
} tp_bytebuf;

static inline bool tp_bytebuf_reserve(tp_bytebuf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->cap - b->len >= extra)
        return true;
    size_t need = b->len + extra;
    if (need < b->len) {
        b->failed = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *nd = realloc(b->data, cap);
    if (!nd) {
        b->failed = true;
        return false;
    }
    b->data = nd;
    b->cap = cap;
    return true;
}

static inline void tp_bytebuf_put(tp_bytebuf *b, const void *p, size_t n)
{
    if (n == 0 || !tp_bytebuf_reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static inline void tp_bytebuf_u8(tp_bytebuf *b, uint8_t v) { tp_bytebuf_put(b, &v, 1); }

static inline void tp_bytebuf_zeros(tp_bytebuf *b, size_t n)
{
    if (n == 0 || !tp_bytebuf_reserve(b, n))
        return;
    memset(b->data + b->len, 0, n);
    b->len += n;
}

/* Little-endian fixed-width integers (the host is checked to be little-endian). */
static inline void tp_bytebuf_le32(tp_bytebuf *b, uint32_t v) { tp_bytebuf_put(b, &v, 4); }
static inline void tp_bytebuf_le16(tp_bytebuf *b, uint16_t v) { tp_bytebuf_put(b, &v, 2); }

static inline void tp_bytebuf_free(tp_bytebuf *b)
{
    free(b->data);
    *b = (tp_bytebuf){0};
}

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the parquet writer stores values in host order and needs a little-endian host"
#endif

#endif
