/* A live session whose disk fails: a full disk in the middle of recording, a
 * disk too slow for the recorder (fsync taking seconds), a write I/O error
 * and an fsync error (each transient and persistent). Each time the
 * recording ends, the session does not: the control loop keeps cycling with
 * the robot on emergency hold, the error names the episode, and the episode
 * on disk is valid with the data recorded before the fault (finished with
 * outcome error when the disk still takes writes, else recovered later).
 * Faults come from the SQLite VFS in tests/support, registered as default.
 * Usage: test_record_faults MODEL.xml MOTION.csv */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "fault_vfs.h"
#include "teleop/clock.h"
#include "teleop/controller.h"
#include "teleop/episode.h"
#include "teleop/session.h"

static const char *model_path, *motion_path;
static char dir[] = "/tmp/teleop-recfault-XXXXXX";

typedef struct fault_plan {
    tp_session_stats *stats;
    fault_kind kind;
    long sync_delay_ms;
    double after_s; /* after the episode appears */
    long count;     /* faults before the disk recovers; 0: persists */
} fault_plan;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *inject(void *arg)
{
    fault_plan *p = arg;
    /* Once the session runs (control cycles counting). */
    while (__atomic_load_n(&p->stats->control_cycles, __ATOMIC_RELAXED) < 10)
        sleep_ms(5);
    sleep_ms((long)(p->after_s * 1000));
    /* On a loaded machine (the sanitizer run beside other builds) the
     * recorder may still be a second behind the clock: the fault waits until
     * rows up to 0.9 s have reached it and a batch has had time to commit,
     * so what the test expects committed before the fault is. */
    for (int i = 0; !p->sync_delay_ms && i < 2000 &&
                    __atomic_load_n(&p->stats->samples_recorded, __ATOMIC_RELAXED) < 450;
         i++)
        sleep_ms(5);
    if (!p->sync_delay_ms)
        sleep_ms(100);
    if (p->sync_delay_ms) {
        fault_vfs_set_sync_delay_ms(p->sync_delay_ms);
        /* Back to a normal disk once the recording has been ended. */
        for (int i = 0; i < 3000 && !__atomic_load_n(&p->stats->recording_stopped_ns, __ATOMIC_RELAXED); i++)
            sleep_ms(5);
        sleep_ms(200);
        fault_vfs_set_sync_delay_ms(0);
    } else {
        fault_vfs_arm_transient(p->kind, 0, false, p->count);
    }
    return NULL;
}

static void session_config(tp_session_config *cfg, double seconds)
{
    tp_session_default_config(cfg);
    cfg->model_path = model_path;
    cfg->motion_path = motion_path;
    cfg->duration_s = seconds;
    cfg->out_dir = dir;
    cfg->realtime_priority = false;
}

static int64_t query_i64(const char *path, const char *q)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, "unix"), SQLITE_OK);
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", q, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void expect_in(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("'%s' does not contain '%s'", text, want);
}

static void expect_held_session(const tp_session_stats *st, const tp_session_config *cfg)
{
    /* The session ran its whole duration after the fault, on hold: the
     * simulation kept its clock (control ticks, the catch-up included; a
     * loaded test machine runs fewer loop cycles, not fewer ticks). */
    assert_true(st->recording_stopped_ns > 0);
    assert_true(st->wall_s >= cfg->duration_s);
    assert_true((double)st->control_ticks > 0.5 * cfg->duration_s * cfg->control_hz);
    assert_true(st->final_control_flags & TP_CONTROL_EMERGENCY);
}

