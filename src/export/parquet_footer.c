/* teleop — the Parquet footer: FileMetaData (schema tree, row groups and
 * their column chunk metadata with statistics, key/value metadata,
 * created_by, column orders) in the Thrift compact protocol, then its
 * length and the closing magic. Field ids from parquet-format's
 * parquet.thrift. */
#include "parquet_internal.h"

#include "thrift_compact.h"

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

static void write_schema(tc_writer *t, const pq_file_desc *f)
{
    size_t n = 1;
    for (size_t c = 0; c < f->ncols; c++)
        n += f->cols[c].desc.shape == TP_PQ_SCALAR ? 1 : 3;
    tc_field_list(t, 2, TC_STRUCT, (uint32_t)n);
    tc_struct_begin(t);
    tc_field_string(t, 4, "schema");
    tc_field_i32(t, 5, (int32_t)f->ncols);
    tc_struct_end(t);
    for (size_t c = 0; c < f->ncols; c++) {
        const tp_pq_column *d = &f->cols[c].desc;
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

static void write_column_meta(tc_writer *t, const pq_column *col, const pq_chunk_meta *m, bool snappy)
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

bool pq_encode_footer(tp_bytebuf *b, const pq_file_desc *f)
{
    tc_writer t;
    tc_init(&t, b);
    tc_struct_begin(&t); /* FileMetaData */
    tc_field_i32(&t, 1, 2); /* version, as pyarrow's format 2.x */
    write_schema(&t, f);
    tc_field_i64(&t, 3, (int64_t)f->rows);
    tc_field_list(&t, 4, TC_STRUCT, (uint32_t)f->ngroups);
    for (size_t g = 0; g < f->ngroups; g++) {
        const pq_row_group *rg = &f->groups[g];
        tc_struct_begin(&t); /* RowGroup */
        tc_field_list(&t, 1, TC_STRUCT, (uint32_t)f->ncols);
        for (size_t c = 0; c < f->ncols; c++) {
            tc_struct_begin(&t); /* ColumnChunk */
            tc_field_i64(&t, 2, 0); /* file_offset: no ColumnMetaData outside the footer */
            write_column_meta(&t, &f->cols[c], &rg->chunks[c], f->snappy);
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
    size_t nkv = f->nkv + (f->arrow_schema ? 1 : 0);
    if (nkv) {
        tc_field_list(&t, 5, TC_STRUCT, (uint32_t)nkv);
        for (size_t i = 0; i < f->nkv; i++) {
            tc_struct_begin(&t);
            tc_field_string(&t, 1, f->kv_keys[i]);
            tc_field_string(&t, 2, f->kv_values[i]);
            tc_struct_end(&t);
        }
        if (f->arrow_schema) {
            tc_struct_begin(&t);
            tc_field_string(&t, 1, "ARROW:schema");
            tc_field_string(&t, 2, f->arrow_schema);
            tc_struct_end(&t);
        }
    }
    tc_field_string(&t, 6, f->created_by);
    tc_field_list(&t, 7, TC_STRUCT, (uint32_t)f->ncols); /* column_orders: TYPE_ORDER for every leaf */
    for (size_t c = 0; c < f->ncols; c++) {
        tc_struct_begin(&t);
        tc_field_struct(&t, 1);
        tc_struct_end(&t);
        tc_struct_end(&t);
    }
    tc_struct_end(&t);
    if (b->failed || b->len > UINT32_MAX)
        return false;
    tp_bytebuf_le32(b, (uint32_t)b->len);
    tp_bytebuf_put(b, "PAR1", 4);
    return !b->failed;
}
