/* The console tap (include/teleop/console_tap.h): what the session's threads
 * feed is what the console reads, newest first; a console that has not taken
 * a frame makes the capture side skip the next one (never wait, never
 * queue); the pose is the simulation's qpos; commands arrive in order in
 * the terminal's form; a task is checked as the terminal's is; the headset
 * view's frame buffers are a second, independent consumer of the same
 * frames, each stamped with its arrival. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "station/console_feed.h"
#include "teleop/clock.h"
#include "teleop/sim.h"

static const char *model_path;

static tp_console_tap *new_tap(tp_session_config *cfg)
{
    tp_session_default_config(cfg);
    char err[256];
    tp_console_tap *tap = tp_console_tap_create(cfg, err, sizeof err);
    assert_non_null(tap);
    return tap;
}

static void fill(uint8_t *px, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        px[i] = (uint8_t)(v + i % 7);
}

static void test_frames_newest_and_skipped_when_behind(void **state)
{
    (void)state;
    tp_session_config cfg;
    tp_console_tap *tap = new_tap(&cfg);
    assert_int_equal(tp_console_tap_camera_count(tap), 1);
    assert_string_equal(tp_console_tap_camera_name(tap, 0), "head_camera");
    int w = cfg.cameras[0].device.width, h = cfg.cameras[0].device.height;
    size_t n = (size_t)w * h * 3;
    static uint8_t a[640 * 480 * 3], b[640 * 480 * 3], c[640 * 480 * 3];
    assert_true(n <= sizeof a);
    fill(a, n, 10);
    fill(b, n, 20);
    fill(c, n, 30);
    tp_console_frame f;
    bool fresh = true;
    assert_false(tp_console_tap_frame(tap, 0, &f, &fresh)); /* nothing yet */
    assert_false(fresh);
    tp_camera_frame in = {.t_ns = 1000, .index = 0, .format = TP_PIXEL_RGB24, .data = a, .capacity = n, .size = n};
    console_feed_frame(tap, 0, &in);
    /* The console has not taken frame 0: frame 1 is skipped, not queued,
     * and the capture side did not wait. */
    tp_camera_frame in1 = {.t_ns = 2000, .index = 1, .format = TP_PIXEL_RGB24, .data = b, .capacity = n, .size = n};
    console_feed_frame(tap, 0, &in1);
    assert_true(tp_console_tap_frame(tap, 0, &f, &fresh));
    assert_true(fresh);
    assert_int_equal(f.index, 0);
    assert_int_equal(f.t_ns, 1000);
    assert_int_equal(f.width, w);
    assert_int_equal(f.height, h);
    assert_int_equal(f.size, n);
    assert_memory_equal(f.data, a, n);
    /* Taken: the next one goes through. */
    tp_camera_frame in2 = {.t_ns = 3000, .index = 2, .format = TP_PIXEL_RGB24, .data = c, .capacity = n, .size = n};
    console_feed_frame(tap, 0, &in2);
    assert_memory_equal(f.data, a, n); /* what the console holds stays as it was */
    assert_true(tp_console_tap_frame(tap, 0, &f, &fresh));
    assert_true(fresh);
    assert_int_equal(f.index, 2);
    assert_memory_equal(f.data, c, n);
    assert_true(tp_console_tap_frame(tap, 0, &f, &fresh));
    assert_false(fresh); /* the same frame again */
    /* A frame larger than the camera's slot, a dropped one (no data), another camera: ignored. */
    tp_camera_frame big = {.t_ns = 4000, .index = 3, .data = a, .size = n * 2};
    console_feed_frame(tap, 0, &big);
    tp_camera_frame none = {.t_ns = 5000, .index = 4};
    console_feed_frame(tap, 0, &none);
    console_feed_frame(tap, 3, &in);
    assert_true(tp_console_tap_frame(tap, 0, &f, &fresh));
    assert_false(fresh);
    assert_false(tp_console_tap_frame(tap, 3, &f, &fresh));
    tp_console_tap_destroy(tap);
}

