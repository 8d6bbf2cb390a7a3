/* teleop — Parquet file writer: row-group buffering, pages, footer, and
 * the crash-safe temporary-file-and-rename life cycle.
 *
 * Values of the current row group are kept per column in memory (levels,
 * raw non-null values); when the row group is full each column chunk is
 * encoded (dictionary or PLAIN), cut into data pages at row boundaries,
 * compressed and written, and its metadata kept for the footer.
 */
#include "teleop/parquet.h"

#include "arrow_schema.h"
#include "parquet_internal.h"
#include "rle.h"
#include "thrift_compact.h"

#include <errno.h>
#include <fcntl.h>
#include <snappy-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef TELEOP_VERSION
#define TELEOP_VERSION "unknown"
#endif

struct tp_pq_writer {
    char *path, *tmp_path;
    int fd;
    int64_t pos;
    tp_pq_options opt;
    char *created_by;
    pq_column *cols;
    size_t ncols;
    size_t rg_rows; /* rows in the row group being filled */
    uint64_t total_rows;
    pq_row_group *groups;
    size_t ngroups, groups_cap;
    char **kv_keys, **kv_values;
    size_t nkv;
    tp_bytebuf page, body, comp, header; /* scratch */
    uint32_t *indices;
    size_t indices_cap;
    bool failed; /* a batch or row group failed half-way: only abort is left */
};

