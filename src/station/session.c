/* teleop — a session: setup, the threads started on one tick and joined,
 * the last episode finished, teardown and statistics (session_internal.h
 * says which file does what). */
#include "station/session_internal.h"

void session_fail(session *s, const char *msg)
{
    int expected = 0;
    if (atomic_compare_exchange_strong(&s->failed, &expected, 1))
        snprintf(s->fail_msg, sizeof s->fail_msg, "%s", msg);
}

static void fail_hook(void *user, const char *msg) { session_fail(user, msg); }

double session_thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool session_stopping(session *s)
{
    return (s->external_stop && *s->external_stop) || atomic_load(&s->failed) || atomic_load(&s->device_ended) ||
           atomic_load(&s->workflow_done);
}

/* The config (defaults, the key tables, paths): src/station/station_config.c. */

/* --------------------------------------------------------------- helpers */

void session_set_thread_name(const char *name) { pthread_setname_np(pthread_self(), name); }

void session_push_event(tp_ring *ring, int64_t t_ns, event_code code, int64_t arg)
{
    station_event ev = {t_ns, code, arg, NULL};
    (void)tp_ring_push(ring, &ev); /* a full event ring loses the event, never blocks */
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double pct_i64(int64_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_i64);
    size_t i = (size_t)llround(p * (double)(n - 1));
    return (double)v[i];
}

/* ------------------------------------------------------------------ run */

