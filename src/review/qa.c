/* teleop — automatic QA flags (include/teleop/qa.h; measures, thresholds
 * and their sources in docs/qa.md). */
#include "teleop/qa.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "review_lock.h"
#include "teleop/episode.h"

/* Thresholds (docs/qa.md says where each comes from). */
#define QA_SKEW_FRAME_FRACTION 0.5      /* sync_skew: skew over half a frame period */
#define QA_DEADLINE_FRACTION 0.01       /* deadline_misses: over 1 % of control cycles late */
#define QA_MIN_DURATION_S 1.0           /* too_short regardless of peers (lerobot-doctor: < 1 s) */
#define QA_MIN_PEERS 4                  /* a duration distribution needs this many other episodes */
#define QA_MAD_K 3.0                    /* too_short/too_long: beyond median ± 3 robust sigma */
#define QA_MAD_SIGMA 1.4826             /* MAD to sigma for a normal distribution */
#define QA_MIN_BAND_FRACTION 0.25       /* ... and beyond ± 25 % of the median */
#define QA_FRAME_RATE_HZ 30.0           /* motion measured on a dataset's frame grid */
#define QA_STATIC_STEP_RAD 1e-3         /* a frame whose largest joint step is under this is static */
#define QA_STATIC_FRACTION 0.8          /* low_movement: over 80 % static frames (lerobot-doctor) */
#define QA_JERK_LIMIT 2000.0            /* jerky: 95th percentile RMS joint jerk over this (rad/s^3) */
#define QA_MOTION_MIN_FRAMES 30         /* low_movement and jerky judged on at least 1 s of frames */

#define QA_MAX_CAMERAS 32

typedef struct camera_loss {
    const char *name;
    int id;
    double rate_hz;
    int64_t t_first, t_last, count;
    int64_t dropped, missed_events, gap_lost;
} camera_loss;

typedef struct qa_scan {
    camera_loss cams[QA_MAX_CAMERAS];
    int ncams;
    int64_t holds, safety, tracking, deadline, severe_stalls;
} qa_scan;

/* Frames a gap of gap_ns stands for at rate_hz beyond the one after it,
 * counted only beyond 2 nominal periods (the sync report's gap rule). */
static int64_t gap_frames(int64_t gap_ns, double rate_hz)
{
    double periods = (double)gap_ns * rate_hz / 1e9;
    return periods > 2.0 ? (int64_t)llround(periods) - 1 : 0;
}

static bool starts_with(const char *s, const char *p) { return s && !strncmp(s, p, strlen(p)); }

static camera_loss *camera_of(qa_scan *q, const char *detail)
{
    /* "camera NAME: …" */
    if (!starts_with(detail, "camera "))
        return q->ncams == 1 ? &q->cams[0] : NULL;
    const char *name = detail + 7, *colon = strchr(name, ':');
    size_t n = colon ? (size_t)(colon - name) : strlen(name);
    for (int i = 0; i < q->ncams; i++)
        if (strlen(q->cams[i].name) == n && !strncmp(q->cams[i].name, name, n))
            return &q->cams[i];
    return NULL;
}

static int count_event(const tp_episode_event *ev, void *user)
{
    qa_scan *q = user;
    const char *k = ev->kind;
    if (!strcmp(k, "frame_dropped")) {
        camera_loss *c = camera_of(q, ev->detail);
        if (c)
            c->dropped++;
    } else if (!strcmp(k, "frames_missed")) {
        camera_loss *c = camera_of(q, ev->detail);
        const char *colon = ev->detail ? strchr(ev->detail, ':') : NULL;
        long long n = colon ? strtoll(colon + 1, NULL, 10) : 1;
        if (c)
            c->missed_events += n > 0 ? n : 1;
    } else if (!strcmp(k, "camera_gap") && ev->detail && strstr(ev->detail, "until the end")) {
        /* A gap still open at the end has no row after it, so the sync
         * report has no gap for it: "camera NAME: no frames for T ms, …". */
        camera_loss *c = camera_of(q, ev->detail);
        const char *for_ = strstr(ev->detail, "no frames for ");
        if (c && for_)
            c->gap_lost += gap_frames((int64_t)(strtod(for_ + 14, NULL) * 1e6), c->rate_hz);
    } else if (!strcmp(k, "emergency_hold") || !strcmp(k, "safety_workspace_hold") ||
               !strcmp(k, "robot_state_stale")) {
        q->holds++;
    } else if (starts_with(k, "safety_")) {
        q->safety++; /* position and velocity clamps, non-finite input */
    } else if (!strcmp(k, "tracking_lost") || !strcmp(k, "xr_tracking_lost") || !strcmp(k, "input_stale")) {
        q->tracking++;
    } else if (!strcmp(k, "deadline_miss")) {
        q->deadline++;
    } else if (!strcmp(k, "watchdog_control_stall") || !strcmp(k, "sim_time_skipped")) {
        q->severe_stalls++;
    }
    return 0;
}

