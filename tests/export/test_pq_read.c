/* The parquet reader on a hand-built file covering what teleop's writer
 * never produces but pyarrow and others do: a data page V2 with gzip (and
 * again with zstd) and RLE-encoded booleans, an INT32 column with a snappy PLAIN_DICTIONARY
 * dictionary page, a nullable list of nullable strings with null and empty
 * lists and a null element; and the one-line errors for an unsupported
 * codec (BROTLI), a footer-less file, a bad footer length and a non-parquet file.
 *
 *   test_pq_read [OUT.parquet]   (with an argument: writes the file, the
 *                                 fuzzer's seed tests/fuzz/corpus-parquet/crafted.parquet) */
#include <setjmp.h>
#include <snappy-c.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>

#include "export/rle.h"
#include "export/thrift_compact.h"
#include "teleop/parquet_read.h"

enum { PT_BOOLEAN = 0, PT_INT32 = 1, PT_BYTE_ARRAY = 6 };
enum { CODEC_NONE = 0, CODEC_SNAPPY = 1, CODEC_GZIP = 2, CODEC_BROTLI = 4, CODEC_ZSTD = 6 };

static void put_u32(tp_bytebuf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    tp_bytebuf_put(b, x, 4);
}

static void gzip(const tp_bytebuf *in, tp_bytebuf *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    uint8_t buf[4096];
    z.next_in = in->data;
    z.avail_in = (uInt)in->len;
    z.next_out = buf;
    z.avail_out = sizeof buf;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    tp_bytebuf_put(out, buf, sizeof buf - z.avail_out);
    deflateEnd(&z);
}

static void snappy(const tp_bytebuf *in, tp_bytebuf *out)
{
    size_t n = snappy_max_compressed_length(in->len);
    char *buf = malloc(n);
    assert_int_equal(snappy_compress((const char *)in->data, in->len, buf, &n), SNAPPY_OK);
    tp_bytebuf_put(out, buf, n);
    free(buf);
}

typedef struct chunk_meta {
    int32_t type, codec;
    int64_t num_values, data_off, dict_off, size;
    const char *path[3];
    int npath;
} chunk_meta;

/* page header (+ sub-header) then the page bytes */
static void page(tp_bytebuf *f, int type, const tp_bytebuf *raw_or_null, const tp_bytebuf *body, int32_t uncompressed,
                 int32_t num_values, int32_t encoding, int32_t v2_def_len, int32_t num_rows)
{
    (void)raw_or_null;
    tp_bytebuf h = {0};
    tc_writer w;
    tc_init(&w, &h);
    tc_struct_begin(&w);
    tc_field_i32(&w, 1, type);
    tc_field_i32(&w, 2, uncompressed);
    tc_field_i32(&w, 3, (int32_t)body->len);
    if (type == 0) {
        tc_field_struct(&w, 5);
        tc_field_i32(&w, 1, num_values);
        tc_field_i32(&w, 2, encoding);
        tc_field_i32(&w, 3, 3);
        tc_field_i32(&w, 4, 3);
        tc_struct_end(&w);
    } else if (type == 2) {
        tc_field_struct(&w, 7);
        tc_field_i32(&w, 1, num_values);
        tc_field_i32(&w, 2, encoding);
        tc_struct_end(&w);
    } else {
        tc_field_struct(&w, 8);
        tc_field_i32(&w, 1, num_values);
        tc_field_i32(&w, 2, 1); /* num_nulls */
        tc_field_i32(&w, 3, num_rows);
        tc_field_i32(&w, 4, encoding);
        tc_field_i32(&w, 5, v2_def_len);
        tc_field_i32(&w, 6, 0);
        tc_field_bool(&w, 7, true);
        tc_struct_end(&w);
    }
    tc_struct_end(&w);
    assert_false(h.failed);
    tp_bytebuf_put(f, h.data, h.len);
    tp_bytebuf_put(f, body->data, body->len);
    free(h.data);
}

/* flags: optional boolean [true, null, false, true, true], data page V2, gzip, RLE values
 * n32: required int32 [7, -3, 7, 7, 1000], snappy dictionary (PLAIN_DICTIONARY)
 * words: optional list<optional string> [["a","bc"], null, [], ["bc", null], ["d"]] */