static int fail(const tp_pq_writer *w, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(const tp_pq_writer *w, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        int n = snprintf(err, errlen, "%s: ", w->path);
        if (n >= 0 && (size_t)n < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

tp_pq_options tp_pq_default_options(void)
{
    return (tp_pq_options){
        .codec = TP_PQ_SNAPPY,
        .use_dictionary = true,
        .row_group_rows = 65536,
        .page_bytes = 1u << 20,
        .dictionary_bytes = 1u << 20,
        .created_by = NULL,
        .arrow_schema = true,
    };
}

static size_t type_size(tp_pq_type t)
{
    switch (t) {
    case TP_PQ_INT64:
    case TP_PQ_DOUBLE:
        return 8;
    case TP_PQ_FLOAT:
        return 4;
    case TP_PQ_BOOL:
        return 1;
    case TP_PQ_STRING:
        return 0;
    }
    return 0;
}

static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0) {
            k = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xC0) != 0x80) /* truncated or not a continuation */
                return false;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        static const uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

/* ---- life cycle ---------------------------------------------------------- */

static void free_chunks(pq_row_group *g, size_t ncols)
{
    if (!g->chunks)
        return;
    for (size_t c = 0; c < ncols; c++) {
        free(g->chunks[c].min);
        free(g->chunks[c].max);
    }
    free(g->chunks);
}

static void writer_free(tp_pq_writer *w)
{
    if (!w)
        return;
    for (size_t c = 0; c < w->ncols; c++) {
        pq_column *col = &w->cols[c];
        free((char *)col->desc.name);
        tp_bytebuf_free(&col->def);
        tp_bytebuf_free(&col->rep);
        tp_bytebuf_free(&col->values);
        tp_bytebuf_free(&col->str_len);
    }
    free(w->cols);
    for (size_t g = 0; g < w->ngroups; g++)
        free_chunks(&w->groups[g], w->ncols);
    free(w->groups);
    for (size_t i = 0; i < w->nkv; i++) {
        free(w->kv_keys[i]);
        free(w->kv_values[i]);
    }
    free(w->kv_keys);
    free(w->kv_values);
    tp_bytebuf_free(&w->page);
    tp_bytebuf_free(&w->body);
    tp_bytebuf_free(&w->comp);
    tp_bytebuf_free(&w->header);
    free(w->indices);
    free(w->created_by);
    free(w->path);
    free(w->tmp_path);
    free(w);
}

tp_pq_writer *tp_pq_writer_open(const char *path, const tp_pq_column *columns, size_t ncolumns,
                                const tp_pq_options *options, char *err, size_t errlen)
{
    tp_pq_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) {
        free(w);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    w->fd = -1;
    w->opt = options ? *options : tp_pq_default_options();
    if (!w->opt.row_group_rows)
        w->opt.row_group_rows = 65536;
    if (!w->opt.page_bytes)
        w->opt.page_bytes = 1u << 20;
    if (!w->opt.dictionary_bytes)
        w->opt.dictionary_bytes = 1u << 20;
    if (w->opt.codec != TP_PQ_SNAPPY && w->opt.codec != TP_PQ_UNCOMPRESSED) {
        fail(w, err, errlen, "unknown compression codec %d", (int)w->opt.codec);
        goto bad;
    }
    if (ncolumns == 0) {
        fail(w, err, errlen, "a parquet file needs at least one column");
        goto bad;
    }
    const char *by = w->opt.created_by ? w->opt.created_by : "teleop version " TELEOP_VERSION;
    w->created_by = strdup(by);
    w->cols = calloc(ncolumns, sizeof *w->cols);
    if (!w->created_by || !w->cols) {
        fail(w, err, errlen, "out of memory");
        goto bad;
    }
    w->ncols = ncolumns;
    for (size_t c = 0; c < ncolumns; c++) {
        const tp_pq_column *d = &columns[c];
        pq_column *col = &w->cols[c];
        if (!d->name || !d->name[0]) {
            fail(w, err, errlen, "column %zu has no name", c);
            goto bad;
        }
        if (!utf8_valid((const uint8_t *)d->name, strlen(d->name))) {
            fail(w, err, errlen, "column %zu: name is not valid UTF-8", c);
            goto bad;
        }
        for (size_t p = 0; p < c; p++)
            if (strcmp(columns[p].name, d->name) == 0) {
                fail(w, err, errlen, "column %s appears twice", d->name);
                goto bad;
            }
        if ((unsigned)d->type > TP_PQ_STRING || (unsigned)d->shape > TP_PQ_LIST) {
            fail(w, err, errlen, "column %s: unknown type or shape", d->name);
            goto bad;
        }
        if (d->shape == TP_PQ_FIXED_LIST && d->list_size < 1) {
            fail(w, err, errlen, "column %s: fixed-size list needs list_size >= 1 (got %d)", d->name,
                 (int)d->list_size);
            goto bad;
        }
        col->desc = *d;
        col->desc.name = strdup(d->name);
        if (!col->desc.name) {
            fail(w, err, errlen, "out of memory");
            goto bad;
        }
        col->value_size = type_size(d->type);
        col->max_def = d->nullable ? 1 : 0;
        if (d->shape != TP_PQ_SCALAR) {
            col->max_def += 2; /* repeated group "list", optional "element" */
            col->max_rep = 1;
        }
    }

    size_t plen = strlen(path);
    w->tmp_path = malloc(plen + sizeof ".tmp-XXXXXX");
    if (!w->tmp_path) {
        fail(w, err, errlen, "out of memory");
        goto bad;
    }
    memcpy(w->tmp_path, path, plen);
    memcpy(w->tmp_path + plen, ".tmp-XXXXXX", sizeof ".tmp-XXXXXX");
    w->fd = mkostemp(w->tmp_path, O_CLOEXEC);
    if (w->fd < 0) {
        fail(w, err, errlen, "cannot create %s: %s", w->tmp_path, strerror(errno));
        free(w->tmp_path);
        w->tmp_path = NULL;
        goto bad;
    }
    if (fchmod(w->fd, 0644) != 0) {
        fail(w, err, errlen, "chmod %s: %s", w->tmp_path, strerror(errno));
        goto bad;
    }
    if (write(w->fd, "PAR1", 4) != 4) {
        fail(w, err, errlen, "write %s: %s", w->tmp_path, strerror(errno));
        goto bad;
    }
    w->pos = 4;
    return w;
bad:
    tp_pq_writer_abort(w);
    return NULL;
}

void tp_pq_writer_abort(tp_pq_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmp_path)
        unlink(w->tmp_path);
    writer_free(w);
}

uint64_t tp_pq_writer_rows(const tp_pq_writer *w) { return w->total_rows; }

