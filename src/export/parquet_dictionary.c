/* teleop — Parquet dictionary encoding: builds a column chunk's dictionary
 * (open addressing over the buffered values) and decides whether it pays. */
#include "parquet_internal.h"

#include "rle.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return hash64(h ^ n);
}

size_t pq_build_dictionary(const pq_column *col, size_t limit_bytes, uint32_t **indices_io, size_t *indices_cap,
                           tp_bytebuf *dict)
{
    size_t n = col->nvalues;
    if (n == 0 || n > UINT32_MAX)
        return 0;
    if (*indices_cap < n) {
        uint32_t *ni = realloc(*indices_io, n * sizeof *ni);
        if (!ni)
            return 0;
        *indices_io = ni;
        *indices_cap = n;
    }
    uint32_t *indices = *indices_io;
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    /* slot -> entry + 1; entries remember where their value lives */
    uint32_t *slots = calloc(cap, sizeof *slots);
    size_t *entry_at = malloc(n * sizeof *entry_at); /* value index of each entry */
    if (!slots || !entry_at) {
        free(slots);
        free(entry_at);
        return 0;
    }
    const uint8_t *v = col->values.data;
    const uint32_t *len = (const uint32_t *)col->str_len.data;
    size_t *str_off = NULL;
    if (col->desc.type == TP_PQ_STRING) {
        str_off = malloc(n * sizeof *str_off);
        if (!str_off) {
            free(slots);
            free(entry_at);
            return 0;
        }
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
            str_off[i] = off;
            off += len[i];
        }
    }
    size_t entries = 0, dict_bytes = 0;
    bool too_big = false;
    for (size_t i = 0; i < n && !too_big; i++) {
        uint64_t h;
        if (str_off)
            h = hash_bytes(v + str_off[i], len[i]);
        else {
            uint64_t x;
            memcpy(&x, v + 8 * i, 8);
            h = hash64(x);
        }
        size_t s = h & (cap - 1);
        for (;;) {
            uint32_t e = slots[s];
            if (e == 0) {
                slots[s] = (uint32_t)(entries + 1);
                entry_at[entries] = i;
                indices[i] = (uint32_t)entries;
                entries++;
                dict_bytes += str_off ? 4 + len[i] : 8;
                too_big = dict_bytes > limit_bytes;
                break;
            }
            size_t j = entry_at[e - 1];
            bool same = str_off ? len[j] == len[i] && memcmp(v + str_off[j], v + str_off[i], len[i]) == 0
                                : memcmp(v + 8 * j, v + 8 * i, 8) == 0;
            if (same) {
                indices[i] = e - 1;
                break;
            }
            s = (s + 1) & (cap - 1);
        }
    }
    size_t plain_bytes = str_off ? 4 * n + col->values.len : 8 * n;
    int bw = tp_rle_bit_width(entries > 1 ? (uint32_t)(entries - 1) : 0);
    size_t dict_estimate = dict_bytes + (n * (size_t)bw + 7) / 8;
    size_t result = 0;
    if (!too_big && dict_estimate < plain_bytes) {
        dict->len = 0;
        for (size_t e = 0; e < entries; e++) {
            size_t i = entry_at[e];
            if (str_off) {
                tp_bytebuf_le32(dict, len[i]);
                tp_bytebuf_put(dict, v + str_off[i], len[i]);
            } else {
                tp_bytebuf_put(dict, v + 8 * i, 8);
            }
        }
        result = dict->failed ? 0 : entries;
    }
    free(slots);
    free(entry_at);
    free(str_off);
    return result;
}
