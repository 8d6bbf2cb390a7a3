/* teleop — the sync report: nearest state/action sample per video frame,
 * skew statistics and gaps, from an episode's stored rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "episode_sync.h"

/* a - b, saturated at the int64 range: rows with extreme (tampered) t_ns
 * must give a defined, reproducible report, never signed overflow. */
static int64_t sat_sub(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return a > b ? INT64_MAX : INT64_MIN;
    return r;
}

static int64_t sat_abs(int64_t v) { return v < 0 ? (v == INT64_MIN ? INT64_MAX : -v) : v; }

void tp_sync_nearest(const int64_t *frame_t, size_t frames, const int64_t *ref_seq, const int64_t *ref_t,
                     size_t refs, tp_sync_match *out)
{
    size_t j = 0;
    for (size_t i = 0; i < frames; i++) {
        if (refs == 0) {
            out[i] = (tp_sync_match){-1, 0};
            continue;
        }
        /* Advance while the next sample is strictly closer: frames ascend,
         * so the nearest sample index never moves back. */
        while (j + 1 < refs) {
            int64_t here = sat_sub(ref_t[j], frame_t[i]), next = sat_sub(ref_t[j + 1], frame_t[i]);
            if (sat_abs(next) < sat_abs(here) || ref_t[j + 1] <= frame_t[i])
                j++;
            else
                break;
        }
        out[i] = (tp_sync_match){ref_seq[j], sat_sub(ref_t[j], frame_t[i])};
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void tp_sync_skew_stats(const tp_sync_match *m, size_t n, int64_t *scratch, int64_t *max, int64_t *median)
{
    *max = *median = -1;
    if (n == 0 || m[0].seq < 0)
        return;
    for (size_t i = 0; i < n; i++)
        scratch[i] = sat_abs(m[i].skew_ns);
    qsort(scratch, n, sizeof *scratch, cmp_i64);
    *max = scratch[n - 1];
    *median = scratch[(n - 1) / 2];
}

typedef struct series {
    int64_t *seq, *t;
    size_t n;
} series;

static void series_free(series *s)
{
    free(s->seq);
    free(s->t);
    memset(s, 0, sizeof *s);
}

static int load_series(sqlite3 *db, int stream_id, bool camera, series *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *sql = camera ? "SELECT seq, t_ns FROM video_packets WHERE stream_id = ? ORDER BY seq"
                             : "SELECT seq, t_ns FROM samples WHERE stream_id = ? ORDER BY seq";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "sync report: stream %d unreadable: %s", stream_id, sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int(st, 1, stream_id);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 1024;
            int64_t *a = realloc(out->seq, cap * sizeof *a), *b = a ? realloc(out->t, cap * sizeof *b) : NULL;
            if (a)
                out->seq = a;
            if (b)
                out->t = b;
            if (!a || !b) {
                rc = SQLITE_NOMEM;
                break;
            }
        }
        out->seq[out->n] = sqlite3_column_int64(st, 0);
        out->t[out->n] = sqlite3_column_int64(st, 1);
        out->n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "sync report: stream %d unreadable: %s", stream_id,
                 rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
        series_free(out);
        return -1;
    }
    return 0;
}

static int add_gap(tp_sync_report *r, const tp_sync_gap *g)
{
    if (r->ngaps == r->gaps_cap) {
        size_t cap = r->gaps_cap ? r->gaps_cap * 2 : 64;
        tp_sync_gap *a = realloc(r->gaps, cap * sizeof *a);
        if (!a)
            return -1;
        r->gaps = a;
        r->gaps_cap = cap;
    }
    r->gaps[r->ngaps++] = *g;
    return 0;
}

/* The reference stream of a kind: the one named like the kind, else the
 * first of that kind (state_velocity is a state stream too). */
