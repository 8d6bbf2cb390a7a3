/* Benchmark: the Parquet writer on a LeRobot-like data table.
 *
 * 100k rows (default) of timestamp float32, frame_index / episode_index /
 * index / task_index int64 and observation.state / action
 * fixed_size_list<float32>[28], snappy, one row group per 600-frame episode
 * (as LeRobot v3 writes one per episode). Timed from open to close (footer,
 * fsync, rename, folder fsync), median of REPEATS runs, against the
 * machine's floor measured in the same run on the same bytes: memcpy into
 * a buffer plus write + fsync + rename of a file of that size, and that
 * floor plus snappy-compressing the bytes.
 *
 * Usage: teleop-bench-parquet [ROWS] [OUT_DIR] [REPEATS] */
#include "teleop/parquet.h"

#include <fcntl.h>
#include <math.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DIM 28
#define EPISODE 600

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct table {
    size_t rows;
    float *ts, *state, *action;
    int64_t *frame, *episode, *index, *task;
} table;

static const tp_pq_column columns[] = {
    {"observation.state", TP_PQ_FLOAT, TP_PQ_FIXED_LIST, DIM, true},
    {"action", TP_PQ_FLOAT, TP_PQ_FIXED_LIST, DIM, true},
    {"timestamp", TP_PQ_FLOAT, TP_PQ_SCALAR, 0, true},
    {"frame_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
    {"episode_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
    {"index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
    {"task_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
};

static double write_parquet(const table *t, const char *path, off_t *size)
{
    char err[512];
    double t0 = now_s();
    tp_pq_writer *w = tp_pq_writer_open(path, columns, 7, NULL, err, sizeof err);
    if (!w) {
        fprintf(stderr, "bench: %s\n", err);
        exit(1);
    }
    for (size_t r0 = 0; r0 < t->rows; r0 += EPISODE) {
        size_t n = t->rows - r0 < EPISODE ? t->rows - r0 : EPISODE;
        tp_pq_column_data d[7] = {
            {.values = t->state + r0 * DIM}, {.values = t->action + r0 * DIM}, {.values = t->ts + r0},
            {.values = t->frame + r0},       {.values = t->episode + r0},      {.values = t->index + r0},
            {.values = t->task + r0},
        };
        if (tp_pq_write_batch(w, d, n, err, sizeof err) || tp_pq_writer_flush_row_group(w, err, sizeof err)) {
            fprintf(stderr, "bench: %s\n", err);
            tp_pq_writer_abort(w);
            exit(1);
        }
    }
    if (tp_pq_writer_close(w, err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", err);
        exit(1);
    }
    double dt = now_s() - t0;
    struct stat st;
    *size = stat(path, &st) == 0 ? st.st_size : 0;
    return dt;
}

/* The floor: gather the columns into one buffer (what buffering costs at
 * least), optionally snappy them, then write + fsync + rename + folder fsync. */
static double write_floor(const table *t, const char *dir, const char *path, bool snappy, uint8_t *buf,
                          uint8_t *comp)
{
    double t0 = now_s();
    size_t n = t->rows, off = 0;
    memcpy(buf + off, t->state, n * DIM * 4), off += n * DIM * 4;
    memcpy(buf + off, t->action, n * DIM * 4), off += n * DIM * 4;
    memcpy(buf + off, t->ts, n * 4), off += n * 4;
    memcpy(buf + off, t->frame, n * 8), off += n * 8;
    memcpy(buf + off, t->episode, n * 8), off += n * 8;
    memcpy(buf + off, t->index, n * 8), off += n * 8;
    memcpy(buf + off, t->task, n * 8), off += n * 8;
    const uint8_t *out = buf;
    size_t out_len = off;
    if (snappy) {
        size_t c = 0;
        for (size_t at = 0; at < off; at += 1u << 20) {
            size_t len = off - at < (1u << 20) ? off - at : (1u << 20);
            size_t cl = snappy_max_compressed_length(len);
            snappy_compress((const char *)buf + at, len, (char *)comp + c, &cl);
            c += cl;
        }
        out = comp;
        out_len = c;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        perror(tmp);
        exit(1);
    }
    for (size_t at = 0; at < out_len;) {
        ssize_t k = write(fd, out + at, out_len - at);
        if (k <= 0) {
            perror(tmp);
            exit(1);
        }
        at += (size_t)k;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        perror(path);
        exit(1);
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    table t = {.rows = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000};
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    int reps = argc > 3 ? atoi(argv[3]) : 7;
    if (t.rows == 0 || reps < 1 || reps > 100) {
        fprintf(stderr, "usage: %s [ROWS] [OUT_DIR] [REPEATS 1-100]\n", argv[0]);
        return 2;
    }
    size_t n = t.rows;
    t.ts = malloc(n * 4);
    t.state = malloc(n * DIM * 4);
    t.action = malloc(n * DIM * 4);
    t.frame = malloc(n * 8);
    t.episode = malloc(n * 8);
    t.index = malloc(n * 8);
    t.task = malloc(n * 8);
    size_t bytes = n * (4 + 4 * 8 + 2 * DIM * 4);
    uint8_t *buf = malloc(bytes), *comp = malloc(snappy_max_compressed_length(bytes) + bytes / 16 + 4096);
    if (!t.ts || !t.state || !t.action || !t.frame || !t.episode || !t.index || !t.task || !buf || !comp) {
        fprintf(stderr, "bench: out of memory\n");
        return 1;
    }
    uint32_t noise = 12345;
    for (size_t i = 0; i < n; i++) {
        size_t f = i % EPISODE;
        t.ts[i] = (float)f / 30.0f;
        t.frame[i] = (int64_t)f;
        t.episode[i] = (int64_t)(i / EPISODE);
        t.index[i] = (int64_t)i;
        t.task[i] = (int64_t)(i / EPISODE % 3);
        for (size_t j = 0; j < DIM; j++) {
            noise = noise * 1664525u + 1013904223u;
            float q = 0.8f * sinf((float)f * 0.02f + (float)j);
            t.state[i * DIM + j] = q + (float)(noise >> 20) * 1e-7f;
            t.action[i * DIM + j] = q + 0.01f * cosf((float)f * 0.05f);
        }
    }
    char path[4096], floor_path[4096];
    snprintf(path, sizeof path, "%s/teleop-bench-parquet-%d.parquet", dir, (int)getpid());
    snprintf(floor_path, sizeof floor_path, "%s/teleop-bench-parquet-floor-%d.bin", dir, (int)getpid());
    double *tp = calloc((size_t)reps, sizeof *tp), *tf = calloc((size_t)reps, sizeof *tf),
           *ts = calloc((size_t)reps, sizeof *ts);
    off_t size = 0;
    for (int r = 0; r < reps; r++) { /* interleaved so load changes hit all three alike */
        tp[r] = write_parquet(&t, path, &size);
        tf[r] = write_floor(&t, dir, floor_path, false, buf, comp);
        ts[r] = write_floor(&t, dir, floor_path, true, buf, comp);
    }
    double p = median(tp, reps), f = median(tf, reps), s = median(ts, reps);
    double mb = (double)bytes / 1e6;
    printf("parquet writer: %zu rows (timestamp f32, 4 x int64, 2 x fixed_size_list<float32>[%d]), snappy, "
           "one row group per %d-frame episode\n",
           n, DIM, EPISODE);
    printf("  input %.1f MB, file %.1f MB, median of %d runs in %s\n", mb, (double)size / 1e6, reps, dir);
    printf("  parquet (open..close incl. fsync+rename): %7.1f ms  %7.1f MB/s  %6.2f M rows/s\n", p * 1e3, mb / p,
           (double)n / p / 1e6);
    printf("  floor: memcpy + write + fsync + rename:  %7.1f ms  %7.1f MB/s  %6.2f M rows/s\n", f * 1e3, mb / f,
           (double)n / f / 1e6);
    printf("  floor + snappy of the same bytes:        %7.1f ms  %7.1f MB/s  %6.2f M rows/s\n", s * 1e3, mb / s,
           (double)n / s / 1e6);
    printf("  ratio parquet/floor time: %.2f (parquet/floor+snappy: %.2f)\n", p / f, p / s);
    unlink(path);
    unlink(floor_path);
    free(tp), free(tf), free(ts);
    free(t.ts), free(t.state), free(t.action), free(t.frame), free(t.episode), free(t.index), free(t.task);
    free(buf), free(comp);
    return 0;
}
