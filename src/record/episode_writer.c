/* teleop — episode database writer: one SQLite file per episode, WAL while
 * recording, prepared statements reused for every row, batches in caller
 * transactions. */
#include <errno.h>
#include <fcntl.h>
#include <libavutil/crc.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "episode_schema.h"
#include "episode_sync.h"
#include "teleop/episode.h"

typedef struct stream_slot {
    char *name; /* NULL: no stream with this id */
    int dims;
    bool camera;
} stream_slot;

struct tp_episode_writer {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *ins_sample, *ins_packet, *ins_event, *ins_meta, *begin, *commit;
    stream_slot *streams; /* indexed by stream id */
    int nslots;
    char error[512];
    bool in_txn;
};

const char *tp_stream_kind_name(tp_stream_kind kind)
{
    switch (kind) {
    case TP_STREAM_CAMERA: return "camera";
    case TP_STREAM_STATE: return "state";
    case TP_STREAM_ACTION: return "action";
    case TP_STREAM_OPERATOR: return "operator";
    case TP_STREAM_OTHER: return "other";
    }
    return "other";
}

uint32_t tp_episode_crc32(const void *data, size_t size)
{
    /* zlib's CRC-32 (pre- and post-inverted), so Python's zlib.crc32 and
     * any other zlib binding reproduce it. */
    return av_crc(av_crc_get_table(AV_CRC_32_IEEE_LE), UINT32_MAX, data, size) ^ UINT32_MAX;
}