static void test_pose_is_the_simulations(void **state)
{
    (void)state;
    tp_session_config cfg;
    tp_console_tap *tap = new_tap(&cfg);
    char err[512];
    tp_sim *sim = tp_sim_create(model_path, err, sizeof err);
    assert_non_null(sim);
    assert_null(tp_console_tap_pose(tap, NULL));
    double q[TP_SIM_ACTION_DIMS];
    for (int i = 0; i < TP_SIM_ACTION_DIMS; i++)
        q[i] = 0.1 * (i % 5);
    tp_sim_reset_joints(sim, q);
    console_feed_pose(tap, 777, 5u, sim);
    bool fresh;
    const tp_console_pose *p = tp_console_tap_pose(tap, &fresh);
    assert_non_null(p);
    assert_true(fresh);
    assert_int_equal(p->t_ns, 777);
    assert_int_equal(p->control_flags, 5u);
    int nq = tp_sim_qpos_size(sim);
    assert_int_equal(p->nq, nq);
    double want[TP_CONSOLE_MAX_QPOS];
    tp_sim_copy_qpos(sim, want);
    assert_memory_equal(p->qpos, want, sizeof(double) * (size_t)nq);
    tp_sim_destroy(sim);
    tp_console_tap_destroy(tap);
}

static void test_status_and_commands(void **state)
{
    (void)state;
    tp_session_config cfg;
    tp_console_tap *tap = new_tap(&cfg);
    assert_null(tp_console_tap_status(tap, NULL));
    tp_console_status *st = console_feed_status_slot(tap);
    st->episode = 4;
    st->state = TP_WF_RESETTING;
    snprintf(st->task, sizeof st->task, "stack");
    console_feed_status_publish(tap);
    st = console_feed_status_slot(tap);
    st->episode = 5;
    st->state = TP_WF_RECORDING;
    console_feed_status_publish(tap);
    const tp_console_status *got = tp_console_tap_status(tap, NULL);
    assert_non_null(got);
    assert_int_equal(got->episode, 5); /* the newest */
    assert_int_equal(got->state, TP_WF_RECORDING);

    /* Commands: in order, stamped, in the terminal's form. */
    assert_int_equal(tp_console_tap_send_input(tap, TP_WF_IN_STOP_KEEP), 0);
    assert_int_equal(tp_console_tap_send_emergency(tap), 0);
    char why[128];
    assert_int_equal(tp_console_tap_send_task(tap, "把方块放到左边", strlen("把方块放到左边"), why, sizeof why), 0);
    assert_int_equal(tp_console_tap_send_task(tap, "bad\ttab", 7, why, sizeof why), -1); /* refused as --task is */
    assert_true(why[0]);
    station_input in;
    assert_true(console_feed_pop_input(tap, &in));
    assert_int_equal(in.kind, STATION_INPUT_WORKFLOW);
    assert_int_equal(in.input, TP_WF_IN_STOP_KEEP);
    assert_true(in.t_ns > 0);
    assert_true(console_feed_pop_input(tap, &in));
    assert_int_equal(in.kind, STATION_INPUT_EMERGENCY);
    assert_true(console_feed_pop_input(tap, &in));
    assert_int_equal(in.kind, STATION_INPUT_TASK);
    assert_string_equal(in.task, "把方块放到左边");
    assert_false(console_feed_pop_input(tap, &in));
    assert_false(tp_console_tap_ended(tap));
    tp_console_tap_set_ended(tap);
    assert_true(tp_console_tap_ended(tap));
    tp_console_tap_destroy(tap);
}

/* The headset view's buffers: the limit figures (also carried in the
 * console's next pose) and the status, each read independently of the
 * console's own. */
