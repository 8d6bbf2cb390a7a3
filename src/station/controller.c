/* teleop — the control cycle and its safety guarantees. */
#include "teleop/controller.h"

#include <math.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/safety.h"

/* Device and control clocks are the same monotonic clock; allow for the
 * stamp being taken on another core a moment after this cycle began. */
/* How far ahead of the control cycle a frame may be stamped. OpenXR frames
 * carry their predicted display time (the instant their poses describe), one
 * to a few display periods ahead, more with streaming headsets; anything
 * further out is a broken clock. */
#define FUTURE_TOLERANCE_NS 100000000LL

struct tp_controller {
    tp_controller_config cfg;
    tp_retargeter *rt;
    tp_safety safety;
    tp_chain arms[2];
    int n, arm_dof;
    tp_operator_frame last; /* newest frame seen */
    bool have_frame, engaged, emergency;
    tp_one_euro_pose wrist_filter[2];
    tp_one_euro_hand hand_filter[2];
    tp_retarget_status status;
    double desired[TP_CONTROL_MAX_JOINTS];
    double held[TP_CONTROL_MAX_JOINTS]; /* last command, per joint */
    int64_t intervention_t[32];         /* last time each intervention flag fired */
};

/* Interventions (clamps, workspace holds, rejected input) are reported as
 * active for this long after they last fired, so a clamp that flickers from
 * cycle to cycle is one intervention, not hundreds. */
#define INTERVENTION_HOLD_NS 500000000LL
#define INTERVENTION_FLAGS (TP_CONTROL_POSITION | TP_CONTROL_VELOCITY | TP_CONTROL_WORKSPACE | TP_CONTROL_NONFINITE)

static unsigned latch(tp_controller *c, unsigned flags, int64_t now)
{
    for (int b = 0; b < 32; b++) {
        unsigned bit = 1u << b;
        if (!(bit & INTERVENTION_FLAGS))
            continue;
        if (flags & bit)
            c->intervention_t[b] = now;
        else if (c->intervention_t[b] && now - c->intervention_t[b] < INTERVENTION_HOLD_NS)
            flags |= bit;
    }
    return flags;
}

void tp_controller_default_config(tp_controller_config *cfg)
{
    cfg->rate_hz = 500;
    cfg->stale_input_s = 0.1;
    cfg->limit_margin = 0.01;
    cfg->arm_velocity_cap = 3.0;
    cfg->hand_velocity_cap = 8.0;
    cfg->arm_acceleration = 40.0;
    cfg->hand_acceleration = 200.0;
    cfg->filter_wrists = true;
    cfg->wrist_position_filter = (tp_one_euro_params){.min_cutoff = 1.5, .beta = 4.0, .d_cutoff = 1.0};
    cfg->wrist_rotation_filter = (tp_one_euro_params){.min_cutoff = 1.5, .beta = 2.0, .d_cutoff = 1.0};
    cfg->filter_hands = true;
    cfg->hand_filter = (tp_one_euro_params){.min_cutoff = 2.0, .beta = 10.0, .d_cutoff = 1.0};
    cfg->workspace_min = tp_v3(-0.10, -0.60, -0.30);
    cfg->workspace_max = tp_v3(0.60, 0.60, 0.50);
    snprintf(cfg->arm_base, sizeof cfg->arm_base, "torso_link");
    snprintf(cfg->arm_tip[0], sizeof cfg->arm_tip[0], "left_ee");
    snprintf(cfg->arm_tip[1], sizeof cfg->arm_tip[1], "right_ee");
    snprintf(cfg->hand_method, sizeof cfg->hand_method, "flexion");
    cfg->hand_urdf[0] = '\0';
}

