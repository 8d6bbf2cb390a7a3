/* teleop — human hand skeleton → 26 OpenXR hand joints. */
#include "teleop/handmodel.h"

#include <math.h>

#define DEG (M_PI / 180.0)

/* Right hand, wrist frame (x toward the little finger, y dorsal, fingers
 * along -z); the left hand mirrors x. Metacarpal bases and knuckles, then
 * proximal, intermediate and distal bone lengths (m). */
static const double meta_base[4][3] = {{-0.022, 0, -0.010}, {-0.005, 0, -0.012}, {0.010, 0, -0.012}, {0.024, 0, -0.010}};
static const double knuckle[4][3] = {{-0.025, 0, -0.085}, {-0.005, 0, -0.090}, {0.014, 0, -0.085}, {0.030, 0, -0.075}};
static const double phalanx[4][3] = {{0.040, 0.024, 0.020}, {0.045, 0.028, 0.021}, {0.042, 0.027, 0.020}, {0.033, 0.019, 0.018}};
static const double finger_bend[3] = {90 * DEG, 100 * DEG, 70 * DEG}; /* MCP, PIP, DIP at full curl */
static const double thumb_base[3] = {-0.025, -0.010, -0.020};
static const double thumb_len[3] = {0.045, 0.032, 0.025}; /* metacarpal, proximal, distal */
static const double thumb_bend[3] = {20 * DEG, 50 * DEG, 70 * DEG}; /* CMC, MCP, IP */
static const float radius[5] = {0.011f, 0.010f, 0.009f, 0.008f, 0.007f};

/* Orientation whose -Z is along dir and whose +Y is as close to up as
 * possible. */
static tp_quat frame_along(tp_vec3 dir, tp_vec3 up)
{
    tp_vec3 z = tp_v3_scale(tp_v3_normalize(dir), -1.0);
    tp_vec3 x = tp_v3_normalize(tp_v3_cross(up, z));
    tp_vec3 y = tp_v3_cross(z, x);
    return tp_quat_from_mat3(tp_mat3_from_cols(x, y, z));
}

static void put(tp_hand_frame *h, int j, tp_vec3 p_local, tp_quat q_local, tp_pose wrist, int mirror, float r)
{
    if (mirror) { /* reflect x: positions negate x, rotations conjugate by diag(-1,1,1) */
        p_local.x = -p_local.x;
        q_local = (tp_quat){q_local.x, -q_local.y, -q_local.z, q_local.w};
    }
    h->joints[j].pose = tp_pose_mul(wrist, (tp_pose){p_local, q_local});
    h->joints[j].radius = r;
    h->joints[j].valid = true;
}

void tp_hand_model_pose(int side, tp_pose wrist, const double flex_in[5], tp_hand_frame *h)
{
    int mirror = side == 0;
    double flex[5];
    for (int f = 0; f < 5; f++)
        flex[f] = isfinite(flex_in[f]) ? fmin(1.0, fmax(0.0, flex_in[f])) : 0.0;
    h->active = true;
    const tp_vec3 up = tp_v3(0, 1, 0);
    put(h, TP_HJ_WRIST, tp_v3(0, 0, 0), tp_quat_identity(), wrist, mirror, 0.020f);
    put(h, TP_HJ_PALM, tp_v3(-0.002, 0, -0.050), tp_quat_identity(), wrist, mirror, 0.025f);

    for (int f = 0; f < 4; f++) {
        int base = TP_HJ_INDEX_METACARPAL + 5 * f;
        tp_vec3 mb = tp_v3(meta_base[f][0], meta_base[f][1], meta_base[f][2]);
        tp_vec3 kn = tp_v3(knuckle[f][0], knuckle[f][1], knuckle[f][2]);
        put(h, base, mb, frame_along(tp_v3_sub(kn, mb), up), wrist, mirror, radius[0]);
        /* Each joint bends the rest of the finger toward the palm (-y). */
        tp_vec3 p = kn;
        double theta = 0;
        for (int k = 0; k < 3; k++) {
            theta += flex[1 + f] * finger_bend[k];
            tp_vec3 d = tp_v3(0, -sin(theta), -cos(theta));
            tp_vec3 dorsal = tp_v3(0, cos(theta), -sin(theta));
            put(h, base + 1 + k, p, frame_along(d, dorsal), wrist, mirror, radius[1 + k]);
            p = tp_v3_add(p, tp_v3_scale(d, phalanx[f][k]));
            if (k == 2)
                put(h, base + 4, p, frame_along(d, dorsal), wrist, mirror, radius[4]);
        }
    }

    /* Thumb: bends about one axis that carries it from out-and-forward
     * across the palm. */
    tp_vec3 d_open = tp_v3_normalize(tp_v3(-0.55, -0.25, -0.80));
    tp_vec3 d_across = tp_v3_normalize(tp_v3(0.75, -0.45, -0.50));
    tp_vec3 axis = tp_v3_normalize(tp_v3_cross(d_open, d_across));
    tp_vec3 p = tp_v3(thumb_base[0], thumb_base[1], thumb_base[2]);
    double theta = 0;
    for (int k = 0; k < 3; k++) {
        theta += flex[0] * thumb_bend[k];
        tp_vec3 d = tp_quat_rotate(tp_quat_from_axis_angle(axis, theta), d_open);
        put(h, TP_HJ_THUMB_METACARPAL + k, p, frame_along(d, up), wrist, mirror, radius[k]);
        p = tp_v3_add(p, tp_v3_scale(d, thumb_len[k]));
        if (k == 2)
            put(h, TP_HJ_THUMB_TIP, p, frame_along(d, up), wrist, mirror, radius[4]);
    }
}

static bool pose_finite(tp_pose p) { return tp_v3_isfinite(p.p) && tp_quat_isfinite(p.q); }

bool tp_hand_finger_frame(int side, const tp_hand_frame *h, tp_pose *wrist)
{
    if (!h->active)
        return false;
    const tp_hand_joint *w = &h->joints[TP_HJ_WRIST], *palm = &h->joints[TP_HJ_PALM];
    if (w->valid) { /* a valid wrist with garbage in it is refused, not replaced */
        if (!pose_finite(w->pose))
            return false;
        *wrist = (tp_pose){w->pose.p, tp_quat_normalize(w->pose.q)};
        return true;
    }
    if (!palm->valid || !pose_finite(palm->pose))
        return false;
    /* The model's palm: the wrist's orientation, PALM_OFFSET ahead of it. */
    tp_quat q = tp_quat_normalize(palm->pose.q);
    tp_vec3 off = tp_v3(side == 0 ? 0.002 : -0.002, 0, -0.050);
    *wrist = (tp_pose){tp_v3_sub(palm->pose.p, tp_quat_rotate(q, off)), q};
    return true;
}
