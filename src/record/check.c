/* teleop — `teleop check`: verifies an episode file end to end. */
#include <errno.h>
#include <expat.h>
#include <fcntl.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdint.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "episode_schema.h"
#include "episode_sync.h"
#include "teleop/episode.h"
#include "teleop/qa.h"
#include "teleop/text.h"
#include "teleop/video.h"

typedef struct checker {
    const char *path;
    FILE *report;
    int problems;
    tp_episode_layout layout;
    bool finished;           /* meta.outcome present */
    bool bounded;            /* start_t_ns and end_t_ns parsed */
    int64_t start_t, end_t;  /* rows must lie in [start_t, end_t) (version 2, finished) */
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
    double span = ((double)s->t_last - (double)s->t_first) / 1e9; /* no int64 overflow on extreme stamps */
    double most = span * s->rate_hz * 1.05 + 2;
    if ((double)(s->count - 1) > most)
        problem(c, "stream '%s': %lld samples in %.3f s exceed its %.1f Hz rate", s->name, (long long)s->count,
                span, s->rate_hz);
    double measured = span > 0 ? ((double)(s->count - 1) + recorded_loss) / span : 0;
    if (measured < 0.5 * s->rate_hz)
        problem(c, "stream '%s': %lld samples in %.3f s (%.1f Hz) is far below its %.1f Hz rate", s->name,
                (long long)s->count, span, measured, s->rate_hz);
}

/* Strict decimal int64: the whole text, no spaces, no overflow. */
static bool parse_i64(const char *text, int64_t *out)
{
    if (!text || !*text || (*text != '-' && (*text < '0' || *text > '9')))
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || end == text)
        return false;
    *out = v;
    return true;
}

/* Strict finite decimal number. */
static bool parse_f64(const char *text, double *out)
{
    if (!text || !*text || !(*text == '-' || *text == '.' || (*text >= '0' && *text <= '9')))
        return false;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || *end || end == text || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* Every 7 values of a sim_objects row: a position, then a unit quaternion
 * (float32: within 1e-3). Returns 1 when the row has a problem. */
static int check_object_poses(checker *c, const tp_stream_info *s, int64_t seq, const void *blob, int reported)
{
    const uint8_t *b = blob;
    for (int o = 0; o + 7 <= s->dims; o += 7) {
        float v[7];
        memcpy(v, b + 4 * (size_t)o, sizeof v);
        double n = 0;
        bool finite = true;
        for (int k = 0; k < 7; k++)
            finite = finite && isfinite(v[k]);
        for (int k = 3; k < 7; k++)
            n += (double)v[k] * v[k];
        if (!finite || fabs(sqrt(n) - 1) > 1e-3) {
            if (!reported)
                problem(c, "stream '%s': sample %lld, object %d: %s", s->name, (long long)seq, o / 7,
                        finite ? "quaternion is not unit length" : "non-finite pose");
            return 1;
        }
    }
    return 0;
}

/* Meta: the version must be exactly the file's, and every documented key
 * with a format must have it. */
static void check_meta(checker *c, tp_episode *ep)
{
    const char *ver = tp_episode_meta(ep, "format_version");
    char want[8];
    snprintf(want, sizeof want, "%d", tp_episode_version(ep));
    if (!ver || strcmp(ver, want))
        problem(c, "meta 'format_version' is '%s', the file's version is %s", ver ? ver : "missing", want);
    static const char *const ints[] = {"created_unix_ns", "finished_unix_ns",     "recovered_unix_ns",
                                       "start_t_ns",      "end_t_ns",             "wall_clock_offset_ns",
                                       "episode_index",   "reviewed_unix_ns",     "qa_unix_ns",
                                       "qa_version"};
    static const char *const reals[] = {"control_rate_hz", "fps", "safety_position_margin_rad"};
    int64_t iv;
    double dv;
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        const char *v = tp_episode_meta(ep, ints[i]);
        if (v && !parse_i64(v, &iv))
            problem(c, "meta '%s' is '%.40s', not an integer", ints[i], v);
    }
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        const char *v = tp_episode_meta(ep, reals[i]);
        if (v && !parse_f64(v, &dv))
            problem(c, "meta '%s' is '%.40s', not a finite number", reals[i], v);
    }
    if (c->layout == TP_LAYOUT_V2 && !tp_episode_meta(ep, "created_unix_ns"))
        problem(c, "meta 'created_unix_ns' is missing");
    const char *outcome = tp_episode_meta(ep, "outcome");
    static const char *const outcomes[] = {"completed", "stopped", "error", "interrupted"};
    bool known = false;
    for (size_t i = 0; outcome && i < 4; i++)
        known = known || !strcmp(outcome, outcomes[i]);
    if (outcome && !known)
        problem(c, "meta 'outcome' is '%.40s' (completed, stopped, error or interrupted)", outcome);
    c->finished = outcome != NULL;
    int64_t start, end;
    if (c->finished && c->layout == TP_LAYOUT_V2 && parse_i64(tp_episode_meta(ep, "start_t_ns"), &start) &&
        parse_i64(tp_episode_meta(ep, "end_t_ns"), &end)) {
        if (end < start)
            problem(c, "meta 'end_t_ns' %lld is before 'start_t_ns' %lld", (long long)end, (long long)start);
        c->bounded = true;
        c->start_t = start;
        c->end_t = end;
    }
}

