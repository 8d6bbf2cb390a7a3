/* teleop — operator motion files (CSV) and sampling with interpolation. */
#include "teleop/motion.h"

#include "teleop/file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tp_motion {
    size_t count;
    double *t;    /* count */
    float *rows;  /* count * TP_OPERATOR_DIMS */
};

void tp_motion_free(tp_motion *m)
{
    if (!m)
        return;
    free(m->t);
    free(m->rows);
    free(m);
}

size_t tp_motion_frame_count(const tp_motion *m) { return m->count; }
double tp_motion_duration(const tp_motion *m) { return m->count ? m->t[m->count - 1] - m->t[0] : 0.0; }

tp_motion *tp_motion_from_rows(const double *t_s, const float *rows, size_t count, const char *what, char *err,
                               size_t errlen)
{
    if (count < 1) {
        snprintf(err, errlen, "%s: no frames", what);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(t_s[i]) || (i && !(t_s[i] > t_s[i - 1]))) {
            snprintf(err, errlen, "%s: row %zu: t %g does not increase (previous %g)", what, i, t_s[i],
                     i ? t_s[i - 1] : 0.0);
            return NULL;
        }
        for (int d = 0; d < TP_OPERATOR_DIMS; d++) {
            if (!isfinite(rows[i * TP_OPERATOR_DIMS + d])) {
                char name[64];
                tp_operator_dim_name((size_t)d, name, sizeof name);
                snprintf(err, errlen, "%s: row %zu: %s is not a finite number", what, i, name);
                return NULL;
            }
        }
    }
    tp_motion *m = calloc(1, sizeof *m);
    if (!m || !(m->t = malloc(count * sizeof *m->t)) ||
        !(m->rows = malloc(count * TP_OPERATOR_DIMS * sizeof *m->rows))) {
        snprintf(err, errlen, "%s: out of memory", what);
        tp_motion_free(m);
        return NULL;
    }
    memcpy(m->t, t_s, count * sizeof *m->t);
    memcpy(m->rows, rows, count * TP_OPERATOR_DIMS * sizeof *m->rows);
    m->count = count;
    return m;
}

tp_motion *tp_motion_load(const char *path, char *err, size_t errlen)
{
    size_t len;
    char *buf = tp_read_file(path, &len, err, errlen);
    if (!buf)
        return NULL;
    tp_motion *m = calloc(1, sizeof *m);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    size_t cap = lines + 1;
    if (!m || !(m->t = malloc(cap * sizeof *m->t)) ||
        !(m->rows = malloc(cap * TP_OPERATOR_DIMS * sizeof *m->rows))) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    char *line = buf, *next;
    int lineno = 0;
    char name[64];
    for (; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r')
            line[--ll] = '\0';
        if (lineno == 1) {
            /* Header: t_s then the operator-stream names, in order. */
            char *tok = strtok(line, ",");
            if (!tok || strcmp(tok, "t_s") != 0) {
                snprintf(err, errlen, "%s:1: header must start with 't_s'", path);
                goto fail;
            }
            for (int i = 0; i < TP_OPERATOR_DIMS; i++) {
                tok = strtok(NULL, ",");
                tp_operator_dim_name((size_t)i, name, sizeof name);
                if (!tok || strcmp(tok, name) != 0) {
                    snprintf(err, errlen, "%s:1: column %d is '%s', expected '%s'", path, i + 2, tok ? tok : "",
                             name);
                    goto fail;
                }
            }
            if (strtok(NULL, ",")) {
                snprintf(err, errlen, "%s:1: more than %d columns", path, TP_OPERATOR_DIMS + 1);
                goto fail;
            }
            continue;
        }
        if (ll == 0)
            continue;
        char *p = line, *end;
        errno = 0;
        double t = strtod(p, &end);
        if (end == p || !isfinite(t) || (*end != ',' && *end != '\0')) {
            snprintf(err, errlen, "%s:%d: column 1 (t_s): not a number", path, lineno);
            goto fail;
        }
        if (m->count && !(t > m->t[m->count - 1])) {
            snprintf(err, errlen, "%s:%d: t_s %g does not increase (previous %g)", path, lineno, t,
                     m->t[m->count - 1]);
            goto fail;
        }
        float *row = m->rows + m->count * TP_OPERATOR_DIMS;
        p = end;
        for (int i = 0; i < TP_OPERATOR_DIMS; i++) {
            if (*p != ',') {
                snprintf(err, errlen, "%s:%d: %d columns, expected %d", path, lineno, i + 1, TP_OPERATOR_DIMS + 1);
                goto fail;
            }
            p++;
            double v = strtod(p, &end);
            if (end == p || !isfinite(v) || (*end != ',' && *end != '\0')) {
                tp_operator_dim_name((size_t)i, name, sizeof name);
                snprintf(err, errlen, "%s:%d: column %d (%s): not a number", path, lineno, i + 2, name);
                goto fail;
            }
            row[i] = (float)v;
            p = end;
        }
        if (*p != '\0') {
            snprintf(err, errlen, "%s:%d: more than %d columns", path, lineno, TP_OPERATOR_DIMS + 1);
            goto fail;
        }
        m->t[m->count++] = t;
    }
    if (lineno == 0) {
        snprintf(err, errlen, "%s: empty file", path);
        goto fail;
    }
    if (m->count < 1) {
        snprintf(err, errlen, "%s: no frames", path);
        goto fail;
    }
    free(buf);
    return m;
fail:
    free(buf);
    tp_motion_free(m);
    return NULL;
}

