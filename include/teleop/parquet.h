/* teleop — a small Parquet file writer for dataset export (LeRobot).
 *
 * Debian 12 packages no C Parquet library, so teleop writes the format
 * itself: PAR1 files with a Thrift-compact footer, data pages V1, PLAIN and
 * dictionary (RLE_DICTIONARY) encodings, snappy or no compression, column
 * statistics, key/value metadata and the ARROW:schema entry pyarrow writes,
 * so pyarrow and Hugging Face `datasets` read fixed_size_list<float>[N]
 * columns with their exact type. docs/parquet.md describes what is
 * supported and how files are verified.
 *
 * Crash safety: the file is written under PATH.tmp-XXXXXX in the same
 * folder and renamed onto PATH by tp_pq_writer_close after fsync (and the
 * folder is fsynced), so PATH is either the previous file, absent, or the
 * complete new file. tp_pq_writer_abort removes the temporary file.
 *
 * Memory: the writer copies the schema (names included) and every value
 * passed to tp_pq_write_batch, tp_pq_writer_set_kv; the caller keeps
 * ownership of its arrays and strings. The writer handle is owned by the
 * caller until tp_pq_writer_close or tp_pq_writer_abort, which free it.
 * One writer is used by one thread at a time. Output is deterministic: the
 * same schema, options, metadata and values give byte-identical files.
 */
#ifndef TELEOP_PARQUET_H
#define TELEOP_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum tp_pq_type {
    TP_PQ_INT64 = 0, /* int64_t            -> INT64 */
    TP_PQ_FLOAT,     /* float              -> FLOAT */
    TP_PQ_DOUBLE,    /* double             -> DOUBLE */
    TP_PQ_BOOL,      /* uint8_t, 0 or 1    -> BOOLEAN */
    TP_PQ_STRING,    /* UTF-8 byte strings -> BYTE_ARRAY, STRING logical type */
} tp_pq_type;

typedef enum tp_pq_shape {
    TP_PQ_SCALAR = 0,  /* one value per row */
    TP_PQ_FIXED_LIST,  /* list_size values per row: Arrow fixed_size_list */
    TP_PQ_LIST,        /* any number of values per row: Arrow list */
} tp_pq_shape;

typedef struct tp_pq_column {
    const char *name;
    tp_pq_type type;   /* the element type for lists */
    tp_pq_shape shape;
    int32_t list_size; /* TP_PQ_FIXED_LIST only, >= 1 */
    bool nullable;     /* rows may be null (Arrow fields are nullable by default) */
} tp_pq_column;

typedef enum tp_pq_codec {
    TP_PQ_SNAPPY = 0,
    TP_PQ_UNCOMPRESSED,
} tp_pq_codec;

typedef struct tp_pq_options {
    tp_pq_codec codec;
    bool use_dictionary;      /* dictionary for STRING and INT64 columns where it is smaller */
    size_t row_group_rows;    /* rows per row group; 0 = 65536 */
    size_t page_bytes;        /* target encoded bytes per data page; 0 = 1 MiB */
    size_t dictionary_bytes;  /* largest dictionary (PLAIN bytes) before PLAIN fallback; 0 = 1 MiB */
    const char *created_by;   /* NULL = "teleop version <version>" */
    bool arrow_schema;        /* write the ARROW:schema key (pyarrow's exact types) */
} tp_pq_options;

/* snappy, dictionary, ARROW:schema, default sizes. */
tp_pq_options tp_pq_default_options(void);

/* Values of one column for a batch of rows. Arrays are read during the call
 * only. For SCALAR columns values holds one slot per row, for FIXED_LIST
 * list_size slots per row (slots of null rows are present and ignored); for
 * LIST columns the elements of all non-null rows, concatenated, with
 * list_len[r] elements for row r (null rows consume none).
 * values is int64_t[], float[], double[], uint8_t[] (BOOL) or
 * const char *[] (STRING; str_len[i] bytes each, or NUL-terminated when
 * str_len is NULL). valid: NULL = every row present, else valid[r] == 0
 * marks row r null (nullable columns only). */
typedef struct tp_pq_column_data {
    const void *values;
    const uint32_t *str_len;
    const uint32_t *list_len;
    const uint8_t *valid;
} tp_pq_column_data;

typedef struct tp_pq_writer tp_pq_writer;

/* Creates PATH.tmp-XXXXXX. NULL on error (message in err, naming the file
 * or column). */
tp_pq_writer *tp_pq_writer_open(const char *path, const tp_pq_column *columns, size_t ncolumns,
                                const tp_pq_options *options, char *err, size_t errlen);

/* Appends nrows rows; cols has one entry per schema column, in order.
 * Row groups are written as they fill. 0, or -1 with err set: the writer
 * then refuses everything but tp_pq_writer_abort (close fails and aborts). */
int tp_pq_write_batch(tp_pq_writer *w, const tp_pq_column_data *cols, size_t nrows,
                      char *err, size_t errlen);

/* Ends the current row group early (e.g. one row group per episode). */
int tp_pq_writer_flush_row_group(tp_pq_writer *w, char *err, size_t errlen);

/* Adds (or replaces) a footer key/value pair, e.g. "huggingface". Also put
 * in the ARROW:schema metadata, as pyarrow does. */
int tp_pq_writer_set_kv(tp_pq_writer *w, const char *key, const char *value, char *err, size_t errlen);

/* Writes the last row group and the footer, fsyncs, renames onto PATH,
 * fsyncs the folder and frees w. 0, or -1 with err set and w freed: PATH
 * is untouched and the temporary file removed, except when only the final
 * folder fsync failed (the complete file is at PATH, its rename possibly
 * not yet durable). */
int tp_pq_writer_close(tp_pq_writer *w, char *err, size_t errlen);

/* Discards everything written (removes the temporary file) and frees w. */
void tp_pq_writer_abort(tp_pq_writer *w);

uint64_t tp_pq_writer_rows(const tp_pq_writer *w);

#endif