/* What review and QA write (docs/episode-format.md, Review): optional keys
 * an older version-2 reader ignores, each checked for its format. */
static void check_review_meta(checker *c, tp_episode *ep, sqlite3 *db)
{
    const char *v = tp_episode_meta(ep, "review_verdict");
    if (v && strcmp(v, "success") && strcmp(v, "failure"))
        problem(c, "meta 'review_verdict' is '%.40s' (success or failure)", v);
    int64_t iv;
    if ((v = tp_episode_meta(ep, "rating")) && (!parse_i64(v, &iv) || iv < 1 || iv > 5))
        problem(c, "meta 'rating' is '%.40s', not an integer from 1 to 5", v);
    if ((v = tp_episode_meta(ep, "delete_marked")) && strcmp(v, "1"))
        problem(c, "meta 'delete_marked' is '%.40s', not 1", v);
    int64_t trim[2];
    bool has[2] = {false, false};
    static const char *const trims[2] = {"trim_in_ns", "trim_out_ns"};
    for (int i = 0; i < 2; i++) {
        if (!(v = tp_episode_meta(ep, trims[i])))
            continue;
        if (!parse_i64(v, &trim[i])) {
            problem(c, "meta '%s' is '%.40s', not an integer", trims[i], v);
            continue;
        }
        has[i] = true;
        if (c->bounded && (trim[i] < c->start_t || trim[i] > c->end_t))
            problem(c, "meta '%s' %lld is outside the episode [%lld, %lld]", trims[i], (long long)trim[i],
                    (long long)c->start_t, (long long)c->end_t);
    }
    if (has[0] && has[1] && trim[1] <= trim[0])
        problem(c, "meta 'trim_out_ns' %lld is not after 'trim_in_ns' %lld", (long long)trim[1], (long long)trim[0]);
    unsigned flags;
    char why[128];
    if ((v = tp_episode_meta(ep, "qa_flags")) && tp_qa_parse_flags(v, &flags, why, sizeof why) != 0)
        problem(c, "meta 'qa_flags' is '%.60s': %s", v, why);
    if ((v = tp_episode_meta(ep, "qa_metrics"))) {
        sqlite3_stmt *st;
        bool object = false;
        if (sqlite3_prepare_v2(db, "SELECT json_valid(?1) AND json_type(?1) = 'object'", -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
            object = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
            sqlite3_finalize(st);
        }
        if (!object)
            problem(c, "meta 'qa_metrics' is not a JSON object");
    }
}

/* Text columns must be valid UTF-8 (Python's sqlite3, JSON exports and most
 * tools fail on anything else). */
static void check_text(checker *c, sqlite3 *db)
{
    static const struct {
        const char *table, *column;
        bool v2;
    } text[] = {
        {"meta", "key", false},          {"meta", "value", false},          {"streams", "name", false},
        {"streams", "kind", false},      {"streams", "names", false},       {"streams", "units", false},
        {"streams", "codec", false},     {"events", "kind", false},         {"events", "detail", false},
        {"tags", "name", false},         {"notes", "author", false},        {"notes", "text", false},
        {"attachments", "name", true},   {"attachments", "media_type", true}, {"joint_limits", "name", true},
        {"cameras", "model", true},      {"cameras", "distortion_model", true}, {"cameras", "parent_frame", true},
        {"cameras", "convention", true},
    };
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++) {
        if (text[i].v2 && c->layout != TP_LAYOUT_V2)
            continue;
        char sql[160];
        /* Read as blobs: the bytes as stored, not converted. */
        snprintf(sql, sizeof sql, "SELECT CAST(%s AS BLOB) FROM %s WHERE %s IS NOT NULL", text[i].column,
                 text[i].table, text[i].column);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
            problem(c, "%s.%s unreadable: %s", text[i].table, text[i].column, sqlite3_errmsg(db));
            continue;
        }
        int64_t bad = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *b = sqlite3_column_blob(st, 0);
            int n = sqlite3_column_bytes(st, 0);
            if (n > 0 && (!tp_utf8_valid(b, (size_t)n) || memchr(b, 0, (size_t)n)))
                bad++;
        }
        sqlite3_finalize(st);
        if (bad)
            problem(c, "%s.%s: %lld value(s) are not valid UTF-8 text", text[i].table, text[i].column,
                    (long long)bad);
    }
}

