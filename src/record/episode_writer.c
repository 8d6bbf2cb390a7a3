/* teleop — episode database writer: one SQLite file per episode, WAL,
 * prepared statements reused for every row, batches in caller transactions. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "episode_schema.h"
#include "teleop/episode.h"

struct tp_episode_writer {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *ins_sample, *ins_packet, *ins_event, *ins_meta;
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

static int fail_db(tp_episode_writer *w, const char *what)
{
    snprintf(w->error, sizeof w->error, "%s: %s: %s", w->path, what, sqlite3_errmsg(w->db));
    return -1;
}

static int exec(tp_episode_writer *w, const char *sql, const char *what)
{
    if (sqlite3_exec(w->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return fail_db(w, what);
    return 0;
}

static int64_t unix_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

tp_episode_writer *tp_episode_writer_create(const char *path, char *err, size_t errlen)
{
    /* Exclusive create: two stations can never write one episode. */
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
    char sql[256];
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d;", TP_EPISODE_APPLICATION_ID,
             TP_EPISODE_FORMAT_VERSION);
    if (exec(w, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "set journal mode") ||
        exec(w, "BEGIN", "create schema") || exec(w, sql, "set format version") ||
        exec(w, TP_EPISODE_SCHEMA, "create schema")) {
        snprintf(err, errlen, "%s", w->error);
        goto fail;
    }
    if (sqlite3_prepare_v3(w->db, "INSERT INTO samples(stream_id, seq, t_ns, data) VALUES(?,?,?,?)", -1,
                           SQLITE_PREPARE_PERSISTENT, &w->ins_sample, NULL) ||
        sqlite3_prepare_v3(w->db,
                           "INSERT INTO video_packets(stream_id, seq, pts, t_ns, keyframe, data) VALUES(?,?,?,?,?,?)",
                           -1, SQLITE_PREPARE_PERSISTENT, &w->ins_packet, NULL) ||
        sqlite3_prepare_v3(w->db, "INSERT INTO events(t_ns, kind, detail) VALUES(?,?,?)", -1,
                           SQLITE_PREPARE_PERSISTENT, &w->ins_event, NULL) ||
        sqlite3_prepare_v3(w->db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)", -1,
                           SQLITE_PREPARE_PERSISTENT, &w->ins_meta, NULL)) {
        fail_db(w, "prepare statements");
        snprintf(err, errlen, "%s", w->error);
        goto fail;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%d", TP_EPISODE_FORMAT_VERSION);
    if (tp_episode_writer_set_meta(w, "format_version", buf))
        goto fail_meta;
    snprintf(buf, sizeof buf, "%lld", (long long)unix_ns());
    if (tp_episode_writer_set_meta(w, "created_unix_ns", buf) || exec(w, "COMMIT", "create schema"))
        goto fail_meta;
    return w;
fail_meta:
    snprintf(err, errlen, "%s", w->error);
fail:
    tp_episode_writer_close(w);
    unlink(path);
    return NULL;
}

