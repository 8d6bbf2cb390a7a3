/* teleop xr-replay — what is played back: the operator motion (episode or
 * CSV), the script, and the emulated controllers' interaction profiles. */
#include "rt.h"

#include "teleop/episode.h"
#include "teleop/file.h"
#include "teleop/paths.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define L 1u
#define R 2u
#define B 3u

#define BOOL_IN(p, s, c, lbl) {p, RK_BOOL, s, c, RC_NONE, false, RPS_NONE, lbl}
#define THRESH_IN(p, s, c, lbl) {p, RK_BOOL, s, c, RC_NONE, true, RPS_NONE, lbl}
#define FLOAT_IN(p, s, c, lbl) {p, RK_FLOAT, s, c, RC_NONE, false, RPS_NONE, lbl}
#define VEC2_IN(p, s, cx, cy, lbl) {p, RK_VEC2, s, cx, cy, false, RPS_NONE, lbl}
#define POSE_IN(p, src, lbl) {p, RK_POSE, B, RC_NONE, RC_NONE, false, src, lbl}
#define HAPTIC_OUT {"output/haptic", RK_HAPTIC, B, RC_NONE, RC_NONE, false, RPS_NONE, "Haptic"}
#define POSES POSE_IN("input/grip/pose", RPS_GRIP, "Grip Pose"), POSE_IN("input/aim/pose", RPS_AIM, "Aim Pose")

static const rt_input simple_inputs[] = {
    THRESH_IN("input/select/click", B, RC_TRIGGER, "Select"),
    BOOL_IN("input/menu/click", B, RC_MENU, "Menu"),
    POSES,
    HAPTIC_OUT,
};

#define STICK(cx, cy, click, touch, name, lbl)                                                            \
    VEC2_IN("input/" name, B, cx, cy, lbl), FLOAT_IN("input/" name "/x", B, cx, lbl " X"),                \
        FLOAT_IN("input/" name "/y", B, cy, lbl " Y"), BOOL_IN("input/" name "/click", B, click, lbl " Click"), \
        BOOL_IN("input/" name "/touch", B, touch, lbl " Touch")

static const rt_input touch_inputs[] = {
    BOOL_IN("input/x/click", L, RC_A, "X Button"),
    BOOL_IN("input/x/touch", L, RC_A_TOUCH, "X Button Touch"),
    BOOL_IN("input/y/click", L, RC_B, "Y Button"),
    BOOL_IN("input/y/touch", L, RC_B_TOUCH, "Y Button Touch"),
    BOOL_IN("input/menu/click", L, RC_MENU, "Menu"),
    BOOL_IN("input/a/click", R, RC_A, "A Button"),
    BOOL_IN("input/a/touch", R, RC_A_TOUCH, "A Button Touch"),
    BOOL_IN("input/b/click", R, RC_B, "B Button"),
    BOOL_IN("input/b/touch", R, RC_B_TOUCH, "B Button Touch"),
    BOOL_IN("input/system/click", R, RC_SYSTEM, "System"),
    FLOAT_IN("input/squeeze/value", B, RC_SQUEEZE, "Squeeze"),
    FLOAT_IN("input/trigger/value", B, RC_TRIGGER, "Trigger"),
    BOOL_IN("input/trigger/touch", B, RC_TRIGGER_TOUCH, "Trigger Touch"),
    STICK(RC_STICK_X, RC_STICK_Y, RC_STICK_CLICK, RC_STICK_TOUCH, "thumbstick", "Thumbstick"),
    BOOL_IN("input/thumbrest/touch", B, RC_THUMBREST_TOUCH, "Thumbrest Touch"),
    POSES,
    HAPTIC_OUT,
};

