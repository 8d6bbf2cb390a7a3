/* `teleop export --check DATASET`: LeRobot v2.1 / v3.0 dataset validation —
 * the data files against the metadata check_meta.c loaded (rows, index,
 * timestamps, stats), the videos (check_video.c decodes them), the counts,
 * and the entry point. Problems are printed as they are found, each once
 * per file or episode, never once per row. */
#include "check_internal.h"

#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check_hdf5.h"
#include "check_video.h"

/* ---- data files ---- */

static bool acc_init(acc *a, int dim)
{
    size_t n = (size_t)(dim > 0 ? dim : 1);
    a->min = malloc(5 * n * sizeof *a->min);
    if (!a->min)
        return false;
    a->max = a->min + n;
    a->sum = a->max + n;
    a->sumsq = a->sum + n;
    a->shift = a->sumsq + n;
    for (size_t d = 0; d < n; d++) {
        a->min[d] = INFINITY;
        a->max[d] = -INFINITY;
        a->sum[d] = a->sumsq[d] = a->shift[d] = 0;
    }
    a->count = 0;
    a->shift_set = false;
    return true;
}

static void acc_free(acc *a)
{
    free(a->min);
    a->min = a->max = a->sum = a->sumsq = a->shift = NULL;
}

static void acc_merge(acc *into, const acc *a, int dim)
{
    for (int d = 0; d < dim; d++) {
        into->min[d] = fmin(into->min[d], a->min[d]);
        into->max[d] = fmax(into->max[d], a->max[d]);
        into->sum[d] += a->sum[d];
        into->sumsq[d] += a->sumsq[d];
    }
    into->count += a->count;
}

/* Compares stored stats with those computed from the data: min/max exactly
 * (LeRobot stores the float32 values' exact float64), mean/std within a
 * float32 accumulation tolerance, count exactly. */
static void compare_stats(checker *c, const char *rel, const char *who, const feature *f, const stat_set *s,
                          const acc *a)
{
    if (!s->present[STAT_MIN] && !s->present[STAT_MAX] && !s->present[STAT_MEAN]) {
        ck_problem(c, rel, "%s: no stats for %s", who, f->key);
        return;
    }
    for (int k = 0; k < NSTATS; k++) {
        if (!s->present[k]) {
            ck_problem(c, rel, "%s: stats %s/%s missing", who, f->key, ck_stat_names[k]);
            continue;
        }
        if (k == STAT_COUNT) {
            if (s->count != a->count)
                ck_problem(c, rel, "%s: stats %s/count is %" PRId64 ", the data has %" PRId64 " frames", who, f->key,
                        s->count, a->count);
            continue;
        }
        if (s->len[k] != f->dim) {
            ck_problem(c, rel, "%s: stats %s/%s has %d values, the feature %d", who, f->key, ck_stat_names[k], s->len[k],
                    f->dim);
            continue;
        }
        for (int d = 0; d < f->dim; d++) {
            double n = (double)a->count;
            double dm = a->sum[d] / n;
            double mean = a->shift[d] + dm;
            double var = fmax(0, a->sumsq[d] / n - dm * dm);
            double want = k == STAT_MIN ? a->min[d] : k == STAT_MAX ? a->max[d] : k == STAT_MEAN ? mean : sqrt(var);
            double scale = fmax(1e-6, fmax(fabs(a->min[d]), fabs(a->max[d])));
            double range = a->max[d] - a->min[d];
            double got = s->v[k][d];
            /* LeRobot computes float32 features' mean and std in float32
             * (numpy): relative errors around 1e-7 of the values' magnitude.
             * std is compared through the variance: near zero, sqrt turns a
             * rounding of the variance into a large std difference. */
            bool ok = k == STAT_MEAN  ? fabs(got - want) <= 1e-5 * scale
                      : k == STAT_STD ? fabs(got * got - var) <= 1e-5 * (range * range + scale * range) + 1e-12
                                      : got == want;
            if (!ok && !(isnan(got) && isnan(want))) {
                ck_problem(c, rel, "%s: stats %s/%s[%d] is %.9g, the data gives %.9g", who, f->key, ck_stat_names[k], d,
                        got, want);
                break;
            }
        }
    }
}

typedef struct dcols {
    pcol *col; /* per feature (numeric, in data) */
    int ifx[5]; /* feature indices of timestamp, frame_index, episode_index, index, task_index */
} dcols;