/* The sync report (maximum skews, camera gaps) through SQLite: the reader
 * does not expose it. */
static int read_sync(const char *path, qa_scan *q, double *max_skew_ms, bool *skewed, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    *max_skew_ms = 0;
    *skewed = false;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_stmt *st;
    int have = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = 'sync_summary'", -1, &st, NULL) ==
        SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            have = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    if (!have) {
        sqlite3_close(db);
        return 0;
    }
    int rc = -1;
    if (sqlite3_prepare_v2(db,
                           "SELECT camera_stream_id, max(coalesce(state_max_skew_ns, 0), "
                           "coalesce(action_max_skew_ns, 0)) FROM sync_summary",
                           -1, &st, NULL) != SQLITE_OK)
        goto out;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int id = sqlite3_column_int(st, 0);
        double skew_ms = (double)sqlite3_column_int64(st, 1) / 1e6;
        if (skew_ms > *max_skew_ms)
            *max_skew_ms = skew_ms;
        for (int i = 0; i < q->ncams; i++)
            if (q->cams[i].id == id && q->cams[i].rate_hz > 0 &&
                skew_ms > QA_SKEW_FRAME_FRACTION * 1e3 / q->cams[i].rate_hz)
                *skewed = true;
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT stream_id, gap_ns FROM sync_gaps", -1, &st, NULL) != SQLITE_OK)
        goto out;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int id = sqlite3_column_int(st, 0);
        for (int i = 0; i < q->ncams; i++)
            if (q->cams[i].id == id)
                q->cams[i].gap_lost += gap_frames(sqlite3_column_int64(st, 1), q->cams[i].rate_hz);
    }
    sqlite3_finalize(st);
    rc = 0;
