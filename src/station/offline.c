/* teleop — offline retargeting of a recorded episode. */
#include "teleop/offline.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/controller.h"
#include "teleop/episode.h"
#include "teleop/sim.h"
#include "station/episode_setup.h"

#define N_JOINTS TP_SIM_ACTION_DIMS

typedef struct offline {
    tp_episode *src;
    tp_episode_writer *w;
    tp_sim *sim;
    tp_controller *ctl;
    tp_episode_cursor *op_cursor;
    char *err;
    size_t errlen;
} offline;

static int writer_fail(offline *o)
{
    snprintf(o->err, o->errlen, "%s", tp_episode_writer_error(o->w));
    return -1;
}

static int copy_meta(offline *o, const char *src_path, const tp_session_config *cfg)
{
    static const char *const keep[] = {"task", "operator", "station", "operator_source", "wall_clock_offset_ns",
                                       "hand"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        const char *v = tp_episode_meta(o->src, keep[i]);
        if (v && tp_episode_writer_set_meta(o->w, keep[i], v) != 0)
            return writer_fail(o);
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%g", cfg->control_hz);
    if (tp_episode_writer_set_meta(o->w, "retargeted_from", src_path) ||
        tp_episode_writer_set_meta(o->w, "robot", "sim_humanoid_g1_dex3") ||
        tp_episode_writer_set_meta(o->w, "robot_model", cfg->model_path) ||
        tp_episode_writer_set_meta(o->w, "calibration", cfg->calibration_id) ||
        tp_episode_writer_set_meta(o->w, "software_version", "teleop " TELEOP_VERSION) ||
        tp_episode_writer_set_meta(o->w, "control_rate_hz", buf) ||
        tp_episode_writer_set_meta(o->w, "action_upsampling", tp_upsampling_name(cfg->control.upsampling)))
        return writer_fail(o);
    snprintf(buf, sizeof buf, "%lld", (long long)tp_controller_upsampling_latency_ns(o->ctl));
    if (tp_episode_writer_set_meta(o->w, "action_upsampling_latency_ns", buf))
        return writer_fail(o);
    return 0;
}

/* A camera's events describe its video (frames dropped or missed, gaps, a
 * lost device): they travel with the packets. Their details begin with
 * "camera NAME:" (docs/episode-format.md). */
typedef struct camera_events {
    offline *o;
    char prefix[96];
    int failed;
} camera_events;

static int copy_camera_event(const tp_episode_event *ev, void *user)
{
    camera_events *ce = user;
    if (!ev->detail || strncmp(ev->detail, ce->prefix, strlen(ce->prefix)) != 0)
        return 0;
    if (tp_episode_writer_event(ce->o->w, ev->t_ns, ev->kind, ev->detail) != 0) {
        ce->failed = 1;
        return 1;
    }
    return 0;
}

/* Copies a camera stream's packets unchanged (same bytes, pts and t_ns), and
 * its events. */
static int copy_camera(offline *o, const tp_stream_info *s, long long *packets)
{
    tp_stream_desc d = {.name = s->name, .kind = TP_STREAM_CAMERA, .dims = s->dims, .rate_hz = s->rate_hz,
                        .t_meaning = s->t_meaning, .codec = s->codec, .width = s->width, .height = s->height,
                        .extradata = s->extradata, .extradata_size = s->extradata_size};
    int id = tp_episode_writer_add_stream(o->w, &d);
    if (id < 0)
        return writer_fail(o);
    const tp_camera_calibration *cal = tp_episode_camera_params(o->src, s->id);
    if (cal && cal->ndistortion >= 0 && tp_episode_writer_camera_params(o->w, id, cal) != 0)
        return writer_fail(o);
    tp_episode_cursor *c = tp_episode_cursor_open(o->src, s->id);
    if (!c) {
        snprintf(o->err, o->errlen, "camera '%s' unreadable", s->name);
        return -1;
    }
    tp_episode_row row;
    int rc;
    if (tp_episode_writer_begin(o->w))
        return writer_fail(o);
    while ((rc = tp_episode_cursor_next(c, &row)) == 1) {
        if (tp_episode_writer_packet(o->w, id, row.seq, row.pts, row.t_ns, row.keyframe, row.bytes, row.size)) {
            tp_episode_cursor_close(c);
            return writer_fail(o);
        }
        (*packets)++;
    }
    tp_episode_cursor_close(c);
    if (rc < 0) {
        snprintf(o->err, o->errlen, "camera '%s': packet unreadable", s->name);
        return -1;
    }
    camera_events ce = {.o = o};
    snprintf(ce.prefix, sizeof ce.prefix, "camera %.60s:", s->name);
    if (tp_episode_events(o->src, copy_camera_event, &ce) != 0 && !ce.failed) {
        snprintf(o->err, o->errlen, "camera '%s': events unreadable", s->name);
        return -1;
    }
    if (ce.failed)
        return writer_fail(o);
    return tp_episode_writer_commit(o->w) ? writer_fail(o) : 0;
}

/* The longest operator stream replayed: the longest session a config allows
 * (session.duration caps at 86400 s). */
#define MAX_SPAN_NS (86400LL * 1000000000LL)

/* The replay's work is bounded by its input: the operator stream's stamps
 * must rise strictly, and span no more than the episode it came from (when
 * that says how long it was) nor a day. A corrupt stamp (say -9.2e18 then
 * +9.2e18) would otherwise mean 1e16 control cycles. One line naming the
 * stream and row. */
static int check_operator_stream(offline *o, const char *path, const tp_stream_info *ops)
{
    tp_episode_cursor *c = tp_episode_cursor_open(o->src, ops->id);
    if (!c) {
        snprintf(o->err, o->errlen, "%s: operator stream unreadable", path);
        return -1;
    }
    tp_episode_row row;
    int rc;
    int64_t first = 0, prev = 0, n = 0;
    while ((rc = tp_episode_cursor_next(c, &row)) == 1) {
        if (n == 0) {
            first = row.t_ns;
        } else if (row.t_ns <= prev) {
            snprintf(o->err, o->errlen, "%s: stream 'operator' row %lld (seq %lld): t_ns %lld is not after the row"
                     " before (%lld); refusing to retarget corrupt timestamps", path, (long long)n,
                     (long long)row.seq, (long long)row.t_ns, (long long)prev);
            tp_episode_cursor_close(c);
            return -1;
        } else if ((uint64_t)row.t_ns - (uint64_t)first > (uint64_t)MAX_SPAN_NS) { /* exact: first < row.t_ns */
            snprintf(o->err, o->errlen, "%s: stream 'operator' row %lld (seq %lld): t_ns %lld is %.3g s after the"
                     " first row; longer than a session can be (86400 s), refusing corrupt timestamps", path,
                     (long long)n, (long long)row.seq, (long long)row.t_ns, ((double)row.t_ns - (double)first) / 1e9);
            tp_episode_cursor_close(c);
            return -1;
        }
        prev = row.t_ns;
        n++;
    }
    tp_episode_cursor_close(c);
    if (rc < 0) {
        snprintf(o->err, o->errlen, "%s: operator stream unreadable", path);
        return -1;
    }
    const char *s0 = tp_episode_meta(o->src, "start_t_ns"), *s1 = tp_episode_meta(o->src, "end_t_ns");
    if (s0 && s1) {
        char *e0, *e1;
        long long start = strtoll(s0, &e0, 10), end = strtoll(s1, &e1, 10);
        /* Operator stamps may run up to a display period or so ahead of the
         * episode's clock: a second of slack. */
        if (!*e0 && !*e1 && end >= start && (double)prev - (double)first > (double)end - (double)start + 1e9) {
            snprintf(o->err, o->errlen, "%s: stream 'operator' spans %.3f s, the episode %.3f s (start_t_ns to"
                     " end_t_ns); refusing corrupt timestamps", path, ((double)prev - (double)first) / 1e9,
                     ((double)end - (double)start) / 1e9);
            return -1;
        }
    }
    return 0;
}

int tp_offline_retarget(const char *episode_path, const tp_session_config *cfg, const char *out_path,
                        tp_offline_stats *stats, char *err, size_t errlen)
{
    offline o = {.err = err, .errlen = errlen};
    memset(stats, 0, sizeof *stats);
    int rc = -1;
    o.src = tp_episode_open(episode_path, err, errlen);
    if (!o.src)
        return -1;
    const tp_stream_info *ops = tp_episode_find_stream(o.src, "operator");
    if (!ops || ops->dims != TP_OPERATOR_DIMS || ops->count < 2) {
        snprintf(err, errlen, "%s: no operator stream of %d dims with frames to retarget", episode_path,
                 TP_OPERATOR_DIMS);
        goto out;
    }
    if (check_operator_stream(&o, episode_path, ops) != 0)
        goto out;
    o.sim = tp_sim_create(cfg->model_path, err, errlen);
    if (!o.sim)
        goto out;
    tp_controller_config ccfg = cfg->control;
    ccfg.rate_hz = cfg->control_hz;
    ccfg.stale_input_s = cfg->stale_input_s;
    o.ctl = tp_controller_create_for_sim(o.sim, &ccfg, &cfg->retarget, err, errlen);
    if (!o.ctl)
        goto out;
    o.w = tp_episode_writer_create(out_path, err, errlen);
    if (!o.w)
        goto out;
    /* Nothing appears at out_path until the new episode is complete. */
    tp_episode_writer_defer_publish(o.w);
    if (copy_meta(&o, episode_path, cfg))
        goto out;
    tp_station_files files = {.model_path = cfg->model_path, .hand_method = cfg->control.hand_method,
                              .hand_urdf = cfg->control.hand_urdf, .calibration_path = cfg->calibration_path,
                              .config_path = cfg->config_path, .limit_margin = cfg->control.limit_margin};
    if (tp_episode_describe_station(o.w, o.sim, &files, err, errlen) != 0)
        goto out;

    const char *names[N_JOINTS];
    for (int i = 0; i < N_JOINTS; i++)
        names[i] = tp_sim_joint_name(o.sim, i);
    tp_stream_desc st = {.name = "state", .kind = TP_STREAM_STATE, .dims = N_JOINTS, .dim_names = names,
                         .units = "rad", .rate_hz = cfg->control_hz};
    tp_stream_desc vel = st, act = st;
    vel.name = "state_velocity";
    vel.units = "rad/s";
    act.name = "action";
    act.kind = TP_STREAM_ACTION;
    act.t_meaning = TP_TIME_COMMAND;
    /* A version-1 source has one free-text unit for all operator dims:
     * give each its own, from its name, as the station does. */
    const char **op_units = malloc(sizeof(char *) * (size_t)ops->dims);
    if (!op_units) {
        snprintf(err, errlen, "%s: out of memory", out_path);
        goto out;
    }
    for (int i = 0; i < ops->dims; i++)
        op_units[i] = tp_episode_version(o.src) >= 2 ? ops->dim_units[i] : tp_operator_dim_unit(ops->dim_names[i]);
    tp_stream_desc opd = {.name = "operator", .kind = TP_STREAM_OPERATOR, .dims = ops->dims,
                          .dim_names = ops->dim_names, .dim_units = op_units, .t_meaning = ops->t_meaning,
                          .rate_hz = ops->rate_hz};
    int id_s = tp_episode_writer_add_stream(o.w, &st), id_v = tp_episode_writer_add_stream(o.w, &vel);
    int id_a = tp_episode_writer_add_stream(o.w, &act), id_o = tp_episode_writer_add_stream(o.w, &opd);
    free(op_units);
    if (id_s < 0 || id_v < 0 || id_a < 0 || id_o < 0) {
        writer_fail(&o);
        goto out;
    }
    for (int i = 0; i < tp_episode_stream_count(o.src); i++) {
        const tp_stream_info *s = tp_episode_stream(o.src, i);
        if (s->kind == TP_STREAM_CAMERA && copy_camera(&o, s, &stats->packets))
            goto out;
    }

    /* Replay in episode time: the operator frames arrive at their recorded
     * stamps; the control loop runs on the same clock at its own rate. */
    o.op_cursor = tp_episode_cursor_open(o.src, ops->id);
    if (!o.op_cursor) {
        snprintf(err, errlen, "%s: operator stream unreadable", episode_path);
        goto out;
    }
    const int64_t period = (int64_t)llround(1e9 / cfg->control_hz);
    const int substeps = (int)fmax(1.0, lround(1.0 / cfg->control_hz / tp_sim_timestep(o.sim)));
    double q[N_JOINTS], qd[N_JOINTS], cmd[N_JOINTS];
    float fs[N_JOINTS], fv[N_JOINTS], fa[N_JOINTS];
    tp_sim_read_state(o.sim, q, qd);
    tp_controller_reset(o.ctl, q);
    tp_episode_row row;
    tp_operator_frame pending, latest;
    int have_pending = tp_episode_cursor_next(o.op_cursor, &row);
    if (have_pending != 1) {
        snprintf(err, errlen, "%s: operator stream unreadable", episode_path);
        goto out;
    }
    tp_operator_unpack(row.samples, row.t_ns, &pending);
    if (tp_episode_writer_begin(o.w) || tp_episode_writer_sample(o.w, id_o, 0, row.t_ns, row.samples, ops->dims)) {
        writer_fail(&o);
        goto out;
    }
    long long op_seq = 1, seq = 0;
    unsigned last_flags = TP_CONTROL_INPUT_STALE;
    for (int64_t t = ops->t_first; t <= ops->t_last; t += period) {
        bool got = false;
        while (have_pending == 1 && pending.t_ns <= t) {
            latest = pending;
            got = true;
            have_pending = tp_episode_cursor_next(o.op_cursor, &row);
            if (have_pending == 1) {
                tp_operator_unpack(row.samples, row.t_ns, &pending);
                if (tp_episode_writer_sample(o.w, id_o, op_seq++, row.t_ns, row.samples, ops->dims)) {
                    writer_fail(&o);
                    goto out;
                }
            }
        }
        if (have_pending < 0) {
            snprintf(err, errlen, "%s: operator stream unreadable", episode_path);
            goto out;
        }
        /* As live (docs/robot-sim.md): the row at t is the state at t and
         * the command issued at t; then the physics advances a period. */
        tp_sim_read_state(o.sim, q, qd);
        unsigned flags = tp_controller_step(o.ctl, got ? &latest : NULL, t, cmd);
        const char *kinds[16];
        int nk = tp_control_flag_events(flags, last_flags, kinds, 16);
        for (int k = 0; k < nk; k++)
            if (tp_episode_writer_event(o.w, t, kinds[k], NULL)) {
                writer_fail(&o);
                goto out;
            }
        last_flags = flags;
        for (int i = 0; i < N_JOINTS; i++) {
            fs[i] = (float)q[i];
            fv[i] = (float)qd[i];
            fa[i] = (float)cmd[i];
        }
        if (tp_episode_writer_sample(o.w, id_s, seq, t, fs, N_JOINTS) ||
            tp_episode_writer_sample(o.w, id_v, seq, t, fv, N_JOINTS) ||
            tp_episode_writer_sample(o.w, id_a, seq, t, fa, N_JOINTS)) {
            writer_fail(&o);
            goto out;
        }
        seq++;
        tp_sim_set_targets(o.sim, cmd);
        for (int k = 0; k < substeps; k++)
            tp_sim_step(o.sim);
        if (seq % 500 == 0 && (tp_episode_writer_commit(o.w) || tp_episode_writer_begin(o.w))) {
            writer_fail(&o);
            goto out;
        }
    }
    stats->operator_frames = op_seq;
    stats->control_cycles = seq;
    if (tp_episode_writer_finish(o.w, "completed")) {
        writer_fail(&o);
        goto out;
    }
    rc = 0;
out:
    tp_episode_cursor_close(o.op_cursor);
    /* Published only when complete (deferred publish); a failure before
     * leaves nothing at out_path, and what is there is not ours to remove. */
    bool published = o.w && tp_episode_writer_published(o.w);
    tp_episode_writer_close(o.w);
    if (rc != 0 && published)
        remove(out_path); /* finished but then failed (its folder's fsync): ours */
    tp_controller_destroy(o.ctl);
    tp_sim_destroy(o.sim);
    tp_episode_close(o.src);
    return rc;
}