static int init_session(session *s, char *err, size_t errlen)
{
    const tp_session_config *cfg = s->cfg;
    tp_robot_link_config lcfg = {.model_path = cfg->model_path,
                                 .control_hz = cfg->control_hz,
                                 .unitree = cfg->unitree,
                                 .realtime_priority = cfg->realtime_priority};
    if (tp_robot_link_open(&s->link, cfg->robot_link, &lcfg, err, errlen) != 0)
        return -1;
    s->sim = tp_robot_link_simulator(&s->link);
    if (!s->sim) {
        /* A real robot: the cameras and the controller's model come from the
         * robot's model posed from its measured state every tick. The real
         * world's objects are not simulated, so there is no sim_objects
         * stream. */
        s->mirror = tp_sim_create(cfg->model_path, err, errlen);
        if (!s->mirror)
            return -1;
        s->sim = s->mirror;
    }
    s->tap = cfg->console;
    int mirror_w = 0, mirror_h = 0;
    if (session_view_prepare(s, &mirror_w, &mirror_h, err, errlen) != 0)
        return -1;
    if (s->view && !s->tap) {
        /* The headset view reads the cameras, limits and status the console
         * would: the session feeds a tap of its own. */
        s->own_tap = tp_console_tap_create(cfg, err, errlen);
        if (!s->own_tap)
            return -1;
        s->tap = s->own_tap;
    }
    tp_operator_device_config dcfg = {.motion_path = cfg->motion_path, .loop = cfg->loop_motion,
                                      .rate_hz = cfg->operator_hz, .xr_runtime = cfg->xr_runtime,
                                      .xr_replay_script = cfg->xr_replay_script, .xr_view = cfg->xr_view,
                                      .xr_mirror_width = mirror_w, .xr_mirror_height = mirror_h};
    if (tp_operator_device_open(&s->device, cfg->operator_source, &dcfg, err, errlen) != 0)
        return -1;
    if (session_view_attach(s, err, errlen) != 0)
        return -1;
    s->device.ops->describe(s->device.state, s->device_description, sizeof s->device_description);
    if (session_gloves_open(s, err, errlen) != 0)
        return -1;
    tp_controls_init(&s->controls, &cfg->controls);
    tp_controller_config ccfg = cfg->control;
    ccfg.rate_hz = cfg->control_hz;
    ccfg.stale_input_s = cfg->stale_input_s;
    s->controller = tp_controller_create_for_sim(s->sim, &ccfg, &cfg->retarget, err, errlen);
    if (!s->controller)
        return -1;

    s->stats->camera_count = cfg->camera_count;
    camera_rig_links links = {.sim = s->sim,          .start_ns = &s->start_ns, .stop = &s->control_done,
                              .end_ns = &s->t_end_ns, .fail = fail_hook,        .user = s,
                              .stats = s->stats->cameras, .console = s->tap};
    s->cameras = camera_rig_create(cfg, &links, err, errlen);
    if (!s->cameras)
        return -1;
    s->snapshot_ring_count =
        camera_rig_snapshot_rings(s->cameras, s->snapshot_rings, s->snapshot_fps, TP_SESSION_MAX_CAMERAS);
    s->period_ns = (int64_t)llround(1e9 / cfg->control_hz);
    s->console_every = (int)fmax(1.0, lround(cfg->control_hz / CONSOLE_POSE_HZ));
    s->object_count = s->mirror ? 0 : tp_sim_free_body_count(s->sim);
    s->object_decimation = (int)fmax(1.0, lround(cfg->control_hz / OBJECTS_RATE_HZ));
    if (s->object_count > 0 &&
        (!(s->object_poses = calloc((size_t)s->object_count * TP_SIM_POSE_DIMS, sizeof(double))) ||
         tp_ring_init(&s->objects, sizeof(int64_t) + sizeof(float) * TP_SIM_POSE_DIMS * (size_t)s->object_count,
                      (size_t)(2 * OBJECTS_RATE_HZ) + 64))) {
        snprintf(err, errlen, "session: out of memory");
        return -1;
    }

    /* Timing figures cover the first ten minutes of a longer session. */
    size_t cycles = (size_t)(fmin(cfg->duration_s, 600.0) * cfg->control_hz) + 16;
    s->period_cap = cycles;
    s->periods_ns = calloc(cycles, sizeof *s->periods_ns);
    s->compute_ns = calloc(cycles, sizeof *s->compute_ns);
    /* Rings hold about a second of data: the recorder drains every 50 ms. */
    size_t ctl_cap = (size_t)cfg->control_hz + 64;
    if (!s->periods_ns || !s->compute_ns ||
        tp_ring_init(&s->op_to_control, sizeof(tp_operator_frame), 64) ||
        tp_ring_init(&s->op_to_recorder, sizeof(tp_operator_frame), (size_t)cfg->operator_hz * 2 + 64) ||
        tp_ring_init(&s->samples, sizeof(control_sample), ctl_cap * 2) ||
        tp_ring_init(&s->control_events, sizeof(station_event), 1024) ||
        tp_ring_init(&s->watchdog_events, sizeof(station_event), 64) ||
        tp_ring_init(&s->device_events, sizeof(tp_device_event), 256) ||
        tp_ring_init(&s->usb_events, sizeof(tp_device_event), 64) ||
        tp_ring_init(&s->commands, sizeof(tp_command_msg), 256) ||
        tp_ring_init(&s->inputs, sizeof(station_input), 64)) {
        snprintf(err, errlen, "session: out of memory");
        return -1;
    }
    return 0;
}

static void free_session(session *s)
{
    session_usb_stop(s); /* its thread pushes to usb_events; done already unless setup failed */
    tp_ring *rings[] = {&s->op_to_control,   &s->op_to_recorder, &s->samples,  &s->control_events,
                        &s->watchdog_events, &s->device_events, &s->usb_events,  &s->commands,  &s->inputs};
    for (size_t i = 0; i < sizeof rings / sizeof rings[0]; i++)
        tp_ring_free(rings[i]);
    if (s->object_count > 0)
        tp_ring_free(&s->objects);
    free(s->object_poses);
    free(s->periods_ns);
    free(s->compute_ns);
    session_gloves_close(s);
    camera_rig_destroy(s->cameras);
    tp_console_tap_destroy(s->own_tap); /* after the threads that fed it */
    tp_controller_destroy(s->controller);
    session_view_close(s); /* its thread is gone before the device's OpenXR session */
    tp_operator_device_close(&s->device);
    tp_robot_link_close(&s->link);
    tp_sim_destroy(s->mirror);
}

