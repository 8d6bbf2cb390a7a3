/* teleop — `teleop info`: an episode's summary, for people or as JSON. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "episode_schema.h"
#include "episode_sync.h"
#include "teleop/episode.h"

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
        switch (*c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*c < 0x20)
                fprintf(out, "\\u%04x", *c);
            else
                fputc(*c, out);
        }
    }
    fputc('"', out);
}

static double measured_rate(const tp_stream_info *s)
{
    double span = (double)(s->t_last - s->t_first) / 1e9;
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
        fputs(json ? ",\"sync\":null" : "sync:     not stored (the episode was not finished; see teleop recover)\n",
              out);
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
    double duration = t1 > t0 ? (double)(t1 - t0) / 1e9 : 0.0;
    int events = 0;
    tp_episode_events(ep, count_event, &events);

    if (json) {
        fputs("{\"path\":", out);
        json_string(out, path);
        /* The reader accepted the file, so its format is this version. */
        fprintf(out, ",\"file_size\":%lld,\"duration_s\":%.6f,\"format_version\":%d,\"meta\":{", size, duration,
                TP_EPISODE_FORMAT_VERSION);
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
            fprintf(out, ",\"dims\":%d,\"count\":%" PRId64 ",\"rate_hz\":%.3f,\"nominal_rate_hz\":%.3f", s->dims,
                    s->count, measured_rate(s), s->rate_hz);
            if (s->units && s->units[0]) {
                fputs(",\"units\":", out);
                json_string(out, s->units);
            }
            if (s->kind == TP_STREAM_CAMERA) {
                fprintf(out, ",\"width\":%d,\"height\":%d,\"codec\":", s->width, s->height);
                json_string(out, s->codec);
                fprintf(out, ",\"frames\":%" PRId64 ",\"fps\":%.3f", s->count, measured_rate(s));
            }
            fputc('}', out);
        }
        fprintf(out, "],\"events\":%d", events);
        print_sync(ep, true, out);
        fputs("}\n", out);
    } else {
        fprintf(out, "episode:  %s\n", path);
        fprintf(out, "size:     %lld bytes\n", size);
        fprintf(out, "duration: %.3f s\n", duration);
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
            fputc('\n', out);
        }
        print_sync(ep, false, out);
    }
    tp_episode_close(ep);
    return 0;
}