out:
    if (rc != 0)
        snprintf(err, errlen, "%s: sync report unreadable: %s", path, sqlite3_errmsg(db));
    sqlite3_close(db);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Movement and jerk of the commanded joint positions on a 30 Hz grid (a
 * dataset's frame rate), interpolated linearly between the recorded rows. */
typedef struct motion {
    int dims;
    float *f[4]; /* the last four grid frames, f[0] newest */
    int64_t frames, moving;
    double *jerk;
    size_t njerk, capjerk;
} motion;

static int motion_frame(motion *m, const float *row)
{
    float *oldest = m->f[3];
    memmove(&m->f[1], &m->f[0], 3 * sizeof m->f[0]);
    m->f[0] = oldest;
    memcpy(m->f[0], row, sizeof(float) * (size_t)m->dims);
    m->frames++;
    if (m->frames >= 2) {
        double step = 0;
        for (int j = 0; j < m->dims; j++)
            step = fmax(step, fabs((double)m->f[0][j] - (double)m->f[1][j]));
        if (step >= QA_STATIC_STEP_RAD)
            m->moving++;
    }
    if (m->frames >= 4) {
        double fps3 = QA_FRAME_RATE_HZ * QA_FRAME_RATE_HZ * QA_FRAME_RATE_HZ, sum = 0;
        for (int j = 0; j < m->dims; j++) {
            double d3 = ((double)m->f[0][j] - 3.0 * m->f[1][j] + 3.0 * m->f[2][j] - (double)m->f[3][j]) * fps3;
            sum += d3 * d3;
        }
        if (m->njerk == m->capjerk) {
            size_t cap = m->capjerk ? m->capjerk * 2 : 1024;
            double *j = realloc(m->jerk, sizeof *j * cap);
            if (!j)
                return -1;
            m->jerk = j;
            m->capjerk = cap;
        }
        m->jerk[m->njerk++] = sqrt(sum / m->dims);
    }
    return 0;
}

static int measure_motion(tp_episode *ep, const char *path, double *movement, double *jerk, int64_t *frames,
                          char *err, size_t errlen)
{
    *movement = *jerk = 0;
    *frames = 0;
    const tp_stream_info *s = tp_episode_find_stream(ep, "action");
    for (int i = 0; !s && i < tp_episode_stream_count(ep); i++)
        if (tp_episode_stream(ep, i)->kind == TP_STREAM_ACTION)
            s = tp_episode_stream(ep, i);
    if (!s || s->count < 2)
        return 0;
    motion m = {.dims = s->dims};
    float *prev = malloc(sizeof(float) * (size_t)s->dims), *cur = malloc(sizeof(float) * (size_t)s->dims);
    for (int i = 0; i < 4; i++)
        m.f[i] = malloc(sizeof(float) * (size_t)s->dims);
    tp_episode_cursor *c = tp_episode_cursor_open(ep, s->id);
    int rc = -1;
    if (!prev || !cur || !m.f[0] || !m.f[1] || !m.f[2] || !m.f[3] || !c) {
        snprintf(err, errlen, "%s: cannot read stream '%s'", path, s->name);
        goto out;
    }
    const int64_t period = (int64_t)llround(1e9 / QA_FRAME_RATE_HZ);
    int64_t grid = s->t_first, prev_t = 0;
    bool have_prev = false;
    tp_episode_row row;
    int r;
    while ((r = tp_episode_cursor_next(c, &row)) == 1) {
        /* Grid instants in [prev_t, row.t_ns): linear between the two rows
         * (a hold would add the rows' own 0–2 ms phase as jerk). */
        while (have_prev && grid < row.t_ns) {
            double a = (double)(grid - prev_t) / (double)(row.t_ns - prev_t);
            for (int j = 0; j < s->dims; j++)
                cur[j] = (float)((1.0 - a) * prev[j] + a * row.samples[j]);
            if (motion_frame(&m, cur) != 0)
                goto oom;
            grid += period;
        }
        memcpy(prev, row.samples, sizeof(float) * (size_t)s->dims);
        prev_t = row.t_ns;
        have_prev = true;
    }
    if (r < 0) {
        snprintf(err, errlen, "%s: stream '%s' unreadable", path, s->name);
        goto out;
    }
    if (have_prev && grid <= s->t_last && motion_frame(&m, prev) != 0)
        goto oom;
    *frames = m.frames;
    if (m.frames >= 2)
        *movement = (double)m.moving / (double)(m.frames - 1);
    if (m.njerk > 0) {
        qsort(m.jerk, m.njerk, sizeof *m.jerk, cmp_double);
        *jerk = m.jerk[(size_t)ceil(0.95 * (double)m.njerk) - 1];
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "%s: out of memory", path);
out:
    tp_episode_cursor_close(c);
    free(prev);
    free(cur);
    for (int i = 0; i < 4; i++)
        free(m.f[i]);
    free(m.jerk);
    return rc;
}

/* A peer's duration from its meta, without the full reader (a folder of
 * hundreds of episodes is read at every finish): SQLite read-only, our
 * application_id, finished (an outcome, not in WAL mode). -1: not usable. */
static double peer_duration(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    unsigned char h[100];
    struct stat st;
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && pread(fd, h, sizeof h, 0) == (ssize_t)sizeof h &&
              !memcmp(h, "SQLite format 3", 16) && h[18] == 1 && h[19] == 1 &&
              ((uint32_t)h[68] << 24 | (uint32_t)h[69] << 16 | (uint32_t)h[70] << 8 | h[71]) ==
                  (uint32_t)TP_EPISODE_APPLICATION_ID;
    close(fd);
    if (!ok)
        return -1;
    sqlite3 *db = NULL;
    double d = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(db,
                               "SELECT (SELECT value FROM meta WHERE key = 'outcome'), "
                               "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'start_t_ns'), "
                               "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'end_t_ns')",
                               -1, &q, NULL) == SQLITE_OK) {
            if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL &&
                sqlite3_column_type(q, 1) != SQLITE_NULL && sqlite3_column_type(q, 2) != SQLITE_NULL) {
                int64_t a = sqlite3_column_int64(q, 1), b = sqlite3_column_int64(q, 2);
                if (b > a)
                    d = (double)(b - a) / 1e9;
            }
            sqlite3_finalize(q);
        }
    }
    sqlite3_close(db);
    return d;
}

