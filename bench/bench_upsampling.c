/* teleop — action upsampling benchmark: the bundled operator motion at 90 Hz
 * through the station's controller at 500 Hz, once per upsampling method
 * (interpolate, predict, none), against a reference that sees the operator
 * at every control tick. Prints per method the share of action-velocity
 * power above the operator's Nyquist band (45 Hz) per arm joint, the
 * safety_velocity_clamp events, the lag behind the reference, the tracking
 * error at that lag and the overshoot. docs/retargeting.md quotes it.
 *
 *   teleop-bench-upsampling [--lead MS] [--targets] [MODEL MOTION]
 *
 * --lead: frames arrive this long before their stamp (an OpenXR frame is
 * stamped with its predicted display time, ahead of its arrival); default
 * 0, a frame arrives at its stamp (the motion device; the harder case for
 * interpolation). --targets: exit 3 unless the default method keeps every
 * arm joint under 2 % above 45 Hz with no velocity clamp event.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/mem.h>
#include <libavutil/tx.h>

#include "teleop/controller.h"
#include "teleop/controls.h"
#include "teleop/motion.h"
#include "teleop/paths.h"
#include "teleop/sim.h"

enum { N = TP_SIM_ACTION_DIMS, ARM = 2 * TP_SIM_ARM_DOF };
#define CONTROL_HZ 500.0
#define OPERATOR_HZ 90.0
#define NYQUIST_HZ 45.0
#define SETTLE_S 2.0 /* the soft start after engaging is left out of lag and error */
#define MAX_SHIFT 40 /* ticks searched for the lag (80 ms) */
#define ENVELOPE 12  /* ticks either side of the reference for overshoot (24 ms) */

typedef struct metrics {
    double hf[ARM];
    int clamp_events;
    double lag_ms, rms_err, max_err, overshoot;
} metrics;

/* Share of the power of x's first differences (velocity) above cutoff:
 * mean removed, Hann window, zero-padded periodogram. */
static double hf_fraction(const double *x, long n, double rate, double cutoff)
{
    long m = n - 1, len = 1;
    while (len < m)
        len <<= 1;
    AVComplexDouble *in = av_calloc((size_t)len, sizeof *in), *out = av_calloc((size_t)len, sizeof *out);
    AVTXContext *tx = NULL;
    av_tx_fn fn;
    double scale = 1.0, frac = NAN;
    if (in && out && av_tx_init(&tx, &fn, AV_TX_DOUBLE_FFT, 0, (int)len, &scale, 0) == 0) {
        double mean = 0;
        for (long i = 0; i < m; i++)
            mean += (x[i + 1] - x[i]) * rate;
        mean /= (double)m;
        for (long i = 0; i < m; i++) {
            double w = 0.5 - 0.5 * cos(2 * M_PI * (double)i / (double)(m - 1));
            in[i].re = ((x[i + 1] - x[i]) * rate - mean) * w;
        }
        fn(tx, out, in, sizeof(AVComplexDouble));
        double total = 0, high = 0;
        for (long k = 1; k <= len / 2; k++) {
            double p = out[k].re * out[k].re + out[k].im * out[k].im;
            total += p;
            if ((double)k * rate / (double)len > cutoff)
                high += p;
        }
        frac = total > 0 ? high / total : 0;
    }
    av_tx_uninit(&tx);
    av_free(in);
    av_free(out);
    return frac;
}

/* Runs the controller over the motion. method < 0: the reference (a frame at
 * every tick, acted on at its own instant). Commands into cmd[tick][N]. */
