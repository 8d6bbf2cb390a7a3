/* teleop — episode database writer: one SQLite file per episode, WAL while
 * recording, prepared statements reused for every row, batches in caller
 * transactions. */
#include <errno.h>
#include <fcntl.h>
#include <libavutil/crc.h>
#include <math.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>
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
    sqlite3_stmt *ins_attachment, *ins_limit, *ins_camera;
    stream_slot *streams; /* indexed by stream id */
    int nslots;
    char error[512];
    bool in_txn;
    char *creating;    /* PATH.creating until published, then NULL */
    bool creating_txn; /* the setup transaction is open */
    int lock_fd;       /* flock'd for the writer's life */
    bool dead;         /* publishing failed half-way: no connection to write on */
    bool defer_publish; /* everything in the setup file until finish (offline writers) */
    int (*next_name)(void *user, char *path, size_t pathlen); /* the name was taken at publish */
    void *next_name_user;
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

const char *tp_stream_time_name(tp_stream_time t)
{
    switch (t) {
    case TP_TIME_CAPTURE: return "capture";
    case TP_TIME_DISPLAY: return "display";
    case TP_TIME_COMMAND: return "command";
    }
    return "capture";
}

uint32_t tp_episode_crc32(const void *data, size_t size)
{
    /* zlib's CRC-32 (pre- and post-inverted), so Python's zlib.crc32 and
     * any other zlib binding reproduce it. */
    if (size == 0) /* av_crc reads through end - 3: never hand it an empty (NULL) buffer */
        return 0;
    return av_crc(av_crc_get_table(AV_CRC_32_IEEE_LE), UINT32_MAX, data, size) ^ UINT32_MAX;
}

static uint8_t *put_le64(uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(u >> (8 * i));
    return p + 8;
}

/* zlib's CRC-32 of head then data, as one message. */
static uint32_t crc_of_row(const uint8_t *head, size_t head_size, const void *data, size_t size)
{
    const AVCRC *table = av_crc_get_table(AV_CRC_32_IEEE_LE);
    uint32_t crc = av_crc(table, UINT32_MAX, head, head_size);
    if (size > 0)
        crc = av_crc(table, crc, data, size);
    return crc ^ UINT32_MAX;
}

uint32_t tp_episode_sample_crc(int64_t stream_id, int64_t seq, int64_t t_ns, const void *data, size_t size)
{
    uint8_t head[24];
    put_le64(put_le64(put_le64(head, stream_id), seq), t_ns);
    return crc_of_row(head, sizeof head, data, size);
}

uint32_t tp_episode_packet_crc(int64_t stream_id, int64_t seq, int64_t pts, int64_t t_ns, bool keyframe,
                               const void *data, size_t size)
{
    uint8_t head[33];
    uint8_t *p = put_le64(put_le64(put_le64(put_le64(head, stream_id), seq), pts), t_ns);
    *p = keyframe ? 1 : 0;
    return crc_of_row(head, sizeof head, data, size);
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

static void finalize_statements(tp_episode_writer *w)
{
    sqlite3_stmt **all[] = {&w->ins_sample, &w->ins_packet, &w->ins_event, &w->ins_meta,  &w->begin,
                            &w->commit,     &w->ins_attachment, &w->ins_limit, &w->ins_camera};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sqlite3_finalize(*all[i]);
        *all[i] = NULL;
    }
}

