/* The playback tests' and review benchmark's episode (playback_fixture.h). */
#include "playback_fixture.h"

#include <math.h>
#include <mujoco/mujoco.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/camera.h"
#include "teleop/episode.h"
#include "teleop/file.h"
#include "teleop/video.h"

/* The recorded joint order (docs/episode-format.md). */
const char *const pb_fixture_joint_names[PB_FIXTURE_JOINTS] = {
    "left_shoulder_pitch_joint", "left_shoulder_roll_joint", "left_shoulder_yaw_joint", "left_elbow_joint",
    "left_wrist_roll_joint", "left_wrist_pitch_joint", "left_wrist_yaw_joint",
    "right_shoulder_pitch_joint", "right_shoulder_roll_joint", "right_shoulder_yaw_joint", "right_elbow_joint",
    "right_wrist_roll_joint", "right_wrist_pitch_joint", "right_wrist_yaw_joint",
    "left_hand_zero_joint", "left_hand_one_joint", "left_hand_two_joint", "left_hand_three_joint",
    "left_hand_four_joint", "left_hand_five_joint", "left_hand_six_joint",
    "right_hand_zero_joint", "right_hand_one_joint", "right_hand_two_joint", "right_hand_three_joint",
    "right_hand_four_joint", "right_hand_five_joint", "right_hand_six_joint",
};

const char *const pb_fixture_event_kinds[PB_FIXTURE_EVENTS] = {"safety_position_clamp", "tracking_lost",
                                                               "safety_hold"};

static const char *const hand_joints[26] = {
    "palm", "wrist", "thumb_metacarpal", "thumb_proximal", "thumb_distal", "thumb_tip",
    "index_metacarpal", "index_proximal", "index_intermediate", "index_distal", "index_tip",
    "middle_metacarpal", "middle_proximal", "middle_intermediate", "middle_distal", "middle_tip",
    "ring_metacarpal", "ring_proximal", "ring_intermediate", "ring_distal", "ring_tip",
    "little_metacarpal", "little_proximal", "little_intermediate", "little_distal", "little_tip",
};

int64_t pb_fixture_frame_t(const pb_fixture *f, int camera, int64_t k)
{
    /* Cameras start a little after the state and out of step with each other. */
    return PB_FIXTURE_T0_NS + 5000000LL + camera * 3000000LL + (int64_t)llround((double)k * 1e9 / f->fps);
}

float pb_fixture_state(int64_t k, int joint)
{
    double s = (double)k * PB_FIXTURE_STATE_PERIOD_NS * 1e-9;
    double ramp = s / 2.0 < 1.0 ? s / 2.0 : 1.0;
    if (joint == 0)
        return (float)(-1.4 * ramp); /* left arm raised forward over the first 2 s */
    if (joint == 3)
        return (float)(1.2 * ramp); /* and its elbow bent */
    if (joint < 14)
        return (float)(0.05 * sin(2 * M_PI * 0.5 * s + joint));
    return 0.0f;
}

void pb_fixture_hand_joint(int64_t k, int hand, int joint, float out[3])
{
    double s = (double)k * PB_FIXTURE_OPERATOR_PERIOD_NS * 1e-9;
    double side = hand == 0 ? -1.0 : 1.0;
    double wx = side * 0.2, wy = 1.1 + 0.1 * sin(2 * M_PI * 0.5 * s), wz = -0.35;
    double dx = 0, dz = 0;
    if (joint == 0) {
        dz = -0.05;
    } else if (joint >= 2) {
        int finger = joint < 6 ? 0 : 1 + (joint - 6) / 5;
        int bone = joint < 6 ? joint - 2 : (joint - 6) % 5;
        dx = side * (finger - 2) * -0.02;
        dz = -0.03 - 0.025 * bone;
    }
    out[0] = (float)(wx + dx);
    out[1] = (float)wy;
    out[2] = (float)(wz + dz);
}

int pb_fixture_hand_tracked(int64_t k, int hand, int64_t rows) { return hand == 0 || k >= rows / 2; }

int64_t pb_fixture_event_t(const pb_fixture *f, int i)
{
    static const double at[PB_FIXTURE_EVENTS] = {0.2, 0.5, 0.8};
    return PB_FIXTURE_T0_NS + (int64_t)llround(f->seconds * at[i] * 1e9);
}