static int run(const tp_sim *sim, const tp_motion *motion, int method, bool filters, double lead_s, long ticks,
               float *cmd, int *clamp_events, long *engaged_at)
{
    tp_retarget_config rcfg;
    tp_retarget_default_config(&rcfg);
    tp_controller_config ccfg;
    tp_controller_default_config(&ccfg);
    ccfg.rate_hz = CONTROL_HZ;
    ccfg.upsampling = method < 0 ? TP_UPSAMPLE_NONE : (tp_upsampling)method;
    ccfg.upsampling_latency_s = 1.0 / OPERATOR_HZ;
    ccfg.filter_wrists = ccfg.filter_hands = filters;
    char err[512];
    tp_controller *c = tp_controller_create_for_sim(sim, &ccfg, &rcfg, err, sizeof err);
    if (!c) {
        fprintf(stderr, "teleop-bench-upsampling: %s\n", err);
        return -1;
    }
    double q[N], qd[N], out[N];
    tp_sim_read_state(sim, q, qd);
    tp_controller_reset(c, q);
    tp_controls controls;
    tp_controls_config kcfg;
    tp_controls_default_config(&kcfg);
    tp_controls_init(&controls, &kcfg);
    tp_command_msg cmds[16];
    tp_operator_frame f;
    const int64_t period = (int64_t)llround(1e9 / CONTROL_HZ);
    const double op_period = 1.0 / OPERATOR_HZ;
    long next_frame = 0;
    unsigned last = TP_CONTROL_INPUT_STALE;
    *clamp_events = 0;
    *engaged_at = -1;
    for (long k = 0; k < ticks; k++) {
        int64_t t = k * period;
        if (method < 0) {
            tp_motion_sample(motion, (double)t / 1e9, false, &f);
            f.t_ns = t;
            tp_controls_update(&controls, &f, cmds, 16);
            tp_controller_push_frame(c, &f, t);
            t += 1; /* acted on at its own instant */
        } else {
            /* Frames j/90 s, each pushed at the first tick at or after its
             * arrival (its stamp less the lead). */
            while ((double)next_frame * op_period - lead_s <= (double)t / 1e9) {
                double ts = (double)next_frame * op_period;
                tp_motion_sample(motion, ts, false, &f);
                f.t_ns = (int64_t)llround(ts * 1e9);
                tp_controls_update(&controls, &f, cmds, 16);
                tp_controller_push_frame(c, &f, t);
                next_frame++;
            }
        }
        unsigned flags = tp_controller_step(c, NULL, t, out);
        const char *kinds[16];
        int n = tp_control_flag_events(flags, last, kinds, 16);
        for (int i = 0; i < n; i++)
            *clamp_events += !strcmp(kinds[i], "safety_velocity_clamp");
        if ((flags & TP_CONTROL_ENGAGED) && *engaged_at < 0)
            *engaged_at = k;
        last = flags;
        for (int i = 0; i < N; i++)
            cmd[k * N + i] = (float)out[i];
    }
    tp_controller_destroy(c);
    return 0;
}

static void measure(const float *cmd, const float *ref, long ticks, long from, metrics *m)
{
    double *x = malloc(sizeof(double) * (size_t)ticks);
    for (int j = 0; j < ARM; j++) {
        for (long k = 0; k < ticks; k++)
            x[k] = cmd[k * N + j];
        m->hf[j] = hf_fraction(x, ticks, CONTROL_HZ, NYQUIST_HZ);
    }
    free(x);
    if (from >= ticks)
        return;
    /* Lag: the shift of the reference that fits the command best. */
    double best = INFINITY;
    int shift = 0;
    for (int s = 0; s <= MAX_SHIFT; s++) {
        double sum = 0;
        for (long k = from; k < ticks; k++)
            for (int j = 0; j < ARM; j++) {
                double e = cmd[k * N + j] - ref[(k - s) * N + j];
                sum += e * e;
            }
        if (sum < best) {
            best = sum;
            shift = s;
        }
    }
    m->lag_ms = shift * 1000.0 / CONTROL_HZ;
    m->rms_err = sqrt(best / (double)((ticks - from) * ARM));
    m->max_err = 0;
    m->overshoot = 0;
    for (long k = from; k < ticks; k++)
        for (int j = 0; j < ARM; j++) {
            m->max_err = fmax(m->max_err, fabs(cmd[k * N + j] - ref[(k - shift) * N + j]));
            double lo = INFINITY, hi = -INFINITY;
            for (long i = k - shift - ENVELOPE; i <= k - shift + ENVELOPE; i++)
                if (i >= 0 && i < ticks) {
                    lo = fmin(lo, ref[i * N + j]);
                    hi = fmax(hi, ref[i * N + j]);
                }
            m->overshoot = fmax(m->overshoot, fmax(cmd[k * N + j] - hi, lo - cmd[k * N + j]));
        }
}