tp_controller *tp_controller_create(const tp_controller_config *cfg, const tp_retarget_config *rcfg,
                                    const tp_chain arms[2], const tp_hand_desc hands[2], int n, const double *lower,
                                    const double *upper, const double *max_velocity, char *err, size_t errlen)
{
    if (n != 2 * arms[0].n + 2 * hands[0].dof || n > TP_CONTROL_MAX_JOINTS) {
        snprintf(err, errlen, "controller: %d joints do not match 2 arms of %d and 2 hands of %d", n, arms[0].n,
                 hands[0].dof);
        return NULL;
    }
    if (!(cfg->rate_hz > 0) || !(cfg->stale_input_s > 0)) {
        snprintf(err, errlen, "controller: rate and stale-input limit must be positive");
        return NULL;
    }
    tp_controller *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "controller: out of memory");
        return NULL;
    }
    c->cfg = *cfg;
    c->n = n;
    c->arm_dof = arms[0].n;
    c->arms[0] = arms[0];
    c->arms[1] = arms[1];
    double vmax[TP_CONTROL_MAX_JOINTS] = {0};
    for (int i = 0; i < n; i++) {
        double cap = i < 2 * c->arm_dof ? cfg->arm_velocity_cap : cfg->hand_velocity_cap;
        vmax[i] = fmin(max_velocity[i], cap);
    }
    if (tp_safety_init(&c->safety, n, lower, upper, vmax, cfg->limit_margin) != 0) {
        snprintf(err, errlen, "controller: joint limits are inconsistent");
        free(c);
        return NULL;
    }
    double amax[TP_CONTROL_MAX_JOINTS];
    for (int i = 0; i < n; i++)
        amax[i] = i < 2 * c->arm_dof ? cfg->arm_acceleration : cfg->hand_acceleration;
    tp_safety_set_acceleration(&c->safety, amax);
    c->rt = tp_retarget_create(rcfg, arms, hands, err, errlen);
    if (!c->rt) {
        free(c);
        return NULL;
    }
    for (int s = 0; s < 2; s++) {
        tp_one_euro_pose_init(&c->wrist_filter[s], &cfg->wrist_position_filter, &cfg->wrist_rotation_filter);
        tp_one_euro_hand_init(&c->hand_filter[s], &cfg->hand_filter);
    }
    double zero[TP_CONTROL_MAX_JOINTS] = {0};
    tp_controller_reset(c, zero);
    return c;
}

void tp_controller_destroy(tp_controller *c)
{
    if (!c)
        return;
    tp_retarget_destroy(c->rt);
    free(c);
}

void tp_controller_reset(tp_controller *c, const double *q)
{
    tp_safety_reset(&c->safety, q);
    memcpy(c->held, c->safety.last, sizeof(double) * (size_t)c->n);
    tp_retarget_seed(c->rt, c->held);
    c->engaged = false;
    for (int s = 0; s < 2; s++) {
        tp_one_euro_pose_reset(&c->wrist_filter[s]);
        tp_one_euro_hand_reset(&c->hand_filter[s]);
    }
}

void tp_controller_set_emergency(tp_controller *c, bool on) { c->emergency = on; }

int tp_controller_use_hand_vector(tp_controller *c, const struct tp_hand_vector_desc *descs,
                                  const struct tp_hand_vector_params *params, char *err, size_t errlen)
{
    if (tp_retarget_use_hand_vector(c->rt, descs, params, err, errlen) != 0)
        return -1;
    tp_retarget_seed(c->rt, c->held);
    return 0;
}

const tp_retargeter *tp_controller_retargeter(const tp_controller *c) { return c->rt; }

const tp_retarget_status *tp_controller_status(const tp_controller *c) { return &c->status; }

static bool inside(tp_vec3 p, tp_vec3 lo, tp_vec3 hi)
{
    return p.x >= lo.x && p.x <= hi.x && p.y >= lo.y && p.y <= hi.y && p.z >= lo.z && p.z <= hi.z;
}

/* A frame is usable only when every pose the retargeting reads is finite. */
static bool frame_finite(const tp_operator_frame *f)
{
    for (int s = 0; s < 2; s++)
        for (int j = 0; j < TP_HAND_JOINT_COUNT; j++) {
            const tp_hand_joint *hj = &f->hand[s].joints[j];
            if (hj->valid && (!tp_v3_isfinite(hj->pose.p) || !tp_quat_isfinite(hj->pose.q)))
                return false;
        }
    return true;
}

