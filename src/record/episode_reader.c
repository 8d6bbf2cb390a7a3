/* teleop — episode database reader: the one way consumers read episodes. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "episode_schema.h"
#include "episode_sync.h"
#include "teleop/episode.h"

typedef struct stream_rec {
    tp_stream_info info;
    char *name, *units, *codec, *kind_name;
    char **dim_names, **dim_units;
    uint8_t *extradata;
} stream_rec;

typedef struct camera_rec {
    int stream_id;
    tp_camera_calibration cal;
    char *model, *distortion_model, *parent_frame, *convention;
} camera_rec;

struct tp_episode {
    sqlite3 *db;
    char *path;
    tp_episode_layout layout;
    char **meta_keys, **meta_values;
    int nmeta;
    stream_rec *streams;
    int nstreams;
    tp_episode_attachment_info *attachments;
    int nattachments;
    tp_joint_limit *limits;
    int nlimits;
    camera_rec *cameras;
    int ncameras;
    char **tags;
    int ntags;
    tp_episode_note *notes;
    int nnotes;
};

struct tp_episode_cursor {
    tp_episode *ep;
    sqlite3_stmt *st;
    bool camera, stamps_only;
    int dims;
    float *buf;
};

/* "name type notnull pk" of a table's columns, one entry per column, and
 * whether it is STRICT / WITHOUT ROWID: its shape. 1 present, 0 absent. */
typedef struct table_shape {
    int ncols;
    char cols[24][96];
    int strict, without_rowid;
} table_shape;

