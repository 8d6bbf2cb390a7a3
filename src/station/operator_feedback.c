/* teleop — warnings and haptic pulses from the control loop's limit figures. */
#include "teleop/operator_feedback.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "teleop/controller.h"

void tp_feedback_default_config(tp_feedback_config *cfg)
{
    cfg->haptics = true;
    cfg->joint_margin = 0.15;
    cfg->workspace_margin = 0.05;
    cfg->amplitude = 0.6;
    cfg->pulse_interval_s = 0.25;
}

int tp_feedback_check_config(const tp_feedback_config *cfg, char *err, size_t errlen)
{
    if (!(cfg->joint_margin > 0 && cfg->joint_margin <= 1.0))
        snprintf(err, errlen, "[xr] warn_joint_margin: %g rad is not in (0, 1]", cfg->joint_margin);
    else if (!(cfg->workspace_margin > 0 && cfg->workspace_margin <= 1.0))
        snprintf(err, errlen, "[xr] warn_workspace_margin: %g m is not in (0, 1]", cfg->workspace_margin);
    else if (!(cfg->amplitude >= 0 && cfg->amplitude <= 1.0))
        snprintf(err, errlen, "[xr] haptics_amplitude: %g is not in [0, 1]", cfg->amplitude);
    else if (!(cfg->pulse_interval_s >= 0.05 && cfg->pulse_interval_s <= 10.0))
        snprintf(err, errlen, "[xr] haptics_interval: %g s is not in [0.05, 10]", cfg->pulse_interval_s);
    else
        return 0;
    return -1;
}

void tp_feedback_init(tp_feedback *f, const tp_feedback_config *cfg)
{
    memset(f, 0, sizeof *f);
    f->cfg = *cfg;
}

const char *tp_warning_name(unsigned bit)
{
    switch (bit) {
    case TP_WARN_JOINT_LIMIT: return "joint_limit";
    case TP_WARN_WORKSPACE_NEAR: return "workspace_near";
    case TP_WARN_WORKSPACE_BEYOND: return "workspace_beyond";
    case TP_WARN_CLAMPED: return "clamped";
    case TP_WARN_HOLDING: return "holding";
    case TP_WARN_TRACKING_LOST: return "tracking_lost";
    }
    return "unknown";
}

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

tp_haptic_pulse tp_feedback_pulse(double amplitude_scale, double urgency)
{
    double u = clamp01(urgency);
    return (tp_haptic_pulse){.action = TP_HAPTIC_PULSE,
                             .amplitude = (float)(clamp01(amplitude_scale) * (0.35 + 0.65 * u)),
                             .duration_ns = 20000000LL + (int64_t)llround(60e6 * u),
                             .frequency_hz = (float)(120.0 + 200.0 * u)};
}

/* A warning that switches on below `on` and off only above `off` (> on). */
static bool hysteresis(bool was, double value, double on, double off)
{
    return was ? !(value > off) : value < on;
}

/* Warnings that pulse again every interval while they last; the others
 * (a hold, a lost hand: the operator cannot act on them by moving) pulse
 * once when they start. */
#define REPEATING (TP_WARN_JOINT_LIMIT | TP_WARN_WORKSPACE_NEAR | TP_WARN_WORKSPACE_BEYOND | TP_WARN_CLAMPED)
#define ONSET (TP_WARN_HOLDING | TP_WARN_TRACKING_LOST)
#define HOLD_FLAGS (TP_CONTROL_EMERGENCY | TP_CONTROL_ROBOT_STALE | TP_CONTROL_INPUT_STALE)