static void test_view_limits_and_status(void **state)
{
    (void)state;
    tp_session_config cfg;
    tp_console_tap *tap = new_tap(&cfg);
    char err[512];
    tp_sim *sim = tp_sim_create(model_path, err, sizeof err);
    assert_non_null(sim);
    assert_null(tp_console_tap_view_limits(tap, NULL));
    assert_null(tp_console_tap_view_status(tap, NULL));
    tp_limit_figures fig = {.t_ns = 42, .control_flags = 1u, .arm_dof = 7};
    fig.joint_margin[1][6] = 0.125f;
    fig.wrist_edge[0] = -0.02f;
    fig.clamped[0] = true;
    console_feed_limits(tap, &fig);
    console_feed_pose(tap, 43, 1u, sim);
    bool fresh;
    const tp_limit_figures *got = tp_console_tap_view_limits(tap, &fresh);
    assert_non_null(got);
    assert_true(fresh);
    assert_memory_equal(got, &fig, sizeof fig);
    got = tp_console_tap_view_limits(tap, &fresh);
    assert_false(fresh);
    const tp_console_pose *p = tp_console_tap_pose(tap, NULL);
    assert_non_null(p);
    assert_memory_equal(&p->limits, &fig, sizeof fig);

    tp_console_status *st = console_feed_status_slot(tap);
    st->episode = 9;
    st->disk_free_mb = 1234.5;
    console_feed_status_publish(tap);
    const tp_console_status *vs = tp_console_tap_view_status(tap, &fresh);
    assert_non_null(vs);
    assert_true(fresh);
    assert_int_equal(vs->episode, 9);
    assert_float_equal(vs->disk_free_mb, 1234.5, 0);
    const tp_console_status *cs = tp_console_tap_status(tap, NULL); /* the console's own copy */
    assert_non_null(cs);
    assert_int_equal(cs->episode, 9);
    tp_sim_destroy(sim);
    tp_console_tap_destroy(tap);
}

/* The headset view reads every camera's frames from buffers of its own:
 * what the console takes (or does not take) changes nothing for the view,
 * and the other way round; a view that has not taken a frame skips the next
 * copy, as the console does; both see the arrival time (published_ns, at
 * or after the capture time, the same for both) and the cameras by name. */
