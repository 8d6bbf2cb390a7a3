/* The review player's engine (ui/playback.c) on real episodes: one written
 * here with the real writer and H.264 encoder (tests/ui/playback_fixture.c),
 * and the frozen recordings in tests/data. Every frame it returns is compared
 * bit for bit with an independent plain sequential decode of the camera
 * (the recorder's own decoder, tp_video_decoder, over every packet in
 * order). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "playback.h"
#include "playback_fixture.h"
#include "teleop/episode.h"
#include "teleop/video.h"

static char dir[] = "/tmp/teleop-test-playback-XXXXXX";
static char path[512];
static const pb_fixture fx = {.cameras = 2, .width = 160, .height = 120, .fps = 30, .gop = 10, .seconds = 2.5,
                              .noise = 3, .codec = "h264"};

/* Every frame of a camera, decoded in order, and their stamps. */
typedef struct reference {
    int64_t n;
    int64_t *t_ns;
    uint8_t **rgb;
    size_t frame_size;
} reference;

static void reference_decode(const char *file, const char *camera, reference *ref)
{
    char err[512];
    tp_episode *ep = tp_episode_open(file, err, sizeof err);
    assert_non_null(ep);
    const tp_stream_info *s = tp_episode_find_stream(ep, camera);
    assert_non_null(s);
    tp_video_decoder *dec =
        tp_video_decoder_create(s->codec, s->extradata, s->extradata_size, s->width, s->height, err, sizeof err);
    assert_non_null(dec);
    ref->n = 0;
    ref->frame_size = (size_t)s->width * (size_t)s->height * 3;
    ref->t_ns = calloc((size_t)s->count, sizeof *ref->t_ns);
    ref->rgb = calloc((size_t)s->count, sizeof *ref->rgb);
    int64_t *stamps = calloc((size_t)s->count, sizeof *stamps);
    assert_true(ref->t_ns && ref->rgb && stamps);
    tp_episode_cursor *cur = tp_episode_cursor_open(ep, s->id);
    assert_non_null(cur);
    tp_episode_row row;
    int64_t sent = 0;
    tp_video_frame fr;
    for (int done = 0; !done;) {
        int r = tp_episode_cursor_next(cur, &row);
        assert_true(r >= 0);
        if (r == 1) {
            stamps[sent] = row.t_ns;
            assert_int_equal(tp_video_decoder_send(dec, row.bytes, row.size, sent, err, sizeof err), 0);
            sent++;
        } else {
            assert_int_equal(tp_video_decoder_send(dec, NULL, 0, 0, err, sizeof err), 0);
            done = 1;
        }
        int g;
        while ((g = tp_video_decoder_receive(dec, &fr, err, sizeof err)) == 1) {
            assert_int_equal(fr.pts, ref->n);
            ref->t_ns[ref->n] = stamps[fr.pts];
            ref->rgb[ref->n] = malloc(ref->frame_size);
            memcpy(ref->rgb[ref->n], fr.rgb, ref->frame_size);
            ref->n++;
        }
        assert_int_equal(g, 0);
    }
    assert_int_equal(ref->n, s->count);
    free(stamps);
    tp_episode_cursor_close(cur);
    tp_video_decoder_destroy(dec);
    tp_episode_close(ep);
}

static void reference_free(reference *ref)
{
    for (int64_t i = 0; i < ref->n; i++)
        free(ref->rgb[i]);
    free(ref->rgb);
    free(ref->t_ns);
}

/* "Last frame with t_ns <= t", the first one before the camera starts. */
static int64_t expected_index(const reference *ref, int64_t t)
{
    int64_t idx = 0;
    for (int64_t i = 0; i < ref->n; i++)
        if (ref->t_ns[i] <= t)
            idx = i;
    return idx;
}

