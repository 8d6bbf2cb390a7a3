/* teleop — a small Parquet file reader, for validating datasets (LeRobot
 * v2.1/v3.0 parquet written by pyarrow, `datasets` or teleop's own writer).
 *
 * Reads the whole file into memory, checks the PAR1 magic and the footer,
 * decodes FileMetaData (Thrift compact protocol, bounds-checked, bounded
 * nesting and list sizes: safe on hostile input), and decodes columns: data
 * pages V1 and V2, dictionary pages, PLAIN and RLE_DICTIONARY /
 * PLAIN_DICTIONARY encodings (RLE for BOOLEAN), levels in the RLE /
 * bit-packing hybrid, snappy, gzip, zstd or uncompressed pages; physical types
 * BOOLEAN, INT32, INT64, FLOAT, DOUBLE, BYTE_ARRAY; scalar columns and
 * 3-level LIST columns of those (fixed-size or variable). Anything else
 * (other codecs, INT96, structs, maps, lists of lists, DELTA encodings) is
 * refused with a one-line message naming the file and column.
 * docs/parquet.md ("Reading") lists what is supported.
 *
 * Memory: tp_pqr_open returns a reader owned by the caller
 * (tp_pqr_close frees it, with every string it handed out: column names,
 * key/value metadata). tp_pqr_read_column fills a caller-owned
 * tp_pqr_column_values whose arrays are freed by tp_pqr_values_free.
 */
#ifndef TELEOP_PARQUET_READ_H
#define TELEOP_PARQUET_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum tp_pqr_physical {
    TP_PQR_BOOLEAN = 0,
    TP_PQR_INT32 = 1,
    TP_PQR_INT64 = 2,
    TP_PQR_INT96 = 3,
    TP_PQR_FLOAT = 4,
    TP_PQR_DOUBLE = 5,
    TP_PQR_BYTE_ARRAY = 6,
    TP_PQR_FIXED_LEN_BYTE_ARRAY = 7,
} tp_pqr_physical;

typedef struct tp_pqr_column_info {
    const char *name;      /* top-level field name, e.g. "observation.state" */
    const char *path;      /* leaf path joined with '.', e.g. "observation.state.list.element" */
    tp_pqr_physical type;  /* of the leaf (list element for lists) */
    bool is_string;        /* BYTE_ARRAY annotated STRING/UTF8 */
    bool is_list;          /* a 3-level LIST column */
    bool nullable;         /* top-level field OPTIONAL */
    int max_def, max_rep;
    bool supported;        /* false: reading it fails with `unsupported` as the reason */
    const char *unsupported;
} tp_pqr_column_info;

typedef struct tp_pqr_reader tp_pqr_reader;

/* NULL with a one-line message in err on error: missing file, no PAR1
 * magic (e.g. footer-less file: "no parquet footer"), bad footer. */
tp_pqr_reader *tp_pqr_open(const char *path, char *err, size_t errlen);
/* Same on a caller buffer (copied). name is used in messages. */
tp_pqr_reader *tp_pqr_open_memory(const void *data, size_t size, const char *name, char *err, size_t errlen);
void tp_pqr_close(tp_pqr_reader *r);

int64_t tp_pqr_num_rows(const tp_pqr_reader *r);
int tp_pqr_num_row_groups(const tp_pqr_reader *r);
size_t tp_pqr_num_columns(const tp_pqr_reader *r);
const tp_pqr_column_info *tp_pqr_column(const tp_pqr_reader *r, size_t i);
/* Index of the column whose top-level name is name, or -1. */
int tp_pqr_find_column(const tp_pqr_reader *r, const char *name);
/* Footer key/value metadata; NULL when absent. */
const char *tp_pqr_kv(const tp_pqr_reader *r, const char *key);
const char *tp_pqr_created_by(const tp_pqr_reader *r);

/* One column, all row groups. Values are the leaf values that are present
 * (nulls take no slot), in order, as their physical type: int32_t[],
 * int64_t[], float[], double[], uint8_t[] (BOOLEAN), or for BYTE_ARRAY
 * str_off[nvalues+1] into str_data. For every row, row_valid[r] (0: null
 * row). Lists: row r holds elements list_off[r] .. list_off[r+1]-1 (of
 * nelems; elem_valid[e] 0 for a null element), and value slots are only
 * the present elements: elem_value[e] is the value index of element e or
 * -1. Scalars: list_off is NULL and row_value[r] is the value index of
 * row r or -1. */
typedef struct tp_pqr_column_values {
    tp_pqr_physical type;
    int64_t nrows, nvalues, nelems;
    void *values;
    uint64_t *str_off;
    uint8_t *str_data;
    uint8_t *row_valid;
    int64_t *row_value; /* scalars */
    int64_t *list_off;  /* lists: nrows+1 */
    uint8_t *elem_valid;
    int64_t *elem_value;
} tp_pqr_column_values;

int tp_pqr_read_column(tp_pqr_reader *r, size_t column, tp_pqr_column_values *out, char *err, size_t errlen);
void tp_pqr_values_free(tp_pqr_column_values *v);

/* Value index i as a double (INT32/INT64/FLOAT/DOUBLE/BOOLEAN). */
double tp_pqr_value_f64(const tp_pqr_column_values *v, int64_t i);
/* Value index i as an int64 (INT32/INT64/BOOLEAN; floats truncated). */
int64_t tp_pqr_value_i64(const tp_pqr_column_values *v, int64_t i);

#endif
