/* teleop — the session's recorder thread: the rings drained into the open
 * episode. */
#include "station/session_internal.h"

static const char *event_kind(event_code c)
{
    switch (c) {
    case EV_CONTROL: return "control";
    case EV_DEADLINE_MISS: return "deadline_miss";
    case EV_RECORDER_BEHIND: return "recorder_behind";
    case EV_WATCHDOG_STALL: return "watchdog_control_stall";
    case EV_WATCHDOG_RESUMED: return "watchdog_control_resumed";
    case EV_SIM_SKIPPED: return "sim_time_skipped";
    }
    return "unknown";
}

/* Episode boundaries are kept by timestamp, not by timing (docs/recording.md,
 * "Episode boundaries"): a row, event or packet stamped t goes into the open
 * episode when t is in [ep_start_ns, until), is dropped when it is earlier
 * (a reset period, or before the episode opened) and stays queued when it is
 * later, for the next episode or the next batch. */
static int64_t drain_until(const recorder *rec)
{
    return rec->ep_end_ns < rec->decided_ns ? rec->ep_end_ns : rec->decided_ns;
}

static int write_event_ring(recorder *rec, tp_ring *ring, int64_t until)
{
    const station_event *front;
    char detail[96];
    while ((front = tp_ring_front(ring))) {
        station_event ev = *front;
        if (ev.t_ns >= until)
            break;
        tp_ring_release(ring);
        if (!rec->w || ev.t_ns < rec->ep_start_ns)
            continue;
        detail[0] = '\0';
        if (ev.code == EV_DEADLINE_MISS)
            snprintf(detail, sizeof detail, "late by %lld us", (long long)ev.arg);
        else if (ev.code == EV_WATCHDOG_STALL || ev.code == EV_WATCHDOG_RESUMED)
            snprintf(detail, sizeof detail, "no control cycle for %lld ms", (long long)ev.arg);
        else if (ev.code == EV_SIM_SKIPPED)
            snprintf(detail, sizeof detail, "the simulation jumped %lld ms to the clock", (long long)ev.arg);
        const char *kind = ev.code == EV_CONTROL ? ev.kind : event_kind(ev.code);
        if (tp_episode_writer_event(rec->w, ev.t_ns, kind, detail[0] ? detail : NULL) != 0)
            return -1;
    }
    return 0;
}

/* Operator device reports and operator commands. */
/* What the robot link reports is also said on stderr, for whoever watches
 * the station: at most a line a second, with the count of reports in
 * between (a flaky network would otherwise flood the terminal). */
static void tell_link_event(recorder *rec, const tp_device_event *ev)
{
    session *s = rec->s;
    int64_t now = tp_now_ns();
    if (rec->link_said_ns && now - rec->link_said_ns < 1000000000LL) {
        rec->link_unsaid++;
        return;
    }
    bool lost = strstr(ev->kind, "_lost") != NULL, hand = strstr(ev->kind, "hand") != NULL;
    const char *meaning = !lost ? "control resumes from the robot's measured pose"
                          : hand ? "that hand gets no commands until its state returns"
                                 : "the robot holds and its arms go back to its own controller";
    char more[64] = "";
    if (rec->link_unsaid)
        snprintf(more, sizeof more, " (%d more link reports in the last second)", rec->link_unsaid);
    tp_log_warn("robot link %s: %s%s%s: %s%s", s->link.ops->name, ev->kind, ev->detail[0] ? ", " : "", ev->detail,
                meaning, more);
    rec->link_said_ns = now;
    rec->link_unsaid = 0;
}

