/* teleop — `teleop check`: verifies an episode file end to end. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "episode_schema.h"
#include "episode_sync.h"
#include "teleop/episode.h"
#include "teleop/video.h"

typedef struct checker {
    const char *path;
    FILE *report;
    int problems;
} checker;

static void problem(checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(checker *c, const char *fmt, ...)
{
    c->problems++;
    if (c->problems > 50) /* enough to act on; a broken file can have millions */
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(c->report, "%s: ", c->path);
    vfprintf(c->report, fmt, ap);
    fputc('\n', c->report);
    va_end(ap);
}

static void check_integrity(checker *c, sqlite3 *db)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check(20)", -1, &st, NULL) != SQLITE_OK) {
        problem(c, "integrity check failed: %s", sqlite3_errmsg(db));
        return;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *msg = (const char *)sqlite3_column_text(st, 0);
        if (msg && strcmp(msg, "ok") != 0)
            problem(c, "database corrupt: %s", msg);
    }
    if (rc != SQLITE_DONE)
        problem(c, "database corrupt: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
}

/* Every table and column of format v1, so a file missing one is reported
 * by name rather than failing later on a query. */
static void check_schema(checker *c, sqlite3 *db)
{
    static const struct {
        const char *table, *columns[13];
    } schema[] = {
        {"meta", {"key", "value"}},
        {"streams",
         {"id", "name", "kind", "dtype", "dims", "names", "units", "rate_hz", "codec", "width", "height", "extradata"}},
        {"samples", {"stream_id", "seq", "t_ns", "data", "crc32"}},
        {"video_packets", {"stream_id", "seq", "pts", "t_ns", "keyframe", "data", "crc32"}},
        {"events", {"id", "t_ns", "kind", "detail"}},
        {"tags", {"name"}},
        {"notes", {"id", "t_unix_ns", "author", "text"}},
    };
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", -1, &st, NULL) != SQLITE_OK) {
        problem(c, "schema unreadable: %s", sqlite3_errmsg(db));
        return;
    }
    for (size_t i = 0; i < sizeof schema / sizeof schema[0]; i++) {
        sqlite3_bind_text(st, 1, schema[i].table, -1, SQLITE_STATIC);
        for (size_t k = 0; k < 13 && schema[i].columns[k]; k++) {
            sqlite3_bind_text(st, 2, schema[i].columns[k], -1, SQLITE_STATIC);
            int rc = sqlite3_step(st);
            sqlite3_reset(st);
            if (rc == SQLITE_ROW)
                continue;
            if (k == 0)
                problem(c, "table '%s' is missing", schema[i].table);
            else
                problem(c, "table '%s' has no column '%s'", schema[i].table, schema[i].columns[k]);
            if (k == 0)
                break;
        }
    }
    sqlite3_finalize(st);
}

/* Rows that belong to no stream of their kind are invisible to every
 * reader: data was lost or spliced in. */
static void check_orphans(checker *c, sqlite3 *db)
{
    static const char *const sql[] = {
        "SELECT count(*) FROM samples WHERE stream_id NOT IN (SELECT id FROM streams WHERE kind != 'camera')",
        "SELECT count(*) FROM video_packets WHERE stream_id NOT IN (SELECT id FROM streams WHERE kind = 'camera')",
    };
    static const char *const what[] = {"samples", "video packets"};
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK) {
            problem(c, "%s unreadable: %s", what[i], sqlite3_errmsg(db));
            continue;
        }
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0)
            problem(c, "%lld %s belong to no stream of their kind", (long long)sqlite3_column_int64(st, 0), what[i]);
        sqlite3_finalize(st);
    }
}

/* Frames a camera's events account for: each frame_dropped event is one
 * frame, a frames_missed event "N frames missed", a camera_gap "no frames
 * for N ms" (docs/episode-format.md, Events). Their details start with
 * "camera NAME:". */