static const char *const default_keys[5] = {"timestamp", "frame_index", "episode_index", "index", "task_index"};

static const char *dtype_physical(const char *dtype, tp_pqr_physical t)
{
    if (!strcmp(dtype, "float32"))
        return t == TP_PQR_FLOAT ? NULL : "float32 (FLOAT)";
    if (!strcmp(dtype, "float64"))
        return t == TP_PQR_DOUBLE ? NULL : "float64 (DOUBLE)";
    if (!strcmp(dtype, "int64"))
        return t == TP_PQR_INT64 ? NULL : "int64 (INT64)";
    if (!strcmp(dtype, "int32") || !strcmp(dtype, "int16") || !strcmp(dtype, "int8") || !strcmp(dtype, "uint8"))
        return t == TP_PQR_INT32 ? NULL : "an INT32 column";
    if (!strcmp(dtype, "bool"))
        return t == TP_PQR_BOOLEAN ? NULL : "bool (BOOLEAN)";
    if (!strcmp(dtype, "string"))
        return t == TP_PQR_BYTE_ARRAY ? NULL : "string (BYTE_ARRAY)";
    return NULL;
}

/* Schema of one data file against info.json's features; loads numeric columns. */
static void load_data_columns(checker *c, tp_pqr_reader *r, const char *rel, dcols *dc)
{
    for (size_t i = 0; i < tp_pqr_num_columns(r); i++) {
        const tp_pqr_column_info *ci = tp_pqr_column(r, i);
        if (i > 0 && !strcmp(tp_pqr_column(r, i - 1)->name, ci->name))
            continue; /* another leaf of the same struct column */
        int fi = ck_feature_index(c, ci->name);
        if (fi < 0)
            ck_problem(c, rel, "column %s is not declared in meta/info.json features", ci->name);
        else if (c->f[fi].video)
            ck_problem(c, rel, "column %s is a video feature: video features are not stored in parquet", ci->name);
    }
    for (int fi = 0; fi < c->nf; fi++) {
        feature *f = &c->f[fi];
        if (f->video)
            continue;
        int ci_idx = tp_pqr_find_column(r, f->key);
        if (ci_idx < 0) {
            ck_problem(c, rel, "feature %s has no column", f->key);
            continue;
        }
        f->in_data = true;
        const tp_pqr_column_info *ci = tp_pqr_column(r, (size_t)ci_idx);
        const char *want = dtype_physical(f->dtype, ci->type);
        if (want) {
            ck_problem(c, rel, "column %s: dtype %s in meta/info.json, parquet type is not %s", f->key, f->dtype, want);
            continue;
        }
        if (!f->numeric) {
            if (f->noted)
                continue;
            f->noted = true;
            if (ck_numeric_dtype(f->dtype))
                ck_note(c, rel, f->ndim > 1 ? "feature %s: %d-dimensional shape, values and stats not checked"
                                         : "feature %s: more than 4096 values per frame, values and stats not checked",
                     f->key, f->ndim);
            else if (strcmp(f->dtype, "string"))
                ck_note(c, rel, "feature %s: dtype %s, values not checked", f->key, f->dtype);
            continue;
        }
        bool scalar_ok = f->dim == 1 && !ci->is_list;
        if (f->dim > 1 && !ci->is_list) {
            ck_problem(c, rel, "column %s: shape [%d] in meta/info.json, but the column holds one value per row", f->key,
                    f->dim);
            continue;
        }
        if (!scalar_ok && !ci->is_list)
            continue;
        ck_load_col(c, r, rel, f->key, &dc->col[fi], true);
        pcol *p = &dc->col[fi];
        if (!p->ok)
            continue;
        for (int64_t row = 0; row < p->v.nrows; row++) {
            if (!p->v.row_valid[row]) {
                ck_problem(c, rel, "column %s: null at row %" PRId64, f->key, row);
                p->ok = false;
                break;
            }
            if (ci->is_list && p->v.list_off[row + 1] - p->v.list_off[row] != f->dim) {
                ck_problem(c, rel, "column %s: row %" PRId64 " has %" PRId64 " values, shape [%d] in meta/info.json",
                        f->key, row, p->v.list_off[row + 1] - p->v.list_off[row], f->dim);
                p->ok = false;
                break;
            }
        }
    }
}

