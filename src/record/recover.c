/* teleop — recovery of interrupted episodes: a recording cut off by a crash,
 * kill or power loss is finalized as the writer would have finished it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "episode_schema.h"
#include "episode_sync.h"
#include "teleop/episode.h"

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

static int64_t unix_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t query_i64(sqlite3 *db, const char *sql, int64_t none)
{
    sqlite3_stmt *st;
    int64_t v = none;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int set_meta(sqlite3 *db, const char *key, int64_t value)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", -1, &st, NULL) != SQLITE_OK)
        return -1;
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)value);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, buf, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The SQLite header as found on disk, read without writing anything (no
 * SQLite connection: opening one read-write would replay a WAL, checkpoint it
 * and delete it, even on a database that is not ours). */
typedef struct raw_header {
    bool sqlite;        /* "SQLite format 3" */
    bool wal;           /* bytes 18-19 are 2: WAL mode */
    uint32_t app_id;    /* offset 68, big-endian */
    off_t size;
} raw_header;

static int read_raw_header(int fd, raw_header *h)
{
    unsigned char b[100];
    struct stat sb;
    memset(h, 0, sizeof *h);
    if (fstat(fd, &sb) != 0)
        return -1;
    h->size = sb.st_size;
    ssize_t n = pread(fd, b, sizeof b, 0);
    if (n != (ssize_t)sizeof b || memcmp(b, "SQLite format 3", 16) != 0)
        return 0;
    h->sqlite = true;
    h->wal = b[18] == 2 || b[19] == 2;
    h->app_id = (uint32_t)b[68] << 24 | (uint32_t)b[69] << 16 | (uint32_t)b[70] << 8 | b[71];
    return 0;
}

/* Opens path for reading only, refusing a symbolic link or anything but a
 * regular file: recovery acts on files, never through links. -1: cannot
 * open; -2: not a regular file (left alone). */
static int open_regular(const char *path, char *msg, size_t msglen)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ELOOP) {
            snprintf(msg, msglen, "%s: a symbolic link, not an episode; left alone", path);
            return -2;
        }
        snprintf(msg, msglen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        snprintf(msg, msglen, "%s: not a regular file; left alone", path);
        return -2;
    }
    return fd;
}

/* The name the recorder gives a setup file: episode-YYYYMMDD-HHMMSS-NNN.db.creating. */
static bool our_setup_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    unsigned date, tod, num;
    int end = 0;
    return sscanf(base, "episode-%8u-%6u-%u.db.creating%n", &date, &tod, &num, &end) == 3 &&
           base[end] == '\0';
}

/* Write access to the file and its folder (SQLite writes -wal, -shm and
 * journals beside it); errno-style reason in why when not. */
static bool writable(const char *path, char *why, size_t whylen)
{
    if (access(path, W_OK) != 0) {
        snprintf(why, whylen, "the file is not writable (%s)", strerror(errno));
        return false;
    }
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    if (access(slash ? dir : ".", W_OK) != 0) {
        snprintf(why, whylen, "its folder %s is not writable (%s)", slash ? dir : ".", strerror(errno));
        return false;
    }
    return true;
}

/* A setup file whose writer died: it never became an episode. It is removed
 * only when proven ours: the writer's first commit gives it our
 * application_id; a setup file cut off before that commit is empty, and an
 * empty, unlocked file with our setup name holds nothing to lose. */
