/* teleop — the control cycle and its safety guarantees. */
#include "teleop/controller.h"

#include <math.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/calibration.h"
#include "teleop/operator_feedback.h"
#include "teleop/safety.h"

/* Device and control clocks are the same monotonic clock; allow for the
 * stamp being taken on another core a moment after this cycle began. */
/* How far ahead of the control cycle a frame may be stamped. OpenXR frames
 * carry their predicted display time (the instant their poses describe), one
 * to a few display periods ahead, more with streaming headsets; anything
 * further out is a broken clock. */
#define FUTURE_TOLERANCE_NS 100000000LL

/* Operator frames kept for the ticks that sample them: 0.7 s at 90 Hz, more
 * than any catch-up after a stall reaches back. */
#define HISTORY 64
#define TRACKING_TOLERANCE_POS 1e-6 /* m */
#define TRACKING_TOLERANCE_ROT 1e-5 /* rad */
/* Engaging blends from the held command to the operator's over a quintic
 * (minimum-jerk) ramp, using at most this share of each joint's velocity
 * and acceleration bounds (the rest is left for the operator's own motion
 * during the ramp), and taking at least ENGAGE_MIN_S. */
#define ENGAGE_SHARE 0.5
#define ENGAGE_MIN_S 0.2

struct tp_controller {
    tp_controller_config cfg;
    tp_retargeter *rt;
    tp_safety safety;
    tp_chain arms[2];
    int n, arm_dof;
    /* Accepted frames after filtering, a ring: hist[(head - k) % HISTORY] is
     * the k-th newest, k < count. */
    tp_operator_frame hist[HISTORY];
    int head, count;
    unsigned pending;     /* why frames were refused since the last step */
    tp_operator_frame at; /* the operator as sampled for this tick */
    int64_t latency_ns;
    bool engaged, emergency, robot_stale;
    tp_one_euro_pose wrist_filter[2];
    tp_one_euro_hand hand_filter[2];
    tp_retarget_status status;
    double desired[TP_CONTROL_MAX_JOINTS];
    double held[TP_CONTROL_MAX_JOINTS]; /* last command, per joint */
    /* The engage ramp: from the held command, over ramp_s from ramp_t0. */
    double ramp_from[TP_CONTROL_MAX_JOINTS];
    int64_t ramp_t0;
    double ramp_s;
    bool ramping;
    int64_t intervention_t[32];         /* last time each intervention flag fired */
    bool workspace_held[2];             /* the last step held this arm at the workspace box */
    tp_vec3 shoulder[2];                /* each arm's first joint, torso frame */
    double reach[2];                    /* the farthest the arm's tip gets from it (m) */
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
    cfg->upsampling = TP_UPSAMPLE_INTERPOLATE;
    cfg->upsampling_latency_s = 1.0 / 90.0;
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
    if ((int)cfg->upsampling < TP_UPSAMPLE_INTERPOLATE || cfg->upsampling > TP_UPSAMPLE_NONE ||
        (cfg->upsampling == TP_UPSAMPLE_INTERPOLATE &&
         !(cfg->upsampling_latency_s >= 0.001 && cfg->upsampling_latency_s < cfg->stale_input_s))) {
        snprintf(err, errlen,
                 "controller: interpolation latency must be at least 1 ms and below the stale-input limit");
        return NULL;
    }
    tp_controller *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "controller: out of memory");
        return NULL;
    }
    c->cfg = *cfg;
    c->latency_ns =
        cfg->upsampling == TP_UPSAMPLE_INTERPOLATE ? (int64_t)llround(cfg->upsampling_latency_s * 1e9) : 0;
    c->n = n;
    c->arm_dof = arms[0].n;
    c->arms[0] = arms[0];
    c->arms[1] = arms[1];
    for (int s = 0; s < 2; s++) { /* the workspace edge the operator is warned of (tp_controller_limit_figures) */
        c->shoulder[s] = arms[s].origin[0].p;
        c->reach[s] = tp_robot_reach(&arms[s], c->shoulder[s]);
    }
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
    /* Tracking tolerances for the arm IK. Each tick's solve is warm-started
     * from the last, and one that stops at a coarse tolerance (0.1 mm, 1 mrad)
     * leaves the joints still until the target has drifted past it and then
     * moves them at once: stair-steps at the control rate (measured: up to
     * 58 % of an arm joint's action-velocity power above 45 Hz on the bundled
     * motion). Tight tolerances make every tick iterate (one or two
     * Gauss-Newton steps: convergence is quadratic near the solution). */
    tp_retarget_config r = *rcfg;
    r.ik.tolerance_pos = fmin(r.ik.tolerance_pos, TRACKING_TOLERANCE_POS);
    r.ik.tolerance_rot = fmin(r.ik.tolerance_rot, TRACKING_TOLERANCE_ROT);
    c->rt = tp_retarget_create(&r, arms, hands, err, errlen);
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

