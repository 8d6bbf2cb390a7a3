/* Glove calibration: raw sensor ranges per operator, applying them, and
 * their ini files (section [glove], calibration/README.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "teleop/config.h"
#include "teleop/glove.h"
#include "teleop/output_file.h"
#include "teleop/text.h"

void tp_glove_default_calibration(tp_glove_calibration *cal, int32_t max_value)
{
    if (max_value <= 0)
        max_value = 1023;
    memset(cal, 0, sizeof *cal);
    snprintf(cal->id, sizeof cal->id, "default");
    for (int f = 0; f < TP_GLOVE_FINGERS; f++) {
        cal->curl_open[f] = 0;
        cal->curl_closed[f] = max_value;
        for (int j = 0; j < TP_GLOVE_FINGER_JOINTS; j++) {
            cal->joint_open[f][j] = 0;
            cal->joint_closed[f][j] = max_value;
        }
        cal->splay_together[f] = 0;
        cal->splay_spread[f] = max_value;
    }
}

/* v from a (0) to b (1), clamped; a == b gives 0 (a sensor with no range). */
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
    double half = s->max_value > 0 ? s->max_value / 2.0 : 511.5;
    for (int f = 0; f < TP_GLOVE_FINGERS; f++) {
        out->flex[f] = s->curl[f] >= 0 ? unit(s->curl[f], cal->curl_open[f], cal->curl_closed[f]) : 0.0;
        for (int j = 0; j < TP_GLOVE_FINGER_JOINTS; j++)
            out->joint_flex[f][j] = s->joint_curl[f][j] >= 0
                                        ? unit(s->joint_curl[f][j], cal->joint_open[f][j], cal->joint_closed[f][j])
                                        : out->flex[f];
        out->splay[f] = s->splay[f] >= 0 ? unit(s->splay[f], cal->splay_together[f], cal->splay_spread[f]) : 0.0;
    }
    for (int a = 0; a < 2; a++) {
        if (s->joystick[a] < 0)
            continue;
        double x = (s->joystick[a] - half) / half;
        out->joystick[a] = x < -1.0 ? -1.0 : x > 1.0 ? 1.0 : x;
    }
    out->trigger = s->trigger >= 0 && s->max_value > 0 ? unit(s->trigger, 0, s->max_value) : 0.0;
    out->buttons = s->buttons;
}

static const char finger_names[TP_GLOVE_FINGERS][8] = {"thumb", "index", "middle", "ring", "little"};

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
    tp_glove_calibration c;
    tp_glove_default_calibration(&c, 1023);
    int rc = 0;
    const char *id = NULL;
    if (tp_config_get_string(cfg, "glove.id", NULL, &id, err, errlen) != 0)
        rc = -1;
    else if (!id) {
        snprintf(err, errlen, "%s: [glove] id: missing", path);
        rc = -1;
    } else if (strlen(id) >= sizeof c.id) {
        snprintf(err, errlen, "%s: [glove] id: longer than %zu bytes", path, sizeof c.id - 1);
        rc = -1;
    } else {
        snprintf(c.id, sizeof c.id, "%s", id);
    }
    char key[64];
    for (int f = 0; f < TP_GLOVE_FINGERS && rc == 0; f++) {
        const char *n = finger_names[f];
#define KEY(fmt, dst)                                                                                              \
    do {                                                                                                           \
        snprintf(key, sizeof key, "glove." fmt, n);                                                                \
        if (rc == 0 && get_value(cfg, key, dst, err, errlen) != 0)                                                 \
            rc = -1;                                                                                               \
    } while (0)
        KEY("%s_open", &c.curl_open[f]);
        KEY("%s_closed", &c.curl_closed[f]);
        KEY("%s_splay_together", &c.splay_together[f]);
        KEY("%s_splay_spread", &c.splay_spread[f]);
#undef KEY
        for (int j = 0; j < TP_GLOVE_FINGER_JOINTS && rc == 0; j++) {
            snprintf(key, sizeof key, "glove.%s_joint%d_open", n, j);
            if (get_value(cfg, key, &c.joint_open[f][j], err, errlen) != 0)
                rc = -1;
            snprintf(key, sizeof key, "glove.%s_joint%d_closed", n, j);
            if (rc == 0 && get_value(cfg, key, &c.joint_closed[f][j], err, errlen) != 0)
                rc = -1;
        }
    }
    if (rc == 0)
        rc = tp_config_check_unused(cfg, err, errlen);
    tp_config_free(cfg);
    if (rc == 0)
        *cal = c;
    return rc;
}

int tp_glove_calibration_save(const char *path, const tp_glove_calibration *c, char *err, size_t errlen)
{
    char why[128];
    if (tp_text_check(c->id, sizeof c->id - 1, why, sizeof why) != 0 || strchr(c->id, '"') || !c->id[0]) {
        snprintf(err, errlen, "%s: glove calibration id: %s", path, c->id[0] ? why : "empty");
        return -1;
    }
    FILE *f = tp_output_open(path, err, errlen);
    if (!f)
        return -1;
    fprintf(f, "# teleop glove calibration: raw sensor values (calibration/README.md)\n[glove]\nid = \"%s\"\n", c->id);
    for (int k = 0; k < TP_GLOVE_FINGERS; k++) {
        const char *n = finger_names[k];
        fprintf(f, "%s_open = %d\n%s_closed = %d\n%s_splay_together = %d\n%s_splay_spread = %d\n", n,
                (int)c->curl_open[k], n, (int)c->curl_closed[k], n, (int)c->splay_together[k], n,
                (int)c->splay_spread[k]);
        for (int j = 0; j < TP_GLOVE_FINGER_JOINTS; j++)
            fprintf(f, "%s_joint%d_open = %d\n%s_joint%d_closed = %d\n", n, j, (int)c->joint_open[k][j], n, j,
                    (int)c->joint_closed[k][j]);
    }
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
