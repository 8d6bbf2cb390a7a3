/* The export core: resampling rules on hand-made series, and an episode
 * (the frozen version-2 fixture) on its fps grid. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "export/export_select.h"
#include "teleop/export.h"
#include "teleop/qa.h"

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

/* The review and QA selection (--qa-clean, --qa-flag, --no-qa-flag,
 * --verdict, --min-rating, deletion marks) on episode meta. */
static void test_review_selection(void **state)
{
    (void)state;
    static tp_export_episode rated, flagged, unknown, deleted;
    snprintf(rated.verdict, sizeof rated.verdict, "success");
    rated.rating = 4;
    rated.has_qa = true;
    flagged.has_qa = true;
    flagged.qa_flags = TP_QA_JERKY | TP_QA_HOLDS;
    snprintf(flagged.verdict, sizeof flagged.verdict, "failure");
    flagged.rating = 2;
    deleted = rated;
    deleted.delete_marked = true;
    tp_export_selection s = {0};
    char err[256];
    assert_true(tp_export_selected(&s, &rated) && tp_export_selected(&s, &flagged) && tp_export_selected(&s, &unknown));
    assert_false(tp_export_selected(&s, &deleted)); /* skipped unless --include-deleted */
    assert_int_equal(tp_export_select_option(&s, TP_SEL_OPT_INCLUDE_DELETED, NULL, err, sizeof err), 1);
    assert_true(tp_export_selected(&s, &deleted));

    tp_export_selection clean = {0};
    assert_int_equal(tp_export_select_option(&clean, TP_SEL_OPT_QA_CLEAN, NULL, err, sizeof err), 1);
    assert_true(tp_export_selected(&clean, &rated));
    assert_false(tp_export_selected(&clean, &flagged));
    assert_false(tp_export_selected(&clean, &unknown)); /* never computed: not known clean */

    tp_export_selection with = {0};
    assert_int_equal(tp_export_select_option(&with, TP_SEL_OPT_QA_FLAG, "jerky", err, sizeof err), 1);
    assert_true(tp_export_selected(&with, &flagged));
    assert_false(tp_export_selected(&with, &rated));
    assert_int_equal(tp_export_select_option(&with, TP_SEL_OPT_QA_FLAG, "safety", err, sizeof err), 1);
    assert_false(tp_export_selected(&with, &flagged)); /* all of them */

    tp_export_selection without = {0};
    assert_int_equal(tp_export_select_option(&without, TP_SEL_OPT_NO_QA_FLAG, "holds", err, sizeof err), 1);
    assert_false(tp_export_selected(&without, &flagged));
    assert_true(tp_export_selected(&without, &rated) && tp_export_selected(&without, &unknown));

    tp_export_selection verdict = {0};
    assert_int_equal(tp_export_select_option(&verdict, TP_SEL_OPT_VERDICT, "failure", err, sizeof err), 1);
    assert_true(tp_export_selected(&verdict, &flagged));
    assert_false(tp_export_selected(&verdict, &rated) || tp_export_selected(&verdict, &unknown));

    tp_export_selection rating = {0};
    assert_int_equal(tp_export_select_option(&rating, TP_SEL_OPT_MIN_RATING, "3", err, sizeof err), 1);
    assert_true(tp_export_selected(&rating, &rated));
    assert_false(tp_export_selected(&rating, &flagged) || tp_export_selected(&rating, &unknown));

    assert_int_equal(tp_export_select_option(&s, TP_SEL_OPT_MIN_RATING, "6", err, sizeof err), -1);
    assert_string_equal(err, "--min-rating: '6' is not a rating from 1 to 5");
    assert_int_equal(tp_export_select_option(&s, TP_SEL_OPT_QA_FLAG, "wobbly", err, sizeof err), -1);
    assert_string_equal(err, "--qa-flag: 'wobbly' is not a QA flag (docs/qa.md)");
    assert_int_equal(tp_export_select_option(&s, TP_SEL_OPT_VERDICT, "ok", err, sizeof err), -1);
    assert_string_equal(err, "--verdict: 'ok' is not success or failure");
    assert_int_equal(tp_export_select_option(&s, 'x', NULL, err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interpolate_and_hold),
        cmocka_unit_test(test_fixture_episode),
        cmocka_unit_test(test_review_selection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