int tp_pq_writer_set_kv(tp_pq_writer *w, const char *key, const char *value, char *err, size_t errlen)
{
    if (!key || !value)
        return fail(w, err, errlen, "metadata key and value must not be NULL");
    if (!utf8_valid((const uint8_t *)key, strlen(key)) || !utf8_valid((const uint8_t *)value, strlen(value)))
        return fail(w, err, errlen, "metadata %s: key or value is not valid UTF-8", key);
    if (strcmp(key, "ARROW:schema") == 0 && w->opt.arrow_schema)
        return fail(w, err, errlen, "ARROW:schema is written by the writer itself");
    for (size_t i = 0; i < w->nkv; i++)
        if (strcmp(w->kv_keys[i], key) == 0) {
            char *v = strdup(value);
            if (!v)
                return fail(w, err, errlen, "out of memory");
            free(w->kv_values[i]);
            w->kv_values[i] = v;
            return 0;
        }
    char **nk = realloc(w->kv_keys, (w->nkv + 1) * sizeof *nk);
    if (nk)
        w->kv_keys = nk;
    char **nv = realloc(w->kv_values, (w->nkv + 1) * sizeof *nv);
    if (nv)
        w->kv_values = nv;
    char *k = nk && nv ? strdup(key) : NULL;
    char *v = k ? strdup(value) : NULL;
    if (!v) {
        free(k);
        return fail(w, err, errlen, "out of memory");
    }
    w->kv_keys[w->nkv] = k;
    w->kv_values[w->nkv] = v;
    w->nkv++;
    return 0;
}

/* ---- appending rows -------------------------------------------------------- */

static void push_level(pq_column *col, uint8_t rep, uint8_t def)
{
    if (col->max_rep)
        tp_bytebuf_u8(&col->rep, rep);
    if (col->max_def)
        tp_bytebuf_u8(&col->def, def);
    col->nlevels++;
}

/* Appends `count` values starting at element index `first` of d; for
 * error messages the values belong to row `row`, or, when per_row is not
 * 0, to consecutive rows of per_row values from `row` on. */
static int push_values(tp_pq_writer *w, pq_column *col, const tp_pq_column_data *d, size_t first, size_t count,
                       size_t row, size_t per_row, char *err, size_t errlen)
{
    if (count == 0)
        return 0;
    if (col->desc.type == TP_PQ_STRING) {
        const char *const *s = d->values;
        for (size_t i = 0; i < count; i++) {
            const char *p = s[first + i];
            size_t at_row = row + (per_row ? i / per_row : 0);
            if (!p)
                return fail(w, err, errlen, "column %s row %zu: NULL string in a present row", col->desc.name,
                            at_row);
            size_t n = d->str_len ? d->str_len[first + i] : strlen(p);
            if (!utf8_valid((const uint8_t *)p, n))
                return fail(w, err, errlen, "column %s row %zu: string is not valid UTF-8", col->desc.name, at_row);
            uint32_t n32 = (uint32_t)n;
            tp_bytebuf_put(&col->str_len, &n32, 4);
            tp_bytebuf_put(&col->values, p, n);
        }
    } else if (col->desc.type == TP_PQ_BOOL) {
        const uint8_t *b = d->values;
        if (!tp_bytebuf_reserve(&col->values, count))
            return fail(w, err, errlen, "out of memory");
        for (size_t i = 0; i < count; i++)
            col->values.data[col->values.len++] = b[first + i] ? 1 : 0;
    } else {
        tp_bytebuf_put(&col->values, (const uint8_t *)d->values + first * col->value_size,
                       count * col->value_size);
    }
    col->nvalues += count;
    return 0;
}

/* Appends rows [r0, r0+n) of the batch; elem[c] is each LIST column's
 * element cursor. */