/* Rows [row0, row0+e->length) of a loaded data file are episode e. */
static void check_episode_rows(checker *c, const char *rel, dcols *dc, episode *e, int64_t row0)
{
    const pcol *ts = dc->ifx[0] >= 0 ? &dc->col[dc->ifx[0]] : NULL;
    const pcol *fx = dc->ifx[1] >= 0 ? &dc->col[dc->ifx[1]] : NULL;
    const pcol *ex = dc->ifx[2] >= 0 ? &dc->col[dc->ifx[2]] : NULL;
    const pcol *tx = dc->ifx[4] >= 0 ? &dc->col[dc->ifx[4]] : NULL;
    bool bad_ts = false, bad_fx = false, bad_ex = false, bad_tx = false;
    free(e->ts);
    e->ts = malloc((size_t)(e->length > 0 ? e->length : 1) * sizeof *e->ts);
    e->nts = 0;
    for (int64_t i = 0; i < e->length; i++) {
        int64_t row = row0 + i, v;
        double t;
        if (ts && ck_row_f64(ts, row, &t)) {
            if (e->ts)
                e->ts[e->nts++] = t;
            double want = (double)i / c->fps;
            if (!bad_ts && !(fabs(t - want) <= TOL)) {
                ck_problem(c, rel, "episode %" PRId64 ": timestamp off the %g fps grid at frame %" PRId64
                                " (row %" PRId64 "): %.9g, expected %.9g (tolerance %g s)",
                        e->index, c->fps, i, row, t, want, TOL);
                bad_ts = true;
            }
        }
        if (fx && ck_row_i64(fx, row, &v) && v != i && !bad_fx) {
            ck_problem(c, rel, "episode %" PRId64 ": frame_index at row %" PRId64 " is %" PRId64 ", expected %" PRId64,
                    e->index, row, v, i);
            bad_fx = true;
        }
        if (ex && ck_row_i64(ex, row, &v) && v != e->index && !bad_ex) {
            ck_problem(c, rel, "row %" PRId64 ": episode_index %" PRId64 ", the episode metadata says %" PRId64, row, v,
                    e->index);
            bad_ex = true;
        }
        if (tx && ck_row_i64(tx, row, &v) && (v < 0 || v >= c->ntasks) && !bad_tx) {
            ck_problem(c, rel, "episode %" PRId64 ": task_index %" PRId64 " at row %" PRId64 " is not a task (%" PRId64
                            " tasks)",
                    e->index, v, row, c->ntasks);
            bad_tx = true;
        }
    }
    /* stats of this episode */
    for (int fi = 0; fi < c->nf; fi++) {
        const feature *f = &c->f[fi];
        const pcol *p = &dc->col[fi];
        if (!f->numeric || !p->ok)
            continue;
        acc a, *g = &c->global[fi];
        if (!acc_init(&a, f->dim) || !g->min) {
            acc_free(&a);
            continue;
        }
        for (int64_t i = 0; i < e->length; i++) {
            double vals[MAX_FEATURE_DIM];
            if (ck_row_list_f64(p, row0 + i, vals, MAX_FEATURE_DIM) != f->dim)
                continue;
            if (!g->shift_set) {
                memcpy(g->shift, vals, (size_t)f->dim * sizeof *vals);
                g->shift_set = true;
            }
            for (int d = 0; d < f->dim; d++) {
                double x = vals[d] - g->shift[d];
                a.min[d] = fmin(a.min[d], vals[d]);
                a.max[d] = fmax(a.max[d], vals[d]);
                a.sum[d] += x;
                a.sumsq[d] += x * x;
            }
            a.count++;
        }
        memcpy(a.shift, g->shift, (size_t)f->dim * sizeof *a.shift);
        acc_merge(&c->global[fi], &a, f->dim);
        if (c->ep_stats_present) {
            char who[64];
            snprintf(who, sizeof who, "episode %" PRId64, e->index);
            const char *srel = e->meta_rel;
            if (!e->stats)
                ck_problem(c, srel, "%s: no stats", who);
            else
                compare_stats(c, srel, who, f, &e->stats[fi], &a);
        }
        acc_free(&a);
    }
}

/* Loads a data file; checks `index` contiguity against the running counter.
 * Returns the reader (for the episode checks) or NULL. */