static const rt_input index_inputs[] = {
    BOOL_IN("input/system/click", B, RC_SYSTEM, "System"),
    BOOL_IN("input/system/touch", B, RC_SYSTEM_TOUCH, "System Touch"),
    BOOL_IN("input/a/click", B, RC_A, "A Button"),
    BOOL_IN("input/a/touch", B, RC_A_TOUCH, "A Button Touch"),
    BOOL_IN("input/b/click", B, RC_B, "B Button"),
    BOOL_IN("input/b/touch", B, RC_B_TOUCH, "B Button Touch"),
    FLOAT_IN("input/squeeze/value", B, RC_SQUEEZE, "Squeeze"),
    FLOAT_IN("input/squeeze/force", B, RC_SQUEEZE_FORCE, "Squeeze Force"),
    THRESH_IN("input/trigger/click", B, RC_TRIGGER, "Trigger Click"),
    FLOAT_IN("input/trigger/value", B, RC_TRIGGER, "Trigger"),
    BOOL_IN("input/trigger/touch", B, RC_TRIGGER_TOUCH, "Trigger Touch"),
    STICK(RC_STICK_X, RC_STICK_Y, RC_STICK_CLICK, RC_STICK_TOUCH, "thumbstick", "Thumbstick"),
    VEC2_IN("input/trackpad", B, RC_TRACKPAD_X, RC_TRACKPAD_Y, "Trackpad"),
    FLOAT_IN("input/trackpad/x", B, RC_TRACKPAD_X, "Trackpad X"),
    FLOAT_IN("input/trackpad/y", B, RC_TRACKPAD_Y, "Trackpad Y"),
    FLOAT_IN("input/trackpad/force", B, RC_TRACKPAD_FORCE, "Trackpad Force"),
    BOOL_IN("input/trackpad/touch", B, RC_TRACKPAD_TOUCH, "Trackpad Touch"),
    POSES,
    HAPTIC_OUT,
};

/* The emulated controller has a thumbstick; on a Vive profile it drives the
 * trackpad. */
