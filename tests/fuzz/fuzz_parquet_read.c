/* libFuzzer target: the parquet reader (footer, schema, every column's
 * pages) on arbitrary bytes must return data or a message, never crash,
 * leak or read out of bounds. scripts/fuzz.sh parquet runs it; the
 * corpus (tests/fuzz/corpus-parquet) is replayed in the export suite. */
#include <stddef.h>
#include <stdint.h>

#include "teleop/parquet_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    tp_pqr_reader *r = tp_pqr_open_memory(data, size, "fuzz.parquet", err, sizeof err);
    if (!r)
        return 0;
    for (size_t c = 0; c < tp_pqr_num_columns(r); c++) {
        tp_pqr_column_values v;
        if (tp_pqr_read_column(r, c, &v, err, sizeof err) != 0)
            continue;
        /* touch what the API promises is there */
        volatile double sink = 0;
        for (int64_t i = 0; i < v.nvalues && v.type != TP_PQR_BYTE_ARRAY; i++)
            sink += tp_pqr_value_f64(&v, i);
        if (v.type == TP_PQR_BYTE_ARRAY && v.str_off[v.nvalues] > 0)
            sink += v.str_data[v.str_off[v.nvalues] - 1];
        if (v.list_off)
            sink += (double)v.list_off[v.nrows];
        (void)sink;
        tp_pqr_values_free(&v);
    }
    tp_pqr_close(r);
    return 0;
}
