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
#include "bytebuf.h"
#include "rle.h"
#include "thrift_compact.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
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

/* parquet.thrift enums */
enum { PQ_BOOLEAN = 0, PQ_INT64 = 2, PQ_FLOAT = 4, PQ_DOUBLE = 5, PQ_BYTE_ARRAY = 6 };
enum { PQ_REQUIRED = 0, PQ_OPTIONAL = 1, PQ_REPEATED = 2 };
enum { PQ_CONVERTED_UTF8 = 0, PQ_CONVERTED_LIST = 3 };
enum { PQ_ENC_PLAIN = 0, PQ_ENC_RLE = 3, PQ_ENC_RLE_DICTIONARY = 8 };
enum { PQ_CODEC_UNCOMPRESSED = 0, PQ_CODEC_SNAPPY = 1 };
enum { PQ_PAGE_DATA = 0, PQ_PAGE_DICTIONARY = 2 };

#define STAT_MAX_BYTES 1024 /* longer string min/max are left out of the statistics */

typedef struct chunk_meta {
    bool dictionary;
    int64_t num_values, total_uncompressed, total_compressed;
    int64_t data_page_offset, dictionary_page_offset;
    int32_t data_pages;
    int64_t null_count, nan_count;
    bool has_minmax;
    uint8_t *min, *max;
    size_t min_len, max_len;
} chunk_meta;

typedef struct row_group {
    chunk_meta *chunks;
    int64_t num_rows, total_byte_size, total_compressed_size, file_offset;
} row_group;

typedef struct column {
    tp_pq_column desc; /* name owned */
    int max_def, max_rep;
    size_t value_size; /* bytes per non-string value */
    tp_bytebuf def, rep; /* one byte per leaf slot, when max_def/max_rep > 0 */
    tp_bytebuf values;   /* non-null values; STRING: bytes, lengths in str_len */
    tp_bytebuf str_len;  /* uint32_t per STRING value */
    size_t nvalues, nlevels;
} column;

