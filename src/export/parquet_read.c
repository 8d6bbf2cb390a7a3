/* Parquet reader: footer (Thrift compact decoding), schema flattening, page
 * and value decoding. Every read from the file or a decoded buffer is
 * bounds-checked; nesting and list sizes are bounded, so hostile input
 * yields a message, never a crash (tests/fuzz/fuzz_parquet_read.c). */
#include "teleop/parquet_read.h"

#include <errno.h>
#include <limits.h>
#include <snappy-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "bytebuf.h"

#define MAX_DEPTH 32
#define MAX_PAGE_BYTES (1u << 30)
#define MAX_PAGE_ENTRIES (1 << 24)

/* ---- Thrift compact protocol decoding ---- */

enum { T_STOP = 0, T_TRUE = 1, T_FALSE = 2, T_BYTE = 3, T_I16 = 4, T_I32 = 5, T_I64 = 6, T_DOUBLE = 7,
       T_BINARY = 8, T_LIST = 9, T_SET = 10, T_MAP = 11, T_STRUCT = 12 };

typedef struct tcr {
    const uint8_t *p, *end;
    bool bad;
    int depth;
} tcr;

static uint64_t tcr_varint(tcr *c)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (c->p >= c->end) {
            c->bad = true;
            return 0;
        }
        uint8_t b = *c->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    c->bad = true;
    return 0;
}