/* Peer durations read before, by file identity: `teleop qa DIR` judges
 * every episode of a folder against the others, which would otherwise open
 * each peer once per episode. */
typedef struct peer_memo {
    char *path;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    double duration;
} peer_memo;

static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;
static peer_memo *memo;
static size_t nmemo, capmemo;
#define QA_MEMO_MAX 100000

static double peer_duration_memo(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    pthread_mutex_lock(&memo_lock);
    for (size_t i = 0; i < nmemo; i++) {
        peer_memo *m = &memo[i];
        if (m->dev == st.st_dev && m->ino == st.st_ino && m->size == st.st_size &&
            m->mtime.tv_sec == st.st_mtim.tv_sec && m->mtime.tv_nsec == st.st_mtim.tv_nsec &&
            !strcmp(m->path, path)) {
            double d = m->duration;
            pthread_mutex_unlock(&memo_lock);
            return d;
        }
    }
    pthread_mutex_unlock(&memo_lock);
    double d = peer_duration(path);
    pthread_mutex_lock(&memo_lock);
    if (nmemo == capmemo && capmemo < QA_MEMO_MAX) {
        size_t cap = capmemo ? capmemo * 2 : 256;
        peer_memo *m = realloc(memo, sizeof *m * cap);
        if (m) {
            memo = m;
            capmemo = cap;
        }
    }
    char *copy = nmemo < capmemo ? strdup(path) : NULL;
    if (copy)
        memo[nmemo++] = (peer_memo){copy, st.st_dev, st.st_ino, st.st_size, st.st_mtim, d};
    pthread_mutex_unlock(&memo_lock);
    return d;
}

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return !strcmp(a, b) || (stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
}

static void judge_duration(const char *path, const char *const *peers, int npeers, tp_qa_report *r)
{
    if (r->duration_s < QA_MIN_DURATION_S)
        r->flags |= TP_QA_TOO_SHORT;
    if (!peers || npeers <= 0)
        return;
    double *d = malloc(sizeof *d * (size_t)npeers), *dev = malloc(sizeof *dev * (size_t)npeers);
    int n = 0;
    for (int i = 0; d && dev && i < npeers; i++) {
        if (same_file(path, peers[i]))
            continue;
        double v = peer_duration_memo(peers[i]);
        if (v > 0)
            d[n++] = v;
    }
    if (n >= QA_MIN_PEERS) {
        qsort(d, (size_t)n, sizeof *d, cmp_double);
        double median = n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2;
        for (int i = 0; i < n; i++)
            dev[i] = fabs(d[i] - median);
        qsort(dev, (size_t)n, sizeof *dev, cmp_double);
        double mad = n % 2 ? dev[n / 2] : (dev[n / 2 - 1] + dev[n / 2]) / 2;
        double band = fmax(QA_MAD_K * QA_MAD_SIGMA * mad, QA_MIN_BAND_FRACTION * median);
        r->session_median_duration_s = median;
        r->session_episodes = n;
        if (r->duration_s < median - band)
            r->flags |= TP_QA_TOO_SHORT;
        if (r->duration_s > median + band)
            r->flags |= TP_QA_TOO_LONG;
    }
    free(d);
    free(dev);
}

static bool parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

