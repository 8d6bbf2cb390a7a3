/* teleop — episode database reader: the one way consumers read episodes. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "episode_schema.h"
#include "teleop/episode.h"

typedef struct stream_rec {
    tp_stream_info info;
    char *name, *units, *codec, *kind_name;
    char **dim_names;
    uint8_t *extradata;
} stream_rec;

struct tp_episode {
    sqlite3 *db;
    char *path;
    char **meta_keys, **meta_values;
    int nmeta;
    stream_rec *streams;
    int nstreams;
};

struct tp_episode_cursor {
    tp_episode *ep;
    sqlite3_stmt *st;
    bool camera;
    int dims;
    float *buf;
};

/* SQLite cannot open a WAL-mode file without its -shm beside it, and cannot
 * create that in a folder it may not write: say so instead of "damaged". */
static bool unreadable_wal(const char *path, char *err, size_t errlen)
{
    unsigned char b[20];
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    ssize_t n = fd >= 0 ? pread(fd, b, sizeof b, 0) : -1;
    if (fd >= 0)
        close(fd);
    if (n != (ssize_t)sizeof b || memcmp(b, "SQLite format 3", 16) != 0 || (b[18] != 2 && b[19] != 2))
        return false;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    if (access(slash ? dir : ".", W_OK) == 0)
        return false;
    snprintf(err, errlen, "%s: an unfinished episode (WAL mode) in a folder this user cannot write (%s): reading it"
             " needs its -shm file there; run teleop recover with write access, or copy it with its -wal",
             path, strerror(errno));
    return true;
}

int tp_episode_check_header(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int app = 0, ver = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: damaged database: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        app = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        if (!unreadable_wal(path, err, errlen))
            snprintf(err, errlen, "%s: damaged database: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    if (app != TP_EPISODE_APPLICATION_ID) {
        snprintf(err, errlen, "%s: not a teleop episode (application_id 0x%08x)", path, (unsigned)app);
        return -1;
    }
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        snprintf(err, errlen, "%s: cannot read the format version: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    ver = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (ver != TP_EPISODE_FORMAT_VERSION) {
        snprintf(err, errlen, "%s: episode format version %d is not supported (this teleop reads version %d)", path,
                 ver, TP_EPISODE_FORMAT_VERSION);
        return -1;
    }
    return 0;
}

static char *dup_col(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return strdup(t ? (const char *)t : "");
}

/* Dimension names from the streams.names JSON array (SQLite's json_each);
 * entries not stored are "". */
static char **parse_names(tp_episode *ep, const char *json, int dims, const char *stream, char *err, size_t errlen)
{
    char **names = calloc((size_t)(dims > 0 ? dims : 1), sizeof *names);
    if (!names) {
        snprintf(err, errlen, "%s: out of memory", ep->path);
        return NULL;
    }
    int rc = SQLITE_DONE;
    if (json) {
        sqlite3_stmt *st;
        rc = sqlite3_prepare_v2(ep->db, "SELECT key, value FROM json_each(?) WHERE type != 'null'", -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                int k = sqlite3_column_int(st, 0);
                if (k >= 0 && k < dims && !names[k])
                    names[k] = dup_col(st, 1);
            }
        }
        sqlite3_finalize(st);
    }
    for (int i = 0; i < dims; i++)
        if (!names[i])
            names[i] = strdup("");
    if (rc != SQLITE_DONE)
        snprintf(err, errlen, "%s: stream '%s': names is not a JSON array: %s", ep->path, stream,
                 sqlite3_errmsg(ep->db));
    return names;
}

