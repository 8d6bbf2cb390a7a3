/* teleop — `teleop info`: an episode's summary, for people or as JSON. */
#include <errno.h>
#include <iconv.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "episode_schema.h"
#include "episode_sync.h"
#include "teleop/episode.h"

static void put_utf8(FILE *out, uint32_t cp)
{
    if (cp < 0x80)
        fputc((int)cp, out);
    else if (cp < 0x800) {
        fputc((int)(0xc0 | (cp >> 6)), out);
        fputc((int)(0x80 | (cp & 0x3f)), out);
    } else if (cp < 0x10000) {
        fputc((int)(0xe0 | (cp >> 12)), out);
        fputc((int)(0x80 | ((cp >> 6) & 0x3f)), out);
        fputc((int)(0x80 | (cp & 0x3f)), out);
    } else {
        fputc((int)(0xf0 | (cp >> 18)), out);
        fputc((int)(0x80 | ((cp >> 12) & 0x3f)), out);
        fputc((int)(0x80 | ((cp >> 6) & 0x3f)), out);
        fputc((int)(0x80 | (cp & 0x3f)), out);
    }
}

static void put_json_char(FILE *out, uint32_t cp)
{
    switch (cp) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\n': fputs("\\n", out); break;
    case '\r': fputs("\\r", out); break;
    case '\t': fputs("\\t", out); break;
    default:
        if (cp < 0x20 || cp == 0x7f)
            fprintf(out, "\\u%04x", (unsigned)cp);
        else
            put_utf8(out, cp);
    }
}

/* A JSON string: text decoded as UTF-8 by glibc's iconv (strict); every
 * byte that is not part of a valid sequence becomes U+FFFD, so the output is
 * always valid JSON in valid UTF-8. */
static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    if (!s)
        s = "";
    iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
    char *in = (char *)s;
    size_t left = strlen(s);
    while (left > 0) {
        uint32_t cps[256];
        char *o = (char *)cps;
        size_t room = sizeof cps;
        size_t r = cd == (iconv_t)-1 ? (size_t)-1 : iconv(cd, &in, &left, &o, &room);
        int e = errno;
        size_t n = (size_t)(o - (char *)cps) / 4;
        for (size_t i = 0; i < n; i++)
            put_json_char(out, cps[i]);
        if (r == (size_t)-1 && (cd == (iconv_t)-1 || e != E2BIG)) {
            put_utf8(out, 0xfffd); /* an invalid or cut-short sequence: one byte replaced */
            in++;
            left--;
            if (cd != (iconv_t)-1)
                iconv(cd, NULL, NULL, NULL, NULL);
        }
    }
    if (cd != (iconv_t)-1)
        iconv_close(cd);
    fputc('"', out);
}

/* A JSON number, or null for what JSON cannot hold (inf, nan). */
static void json_number(FILE *out, double v, const char *fmt)
{
    if (isfinite(v))
        fprintf(out, fmt, v);
    else
        fputs("null", out);
}

static double measured_rate(const tp_stream_info *s)
{
    double span = ((double)s->t_last - (double)s->t_first) / 1e9; /* no int64 overflow */
    return s->count > 1 && span > 0 ? (double)(s->count - 1) / span : 0.0;
}

static int count_event(const tp_episode_event *ev, void *user)
{
    (void)ev;
    (*(int *)user)++;
    return 0;
}

/* The meta entries people look for first; --json lists them all. */
static const char *const meta_keys[] = {"task",    "robot",       "operator",        "outcome",
                                        "station", "calibration", "software_version"};

