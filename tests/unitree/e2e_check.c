/* e2e_check: the follow test's wrist criterion (tests/station/test_follow.c)
 * judged on a recorded episode, whatever robot link recorded it.
 *
 * For every state row at least 2 s after the episode's start (the soft
 * start) and not between a disengage (a hold: input stale, a real robot's
 * state stale) and min(2 s, twice its length + 0.2 s) after the engage that
 * ends it (at most half of the rows after the first 2 s may fall there),
 * per arm: the end effector posed by MuJoCo from the recorded state q
 * (site left_ee/right_ee in the torso_link frame) against the operator's own
 * calibrated wrist at the row's time (the operator stream interpolated there,
 * default calibration as the follow test: filter and upsampling lag count as
 * error). A row counts only where the target is reachable, the analogue of
 * the follow test's IK residual <= 1 mm: the station's controller, re-run on
 * the episode's operator stream at the state rows' ticks (same hand method
 * and upsampling as recorded, default parameters otherwise), solved its wrist
 * target within 1 mm, and the action recorded at that tick puts the end
 * effector (arm chain FK) within 1 mm of that target. Passes when, for both
 * arms, at least 80 % of the rows count and the error stays below 1 cm.
 *
 * The streams are read in order, a row at a time (constant memory).
 *
 * Usage: e2e_check EPISODE.db MODEL.xml
 * Exit 0: passes; 1: the criterion fails (one line on stderr saying why);
 * 2: usage or an unreadable episode or model. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/chain.h"
#include "teleop/controller.h"
#include "teleop/episode.h"
#include "teleop/operator.h"
#include "teleop/retarget.h"
#include "teleop/sim.h"

#define SOFT_START_NS 2000000000LL /* the follow test skips its first 2 s too */
#define REACH_TOLERANCE_M 1e-3     /* test_follow: position_error <= 1e-3 */
#define ERROR_LIMIT_M 0.01         /* test_follow: max error < 1 cm */
#define MIN_COUNTED 0.80

/* One stream read in order, a row at a time (an episode of any length in
 * constant memory). */
typedef struct stream_reader {
    tp_episode_cursor *cur;
    tp_episode_row row;
    int status; /* 1: row holds a row; 0: the end; -1: error */
} stream_reader;

static int fail_read(const char *path, const char *what)
{
    fprintf(stderr, "e2e_check: %s: %s\n", path, what);
    return 2;
}

static int open_stream(tp_episode *ep, const char *path, const char *name, int dims, stream_reader *r)
{
    const tp_stream_info *s = tp_episode_find_stream(ep, name);
    char msg[256];
    if (!s || s->dims != dims) {
        snprintf(msg, sizeof msg, "no '%s' stream of %d dims", name, dims);
        return fail_read(path, msg);
    }
    r->cur = tp_episode_cursor_open(ep, s->id);
    if (!r->cur)
        return fail_read(path, "out of memory");
    r->status = tp_episode_cursor_next(r->cur, &r->row);
    return 0;
}

static void advance(stream_reader *r)
{
    if (r->status == 1)
        r->status = tp_episode_cursor_next(r->cur, &r->row);
}

/* The operator's calibrated wrist of side s at t, interpolated between the
 * frames around t (both must track the wrist). false when there are none. */
static bool operator_wrist(const tp_operator_frame *a, const tp_operator_frame *b, const tp_calibration *cal, int s,
                           int64_t t, tp_vec3 *out)
{
    if (!(a->t_ns <= t && t < b->t_ns))
        return false;
    const tp_hand_frame *ha = &a->hand[s], *hb = &b->hand[s];
    if (!ha->active || !hb->active || !ha->joints[TP_HJ_WRIST].valid || !hb->joints[TP_HJ_WRIST].valid)
        return false;
    double u = (double)(t - a->t_ns) / (double)(b->t_ns - a->t_ns);
    tp_vec3 pa = tp_calibration_point(cal, ha->joints[TP_HJ_WRIST].pose.p);
    tp_vec3 pb = tp_calibration_point(cal, hb->joints[TP_HJ_WRIST].pose.p);
    *out = tp_v3_add(pa, tp_v3_scale(tp_v3_sub(pb, pa), u));
    return true;
}