static int read_shape(sqlite3 *db, const char *table, table_shape *t)
{
    memset(t, 0, sizeof *t);
    sqlite3_stmt *st;
    int present = 0;
    if (sqlite3_prepare_v2(db, "SELECT \"strict\", wr FROM pragma_table_list WHERE schema = 'main' AND name = ?1"
                               " AND type = 'table'", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        present = 1;
        t->strict = sqlite3_column_int(st, 0);
        t->without_rowid = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    if (!present)
        return 0;
    if (sqlite3_prepare_v2(db, "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (t->ncols == 24) { /* more columns than any known table: a shape no version has */
            t->ncols++;
            break;
        }
        const char *name = (const char *)sqlite3_column_text(st, 0), *type = (const char *)sqlite3_column_text(st, 1);
        snprintf(t->cols[t->ncols++], sizeof t->cols[0], "%s %s%s%s", name ? name : "", type ? type : "",
                 sqlite3_column_int(st, 2) ? " NOT NULL" : "", sqlite3_column_int(st, 3) ? " KEY" : "");
    }
    sqlite3_finalize(st);
    return 1;
}

/* Why table's shape in the file differs from the known one, or "" when the
 * same. */
static void shape_difference(const table_shape *have, const table_shape *want, char *out, size_t outlen)
{
    out[0] = '\0';
    int n = have->ncols < want->ncols ? have->ncols : want->ncols;
    for (int i = 0; i < n && i < 24; i++)
        if (strcmp(have->cols[i], want->cols[i])) {
            snprintf(out, outlen, "column %d is '%s', expected '%s'", i + 1, have->cols[i], want->cols[i]);
            return;
        }
    if (have->ncols > want->ncols)
        snprintf(out, outlen, "extra column '%s'", have->ncols <= 24 ? have->cols[want->ncols] : "?");
    else if (have->ncols < want->ncols)
        snprintf(out, outlen, "no column '%s'", want->cols[have->ncols]);
    else if (have->strict != want->strict || have->without_rowid != want->without_rowid)
        snprintf(out, outlen, "table options differ (STRICT %d, WITHOUT ROWID %d; expected %d, %d)", have->strict,
                 have->without_rowid, want->strict, want->without_rowid);
}

/* Compares every table of the layout's schema (required) and the sync
 * tables (optional) with the file. 0 when the file has that layout. */
static int compare_layout(sqlite3 *db, const char *schema, char *why, size_t whylen)
{
    sqlite3 *ref = NULL;
    int rc = -1;
    why[0] = '\0';
    if (sqlite3_open_v2(":memory:", &ref, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_exec(ref, schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(ref, TP_EPISODE_SYNC_SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(why, whylen, "cannot build the reference schema");
        sqlite3_close(ref);
        return -1;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ref, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY rowid", -1, &st,
                           NULL) != SQLITE_OK) {
        sqlite3_close(ref);
        return -1;
    }
    table_shape *have = malloc(sizeof *have), *want = malloc(sizeof *want);
    rc = have && want ? 0 : -1;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        const char *table = (const char *)sqlite3_column_text(st, 0);
        bool optional = !strcmp(table, "sync") || !strcmp(table, "sync_summary") || !strcmp(table, "sync_gaps");
        read_shape(ref, table, want);
        int present = read_shape(db, table, have);
        char diff[256];
        if (present < 0) {
            snprintf(why, whylen, "table %s: unreadable: %s", table, sqlite3_errmsg(db));
            rc = -1;
        } else if (!present) {
            if (!optional) {
                snprintf(why, whylen, "table %s: missing", table);
                rc = -1;
            }
        } else {
            shape_difference(have, want, diff, sizeof diff);
            if (diff[0]) {
                snprintf(why, whylen, "table %s: %s", table, diff);
                rc = -1;
            }
        }
    }
    free(have);
    free(want);
    sqlite3_finalize(st);
    sqlite3_close(ref);
    return rc;
}

static bool not_a_database(sqlite3 *db)
{
    int code = sqlite3_errcode(db) & 0xff;
    return code == SQLITE_NOTADB || code == SQLITE_CORRUPT;
}

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

int tp_episode_check_header(sqlite3 *db, const char *path, tp_episode_layout *layout, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int app = 0, ver = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &st, NULL) != SQLITE_OK) {
        if ((sqlite3_errcode(db) & 0xff) == SQLITE_NOTADB)
            snprintf(err, errlen, "%s: not an SQLite database", path);
        else
            snprintf(err, errlen, "%s: damaged database: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        app = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        if ((sqlite3_errcode(db) & 0xff) == SQLITE_NOTADB)
            snprintf(err, errlen, "%s: not an SQLite database", path);
        else if (!unreadable_wal(path, err, errlen))
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
    if (ver != 1 && ver != 2) {
        snprintf(err, errlen, "%s: episode format version %d is not supported (this teleop reads versions 1 and 2)",
                 path, ver);
        return -1;
    }
    char why[320];
    /* Version 1 was released in two layouts; which one a file claims is
     * told by its samples.crc32 column, and then it must match that layout
     * exactly. */
    tp_episode_layout want = TP_LAYOUT_V2;
    if (ver == 1) {
        bool crc = false;
        if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('samples') WHERE name = 'crc32'", -1, &st,
                               NULL) == SQLITE_OK)
            crc = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        want = crc ? TP_LAYOUT_V1_CRC : TP_LAYOUT_V1_PLAIN;
    }
    const char *schema = want == TP_LAYOUT_V2       ? TP_EPISODE_SCHEMA_V2
                         : want == TP_LAYOUT_V1_CRC ? TP_EPISODE_SCHEMA_V1_CRC
                                                    : TP_EPISODE_SCHEMA_V1_PLAIN;
    if (compare_layout(db, schema, why, sizeof why) == 0) {
        *layout = want;
        return 0;
    }
    if (not_a_database(db) && strstr(why, "unreadable"))
        snprintf(err, errlen, "%s: damaged database: %s", path, sqlite3_errmsg(db));
    else
        snprintf(err, errlen, "%s: episode format version %d with an unknown layout (%s)", path, ver, why);
    return -1;
}

static char *dup_col(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return strdup(t ? (const char *)t : "");
}

/* A stream's per-dimension strings (names, v2 units) from a JSON array
 * (SQLite's json_each); entries not stored are "". json NULL: all "".
 * Anything but an array of at most dims strings is refused. */
static char **parse_strings(tp_episode *ep, const char *json, int dims, const char *stream, const char *column,
                            char *err, size_t errlen)
{
    char **items = calloc((size_t)(dims > 0 ? dims : 1), sizeof *items);
    if (!items) {
        snprintf(err, errlen, "%s: out of memory", ep->path);
        return NULL;
    }
    const char *bad = NULL;
    if (json) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(ep->db,
                               "SELECT CASE WHEN json_valid(?1) THEN json_type(?1) = 'array' ELSE 0 END,"
                               " key, value, type FROM json_each(CASE json_valid(?1) WHEN 1 THEN ?1 ELSE '[]' END)"
                               " UNION ALL SELECT CASE WHEN json_valid(?1) THEN json_type(?1) = 'array' ELSE 0 END,"
                               " NULL, NULL, NULL WHERE json_valid(?1) = 0 OR json_type(?1) != 'array'"
                               " OR json_array_length(?1) = 0",
                               -1, &st, NULL) != SQLITE_OK)
            bad = sqlite3_errmsg(ep->db);
        else {
            sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
            int rc;
            while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (!sqlite3_column_int(st, 0))
                    bad = "not a JSON array";
                else if (sqlite3_column_type(st, 1) == SQLITE_NULL)
                    continue; /* the empty array */
                else {
                    sqlite3_int64 k = sqlite3_column_int64(st, 1);
                    const char *type = (const char *)sqlite3_column_text(st, 3);
                    if (k < 0 || k >= dims)
                        bad = "more entries than the stream has dimensions";
                    else if (!type || strcmp(type, "text"))
                        bad = "an entry is not a string";
                    else if (!(items[k] = dup_col(st, 2)))
                        bad = "out of memory";
                }
            }
            if (!bad && rc != SQLITE_DONE)
                bad = sqlite3_errmsg(ep->db);
        }
        sqlite3_finalize(st);
    }
    for (int i = 0; i < dims; i++)
        if (!items[i])
            items[i] = strdup("");
    if (bad)
        snprintf(err, errlen, "%s: stream '%s': %s: %s", ep->path, stream, column, bad);
    return items;
}