static tp_pqr_reader *open_data_file(checker *c, const char *rel, dcols *dc)
{
    char *p = ck_joinp(c, rel), err[1024];
    tp_pqr_reader *r = p ? tp_pqr_open(p, err, sizeof err) : NULL;
    if (!r) {
        struct stat sb;
        if (p && stat(p, &sb) != 0)
            ck_problem(c, rel, "missing");
        else
            ck_problem(c, rel, "%s", err + strlen(p) + 2);
        free(p);
        return NULL;
    }
    free(p);
    memset(dc->col, 0, (size_t)c->nf * sizeof *dc->col);
    load_data_columns(c, r, rel, dc);
    const pcol *ix = dc->ifx[3] >= 0 ? &dc->col[dc->ifx[3]] : NULL;
    if (ix && ix->ok) {
        for (int64_t row = 0; row < ix->v.nrows; row++) {
            int64_t v;
            if (ck_row_i64(ix, row, &v) && v != c->next_index + row) {
                ck_problem(c, rel, "index not contiguous at row %" PRId64 " (expected %" PRId64 ", got %" PRId64 ")", row,
                        c->next_index + row, v);
                break;
            }
        }
    }
    return r;
}

static void close_data_file(checker *c, tp_pqr_reader *r, dcols *dc)
{
    for (int fi = 0; fi < c->nf; fi++)
        ck_free_col(&dc->col[fi]);
    c->next_index += tp_pqr_num_rows(r);
    tp_pqr_close(r);
}

static void check_data_v21(checker *c, dcols *dc)
{
    for (int64_t i = 0; i < c->nep; i++) {
        episode *e = &c->ep[i];
        char rel[1024];
        tvar vars[] = {{"episode_chunk", e->index / c->chunks_size, NULL}, {"episode_index", e->index, NULL},
                       {"chunk_index", e->index / c->chunks_size, NULL}};
        if (!ck_format_path(c->data_path, vars, 3, rel, sizeof rel)) {
            ck_problem(c, "meta/info.json", "data_path %s: cannot be formatted", c->data_path);
            return;
        }
        tp_pqr_reader *r = open_data_file(c, rel, dc);
        if (!r) {
            c->next_index += e->length;
            continue;
        }
        if (tp_pqr_num_rows(r) != e->length)
            ck_problem(c, rel, "episode %" PRId64 " has %" PRId64 " rows, meta/episodes.jsonl says length %" PRId64,
                    e->index, tp_pqr_num_rows(r), e->length);
        else
            check_episode_rows(c, rel, dc, e, 0);
        close_data_file(c, r, dc);
    }
}

static int cmp_i64pair(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : (x[1] < y[1] ? -1 : x[1] > y[1]);
}

