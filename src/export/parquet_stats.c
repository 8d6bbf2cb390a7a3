/* teleop — Parquet column chunk statistics: null and NaN counts, min and
 * max in the column order parquet.thrift defines (signed INT64, false <
 * true, unsigned bytes for strings, floats without NaN and with the -0/+0
 * rule for zero bounds). */
#include "parquet_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STAT_MAX_BYTES 1024 /* longer string min/max are left out of the statistics */

/* Float order for statistics: NaN is ignored; a zero min is written as
 * -0.0 and a zero max as +0.0 (parquet.thrift, ColumnOrder). */
static void float_stats(const pq_column *col, pq_chunk_meta *m)
{
    double lo = INFINITY, hi = -INFINITY;
    size_t nan = 0, n = col->nvalues;
    if (col->desc.type == TP_PQ_FLOAT) {
        const float *v = (const float *)(const void *)col->values.data;
        float flo = INFINITY, fhi = -INFINITY;
        /* comparisons with NaN are false, so NaN never becomes a bound */
        for (size_t i = 0; i < n; i++) {
            float x = v[i];
            nan += x != x;
            flo = x < flo ? x : flo;
            fhi = x > fhi ? x : fhi;
        }
        lo = flo;
        hi = fhi;
    } else {
        const double *v = (const double *)(const void *)col->values.data;
        for (size_t i = 0; i < n; i++) {
            double x = v[i];
            nan += x != x;
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
        }
    }
    m->nan_count = (int64_t)nan;
    if (nan == n)
        return; /* no non-NaN value: no min/max */
    if (lo == 0)
        lo = -0.0;
    if (hi == 0)
        hi = 0.0;
    size_t sz = col->value_size;
    m->min = malloc(sz);
    m->max = malloc(sz);
    if (!m->min || !m->max)
        return;
    if (col->desc.type == TP_PQ_FLOAT) {
        float flo = (float)lo, fhi = (float)hi;
        memcpy(m->min, &flo, 4);
        memcpy(m->max, &fhi, 4);
    } else {
        memcpy(m->min, &lo, 8);
        memcpy(m->max, &hi, 8);
    }
    m->min_len = m->max_len = sz;
    m->has_minmax = true;
}

static int bytes_cmp(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    int c = memcmp(a, b, na < nb ? na : nb);
    if (c)
        return c;
    return na < nb ? -1 : na > nb;
}

void pq_compute_stats(const pq_column *col, pq_chunk_meta *m)
{
    m->null_count = (int64_t)(col->nlevels - col->nvalues);
    if (col->nvalues == 0)
        return;
    const uint8_t *v = col->values.data;
    const uint8_t *lo = NULL, *hi = NULL;
    size_t lo_len = 0, hi_len = 0;
    switch (col->desc.type) {
    case TP_PQ_FLOAT:
    case TP_PQ_DOUBLE:
        float_stats(col, m);
        return;
    case TP_PQ_INT64: {
        int64_t a, b;
        memcpy(&a, v, 8);
        b = a;
        for (size_t i = 1; i < col->nvalues; i++) {
            int64_t x;
            memcpy(&x, v + 8 * i, 8);
            if (x < a)
                a = x;
            if (x > b)
                b = x;
        }
        m->min = malloc(8);
        m->max = malloc(8);
        if (m->min && m->max) {
            memcpy(m->min, &a, 8);
            memcpy(m->max, &b, 8);
            m->min_len = m->max_len = 8;
            m->has_minmax = true;
        }
        return;
    }
    case TP_PQ_BOOL: {
        uint8_t a = 1, b = 0;
        for (size_t i = 0; i < col->nvalues; i++) {
            a &= v[i];
            b |= v[i];
        }
        m->min = malloc(1);
        m->max = malloc(1);
        if (m->min && m->max) {
            m->min[0] = a;
            m->max[0] = b;
            m->min_len = m->max_len = 1;
            m->has_minmax = true;
        }
        return;
    }
    case TP_PQ_STRING: {
        const uint32_t *len = (const uint32_t *)col->str_len.data;
        size_t off = 0;
        for (size_t i = 0; i < col->nvalues; i++) {
            const uint8_t *s = v + off;
            if (!lo || bytes_cmp(s, len[i], lo, lo_len) < 0) {
                lo = s;
                lo_len = len[i];
            }
            if (!hi || bytes_cmp(s, len[i], hi, hi_len) > 0) {
                hi = s;
                hi_len = len[i];
            }
            off += len[i];
        }
        if (lo_len > STAT_MAX_BYTES || hi_len > STAT_MAX_BYTES)
            return;
        m->min = malloc(lo_len ? lo_len : 1);
        m->max = malloc(hi_len ? hi_len : 1);
        if (m->min && m->max) {
            memcpy(m->min, lo, lo_len);
            memcpy(m->max, hi, hi_len);
            m->min_len = lo_len;
            m->max_len = hi_len;
            m->has_minmax = true;
        }
        return;
    }
    }
}