/* The controller's engage edges from the episode's events, in time order:
 * +1 engaged, -1 disengaged. */
typedef struct edges {
    int64_t *t;
    int *on;
    size_t n, cap;
} edges;

static int collect_edge(const tp_episode_event *ev, void *user)
{
    edges *e = user;
    int on = !strcmp(ev->kind, "engaged") ? 1 : !strcmp(ev->kind, "disengaged") ? -1 : 0;
    if (!on)
        return 0;
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 16;
        int64_t *t = realloc(e->t, cap * sizeof *t);
        int *o = t ? realloc(e->on, cap * sizeof *o) : NULL;
        if (!o) {
            free(t ? t : e->t);
            e->t = NULL;
            return 1;
        }
        e->t = t, e->on = o, e->cap = cap;
    }
    e->t[e->n] = ev->t_ns;
    e->on[e->n++] = on;
    return 0;
}

/* Whether t lies in a soft start after a later engage: from a disengage
 * (the robot holds, a real robot's link ramps its weight down) to
 * min(2 s, 2 d + 0.2 s) after the engage that ends it, d the time
 * disengaged (the weight needs d to come back; the controller ramps from the
 * held command to where the operator went meanwhile). */
static bool in_later_soft_start(const edges *e, int64_t t)
{
    for (size_t i = 0; i < e->n; i++) {
        if (e->on[i] != -1 || e->t[i] > t)
            continue;
        size_t j = i + 1;
        while (j < e->n && e->on[j] != 1)
            j++;
        if (j == e->n)
            return true; /* disengaged to the end */
        int64_t d = e->t[j] - e->t[i], soft = 2 * d + 200000000LL;
        if (soft > SOFT_START_NS)
            soft = SOFT_START_NS;
        if (t < e->t[j] + soft)
            return true;
    }
    return false;
}

