/* teleop — a session's episode file: name, streams, meta. */
#include "station/session_internal.h"

/* -------------------------------------------------------------- episode */

/* episode-<session start>-<NNN>.db: NNN starts at the episode's number in the
 * session, so names rise through a session and a discarded episode's name is
 * never given to a later one; a name another session took is skipped. */
static int make_episode_path(const char *dir, double min_free_mb, const char *stamp, int first, char *out,
                             size_t outlen, char *err, size_t errlen)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create output directory: %s", dir, strerror(errno));
        return -1;
    }
    struct statvfs vfs;
    if (statvfs(dir, &vfs) != 0) {
        snprintf(err, errlen, "%s: cannot measure free space: %s", dir, strerror(errno));
        return -1;
    }
    double free_mb = (double)vfs.f_bavail * (double)vfs.f_frsize / 1e6;
    if (free_mb < min_free_mb) {
        snprintf(err, errlen, "%s: only %.1f MB free; recording needs at least %.1f MB (recording.min_free_mb)", dir,
                 free_mb, min_free_mb);
        return -1;
    }
    /* The writer creates the file exclusively; the number only makes a
     * collision unlikely, the exclusive create makes it impossible. */
    for (int n = first; n < first + 100000; n++) {
        snprintf(out, outlen, "%s/episode-%s-%03d.db", dir, stamp, n);
        char creating[4200];
        snprintf(creating, sizeof creating, "%s.creating", out);
        /* lstat, not access: a dangling symbolic link takes the name too. */
        struct stat sb;
        if (lstat(out, &sb) != 0 && errno == ENOENT && lstat(creating, &sb) != 0 && errno == ENOENT)
            return 0;
    }
    snprintf(err, errlen, "%s: no free episode name for %s", dir, stamp);
    return -1;
}

/* sim_objects: every free body's world pose, px py pz qx qy qz qw each
 * (quaternions x y z w, as the operator stream), every few control ticks. */
static int add_objects_stream(session *s, recorder *rec)
{
    static const char *const parts[TP_SIM_POSE_DIMS] = {"px", "py", "pz", "qx", "qy", "qz", "qw"};
    int dims = s->object_count * TP_SIM_POSE_DIMS;
    char (*names)[80] = malloc(sizeof(char[80]) * (size_t)dims);
    const char **ptrs = malloc(sizeof(char *) * (size_t)dims);
    const char **units = malloc(sizeof(char *) * (size_t)dims);
    int rc = -1;
    if (names && ptrs && units) {
        for (int i = 0; i < dims; i++) {
            snprintf(names[i], sizeof names[i], "%.64s.%s", tp_sim_free_body_name(s->sim, i / TP_SIM_POSE_DIMS),
                     parts[i % TP_SIM_POSE_DIMS]);
            ptrs[i] = names[i];
            units[i] = i % TP_SIM_POSE_DIMS < 3 ? "m" : "1"; /* position, then a unit quaternion */
        }
        tp_stream_desc d = {.name = TP_SIM_OBJECTS_STREAM, .kind = TP_STREAM_OTHER, .dims = dims, .dim_names = ptrs,
                            .dim_units = units, .t_meaning = TP_TIME_CAPTURE,
                            .rate_hz = s->cfg->control_hz / s->object_decimation};
        rec->id_objects = tp_episode_writer_add_stream(rec->w, &d);
        rc = rec->id_objects < 0 ? -1 : 0;
    }
    free(names);
    free(ptrs);
    free(units);
    return rc;
}

static int setup_episode(session *s, recorder *rec, char *err, size_t errlen);

/* The writer found the episode's name taken when publishing (another
 * process, a link planted after make_episode_path looked): the next free
 * name, which becomes the episode's. */
