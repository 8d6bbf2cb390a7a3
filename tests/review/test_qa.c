/* QA flags on synthetic episodes made to have each fault (written with the
 * episode writer: state and action at 100 Hz, a real FFV1 camera at 30 fps,
 * events as the station writes them): each gets exactly its flag, a clean
 * episode none, thresholds are tested on both sides where they are counts or
 * fractions; storing keeps the file a valid, rollback-journal episode. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "teleop/episode.h"
#include "teleop/qa.h"
#include "teleop/video.h"

static char dir[] = "/tmp/teleop-qa-XXXXXX";
static int serial;

#define DIMS 4
#define RATE 100.0
#define FPS 30.0
static const int64_t T0 = 5000000000LL;

typedef enum motion_kind { SMOOTH, STILL, JITTER } motion_kind;

typedef struct spec {
    double duration_s;
    motion_kind motion;
    const char *outcome;
    int drop_frame;       /* a frame_dropped event and that frame missing (its index), 0: none */
    int missed_frames;    /* a frames_missed event for this many skipped frame times */
    double control_end_s; /* state/action stop here (camera goes on): skew; 0: at the end */
    const char *event;    /* one event of this kind, or NULL */
    int event_count;
} spec;

static void action_at(const spec *s, double t, float *v)
{
    for (int j = 0; j < DIMS; j++) {
        double a = 0;
        if (s->motion == SMOOTH)
            a = 0.5 * sin(M_PI * t + j);
        else if (s->motion == STILL)
            a = t > 0.3 * s->duration_s && t < 0.4 * s->duration_s ? 0.2 * (t - 0.3 * s->duration_s) : 0;
        else
            a = 0.5 * sin(M_PI * t + j) + ((int)(t * FPS) % 2 ? 0.05 : -0.05);
        v[j] = (float)a;
    }
}

static void write_camera(tp_episode_writer *w, int id, const spec *s, int64_t end_ns)
{
    char err[256];
    tp_video_encoder_config vc;
    tp_video_encoder_default_config(&vc, 16, 16, FPS);
    vc.codec = "ffv1";
    tp_video_encoder *enc = tp_video_encoder_create(&vc, err, sizeof err);
    assert_non_null(enc);
    uint8_t rgb[16 * 16 * 3];
    int64_t seq = 0, pts = 0;
    int64_t t_of[4096];
    tp_video_packet p;
    for (int frame = 0;; frame++) {
        int64_t t = T0 + (int64_t)llround(frame * 1e9 / FPS);
        bool last = t >= end_ns;
        if (!last && frame == s->drop_frame && frame > 0) {
            char d[96];
            snprintf(d, sizeof d, "camera head_camera: frame %d dropped at capture, encoder queue full", frame);
            assert_int_equal(tp_episode_writer_event(w, t, "frame_dropped", d), 0);
            continue;
        }
        if (!last && s->missed_frames > 0 && frame > 10 && frame <= 10 + s->missed_frames) {
            if (frame == 10 + s->missed_frames) {
                char d[96];
                snprintf(d, sizeof d, "camera head_camera: %d frames missed, the camera fell behind its rate",
                         s->missed_frames);
                assert_int_equal(
                    tp_episode_writer_event(w, T0 + (int64_t)llround((frame + 1) * 1e9 / FPS), "frames_missed", d), 0);
            }
            continue;
        }
        if (!last) {
            memset(rgb, frame * 7, sizeof rgb);
            t_of[pts] = t;
            assert_int_equal(tp_video_encoder_send(enc, rgb, pts++, err, sizeof err), 0);
        } else {
            tp_video_encoder_send(enc, NULL, 0, err, sizeof err);
        }
        while (tp_video_encoder_receive(enc, &p, err, sizeof err) == 1) {
            assert_int_equal(tp_episode_writer_packet(w, id, seq, p.pts, t_of[p.pts], p.keyframe, p.data, p.size), 0);
            seq++;
        }
        if (last)
            break;
    }
    tp_video_encoder_destroy(enc);
}