void tp_controller_set_robot_stale(tp_controller *c, bool on, const double *q)
{
    if (c->robot_stale && !on && q) {
        bool emergency = c->emergency;
        tp_controller_reset(c, q);
        c->emergency = emergency;
    }
    c->robot_stale = on;
}

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

const char *tp_upsampling_name(tp_upsampling u)
{
    switch (u) {
    case TP_UPSAMPLE_INTERPOLATE: return "interpolate";
    case TP_UPSAMPLE_PREDICT: return "predict";
    case TP_UPSAMPLE_NONE: return "none";
    }
    return "unknown";
}

int tp_upsampling_parse(const char *name)
{
    for (int u = TP_UPSAMPLE_INTERPOLATE; u <= TP_UPSAMPLE_NONE; u++)
        if (name && !strcmp(name, tp_upsampling_name((tp_upsampling)u)))
            return u;
    return -1;
}

int64_t tp_controller_upsampling_latency_ns(const tp_controller *c) { return c->latency_ns; }

/* The k-th newest accepted frame (k = 0 the newest). */
static const tp_operator_frame *hist_at(const tp_controller *c, int k)
{
    return &c->hist[(c->head - k + HISTORY) % HISTORY];
}

static tp_quat unit(tp_quat q)
{
    double n = sqrt(tp_quat_dot(q, q));
    return n > 1e-12 ? (tp_quat){q.x / n, q.y / n, q.z / n, q.w / n} : tp_quat_identity();
}

void tp_controller_push_frame(tp_controller *c, const tp_operator_frame *frame, int64_t now_ns)
{
    if (!frame_finite(frame)) {
        c->pending |= TP_CONTROL_NONFINITE;
        return;
    }
    if (frame->t_ns > now_ns + FUTURE_TOLERANCE_NS) {
        /* Stamped in the future: a broken clock. Accepting it would make
         * every real frame after it look old. */
        c->pending |= TP_CONTROL_INPUT_STALE;
        return;
    }
    const tp_operator_frame *prev = c->count ? hist_at(c, 0) : NULL;
    /* Frames from the past (a clock going backwards, a replayed stale
     * frame) never replace a newer one. */
    if (prev && frame->t_ns <= prev->t_ns)
        return;
    /* The filters start afresh at every engage of the clutch and after a
     * gap in the input, so the robot starts from the operator's pose as it
     * is, not from a memory of it. */
    if (!prev || (frame->engaged && !prev->engaged) ||
        frame->t_ns - prev->t_ns > (int64_t)(c->cfg.stale_input_s * 1e9))
        for (int s = 0; s < 2; s++) {
            tp_one_euro_pose_reset(&c->wrist_filter[s]);
            tp_one_euro_hand_reset(&c->hand_filter[s]);
        }
    c->head = (c->head + 1) % HISTORY;
    if (c->count < HISTORY)
        c->count++;
    tp_operator_frame *f = &c->hist[c->head];
    *f = *frame;
    for (int s = 0; s < 2; s++) {
        for (int j = 0; j < TP_HAND_JOINT_COUNT; j++)
            f->hand[s].joints[j].pose.q = unit(f->hand[s].joints[j].pose.q);
        tp_hand_joint *w = &f->hand[s].joints[TP_HJ_WRIST];
        if (!f->hand[s].active || !w->valid)
            continue;
        tp_pose raw_wrist = w->pose;
        if (c->cfg.filter_wrists)
            w->pose = tp_one_euro_pose_filter(&c->wrist_filter[s], w->pose, f->t_ns);
        if (c->cfg.filter_hands)
            tp_one_euro_hand_filter(&c->hand_filter[s], &f->hand[s], raw_wrist, f->t_ns);
    }
}