static const rt_input vive_inputs[] = {
    BOOL_IN("input/system/click", B, RC_SYSTEM, "System"),
    THRESH_IN("input/squeeze/click", B, RC_SQUEEZE, "Squeeze"),
    BOOL_IN("input/menu/click", B, RC_MENU, "Menu"),
    THRESH_IN("input/trigger/click", B, RC_TRIGGER, "Trigger Click"),
    FLOAT_IN("input/trigger/value", B, RC_TRIGGER, "Trigger"),
    STICK(RC_STICK_X, RC_STICK_Y, RC_STICK_CLICK, RC_STICK_TOUCH, "trackpad", "Trackpad"),
    POSES,
    HAPTIC_OUT,
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
static const rt_profile_desc profiles[RP_COUNT] = {
    {"/interaction_profiles/khr/simple_controller", "Simple Controller", simple_inputs, COUNT(simple_inputs)},
    {"/interaction_profiles/oculus/touch_controller", "Oculus Touch Controller", touch_inputs, COUNT(touch_inputs)},
    {"/interaction_profiles/valve/index_controller", "Valve Index Controller", index_inputs, COUNT(index_inputs)},
    {"/interaction_profiles/htc/vive_controller", "HTC Vive Controller", vive_inputs, COUNT(vive_inputs)},
};

const rt_profile_desc *rt_profile_get(int profile)
{
    return profile >= 0 && profile < RP_COUNT ? &profiles[profile] : NULL;
}

int rt_profile_find(const char *path)
{
    for (int i = 0; i < RP_COUNT; i++)
        if (strcmp(profiles[i].path, path) == 0)
            return i;
    return RP_NONE;
}

const rt_input *rt_profile_input(int profile, int side, const char *rel)
{
    const rt_profile_desc *p = rt_profile_get(profile);
    if (!p)
        return NULL;
    for (size_t i = 0; i < p->input_count; i++)
        if ((p->inputs[i].sides & (1u << side)) && strcmp(p->inputs[i].path, rel) == 0)
            return &p->inputs[i];
    return NULL;
}

/* ---- script ---- */

static const char *const tracking_targets[3] = {"head", "left_hand", "right_hand"};

static int parse_float(const char *tok, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(tok, &end);
    if (end == tok || *end || !isfinite(v))
        return -1;
    *out = (float)v;
    return 0;
}

static int parse_line(char *line, rt_script_event *ev, int *profile, const char *path, int lineno, char *err,
                      size_t errlen)
{
    char *save, *tok[5];
    int n = 0;
    for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (n == 5) {
            snprintf(err, errlen, "%s:%d: too many words", path, lineno);
            return -1;
        }
        tok[n++] = t;
    }
    char *end;
    ev->t = strtod(tok[0], &end);
    if (end == tok[0] || *end || !isfinite(ev->t) || ev->t < 0) {
        snprintf(err, errlen, "%s:%d: '%s' is not a time in seconds (>= 0)", path, lineno, tok[0]);
        return -1;
    }
    if (n < 2) {
        snprintf(err, errlen, "%s:%d: a command must follow the time", path, lineno);
        return -1;
    }
    const char *cmd = tok[1];
    int want = 2;
    if (strncmp(cmd, "/user/hand/left/", 16) == 0 || strncmp(cmd, "/user/hand/right/", 17) == 0) {
        ev->side = cmd[11] == 'l' ? 0 : 1;
        const char *rel = cmd + (ev->side == 0 ? 16 : 17);
        const rt_input *in = rt_profile_input(*profile, ev->side, rel);
        if (!in) {
            snprintf(err, errlen, "%s:%d: %s is not an input of %s", path, lineno, cmd, profiles[*profile].path);
            return -1;
        }
        if (in->kind == RK_POSE || in->kind == RK_HAPTIC) {
            snprintf(err, errlen, "%s:%d: %s is a %s, not a value a script can set", path, lineno, cmd,
                     in->kind == RK_POSE ? "pose" : "haptic output");
            return -1;
        }
        want = in->kind == RK_VEC2 ? 4 : 3;
        if (n != want) {
            snprintf(err, errlen, "%s:%d: %s takes %s", path, lineno, cmd,
                     in->kind == RK_VEC2 ? "two values (x y)" : "one value");
            return -1;
        }
        float v[2] = {0, 0};
        for (int i = 0; i < want - 2; i++) {
            if (parse_float(tok[2 + i], &v[i]) || v[i] < -1.0f || v[i] > 1.0f) {
                snprintf(err, errlen, "%s:%d: '%s' is not a value in [-1, 1]", path, lineno, tok[2 + i]);
                return -1;
            }
        }
        if (in->kind == RK_BOOL && v[0] != 0.0f && v[0] != 1.0f) {
            snprintf(err, errlen, "%s:%d: %s is a button: 0 or 1, not '%s'", path, lineno, cmd, tok[2]);
            return -1;
        }
        if (in->kind == RK_FLOAT && v[0] < 0.0f && in->control != RC_STICK_X && in->control != RC_STICK_Y &&
            in->control != RC_TRACKPAD_X && in->control != RC_TRACKPAD_Y) {
            snprintf(err, errlen, "%s:%d: %s takes a value in [0, 1], not '%s'", path, lineno, cmd, tok[2]);
            return -1;
        }
        ev->kind = in->kind == RK_VEC2 ? RS_CONTROL2 : RS_CONTROL;
        ev->control = in->control;
        ev->control_y = in->control_y;
        ev->value = v[0];
        ev->value_y = v[1];
        return 0;
    }
    if (strcmp(cmd, "profile") == 0) {
        want = 3;
        if (n == 3)
            ev->profile = rt_profile_find(tok[2]);
        if (n != 3 || ev->profile == RP_NONE) {
            snprintf(err, errlen,
                     "%s:%d: profile takes one of /interaction_profiles/khr/simple_controller, "
                     "oculus/touch_controller, valve/index_controller, htc/vive_controller",
                     path, lineno);
            return -1;
        }
        ev->kind = RS_PROFILE;
        *profile = ev->profile;
        return 0;
    }
    if (strcmp(cmd, "tracking") == 0) {
        ev->target = -1;
        for (int i = 0; n == 4 && i < 3; i++)
            if (strcmp(tok[2], tracking_targets[i]) == 0)
                ev->target = i;
        if (ev->target < 0 || (strcmp(tok[3], "lost") != 0 && strcmp(tok[3], "found") != 0)) {
            snprintf(err, errlen, "%s:%d: expected 'tracking head|left_hand|right_hand lost|found'", path, lineno);
            return -1;
        }
        ev->kind = RS_TRACKING;
        ev->lost = strcmp(tok[3], "lost") == 0;
        return 0;
    }
    if (strcmp(cmd, "exit") == 0)
        ev->kind = RS_EXIT;
    else if (strcmp(cmd, "session_loss") == 0)
        ev->kind = RS_SESSION_LOSS;
    else if (strcmp(cmd, "instance_loss") == 0)
        ev->kind = RS_INSTANCE_LOSS;
    else {
        snprintf(err, errlen,
                 "%s:%d: unknown command '%s' (an input path, profile, tracking, exit, session_loss, instance_loss)",
                 path, lineno, cmd);
        return -1;
    }
    if (n != 2) {
        snprintf(err, errlen, "%s:%d: %s takes no arguments", path, lineno, cmd);
        return -1;
    }
    return 0;
}