static void test_view_frames_independent_of_the_console(void **state)
{
    (void)state;
    tp_session_config cfg;
    tp_session_default_config(&cfg);
    cfg.camera_count = 2;
    cfg.cameras[1] = cfg.cameras[0];
    cfg.cameras[1].device.name = "left_wrist";
    cfg.cameras[1].device.width = 32;
    cfg.cameras[1].device.height = 16;
    char err[256];
    tp_console_tap *tap = tp_console_tap_create(&cfg, err, sizeof err);
    assert_non_null(tap);
    assert_int_equal(tp_console_tap_camera_index(tap, "head_camera"), 0);
    assert_int_equal(tp_console_tap_camera_index(tap, "left_wrist"), 1);
    assert_int_equal(tp_console_tap_camera_index(tap, "right_wrist"), -1);
    assert_int_equal(tp_console_tap_camera_index(tap, ""), -1);
    assert_int_equal(tp_console_tap_camera_index(tap, NULL), -1);

    int w = cfg.cameras[0].device.width, h = cfg.cameras[0].device.height;
    size_t n = (size_t)w * h * 3;
    static uint8_t a[640 * 480 * 3], b[640 * 480 * 3], c[640 * 480 * 3];
    assert_true(n <= sizeof a);
    fill(a, n, 11);
    fill(b, n, 22);
    fill(c, n, 33);
    tp_console_frame vf, cf;
    bool fresh = true;
    assert_false(tp_console_tap_view_frame(tap, 0, &vf, &fresh)); /* nothing yet */
    assert_false(fresh);

    /* Capture time a little before the hand-over, as on a capture thread. */
    int64_t t0 = tp_now_ns();
    tp_camera_frame in0 = {.t_ns = t0, .index = 0, .format = TP_PIXEL_RGB24, .data = a, .capacity = n, .size = n};
    int64_t before = tp_now_ns();
    console_feed_frame(tap, 0, &in0);
    int64_t after = tp_now_ns();
    /* The console takes frame 0; the view does not. */
    assert_true(tp_console_tap_frame(tap, 0, &cf, &fresh));
    assert_true(fresh);
    assert_int_equal(cf.index, 0);
    assert_true(cf.published_ns >= in0.t_ns);
    assert_true(cf.published_ns >= before && cf.published_ns <= after);

    /* Frame 1: the console took its last one, so it gets it; the view has
     * not, so its copy is skipped (frame 0 stays its newest). */
    tp_camera_frame in1 = {.t_ns = tp_now_ns(), .index = 1, .format = TP_PIXEL_RGB24, .data = b, .capacity = n,
                           .size = n};
    console_feed_frame(tap, 0, &in1);
    assert_true(tp_console_tap_view_frame(tap, 0, &vf, &fresh));
    assert_true(fresh);
    assert_int_equal(vf.index, 0);
    assert_int_equal(vf.t_ns, t0);
    assert_int_equal(vf.published_ns, cf.published_ns); /* one arrival, both consumers */
    assert_int_equal(vf.width, w);
    assert_int_equal(vf.height, h);
    assert_int_equal(vf.format, TP_PIXEL_RGB24);
    assert_int_equal(vf.size, n);
    assert_memory_equal(vf.data, a, n);
    assert_true(tp_console_tap_frame(tap, 0, &cf, &fresh));
    assert_true(fresh);
    assert_int_equal(cf.index, 1);
    assert_memory_equal(cf.data, b, n);
    assert_true(tp_console_tap_view_frame(tap, 0, &vf, &fresh));
    assert_false(fresh); /* the view's frame 0 again: frame 1 never reached it */

    /* Frame 2: both took their last one, both get it; reading one side
     * leaves the other's fresh flag alone. */
    tp_camera_frame in2 = {.t_ns = tp_now_ns(), .index = 2, .format = TP_PIXEL_RGB24, .data = c, .capacity = n,
                           .size = n};
    console_feed_frame(tap, 0, &in2);
    assert_true(tp_console_tap_view_frame(tap, 0, &vf, &fresh));
    assert_true(fresh);
    assert_int_equal(vf.index, 2);
    assert_true(vf.published_ns >= in2.t_ns);
    assert_memory_equal(vf.data, c, n);
    assert_true(tp_console_tap_view_frame(tap, 0, &vf, &fresh));
    assert_false(fresh);
    assert_true(tp_console_tap_frame(tap, 0, &cf, &fresh));
    assert_true(fresh); /* the console's own, untouched by the view's reads */
    assert_int_equal(cf.index, 2);
    assert_int_equal(cf.published_ns, vf.published_ns);

    /* The other camera: its own buffers and size; the head camera's frames
     * never show there. */
    assert_false(tp_console_tap_view_frame(tap, 1, &vf, &fresh));
    size_t nw = 32 * 16 * 3;
    tp_camera_frame wr = {.t_ns = tp_now_ns(), .index = 7, .format = TP_PIXEL_RGB24, .data = b, .capacity = nw,
                          .size = nw};
    console_feed_frame(tap, 1, &wr);
    assert_true(tp_console_tap_view_frame(tap, 1, &vf, &fresh));
    assert_true(fresh);
    assert_int_equal(vf.index, 7);
    assert_int_equal(vf.width, 32);
    assert_int_equal(vf.height, 16);
    assert_memory_equal(vf.data, b, nw);
    assert_true(tp_console_tap_view_frame(tap, 0, &vf, &fresh));
    assert_false(fresh);
    assert_int_equal(vf.index, 2);
    /* Out of range cameras: nothing. */
    assert_false(tp_console_tap_view_frame(tap, 2, &vf, &fresh));
    assert_false(fresh);
    assert_false(tp_console_tap_view_frame(tap, -1, &vf, &fresh));
    tp_console_tap_destroy(tap);
}

int main(int argc, char **argv)
{
    model_path = argc > 1 ? argv[1] : "devices/robot/models/humanoid.xml";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames_newest_and_skipped_when_behind),
        cmocka_unit_test(test_pose_is_the_simulations),
        cmocka_unit_test(test_status_and_commands),
        cmocka_unit_test(test_view_limits_and_status),
        cmocka_unit_test(test_view_frames_independent_of_the_console),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