static int append_rows(tp_pq_writer *w, const tp_pq_column_data *cols, size_t r0, size_t n, size_t *elem,
                       char *err, size_t errlen)
{
    for (size_t c = 0; c < w->ncols; c++) {
        pq_column *col = &w->cols[c];
        const tp_pq_column_data *d = &cols[c];
        if (!d->values && n > 0) {
            bool all_null = d->valid != NULL;
            for (size_t r = r0; all_null && r < r0 + n; r++)
                all_null = !d->valid[r];
            if (!all_null && !(col->desc.shape == TP_PQ_LIST && d->list_len))
                return fail(w, err, errlen, "column %s: no values given", col->desc.name);
        }
        if (col->desc.shape == TP_PQ_LIST && !d->list_len && n > 0)
            return fail(w, err, errlen, "column %s: list column without list_len", col->desc.name);
        if (col->desc.shape != TP_PQ_LIST && !d->valid) {
            /* every row present and of the same length: levels in bulk */
            size_t per_row = col->desc.shape == TP_PQ_FIXED_LIST ? (size_t)col->desc.list_size : 1;
            size_t count = n * per_row;
            if (col->max_def) {
                if (!tp_bytebuf_reserve(&col->def, count))
                    return fail(w, err, errlen, "out of memory");
                memset(col->def.data + col->def.len, col->max_def, count);
                col->def.len += count;
            }
            if (col->max_rep) {
                if (!tp_bytebuf_reserve(&col->rep, count))
                    return fail(w, err, errlen, "out of memory");
                uint8_t *rp = col->rep.data + col->rep.len;
                memset(rp, 1, count);
                for (size_t r = 0; r < n; r++)
                    rp[r * per_row] = 0;
                col->rep.len += count;
            }
            col->nlevels += count;
            if (push_values(w, col, d, r0 * per_row, count, r0, per_row, err, errlen))
                return -1;
            continue;
        }
        int present_def = col->desc.nullable ? 1 : 0; /* def of a present row with no element */
        for (size_t r = r0; r < r0 + n; r++) {
            bool valid = !d->valid || d->valid[r];
            if (!valid && !col->desc.nullable)
                return fail(w, err, errlen, "column %s row %zu: null in a non-nullable column", col->desc.name,
                            r);
            if (!valid) {
                push_level(col, 0, 0);
                continue;
            }
            size_t first, count;
            if (col->desc.shape == TP_PQ_SCALAR) {
                first = r;
                count = 1;
            } else if (col->desc.shape == TP_PQ_FIXED_LIST) {
                first = r * (size_t)col->desc.list_size;
                count = (size_t)col->desc.list_size;
            } else {
                first = elem[c];
                count = d->list_len[r];
                elem[c] += count;
            }
            if (count == 0) {
                push_level(col, 0, (uint8_t)present_def);
                continue;
            }
            if (!d->values)
                return fail(w, err, errlen, "column %s row %zu: no values given", col->desc.name, r);
            if (col->desc.shape == TP_PQ_SCALAR) {
                push_level(col, 0, (uint8_t)col->max_def);
            } else {
                if (!tp_bytebuf_reserve(&col->rep, count) || !tp_bytebuf_reserve(&col->def, count))
                    return fail(w, err, errlen, "out of memory");
                col->rep.data[col->rep.len++] = 0;
                memset(col->rep.data + col->rep.len, 1, count - 1);
                col->rep.len += count - 1;
                memset(col->def.data + col->def.len, col->max_def, count);
                col->def.len += count;
                col->nlevels += count;
            }
            if (push_values(w, col, d, first, count, r, 0, err, errlen))
                return -1;
        }
    }
    for (size_t c = 0; c < w->ncols; c++) {
        pq_column *col = &w->cols[c];
        if (col->def.failed || col->rep.failed || col->values.failed || col->str_len.failed)
            return fail(w, err, errlen, "out of memory buffering column %s", col->desc.name);
    }
    w->rg_rows += n;
    w->total_rows += n;
    return 0;
}

static int flush_row_group(tp_pq_writer *w, char *err, size_t errlen);

int tp_pq_write_batch(tp_pq_writer *w, const tp_pq_column_data *cols, size_t nrows, char *err, size_t errlen)
{
    if (w->failed)
        return fail(w, err, errlen, "an earlier write failed; the file can only be aborted");
    size_t *elem = calloc(w->ncols, sizeof *elem);
    if (!elem)
        return fail(w, err, errlen, "out of memory");
    size_t done = 0;
    int rc = 0;
    while (done < nrows) {
        size_t room = w->opt.row_group_rows - w->rg_rows;
        size_t n = nrows - done < room ? nrows - done : room;
        if ((rc = append_rows(w, cols, done, n, elem, err, errlen)) != 0)
            break;
        done += n;
        if (w->rg_rows >= w->opt.row_group_rows && (rc = flush_row_group(w, err, errlen)) != 0)
            break;
    }
    free(elem);
    if (rc)
        w->failed = true;
    return rc;
}

