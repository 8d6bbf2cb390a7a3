/* Simulation time against the clock: a real session (simulated humanoid,
 * sim head camera, bundled motion) whose control loop is made to stall once
 * (the session's test hook). Afterwards
 *   - the simulation caught up: the stall really put it behind, it made up
 *     the time with bounded catch-up ticks, within a bound, skipped nothing
 *     and ended on the clock;
 *   - every state row is on the control grid, none missing: t_ns is the
 *     simulation time of the state (t0 + tick x period), however late the
 *     tick was computed;
 *   - state_velocity agrees with the state's change over those stamps
 *     (MuJoCo's Euler step: q[k+1] = q[k] + dt * v[k+1]), across the stall
 *     too, while the arms are moving;
 *   - every camera frame interval is 1/fps within one control period, across
 *     the stall too (a 12 fps camera: 1/fps, 83.3 ms, is not a multiple of the control
 *     period); the episode passes teleop check.
 * Usage: test_sim_clock MODEL.xml MOTION.csv */
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

#include "teleop/episode.h"
#include "teleop/session.h"

static const char *model_path, *motion_path;

#define STALL_AT_S 1.5
#define FPS 12.0
#define STALL_S 0.060
/* The design makes up a 60 ms stall (30 ticks, 4 extra a cycle) in 8 cycles,
 * 16 ms; the bound leaves room for a busy machine. */
#define CATCH_UP_BOUND_MS 200.0

