/* teleop — the bundled demo motion: a pick-and-place by the right hand and a
 * small reach by the left, designed in the robot's torso frame and mapped to
 * OpenXR stage coordinates through the inverse of the default calibration. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "teleop/handmodel.h"
#include "teleop/motion.h"
#include "teleop/motion_demo.h"
#include "teleop/output_file.h"
#include "teleop/retarget.h"

#define DEMO_SECONDS 20.0

typedef struct waypoint {
    double t;       /* s */
    double p[3];    /* end-effector position, torso frame (m) */
    double flex;    /* finger flexion 0..1 */
} waypoint;

/* Cube at torso (0.30, -0.15, -0.03); table top at z = -0.05. The palm
 * (hand vertical, fingers forward, palm facing the body's midline) comes in
 * from the right so the cube sits between thumb and fingers. */
static const waypoint right_path[] = {
    {0.0, {0.20, -0.22, 0.06}, 0.05}, {3.0, {0.23, -0.25, 0.02}, 0.05},  /* pre-grasp beside the cube */
    {5.0, {0.23, -0.19, 0.00}, 0.05}, {6.0, {0.23, -0.19, 0.00}, 0.05},  /* at the cube */
    {7.2, {0.23, -0.19, 0.00}, 0.90},                                     /* grasp */
    {9.0, {0.23, -0.19, 0.08}, 0.90},                                     /* lift 8 cm */
    {11.5, {0.25, -0.06, 0.08}, 0.90},                                    /* carry */
    {13.0, {0.25, -0.06, 0.00}, 0.90},                                    /* lower */
    {14.0, {0.25, -0.06, 0.00}, 0.05},                                    /* release */
    {16.5, {0.20, -0.12, 0.08}, 0.05},                                    /* retreat */
    {20.0, {0.20, -0.22, 0.06}, 0.05},                                    /* rest */
};

static const waypoint left_path[] = {
    {0.0, {0.20, 0.22, 0.06}, 0.30}, {5.0, {0.20, 0.22, 0.06}, 0.30}, {9.0, {0.24, 0.18, 0.02}, 0.45},
    {13.0, {0.24, 0.18, 0.02}, 0.45}, {17.0, {0.20, 0.22, 0.06}, 0.30}, {20.0, {0.20, 0.22, 0.06}, 0.30},
};

/* Minimum-jerk blend between waypoints: zero velocity and acceleration at
 * each, as human reaching profiles are. */
static void along(const waypoint *w, size_t n, double t, double p[3], double *flex)
{
    size_t i = 0;
    while (i + 1 < n && t >= w[i + 1].t)
        i++;
    if (i + 1 >= n) {
        memcpy(p, w[n - 1].p, sizeof(double) * 3);
        *flex = w[n - 1].flex;
        return;
    }
    double u = (t - w[i].t) / (w[i + 1].t - w[i].t);
    double s = u * u * u * (10 - 15 * u + 6 * u * u);
    for (int k = 0; k < 3; k++)
        p[k] = w[i].p[k] + s * (w[i + 1].p[k] - w[i].p[k]);
    *flex = w[i].flex + s * (w[i + 1].flex - w[i].flex);
}

static void demo_frame(double t, tp_operator_frame *f)
{
    memset(f, 0, sizeof *f);
    tp_calibration cal;
    tp_calibration_default(&cal);
    /* Head at the anchor, looking 20 degrees down, with a slow small sway. */
    f->head.p = tp_v3_add(cal.xr_anchor, tp_v3(0.01 * sin(0.5 * t), 0.005 * sin(0.9 * t), 0.008 * sin(0.3 * t)));
    f->head.q = tp_quat_mul(tp_quat_from_axis_angle(tp_v3(0, 1, 0), 0.05 * sin(0.4 * t)),
                            tp_quat_from_axis_angle(tp_v3(1, 0, 0), -20 * M_PI / 180));
    f->head_valid = true;
    for (int side = 0; side < 2; side++) {
        double p[3], flex;
        if (side == 1)
            along(right_path, sizeof right_path / sizeof right_path[0], t, p, &flex);
        else
            along(left_path, sizeof left_path / sizeof left_path[0], t, p, &flex);
        /* Hand upright, fingers forward, palm toward the midline, with a
         * gentle wrist motion. */
        double sign = side ? -1.0 : 1.0;
        tp_quat q_ee = tp_quat_mul(tp_quat_from_axis_angle(tp_v3(0, 0, 1), sign * 0.10 * sin(0.6 * t)),
                                   tp_quat_from_axis_angle(tp_v3(1, 0, 0), 0.08 * sin(0.35 * t)));
        tp_pose wrist = {tp_calibration_point_inverse(&cal, tp_v3(p[0], p[1], p[2])),
                         tp_retarget_ee_to_wrist(side, q_ee)};
        double fl[5] = {flex, flex, flex, flex, flex};
        tp_hand_model_pose(side, wrist, fl, &f->hand[side]);
        /* The operator also holds the controllers, grips squeezed: the
         * clutch an OpenXR session engages with. */
        tp_controller_frame *c = &f->ctrl[side];
        c->active = true;
        c->squeeze = 1.0f;
        c->grip = f->hand[side].joints[TP_HJ_PALM].pose;
        c->aim = c->grip;
        c->grip_valid = c->aim_valid = true;
    }
    f->engaged = true;
}

int tp_motion_write_demo(const char *path, double rate_hz, char *err, size_t errlen)
{
    if (!(rate_hz >= 1 && rate_hz <= 2000)) {
        snprintf(err, errlen, "motion rate %g Hz is out of range [1, 2000]", rate_hz);
        return -1;
    }
    FILE *out = tp_output_open(path, err, errlen); /* the file mode policy of output_file.h */
    if (!out)
        return -1;
    char name[64];
    fputs("t_s", out);
    for (int i = 0; i < TP_OPERATOR_DIMS; i++) {
        tp_operator_dim_name((size_t)i, name, sizeof name);
        fprintf(out, ",%s", name);
    }
    fputc('\n', out);
    long frames = lround(DEMO_SECONDS * rate_hz);
    float row[TP_OPERATOR_DIMS];
    tp_operator_frame f;
    for (long k = 0; k <= frames; k++) {
        double t = (double)k / rate_hz;
        demo_frame(t, &f);
        tp_operator_pack(&f, row);
        fprintf(out, "%.6f", t);
        for (int i = 0; i < TP_OPERATOR_DIMS; i++)
            fprintf(out, ",%.9g", (double)row[i]);
        fputc('\n', out);
    }
    if (fclose(out) != 0) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
