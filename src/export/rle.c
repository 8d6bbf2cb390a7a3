/* teleop — RLE / bit-packing hybrid encoder.
 *
 * Runs of 8 or more equal values become RLE runs; everything else goes into
 * bit-packed runs, which hold multiples of 8 values. A pending literal
 * stretch that is not a multiple of 8 borrows values from the start of the
 * next long run so no padding is needed except at the very end (readers
 * stop at the page's value count there).
 */
#include "rle.h"

#include "thrift_compact.h"

typedef struct src {
    const uint8_t *u8;
    const uint32_t *u32;
} src;

/* `wide` is a constant in each caller, so the compiler specializes encode */
static inline uint32_t at(src s, bool wide, size_t i) { return wide ? s.u32[i] : s.u8[i]; }

int tp_rle_bit_width(uint32_t max_value)
{
    int w = 1;
    while (w < 32 && (max_value >> w) != 0)
        w++;
    return w;
}

static void bit_packed_run(tp_bytebuf *out, src s, bool wide, size_t from, size_t count, int bw)
{
    if (count == 0)
        return;
    size_t groups = (count + 7) / 8;
    tc_varint(out, (uint64_t)groups << 1 | 1);
    if (!tp_bytebuf_reserve(out, groups * (size_t)bw))
        return;
    uint64_t acc = 0;
    int nbits = 0;
    for (size_t i = 0; i < groups * 8; i++) {
        uint64_t v = i < count ? at(s, wide, from + i) : 0;
        acc |= v << nbits;
        nbits += bw;
        while (nbits >= 8) {
            out->data[out->len++] = (uint8_t)acc;
            acc >>= 8;
            nbits -= 8;
        }
    }
    /* groups of 8 values fill whole bytes: nothing is left in acc */
}

static void rle_run(tp_bytebuf *out, uint32_t value, size_t count, int bw)
{
    tc_varint(out, (uint64_t)count << 1);
    for (int b = 0; b < (bw + 7) / 8; b++)
        tp_bytebuf_u8(out, (uint8_t)(value >> (8 * b)));
}

static inline __attribute__((always_inline)) void encode(tp_bytebuf *out, src s, bool wide, size_t n, int bw)
{
    size_t lit = 0, i = 0;
    while (i < n) {
        uint32_t v = at(s, wide, i);
        size_t r = 1;
        while (i + r < n && at(s, wide, i + r) == v)
            r++;
        if (r < 8) {
            i += r;
            continue;
        }
        size_t pending = i - lit;
        if (pending % 8) {
            size_t k = 8 - pending % 8;
            if (r - k < 8) {
                i += r; /* too short after lending: keep it literal */
                continue;
            }
            i += k;
            r -= k;
        }
        bit_packed_run(out, s, wide, lit, i - lit, bw);
        rle_run(out, v, r, bw);
        i += r;
        lit = i;
    }
    bit_packed_run(out, s, wide, lit, n - lit, bw);
}

void tp_rle_encode_u8(tp_bytebuf *out, const uint8_t *values, size_t n, int bit_width)
{
    encode(out, (src){.u8 = values}, false, n, bit_width);
}

void tp_rle_encode_u32(tp_bytebuf *out, const uint32_t *values, size_t n, int bit_width)
{
    encode(out, (src){.u32 = values}, true, n, bit_width);
}