static void make_episode(const char *path, const spec *s)
{
    char err[512];
    tp_episode_writer *w = tp_episode_writer_create(path, err, sizeof err);
    if (!w)
        fail_msg("%s", err);
    tp_stream_desc sd = {.name = "state", .kind = TP_STREAM_STATE, .dims = DIMS, .units = "rad", .rate_hz = RATE};
    tp_stream_desc ad = {.name = "action", .kind = TP_STREAM_ACTION, .dims = DIMS, .units = "rad",
                         .t_meaning = TP_TIME_COMMAND, .rate_hz = RATE};
    tp_stream_desc cd = {.name = "head_camera", .kind = TP_STREAM_CAMERA, .dims = 3, .rate_hz = FPS,
                         .codec = "ffv1", .width = 16, .height = 16};
    int ids = tp_episode_writer_add_stream(w, &sd), ida = tp_episode_writer_add_stream(w, &ad),
        idc = tp_episode_writer_add_stream(w, &cd);
    assert_true(ids > 0 && ida > 0 && idc > 0);
    int64_t end = T0 + (int64_t)llround(s->duration_s * 1e9);
    int64_t control_end = s->control_end_s > 0 ? T0 + (int64_t)llround(s->control_end_s * 1e9) : end;
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)T0);
    assert_int_equal(tp_episode_writer_set_meta(w, "start_t_ns", buf), 0);
    assert_int_equal(tp_episode_writer_begin(w), 0);
    float v[DIMS];
    for (int64_t k = 0;; k++) {
        int64_t t = T0 + (int64_t)llround((double)k * 1e9 / RATE);
        if (t >= control_end)
            break;
        action_at(s, (double)(t - T0) / 1e9, v);
        assert_int_equal(tp_episode_writer_sample(w, ids, k, t, v, DIMS), 0);
        assert_int_equal(tp_episode_writer_sample(w, ida, k, t, v, DIMS), 0);
    }
    write_camera(w, idc, s, end);
    for (int i = 0; s->event && i < s->event_count; i++)
        assert_int_equal(tp_episode_writer_event(w, T0 + (i + 1) * 100000000LL, s->event, NULL), 0);
    assert_int_equal(tp_episode_writer_commit(w), 0);
    snprintf(buf, sizeof buf, "%lld", (long long)end);
    assert_int_equal(tp_episode_writer_set_meta(w, "end_t_ns", buf), 0);
    assert_int_equal(tp_episode_writer_finish(w, s->outcome ? s->outcome : "completed"), 0);
    tp_episode_writer_close(w);
}

static void episode_path(char *out, size_t outlen, const char *sub)
{
    snprintf(out, outlen, "%s/%s/episode-20261206-100000-%03d.db", dir, sub, ++serial);
}

static unsigned flags_of(const spec *s, const char *const *peers, int npeers, tp_qa_report *r)
{
    char path[512], err[512];
    episode_path(path, sizeof path, "single");
    make_episode(path, s);
    if (tp_qa_compute(path, peers, npeers, r, err, sizeof err) != 0)
        fail_msg("%s", err);
    return r->flags;
}

