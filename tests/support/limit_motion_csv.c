/* Test support: writes the limit-reaching operator motion (limit_motion.h)
 * as a motion CSV (docs/motion-format.md) for the replay runtime to play, so
 * a whole `teleop run` session drives the left arm into its limits and past
 * the workspace edge. Added, as a headset reports them (the retargeting uses
 * neither): the head, tracked and still at the operator's neutral head
 * position (the calibration's anchor), and the controllers held in the
 * hands, grips squeezed (the clutch), as in the demo motion, so scripted
 * button presses (the emergency) count.
 * Usage: limit-motion-csv [--rate HZ] OUT.csv */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limit_motion.h"
#include "teleop/output_file.h"
#include "teleop/retarget.h"

int main(int argc, char **argv)
{
    double rate = 90;
    int a = 1;
    if (argc == 4 && !strcmp(argv[1], "--rate")) {
        rate = atof(argv[2]);
        a = 3;
    }
    if (a != argc - 1 || !(rate >= 1 && rate <= 2000)) {
        fprintf(stderr, "usage: limit-motion-csv [--rate HZ] OUT.csv\n");
        return 2;
    }
    char err[512];
    FILE *out = tp_output_open(argv[a], err, sizeof err);
    if (!out) {
        fprintf(stderr, "limit-motion-csv: %s\n", err);
        return 1;
    }
    tp_calibration cal;
    tp_calibration_default(&cal);
    char name[64];
    fputs("t_s", out);
    for (int i = 0; i < TP_OPERATOR_DIMS; i++) {
        tp_operator_dim_name((size_t)i, name, sizeof name);
        fprintf(out, ",%s", name);
    }
    fputc('\n', out);
    const double seconds = (double)(LIMIT_MOTION_TICKS * LIMIT_MOTION_TICK_NS) / 1e9;
    float row[TP_OPERATOR_DIMS];
    tp_operator_frame f;
    for (long k = 0; (double)k / rate <= seconds; k++) {
        double t = (double)k / rate;
        limit_motion_frame(LIMIT_MOTION_T0_NS + (int64_t)(t * 1e9 + 0.5), &f);
        f.head = (tp_pose){cal.xr_anchor, tp_quat_identity()};
        f.head_valid = true;
        for (int side = 0; side < 2; side++) {
            tp_controller_frame *c = &f.ctrl[side];
            c->active = true;
            c->squeeze = 1.0f;
            c->grip = c->aim = f.hand[side].joints[TP_HJ_PALM].pose;
            c->grip_valid = c->aim_valid = true;
        }
        tp_operator_pack(&f, row);
        fprintf(out, "%.6f", t);
        for (int i = 0; i < TP_OPERATOR_DIMS; i++)
            fprintf(out, ",%.9g", (double)row[i]);
        fputc('\n', out);
    }
    if (fclose(out) != 0) {
        fprintf(stderr, "limit-motion-csv: %s: write failed\n", argv[a]);
        return 1;
    }
    return 0;
}
