/* teleop — Thrift compact protocol encoder (the Parquet footer and page
 * headers are Thrift structs in this protocol).
 *
 * The encoder appends to a caller-owned tp_bytebuf. Structs nest: every
 * tc_struct_begin / tc_field_struct opens a field-id scope closed by
 * tc_struct_end, which writes the stop byte. Fields must be written in
 * increasing id order within a struct (the compact protocol's delta
 * encoding works either way, but Parquet readers expect the usual order).
 */
#ifndef TELEOP_EXPORT_THRIFT_COMPACT_H
#define TELEOP_EXPORT_THRIFT_COMPACT_H

#include "bytebuf.h"

enum {
    TC_BOOL_TRUE = 1,
    TC_BOOL_FALSE = 2,
    TC_BYTE = 3,
    TC_I16 = 4,
    TC_I32 = 5,
    TC_I64 = 6,
    TC_DOUBLE = 7,
    TC_BINARY = 8,
    TC_LIST = 9,
    TC_SET = 10,
    TC_MAP = 11,
    TC_STRUCT = 12,
};

#define TC_MAX_DEPTH 16

typedef struct tc_writer {
    tp_bytebuf *out;
    int16_t last_id[TC_MAX_DEPTH];
    int depth; /* -1 before the outermost struct; > TC_MAX_DEPTH-1 sets out->failed */
} tc_writer;

void tc_init(tc_writer *w, tp_bytebuf *out);

/* Raw values (list elements). */
void tc_varint(tp_bytebuf *b, uint64_t v);
void tc_i32(tc_writer *w, int32_t v);
void tc_i64(tc_writer *w, int64_t v);
void tc_binary(tc_writer *w, const void *p, size_t n);
void tc_list_begin(tc_writer *w, uint8_t elem_type, uint32_t count);
void tc_struct_begin(tc_writer *w); /* a list element or the outermost struct */
void tc_struct_end(tc_writer *w);

/* Fields of the struct being written. */
void tc_field_i16(tc_writer *w, int16_t id, int16_t v);
void tc_field_i32(tc_writer *w, int16_t id, int32_t v);
void tc_field_i64(tc_writer *w, int16_t id, int64_t v);
void tc_field_bool(tc_writer *w, int16_t id, bool v);
void tc_field_binary(tc_writer *w, int16_t id, const void *p, size_t n);
void tc_field_string(tc_writer *w, int16_t id, const char *s);
void tc_field_struct(tc_writer *w, int16_t id); /* then its fields, then tc_struct_end */
void tc_field_list(tc_writer *w, int16_t id, uint8_t elem_type, uint32_t count);

#endif