struct tp_pq_writer {
    char *path, *tmp_path;
    int fd;
    int64_t pos;
    tp_pq_options opt;
    char *created_by;
    column *cols;
    size_t ncols;
    size_t rg_rows; /* rows in the row group being filled */
    uint64_t total_rows;
    row_group *groups;
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

static int physical_type(tp_pq_type t)
{
    switch (t) {
    case TP_PQ_INT64:
        return PQ_INT64;
    case TP_PQ_FLOAT:
        return PQ_FLOAT;
    case TP_PQ_DOUBLE:
        return PQ_DOUBLE;
    case TP_PQ_BOOL:
        return PQ_BOOLEAN;
    case TP_PQ_STRING:
        return PQ_BYTE_ARRAY;
    }
    return PQ_BYTE_ARRAY;
}

/* ---- life cycle ---------------------------------------------------------- */

static void free_chunks(row_group *g, size_t ncols)
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
        column *col = &w->cols[c];
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
        column *col = &w->cols[c];
        if (!d->name || !d->name[0]) {
            fail(w, err, errlen, "column %zu has no name", c);
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

static void push_level(column *col, uint8_t rep, uint8_t def)
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
static int push_values(tp_pq_writer *w, column *col, const tp_pq_column_data *d, size_t first, size_t count,
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
        column *col = &w->cols[c];
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
        column *col = &w->cols[c];
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
static int emit_page(tp_pq_writer *w, int page_type, int32_t num_values, int encoding, chunk_meta *m, char *err,
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

/* Float order for statistics: NaN is ignored; a zero min is written as
 * -0.0 and a zero max as +0.0 (parquet.thrift, ColumnOrder). */
static void float_stats(const column *col, chunk_meta *m)
{
    double lo = INFINITY, hi = -INFINITY;
    size_t nan = 0, n = col->nvalues;
    if (col->desc.type == TP_PQ_FLOAT) {
        const float *v = (const float *)(const void *)col->values.data;
        float flo = INFINITY, fhi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            float x = v[i];
            if (x != x) {
                nan++;
                continue;
            }
            flo = x < flo ? x : flo;
            fhi = x > fhi ? x : fhi;
        }
        lo = flo;
        hi = fhi;
    } else {
        const double *v = (const double *)(const void *)col->values.data;
        for (size_t i = 0; i < n; i++) {
            double x = v[i];
            if (x != x) {
                nan++;
                continue;
            }
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

static void compute_stats(const column *col, chunk_meta *m)
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

/* Builds the dictionary of an INT64 or STRING chunk into w->indices (one
 * index per value) and `dict` (its PLAIN encoding). Returns the number of
 * entries, or 0 when a dictionary does not pay: too large, or not smaller
 * than PLAIN. */
static size_t build_dictionary(tp_pq_writer *w, const column *col, tp_bytebuf *dict)
{
    size_t n = col->nvalues;
    if (n == 0 || n > UINT32_MAX)
        return 0;
    if (w->indices_cap < n) {
        uint32_t *ni = realloc(w->indices, n * sizeof *ni);
        if (!ni)
            return 0;
        w->indices = ni;
        w->indices_cap = n;
    }
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
                w->indices[i] = (uint32_t)entries;
                entries++;
                dict_bytes += str_off ? 4 + len[i] : 8;
                too_big = dict_bytes > w->opt.dictionary_bytes;
                break;
            }
            size_t j = entry_at[e - 1];
            bool same = str_off ? len[j] == len[i] && memcmp(v + str_off[j], v + str_off[i], len[i]) == 0
                                : memcmp(v + 8 * j, v + 8 * i, 8) == 0;
            if (same) {
                w->indices[i] = e - 1;
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

/* PLAIN encoding of values [v0, v1); *str_cursor is the byte offset of v0
 * for STRING columns. */
static void plain_values(tp_bytebuf *out, const column *col, size_t v0, size_t v1, size_t *str_cursor)
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

static int write_chunk(tp_pq_writer *w, column *col, chunk_meta *m, char *err, size_t errlen)
{
    compute_stats(col, m);
    m->num_values = (int64_t)col->nlevels;
    size_t entries = 0;
    if (w->opt.use_dictionary && (col->desc.type == TP_PQ_INT64 || col->desc.type == TP_PQ_STRING))
        entries = build_dictionary(w, col, &w->body);
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
        row_group *ng = realloc(w->groups, cap * sizeof *ng);
        if (!ng)
            return fail(w, err, errlen, "out of memory");
        w->groups = ng;
        w->groups_cap = cap;
    }
    row_group *g = &w->groups[w->ngroups];
    *g = (row_group){0};
    g->chunks = calloc(w->ncols, sizeof *g->chunks);
    if (!g->chunks)
        return fail(w, err, errlen, "out of memory");
    w->ngroups++;
    g->num_rows = (int64_t)w->rg_rows;
    g->file_offset = w->pos;
    for (size_t c = 0; c < w->ncols; c++) {
        column *col = &w->cols[c];
        chunk_meta *m = &g->chunks[c];
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

/* ---- footer ----------------------------------------------------------------- */

static void schema_leaf(tc_writer *t, tp_pq_type type, int repetition, const char *name)
{
    tc_struct_begin(t);
    tc_field_i32(t, 1, physical_type(type));
    tc_field_i32(t, 3, repetition);
    tc_field_string(t, 4, name);
    if (type == TP_PQ_STRING) {
        tc_field_i32(t, 6, PQ_CONVERTED_UTF8);
        tc_field_struct(t, 10); /* LogicalType */
        tc_field_struct(t, 1);  /* STRING */
        tc_struct_end(t);
        tc_struct_end(t);
    }
    tc_struct_end(t);
}

static void write_schema(tc_writer *t, const tp_pq_writer *w)
{
    size_t n = 1;
    for (size_t c = 0; c < w->ncols; c++)
        n += w->cols[c].desc.shape == TP_PQ_SCALAR ? 1 : 3;
    tc_field_list(t, 2, TC_STRUCT, (uint32_t)n);
    tc_struct_begin(t);
    tc_field_string(t, 4, "schema");
    tc_field_i32(t, 5, (int32_t)w->ncols);
    tc_struct_end(t);
    for (size_t c = 0; c < w->ncols; c++) {
        const tp_pq_column *d = &w->cols[c].desc;
        int repetition = d->nullable ? PQ_OPTIONAL : PQ_REQUIRED;
        if (d->shape == TP_PQ_SCALAR) {
            schema_leaf(t, d->type, repetition, d->name);
            continue;
        }
        tc_struct_begin(t); /* the annotated LIST group */
        tc_field_i32(t, 3, repetition);
        tc_field_string(t, 4, d->name);
        tc_field_i32(t, 5, 1);
        tc_field_i32(t, 6, PQ_CONVERTED_LIST);
        tc_field_struct(t, 10); /* LogicalType */
        tc_field_struct(t, 3);  /* LIST */
        tc_struct_end(t);
        tc_struct_end(t);
        tc_struct_end(t);
        tc_struct_begin(t); /* repeated group list */
        tc_field_i32(t, 3, PQ_REPEATED);
        tc_field_string(t, 4, "list");
        tc_field_i32(t, 5, 1);
        tc_struct_end(t);
        schema_leaf(t, d->type, PQ_OPTIONAL, "element");
    }
}

static void write_column_meta(tc_writer *t, const column *col, const chunk_meta *m, bool snappy)
{
    tc_field_struct(t, 3); /* ColumnMetaData */
    tc_field_i32(t, 1, physical_type(col->desc.type));
    tc_field_list(t, 2, TC_I32, m->dictionary ? 3 : 2);
    tc_i32(t, PQ_ENC_PLAIN);
    tc_i32(t, PQ_ENC_RLE);
    if (m->dictionary)
        tc_i32(t, PQ_ENC_RLE_DICTIONARY);
    bool list = col->desc.shape != TP_PQ_SCALAR;
    tc_field_list(t, 3, TC_BINARY, list ? 3 : 1);
    tc_binary(t, col->desc.name, strlen(col->desc.name));
    if (list) {
        tc_binary(t, "list", 4);
        tc_binary(t, "element", 7);
    }
    tc_field_i32(t, 4, snappy ? PQ_CODEC_SNAPPY : PQ_CODEC_UNCOMPRESSED);
    tc_field_i64(t, 5, m->num_values);
    tc_field_i64(t, 6, m->total_uncompressed);
    tc_field_i64(t, 7, m->total_compressed);
    tc_field_i64(t, 9, m->data_page_offset);
    if (m->dictionary)
        tc_field_i64(t, 11, m->dictionary_page_offset);
    tc_field_struct(t, 12); /* Statistics */
    tc_field_i64(t, 3, m->null_count);
    if (m->has_minmax) {
        tc_field_binary(t, 5, m->max, m->max_len);
        tc_field_binary(t, 6, m->min, m->min_len);
        tc_field_bool(t, 7, true);
        tc_field_bool(t, 8, true);
    }
    if (col->desc.type == TP_PQ_FLOAT || col->desc.type == TP_PQ_DOUBLE)
        tc_field_i64(t, 9, m->nan_count);
    tc_struct_end(t);
    tc_field_list(t, 13, TC_STRUCT, m->dictionary ? 2 : 1); /* encoding_stats */
    if (m->dictionary) {
        tc_struct_begin(t);
        tc_field_i32(t, 1, PQ_PAGE_DICTIONARY);
        tc_field_i32(t, 2, PQ_ENC_PLAIN);
        tc_field_i32(t, 3, 1);
        tc_struct_end(t);
    }
    tc_struct_begin(t);
    tc_field_i32(t, 1, PQ_PAGE_DATA);
    tc_field_i32(t, 2, m->dictionary ? PQ_ENC_RLE_DICTIONARY : PQ_ENC_PLAIN);
    tc_field_i32(t, 3, m->data_pages);
    tc_struct_end(t);
    tc_struct_end(t);
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
    tp_bytebuf *b = &w->header;
    b->len = 0;
    tc_writer t;
    tc_init(&t, b);
    tc_struct_begin(&t); /* FileMetaData */
    tc_field_i32(&t, 1, 2);
    write_schema(&t, w);
    tc_field_i64(&t, 3, (int64_t)w->total_rows);
    tc_field_list(&t, 4, TC_STRUCT, (uint32_t)w->ngroups);
    for (size_t g = 0; g < w->ngroups; g++) {
        const row_group *rg = &w->groups[g];
        tc_struct_begin(&t); /* RowGroup */
        tc_field_list(&t, 1, TC_STRUCT, (uint32_t)w->ncols);
        for (size_t c = 0; c < w->ncols; c++) {
            tc_struct_begin(&t); /* ColumnChunk */
            tc_field_i64(&t, 2, 0); /* file_offset: no ColumnMetaData outside the footer */
            write_column_meta(&t, &w->cols[c], &rg->chunks[c], w->opt.codec == TP_PQ_SNAPPY);
            tc_struct_end(&t);
        }
        tc_field_i64(&t, 2, rg->total_byte_size);
        tc_field_i64(&t, 3, rg->num_rows);
        tc_field_i64(&t, 5, rg->file_offset);
        tc_field_i64(&t, 6, rg->total_compressed_size);
        if (g <= INT16_MAX)
            tc_field_i16(&t, 7, (int16_t)g); /* ordinal */
        tc_struct_end(&t);
    }
    size_t nkv = w->nkv + (arrow ? 1 : 0);
    if (nkv) {
        tc_field_list(&t, 5, TC_STRUCT, (uint32_t)nkv);
        for (size_t i = 0; i < w->nkv; i++) {
            tc_struct_begin(&t);
            tc_field_string(&t, 1, w->kv_keys[i]);
            tc_field_string(&t, 2, w->kv_values[i]);
            tc_struct_end(&t);
        }
        if (arrow) {
            tc_struct_begin(&t);
            tc_field_string(&t, 1, "ARROW:schema");
            tc_field_string(&t, 2, arrow);
            tc_struct_end(&t);
        }
    }
    free(arrow);
    tc_field_string(&t, 6, w->created_by);
    size_t leaves = w->ncols;
    tc_field_list(&t, 7, TC_STRUCT, (uint32_t)leaves); /* column_orders: TYPE_ORDER for every leaf */
    for (size_t c = 0; c < leaves; c++) {
        tc_struct_begin(&t);
        tc_field_struct(&t, 1);
        tc_struct_end(&t);
        tc_struct_end(&t);
    }
    tc_struct_end(&t);
    if (b->failed)
        return fail(w, err, errlen, "out of memory writing the footer");
    if (b->len > UINT32_MAX)
        return fail(w, err, errlen, "footer too large");
    uint32_t len = (uint32_t)b->len;
    tp_bytebuf_le32(b, len);
    tp_bytebuf_put(b, "PAR1", 4);
    if (b->failed)
        return fail(w, err, errlen, "out of memory writing the footer");
    return write_all(w, b->data, b->len, err, errlen);
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