int rt_script_parse(const char *path, rt_script_event **events, size_t *count, char *err, size_t errlen)
{
    size_t len;
    char ferr[512];
    char *buf = tp_read_file(path, &len, ferr, sizeof ferr);
    *events = NULL;
    *count = 0;
    if (!buf) {
        snprintf(err, errlen, "TELEOP_XR_REPLAY_SCRIPT: %s", ferr);
        return -1;
    }
    size_t cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += buf[i] == '\n';
    rt_script_event *ev = calloc(cap, sizeof *ev);
    if (!ev) {
        free(buf);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    size_t n = 0;
    int lineno = 0, profile = RP_TOUCH;
    char *next;
    for (char *line = buf; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        for (char *p = line; *p; p++)
            if (*p == '\r')
                *p = ' ';
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            continue;
        if (parse_line(p, &ev[n], &profile, path, lineno, err, errlen)) {
            free(ev);
            free(buf);
            return -1;
        }
        if (n && ev[n].t < ev[n - 1].t) {
            snprintf(err, errlen, "%s:%d: time %g is before the previous command's %g (times must not decrease)",
                     path, lineno, ev[n].t, ev[n - 1].t);
            free(ev);
            free(buf);
            return -1;
        }
        n++;
    }
    free(buf);
    *events = ev;
    *count = n;
    return 0;
}

/* ---- motion ---- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static tp_motion *load_episode(const char *path, char *err, size_t errlen)
{
    char eerr[512];
    tp_episode *ep = tp_episode_open(path, eerr, sizeof eerr);
    if (!ep) {
        snprintf(err, errlen, "TELEOP_XR_REPLAY_SOURCE: %s", eerr);
        return NULL;
    }
    const tp_stream_info *st = tp_episode_find_stream(ep, "operator");
    tp_motion *m = NULL;
    double *t = NULL;
    float *rows = NULL;
    tp_episode_cursor *c = NULL;
    if (!st) {
        snprintf(err, errlen, "%s: no 'operator' stream", path);
        goto done;
    }
    if (st->dims != TP_OPERATOR_DIMS) {
        snprintf(err, errlen, "%s: stream 'operator' has %d dims, expected %d", path, st->dims, TP_OPERATOR_DIMS);
        goto done;
    }
    if (st->count < 1) {
        snprintf(err, errlen, "%s: stream 'operator' has no samples", path);
        goto done;
    }
    size_t cap = (size_t)st->count, n = 0;
    t = malloc(cap * sizeof *t);
    rows = malloc(cap * TP_OPERATOR_DIMS * sizeof *rows);
    c = tp_episode_cursor_open(ep, st->id);
    if (!t || !rows || !c) {
        snprintf(err, errlen, "%s: cannot read stream 'operator'", path);
        goto done;
    }
    tp_episode_row row;
    int r;
    int64_t t_first = 0;
    while ((r = tp_episode_cursor_next(c, &row)) == 1) {
        if (n == cap) {
            snprintf(err, errlen, "%s: stream 'operator' has more rows than its count", path);
            goto done;
        }
        if (n == 0)
            t_first = row.t_ns;
        t[n] = (double)(row.t_ns - t_first) * 1e-9;
        memcpy(rows + n * TP_OPERATOR_DIMS, row.samples, TP_OPERATOR_DIMS * sizeof *rows);
        n++;
    }
    if (r < 0) {
        snprintf(err, errlen, "%s: error reading stream 'operator'", path);
        goto done;
    }
    char what[600];
    snprintf(what, sizeof what, "%s: stream 'operator'", path);
    m = tp_motion_from_rows(t, rows, n, what, err, errlen);
done:
    if (c)
        tp_episode_cursor_close(c);
    free(t);
    free(rows);
    tp_episode_close(ep);
    return m;
}

int rt_source_load(rt_source *src, char *err, size_t errlen)
{
    memset(src, 0, sizeof *src);
    const char *path = getenv("TELEOP_XR_REPLAY_SOURCE");
    char found[4096];
    if (!path || !*path) {
        char ferr[1024];
        if (tp_find_data("motions/demo_motion.csv", found, sizeof found, ferr, sizeof ferr) != 0 &&
            tp_find_data("src/tools/demo_motion.csv", found, sizeof found, ferr, sizeof ferr) != 0) {
            snprintf(err, errlen, "no TELEOP_XR_REPLAY_SOURCE and the demo motion is missing: %s", ferr);
            return -1;
        }
        path = found;
    }
    char merr[1024];
    if (ends_with(path, ".csv")) {
        src->motion = tp_motion_load(path, merr, sizeof merr);
        if (!src->motion) {
            snprintf(err, errlen, "TELEOP_XR_REPLAY_SOURCE: %s", merr);
            return -1;
        }
    } else {
        src->motion = load_episode(path, err, errlen);
        if (!src->motion)
            return -1;
    }
    snprintf(src->description, sizeof src->description, "%s", path);
    const char *loop = getenv("TELEOP_XR_REPLAY_LOOP");
    if (loop && *loop) {
        if (strcmp(loop, "0") != 0 && strcmp(loop, "1") != 0) {
            snprintf(err, errlen, "TELEOP_XR_REPLAY_LOOP: '%s' is not 0 or 1", loop);
            rt_source_free(src);
            return -1;
        }
        src->loop = loop[0] == '1';
    }
    const char *script = getenv("TELEOP_XR_REPLAY_SCRIPT");
    if (script && *script && rt_script_parse(script, &src->events, &src->event_count, err, errlen)) {
        rt_source_free(src);
        return -1;
    }
    /* LOCAL: at the head of the first frame, turned by its yaw only. */
    tp_operator_frame f0;
    memset(&f0, 0, sizeof f0);
    tp_motion_sample(src->motion, 0.0, false, &f0);
    if (f0.head_valid) {
        tp_vec3 fwd = tp_quat_rotate(tp_quat_normalize(f0.head.q), tp_v3(0, 0, -1));
        double yaw = (fabs(fwd.x) + fabs(fwd.z) > 1e-9) ? atan2(-fwd.x, -fwd.z) : 0.0;
        src->local_in_stage = (tp_pose){f0.head.p, tp_quat_from_axis_angle(tp_v3(0, 1, 0), yaw)};
    } else {
        src->local_in_stage = (tp_pose){tp_v3(0, 1.6, 0), tp_quat_identity()};
    }
    return 0;
}