int tp_qa_compute(const char *path, const char *const *peers, int npeers, tp_qa_report *out, char *err,
                  size_t errlen)
{
    memset(out, 0, sizeof *out);
    tp_episode *ep = tp_episode_open(path, err, errlen);
    if (!ep)
        return -1;
    int rc = -1;
    qa_scan *q = calloc(1, sizeof *q);
    if (!q) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    int64_t first = INT64_MAX, last = INT64_MIN, control_rows = 0;
    for (int i = 0; i < tp_episode_stream_count(ep); i++) {
        const tp_stream_info *s = tp_episode_stream(ep, i);
        if (s->count > 0) {
            first = s->t_first < first ? s->t_first : first;
            last = s->t_last > last ? s->t_last : last;
        }
        if (s->kind == TP_STREAM_STATE && !strcmp(s->name, "state"))
            control_rows = s->count;
        if (s->kind == TP_STREAM_CAMERA && q->ncams < QA_MAX_CAMERAS)
            q->cams[q->ncams++] = (camera_loss){.name = s->name, .id = s->id, .rate_hz = s->rate_hz,
                                                .t_first = s->t_first, .t_last = s->t_last, .count = s->count};
    }
    int64_t start, end;
    bool bounded = parse_i64(tp_episode_meta(ep, "start_t_ns"), &start) &&
                   parse_i64(tp_episode_meta(ep, "end_t_ns"), &end) && end >= start;
    if (bounded)
        out->duration_s = (double)(end - start) / 1e9;
    else if (last >= first)
        out->duration_s = (double)(last - first) / 1e9;
    const char *outcome = tp_episode_meta(ep, "outcome");
    out->interrupted = outcome && (!strcmp(outcome, "interrupted") || !strcmp(outcome, "error"));
    if (tp_episode_events(ep, count_event, q) != 0) {
        snprintf(err, errlen, "%s: events unreadable", path);
        goto out;
    }
    bool skewed;
    if (read_sync(path, q, &out->max_sync_skew_ms, &skewed, err, errlen) != 0)
        goto out;
    /* A camera that delivered nothing lost every frame of the episode. */
    for (int i = 0; i < q->ncams; i++)
        if (bounded && q->cams[i].count == 0 && q->cams[i].rate_hz > 0)
            q->cams[i].gap_lost += (int64_t)floor((double)(end - start) * q->cams[i].rate_hz / 1e9);
    for (int i = 0; i < q->ncams; i++) {
        camera_loss *c = &q->cams[i];
        /* A dropped frame leaves a gap between the frames around it: gap
         * frames beyond the dropped ones were missed. */
        int64_t missed = c->gap_lost - c->dropped > c->missed_events ? c->gap_lost - c->dropped : c->missed_events;
        out->frames_dropped += c->dropped;
        out->frames_missed += missed;
    }
    out->holds = q->holds;
    out->safety_interventions = q->safety;
    out->tracking_lost = q->tracking;
    out->deadline_misses = q->deadline + q->severe_stalls;
    int64_t motion_frames;
    if (measure_motion(ep, path, &out->movement, &out->jerk, &motion_frames, err, errlen) != 0)
        goto out;

    if (out->frames_dropped + out->frames_missed > 0)
        out->flags |= TP_QA_DROPPED_FRAMES;
    if (skewed)
        out->flags |= TP_QA_SYNC_SKEW;
    if (out->holds > 0)
        out->flags |= TP_QA_HOLDS;
    if (out->safety_interventions > 0)
        out->flags |= TP_QA_SAFETY;
    if (out->tracking_lost > 0)
        out->flags |= TP_QA_TRACKING_LOST;
    if (q->severe_stalls > 0 || (double)q->deadline > QA_DEADLINE_FRACTION * (double)control_rows)
        out->flags |= TP_QA_DEADLINE_MISSES;
    if (out->interrupted)
        out->flags |= TP_QA_INTERRUPTED;
    if (motion_frames >= QA_MOTION_MIN_FRAMES && out->movement < 1.0 - QA_STATIC_FRACTION)
        out->flags |= TP_QA_LOW_MOVEMENT;
    if (motion_frames >= QA_MOTION_MIN_FRAMES && out->jerk > QA_JERK_LIMIT)
        out->flags |= TP_QA_JERKY;
    judge_duration(path, peers, npeers, out);
    rc = 0;
out:
    free(q);
    tp_episode_close(ep);
    return rc;
}

static double finite_or_zero(double v) { return isfinite(v) ? v : 0; }

