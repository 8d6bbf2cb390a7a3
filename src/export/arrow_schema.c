/* teleop — Arrow IPC Schema message, built as a flatbuffer by hand.
 *
 * Flatbuffer layout used here (front to back, so every uoffset points
 * forward as the format requires): a vtable, then its table, then the
 * objects the table refers to. Tables start 4-aligned; their fields are
 * placed largest first so each is naturally aligned. No field needs 8 bytes
 * (bodyLength is 0 and endianness Little, both defaults, so omitted).
 */
#include "arrow_schema.h"

#include "bytebuf.h"

#include <stdio.h>

/* union Type (Schema.fbs) */
enum {
    ARROW_TYPE_INT = 2,
    ARROW_TYPE_FLOATING_POINT = 3,
    ARROW_TYPE_UTF8 = 5,
    ARROW_TYPE_BOOL = 6,
    ARROW_TYPE_LIST = 12,
    ARROW_TYPE_FIXED_SIZE_LIST = 16,
};
enum { ARROW_PRECISION_SINGLE = 1, ARROW_PRECISION_DOUBLE = 2 };
enum { ARROW_METADATA_V5 = 4, ARROW_HEADER_SCHEMA = 1 };

#define MAX_SLOTS 8

typedef struct fb_slot {
    uint8_t size; /* 0 = absent, 1, 2 or 4 bytes */
    uint32_t value;
} fb_slot;

static void align_to(tp_bytebuf *b, size_t a)
{
    tp_bytebuf_zeros(b, (a - b->len % a) % a);
}

static void patch_u32(tp_bytebuf *b, size_t pos, uint32_t v)
{
    if (!b->failed)
        memcpy(b->data + pos, &v, 4);
}

/* Writes a vtable and its table and points the uoffset at `at` to the
 * table; pos[i] receives where slot i's value lives (to patch offsets to
 * objects written later). */
static void write_table(tp_bytebuf *b, size_t at, size_t nslots, const fb_slot *slots, size_t *pos)
{
    uint16_t field_off[MAX_SLOTS] = {0};
    uint16_t inline_size = 4;
    for (uint8_t size = 4; size >= 1; size /= 2)
        for (size_t i = 0; i < nslots; i++)
            if (slots[i].size == size) {
                field_off[i] = inline_size;
                inline_size = (uint16_t)(inline_size + size);
            }
    align_to(b, 4);
    size_t vtable = b->len;
    tp_bytebuf_le16(b, (uint16_t)(4 + 2 * nslots));
    tp_bytebuf_le16(b, inline_size);
    for (size_t i = 0; i < nslots; i++)
        tp_bytebuf_le16(b, field_off[i]);
    align_to(b, 4);
    size_t table = b->len;
    patch_u32(b, at, (uint32_t)(table - at));
    tp_bytebuf_le32(b, (uint32_t)(int32_t)(table - vtable)); /* soffset: vtable = table - this */
    tp_bytebuf_zeros(b, (size_t)inline_size - 4);
    for (size_t i = 0; i < nslots; i++) {
        pos[i] = table + field_off[i];
        if (slots[i].size && !b->failed)
            memcpy(b->data + pos[i], &slots[i].value, slots[i].size); /* little-endian host */
    }
    align_to(b, 4);
}

/* uoffset at `at` := forward distance to the object that starts now. */
static void point_here(tp_bytebuf *b, size_t at)
{
    align_to(b, 4);
    patch_u32(b, at, (uint32_t)(b->len - at));
}

static void write_string(tp_bytebuf *b, size_t at, const char *s)
{
    point_here(b, at);
    size_t n = strlen(s);
    tp_bytebuf_le32(b, (uint32_t)n);
    tp_bytebuf_put(b, s, n);
    tp_bytebuf_u8(b, 0);
    align_to(b, 4);
}

/* A vector of n uoffsets; slots[i] receives each element's position. */
static void write_offset_vector(tp_bytebuf *b, size_t at, size_t n, size_t *slots)
{
    point_here(b, at);
    tp_bytebuf_le32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        slots[i] = b->len;
        tp_bytebuf_le32(b, 0);
    }
}

static void write_key_values(tp_bytebuf *b, size_t at, const char *const *keys, const char *const *values,
                             size_t n)
{
    size_t *elem = calloc(n ? n : 1, sizeof *elem);
    if (!elem) {
        b->failed = true;
        return;
    }
    write_offset_vector(b, at, n, elem);
    for (size_t i = 0; i < n; i++) {
        fb_slot s[2] = {{4, 0}, {4, 0}}; /* key, value */
        size_t pos[2];
        write_table(b, elem[i], 2, s, pos);
        write_string(b, pos[0], keys[i]);
        write_string(b, pos[1], values[i]);
    }
    free(elem);
}