static int next_free_name(void *user, char *out, size_t outlen)
{
    recorder *rec = user;
    char err[512];
    if (make_episode_path(rec->s->cfg->out_dir, 0, rec->stamp, 1, out, outlen, err, sizeof err) != 0) {
        tp_log_error("%s", err);
        return -1;
    }
    snprintf(rec->path, sizeof rec->path, "%s", out);
    return 0;
}

/* Creates the next episode under a free name (its setup file; the writer
 * publishes it at the first batch, moving on to the next free name if this
 * one was taken meanwhile). On failure rec->w is NULL and nothing is left:
 * no name we did not create is printed or removed. */
int session_open_episode(session *s, recorder *rec, char *err, size_t errlen)
{
    const tp_session_config *cfg = s->cfg;
    char *path = rec->path;
    for (int attempt = 0; attempt < 5 && !rec->w; attempt++) {
        if (make_episode_path(cfg->out_dir, cfg->min_free_mb, rec->stamp, rec->episode_index + 1 + attempt, path,
                              sizeof rec->path, err, errlen) != 0)
            return -1;
        rec->w = tp_episode_writer_create(path, err, errlen);
    }
    if (!rec->w)
        return -1;
    tp_episode_writer_on_name_taken(rec->w, next_free_name, rec);
    if (setup_episode(s, rec, err, errlen) != 0) {
        tp_episode_writer_close(rec->w); /* never published: only its setup file goes */
        rec->w = NULL;
        return -1;
    }
    return 0;
}