static tp_recover_result remove_setup(const char *path, char *msg, size_t msglen)
{
    int fd = open_regular(path, msg, msglen);
    if (fd < 0)
        return fd == -2 ? TP_RECOVER_FOREIGN : TP_RECOVER_ERROR;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        snprintf(msg, msglen, "%s: an episode being set up by a running teleop; left alone", path);
        return TP_RECOVER_BUSY;
    }
    raw_header h;
    if (read_raw_header(fd, &h) != 0) {
        snprintf(msg, msglen, "%s: cannot read: %s", path, strerror(errno));
        close(fd);
        return TP_RECOVER_ERROR;
    }
    bool ours = (h.sqlite && h.app_id == (uint32_t)TP_EPISODE_APPLICATION_ID) || (h.size == 0 && our_setup_name(path));
    if (!ours) {
        close(fd);
        snprintf(msg, msglen, "%s: not a teleop setup file (%s); left alone", path,
                 h.sqlite ? "another application's database" : "not an SQLite database");
        return TP_RECOVER_FOREIGN;
    }
    char side[4200];
    snprintf(side, sizeof side, "%s-journal", path);
    unlink(side);
    unlink(path);
    close(fd);
    snprintf(msg, msglen, "%s: removed an episode that was never started (cut off during setup)", path);
    return TP_RECOVER_REMOVED;
}

tp_recover_result tp_episode_recover(const char *path, char *msg, size_t msglen)
{
    if (ends_with(path, ".creating"))
        return remove_setup(path, msg, msglen);
    int fd = open_regular(path, msg, msglen);
    if (fd < 0)
        return fd == -2 ? TP_RECOVER_FOREIGN : TP_RECOVER_ERROR;
    /* Ownership first, from the bytes on disk: nothing is written, locked or
     * replayed in a file that is not ours. Our setup commits the
     * application_id before the file ever enters WAL mode, so the main
     * file's header carries it even while a WAL is pending. */
    raw_header h;
    if (read_raw_header(fd, &h) != 0) {
        snprintf(msg, msglen, "%s: cannot read: %s", path, strerror(errno));
        close(fd);
        return TP_RECOVER_ERROR;
    }
    if (!h.sqlite) {
        close(fd);
        snprintf(msg, msglen, "%s: not an SQLite database", path);
        return TP_RECOVER_ERROR;
    }
    if (h.app_id != (uint32_t)TP_EPISODE_APPLICATION_ID) {
        close(fd);
        snprintf(msg, msglen, "%s: not a teleop episode (application_id 0x%08x); left alone", path, h.app_id);
        return TP_RECOVER_FOREIGN;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        snprintf(msg, msglen, "%s: being recorded by a running teleop; left alone", path);
        return TP_RECOVER_BUSY;
    }
    /* A finished episode has left WAL mode and has no -wal beside it: known
     * from the header alone, so a read-only one needs no write access. */
    char wal[4200];
    struct stat wsb;
    snprintf(wal, sizeof wal, "%s-wal", path);
    if (!h.wal && lstat(wal, &wsb) != 0) {
        close(fd);
        snprintf(msg, msglen, "%s: finished, nothing to recover", path);
        return TP_RECOVER_NOTHING;
    }
    char why[4400];
    if (!writable(path, why, sizeof why)) {
        close(fd);
        snprintf(msg, msglen, "%s: an unfinished episode, but %s: cannot finalize it; left as it is (make it writable"
                 " and run teleop recover)", path, why);
        return TP_RECOVER_READONLY;
    }
    sqlite3 *db = NULL;
    tp_recover_result result = TP_RECOVER_ERROR;
    char err[512];
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(msg, msglen, "%s: cannot open: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(db, 2000);
    tp_episode_layout layout;
    if (tp_episode_check_header(db, path, &layout, msg, msglen) != 0)
        goto out;
    bool finished = query_i64(db, "SELECT count(*) FROM meta WHERE key = 'outcome'", 0) > 0;
    int64_t start = query_i64(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'start_t_ns'", -1);
    int64_t end = -1, state_rows = 0;
    if (!finished) {
        /* The recording stopped after the last stamp of any stream or
         * event: the end is one past it, as every row lies in [start, end). */
        end = query_i64(db,
                        "SELECT max(t) + 1 FROM (SELECT max(t_ns) AS t FROM samples UNION ALL"
                        " SELECT max(t_ns) FROM video_packets UNION ALL SELECT max(t_ns) FROM events)",
                        start);
        state_rows = query_i64(db,
                               "SELECT count(*) FROM samples WHERE stream_id ="
                               " (SELECT id FROM streams WHERE kind = 'state' ORDER BY name != 'state', id LIMIT 1)",
                               0);
        tp_sync_report report;
        int64_t now = unix_ns();
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
            snprintf(msg, msglen, "%s: cannot recover: %s", path, sqlite3_errmsg(db));
            goto out;
        }
        if (tp_sync_present(db) == 0) {
            if (tp_sync_compute(db, &report, err, sizeof err) != 0) {
                snprintf(msg, msglen, "%s: cannot recover: %s", path, err);
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                goto out;
            }
            int rc = tp_sync_store(db, &report, err, sizeof err);
            tp_sync_report_free(&report);
            if (rc != 0) {
                snprintf(msg, msglen, "%s: cannot recover: %s", path, err);
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                goto out;
            }
        }
        sqlite3_stmt *ev = NULL;
        bool ok = sqlite3_exec(db, "INSERT OR REPLACE INTO meta(key, value) VALUES('outcome', 'interrupted')", NULL,
                               NULL, NULL) == SQLITE_OK &&
                  set_meta(db, "finished_unix_ns", now) == 0 && set_meta(db, "recovered_unix_ns", now) == 0 &&
                  (end < 0 || set_meta(db, "end_t_ns", end) == 0);
        if (ok && end >= 0) {
            ok = sqlite3_prepare_v2(db, "INSERT INTO events(t_ns, kind, detail) VALUES(?, 'session_end', 'interrupted')",
                                    -1, &ev, NULL) == SQLITE_OK;
            if (ok) {
                sqlite3_bind_int64(ev, 1, end);
                ok = sqlite3_step(ev) == SQLITE_DONE;
            }
            sqlite3_finalize(ev);
        }
        if (!ok || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            snprintf(msg, msglen, "%s: cannot recover: %s", path, sqlite3_errmsg(db));
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            goto out;
        }
    }
    /* As the writer's finish: fold the WAL in and leave WAL mode. */
    if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) != SQLITE_OK ||
        tp_episode_leave_wal(db) != SQLITE_OK) {
        snprintf(msg, msglen, "%s: cannot finalize: %s", path, sqlite3_errmsg(db));
        goto out;
    }
    if (finished)
        snprintf(msg, msglen, "%s: finalized (its outcome was written; the final checkpoint was cut off)", path);
    else
        snprintf(msg, msglen, "%s: recovered interrupted episode (%.3f s recorded, %lld state rows)", path,
                 start >= 0 && end > start ? (double)(end - start) / 1e9 : 0.0, (long long)state_rows);
    result = TP_RECOVER_DONE;