static void check_data_v30(checker *c, dcols *dc)
{
    /* tiling of dataset_from_index / dataset_to_index */
    int64_t pos = 0;
    for (int64_t i = 0; i < c->nep; i++) {
        episode *e = &c->ep[i];
        if (!e->has_range) {
            ck_problem(c, "meta/episodes", "episode %" PRId64 ": dataset_from_index/dataset_to_index missing", e->index);
            continue;
        }
        if (e->from != pos)
            ck_problem(c, "meta/episodes", "episode %" PRId64 ": dataset_from_index %" PRId64 ", expected %" PRId64
                                        " (episodes must tile the data rows)",
                    e->index, e->from, pos);
        if (e->to - e->from != e->length)
            ck_problem(c, "meta/episodes", "episode %" PRId64 ": dataset_to_index - dataset_from_index = %" PRId64
                                        ", length %" PRId64,
                    e->index, e->to - e->from, e->length);
        pos = e->to;
    }
    /* data files in (chunk, file) order, each once */
    int64_t (*files)[2] = calloc(c->nep > 0 ? (size_t)c->nep : 1, sizeof *files);
    size_t nfiles = 0;
    for (int64_t i = 0; files && i < c->nep; i++)
        if (c->ep[i].has_data_loc) {
            files[nfiles][0] = c->ep[i].data_chunk;
            files[nfiles][1] = c->ep[i].data_file;
            nfiles++;
        }
    if (files)
        qsort(files, nfiles, sizeof *files, cmp_i64pair);
    for (size_t k = 0; files && k < nfiles; k++) {
        if (k && files[k][0] == files[k - 1][0] && files[k][1] == files[k - 1][1])
            continue;
        char rel[1024];
        tvar vars[] = {{"chunk_index", files[k][0], NULL}, {"file_index", files[k][1], NULL}};
        if (!ck_format_path(c->data_path, vars, 2, rel, sizeof rel)) {
            ck_problem(c, "meta/info.json", "data_path %s: cannot be formatted", c->data_path);
            break;
        }
        int64_t file_start = c->next_index;
        tp_pqr_reader *r = open_data_file(c, rel, dc);
        int64_t rows = r ? tp_pqr_num_rows(r) : 0, covered = 0;
        for (int64_t i = 0; i < c->nep; i++) {
            episode *e = &c->ep[i];
            if (!e->has_data_loc || e->data_chunk != files[k][0] || e->data_file != files[k][1] || !e->has_range)
                continue;
            covered += e->length;
            if (!r)
                continue;
            int64_t row0 = e->from - file_start;
            if (row0 < 0 || row0 + e->length > rows) {
                ck_problem(c, rel, "episode %" PRId64 ": rows %" PRId64 "..%" PRId64 " are not in this file (%" PRId64
                                " rows from index %" PRId64 ")",
                        e->index, e->from, e->to, rows, file_start);
                continue;
            }
            check_episode_rows(c, rel, dc, e, row0);
        }
        if (r) {
            if (covered != rows)
                ck_problem(c, rel, "%" PRId64 " rows, its episodes in meta/episodes have %" PRId64 " frames", rows,
                        covered);
            close_data_file(c, r, dc);
        } else
            c->next_index += covered;
    }
    free(files);
    /* files nobody points to */
    char *pat = ck_joinp(c, "data/chunk-*/file-*.parquet");
    glob_t g;
    memset(&g, 0, sizeof g);
    if (pat && glob(pat, 0, NULL, &g) == 0 && g.gl_pathc > nfiles) {
        size_t unique = 0;
        for (int64_t i = 0; i < c->nep; i++)
            unique += i == 0 || c->ep[i].data_chunk != c->ep[i - 1].data_chunk ||
                      c->ep[i].data_file != c->ep[i - 1].data_file;
        if (g.gl_pathc > unique)
            ck_problem(c, "data", "%zu data files, the episode metadata refers to %zu", g.gl_pathc, unique);
    }
    globfree(&g);
    free(pat);
}

/* ---- videos ---- */

static bool near_frame(const double *times, int64_t n, double q)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (times[mid] < q)
            lo = mid + 1;
        else
            hi = mid;
    }
    double best = INFINITY;
    if (lo < n)
        best = fabs(times[lo] - q);
    if (lo > 0)
        best = fmin(best, fabs(times[lo - 1] - q));
    return best <= TOL;
}

static void check_video_format(checker *c, const char *rel, const feature *f, const tp_video_probe *vp)
{
    if (f->vcodec[0] && strcmp(f->vcodec, vp->codec))
        ck_problem(c, rel, "codec %s, meta/info.json says video.codec %s", vp->codec, f->vcodec);
    if (f->vpix_fmt[0] && strcmp(f->vpix_fmt, vp->pix_fmt))
        ck_problem(c, rel, "pix_fmt %s, meta/info.json says video.pix_fmt %s", vp->pix_fmt, f->vpix_fmt);
    int64_t h = f->vheight ? f->vheight : f->ndim == 3 ? f->shape[0] : 0;
    int64_t w = f->vwidth ? f->vwidth : f->ndim == 3 ? f->shape[1] : 0;
    if ((h && h != vp->height) || (w && w != vp->width))
        ck_problem(c, rel, "%dx%d, meta/info.json says %" PRId64 "x%" PRId64, vp->width, vp->height, w, h);
    if (f->ndim == 3 && (f->shape[0] != vp->height || f->shape[1] != vp->width))
        ck_problem(c, rel, "%dx%d, feature %s has shape [%" PRId64 ", %" PRId64 ", %" PRId64 "]", vp->width, vp->height,
                f->key, f->shape[0], f->shape[1], f->shape[2]);
    double fps = f->vfps > 0 ? f->vfps : c->fps;
    if (vp->fps > 0 && fabs(vp->fps - fps) > 1e-3 * fps)
        ck_problem(c, rel, "frame rate %.6g, the dataset's is %g", vp->fps, fps);
}

/* The frames of [from, to) must be one per data frame, and every data
 * timestamp from + ts[i] must find a frame within tolerance_s (LeRobot's
 * decode check). */