static void test_disk_full_mid_session(void **state)
{
    (void)state;
    tp_session_config cfg;
    session_config(&cfg, 3.0);
    tp_session_stats st;
    memset(&st, 0, sizeof st);
    fault_plan plan = {.stats = &st, .kind = FAULT_FULL, .after_s = 1.2};
    pthread_t th;
    pthread_create(&th, NULL, inject, &plan);
    char err[1024];
    int rc = tp_session_run(&cfg, NULL, &st, err, sizeof err);
    pthread_join(th, NULL);
    fault_vfs_clear();
    assert_int_not_equal(rc, 0);
    expect_in(err, "recording stopped");
    expect_in(err, st.episode_path);
    expect_in(err, "database or disk is full");
    expect_held_session(&st, &cfg);
    /* Valid with what was committed before the disk filled up: state up to
     * the last batch before the fault (one batch period, plus its write). */
    char report[4096] = "";
    FILE *f = fmemopen(report, sizeof report - 1, "w");
    int check = tp_episode_check(st.episode_path, f);
    fclose(f);
    if (check != 0)
        fail_msg("after a full disk: %s", report);
    int64_t last = query_i64(st.episode_path, "SELECT max(t_ns) FROM samples WHERE stream_id = 1");
    int64_t start = query_i64(st.episode_path, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'start_t_ns'");
    /* The fault came 1.2 s into the session; what is lost is the batch in
     * flight (50 ms) and rows still queued, which a loaded machine (2 cores
     * shared with parallel tests) can stretch: bounded at 0.5 s here, the
     * crash suite measures the loss itself. */
    if (last > st.recording_stopped_ns || last < st.recording_stopped_ns - 500000000LL ||
        last < start + 700000000LL)
        fail_msg("last state at +%.3f s, recording stopped at +%.3f s", (double)(last - start) / 1e9,
                 (double)(st.recording_stopped_ns - start) / 1e9);
    /* The disk refused the finish; recovery completes it. */
    char msg[1024];
    tp_recover_result r = tp_episode_recover(st.episode_path, msg, sizeof msg);
    if (r != TP_RECOVER_DONE)
        fail_msg("recovery: %s", msg);
    assert_int_equal(tp_episode_check(st.episode_path, stderr), 0);
}

static void test_disk_too_slow(void **state)
{
    (void)state;
    tp_session_config cfg;
    session_config(&cfg, 8.0);
    cfg.max_recorder_behind_s = 0.2;
    tp_session_stats st;
    memset(&st, 0, sizeof st);
    /* The recorder's queue holds about 4 s of state (2048 rows at 500 Hz):
     * one 6 s fsync overflows it for 1.3 s or more. */
    fault_plan plan = {.stats = &st, .sync_delay_ms = 6000, .after_s = 0.2};
    pthread_t th;
    pthread_create(&th, NULL, inject, &plan);
    char err[1024];
    int rc = tp_session_run(&cfg, NULL, &st, err, sizeof err);
    pthread_join(th, NULL);
    fault_vfs_set_sync_delay_ms(0);
    if (rc == 0)
        fail_msg("the slow disk did not end the recording: %lld rows dropped, %lld recorded, %.2f s wall",
                 (long long)st.samples_dropped, (long long)st.samples_recorded, st.wall_s);
    expect_in(err, "recording stopped");
    expect_in(err, "disk too slow: the recorder's queue overflowed for");
    expect_in(err, st.episode_path);
    expect_held_session(&st, &cfg);
    assert_true(st.samples_dropped > 0);
    /* A slow disk still takes writes: the episode is finished, with the
     * reason as an event and outcome error. */
    assert_int_equal(tp_episode_check(st.episode_path, stderr), 0);
    assert_int_equal(query_i64(st.episode_path,
                               "SELECT count(*) FROM events WHERE kind = 'recording_stopped' AND detail LIKE"
                               " '%disk too slow%'"),
                     1);
    assert_int_equal(query_i64(st.episode_path, "SELECT count(*) FROM meta WHERE key = 'outcome' AND value = 'error'"),
                     1);
}

/* Issue 9 point 7: a write I/O error and an fsync error in a live session
 * (not only at writer level). The recording stops, the session does not:
 * the robot is held for the rest of it, the error is one line naming the
 * episode, the session's status is a failure. A transient fault (the disk
 * works again right after) lets the recording_stopped event and the finish
 * (outcome error) through; a persistent one leaves the committed rows for
 * recovery. Either way the episode checks. */
static void live_fault(fault_kind kind, long count)
{
    tp_session_config cfg;
    session_config(&cfg, 3.0);
    tp_session_stats st;
    memset(&st, 0, sizeof st);
    fault_plan plan = {.stats = &st, .kind = kind, .after_s = 1.2, .count = count};
    pthread_t th;
    pthread_create(&th, NULL, inject, &plan);
    char err[1024];
    int rc = tp_session_run(&cfg, NULL, &st, err, sizeof err);
    pthread_join(th, NULL);
    long fired = fault_vfs_fired();
    fault_vfs_clear();
    if (fired < 1)
        fail_msg("the fault never fired");
    assert_int_not_equal(rc, 0);
    expect_in(err, "recording stopped");
    expect_in(err, st.episode_path);
    expect_in(err, "disk I/O error");
    assert_null(strchr(err, '\n'));
    expect_held_session(&st, &cfg);
    char report[4096] = "";
    FILE *f = fmemopen(report, sizeof report - 1, "w");
    int check = tp_episode_check(st.episode_path, f);
    fclose(f);
    if (check != 0)
        fail_msg("after the fault, as left: %s", report);
    int64_t start = query_i64(st.episode_path, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'start_t_ns'");
    int64_t last = query_i64(st.episode_path, "SELECT max(t_ns) FROM samples WHERE stream_id = 1");
    if (last > st.recording_stopped_ns || last < start + 700000000LL)
        fail_msg("last state at +%.3f s, recording stopped at +%.3f s", (double)(last - start) / 1e9,
                 (double)(st.recording_stopped_ns - start) / 1e9);
    if (count > 0) {
        /* The disk took the event and the finish. */
        assert_int_equal(query_i64(st.episode_path, "SELECT count(*) FROM events WHERE kind = 'recording_stopped'"
                                                    " AND detail LIKE '%disk I/O error%'"),
                         1);
        assert_int_equal(query_i64(st.episode_path, "SELECT count(*) FROM events WHERE kind = 'emergency_hold'"), 1);
        assert_int_equal(
            query_i64(st.episode_path, "SELECT count(*) FROM meta WHERE key = 'outcome' AND value = 'error'"), 1);
        return;
    }
    char msg[1024];
    tp_recover_result r = tp_episode_recover(st.episode_path, msg, sizeof msg);
    if (r != TP_RECOVER_DONE && r != TP_RECOVER_NOTHING)
        fail_msg("recovery: %s", msg);
    assert_int_equal(tp_episode_check(st.episode_path, stderr), 0);
    assert_int_equal(query_i64(st.episode_path, "SELECT count(*) FROM meta WHERE key = 'outcome'"), 1);
}

static void test_write_error_transient(void **state)
{
    (void)state;
    live_fault(FAULT_IOERR_WRITE, 1);
}

static void test_write_error_persistent(void **state)
{
    (void)state;
    live_fault(FAULT_IOERR_WRITE, 0);
}

static void test_fsync_error_transient(void **state)
{
    (void)state;
    live_fault(FAULT_FSYNC, 1);
}

static void test_fsync_error_persistent(void **state)
{
    (void)state;
    live_fault(FAULT_FSYNC, 0);
}

/* Issue 10 item 8: a name taken between create and publish (here a dangling
 * symbolic link planted there) moves the episode on to the owner's next
 * free name; without one, publishing fails and leaves the link alone. */
static int next_name(void *user, char *path, size_t len)
{
    snprintf(path, len, "%s/episode-taken-002.db", (const char *)user);
    return 0;
}

static void test_name_taken_at_publish(void **state)
{
    (void)state;
    char path[512], link_target[64];
    for (int with_fallback = 0; with_fallback < 2; with_fallback++) {
        snprintf(path, sizeof path, "%s/episode-taken-001.db", dir);
        char err[512];
        tp_episode_writer *w = tp_episode_writer_create(path, err, sizeof err);
        if (!w)
            fail_msg("%s", err);
        if (with_fallback)
            tp_episode_writer_on_name_taken(w, next_name, dir);
        tp_stream_desc d = {.name = "state", .kind = TP_STREAM_STATE, .dims = 1};
        assert_true(tp_episode_writer_add_stream(w, &d) > 0);
        assert_int_equal(symlink("/nonexistent/planted.db", path), 0);
        int rc = tp_episode_writer_begin(w);
        if (with_fallback) {
            assert_int_equal(rc, 0);
            assert_true(tp_episode_writer_published(w));
            float v = 1;
            assert_int_equal(tp_episode_writer_sample(w, 1, 0, 1, &v, 1), 0);
            assert_int_equal(tp_episode_writer_finish(w, "completed"), 0);
        } else {
            assert_int_not_equal(rc, 0);
            expect_in(tp_episode_writer_error(w), "File exists");
            assert_false(tp_episode_writer_published(w));
        }
        tp_episode_writer_close(w);
        /* The planted link is untouched, no setup file is left. */
        ssize_t n = readlink(path, link_target, sizeof link_target - 1);
        assert_true(n > 0);
        link_target[n] = '\0';
        assert_string_equal(link_target, "/nonexistent/planted.db");
        char creating[600];
        snprintf(creating, sizeof creating, "%s.creating", path);
        assert_int_not_equal(access(creating, F_OK), 0);
        if (with_fallback) {
            char moved[512];
            next_name(dir, moved, sizeof moved);
            assert_int_equal(tp_episode_check(moved, stderr), 0);
            unlink(moved);
        }
        unlink(path);
    }
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
    return system(cmd);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.xml MOTION.csv\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    motion_path = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disk_full_mid_session),
        cmocka_unit_test(test_disk_too_slow),
        cmocka_unit_test(test_write_error_transient),
        cmocka_unit_test(test_write_error_persistent),
        cmocka_unit_test(test_fsync_error_transient),
        cmocka_unit_test(test_fsync_error_persistent),
        cmocka_unit_test(test_name_taken_at_publish),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