static void expect_flags(const spec *s, unsigned want)
{
    tp_qa_report r;
    unsigned got = flags_of(s, NULL, 0, &r);
    char a[256], b[256];
    tp_qa_format_flags(got, a, sizeof a);
    tp_qa_format_flags(want, b, sizeof b);
    if (got != want)
        fail_msg("flags '%s', want '%s' (dropped %lld missed %lld skew %.1f ms movement %.3f jerk %.1f)", a, b,
                 (long long)r.frames_dropped, (long long)r.frames_missed, r.max_sync_skew_ms, r.movement, r.jerk);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/single %s/peers", dir, dir);
    return system(cmd);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static const spec clean = {.duration_s = 3.0};

static void test_names(void **state)
{
    (void)state;
    unsigned f;
    char err[128], out[256];
    assert_int_equal(tp_qa_parse_flags("", &f, err, sizeof err), 0);
    assert_int_equal(f, 0);
    assert_int_equal(tp_qa_parse_flags("jerky,dropped_frames", &f, err, sizeof err), 0);
    assert_int_equal(f, TP_QA_JERKY | TP_QA_DROPPED_FRAMES);
    tp_qa_format_flags(f, out, sizeof out);
    assert_string_equal(out, "dropped_frames,jerky"); /* flag order */
    assert_int_equal(tp_qa_parse_flags("holds,blurry", &f, err, sizeof err), -1);
    assert_string_equal(err, "unknown QA flag 'blurry'");
    assert_int_equal(tp_qa_parse_flags("holds,", &f, err, sizeof err), -1);
    for (int i = 0; i < TP_QA_FLAG_COUNT; i++) {
        assert_non_null(tp_qa_flag_name(1u << i));
        assert_int_equal(tp_qa_parse_flags(tp_qa_flag_name(1u << i), &f, err, sizeof err), 0);
        assert_int_equal(f, 1u << i);
    }
    assert_null(tp_qa_flag_name(3));
    assert_null(tp_qa_flag_name(1u << TP_QA_FLAG_COUNT));
    tp_qa_format_flags((1u << TP_QA_FLAG_COUNT) - 1, out, sizeof out);
    assert_string_equal(out, "dropped_frames,sync_skew,holds,safety,tracking_lost,deadline_misses,interrupted,"
                             "too_short,too_long,low_movement,jerky");
}

static void test_clean(void **state)
{
    (void)state;
    tp_qa_report r;
    assert_int_equal(flags_of(&clean, NULL, 0, &r), 0);
    assert_true(fabs(r.duration_s - 3.0) < 1e-9);
    assert_int_equal(r.frames_dropped + r.frames_missed, 0);
    assert_true(r.movement > 0.9);
    assert_true(r.jerk > 5 && r.jerk < 50); /* 0.5 sin(pi t): 0.5 pi^3 = 15.5 rad/s^3 */
    /* Two deadline misses in 300 control cycles (0.67 %) are under 1 %. */
    spec s = clean;
    s.event = "deadline_miss";
    s.event_count = 2;
    expect_flags(&s, 0);
}

static void test_each_fault(void **state)
{
    (void)state;
    spec s;
    s = clean, s.drop_frame = 40;
    expect_flags(&s, TP_QA_DROPPED_FRAMES);
    s = clean, s.missed_frames = 3;
    expect_flags(&s, TP_QA_DROPPED_FRAMES);
    tp_qa_report r;
    s = clean, s.drop_frame = 40, s.missed_frames = 3;
    flags_of(&s, NULL, 0, &r);
    assert_int_equal(r.frames_dropped, 1);
    assert_int_equal(r.frames_missed, 3);
    s = clean, s.control_end_s = 2.8; /* frames after 2.8 s are 10–190 ms from any state */
    expect_flags(&s, TP_QA_SYNC_SKEW);
    s = clean, s.event = "emergency_hold", s.event_count = 1;
    expect_flags(&s, TP_QA_HOLDS);
    s = clean, s.event = "safety_workspace_hold", s.event_count = 2;
    expect_flags(&s, TP_QA_HOLDS);
    s = clean, s.event = "safety_position_clamp", s.event_count = 1;
    expect_flags(&s, TP_QA_SAFETY);
    s = clean, s.event = "safety_velocity_clamp", s.event_count = 3;
    expect_flags(&s, TP_QA_SAFETY);
    s = clean, s.event = "tracking_lost", s.event_count = 1;
    expect_flags(&s, TP_QA_TRACKING_LOST);
    s = clean, s.event = "xr_tracking_lost", s.event_count = 1;
    expect_flags(&s, TP_QA_TRACKING_LOST);
    s = clean, s.event = "deadline_miss", s.event_count = 4; /* 4 of 300: 1.33 % */
    expect_flags(&s, TP_QA_DEADLINE_MISSES);
    s = clean, s.event = "sim_time_skipped", s.event_count = 1;
    expect_flags(&s, TP_QA_DEADLINE_MISSES);
    s = clean, s.outcome = "interrupted";
    expect_flags(&s, TP_QA_INTERRUPTED);
    s = clean, s.outcome = "error";
    expect_flags(&s, TP_QA_INTERRUPTED);
    s = clean, s.outcome = "stopped";
    expect_flags(&s, 0);
    s = clean, s.motion = STILL; /* moves 10 % of the time */
    expect_flags(&s, TP_QA_LOW_MOVEMENT);
    s = clean, s.motion = JITTER; /* ±0.05 rad alternating every frame on the sine */
    expect_flags(&s, TP_QA_JERKY);
    s = clean, s.duration_s = 0.8; /* under 1 s, no peers needed */
    expect_flags(&s, TP_QA_TOO_SHORT);
}

static void test_duration_against_peers(void **state)
{
    (void)state;
    static const double durations[] = {3.0, 3.2, 2.9, 3.1, 3.0};
    char peers[5][512];
    const char *pp[5];
    for (int i = 0; i < 5; i++) {
        episode_path(peers[i], sizeof peers[i], "peers");
        spec s = clean;
        s.duration_s = durations[i];
        make_episode(peers[i], &s);
        pp[i] = peers[i];
    }
    tp_qa_report r;
    spec s = clean;
    s.duration_s = 1.5;
    assert_int_equal(flags_of(&s, pp, 5, &r), TP_QA_TOO_SHORT);
    assert_true(fabs(r.session_median_duration_s - 3.0) < 1e-9);
    assert_int_equal(r.session_episodes, 5);
    s.duration_s = 5.0;
    assert_int_equal(flags_of(&s, pp, 5, &r), TP_QA_TOO_LONG);
    s.duration_s = 3.5; /* within median ± max(3 * 1.4826 MAD, 25 %) = 3.0 ± 0.75 */
    assert_int_equal(flags_of(&s, pp, 5, &r), 0);
    /* Fewer than four peers: no distribution. */
    s.duration_s = 5.0;
    assert_int_equal(flags_of(&s, pp, 3, &r), 0);
    assert_int_equal(r.session_episodes, 0);
    /* The episode itself among its peers is not counted. */
    char self[512];
    episode_path(self, sizeof self, "peers");
    make_episode(self, &s);
    const char *with_self[5] = {pp[0], pp[1], pp[2], self, pp[4]};
    char err[512];
    assert_int_equal(tp_qa_compute(self, with_self, 5, &r, err, sizeof err), 0);
    assert_int_equal(r.session_episodes, 4);
    assert_int_equal(r.flags, TP_QA_TOO_LONG);
    /* tp_qa_finish: the session's earlier episodes (same stamp, lower
     * number, same folder) are the peers, and the result is stored. */
    unsigned f;
    assert_int_equal(tp_qa_finish(self, &f, err, sizeof err), 0);
    assert_int_equal(f, TP_QA_TOO_LONG);
    assert_int_equal(tp_qa_read(self, &f, err, sizeof err), 1);
    assert_int_equal(f, TP_QA_TOO_LONG);
}

static void test_store(void **state)
{
    (void)state;
    char path[512], err[512];
    episode_path(path, sizeof path, "single");
    spec s = clean;
    s.drop_frame = 20;
    s.motion = JITTER;
    make_episode(path, &s);
    unsigned f;
    assert_int_equal(tp_qa_read(path, &f, err, sizeof err), 0); /* never computed */
    tp_qa_report r;
    assert_int_equal(tp_qa_compute(path, NULL, 0, &r, err, sizeof err), 0);
    assert_int_equal(tp_qa_store(path, &r, err, sizeof err), 0);
    assert_int_equal(tp_qa_read(path, &f, err, sizeof err), 1);
    assert_int_equal(f, TP_QA_DROPPED_FRAMES | TP_QA_JERKY);
    tp_episode *ep = tp_episode_open(path, err, sizeof err);
    assert_non_null(ep);
    assert_string_equal(tp_episode_meta(ep, "qa_flags"), "dropped_frames,jerky");
    assert_string_equal(tp_episode_meta(ep, "qa_version"), "1");
    assert_non_null(tp_episode_meta(ep, "qa_unix_ns"));
    const char *m = tp_episode_meta(ep, "qa_metrics");
    assert_non_null(m);
    assert_non_null(strstr(m, "\"frames_dropped\": 1,"));
    assert_true(m[0] == '{' && m[strlen(m) - 1] == '}');
    tp_episode_close(ep);
    char *report = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&report, &len);
    int rc = tp_episode_check(path, out);
    fclose(out);
    if (rc != 0)
        fail_msg("%s", report);
    free(report);
    FILE *raw = fopen(path, "rb");
    unsigned char h[20];
    assert_int_equal(fread(h, 1, sizeof h, raw), sizeof h);
    fclose(raw);
    assert_int_equal(h[18], 1);
    /* Clean again: stored as "". */
    r.flags = 0;
    assert_int_equal(tp_qa_store(path, &r, err, sizeof err), 0);
    assert_int_equal(tp_qa_read(path, &f, err, sizeof err), 1);
    assert_int_equal(f, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),  cmocka_unit_test(test_clean),
        cmocka_unit_test(test_each_fault), cmocka_unit_test(test_duration_against_peers),
        cmocka_unit_test(test_store),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