static void craft(tp_bytebuf *f, int32_t flags_codec)
{
    chunk_meta cm[3] = {
        {PT_BOOLEAN, flags_codec, 5, 0, 0, 0, {"flags"}, 1},
        {PT_INT32, CODEC_SNAPPY, 5, 0, 0, 0, {"n32"}, 1},
        {PT_BYTE_ARRAY, CODEC_NONE, 7, 0, 0, 0, {"words", "list", "element"}, 3},
    };
    tp_bytebuf_put(f, "PAR1", 4);

    /* flags: V2 levels uncompressed, values (RLE booleans) compressed */
    cm[0].data_off = (int64_t)f->len;
    {
        const uint8_t def[5] = {1, 0, 1, 1, 1}, vals[4] = {1, 0, 1, 1};
        tp_bytebuf levels = {0}, values = {0}, hybrid = {0}, comp = {0};
        tp_rle_encode_u8(&levels, def, 5, 1);
        tp_rle_encode_u8(&hybrid, vals, 4, 1);
        put_u32(&values, (uint32_t)hybrid.len);
        tp_bytebuf_put(&values, hybrid.data, hybrid.len);
        tp_bytebuf body = {0};
        tp_bytebuf_put(&body, levels.data, levels.len);
        if (flags_codec == CODEC_GZIP)
            gzip(&values, &comp);
        else if (flags_codec == CODEC_ZSTD) {
            uint8_t buf[256];
            size_t n = ZSTD_compress(buf, sizeof buf, values.data, values.len, 3);
            assert_false(ZSTD_isError(n));
            tp_bytebuf_put(&comp, buf, n);
        }
        else
            tp_bytebuf_put(&comp, values.data, values.len); /* any other codec id: bytes as they are */
        tp_bytebuf_put(&body, comp.data, comp.len);
        page(f, 3, NULL, &body, (int32_t)(levels.len + values.len), 5, 3, (int32_t)levels.len, 5);
        free(levels.data);
        free(values.data);
        free(hybrid.data);
        free(comp.data);
        free(body.data);
    }
    cm[0].size = (int64_t)f->len - cm[0].data_off;

    /* n32: dictionary page then an RLE_DICTIONARY-style page (PLAIN_DICTIONARY id) */
    cm[1].dict_off = (int64_t)f->len;
    {
        tp_bytebuf dict = {0}, comp = {0};
        const int32_t d[3] = {7, -3, 1000};
        tp_bytebuf_put(&dict, d, sizeof d);
        snappy(&dict, &comp);
        page(f, 2, NULL, &comp, (int32_t)dict.len, 3, 2, 0, 0);
        cm[1].data_off = (int64_t)f->len;
        const uint32_t idx[5] = {0, 1, 0, 0, 2};
        tp_bytebuf data = {0}, comp2 = {0};
        tp_bytebuf_u8(&data, 2);
        tp_rle_encode_u32(&data, idx, 5, 2);
        snappy(&data, &comp2);
        page(f, 0, NULL, &comp2, (int32_t)data.len, 5, 2, 0, 0);
        free(dict.data);
        free(comp.data);
        free(data.data);
        free(comp2.data);
    }
    cm[1].size = (int64_t)f->len - cm[1].dict_off;

    /* words: V1 page, uncompressed, PLAIN */
    cm[2].data_off = (int64_t)f->len;
    {
        const uint8_t rep[7] = {0, 1, 0, 0, 0, 1, 0}, def[7] = {3, 3, 0, 1, 3, 2, 3};
        tp_bytebuf body = {0}, lv = {0};
        tp_rle_encode_u8(&lv, rep, 7, 1);
        put_u32(&body, (uint32_t)lv.len);
        tp_bytebuf_put(&body, lv.data, lv.len);
        lv.len = 0;
        tp_rle_encode_u8(&lv, def, 7, 2);
        put_u32(&body, (uint32_t)lv.len);
        tp_bytebuf_put(&body, lv.data, lv.len);
        const char *words[4] = {"a", "bc", "bc", "d"};
        for (int i = 0; i < 4; i++) {
            put_u32(&body, (uint32_t)strlen(words[i]));
            tp_bytebuf_put(&body, words[i], strlen(words[i]));
        }
        page(f, 0, NULL, &body, (int32_t)body.len, 7, 0, 0, 0);
        free(body.data);
        free(lv.data);
    }
    cm[2].size = (int64_t)f->len - cm[2].data_off;

    /* footer */
    tp_bytebuf m = {0};
    tc_writer w;
    tc_init(&w, &m);
    tc_struct_begin(&w);
    tc_field_i32(&w, 1, 1);
    tc_field_list(&w, 2, TC_STRUCT, 6);
    struct {
        const char *name;
        int type, rep, children, converted, logical;
    } el[6] = {
        {"schema", -1, -1, 3, -1, 0}, {"flags", PT_BOOLEAN, 1, 0, -1, 0}, {"n32", PT_INT32, 0, 0, -1, 0},
        {"words", -1, 1, 1, 3, 3},    {"list", -1, 2, 1, -1, 0},          {"element", PT_BYTE_ARRAY, 1, 0, 0, 1},
    };
    for (int i = 0; i < 6; i++) {
        tc_struct_begin(&w);
        if (el[i].type >= 0)
            tc_field_i32(&w, 1, el[i].type);
        if (el[i].rep >= 0)
            tc_field_i32(&w, 3, el[i].rep);
        tc_field_string(&w, 4, el[i].name);
        if (el[i].children)
            tc_field_i32(&w, 5, el[i].children);
        if (el[i].converted >= 0)
            tc_field_i32(&w, 6, el[i].converted);
        if (el[i].logical) {
            tc_field_struct(&w, 10);
            tc_field_struct(&w, (int16_t)el[i].logical);
            tc_struct_end(&w);
            tc_struct_end(&w);
        }
        tc_struct_end(&w);
    }
    tc_field_i64(&w, 3, 5);
    tc_field_list(&w, 4, TC_STRUCT, 1);
    tc_struct_begin(&w);
    tc_field_list(&w, 1, TC_STRUCT, 3);
    for (int i = 0; i < 3; i++) {
        tc_struct_begin(&w);
        tc_field_i64(&w, 2, cm[i].data_off);
        tc_field_struct(&w, 3);
        tc_field_i32(&w, 1, cm[i].type);
        tc_field_list(&w, 2, TC_I32, 1);
        tc_i32(&w, 0);
        tc_field_list(&w, 3, TC_BINARY, (uint32_t)cm[i].npath);
        for (int k = 0; k < cm[i].npath; k++)
            tc_binary(&w, cm[i].path[k], strlen(cm[i].path[k]));
        tc_field_i32(&w, 4, cm[i].codec);
        tc_field_i64(&w, 5, cm[i].num_values);
        tc_field_i64(&w, 6, cm[i].size);
        tc_field_i64(&w, 7, cm[i].size);
        tc_field_i64(&w, 9, cm[i].data_off);
        if (cm[i].dict_off)
            tc_field_i64(&w, 11, cm[i].dict_off);
        tc_struct_end(&w);
        tc_struct_end(&w);
    }
    tc_field_i64(&w, 2, 100);
    tc_field_i64(&w, 3, 5);
    tc_struct_end(&w);
    tc_field_list(&w, 5, TC_STRUCT, 1);
    tc_struct_begin(&w);
    tc_field_string(&w, 1, "origin");
    tc_field_string(&w, 2, "hand-built");
    tc_struct_end(&w);
    tc_field_string(&w, 6, "teleop test_pq_read");
    tc_struct_end(&w);
    assert_false(m.failed);
    tp_bytebuf_put(f, m.data, m.len);
    put_u32(f, (uint32_t)m.len);
    tp_bytebuf_put(f, "PAR1", 4);
    free(m.data);
    assert_false(f->failed);
}