/* out = the operator between a (u = 0) and b (u = 1), u > 1 extrapolating
 * past b. Discrete state (clutch, validity, buttons) is discrete's. Each
 * wrist pose is interpolated (position linearly, orientation by slerp) and
 * every hand joint in its wrist's frame, then placed on that wrist, so the
 * hand keeps its shape. */
static void blend(const tp_operator_frame *a, const tp_operator_frame *b, double u, const tp_operator_frame *discrete,
                  tp_operator_frame *out)
{
    *out = *discrete;
    if (a->head_valid && b->head_valid && out->head_valid)
        out->head = tp_pose_interpolate(a->head, b->head, u);
    for (int s = 0; s < 2; s++) {
        const tp_hand_frame *ha = &a->hand[s], *hb = &b->hand[s];
        tp_hand_frame *ho = &out->hand[s];
        if (!ha->active || !hb->active || !ho->active || !ha->joints[TP_HJ_WRIST].valid ||
            !hb->joints[TP_HJ_WRIST].valid || !ho->joints[TP_HJ_WRIST].valid)
            continue;
        tp_pose wa = ha->joints[TP_HJ_WRIST].pose, wb = hb->joints[TP_HJ_WRIST].pose;
        tp_pose w = tp_pose_interpolate(wa, wb, u);
        tp_pose wa_inv = tp_pose_inverse(wa), wb_inv = tp_pose_inverse(wb);
        tp_pose wd_inv = tp_pose_inverse(ho->joints[TP_HJ_WRIST].pose);
        for (int j = 0; j < TP_HAND_JOINT_COUNT; j++) {
            tp_hand_joint *jo = &ho->joints[j];
            if (j == TP_HJ_WRIST || !jo->valid)
                continue;
            const tp_hand_joint *ja = &ha->joints[j], *jb = &hb->joints[j];
            if (ja->valid && jb->valid) {
                tp_pose la = tp_pose_mul(wa_inv, ja->pose), lb = tp_pose_mul(wb_inv, jb->pose);
                jo->pose = tp_pose_mul(w, tp_pose_interpolate(la, lb, u));
                jo->radius = ja->radius + (float)u * (jb->radius - ja->radius);
            } else {
                jo->pose = tp_pose_mul(w, tp_pose_mul(wd_inv, jo->pose));
            }
        }
        ho->joints[TP_HJ_WRIST].pose = w;
    }
}

/* A soft start: the operator's pose is usually some way from where the
 * robot is held when the clutch engages. Rather than leave the jump to the
 * safety bounds (a velocity clamp at every engage), the command blends from
 * the held pose to the operator's with a quintic s(u) = 10u^3 - 15u^4 + 6u^5,
 * whose peak speed (1.875 d/T) and acceleration (5.77 d/T^2) over a distance
 * d stay within ENGAGE_SHARE of the joint's bounds. */
static void start_ramp(tp_controller *c, int64_t now_ns)
{
    double t = ENGAGE_MIN_S;
    for (int i = 0; i < c->n; i++) {
        double d = fabs(c->desired[i] - c->held[i]);
        t = fmax(t, 1.875 * d / (ENGAGE_SHARE * c->safety.max_velocity[i]));
        if (c->safety.max_acceleration[i] > 0)
            t = fmax(t, sqrt(5.7735 * d / (ENGAGE_SHARE * c->safety.max_acceleration[i])));
    }
    memcpy(c->ramp_from, c->held, sizeof(double) * (size_t)c->n);
    c->ramp_t0 = now_ns;
    c->ramp_s = t;
    c->ramping = true;
}