/* Stream rows beyond what the reader needs: a nominal rate is positive
 * and finite (or absent); names and (version 2) units, when stored, give
 * every dimension a non-empty string (the reader has refused anything but a
 * JSON array of strings). */
static void check_stream_rows(checker *c, sqlite3 *db, tp_episode *ep)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT id, name, rate_hz, units IS NULL, names IS NULL FROM streams ORDER BY id", -1,
                           &st, NULL) != SQLITE_OK) {
        problem(c, "streams unreadable: %s", sqlite3_errmsg(db));
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
            double r = sqlite3_column_double(st, 2);
            if (!(r > 0) || !isfinite(r) || r > 1e6)
                problem(c, "stream '%s': rate_hz %g is not a positive finite rate (or NULL)", name, r);
        }
        const tp_stream_info *s = tp_episode_find_stream(ep, name ? name : "");
        if (s && s->kind != TP_STREAM_CAMERA && !sqlite3_column_int(st, 4)) {
            for (int k = 0; k < s->dims; k++)
                if (!s->dim_names[k][0]) {
                    problem(c, "stream '%s': names has %d entries for %d dims", name, k, s->dims);
                    break;
                }
        }
        if (c->layout == TP_LAYOUT_V2 && s && s->kind != TP_STREAM_CAMERA && !sqlite3_column_int(st, 3)) {
            for (int k = 0; k < s->dims; k++)
                if (!s->dim_units[k][0]) {
                    problem(c, "stream '%s': units has no unit for dimension %d", name, k);
                    break;
                }
        }
    }
    sqlite3_finalize(st);
}

/* Version 2's description: attachments match their hashes, the robot
 * description named in meta is there, joint limits cover the joints of the
 * state and action streams, camera parameters are usable. */
