/* Disk faults while recording, injected the way SQLite tests itself (a VFS
 * over "unix", tests/support/fault_vfs.c): a write error, a full disk (with
 * and without a torn write) and a failing fsync at every write or sync point
 * of a small episode. Each time the writer reports a clear error naming the
 * episode file, and once the fault is cleared the file is a valid episode
 * holding every batch committed before the fault (and, where the failing
 * step came after the commit record reached the disk, that one batch too,
 * whole), or no episode exists at all; recovery then finalizes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <unistd.h>
#include <cmocka.h>

#include "fault_vfs.h"
#include "teleop/episode.h"

static char dir[] = "/tmp/teleop-faults-XXXXXX";
enum { BATCHES = 8, ROWS = 40, DIMS = 28 };

typedef struct run_result {
    bool created;
    int committed; /* batches whose commit returned 0 */
    bool finished;
    char error[512];
} run_result;

/* The recorder's sequence: create, streams, batches, finish; at the first
 * failure it does what the recorder does (roll back, try to finish, close). */
static run_result record(const char *path)
{
    run_result r = {0};
    char err[512];
    tp_episode_writer *w = tp_episode_writer_create(path, err, sizeof err);
    if (!w) {
        snprintf(r.error, sizeof r.error, "%s", err);
        return r;
    }
    r.created = true;
    tp_stream_desc st = {.name = "state", .kind = TP_STREAM_STATE, .dims = DIMS, .units = "rad", .rate_hz = 500};
    tp_stream_desc ac = st;
    ac.name = "action";
    ac.kind = TP_STREAM_ACTION;
    int id_s = tp_episode_writer_add_stream(w, &st), id_a = tp_episode_writer_add_stream(w, &ac);
    if (id_s < 0 || id_a < 0 || tp_episode_writer_set_meta(w, "task", "fault test")) {
        snprintf(r.error, sizeof r.error, "%s", tp_episode_writer_error(w));
        tp_episode_writer_close(w);
        return r;
    }
    float v[DIMS];
    bool failed = false;
    for (int b = 0; b < BATCHES && !failed; b++) {
        failed = tp_episode_writer_begin(w) != 0;
        for (int k = 0; k < ROWS && !failed; k++) {
            int64_t seq = b * ROWS + k;
            for (int j = 0; j < DIMS; j++)
                v[j] = (float)seq + (float)j / 100;
            int64_t t = 1000000000LL + seq * 2000000LL;
            failed = tp_episode_writer_sample(w, id_s, seq, t, v, DIMS) ||
                     tp_episode_writer_sample(w, id_a, seq, t, v, DIMS);
        }
        if (!failed && !(failed = tp_episode_writer_commit(w) != 0))
            r.committed++;
    }
    if (failed) {
        snprintf(r.error, sizeof r.error, "%s", tp_episode_writer_error(w));
        tp_episode_writer_rollback(w);
        tp_episode_writer_finish(w, "error"); /* refused by a full disk, usually */
    } else if (tp_episode_writer_finish(w, "completed") == 0) {
        r.finished = true;
    } else {
        snprintf(r.error, sizeof r.error, "%s", tp_episode_writer_error(w));
    }
    tp_episode_writer_close(w);
    return r;
}

static int64_t count_rows(const char *path, int *stream_multiple_ok)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, "unix"), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT count(*) FROM samples WHERE stream_id = 1),"
                                        " (SELECT count(*) FROM samples WHERE stream_id = 2)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t a = sqlite3_column_int64(st, 0), b = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    *stream_multiple_ok = a == b && a % ROWS == 0;
    return a;
}

static const char *kind_name(fault_kind k)
{
    return k == FAULT_FULL ? "full" : k == FAULT_FSYNC ? "fsync" : "ioerr_write";
}