static int load_streams(tp_episode *ep, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ep->db,
                           "SELECT id, name, kind, dims, names, units, rate_hz, codec, width, height, extradata"
                           " FROM streams ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: streams table unreadable: %s", ep->path, sqlite3_errmsg(ep->db));
        return -1;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        stream_rec *ns = realloc(ep->streams, sizeof *ns * (size_t)(ep->nstreams + 1));
        if (!ns)
            break;
        ep->streams = ns;
        stream_rec *s = &ep->streams[ep->nstreams++];
        memset(s, 0, sizeof *s);
        s->info.id = sqlite3_column_int(st, 0);
        s->name = dup_col(st, 1);
        s->kind_name = dup_col(st, 2);
        s->info.dims = sqlite3_column_int(st, 3);
        if (s->info.dims < 0 || s->info.dims > 1 << 20) {
            snprintf(err, errlen, "%s: stream '%s': invalid dims %d", ep->path, s->name ? s->name : "", s->info.dims);
            sqlite3_finalize(st);
            return -1;
        }
        err[0] = '\0';
        s->dim_names =
            parse_names(ep, (const char *)sqlite3_column_text(st, 4), s->info.dims, s->name ? s->name : "", err, errlen);
        if (err[0]) {
            sqlite3_finalize(st);
            return -1;
        }
        s->units = dup_col(st, 5);
        s->info.rate_hz = sqlite3_column_double(st, 6);
        s->codec = dup_col(st, 7);
        s->info.width = sqlite3_column_int(st, 8);
        s->info.height = sqlite3_column_int(st, 9);
        int xn = sqlite3_column_bytes(st, 10);
        if (xn > 0) {
            s->extradata = malloc((size_t)xn);
            if (s->extradata)
                memcpy(s->extradata, sqlite3_column_blob(st, 10), (size_t)xn);
            s->info.extradata_size = s->extradata ? (size_t)xn : 0;
        }
        if (!s->name || !s->kind_name || !s->units || !s->codec || !s->dim_names) {
            rc = SQLITE_NOMEM;
            break;
        }
        static const char *const kinds[] = {"camera", "state", "action", "operator", "other"};
        s->info.kind = TP_STREAM_OTHER;
        for (int k = 0; k < 5; k++)
            if (!strcmp(s->kind_name, kinds[k]))
                s->info.kind = (tp_stream_kind)k;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s: streams table unreadable: %s", ep->path, sqlite3_errmsg(ep->db));
        return -1;
    }
    for (int i = 0; i < ep->nstreams; i++) {
        stream_rec *s = &ep->streams[i];
        s->info.name = s->name;
        s->info.kind_name = s->kind_name;
        s->info.units = s->units;
        s->info.codec = s->codec;
        s->info.dim_names = (const char *const *)s->dim_names;
        s->info.extradata = s->extradata;
        const char *sql = s->info.kind == TP_STREAM_CAMERA
                              ? "SELECT count(*), min(t_ns), max(t_ns) FROM video_packets WHERE stream_id = ?"
                              : "SELECT count(*), min(t_ns), max(t_ns) FROM samples WHERE stream_id = ?";
        if (sqlite3_prepare_v2(ep->db, sql, -1, &st, NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s: stream '%s' unreadable: %s", ep->path, s->name, sqlite3_errmsg(ep->db));
            return -1;
        }
        sqlite3_bind_int(st, 1, s->info.id);
        if (sqlite3_step(st) != SQLITE_ROW) {
            snprintf(err, errlen, "%s: stream '%s' unreadable: %s", ep->path, s->name, sqlite3_errmsg(ep->db));
            sqlite3_finalize(st);
            return -1;
        }
        s->info.count = sqlite3_column_int64(st, 0);
        s->info.t_first = sqlite3_column_int64(st, 1);
        s->info.t_last = sqlite3_column_int64(st, 2);
        sqlite3_finalize(st);
    }
    return 0;
}

static int load_meta(tp_episode *ep, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ep->db, "SELECT key, value FROM meta ORDER BY key", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: meta table unreadable: %s", ep->path, sqlite3_errmsg(ep->db));
        return -1;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char **k = realloc(ep->meta_keys, sizeof *k * (size_t)(ep->nmeta + 1));
        if (k)
            ep->meta_keys = k;
        char **v = realloc(ep->meta_values, sizeof *v * (size_t)(ep->nmeta + 1));
        if (v)
            ep->meta_values = v;
        if (!k || !v)
            break;
        ep->meta_keys[ep->nmeta] = dup_col(st, 0);
        ep->meta_values[ep->nmeta] = dup_col(st, 1);
        ep->nmeta++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s: meta table unreadable: %s", ep->path, sqlite3_errmsg(ep->db));
        return -1;
    }
    return 0;
}