static double recorded_camera_loss(sqlite3 *db, const tp_stream_info *s)
{
    char prefix[160];
    snprintf(prefix, sizeof prefix, "camera %s:", s->name);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT kind, detail FROM events WHERE kind IN ('frame_dropped', 'frames_missed', 'camera_gap') "
                           "AND substr(detail, 1, length(?1)) = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, prefix, -1, SQLITE_TRANSIENT);
    double frames = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        const char *detail = (const char *)sqlite3_column_text(st, 1);
        const char *gap = detail ? strstr(detail, "no frames for ") : NULL;
        if (!strcmp(kind, "frame_dropped"))
            frames += 1;
        else if (!strcmp(kind, "frames_missed") && detail && strlen(detail) > strlen(prefix))
            frames += atof(detail + strlen(prefix));
        else if (gap)
            frames += atof(gap + strlen("no frames for ")) / 1e3 * s->rate_hz;
    }
    sqlite3_finalize(st);
    return frames;
}

/* Count against duration: a stream cannot hold more samples than its rate
 * allows (duplication, splicing), and one far below its rate lost data
 * (unless events record the loss: frames dropped, a camera's gaps). */
static void check_rate(checker *c, const tp_stream_info *s, double recorded_loss)
{
    if (!(s->rate_hz > 0) || s->count < 3)
        return;
    double span = (double)(s->t_last - s->t_first) / 1e9;
    double most = span * s->rate_hz * 1.05 + 2;
    if ((double)(s->count - 1) > most)
        problem(c, "stream '%s': %lld samples in %.3f s exceed its %.1f Hz rate", s->name, (long long)s->count,
                span, s->rate_hz);
    double measured = span > 0 ? ((double)(s->count - 1) + recorded_loss) / span : 0;
    if (measured < 0.5 * s->rate_hz)
        problem(c, "stream '%s': %lld samples in %.3f s (%.1f Hz) is far below its %.1f Hz rate", s->name,
                (long long)s->count, span, measured, s->rate_hz);
}

static void check_samples(checker *c, sqlite3 *db, const tp_stream_info *s)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT seq, t_ns, data, crc32 FROM samples WHERE stream_id = ? ORDER BY seq", -1, &st,
                           NULL) != SQLITE_OK) {
        problem(c, "stream '%s': samples unreadable: %s", s->name, sqlite3_errmsg(db));
        return;
    }
    sqlite3_bind_int(st, 1, s->id);
    int64_t expect = 0, last_t = INT64_MIN;
    int bad_size = 0, bad_seq = 0, bad_time = 0, bad_crc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0), t = sqlite3_column_int64(st, 1);
        const void *data = sqlite3_column_blob(st, 2);
        int len = sqlite3_column_bytes(st, 2);
        if (len != 4 * s->dims && !bad_size++)
            problem(c, "stream '%s': sample %lld has %d bytes, expected %d (%d float32)", s->name, (long long)seq,
                    len, 4 * s->dims, s->dims);
        if (tp_episode_crc32(data, (size_t)len) != (uint32_t)sqlite3_column_int64(st, 3) && !bad_crc++)
            problem(c, "stream '%s': sample %lld does not match its crc32 (data changed after recording)", s->name,
                    (long long)seq);
        if (seq != expect && !bad_seq++)
            problem(c, "stream '%s': sample sequence jumps from %lld to %lld (rows missing)", s->name,
                    (long long)expect - 1, (long long)seq);
        if (t <= last_t && !bad_time++)
            problem(c, "stream '%s': timestamp of sample %lld does not increase (%lld after %lld)", s->name,
                    (long long)seq, (long long)t, (long long)last_t);
        expect = seq + 1;
        last_t = t;
    }
    if (rc != SQLITE_DONE)
        problem(c, "stream '%s': samples unreadable: %s", s->name, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    check_rate(c, s, 0);
}

