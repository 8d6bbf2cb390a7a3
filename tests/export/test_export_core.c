/* The export core: resampling rules on hand-made series, and an episode
 * (the frozen version-2 fixture) on its fps grid. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "teleop/export.h"

static void test_interpolate_and_hold(void **state)
{
    (void)state;
    const int64_t t[3] = {100, 200, 400};
    const float v[6] = {0, 10, 1, 20, 3, 40}; /* 2 dims */
    float out[2];
    int64_t hint = 0;
    tp_export_interpolate(t, v, 3, 2, 50, out, &hint); /* before the first: clamped */
    assert_true(out[0] == 0 && out[1] == 10);
    tp_export_interpolate(t, v, 3, 2, 150, out, &hint);
    assert_true(out[0] == 0.5f && out[1] == 15);
    tp_export_interpolate(t, v, 3, 2, 300, out, &hint);
    assert_true(out[0] == 2 && out[1] == 30);
    tp_export_interpolate(t, v, 3, 2, 400, out, &hint);
    assert_true(out[0] == 3 && out[1] == 40);
    tp_export_interpolate(t, v, 3, 2, 900, out, &hint);
    assert_true(out[0] == 3 && out[1] == 40);
    hint = 0;
    tp_export_hold(t, v, 3, 2, 50, out, &hint); /* before the first command: the first */
    assert_true(out[0] == 0 && out[1] == 10);
    tp_export_hold(t, v, 3, 2, 199, out, &hint);
    assert_true(out[0] == 0 && out[1] == 10);
    tp_export_hold(t, v, 3, 2, 200, out, &hint);
    assert_true(out[0] == 1 && out[1] == 20);
    tp_export_hold(t, v, 3, 2, 399, out, &hint);
    assert_true(out[0] == 1 && out[1] == 20);
    tp_export_hold(t, v, 3, 2, 1000, out, &hint);
    assert_true(out[0] == 3 && out[1] == 40);
}

static void test_fixture_episode(void **state)
{
    (void)state;
    tp_export_options opt;
    tp_export_options_default(&opt);
    tp_export_episode e;
    char err[1024] = "";
    int rc = tp_export_episode_load(TELEOP_SOURCE_DIR "/tests/data/episode-v2.db", &opt, &e, err, sizeof err);
    if (rc)
        fail_msg("%s", err);
    assert_true(e.fps == 30.0);
    assert_int_equal(e.n_cameras, 1);
    assert_string_equal(e.cameras[0].name, "head_camera");
    assert_int_equal(e.n_frames, 7);
    assert_int_equal(e.state_dims, 28);
    assert_int_equal(e.action_dims, 28);
    assert_int_equal(e.velocity_dims, 28);
    assert_string_equal(e.state_names[0], "left_shoulder_pitch_joint");
    assert_string_equal(e.task, "fixture");
    for (int64_t i = 0; i < e.n_frames; i++) {
        assert_true(e.timestamp[i] == (float)((double)i / 30.0));
        assert_int_equal(e.cameras[0].frame_seq[i], i);
    }
    assert_int_equal(e.t0_ns, e.cameras[0].capture_t_ns[0]);
    assert_true(e.max_frame_offset_s <= 0.5 / 30.0);
    assert_false(e.offgrid);
    tp_export_episode_free(&e);

    /* A tolerance far below the camera's real jitter refuses the episode
     * with a line naming it, or flags it when allowed. */
    opt.tolerance_frames = 1e-6;
    rc = tp_export_episode_load(TELEOP_SOURCE_DIR "/tests/data/episode-v2.db", &opt, &e, err, sizeof err);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "episode-v2.db: camera head_camera frame "));
    opt.allow_offgrid = true;
    rc = tp_export_episode_load(TELEOP_SOURCE_DIR "/tests/data/episode-v2.db", &opt, &e, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_true(e.offgrid);
    assert_int_equal(e.n_frames, 7);
    tp_export_episode_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interpolate_and_hold),
        cmocka_unit_test(test_fixture_episode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