static void check_episode_video(checker *c, const char *rel, const feature *f, const tp_video_probe *vp,
                                const episode *e, double from, double to)
{
    int64_t n = 0;
    for (int64_t j = 0; j < vp->nframes; j++)
        n += vp->times[j] >= from - TOL && vp->times[j] < to - TOL;
    if (n != e->length && isinf(to))
        ck_problem(c, rel, "episode %" PRId64 ": wrong frame count: %" PRId64 " frames, the episode has %" PRId64 " (%s)",
                e->index, n, e->length, f->key);
    else if (n != e->length)
        ck_problem(c, rel, "episode %" PRId64 ": wrong frame count: %" PRId64 " frames in [%.6f, %.6f) s, the episode has %" PRId64
                        " (%s)",
                e->index, n, from, to, e->length, f->key);
    for (int64_t i = 0; i < e->nts; i++) {
        double q = from + e->ts[i];
        if (!near_frame(vp->times, vp->nframes, q)) {
            ck_problem(c, rel, "episode %" PRId64 ": no video frame within %g s of frame %" PRId64 " at %.6f s (%s)",
                    e->index, TOL, i, q, f->key);
            break;
        }
    }
    double dur = to - from, want = (double)e->length / c->fps;
    if (!isinf(to) && fabs(dur - want) > 0.5 / c->fps)
        ck_problem(c, rel, "episode %" PRId64 ": video span %.6f s, %" PRId64 " frames at %g fps last %.6f s", e->index,
                dur, e->length, c->fps, want);
}

static void check_videos(checker *c, int *nvideos)
{
    for (int fi = 0; fi < c->nf; fi++) {
        const feature *f = &c->f[fi];
        if (!f->video)
            continue;
        /* v2.1: one file per episode; v3.0: files shared by consecutive episodes */
        for (int64_t i = 0; i < c->nep; i++) {
            const episode *e = &c->ep[i];
            char rel[1024];
            bool ok;
            if (c->version == 21) {
                tvar vars[] = {{"episode_chunk", e->index / c->chunks_size, NULL},
                               {"episode_index", e->index, NULL},
                               {"video_key", 0, f->key}};
                ok = ck_format_path(c->video_path, vars, 3, rel, sizeof rel);
            } else {
                if (!e->video[fi].known) {
                    ck_problem(c, "meta/episodes", "episode %" PRId64 ": no video location for %s", e->index, f->key);
                    continue;
                }
                if (i > 0 && c->ep[i - 1].video[fi].known && c->ep[i - 1].video[fi].chunk == e->video[fi].chunk &&
                    c->ep[i - 1].video[fi].file == e->video[fi].file)
                    continue; /* this file was checked with its first episode */
                tvar vars[] = {{"chunk_index", e->video[fi].chunk, NULL},
                               {"file_index", e->video[fi].file, NULL},
                               {"video_key", 0, f->key}};
                ok = ck_format_path(c->video_path, vars, 3, rel, sizeof rel);
            }
            if (!ok) {
                ck_problem(c, "meta/info.json", "video_path %s: cannot be formatted", c->video_path);
                return;
            }
            if (!ck_exists_rel(c, rel)) {
                int64_t last = i;
                while (c->version == 30 && last + 1 < c->nep && c->ep[last + 1].video[fi].known &&
                       c->ep[last + 1].video[fi].chunk == e->video[fi].chunk &&
                       c->ep[last + 1].video[fi].file == e->video[fi].file)
                    last++;
                if (last > i)
                    ck_problem(c, rel, "missing video (%s, episodes %" PRId64 "-%" PRId64 ")", f->key, e->index,
                            c->ep[last].index);
                else
                    ck_problem(c, rel, "missing video (%s, episode %" PRId64 ")", f->key, e->index);
                continue;
            }
            char *path = ck_joinp(c, rel), err[512];
            tp_video_probe vp;
            int rc = path ? tp_video_probe_file(path, &vp, err, sizeof err) : -1;
            free(path);
            if (rc) {
                ck_problem(c, rel, "%s", err);
                continue;
            }
            (*nvideos)++;
            check_video_format(c, rel, f, &vp);
            if (c->version == 21) {
                check_episode_video(c, rel, f, &vp, e, 0, INFINITY);
                double want = (double)e->length / c->fps;
                if (vp.duration >= 0 && fabs(vp.duration - want) > 0.5 / c->fps)
                    ck_problem(c, rel, "duration %.6f s, %" PRId64 " frames at %g fps last %.6f s", vp.duration,
                            e->length, c->fps, want);
            } else {
                double last_to = 0;
                int64_t j = i;
                for (; j < c->nep; j++) {
                    const episode *ej = &c->ep[j];
                    if (!ej->video[fi].known || ej->video[fi].chunk != e->video[fi].chunk ||
                        ej->video[fi].file != e->video[fi].file)
                        break;
                    check_episode_video(c, rel, f, &vp, ej, ej->video[fi].from_ts, ej->video[fi].to_ts);
                    last_to = ej->video[fi].to_ts;
                }
                int64_t inside = 0;
                for (int64_t k = 0; k < vp.nframes; k++)
                    inside += vp.times[k] < last_to - TOL;
                if (inside != vp.nframes)
                    ck_problem(c, rel, "%" PRId64 " frames after the last episode's to_timestamp %.6f s", vp.nframes - inside,
                            last_to);
                if (vp.duration >= 0 && fabs(vp.duration - last_to) > 0.5 / c->fps)
                    ck_problem(c, rel, "duration %.6f s, its last episode ends at %.6f s", vp.duration, last_to);
            }
            tp_video_probe_free(&vp);
        }
    }
}

