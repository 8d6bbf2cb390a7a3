/* The sync report on a synthetic episode with known timestamps: nearest
 * state/action sample and skew for every frame of two cameras, max and
 * median skew, gaps in every stream (including the exact threshold), the
 * report as `info` shows it, and `check` catching a tampered report. The
 * nearest-sample merge is cross-checked against brute force. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <cmocka.h>

#include "record/episode_sync.h"
#include "teleop/episode.h"
#include "teleop/video.h"

static char dir[] = "/tmp/teleop-sync-XXXXXX";
static char path[256];

#define MS 1000000LL
static const int64_t T0 = 1000000007LL; /* every time below is T0 + ms */

static const int64_t state_ms[] = {0, 10, 20, 30, 40, 50, 80, 90, 100};               /* 100 Hz; gap 50→80 */
static const int64_t velocity_ms[] = {0, 10, 20, 40, 50, 60, 70, 80, 90, 100};        /* 20 ms = 2 periods: no gap */
static const int64_t action_ms[] = {5, 15, 25, 35, 45, 55, 65, 75, 85, 95, 105};       /* 100 Hz */
static const int64_t operator_ms[] = {0, 11, 22, 45, 56};                              /* 90 Hz: 23 > 22.2 is a gap */
static const int64_t cam_a_ms[] = {2, 36, 70, 104};                                    /* 30 Hz */
static const int64_t cam_b_ms[] = {12, 25, 100};                                       /* 40 Hz; gap 25→100 */
#define N(a) (sizeof(a) / sizeof(a)[0])

static void write_samples(tp_episode_writer *w, int id, const int64_t *ms, size_t n, int dims)
{
    float v[8] = {0};
    for (size_t i = 0; i < n; i++) {
        v[0] = (float)i;
        assert_int_equal(tp_episode_writer_sample(w, id, (int64_t)i, T0 + ms[i] * MS, v, dims), 0);
    }
}

static void write_camera(tp_episode_writer *w, int id, const int64_t *ms, size_t n)
{
    char err[256];
    tp_video_encoder_config vc;
    tp_video_encoder_default_config(&vc, 16, 16, 30);
    vc.codec = "ffv1";
    tp_video_encoder *enc = tp_video_encoder_create(&vc, err, sizeof err);
    assert_non_null(enc);
    uint8_t rgb[16 * 16 * 3];
    int64_t seq = 0;
    tp_video_packet p;
    for (size_t i = 0; i <= n; i++) {
        if (i < n) {
            memset(rgb, (int)i * 40, sizeof rgb);
            assert_int_equal(tp_video_encoder_send(enc, rgb, (int64_t)i, err, sizeof err), 0);
        } else {
            tp_video_encoder_send(enc, NULL, 0, err, sizeof err);
        }
        while (tp_video_encoder_receive(enc, &p, err, sizeof err) == 1) {
            assert_int_equal(
                tp_episode_writer_packet(w, id, seq, p.pts, T0 + ms[p.pts] * MS, p.keyframe, p.data, p.size), 0);
            seq++;
        }
    }
    assert_int_equal(seq, (int64_t)n);
    tp_video_encoder_destroy(enc);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/sync.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static sqlite3 *db_open(const char *p)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    return db;
}

static int64_t query_int(sqlite3 *db, const char *q)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", q, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_type(st, 0) == SQLITE_NULL ? INT64_MIN : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void expect_sync_row(sqlite3 *db, int cam, int frame, int64_t state_seq, int64_t state_skew_ms,
                            int64_t action_seq, int64_t action_skew_ms)
{
    char q[256];
    snprintf(q, sizeof q,
             "SELECT state_seq = %lld AND state_skew_ns = %lld AND action_seq = %lld AND action_skew_ns = %lld"
             " FROM sync WHERE camera_stream_id = %d AND frame_seq = %d",
             (long long)state_seq, (long long)(state_skew_ms * MS), (long long)action_seq,
             (long long)(action_skew_ms * MS), cam, frame);
    if (query_int(db, q) != 1)
        fail_msg("camera %d frame %d: want state %lld (%lld ms), action %lld (%lld ms)", cam, frame,
                 (long long)state_seq, (long long)state_skew_ms, (long long)action_seq, (long long)action_skew_ms);
}