static void ramp(tp_controller *c, int64_t now_ns)
{
    double u = (double)(now_ns - c->ramp_t0) / 1e9 / c->ramp_s;
    if (u >= 1) {
        c->ramping = false;
        return;
    }
    double s = u * u * u * (10 - 15 * u + 6 * u * u);
    for (int i = 0; i < c->n; i++)
        c->desired[i] = c->ramp_from[i] + s * (c->desired[i] - c->ramp_from[i]);
}

/* The operator as this tick samples it, into c->at: false when no frame is
 * stamped early enough. *base: the frame whose discrete state applies. */
static bool sample_operator(tp_controller *c, int64_t now_ns, const tp_operator_frame **base)
{
    const int64_t stale_ns = (int64_t)(c->cfg.stale_input_s * 1e9);
    const int64_t tau = now_ns - c->latency_ns;
    /* The newest frame stamped before the sampling instant (at it, when
     * interpolating: tau is then already a latency before the tick). */
    int k = 0;
    while (k < c->count && (c->latency_ns > 0 ? hist_at(c, k)->t_ns > tau : hist_at(c, k)->t_ns >= now_ns))
        k++;
    if (k == c->count)
        return false;
    const tp_operator_frame *f = hist_at(c, k);
    *base = f;
    switch (c->cfg.upsampling) {
    case TP_UPSAMPLE_INTERPOLATE:
        if (k > 0 && hist_at(c, k - 1)->t_ns - f->t_ns <= stale_ns) {
            const tp_operator_frame *g = hist_at(c, k - 1);
            double u = (double)(tau - f->t_ns) / (double)(g->t_ns - f->t_ns);
            blend(f, g, u, f, &c->at);
        } else if (k + 1 < c->count && f->t_ns - hist_at(c, k + 1)->t_ns <= stale_ns) {
            /* The next frame is late: carry on along the last two for up
             * to 1.5 frame intervals, so a late frame is no stair-step. */
            const tp_operator_frame *e = hist_at(c, k + 1);
            double interval = (double)(f->t_ns - e->t_ns);
            blend(e, f, 1.0 + fmin((double)(tau - f->t_ns), 1.5 * interval) / interval, f, &c->at);
        } else {
            c->at = *f; /* after a gap: hold this one */
        }
        break;
    case TP_UPSAMPLE_PREDICT:
        if (k + 1 < c->count && f->t_ns - hist_at(c, k + 1)->t_ns <= stale_ns) {
            const tp_operator_frame *e = hist_at(c, k + 1);
            double interval = (double)(f->t_ns - e->t_ns);
            double ahead = fmin((double)(now_ns - f->t_ns), 1.5 * interval);
            blend(e, f, 1.0 + ahead / interval, f, &c->at);
        } else {
            c->at = *f;
        }
        break;
    case TP_UPSAMPLE_NONE:
        c->at = *f;
        break;
    }
    c->at.t_ns = tau;
    return true;
}