size_t tp_qa_format_metrics(const tp_qa_report *r, char *out, size_t outlen)
{
    int n = snprintf(out, outlen,
                     "{\"duration_s\": %.6f, \"frames_dropped\": %lld, \"frames_missed\": %lld, "
                     "\"max_sync_skew_ms\": %.6f, \"holds\": %lld, \"safety_interventions\": %lld, "
                     "\"tracking_lost\": %lld, \"deadline_misses\": %lld, \"interrupted\": %s, \"movement\": %.6f, "
                     "\"jerk\": %.6f, \"session_median_duration_s\": %.6f, \"session_episodes\": %d}",
                     finite_or_zero(r->duration_s), (long long)r->frames_dropped, (long long)r->frames_missed,
                     finite_or_zero(r->max_sync_skew_ms), (long long)r->holds, (long long)r->safety_interventions,
                     (long long)r->tracking_lost, (long long)r->deadline_misses, r->interrupted ? "true" : "false",
                     finite_or_zero(r->movement), finite_or_zero(r->jerk),
                     finite_or_zero(r->session_median_duration_s), r->session_episodes);
    return n < 0 ? 0 : (size_t)n < outlen ? (size_t)n : outlen ? outlen - 1 : 0;
}

int tp_qa_store(const char *path, const tp_qa_report *r, char *err, size_t errlen)
{
    char flags[256], metrics[1024], ver[16], now[32];
    tp_qa_format_flags(r->flags, flags, sizeof flags);
    tp_qa_format_metrics(r, metrics, sizeof metrics);
    snprintf(ver, sizeof ver, "%d", TP_QA_VERSION);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(now, sizeof now, "%lld", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);

    tp_review_lock lock;
    if (tp_review_lock_finished(path, "QA not stored", &lock, err, errlen) != 0)
        return -1;
    sqlite3 *db = NULL;
    int rc = -1;
    if (tp_review_open_rw(path, &db, err, errlen) != 0)
        goto out;
    const char *keys[4] = {"qa_flags", "qa_metrics", "qa_version", "qa_unix_ns"};
    const char *vals[4] = {flags, metrics, ver, now};
    sqlite3_stmt *st = NULL;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", -1, &st, NULL) != SQLITE_OK)
        goto fail;
    for (int i = 0; i < 4; i++) {
        sqlite3_bind_text(st, 1, keys[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, vals[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto fail;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    rc = 0;
    goto out;
fail:
    tp_review_db_error(db, path, "write", "QA not stored", err, errlen);
    sqlite3_finalize(st);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
    if (db && tp_review_close_rw(db, path, rc == 0 ? err : NULL, errlen) != 0)
        rc = -1;
    tp_review_unlock(&lock);
    return rc;
}

int tp_qa_read(const char *path, unsigned *flags, char *err, size_t errlen)
{
    *flags = 0;
    tp_episode *ep = tp_episode_open(path, err, errlen);
    if (!ep)
        return -1;
    const char *v = tp_episode_meta(ep, "qa_flags");
    int rc = 0;
    if (v) {
        char e[128];
        if (tp_qa_parse_flags(v, flags, e, sizeof e) != 0) {
            snprintf(err, errlen, "%s: meta 'qa_flags': %s", path, e);
            rc = -1;
        } else {
            rc = 1;
        }
    }
    tp_episode_close(ep);
    return rc;
}

/* The session's earlier episodes: same folder, same session stamp
 * (episode-YYYYMMDD-HHMMSS-NNN.db), a lower number. */
int tp_qa_finish(const char *path, unsigned *flags, char *err, size_t errlen)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    else
        snprintf(dir, sizeof dir, ".");
    const char *last_dash = strrchr(base, '-');
    size_t prefix = last_dash ? (size_t)(last_dash - base) + 1 : 0;
    char **peers = NULL;
    int n = 0, cap = 0;
    DIR *d = prefix && !strncmp(base, "episode-", 8) ? opendir(dir) : NULL;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 4 || strcmp(de->d_name + l - 3, ".db") || strncmp(de->d_name, base, prefix) ||
            strcmp(de->d_name, base) >= 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(peers, sizeof *p * (size_t)cap);
            if (!p)
                break;
            peers = p;
        }
        if (asprintf(&peers[n], "%s/%s", dir, de->d_name) < 0)
            break;
        n++;
    }
    if (d)
        closedir(d);
    tp_qa_report r;
    int rc = tp_qa_compute(path, (const char *const *)peers, n, &r, err, errlen);
    if (rc == 0)
        rc = tp_qa_store(path, &r, err, errlen);
    if (rc == 0 && flags)
        *flags = r.flags;
    for (int i = 0; i < n; i++)
        free(peers[i]);
    free(peers);
    return rc;
}
