/* Property test of the control path: a million random and adversarial
 * operator frames (NaN, infinities, teleports, flipped quaternions, stale and
 * future timestamps, clutch toggling, lost hands, emergency hold) go through
 * tp_controller_step, and every command that leaves it must be finite, inside
 * the joint limits less the margin, and within the per-cycle velocity bound.
 * Usage: test_controller_property MODEL.xml [FRAMES] */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "teleop/controller.h"
#include "teleop/handmodel.h"
#include "teleop/sim.h"

static const char *model_path;
static long frames = 1000000;

static uint64_t rng = 0x1234567887654321ull;
static double uni(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}
static double pick(double lo, double hi) { return lo + (hi - lo) * uni(); }

static double weird(void)
{
    switch ((int)(uni() * 6)) {
    case 0: return NAN;
    case 1: return INFINITY;
    case 2: return -INFINITY;
    case 3: return 1e30;
    case 4: return -1e-300;
    default: return pick(-100, 100);
    }
}

static void random_frame(tp_operator_frame *f, int64_t now, const tp_operator_frame *prev)
{
    *f = *prev;
    f->t_ns = now - (int64_t)(pick(0, 0.02) * 1e9);
    double r = uni();
    if (r < 0.45) { /* plausible motion: hands near the robot's workspace */
        for (int s = 0; s < 2; s++) {
            tp_pose w = {tp_v3(pick(-0.5, 0.5), pick(0.8, 1.8), pick(-0.8, 0.2)),
                         tp_quat_normalize((tp_quat){pick(-1, 1), pick(-1, 1), pick(-1, 1), pick(-1, 1)})};
            double flex[5];
            for (int k = 0; k < 5; k++)
                flex[k] = uni();
            tp_hand_model_pose(s, w, flex, &f->hand[s]);
        }
    } else if (r < 0.55) { /* teleport: the wrist jumps metres */
        int s = uni() < 0.5;
        tp_hand_joint *w = &f->hand[s].joints[TP_HJ_WRIST];
        w->pose.p = tp_v3_add(w->pose.p, tp_v3(pick(-5, 5), pick(-5, 5), pick(-5, 5)));
    } else if (r < 0.62) { /* flipped quaternion (same rotation) and unnormalized ones */
        int s = uni() < 0.5;
        tp_quat *q = &f->hand[s].joints[TP_HJ_WRIST].pose.q;
        *q = uni() < 0.5 ? (tp_quat){-q->x, -q->y, -q->z, -q->w} : (tp_quat){q->x * 7, q->y * 7, q->z * 7, q->w * 7};
    } else if (r < 0.72) { /* non-finite or absurd values anywhere */
        int s = uni() < 0.5, j = (int)(uni() * TP_HAND_JOINT_COUNT);
        double *fields[] = {&f->hand[s].joints[j].pose.p.x, &f->hand[s].joints[j].pose.p.y,
                            &f->hand[s].joints[j].pose.p.z, &f->hand[s].joints[j].pose.q.x,
                            &f->hand[s].joints[j].pose.q.w};
        *fields[(int)(uni() * 5)] = weird();
    } else if (r < 0.80) { /* stale or future timestamps */
        f->t_ns = now + (int64_t)(pick(-5, 5) * 1e9);
    } else if (r < 0.88) { /* clutch toggles, in bursts: in the seconds between, the clutch stays engaged
                              long enough for engage ramps to finish and arms to reach their limits */
        if ((now / 1000000000) % 2 == 0)
            f->engaged = !f->engaged;
    } else if (r < 0.94) { /* tracking lost: inactive hand or invalid joints */
        int s = uni() < 0.5;
        if (uni() < 0.5)
            f->hand[s].active = !f->hand[s].active;
        else
            f->hand[s].joints[(int)(uni() * TP_HAND_JOINT_COUNT)].valid ^= 1;
    } else {
        f->engaged = true;
    }
}