void rt_source_free(rt_source *src)
{
    tp_motion_free(src->motion);
    free(src->events);
    memset(src, 0, sizeof *src);
}

double rt_source_duration(const rt_source *src) { return tp_motion_duration(src->motion); }

static void sample_uncached(const rt_source *src, double s, rt_sample *out);

void rt_source_sample(rt_source *src, double s, rt_sample *out)
{
    if (!(s > 0))
        s = 0;
    for (int i = 0; i < 4; i++) {
        if (src->cache_valid[i] && src->cache_s[i] == s) {
            *out = src->cache[i];
            return;
        }
    }
    sample_uncached(src, s, out);
    unsigned k = src->cache_next++ % 4;
    src->cache[k] = *out;
    src->cache_s[k] = s;
    src->cache_valid[k] = true;
}

static void sample_uncached(const rt_source *src, double s, rt_sample *out)
{
    out->frame.t_ns = 0;
    tp_motion_sample(src->motion, s, src->loop, &out->frame);
    for (int side = 0; side < 2; side++) {
        const tp_controller_frame *c = &out->frame.ctrl[side];
        float *v = out->control[side];
        bool stick_moved = c->stick[0] != 0.0f || c->stick[1] != 0.0f;
        memset(v, 0, sizeof out->control[side]);
        v[RC_SQUEEZE] = c->squeeze;
        v[RC_SQUEEZE_FORCE] = c->squeeze;
        v[RC_TRIGGER] = c->trigger;
        v[RC_TRIGGER_TOUCH] = c->trigger > 0.0f;
        v[RC_STICK_X] = c->stick[0];
        v[RC_STICK_Y] = c->stick[1];
        v[RC_STICK_CLICK] = (c->buttons & TP_BTN_STICK) != 0;
        v[RC_STICK_TOUCH] = (c->buttons & TP_BTN_STICK) || stick_moved;
        v[RC_A] = v[RC_A_TOUCH] = (c->buttons & TP_BTN_A) != 0;
        v[RC_B] = v[RC_B_TOUCH] = (c->buttons & TP_BTN_B) != 0;
        v[RC_MENU] = (c->buttons & TP_BTN_MENU) != 0;
        for (int i = 0; i < RC_COUNT; i++)
            out->control_since[side][i] = -1;
    }
    memset(out->tracking_lost, 0, sizeof out->tracking_lost);
    out->profile = RP_TOUCH;
    for (size_t i = 0; i < src->event_count && src->events[i].t <= s; i++) {
        const rt_script_event *e = &src->events[i];
        switch (e->kind) {
        case RS_CONTROL2:
            out->control[e->side][e->control_y] = e->value_y;
            out->control_since[e->side][e->control_y] = e->t;
            /* fall through */
        case RS_CONTROL:
            out->control[e->side][e->control] = e->value;
            out->control_since[e->side][e->control] = e->t;
            break;
        case RS_PROFILE:
            out->profile = e->profile;
            break;
        case RS_TRACKING:
            out->tracking_lost[e->target] = e->lost;
            break;
        default:
            break;
        }
    }
}
