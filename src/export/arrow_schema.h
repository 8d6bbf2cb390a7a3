/* teleop — the ARROW:schema footer entry pyarrow writes into Parquet files.
 *
 * It is the base64 of an Arrow IPC encapsulated message (0xFFFFFFFF, int32
 * length, a Message flatbuffer whose header is a Schema, padded to 8
 * bytes). Readers that find it (pyarrow, Hugging Face datasets) restore the
 * exact Arrow types, e.g. fixed_size_list<float>[N] instead of list<float>.
 * The flatbuffer is built here by hand from Arrow's format/Schema.fbs and
 * format/Message.fbs; only the types the Parquet writer supports are
 * encoded. The returned string is malloc'd and owned by the caller.
 */
#ifndef TELEOP_EXPORT_ARROW_SCHEMA_H
#define TELEOP_EXPORT_ARROW_SCHEMA_H

#include "teleop/parquet.h"

/* NULL when out of memory. */
char *tp_arrow_schema_base64(const tp_pq_column *columns, size_t ncolumns, const char *const *keys,
                             const char *const *values, size_t nkv);

#endif