static int fail_db(tp_episode_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_db(tp_episode_writer *w, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(w->error, sizeof w->error, "%s: %s: %s", w->path, what, sqlite3_errmsg(w->db));
    return -1;
}

static int fail(tp_episode_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(tp_episode_writer *w, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(w->error, sizeof w->error, "%s: %s", w->path, what);
    return -1;
}

static int exec(tp_episode_writer *w, const char *sql, const char *what)
{
    if (sqlite3_exec(w->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return fail_db(w, "%s", what);
    return 0;
}

/* Runs a prepared statement once and rearms it for the next row. */
static int step_reset(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int64_t unix_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int prepare(tp_episode_writer *w, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v3(w->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return fail_db(w, "prepare '%.40s...'", sql);
    return 0;
}

tp_episode_writer *tp_episode_writer_create(const char *path, char *err, size_t errlen)
{
    /* Exclusive create: two stations can never write one episode, and an
     * existing episode is never overwritten. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create episode: %s", path, strerror(errno));
        return NULL;
    }
    close(fd);
    tp_episode_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) {
        free(w);
        unlink(path);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    if (sqlite3_open_v2(path, &w->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open: %s", path, w->db ? sqlite3_errmsg(w->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(w->db, 1);
    /* A reader (check, info, a preview) briefly holding the file must not
     * fail the final checkpoint. */
    sqlite3_busy_timeout(w->db, 2000);
    char sql[256];
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d;", TP_EPISODE_APPLICATION_ID,
             TP_EPISODE_FORMAT_VERSION);
    if (exec(w, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "set journal mode") ||
        exec(w, "BEGIN", "create schema") || exec(w, sql, "set format version") ||
        exec(w, TP_EPISODE_SCHEMA, "create schema") ||
        prepare(w, "INSERT INTO samples(stream_id, seq, t_ns, data, crc32) VALUES(?,?,?,?,?)", &w->ins_sample) ||
        prepare(w,
                "INSERT INTO video_packets(stream_id, seq, pts, t_ns, keyframe, data, crc32) VALUES(?,?,?,?,?,?,?)",
                &w->ins_packet) ||
        prepare(w, "INSERT INTO events(t_ns, kind, detail) VALUES(?,?,?)", &w->ins_event) ||
        prepare(w, "INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)", &w->ins_meta) ||
        prepare(w, "BEGIN", &w->begin) || prepare(w, "COMMIT", &w->commit)) {
        snprintf(err, errlen, "%s", w->error);
        goto fail;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%d", TP_EPISODE_FORMAT_VERSION);
    if (tp_episode_writer_set_meta(w, "format_version", buf)) {
        snprintf(err, errlen, "%s", w->error);
        goto fail;
    }
    snprintf(buf, sizeof buf, "%lld", (long long)unix_ns());
    if (tp_episode_writer_set_meta(w, "created_unix_ns", buf) || exec(w, "COMMIT", "create schema")) {
        snprintf(err, errlen, "%s", w->error);
        goto fail;
    }
    return w;
fail:
    tp_episode_writer_close(w);
    unlink(path);
    return NULL;
}

/* Dimension names as a JSON array, built by SQLite's JSON functions so any
 * name is quoted correctly. Returns a malloc'd string, or NULL on error. */
static char *names_json(tp_episode_writer *w, const tp_stream_desc *d)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(w->db, "SELECT json_insert(?1, '$[#]', ?2)", -1, &st, NULL) != SQLITE_OK) {
        fail_db(w, "stream '%s': dimension names", d->name);
        return NULL;
    }
    char *json = strdup("[]");
    for (int i = 0; json && i < d->dims; i++) {
        sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, d->dim_names[i] ? d->dim_names[i] : "", -1, SQLITE_STATIC);
        char *next = NULL;
        if (sqlite3_step(st) == SQLITE_ROW)
            next = strdup((const char *)sqlite3_column_text(st, 0));
        else
            fail_db(w, "stream '%s': dimension name %d", d->name, i);
        sqlite3_reset(st);
        free(json);
        json = next;
    }
    sqlite3_finalize(st);
    if (!json && !w->error[0])
        fail(w, "stream '%s': out of memory", d->name);
    return json;
}

int tp_episode_writer_add_stream(tp_episode_writer *w, const tp_stream_desc *d)
{
    w->error[0] = '\0';
    if (!d->name || !d->name[0])
        return fail(w, "add stream: a stream needs a name");
    bool camera = d->kind == TP_STREAM_CAMERA;
    if (d->dims <= 0 || (camera && (d->width <= 0 || d->height <= 0 || !d->codec || !d->codec[0])))
        return fail(w, "stream '%s': invalid description (dims %d, size %dx%d, codec %s)", d->name, d->dims,
                    d->width, d->height, d->codec ? d->codec : "none");
    char *names = NULL;
    if (d->dim_names && !(names = names_json(w, d)))
        return -1;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(w->db,
                           "INSERT INTO streams(name, kind, dtype, dims, names, units, rate_hz, codec, width, height,"
                           " extradata) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        free(names);
        return fail_db(w, "add stream '%s'", d->name);
    }
    sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, tp_stream_kind_name(d->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, camera ? "video" : "float32", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, d->dims);
    if (names)
        sqlite3_bind_text(st, 5, names, -1, SQLITE_STATIC);
    if (d->units)
        sqlite3_bind_text(st, 6, d->units, -1, SQLITE_STATIC);
    if (d->rate_hz > 0)
        sqlite3_bind_double(st, 7, d->rate_hz);
    if (camera) {
        sqlite3_bind_text(st, 8, d->codec, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 9, d->width);
        sqlite3_bind_int(st, 10, d->height);
        if (d->extradata && d->extradata_size)
            sqlite3_bind_blob(st, 11, d->extradata, (int)d->extradata_size, SQLITE_STATIC);
    }
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    free(names);
    if (rc != SQLITE_DONE)
        return fail_db(w, "add stream '%s'", d->name);
    int64_t id = sqlite3_last_insert_rowid(w->db);
    if (id >= w->nslots) {
        int n = (int)id + 8;
        stream_slot *s = realloc(w->streams, sizeof *s * (size_t)n);
        if (!s)
            return fail(w, "stream '%s': out of memory", d->name);
        memset(s + w->nslots, 0, sizeof *s * (size_t)(n - w->nslots));
        w->streams = s;
        w->nslots = n;
    }
    stream_slot *slot = &w->streams[id];
    if (!(slot->name = strdup(d->name)))
        return fail(w, "stream '%s': out of memory", d->name);
    slot->dims = d->dims;
    slot->camera = camera;
    return (int)id;
}

int tp_episode_writer_set_meta(tp_episode_writer *w, const char *key, const char *value)
{
    sqlite3_stmt *st = w->ins_meta;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value ? value : "", -1, SQLITE_STATIC);
    return step_reset(st) ? fail_db(w, "meta '%s'", key) : 0;
}

int tp_episode_writer_begin(tp_episode_writer *w)
{
    if (w->in_txn)
        return 0;
    if (step_reset(w->begin))
        return fail_db(w, "begin batch");
    w->in_txn = true;
    return 0;
}

int tp_episode_writer_commit(tp_episode_writer *w)
{
    if (!w->in_txn)
        return 0;
    w->in_txn = false;
    if (step_reset(w->commit)) {
        fail_db(w, "commit batch");
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

void tp_episode_writer_rollback(tp_episode_writer *w)
{
    if (!w->in_txn)
        return;
    w->in_txn = false;
    sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
}

static const stream_slot *slot_of(const tp_episode_writer *w, int id)
{
    return id > 0 && id < w->nslots && w->streams[id].name ? &w->streams[id] : NULL;
}

int tp_episode_writer_sample(tp_episode_writer *w, int stream_id, int64_t seq, int64_t t_ns, const float *data,
                             int dims)
{
    const stream_slot *s = slot_of(w, stream_id);
    if (!s || s->camera)
        return fail(w, "write sample: no sample stream with id %d", stream_id);
    if (dims != s->dims)
        return fail(w, "stream '%s': sample %lld has %d values, the stream has %d", s->name, (long long)seq, dims,
                    s->dims);
    sqlite3_stmt *st = w->ins_sample;
    size_t size = (size_t)dims * sizeof(float);
    sqlite3_bind_int(st, 1, stream_id);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_int64(st, 3, t_ns);
    /* float32 little-endian: the in-memory layout on every platform we build for. */
    sqlite3_bind_blob(st, 4, data, (int)size, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, tp_episode_crc32(data, size));
    return step_reset(st) ? fail_db(w, "stream '%s': write sample %lld", s->name, (long long)seq) : 0;
}

int tp_episode_writer_packet(tp_episode_writer *w, int stream_id, int64_t seq, int64_t pts, int64_t t_ns,
                             bool keyframe, const uint8_t *data, size_t size)
{
    const stream_slot *s = slot_of(w, stream_id);
    if (!s || !s->camera)
        return fail(w, "write video packet: no camera stream with id %d", stream_id);
    if (size == 0 || size > INT32_MAX)
        return fail(w, "camera '%s': packet %lld has invalid size %zu", s->name, (long long)seq, size);
    sqlite3_stmt *st = w->ins_packet;
    sqlite3_bind_int(st, 1, stream_id);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_int64(st, 3, pts);
    sqlite3_bind_int64(st, 4, t_ns);
    sqlite3_bind_int(st, 5, keyframe ? 1 : 0);
    sqlite3_bind_blob(st, 6, data, (int)size, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, tp_episode_crc32(data, size));
    return step_reset(st) ? fail_db(w, "camera '%s': write packet %lld", s->name, (long long)seq) : 0;
}

int tp_episode_writer_event(tp_episode_writer *w, int64_t t_ns, const char *kind, const char *detail)
{
    sqlite3_stmt *st = w->ins_event;
    sqlite3_bind_int64(st, 1, t_ns);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    if (detail)
        sqlite3_bind_text(st, 3, detail, -1, SQLITE_STATIC);
    return step_reset(st) ? fail_db(w, "write event '%s'", kind ? kind : "(null)") : 0;
}

int tp_episode_writer_finish(tp_episode_writer *w, const char *outcome)
{
    if (tp_episode_writer_commit(w))
        return -1;
    /* The sync report and the outcome land in one transaction: an episode
     * with an outcome always has its complete report. */
    if (tp_episode_writer_begin(w))
        return -1;
    tp_sync_report report;
    char err[256];
    if (tp_sync_compute(w->db, &report, err, sizeof err) != 0) {
        fail(w, "%s", err);
        tp_episode_writer_rollback(w);
        return -1;
    }
    int stored = tp_sync_store(w->db, &report, err, sizeof err);
    tp_sync_report_free(&report);
    if (stored != 0) {
        fail(w, "%s", err);
        tp_episode_writer_rollback(w);
        return -1;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)unix_ns());
    if (tp_episode_writer_set_meta(w, "outcome", outcome ? outcome : "completed") ||
        tp_episode_writer_set_meta(w, "finished_unix_ns", buf)) {
        tp_episode_writer_rollback(w);
        return -1;
    }
    if (tp_episode_writer_commit(w))
        return -1;
    /* Fold the WAL into the main file, then leave WAL mode: a finished
     * episode is one plain file, and read-only readers (check, review, a
     * read-only mount) open it without creating -wal/-shm files beside it. */
    if (sqlite3_wal_checkpoint_v2(w->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) != SQLITE_OK)
        return fail_db(w, "checkpoint");
    if (exec(w, "PRAGMA journal_mode=DELETE", "leave WAL mode"))
        return -1;
    return 0;
}

const char *tp_episode_writer_error(const tp_episode_writer *w) { return w->error; }

void tp_episode_writer_close(tp_episode_writer *w)
{
    if (!w)
        return;
    sqlite3_finalize(w->ins_sample);
    sqlite3_finalize(w->ins_packet);
    sqlite3_finalize(w->ins_event);
    sqlite3_finalize(w->ins_meta);
    sqlite3_finalize(w->begin);
    sqlite3_finalize(w->commit);
    if (w->db)
        sqlite3_close(w->db);
    for (int i = 0; i < w->nslots; i++)
        free(w->streams[i].name);
    free(w->streams);
    free(w->path);
    free(w);
}
