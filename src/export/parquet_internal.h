/* teleop — the Parquet writer's internal types and parts, shared by
 * parquet.c (life cycle, row buffering, pages), parquet_stats.c (column
 * chunk statistics), parquet_dictionary.c (dictionary encoding decision)
 * and parquet_footer.c (FileMetaData). Not a public interface.
 */
#ifndef TELEOP_EXPORT_PARQUET_INTERNAL_H
#define TELEOP_EXPORT_PARQUET_INTERNAL_H

#include "bytebuf.h"
#include "teleop/parquet.h"

/* parquet.thrift enums */
enum { PQ_BOOLEAN = 0, PQ_INT64 = 2, PQ_FLOAT = 4, PQ_DOUBLE = 5, PQ_BYTE_ARRAY = 6 };
enum { PQ_REQUIRED = 0, PQ_OPTIONAL = 1, PQ_REPEATED = 2 };
enum { PQ_CONVERTED_UTF8 = 0, PQ_CONVERTED_LIST = 3 };
enum { PQ_ENC_PLAIN = 0, PQ_ENC_RLE = 3, PQ_ENC_RLE_DICTIONARY = 8 };
enum { PQ_CODEC_UNCOMPRESSED = 0, PQ_CODEC_SNAPPY = 1 };
enum { PQ_PAGE_DATA = 0, PQ_PAGE_DICTIONARY = 2 };

typedef struct pq_chunk_meta {
    bool dictionary;
    int64_t num_values, total_uncompressed, total_compressed;
    int64_t data_page_offset, dictionary_page_offset;
    int32_t data_pages;
    int64_t null_count, nan_count;
    bool has_minmax;
    uint8_t *min, *max;
    size_t min_len, max_len;
} pq_chunk_meta;

typedef struct pq_row_group {
    pq_chunk_meta *chunks;
    int64_t num_rows, total_byte_size, total_compressed_size, file_offset;
} pq_row_group;

typedef struct pq_column {
    tp_pq_column desc; /* name owned */
    int max_def, max_rep;
    size_t value_size; /* bytes per non-string value */
    tp_bytebuf def, rep; /* one byte per leaf slot, when max_def/max_rep > 0 */
    tp_bytebuf values;   /* non-null values; STRING: bytes, lengths in str_len */
    tp_bytebuf str_len;  /* uint32_t per STRING value */
    size_t nvalues, nlevels;
} pq_column;

/* What the footer describes; pointers borrowed from the writer. */
typedef struct pq_file_desc {
    const pq_column *cols;
    size_t ncols;
    const pq_row_group *groups;
    size_t ngroups;
    uint64_t rows;
    char *const *kv_keys;
    char *const *kv_values;
    size_t nkv;
    const char *arrow_schema; /* base64, or NULL to leave the key out */
    const char *created_by;
    bool snappy;
} pq_file_desc;

/* null_count, nan_count and min/max (malloc'd into m) of the buffered chunk. */
void pq_compute_stats(const pq_column *col, pq_chunk_meta *m);

/* The dictionary of an INT64 or STRING chunk: fills (*indices)[i] for every
 * value (growing *indices, capacity in *indices_cap) and `dict` with its
 * PLAIN encoding; returns the number of entries, or 0 when a dictionary
 * does not pay (PLAIN size over limit_bytes, or not smaller than PLAIN). */
size_t pq_build_dictionary(const pq_column *col, size_t limit_bytes, uint32_t **indices, size_t *indices_cap,
                           tp_bytebuf *dict);

/* Appends FileMetaData, its length and "PAR1"; false when out of memory. */
bool pq_encode_footer(tp_bytebuf *out, const pq_file_desc *f);

#endif