static void check_video(checker *c, sqlite3 *db, const tp_stream_info *s)
{
    char err[256];
    if (s->width <= 0 || s->height <= 0) {
        problem(c, "camera '%s': invalid frame size %dx%d", s->name, s->width, s->height);
        return;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT seq, pts, t_ns, keyframe, data, crc32 FROM video_packets WHERE stream_id = ?"
                           " ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK) {
        problem(c, "camera '%s': packets unreadable: %s", s->name, sqlite3_errmsg(db));
        return;
    }
    sqlite3_bind_int(st, 1, s->id);
    tp_video_decoder *dec = tp_video_decoder_create(s->codec, s->extradata, s->extradata_size, s->width, s->height, err,
                                                     sizeof err);
    if (!dec) {
        problem(c, "camera '%s': %s", s->name, err);
        sqlite3_finalize(st);
        return;
    }
    int64_t expect = 0, last_t = INT64_MIN, last_pts = INT64_MIN, frames = 0;
    int rc, bad_seq = 0, bad_time = 0, bad_pkt = 0, bad_frame = 0, bad_crc = 0;
    tp_video_frame fr;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0), pts = sqlite3_column_int64(st, 1), t = sqlite3_column_int64(st, 2);
        bool key = sqlite3_column_int(st, 3) != 0;
        const uint8_t *data = sqlite3_column_blob(st, 4);
        size_t size = (size_t)sqlite3_column_bytes(st, 4);
        if (tp_episode_crc32(data, size) != (uint32_t)sqlite3_column_int64(st, 5) && !bad_crc++)
            problem(c, "camera '%s': packet %lld does not match its crc32 (data changed after recording)", s->name,
                    (long long)seq);
        if (seq == 0 && !key)
            problem(c, "camera '%s': the first packet is not a keyframe", s->name);
        if (seq != expect && !bad_seq++)
            problem(c, "camera '%s': packet sequence jumps from %lld to %lld (packets missing)", s->name,
                    (long long)expect - 1, (long long)seq);
        if ((t <= last_t || pts <= last_pts) && !bad_time++)
            problem(c, "camera '%s': timestamp of packet %lld does not increase", s->name, (long long)seq);
        expect = seq + 1;
        last_t = t;
        last_pts = pts;
        if (size == 0 || tp_video_decoder_send(dec, data, size, pts, err, sizeof err) != 0) {
            if (!bad_pkt++)
                problem(c, "camera '%s': packet %lld does not decode: %s", s->name, (long long)seq,
                        size ? err : "empty");
            continue;
        }
        int r;
        while ((r = tp_video_decoder_receive(dec, &fr, err, sizeof err)) == 1) {
            frames++;
            if ((fr.width != s->width || fr.height != s->height) && !bad_frame++)
                problem(c, "camera '%s': frame is %dx%d, stream says %dx%d", s->name, fr.width, fr.height, s->width,
                        s->height);
        }
        if (r < 0 && !bad_pkt++)
            problem(c, "camera '%s': packet %lld does not decode: %s", s->name, (long long)seq, err);
    }
    if (rc != SQLITE_DONE)
        problem(c, "camera '%s': packets unreadable: %s", s->name, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    tp_video_decoder_send(dec, NULL, 0, 0, err, sizeof err);
    int r;
    while ((r = tp_video_decoder_receive(dec, &fr, err, sizeof err)) == 1)
        frames++;
    if (r < 0 && !bad_pkt++)
        problem(c, "camera '%s': final frames do not decode: %s", s->name, err);
    if (frames != s->count)
        problem(c, "camera '%s': %lld packets decoded to %lld frames", s->name, (long long)s->count,
                (long long)frames);
    tp_video_decoder_destroy(dec);
    check_rate(c, s, recorded_camera_loss(db, s));
}

static bool same_int(sqlite3_stmt *st, int col, int64_t want)
{
    return sqlite3_column_type(st, col) == SQLITE_INTEGER && sqlite3_column_int64(st, col) == want;
}

/* want < 0 stands for NULL (no reference stream, or no sample). */
static bool same_opt(sqlite3_stmt *st, int col, int64_t want)
{
    return want < 0 ? sqlite3_column_type(st, col) == SQLITE_NULL : same_int(st, col, want);
}