static int64_t tcr_zigzag(tcr *c)
{
    uint64_t v = tcr_varint(c);
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static int32_t tcr_i32(tcr *c)
{
    int64_t v = tcr_zigzag(c);
    if (v < INT32_MIN || v > INT32_MAX) {
        c->bad = true;
        return 0;
    }
    return (int32_t)v;
}

static bool tcr_binary(tcr *c, const uint8_t **p, size_t *n)
{
    uint64_t len = tcr_varint(c);
    if (c->bad || len > (uint64_t)(c->end - c->p)) {
        c->bad = true;
        return false;
    }
    *p = c->p;
    *n = (size_t)len;
    c->p += len;
    return true;
}

static char *tcr_string(tcr *c)
{
    const uint8_t *p;
    size_t n;
    if (!tcr_binary(c, &p, &n))
        return NULL;
    char *s = malloc(n + 1);
    if (!s) {
        c->bad = true;
        return NULL;
    }
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

/* Every list element takes at least one byte, so a count beyond the bytes
 * left is corrupt (and cannot make us allocate more than the input). */
static bool tcr_list(tcr *c, uint8_t *etype, uint32_t *count)
{
    if (c->p >= c->end) {
        c->bad = true;
        return false;
    }
    uint8_t h = *c->p++;
    uint64_t n = h >> 4;
    if (n == 15)
        n = tcr_varint(c);
    *etype = h & 15;
    if (c->bad || n > (uint64_t)(c->end - c->p)) {
        c->bad = true;
        return false;
    }
    *count = (uint32_t)n;
    return true;
}

/* Next field of the current struct: false at the stop byte or on error. */
static bool tcr_field(tcr *c, int16_t *last, int16_t *id, uint8_t *type)
{
    if (c->bad || c->p >= c->end) {
        c->bad = true;
        return false;
    }
    uint8_t h = *c->p++;
    if (h == 0)
        return false;
    *type = h & 15;
    if (h >> 4)
        *id = (int16_t)(*last + (h >> 4));
    else {
        int64_t v = tcr_zigzag(c);
        if (v < INT16_MIN || v > INT16_MAX)
            c->bad = true;
        *id = (int16_t)v;
    }
    *last = *id;
    return !c->bad;
}

static void tcr_skip(tcr *c, uint8_t type);

static void tcr_skip_struct(tcr *c)
{
    if (++c->depth > MAX_DEPTH) {
        c->bad = true;
        return;
    }
    int16_t last = 0, id;
    uint8_t t;
    while (tcr_field(c, &last, &id, &t))
        tcr_skip(c, t);
    c->depth--;
}

static void tcr_skip(tcr *c, uint8_t type)
{
    if (c->bad)
        return;
    switch (type) {
    case T_TRUE:
    case T_FALSE:
        break; /* in a field header the value is the type; list elements use tcr_skip_elem */
    case T_BYTE:
        if (c->p >= c->end)
            c->bad = true;
        else
            c->p++;
        break;
    case T_I16:
    case T_I32:
    case T_I64:
        tcr_varint(c);
        break;
    case T_DOUBLE:
        if (c->end - c->p < 8)
            c->bad = true;
        else
            c->p += 8;
        break;
    case T_BINARY: {
        const uint8_t *p;
        size_t n;
        tcr_binary(c, &p, &n);
        break;
    }
    case T_LIST:
    case T_SET: {
        uint8_t et;
        uint32_t n;
        if (!tcr_list(c, &et, &n))
            return;
        if (++c->depth > MAX_DEPTH) {
            c->bad = true;
            return;
        }
        for (uint32_t i = 0; i < n && !c->bad; i++) {
            if (et == T_TRUE || et == T_FALSE)
                tcr_skip(c, T_BYTE);
            else
                tcr_skip(c, et);
        }
        c->depth--;
        break;
    }
    case T_MAP: {
        uint64_t n = tcr_varint(c);
        if (c->bad || n == 0)
            return;
        if (c->p >= c->end || n > (uint64_t)(c->end - c->p)) {
            c->bad = true;
            return;
        }
        uint8_t kv = *c->p++;
        if (++c->depth > MAX_DEPTH) {
            c->bad = true;
            return;
        }
        for (uint64_t i = 0; i < n && !c->bad; i++) {
            uint8_t kt = kv >> 4, vt = kv & 15;
            tcr_skip(c, kt == T_TRUE || kt == T_FALSE ? T_BYTE : kt);
            tcr_skip(c, vt == T_TRUE || vt == T_FALSE ? T_BYTE : vt);
        }
        c->depth--;
        break;
    }
    case T_STRUCT:
        tcr_skip_struct(c);
        break;
    default:
        c->bad = true;
    }
}

/* ---- metadata ---- */

enum { REP_REQUIRED = 0, REP_OPTIONAL = 1, REP_REPEATED = 2 };
enum { CONV_UTF8 = 0, CONV_LIST = 3 };
enum { LOGICAL_NONE = 0, LOGICAL_STRING = 1, LOGICAL_LIST = 3 };

typedef struct schema_el {
    char *name;
    bool has_type;
    int32_t type, type_length, repetition, num_children, converted;
    int logical;
} schema_el;

typedef struct col_meta {
    int32_t type, codec;
    int64_t num_values, total_compressed, data_page_offset, dict_page_offset;
    bool has_dict_offset;
} col_meta;

typedef struct row_group {
    col_meta *cols;
    uint32_t ncols;
    int64_t num_rows;
} row_group;

typedef struct leaf {
    tp_pqr_column_info info;
    char *name, *path;
    bool outer_optional; /* lists: the LIST group is optional */
} leaf;

struct tp_pqr_reader {
    char *name;
    uint8_t *buf;
    size_t size, footer_start;
    schema_el *schema;
    uint32_t nschema;
    int64_t num_rows;
    row_group *rgs;
    uint32_t nrg;
    char **kv_keys, **kv_vals;
    uint32_t nkv;
    char *created_by;
    leaf *leaves;
    size_t nleaves;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void parse_logical(tcr *c, schema_el *e)
{
    if (++c->depth > MAX_DEPTH) {
        c->bad = true;
        return;
    }
    int16_t last = 0, id;
    uint8_t t;
    while (tcr_field(c, &last, &id, &t)) {
        if (t == T_STRUCT && (id == 1 || id == 3))
            e->logical = id;
        tcr_skip(c, t);
    }
    c->depth--;
}

static void parse_schema_el(tcr *c, schema_el *e)
{
    memset(e, 0, sizeof *e);
    e->converted = -1;
    e->repetition = REP_REQUIRED;
    int16_t last = 0, id;
    uint8_t t;
    while (tcr_field(c, &last, &id, &t)) {
        if (id == 1 && t == T_I32) {
            e->type = tcr_i32(c);
            e->has_type = true;
        } else if (id == 2 && t == T_I32)
            e->type_length = tcr_i32(c);
        else if (id == 3 && t == T_I32)
            e->repetition = tcr_i32(c);
        else if (id == 4 && t == T_BINARY) {
            free(e->name);
            e->name = tcr_string(c);
        } else if (id == 5 && t == T_I32)
            e->num_children = tcr_i32(c);
        else if (id == 6 && t == T_I32)
            e->converted = tcr_i32(c);
        else if (id == 10 && t == T_STRUCT)
            parse_logical(c, e);
        else
            tcr_skip(c, t);
    }
}

static void parse_col_meta(tcr *c, col_meta *m)
{
    if (++c->depth > MAX_DEPTH) {
        c->bad = true;
        return;
    }
    int16_t last = 0, id;
    uint8_t t;
    while (tcr_field(c, &last, &id, &t)) {
        if (id == 1 && t == T_I32)
            m->type = tcr_i32(c);
        else if (id == 4 && t == T_I32)
            m->codec = tcr_i32(c);
        else if (id == 5 && t == T_I64)
            m->num_values = tcr_zigzag(c);
        else if (id == 7 && t == T_I64)
            m->total_compressed = tcr_zigzag(c);
        else if (id == 9 && t == T_I64)
            m->data_page_offset = tcr_zigzag(c);
        else if (id == 11 && t == T_I64) {
            m->dict_page_offset = tcr_zigzag(c);
            m->has_dict_offset = true;
        } else
            tcr_skip(c, t);
    }
    c->depth--;
}

static void parse_row_group(tcr *c, row_group *rg)
{
    int16_t last = 0, id;
    uint8_t t;
    while (tcr_field(c, &last, &id, &t)) {
        if (id == 1 && t == T_LIST && !rg->cols) {
            uint8_t et;
            uint32_t n;
            if (!tcr_list(c, &et, &n) || et != T_STRUCT) {
                c->bad = true;
                return;
            }
            rg->cols = calloc(n ? n : 1, sizeof *rg->cols);
            if (!rg->cols) {
                c->bad = true;
                return;
            }
            rg->ncols = n;
            c->depth++;
            for (uint32_t i = 0; i < n && !c->bad; i++) {
                int16_t l2 = 0, id2;
                uint8_t t2;
                bool has_meta = false;
                while (tcr_field(c, &l2, &id2, &t2)) {
                    if (id2 == 3 && t2 == T_STRUCT) {
                        parse_col_meta(c, &rg->cols[i]);
                        has_meta = true;
                    } else if (id2 == 1 && t2 == T_BINARY) {
                        c->bad = true; /* column chunk in another file: not supported */
                        return;
                    } else
                        tcr_skip(c, t2);
                }
                if (!has_meta)
                    c->bad = true;
            }
            c->depth--;
        } else if (id == 3 && t == T_I64)
            rg->num_rows = tcr_zigzag(c);
        else
            tcr_skip(c, t);
    }
}

static bool parse_footer(tp_pqr_reader *r, const uint8_t *p, size_t n)
{
    tcr c = {p, p + n, false, 0};
    int16_t last = 0, id;
    uint8_t t;
    while (tcr_field(&c, &last, &id, &t)) {
        if (id == 2 && t == T_LIST && !r->schema) {
            uint8_t et;
            uint32_t cnt;
            if (!tcr_list(&c, &et, &cnt) || et != T_STRUCT || cnt == 0)
                return false;
            r->schema = calloc(cnt, sizeof *r->schema);
            if (!r->schema)
                return false;
            r->nschema = cnt;
            for (uint32_t i = 0; i < cnt && !c.bad; i++)
                parse_schema_el(&c, &r->schema[i]);
        } else if (id == 3 && t == T_I64)
            r->num_rows = tcr_zigzag(&c);
        else if (id == 4 && t == T_LIST && !r->rgs) {
            uint8_t et;
            uint32_t cnt;
            if (!tcr_list(&c, &et, &cnt) || et != T_STRUCT)
                return false;
            r->rgs = calloc(cnt ? cnt : 1, sizeof *r->rgs);
            if (!r->rgs)
                return false;
            r->nrg = cnt;
            for (uint32_t i = 0; i < cnt && !c.bad; i++)
                parse_row_group(&c, &r->rgs[i]);
        } else if (id == 5 && t == T_LIST && !r->kv_keys) {
            uint8_t et;
            uint32_t cnt;
            if (!tcr_list(&c, &et, &cnt) || et != T_STRUCT)
                return false;
            r->kv_keys = calloc(cnt ? cnt : 1, sizeof *r->kv_keys);
            r->kv_vals = calloc(cnt ? cnt : 1, sizeof *r->kv_vals);
            if (!r->kv_keys || !r->kv_vals)
                return false;
            r->nkv = cnt;
            for (uint32_t i = 0; i < cnt && !c.bad; i++) {
                int16_t l2 = 0, id2;
                uint8_t t2;
                while (tcr_field(&c, &l2, &id2, &t2)) {
                    if (id2 == 1 && t2 == T_BINARY && !r->kv_keys[i])
                        r->kv_keys[i] = tcr_string(&c);
                    else if (id2 == 2 && t2 == T_BINARY && !r->kv_vals[i])
                        r->kv_vals[i] = tcr_string(&c);
                    else
                        tcr_skip(&c, t2);
                }
            }
        } else if (id == 6 && t == T_BINARY && !r->created_by)
            r->created_by = tcr_string(&c);
        else
            tcr_skip(&c, t);
    }
    return !c.bad && r->schema;
}

/* ---- schema → columns ---- */

static char *join_path(const char *a, const char *b)
{
    size_t na = a ? strlen(a) : 0, nb = strlen(b);
    char *s = malloc(na + nb + 2);
    if (!s)
        return NULL;
    if (a) {
        memcpy(s, a, na);
        s[na] = '.';
        memcpy(s + na + 1, b, nb + 1);
    } else
        memcpy(s, b, nb + 1);
    return s;
}

static const char *el_name(const schema_el *e) { return e->name ? e->name : ""; }

static bool add_leaf(tp_pqr_reader *r, const schema_el *e, const char *top, const char *path, int def, int rep,
                     bool is_list, bool outer_optional, bool top_nullable, const char *unsupported)
{
    leaf *nl = realloc(r->leaves, (r->nleaves + 1) * sizeof *nl);
    if (!nl)
        return false;
    r->leaves = nl;
    leaf *l = &r->leaves[r->nleaves++];
    memset(l, 0, sizeof *l);
    l->name = strdup(top);
    l->path = strdup(path);
    if (!l->name || !l->path)
        return false;
    l->outer_optional = outer_optional;
    tp_pqr_column_info *ci = &l->info;
    ci->name = l->name;
    ci->path = l->path;
    ci->type = (tp_pqr_physical)e->type;
    ci->is_string = e->type == TP_PQR_BYTE_ARRAY && (e->logical == LOGICAL_STRING || e->converted == CONV_UTF8);
    ci->is_list = is_list;
    ci->nullable = top_nullable;
    ci->max_def = def;
    ci->max_rep = rep;
    ci->unsupported = unsupported;
    if (!unsupported) {
        switch (e->type) {
        case TP_PQR_BOOLEAN:
        case TP_PQR_INT32:
        case TP_PQR_INT64:
        case TP_PQR_FLOAT:
        case TP_PQR_DOUBLE:
        case TP_PQR_BYTE_ARRAY:
            break;
        case TP_PQR_INT96:
            ci->unsupported = "physical type INT96 not supported";
            break;
        case TP_PQR_FIXED_LEN_BYTE_ARRAY:
            ci->unsupported = "physical type FIXED_LEN_BYTE_ARRAY not supported";
            break;
        default:
            ci->unsupported = "unknown physical type";
        }
    }
    ci->supported = ci->unsupported == NULL;
    return true;
}

/* Walks the subtree at *idx, adding every leaf as unsupported nesting. */
static bool walk_unsupported(tp_pqr_reader *r, uint32_t *idx, const char *top, const char *prefix, int depth,
                             bool top_nullable)
{
    if (*idx >= r->nschema || depth > MAX_DEPTH)
        return false;
    const schema_el *e = &r->schema[(*idx)++];
    char *path = join_path(prefix, el_name(e));
    if (!path)
        return false;
    bool ok = true;
    if (e->num_children <= 0) {
        ok = add_leaf(r, e, top, path, 0, 0, false, false, top_nullable,
                      "nested structure (struct, map or list of lists) not supported");
    } else {
        if ((uint32_t)e->num_children > r->nschema - *idx)
            ok = false;
        for (int32_t i = 0; ok && i < e->num_children; i++)
            ok = walk_unsupported(r, idx, top, path, depth + 1, top_nullable);
    }
    free(path);
    return ok;
}

static bool build_columns(tp_pqr_reader *r)
{
    const schema_el *root = &r->schema[0];
    uint32_t idx = 1;
    if (root->num_children < 0 || (uint32_t)root->num_children > r->nschema - 1)
        return false;
    for (int32_t k = 0; k < root->num_children; k++) {
        if (idx >= r->nschema)
            return false;
        const schema_el *e = &r->schema[idx];
        const char *top = el_name(e);
        bool opt = e->repetition == REP_OPTIONAL;
        if (e->num_children <= 0) {
            idx++;
            const char *why = e->repetition == REP_REPEATED ? "repeated primitive (2-level list) not supported" : NULL;
            if (!add_leaf(r, e, top, top, opt ? 1 : 0, 0, false, false, opt, why))
                return false;
            continue;
        }
        bool list_annot = e->converted == CONV_LIST || e->logical == LOGICAL_LIST;
        if (list_annot && e->num_children == 1 && idx + 2 < r->nschema) {
            const schema_el *mid = &r->schema[idx + 1], *el = &r->schema[idx + 2];
            if (mid->repetition == REP_REPEATED && mid->num_children == 1 && el->num_children <= 0 &&
                el->repetition != REP_REPEATED) {
                char *p1 = join_path(top, el_name(mid));
                char *p2 = p1 ? join_path(p1, el_name(el)) : NULL;
                int def = (opt ? 1 : 0) + 1 + (el->repetition == REP_OPTIONAL ? 1 : 0);
                bool ok = p2 && add_leaf(r, el, top, p2, def, 1, true, opt, opt, NULL);
                free(p1);
                free(p2);
                if (!ok)
                    return false;
                idx += 3;
                continue;
            }
        }
        if (!walk_unsupported(r, &idx, top, NULL, 0, opt))
            return false;
    }
    return idx == r->nschema;
}

void tp_pqr_close(tp_pqr_reader *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < r->nschema; i++)
        free(r->schema[i].name);
    free(r->schema);
    for (uint32_t i = 0; i < r->nrg; i++)
        free(r->rgs[i].cols);
    free(r->rgs);
    for (uint32_t i = 0; i < r->nkv; i++) {
        free(r->kv_keys[i]);
        free(r->kv_vals[i]);
    }
    free(r->kv_keys);
    free(r->kv_vals);
    for (size_t i = 0; i < r->nleaves; i++) {
        free(r->leaves[i].name);
        free(r->leaves[i].path);
    }
    free(r->leaves);
    free(r->created_by);
    free(r->buf);
    free(r->name);
    free(r);
}

static tp_pqr_reader *open_owned(uint8_t *buf, size_t size, const char *name, char *err, size_t errlen)
{
    tp_pqr_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->name = strdup(name))) {
        free(r);
        free(buf);
        set_err(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    r->buf = buf;
    r->size = size;
    if (size < 4 || memcmp(buf, "PAR1", 4) != 0) {
        set_err(err, errlen, "%s: not a parquet file (no PAR1 magic at the start)", name);
        goto fail;
    }
    if (size < 12 || memcmp(buf + size - 4, "PAR1", 4) != 0) {
        set_err(err, errlen, "%s: no parquet footer (PAR1 magic missing at the end: truncated or never closed)",
                name);
        goto fail;
    }
    uint32_t flen = (uint32_t)buf[size - 8] | (uint32_t)buf[size - 7] << 8 | (uint32_t)buf[size - 6] << 16 |
                    (uint32_t)buf[size - 5] << 24;
    if (flen > size - 12) {
        set_err(err, errlen, "%s: bad parquet footer (length %u larger than the file)", name, flen);
        goto fail;
    }
    r->footer_start = size - 8 - flen;
    if (!parse_footer(r, buf + r->footer_start, flen)) {
        set_err(err, errlen, "%s: bad parquet footer (FileMetaData does not decode)", name);
        goto fail;
    }
    if (!build_columns(r)) {
        set_err(err, errlen, "%s: bad parquet schema (children counts do not match the element list)", name);
        goto fail;
    }
    int64_t sum = 0;
    for (uint32_t i = 0; i < r->nrg; i++) {
        if (r->rgs[i].num_rows < 0 || r->rgs[i].num_rows > INT64_MAX - sum) {
            set_err(err, errlen, "%s: row group %u: bad row count %lld", name, i, (long long)r->rgs[i].num_rows);
            goto fail;
        }
        sum += r->rgs[i].num_rows;
    }
    if (sum != r->num_rows) {
        set_err(err, errlen, "%s: bad parquet footer (num_rows %lld, the row groups hold %lld)", name,
                (long long)r->num_rows, (long long)sum);
        goto fail;
    }
    for (uint32_t i = 0; i < r->nrg; i++) {
        if (r->rgs[i].ncols != r->nleaves) {
            set_err(err, errlen, "%s: row group %u has %u column chunks, the schema %zu leaf columns", name, i,
                    r->rgs[i].ncols, r->nleaves);
            goto fail;
        }
    }
    return r;
fail:
    tp_pqr_close(r);
    return NULL;
}

tp_pqr_reader *tp_pqr_open_memory(const void *data, size_t size, const char *name, char *err, size_t errlen)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        set_err(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    if (size)
        memcpy(buf, data, size);
    return open_owned(buf, size, name, err, errlen);
}

tp_pqr_reader *tp_pqr_open(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_err(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    tp_bytebuf b = {0};
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        tp_bytebuf_put(&b, chunk, n);
    bool rerr = ferror(f);
    fclose(f);
    if (rerr || b.failed) {
        set_err(err, errlen, "%s: %s", path, rerr ? "read error" : "out of memory");
        free(b.data);
        return NULL;
    }
    return open_owned(b.data, b.len, path, err, errlen);
}

int64_t tp_pqr_num_rows(const tp_pqr_reader *r) { return r->num_rows; }
int tp_pqr_num_row_groups(const tp_pqr_reader *r) { return (int)r->nrg; }
size_t tp_pqr_num_columns(const tp_pqr_reader *r) { return r->nleaves; }
const tp_pqr_column_info *tp_pqr_column(const tp_pqr_reader *r, size_t i)
{
    return i < r->nleaves ? &r->leaves[i].info : NULL;
}

int tp_pqr_find_column(const tp_pqr_reader *r, const char *name)
{
    for (size_t i = 0; i < r->nleaves; i++)
        if (!strcmp(r->leaves[i].name, name))
            return (int)i;
    return -1;
}

const char *tp_pqr_kv(const tp_pqr_reader *r, const char *key)
{
    for (uint32_t i = 0; i < r->nkv; i++)
        if (r->kv_keys[i] && !strcmp(r->kv_keys[i], key))
            return r->kv_vals[i] ? r->kv_vals[i] : "";
    return NULL;
}

const char *tp_pqr_created_by(const tp_pqr_reader *r) { return r->created_by; }

/* ---- RLE / bit-packing hybrid ---- */

typedef struct hybrid {
    const uint8_t *p, *end;
    int bw;
    uint32_t rle_left, rle_val;
    uint32_t bp_left;      /* values left in the current bit-packed run */
    const uint8_t *bp;     /* its bytes */
    size_t bp_bytes;
    uint64_t bp_bit;
} hybrid;

static bool hybrid_next(hybrid *h, uint32_t *v)
{
    for (;;) {
        if (h->rle_left) {
            h->rle_left--;
            *v = h->rle_val;
            return true;
        }
        if (h->bp_left) {
            uint64_t bit = h->bp_bit;
            if ((bit + (uint64_t)h->bw + 7) / 8 > h->bp_bytes)
                return false;
            uint64_t acc = 0;
            size_t first = (size_t)(bit / 8), last = (size_t)((bit + (uint64_t)h->bw + 7) / 8);
            for (size_t i = first; i < last; i++)
                acc |= (uint64_t)h->bp[i] << (8 * (i - first));
            acc >>= bit % 8;
            *v = h->bw == 32 ? (uint32_t)acc : (uint32_t)(acc & ((1ull << h->bw) - 1));
            h->bp_bit += (uint64_t)h->bw;
            h->bp_left--;
            return true;
        }
        if (h->p >= h->end)
            return false;
        tcr c = {h->p, h->end, false, 0};
        uint64_t hdr = tcr_varint(&c);
        if (c.bad)
            return false;
        h->p = c.p;
        if (hdr & 1) {
            uint64_t groups = hdr >> 1;
            if (groups == 0 || groups > (1u << 24))
                return false;
            size_t want = (size_t)(groups * (uint64_t)h->bw);
            size_t have = (size_t)(h->end - h->p);
            h->bp = h->p;
            /* A last run may be cut short after its final value byte. */
            h->bp_bytes = want < have ? want : have;
            h->p += h->bp_bytes;
            h->bp_bit = 0;
            h->bp_left = (uint32_t)(groups * 8);
        } else {
            uint64_t count = hdr >> 1;
            if (count == 0 || count > UINT32_MAX)
                return false;
            int nb = (h->bw + 7) / 8;
            if (h->end - h->p < nb)
                return false;
            uint32_t val = 0;
            for (int i = 0; i < nb; i++)
                val |= (uint32_t)h->p[i] << (8 * i);
            h->p += nb;
            if (h->bw < 32 && val >> h->bw)
                return false;
            h->rle_val = val;
            h->rle_left = (uint32_t)count;
        }
    }
}

static int bit_width(int max)
{
    int w = 0;
    while (max >> w)
        w++;
    return w;
}

/* ---- page decoding ---- */

typedef struct sink {
    tp_bytebuf values, str_off, str_data, row_valid, row_value, list_off, elem_valid, elem_value;
    int64_t nrows, nvalues, nelems;
} sink;

typedef struct dict {
    tp_bytebuf values;   /* fixed-width values or BYTE_ARRAY offsets (uint64) */
    tp_bytebuf str_data;
    int64_t count;
    bool present;
} dict;

static size_t type_width(int type)
{
    switch (type) {
    case TP_PQR_INT32:
    case TP_PQR_FLOAT:
        return 4;
    case TP_PQR_INT64:
    case TP_PQR_DOUBLE:
        return 8;
    case TP_PQR_BOOLEAN:
        return 1;
    default:
        return 0;
    }
}

typedef struct ctx {
    const tp_pqr_reader *r;
    const leaf *col;
    char *err;
    size_t errlen;
} ctx;

#define CERR(...) (set_err(x->err, x->errlen, __VA_ARGS__), -1)

static int decompress(ctx *x, int codec, const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen)
{
    if (codec == 0) {
        if (inlen != outlen)
            return CERR("%s: column %s: page sizes differ without compression", x->r->name, x->col->path);
        memcpy(out, in, inlen);
        return 0;
    }
    if (codec == 1) {
        size_t n;
        if (snappy_uncompressed_length((const char *)in, inlen, &n) != SNAPPY_OK || n != outlen)
            return CERR("%s: column %s: bad snappy page (length)", x->r->name, x->col->path);
        if (snappy_uncompress((const char *)in, inlen, (char *)out, &n) != SNAPPY_OK || n != outlen)
            return CERR("%s: column %s: bad snappy page", x->r->name, x->col->path);
        return 0;
    }
    if (codec == 2) {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (inflateInit2(&z, 15 + 32) != Z_OK)
            return CERR("%s: column %s: zlib init failed", x->r->name, x->col->path);
        z.next_in = (Bytef *)(uintptr_t)in;
        z.avail_in = (uInt)inlen;
        z.next_out = out;
        z.avail_out = (uInt)outlen;
        int rc = inflate(&z, Z_FINISH);
        size_t got = outlen - z.avail_out;
        inflateEnd(&z);
        if (rc != Z_STREAM_END || got != outlen)
            return CERR("%s: column %s: bad gzip page", x->r->name, x->col->path);
        return 0;
    }
    if (codec == 6) {
        size_t got = ZSTD_decompress(out, outlen, in, inlen);
        if (ZSTD_isError(got) || got != outlen)
            return CERR("%s: column %s: bad zstd page", x->r->name, x->col->path);
        return 0;
    }
    static const char *names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
    return CERR("%s: column %s: compression %s not supported (snappy, gzip, zstd and uncompressed are)", x->r->name,
                x->col->path, codec >= 0 && codec < 8 ? names[codec] : "unknown");
}

/* PLAIN values: count of them from [p, end) into buf/strs. Returns bytes used or -1. */
static int64_t decode_plain(ctx *x, int type, const uint8_t *p, const uint8_t *end, int64_t count, tp_bytebuf *vals,
                            tp_bytebuf *str_data, uint64_t *str_base)
{
    size_t avail = (size_t)(end - p);
    if (type == TP_PQR_BOOLEAN) {
        if ((uint64_t)count > (uint64_t)avail * 8)
            return CERR("%s: column %s: page too short for its values", x->r->name, x->col->path);
        for (int64_t i = 0; i < count; i++)
            tp_bytebuf_u8(vals, (p[i / 8] >> (i % 8)) & 1);
        return (count + 7) / 8;
    }
    if (type == TP_PQR_BYTE_ARRAY) {
        const uint8_t *q = p;
        for (int64_t i = 0; i < count; i++) {
            if (end - q < 4)
                return CERR("%s: column %s: page too short for its values", x->r->name, x->col->path);
            uint32_t n = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
            q += 4;
            if ((size_t)(end - q) < n)
                return CERR("%s: column %s: string longer than its page", x->r->name, x->col->path);
            tp_bytebuf_put(str_data, q, n);
            q += n;
            *str_base += n;
            tp_bytebuf_put(vals, str_base, sizeof *str_base);
        }
        return q - p;
    }
    size_t w = type_width(type);
    if ((uint64_t)count > avail / w)
        return CERR("%s: column %s: page too short for its values", x->r->name, x->col->path);
    tp_bytebuf_put(vals, p, (size_t)count * w);
    return (int64_t)((size_t)count * w);
}

static int append_dict_values(ctx *x, const dict *d, hybrid *h, int64_t count, sink *s)
{
    int type = x->col->info.type;
    size_t w = type_width(type);
    const uint64_t *doff = (const uint64_t *)d->values.data;
    for (int64_t i = 0; i < count; i++) {
        uint32_t k;
        if (!hybrid_next(h, &k))
            return CERR("%s: column %s: dictionary indices end early", x->r->name, x->col->path);
        if ((int64_t)k >= d->count)
            return CERR("%s: column %s: dictionary index %u out of range (%lld entries)", x->r->name, x->col->path,
                        k, (long long)d->count);
        if (type == TP_PQR_BYTE_ARRAY) {
            uint64_t a = k ? doff[k - 1] : 0, b = doff[k];
            tp_bytebuf_put(&s->str_data, d->str_data.data + a, (size_t)(b - a));
            uint64_t off = s->str_data.len;
            tp_bytebuf_put(&s->str_off, &off, sizeof off);
        } else
            tp_bytebuf_put(&s->values, d->values.data + (size_t)k * w, w);
    }
    return 0;
}

static int decode_values(ctx *x, const dict *d, int encoding, const uint8_t *p, const uint8_t *end, int64_t count,
                         sink *s)
{
    int type = x->col->info.type;
    if (count == 0)
        return 0;
    if (encoding == 0) {
        uint64_t base = s->str_data.len;
        return decode_plain(x, type, p, end, count, type == TP_PQR_BYTE_ARRAY ? &s->str_off : &s->values,
                            &s->str_data, &base) < 0
                   ? -1
                   : 0;
    }
    if (encoding == 2 || encoding == 8) {
        if (!d->present)
            return CERR("%s: column %s: dictionary-encoded page without a dictionary page", x->r->name,
                        x->col->path);
        if (p >= end)
            return CERR("%s: column %s: empty dictionary-encoded page", x->r->name, x->col->path);
        int bw = *p++;
        if (bw > 32)
            return CERR("%s: column %s: bad dictionary index width %d", x->r->name, x->col->path, bw);
        hybrid h = {.p = p, .end = end, .bw = bw};
        return append_dict_values(x, d, &h, count, s);
    }
    if (encoding == 3 && type == TP_PQR_BOOLEAN) {
        if (end - p < 4)
            return CERR("%s: column %s: page too short for its values", x->r->name, x->col->path);
        uint32_t n = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        p += 4;
        if ((size_t)(end - p) < n)
            return CERR("%s: column %s: page too short for its values", x->r->name, x->col->path);
        hybrid h = {.p = p, .end = p + n, .bw = 1};
        for (int64_t i = 0; i < count; i++) {
            uint32_t v;
            if (!hybrid_next(&h, &v))
                return CERR("%s: column %s: boolean values end early", x->r->name, x->col->path);
            tp_bytebuf_u8(&s->values, (uint8_t)v);
        }
        return 0;
    }
    return CERR("%s: column %s: value encoding %d not supported (PLAIN, dictionary and boolean RLE are)",
                x->r->name, x->col->path, encoding);
}

static int decode_levels(ctx *x, const uint8_t *p, size_t n, int max, int64_t count, uint8_t *out, const char *what)
{
    hybrid h = {.p = p, .end = p + n, .bw = bit_width(max)};
    for (int64_t i = 0; i < count; i++) {
        uint32_t v;
        if (!hybrid_next(&h, &v) || v > (uint32_t)max)
            return CERR("%s: column %s: bad %s levels", x->r->name, x->col->path, what);
        out[i] = (uint8_t)v;
    }
    return 0;
}

/* Turns one page's levels into rows and elements. */
static int assemble(ctx *x, const uint8_t *rep, const uint8_t *def, int64_t n, sink *s)
{
    const tp_pqr_column_info *ci = &x->col->info;
    int maxd = ci->max_def;
    if (!ci->is_list) {
        for (int64_t i = 0; i < n; i++) {
            bool present = def[i] == maxd;
            int64_t vi = present ? s->nvalues++ : -1;
            tp_bytebuf_u8(&s->row_valid, present);
            tp_bytebuf_put(&s->row_value, &vi, sizeof vi);
            s->nrows++;
        }
        return 0;
    }
    int list_def = x->col->outer_optional ? 1 : 0; /* def at which the list exists */
    int elem_def = list_def + 1;                     /* def at which an element exists */
    for (int64_t i = 0; i < n; i++) {
        if (rep[i] == 0) {
            tp_bytebuf_put(&s->list_off, &s->nelems, sizeof s->nelems);
            tp_bytebuf_u8(&s->row_valid, def[i] >= list_def);
            s->nrows++;
            if (def[i] < elem_def)
                continue;
        } else if (s->nrows == 0 || def[i] < elem_def)
            return CERR("%s: column %s: bad repetition levels", x->r->name, x->col->path);
        bool present = def[i] == maxd;
        int64_t vi = present ? s->nvalues++ : -1;
        tp_bytebuf_u8(&s->elem_valid, present);
        tp_bytebuf_put(&s->elem_value, &vi, sizeof vi);
        s->nelems++;
    }
    return 0;
}

static uint32_t read_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

typedef struct page_header {
    int32_t type, uncompressed, compressed;
    int32_t num_values, encoding;
    int32_t def_len, rep_len; /* V2 */
    bool v2_compressed, has_data, has_dict, has_v2;
} page_header;

static void parse_page_sub(tcr *c, page_header *h, int16_t which)
{
    if (++c->depth > MAX_DEPTH) {
        c->bad = true;
        return;
    }
    int16_t last = 0, id;
    uint8_t t;
    while (tcr_field(c, &last, &id, &t)) {
        if (id == 1 && t == T_I32)
            h->num_values = tcr_i32(c);
        else if (which != 8 && id == 2 && t == T_I32)
            h->encoding = tcr_i32(c);
        else if (which == 8 && id == 4 && t == T_I32)
            h->encoding = tcr_i32(c);
        else if (which == 8 && id == 5 && t == T_I32)
            h->def_len = tcr_i32(c);
        else if (which == 8 && id == 6 && t == T_I32)
            h->rep_len = tcr_i32(c);
        else if (which == 8 && id == 7 && (t == T_TRUE || t == T_FALSE))
            h->v2_compressed = t == T_TRUE;
        else
            tcr_skip(c, t);
    }
    c->depth--;
}

static bool parse_page_header(tcr *c, page_header *h)
{
    memset(h, 0, sizeof *h);
    h->v2_compressed = true;
    int16_t last = 0, id;
    uint8_t t;
    while (tcr_field(c, &last, &id, &t)) {
        if (id == 1 && t == T_I32)
            h->type = tcr_i32(c);
        else if (id == 2 && t == T_I32)
            h->uncompressed = tcr_i32(c);
        else if (id == 3 && t == T_I32)
            h->compressed = tcr_i32(c);
        else if ((id == 5 || id == 7 || id == 8) && t == T_STRUCT) {
            parse_page_sub(c, h, id);
            if (id == 5)
                h->has_data = true;
            else if (id == 7)
                h->has_dict = true;
            else
                h->has_v2 = true;
        } else
            tcr_skip(c, t);
    }
    return !c->bad && h->compressed >= 0 && h->uncompressed >= 0;
}

static int read_chunk(ctx *x, const col_meta *m, sink *s, dict *d)
{
    const tp_pqr_reader *r = x->r;
    const tp_pqr_column_info *ci = &x->col->info;
    if (m->type != (int32_t)ci->type)
        return CERR("%s: column %s: chunk type %d differs from the schema's %d", r->name, ci->path, m->type,
                    (int)ci->type);
    int64_t start = m->data_page_offset;
    if (m->has_dict_offset && m->dict_page_offset > 0 && m->dict_page_offset < start)
        start = m->dict_page_offset;
    if (start < 4 || m->total_compressed < 0 || (uint64_t)start > r->footer_start ||
        (uint64_t)m->total_compressed > r->footer_start - (uint64_t)start)
        return CERR("%s: column %s: column chunk outside the file (offset %lld, %lld bytes)", r->name, ci->path,
                    (long long)start, (long long)m->total_compressed);
    const uint8_t *p = r->buf + start, *end = p + m->total_compressed;
    int64_t seen = 0;
    uint8_t *page = NULL, *levels = NULL;
    int rc = 0;
    while (seen < m->num_values && p < end && rc == 0) {
        tcr c = {p, end, false, 0};
        page_header h;
        if (!parse_page_header(&c, &h)) {
            rc = CERR("%s: column %s: bad page header at byte %lld", r->name, ci->path, (long long)(p - r->buf));
            break;
        }
        p = c.p;
        if ((size_t)h.compressed > (size_t)(end - p) || (uint32_t)h.uncompressed > MAX_PAGE_BYTES) {
            rc = CERR("%s: column %s: page runs past its column chunk", r->name, ci->path);
            break;
        }
        const uint8_t *raw = p;
        p += h.compressed;
        if (h.type == 1)
            continue; /* index page */
        if (h.type == 2) {
            if (!h.has_dict || d->present || h.num_values < 0) {
                rc = CERR("%s: column %s: bad dictionary page", r->name, ci->path);
                break;
            }
            if (h.encoding != 0 && h.encoding != 2) {
                rc = CERR("%s: column %s: dictionary page encoding %d not supported", r->name, ci->path, h.encoding);
                break;
            }
            free(page);
            page = malloc((size_t)h.uncompressed + 1);
            if (!page) {
                rc = CERR("%s: out of memory", r->name);
                break;
            }
            if ((rc = decompress(x, m->codec, raw, (size_t)h.compressed, page, (size_t)h.uncompressed)))
                break;
            uint64_t base = 0;
            if (decode_plain(x, ci->type, page, page + h.uncompressed, h.num_values, &d->values, &d->str_data,
                             &base) < 0) {
                rc = -1;
                break;
            }
            d->count = h.num_values;
            d->present = true;
            continue;
        }
        if (h.type != 0 && h.type != 3) {
            rc = CERR("%s: column %s: unknown page type %d", r->name, ci->path, h.type);
            break;
        }
        if ((h.type == 0 && !h.has_data) || (h.type == 3 && !h.has_v2) || h.num_values < 0 ||
            h.num_values > MAX_PAGE_ENTRIES) {
            rc = CERR("%s: column %s: bad data page header", r->name, ci->path);
            break;
        }
        int64_t n = h.num_values;
        free(levels);
        levels = malloc((size_t)n * 2 + 1);
        free(page);
        page = malloc((size_t)h.uncompressed + 1);
        if (!levels || !page) {
            rc = CERR("%s: out of memory", r->name);
            break;
        }
        uint8_t *rep = levels, *def = levels + n;
        memset(levels, 0, (size_t)n * 2);
        if (ci->max_def == 0)
            memset(def, 0, (size_t)n);
        const uint8_t *vals, *vend;
        if (h.type == 0) {
            if ((rc = decompress(x, m->codec, raw, (size_t)h.compressed, page, (size_t)h.uncompressed)))
                break;
            const uint8_t *q = page, *qend = page + h.uncompressed;
            if (ci->max_rep > 0) {
                if (qend - q < 4 || (size_t)read_u32le(q) > (size_t)(qend - q - 4)) {
                    rc = CERR("%s: column %s: bad repetition levels", r->name, ci->path);
                    break;
                }
                size_t ln = (size_t)read_u32le(q);
                if ((rc = decode_levels(x, q + 4, ln, ci->max_rep, n, rep, "repetition")))
                    break;
                q += 4 + ln;
            }
            if (ci->max_def > 0) {
                if (qend - q < 4 || (size_t)read_u32le(q) > (size_t)(qend - q - 4)) {
                    rc = CERR("%s: column %s: bad definition levels", r->name, ci->path);
                    break;
                }
                size_t ln = (size_t)read_u32le(q);
                if ((rc = decode_levels(x, q + 4, ln, ci->max_def, n, def, "definition")))
                    break;
                q += 4 + ln;
            }
            vals = q;
            vend = qend;
        } else {
            if (h.rep_len < 0 || h.def_len < 0 || (int64_t)h.rep_len + h.def_len > h.compressed ||
                (int64_t)h.rep_len + h.def_len > h.uncompressed) {
                rc = CERR("%s: column %s: bad data page V2 level lengths", r->name, ci->path);
                break;
            }
            if (ci->max_rep > 0 && (rc = decode_levels(x, raw, (size_t)h.rep_len, ci->max_rep, n, rep, "repetition")))
                break;
            if (ci->max_def > 0 &&
                (rc = decode_levels(x, raw + h.rep_len, (size_t)h.def_len, ci->max_def, n, def, "definition")))
                break;
            size_t lv = (size_t)h.rep_len + (size_t)h.def_len;
            if ((rc = decompress(x, h.v2_compressed ? m->codec : 0, raw + lv, (size_t)h.compressed - lv, page,
                                 (size_t)h.uncompressed - lv)))
                break;
            vals = page;
            vend = page + (h.uncompressed - (int32_t)lv);
        }
        int64_t present = 0;
        for (int64_t i = 0; i < n; i++)
            present += def[i] == ci->max_def;
        int64_t before = s->nvalues;
        if ((rc = decode_values(x, d, h.encoding, vals, vend, present, s)))
            break;
        if ((rc = assemble(x, rep, def, n, s)))
            break;
        if (s->nvalues - before != present) {
            rc = CERR("%s: column %s: level and value counts disagree", r->name, ci->path);
            break;
        }
        seen += n;
    }
    free(page);
    free(levels);
    if (rc == 0 && seen != m->num_values)
        rc = CERR("%s: column %s: column chunk holds %lld values, its metadata says %lld", r->name, ci->path,
                  (long long)seen, (long long)m->num_values);
    return rc;
}

void tp_pqr_values_free(tp_pqr_column_values *v)
{
    if (!v)
        return;
    free(v->values);
    free(v->str_off);
    free(v->str_data);
    free(v->row_valid);
    free(v->row_value);
    free(v->list_off);
    free(v->elem_valid);
    free(v->elem_value);
    memset(v, 0, sizeof *v);
}

int tp_pqr_read_column(tp_pqr_reader *r, size_t column, tp_pqr_column_values *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (column >= r->nleaves) {
        set_err(err, errlen, "%s: no column %zu", r->name, column);
        return -1;
    }
    const leaf *l = &r->leaves[column];
    if (!l->info.supported) {
        set_err(err, errlen, "%s: column %s: %s", r->name, l->path, l->info.unsupported);
        return -1;
    }
    ctx cx = {r, l, err, errlen}, *x = &cx;
    sink s;
    memset(&s, 0, sizeof s);
    uint64_t zero = 0;
    if (l->info.type == TP_PQR_BYTE_ARRAY)
        tp_bytebuf_put(&s.str_off, &zero, sizeof zero);
    int rc = 0;
    for (uint32_t g = 0; g < r->nrg && rc == 0; g++) {
        int64_t rows_before = s.nrows;
        dict d;
        memset(&d, 0, sizeof d);
        rc = read_chunk(x, &r->rgs[g].cols[column], &s, &d);
        free(d.values.data);
        free(d.str_data.data);
        if (rc == 0 && s.nrows - rows_before != r->rgs[g].num_rows)
            rc = CERR("%s: column %s: row group %u holds %lld rows, its metadata says %lld", r->name, l->path, g,
                      (long long)(s.nrows - rows_before), (long long)r->rgs[g].num_rows);
    }
    if (l->info.is_list)
        tp_bytebuf_put(&s.list_off, &s.nelems, sizeof s.nelems);
    bool oom = s.values.failed || s.str_off.failed || s.str_data.failed || s.row_valid.failed ||
               s.row_value.failed || s.list_off.failed || s.elem_valid.failed || s.elem_value.failed;
    if (rc == 0 && oom)
        rc = CERR("%s: column %s: out of memory", r->name, l->path);
    out->type = l->info.type;
    out->nrows = s.nrows;
    out->nvalues = s.nvalues;
    out->nelems = s.nelems;
    out->values = s.values.data;
    out->str_off = (uint64_t *)s.str_off.data;
    out->str_data = s.str_data.data;
    out->row_valid = s.row_valid.data;
    out->row_value = (int64_t *)s.row_value.data;
    out->list_off = (int64_t *)s.list_off.data;
    out->elem_valid = s.elem_valid.data;
    out->elem_value = (int64_t *)s.elem_value.data;
    if (rc)
        tp_pqr_values_free(out);
    return rc;
}

double tp_pqr_value_f64(const tp_pqr_column_values *v, int64_t i)
{
    switch (v->type) {
    case TP_PQR_INT32:
        return ((const int32_t *)v->values)[i];
    case TP_PQR_INT64:
        return (double)((const int64_t *)v->values)[i];
    case TP_PQR_FLOAT:
        return ((const float *)v->values)[i];
    case TP_PQR_DOUBLE:
        return ((const double *)v->values)[i];
    case TP_PQR_BOOLEAN:
        return ((const uint8_t *)v->values)[i];
    default:
        return 0;
    }
}

static int64_t f64_to_i64(double d)
{
    return d >= -9.2e18 && d <= 9.2e18 ? (int64_t)d : 0;
}

int64_t tp_pqr_value_i64(const tp_pqr_column_values *v, int64_t i)
{
    switch (v->type) {
    case TP_PQR_INT32:
        return ((const int32_t *)v->values)[i];
    case TP_PQR_INT64:
        return ((const int64_t *)v->values)[i];
    case TP_PQR_FLOAT:
        return f64_to_i64(((const float *)v->values)[i]);
    case TP_PQR_DOUBLE:
        return f64_to_i64(((const double *)v->values)[i]);
    case TP_PQR_BOOLEAN:
        return ((const uint8_t *)v->values)[i];
    default:
        return 0;
    }
}
