/* Writes a large LeRobot-like parquet file slowly enough to be killed
 * mid-way (tests/export/node/crash.mjs sends SIGKILL at random moments).
 *
 *   pq-crash-child PATH ROWS
 *
 * Row i holds index = i, episode_index = i / 1000, timestamp = (i % 1000)
 * / 30 as float, and observation.state[j] = (i * 28 + j) * 0.25 (exact in
 * float32), so a reader can check every value without other input.
 */
#include "teleop/parquet.h"

#include <stdio.h>
#include <stdlib.h>

#define DIM 28
#define BATCH 1000

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PATH ROWS\n", argv[0]);
        return 2;
    }
    size_t rows = strtoull(argv[2], NULL, 10);
    const tp_pq_column cols[] = {
        {"timestamp", TP_PQ_FLOAT, TP_PQ_SCALAR, 0, true},
        {"index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
        {"episode_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
        {"observation.state", TP_PQ_FLOAT, TP_PQ_FIXED_LIST, DIM, true},
    };
    tp_pq_options opt = tp_pq_default_options();
    opt.row_group_rows = 10000;
    char err[512];
    tp_pq_writer *w = tp_pq_writer_open(argv[1], cols, 4, &opt, err, sizeof err);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    static float ts[BATCH], state[BATCH * DIM];
    static int64_t index[BATCH], episode[BATCH];
    for (size_t r0 = 0; r0 < rows; r0 += BATCH) {
        size_t n = rows - r0 < BATCH ? rows - r0 : BATCH;
        for (size_t k = 0; k < n; k++) {
            size_t i = r0 + k;
            ts[k] = (float)(i % 1000) / 30.0f;
            index[k] = (int64_t)i;
            episode[k] = (int64_t)(i / 1000);
            for (size_t j = 0; j < DIM; j++)
                state[k * DIM + j] = (float)(i * DIM + j) * 0.25f;
        }
        tp_pq_column_data d[4] = {{.values = ts}, {.values = index}, {.values = episode}, {.values = state}};
        if (tp_pq_write_batch(w, d, n, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            tp_pq_writer_abort(w);
            return 1;
        }
    }
    if (tp_pq_writer_close(w, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    return 0;
}