static void one_fault(fault_kind kind, bool torn, long at, int *faults_hit)
{
    char path[256], report[4096], msg[1024];
    snprintf(path, sizeof path, "%s/%s%s-%ld.db", dir, kind_name(kind), torn ? "-torn" : "", at);
    fault_vfs_arm(kind, at, torn);
    run_result r = record(path);
    long fired = fault_vfs_fired();
    fault_vfs_clear();
    if (fired == 0) {
        /* Past the last write point: the episode is complete. */
        if (!r.finished || r.committed != BATCHES)
            fail_msg("%s at %ld: no fault fired but the episode is incomplete: %s", kind_name(kind), at, r.error);
        return;
    }
    (*faults_hit)++;
    if (r.error[0] == '\0' && r.finished) {
        /* Only the final checkpoint/journal switch was refused silently?
         * finish must report every failure. */
        fail_msg("%s at %ld: a fault fired but the writer reported none", kind_name(kind), at);
    }
    /* The error is one line naming the episode file and the SQLite cause. */
    if (!strstr(r.error, path) || strchr(r.error, '\n') ||
        !(strstr(r.error, "disk I/O error") || strstr(r.error, "database or disk is full")))
        fail_msg("%s at %ld: unclear error '%s'", kind_name(kind), at, r.error);
    if (access(path, F_OK) != 0) {
        /* Refused during setup: no episode and no setup file left over. */
        char creating[300];
        snprintf(creating, sizeof creating, "%s.creating", path);
        assert_true(r.committed == 0);
        assert_int_not_equal(access(creating, F_OK), 0);
        return;
    }
    memset(report, 0, sizeof report);
    FILE *f = fmemopen(report, sizeof report - 1, "w");
    int rc = tp_episode_check(path, f);
    fclose(f);
    if (rc != 0)
        fail_msg("%s at %ld: the episode after the fault fails check:\n%s", kind_name(kind), at, report);
    int whole;
    int64_t rows = count_rows(path, &whole);
    if (!whole || rows < (int64_t)r.committed * ROWS || rows > (int64_t)(r.committed + 1) * ROWS)
        fail_msg("%s at %ld: %lld rows in the file, %d batches committed before the fault", kind_name(kind), at,
                 (long long)rows, r.committed);
    /* Recovery finalizes it (or finds it already final) and it stays valid. */
    tp_recover_result rr = tp_episode_recover(path, msg, sizeof msg);
    if (rr != TP_RECOVER_DONE && rr != TP_RECOVER_NOTHING)
        fail_msg("%s at %ld: recovery: %s", kind_name(kind), at, msg);
    assert_int_equal(tp_episode_check(path, stderr), 0);
    int whole2;
    assert_int_equal(count_rows(path, &whole2), rows);
    unlink(path);
}

static void sweep(fault_kind kind, bool torn)
{
    /* A clean run counts the write and sync points of this episode. */
    char path[256];
    snprintf(path, sizeof path, "%s/clean-%s.db", dir, kind_name(kind));
    long w0 = fault_vfs_writes(), s0 = fault_vfs_syncs();
    run_result clean = record(path);
    assert_true(clean.finished);
    long points = kind == FAULT_FSYNC ? fault_vfs_syncs() - s0 : fault_vfs_writes() - w0;
    assert_true(points > 5);
    unlink(path);
    int hit = 0;
    for (long at = 0; at <= points; at++)
        one_fault(kind, torn, at, &hit);
    /* Every point but the one past the end made a fault fire. */
    assert_int_equal(hit, points);
    printf("%s%s: %ld fault points, each reported and recovered\n", kind_name(kind), torn ? " (torn)" : "", points);
}

static void test_write_error_everywhere(void **state)
{
    (void)state;
    sweep(FAULT_IOERR_WRITE, false);
}

static void test_disk_full_everywhere(void **state)
{
    (void)state;
    sweep(FAULT_FULL, false);
    sweep(FAULT_FULL, true);
}

static void test_fsync_error_everywhere(void **state)
{
    (void)state;
    sweep(FAULT_FSYNC, false);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) && fault_vfs_install() == SQLITE_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return getenv("KEEP") ? 0 : system(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_error_everywhere),
        cmocka_unit_test(test_disk_full_everywhere),
        cmocka_unit_test(test_fsync_error_everywhere),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