/* The type table of a primitive value type; returns the union tag. */
static uint8_t write_value_type(tp_bytebuf *b, size_t at, tp_pq_type type)
{
    size_t pos[2];
    switch (type) {
    case TP_PQ_INT64: {
        fb_slot s[2] = {{4, 64}, {1, 1}}; /* bitWidth, is_signed */
        write_table(b, at, 2, s, pos);
        return ARROW_TYPE_INT;
    }
    case TP_PQ_FLOAT: {
        fb_slot s[1] = {{2, ARROW_PRECISION_SINGLE}};
        write_table(b, at, 1, s, pos);
        return ARROW_TYPE_FLOATING_POINT;
    }
    case TP_PQ_DOUBLE: {
        fb_slot s[1] = {{2, ARROW_PRECISION_DOUBLE}};
        write_table(b, at, 1, s, pos);
        return ARROW_TYPE_FLOATING_POINT;
    }
    case TP_PQ_BOOL:
        write_table(b, at, 0, NULL, pos);
        return ARROW_TYPE_BOOL;
    case TP_PQ_STRING:
        write_table(b, at, 0, NULL, pos);
        return ARROW_TYPE_UTF8;
    }
    return 0;
}

static void set_u8(tp_bytebuf *b, size_t pos, uint8_t v)
{
    if (!b->failed)
        b->data[pos] = v;
}

/* table Field { name, nullable, type_type, type, dictionary, children, custom_metadata } */
static void write_field(tp_bytebuf *b, size_t at, const char *name, bool nullable, const tp_pq_column *c,
                        bool element)
{
    bool list = !element && c->shape != TP_PQ_SCALAR;
    fb_slot s[6] = {
        {4, 0},                      /* name */
        {nullable ? 1 : 0, 1},       /* nullable (false is the default: omitted) */
        {1, 0},                      /* type_type, set below */
        {4, 0},                      /* type */
        {0, 0},                      /* dictionary */
        {4, 0},                      /* children (pyarrow writes an empty vector for leaves) */
    };
    size_t pos[6];
    write_table(b, at, 6, s, pos);
    write_string(b, pos[0], name);
    if (list) {
        size_t tpos[1];
        if (c->shape == TP_PQ_FIXED_LIST) {
            fb_slot t[1] = {{4, (uint32_t)c->list_size}};
            write_table(b, pos[3], 1, t, tpos);
            set_u8(b, pos[2], ARROW_TYPE_FIXED_SIZE_LIST);
        } else {
            write_table(b, pos[3], 0, NULL, tpos);
            set_u8(b, pos[2], ARROW_TYPE_LIST);
        }
        size_t child;
        write_offset_vector(b, pos[5], 1, &child);
        write_field(b, child, "item", true, c, true); /* pyarrow's default list item field */
    } else {
        set_u8(b, pos[2], write_value_type(b, pos[3], c->type));
        write_offset_vector(b, pos[5], 0, NULL);
    }
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *base64(const uint8_t *p, size_t n)
{
    char *out = malloc((n + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = b64[v >> 6 & 63];
        out[o++] = b64[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[o++] = b64[v >> 18];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = b64[v >> 18];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = b64[v >> 6 & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

char *tp_arrow_schema_base64(const tp_pq_column *columns, size_t ncolumns, const char *const *keys,
                             const char *const *values, size_t nkv)
{
    tp_bytebuf fb = {0};
    tp_bytebuf_le32(&fb, 0); /* root uoffset */
    /* table Message { version, header_type, header, bodyLength, custom_metadata } */
    fb_slot msg[3] = {{2, ARROW_METADATA_V5}, {1, ARROW_HEADER_SCHEMA}, {4, 0}};
    size_t mpos[3];
    write_table(&fb, 0, 3, msg, mpos);
    /* table Schema { endianness, fields, custom_metadata, features } */
    fb_slot sch[3] = {{0, 0}, {4, 0}, {nkv ? 4 : 0, 0}};
    size_t spos[3];
    write_table(&fb, mpos[2], 3, sch, spos);
    size_t *fields = calloc(ncolumns ? ncolumns : 1, sizeof *fields);
    if (!fields) {
        tp_bytebuf_free(&fb);
        return NULL;
    }
    write_offset_vector(&fb, spos[1], ncolumns, fields);
    for (size_t i = 0; i < ncolumns; i++)
        write_field(&fb, fields[i], columns[i].name, columns[i].nullable, &columns[i], false);
    free(fields);
    if (nkv)
        write_key_values(&fb, spos[2], keys, values, nkv);
    align_to(&fb, 8);

    tp_bytebuf msgbuf = {0};
    tp_bytebuf_le32(&msgbuf, 0xFFFFFFFFu); /* continuation marker */
    tp_bytebuf_le32(&msgbuf, (uint32_t)fb.len);
    tp_bytebuf_put(&msgbuf, fb.data, fb.len);
    char *out = NULL;
    if (!fb.failed && !msgbuf.failed)
        out = base64(msgbuf.data, msgbuf.len);
    tp_bytebuf_free(&fb);
    tp_bytebuf_free(&msgbuf);
    return out;
}
