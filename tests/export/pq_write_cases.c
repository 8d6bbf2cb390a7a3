/* Writes the parquet files the independent readers (tests/export/node)
 * check, and OUTDIR/expected.json with every value written and each
 * file's options, so the readers compare every value and derive the
 * statistics themselves.
 *
 *   pq-write-cases OUTDIR
 *
 * Also checks in C what needs no reader: byte-identical output for the
 * same input, the one-line errors (naming the file and column), and that
 * abort and failed opens leave nothing at PATH.
 */
#include "teleop/parquet.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ROWS 12000
#define STATE_DIM 28

static int failures;
#define CHECK(cond, ...)                                                                                         \
    do {                                                                                                         \
        if (!(cond)) {                                                                                           \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                 \
            fprintf(stderr, __VA_ARGS__);                                                                        \
            fputc('\n', stderr);                                                                                 \
            failures++;                                                                                          \
        }                                                                                                        \
    } while (0)

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

enum {
    C_TIMESTAMP,
    C_FRAME_INDEX,
    C_EPISODE_INDEX,
    C_REQ_I64,
    C_F64,
    C_F32,
    C_FLAG,
    C_TASK,
    C_NOTE,
    C_STATE,
    C_ACTION,
    C_TASKS,
    C_STATS_MIN,
    C_COUNTS,
    C_BUCKET,
    NCOLS
};

