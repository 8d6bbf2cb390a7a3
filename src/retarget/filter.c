/* teleop — One Euro filter for vectors and poses. */
#include "teleop/filter.h"

#include <math.h>

void tp_one_euro_default(tp_one_euro_params *p)
{
    p->min_cutoff = 1.0;
    p->beta = 0.0;
    p->d_cutoff = 1.0;
}

static double alpha(double cutoff, double te)
{
    double tau = 1.0 / (2.0 * M_PI * cutoff);
    return 1.0 / (1.0 + tau / te);
}

void tp_one_euro_vec3_init(tp_one_euro_vec3 *f, const tp_one_euro_params *p)
{
    f->params = *p;
    f->initialized = false;
    f->last_t_ns = 0;
    f->x_hat = tp_v3(0, 0, 0);
    f->dx_hat = tp_v3(0, 0, 0);
}

tp_vec3 tp_one_euro_vec3_filter(tp_one_euro_vec3 *f, tp_vec3 x, int64_t t_ns)
{
    if (!tp_v3_isfinite(x))
        return f->x_hat;
    if (!f->initialized) {
        f->initialized = true;
        f->last_t_ns = t_ns;
        f->x_hat = x;
        f->dx_hat = tp_v3(0, 0, 0);
        return x;
    }
    if (t_ns <= f->last_t_ns)
        return f->x_hat;
    double te = (double)(t_ns - f->last_t_ns) * 1e-9;
    f->last_t_ns = t_ns;
    tp_vec3 dx = tp_v3_scale(tp_v3_sub(x, f->x_hat), 1.0 / te);
    f->dx_hat = tp_v3_lerp(f->dx_hat, dx, alpha(f->params.d_cutoff, te));
    double cutoff = f->params.min_cutoff + f->params.beta * tp_v3_norm(f->dx_hat);
    f->x_hat = tp_v3_lerp(f->x_hat, x, alpha(cutoff, te));
    return f->x_hat;
}

void tp_one_euro_pose_init(tp_one_euro_pose *f, const tp_one_euro_params *pos, const tp_one_euro_params *rot)
{
    tp_one_euro_vec3_init(&f->position, pos);
    f->rot_params = *rot;
    tp_one_euro_pose_reset(f);
}

void tp_one_euro_pose_reset(tp_one_euro_pose *f)
{
    f->position.initialized = false;
    f->initialized = false;
    f->last_t_ns = 0;
    f->q_hat = tp_quat_identity();
    f->w_hat = 0;
}

tp_pose tp_one_euro_pose_filter(tp_one_euro_pose *f, tp_pose x, int64_t t_ns)
{
    tp_pose out;
    out.p = tp_one_euro_vec3_filter(&f->position, x.p, t_ns);
    if (!tp_quat_isfinite(x.q)) {
        out.q = f->q_hat;
        return out;
    }
    tp_quat q = tp_quat_normalize(x.q);
    if (!f->initialized) {
        f->initialized = true;
        f->last_t_ns = t_ns;
        f->q_hat = q;
        f->w_hat = 0;
        out.q = q;
        return out;
    }
    if (t_ns <= f->last_t_ns) {
        out.q = f->q_hat;
        return out;
    }
    double te = (double)(t_ns - f->last_t_ns) * 1e-9;
    f->last_t_ns = t_ns;
    /* The "derivative" of a rotation is the angular speed toward the new
     * sample; slerp by alpha is the rotation analogue of the lerp. */
    double w = tp_quat_angle_between(f->q_hat, q) / te;
    f->w_hat += alpha(f->rot_params.d_cutoff, te) * (w - f->w_hat);
    double cutoff = f->rot_params.min_cutoff + f->rot_params.beta * f->w_hat;
    f->q_hat = tp_quat_slerp(f->q_hat, q, alpha(cutoff, te));
    out.q = f->q_hat;
    return out;
}

void tp_one_euro_hand_init(tp_one_euro_hand *f, const tp_one_euro_params *p)
{
    for (int j = 0; j < TP_HAND_JOINT_COUNT; j++)
        tp_one_euro_vec3_init(&f->joint[j], p);
}

void tp_one_euro_hand_reset(tp_one_euro_hand *f)
{
    for (int j = 0; j < TP_HAND_JOINT_COUNT; j++)
        f->joint[j].initialized = false;
}

void tp_one_euro_hand_filter(tp_one_euro_hand *f, tp_hand_frame *hand, tp_pose raw_wrist, int64_t t_ns)
{
    if (!hand->active || !hand->joints[TP_HJ_WRIST].valid)
        return;
    const tp_pose placed = hand->joints[TP_HJ_WRIST].pose;
    const tp_pose raw_inv = tp_pose_inverse(raw_wrist);
    /* Orientation change from the raw wrist to the wrist the hand goes on. */
    const tp_quat turn = tp_quat_mul(placed.q, tp_quat_conj(raw_wrist.q));
    for (int j = 0; j < TP_HAND_JOINT_COUNT; j++) {
        tp_hand_joint *hj = &hand->joints[j];
        if (!hj->valid)
            continue;
        if (j == TP_HJ_WRIST)
            continue;
        tp_vec3 local = tp_pose_apply(raw_inv, hj->pose.p);
        local = tp_one_euro_vec3_filter(&f->joint[j], local, t_ns);
        hj->pose.p = tp_pose_apply(placed, local);
        hj->pose.q = tp_quat_normalize(tp_quat_mul(turn, hj->pose.q));
    }
}
