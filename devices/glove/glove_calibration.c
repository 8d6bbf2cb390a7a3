/* teleop — glove calibration: raw sensor ranges per glove and operator, and
 * raw values to 0..1 flexions through them; calibration files. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "teleop/config.h"
#include "teleop/glove.h"
#include "teleop/output_file.h"
#include "teleop/text.h"

static const char *const finger_names[TP_GLOVE_FINGERS] = {"thumb", "index", "middle", "ring", "little"};

void tp_glove_default_calibration(tp_glove_calibration *cal, int32_t max_value)
{
    memset(cal, 0, sizeof *cal);
    snprintf(cal->id, sizeof cal->id, "default");
    int32_t max = max_value > 0 ? max_value : 1023;
    for (int f = 0; f < TP_GLOVE_FINGERS; f++) {
        cal->curl_open[f] = 0;
        cal->curl_closed[f] = max;
        for (int j = 0; j < TP_GLOVE_FINGER_JOINTS; j++) {
            cal->joint_open[f][j] = 0;
            cal->joint_closed[f][j] = max;
        }
        cal->splay_together[f] = max / 2;
        cal->splay_spread[f] = max;
    }
}

/* Where v lies from a to b, clamped to 0..1 (either order); 0 when a == b. */
static double unit(int32_t v, int32_t a, int32_t b)
{
    if (a == b)
        return 0.0;
    double x = (double)(v - a) / (double)(b - a);
    return x < 0.0 ? 0.0 : x > 1.0 ? 1.0 : x;
}

void tp_glove_apply_calibration(const tp_glove_calibration *cal, const tp_glove_sample *s, tp_glove_hand *out)
{
    memset(out, 0, sizeof *out);
    double max = s->max_value > 0 ? s->max_value : 1023;
    for (int f = 0; f < TP_GLOVE_FINGERS; f++) {
        out->flex[f] = s->curl[f] >= 0 ? unit(s->curl[f], cal->curl_open[f], cal->curl_closed[f]) : 0.0;
        for (int j = 0; j < TP_GLOVE_FINGER_JOINTS; j++)
            out->joint_flex[f][j] = s->joint_curl[f][j] >= 0
                                        ? unit(s->joint_curl[f][j], cal->joint_open[f][j], cal->joint_closed[f][j])
                                        : out->flex[f];
        out->splay[f] = s->splay[f] >= 0 ? unit(s->splay[f], cal->splay_together[f], cal->splay_spread[f]) : 0.0;
    }
    for (int a = 0; a < 2; a++)
        out->joystick[a] = s->joystick[a] >= 0 ? fmax(-1.0, fmin(1.0, 2.0 * s->joystick[a] / max - 1.0)) : 0.0;
    out->trigger = s->trigger >= 0 ? fmax(0.0, fmin(1.0, s->trigger / max)) : 0.0;
    out->buttons = s->buttons;
}

static int get_value(tp_config *cfg, const char *key, int32_t *v, char *err, size_t errlen)
{
    long x;
    if (tp_config_get_int(cfg, key, *v, 0, 4095, &x, err, errlen) != 0)
        return -1;
    *v = (int32_t)x;
    return 0;
}

int tp_glove_calibration_load(const char *path, tp_glove_calibration *cal, char *err, size_t errlen)
{
    tp_config *cfg = tp_config_load(path, err, errlen);
    if (!cfg)
        return -1;
    tp_glove_default_calibration(cal, 1023);
    int rc = -1;
    const char *id;
    char key[64];
    if (tp_config_get_string(cfg, "glove.id", NULL, &id, err, errlen) != 0)
        goto out;
    if (!id || !id[0]) {
        snprintf(err, errlen, "%s: [glove] id is missing", path);
        goto out;
    }
    char why[128];
    if (tp_text_check(id, sizeof cal->id - 1, why, sizeof why) != 0 || strchr(id, '"')) {
        snprintf(err, errlen, "%s: [glove] id: %s", path, why);
        goto out;
    }
    snprintf(cal->id, sizeof cal->id, "%s", id);
    for (int f = 0; f < TP_GLOVE_FINGERS; f++) {
        const char *n = finger_names[f];
#define GET(fmt, field)                                                                                          \
    do {                                                                                                         \
        snprintf(key, sizeof key, fmt, n);                                                                       \
        if (get_value(cfg, key, &(field), err, errlen) != 0)                                                     \
            goto out;                                                                                            \
    } while (0)
        GET("glove.%s_open", cal->curl_open[f]);
        GET("glove.%s_closed", cal->curl_closed[f]);
        GET("glove.%s_splay_together", cal->splay_together[f]);
        GET("glove.%s_splay_spread", cal->splay_spread[f]);
        for (int j = 0; j < TP_GLOVE_FINGER_JOINTS; j++) {
            snprintf(key, sizeof key, "glove.%s_joint%d_open", n, j);
            if (get_value(cfg, key, &cal->joint_open[f][j], err, errlen) != 0)
                goto out;
            snprintf(key, sizeof key, "glove.%s_joint%d_closed", n, j);
            if (get_value(cfg, key, &cal->joint_closed[f][j], err, errlen) != 0)
                goto out;
        }
#undef GET
    }
    /* Keys of the operator calibration (side, operator, port) are informative. */
    const char *ignored;
    if (tp_config_get_string(cfg, "glove.operator", "", &ignored, err, errlen) != 0 ||
        tp_config_get_string(cfg, "glove.side", "", &ignored, err, errlen) != 0 ||
        tp_config_check_unused(cfg, err, errlen) != 0)
        goto out;
    rc = 0;
out:
    tp_config_free(cfg);
    return rc;
}

int tp_glove_calibration_save(const char *path, const tp_glove_calibration *cal, char *err, size_t errlen)
{
    char why[128];
    if (tp_text_check(cal->id, sizeof cal->id - 1, why, sizeof why) != 0 || strchr(cal->id, '"') || !cal->id[0]) {
        snprintf(err, errlen, "%s: glove calibration id: %s", path, cal->id[0] ? why : "empty");
        return -1;
    }
    FILE *f = tp_output_open(path, err, errlen);
    if (!f)
        return -1;
    fprintf(f, "# teleop glove calibration (calibration/README.md): raw sensor values, open and closed hand\n"
               "[glove]\nid = \"%s\"\n",
            cal->id);
    for (int k = 0; k < TP_GLOVE_FINGERS; k++) {
        const char *n = finger_names[k];
        fprintf(f, "%s_open = %d\n%s_closed = %d\n%s_splay_together = %d\n%s_splay_spread = %d\n", n,
                (int)cal->curl_open[k], n, (int)cal->curl_closed[k], n, (int)cal->splay_together[k], n,
                (int)cal->splay_spread[k]);
        for (int j = 0; j < TP_GLOVE_FINGER_JOINTS; j++)
            fprintf(f, "%s_joint%d_open = %d\n%s_joint%d_closed = %d\n", n, j, (int)cal->joint_open[k][j], n, j,
                    (int)cal->joint_closed[k][j]);
    }
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