static void test_stall_catch_up(void **state)
{
    (void)state;
    char dir[] = "/tmp/teleop-simclock-XXXXXX";
    assert_non_null(mkdtemp(dir));
    tp_session_config cfg;
    tp_session_default_config(&cfg);
    cfg.duration_s = 4.0;
    cfg.model_path = model_path;
    cfg.motion_path = motion_path;
    cfg.operator_source = "motion";
    cfg.out_dir = dir;
    /* A small, slow camera: the point is its frame grid across the stall,
     * and a busy machine (or a sanitizer build) renders a 160x120 frame in
     * up to 60 ms. */
    cfg.cameras[0].device.width = cfg.cameras[0].video.width = 160;
    cfg.cameras[0].device.height = cfg.cameras[0].video.height = 120;
    cfg.cameras[0].device.fps = cfg.cameras[0].video.fps = FPS;
    cfg.cameras[0].video.gop = (int)FPS;
    cfg.test_control_stall_at_s = STALL_AT_S;
    cfg.test_control_stall_for_s = STALL_S;
    tp_session_stats st;
    char err[1024];
    if (tp_session_run(&cfg, NULL, &st, err, sizeof err) != 0)
        fail_msg("%s", err);
    printf("stall %.0f ms: simulation at most %.1f ms behind, back on the clock after %.1f ms, %lld catch-up ticks, "
           "%lld skipped, %.1f ms behind at the end; %lld deadline misses\n",
           STALL_S * 1e3, st.sim_max_lag_ms, st.sim_max_catch_up_ms, (long long)st.sim_catch_up_ticks,
           (long long)st.sim_ticks_skipped, st.sim_lag_at_end_ms, (long long)st.deadline_misses);
    printf("camera: %lld frames captured, %lld missed, %lld dropped, render median %.1f ms\n",
           (long long)atomic_load(&st.cameras[0].captured), (long long)atomic_load(&st.cameras[0].missed),
           (long long)atomic_load(&st.cameras[0].dropped), st.cameras[0].capture_median_ms);
    assert_true(st.sim_max_lag_ms >= STALL_S * 1e3 - 4); /* the stall happened */
    assert_true(st.sim_catch_up_ticks >= (int64_t)(STALL_S * 500) - 3);
    assert_true(st.sim_max_catch_up_ms > 0 && st.sim_max_catch_up_ms <= CATCH_UP_BOUND_MS);
    assert_int_equal(st.sim_ticks_skipped, 0);
    assert_true(st.sim_lag_at_end_ms == 0);

    tp_episode *ep = tp_episode_open(st.episode_path, err, sizeof err);
    if (!ep)
        fail_msg("%s", err);
    const int64_t period = 2000000, t0 = atoll(tp_episode_meta(ep, "start_t_ns"));
    const tp_stream_info *sq = tp_episode_find_stream(ep, "state"), *sv = tp_episode_find_stream(ep, "state_velocity");
    assert_non_null(sq);
    assert_non_null(sv);
    long n = (long)sq->count;
    assert_true(n > 1800);
    float (*q)[28] = malloc(sizeof(float[28]) * (size_t)n), (*v)[28] = malloc(sizeof(float[28]) * (size_t)n);
    int64_t *t = malloc(sizeof(int64_t) * (size_t)n);
    tp_episode_cursor *cq = tp_episode_cursor_open(ep, sq->id), *cv = tp_episode_cursor_open(ep, sv->id);
    tp_episode_row row;
    for (long k = 0; k < n; k++) {
        assert_int_equal(tp_episode_cursor_next(cq, &row), 1);
        t[k] = row.t_ns;
        memcpy(q[k], row.samples, sizeof q[k]);
        assert_int_equal(tp_episode_cursor_next(cv, &row), 1);
        assert_true(row.t_ns == t[k]);
        memcpy(v[k], row.samples, sizeof v[k]);
    }
    tp_episode_cursor_close(cq);
    tp_episode_cursor_close(cv);
    /* On the grid, every tick present. */
    for (long k = 0; k < n; k++) {
        assert_true((t[k] - t0) % period == 0);
        if (k > 0 && t[k] - t[k - 1] != period)
            fail_msg("state rows %ld and %ld are %.3f ms apart", k - 1, k, (double)(t[k] - t[k - 1]) / 1e6);
    }
    /* Velocity consistent with the stamps, with the arms moving at the stall. */
    double worst = 0, moving = 0;
    for (long k = 0; k + 1 < n; k++) {
        double dt = (double)(t[k + 1] - t[k]) / 1e9;
        bool near = fabs((double)(t[k] - t0) / 1e9 - STALL_AT_S) < 0.1;
        for (int j = 0; j < 14; j++) {
            worst = fmax(worst, fabs(((double)q[k + 1][j] - q[k][j]) / dt - v[k + 1][j]));
            if (near)
                moving = fmax(moving, fabs(v[k][j]));
        }
    }
    printf("state_velocity against the state's change over t_ns: worst %.2g rad/s; arms at up to %.3f rad/s around "
           "the stall\n", worst, moving);
    assert_true(moving > 0.02);
    assert_true(worst < 2e-3);
    free(q);
    free(v);
    free(t);

    /* Frames on the camera's clock across the stall. */
    const tp_stream_info *cam = tp_episode_find_stream(ep, "head_camera");
    assert_non_null(cam);
    assert_true(cam->count >= (int64_t)(4.0 * FPS) - 2);
    tp_episode_cursor *cc = tp_episode_cursor_open(ep, cam->id);
    int64_t last = -1;
    long frames = 0;
    const double nominal_ms = 1000.0 / FPS;
    while (tp_episode_cursor_next(cc, &row) == 1) {
        if (last >= 0 && fabs((double)(row.t_ns - last) / 1e6 - nominal_ms) > 2.0 + 1e-9)
            fail_msg("frame %lld: %.3f ms after the one before", (long long)row.seq, (double)(row.t_ns - last) / 1e6);
        assert_true((row.t_ns - t0) % period == 0); /* a state of the simulation */
        last = row.t_ns;
        frames++;
    }
    tp_episode_cursor_close(cc);
    printf("%ld frames, every interval %.3f ms +- 2 ms\n", frames, nominal_ms);
    tp_episode_close(ep);
    assert_int_equal(tp_episode_check(st.episode_path, stderr), 0);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.xml MOTION.csv\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    motion_path = argv[2];
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_stall_catch_up)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