static tp_pqr_reader *open_buf(const tp_bytebuf *b, char *err, size_t errlen)
{
    return tp_pqr_open_memory(b->data, b->len, "crafted.parquet", err, errlen);
}

static void crafted(int32_t codec)
{
    tp_bytebuf f = {0};
    craft(&f, codec);
    char err[512] = "";
    tp_pqr_reader *r = open_buf(&f, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    assert_int_equal(tp_pqr_num_rows(r), 5);
    assert_int_equal(tp_pqr_num_columns(r), 3);
    assert_string_equal(tp_pqr_kv(r, "origin"), "hand-built");
    assert_string_equal(tp_pqr_created_by(r), "teleop test_pq_read");
    const tp_pqr_column_info *ci = tp_pqr_column(r, 2);
    assert_string_equal(ci->name, "words");
    assert_string_equal(ci->path, "words.list.element");
    assert_true(ci->is_list && ci->is_string && ci->nullable);
    assert_int_equal(ci->max_def, 3);
    assert_int_equal(ci->max_rep, 1);

    tp_pqr_column_values v;
    if (tp_pqr_read_column(r, 0, &v, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(v.nrows, 5);
    assert_int_equal(v.nvalues, 4);
    const uint8_t want_valid[5] = {1, 0, 1, 1, 1}, want_flag[5] = {1, 0, 0, 1, 1};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(v.row_valid[i], want_valid[i]);
        if (want_valid[i])
            assert_int_equal(((uint8_t *)v.values)[v.row_value[i]], want_flag[i]);
        else
            assert_int_equal(v.row_value[i], -1);
    }
    tp_pqr_values_free(&v);

    if (tp_pqr_read_column(r, 1, &v, err, sizeof err))
        fail_msg("%s", err);
    const int32_t want_n[5] = {7, -3, 7, 7, 1000};
    assert_int_equal(v.nrows, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(tp_pqr_value_i64(&v, v.row_value[i]), want_n[i]);
    tp_pqr_values_free(&v);

    if (tp_pqr_read_column(r, 2, &v, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(v.nrows, 5);
    assert_int_equal(v.nelems, 5);
    const int64_t want_off[6] = {0, 2, 2, 2, 4, 5};
    const uint8_t want_rows[5] = {1, 0, 1, 1, 1};
    for (int i = 0; i < 6; i++)
        assert_int_equal(v.list_off[i], want_off[i]);
    for (int i = 0; i < 5; i++)
        assert_int_equal(v.row_valid[i], want_rows[i]);
    const char *want_words[5] = {"a", "bc", "bc", NULL, "d"};
    for (int e = 0; e < 5; e++) {
        if (!want_words[e]) {
            assert_int_equal(v.elem_valid[e], 0);
            assert_int_equal(v.elem_value[e], -1);
            continue;
        }
        int64_t vi = v.elem_value[e];
        size_t n = (size_t)(v.str_off[vi + 1] - v.str_off[vi]);
        assert_int_equal(n, strlen(want_words[e]));
        assert_memory_equal(v.str_data + v.str_off[vi], want_words[e], n);
    }
    tp_pqr_values_free(&v);
    tp_pqr_close(r);
    free(f.data);
}

static void test_crafted_gzip(void **state)
{
    (void)state;
    crafted(CODEC_GZIP);
}

static void test_crafted_zstd(void **state)
{
    (void)state;
    crafted(CODEC_ZSTD);
}

static void test_errors(void **state)
{
    (void)state;
    char err[512];
    tp_bytebuf f = {0};
    craft(&f, CODEC_BROTLI);
    tp_pqr_reader *r = open_buf(&f, err, sizeof err);
    assert_non_null(r);
    tp_pqr_column_values v;
    assert_int_equal(tp_pqr_read_column(r, 0, &v, err, sizeof err), -1);
    assert_string_equal(err, "crafted.parquet: column flags: compression BROTLI not supported (snappy, gzip, zstd and "
                             "uncompressed are)");
    tp_pqr_close(r);

    r = tp_pqr_open_memory(f.data, f.len - 3, "cut.parquet", err, sizeof err);
    assert_null(r);
    assert_string_equal(err, "cut.parquet: no parquet footer (PAR1 magic missing at the end: truncated or never closed)");

    f.data[f.len - 8] = 0xff; /* footer length beyond the file */
    f.data[f.len - 5] = 0x7f;
    r = open_buf(&f, err, sizeof err);
    assert_null(r);
    assert_non_null(strstr(err, "crafted.parquet: bad parquet footer (length"));

    r = tp_pqr_open_memory("{\"a\": 1}", 8, "x.json", err, sizeof err);
    assert_null(r);
    assert_string_equal(err, "x.json: not a parquet file (no PAR1 magic at the start)");
    r = tp_pqr_open("/nonexistent/x.parquet", err, sizeof err);
    assert_null(r);
    assert_string_equal(err, "/nonexistent/x.parquet: No such file or directory");
    free(f.data);
}

int main(int argc, char **argv)
{
    if (argc == 2) {
        tp_bytebuf f = {0};
        craft(&f, CODEC_GZIP);
        FILE *out = fopen(argv[1], "wb");
        if (!out || fwrite(f.data, 1, f.len, out) != f.len || fclose(out) != 0) {
            perror(argv[1]);
            return 1;
        }
        free(f.data);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crafted_gzip),
        cmocka_unit_test(test_crafted_zstd),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
