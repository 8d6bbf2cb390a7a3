/* teleop — finger flexion from OpenXR hand joints, and the flexion-driven
 * mapping onto a robot hand (Dex3-1-class by default). */
#include <math.h>

#include "teleop/handmodel.h"
#include "teleop/retarget.h"

/* Total bend (rad) of a fully curled finger, summed over its joints:
 * long fingers MCP 90 + PIP 100 + DIP 70 degrees; thumb MCP 50 + IP 70. */
#define FINGER_FULL_CURL (260.0 * M_PI / 180.0)
#define THUMB_FULL_CURL (120.0 * M_PI / 180.0)

static double bend(tp_vec3 a, tp_vec3 b)
{
    double na = tp_v3_norm(a), nb = tp_v3_norm(b);
    if (na < 1e-9 || nb < 1e-9)
        return 0;
    double c = tp_v3_dot(a, b) / (na * nb);
    return acos(fmax(-1.0, fmin(1.0, c)));
}

static tp_vec3 jp(const tp_hand_frame *h, int j) { return h->joints[j].pose.p; }

bool tp_hand_flexion(const tp_hand_frame *h, double flex[5])
{
    tp_pose frame; /* the side only moves the derived wrist, not whether there is one */
    if (!tp_hand_finger_frame(TP_RIGHT, h, &frame))
        return false;
    for (int j = TP_HJ_WRIST + 1; j < TP_HAND_JOINT_COUNT; j++)
        if (!h->joints[j].valid || !tp_v3_isfinite(h->joints[j].pose.p))
            return false;
    /* Thumb: metacarpal, proximal, distal bones; bends at MCP and IP. */
    tp_vec3 t0 = tp_v3_sub(jp(h, TP_HJ_THUMB_PROXIMAL), jp(h, TP_HJ_THUMB_METACARPAL));
    tp_vec3 t1 = tp_v3_sub(jp(h, TP_HJ_THUMB_DISTAL), jp(h, TP_HJ_THUMB_PROXIMAL));
    tp_vec3 t2 = tp_v3_sub(jp(h, TP_HJ_THUMB_TIP), jp(h, TP_HJ_THUMB_DISTAL));
    flex[0] = fmin(1.0, (bend(t0, t1) + bend(t1, t2)) / THUMB_FULL_CURL);
    /* Long fingers: metacarpal, proximal, intermediate, distal bones. */
    for (int f = 0; f < 4; f++) {
        int base = TP_HJ_INDEX_METACARPAL + 5 * f;
        tp_vec3 b0 = tp_v3_sub(jp(h, base + 1), jp(h, base));
        tp_vec3 b1 = tp_v3_sub(jp(h, base + 2), jp(h, base + 1));
        tp_vec3 b2 = tp_v3_sub(jp(h, base + 3), jp(h, base + 2));
        tp_vec3 b3 = tp_v3_sub(jp(h, base + 4), jp(h, base + 3));
        flex[1 + f] = fmin(1.0, (bend(b0, b1) + bend(b1, b2) + bend(b2, b3)) / FINGER_FULL_CURL);
    }
    for (int f = 0; f < 5; f++)
        if (!isfinite(flex[f]))
            return false;
    return true;
}

/* Dex3-1 thumb base rotation (zero joint, axis +Y of the palm link, the
 * palm normal) that turns the thumb's flexion plane onto the index: the
 * plane pivots about the zero joint (palm x = 0.028 m) and at 0 lies midway
 * between the two fingers (z = ±0.0285 m); -0.30 rad makes it pass through
 * the index's proximal phalanx (x ≈ 0.125 m, z = +0.0285 m). The index is
 * on +Z_ee on both sides (three/four on the right, five/six on the left) and
 * a rotation about the palm normal survives the left/right mirror, so the
 * sign is the same on both hands. */
#define DEX3_THUMB0_TOWARD_INDEX (-0.30)

void tp_hand_desc_dex3(tp_hand_desc *d, int side, const double *lower, const double *upper)
{
    /* The mirrored limits carry the side's flexion signs. The side decides
     * which finger is the index: the one on +Z_ee (toward the thumb in the
     * handshake pose), three/four on the right, five/six on the left. */
    static const int finger_of[2][7] = {{0, 0, 0, 2, 2, 1, 1}, {0, 0, 0, 1, 1, 2, 2}};
    d->dof = 7;
    for (int i = 0; i < 7; i++)
        d->finger[i] = finger_of[side ? 1 : 0][i];
    for (int i = 0; i < 7; i++) {
        d->lower[i] = lower[i];
        d->upper[i] = upper[i];
        /* Open: the value nearest zero. Closed: 85 % of the way to the limit
         * farther from zero, which is the flexion direction on each side's
         * mirrored ranges (a margin so a fist does not press on the stops).
         * The thumb's base rotation has a symmetric range: closing turns it
         * toward the index, as a human thumb opposes the index first. */
        d->open[i] = fmin(upper[i], fmax(lower[i], 0.0));
        double far = fabs(upper[i]) > fabs(lower[i]) ? upper[i] : lower[i];
        d->closed[i] = i == 0 ? fmin(upper[i], fmax(lower[i], DEX3_THUMB0_TOWARD_INDEX))
                              : d->open[i] + 0.85 * (far - d->open[i]);
    }
}

bool tp_hand_retarget(const tp_hand_desc *d, const tp_hand_frame *h, double *q)
{
    double flex[5];
    if (!tp_hand_flexion(h, flex))
        return false;
    for (int i = 0; i < d->dof; i++) {
        int f = d->finger[i] >= 0 && d->finger[i] < 5 ? d->finger[i] : 0;
        double v = d->open[i] + flex[f] * (d->closed[i] - d->open[i]);
        q[i] = fmin(d->upper[i], fmax(d->lower[i], v));
    }
    return true;
}