static int operator_names(char (*names)[64])
{
    static const char *const pose[9] = {"px", "py", "pz", "qx", "qy", "qz", "qw", "radius", "valid"};
    static const char *const ctl[6] = {"active", "trigger", "squeeze", "stick_x", "stick_y", "buttons"};
    static const char *const side[2] = {"left", "right"};
    int n = 0;
    for (int i = 0; i < 7; i++)
        snprintf(names[n++], 64, "head.%s", pose[i]);
    snprintf(names[n++], 64, "head.valid");
    for (int h = 0; h < 2; h++) {
        snprintf(names[n++], 64, "%s.hand_active", side[h]);
        for (int j = 0; j < 26; j++)
            for (int p = 0; p < 9; p++)
                snprintf(names[n++], 64, "%s.%s.%s", side[h], hand_joints[j], pose[p]);
    }
    for (int h = 0; h < 2; h++) {
        for (int i = 0; i < 6; i++)
            snprintf(names[n++], 64, "%s.controller.%s", side[h], ctl[i]);
        for (int a = 0; a < 2; a++) {
            for (int i = 0; i < 7; i++)
                snprintf(names[n++], 64, "%s.controller.%s.%s", side[h], a ? "aim" : "grip", pose[i]);
            snprintf(names[n++], 64, "%s.controller.%s.valid", side[h], a ? "aim" : "grip");
        }
    }
    snprintf(names[n++], 64, "engaged");
    return n;
}

typedef struct cam_enc {
    tp_video_encoder *enc;
    int id;
    int64_t sent, written;
} cam_enc;

static int drain(tp_episode_writer *w, const pb_fixture *f, int c, cam_enc *ce, char *err, size_t errlen)
{
    tp_video_packet pkt;
    int r;
    while ((r = tp_video_encoder_receive(ce->enc, &pkt, err, errlen)) == 1) {
        if (tp_episode_writer_packet(w, ce->id, pkt.pts, pkt.pts, pb_fixture_frame_t(f, c, pkt.pts), pkt.keyframe,
                                     pkt.data, pkt.size)) {
            snprintf(err, errlen, "fixture: %s", tp_episode_writer_error(w));
            return -1;
        }
        ce->written++;
    }
    return r;
}