/* Opens file on w->db with the prepared statements the writer reuses. */
static int open_db(tp_episode_writer *w, const char *file)
{
    if (sqlite3_open_v2(file, &w->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return w->db ? fail_db(w, "cannot open") : fail(w, "cannot open: out of memory");
    sqlite3_extended_result_codes(w->db, 1);
    /* A reader (check, info, a preview) briefly holding the file must not
     * fail the final checkpoint. */
    sqlite3_busy_timeout(w->db, 2000);
    return 0;
}

static int prepare_statements(tp_episode_writer *w)
{
    return prepare(w, "INSERT INTO samples(stream_id, seq, t_ns, data, crc32) VALUES(?,?,?,?,?)", &w->ins_sample) ||
                   prepare(w,
                           "INSERT INTO video_packets(stream_id, seq, pts, t_ns, keyframe, data, crc32)"
                           " VALUES(?,?,?,?,?,?,?)",
                           &w->ins_packet) ||
                   prepare(w, "INSERT INTO events(t_ns, kind, detail) VALUES(?,?,?)", &w->ins_event) ||
                   prepare(w, "INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)", &w->ins_meta) ||
                   prepare(w, "BEGIN", &w->begin) || prepare(w, "COMMIT", &w->commit) ||
                   prepare(w, "INSERT OR REPLACE INTO attachments(name, media_type, sha256, data) VALUES(?,?,?,?)",
                           &w->ins_attachment) ||
                   prepare(w,
                           "INSERT OR REPLACE INTO joint_limits(name, lower, upper, velocity, effort)"
                           " VALUES(?,?,?,?,?)",
                           &w->ins_limit) ||
                   prepare(w,
                           "INSERT OR REPLACE INTO cameras(stream_id, model, fx, fy, cx, cy, distortion_model,"
                           " distortion, parent_frame, px, py, pz, qw, qx, qy, qz, convention)"
                           " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           &w->ins_camera)
               ? -1
               : 0;
}

tp_episode_writer *tp_episode_writer_create(const char *path, char *err, size_t errlen)
{
    tp_episode_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path)) || asprintf(&w->creating, "%s.creating", path) < 0) {
        if (w)
            free(w->path);
        free(w);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    w->lock_fd = -1;
    /* The episode is set up (schema, streams, meta) in PATH.creating, in one
     * transaction, and appears under PATH only when complete (publish): a
     * crash during setup leaves no half-made episode. An existing episode is
     * never overwritten. */
    struct stat taken;
    if (lstat(path, &taken) == 0) { /* a dangling symbolic link is taken too */
        snprintf(err, errlen, "%s: cannot create episode: %s", path, strerror(EEXIST));
        free(w->creating);
        w->creating = NULL;
        goto fail;
    }
    /* O_EXCL: never opens an existing file or follows a link at the name. */
    w->lock_fd = open(w->creating, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (w->lock_fd < 0) {
        snprintf(err, errlen, "%s: cannot create episode: %s: %s", path, w->creating, strerror(errno));
        free(w->creating);
        w->creating = NULL;
        goto fail;
    }
    /* Held until close: recovery leaves alone an episode whose writer lives
     * (the lock dies with the process, kill -9 included). */
    if (flock(w->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "%s: cannot lock: %s", w->creating, strerror(errno));
        goto fail;
    }
    char sql[256];
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d;", TP_EPISODE_FORMAT_VERSION);
    char mark[64];
    snprintf(mark, sizeof mark, "PRAGMA application_id=%d;", TP_EPISODE_APPLICATION_ID);
    char buf[32];
    /* The application_id is committed on its own first, so a setup file cut
     * off at any later point carries it in its header: the proof recovery
     * needs before removing it. */
    if (open_db(w, w->creating) || exec(w, mark, "mark the setup file") || exec(w, "BEGIN", "create schema") ||
        exec(w, sql, "set format version") ||
        exec(w, TP_EPISODE_SCHEMA_V2, "create schema") || prepare_statements(w))
        goto fail_msg;
    w->in_txn = true;
    w->creating_txn = true;
    snprintf(buf, sizeof buf, "%d", TP_EPISODE_FORMAT_VERSION);
    if (tp_episode_writer_set_meta(w, "format_version", buf))
        goto fail_msg;
    snprintf(buf, sizeof buf, "%lld", (long long)unix_ns());
    if (tp_episode_writer_set_meta(w, "created_unix_ns", buf))
        goto fail_msg;
    return w;
fail_msg:
    snprintf(err, errlen, "%s", w->error);
fail:
    tp_episode_writer_close(w);
    return NULL;
}

static int fsync_dir_of(const char *path)
{
    char *dir = strdup(path);
    if (!dir)
        return -1;
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

void tp_episode_writer_on_name_taken(tp_episode_writer *w, int (*next_name)(void *user, char *path, size_t pathlen),
                                     void *user)
{
    w->next_name = next_name;
    w->next_name_user = user;
}

/* link() never replaces what is there (an episode, a planted link); a name
 * taken since create moves on to the owner's next free name. */
static int link_to_free_name(tp_episode_writer *w)
{
    for (int tries = 0; link(w->creating, w->path) != 0; tries++) {
        if (errno != EEXIST || !w->next_name || tries >= 100)
            return fail(w, "cannot create episode: %s", strerror(errno));
        char next[4096];
        char *copy;
        if (w->next_name(w->next_name_user, next, sizeof next) != 0 || !(copy = strdup(next)))
            return fail(w, "cannot create episode: %s", strerror(EEXIST));
        free(w->path);
        w->path = copy;
    }
    return 0;
}

/* Commits the setup, gives the file its final name (link: fails rather than
 * replace an existing episode) and reopens it in WAL mode for recording. */
static int publish_steps(tp_episode_writer *w);

static int publish(tp_episode_writer *w)
{
    if (!w->creating)
        return 0;
    if (publish_steps(w) == 0)
        return 0;
    w->dead = true;
    return -1;
}

static int publish_steps(tp_episode_writer *w)
{
    w->in_txn = false;
    w->creating_txn = false;
    if (step_reset(w->commit)) {
        fail_db(w, "create episode");
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    /* Switch to WAL while the file is still the setup file: a switch cut
     * short leaves a hot rollback journal, which read-only readers cannot
     * undo; under the setup name it is simply discarded. */
    finalize_statements(w);
    if (exec(w, "PRAGMA journal_mode=WAL", "set journal mode"))
        return -1;
    if (sqlite3_close(w->db) != SQLITE_OK)
        return fail_db(w, "create episode: close");
    w->db = NULL;
    char side[4200];
    struct stat sb;
    snprintf(side, sizeof side, "%s-wal", w->creating);
    if (stat(side, &sb) == 0 && sb.st_size > 0)
        return fail(w, "create episode: the setup could not be checkpointed");
    if (fsync(w->lock_fd) != 0)
        return fail(w, "create episode: fsync: %s", strerror(errno));
    if (link_to_free_name(w) != 0)
        return -1;
    unlink(w->creating);
    free(w->creating);
    w->creating = NULL;
    if (fsync_dir_of(w->path) != 0)
        return fail(w, "create episode: fsync of its folder: %s", strerror(errno));
    /* WAL: a commit appends to PATH-wal; synchronous=FULL syncs it at every
     * commit, so a power loss, like a crash, loses at most the batch being
     * written. */
    if (open_db(w, w->path) || exec(w, "PRAGMA synchronous=FULL", "set synchronous") ||
        prepare_statements(w))
        return -1;
    return 0;
}

/* A JSON array of n strings (items[i], or `all` for every entry when items is
 * NULL), built by SQLite's JSON functions so any text is quoted correctly.
 * Returns a malloc'd string, or NULL on error. */
static char *strings_json(tp_episode_writer *w, const tp_stream_desc *d, const char *const *items, const char *all)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(w->db, "SELECT json_insert(?1, '$[#]', ?2)", -1, &st, NULL) != SQLITE_OK) {
        fail_db(w, "stream '%s': dimension names", d->name);
        return NULL;
    }
    char *json = strdup("[]");
    for (int i = 0; json && i < d->dims; i++) {
        sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
        const char *item = items ? items[i] : all;
        sqlite3_bind_text(st, 2, item ? item : "", -1, SQLITE_STATIC);
        char *next = NULL;
        if (sqlite3_step(st) == SQLITE_ROW)
            next = strdup((const char *)sqlite3_column_text(st, 0));
        else
            fail_db(w, "stream '%s': dimension %d", d->name, i);
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
    if (w->dead)
        return -1;
    w->error[0] = '\0';
    if (!d->name || !d->name[0])
        return fail(w, "add stream: a stream needs a name");
    bool camera = d->kind == TP_STREAM_CAMERA;
    if (d->dims <= 0 || (camera && (d->width <= 0 || d->height <= 0 || !d->codec || !d->codec[0])))
        return fail(w, "stream '%s': invalid description (dims %d, size %dx%d, codec %s)", d->name, d->dims,
                    d->width, d->height, d->codec ? d->codec : "none");
    if (d->dims > TP_EPISODE_MAX_DIMS)
        return fail(w, "stream '%s': %d dimensions, at most %d", d->name, d->dims, TP_EPISODE_MAX_DIMS);
    if ((unsigned)d->t_meaning > TP_TIME_COMMAND)
        return fail(w, "stream '%s': invalid timestamp meaning %d", d->name, (int)d->t_meaning);
    if (!(d->rate_hz >= 0 && isfinite(d->rate_hz)))
        return fail(w, "stream '%s': invalid rate %g Hz", d->name, d->rate_hz);
    char *names = NULL, *units = NULL;
    if (d->dim_names && !(names = strings_json(w, d, d->dim_names, NULL)))
        return -1;
    if ((d->dim_units || d->units) && !(units = strings_json(w, d, d->dim_units, d->units))) {
        free(names);
        return -1;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(w->db,
                           "INSERT INTO streams(name, kind, dtype, dims, names, units, rate_hz, codec, width, height,"
                           " extradata, t_meaning) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        free(names);
        free(units);
        return fail_db(w, "add stream '%s'", d->name);
    }
    sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, tp_stream_kind_name(d->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, camera ? "video" : "float32", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, d->dims);
    if (names)
        sqlite3_bind_text(st, 5, names, -1, SQLITE_STATIC);
    if (units)
        sqlite3_bind_text(st, 6, units, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, tp_stream_time_name(d->t_meaning), -1, SQLITE_STATIC);
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
    free(units);
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

static const stream_slot *slot_of(const tp_episode_writer *w, int id)
{
    return id > 0 && id < w->nslots && w->streams[id].name ? &w->streams[id] : NULL;
}

int tp_episode_writer_set_meta(tp_episode_writer *w, const char *key, const char *value)
{
    if (w->dead)
        return -1;
    sqlite3_stmt *st = w->ins_meta;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value ? value : "", -1, SQLITE_STATIC);
    return step_reset(st) ? fail_db(w, "meta '%s'", key) : 0;
}

int tp_episode_writer_attach(tp_episode_writer *w, const char *name, const char *media_type, const void *data,
                             size_t size)
{
    if (w->dead)
        return -1;
    if (!name || !name[0] || !media_type || !media_type[0] || (!data && size))
        return fail(w, "attachment '%s': needs a name, a media type and data", name ? name : "");
    if (size > INT32_MAX)
        return fail(w, "attachment '%s': %zu bytes, at most %d", name, size, INT32_MAX);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    static const uint8_t empty[1] = {0};
    if (!EVP_Digest(size ? data : empty, size, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return fail(w, "attachment '%s': SHA-256 failed", name);
    char hex[65];
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    sqlite3_stmt *st = w->ins_attachment;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, media_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, hex, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, size ? data : empty, (int)size, SQLITE_STATIC);
    return step_reset(st) ? fail_db(w, "attachment '%s'", name) : 0;
}

int tp_episode_writer_attachment_sha256(tp_episode_writer *w, const char *name, char out[65])
{
    out[0] = '\0';
    if (w->dead)
        return -1;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(w->db, "SELECT sha256 FROM attachments WHERE name = ?", -1, &st, NULL) != SQLITE_OK)
        return fail_db(w, "attachment '%s'", name);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(out, 65, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : fail(w, "attachment '%s': not in the episode", name);
}

int tp_episode_writer_joint_limit(tp_episode_writer *w, const tp_joint_limit *l)
{
    if (w->dead)
        return -1;
    if (!l->name || !l->name[0] || !isfinite(l->lower) || !isfinite(l->upper) || l->lower > l->upper ||
        (!isnan(l->velocity) && !(l->velocity > 0 && isfinite(l->velocity))) ||
        (!isnan(l->effort) && !(l->effort > 0 && isfinite(l->effort))))
        return fail(w, "joint limit '%s': invalid (lower %g, upper %g, velocity %g, effort %g)",
                    l->name ? l->name : "", l->lower, l->upper, l->velocity, l->effort);
    sqlite3_stmt *st = w->ins_limit;
    sqlite3_bind_text(st, 1, l->name, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 2, l->lower);
    sqlite3_bind_double(st, 3, l->upper);
    if (!isnan(l->velocity))
        sqlite3_bind_double(st, 4, l->velocity);
    if (!isnan(l->effort))
        sqlite3_bind_double(st, 5, l->effort);
    return step_reset(st) ? fail_db(w, "joint limit '%s'", l->name) : 0;
}

int tp_episode_writer_camera_params(tp_episode_writer *w, int stream_id, const tp_camera_calibration *c)
{
    if (w->dead)
        return -1;
    const stream_slot *s = slot_of(w, stream_id);
    if (!s || !s->camera)
        return fail(w, "camera parameters: no camera stream with id %d", stream_id);
    double qn = c->quat_wxyz[0] * c->quat_wxyz[0] + c->quat_wxyz[1] * c->quat_wxyz[1] +
                c->quat_wxyz[2] * c->quat_wxyz[2] + c->quat_wxyz[3] * c->quat_wxyz[3];
    bool finite = isfinite(c->cx) && isfinite(c->cy) && isfinite(c->position[0]) && isfinite(c->position[1]) &&
                  isfinite(c->position[2]);
    for (int i = 0; i < c->ndistortion && i < 8; i++)
        finite = finite && isfinite(c->distortion[i]);
    if (!c->model || !c->distortion_model || !c->parent_frame || !c->convention || !(c->fx > 0) ||
        !(c->fy > 0) || !isfinite(c->fx) || !isfinite(c->fy) || !finite || !(fabs(qn - 1) < 1e-6) ||
        c->ndistortion < 0 || c->ndistortion > 8)
        return fail(w, "camera '%s': invalid camera parameters", s->name);
    char dist[8 * 32 + 4] = "[";
    for (int i = 0; i < c->ndistortion; i++)
        snprintf(dist + strlen(dist), sizeof dist - strlen(dist), "%s%.17g", i ? "," : "", c->distortion[i]);
    strcat(dist, "]");
    sqlite3_stmt *st = w->ins_camera;
    sqlite3_bind_int(st, 1, stream_id);
    sqlite3_bind_text(st, 2, c->model, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, c->fx);
    sqlite3_bind_double(st, 4, c->fy);
    sqlite3_bind_double(st, 5, c->cx);
    sqlite3_bind_double(st, 6, c->cy);
    sqlite3_bind_text(st, 7, c->distortion_model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, dist, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, c->parent_frame, -1, SQLITE_STATIC);
    for (int i = 0; i < 3; i++)
        sqlite3_bind_double(st, 10 + i, c->position[i]);
    for (int i = 0; i < 4; i++)
        sqlite3_bind_double(st, 13 + i, c->quat_wxyz[i]);
    sqlite3_bind_text(st, 17, c->convention, -1, SQLITE_STATIC);
    return step_reset(st) ? fail_db(w, "camera '%s': parameters", s->name) : 0;
}

void tp_episode_writer_defer_publish(tp_episode_writer *w) { w->defer_publish = true; }

int tp_episode_writer_begin(tp_episode_writer *w)
{
    if (w->dead)
        return -1;
    if (w->creating && w->defer_publish)
        return 0; /* the setup transaction stays open until finish */
    if (w->creating && publish(w))
        return -1;
    if (w->in_txn)
        return 0;
    if (step_reset(w->begin))
        return fail_db(w, "begin batch");
    w->in_txn = true;
    return 0;
}

int tp_episode_writer_commit(tp_episode_writer *w)
{
    if (w->dead)
        return -1;
    if (!w->in_txn || w->creating_txn)
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
    if (w->dead || !w->in_txn || w->creating_txn)
        return;
    w->in_txn = false;
    sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
}


int tp_episode_writer_sample(tp_episode_writer *w, int stream_id, int64_t seq, int64_t t_ns, const float *data,
                             int dims)
{
    if (w->dead)
        return -1;
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
    sqlite3_bind_int64(st, 5, tp_episode_sample_crc(stream_id, seq, t_ns, data, size));
    return step_reset(st) ? fail_db(w, "stream '%s': write sample %lld", s->name, (long long)seq) : 0;
}

int tp_episode_writer_packet(tp_episode_writer *w, int stream_id, int64_t seq, int64_t pts, int64_t t_ns,
                             bool keyframe, const uint8_t *data, size_t size)
{
    if (w->dead)
        return -1;
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
    sqlite3_bind_int64(st, 7, tp_episode_packet_crc(stream_id, seq, pts, t_ns, keyframe, data, size));
    return step_reset(st) ? fail_db(w, "camera '%s': write packet %lld", s->name, (long long)seq) : 0;
}

int tp_episode_writer_event(tp_episode_writer *w, int64_t t_ns, const char *kind, const char *detail)
{
    if (w->dead)
        return -1;
    sqlite3_stmt *st = w->ins_event;
    sqlite3_bind_int64(st, 1, t_ns);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    if (detail)
        sqlite3_bind_text(st, 3, detail, -1, SQLITE_STATIC);
    return step_reset(st) ? fail_db(w, "write event '%s'", kind ? kind : "(null)") : 0;
}

/* Deferred publish: the sync report and the outcome join the setup
 * transaction, which commits in the setup file (never in WAL mode); only
 * then does the finished file get its name. */
static int finish_unpublished(tp_episode_writer *w, const char *outcome)
{
    tp_sync_report report;
    char err[256];
    if (tp_sync_compute(w->db, &report, err, sizeof err) != 0)
        return fail(w, "%s", err);
    int stored = tp_sync_store(w->db, &report, err, sizeof err);
    tp_sync_report_free(&report);
    if (stored != 0)
        return fail(w, "%s", err);
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)unix_ns());
    if (tp_episode_writer_set_meta(w, "outcome", outcome ? outcome : "completed") ||
        tp_episode_writer_set_meta(w, "finished_unix_ns", buf))
        return -1;
    w->in_txn = false;
    w->creating_txn = false;
    if (step_reset(w->commit)) {
        fail_db(w, "finish");
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    finalize_statements(w);
    if (sqlite3_close(w->db) != SQLITE_OK)
        return fail_db(w, "finish: close");
    w->db = NULL;
    w->dead = true; /* finished: nothing more is written */
    if (fsync(w->lock_fd) != 0)
        return fail(w, "finish: fsync: %s", strerror(errno));
    if (link_to_free_name(w) != 0)
        return -1;
    unlink(w->creating);
    free(w->creating);
    w->creating = NULL;
    if (fsync_dir_of(w->path) != 0)
        return fail(w, "finish: fsync of its folder: %s", strerror(errno));
    return 0;
}

int tp_episode_writer_finish(tp_episode_writer *w, const char *outcome)
{
    if (w->dead)
        return -1;
    if (w->creating && w->defer_publish)
        return finish_unpublished(w, outcome);
    if ((w->creating && publish(w)) || tp_episode_writer_commit(w))
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
    /* A reader (teleop check holds one snapshot while it verifies a live
     * episode) delays the truncating checkpoint until it ends: wait for it
     * rather than fail the finish. */
    sqlite3_busy_timeout(w->db, 30000);
    if (sqlite3_wal_checkpoint_v2(w->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) != SQLITE_OK)
        return fail_db(w, "checkpoint");
    if (tp_episode_leave_wal(w->db) != SQLITE_OK)
        return fail_db(w, "leave WAL mode");
    return 0;
}

int tp_episode_leave_wal(sqlite3 *db)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=MEMORY", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    rc = mode && !strcmp((const char *)mode, "memory") ? SQLITE_OK : rc == SQLITE_ROW ? SQLITE_ERROR : rc;
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return rc;
    /* SQLite reports the new mode even when writing the header failed
     * (seen with a failing write under test): read back what the disk has. */
    const char *file = sqlite3_db_filename(db, "main");
    int fd = file ? open(file, O_RDONLY | O_CLOEXEC) : -1;
    unsigned char version[2] = {0, 0};
    ssize_t n = fd >= 0 ? pread(fd, version, 2, 18) : -1;
    if (fd >= 0)
        close(fd);
    return n == 2 && version[0] == 1 && version[1] == 1 ? SQLITE_OK : SQLITE_IOERR;
}

const char *tp_episode_writer_error(const tp_episode_writer *w) { return w->error; }

bool tp_episode_writer_published(const tp_episode_writer *w) { return !w->creating; }

void tp_episode_writer_close(tp_episode_writer *w)
{
    if (!w)
        return;
    finalize_statements(w);
    if (w->db)
        sqlite3_close(w->db);
    /* Never published: the setup is discarded, no episode appears. */
    if (w->creating) {
        static const char *const sides[] = {"-journal", "-wal", "-shm"};
        for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++) {
            char side[4200];
            snprintf(side, sizeof side, "%s%s", w->creating, sides[i]);
            unlink(side);
        }
        unlink(w->creating);
        free(w->creating);
    }
    if (w->lock_fd >= 0)
        close(w->lock_fd);
    for (int i = 0; i < w->nslots; i++)
        free(w->streams[i].name);
    free(w->streams);
    free(w->path);
    free(w);
}
