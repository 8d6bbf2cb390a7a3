/* Byte-exact checks of the Parquet writer's two low-level encoders against
 * hand-computed bytes: the RLE / bit-packing hybrid (parquet-format
 * Encodings.md, including its bit-packing example) and the Thrift compact
 * protocol (field deltas, long field ids, zigzag varints, binaries, bools,
 * long lists, nested structs). The readers' test (parquet-readers) checks
 * the same encoders end to end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "export/rle.h"
#include "export/thrift_compact.h"

static void expect_bytes(const tp_bytebuf *b, const uint8_t *want, size_t n)
{
    assert_false(b->failed);
    assert_int_equal(b->len, n);
    assert_memory_equal(b->data, want, n);
}

static void test_bit_packed_spec_example(void **state)
{
    (void)state;
    const uint8_t v[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    tp_bytebuf b = {0};
    tp_rle_encode_u8(&b, v, 8, 3);
    const uint8_t want[] = {0x03, 0x88, 0xC6, 0xFA}; /* 1 group of 8; Encodings.md's bytes */
    expect_bytes(&b, want, sizeof want);
    tp_bytebuf_free(&b);
}

static void test_rle_run(void **state)
{
    (void)state;
    uint8_t v[100];
    memset(v, 5, sizeof v);
    tp_bytebuf b = {0};
    tp_rle_encode_u8(&b, v, 100, 3);
    const uint8_t want[] = {0xC8, 0x01, 0x05}; /* varint(100 << 1), value in one byte */
    expect_bytes(&b, want, sizeof want);
    tp_bytebuf_free(&b);
}

static void test_literals_borrow_from_run(void **state)
{
    (void)state;
    uint8_t v[23] = {0, 1, 0};
    memset(v + 3, 1, 20);
    tp_bytebuf b = {0};
    tp_rle_encode_u8(&b, v, 23, 1);
    /* 3 literals take 5 of the run to fill a group of 8, then RLE 15 x 1 */
    const uint8_t want[] = {0x03, 0xFA, 0x1E, 0x01};
    expect_bytes(&b, want, sizeof want);
    tp_bytebuf_free(&b);
}

static void test_run_then_padded_tail(void **state)
{
    (void)state;
    const uint8_t v[11] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 2};
    tp_bytebuf b = {0};
    tp_rle_encode_u8(&b, v, 11, 2);
    const uint8_t want[] = {0x12, 0x01, 0x03, 0x08, 0x00}; /* RLE 9 x 1; {0, 2} padded to 8 values */
    expect_bytes(&b, want, sizeof want);
    tp_bytebuf_free(&b);
}

static void test_wide_values(void **state)
{
    (void)state;
    uint32_t v[8];
    for (int i = 0; i < 8; i++)
        v[i] = 777;
    tp_bytebuf b = {0};
    tp_rle_encode_u32(&b, v, 8, 10);
    const uint8_t want[] = {0x10, 0x09, 0x03}; /* run value in two little-endian bytes */
    expect_bytes(&b, want, sizeof want);
    b.len = 0;
    const uint32_t lit[2] = {1023, 1};
    tp_rle_encode_u32(&b, lit, 2, 10);
    /* 10-bit values 1023, 1, then 6 zeros: 80 bits = 10 bytes */
    const uint8_t want2[] = {0x03, 0xFF, 0x07, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_bytes(&b, want2, sizeof want2);
    tp_bytebuf_free(&b);
}

static void test_bit_width(void **state)
{
    (void)state;
    assert_int_equal(tp_rle_bit_width(0), 1);
    assert_int_equal(tp_rle_bit_width(1), 1);
    assert_int_equal(tp_rle_bit_width(2), 2);
    assert_int_equal(tp_rle_bit_width(3), 2);
    assert_int_equal(tp_rle_bit_width(4), 3);
    assert_int_equal(tp_rle_bit_width(999), 10);
    assert_int_equal(tp_rle_bit_width(UINT32_MAX), 32);
}

static void test_thrift_compact(void **state)
{
    (void)state;
    tp_bytebuf b = {0};
    tc_writer t;
    tc_init(&t, &b);
    tc_struct_begin(&t);
    tc_field_i32(&t, 1, -1);
    tc_field_i64(&t, 2, 150);
    tc_field_binary(&t, 5, "ab", 2);
    tc_field_bool(&t, 20, true);
    tc_field_list(&t, 21, TC_I32, 16);
    for (int i = 0; i < 16; i++)
        tc_i32(&t, i);
    tc_field_i16(&t, 40, -2);
    tc_field_struct(&t, 41);
    tc_field_i32(&t, 1, 7);
    tc_struct_end(&t);
    tc_field_i32(&t, 42, 0);
    tc_field_list(&t, 43, TC_BINARY, 2);
    tc_binary(&t, "x", 1);
    tc_binary(&t, "", 0);
    tc_struct_end(&t);
    const uint8_t want[] = {
        0x15, 0x01,                   /* 1: i32 -1 -> zigzag 1 */
        0x16, 0xAC, 0x02,             /* 2: i64 150 -> zigzag 300 */
        0x38, 0x02, 'a', 'b',         /* 5: delta 3, binary */
        0xF1,                         /* 20: delta 15, bool true in the type nibble */
        0x19, 0xF5, 0x10,             /* 21: list of 16 i32: long size form */
        0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30,
        0x04, 0x50, 0x03,             /* 40: delta 19 > 15: type byte, zigzag id, i16 -2 */
        0x1C, 0x15, 0x0E, 0x00,       /* 41: struct { 1: i32 7 } */
        0x15, 0x00,                   /* 42: delta from 41, i32 0 */
        0x19, 0x28, 0x01, 'x', 0x00,  /* 43: list of 2 binaries */
        0x00,                         /* stop */
    };
    expect_bytes(&b, want, sizeof want);
    tp_bytebuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bit_packed_spec_example),
        cmocka_unit_test(test_rle_run),
        cmocka_unit_test(test_literals_borrow_from_run),
        cmocka_unit_test(test_run_then_padded_tail),
        cmocka_unit_test(test_wide_values),
        cmocka_unit_test(test_bit_width),
        cmocka_unit_test(test_thrift_compact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
