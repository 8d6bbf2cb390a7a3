/* teleop — how review and QA change a finished episode: under the episode's
 * flock (a live writer holds it: refused), only a finished episode (an
 * outcome, rollback-journal mode), through a read-write SQLite connection
 * that must leave the file in rollback-journal mode. Internal to src/review. */
#ifndef TELEOP_REVIEW_LOCK_H
#define TELEOP_REVIEW_LOCK_H

#include <sqlite3.h>
#include <stddef.h>

typedef struct tp_review_lock {
    int fd; /* holds the flock; -1 when not held */
} tp_review_lock;

/* Takes flock(LOCK_EX|LOCK_NB) on path and checks that it is a finished
 * episode. Refusals (one line naming the file): "FILE: being recorded,
 * <refused>", "FILE: not finished (…), <refused>". 0 with the lock held, or
 * -1 with nothing held. */
int tp_review_lock_finished(const char *path, const char *refused, tp_review_lock *lock, char *err, size_t errlen);
void tp_review_unlock(tp_review_lock *lock);

/* A read-write connection to a locked, finished episode (rollback journal). */
int tp_review_open_rw(const char *path, sqlite3 **db, char *err, size_t errlen);
/* Closes it and verifies the file is still in rollback-journal mode with no
 * -wal beside it; err may be NULL when an error is already reported. */
int tp_review_close_rw(sqlite3 *db, const char *path, char *err, size_t errlen);

#endif
