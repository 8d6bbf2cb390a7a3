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
        s->last_velocity[i] = 0;
        s->max_acceleration[i] = 0;
    }
    return 0;
}

void tp_safety_set_acceleration(tp_safety *s, const double *max_acceleration)
{
    for (int i = 0; i < s->n; i++)
        s->max_acceleration[i] = isfinite(max_acceleration[i]) && max_acceleration[i] > 0 ? max_acceleration[i] : 0;
}

void tp_safety_reset(tp_safety *s, const double *q)
{
    for (int i = 0; i < s->n; i++) {
        s->last[i] = isfinite(q[i]) ? clampd(q[i], s->lower[i], s->upper[i]) : s->last[i];
        s->last_velocity[i] = 0;
    }
}

unsigned tp_safety_filter(tp_safety *s, const double *desired, double dt, double *out)
{
    unsigned flags = 0;
    if (!desired) {
        flags |= TP_SAFETY_HOLD;
        for (int i = 0; i < s->n; i++) {
            out[i] = s->last[i];
            s->last_velocity[i] = 0;
        }
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
        double want = v - s->last[i];
        double vel_step = s->max_velocity[i] * dt;
        /* With an acceleration bound, approach no faster than the command can
         * brake before the target: stopping from a step of k*u takes steps
         * k*u, (k-1)*u, ..., u (u = a dt^2) and covers u k (k+1) / 2. */
        double brake_step = INFINITY, prev_step = s->last_velocity[i] * dt, dv_max = INFINITY;
        if (s->max_acceleration[i] > 0 && dt > 0) {
            double u = s->max_acceleration[i] * dt * dt;
            double k = 0.5 * (sqrt(8.0 * fabs(want) / u + 1.0) - 1.0);
            brake_step = u * k;
            dv_max = u; /* change of step per cycle */
        }
        /* The step with every bound, and the step the velocity bound alone
         * did not shape: the velocity clamp is reported only when it moved
         * the command by more than the tolerance, so ordinary motion below
         * the cap (where both agree) never reports one. */
        double step = clampd(clampd(want, -fmin(vel_step, brake_step), fmin(vel_step, brake_step)),
                             prev_step - dv_max, prev_step + dv_max);
        double unbounded = clampd(clampd(want, -brake_step, brake_step), prev_step - dv_max, prev_step + dv_max);
        if (fabs(step - unbounded) > TP_SAFETY_CLAMP_TOLERANCE)
            flags |= TP_SAFETY_VELOCITY;
        else if (fabs(step - want) > TP_SAFETY_CLAMP_TOLERANCE)
            flags |= TP_SAFETY_ACCELERATION; /* the braking profile or the acceleration bound shaped it */
        /* Position limits are absolute: they win over the smooth ramp. */
        v = clampd(s->last[i] + step, s->lower[i], s->upper[i]);
        out[i] = v;
        s->last_velocity[i] = dt > 0 ? (v - s->last[i]) / dt : 0;
        s->last[i] = v;
    }
    return flags;
}

void tp_watchdog_init(tp_watchdog *w, int64_t limit_ns, int64_t now_ns)
{
    w->limit_ns = limit_ns;
    w->seen = -1;
    w->last_change_ns = now_ns;
    w->stalled = false;
}

tp_watchdog_event tp_watchdog_observe(tp_watchdog *w, long long count, int64_t now_ns, int64_t *for_ns)
{
    *for_ns = now_ns - w->last_change_ns;
    if (count != w->seen) {
        bool was = w->stalled;
        w->stalled = false;
        w->seen = count;
        w->last_change_ns = now_ns;
        return was ? TP_WATCHDOG_RESUMED : TP_WATCHDOG_NONE;
    }
    if (!w->stalled && now_ns - w->last_change_ns > w->limit_ns) {
        w->stalled = true;
        return TP_WATCHDOG_STALL;
    }
    return TP_WATCHDOG_NONE;
}
