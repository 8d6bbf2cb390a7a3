/* teleop — review annotations in the episode (see include/teleop/review.h,
 * docs/episode-format.md "Review"). */
#include "teleop/review.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "review_lock.h"
#include "teleop/episode.h"
#include "teleop/text.h"

const char *tp_verdict_name(tp_verdict v)
{
    switch (v) {
    case TP_VERDICT_SUCCESS: return "success";
    case TP_VERDICT_FAILURE: return "failure";
    case TP_VERDICT_NONE: break;
    }
    return "";
}

static int64_t unix_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static bool parse_int(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static int copy_text(char *dst, size_t cap, const char *src, const char *path, const char *what, char *err,
                     size_t errlen)
{
    size_t n = strlen(src);
    if (n >= cap) {
        snprintf(err, errlen, "%s: %s is %zu bytes, review holds at most %zu", path, what, n, cap - 1);
        return -1;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

int tp_review_read(const char *path, tp_review *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    tp_episode *ep = tp_episode_open(path, err, errlen);
    if (!ep)
        return -1;
    int rc = -1;
    const char *v = tp_episode_meta(ep, "review_verdict");
    if (v) {
        if (!strcmp(v, "success"))
            out->verdict = TP_VERDICT_SUCCESS;
        else if (!strcmp(v, "failure"))
            out->verdict = TP_VERDICT_FAILURE;
        else {
            snprintf(err, errlen, "%s: meta 'review_verdict' is '%.40s' (success or failure)", path, v);
            goto out;
        }
    }
    int64_t i;
    if ((v = tp_episode_meta(ep, "rating"))) {
        if (!parse_int(v, &i) || i < 1 || i > 5) {
            snprintf(err, errlen, "%s: meta 'rating' is '%.40s' (an integer 1 to 5)", path, v);
            goto out;
        }
        out->rating = (int)i;
    }
    static const struct {
        const char *key;
        size_t off;
    } ints[] = {
        {"trim_in_ns", offsetof(tp_review, trim_in_ns)}, {"trim_out_ns", offsetof(tp_review, trim_out_ns)},
        {"start_t_ns", offsetof(tp_review, start_t_ns)}, {"end_t_ns", offsetof(tp_review, end_t_ns)},
    };
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
        if (!(v = tp_episode_meta(ep, ints[k].key)))
            continue;
        if (!parse_int(v, &i)) {
            snprintf(err, errlen, "%s: meta '%s' is '%.40s', not an integer", path, ints[k].key, v);
            goto out;
        }
        memcpy((char *)out + ints[k].off, &i, sizeof i);
    }
    if ((v = tp_episode_meta(ep, "delete_marked")))
        out->delete_marked = !strcmp(v, "1");
    if ((v = tp_episode_meta(ep, "task")) && copy_text(out->task, sizeof out->task, v, path, "meta 'task'", err, errlen))
        goto out;
    if ((v = tp_episode_meta(ep, "task_recorded")) &&
        copy_text(out->task_recorded, sizeof out->task_recorded, v, path, "meta 'task_recorded'", err, errlen))
        goto out;
    int nt = tp_episode_tag_count(ep);
    if (nt > TP_REVIEW_MAX_TAGS) {
        snprintf(err, errlen, "%s: %d tags, review holds at most %d", path, nt, TP_REVIEW_MAX_TAGS);
        goto out;
    }
    for (int k = 0; k < nt; k++)
        if (copy_text(out->tags[k], TP_REVIEW_TAG_LEN, tp_episode_tag_at(ep, k), path, "a tag", err, errlen))
            goto out;
    out->n_tags = nt;
    int nn = tp_episode_note_count(ep);
    if (nn > TP_REVIEW_MAX_NOTES) {
        snprintf(err, errlen, "%s: %d notes, review holds at most %d", path, nn, TP_REVIEW_MAX_NOTES);
        goto out;
    }
    for (int k = 0; k < nn; k++) {
        const tp_episode_note *n = tp_episode_note_at(ep, k);
        tp_review_note *d = &out->notes[k];
        d->id = n->id;
        d->t_unix_ns = n->t_unix_ns;
        if (copy_text(d->author, sizeof d->author, n->author, path, "a note's author", err, errlen) ||
            copy_text(d->text, sizeof d->text, n->text, path, "a note", err, errlen))
            goto out;
    }
    out->n_notes = nn;
    rc = 0;
out:
    tp_episode_close(ep);
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ------------------------------------------------------------- validation */

static bool terminated(const char *s, size_t cap) { return memchr(s, '\0', cap) != NULL; }

static int validate(const char *path, const tp_review *r, const tp_review *cur, const char *reviewer, char *err,
                    size_t errlen)
{
    char why[128], shown[96];
    if (r->verdict != TP_VERDICT_NONE && r->verdict != TP_VERDICT_SUCCESS && r->verdict != TP_VERDICT_FAILURE) {
        snprintf(err, errlen, "%s: verdict %d is not none, success or failure, not changed", path, (int)r->verdict);
        return -1;
    }
    if (r->rating < 0 || r->rating > 5) {
        snprintf(err, errlen, "%s: rating %d is outside 1..5 (0: none), not changed", path, r->rating);
        return -1;
    }
    if (!terminated(r->task, sizeof r->task) ||
        tp_text_check(r->task, TP_TASK_MAX_BYTES, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: task %s, not changed", path,
                 terminated(r->task, sizeof r->task) ? why : "has no terminating NUL");
        return -1;
    }
    if (r->trim_in_ns != 0 && (r->trim_in_ns < cur->start_t_ns || r->trim_in_ns > cur->end_t_ns)) {
        snprintf(err, errlen, "%s: trim_in_ns %lld is outside the episode [%lld, %lld], not changed", path,
                 (long long)r->trim_in_ns, (long long)cur->start_t_ns, (long long)cur->end_t_ns);
        return -1;
    }
    if (r->trim_out_ns != 0 && (r->trim_out_ns < cur->start_t_ns || r->trim_out_ns > cur->end_t_ns)) {
        snprintf(err, errlen, "%s: trim_out_ns %lld is outside the episode [%lld, %lld], not changed", path,
                 (long long)r->trim_out_ns, (long long)cur->start_t_ns, (long long)cur->end_t_ns);
        return -1;
    }
    if (r->trim_in_ns != 0 && r->trim_out_ns != 0 && r->trim_out_ns <= r->trim_in_ns) {
        snprintf(err, errlen, "%s: trim_out_ns %lld is not after trim_in_ns %lld, not changed", path,
                 (long long)r->trim_out_ns, (long long)r->trim_in_ns);
        return -1;
    }
    if (r->n_tags < 0 || r->n_tags > TP_REVIEW_MAX_TAGS) {
        snprintf(err, errlen, "%s: %d tags (0 to %d), not changed", path, r->n_tags, TP_REVIEW_MAX_TAGS);
        return -1;
    }
    for (int k = 0; k < r->n_tags; k++) {
        const char *t = r->tags[k];
        if (!terminated(t, TP_REVIEW_TAG_LEN)) {
            snprintf(err, errlen, "%s: tag %d has no terminating NUL, not changed", path, k + 1);
            return -1;
        }
        if (!t[0]) {
            snprintf(err, errlen, "%s: tag %d is empty, not changed", path, k + 1);
            return -1;
        }
        if (tp_text_check(t, TP_REVIEW_TAG_LEN - 1, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s: tag %d %s, not changed", path, k + 1, why);
            return -1;
        }
        if (strchr(t, ',')) {
            snprintf(err, errlen, "%s: tag '%s' contains a comma, not changed", path,
                     tp_text_escape(t, shown, sizeof shown));
            return -1;
        }
    }
    if (r->n_notes < 0 || r->n_notes > TP_REVIEW_MAX_NOTES) {
        snprintf(err, errlen, "%s: %d notes (0 to %d), not changed", path, r->n_notes, TP_REVIEW_MAX_NOTES);
        return -1;
    }
    for (int k = 0; k < r->n_notes; k++) {
        const tp_review_note *n = &r->notes[k];
        if (!terminated(n->text, sizeof n->text) || !terminated(n->author, sizeof n->author)) {
            snprintf(err, errlen, "%s: note %d has no terminating NUL, not changed", path, k + 1);
            return -1;
        }
        if (!tp_utf8_valid(n->text, strlen(n->text)) || !tp_utf8_valid(n->author, strlen(n->author))) {
            snprintf(err, errlen, "%s: note %d is not valid UTF-8, not changed", path, k + 1);
            return -1;
        }
        if (n->id < 0) {
            snprintf(err, errlen, "%s: note %d has id %lld, not changed", path, k + 1, (long long)n->id);
            return -1;
        }
        for (int j = 0; n->id > 0 && j < k; j++)
            if (r->notes[j].id == n->id) {
                snprintf(err, errlen, "%s: note id %lld given twice, not changed", path, (long long)n->id);
                return -1;
            }
    }
    if (reviewer && (tp_text_check(reviewer, 63, why, sizeof why) != 0)) {
        snprintf(err, errlen, "%s: reviewer %s, not changed", path, why);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- writing */

static int exec_sql(sqlite3 *db, const char *sql) { return sqlite3_exec(db, sql, NULL, NULL, NULL); }

static int set_meta(sqlite3 *db, const char *key, const char *value)
{
    sqlite3_stmt *st;
    const char *sql = value ? "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)" : "DELETE FROM meta WHERE key = ?1";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (value)
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

static int set_meta_int(sqlite3 *db, const char *key, int64_t v, bool present)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    return set_meta(db, key, present ? buf : NULL);
}

static int write_tags(sqlite3 *db, const tp_review *r)
{
    if (exec_sql(db, "DELETE FROM tags") != SQLITE_OK)
        return -1;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO tags(name) VALUES(?1)", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = 0;
    for (int k = 0; k < r->n_tags && rc == 0; k++) {
        sqlite3_bind_text(st, 1, r->tags[k], -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

static int write_notes(sqlite3 *db, const tp_review *r, const tp_review *cur, const char *reviewer, int64_t now)
{
    /* upd: a note with an id is updated, or put back under its id when it
     * is no longer stored (an undo of its deletion). */
    sqlite3_stmt *del = NULL, *upd = NULL, *ins = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, "DELETE FROM notes WHERE id = ?1", -1, &del, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO notes(id, t_unix_ns, author, text) VALUES(?1, ?2, ?3, ?4)",
                           -1, &upd, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO notes(t_unix_ns, author, text) VALUES(?1, ?2, ?3)", -1, &ins, NULL) !=
            SQLITE_OK)
        goto out;
    for (int j = 0; j < cur->n_notes; j++) {
        bool kept = false;
        for (int k = 0; k < r->n_notes; k++)
            kept |= r->notes[k].id == cur->notes[j].id;
        if (kept)
            continue;
        sqlite3_bind_int64(del, 1, cur->notes[j].id);
        if (sqlite3_step(del) != SQLITE_DONE)
            goto out;
        sqlite3_reset(del);
    }
    for (int k = 0; k < r->n_notes; k++) {
        const tp_review_note *n = &r->notes[k];
        const char *author = n->author[0] ? n->author : reviewer ? reviewer : "";
        int64_t t = n->t_unix_ns ? n->t_unix_ns : now;
        sqlite3_stmt *st = n->id > 0 ? upd : ins;
        int col = 1;
        if (n->id > 0)
            sqlite3_bind_int64(st, col++, n->id);
        sqlite3_bind_int64(st, col++, t);
        sqlite3_bind_text(st, col++, author, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, col, n->text, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto out;
        sqlite3_reset(st);
    }
    rc = 0;
out:
    sqlite3_finalize(del);
    sqlite3_finalize(upd);
    sqlite3_finalize(ins);
    return rc;
}

static int write_all(sqlite3 *db, const tp_review *r, const tp_review *cur, const char *reviewer)
{
    int64_t now = unix_now_ns();
    const char *verdict = r->verdict == TP_VERDICT_NONE ? NULL : tp_verdict_name(r->verdict);
    if (set_meta(db, "review_verdict", verdict) || set_meta_int(db, "rating", r->rating, r->rating > 0))
        return -1;
    /* The recorded task is kept once, at its first correction (task_recorded
     * present: corrected); going back to it leaves no correction standing. */
    if (strcmp(r->task, cur->task) != 0) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'task_recorded'", -1, &st, NULL) != SQLITE_OK)
            return -1;
        bool corrected = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        const char *original = corrected ? cur->task_recorded : cur->task;
        if (!strcmp(r->task, original)) {
            if (set_meta(db, "task_recorded", NULL))
                return -1;
        } else if (!corrected && set_meta(db, "task_recorded", cur->task)) {
            return -1;
        }
        if (set_meta(db, "task", r->task))
            return -1;
    }
    if (set_meta_int(db, "trim_in_ns", r->trim_in_ns, r->trim_in_ns != 0) ||
        set_meta_int(db, "trim_out_ns", r->trim_out_ns, r->trim_out_ns != 0) ||
        set_meta(db, "delete_marked", r->delete_marked ? "1" : NULL) ||
        set_meta_int(db, "reviewed_unix_ns", now, true) || (reviewer && set_meta(db, "reviewer", reviewer)))
        return -1;
    if (write_tags(db, r) || write_notes(db, r, cur, reviewer, now))
        return -1;
    return 0;
}

int tp_review_write(const char *path, const tp_review *r, const char *reviewer, char *err, size_t errlen)
{
    tp_review_lock lock;
    if (tp_review_lock_finished(path, "not changed", &lock, err, errlen) != 0)
        return -1;
    int rc = -1;
    sqlite3 *db = NULL;
    tp_review *cur = malloc(sizeof *cur);
    if (!cur) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    if (tp_review_read(path, cur, err, errlen) != 0)
        goto out;
    if (validate(path, r, cur, reviewer, err, errlen) != 0)
        goto out;
    if (tp_review_open_rw(path, &db, err, errlen) != 0)
        goto out;
    if (exec_sql(db, "BEGIN IMMEDIATE") != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot begin the review transaction: %s", path, sqlite3_errmsg(db));
        goto out;
    }
    if (write_all(db, r, cur, reviewer) != 0 || exec_sql(db, "COMMIT") != SQLITE_OK) {
        snprintf(err, errlen, "%s: review not written: %s", path, sqlite3_errmsg(db));
        exec_sql(db, "ROLLBACK");
        goto out;
    }
    rc = 0;
out:
    if (db && tp_review_close_rw(db, path, rc == 0 ? err : NULL, errlen) != 0)
        rc = -1;
    free(cur);
    tp_review_unlock(&lock);
    return rc;
}

/* ------------------------------------------------------------------ trash */

int tp_review_trash(const char *path, const char *trash_dir, char *moved_to, size_t moved_to_len, char *err,
                    size_t errlen)
{
    tp_review_lock lock;
    if (tp_review_lock_finished(path, "not moved", &lock, err, errlen) != 0)
        return -1;
    int rc = -1;
    tp_review *cur = malloc(sizeof *cur);
    if (!cur) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    if (tp_review_read(path, cur, err, errlen) != 0)
        goto out;
    if (!cur->delete_marked) {
        snprintf(err, errlen, "%s: not marked for deletion, not moved", path);
        goto out;
    }
    char dir[PATH_MAX], base[PATH_MAX];
    const char *slash = strrchr(path, '/');
    snprintf(base, sizeof base, "%s", slash ? slash + 1 : path);
    if (trash_dir)
        snprintf(dir, sizeof dir, "%s", trash_dir);
    else if (slash)
        snprintf(dir, sizeof dir, "%.*s/.trash", (int)(slash - path) > 0 ? (int)(slash - path) : 1,
                 slash == path ? "/" : path);
    else
        snprintf(dir, sizeof dir, ".trash");
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create %s: %s", path, dir, strerror(errno));
        goto out;
    }
    size_t bl = strlen(base);
    bool db_suffix = bl > 3 && !strcmp(base + bl - 3, ".db");
    char target[2 * PATH_MAX + 32];
    for (int n = 0; n < 10000; n++) {
        if (n == 0)
            snprintf(target, sizeof target, "%s/%s", dir, base);
        else
            snprintf(target, sizeof target, "%s/%.*s-%d%s", dir, (int)(db_suffix ? bl - 3 : bl), base, n,
                     db_suffix ? ".db" : "");
        if (renameat2(AT_FDCWD, path, AT_FDCWD, target, RENAME_NOREPLACE) == 0) {
            snprintf(moved_to, moved_to_len, "%s", target);
            rc = 0;
            goto out;
        }
        if (errno != EEXIST) {
            snprintf(err, errlen, "%s: cannot move it to %s: %s", path, target, strerror(errno));
            goto out;
        }
    }
    snprintf(err, errlen, "%s: no free name in %s", path, dir);
out:
    free(cur);
    tp_review_unlock(&lock);
    return rc;
}