static unsigned side_warnings(tp_feedback *f, const tp_limit_figures *fig, int s, int64_t now_ns,
                              tp_side_warnings *w)
{
    const double jm = f->cfg.joint_margin, wm = f->cfg.workspace_margin;
    unsigned was = f->active[s], now = 0;
    *w = (tp_side_warnings){.joint = -1};

    int n = fig->arm_dof < TP_FEEDBACK_MAX_ARM_JOINTS ? fig->arm_dof : TP_FEEDBACK_MAX_ARM_JOINTS;
    for (int j = 0; j < n; j++)
        if (w->joint < 0 || fig->joint_margin[s][j] < w->joint_margin) {
            w->joint = j;
            w->joint_margin = fig->joint_margin[s][j];
        }
    double urgency = 0;
    if (w->joint >= 0 && hysteresis(was & TP_WARN_JOINT_LIMIT, w->joint_margin, jm, jm * (1 + TP_FEEDBACK_HYSTERESIS))) {
        now |= TP_WARN_JOINT_LIMIT;
        urgency = fmax(urgency, 1 - w->joint_margin / jm);
    }
    if (fig->wrist_known[s]) {
        double e = fig->wrist_edge[s];
        w->wrist_edge = e;
        if (hysteresis(was & TP_WARN_WORKSPACE_BEYOND, e, 0, wm * TP_FEEDBACK_HYSTERESIS)) {
            now |= TP_WARN_WORKSPACE_BEYOND;
            urgency = 1;
        } else if (hysteresis(was & (TP_WARN_WORKSPACE_NEAR | TP_WARN_WORKSPACE_BEYOND), e, wm,
                              wm * (1 + TP_FEEDBACK_HYSTERESIS))) {
            now |= TP_WARN_WORKSPACE_NEAR;
            urgency = fmax(urgency, 1 - e / wm);
        }
    }
    if (fig->clamped[s])
        f->last_clamp_ns[s] = now_ns;
    if (f->last_clamp_ns[s] && now_ns - f->last_clamp_ns[s] < TP_FEEDBACK_CLAMP_HOLD_NS) {
        now |= TP_WARN_CLAMPED;
        urgency = 1;
    }
    if (fig->control_flags & HOLD_FLAGS)
        now |= TP_WARN_HOLDING;
    else if (!fig->arm_tracked[s] || !fig->hand_tracked[s])
        now |= TP_WARN_TRACKING_LOST;
    if (now & ONSET)
        urgency = 1;
    w->active = now;
    w->urgency = clamp01(urgency);
    return now;
}

static void side_haptics(tp_feedback *f, int s, unsigned was, const tp_side_warnings *w, int64_t now_ns,
                         tp_haptic_pulse *out)
{
    *out = (tp_haptic_pulse){.action = TP_HAPTIC_NONE};
    if (!f->cfg.haptics || w->active == 0) {
        if (f->pulsed[s]) {
            out->action = TP_HAPTIC_STOP;
            f->pulsed[s] = false;
        }
        f->onset_pending[s] = false;
        return;
    }
    if ((w->active & ONSET) & ~was)
        f->onset_pending[s] = true;
    if (!(w->active & ONSET))
        f->onset_pending[s] = false;
    if (!(w->active & REPEATING) && !f->onset_pending[s])
        return;
    int64_t interval = (int64_t)llround(f->cfg.pulse_interval_s * 1e9);
    if (f->pulsed_once[s] && now_ns - f->last_pulse_ns[s] < interval)
        return;
    *out = tp_feedback_pulse(f->cfg.amplitude, w->urgency);
    f->last_pulse_ns[s] = now_ns;
    f->pulsed_once[s] = true;
    f->pulsed[s] = true;
    f->onset_pending[s] = false;
}

void tp_feedback_update(tp_feedback *f, const tp_limit_figures *fig, int64_t now_ns, tp_feedback_output *out)
{
    for (int s = 0; s < 2; s++) {
        unsigned was = f->active[s];
        if (fig)
            f->active[s] = side_warnings(f, fig, s, now_ns, &out->side[s]);
        else {
            out->side[s] = (tp_side_warnings){.joint = -1};
            f->active[s] = 0;
        }
        side_haptics(f, s, was, &out->side[s], now_ns, &out->haptic[s]);
    }
}
