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

/* A setup file whose writer died: it never became an episode. */
static tp_recover_result remove_setup(const char *path, char *msg, size_t msglen)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(msg, msglen, "%s: cannot open: %s", path, strerror(errno));
        return TP_RECOVER_ERROR;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        snprintf(msg, msglen, "%s: an episode being set up by a running teleop; left alone", path);
        return TP_RECOVER_BUSY;
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
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(msg, msglen, "%s: cannot open: %s", path, strerror(errno));
        return TP_RECOVER_ERROR;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        snprintf(msg, msglen, "%s: being recorded by a running teleop; left alone", path);
        return TP_RECOVER_BUSY;
    }
    unsigned char header[100];
    ssize_t n = pread(fd, header, sizeof header, 0);
    if (n != (ssize_t)sizeof header || memcmp(header, "SQLite format 3", 16) != 0) {
        close(fd);
        snprintf(msg, msglen, "%s: not an SQLite database", path);
        return TP_RECOVER_ERROR;
    }
    /* Bytes 18-19 are 2 in WAL mode: a finished episode has left it. */
    char wal[4200];
    snprintf(wal, sizeof wal, "%s-wal", path);
    if (header[18] != 2 && access(wal, F_OK) != 0) {
        close(fd);
        snprintf(msg, msglen, "%s: finished, nothing to recover", path);
        return TP_RECOVER_NOTHING;
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
        /* The last stamp of any stream is where the recording stopped. */
        end = query_i64(db,
                        "SELECT max(t) + 1 FROM (SELECT max(t_ns) AS t FROM samples UNION ALL"
                        " SELECT max(t_ns) FROM video_packets)",
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
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        tp_recover_result r = tp_episode_recover(path, msg, sizeof msg);
        if (r == TP_RECOVER_NOTHING)
            continue;
        fprintf(out, "%s\n", msg);
        if (r == TP_RECOVER_DONE || r == TP_RECOVER_REMOVED)
            (*recovered)++;
        else if (r == TP_RECOVER_ERROR)
            errors++;
    }
    free(names);
    return errors ? -1 : 0;
}
