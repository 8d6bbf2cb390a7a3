/* teleop — locking and opening a finished episode for review and QA writes
 * (see review_lock.h, docs/episode-format.md "Review"). */
#include "review_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "teleop/episode.h"

/* Header bytes 18 and 19 (file format write/read version): 1 rollback
 * journal, 2 WAL. */
static int journal_bytes(int fd, unsigned char out[2])
{
    unsigned char h[20];
    if (pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h || memcmp(h, "SQLite format 3", 16) != 0)
        return -1;
    out[0] = h[18];
    out[1] = h[19];
    return 0;
}

static bool wal_beside(const char *path)
{
    char wal[4200];
    struct stat st;
    snprintf(wal, sizeof wal, "%s-wal", path);
    return lstat(wal, &st) == 0;
}

int tp_review_lock_finished(const char *path, const char *refused, tp_review_lock *lock, char *err, size_t errlen)
{
    lock->fd = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s, %s", path, strerror(errno), refused);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file, %s", path, refused);
        close(fd);
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            snprintf(err, errlen, "%s: being recorded, %s", path, refused);
        else
            snprintf(err, errlen, "%s: cannot lock: %s, %s", path, strerror(errno), refused);
        close(fd);
        return -1;
    }
    unsigned char jb[2];
    if (journal_bytes(fd, jb) != 0) {
        snprintf(err, errlen, "%s: not an SQLite database, %s", path, refused);
        close(fd);
        return -1;
    }
    if (jb[0] == 2 || jb[1] == 2 || wal_beside(path)) {
        snprintf(err, errlen, "%s: not finished (still in WAL mode: its recording was cut off; teleop recover "
                 "finalizes it), %s", path, refused);
        close(fd);
        return -1;
    }
    char e[512];
    tp_episode *ep = tp_episode_open(path, e, sizeof e);
    if (!ep) {
        snprintf(err, errlen, "%s, %s", e, refused);
        close(fd);
        return -1;
    }
    bool finished = tp_episode_meta(ep, "outcome") != NULL;
    tp_episode_close(ep);
    if (!finished) {
        snprintf(err, errlen, "%s: not finished (no outcome), %s", path, refused);
        close(fd);
        return -1;
    }
    lock->fd = fd;
    return 0;
}

void tp_review_unlock(tp_review_lock *lock)
{
    if (lock->fd >= 0)
        close(lock->fd); /* drops the flock */
    lock->fd = -1;
}

int tp_review_open_rw(const char *path, sqlite3 **db, char *err, size_t errlen)
{
    *db = NULL;
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open for writing: %s", path, *db ? sqlite3_errmsg(*db) : "out of memory");
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    sqlite3_busy_timeout(*db, 5000);
    /* Asked, never set: a finished episode is in rollback-journal mode
     * (delete) and must stay there. */
    sqlite3_stmt *st;
    bool rollback = false;
    if (sqlite3_prepare_v2(*db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *m = (const char *)sqlite3_column_text(st, 0);
            rollback = m && strcmp(m, "wal") != 0;
        }
        sqlite3_finalize(st);
    }
    if (!rollback) {
        snprintf(err, errlen, "%s: not in rollback-journal mode, not changed", path);
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    return 0;
}

int tp_review_close_rw(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    if (sqlite3_close(db) != SQLITE_OK) {
        if (err)
            snprintf(err, errlen, "%s: cannot close: %s", path, sqlite3_errmsg(db));
        sqlite3_close_v2(db);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    unsigned char jb[2] = {0, 0};
    int rc = fd >= 0 ? journal_bytes(fd, jb) : -1;
    if (fd >= 0)
        close(fd);
    if (rc != 0 || jb[0] != 1 || jb[1] != 1 || wal_beside(path)) {
        if (err)
            snprintf(err, errlen, "%s: left in WAL mode after writing (header %u/%u)", path, jb[0], jb[1]);
        return -1;
    }
    return 0;
}