int tp_pq_writer_flush_row_group(tp_pq_writer *w, char *err, size_t errlen)
{
    if (w->failed)
        return fail(w, err, errlen, "an earlier write failed; the file can only be aborted");
    if (w->rg_rows && flush_row_group(w, err, errlen)) {
        w->failed = true;
        return -1;
    }
    return 0;
}

/* ---- encoding a column chunk -------------------------------------------------- */

static int write_all(tp_pq_writer *w, const uint8_t *p, size_t n, char *err, size_t errlen)
{
    while (n > 0) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return fail(w, err, errlen, "write %s: %s", w->tmp_path, strerror(errno));
        }
        p += k;
        n -= (size_t)k;
        w->pos += k;
    }
    return 0;
}

/* Compresses w->page into w->comp (or not), writes header + body. */
static int emit_page(tp_pq_writer *w, int page_type, int32_t num_values, int encoding, pq_chunk_meta *m, char *err,
                     size_t errlen)
{
    const uint8_t *body = w->page.data;
    size_t body_len = w->page.len;
    if (w->page.failed)
        return fail(w, err, errlen, "out of memory encoding a page");
    if (body_len > INT32_MAX)
        return fail(w, err, errlen, "page of %zu bytes is too large", body_len);
    if (w->opt.codec == TP_PQ_SNAPPY) {
        size_t max = snappy_max_compressed_length(body_len);
        w->comp.len = 0;
        if (!tp_bytebuf_reserve(&w->comp, max ? max : 1))
            return fail(w, err, errlen, "out of memory compressing a page");
        size_t out_len = max;
        if (snappy_compress((const char *)body, body_len, (char *)w->comp.data, &out_len) != SNAPPY_OK)
            return fail(w, err, errlen, "snappy compression failed");
        body = w->comp.data;
        body_len = out_len;
    }
    w->header.len = 0;
    tc_writer t;
    tc_init(&t, &w->header);
    tc_struct_begin(&t);                          /* PageHeader */
    tc_field_i32(&t, 1, page_type);               /* type */
    tc_field_i32(&t, 2, (int32_t)w->page.len);    /* uncompressed_page_size */
    tc_field_i32(&t, 3, (int32_t)body_len);       /* compressed_page_size */
    if (page_type == PQ_PAGE_DATA) {
        tc_field_struct(&t, 5); /* DataPageHeader */
        tc_field_i32(&t, 1, num_values);
        tc_field_i32(&t, 2, encoding);
        tc_field_i32(&t, 3, PQ_ENC_RLE); /* definition_level_encoding */
        tc_field_i32(&t, 4, PQ_ENC_RLE); /* repetition_level_encoding */
        tc_struct_end(&t);
    } else {
        tc_field_struct(&t, 7); /* DictionaryPageHeader */
        tc_field_i32(&t, 1, num_values);
        tc_field_i32(&t, 2, encoding);
        tc_struct_end(&t);
    }
    tc_struct_end(&t);
    if (w->header.failed)
        return fail(w, err, errlen, "out of memory");
    if (page_type == PQ_PAGE_DATA) {
        if (m->data_pages == 0)
            m->data_page_offset = w->pos;
        m->data_pages++;
    } else {
        m->dictionary_page_offset = w->pos;
    }
    m->total_uncompressed += (int64_t)(w->header.len + w->page.len);
    m->total_compressed += (int64_t)(w->header.len + body_len);
    if (write_all(w, w->header.data, w->header.len, err, errlen))
        return -1;
    return write_all(w, body, body_len, err, errlen);
}

/* PLAIN encoding of values [v0, v1); *str_cursor is the byte offset of v0
 * for STRING columns. */
static void plain_values(tp_bytebuf *out, const pq_column *col, size_t v0, size_t v1, size_t *str_cursor)
{
    const uint8_t *v = col->values.data;
    switch (col->desc.type) {
    case TP_PQ_STRING: {
        const uint32_t *len = (const uint32_t *)col->str_len.data;
        for (size_t i = v0; i < v1; i++) {
            tp_bytebuf_le32(out, len[i]);
            tp_bytebuf_put(out, v + *str_cursor, len[i]);
            *str_cursor += len[i];
        }
        return;
    }
    case TP_PQ_BOOL: {
        size_t n = v1 - v0;
        if (!tp_bytebuf_reserve(out, (n + 7) / 8))
            return;
        uint8_t *o = out->data + out->len;
        memset(o, 0, (n + 7) / 8);
        for (size_t i = 0; i < n; i++)
            o[i / 8] |= (uint8_t)(v[v0 + i] << (i % 8));
        out->len += (n + 7) / 8;
        return;
    }
    default:
        tp_bytebuf_put(out, v + v0 * col->value_size, (v1 - v0) * col->value_size);
        return;
    }
}