static void test_report_exact(void **state)
{
    (void)state;
    char err[512];
    tp_episode_writer *w = tp_episode_writer_create(path, err, sizeof err);
    assert_non_null(w);
    /* state_velocity first: the reference is chosen by name, not by id. */
    tp_stream_desc vel = {.name = "state_velocity", .kind = TP_STREAM_STATE, .dims = 2, .rate_hz = 100};
    tp_stream_desc st = {.name = "state", .kind = TP_STREAM_STATE, .dims = 2, .rate_hz = 100};
    tp_stream_desc ac = {.name = "action", .kind = TP_STREAM_ACTION, .dims = 2, .rate_hz = 100};
    tp_stream_desc op = {.name = "operator", .kind = TP_STREAM_OPERATOR, .dims = 3, .rate_hz = 90};
    tp_stream_desc ca = {.name = "cam_a", .kind = TP_STREAM_CAMERA, .dims = 3, .rate_hz = 30, .codec = "ffv1",
                         .width = 16, .height = 16};
    tp_stream_desc cb = ca;
    cb.name = "cam_b";
    cb.rate_hz = 40;
    int id_vel = tp_episode_writer_add_stream(w, &vel), id_st = tp_episode_writer_add_stream(w, &st);
    int id_ac = tp_episode_writer_add_stream(w, &ac), id_op = tp_episode_writer_add_stream(w, &op);
    int id_ca = tp_episode_writer_add_stream(w, &ca), id_cb = tp_episode_writer_add_stream(w, &cb);
    assert_int_equal(id_vel, 1);
    assert_int_equal(id_cb, 6);
    assert_int_equal(tp_episode_writer_begin(w), 0);
    write_samples(w, id_vel, velocity_ms, N(velocity_ms), 2);
    write_samples(w, id_st, state_ms, N(state_ms), 2);
    write_samples(w, id_ac, action_ms, N(action_ms), 2);
    write_samples(w, id_op, operator_ms, N(operator_ms), 3);
    write_camera(w, id_ca, cam_a_ms, N(cam_a_ms));
    write_camera(w, id_cb, cam_b_ms, N(cam_b_ms));
    assert_int_equal(tp_episode_writer_commit(w), 0);
    assert_int_equal(tp_episode_writer_finish(w, "completed"), 0);
    tp_episode_writer_close(w);

    sqlite3 *db = db_open(path);
    /* cam_a: 2 → state 0 (−2), action 5 (+3); 36 → 40 (+4), 35 (−1);
     * 70 → 80 (+10, nearer than 50), 65/75 tie → 65 (−5); 104 → 100 (−4), 105 (+1). */
    expect_sync_row(db, id_ca, 0, 0, -2, 0, 3);
    expect_sync_row(db, id_ca, 1, 4, 4, 3, -1);
    expect_sync_row(db, id_ca, 2, 6, 10, 6, -5);
    expect_sync_row(db, id_ca, 3, 8, -4, 10, 1);
    /* cam_b: 12 → 10 (−2), 15 (+3); 25 → 20/30 tie → 20 (−5), 25 (0); 100 → 100 (0), 95/105 tie → 95 (−5). */
    expect_sync_row(db, id_cb, 0, 1, -2, 1, 3);
    expect_sync_row(db, id_cb, 1, 2, -5, 2, 0);
    expect_sync_row(db, id_cb, 2, 8, 0, 9, -5);
    assert_int_equal(query_int(db, "SELECT count(*) FROM sync"), 7);
    assert_int_equal(query_int(db, "SELECT sum(t_ns) FROM sync"),
                     7 * T0 + (2 + 36 + 70 + 104 + 12 + 25 + 100) * MS);
    /* |skew| cam_a state {2,4,10,4}: max 10, lower median 4; action {3,1,5,1}: 5, 1.
     * cam_b state {2,5,0}: 5, 2; action {3,0,5}: 5, 3. */
    char q[512];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM sync_summary WHERE (camera_stream_id, frames, state_stream_id, state_max_skew_ns,"
             " state_median_skew_ns, action_stream_id, action_max_skew_ns, action_median_skew_ns) IN"
             " (VALUES (%d, 4, %d, %lld, %lld, %d, %lld, %lld), (%d, 3, %d, %lld, %lld, %d, %lld, %lld))",
             id_ca, id_st, 10 * MS, 4 * MS, id_ac, 5 * MS, 1 * MS, id_cb, id_st, 5 * MS, 2 * MS, id_ac, 5 * MS, 3 * MS);
    assert_int_equal(query_int(db, q), 2);
    assert_int_equal(query_int(db, "SELECT count(*) FROM sync_summary"), 2);
    /* Gaps: state 50→80 at seq 6; operator 22→45 at seq 3; cam_b 25→100 at
     * seq 2. Exactly two periods (velocity 20→40) is not a gap. */
    snprintf(q, sizeof q,
             "SELECT count(*) FROM sync_gaps WHERE (stream_id, seq, t_ns, gap_ns) IN"
             " (VALUES (%d, 6, %lld, %lld), (%d, 3, %lld, %lld), (%d, 2, %lld, %lld))",
             id_st, T0 + 80 * MS, 30 * MS, id_op, T0 + 45 * MS, 23 * MS, id_cb, T0 + 100 * MS, 75 * MS);
    assert_int_equal(query_int(db, q), 3);
    assert_int_equal(query_int(db, "SELECT count(*) FROM sync_gaps"), 3);
    sqlite3_close(db);
    assert_int_equal(tp_episode_check(path, stderr), 0);

    char text[4096] = "";
    FILE *mem = fmemopen(text, sizeof text - 1, "w");
    assert_int_equal(tp_episode_info(path, false, mem, stderr), 0);
    fclose(mem);
    if (!strstr(text, "cam_a            4 frames; nearest state: skew max 10.000 ms, median 4.000 ms;"
                      " action: max 5.000 ms, median 1.000 ms\n") ||
        !strstr(text, "cam_b            3 frames; nearest state: skew max 5.000 ms, median 2.000 ms;"
                      " action: max 5.000 ms, median 3.000 ms\n") ||
        !strstr(text, "gaps:     state 1 (longest 30.000 ms), operator 1 (longest 23.000 ms), cam_b 1 (longest"
                      " 75.000 ms) (intervals over 2 nominal periods)\n"))
        fail_msg("info:\n%s", text);
    char json[256], cmd[1024];
    snprintf(json, sizeof json, "%s/info.json", dir);
    FILE *f = fopen(json, "w");
    assert_int_equal(tp_episode_info(path, true, f, stderr), 0);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))[\"sync\"];"
             " assert s[\"cameras\"]==[{\"name\":\"cam_a\",\"frames\":4,\"state_max_skew_ns\":10000000,"
             "\"state_median_skew_ns\":4000000,\"action_max_skew_ns\":5000000,\"action_median_skew_ns\":1000000},"
             "{\"name\":\"cam_b\",\"frames\":3,\"state_max_skew_ns\":5000000,\"state_median_skew_ns\":2000000,"
             "\"action_max_skew_ns\":5000000,\"action_median_skew_ns\":3000000}], s;"
             " assert s[\"gaps\"]==[{\"stream\":\"state\",\"count\":1,\"longest_ns\":30000000,\"total_ns\":30000000},"
             "{\"stream\":\"operator\",\"count\":1,\"longest_ns\":23000000,\"total_ns\":23000000},"
             "{\"stream\":\"cam_b\",\"count\":1,\"longest_ns\":75000000,\"total_ns\":75000000}], s' %s",
             json);
    assert_int_equal(system(cmd), 0);
}

