/* teleop — motion safety filter: finite, inside limits, bounded velocity. */
#include "teleop/safety.h"

#include <math.h>

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

int tp_safety_init(tp_safety *s, int n, const double *lower, const double *upper, const double *max_velocity,
                   double margin)
{
    if (n <= 0 || n > TP_SAFETY_MAX_JOINTS || !(margin >= 0))
        return -1;
    s->n = n;
    for (int i = 0; i < n; i++) {
        double lo = lower[i] + margin, hi = upper[i] - margin;
        if (!(lo <= hi) || !(max_velocity[i] > 0) || !isfinite(lo) || !isfinite(hi))
            return -1;
        s->lower[i] = lo;
        s->upper[i] = hi;
        s->max_velocity[i] = max_velocity[i];
        s->last[i] = clampd(0.0, lo, hi);
    }
    return 0;
}

void tp_safety_reset(tp_safety *s, const double *q)
{
    for (int i = 0; i < s->n; i++)
        s->last[i] = isfinite(q[i]) ? clampd(q[i], s->lower[i], s->upper[i]) : s->last[i];
}

unsigned tp_safety_filter(tp_safety *s, const double *desired, double dt, double *out)
{
    unsigned flags = 0;
    if (!desired) {
        flags |= TP_SAFETY_HOLD;
        for (int i = 0; i < s->n; i++)
            out[i] = s->last[i];
        return flags;
    }
    if (!(dt > 0) || !isfinite(dt))
        dt = 0;
    for (int i = 0; i < s->n; i++) {
        double v = desired[i];
        if (!isfinite(v)) {
            flags |= TP_SAFETY_NONFINITE;
            v = s->last[i];
        }
        if (v < s->lower[i] || v > s->upper[i]) {
            flags |= TP_SAFETY_POSITION;
            v = clampd(v, s->lower[i], s->upper[i]);
        }
        double max_step = s->max_velocity[i] * dt;
        double step = v - s->last[i];
        if (fabs(step) > max_step) {
            flags |= TP_SAFETY_VELOCITY;
            v = s->last[i] + (step > 0 ? max_step : -max_step);
        }
        out[i] = v;
        s->last[i] = v;
    }
    return flags;
}