static void levels(tp_bytebuf *out, const uint8_t *lv, size_t n, int max_level)
{
    size_t at = out->len;
    tp_bytebuf_le32(out, 0);
    tp_rle_encode_u8(out, lv, n, tp_rle_bit_width((uint32_t)max_level));
    if (!out->failed) {
        uint32_t len = (uint32_t)(out->len - at - 4);
        memcpy(out->data + at, &len, 4);
    }
}

static int write_chunk(tp_pq_writer *w, pq_column *col, pq_chunk_meta *m, char *err, size_t errlen)
{
    pq_compute_stats(col, m);
    m->num_values = (int64_t)col->nlevels;
    size_t entries = 0;
    if (w->opt.use_dictionary && (col->desc.type == TP_PQ_INT64 || col->desc.type == TP_PQ_STRING))
        entries = pq_build_dictionary(col, w->opt.dictionary_bytes, &w->indices, &w->indices_cap, &w->body);
    int bw = entries ? tp_rle_bit_width(entries > 1 ? (uint32_t)(entries - 1) : 0) : 0;
    if (entries) {
        m->dictionary = true;
        w->page.len = 0;
        tp_bytebuf_put(&w->page, w->body.data, w->body.len);
        if (emit_page(w, PQ_PAGE_DICTIONARY, (int32_t)entries, PQ_ENC_PLAIN, m, err, errlen))
            return -1;
    }
    const uint32_t *len = (const uint32_t *)col->str_len.data;
    size_t l = 0, v = 0, str_cursor = 0;
    const uint8_t *def = col->def.data, *rep = col->rep.data;
    /* encoded size per value, for cutting pages (STRING: 0, from its length) */
    size_t value_bits = entries                             ? (size_t)bw
                        : col->desc.type == TP_PQ_BOOL      ? 1
                        : col->desc.type == TP_PQ_STRING    ? 0
                                                            : 8 * col->value_size;
    size_t page_bits = w->opt.page_bytes * 8;
    bool all_values = col->nvalues == col->nlevels;
    do {
        size_t l0 = l, v0 = v, bits = 0;
        if (all_values && value_bits) {
            /* every slot holds a value of the same size: jump to the cut */
            size_t take = (page_bits + value_bits - 1) / value_bits;
            l = col->nlevels - l0 <= take ? col->nlevels : l0 + (take ? take : 1);
            while (col->max_rep && l < col->nlevels && rep[l] != 0)
                l++;
            v = l;
            bits = (l - l0) * value_bits;
        }
        while (l < col->nlevels) {
            if (l > l0 && bits >= page_bits && (!col->max_rep || rep[l] == 0))
                break; /* pages start at row boundaries */
            if (!col->max_def || def[l] == col->max_def) {
                bits += value_bits ? value_bits : 8 * (4 + (size_t)len[v]);
                v++;
            }
            l++;
        }
        if (l - l0 > INT32_MAX)
            return fail(w, err, errlen, "column %s: too many values in one page", col->desc.name);
        w->page.len = 0;
        if (col->max_rep)
            levels(&w->page, rep + l0, l - l0, col->max_rep);
        if (col->max_def)
            levels(&w->page, def + l0, l - l0, col->max_def);
        if (entries) {
            tp_bytebuf_u8(&w->page, (uint8_t)bw);
            tp_rle_encode_u32(&w->page, w->indices + v0, v - v0, bw);
        } else {
            plain_values(&w->page, col, v0, v, &str_cursor);
        }
        if (emit_page(w, PQ_PAGE_DATA, (int32_t)(l - l0), entries ? PQ_ENC_RLE_DICTIONARY : PQ_ENC_PLAIN, m,
                      err, errlen))
            return -1;
    } while (l < col->nlevels);
    return 0;
}