int main(int argc, char **argv)
{
    bool targets = false;
    double lead_s = 0;
    const char *paths[2] = {NULL, NULL};
    int np = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--targets"))
            targets = true;
        else if (!strcmp(argv[i], "--lead") && i + 1 < argc)
            lead_s = atof(argv[++i]) / 1000.0;
        else if (argv[i][0] != '-' && np < 2)
            paths[np++] = argv[i];
        else {
            fprintf(stderr, "usage: teleop-bench-upsampling [--lead MS] [--targets] [MODEL MOTION]\n");
            return 2;
        }
    }
    char err[512], model[4096], motion_path[4096];
    if (!paths[0] && tp_find_data("devices/robot/models/humanoid.xml", model, sizeof model, err, sizeof err) != 0) {
        fprintf(stderr, "teleop-bench-upsampling: %s\n", err);
        return 1;
    }
    if (!paths[1] && tp_find_data("motions/demo_motion.csv", motion_path, sizeof motion_path, err, sizeof err) != 0 &&
        tp_find_data("src/tools/demo_motion.csv", motion_path, sizeof motion_path, err, sizeof err) != 0) {
        fprintf(stderr, "teleop-bench-upsampling: %s\n", err);
        return 1;
    }
    tp_sim *sim = tp_sim_create(paths[0] ? paths[0] : model, err, sizeof err);
    tp_motion *motion = sim ? tp_motion_load(paths[1] ? paths[1] : motion_path, err, sizeof err) : NULL;
    if (!sim || !motion) {
        fprintf(stderr, "teleop-bench-upsampling: %s\n", err);
        tp_sim_destroy(sim);
        return 1;
    }
    const long ticks = (long)(tp_motion_duration(motion) * CONTROL_HZ);
    float *ref = malloc(sizeof(float) * N * (size_t)ticks), *cmd = malloc(sizeof(float) * N * (size_t)ticks);
    int clamps, rc = 0;
    long engaged_at;
    metrics m[3];
    printf("bundled motion, %.1f s: operator %g Hz (frames arrive %.1f ms before their stamp), control %g Hz\n",
           (double)ticks / CONTROL_HZ, OPERATOR_HZ, lead_s * 1e3, CONTROL_HZ);
    /* Smoothness and clamps: the station's own pipeline, filters on. */
    for (int method = TP_UPSAMPLE_INTERPOLATE; method <= TP_UPSAMPLE_NONE; method++) {
        if (!ref || !cmd || run(sim, motion, method, true, lead_s, ticks, cmd, &m[method].clamp_events,
                                &engaged_at) != 0) {
            rc = 1;
            goto out;
        }
        measure(cmd, cmd, ticks, ticks, &m[method]);
    }
    /* Lag, error and overshoot of the upsampling alone: filters off on both
     * sides (the One Euro filter behaves differently fed at 90 and 500 Hz),
     * against the raw operator sampled at every tick. */
    if (run(sim, motion, -1, false, 0, ticks, ref, &clamps, &engaged_at) != 0) {
        rc = 1;
        goto out;
    }
    long from = engaged_at + (long)(SETTLE_S * CONTROL_HZ) + MAX_SHIFT;
    printf("%-12s %-28s %6s | %8s %10s %10s %10s\n", "method", "power > 45 Hz, 14 arm joints", "clamps", "lag ms",
           "rms mrad", "max mrad", "overshoot");
    for (int method = TP_UPSAMPLE_INTERPOLATE; method <= TP_UPSAMPLE_NONE; method++) {
        metrics t;
        if (run(sim, motion, method, false, lead_s, ticks, cmd, &clamps, &engaged_at) != 0) {
            rc = 1;
            goto out;
        }
        measure(cmd, ref, ticks, from, &t);
        double hmax = 0, hmean = 0;
        for (int j = 0; j < ARM; j++) {
            hmax = fmax(hmax, m[method].hf[j]);
            hmean += m[method].hf[j] / ARM;
        }
        char hf[64];
        snprintf(hf, sizeof hf, "max %.3f %%, mean %.3f %%", 100 * hmax, 100 * hmean);
        printf("%-12s %-28s %6d | %8.1f %10.3f %10.3f %8.3f mrad\n", tp_upsampling_name((tp_upsampling)method), hf,
               m[method].clamp_events, t.lag_ms, 1e3 * t.rms_err, 1e3 * t.max_err, 1e3 * t.overshoot);
        if (targets && method == TP_UPSAMPLE_INTERPOLATE && (hmax >= 0.02 || m[method].clamp_events != 0)) {
            printf("target missed: interpolate must keep every arm joint under 2 %% above 45 Hz with no "
                   "velocity clamp event\n");
            rc = 3;
        }
    }
    printf("(power and clamps: the station's pipeline with its filters; lag, error and overshoot: the upsampling "
           "alone, filters off, against the operator sampled at every tick)\n");
out:
    free(ref);
    free(cmd);
    tp_motion_free(motion);
    tp_sim_destroy(sim);
    return rc;
}