unsigned tp_controller_step(tp_controller *c, const tp_operator_frame *frame, int64_t now_ns, double *command)
{
    const double dt = 1.0 / c->cfg.rate_hz;
    const int64_t stale_ns = (int64_t)(c->cfg.stale_input_s * 1e9);
    if (frame)
        tp_controller_push_frame(c, frame, now_ns);
    unsigned flags = c->pending;
    c->pending = 0;
    const tp_operator_frame *base = NULL;
    bool have = c->count > 0 && sample_operator(c, now_ns, &base);
    /* Fresh: the newest frame is recent, and so is the one this tick samples. */
    bool fresh = have && now_ns - hist_at(c, 0)->t_ns <= stale_ns &&
                 now_ns - c->latency_ns - base->t_ns <= stale_ns;
    if (!fresh)
        flags |= TP_CONTROL_INPUT_STALE;
    if (have && !base->engaged)
        flags |= TP_CONTROL_CLUTCH_OPEN;
    if (c->emergency)
        flags |= TP_CONTROL_EMERGENCY;
    if (c->robot_stale)
        flags |= TP_CONTROL_ROBOT_STALE;
    bool engage = fresh && base->engaged && !c->emergency && !c->robot_stale;

    if (!engage) {
        c->engaged = false;
        c->ramping = false;
        tp_safety_filter(&c->safety, NULL, dt, command); /* hold: the last safe command */
        memcpy(c->held, command, sizeof(double) * (size_t)c->n);
        return latch(c, flags, now_ns);
    }
    bool engaging = !c->engaged;
    if (engaging) {
        /* Engaging: retargeting restarts from where the robot is held. */
        tp_retarget_seed(c->rt, c->held);
        c->engaged = true;
    }
    flags |= TP_CONTROL_ENGAGED;

    tp_retarget_step(c->rt, &c->at, c->desired, &c->status);
    if (engaging)
        start_ramp(c, now_ns);
    if (c->ramping)
        ramp(c, now_ns);
    for (int s = 0; s < 2; s++) {
        double *arm = c->desired + s * c->arm_dof;
        c->workspace_held[s] = false;
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
            c->workspace_held[s] = true;
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

/* Signed distance from p to the box's surface: positive inside. */
static double box_distance(tp_vec3 p, tp_vec3 lo, tp_vec3 hi)
{
    double in = fmin(fmin(fmin(p.x - lo.x, hi.x - p.x), fmin(p.y - lo.y, hi.y - p.y)), fmin(p.z - lo.z, hi.z - p.z));
    if (in >= 0)
        return in;
    double dx = fmax(fmax(lo.x - p.x, p.x - hi.x), 0), dy = fmax(fmax(lo.y - p.y, p.y - hi.y), 0),
           dz = fmax(fmax(lo.z - p.z, p.z - hi.z), 0);
    return -sqrt(dx * dx + dy * dy + dz * dz);
}

/* An IK residual above this means the wrist target is out of the arm's
 * reach (a reachable target converges to micrometres). */
#define REACH_RESIDUAL_M 0.01

void tp_controller_limit_figures(const tp_controller *c, int64_t t_ns, unsigned flags, const double *command,
                                 tp_limit_figures *out)
{
    int dof = c->arm_dof < TP_FEEDBACK_MAX_ARM_JOINTS ? c->arm_dof : TP_FEEDBACK_MAX_ARM_JOINTS;
    bool engaged = flags & TP_CONTROL_ENGAGED;
    out->t_ns = t_ns;
    out->control_flags = flags;
    out->arm_dof = dof;
    for (int s = 0; s < 2; s++) {
        bool clamped = engaged && c->workspace_held[s];
        for (int j = 0; j < dof; j++) {
            int i = s * c->arm_dof + j;
            out->joint_margin[s][j] = (float)fmax(0, fmin(command[i] - c->safety.lower[i], c->safety.upper[i] - command[i]));
            /* The engage ramp's own lag behind the bounds is the soft start, not a clamp. */
            if (engaged && !c->ramping && fabs(c->desired[i] - command[i]) > TP_FEEDBACK_CLAMP_RAD)
                clamped = true;
        }
        out->clamped[s] = clamped;
        out->wrist_known[s] = engaged && c->status.arm_ok[s];
        out->arm_tracked[s] = !engaged || c->status.arm_ok[s];
        out->hand_tracked[s] = !engaged || c->status.hand_ok[s];
        double edge = 0;
        if (out->wrist_known[s]) {
            tp_vec3 p = c->status.wrist_target[s].p;
            edge = fmin(box_distance(p, c->cfg.workspace_min, c->cfg.workspace_max),
                        c->reach[s] - tp_v3_norm(tp_v3_sub(p, c->shoulder[s])));
            if (c->status.position_error[s] > REACH_RESIDUAL_M)
                edge = fmin(edge, -c->status.position_error[s]);
        }
        out->wrist_edge[s] = (float)edge;
    }
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
        {TP_CONTROL_ROBOT_STALE, "robot_state_stale", "robot_state_restored"},
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