/* ---- counts and global stats ---- */

static void check_counts(checker *c, int64_t nvideo_features)
{
    const char *rel = "meta/info.json";
    int64_t v, frames = 0;
    for (int64_t i = 0; i < c->nep; i++) {
        if (c->ep[i].index != i)
            ck_problem(c, c->version == 21 ? "meta/episodes.jsonl" : "meta/episodes",
                    "episode %" PRId64 " at position %" PRId64 " (episode_index must run 0..N-1 in order)",
                    c->ep[i].index, i);
        frames += c->ep[i].length;
    }
    static const char *const ints[] = {"total_episodes", "total_frames", "total_tasks", "total_videos", "total_chunks"};
    for (size_t i = 0; i < (c->version == 21 ? 5u : 3u); i++) {
        char p[64], t[16];
        snprintf(p, sizeof p, "$.%s", ints[i]);
        ck_jtype(c, c->info, p, t, sizeof t);
        if (t[0] && strcmp(t, "integer"))
            ck_problem(c, rel, "%s is not an integer", ints[i]);
    }
    if (ck_jint(c, c->info, "$.total_episodes", &v) && v != c->nep)
        ck_problem(c, rel, "total_episodes %" PRId64 ", the episode metadata has %" PRId64, v, c->nep);
    if (ck_jint(c, c->info, "$.total_frames", &v) && v != frames)
        ck_problem(c, rel, "total_frames %" PRId64 ", the episodes have %" PRId64 " frames", v, frames);
    if (ck_jint(c, c->info, "$.total_frames", &v) && v != c->next_index)
        ck_problem(c, rel, "total_frames %" PRId64 ", the data files have %" PRId64 " rows", v, c->next_index);
    if (ck_jint(c, c->info, "$.total_tasks", &v) && v != c->ntasks)
        ck_problem(c, rel, "total_tasks %" PRId64 ", the tasks file has %" PRId64, v, c->ntasks);
    if (c->version == 21) {
        if (ck_jint(c, c->info, "$.total_videos", &v) && v != c->nep * nvideo_features)
            ck_problem(c, rel, "total_videos %" PRId64 ", expected %" PRId64 " (%" PRId64 " episodes x %" PRId64 " cameras)",
                    v, c->nep * nvideo_features, c->nep, nvideo_features);
        int64_t chunks = (c->nep + c->chunks_size - 1) / c->chunks_size;
        if (ck_jint(c, c->info, "$.total_chunks", &v) && v != chunks)
            ck_problem(c, rel, "total_chunks %" PRId64 ", %" PRId64 " episodes in chunks of %" PRId64 " make %" PRId64, v,
                    c->nep, c->chunks_size, chunks);
    }
    char *split = ck_jstr(c, c->info, "$.splits.train");
    char want[64];
    snprintf(want, sizeof want, "0:%" PRId64, c->nep);
    if (split && strcmp(split, want))
        ck_problem(c, rel, "splits.train is \"%s\", expected \"%s\"", split, want);
    free(split);
}