/* "2025-03-01 14:02:03 UTC" from a meta value in Unix nanoseconds. */
static void utc_time(char *buf, size_t len, const char *unix_ns)
{
    char *end;
    long long ns = unix_ns ? strtoll(unix_ns, &end, 10) : 0;
    time_t t = (time_t)(ns / 1000000000LL);
    struct tm tm;
    if (!unix_ns || *end || ns <= 0 || !gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(buf, len, "%s", unix_ns ? unix_ns : "unknown");
}

static const char *stream_name(const tp_episode *ep, int id)
{
    for (int i = 0; i < tp_episode_stream_count(ep); i++)
        if (tp_episode_stream(ep, i)->id == id)
            return tp_episode_stream(ep, i)->name;
    return "?";
}

static void ms_or_none(FILE *out, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        fputs("-", out);
    else
        fprintf(out, "%.3f ms", (double)sqlite3_column_int64(st, col) / 1e6);
}

static void json_int_or_null(FILE *out, const char *key, sqlite3_stmt *st, int col)
{
    fprintf(out, ",\"%s\":", key);
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        fputs("null", out);
    else
        fprintf(out, "%lld", (long long)sqlite3_column_int64(st, col));
}

/* The stored sync report: per camera skew statistics, per stream gaps. */
static void print_sync(tp_episode *ep, bool json, FILE *out)
{
    sqlite3 *db = tp_episode_db(ep);
    sqlite3_stmt *cams = NULL, *gaps = NULL;
    if (tp_sync_present(db) != 1 ||
        sqlite3_prepare_v2(db,
                           "SELECT camera_stream_id, frames, state_max_skew_ns, state_median_skew_ns,"
                           " action_max_skew_ns, action_median_skew_ns FROM sync_summary ORDER BY camera_stream_id",
                           -1, &cams, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT stream_id, count(*), max(gap_ns), sum(gap_ns) FROM sync_gaps"
                           " GROUP BY stream_id ORDER BY stream_id",
                           -1, &gaps, NULL) != SQLITE_OK) {
        sqlite3_finalize(cams);
        const char *why = tp_episode_layout_of(ep) == TP_LAYOUT_V1_PLAIN ? "its format predates the sync report"
                          : tp_episode_meta(ep, "outcome")                ? "missing, though the episode is finished"
                                                                          : "the episode was not finished; see teleop recover";
        if (json)
            fputs(",\"sync\":null", out);
        else
            fprintf(out, "sync:     not stored (%s)\n", why);
        return;
    }
    if (json) {
        fputs(",\"sync\":{\"cameras\":[", out);
        for (int n = 0; sqlite3_step(cams) == SQLITE_ROW; n++) {
            fputs(n ? ",{\"name\":" : "{\"name\":", out);
            json_string(out, stream_name(ep, sqlite3_column_int(cams, 0)));
            fprintf(out, ",\"frames\":%lld", (long long)sqlite3_column_int64(cams, 1));
            json_int_or_null(out, "state_max_skew_ns", cams, 2);
            json_int_or_null(out, "state_median_skew_ns", cams, 3);
            json_int_or_null(out, "action_max_skew_ns", cams, 4);
            json_int_or_null(out, "action_median_skew_ns", cams, 5);
            fputc('}', out);
        }
        fputs("],\"gaps\":[", out);
        for (int n = 0; sqlite3_step(gaps) == SQLITE_ROW; n++) {
            fputs(n ? ",{\"stream\":" : "{\"stream\":", out);
            json_string(out, stream_name(ep, sqlite3_column_int(gaps, 0)));
            fprintf(out, ",\"count\":%lld,\"longest_ns\":%lld,\"total_ns\":%lld}",
                    (long long)sqlite3_column_int64(gaps, 1), (long long)sqlite3_column_int64(gaps, 2),
                    (long long)sqlite3_column_int64(gaps, 3));
        }
        fputs("]}", out);
    } else {
        int n = 0;
        while (sqlite3_step(cams) == SQLITE_ROW) {
            fprintf(out, "%s%-16s %lld frames; nearest state: skew max ", n++ ? "          " : "sync:     ",
                    stream_name(ep, sqlite3_column_int(cams, 0)), (long long)sqlite3_column_int64(cams, 1));
            ms_or_none(out, cams, 2);
            fputs(", median ", out);
            ms_or_none(out, cams, 3);
            fputs("; action: max ", out);
            ms_or_none(out, cams, 4);
            fputs(", median ", out);
            ms_or_none(out, cams, 5);
            fputc('\n', out);
        }
        if (!n)
            fputs("sync:     no cameras\n", out);
        fputs("gaps:    ", out);
        for (n = 0; sqlite3_step(gaps) == SQLITE_ROW; n++)
            fprintf(out, "%s %s %lld (longest %.3f ms)", n ? "," : "", stream_name(ep, sqlite3_column_int(gaps, 0)),
                    (long long)sqlite3_column_int64(gaps, 1), (double)sqlite3_column_int64(gaps, 2) / 1e6);
        fprintf(out, "%s (intervals over %d nominal periods)\n", n ? "" : " none", TP_SYNC_GAP_FACTOR);
    }
    sqlite3_finalize(cams);
    sqlite3_finalize(gaps);
}

/* The embedded description: attachments (with whether each still matches
 * its hash) and the joint limits. */
static void print_description(tp_episode *ep, bool json, FILE *out)
{
    int nl = 0;
    tp_episode_joint_limits(ep, &nl);
    const char *desc = tp_episode_meta(ep, "robot_description");
    if (json) {
        fputs(",\"attachments\":[", out);
        for (int i = 0; i < tp_episode_attachment_count(ep); i++) {
            const tp_episode_attachment_info *a = tp_episode_attachment_at(ep, i);
            fputs(i ? ",{\"name\":" : "{\"name\":", out);
            json_string(out, a->name);
            fputs(",\"media_type\":", out);
            json_string(out, a->media_type);
            fprintf(out, ",\"size\":%zu,\"sha256\":", a->size);
            json_string(out, a->sha256);
            fputc('}', out);
        }
        fputs("],\"robot_description\":", out);
        if (desc)
            json_string(out, desc);
        else
            fputs("null", out);
        fprintf(out, ",\"joint_limits\":%d", nl);
        return;
    }
    if (tp_episode_version(ep) < 2) {
        fprintf(out, "description: none (format version %s stores no attachments, joint limits or camera parameters)\n",
                tp_episode_layout_name(ep));
        return;
    }
    fprintf(out, "robot description: %s\n", desc ? desc : "none");
    for (int i = 0; i < tp_episode_attachment_count(ep); i++) {
        const tp_episode_attachment_info *a = tp_episode_attachment_at(ep, i);
        fprintf(out, "  attachment %-32s %-26s %8zu bytes  sha256 %.16s…\n", a->name, a->media_type, a->size,
                a->sha256);
    }
    fprintf(out, "joint limits: %d joints\n", nl);
}

int tp_episode_info(const char *path, bool json, FILE *out, FILE *err_out)
{
    char err[512];
    tp_episode *ep = tp_episode_open(path, err, sizeof err);
    if (!ep) {
        fprintf(err_out, "%s\n", err);
        return 1;
    }
    struct stat sb;
    long long size = stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
    int64_t t0 = INT64_MAX, t1 = INT64_MIN;
    for (int i = 0; i < tp_episode_stream_count(ep); i++) {
        const tp_stream_info *s = tp_episode_stream(ep, i);
        if (s->count == 0)
            continue;
        if (s->t_first < t0)
            t0 = s->t_first;
        if (s->t_last > t1)
            t1 = s->t_last;
    }
    double duration = t1 > t0 ? ((double)t1 - (double)t0) / 1e9 : 0.0;
    int events = 0;
    tp_episode_events(ep, count_event, &events);

    if (json) {
        fputs("{\"path\":", out);
        json_string(out, path);
        fprintf(out, ",\"file_size\":%lld,\"duration_s\":", size);
        json_number(out, duration, "%.6f");
        fprintf(out, ",\"format_version\":%d,\"layout\":", tp_episode_version(ep));
        json_string(out, tp_episode_layout_name(ep));
        fputs(",\"meta\":{", out);
        const char *key, *value;
        for (int k = 0; tp_episode_meta_at(ep, k, &key, &value) == 0; k++) {
            if (k)
                fputc(',', out);
            json_string(out, key);
            fputc(':', out);
            json_string(out, value);
        }
        fputs("},\"streams\":[", out);
        for (int i = 0; i < tp_episode_stream_count(ep); i++) {
            const tp_stream_info *s = tp_episode_stream(ep, i);
            fputs(i ? ",{\"name\":" : "{\"name\":", out);
            json_string(out, s->name);
            fputs(",\"kind\":", out);
            json_string(out, s->kind_name);
            fprintf(out, ",\"dims\":%d,\"count\":%" PRId64 ",\"rate_hz\":", s->dims, s->count);
            json_number(out, measured_rate(s), "%.3f");
            fputs(",\"nominal_rate_hz\":", out);
            json_number(out, s->rate_hz, "%.3f");
            fputs(",\"t_meaning\":", out);
            json_string(out, s->t_meaning_name);
            if (s->units && s->units[0]) {
                fputs(",\"units\":[", out);
                for (int k = 0; k < s->dims; k++) {
                    if (k)
                        fputc(',', out);
                    json_string(out, s->dim_units[k]);
                }
                fputc(']', out);
            }
            if (s->kind == TP_STREAM_CAMERA) {
                fprintf(out, ",\"width\":%d,\"height\":%d,\"codec\":", s->width, s->height);
                json_string(out, s->codec);
                fprintf(out, ",\"frames\":%" PRId64 ",\"fps\":", s->count);
                json_number(out, measured_rate(s), "%.3f");
                const tp_camera_calibration *p = tp_episode_camera_params(ep, s->id);
                if (p) {
                    fputs(",\"camera\":{\"model\":", out);
                    json_string(out, p->model);
                    const double v[] = {p->fx, p->fy, p->cx, p->cy};
                    const char *const k[] = {"fx", "fy", "cx", "cy"};
                    for (int i = 0; i < 4; i++) {
                        fprintf(out, ",\"%s\":", k[i]);
                        json_number(out, v[i], "%.17g");
                    }
                    fputs(",\"distortion_model\":", out);
                    json_string(out, p->distortion_model);
                    fputs(",\"distortion\":[", out);
                    for (int i = 0; i < p->ndistortion; i++) {
                        if (i)
                            fputc(',', out);
                        json_number(out, p->distortion[i], "%.17g");
                    }
                    fputs("],\"parent_frame\":", out);
                    json_string(out, p->parent_frame);
                    fputs(",\"position\":[", out);
                    for (int i = 0; i < 3; i++) {
                        if (i)
                            fputc(',', out);
                        json_number(out, p->position[i], "%.17g");
                    }
                    fputs("],\"quat_wxyz\":[", out);
                    for (int i = 0; i < 4; i++) {
                        if (i)
                            fputc(',', out);
                        json_number(out, p->quat_wxyz[i], "%.17g");
                    }
                    fputs("],\"convention\":", out);
                    json_string(out, p->convention);
                    fputc('}', out);
                }
            }
            fputc('}', out);
        }
        fprintf(out, "],\"events\":%d", events);
        print_description(ep, true, out);
        print_sync(ep, true, out);
        fputs("}\n", out);
    } else {
        fprintf(out, "episode:  %s\n", path);
        fprintf(out, "size:     %lld bytes\n", size);
        fprintf(out, "duration: %.3f s\n", duration);
        fprintf(out, "format:   version %s\n", tp_episode_layout_name(ep));
        for (size_t k = 0; k < sizeof meta_keys / sizeof meta_keys[0]; k++) {
            const char *v = tp_episode_meta(ep, meta_keys[k]);
            if (v && v[0])
                fprintf(out, "%-9s %s\n", meta_keys[k], v);
        }
        char when[64];
        utc_time(when, sizeof when, tp_episode_meta(ep, "created_unix_ns"));
        fprintf(out, "%-9s %s\n", "created", when);
        fprintf(out, "events:   %d\n", events);
        fprintf(out, "streams:\n");
        for (int i = 0; i < tp_episode_stream_count(ep); i++) {
            const tp_stream_info *s = tp_episode_stream(ep, i);
            fprintf(out, "  %-16s %-8s dims %-4d count %-7" PRId64 " rate %.2f Hz (nominal %.1f)", s->name,
                    s->kind_name, s->dims, s->count, measured_rate(s), s->rate_hz);
            if (s->kind == TP_STREAM_CAMERA)
                fprintf(out, "  %dx%d %s, %" PRId64 " frames, %.2f fps", s->width, s->height, s->codec, s->count,
                        measured_rate(s));
            fprintf(out, "  t_ns: %s", s->t_meaning_name);
            fputc('\n', out);
            const tp_camera_calibration *p = s->kind == TP_STREAM_CAMERA ? tp_episode_camera_params(ep, s->id) : NULL;
            if (p)
                fprintf(out,
                        "  %-16s %s fx %.3f fy %.3f cx %.3f cy %.3f, distortion %s, on %s at (%.4f, %.4f, %.4f)"
                        " q(wxyz) (%.6f, %.6f, %.6f, %.6f), %s convention\n",
                        "", p->model, p->fx, p->fy, p->cx, p->cy, p->distortion_model, p->parent_frame,
                        p->position[0], p->position[1], p->position[2], p->quat_wxyz[0], p->quat_wxyz[1],
                        p->quat_wxyz[2], p->quat_wxyz[3], p->convention);
        }
        print_description(ep, false, out);
        print_sync(ep, false, out);
    }
    tp_episode_close(ep);
    return 0;
}