static void check_description(checker *c, tp_episode *ep)
{
    if (c->layout != TP_LAYOUT_V2)
        return;
    for (int i = 0; i < tp_episode_attachment_count(ep); i++) {
        const tp_episode_attachment_info *a = tp_episode_attachment_at(ep, i);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        static const uint8_t empty[1] = {0};
        char hex[65] = "";
        if (EVP_Digest(a->size ? a->data : empty, a->size, md, &mdlen, EVP_sha256(), NULL) && mdlen == 32)
            for (unsigned k = 0; k < 32; k++)
                snprintf(hex + 2 * k, 3, "%02x", md[k]);
        if (strcmp(hex, a->sha256))
            problem(c, "attachment '%s': sha256 does not match its data (changed after recording)", a->name);
        /* An XML description (MJCF, URDF) must at least parse as XML (expat);
         * loading it is the simulator's job, not check's. */
        if (!strcmp(a->media_type, "application/xml")) {
            XML_Parser p = XML_ParserCreate(NULL);
            if (p && a->size <= INT32_MAX &&
                XML_Parse(p, (const char *)a->data, (int)a->size, 1) != XML_STATUS_OK)
                problem(c, "attachment '%s': not well-formed XML (line %lu: %s)", a->name,
                        (unsigned long)XML_GetCurrentLineNumber(p), XML_ErrorString(XML_GetErrorCode(p)));
            if (p)
                XML_ParserFree(p);
        }
    }
    const char *desc = tp_episode_meta(ep, "robot_description");
    const char *desc_sha = tp_episode_meta(ep, "robot_description_sha256");
    if (desc) {
        const tp_episode_attachment_info *a = NULL;
        for (int i = 0; i < tp_episode_attachment_count(ep); i++)
            if (!strcmp(tp_episode_attachment_at(ep, i)->name, desc))
                a = tp_episode_attachment_at(ep, i);
        if (!a)
            problem(c, "meta 'robot_description' names attachment '%.80s', which is not in the episode", desc);
        else if (!desc_sha || strcmp(desc_sha, a->sha256))
            problem(c, "meta 'robot_description_sha256' does not match attachment '%s'", a->name);
    } else if (desc_sha)
        problem(c, "meta 'robot_description_sha256' without 'robot_description'");
    int nl = 0;
    const tp_joint_limit *lim = tp_episode_joint_limits(ep, &nl);
    for (int i = 0; i < nl; i++) {
        const tp_joint_limit *l = &lim[i];
        if (!isfinite(l->lower) || !isfinite(l->upper) || l->lower > l->upper ||
            (!isnan(l->velocity) && !(l->velocity > 0 && isfinite(l->velocity))) ||
            (!isnan(l->effort) && !(l->effort > 0 && isfinite(l->effort))))
            problem(c, "joint_limits '%s': invalid limits", l->name);
    }
    if (nl > 0) {
        for (int i = 0; i < tp_episode_stream_count(ep); i++) {
            const tp_stream_info *s = tp_episode_stream(ep, i);
            if (s->kind != TP_STREAM_STATE && s->kind != TP_STREAM_ACTION)
                continue;
            for (int k = 0; k < s->dims; k++) {
                bool found = false;
                for (int j = 0; j < nl && !found; j++)
                    found = !strcmp(lim[j].name, s->dim_names[k]);
                if (!found) {
                    problem(c, "joint_limits: no row for joint '%s' of stream '%s'", s->dim_names[k], s->name);
                    break;
                }
            }
        }
    }
    sqlite3_stmt *st;
    sqlite3 *db = tp_episode_db(ep);
    if (sqlite3_prepare_v2(db, "SELECT stream_id FROM cameras", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            sqlite3_int64 id = sqlite3_column_int64(st, 0);
            const tp_stream_info *s = NULL;
            for (int i = 0; i < tp_episode_stream_count(ep); i++)
                if (tp_episode_stream(ep, i)->id == id)
                    s = tp_episode_stream(ep, i);
            if (!s || s->kind != TP_STREAM_CAMERA) {
                problem(c, "cameras: stream %lld is not a camera stream", (long long)id);
                continue;
            }
            const tp_camera_calibration *p = tp_episode_camera_params(ep, s->id);
            if (!p)
                continue;
            double qn = sqrt(p->quat_wxyz[0] * p->quat_wxyz[0] + p->quat_wxyz[1] * p->quat_wxyz[1] +
                             p->quat_wxyz[2] * p->quat_wxyz[2] + p->quat_wxyz[3] * p->quat_wxyz[3]);
            if (strcmp(p->model, "pinhole"))
                problem(c, "camera '%s': model '%.40s' (pinhole)", s->name, p->model);
            if (!(p->fx > 0) || !(p->fy > 0) || !isfinite(p->fx) || !isfinite(p->fy))
                problem(c, "camera '%s': focal lengths %g, %g are not positive and finite", s->name, p->fx, p->fy);
            if (!(p->cx >= 0 && p->cx <= s->width && p->cy >= 0 && p->cy <= s->height))
                problem(c, "camera '%s': principal point (%g, %g) is outside the %dx%d image", s->name, p->cx, p->cy,
                        s->width, s->height);
            if (!isfinite(p->position[0]) || !isfinite(p->position[1]) || !isfinite(p->position[2]) ||
                !(fabs(qn - 1) < 1e-6))
                problem(c, "camera '%s': pose is not finite with a unit quaternion (|q| = %g)", s->name, qn);
            if (p->ndistortion < 0 || (!strcmp(p->distortion_model, "none") && p->ndistortion != 0))
                problem(c, "camera '%s': distortion does not fit its model '%.40s'", s->name, p->distortion_model);
            if (strcmp(p->convention, "mujoco"))
                problem(c, "camera '%s': convention '%.40s' (mujoco)", s->name, p->convention);
        }
        sqlite3_finalize(st);
    } else
        problem(c, "cameras unreadable: %s", sqlite3_errmsg(db));
}

