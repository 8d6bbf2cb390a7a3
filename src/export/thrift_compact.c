/* teleop — Thrift compact protocol encoder. */
#include "thrift_compact.h"

void tc_init(tc_writer *w, tp_bytebuf *out)
{
    w->out = out;
    w->depth = -1;
}

void tc_varint(tp_bytebuf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    tp_bytebuf_put(b, tmp, n);
}

static uint64_t zigzag64(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

void tc_i32(tc_writer *w, int32_t v) { tc_varint(w->out, zigzag64(v)); }
void tc_i64(tc_writer *w, int64_t v) { tc_varint(w->out, zigzag64(v)); }

void tc_binary(tc_writer *w, const void *p, size_t n)
{
    tc_varint(w->out, n);
    tp_bytebuf_put(w->out, p, n);
}

void tc_list_begin(tc_writer *w, uint8_t elem_type, uint32_t count)
{
    if (count < 15) {
        tp_bytebuf_u8(w->out, (uint8_t)(count << 4 | elem_type));
    } else {
        tp_bytebuf_u8(w->out, (uint8_t)(0xF0 | elem_type));
        tc_varint(w->out, count);
    }
}

void tc_struct_begin(tc_writer *w)
{
    if (w->depth + 1 >= TC_MAX_DEPTH) {
        w->out->failed = true;
        return;
    }
    w->last_id[++w->depth] = 0;
}

void tc_struct_end(tc_writer *w)
{
    tp_bytebuf_u8(w->out, 0); /* STOP */
    if (w->depth >= 0)
        w->depth--;
}

static void field_header(tc_writer *w, int16_t id, uint8_t type)
{
    if (w->depth < 0) {
        w->out->failed = true;
        return;
    }
    int16_t *last = &w->last_id[w->depth];
    int delta = id - *last;
    if (delta > 0 && delta <= 15) {
        tp_bytebuf_u8(w->out, (uint8_t)(delta << 4 | type));
    } else {
        tp_bytebuf_u8(w->out, type);
        tc_varint(w->out, zigzag64(id));
    }
    *last = id;
}

void tc_field_i16(tc_writer *w, int16_t id, int16_t v)
{
    field_header(w, id, TC_I16);
    tc_varint(w->out, zigzag64(v));
}

void tc_field_i32(tc_writer *w, int16_t id, int32_t v)
{
    field_header(w, id, TC_I32);
    tc_i32(w, v);
}

void tc_field_i64(tc_writer *w, int16_t id, int64_t v)
{
    field_header(w, id, TC_I64);
    tc_i64(w, v);
}

void tc_field_bool(tc_writer *w, int16_t id, bool v)
{
    field_header(w, id, v ? TC_BOOL_TRUE : TC_BOOL_FALSE);
}

void tc_field_binary(tc_writer *w, int16_t id, const void *p, size_t n)
{
    field_header(w, id, TC_BINARY);
    tc_binary(w, p, n);
}

void tc_field_string(tc_writer *w, int16_t id, const char *s) { tc_field_binary(w, id, s, strlen(s)); }

void tc_field_struct(tc_writer *w, int16_t id)
{
    field_header(w, id, TC_STRUCT);
    tc_struct_begin(w);
}

void tc_field_list(tc_writer *w, int16_t id, uint8_t elem_type, uint32_t count)
{
    field_header(w, id, TC_LIST);
    tc_list_begin(w, elem_type, count);
}