static int64_t meta_int(tp_episode *ep, const char *key, bool *ok)
{
    const char *v = tp_episode_meta(ep, key);
    char *end;
    if (!v)
        return *ok = false, 0;
    long long x = strtoll(v, &end, 10);
    if (*end)
        *ok = false;
    return x;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s EPISODE.db MODEL.xml\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];
    char err[512];
    tp_episode *ep = tp_episode_open(path, err, sizeof err);
    if (!ep) {
        fprintf(stderr, "e2e_check: %s\n", err);
        return 2;
    }
    tp_sim *sim = tp_sim_create(argv[2], err, sizeof err);
    if (!sim) {
        fprintf(stderr, "e2e_check: %s\n", err);
        return 2;
    }
    bool ok = true;
    int64_t start = meta_int(ep, "start_t_ns", &ok);
    if (!ok)
        return fail_read(path, "meta start_t_ns missing or not an integer");
    /* state drives the loop; action is looked up at each state row's time;
     * the operator stream is read twice: frames handed to the controller
     * (push), and the two frames around the row's time (a, b). */
    stream_reader state, action, push, around;
    int rc;
    if ((rc = open_stream(ep, path, "state", TP_SIM_ACTION_DIMS, &state)) ||
        (rc = open_stream(ep, path, "action", TP_SIM_ACTION_DIMS, &action)) ||
        (rc = open_stream(ep, path, "operator", TP_OPERATOR_DIMS, &push)) ||
        (rc = open_stream(ep, path, "operator", TP_OPERATOR_DIMS, &around)))
        return rc;
    if (state.status != 1)
        return fail_read(path, "no state rows");
    if (push.status != 1)
        return fail_read(path, "no operator rows");
    static tp_operator_frame pending, a, b; /* large: not on the stack */
    tp_operator_unpack(push.row.samples, push.row.t_ns, &pending);
    tp_operator_unpack(around.row.samples, around.row.t_ns, &a);
    advance(&around);
    b = a;
    if (around.status == 1)
        tp_operator_unpack(around.row.samples, around.row.t_ns, &b);

    /* The controller as the station ran it. */
    tp_retarget_config rcfg;
    tp_retarget_default_config(&rcfg);
    tp_controller_config ccfg;
    tp_controller_default_config(&ccfg);
    const char *hand_method = tp_episode_meta(ep, "hand_method");
    if (hand_method)
        snprintf(ccfg.hand_method, sizeof ccfg.hand_method, "%s", hand_method);
    const char *upsampling = tp_episode_meta(ep, "action_upsampling");
    if (upsampling) {
        int u = tp_upsampling_parse(upsampling);
        if (u < 0)
            return fail_read(path, "meta action_upsampling unknown");
        ccfg.upsampling = (tp_upsampling)u;
    }
    bool have_latency = true;
    int64_t latency = meta_int(ep, "action_upsampling_latency_ns", &have_latency);
    if (have_latency)
        ccfg.upsampling_latency_s = (double)latency / 1e9;
    tp_controller *ctl = tp_controller_create_for_sim(sim, &ccfg, &rcfg, err, sizeof err);
    if (!ctl) {
        fprintf(stderr, "e2e_check: %s\n", err);
        return 2;
    }
    tp_chain arm[2];
    for (int s = 0; s < 2; s++)
        if (tp_sim_arm_chain(sim, s, &arm[s], err, sizeof err)) {
            fprintf(stderr, "e2e_check: %s\n", err);
            return 2;
        }

    double q[TP_SIM_ACTION_DIMS], cmd[TP_SIM_ACTION_DIMS];
    for (int i = 0; i < TP_SIM_ACTION_DIMS; i++)
        q[i] = state.row.samples[i];
    tp_controller_reset(ctl, q);

    /* The soft start follows the episode's start; a later engage (after a
     * hold or a disengage) starts a shorter one (in_later_soft_start). */
    edges eng = {0};
    if (tp_episode_events(ep, collect_edge, &eng) != 0)
        return fail_read(path, "events unreadable");
    long counted[2] = {0, 0}, uncounted[2] = {0, 0}, rows_after_first = 0, rows_resoft = 0;
    double sum_err[2] = {0, 0}, max_err[2] = {0, 0}, worst_t[2] = {0, 0};
    int64_t prev_t = INT64_MIN;
    for (; state.status == 1; advance(&state)) {
        const int64_t t = state.row.t_ns;
        if (t <= prev_t) {
            char msg[128];
            snprintf(msg, sizeof msg, "stream 'state': t_ns of seq %lld does not increase", (long long)state.row.seq);
            return fail_read(path, msg);
        }
        prev_t = t;
        /* As live: a tick acts on the operator frames stamped before it. */
        while (push.status == 1 && pending.t_ns < t) {
            tp_controller_push_frame(ctl, &pending, t);
            advance(&push);
            if (push.status == 1)
                tp_operator_unpack(push.row.samples, push.row.t_ns, &pending);
        }
        tp_controller_step(ctl, NULL, t, cmd);
        const tp_retarget_status *st = tp_controller_status(ctl);
        while (action.status == 1 && action.row.t_ns < t)
            advance(&action);
        while (around.status == 1 && b.t_ns <= t) {
            a = b;
            advance(&around);
            if (around.status == 1)
                tp_operator_unpack(around.row.samples, around.row.t_ns, &b);
        }
        if (state.status < 0 || action.status < 0 || push.status < 0 || around.status < 0)
            return fail_read(path, "a stream became unreadable");
        if (t - start < SOFT_START_NS)
            continue;
        rows_after_first++;
        if (in_later_soft_start(&eng, t)) {
            rows_resoft++;
            continue;
        }
        const bool have_action = action.status == 1 && action.row.t_ns == t;
        for (int i = 0; i < TP_SIM_ACTION_DIMS; i++)
            q[i] = state.row.samples[i];
        tp_sim_reset_joints(sim, q);
        tp_pose torso;
        if (tp_sim_site_pose(sim, "torso_link", &torso))
            return fail_read(argv[2], "no body 'torso_link'");
        tp_pose torso_inv = tp_pose_inverse(torso);
        for (int s = 0; s < 2; s++) {
            tp_vec3 target;
            bool reachable = have_action && st->arm_ok[s] && st->position_error[s] <= REACH_TOLERANCE_M &&
                             operator_wrist(&a, &b, &rcfg.calibration, s, t, &target);
            if (reachable) {
                double qa[TP_SIM_ARM_DOF];
                for (int j = 0; j < TP_SIM_ARM_DOF; j++)
                    qa[j] = action.row.samples[s * TP_SIM_ARM_DOF + j];
                tp_pose commanded = tp_chain_fk(&arm[s], qa);
                reachable = tp_v3_norm(tp_v3_sub(commanded.p, st->wrist_target[s].p)) <= REACH_TOLERANCE_M;
            }
            if (!reachable) {
                uncounted[s]++;
                continue;
            }
            tp_pose ee;
            if (tp_sim_site_pose(sim, s ? "right_ee" : "left_ee", &ee))
                return fail_read(argv[2], "no site 'left_ee'/'right_ee'");
            double e = tp_v3_norm(tp_v3_sub(tp_pose_apply(torso_inv, ee.p), target));
            if (e > max_err[s]) {
                max_err[s] = e;
                worst_t[s] = (double)(t - start) / 1e9;
            }
            sum_err[s] += e;
            counted[s]++;
        }
    }
    if (state.status < 0)
        return fail_read(path, "stream 'state' unreadable");

    size_t disengages = 0;
    for (size_t i = 0; i < eng.n; i++)
        disengages += eng.on[i] == -1;
    printf("%ld rows after the first 2 s, %ld of them disengaged or re-engaging (%zu disengages)\n",
           rows_after_first, rows_resoft, disengages);
    free(eng.t);
    free(eng.on);
    const char *verdict = NULL;
    char reason[256];
    for (int s = 0; s < 2; s++) {
        const char *side = s ? "right" : "left";
        long rows = counted[s] + uncounted[s];
        printf("%s wrist: %ld rows counted, %ld not (target unreachable or not reached by the action); error mean "
               "%.2f mm, max %.2f mm (at %.3f s)\n",
               side, counted[s], uncounted[s], 1e3 * sum_err[s] / (double)(counted[s] ? counted[s] : 1),
               1e3 * max_err[s], worst_t[s]);
        if (verdict)
            continue;
        if (2 * rows_resoft > rows_after_first) {
            snprintf(reason, sizeof reason, "%ld of %ld rows after the first 2 s are disengaged or "
                     "re-engaging: not judged as tracking", rows_resoft, rows_after_first);
            verdict = reason;
        } else if (rows == 0 || (double)counted[s] < MIN_COUNTED * (double)rows) {
            snprintf(reason, sizeof reason, "%s wrist: only %ld of %ld rows after the soft start count (need %.0f %%)",
                     side, counted[s], rows, 100 * MIN_COUNTED);
            verdict = reason;
        } else if (max_err[s] >= ERROR_LIMIT_M) {
            snprintf(reason, sizeof reason, "%s wrist: error %.2f mm at %.3f s (limit %.0f mm)", side,
                     1e3 * max_err[s], worst_t[s], 1e3 * ERROR_LIMIT_M);
            verdict = reason;
        }
    }
    tp_controller_destroy(ctl);
    tp_sim_destroy(sim);
    tp_episode_cursor_close(state.cur);
    tp_episode_cursor_close(action.cur);
    tp_episode_cursor_close(push.cur);
    tp_episode_cursor_close(around.cur);
    tp_episode_close(ep);
    if (verdict) {
        fprintf(stderr, "e2e_check: %s: FAIL: %s\n", path, verdict);
        return 1;
    }
    printf("e2e_check: %s: ok\n", path);
    return 0;
}