static void check_samples(checker *c, sqlite3 *db, const tp_stream_info *s)
{
    sqlite3_stmt *st;
    bool quats = !strcmp(s->name, TP_SIM_OBJECTS_STREAM);
    if (quats && (s->kind != TP_STREAM_OTHER || s->dims % 7 != 0)) {
        problem(c, "stream '%s': kind %s, %d dims; expected kind other and 7 values (position, quaternion) per object",
                s->name, s->kind_name, s->dims);
        quats = false;
    }
    if (sqlite3_prepare_v2(db,
                           c->layout == TP_LAYOUT_V1_PLAIN
                               ? "SELECT seq, t_ns, data, 0 FROM samples WHERE stream_id = ? ORDER BY seq"
                               : "SELECT seq, t_ns, data, crc32 FROM samples WHERE stream_id = ? ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK) {
        problem(c, "stream '%s': samples unreadable: %s", s->name, sqlite3_errmsg(db));
        return;
    }
    sqlite3_bind_int(st, 1, s->id);
    int64_t expect = 0, last_t = INT64_MIN;
    int bad_size = 0, bad_seq = 0, bad_time = 0, bad_crc = 0, bad_bounds = 0, bad_quat = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0), t = sqlite3_column_int64(st, 1);
        const void *data = sqlite3_column_blob(st, 2);
        int len = sqlite3_column_bytes(st, 2);
        if (len != 4 * s->dims && !bad_size++)
            problem(c, "stream '%s': sample %lld has %d bytes, expected %d (%d float32)", s->name, (long long)seq,
                    len, 4 * s->dims, s->dims);
        uint32_t stored = (uint32_t)sqlite3_column_int64(st, 3);
        bool crc_ok = c->layout == TP_LAYOUT_V1_PLAIN ? true
                      : c->layout == TP_LAYOUT_V1_CRC ? tp_episode_crc32(data, (size_t)len) == stored
                                                      : tp_episode_sample_crc(s->id, seq, t, data, (size_t)len) == stored;
        if (!crc_ok && !bad_crc++)
            problem(c, "stream '%s': sample %lld does not match its crc32 (changed after recording)", s->name,
                    (long long)seq);
        if (c->bounded && (t < c->start_t || t >= c->end_t) && !bad_bounds++)
            problem(c, "stream '%s': sample %lld at t_ns %lld is outside the episode [start_t_ns, end_t_ns)", s->name,
                    (long long)seq, (long long)t);
        if (quats && len == 4 * s->dims)
            bad_quat += check_object_poses(c, s, seq, data, bad_quat);
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
                           c->layout == TP_LAYOUT_V1_PLAIN
                               ? "SELECT seq, pts, t_ns, keyframe, data, 0 FROM video_packets WHERE stream_id = ?"
                                 " ORDER BY seq"
                               : "SELECT seq, pts, t_ns, keyframe, data, crc32 FROM video_packets WHERE stream_id = ?"
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
    int rc, bad_seq = 0, bad_time = 0, bad_pkt = 0, bad_frame = 0, bad_crc = 0, bad_bounds = 0;
    tp_video_frame fr;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0), pts = sqlite3_column_int64(st, 1), t = sqlite3_column_int64(st, 2);
        int64_t keycol = sqlite3_column_int64(st, 3);
        bool key = keycol != 0;
        const uint8_t *data = sqlite3_column_blob(st, 4);
        size_t size = (size_t)sqlite3_column_bytes(st, 4);
        uint32_t stored = (uint32_t)sqlite3_column_int64(st, 5);
        bool crc_ok = c->layout == TP_LAYOUT_V1_PLAIN ? true
                      : c->layout == TP_LAYOUT_V1_CRC
                          ? tp_episode_crc32(data, size) == stored
                          : (keycol == 0 || keycol == 1) &&
                                tp_episode_packet_crc(s->id, seq, pts, t, key, data, size) == stored;
        if (!crc_ok && !bad_crc++)
            problem(c, "camera '%s': packet %lld does not match its crc32 (changed after recording)", s->name,
                    (long long)seq);
        if (c->bounded && (t < c->start_t || t >= c->end_t) && !bad_bounds++)
            problem(c, "camera '%s': packet %lld at t_ns %lld is outside the episode [start_t_ns, end_t_ns)", s->name,
                    (long long)seq, (long long)t);
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