/* Streams and meta of a new episode, in its setup transaction. */
static int setup_episode(session *s, recorder *rec, char *err, size_t errlen)
{
    const tp_session_config *cfg = s->cfg;
    char *path = rec->path;
    tp_episode_writer *w = rec->w;

    const char *joint_names[N_JOINTS];
    for (int i = 0; i < N_JOINTS; i++)
        joint_names[i] = tp_sim_joint_name(s->sim, i);
    char (*op_names)[64] = malloc(sizeof(char[64]) * TP_OPERATOR_DIMS);
    const char **op_name_ptrs = malloc(sizeof(char *) * TP_OPERATOR_DIMS);
    if (!op_names || !op_name_ptrs) {
        free(op_names);
        free(op_name_ptrs);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (int i = 0; i < TP_OPERATOR_DIMS; i++) {
        tp_operator_dim_name((size_t)i, op_names[i], 64);
        op_name_ptrs[i] = op_names[i];
    }
    const char **op_units = malloc(sizeof(char *) * TP_OPERATOR_DIMS);
    if (!op_units) {
        free(op_names);
        free(op_name_ptrs);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (int i = 0; i < TP_OPERATOR_DIMS; i++)
        op_units[i] = tp_operator_dim_unit(op_names[i]);
    tp_stream_desc state = {.name = "state", .kind = TP_STREAM_STATE, .dims = N_JOINTS, .dim_names = joint_names,
                            .units = "rad", .t_meaning = TP_TIME_CAPTURE, .rate_hz = cfg->control_hz};
    tp_stream_desc velocity = state;
    velocity.name = "state_velocity";
    velocity.units = "rad/s";
    tp_stream_desc action = state;
    action.name = "action";
    action.kind = TP_STREAM_ACTION;
    action.t_meaning = TP_TIME_COMMAND;
    tp_stream_desc oper = {.name = "operator", .kind = TP_STREAM_OPERATOR, .dims = TP_OPERATOR_DIMS,
                           .dim_names = op_name_ptrs, .dim_units = op_units, .t_meaning = TP_TIME_DISPLAY,
                           .rate_hz = cfg->operator_hz};
    rec->id_state = tp_episode_writer_add_stream(w, &state);
    rec->id_velocity = tp_episode_writer_add_stream(w, &velocity);
    rec->id_action = tp_episode_writer_add_stream(w, &action);
    rec->id_operator = tp_episode_writer_add_stream(w, &oper);
    free(op_names);
    free(op_name_ptrs);
    free(op_units);
    rec->id_objects = 0;
    if (session_gloves_add_streams(s, rec) != 0 || session_view_add_streams(s, rec) != 0) {
        snprintf(err, errlen, "%s: %s", path, tp_episode_writer_error(w));
        return -1;
    }
    if (s->object_count > 0 && add_objects_stream(s, rec) != 0) {
        snprintf(err, errlen, "%s: %s", path, tp_episode_writer_error(w));
        return -1;
    }
    if (rec->id_state < 0 || rec->id_velocity < 0 || rec->id_action < 0 || rec->id_operator < 0) {
        snprintf(err, errlen, "%s: %s", path, tp_episode_writer_error(w));
        return -1;
    }
    char cam_err[512];
    if (camera_rig_add_streams(s->cameras, w, cam_err, sizeof cam_err) != 0) {
        snprintf(err, errlen, "%s: %s", path, cam_err);
        return -1;
    }
    tp_station_files files = {.model_path = cfg->model_path, .hand_method = cfg->control.hand_method,
                              .hand_urdf = cfg->control.hand_urdf, .calibration_path = cfg->calibration_path,
                              .config_path = cfg->config_path, .limit_margin = cfg->control.limit_margin};
    if (tp_episode_describe_station(w, s->sim, &files, cam_err, sizeof cam_err) != 0) {
        snprintf(err, errlen, "%s: %s", path, cam_err);
        return -1;
    }
    /* The configuration the session ran with, every key resolved (defaults
     * applied), as a station file that reads back into it. */
    char *resolved = tp_station_config_resolved_ini(cfg);
    if (!resolved) {
        snprintf(err, errlen, "%s: resolved configuration: out of memory", path);
        return -1;
    }
    int attached =
        tp_episode_writer_attach(w, "config/resolved.ini", "text/plain; charset=utf-8", resolved, strlen(resolved));
    free(resolved);
    if (attached != 0) {
        snprintf(err, errlen, "%s: resolved configuration: %s", path, tp_episode_writer_error(w));
        return -1;
    }
    char buf[64];
    char host[128] = "";
    gethostname(host, sizeof host - 1);
    snprintf(buf, sizeof buf, "%lld", (long long)tp_wall_offset_ns());
    struct {
        const char *k, *v;
    } meta[] = {
        {"robot", "sim_humanoid_g1_dex3"},
        {"robot_model", cfg->model_path},
        {"hand", "dex3-1"},
        {"hand_method", cfg->control.hand_method},
        {"task", rec->task},
        {"operator", cfg->operator_name},
        {"station", host},
        {"software_version", "teleop " TELEOP_VERSION},
        {"operator_source", cfg->operator_source},
        {"operator_device", s->device_description},
        {"operator_motion", cfg->motion_path},
        {"calibration", cfg->calibration_id},
        {"wall_clock_offset_ns", buf},
    };
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
        if (tp_episode_writer_set_meta(w, meta[i].k, meta[i].v) != 0) {
            snprintf(err, errlen, "%s: %s", path, tp_episode_writer_error(w));
            return -1;
        }
    snprintf(buf, sizeof buf, "%g", cfg->control_hz);
    tp_episode_writer_set_meta(w, "control_rate_hz", buf);
    tp_episode_writer_set_meta(w, "action_upsampling", tp_upsampling_name(cfg->control.upsampling));
    snprintf(buf, sizeof buf, "%lld", (long long)tp_controller_upsampling_latency_ns(s->controller));
    tp_episode_writer_set_meta(w, "action_upsampling_latency_ns", buf);
    snprintf(buf, sizeof buf, "%d", rec->episode_index + 1);
    tp_episode_writer_set_meta(w, "episode_index", buf);
    if (cfg->camera_count > 0) {
        snprintf(buf, sizeof buf, "%g", cfg->cameras[0].device.fps);
        tp_episode_writer_set_meta(w, "fps", buf);
    }
    return 0;
}