static void compute_stats(session *s)
{
    tp_session_stats *st = s->stats;
    size_t n = s->period_count;
    /* periods_ns[0] is unset (no previous cycle); skip it. */
    if (n > 1) {
        int64_t *p = s->periods_ns + 1;
        size_t np = n - 1;
        int64_t nominal = (int64_t)llround(1e9 / s->cfg->control_hz);
        int64_t *jit = malloc(np * sizeof *jit);
        if (jit) {
            for (size_t i = 0; i < np; i++)
                jit[i] = llabs(p[i] - nominal);
            st->jitter_median_us = pct_i64(jit, np, 0.5) / 1e3;
            st->jitter_p99_us = pct_i64(jit, np, 0.99) / 1e3;
            free(jit);
        }
        st->period_median_us = pct_i64(p, np, 0.5) / 1e3;
        st->period_p99_us = pct_i64(p, np, 0.99) / 1e3;
        st->period_max_us = pct_i64(p, np, 1.0) / 1e3;
    }
    st->compute_median_us = pct_i64(s->compute_ns, n, 0.5) / 1e3;
    st->compute_p99_us = pct_i64(s->compute_ns, n, 0.99) / 1e3;
    for (int i = 0; i < st->camera_count; i++) {
        const tp_session_camera_stats *c = &st->cameras[i];
        st->frames_rendered += atomic_load(&c->captured);
        st->frames_dropped += atomic_load(&c->dropped);
        st->frames_encoded += atomic_load(&c->encoded);
        st->bytes_video += atomic_load(&c->bytes);
    }
    if (st->camera_count > 0) {
        st->render_median_ms = st->cameras[0].capture_median_ms;
        st->encode_median_ms = st->cameras[0].encode_median_ms;
    }
}

static void raise_priority(pthread_attr_t *attr, bool want)
{
    if (!want)
        return;
    struct sched_param sp = {.sched_priority = sched_get_priority_min(SCHED_FIFO) + TP_ROBOT_LINK_RT_PRIORITY};
    if (pthread_attr_setinheritsched(attr, PTHREAD_EXPLICIT_SCHED) == 0 &&
        pthread_attr_setschedpolicy(attr, SCHED_FIFO) == 0)
        pthread_attr_setschedparam(attr, &sp);
}

