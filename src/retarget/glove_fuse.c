/* The glove fusion rule (include/teleop/glove.h, docs/devices/gloves.md):
 * the glove decides the fingers, the headset the wrist. */
#include "teleop/glove.h"
#include "teleop/handmodel.h"

#include <math.h>

void tp_glove_fuse(int side, const tp_glove_hand *glove, tp_hand_frame *hand)
{
    if (!glove) { /* configured but silent: hold the side, as on headset hand loss */
        hand->active = false;
        return;
    }
    const tp_hand_joint *w = &hand->joints[TP_HJ_WRIST];
    bool tracked = hand->active && w->valid && tp_v3_isfinite(w->pose.p) && tp_quat_isfinite(w->pose.q);
    /* A glove alone has no place in the stage: the fingers are posed at a
     * nominal wrist (the finger retargeting reads them in the wrist's frame,
     * so where it is does not matter) and the wrist is marked invalid. */
    tp_pose wrist = tracked ? (tp_pose){w->pose.p, tp_quat_normalize(w->pose.q)}
                            : (tp_pose){tp_v3(0, 0, 0), tp_quat_identity()};
    tp_hand_model_pose(side, wrist, glove->flex, hand);
    if (!tracked)
        hand->joints[TP_HJ_WRIST].valid = false;
}
