/* teleop — the fusion rule: a calibrated glove decides the fingers, the
 * headset the wrist (docs/devices/gloves.md, "In the station"). */
#include <math.h>

#include "teleop/glove.h"
#include "teleop/handmodel.h"

void tp_glove_fuse(int side, const tp_glove_hand *glove, tp_hand_frame *hand)
{
    if (!glove) {
        /* Configured but silent: this hand is not known, so its side holds. */
        hand->active = false;
        hand->fingers_only = false;
        return;
    }
    const tp_hand_joint *w = &hand->joints[TP_HJ_WRIST];
    bool tracked = hand->active && !hand->fingers_only && w->valid && tp_v3_isfinite(w->pose.p) &&
                   tp_quat_isfinite(w->pose.q);
    /* Flexion and the vector method work in the wrist's own frame, so any
     * wrist pose serves a glove alone; the stage origin at standing height. */
    tp_pose wrist = tracked ? w->pose : (tp_pose){{0.0, 1.0, 0.0}, {0.0, 0.0, 0.0, 1.0}};
    if (tracked)
        wrist.q = tp_quat_normalize(wrist.q);
    tp_hand_model_pose(side, wrist, glove->flex, hand);
    hand->fingers_only = !tracked;
}