tp_episode *tp_episode_open(const char *path, char *err, size_t errlen)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s: is a directory, not an episode file", path);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char magic[16] = {0};
    size_t n = fread(magic, 1, sizeof magic, f);
    fclose(f);
    if (n != sizeof magic || memcmp(magic, "SQLite format 3", 16) != 0) {
        snprintf(err, errlen, "%s: not an SQLite database", path);
        return NULL;
    }
    tp_episode *ep = calloc(1, sizeof *ep);
    if (!ep || !(ep->path = strdup(path))) {
        free(ep);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    if (sqlite3_open_v2(path, &ep->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open: %s", path, ep->db ? sqlite3_errmsg(ep->db) : "out of memory");
        tp_episode_close(ep);
        return NULL;
    }
    if (tp_episode_check_header(ep->db, path, err, errlen) || load_meta(ep, err, errlen) ||
        load_streams(ep, err, errlen)) {
        tp_episode_close(ep);
        return NULL;
    }
    return ep;
}

void tp_episode_close(tp_episode *ep)
{
    if (!ep)
        return;
    for (int i = 0; i < ep->nmeta; i++) {
        free(ep->meta_keys[i]);
        free(ep->meta_values[i]);
    }
    free(ep->meta_keys);
    free(ep->meta_values);
    for (int i = 0; i < ep->nstreams; i++) {
        stream_rec *s = &ep->streams[i];
        free(s->name);
        free(s->units);
        free(s->codec);
        free(s->kind_name);
        free(s->extradata);
        if (s->dim_names)
            for (int k = 0; k < s->info.dims; k++)
                free(s->dim_names[k]);
        free(s->dim_names);
    }
    free(ep->streams);
    if (ep->db)
        sqlite3_close(ep->db);
    free(ep->path);
    free(ep);
}

int tp_episode_meta_at(const tp_episode *ep, int index, const char **key, const char **value)
{
    if (index < 0 || index >= ep->nmeta)
        return -1;
    *key = ep->meta_keys[index];
    *value = ep->meta_values[index];
    return 0;
}

const char *tp_episode_meta(const tp_episode *ep, const char *key)
{
    for (int i = 0; i < ep->nmeta; i++)
        if (!strcmp(ep->meta_keys[i], key))
            return ep->meta_values[i];
    return NULL;
}

sqlite3 *tp_episode_db(const tp_episode *ep) { return ep->db; }

int tp_episode_stream_count(const tp_episode *ep) { return ep->nstreams; }

const tp_stream_info *tp_episode_stream(const tp_episode *ep, int index)
{
    return index >= 0 && index < ep->nstreams ? &ep->streams[index].info : NULL;
}

const tp_stream_info *tp_episode_find_stream(const tp_episode *ep, const char *name)
{
    for (int i = 0; i < ep->nstreams; i++)
        if (!strcmp(ep->streams[i].name, name))
            return &ep->streams[i].info;
    return NULL;
}

tp_episode_cursor *tp_episode_cursor_open(tp_episode *ep, int stream_id)
{
    const tp_stream_info *info = NULL;
    for (int i = 0; i < ep->nstreams; i++)
        if (ep->streams[i].info.id == stream_id)
            info = &ep->streams[i].info;
    if (!info)
        return NULL;
    tp_episode_cursor *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->ep = ep;
    c->camera = info->kind == TP_STREAM_CAMERA;
    c->dims = info->dims;
    const char *sql = c->camera ? "SELECT seq, t_ns, pts, keyframe, data FROM video_packets WHERE stream_id = ?"
                                  " ORDER BY seq"
                                : "SELECT seq, t_ns, 0, 0, data FROM samples WHERE stream_id = ? ORDER BY seq";
    if (!c->camera && !(c->buf = malloc(sizeof(float) * (size_t)(c->dims > 0 ? c->dims : 1)))) {
        free(c);
        return NULL;
    }
    if (sqlite3_prepare_v2(ep->db, sql, -1, &c->st, NULL) != SQLITE_OK) {
        tp_episode_cursor_close(c);
        return NULL;
    }
    sqlite3_bind_int(c->st, 1, stream_id);
    return c;
}

int tp_episode_cursor_next(tp_episode_cursor *c, tp_episode_row *row)
{
    int rc = sqlite3_step(c->st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return -1;
    row->seq = sqlite3_column_int64(c->st, 0);
    row->t_ns = sqlite3_column_int64(c->st, 1);
    row->pts = sqlite3_column_int64(c->st, 2);
    row->keyframe = sqlite3_column_int(c->st, 3) != 0;
    const void *blob = sqlite3_column_blob(c->st, 4);
    row->size = (size_t)sqlite3_column_bytes(c->st, 4);
    if (c->camera) {
        row->bytes = blob;
        row->samples = NULL;
        return 1;
    }
    if (row->size != sizeof(float) * (size_t)c->dims)
        return -1; /* a sample of the wrong size is never handed out */
    memcpy(c->buf, blob, row->size); /* blobs are not float-aligned */
    row->samples = c->buf;
    row->bytes = NULL;
    return 1;
}

void tp_episode_cursor_close(tp_episode_cursor *c)
{
    if (!c)
        return;
    sqlite3_finalize(c->st);
    free(c->buf);
    free(c);
}

int tp_episode_events(tp_episode *ep, int (*fn)(const tp_episode_event *ev, void *user), void *user)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ep->db, "SELECT t_ns, kind, detail FROM events ORDER BY t_ns, id", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tp_episode_event ev = {sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                               (const char *)sqlite3_column_text(st, 2)};
        if (fn(&ev, user)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}