unsigned tp_controller_step(tp_controller *c, const tp_operator_frame *frame, int64_t now_ns, double *command)
{
    unsigned flags = 0;
    const double dt = 1.0 / c->cfg.rate_hz;
    if (frame) {
        if (!frame_finite(frame)) {
            flags |= TP_CONTROL_NONFINITE;
        } else if (frame->t_ns > now_ns + FUTURE_TOLERANCE_NS) {
            /* Stamped in the future: a broken clock. Accepting it would
             * make every real frame after it look old. */
            flags |= TP_CONTROL_INPUT_STALE;
        } else if (!c->have_frame || frame->t_ns > c->last.t_ns) {
            /* Frames from the past (a clock going backwards, a replayed
             * stale frame) never replace a newer one. */
            c->last = *frame;
            c->have_frame = true;
        }
    }
    int64_t age = c->have_frame ? now_ns - c->last.t_ns : INT64_MAX;
    bool fresh = c->have_frame && age <= (int64_t)(c->cfg.stale_input_s * 1e9);
    if (!fresh)
        flags |= TP_CONTROL_INPUT_STALE;
    if (c->have_frame && !c->last.engaged)
        flags |= TP_CONTROL_CLUTCH_OPEN;
    if (c->emergency)
        flags |= TP_CONTROL_EMERGENCY;
    bool engage = fresh && c->last.engaged && !c->emergency;

    if (!engage) {
        if (c->engaged) {
            /* Released: the next engage starts from where the robot is held,
             * with fresh filters. */
            for (int s = 0; s < 2; s++) {
                tp_one_euro_pose_reset(&c->wrist_filter[s]);
                tp_one_euro_hand_reset(&c->hand_filter[s]);
            }
        }
        c->engaged = false;
        tp_safety_filter(&c->safety, NULL, dt, command); /* hold: the last safe command */
        memcpy(c->held, command, sizeof(double) * (size_t)c->n);
        return latch(c, flags, now_ns);
    }
    if (!c->engaged) {
        tp_retarget_seed(c->rt, c->held);
        c->engaged = true;
    }
    flags |= TP_CONTROL_ENGAGED;

    tp_operator_frame f = c->last;
    for (int s = 0; s < 2; s++) {
        tp_hand_joint *w = &f.hand[s].joints[TP_HJ_WRIST];
        if (!f.hand[s].active || !w->valid)
            continue;
        tp_pose raw_wrist = w->pose;
        if (c->cfg.filter_wrists)
            w->pose = tp_one_euro_pose_filter(&c->wrist_filter[s], w->pose, f.t_ns);
        if (c->cfg.filter_hands)
            tp_one_euro_hand_filter(&c->hand_filter[s], &f.hand[s], raw_wrist, f.t_ns);
    }
    tp_retarget_step(c->rt, &f, c->desired, &c->status);
    for (int s = 0; s < 2; s++) {
        double *arm = c->desired + s * c->arm_dof;
        if (!c->status.hand_ok[s])
            flags |= TP_CONTROL_TRACKING_LOST; /* the retargeter holds that hand */
        if (!c->status.arm_ok[s]) {
            flags |= TP_CONTROL_TRACKING_LOST;
            memcpy(arm, c->held + s * c->arm_dof, sizeof(double) * (size_t)c->arm_dof);
            continue;
        }
        tp_pose ee = tp_chain_fk(&c->arms[s], arm);
        if (!inside(ee.p, c->cfg.workspace_min, c->cfg.workspace_max)) {
            flags |= TP_CONTROL_WORKSPACE;
            memcpy(arm, c->held + s * c->arm_dof, sizeof(double) * (size_t)c->arm_dof);
        }
    }
    unsigned sf = tp_safety_filter(&c->safety, c->desired, dt, command);
    if (sf & TP_SAFETY_POSITION)
        flags |= TP_CONTROL_POSITION;
    if (sf & TP_SAFETY_VELOCITY)
        flags |= TP_CONTROL_VELOCITY;
    if (sf & TP_SAFETY_NONFINITE)
        flags |= TP_CONTROL_NONFINITE;
    memcpy(c->held, command, sizeof(double) * (size_t)c->n);
    return latch(c, flags, now_ns);
}

int tp_control_flag_events(unsigned now, unsigned before, const char **kinds, int max)
{
    static const struct {
        unsigned flag;
        const char *on, *off;
    } map[] = {
        {TP_CONTROL_ENGAGED, "engaged", "disengaged"},
        {TP_CONTROL_INPUT_STALE, "input_stale", "input_restored"},
        {TP_CONTROL_CLUTCH_OPEN, "clutch_released", NULL},
        {TP_CONTROL_EMERGENCY, "emergency_hold", NULL},
        {TP_CONTROL_TRACKING_LOST, "tracking_lost", "tracking_regained"},
        {TP_CONTROL_WORKSPACE, "safety_workspace_hold", NULL},
        {TP_CONTROL_POSITION, "safety_position_clamp", NULL},
        {TP_CONTROL_VELOCITY, "safety_velocity_clamp", NULL},
        {TP_CONTROL_NONFINITE, "safety_nonfinite_input", NULL},
    };
    int count = 0;
    unsigned changed = now ^ before;
    for (size_t i = 0; i < sizeof map / sizeof map[0] && count < max; i++) {
        if (!(changed & map[i].flag))
            continue;
        const char *kind = (now & map[i].flag) ? map[i].on : map[i].off;
        if (kind)
            kinds[count++] = kind;
    }
    return count;
}