static bool same_match(sqlite3_stmt *st, int col, const tp_sync_match *m)
{
    if (m->seq < 0)
        return sqlite3_column_type(st, col) == SQLITE_NULL && sqlite3_column_type(st, col + 1) == SQLITE_NULL;
    return same_int(st, col, m->seq) && same_int(st, col + 1, m->skew_ns);
}

/* The sync report is optional (an interrupted episode has none until it is
 * recovered); when present it must be exactly what the rows give, so it is
 * recomputed and compared row by row. */
static void check_sync(checker *c, sqlite3 *db)
{
    int present = tp_sync_present(db);
    if (present <= 0) {
        if (present < 0)
            problem(c, "sync report unreadable: %s", sqlite3_errmsg(db));
        return;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
                               " AND name IN ('sync', 'sync_summary', 'sync_gaps')", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != 3) {
        sqlite3_finalize(st);
        problem(c, "sync report incomplete: tables sync, sync_summary and sync_gaps go together");
        return;
    }
    sqlite3_finalize(st);
    tp_sync_report r;
    char err[256];
    if (tp_sync_compute(db, &r, err, sizeof err) != 0) {
        problem(c, "%s", err);
        return;
    }
    /* Per camera: the summary, then every frame's row. */
    int bad = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT camera_stream_id, frames, state_stream_id, state_max_skew_ns, state_median_skew_ns,"
                           " action_stream_id, action_max_skew_ns, action_median_skew_ns FROM sync_summary"
                           " ORDER BY camera_stream_id",
                           -1, &st, NULL) != SQLITE_OK) {
        problem(c, "sync_summary unreadable: %s", sqlite3_errmsg(db));
        tp_sync_report_free(&r);
        return;
    }
    int k = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !bad) {
        int id = sqlite3_column_int(st, 0);
        const tp_sync_camera *cam = k < r.ncameras ? &r.cameras[k] : NULL;
        if (!cam || cam->stream_id != id) {
            problem(c, "sync_summary: camera stream %d is not a camera of this episode, or out of order", id);
            bad++;
        } else if (sqlite3_column_int64(st, 1) != cam->frames || !same_opt(st, 2, r.state_id ? r.state_id : -1) ||
                   !same_opt(st, 3, cam->state_max) || !same_opt(st, 4, cam->state_median) ||
                   !same_opt(st, 5, r.action_id ? r.action_id : -1) || !same_opt(st, 6, cam->action_max) ||
                   !same_opt(st, 7, cam->action_median)) {
            problem(c, "sync_summary: camera stream %d does not match its frames and samples", id);
            bad++;
        }
        k++;
    }
    if (!bad && rc == SQLITE_DONE && k != r.ncameras)
        problem(c, "sync_summary: %d cameras, the episode has %d", k, r.ncameras);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db,
                           "SELECT camera_stream_id, frame_seq, t_ns, state_seq, state_skew_ns, action_seq,"
                           " action_skew_ns FROM sync ORDER BY camera_stream_id, frame_seq",
                           -1, &st, NULL) != SQLITE_OK) {
        problem(c, "sync unreadable: %s", sqlite3_errmsg(db));
        tp_sync_report_free(&r);
        return;
    }
    k = 0;
    int64_t i = 0;
    bad = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        while (k < r.ncameras && i >= r.cameras[k].frames) {
            k++;
            i = 0;
        }
        const tp_sync_camera *cam = k < r.ncameras ? &r.cameras[k] : NULL;
        int id = sqlite3_column_int(st, 0);
        int64_t seq = sqlite3_column_int64(st, 1);
        if (cam && (id > cam->stream_id || (id == cam->stream_id && seq > cam->frame_seq[i]))) {
            problem(c, "sync: camera stream %d frame %lld has no row", cam->stream_id, (long long)cam->frame_seq[i]);
            bad++;
            break;
        }
        if (!cam || cam->stream_id != id || cam->frame_seq[i] != seq) {
            problem(c, "sync: row for camera stream %d frame %lld has no such video frame", id, (long long)seq);
            bad++;
            break;
        }
        if (sqlite3_column_int64(st, 2) != cam->t_ns[i] || !same_match(st, 3, &cam->state[i]) ||
            !same_match(st, 5, &cam->action[i])) {
            problem(c, "sync: camera stream %d frame %lld: stored nearest samples or skews differ from the rows", id,
                    (long long)seq);
            bad++;
            break;
        }
        i++;
    }
    if (!bad) {
        while (k < r.ncameras && i >= r.cameras[k].frames) {
            k++;
            i = 0;
        }
        if (rc != SQLITE_DONE)
            problem(c, "sync unreadable: %s", sqlite3_errmsg(db));
        else if (k < r.ncameras)
            problem(c, "sync: camera stream %d frame %lld has no row", r.cameras[k].stream_id,
                    (long long)r.cameras[k].frame_seq[i]);
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT stream_id, seq, t_ns, gap_ns FROM sync_gaps ORDER BY stream_id, seq", -1, &st,
                           NULL) != SQLITE_OK) {
        problem(c, "sync_gaps unreadable: %s", sqlite3_errmsg(db));
        tp_sync_report_free(&r);
        return;
    }
    size_t g = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const tp_sync_gap *want = g < r.ngaps ? &r.gaps[g] : NULL;
        int id = sqlite3_column_int(st, 0);
        int64_t seq = sqlite3_column_int64(st, 1);
        if (want && (id > want->stream_id || (id == want->stream_id && seq > want->seq))) {
            problem(c, "sync_gaps: the gap in stream %d before row %lld (%.3f ms) is not stored", want->stream_id,
                    (long long)want->seq, (double)want->gap_ns / 1e6);
            break;
        }
        if (!want || id != want->stream_id || seq != want->seq || sqlite3_column_int64(st, 2) != want->t_ns ||
            sqlite3_column_int64(st, 3) != want->gap_ns) {
            problem(c, "sync_gaps: gap at stream %d row %lld does not match the stream's timestamps", id,
                    (long long)seq);
            break;
        }
        g++;
    }
    if (rc == SQLITE_DONE && g < r.ngaps)
        problem(c, "sync_gaps: the gap in stream %d before row %lld (%.3f ms) is not stored", r.gaps[g].stream_id,
                (long long)r.gaps[g].seq, (double)r.gaps[g].gap_ns / 1e6);
    sqlite3_finalize(st);
    tp_sync_report_free(&r);
}