int tp_session_run(const tp_session_config *cfg, volatile int *stop_flag, tp_session_stats *stats, char *err,
                   size_t errlen)
{
    session s_storage;
    session *s = &s_storage;
    memset(s, 0, sizeof *s);
    memset(stats, 0, sizeof *stats);
    s->cfg = cfg;
    s->external_stop = stop_flag;
    s->stats = stats;
    int64_t wall0 = tp_now_ns();
    int rc = -1;
    recorder rec = {.s = s, .ep_start_ns = INT64_MAX, .ep_end_ns = INT64_MAX, .events_from_ns = INT64_MAX};
    snprintf(rec.task, sizeof rec.task, "%s", cfg->task ? cfg->task : "");
    rec.qa = cfg->record ? tp_qa_worker_start() : NULL;
    {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(rec.stamp, sizeof rec.stamp, "%Y%m%d-%H%M%S", &tm);
    }

    if (init_session(s, err, errlen) != 0)
        goto out;
    /* The first episode is set up before anything starts, so a folder that
     * cannot take it fails the session at once. */
    if (cfg->record && cfg->workflow.auto_start) {
        if (session_open_episode(s, &rec, err, errlen) != 0)
            goto out;
        rec.first_opened = true;
    }

    /* The USB monitor's first enumeration (libusb start-up, reading every
     * device) happens here, before the session's clock is set. */
    session_usb_start(s);
    pthread_t th_dev, th_ctl, th_rec;
    /* Cameras open first: a sim camera renders its warm-up frame before the
     * session clock starts. */
    if (camera_rig_start_capture(s->cameras, err, errlen) != 0) {
        atomic_store(&s->control_done, 1);
        camera_rig_join(s->cameras);
        goto out;
    }
    s->t_start_ns = tp_now_ns() + 20 * 1000000LL; /* all threads start on one tick */
    atomic_store(&s->start_ns, s->t_start_ns);
    if (rec.w) {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)s->t_start_ns);
        tp_episode_writer_set_meta(rec.w, "start_t_ns", buf);
        tp_episode_writer_event(rec.w, s->t_start_ns, "session_start", cfg->task && cfg->task[0] ? cfg->task : NULL);
    }
    /* Cameras encode from the first episode's start, or not until one opens. */
    rec.epoch = camera_rig_begin_epoch(s->cameras, s->t_start_ns, rec.first_opened);
    {
        tp_wf_action acts[TP_WF_MAX_ACTIONS];
        session_perform(&rec, acts, tp_workflow_begin(&rec.wf, &cfg->workflow, s->t_start_ns, acts));
    }
    if (cfg->command_fd >= 0) {
        char kerr[256];
        s->keys = keyboard_start(cfg->command_fd, &s->inputs, kerr, sizeof kerr);
        if (!s->keys)
            tp_log_warn("%s; no command input", kerr);
    }
    pthread_attr_t ctl_attr;
    pthread_attr_init(&ctl_attr);
    raise_priority(&ctl_attr, cfg->realtime_priority);
    if (pthread_create(&th_ctl, &ctl_attr, session_control_thread, s) != 0) {
        /* No permission for SCHED_FIFO: run at normal priority. */
        tp_log_info("control thread: real-time priority unavailable, running at normal priority");
        pthread_attr_destroy(&ctl_attr);
        pthread_attr_init(&ctl_attr);
        if (pthread_create(&th_ctl, &ctl_attr, session_control_thread, s) != 0) {
            pthread_attr_destroy(&ctl_attr);
            session_fail(s, "session: cannot start the control thread");
            atomic_store(&s->control_done, 1);
            camera_rig_join(s->cameras);
            snprintf(err, errlen, "%s", s->fail_msg);
            goto out;
        }
    }
    pthread_attr_destroy(&ctl_attr);
    /* A thread that cannot start ends the session through the failure
     * flag; the ones that did start are joined as usual. */
    bool gloves_ok = session_gloves_start(s) == 0;
    bool view_ok = session_view_start(s) == 0;
    bool dev_ok = pthread_create(&th_dev, NULL, session_operator_thread, s) == 0;
    char enc_err[256];
    bool enc_ok = camera_rig_start_encoders(s->cameras, enc_err, sizeof enc_err) == 0;
    bool rec_ok = pthread_create(&th_rec, NULL, session_recorder_thread, &rec) == 0;
    pthread_t th_wd;
    bool wd_ok = pthread_create(&th_wd, NULL, session_watchdog_thread, s) == 0;
    if (!dev_ok)
        atomic_store(&s->device_done, 1);
    if (!dev_ok || !enc_ok || !rec_ok || !wd_ok || !gloves_ok || !view_ok)
        session_fail(s, "session: cannot start a worker thread");

    pthread_join(th_ctl, NULL);
    /* The link winds down once the loop has ended (a real robot's release
     * hands the arms back over weight_ramp_s) while the recorder finishes
     * the episode: the release is not the episode's time. Its figures are
     * read after it, so the release counts in them. */
    if (s->link_started) {
        s->link.ops->stop(s->link.state);
        s->link.ops->health(s->link.state, tp_now_ns(), &stats->robot_link);
    }
    atomic_store(&s->device_stop, 1);
    session_usb_stop(s);
    if (wd_ok)
        pthread_join(th_wd, NULL);
    if (dev_ok)
        pthread_join(th_dev, NULL);
    session_gloves_stop(s); /* after the operator thread, their reader */
    session_view_stop(s); /* after the operator thread, which ends the OpenXR session */
    camera_rig_join(s->cameras);
    stats->stop_to_encoded_s = (double)(tp_now_ns() - s->t_end_ns) / 1e9;
    if (rec_ok)
        pthread_join(th_rec, NULL);
    else
        rec.broken = true;
    keyboard_stop(s->keys);
    s->keys = NULL;
    stats->stop_to_recorded_s = (double)(tp_now_ns() - s->t_end_ns) / 1e9;

    if (rec.w) {
        /* The device ending the session (the operator quit in the headset,
         * the XR session or instance was lost) stops it early: the robot
         * holds its last command and the episode is kept. After a disk
         * fault the finish is tried all the same (outcome error); if the
         * disk refuses it, the committed rows stay a valid episode that
         * recovery finalizes later. */
        const char *outcome = atomic_load(&s->failed) || rec.broken                        ? "error"
                              : (stop_flag && *stop_flag) || atomic_load(&s->device_ended) ? "stopped"
                                                                                           : "completed";
        /* The session's end closes the episode still open: it ends where
         * the recorder last decided, after every thread (the device's
         * shutdown events included) was done; rows stamped later (operator
         * rows predicted ahead) are no episode's. */
        int64_t end = rec.decided_ns > rec.ep_start_ns ? rec.decided_ns : rec.ep_start_ns;
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)end);
        tp_episode_writer_set_meta(rec.w, "end_t_ns", buf);
        /* The gloves' line counts over the session (their threads are joined). */
        for (int side = 0; side < 2; side++) {
            const struct session_glove *g = &s->gloves[side];
            if (!g->enabled)
                continue;
            char key[32], lines[160];
            snprintf(key, sizeof key, "glove_%s_lines", g->cfg.name);
            snprintf(lines, sizeof lines,
                     "accepted %lld, not recorded (queue full) %lld, rejected: syntax %lld, range %lld, "
                     "incomplete %lld, too_long %lld",
                     (long long)g->totals.lines_accepted, (long long)atomic_load(&g->samples_dropped),
                     (long long)g->totals.lines_rejected[TP_GLOVE_REJECT_SYNTAX],
                     (long long)g->totals.lines_rejected[TP_GLOVE_REJECT_RANGE],
                     (long long)g->totals.lines_rejected[TP_GLOVE_REJECT_INCOMPLETE],
                     (long long)g->totals.lines_rejected[TP_GLOVE_REJECT_TOO_LONG]);
            tp_episode_writer_set_meta(rec.w, key, lines);
        }
        tp_episode_writer_event(rec.w, end, "session_end", outcome);
        tp_episode_writer_event(rec.w, end, "episode_end", outcome);
        int frc = tp_episode_writer_finish(rec.w, outcome);
        if (frc != 0 && !atomic_load(&s->failed) && !rec.broken)
            session_fail(s, tp_episode_writer_error(rec.w));
        stats->stop_to_final_s = (double)(tp_now_ns() - s->t_end_ns) / 1e9;
        tp_episode_writer_close(rec.w);
        rec.w = NULL;
        if (frc == 0)
            session_store_qa(&rec, rec.path);
        stats->episodes_kept++;
        snprintf(stats->episode_path, sizeof stats->episode_path, "%s", rec.path);
        session_notify(&rec, rec.path, "kept");
        if (session_chatty(cfg))
            session_say("episode %d: kept (%.1f s, session end) %s", rec.episode_index,
                (double)(s->t_end_ns - rec.ep_start_ns) / 1e9, rec.path);
    }
    if (rec.broken && rec.error[0] && !atomic_load(&s->failed)) {
        char msg[512];
        snprintf(msg, sizeof msg, "recording stopped %.2f s into the session: %.400s",
                 (double)(stats->recording_stopped_ns - s->t_start_ns) / 1e9, rec.error);
        session_fail(s, msg);
    }
    compute_stats(s);
    if (atomic_load(&s->failed)) {
        snprintf(err, errlen, "%s", s->fail_msg);
        goto out;
    }
    rc = 0;
out:
    keyboard_stop(s->keys);
    if (rec.w)
        tp_episode_writer_close(rec.w);
    tp_qa_worker_stop(rec.qa); /* the last episode's QA is stored before the session returns */
    /* An episode never published (setup cut short) does not exist. */
    if (stats->episode_path[0] && access(stats->episode_path, F_OK) != 0)
        stats->episode_path[0] = '\0';
    free_session(s);
    stats->wall_s = (double)(tp_now_ns() - wall0) / 1e9;
    return rc;
}