int tp_episode_writer_add_stream(tp_episode_writer *w, const tp_stream_desc *d)
{
    char *names = NULL;
    if (d->dim_names && d->dims > 0) {
        /* JSON array of strings; names are plain identifiers, but escape
         * quotes and backslashes all the same. */
        size_t cap = 3;
        for (int i = 0; i < d->dims; i++)
            cap += 2 * strlen(d->dim_names[i] ? d->dim_names[i] : "") + 3;
        names = malloc(cap);
        if (!names) {
            snprintf(w->error, sizeof w->error, "%s: out of memory", w->path);
            return -1;
        }
        char *o = names;
        *o++ = '[';
        for (int i = 0; i < d->dims; i++) {
            if (i)
                *o++ = ',';
            *o++ = '"';
            for (const char *c = d->dim_names[i] ? d->dim_names[i] : ""; *c; c++) {
                if (*c == '"' || *c == '\\')
                    *o++ = '\\';
                *o++ = *c;
            }
            *o++ = '"';
        }
        *o++ = ']';
        *o = '\0';
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(w->db,
                           "INSERT INTO streams(name, kind, dtype, dims, names, units, rate_hz, codec, width, height,"
                           " extradata) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        free(names);
        return fail_db(w, "add stream");
    }
    bool camera = d->kind == TP_STREAM_CAMERA;
    sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, tp_stream_kind_name(d->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, camera ? "video" : "float32", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, d->dims);
    if (names)
        sqlite3_bind_text(st, 5, names, -1, SQLITE_TRANSIENT);
    if (d->units)
        sqlite3_bind_text(st, 6, d->units, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 7, d->rate_hz);
    if (camera) {
        sqlite3_bind_text(st, 8, d->codec ? d->codec : "", -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 9, d->width);
        sqlite3_bind_int(st, 10, d->height);
        if (d->extradata && d->extradata_size)
            sqlite3_bind_blob(st, 11, d->extradata, (int)d->extradata_size, SQLITE_STATIC);
    }
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    free(names);
    if (rc != SQLITE_DONE) {
        char what[128];
        snprintf(what, sizeof what, "add stream '%s'", d->name);
        return fail_db(w, what);
    }
    return (int)sqlite3_last_insert_rowid(w->db);
}

int tp_episode_writer_set_meta(tp_episode_writer *w, const char *key, const char *value)
{
    sqlite3_stmt *st = w->ins_meta;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value ? value : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : fail_db(w, "meta");
}

int tp_episode_writer_begin(tp_episode_writer *w)
{
    if (w->in_txn)
        return 0;
    if (exec(w, "BEGIN", "begin batch"))
        return -1;
    w->in_txn = true;
    return 0;
}

int tp_episode_writer_commit(tp_episode_writer *w)
{
    if (!w->in_txn)
        return 0;
    w->in_txn = false;
    if (exec(w, "COMMIT", "commit batch")) {
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

int tp_episode_writer_sample(tp_episode_writer *w, int stream_id, int64_t seq, int64_t t_ns, const float *data,
                             int dims)
{
    sqlite3_stmt *st = w->ins_sample;
    sqlite3_bind_int(st, 1, stream_id);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_int64(st, 3, t_ns);
    /* float32 little-endian: the in-memory layout on every platform we build for. */
    sqlite3_bind_blob(st, 4, data, dims * (int)sizeof(float), SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : fail_db(w, "write sample");
}

int tp_episode_writer_packet(tp_episode_writer *w, int stream_id, int64_t seq, int64_t pts, int64_t t_ns,
                             bool keyframe, const uint8_t *data, size_t size)
{
    sqlite3_stmt *st = w->ins_packet;
    sqlite3_bind_int(st, 1, stream_id);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_int64(st, 3, pts);
    sqlite3_bind_int64(st, 4, t_ns);
    sqlite3_bind_int(st, 5, keyframe ? 1 : 0);
    sqlite3_bind_blob(st, 6, data, (int)size, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : fail_db(w, "write video packet");
}

int tp_episode_writer_event(tp_episode_writer *w, int64_t t_ns, const char *kind, const char *detail)
{
    sqlite3_stmt *st = w->ins_event;
    sqlite3_bind_int64(st, 1, t_ns);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    if (detail)
        sqlite3_bind_text(st, 3, detail, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : fail_db(w, "write event");
}

int tp_episode_writer_finish(tp_episode_writer *w, const char *outcome)
{
    if (tp_episode_writer_commit(w))
        return -1;
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)unix_ns());
    if (tp_episode_writer_set_meta(w, "outcome", outcome ? outcome : "completed") ||
        tp_episode_writer_set_meta(w, "finished_unix_ns", buf))
        return -1;
    /* Fold the WAL into the main file: the episode is one self-contained
     * file from here on. */
    if (sqlite3_wal_checkpoint_v2(w->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) != SQLITE_OK)
        return fail_db(w, "checkpoint");
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
    if (w->db)
        sqlite3_close(w->db);
    free(w->path);
    free(w);
}