int pb_fixture_write(const char *path, const pb_fixture *f, char *err, size_t errlen)
{
    char model_path[4096];
    snprintf(model_path, sizeof model_path, "%s/devices/robot/models/humanoid.xml", TELEOP_SOURCE_DIR);
    size_t model_size = 0;
    char *model_xml = tp_read_file(model_path, &model_size, err, errlen);
    if (!model_xml)
        return -1;
    char mjerr[512] = "";
    mjModel *m = mj_loadXML(model_path, NULL, mjerr, sizeof mjerr);
    if (!m) {
        snprintf(err, errlen, "%s: %s", model_path, mjerr);
        free(model_xml);
        return -1;
    }
    tp_episode_writer *w = tp_episode_writer_create(path, err, errlen);
    int rc = -1;
    cam_enc ce[8] = {0};
    static char op_names[PB_FIXTURE_OPERATOR_DIMS][64];
    const char *op_ptrs[PB_FIXTURE_OPERATOR_DIMS];
    uint8_t *rgb = malloc((size_t)f->width * (size_t)f->height * 3);
    if (!w || !rgb || f->cameras < 0 || f->cameras > 8) {
        if (w && !rgb)
            snprintf(err, errlen, "fixture: out of memory");
        goto out;
    }
    tp_episode_writer_set_meta(w, "task", "playback fixture");
    tp_episode_writer_set_meta(w, "operator", "fixture");
    char buf[64];
    snprintf(buf, sizeof buf, "%lld", (long long)PB_FIXTURE_T0_NS);
    tp_episode_writer_set_meta(w, "start_t_ns", buf);
    if (tp_episode_writer_attach(w, "robot/humanoid.xml", "application/xml", model_xml, model_size)) {
        snprintf(err, errlen, "fixture: %s", tp_episode_writer_error(w));
        goto out;
    }
    char sha[65];
    tp_episode_writer_attachment_sha256(w, "robot/humanoid.xml", sha);
    tp_episode_writer_set_meta(w, "robot_description", "robot/humanoid.xml");
    tp_episode_writer_set_meta(w, "robot_description_sha256", sha);
    for (int j = 0; j < PB_FIXTURE_JOINTS; j++) {
        int id = mj_name2id(m, mjOBJ_JOINT, pb_fixture_joint_names[j]);
        if (id < 0) {
            snprintf(err, errlen, "%s: no joint %s", model_path, pb_fixture_joint_names[j]);
            goto out;
        }
        tp_joint_limit l = {pb_fixture_joint_names[j], m->jnt_range[2 * id], m->jnt_range[2 * id + 1], NAN, NAN};
        tp_episode_writer_joint_limit(w, &l);
    }
    tp_stream_desc st = {.name = "state", .kind = TP_STREAM_STATE, .dims = PB_FIXTURE_JOINTS,
                         .dim_names = pb_fixture_joint_names, .units = "rad", .rate_hz = 500};
    tp_stream_desc vel = st, act = st;
    vel.name = "state_velocity";
    vel.units = "rad/s";
    act.name = "action";
    act.kind = TP_STREAM_ACTION;
    act.t_meaning = TP_TIME_COMMAND;
    operator_names(op_names);
    for (int i = 0; i < PB_FIXTURE_OPERATOR_DIMS; i++)
        op_ptrs[i] = op_names[i];
    tp_stream_desc op = {.name = "operator", .kind = TP_STREAM_OPERATOR, .dims = PB_FIXTURE_OPERATOR_DIMS,
                         .dim_names = op_ptrs, .units = "1", .t_meaning = TP_TIME_DISPLAY, .rate_hz = 90};
    int id_state = tp_episode_writer_add_stream(w, &st), id_vel = tp_episode_writer_add_stream(w, &vel);
    int id_act = tp_episode_writer_add_stream(w, &act), id_op = tp_episode_writer_add_stream(w, &op);
    if (id_state < 0 || id_vel < 0 || id_act < 0 || id_op < 0) {
        snprintf(err, errlen, "fixture: %s", tp_episode_writer_error(w));
        goto out;
    }
    for (int c = 0; c < f->cameras; c++) {
        tp_video_encoder_config cfg;
        tp_video_encoder_default_config(&cfg, f->width, f->height, f->fps);
        cfg.codec = f->codec ? f->codec : "h264";
        cfg.gop = f->gop;
        if (!(ce[c].enc = tp_video_encoder_create(&cfg, err, errlen)))
            goto out;
        const uint8_t *extra;
        size_t extra_size;
        tp_video_encoder_extradata(ce[c].enc, &extra, &extra_size);
        char name[32];
        snprintf(name, sizeof name, c == 0 ? "head_camera" : "camera_%d", c);
        tp_stream_desc cam = {.name = name, .kind = TP_STREAM_CAMERA, .dims = 3, .rate_hz = f->fps,
                              .codec = tp_video_encoder_codec(ce[c].enc), .width = f->width, .height = f->height,
                              .extradata = extra, .extradata_size = extra_size};
        if ((ce[c].id = tp_episode_writer_add_stream(w, &cam)) < 0) {
            snprintf(err, errlen, "fixture: %s", tp_episode_writer_error(w));
            goto out;
        }
    }
    int64_t end = PB_FIXTURE_T0_NS + (int64_t)llround(f->seconds * 1e9);
    int64_t n_state = (end - PB_FIXTURE_T0_NS) / PB_FIXTURE_STATE_PERIOD_NS;
    int64_t n_op = (end - PB_FIXTURE_T0_NS) / PB_FIXTURE_OPERATOR_PERIOD_NS;
    int64_t k_state = 0, k_op = 0;
    int next_event = 0;
    float row[PB_FIXTURE_OPERATOR_DIMS];
    /* One transaction per 100 ms of data, as a recorder batches. */
    for (int64_t b = PB_FIXTURE_T0_NS; b < end; b += 100000000LL) {
        int64_t bend = b + 100000000LL;
        if (tp_episode_writer_begin(w)) {
            snprintf(err, errlen, "fixture: %s", tp_episode_writer_error(w));
            goto out;
        }
        for (; k_state < n_state && PB_FIXTURE_T0_NS + k_state * PB_FIXTURE_STATE_PERIOD_NS < bend; k_state++) {
            int64_t t = PB_FIXTURE_T0_NS + k_state * PB_FIXTURE_STATE_PERIOD_NS;
            float q[PB_FIXTURE_JOINTS], dq[PB_FIXTURE_JOINTS], a[PB_FIXTURE_JOINTS];
            for (int j = 0; j < PB_FIXTURE_JOINTS; j++) {
                q[j] = pb_fixture_state(k_state, j);
                dq[j] = (pb_fixture_state(k_state + 1, j) - q[j]) / 0.002f;
                a[j] = pb_fixture_state(k_state + 5, j);
            }
            tp_episode_writer_sample(w, id_state, k_state, t, q, PB_FIXTURE_JOINTS);
            tp_episode_writer_sample(w, id_vel, k_state, t, dq, PB_FIXTURE_JOINTS);
            tp_episode_writer_sample(w, id_act, k_state, t, a, PB_FIXTURE_JOINTS);
        }
        for (; k_op < n_op && PB_FIXTURE_T0_NS + k_op * PB_FIXTURE_OPERATOR_PERIOD_NS < bend; k_op++) {
            memset(row, 0, sizeof row);
            row[1] = 1.6f; /* head at standing height, identity orientation */
            row[6] = 1.0f;
            row[7] = 1.0f;
            for (int h = 0; h < 2; h++) {
                int base = 8 + h * (1 + 26 * 9);
                int tracked = pb_fixture_hand_tracked(k_op, h, n_op);
                row[base] = (float)tracked;
                for (int j = 0; j < 26; j++) {
                    float *p = row + base + 1 + j * 9;
                    pb_fixture_hand_joint(k_op, h, j, p);
                    p[6] = 1.0f;
                    p[7] = 0.01f;
                    p[8] = (float)tracked;
                }
            }
            row[PB_FIXTURE_OPERATOR_DIMS - 1] = 1.0f;
            tp_episode_writer_sample(w, id_op, k_op, PB_FIXTURE_T0_NS + k_op * PB_FIXTURE_OPERATOR_PERIOD_NS, row,
                                     PB_FIXTURE_OPERATOR_DIMS);
        }
        for (; next_event < PB_FIXTURE_EVENTS && pb_fixture_event_t(f, next_event) < bend; next_event++)
            tp_episode_writer_event(w, pb_fixture_event_t(f, next_event), pb_fixture_event_kinds[next_event],
                                    "fixture");
        for (int c = 0; c < f->cameras; c++) {
            for (; pb_fixture_frame_t(f, c, ce[c].sent) < bend && pb_fixture_frame_t(f, c, ce[c].sent) < end;
                 ce[c].sent++) {
                tp_camera_pattern_render((uint64_t)c + 1, f->noise, ce[c].sent, (double)ce[c].sent / f->fps,
                                         f->width, f->height, rgb);
                if (tp_video_encoder_send(ce[c].enc, rgb, ce[c].sent, err, errlen) || drain(w, f, c, &ce[c], err,
                                                                                              errlen) < 0)
                    goto out;
            }
            if (bend >= end && (tp_video_encoder_send(ce[c].enc, NULL, 0, err, errlen) ||
                                drain(w, f, c, &ce[c], err, errlen) < 0))
                goto out;
        }
        if (tp_episode_writer_commit(w)) {
            snprintf(err, errlen, "fixture: %s", tp_episode_writer_error(w));
            goto out;
        }
    }
    snprintf(buf, sizeof buf, "%lld", (long long)end);
    tp_episode_writer_set_meta(w, "end_t_ns", buf);
    if (tp_episode_writer_finish(w, "completed")) {
        snprintf(err, errlen, "fixture: %s", tp_episode_writer_error(w));
        goto out;
    }
    rc = 0;
out:
    for (int c = 0; c < 8; c++)
        tp_video_encoder_destroy(ce[c].enc);
    tp_episode_writer_close(w);
    mj_deleteModel(m);
    free(model_xml);
    free(rgb);
    return rc;
}