static void check_global_stats(checker *c)
{
    const char *rel = "meta/stats.json";
    char *p = ck_joinp(c, rel);
    char *json = p ? ck_read_text(p) : NULL;
    free(p);
    if (!json) {
        if (c->version == 30)
            ck_problem(c, rel, "missing");
        return;
    }
    if (!ck_json_valid(c, json)) {
        ck_problem(c, rel, "not valid JSON");
        free(json);
        return;
    }
    stat_set *s = calloc((size_t)(c->nf ? c->nf : 1), sizeof *s);
    if (s) {
        ck_parse_stats_json(c, rel, json, "$", s, -1);
        for (int fi = 0; fi < c->nf; fi++)
            if (c->f[fi].numeric && c->f[fi].in_data && c->global[fi].count > 0)
                compare_stats(c, rel, "global", &c->f[fi], &s[fi], &c->global[fi]);
    }
    ck_stat_sets_free(s, c->nf);
    free(json);
}

int tp_export_check(const char *dataset, FILE *report)
{
    struct stat sb;
    if (tp_check_is_hdf5(dataset))
        return tp_export_check_hdf5(dataset, report);
    if (stat(dataset, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(report, "%s: %s\n", dataset, stat(dataset, &sb) != 0 ? strerror(errno) : "not a folder");
        return 2;
    }
    checker ck;
    checker *c = &ck;
    memset(c, 0, sizeof *c);
    c->out = report;
    char root[4096];
    snprintf(root, sizeof root, "%s", dataset);
    while (strlen(root) > 1 && root[strlen(root) - 1] == '/')
        root[strlen(root) - 1] = 0;
    c->root = root;
    if (sqlite3_open(":memory:", &c->db) != SQLITE_OK) {
        fprintf(report, "%s: cannot open SQLite\n", dataset);
        sqlite3_close(c->db);
        return 2;
    }
    int nvideos = 0;
    int64_t nvideo_features = 0;
    if (ck_load_info(c) == 0) {
        for (int fi = 0; fi < c->nf; fi++)
            nvideo_features += c->f[fi].video;
        ck_load_tasks(c);
        if (c->version == 21)
            ck_load_episodes_v21(c);
        else
            ck_load_episodes_v30(c);
        dcols dc;
        dc.col = calloc((size_t)(c->nf ? c->nf : 1), sizeof *dc.col);
        c->global = calloc((size_t)(c->nf ? c->nf : 1), sizeof *c->global);
        for (int k = 0; k < 5; k++)
            dc.ifx[k] = ck_feature_index(c, default_keys[k]);
        if (dc.col && c->global) {
            for (int fi = 0; fi < c->nf; fi++)
                if (c->f[fi].numeric)
                    acc_init(&c->global[fi], c->f[fi].dim);
            if (c->version == 21)
                check_data_v21(c, &dc);
            else
                check_data_v30(c, &dc);
            check_counts(c, nvideo_features);
            check_global_stats(c);
            check_videos(c, &nvideos);
        }
        free(dc.col);
    }
    int64_t frames = 0;
    for (int64_t i = 0; i < c->nep; i++)
        frames += c->ep[i].length;
    if (c->version)
        fprintf(report, "%s: LeRobot %s, %" PRId64 " episodes, %" PRId64 " frames, %" PRId64 " tasks, %d video files: %s",
                root, c->version == 21 ? "v2.1" : "v3.0", c->nep, frames, c->ntasks, nvideos,
                c->problems ? "" : "valid\n");
    else
        fprintf(report, "%s: ", root);
    if (c->problems)
        fprintf(report, "%d problem%s\n", c->problems, c->problems == 1 ? "" : "s");
    int rc = c->problems ? 1 : 0;
    for (int64_t i = 0; i < c->nep; i++)
        ck_episode_free(c, &c->ep[i]);
    free(c->ep);
    for (int i = 0; i < c->nf; i++) {
        free(c->f[i].key);
        free(c->f[i].dtype);
    }
    free(c->f);
    for (int64_t i = 0; i < c->ntasks; i++)
        free(c->tasks[i]);
    free(c->tasks);
    for (int i = 0; c->global && i < c->nf; i++)
        acc_free(&c->global[i]);
    free(c->global);
    free(c->info);
    free(c->data_path);
    free(c->video_path);
    sqlite3_close(c->db);
    return rc;
}
