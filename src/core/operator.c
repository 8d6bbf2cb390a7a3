/* teleop — operator frame packing into the operator stream's float layout. */
#include "teleop/operator.h"

#include <stdio.h>

static const char *const joint_names[TP_HAND_JOINT_COUNT] = {
    "palm", "wrist",
    "thumb_metacarpal", "thumb_proximal", "thumb_distal", "thumb_tip",
    "index_metacarpal", "index_proximal", "index_intermediate", "index_distal", "index_tip",
    "middle_metacarpal", "middle_proximal", "middle_intermediate", "middle_distal", "middle_tip",
    "ring_metacarpal", "ring_proximal", "ring_intermediate", "ring_distal", "ring_tip",
    "little_metacarpal", "little_proximal", "little_intermediate", "little_distal", "little_tip",
};

const char *tp_hand_joint_name(int joint)
{
    return joint >= 0 && joint < TP_HAND_JOINT_COUNT ? joint_names[joint] : "?";
}

static float *put_pose(float *o, tp_pose p)
{
    *o++ = (float)p.p.x;
    *o++ = (float)p.p.y;
    *o++ = (float)p.p.z;
    *o++ = (float)p.q.x;
    *o++ = (float)p.q.y;
    *o++ = (float)p.q.z;
    *o++ = (float)p.q.w;
    return o;
}

static const float *get_pose(const float *in, tp_pose *p)
{
    p->p = (tp_vec3){in[0], in[1], in[2]};
    p->q = (tp_quat){in[3], in[4], in[5], in[6]};
    return in + 7;
}

void tp_operator_pack(const tp_operator_frame *f, float out[TP_OPERATOR_DIMS])
{
    float *o = put_pose(out, f->head);
    *o++ = f->head_valid ? 1.0f : 0.0f;
    for (int s = 0; s < 2; s++) {
        const tp_hand_frame *h = &f->hand[s];
        *o++ = h->active ? 1.0f : 0.0f;
        for (int j = 0; j < TP_HAND_JOINT_COUNT; j++) {
            o = put_pose(o, h->joints[j].pose);
            *o++ = h->joints[j].radius;
            *o++ = h->joints[j].valid ? 1.0f : 0.0f;
        }
    }
    for (int s = 0; s < 2; s++) {
        const tp_controller_frame *c = &f->ctrl[s];
        *o++ = c->active ? 1.0f : 0.0f;
        *o++ = c->trigger;
        *o++ = c->squeeze;
        *o++ = c->stick[0];
        *o++ = c->stick[1];
        *o++ = (float)c->buttons;
        o = put_pose(o, c->grip);
        *o++ = c->grip_valid ? 1.0f : 0.0f;
        o = put_pose(o, c->aim);
        *o++ = c->aim_valid ? 1.0f : 0.0f;
    }
    *o++ = f->engaged ? 1.0f : 0.0f;
}

void tp_operator_unpack(const float in[TP_OPERATOR_DIMS], int64_t t_ns, tp_operator_frame *f)
{
    f->t_ns = t_ns;
    const float *i = get_pose(in, &f->head);
    f->head_valid = *i++ > 0.5f;
    for (int s = 0; s < 2; s++) {
        tp_hand_frame *h = &f->hand[s];
        h->active = *i++ > 0.5f;
        for (int j = 0; j < TP_HAND_JOINT_COUNT; j++) {
            i = get_pose(i, &h->joints[j].pose);
            h->joints[j].radius = *i++;
            h->joints[j].valid = *i++ > 0.5f;
        }
    }
    for (int s = 0; s < 2; s++) {
        tp_controller_frame *c = &f->ctrl[s];
        c->active = *i++ > 0.5f;
        c->trigger = *i++;
        c->squeeze = *i++;
        c->stick[0] = *i++;
        c->stick[1] = *i++;
        c->buttons = (uint32_t)*i++;
        i = get_pose(i, &c->grip);
        c->grip_valid = *i++ > 0.5f;
        i = get_pose(i, &c->aim);
        c->aim_valid = *i++ > 0.5f;
    }
    f->engaged = *i++ > 0.5f;
}

void tp_operator_dim_name(size_t i, char *buf, size_t len)
{
    static const char *const pose_parts[] = {"px", "py", "pz", "qx", "qy", "qz", "qw"};
    static const char *const side[] = {"left", "right"};
    static const char *const ctrl_parts[] = {"active", "trigger", "squeeze", "stick_x", "stick_y", "buttons"};
    if (i < 7) {
        snprintf(buf, len, "head.%s", pose_parts[i]);
        return;
    }
    if (i == 7) {
        snprintf(buf, len, "head.valid");
        return;
    }
    i -= 8;
    const size_t per_hand = 1 + TP_HAND_JOINT_COUNT * 9;
    if (i < 2 * per_hand) {
        size_t s = i / per_hand, k = i % per_hand;
        if (k == 0) {
            snprintf(buf, len, "%s.hand_active", side[s]);
            return;
        }
        k -= 1;
        size_t j = k / 9, part = k % 9;
        const char *pn = part < 7 ? pose_parts[part] : part == 7 ? "radius" : "valid";
        snprintf(buf, len, "%s.%s.%s", side[s], joint_names[j], pn);
        return;
    }
    i -= 2 * per_hand;
    if (i < 2 * TP_OPERATOR_CONTROLLER_DIMS) {
        size_t s = i / TP_OPERATOR_CONTROLLER_DIMS, k = i % TP_OPERATOR_CONTROLLER_DIMS;
        if (k < 6) {
            snprintf(buf, len, "%s.controller.%s", side[s], ctrl_parts[k]);
            return;
        }
        k -= 6;
        const char *pose_name = k < 8 ? "grip" : "aim";
        k %= 8;
        snprintf(buf, len, "%s.controller.%s.%s", side[s], pose_name, k < 7 ? pose_parts[k] : "valid");
        return;
    }
    snprintf(buf, len, i == 2 * TP_OPERATOR_CONTROLLER_DIMS ? "engaged" : "?");
}