static int write_device_event_ring(recorder *rec, tp_ring *ring, int64_t until)
{
    const tp_device_event *front;
    while ((front = tp_ring_front(ring))) {
        if (front->t_ns >= until)
            break;
        int rc = rec->w && front->t_ns >= rec->events_from_ns
                     ? tp_episode_writer_event(rec->w, front->t_ns, front->kind, front->detail[0] ? front->detail : NULL)
                     : 0;
        tp_ring_release(ring);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int write_device_events(recorder *rec, int64_t until)
{
    session *s = rec->s;
    if (write_device_event_ring(rec, &s->device_events, until) != 0 ||
        write_device_event_ring(rec, &s->usb_events, until) != 0)
        return -1;
    for (int side = 0; side < 2; side++) {
        tp_ring *glove_events = session_glove_events(s, side);
        if (glove_events && write_device_event_ring(rec, glove_events, until) != 0)
            return -1;
    }
    tp_device_event link_events[16];
    for (int n; (n = s->link.ops->events(s->link.state, link_events, 16)) > 0;)
        for (int i = 0; i < n; i++) {
            tell_link_event(rec, &link_events[i]);
            if (rec->w && link_events[i].t_ns >= rec->events_from_ns &&
                tp_episode_writer_event(rec->w, link_events[i].t_ns, link_events[i].kind,
                                        link_events[i].detail[0] ? link_events[i].detail : NULL) != 0)
                return -1;
        }
    int kept = 0;
    for (int i = 0; i < rec->pending_count; i++) {
        const tp_command_msg *cmd = &rec->pending_cmds[i];
        if (cmd->t_ns >= until) {
            rec->pending_cmds[kept++] = *cmd;
            continue;
        }
        if (rec->w && cmd->t_ns >= rec->events_from_ns &&
            tp_episode_writer_event(rec->w, cmd->t_ns, "operator_command", tp_command_name(cmd->code)) != 0)
            return -1;
    }
    rec->pending_count = kept;
    return 0;
}

/* Moves everything queued and stamped before `until` into the open
 * transaction (rec->w NULL: drops it). */
static int drain_to_db(recorder *rec, int64_t until)
{
    session *s = rec->s;
    tp_episode_writer *w = rec->w;
    const control_sample *cs;
    while ((cs = tp_ring_front(&s->samples))) {
        if (cs->t_ns >= until)
            break; /* the next episode's, or the next batch's */
        if (!w || cs->t_ns < rec->ep_start_ns) {
            tp_ring_release(&s->samples);
            continue;
        }
        if (tp_episode_writer_sample(w, rec->id_state, rec->seq_samples, cs->t_ns, cs->state, N_JOINTS) ||
            tp_episode_writer_sample(w, rec->id_velocity, rec->seq_samples, cs->t_ns, cs->velocity, N_JOINTS) ||
            tp_episode_writer_sample(w, rec->id_action, rec->seq_samples, cs->t_ns, cs->action, N_JOINTS))
            return -1;
        tp_ring_release(&s->samples);
        rec->seq_samples++;
        s->stats->samples_recorded++;
    }
    /* Operator rows carry the runtime's predicted display time, up to tens
     * of milliseconds ahead of the clock: they wait here until their time
     * is decided like any other row. */
    const tp_operator_frame *op;
    while ((op = tp_ring_front(&s->op_to_recorder))) {
        if (op->t_ns >= until)
            break;
        if (!w || op->t_ns < rec->ep_start_ns) {
            tp_ring_release(&s->op_to_recorder);
            continue;
        }
        tp_operator_pack(op, rec->op_buf);
        if (tp_episode_writer_sample(w, rec->id_operator, rec->seq_operator, op->t_ns, rec->op_buf,
                                     TP_OPERATOR_DIMS))
            return -1;
        tp_ring_release(&s->op_to_recorder);
        rec->seq_operator++;
        s->stats->operator_frames++;
    }
    /* sim_objects rows are stamped on the control tick grid like state. */
    const unsigned char *obj;
    while (s->object_count > 0 && (obj = tp_ring_front(&s->objects))) {
        int64_t t;
        memcpy(&t, obj, sizeof t);
        if (t >= until)
            break;
        if (w && rec->id_objects > 0 && t >= rec->ep_start_ns &&
            tp_episode_writer_sample(w, rec->id_objects, rec->seq_objects++, t, (const float *)(obj + sizeof t),
                                     (size_t)s->object_count * TP_SIM_POSE_DIMS))
            return -1;
        tp_ring_release(&s->objects);
    }
    if (session_gloves_drain(rec, until) != 0)
        return -1;
    if (camera_rig_drain_epoch(s->cameras, w, w ? rec->epoch : INT64_MAX, rec->ep_start_ns, until) != 0)
        return -1;
    if (write_event_ring(rec, &s->control_events, until) || write_event_ring(rec, &s->watchdog_events, until) ||
        write_device_events(rec, until))
        return -1;
    return 0;
}

int session_flush_batch(recorder *rec)
{
    if (tp_episode_writer_begin(rec->w) != 0)
        return -1;
    if (drain_to_db(rec, drain_until(rec)) != 0)
        return -1;
    /* The queue has room again: an overflow from here on is a new one. */
    atomic_store(&rec->s->drop_since_ns, 0);
    return tp_episode_writer_commit(rec->w);
}

/* Nothing is being recorded (between episodes, or after a disk fault): rows
 * and events decided so far go nowhere, so no queue fills. */
static void discard_queues(recorder *rec)
{
    tp_episode_writer *w = rec->w;
    rec->w = NULL;
    drain_to_db(rec, rec->decided_ns);
    rec->w = w;
}

/* Recording ends, the session does not: the robot is held (control thread),
 * the operator told, and what was committed stays a valid episode. */
void session_stop_recording(recorder *rec, int64_t now, const char *why)
{
    session *s = rec->s;
    rec->broken = true;
    snprintf(rec->error, sizeof rec->error, "%s", why);
    s->stats->recording_stopped_ns = now;
    atomic_store(&s->recording_failed, 1);
    tp_log_error("recording stopped: %s; the robot is held, the session continues", why);
    tp_episode_writer_rollback(rec->w);
    /* Written if the disk still takes it (a slow disk does; a full one may not). */
    if (tp_episode_writer_begin(rec->w) == 0) {
        tp_episode_writer_event(rec->w, now, "recording_stopped", why);
        tp_episode_writer_event(rec->w, now, "emergency_hold", "recording stopped");
        if (tp_episode_writer_commit(rec->w) != 0)
            tp_episode_writer_rollback(rec->w);
    }
}


void *session_recorder_thread(void *arg)
{
    recorder *rec = arg;
    session *s = rec->s;
    session_set_thread_name("tp-recorder");
    /* Above the camera threads (nice -10 when permitted; they run at -5):
     * what a crash can lose is bounded by how late a batch commits, so the
     * writer must not wait behind three busy encoders. It needs little CPU
     * (about 1.5 % of a core), so it takes nothing from them that matters. */
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), -10) != 0)
        tp_log_debug("recorder: nice -10 not permitted, running at normal priority");
    const int64_t max_behind = (int64_t)(s->cfg->max_recorder_behind_s * 1e9);
    int64_t next = tp_now_ns(), dropped_seen = 0;
    for (;;) {
        bool last = camera_rig_done(s->cameras) && atomic_load(&s->control_done) && atomic_load(&s->device_done);
        int64_t step_ns = tp_now_ns();
        session_workflow_step(rec, step_ns);
        if (step_ns > rec->decided_ns)
            rec->decided_ns = step_ns;
        camera_rig_set_decided(s->cameras, rec->decided_ns);
        if (rec->w && !rec->broken && session_flush_batch(rec) != 0)
            session_stop_recording(rec, tp_now_ns(), tp_episode_writer_error(rec->w));
        int64_t now = tp_now_ns();
        /* A disk too slow shows as rows the control loop could not queue.
         * An overflow lasts from its first lost row until a check finds no
         * new loss; one longer than the limit ends the recording. */
        int64_t dropped = __atomic_load_n(&s->stats->samples_dropped, __ATOMIC_RELAXED);
        if (dropped > dropped_seen) {
            int64_t since = atomic_load(&s->drop_since_ns);
            if (since && now - since > max_behind && rec->w && !rec->broken) {
                char why[512];
                snprintf(why, sizeof why,
                         "%.300s: disk too slow: the recorder's queue overflowed for %.2f s (%lld state/action rows"
                         " lost)",
                         rec->path, (double)(now - since) / 1e9, (long long)dropped);
                session_stop_recording(rec, now, why);
            }
        } else {
            atomic_store(&s->drop_since_ns, 0);
        }
        dropped_seen = dropped;
        if (!rec->w || rec->broken)
            discard_queues(rec);
        camera_rig_report(s->cameras, tp_now_ns());
        session_status_line(rec, tp_now_ns());
        if (s->tap)
            session_console_status(rec, tp_now_ns());
        if (last)
            break;
        /* One batch every 50 ms on absolute deadlines, so a slow batch
         * does not stretch the window a crash can lose. */
        next += RECORD_BATCH_NS;
        if (next < now)
            next = now + RECORD_BATCH_NS / 5;
        tp_sleep_until_ns(next);
    }
    s->stats->recorder_cpu_s = session_thread_cpu_s();
    return NULL;
}