static void free_strings(char **items, int n)
{
    if (items)
        for (int i = 0; i < n; i++)
            free(items[i]);
    free(items);
}

static int load_streams(tp_episode *ep, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    bool v2 = ep->layout == TP_LAYOUT_V2;
    if (sqlite3_prepare_v2(ep->db,
                           v2 ? "SELECT id, name, kind, dims, names, units, rate_hz, codec, width, height, extradata,"
                                " t_meaning FROM streams ORDER BY id"
                              : "SELECT id, name, kind, dims, names, units, rate_hz, codec, width, height, extradata,"
                                " NULL FROM streams ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: streams table unreadable: %s", ep->path, sqlite3_errmsg(ep->db));
        return -1;
    }
    int rc;
    err[0] = '\0';
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        stream_rec *ns = realloc(ep->streams, sizeof *ns * (size_t)(ep->nstreams + 1));
        if (!ns) {
            rc = SQLITE_NOMEM;
            break;
        }
        ep->streams = ns;
        stream_rec *s = &ep->streams[ep->nstreams++];
        memset(s, 0, sizeof *s);
        sqlite3_int64 id = sqlite3_column_int64(st, 0), dims = sqlite3_column_int64(st, 3);
        s->name = dup_col(st, 1);
        s->kind_name = dup_col(st, 2);
        if (!s->name || !s->kind_name) {
            rc = SQLITE_NOMEM;
            break;
        }
        /* Read as 64-bit and bounded: a stored 2^32+28 must not pass as 28. */
        if (id < 1 || id > INT32_MAX) {
            snprintf(err, errlen, "%s: stream '%s': invalid id %lld", ep->path, s->name, (long long)id);
            break;
        }
        if (sqlite3_column_type(st, 3) != SQLITE_INTEGER || dims < 1 || dims > TP_EPISODE_MAX_DIMS) {
            snprintf(err, errlen, "%s: stream '%s': invalid dims %s (1 to %d)", ep->path, s->name,
                     sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : "NULL",
                     TP_EPISODE_MAX_DIMS);
            break;
        }
        s->info.id = (int)id;
        s->info.dims = (int)dims;
        const char *units = (const char *)sqlite3_column_text(st, 5);
        s->dim_names =
            parse_strings(ep, (const char *)sqlite3_column_text(st, 4), s->info.dims, s->name, "names", err, errlen);
        if (!err[0])
            s->dim_units = v2 ? parse_strings(ep, units, s->info.dims, s->name, "units", err, errlen) : NULL;
        if (err[0])
            break;
        if (!v2) { /* v1: one free-text unit for the stream, repeated */
            s->dim_units = calloc((size_t)s->info.dims, sizeof *s->dim_units);
            for (int i = 0; s->dim_units && i < s->info.dims; i++)
                if (!(s->dim_units[i] = strdup(units ? units : "")))
                    break;
        }
        s->units = dup_col(st, 5);
        s->info.rate_hz = sqlite3_column_double(st, 6);
        s->codec = dup_col(st, 7);
        sqlite3_int64 w = sqlite3_column_int64(st, 8), h = sqlite3_column_int64(st, 9);
        s->info.width = w >= 0 && w <= 65536 ? (int)w : -1;
        s->info.height = h >= 0 && h <= 65536 ? (int)h : -1;
        int xn = sqlite3_column_bytes(st, 10);
        if (xn > 0) {
            s->extradata = malloc((size_t)xn);
            if (s->extradata)
                memcpy(s->extradata, sqlite3_column_blob(st, 10), (size_t)xn);
            s->info.extradata_size = s->extradata ? (size_t)xn : 0;
        }
        if (!s->units || !s->codec || !s->dim_names || !s->dim_units ||
            (s->dim_units && !s->dim_units[s->info.dims - 1])) {
            rc = SQLITE_NOMEM;
            break;
        }
        static const char *const kinds[] = {"camera", "state", "action", "operator", "other"};
        s->info.kind = TP_STREAM_OTHER;
        for (int k = 0; k < 5; k++)
            if (!strcmp(s->kind_name, kinds[k]))
                s->info.kind = (tp_stream_kind)k;
        if (v2) {
            const char *m = (const char *)sqlite3_column_text(st, 11);
            s->info.t_meaning = m && !strcmp(m, "display")   ? TP_TIME_DISPLAY
                                : m && !strcmp(m, "command") ? TP_TIME_COMMAND
                                                             : TP_TIME_CAPTURE;
        } else {
            /* What version 1 stored: operator frames carried OpenXR
             * predicted display times, every other stream capture times. */
            s->info.t_meaning = s->info.kind == TP_STREAM_OPERATOR ? TP_TIME_DISPLAY : TP_TIME_CAPTURE;
        }
    }
    sqlite3_finalize(st);
    if (err[0])
        return -1;
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s: streams table unreadable: %s", ep->path,
                 rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(ep->db));
        return -1;
    }
    for (int i = 0; i < ep->nstreams; i++) {
        stream_rec *s = &ep->streams[i];
        s->info.name = s->name;
        s->info.kind_name = s->kind_name;
        s->info.units = s->units;
        s->info.codec = s->codec;
        s->info.dim_names = (const char *const *)s->dim_names;
        s->info.dim_units = (const char *const *)s->dim_units;
        s->info.t_meaning_name = tp_stream_time_name(s->info.t_meaning);
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

/* What review wrote: tags in name order, notes in id order (every version
 * has both tables). */
static int load_review(tp_episode *ep, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int rc = SQLITE_OK;
    if (sqlite3_prepare_v2(ep->db, "SELECT name FROM tags ORDER BY name", -1, &st, NULL) != SQLITE_OK)
        goto db_error;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char **nt = realloc(ep->tags, sizeof *nt * (size_t)(ep->ntags + 1));
        if (!nt)
            break;
        ep->tags = nt;
        if (!(ep->tags[ep->ntags] = dup_col(st, 0)))
            break;
        ep->ntags++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        goto db_error;
    if (sqlite3_prepare_v2(ep->db, "SELECT id, t_unix_ns, author, text FROM notes ORDER BY id", -1, &st, NULL) !=
        SQLITE_OK)
        goto db_error;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tp_episode_note *nn = realloc(ep->notes, sizeof *nn * (size_t)(ep->nnotes + 1));
        if (!nn)
            break;
        ep->notes = nn;
        tp_episode_note *n = &ep->notes[ep->nnotes];
        n->id = sqlite3_column_int64(st, 0);
        n->t_unix_ns = sqlite3_column_int64(st, 1);
        n->author = dup_col(st, 2);
        n->text = dup_col(st, 3);
        if (!n->author || !n->text) {
            free((char *)n->author);
            free((char *)n->text);
            break;
        }
        ep->nnotes++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        goto db_error;
    return 0;
db_error:
    snprintf(err, errlen, "%s: tags or notes unreadable: %s", ep->path,
             rc == SQLITE_ROW ? "out of memory" : sqlite3_errmsg(ep->db));
    return -1;
}

/* Version 2's description tables: attachments, joint_limits, cameras. */
static int load_description(tp_episode *ep, char *err, size_t errlen)
{
    if (ep->layout != TP_LAYOUT_V2)
        return 0;
    sqlite3_stmt *st;
    int rc = SQLITE_OK;
    if (sqlite3_prepare_v2(ep->db, "SELECT name, media_type, sha256, data FROM attachments ORDER BY name", -1, &st,
                           NULL) != SQLITE_OK)
        goto db_error;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tp_episode_attachment_info *na = realloc(ep->attachments, sizeof *na * (size_t)(ep->nattachments + 1));
        if (!na)
            goto nomem;
        ep->attachments = na;
        tp_episode_attachment_info *a = &na[ep->nattachments];
        memset(a, 0, sizeof *a);
        size_t n = (size_t)sqlite3_column_bytes(st, 3);
        uint8_t *data = malloc(n ? n : 1);
        char *name = dup_col(st, 0), *type = dup_col(st, 1), *sha = dup_col(st, 2);
        if (!data || !name || !type || !sha) {
            free(data);
            free(name);
            free(type);
            free(sha);
            goto nomem;
        }
        if (n)
            memcpy(data, sqlite3_column_blob(st, 3), n);
        *a = (tp_episode_attachment_info){name, type, sha, data, n};
        ep->nattachments++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        goto db_error;
    if (sqlite3_prepare_v2(ep->db, "SELECT name, lower, upper, velocity, effort FROM joint_limits ORDER BY name", -1,
                           &st, NULL) != SQLITE_OK)
        goto db_error;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tp_joint_limit *nl = realloc(ep->limits, sizeof *nl * (size_t)(ep->nlimits + 1));
        if (!nl)
            goto nomem;
        ep->limits = nl;
        char *name = dup_col(st, 0);
        if (!name)
            goto nomem;
        nl[ep->nlimits++] = (tp_joint_limit){
            name,
            sqlite3_column_double(st, 1),
            sqlite3_column_double(st, 2),
            sqlite3_column_type(st, 3) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 3),
            sqlite3_column_type(st, 4) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 4),
        };
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        goto db_error;
    if (sqlite3_prepare_v2(ep->db,
                           "SELECT stream_id, model, fx, fy, cx, cy, distortion_model, distortion, parent_frame,"
                           " px, py, pz, qw, qx, qy, qz, convention,"
                           " CASE WHEN json_valid(distortion) AND json_type(distortion) = 'array'"
                           " AND json_array_length(distortion) <= 8 THEN json_array_length(distortion) ELSE -1 END"
                           " FROM cameras ORDER BY stream_id",
                           -1, &st, NULL) != SQLITE_OK)
        goto db_error;
    sqlite3_stmt *coef = NULL;
    if (sqlite3_prepare_v2(ep->db, "SELECT key, value, type FROM json_each(?)", -1, &coef, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        goto db_error;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        camera_rec *nc = realloc(ep->cameras, sizeof *nc * (size_t)(ep->ncameras + 1));
        if (!nc) {
            sqlite3_finalize(coef);
            goto nomem;
        }
        ep->cameras = nc;
        camera_rec *c = &nc[ep->ncameras++];
        memset(c, 0, sizeof *c);
        sqlite3_int64 id = sqlite3_column_int64(st, 0);
        c->stream_id = id >= 0 && id <= INT32_MAX ? (int)id : -1;
        c->model = dup_col(st, 1);
        c->distortion_model = dup_col(st, 6);
        c->parent_frame = dup_col(st, 8);
        c->convention = dup_col(st, 16);
        if (!c->model || !c->distortion_model || !c->parent_frame || !c->convention) {
            sqlite3_finalize(coef);
            goto nomem;
        }
        tp_camera_calibration *cal = &c->cal;
        cal->model = c->model;
        cal->distortion_model = c->distortion_model;
        cal->parent_frame = c->parent_frame;
        cal->convention = c->convention;
        cal->fx = sqlite3_column_double(st, 2);
        cal->fy = sqlite3_column_double(st, 3);
        cal->cx = sqlite3_column_double(st, 4);
        cal->cy = sqlite3_column_double(st, 5);
        for (int i = 0; i < 3; i++)
            cal->position[i] = sqlite3_column_double(st, 9 + i);
        for (int i = 0; i < 4; i++)
            cal->quat_wxyz[i] = sqlite3_column_double(st, 12 + i);
        /* -1: the stored text is not an array of at most 8 numbers */
        cal->ndistortion = sqlite3_column_int(st, 17);
        if (cal->ndistortion > 0) {
            sqlite3_bind_text(coef, 1, (const char *)sqlite3_column_text(st, 7), -1, SQLITE_TRANSIENT);
            while (sqlite3_step(coef) == SQLITE_ROW) {
                sqlite3_int64 k = sqlite3_column_int64(coef, 0);
                const char *type = (const char *)sqlite3_column_text(coef, 2);
                if (k < 0 || k >= 8 || !type || (strcmp(type, "real") && strcmp(type, "integer")))
                    cal->ndistortion = -1;
                else
                    cal->distortion[k] = sqlite3_column_double(coef, 1);
            }
            sqlite3_reset(coef);
        }
    }
    sqlite3_finalize(coef);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        goto db_error;
    return 0;
nomem:
    sqlite3_finalize(st);
    snprintf(err, errlen, "%s: out of memory", ep->path);
    return -1;
db_error:
    snprintf(err, errlen, "%s: description tables unreadable: %s", ep->path, sqlite3_errmsg(ep->db));
    return -1;
}