/* 1 when a writer holds the episode's lock (it is being recorded), 0 when
 * not, -1 when path is not a regular file (the reader says why). Probed
 * before SQLite opens the file: closing this descriptor later would drop
 * SQLite's POSIX locks on it. */
static int writer_alive(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat sb;
    int live = -1;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
        live = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK ? 1 : 0;
    close(fd);
    return live;
}

int tp_episode_check_status(const char *path, FILE *report, bool *live)
{
    checker c = {.path = path, .report = report};
    char err[512];
    int alive = writer_alive(path);
    if (live)
        *live = alive == 1;
    /* One snapshot: the reader's read transaction covers every query below,
     * so an episode being recorded is checked as of one commit. */
    tp_episode *ep = tp_episode_open(path, err, sizeof err);
    if (!ep) {
        fprintf(report, "%s\n", err);
        return 1;
    }
    sqlite3 *db = tp_episode_db(ep);
    c.layout = tp_episode_layout_of(ep);
    check_integrity(&c, db);
    check_orphans(&c, db);
    check_meta(&c, ep);
    check_review_meta(&c, ep, db);
    check_text(&c, db);
    check_stream_rows(&c, db, ep);
    if (tp_episode_stream_count(ep) == 0)
        problem(&c, "no streams");
    for (int i = 0; i < tp_episode_stream_count(ep); i++) {
        const tp_stream_info *s = tp_episode_stream(ep, i);
        if (s->kind == TP_STREAM_CAMERA)
            check_video(&c, db, s);
        else
            check_samples(&c, db, s);
    }
    /* Finishing stores the report with the outcome in one transaction. */
    if (c.finished && c.layout == TP_LAYOUT_V2 && tp_sync_present(db) == 0)
        problem(&c, "the episode has an outcome but no sync report (tables sync, sync_summary, sync_gaps)");
    check_sync(&c, db);
    check_description(&c, ep);
    tp_episode_close(ep);
    if (c.problems > 50)
        fprintf(report, "%s: ... %d problems in all\n", path, c.problems);
    return c.problems ? 1 : 0;
}

int tp_episode_check(const char *path, FILE *report) { return tp_episode_check_status(path, report, NULL); }