static void check_frame(tp_playback *pb, int cam, const reference *ref, int64_t t)
{
    char err[512] = "";
    const uint8_t *rgb = NULL;
    int64_t seq = tp_playback_frame(pb, cam, t, &rgb, err, sizeof err);
    if (seq < 0)
        fail_msg("frame at %lld: %s", (long long)t, err);
    int64_t want = expected_index(ref, t);
    if (seq != want)
        fail_msg("camera %d at t %lld: frame seq %lld, expected %lld", cam, (long long)t, (long long)seq,
                 (long long)want);
    if (memcmp(rgb, ref->rgb[want], ref->frame_size))
        fail_msg("camera %d at t %lld: frame %lld differs from the sequential decode", cam, (long long)t,
                 (long long)want);
}

static void expect_substring(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("'%s' does not contain '%s'", text, want);
}

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static int64_t random_between(int64_t lo, int64_t hi)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return lo + (int64_t)(rng_state % (uint64_t)(hi - lo + 1));
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/episode.db", dir);
    char err[512];
    if (pb_fixture_write(path, &fx, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return tp_episode_check(path, stderr) == 0 ? 0 : -1; /* a valid episode, as a recording would be */
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

static void test_cameras_and_span(void **state)
{
    (void)state;
    char err[512];
    tp_playback *pb = tp_playback_open(path, err, sizeof err);
    assert_non_null(pb);
    assert_int_equal(tp_playback_camera_count(pb), 2);
    const tp_playback_camera *c = tp_playback_camera_at(pb, 0);
    assert_string_equal(c->name, "head_camera");
    assert_int_equal(c->width, 160);
    assert_int_equal(c->height, 120);
    assert_int_equal(c->frames, 75);
    for (int64_t k = 0; k < c->frames; k++)
        assert_int_equal(c->t_ns[k], pb_fixture_frame_t(&fx, 0, k));
    assert_string_equal(tp_playback_camera_at(pb, 1)->name, "camera_1");
    assert_null(tp_playback_camera_at(pb, 2));
    assert_null(tp_playback_camera_at(pb, -1));
    /* The state starts first; the last stamp is the latest of any stream. */
    assert_int_equal(tp_playback_start_ns(pb), PB_FIXTURE_T0_NS);
    int64_t last_state = PB_FIXTURE_T0_NS + 1249 * PB_FIXTURE_STATE_PERIOD_NS;
    int64_t last_frame = pb_fixture_frame_t(&fx, 1, 74);
    assert_int_equal(tp_playback_end_ns(pb), last_state > last_frame ? last_state : last_frame);
    assert_string_equal(tp_episode_meta(tp_playback_episode(pb), "task"), "playback fixture");
    const uint8_t *rgb;
    assert_true(tp_playback_frame(pb, 5, PB_FIXTURE_T0_NS, &rgb, err, sizeof err) < 0);
    assert_non_null(strstr(err, path));
    tp_playback_close(pb);
}

/* Random times forward and backward, then sweeps at 60 UI ticks a second
 * forwards and backwards: every frame bit for bit the sequential decode's. */
static void test_frames_match_sequential_decode(void **state)
{
    (void)state;
    char err[512];
    tp_playback *pb = tp_playback_open(path, err, sizeof err);
    assert_non_null(pb);
    int64_t start = tp_playback_start_ns(pb), end = tp_playback_end_ns(pb);
    for (int cam = 0; cam < 2; cam++) {
        reference ref;
        reference_decode(path, tp_playback_camera_at(pb, cam)->name, &ref);
        int backward = 0, forward = 0;
        int64_t prev = start;
        for (int i = 0; i < 150; i++) {
            int64_t t = random_between(start - 100000000LL, end + 100000000LL);
            backward += t < prev;
            forward += t > prev;
            prev = t;
            check_frame(pb, cam, &ref, t);
        }
        assert_true(backward > 30 && forward > 30);
        for (int64_t t = start; t <= end; t += 1000000000LL / 60)
            check_frame(pb, cam, &ref, t);
        for (int64_t t = end; t >= start; t -= 1000000000LL / 60)
            check_frame(pb, cam, &ref, t);
        /* Exactly at every stamp, and one nanosecond before it. */
        for (int64_t k = 0; k < ref.n; k++) {
            check_frame(pb, cam, &ref, ref.t_ns[k]);
            check_frame(pb, cam, &ref, ref.t_ns[k] - 1);
        }
        reference_free(&ref);
    }
    tp_playback_close(pb);
}

/* All cameras at once (decoded in parallel on a seek): the same frames. */
static void test_all_cameras_at_once(void **state)
{
    (void)state;
    char err[512];
    tp_playback *pb = tp_playback_open(path, err, sizeof err);
    assert_non_null(pb);
    reference ref[2];
    for (int cam = 0; cam < 2; cam++)
        reference_decode(path, tp_playback_camera_at(pb, cam)->name, &ref[cam]);
    int64_t start = tp_playback_start_ns(pb), end = tp_playback_end_ns(pb);
    const uint8_t *rgb[2];
    int64_t seq[2];
    for (int i = 0; i < 120; i++) {
        /* Random jumps, each followed by a few 60 Hz ticks of playback. */
        int64_t t = random_between(start - 50000000LL, end + 50000000LL);
        for (int k = 0; k < (i % 4 ? 1 : 5); k++, t += 1000000000LL / 60) {
            if (tp_playback_frames(pb, t, rgb, seq, err, sizeof err) != 2)
                fail_msg("frames at %lld: %s", (long long)t, err);
            for (int cam = 0; cam < 2; cam++) {
                int64_t want = expected_index(&ref[cam], t);
                assert_int_equal(seq[cam], want);
                if (memcmp(rgb[cam], ref[cam].rgb[want], ref[cam].frame_size))
                    fail_msg("camera %d at %lld: frame %lld differs from the sequential decode", cam, (long long)t,
                             (long long)want);
            }
        }
    }
    /* A jump back to the end of a GOP decodes that GOP on each camera, no more. */
    tp_playback_decode_stats before[2], after[2];
    for (int cam = 0; cam < 2; cam++)
        tp_playback_decode_stats_get(pb, cam, &before[cam]);
    int64_t t = tp_playback_camera_at(pb, 1)->t_ns[19];
    assert_int_equal(tp_playback_frames(pb, t, rgb, seq, err, sizeof err), 2);
    for (int cam = 0; cam < 2; cam++) {
        tp_playback_decode_stats_get(pb, cam, &after[cam]);
        int64_t want = expected_index(&ref[cam], t);
        assert_int_equal(seq[cam], want);
        assert_memory_equal(rgb[cam], ref[cam].rgb[want], ref[cam].frame_size);
        assert_true(after[cam].frames_decoded - before[cam].frames_decoded <= want % 10 + 1);
    }
    for (int cam = 0; cam < 2; cam++)
        reference_free(&ref[cam]);
    tp_playback_close(pb);
}

/* Sequential playback decodes forward without re-seeking; a jump back
 * decodes from the keyframe at or before the wanted frame, no further. */
static void test_seek_from_keyframe(void **state)
{
    (void)state;
    char err[512];
    tp_playback *pb = tp_playback_open(path, err, sizeof err);
    assert_non_null(pb);
    const tp_playback_camera *c = tp_playback_camera_at(pb, 0);
    const uint8_t *rgb;
    tp_playback_decode_stats st0, st1;
    for (int64_t k = 0; k < c->frames; k++)
        assert_int_equal(tp_playback_frame(pb, 0, c->t_ns[k], &rgb, err, sizeof err), k);
    tp_playback_decode_stats_get(pb, 0, &st0);
    assert_int_equal(st0.seeks, 1);
    assert_int_equal(st0.frames_decoded, c->frames);
    /* Back to frame 27 (GOP of 10: keyframe 20): 8 frames decoded. */
    assert_int_equal(tp_playback_frame(pb, 0, c->t_ns[27], &rgb, err, sizeof err), 27);
    tp_playback_decode_stats_get(pb, 0, &st1);
    assert_int_equal(st1.seeks, 2);
    assert_int_equal(st1.frames_decoded - st0.frames_decoded, 8);
    /* Forward within the GOP: 28, 29 only. */
    assert_int_equal(tp_playback_frame(pb, 0, c->t_ns[29] + 1000, &rgb, err, sizeof err), 29);
    tp_playback_decode_stats_get(pb, 0, &st0);
    assert_int_equal(st0.seeks, 2);
    assert_int_equal(st0.frames_decoded - st1.frames_decoded, 2);
    /* Far ahead: a seek to keyframe 60, not a decode through 30..59. */
    assert_int_equal(tp_playback_frame(pb, 0, c->t_ns[63], &rgb, err, sizeof err), 63);
    tp_playback_decode_stats_get(pb, 0, &st1);
    assert_int_equal(st1.seeks, 3);
    assert_int_equal(st1.frames_decoded - st0.frames_decoded, 4);
    /* The same frame again: nothing decoded. */
    assert_int_equal(tp_playback_frame(pb, 0, c->t_ns[63] + 5, &rgb, err, sizeof err), 63);
    tp_playback_decode_stats_get(pb, 0, &st0);
    assert_int_equal(st0.frames_decoded, st1.frames_decoded);
    tp_playback_close(pb);
}

static void test_stepping(void **state)
{
    (void)state;
    char err[512];
    tp_playback *pb = tp_playback_open(path, err, sizeof err);
    assert_non_null(pb);
    for (int cam = 0; cam < 2; cam++) {
        const tp_playback_camera *c = tp_playback_camera_at(pb, cam);
        /* From the episode's start (before the camera's first frame) forward
         * through every frame, then stuck at the last. */
        int64_t t = tp_playback_start_ns(pb);
        assert_true(t < c->t_ns[0]);
        for (int64_t k = 0; k < c->frames; k++) {
            t = tp_playback_next_frame_t(pb, cam, t);
            assert_int_equal(t, c->t_ns[k]);
        }
        assert_int_equal(tp_playback_next_frame_t(pb, cam, t), t);
        /* Between two frames, next is the one after the frame shown. */
        assert_int_equal(tp_playback_next_frame_t(pb, cam, c->t_ns[10] + 1), c->t_ns[11]);
        assert_int_equal(tp_playback_prev_frame_t(pb, cam, c->t_ns[10] + 1), c->t_ns[9]);
        t = tp_playback_end_ns(pb) + 1000;
        for (int64_t k = c->frames - 2; k >= 0; k--) {
            t = tp_playback_prev_frame_t(pb, cam, t);
            assert_int_equal(t, c->t_ns[k]);
        }
        assert_int_equal(tp_playback_prev_frame_t(pb, cam, t), t);
    }
    tp_playback_close(pb);
}

static void test_series(void **state)
{
    (void)state;
    char err[512];
    tp_playback *pb = tp_playback_open(path, err, sizeof err);
    assert_non_null(pb);
    const tp_playback_series *s = tp_playback_series_get(pb, "state");
    assert_non_null(s);
    assert_ptr_equal(tp_playback_series_get(pb, "state"), s); /* loaded once */
    assert_string_equal(s->name, "state");
    assert_int_equal(s->dims, PB_FIXTURE_JOINTS);
    assert_int_equal(s->n, 1250);
    for (int j = 0; j < PB_FIXTURE_JOINTS; j++)
        assert_string_equal(s->dim_names[j], pb_fixture_joint_names[j]);
    for (int64_t k = 0; k < s->n; k++) {
        assert_int_equal(s->t_ns[k], PB_FIXTURE_T0_NS + k * PB_FIXTURE_STATE_PERIOD_NS);
        for (int j = 0; j < PB_FIXTURE_JOINTS; j++)
            assert_true(s->values[k * s->dims + j] == pb_fixture_state(k, j));
    }
    assert_int_equal(tp_playback_series_index(s, PB_FIXTURE_T0_NS - 1), 0);
    assert_int_equal(tp_playback_series_index(s, tp_playback_end_ns(pb) + 1000000000LL), s->n - 1);
    for (int i = 0; i < 200; i++) {
        int64_t t = random_between(PB_FIXTURE_T0_NS, PB_FIXTURE_T0_NS + 2499999999LL);
        assert_int_equal(tp_playback_series_index(s, t), (t - PB_FIXTURE_T0_NS) / PB_FIXTURE_STATE_PERIOD_NS);
    }
    const tp_playback_series *a = tp_playback_series_get(pb, "action");
    assert_non_null(a);
    assert_true(a->values[100 * a->dims] == pb_fixture_state(105, 0));
    assert_null(tp_playback_series_get(pb, "no_such_stream"));
    assert_null(tp_playback_series_get(pb, "head_camera")); /* a camera is not a series */
    tp_playback_close(pb);
}

static void test_limits_and_events(void **state)
{
    (void)state;
    char err[512];
    tp_playback *pb = tp_playback_open(path, err, sizeof err);
    assert_non_null(pb);
    double lo = 0, hi = 0;
    assert_true(tp_playback_joint_limit(pb, "left_elbow_joint", &lo, &hi));
    assert_float_equal(lo, -1.0472, 1e-9);
    assert_float_equal(hi, 2.0944, 1e-9);
    assert_true(tp_playback_joint_limit(pb, "right_hand_two_joint", &lo, &hi));
    assert_float_equal(lo, -2.0943951, 1e-9);
    assert_float_equal(hi, 0, 1e-9);
    assert_false(tp_playback_joint_limit(pb, "no_such_joint", &lo, &hi));
    assert_int_equal(tp_playback_event_count(pb), PB_FIXTURE_EVENTS);
    for (int i = 0; i < PB_FIXTURE_EVENTS; i++) {
        const tp_playback_event *e = tp_playback_event_at(pb, i);
        assert_int_equal(e->t_ns, pb_fixture_event_t(&fx, i));
        assert_string_equal(e->kind, pb_fixture_event_kinds[i]);
        assert_string_equal(e->detail, "fixture");
    }
    assert_null(tp_playback_event_at(pb, PB_FIXTURE_EVENTS));
    tp_playback_close(pb);
}

static void test_hands(void **state)
{
    (void)state;
    char err[512];
    tp_playback *pb = tp_playback_open(path, err, sizeof err);
    assert_non_null(pb);
    int64_t rows = 2500000000LL / PB_FIXTURE_OPERATOR_PERIOD_NS; /* as the fixture counts them */
    float hand[2][26][3];
    bool tracked[2];
    int seen_untracked = 0, seen_tracked = 0;
    for (int i = 0; i < 100; i++) {
        int64_t t = random_between(PB_FIXTURE_T0_NS, PB_FIXTURE_T0_NS + 2490000000LL);
        assert_true(tp_playback_hands(pb, t, hand[0], hand[1], tracked));
        int64_t k = (t - PB_FIXTURE_T0_NS) / PB_FIXTURE_OPERATOR_PERIOD_NS;
        for (int h = 0; h < 2; h++) {
            assert_int_equal(tracked[h], pb_fixture_hand_tracked(k, h, rows));
            for (int j = 0; j < 26; j++) {
                float want[3];
                pb_fixture_hand_joint(k, h, j, want);
                assert_memory_equal(hand[h][j], want, sizeof want);
            }
        }
        seen_untracked += !tracked[1];
        seen_tracked += tracked[1];
    }
    assert_true(seen_untracked > 10 && seen_tracked > 10);
    tp_playback_close(pb);
}

/* The frozen recordings made by `teleop run` (tests/data): each camera's
 * frames equal the sequential decode; hands and limits as recorded. */
static void test_recorded_fixtures(void **state)
{
    (void)state;
    static const char *const files[] = {FIXTURE_DIR "/episode-v2.db", FIXTURE_DIR "/episode-v1-plain.db",
                                        FIXTURE_DIR "/episode-v1-crc32.db"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char err[512];
        tp_playback *pb = tp_playback_open(files[f], err, sizeof err);
        if (!pb)
            fail_msg("%s", err);
        assert_int_equal(tp_playback_camera_count(pb), 1);
        reference ref;
        reference_decode(files[f], "head_camera", &ref);
        assert_true(ref.n >= 7);
        for (int i = 0; i < 40; i++)
            check_frame(pb, 0, &ref, random_between(tp_playback_start_ns(pb), tp_playback_end_ns(pb)));
        reference_free(&ref);
        float l[26][3], r[26][3];
        bool tracked[2] = {false, false};
        assert_true(tp_playback_hands(pb, tp_playback_end_ns(pb), l, r, tracked));
        /* The demo motion tracks both hands, about a metre above the floor. */
        assert_true(tracked[0] && tracked[1]);
        assert_true(l[1][1] > 0.5f && l[1][1] < 2.0f && r[1][1] > 0.5f && r[1][1] < 2.0f);
        double lo, hi;
        assert_int_equal(tp_playback_joint_limit(pb, "left_elbow_joint", &lo, &hi), f == 0);
        assert_true(tp_playback_event_count(pb) > 0);
        tp_playback_close(pb);
    }
}

/* A damaged packet: the frames that need it fail with one line naming the
 * file, the camera and the packet; the rest of the episode still plays. */
static void test_damaged_packet(void **state)
{
    (void)state;
    char copy[600], cmd[1400], err[512] = "";
    snprintf(copy, sizeof copy, "%s/damaged.db", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, copy);
    assert_int_equal(system(cmd), 0);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(copy, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE video_packets SET data = zeroblob(40) WHERE seq = 23 AND stream_id ="
                                  " (SELECT id FROM streams WHERE name = 'head_camera')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    reference ref;
    reference_decode(path, "head_camera", &ref);
    tp_playback *pb = tp_playback_open(copy, err, sizeof err);
    assert_non_null(pb);
    const tp_playback_camera *c = tp_playback_camera_at(pb, 0);
    const uint8_t *rgb;
    for (int rep = 0; rep < 2; rep++) {
        for (int64_t k = 23; k < 30; k++) {
            err[0] = '\0';
            assert_int_equal(tp_playback_frame(pb, 0, c->t_ns[k], &rgb, err, sizeof err), -1);
            expect_substring(err, copy);
            expect_substring(err, "camera 'head_camera'");
            assert_null(strchr(err, '\n'));
        }
        /* Before it in its GOP, and every other GOP, as recorded. */
        for (int64_t k = 0; k < c->frames; k += (k == 22 ? 8 : 1)) {
            assert_int_equal(tp_playback_frame(pb, 0, c->t_ns[k], &rgb, err, sizeof err), k);
            assert_memory_equal(rgb, ref.rgb[k], ref.frame_size);
        }
    }
    reference_free(&ref);
    tp_playback_close(pb);
    unlink(copy);
}

static void test_refuses(void **state)
{
    (void)state;
    char err[512] = "";
    char other[600];
    snprintf(other, sizeof other, "%s/not-an-episode.db", dir);
    FILE *f = fopen(other, "w");
    assert_non_null(f);
    fputs("hello", f);
    fclose(f);
    assert_null(tp_playback_open(other, err, sizeof err));
    assert_non_null(strstr(err, other));
    assert_null(strchr(err, '\n'));
    unlink(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cameras_and_span),
        cmocka_unit_test(test_frames_match_sequential_decode),
        cmocka_unit_test(test_all_cameras_at_once),
        cmocka_unit_test(test_seek_from_keyframe),
        cmocka_unit_test(test_stepping),
        cmocka_unit_test(test_series),
        cmocka_unit_test(test_limits_and_events),
        cmocka_unit_test(test_hands),
        cmocka_unit_test(test_recorded_fixtures),
        cmocka_unit_test(test_damaged_packet),
        cmocka_unit_test(test_refuses),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