static tp_pose lerp_pose(tp_pose a, tp_pose b, double u)
{
    return (tp_pose){tp_v3_lerp(a.p, b.p, u), tp_quat_slerp(tp_quat_normalize(a.q), tp_quat_normalize(b.q), u)};
}

void tp_motion_sample(const tp_motion *m, double t, bool loop, tp_operator_frame *out)
{
    double t0 = m->t[0], dur = tp_motion_duration(m);
    double tt = t0 + t;
    if (loop && dur > 0) {
        tt = t0 + fmod(t, dur);
        if (tt < t0)
            tt += dur;
    }
    size_t i;
    if (tt <= m->t[0]) {
        i = 0;
    } else if (tt >= m->t[m->count - 1]) {
        i = m->count - 1;
    } else {
        size_t lo = 0, hi = m->count - 1; /* t[lo] <= tt < t[hi] */
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (m->t[mid] <= tt)
                lo = mid;
            else
                hi = mid;
        }
        i = lo;
    }
    int64_t keep_t = out->t_ns;
    tp_operator_unpack(m->rows + i * TP_OPERATOR_DIMS, keep_t, out);
    if (i + 1 >= m->count || tt <= m->t[i])
        return;
    double u = (tt - m->t[i]) / (m->t[i + 1] - m->t[i]);
    tp_operator_frame b;
    tp_operator_unpack(m->rows + (i + 1) * TP_OPERATOR_DIMS, keep_t, &b);
    /* Poses and analog values blend; flags and buttons come from the
     * earlier frame. */
    out->head = lerp_pose(out->head, b.head, u);
    for (int s = 0; s < 2; s++) {
        for (int j = 0; j < TP_HAND_JOINT_COUNT; j++) {
            tp_hand_joint *ja = &out->hand[s].joints[j];
            ja->pose = lerp_pose(ja->pose, b.hand[s].joints[j].pose, u);
            ja->radius = (float)(ja->radius + u * (b.hand[s].joints[j].radius - ja->radius));
        }
        tp_controller_frame *c = &out->ctrl[s];
        c->trigger = (float)(c->trigger + u * (b.ctrl[s].trigger - c->trigger));
        c->squeeze = (float)(c->squeeze + u * (b.ctrl[s].squeeze - c->squeeze));
        c->stick[0] = (float)(c->stick[0] + u * (b.ctrl[s].stick[0] - c->stick[0]));
        c->stick[1] = (float)(c->stick[1] + u * (b.ctrl[s].stick[1] - c->stick[1]));
        c->grip = lerp_pose(c->grip, b.ctrl[s].grip, u);
        c->aim = lerp_pose(c->aim, b.ctrl[s].aim, u);
    }
}