static const tp_pq_column columns[NCOLS] = {
    [C_TIMESTAMP] = {"timestamp", TP_PQ_FLOAT, TP_PQ_SCALAR, 0, true},
    [C_FRAME_INDEX] = {"frame_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
    [C_EPISODE_INDEX] = {"episode_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
    [C_REQ_I64] = {"big_required", TP_PQ_INT64, TP_PQ_SCALAR, 0, false},
    [C_F64] = {"f64", TP_PQ_DOUBLE, TP_PQ_SCALAR, 0, true},
    [C_F32] = {"f32_special", TP_PQ_FLOAT, TP_PQ_SCALAR, 0, true},
    [C_FLAG] = {"flag", TP_PQ_BOOL, TP_PQ_SCALAR, 0, true},
    [C_TASK] = {"task", TP_PQ_STRING, TP_PQ_SCALAR, 0, true},
    [C_NOTE] = {"note", TP_PQ_STRING, TP_PQ_SCALAR, 0, false},
    [C_STATE] = {"observation.state", TP_PQ_FLOAT, TP_PQ_FIXED_LIST, STATE_DIM, true},
    [C_ACTION] = {"action", TP_PQ_FLOAT, TP_PQ_FIXED_LIST, STATE_DIM, true},
    [C_TASKS] = {"tasks", TP_PQ_STRING, TP_PQ_LIST, 0, true},
    [C_STATS_MIN] = {"stats/action/min", TP_PQ_DOUBLE, TP_PQ_LIST, 0, true},
    [C_COUNTS] = {"stats/action/count", TP_PQ_INT64, TP_PQ_LIST, 0, false},
    /* 1000 distinct values: 10-bit dictionary indices, two-byte RLE run values */
    [C_BUCKET] = {"bucket", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
};

static const char *const task_names[] = {
    "Grab the cube", "把杯子放到托盘上", "", "place the red block in the bowl", "折叠毛巾 and hang it",
};
#define NTASKS (sizeof task_names / sizeof task_names[0])

static char long_note[2001];

typedef struct table {
    size_t rows;
    float timestamp[ROWS];
    int64_t frame_index[ROWS], episode_index[ROWS], big[ROWS], bucket[ROWS];
    double f64[ROWS];
    float f32[ROWS];
    uint8_t flag[ROWS];
    const char *task[ROWS];
    char note_storage[ROWS][48];
    const char *note[ROWS];
    float state[ROWS * STATE_DIM], action[ROWS * STATE_DIM];
    /* variable lists: elements of non-null rows, concatenated */
    const char *tasks[ROWS * 3];
    uint32_t tasks_len[ROWS];
    double stats_min[ROWS * 4];
    uint32_t stats_min_len[ROWS];
    int64_t counts[ROWS * 2];
    uint32_t counts_len[ROWS];
    uint8_t valid[NCOLS][ROWS];
} table;

static const float f32_specials[] = {NAN, INFINITY, -INFINITY, -0.0f, 0.0f, 1e-45f, -3.4028235e38f, 3.4028235e38f};
static const double f64_specials[] = {NAN, INFINITY, -INFINITY, -0.0, 0.0, 5e-324, -1.7976931348623157e308};

static void fill(table *t, size_t rows)
{
    t->rows = rows;
    size_t ntasks = 0, nstats = 0, ncounts = 0;
    for (size_t r = 0; r < rows; r++) {
        int64_t ep = (int64_t)(r / 700);
        t->timestamp[r] = (float)(r % 700) / 30.0f;
        t->frame_index[r] = (int64_t)r;
        t->episode_index[r] = ep;
        t->big[r] = (int64_t)(rnd() >> 1) * ((r & 1) ? -1 : 1);
        if (r == 5)
            t->big[r] = INT64_MIN;
        if (r == 6)
            t->big[r] = INT64_MAX;
        t->f64[r] = r % 97 < (sizeof f64_specials / sizeof f64_specials[0])
                        ? f64_specials[r % 97]
                        : ((double)(int64_t)rnd() / 9.2e18) * 1e6;
        t->f32[r] = r % 89 < (sizeof f32_specials / sizeof f32_specials[0]) ? f32_specials[r % 89]
                                                                            : (float)((int)(rnd() % 20001) - 10000) / 7.0f;
        t->flag[r] = (uint8_t)(rnd() & 1);
        t->bucket[r] = r % 4096 < 1500 ? 777 : (int64_t)(r / 3 % 1000);
        t->task[r] = task_names[(r / 700 + r % 3) % NTASKS];
        snprintf(t->note_storage[r], sizeof t->note_storage[r], "note %zu: 数据 #%llu", r,
                 (unsigned long long)(rnd() % 1000000));
        t->note[r] = t->note_storage[r];
        if (r == 7)
            t->note[r] = long_note; /* the maximum, over 1024 bytes: no min/max statistics */
        for (int j = 0; j < STATE_DIM; j++) {
            t->state[r * STATE_DIM + (size_t)j] = sinf((float)r * 0.01f + (float)j) * (float)(j + 1);
            t->action[r * STATE_DIM + (size_t)j] = (float)((int)(rnd() % 2000001) - 1000000) * 1e-4f;
        }
        if (r == 11)
            t->state[r * STATE_DIM + 3] = -0.0f;
        if (r == 12)
            t->action[r * STATE_DIM + 4] = NAN;
        for (int c = 0; c < NCOLS; c++)
            t->valid[c][r] = 1;
        t->valid[C_F64][r] = r % 7 != 3;
        t->valid[C_FLAG][r] = r % 11 != 0;
        t->valid[C_TASK][r] = r % 13 != 1;
        t->valid[C_STATE][r] = r % 101 != 50;
        t->valid[C_TASKS][r] = r % 17 != 2;
        t->valid[C_STATS_MIN][r] = r % 19 != 4;
        t->tasks_len[r] = t->valid[C_TASKS][r] ? (uint32_t)(r % 4) : 0;
        for (uint32_t k = 0; k < t->tasks_len[r]; k++)
            t->tasks[ntasks++] = task_names[(r + k) % NTASKS];
        t->stats_min_len[r] = t->valid[C_STATS_MIN][r] ? (uint32_t)(r % 5) : 0;
        for (uint32_t k = 0; k < t->stats_min_len[r]; k++)
            t->stats_min[nstats++] = (k == 2 && r % 10 == 0) ? f64_specials[r / 10 % 7] : (double)r * 0.5 - k;
        t->counts_len[r] = (uint32_t)(r % 3);
        for (uint32_t k = 0; k < t->counts_len[r]; k++)
            t->counts[ncounts++] = (int64_t)(r / 50) * 1000 + k;
    }
}

static int write_file(const char *path, const table *t, const tp_pq_options *opt, size_t batch, bool with_kv)
{
    char err[512];
    tp_pq_writer *w = tp_pq_writer_open(path, columns, NCOLS, opt, err, sizeof err);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    if (with_kv &&
        (tp_pq_writer_set_kv(w, "huggingface", "{\"info\": {\"features\": {\"timestamp\": {\"dtype\": \"float32\"}}}}",
                             err, sizeof err) ||
         tp_pq_writer_set_kv(w, "teleop", "first", err, sizeof err) ||
         tp_pq_writer_set_kv(w, "teleop", "中文 value", err, sizeof err))) {
        fprintf(stderr, "%s\n", err);
        tp_pq_writer_abort(w);
        return -1;
    }
    size_t et = 0, es = 0, ec = 0;
    for (size_t r0 = 0; r0 < t->rows; r0 += batch) {
        size_t n = t->rows - r0 < batch ? t->rows - r0 : batch;
        tp_pq_column_data d[NCOLS] = {
            [C_TIMESTAMP] = {.values = t->timestamp + r0},
            [C_FRAME_INDEX] = {.values = t->frame_index + r0},
            [C_EPISODE_INDEX] = {.values = t->episode_index + r0},
            [C_REQ_I64] = {.values = t->big + r0},
            [C_F64] = {.values = t->f64 + r0, .valid = t->valid[C_F64] + r0},
            [C_F32] = {.values = t->f32 + r0},
            [C_FLAG] = {.values = t->flag + r0, .valid = t->valid[C_FLAG] + r0},
            [C_TASK] = {.values = t->task + r0, .valid = t->valid[C_TASK] + r0},
            [C_NOTE] = {.values = t->note + r0},
            [C_STATE] = {.values = t->state + r0 * STATE_DIM, .valid = t->valid[C_STATE] + r0},
            [C_ACTION] = {.values = t->action + r0 * STATE_DIM},
            [C_TASKS] = {.values = t->tasks + et, .list_len = t->tasks_len + r0, .valid = t->valid[C_TASKS] + r0},
            [C_STATS_MIN] = {.values = t->stats_min + es, .list_len = t->stats_min_len + r0,
                             .valid = t->valid[C_STATS_MIN] + r0},
            [C_COUNTS] = {.values = t->counts + ec, .list_len = t->counts_len + r0},
            [C_BUCKET] = {.values = t->bucket + r0},
        };
        for (size_t r = r0; r < r0 + n; r++) {
            et += t->tasks_len[r];
            es += t->stats_min_len[r];
            ec += t->counts_len[r];
        }
        if (tp_pq_write_batch(w, d, n, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            tp_pq_writer_abort(w);
            return -1;
        }
    }
    if (tp_pq_writer_close(w, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

/* ---- expected.json ---- */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void json_float(FILE *f, double v, bool single)
{
    if (isnan(v))
        fputs("\"NaN\"", f);
    else if (isinf(v))
        fputs(v > 0 ? "\"Infinity\"" : "\"-Infinity\"", f);
    else if (v == 0 && signbit(v))
        fputs("\"-0\"", f);
    else
        fprintf(f, single ? "%.9g" : "%.17g", v);
}

static void json_table(FILE *f, const table *t)
{
    fputs("{\"rows\": ", f);
    fprintf(f, "%zu, \"columns\": {", t->rows);
    size_t et = 0, es = 0, ec = 0;
    for (int c = 0; c < NCOLS; c++) {
        fprintf(f, "%s\n", c ? "," : "");
        json_string(f, columns[c].name);
        fputs(": [", f);
        for (size_t r = 0; r < t->rows; r++) {
            if (r)
                fputc(',', f);
            if (!t->valid[c][r] && c != C_TASKS && c != C_STATS_MIN) {
                fputs("null", f);
                continue;
            }
            switch (c) {
            case C_TIMESTAMP:
                json_float(f, t->timestamp[r], true);
                break;
            case C_FRAME_INDEX:
                fprintf(f, "\"%lld\"", (long long)t->frame_index[r]);
                break;
            case C_EPISODE_INDEX:
                fprintf(f, "\"%lld\"", (long long)t->episode_index[r]);
                break;
            case C_REQ_I64:
                fprintf(f, "\"%lld\"", (long long)t->big[r]);
                break;
            case C_BUCKET:
                fprintf(f, "\"%lld\"", (long long)t->bucket[r]);
                break;
            case C_F64:
                json_float(f, t->f64[r], false);
                break;
            case C_F32:
                json_float(f, t->f32[r], true);
                break;
            case C_FLAG:
                fputs(t->flag[r] ? "true" : "false", f);
                break;
            case C_TASK:
                json_string(f, t->task[r]);
                break;
            case C_NOTE:
                json_string(f, t->note[r]);
                break;
            case C_STATE:
            case C_ACTION: {
                const float *v = (c == C_STATE ? t->state : t->action) + r * STATE_DIM;
                fputc('[', f);
                for (int j = 0; j < STATE_DIM; j++) {
                    if (j)
                        fputc(',', f);
                    json_float(f, v[j], true);
                }
                fputc(']', f);
                break;
            }
            case C_TASKS:
                if (!t->valid[c][r]) {
                    fputs("null", f);
                    break;
                }
                fputc('[', f);
                for (uint32_t k = 0; k < t->tasks_len[r]; k++) {
                    if (k)
                        fputc(',', f);
                    json_string(f, t->tasks[et++]);
                }
                fputc(']', f);
                break;
            case C_STATS_MIN:
                if (!t->valid[c][r]) {
                    fputs("null", f);
                    break;
                }
                fputc('[', f);
                for (uint32_t k = 0; k < t->stats_min_len[r]; k++) {
                    if (k)
                        fputc(',', f);
                    json_float(f, t->stats_min[es++], false);
                }
                fputc(']', f);
                break;
            case C_COUNTS:
                fputc('[', f);
                for (uint32_t k = 0; k < t->counts_len[r]; k++)
                    fprintf(f, "%s\"%lld\"", k ? "," : "", (long long)t->counts[ec++]);
                fputc(']', f);
                break;
            }
        }
        fputc(']', f);
    }
    fputs("}}", f);
}

static const char *type_name(tp_pq_type t)
{
    static const char *const names[] = {"int64", "float", "double", "bool", "string"};
    return names[t];
}

static bool same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    bool same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb)
            same = false;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static size_t count_entries(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    if (d)
        closedir(d);
    return n;
}

static void check_errors(const char *dir)
{
    char path[1024], err[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/aborted.parquet", dir);
    tp_pq_options opt = tp_pq_default_options();
    tp_pq_writer *w = tp_pq_writer_open(path, columns, NCOLS, &opt, err, sizeof err);
    CHECK(w != NULL, "open: %s", err);
    if (w) {
        CHECK(count_entries(dir, "aborted.parquet.tmp-") == 1, "the temporary file exists while writing");
        /* a null in the required column: refused, naming file and column */
        int64_t v[2] = {1, 2};
        uint8_t valid[2] = {1, 0};
        tp_pq_column_data d[NCOLS] = {0};
        for (int c = 0; c < NCOLS; c++)
            d[c] = (tp_pq_column_data){.values = v, .valid = valid};
        int rc = tp_pq_write_batch(w, d, 2, err, sizeof err);
        CHECK(rc == -1, "null in a required column accepted");
        CHECK(strstr(err, path) && strstr(err, "column big_required row 1"), "error names file and column: %s",
              err);
        CHECK(!strchr(err, '\n'), "error is one line");
        CHECK(tp_pq_write_batch(w, d, 1, err, sizeof err) == -1 && strstr(err, "earlier write failed"),
              "a writer whose batch failed half-way accepts more rows: %s", err);
        CHECK(tp_pq_writer_close(w, err, sizeof err) == -1, "a failed writer closes into a file");
        w = NULL;
    }
    CHECK(stat(path, &st) != 0, "a failed close leaves nothing at PATH");
    CHECK(count_entries(dir, "aborted.parquet") == 0, "a failed close removes the temporary file");

    /* abort after rows were written (a row group flushed) */
    snprintf(path, sizeof path, "%s/aborted2.parquet", dir);
    tp_pq_column one = {"x", TP_PQ_INT64, TP_PQ_SCALAR, 0, false};
    tp_pq_options small = tp_pq_default_options();
    small.row_group_rows = 2;
    w = tp_pq_writer_open(path, &one, 1, &small, err, sizeof err);
    CHECK(w != NULL, "open: %s", err);
    if (w) {
        int64_t x[5] = {1, 2, 3, 4, 5};
        tp_pq_column_data d = {.values = x};
        CHECK(tp_pq_write_batch(w, &d, 5, err, sizeof err) == 0, "write: %s", err);
        CHECK(tp_pq_writer_rows(w) == 5, "row count %llu", (unsigned long long)tp_pq_writer_rows(w));
        tp_pq_writer_abort(w);
    }
    CHECK(count_entries(dir, "aborted2.parquet") == 0, "abort leaves neither PATH nor the temporary file");

    /* invalid UTF-8 is refused with the column and row */
    tp_pq_column sc = {"s", TP_PQ_STRING, TP_PQ_SCALAR, 0, true};
    snprintf(path, sizeof path, "%s/bad_utf8.parquet", dir);
    w = tp_pq_writer_open(path, &sc, 1, NULL, err, sizeof err);
    CHECK(w != NULL, "open: %s", err);
    if (w) {
        const char *s[2] = {"ok", "\xff\xfe"};
        tp_pq_column_data d = {.values = s};
        CHECK(tp_pq_write_batch(w, &d, 2, err, sizeof err) == -1, "invalid UTF-8 accepted");
        CHECK(strstr(err, "bad_utf8.parquet: column s row 1: string is not valid UTF-8"), "utf8 error: %s", err);
        tp_pq_writer_abort(w);
    }
    /* a list row with elements but no values array; metadata that is not UTF-8 */
    tp_pq_column lc = {"l", TP_PQ_DOUBLE, TP_PQ_LIST, 0, false};
    snprintf(path, sizeof path, "%s/bad_list.parquet", dir);
    w = tp_pq_writer_open(path, &lc, 1, NULL, err, sizeof err);
    CHECK(w != NULL, "open: %s", err);
    if (w) {
        CHECK(tp_pq_writer_set_kv(w, "k", "\xc3", err, sizeof err) == -1 && strstr(err, "not valid UTF-8"),
              "metadata not UTF-8 accepted: %s", err);
        const uint32_t len[3] = {0, 0, 2};
        tp_pq_column_data d = {.list_len = len};
        CHECK(tp_pq_write_batch(w, &d, 3, err, sizeof err) == -1 &&
                  strstr(err, "bad_list.parquet: column l row 2: no values given"),
              "list elements without values: %s", err);
        tp_pq_writer_abort(w);
    }
    /* bad schema, and a folder that does not exist */
    tp_pq_column fl = {"v", TP_PQ_FLOAT, TP_PQ_FIXED_LIST, 0, true};
    CHECK(tp_pq_writer_open(path, &fl, 1, NULL, err, sizeof err) == NULL && strstr(err, "list_size"),
          "list_size 0 accepted: %s", err);
    CHECK(tp_pq_writer_open("/nonexistent-folder/x.parquet", &sc, 1, NULL, err, sizeof err) == NULL &&
              strstr(err, "/nonexistent-folder/x.parquet: cannot create"),
          "missing folder: %s", err);
    CHECK(count_entries(dir, "bad_utf8.parquet") == 0 && count_entries(dir, "bad_list.parquet") == 0,
          "nothing left of the refused files");
}

typedef struct file_case {
    const char *name;
    tp_pq_options opt;
    size_t batch;
    bool empty;
} file_case;

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    table *t = calloc(1, sizeof *t);
    if (!t)
        return 1;
    memset(long_note, 'z', sizeof long_note - 1);
    fill(t, ROWS);

    tp_pq_options snappy_dict = tp_pq_default_options();
    snappy_dict.row_group_rows = 4096;
    snappy_dict.page_bytes = 16384;
    tp_pq_options plain = tp_pq_default_options();
    plain.codec = TP_PQ_UNCOMPRESSED;
    plain.use_dictionary = false;
    plain.row_group_rows = 100000;
    tp_pq_options fallback = tp_pq_default_options();
    fallback.dictionary_bytes = 40; /* task's dictionary (~80 bytes) no longer fits: PLAIN */
    fallback.row_group_rows = 5000;
    fallback.arrow_schema = false;
    fallback.created_by = "teleop test writer";
    const file_case cases[] = {
        {"snappy_dict.parquet", snappy_dict, 999, false},
        {"uncompressed_plain.parquet", plain, ROWS, false},
        {"dict_fallback.parquet", fallback, 4000, false},
        {"empty.parquet", tp_pq_default_options(), 1, true},
    };
    const size_t ncases = sizeof cases / sizeof cases[0];

    char path[1024];
    snprintf(path, sizeof path, "%s/expected.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    fputs("{\"columns\": [", f);
    for (int c = 0; c < NCOLS; c++) {
        fprintf(f, "%s{\"name\": ", c ? ", " : "");
        json_string(f, columns[c].name);
        fprintf(f, ", \"type\": \"%s\", \"shape\": \"%s\", \"list_size\": %d, \"nullable\": %s}",
                type_name(columns[c].type),
                columns[c].shape == TP_PQ_SCALAR ? "scalar" : columns[c].shape == TP_PQ_FIXED_LIST ? "fixed_list" : "list",
                (int)columns[c].list_size, columns[c].nullable ? "true" : "false");
    }
    fputs("],\n\"files\": [", f);
    for (size_t i = 0; i < ncases; i++) {
        const file_case *fc = &cases[i];
        snprintf(path, sizeof path, "%s/%s", dir, fc->name);
        t->rows = fc->empty ? 0 : ROWS;
        if (write_file(path, t, &fc->opt, fc->batch, !fc->empty) != 0) {
            failures++;
            continue;
        }
        fprintf(f, "%s\n{\"file\": \"%s\", \"rows\": %zu, \"row_group_rows\": %zu, \"codec\": \"%s\", "
                   "\"dictionary\": %s, \"dictionary_bytes\": %zu, \"arrow_schema\": %s, \"created_by\": ",
                i ? "," : "", fc->name, t->rows, fc->opt.row_group_rows,
                fc->opt.codec == TP_PQ_SNAPPY ? "SNAPPY" : "UNCOMPRESSED", fc->opt.use_dictionary ? "true" : "false",
                fc->opt.dictionary_bytes, fc->opt.arrow_schema ? "true" : "false");
        json_string(f, fc->opt.created_by ? fc->opt.created_by : "teleop version " TELEOP_VERSION);
        fprintf(f, ", \"kv\": %s}", fc->empty ? "{}" : "{\"huggingface\": \"{\\\"info\\\": {\\\"features\\\": "
                                                     "{\\\"timestamp\\\": {\\\"dtype\\\": \\\"float32\\\"}}}}\", "
                                                     "\"teleop\": \"中文 value\"}");
    }
    t->rows = ROWS;
    fputs("],\n\"table\": ", f);
    json_table(f, t);
    fputs("}\n", f);
    if (fclose(f) != 0) {
        perror("expected.json");
        failures++;
    }

    /* same input, byte-identical file */
    char again[1024];
    snprintf(path, sizeof path, "%s/%s", dir, cases[0].name);
    snprintf(again, sizeof again, "%s/again.parquet", dir);
    if (write_file(again, t, &cases[0].opt, cases[0].batch, true) == 0) {
        CHECK(same_bytes(path, again), "writing the same table twice gives different bytes");
        remove(again);
    } else {
        failures++;
    }
    /* the batch size does not change the file */
    if (write_file(again, t, &cases[0].opt, 1, true) == 0) {
        CHECK(same_bytes(path, again), "row-by-row appends give different bytes from batches");
        remove(again);
    } else {
        failures++;
    }
    check_errors(dir);
    free(t);
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