static int run_check(const char *p, char *report, size_t len)
{
    memset(report, 0, len);
    FILE *f = fmemopen(report, len - 1, "w");
    int rc = tp_episode_check(p, f);
    fclose(f);
    return rc;
}

static void tampered(const char *name, const char *stmt, const char *want)
{
    char bad[300], cmd[700], report[4096];
    snprintf(bad, sizeof bad, "%s/%s", dir, name);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, bad);
    assert_int_equal(system(cmd), 0);
    sqlite3 *db = db_open(bad);
    char *msg = NULL;
    if (sqlite3_exec(db, stmt, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", stmt, msg);
    sqlite3_close(db);
    assert_int_equal(run_check(bad, report, sizeof report), 1);
    if (!strstr(report, want))
        fail_msg("%s: check said '%s', want '%s'", name, report, want);
}

static void test_check_catches_tampered_report(void **state)
{
    (void)state;
    tampered("skew.db", "UPDATE sync SET state_skew_ns = state_skew_ns + 1 WHERE frame_seq = 1 AND camera_stream_id = 5",
             "sync: camera stream 5 frame 1: stored nearest samples or skews differ from the rows");
    tampered("nearest.db", "UPDATE sync SET action_seq = 7 WHERE frame_seq = 2 AND camera_stream_id = 5",
             "sync: camera stream 5 frame 2: stored nearest samples or skews differ");
    tampered("missing_row.db", "DELETE FROM sync WHERE frame_seq = 3", "sync: camera stream 5 frame 3 has no row");
    tampered("missing_last.db", "DELETE FROM sync WHERE frame_seq = 2 AND camera_stream_id = 6",
             "sync: camera stream 6 frame 2 has no row");
    tampered("extra_row.db", "INSERT INTO sync VALUES(6, 3, 1, NULL, NULL, NULL, NULL)",
             "sync: row for camera stream 6 frame 3 has no such video frame");
    tampered("summary.db", "UPDATE sync_summary SET state_median_skew_ns = 0 WHERE camera_stream_id = 6",
             "sync_summary: camera stream 6 does not match its frames and samples");
    tampered("gap.db", "DELETE FROM sync_gaps WHERE stream_id = 4", "sync_gaps: the gap in stream 4 before row 3 (23.000 ms) is not stored");
    tampered("gap_last.db", "DELETE FROM sync_gaps WHERE stream_id = 6",
             "sync_gaps: the gap in stream 6 before row 2 (75.000 ms) is not stored");
    tampered("gap_extra.db", "INSERT INTO sync_gaps VALUES(1, 3, 0, 20000000)",
             "sync_gaps: gap at stream 1 row 3 does not match");
    tampered("gap_moved.db", "UPDATE sync_gaps SET gap_ns = 1 WHERE stream_id = 2",
             "sync_gaps: gap at stream 2 row 6 does not match");
    tampered("dropped.db", "DROP TABLE sync_gaps", "sync report incomplete");
    /* The samples change under the report: the report no longer matches. */
    tampered("moved_sample.db", "UPDATE samples SET t_ns = t_ns + 1000 WHERE stream_id = 2 AND seq = 4",
             "sync: camera stream 5 frame 1: stored nearest samples or skews differ");
}

/* Brute force: the nearest sample, ties to the earlier one. */
static tp_sync_match brute(int64_t t, const int64_t *ref_t, size_t n)
{
    tp_sync_match best = {-1, 0};
    for (size_t j = 0; j < n; j++) {
        int64_t d = ref_t[j] - t;
        if (best.seq < 0 || llabs(d) < llabs(best.skew_ns))
            best = (tp_sync_match){(int64_t)j + 100, d};
    }
    return best;
}

static void test_nearest_against_brute_force(void **state)
{
    (void)state;
    srand(7);
    enum { MAXN = 300 };
    int64_t frames[MAXN], refs[MAXN], seqs[MAXN], scratch[MAXN];
    tp_sync_match got[MAXN];
    for (int trial = 0; trial < 2000; trial++) {
        size_t nf = (size_t)(rand() % 60), nr = (size_t)(rand() % MAXN);
        int64_t t = rand() % 50;
        for (size_t i = 0; i < nf; i++)
            frames[i] = t += 1 + rand() % 40;
        t = rand() % 80;
        for (size_t j = 0; j < nr; j++) {
            refs[j] = t += 1 + rand() % (trial % 2 ? 4 : 30);
            seqs[j] = (int64_t)j + 100;
        }
        tp_sync_nearest(frames, nf, seqs, refs, nr, got);
        for (size_t i = 0; i < nf; i++) {
            tp_sync_match want = brute(frames[i], refs, nr);
            if (got[i].seq != want.seq || got[i].skew_ns != want.skew_ns)
                fail_msg("trial %d frame %zu at %lld: got %lld (%lld), want %lld (%lld)", trial, i,
                         (long long)frames[i], (long long)got[i].seq, (long long)got[i].skew_ns,
                         (long long)want.seq, (long long)want.skew_ns);
        }
        int64_t max, median;
        tp_sync_skew_stats(got, nf, scratch, &max, &median);
        if (nf == 0 || nr == 0) {
            assert_true(max == -1 && median == -1);
            continue;
        }
        size_t at_most_median = 0;
        int64_t top = 0;
        for (size_t i = 0; i < nf; i++) {
            int64_t a = llabs(got[i].skew_ns);
            top = a > top ? a : top;
            at_most_median += a <= median;
        }
        assert_int_equal(max, top);
        assert_true(at_most_median >= (nf + 1) / 2); /* the ceil(n/2)-th smallest */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_exact),
        cmocka_unit_test(test_check_catches_tampered_report),
        cmocka_unit_test(test_nearest_against_brute_force),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
