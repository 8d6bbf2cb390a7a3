/* teleop — Parquet's RLE / bit-packing hybrid encoding (definition and
 * repetition levels, dictionary indices), and its bit width rule.
 *
 * Appends to a caller-owned buffer, without the 4-byte length prefix that
 * data pages V1 put before levels (the caller writes it). Values must be
 * below 2^bit_width; bit_width is 1..32.
 */
#ifndef TELEOP_EXPORT_RLE_H
#define TELEOP_EXPORT_RLE_H

#include "bytebuf.h"

void tp_rle_encode_u8(tp_bytebuf *out, const uint8_t *values, size_t n, int bit_width);
void tp_rle_encode_u32(tp_bytebuf *out, const uint32_t *values, size_t n, int bit_width);

/* Bits needed for values 0..max_value, at least 1. */
int tp_rle_bit_width(uint32_t max_value);

#endif
