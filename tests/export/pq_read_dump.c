/* Prints a parquet file as read by teleop's reader (tp_pqr_*) in the JSON
 * form of pq-write-cases' expected.json table: {"rows": N, "columns":
 * {name: [values]}}, int64 as strings, floats as %.9g (float) or %.17g
 * (double) with "NaN", "Infinity", "-Infinity" and "-0", null for null rows
 * and elements. tests/export/node/check_reader.mjs compares it with the
 * written values and with hyparquet.
 *
 *   pq-read-dump FILE.parquet */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/parquet_read.h"

static void json_string(const uint8_t *s, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            printf("\\%c", s[i]);
        else if (s[i] < 0x20)
            printf("\\u%04x", s[i]);
        else
            putchar(s[i]);
    }
    putchar('"');
}

static void json_value(const tp_pqr_column_values *v, int64_t i)
{
    if (i < 0) {
        fputs("null", stdout);
        return;
    }
    switch (v->type) {
    case TP_PQR_INT32:
        printf("\"%d\"", ((const int32_t *)v->values)[i]);
        break;
    case TP_PQR_INT64:
        printf("\"%lld\"", (long long)((const int64_t *)v->values)[i]);
        break;
    case TP_PQR_BOOLEAN:
        fputs(((const uint8_t *)v->values)[i] ? "true" : "false", stdout);
        break;
    case TP_PQR_BYTE_ARRAY:
        json_string(v->str_data + v->str_off[i], (size_t)(v->str_off[i + 1] - v->str_off[i]));
        break;
    case TP_PQR_FLOAT:
    case TP_PQR_DOUBLE: {
        double d = tp_pqr_value_f64(v, i);
        if (isnan(d))
            fputs("\"NaN\"", stdout);
        else if (isinf(d))
            fputs(d > 0 ? "\"Infinity\"" : "\"-Infinity\"", stdout);
        else if (d == 0 && signbit(d))
            fputs("\"-0\"", stdout);
        else
            printf(v->type == TP_PQR_FLOAT ? "%.9g" : "%.17g", d);
        break;
    }
    default:
        fputs("null", stdout);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pq-read-dump FILE.parquet\n");
        return 2;
    }
    char err[512];
    tp_pqr_reader *r = tp_pqr_open(argv[1], err, sizeof err);
    if (!r) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("{\"rows\": %lld, \"row_groups\": %d, \"columns\": {", (long long)tp_pqr_num_rows(r),
           tp_pqr_num_row_groups(r));
    int rc = 0;
    for (size_t c = 0; c < tp_pqr_num_columns(r); c++) {
        const tp_pqr_column_info *ci = tp_pqr_column(r, c);
        tp_pqr_column_values v;
        if (tp_pqr_read_column(r, c, &v, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            rc = 1;
            break;
        }
        printf("%s\n", c ? "," : "");
        json_string((const uint8_t *)ci->name, strlen(ci->name));
        fputs(": [", stdout);
        for (int64_t row = 0; row < v.nrows; row++) {
            if (row)
                putchar(',');
            if (!v.row_valid[row]) {
                fputs("null", stdout);
                continue;
            }
            if (!ci->is_list) {
                json_value(&v, v.row_value[row]);
                continue;
            }
            putchar('[');
            for (int64_t e = v.list_off[row]; e < v.list_off[row + 1]; e++) {
                if (e > v.list_off[row])
                    putchar(',');
                json_value(&v, v.elem_value[e]);
            }
            putchar(']');
        }
        putchar(']');
        tp_pqr_values_free(&v);
    }
    puts("}}");
    tp_pqr_close(r);
    return rc;
}