static int reference_stream(sqlite3 *db, const char *kind)
{
    sqlite3_stmt *st;
    int id = 0;
    if (sqlite3_prepare_v2(db, "SELECT id FROM streams WHERE kind = ?1 ORDER BY name != ?1, id LIMIT 1", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        id = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? id : -1;
}

int tp_sync_compute(sqlite3 *db, tp_sync_report *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->state_id = reference_stream(db, "state");
    r->action_id = reference_stream(db, "action");
    if (r->state_id < 0 || r->action_id < 0) {
        snprintf(err, errlen, "sync report: streams unreadable: %s", sqlite3_errmsg(db));
        return -1;
    }
    series state = {0}, action = {0};
    if ((r->state_id && load_series(db, r->state_id, false, &state, err, errlen)) ||
        (r->action_id && load_series(db, r->action_id, false, &action, err, errlen))) {
        series_free(&state);
        return -1;
    }
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "SELECT id, kind = 'camera', rate_hz FROM streams ORDER BY id", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "sync report: streams unreadable: %s", sqlite3_errmsg(db));
        goto fail;
    }
    int64_t *scratch = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int id = sqlite3_column_int(st, 0);
        bool camera = sqlite3_column_int(st, 1) != 0;
        double rate = sqlite3_column_double(st, 2);
        series own = {0};
        series *s = id == r->state_id ? &state : id == r->action_id ? &action : &own;
        if (s == &own && load_series(db, id, camera, &own, err, errlen))
            break;
        if (rate > 0) {
            /* Strictly longer than the factor times the nominal period. */
            double limit = TP_SYNC_GAP_FACTOR * 1e9 / rate;
            for (size_t i = 1; i < s->n; i++) {
                int64_t gap = sat_sub(s->t[i], s->t[i - 1]);
                if ((double)gap > limit && add_gap(r, &(tp_sync_gap){id, s->seq[i], s->t[i], gap})) {
                    snprintf(err, errlen, "sync report: out of memory");
                    series_free(&own);
                    rc = SQLITE_NOMEM;
                    break;
                }
            }
        }
        if (camera && rc == SQLITE_ROW) {
            tp_sync_camera *cams = realloc(r->cameras, sizeof *cams * (size_t)(r->ncameras + 1));
            int64_t *sc = realloc(scratch, sizeof *sc * (s->n ? s->n : 1));
            if (cams)
                r->cameras = cams;
            if (sc)
                scratch = sc;
            tp_sync_camera *c = cams ? &r->cameras[r->ncameras] : NULL;
            if (c) {
                memset(c, 0, sizeof *c);
                r->ncameras++;
                c->stream_id = id;
                c->frames = (int64_t)s->n;
                c->frame_seq = own.seq;
                c->t_ns = own.t;
                own.seq = own.t = NULL; /* the camera keeps them */
                c->state = malloc(sizeof *c->state * (s->n ? s->n : 1));
                c->action = malloc(sizeof *c->action * (s->n ? s->n : 1));
            }
            if (!c || !sc || !c->state || !c->action || (s->n && !c->t_ns)) {
                snprintf(err, errlen, "sync report: out of memory");
                series_free(&own);
                rc = SQLITE_NOMEM;
                break;
            }
            tp_sync_nearest(c->t_ns, s->n, state.seq, state.t, state.n, c->state);
            tp_sync_nearest(c->t_ns, s->n, action.seq, action.t, action.n, c->action);
            tp_sync_skew_stats(c->state, s->n, scratch, &c->state_max, &c->state_median);
            tp_sync_skew_stats(c->action, s->n, scratch, &c->action_max, &c->action_median);
        }
        series_free(&own);
        if (rc != SQLITE_ROW)
            break;
    }
    free(scratch);
    if (rc == SQLITE_ROW) /* a failure inside the loop already wrote err */
        rc = SQLITE_ERROR;
    else if (rc != SQLITE_DONE && rc != SQLITE_NOMEM)
        snprintf(err, errlen, "sync report: streams unreadable: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) {
        series_free(&state);
        series_free(&action);
        return 0;
    }