static int flush_row_group(tp_pq_writer *w, char *err, size_t errlen)
{
    if (w->ngroups == w->groups_cap) {
        size_t cap = w->groups_cap ? 2 * w->groups_cap : 8;
        pq_row_group *ng = realloc(w->groups, cap * sizeof *ng);
        if (!ng)
            return fail(w, err, errlen, "out of memory");
        w->groups = ng;
        w->groups_cap = cap;
    }
    pq_row_group *g = &w->groups[w->ngroups];
    *g = (pq_row_group){0};
    g->chunks = calloc(w->ncols, sizeof *g->chunks);
    if (!g->chunks)
        return fail(w, err, errlen, "out of memory");
    w->ngroups++;
    g->num_rows = (int64_t)w->rg_rows;
    g->file_offset = w->pos;
    for (size_t c = 0; c < w->ncols; c++) {
        pq_column *col = &w->cols[c];
        pq_chunk_meta *m = &g->chunks[c];
        if (write_chunk(w, col, m, err, errlen))
            return -1;
        g->total_byte_size += m->total_uncompressed;
        g->total_compressed_size += m->total_compressed;
        col->def.len = col->rep.len = col->values.len = col->str_len.len = 0;
        col->nvalues = col->nlevels = 0;
    }
    w->rg_rows = 0;
    return 0;
}

static int write_footer(tp_pq_writer *w, char *err, size_t errlen)
{
    char *arrow = NULL;
    if (w->opt.arrow_schema) {
        tp_pq_column *descs = malloc(w->ncols * sizeof *descs);
        if (descs) {
            for (size_t c = 0; c < w->ncols; c++)
                descs[c] = w->cols[c].desc;
            arrow = tp_arrow_schema_base64(descs, w->ncols, (const char *const *)w->kv_keys,
                                           (const char *const *)w->kv_values, w->nkv);
            free(descs);
        }
        if (!arrow)
            return fail(w, err, errlen, "out of memory building ARROW:schema");
    }
    pq_file_desc f = {
        .cols = w->cols, .ncols = w->ncols, .groups = w->groups, .ngroups = w->ngroups,
        .rows = w->total_rows, .kv_keys = w->kv_keys, .kv_values = w->kv_values, .nkv = w->nkv,
        .arrow_schema = arrow, .created_by = w->created_by, .snappy = w->opt.codec == TP_PQ_SNAPPY,
    };
    w->header.len = 0;
    bool ok = pq_encode_footer(&w->header, &f);
    free(arrow);
    if (!ok)
        return fail(w, err, errlen, "out of memory writing the footer");
    return write_all(w, w->header.data, w->header.len, err, errlen);
}

static int sync_folder(const tp_pq_writer *w, char *err, size_t errlen)
{
    const char *slash = strrchr(w->path, '/');
    char *dir = slash ? strndup(w->path, slash == w->path ? 1 : (size_t)(slash - w->path)) : strdup(".");
    if (!dir)
        return fail(w, err, errlen, "out of memory");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    if (fd < 0 || fsync(fd) != 0)
        rc = fail(w, err, errlen, "fsync folder %s: %s", dir, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

int tp_pq_writer_close(tp_pq_writer *w, char *err, size_t errlen)
{
    if (w->failed) {
        fail(w, err, errlen, "an earlier write failed; nothing written");
        goto bad;
    }
    if (w->rg_rows && flush_row_group(w, err, errlen))
        goto bad;
    if (write_footer(w, err, errlen))
        goto bad;
    if (fsync(w->fd) != 0) {
        fail(w, err, errlen, "fsync %s: %s", w->tmp_path, strerror(errno));
        goto bad;
    }
    int fd = w->fd;
    w->fd = -1;
    if (close(fd) != 0) {
        fail(w, err, errlen, "close %s: %s", w->tmp_path, strerror(errno));
        goto bad;
    }
    if (rename(w->tmp_path, w->path) != 0) {
        fail(w, err, errlen, "rename %s: %s", w->tmp_path, strerror(errno));
        goto bad;
    }
    free(w->tmp_path);
    w->tmp_path = NULL;
    int rc = sync_folder(w, err, errlen);
    writer_free(w);
    return rc;
bad:
    tp_pq_writer_abort(w);
    return -1;
}