tp_episode *tp_episode_open(const char *path, char *err, size_t errlen)
{
    /* Opened without blocking and checked to be a regular file before a byte
     * is read: a FIFO, a device or a directory is refused, never waited on. */
    if (errlen)
        err[0] = '\0';
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        const char *what = S_ISDIR(sb.st_mode)    ? "is a directory, not an episode file"
                           : S_ISFIFO(sb.st_mode) ? "is a FIFO, not an episode file"
                           : S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) ? "is a device, not an episode file"
                           : S_ISSOCK(sb.st_mode)                       ? "is a socket, not an episode file"
                                                                        : "is not a regular file";
        close(fd);
        snprintf(err, errlen, "%s: %s", path, what);
        return NULL;
    }
    char magic[16] = {0};
    ssize_t n = pread(fd, magic, sizeof magic, 0);
    close(fd);
    /* The database header is 100 bytes: less is no database, whatever its
     * first bytes say. */
    if (n != (ssize_t)sizeof magic || memcmp(magic, "SQLite format 3", 16) != 0 || sb.st_size < 100) {
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
    sqlite3_busy_timeout(ep->db, 2000);
    /* One read transaction for the handle's life: a file being recorded is
     * read as one consistent snapshot (counts, rows and report agree). */
    if (sqlite3_exec(ep->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        tp_episode_check_header(ep->db, path, &ep->layout, err, errlen) || load_meta(ep, err, errlen) ||
        load_streams(ep, err, errlen) || load_description(ep, err, errlen) || load_review(ep, err, errlen)) {
        if (!err[0] || !strstr(err, path))
            snprintf(err, errlen, "%s: damaged database: %s", path, sqlite3_errmsg(ep->db));
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
        free_strings(s->dim_names, s->info.dims);
        free_strings(s->dim_units, s->info.dims);
    }
    free(ep->streams);
    for (int i = 0; i < ep->nattachments; i++) {
        free((char *)ep->attachments[i].name);
        free((char *)ep->attachments[i].media_type);
        free((char *)ep->attachments[i].sha256);
        free((uint8_t *)ep->attachments[i].data);
    }
    free(ep->attachments);
    for (int i = 0; i < ep->nlimits; i++)
        free((char *)ep->limits[i].name);
    free(ep->limits);
    for (int i = 0; i < ep->ncameras; i++) {
        free(ep->cameras[i].model);
        free(ep->cameras[i].distortion_model);
        free(ep->cameras[i].parent_frame);
        free(ep->cameras[i].convention);
    }
    free(ep->cameras);
    free_strings(ep->tags, ep->ntags);
    for (int i = 0; i < ep->nnotes; i++) {
        free((char *)ep->notes[i].author);
        free((char *)ep->notes[i].text);
    }
    free(ep->notes);
    if (ep->db) {
        sqlite3_exec(ep->db, "COMMIT", NULL, NULL, NULL);
        sqlite3_close(ep->db);
    }
    free(ep->path);
    free(ep);
}

int tp_episode_version(const tp_episode *ep) { return ep->layout == TP_LAYOUT_V2 ? 2 : 1; }

tp_episode_layout tp_episode_layout_of(const tp_episode *ep) { return ep->layout; }

const char *tp_episode_layout_name(const tp_episode *ep)
{
    switch (ep->layout) {
    case TP_LAYOUT_V1_PLAIN: return "1 (no crc32)";
    case TP_LAYOUT_V1_CRC: return "1 (crc32 of data)";
    case TP_LAYOUT_V2: return "2";
    }
    return "?";
}

int tp_episode_attachment_count(const tp_episode *ep) { return ep->nattachments; }

const tp_episode_attachment_info *tp_episode_attachment_at(const tp_episode *ep, int index)
{
    return index >= 0 && index < ep->nattachments ? &ep->attachments[index] : NULL;
}

const uint8_t *tp_episode_attachment(const tp_episode *ep, const char *name, size_t *size)
{
    for (int i = 0; i < ep->nattachments; i++)
        if (!strcmp(ep->attachments[i].name, name)) {
            if (size)
                *size = ep->attachments[i].size;
            return ep->attachments[i].data;
        }
    if (size)
        *size = 0;
    return NULL;
}

const tp_joint_limit *tp_episode_joint_limits(const tp_episode *ep, int *n)
{
    *n = ep->nlimits;
    return ep->nlimits ? ep->limits : NULL;
}

const tp_camera_calibration *tp_episode_camera_params(const tp_episode *ep, int stream_id)
{
    for (int i = 0; i < ep->ncameras; i++)
        if (ep->cameras[i].stream_id == stream_id)
            return &ep->cameras[i].cal;
    return NULL;
}

int tp_episode_meta_at(const tp_episode *ep, int index, const char **key, const char **value)
{
    if (index < 0 || index >= ep->nmeta)
        return -1;
    *key = ep->meta_keys[index];
    *value = ep->meta_values[index];
    return 0;
}

int tp_episode_tag_count(const tp_episode *ep) { return ep->ntags; }

const char *tp_episode_tag_at(const tp_episode *ep, int index)
{
    return index >= 0 && index < ep->ntags ? ep->tags[index] : NULL;
}

int tp_episode_note_count(const tp_episode *ep) { return ep->nnotes; }

const tp_episode_note *tp_episode_note_at(const tp_episode *ep, int index)
{
    return index >= 0 && index < ep->nnotes ? &ep->notes[index] : NULL;
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

/* Rows of stream_id from from_seq on; with stamps_only the data column is not
 * selected, so SQLite never reads a packet's overflow pages. */
static tp_episode_cursor *cursor_open(tp_episode *ep, int stream_id, int64_t from_seq, bool stamps_only)
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
    c->stamps_only = stamps_only;
    c->dims = info->dims;
    const char *sql = stamps_only ? (c->camera ? "SELECT seq, t_ns, pts, keyframe FROM video_packets"
                                                 " WHERE stream_id = ?1 AND seq >= ?2 ORDER BY seq"
                                               : "SELECT seq, t_ns, 0, 0 FROM samples"
                                                 " WHERE stream_id = ?1 AND seq >= ?2 ORDER BY seq")
                      : c->camera ? "SELECT seq, t_ns, pts, keyframe, data FROM video_packets"
                                    " WHERE stream_id = ?1 AND seq >= ?2 ORDER BY seq"
                                  : "SELECT seq, t_ns, 0, 0, data FROM samples"
                                    " WHERE stream_id = ?1 AND seq >= ?2 ORDER BY seq";
    if (!c->camera && !stamps_only &&
        !(c->buf = malloc(sizeof(float) * (size_t)(c->dims > 0 ? c->dims : 1)))) {
        free(c);
        return NULL;
    }
    if (sqlite3_prepare_v2(ep->db, sql, -1, &c->st, NULL) != SQLITE_OK) {
        tp_episode_cursor_close(c);
        return NULL;
    }
    sqlite3_bind_int(c->st, 1, stream_id);
    sqlite3_bind_int64(c->st, 2, from_seq);
    return c;
}

tp_episode_cursor *tp_episode_cursor_open(tp_episode *ep, int stream_id)
{
    return cursor_open(ep, stream_id, INT64_MIN, false);
}

tp_episode_cursor *tp_episode_cursor_open_from(tp_episode *ep, int stream_id, int64_t from_seq)
{
    return cursor_open(ep, stream_id, from_seq, false);
}

tp_episode_cursor *tp_episode_cursor_open_stamps(tp_episode *ep, int stream_id)
{
    return cursor_open(ep, stream_id, INT64_MIN, true);
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
    if (c->stamps_only) {
        row->bytes = NULL;
        row->samples = NULL;
        row->size = 0;
        return 1;
    }
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