fail:
    series_free(&state);
    series_free(&action);
    tp_sync_report_free(r);
    return -1;
}

static void bind_match(sqlite3_stmt *st, int col, const tp_sync_match *m)
{
    if (m->seq >= 0) {
        sqlite3_bind_int64(st, col, m->seq);
        sqlite3_bind_int64(st, col + 1, m->skew_ns);
    } else {
        sqlite3_bind_null(st, col);
        sqlite3_bind_null(st, col + 1);
    }
}

static void bind_opt(sqlite3_stmt *st, int col, int64_t v)
{
    if (v >= 0)
        sqlite3_bind_int64(st, col, v);
    else
        sqlite3_bind_null(st, col);
}

int tp_sync_store(sqlite3 *db, const tp_sync_report *r, char *err, size_t errlen)
{
    if (sqlite3_exec(db, TP_EPISODE_SYNC_SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "sync report: create tables: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_stmt *row = NULL, *sum = NULL, *gap = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO sync VALUES(?,?,?,?,?,?,?)", -1, &row, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO sync_summary VALUES(?,?,?,?,?,?,?,?)", -1, &sum, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO sync_gaps VALUES(?,?,?,?)", -1, &gap, NULL) != SQLITE_OK)
        goto fail;
    for (int k = 0; k < r->ncameras; k++) {
        const tp_sync_camera *c = &r->cameras[k];
        for (int64_t i = 0; i < c->frames; i++) {
            sqlite3_bind_int(row, 1, c->stream_id);
            sqlite3_bind_int64(row, 2, c->frame_seq[i]);
            sqlite3_bind_int64(row, 3, c->t_ns[i]);
            bind_match(row, 4, &c->state[i]);
            bind_match(row, 6, &c->action[i]);
            if (sqlite3_step(row) != SQLITE_DONE)
                goto fail;
            sqlite3_reset(row);
        }
        sqlite3_bind_int(sum, 1, c->stream_id);
        sqlite3_bind_int64(sum, 2, c->frames);
        bind_opt(sum, 3, r->state_id ? r->state_id : -1);
        bind_opt(sum, 4, c->state_max);
        bind_opt(sum, 5, c->state_median);
        bind_opt(sum, 6, r->action_id ? r->action_id : -1);
        bind_opt(sum, 7, c->action_max);
        bind_opt(sum, 8, c->action_median);
        if (sqlite3_step(sum) != SQLITE_DONE)
            goto fail;
        sqlite3_reset(sum);
    }
    for (size_t i = 0; i < r->ngaps; i++) {
        sqlite3_bind_int(gap, 1, r->gaps[i].stream_id);
        sqlite3_bind_int64(gap, 2, r->gaps[i].seq);
        sqlite3_bind_int64(gap, 3, r->gaps[i].t_ns);
        sqlite3_bind_int64(gap, 4, r->gaps[i].gap_ns);
        if (sqlite3_step(gap) != SQLITE_DONE)
            goto fail;
        sqlite3_reset(gap);
    }
    sqlite3_finalize(row);
    sqlite3_finalize(sum);
    sqlite3_finalize(gap);
    return 0;
fail:
    snprintf(err, errlen, "sync report: write: %s", sqlite3_errmsg(db));
    sqlite3_finalize(row);
    sqlite3_finalize(sum);
    sqlite3_finalize(gap);
    return -1;
}

void tp_sync_report_free(tp_sync_report *r)
{
    for (int k = 0; k < r->ncameras; k++) {
        free(r->cameras[k].frame_seq);
        free(r->cameras[k].t_ns);
        free(r->cameras[k].state);
        free(r->cameras[k].action);
    }
    free(r->cameras);
    free(r->gaps);
    memset(r, 0, sizeof *r);
}

int tp_sync_present(sqlite3 *db)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
                           " AND name IN ('sync', 'sync_summary', 'sync_gaps')",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return n < 0 ? -1 : n > 0;
}
