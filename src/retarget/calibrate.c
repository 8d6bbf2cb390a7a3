/* teleop — measuring operator calibration; calibration files. */
#include "teleop/calibration.h"
#include "teleop/output_file.h"
#include "teleop/text.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tp_operator_calibration_default(tp_operator_calibration *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->id, sizeof out->id, "default");
    tp_calibration_default(&out->calibration);
    out->hand_length = 0.19;
}

double tp_robot_reach(const tp_chain *arm, tp_vec3 anchor)
{
    uint64_t s = 0x2545F4914F6CDD1Dull;
    double best = 0, best_q[TP_CHAIN_MAX_JOINTS] = {0}, q[TP_CHAIN_MAX_JOINTS];
    for (int k = 0; k < 20000; k++) {
        for (int i = 0; i < arm->n; i++) {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            double u = (double)((s * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
            q[i] = arm->lower[i] + (arm->upper[i] - arm->lower[i]) * u;
        }
        double d = tp_v3_norm(tp_v3_sub(tp_chain_fk(arm, q).p, anchor));
        if (d > best) {
            best = d;
            memcpy(best_q, q, sizeof q);
        }
    }
    /* Coordinate refinement around the best sample. */
    for (double step = 0.1; step > 1e-4; step *= 0.5)
        for (int i = 0; i < arm->n; i++)
            for (int dir = -1; dir <= 1; dir += 2) {
                memcpy(q, best_q, sizeof q);
                q[i] = fmin(arm->upper[i], fmax(arm->lower[i], q[i] + dir * step));
                double d = tp_v3_norm(tp_v3_sub(tp_chain_fk(arm, q).p, anchor));
                if (d > best) {
                    best = d;
                    memcpy(best_q, q, sizeof q);
                }
            }
    return best;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int tp_calibrate(const tp_operator_frame *f, size_t n, double neutral_s, double robot_reach, tp_vec3 robot_anchor,
                 tp_operator_calibration *out, char *err, size_t errlen)
{
    if (n == 0) {
        snprintf(err, errlen, "calibration: no operator frames");
        return -1;
    }
    const int64_t t0 = f[0].t_ns, window = (int64_t)(neutral_s * 1e9);
    tp_vec3 sum = tp_v3(0, 0, 0);
    size_t heads = 0, hands = 0;
    double reach = 0;
    double *lengths = malloc(sizeof(double) * n * 2);
    if (!lengths) {
        snprintf(err, errlen, "calibration: out of memory");
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        if (!f[k].head_valid || !tp_v3_isfinite(f[k].head.p))
            continue;
        bool neutral = f[k].t_ns - t0 <= window;
        if (neutral) {
            sum = tp_v3_add(sum, f[k].head.p);
            heads++;
        }
        for (int s = 0; s < 2; s++) {
            const tp_hand_frame *h = &f[k].hand[s];
            const tp_hand_joint *w = &h->joints[TP_HJ_WRIST], *tip = &h->joints[TP_HJ_MIDDLE_TIP];
            if (!h->active || !w->valid || !tp_v3_isfinite(w->pose.p))
                continue;
            reach = fmax(reach, tp_v3_norm(tp_v3_sub(w->pose.p, f[k].head.p)));
            if (neutral && tip->valid && tp_v3_isfinite(tip->pose.p))
                lengths[hands++] = tp_v3_norm(tp_v3_sub(tip->pose.p, w->pose.p));
        }
    }
    if (heads == 0) {
        free(lengths);
        snprintf(err, errlen, "calibration: no tracked head pose in the first %.1f s (the neutral pose)", neutral_s);
        return -1;
    }
    if (!(reach > 0.25 && reach < 1.5)) {
        free(lengths);
        snprintf(err, errlen, "calibration: head-to-wrist reach %.3f m is not a human arm's (no hands tracked, or "
                              "the arms were never extended)", reach);
        return -1;
    }
    out->calibration.xr_anchor = tp_v3_scale(sum, 1.0 / (double)heads);
    out->calibration.robot_anchor = robot_anchor;
    out->human_reach = reach;
    out->robot_reach = robot_reach;
    out->calibration.scale = robot_reach / reach;
    if (hands) {
        qsort(lengths, hands, sizeof *lengths, cmp_double);
        out->hand_length = lengths[hands / 2];
    }
    free(lengths);
    return 0;
}

int tp_calibration_from_config(tp_config *cfg, tp_operator_calibration *out, char *err, size_t errlen)
{
    const char *id = out->id, *op = out->operator_name;
    tp_calibration *c = &out->calibration;
#define GET(key, field, lo, hi)                                                                                  \
    if (tp_config_get_double(cfg, "calibration." key, field, lo, hi, &field, err, errlen) != 0)                  \
        return -1;
    if (tp_config_get_string(cfg, "calibration.id", id, &id, err, errlen) ||
        tp_config_get_string(cfg, "calibration.operator", op, &op, err, errlen))
        return -1;
    GET("scale", c->scale, 0.1, 10);
    GET("xr_anchor_x", c->xr_anchor.x, -10, 10);
    GET("xr_anchor_y", c->xr_anchor.y, -10, 10);
    GET("xr_anchor_z", c->xr_anchor.z, -10, 10);
    GET("robot_anchor_x", c->robot_anchor.x, -10, 10);
    GET("robot_anchor_y", c->robot_anchor.y, -10, 10);
    GET("robot_anchor_z", c->robot_anchor.z, -10, 10);
    GET("human_reach", out->human_reach, 0, 5);
    GET("robot_reach", out->robot_reach, 0, 5);
    GET("hand_length", out->hand_length, 0, 1);
#undef GET
    char why[128];
    if (strlen(id) >= sizeof out->id)
        return tp_config_error(cfg, "calibration", "id", err, errlen, "%zu bytes, the limit is %zu", strlen(id),
                               sizeof out->id - 1);
    if (op[0] && tp_name_check(op, TP_OPERATOR_NAME_MAX_BYTES, why, sizeof why) != 0)
        return tp_config_error(cfg, "calibration", "operator", err, errlen, "'%s' is not a name: %s", op, why);
    /* id and op may point into cfg or into out itself. */
    memmove(out->id, id, strlen(id) + 1);
    memmove(out->operator_name, op, strlen(op) + 1);
    return 0;
}

int tp_calibration_load(const char *path, tp_operator_calibration *out, char *err, size_t errlen)
{
    tp_config *cfg = tp_config_load(path, err, errlen);
    if (!cfg)
        return -1;
    int rc = tp_calibration_from_config(cfg, out, err, errlen);
    if (rc == 0)
        rc = tp_config_check_unused(cfg, err, errlen);
    tp_config_free(cfg);
    return rc;
}

int tp_calibration_save(const char *path, const tp_operator_calibration *c, char *err, size_t errlen)
{
    char why[128];
    if (tp_name_check(c->operator_name, TP_OPERATOR_NAME_MAX_BYTES, why, sizeof why) != 0) {
        char esc[200];
        snprintf(err, errlen, "%s: operator '%s' is not a name: %s", path,
                 tp_text_escape(c->operator_name, esc, sizeof esc), why);
        return -1;
    }
    if (tp_text_check(c->id, sizeof c->id - 1, why, sizeof why) != 0 || strchr(c->id, '"')) {
        snprintf(err, errlen, "%s: calibration id: %s", path, why);
        return -1;
    }
    FILE *f = tp_output_open(path, err, errlen); /* the one mode policy: output_file.h */
    if (!f)
        return -1;
    const tp_calibration *k = &c->calibration;
    fprintf(f,
            "# teleop operator calibration (calibration/README.md)\n"
            "[calibration]\n"
            "id = \"%s\"\n"
            "operator = \"%s\"\n"
            "scale = %.9g\n"
            "xr_anchor_x = %.9g\nxr_anchor_y = %.9g\nxr_anchor_z = %.9g\n"
            "robot_anchor_x = %.9g\nrobot_anchor_y = %.9g\nrobot_anchor_z = %.9g\n"
            "human_reach = %.9g\nrobot_reach = %.9g\nhand_length = %.9g\n",
            c->id, c->operator_name, k->scale, k->xr_anchor.x, k->xr_anchor.y, k->xr_anchor.z, k->robot_anchor.x,
            k->robot_anchor.y, k->robot_anchor.z, c->human_reach, c->robot_reach, c->hand_length);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