out:
    if (db)
        sqlite3_close(db);
    close(fd);
    return result;
}

static int episode_file(const struct dirent *d)
{
    return d->d_name[0] != '.' && (ends_with(d->d_name, ".db") || ends_with(d->d_name, ".db.creating"));
}

int tp_episode_recover_dir(const char *dir, FILE *out, int *recovered)
{
    *recovered = 0;
    struct dirent **names;
    int n = scandir(dir, &names, episode_file, alphasort);
    if (n < 0) {
        if (errno == ENOENT)
            return 0; /* no recordings yet */
        fprintf(out, "%s: cannot list: %s\n", dir, strerror(errno));
        return -1;
    }
    int errors = 0;
    for (int i = 0; i < n; i++) {
        char path[4096], msg[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        free(names[i]);
        struct stat sb;
        if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue; /* links and anything not a file are not ours to act on */
        tp_recover_result r = tp_episode_recover(path, msg, sizeof msg);
        if (r == TP_RECOVER_NOTHING)
            continue;
        fprintf(out, "%s\n", msg);
        if (r == TP_RECOVER_DONE || r == TP_RECOVER_REMOVED)
            (*recovered)++;
        else if (r == TP_RECOVER_ERROR || r == TP_RECOVER_READONLY)
            errors++; /* a foreign file is not ours to recover: no error */
    }
    free(names);
    return errors ? -1 : 0;
}