static bool frame_is_kept(const tp_operator_frame *f)
{
    for (int s = 0; s < 2; s++)
        for (int j = 0; j < TP_HAND_JOINT_COUNT; j++)
            if (!tp_v3_isfinite(f->hand[s].joints[j].pose.p) || !tp_quat_isfinite(f->hand[s].joints[j].pose.q))
                return false;
    return true;
}

static void test_commands_always_safe(void **state)
{
    (void)state;
    char err[512];
    tp_sim *sim = tp_sim_create(model_path, err, sizeof err);
    if (!sim)
        fail_msg("%s", err);
    enum { N = TP_SIM_ACTION_DIMS };
    double lower[N], upper[N], vmax[N];
    for (int i = 0; i < N; i++) {
        tp_sim_joint_limits(sim, i, &lower[i], &upper[i]);
        vmax[i] = tp_sim_joint_max_velocity(sim, i);
    }
    tp_retarget_config rcfg;
    tp_retarget_default_config(&rcfg);
    tp_controller_config cfg;
    tp_controller_default_config(&cfg);
    tp_controller *c = tp_controller_create_for_sim(sim, &cfg, &rcfg, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    double q0[N], cmd[N], prev[N];
    tp_sim_read_state(sim, q0, NULL);
    tp_controller_reset(c, q0);
    for (int i = 0; i < N; i++)
        prev[i] = fmin(upper[i] - cfg.limit_margin, fmax(lower[i] + cfg.limit_margin, q0[i]));
    const double dt = 1.0 / cfg.rate_hz;
    tp_operator_frame f, last;
    memset(&last, 0, sizeof last);
    last.engaged = true;
    long engaged = 0, flagged[16] = {0};
    for (long k = 0; k < frames; k++) {
        int64_t now = (int64_t)k * 2000000LL + 1000000000LL;
        random_frame(&f, now, &last);
        if (uni() < 0.0005)
            tp_controller_set_emergency(c, true);
        else if (uni() < 0.005)
            tp_controller_set_emergency(c, false);
        bool give = uni() < 0.9; /* sometimes no new frame this cycle */
        unsigned flags = tp_controller_step(c, give ? &f : NULL, now, cmd);
        for (int b = 0; b < 16; b++)
            flagged[b] += (flags >> b) & 1;
        engaged += (flags & TP_CONTROL_ENGAGED) != 0;
        for (int i = 0; i < N; i++) {
            double cap = fmin(vmax[i], i < 14 ? cfg.arm_velocity_cap : cfg.hand_velocity_cap);
            if (!isfinite(cmd[i]) || cmd[i] < lower[i] + cfg.limit_margin - 1e-12 ||
                cmd[i] > upper[i] - cfg.limit_margin + 1e-12 || fabs(cmd[i] - prev[i]) > cap * dt + 1e-12)
                fail_msg("frame %ld joint %d: command %.17g (previous %.17g, limits [%g, %g], step cap %g)", k, i,
                         cmd[i], prev[i], lower[i], upper[i], cap * dt);
            prev[i] = cmd[i];
        }
        if (give && frame_is_kept(&f))
            last = f;
    }
    printf("%ld frames: engaged %ld, stale %ld, clutch open %ld, emergency %ld, non-finite %ld, position clamp %ld, "
           "velocity clamp %ld, workspace %ld, tracking lost %ld\n",
           frames, engaged, flagged[1], flagged[2], flagged[3], flagged[4], flagged[5], flagged[6], flagged[7],
           flagged[8]);
    /* The run must exercise the paths it claims to. */
    assert_true(engaged > frames / 20);
    for (int b = 1; b <= 8; b++)
        if (b != 3 || frames >= 100000)
            assert_true(flagged[b] > 0);
    tp_controller_destroy(c);
    tp_sim_destroy(sim);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.xml [FRAMES]\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    /* The sanitizer run (5-10x slower) sets a smaller count; the plain run
     * drives the full million. */
    const char *env = getenv("TELEOP_PROPERTY_FRAMES");
    if (argc > 2)
        frames = atol(argv[2]);
    else if (env)
        frames = atol(env);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_commands_always_safe)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