int tp_episode_check(const char *path, FILE *report)
{
    checker c = {.path = path, .report = report};
    char err[512];
    tp_episode *ep = tp_episode_open(path, err, sizeof err);
    if (!ep) {
        fprintf(report, "%s\n", err);
        return 1;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        problem(&c, "cannot open: %s", db ? sqlite3_errmsg(db) : "out of memory");
    } else {
        check_integrity(&c, db);
        check_schema(&c, db);
        check_orphans(&c, db);
        const char *ver = tp_episode_meta(ep, "format_version");
        if (!ver || atoi(ver) != TP_EPISODE_FORMAT_VERSION)
            problem(&c, "meta 'format_version' is %s, expected %d", ver ? ver : "missing", TP_EPISODE_FORMAT_VERSION);
        if (tp_episode_stream_count(ep) == 0)
            problem(&c, "no streams");
        for (int i = 0; i < tp_episode_stream_count(ep); i++) {
            const tp_stream_info *s = tp_episode_stream(ep, i);
            if (s->kind == TP_STREAM_CAMERA)
                check_video(&c, db, s);
            else
                check_samples(&c, db, s);
        }
        check_sync(&c, db);
    }
    if (db)
        sqlite3_close(db);
    tp_episode_close(ep);
    if (c.problems > 50)
        fprintf(report, "%s: ... %d problems in all\n", path, c.problems);
    return c.problems ? 1 : 0;
}
