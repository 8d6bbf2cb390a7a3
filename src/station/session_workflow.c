/* teleop — a session's episode lifecycle and the recording workflow's actions. */
#include "station/session_internal.h"

/* ------------------------------------------------------------- workflow */

/* A line for the operator on stderr (clearing a status line drawn in place). */
void session_say(const char *fmt, ...)
{
    char line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%steleop: %s\n", isatty(2) ? "\r\033[K" : "", line);
}

void session_notify(recorder *rec, const char *path, const char *what)
{
    const tp_session_config *cfg = rec->s->cfg;
    if (cfg->on_episode)
        cfg->on_episode(cfg->on_episode_user, path, what);
}

bool session_chatty(const tp_session_config *cfg)
{
    return cfg->workflow.episodes != 1 || !cfg->workflow.auto_start || cfg->workflow.episode_time_s > 0 ||
           cfg->command_fd >= 0;
}

static void remove_episode_files(const char *path)
{
    char side[4200];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* QA flags of a kept, finished episode (docs/qa.md), after its finish: on
 * the QA thread, so neither the control loop nor the recorder waits (inline
 * only when that thread could not be made). A failure leaves the episode as
 * finished, without QA. */
void session_store_qa(recorder *rec, const char *path)
{
    char err[1024];
    if (rec->qa && tp_qa_worker_submit(rec->qa, path) == 0)
        return;
    if (tp_qa_finish(path, NULL, err, sizeof err) != 0)
        tp_log_warn("QA flags not stored: %s", err);
}

/* OPEN: the episode set up before the threads started, or a new one. */
static void begin_episode(recorder *rec, int64_t t)
{
    session *s = rec->s;
    const tp_session_config *cfg = s->cfg;
    if (!cfg->record)
        return;
    /* Opened at or after the session's end: it would hold no row. */
    if ((atomic_load(&s->control_done) && t >= s->t_end_ns) ||
        t >= s->t_start_ns + (int64_t)llround(cfg->duration_s * 1e9))
        return;
    if (rec->first_opened) {
        rec->first_opened = false; /* its epoch began with the session */
    } else {
        /* Rows before decided_ns were already dropped (a start key read a
         * moment after a batch): the episode starts where its rows do. */
        if (t < rec->decided_ns)
            t = rec->decided_ns;
        char err[1024];
        if (session_open_episode(s, rec, err, sizeof err) != 0) {
            /* No room or no folder for the next episode: end the session
             * (the ones kept so far stay). session_open_episode left nothing. */
            char msg[512];
            snprintf(msg, sizeof msg, "cannot start episode %d: %.450s", rec->episode_index + 1, err);
            session_fail(s, msg);
            return;
        }
        rec->epoch = camera_rig_begin_epoch(s->cameras, t, true);
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)t);
        tp_episode_writer_set_meta(rec->w, "start_t_ns", buf);
    }
    rec->episode_index++;
    rec->events_from_ns = rec->episode_index == 1 && cfg->workflow.auto_start ? INT64_MIN : t;
    rec->ep_start_ns = t;
    rec->ep_end_ns = INT64_MAX;
    rec->seq_samples = rec->seq_operator = rec->seq_objects = 0;
    rec->seq_glove[0] = rec->seq_glove[1] = 0;
    tp_episode_writer_event(rec->w, t, "episode_start", rec->task[0] ? rec->task : NULL);
    if (session_chatty(cfg))
        session_say("episode %d: recording %s%s%s",
               rec->episode_index, rec->path, rec->task[0] ? ", task: " : "", rec->task);
}

/* CLOSE: everything stamped before t goes in, then the file is final (and
 * deleted when discarded). */
static void end_episode(recorder *rec, int64_t t, bool keep, const char *outcome)
{
    session *s = rec->s;
    if (!rec->w)
        return;
    /* Rows before decided_ns are already in the file (a stop key read a
     * moment after a batch): the episode ends after them. */
    if (t < rec->decided_ns)
        t = rec->decided_ns;
    if (t < rec->ep_start_ns)
        t = rec->ep_start_ns;
    rec->decided_ns = t; /* the workflow has decided up to the end: every row before it is the episode's */
    camera_rig_set_decided(s->cameras, t);
    camera_rig_begin_epoch(s->cameras, t, false);
    rec->ep_end_ns = t;
    int64_t deadline = tp_now_ns() + 1500000000LL; /* a stalled camera is given up on after 0.2 s */
    while (!rec->broken) {
        bool cameras_in = camera_rig_epoch_ended(s->cameras, rec->epoch);
        if (session_flush_batch(rec) != 0) {
            session_stop_recording(rec, tp_now_ns(), tp_episode_writer_error(rec->w));
            break;
        }
        if (cameras_in || tp_now_ns() > deadline)
            break;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    int64_t final0 = tp_now_ns();
    /* The operator command that closed the episode is stamped at its end:
     * like episode_end, a closing marker of this episode, not the next's. */
    int kept_cmds = 0;
    for (int i = 0; i < rec->pending_count; i++) {
        const tp_command_msg *cmd = &rec->pending_cmds[i];
        if (cmd->t_ns == t && !rec->broken)
            tp_episode_writer_event(rec->w, cmd->t_ns, "operator_command", tp_command_name(cmd->code));
        else
            rec->pending_cmds[kept_cmds++] = *cmd;
    }
    rec->pending_count = kept_cmds;
    const char *result = rec->broken ? "error" : outcome;
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)t);
    tp_episode_writer_set_meta(rec->w, "end_t_ns", buf);
    tp_episode_writer_event(rec->w, t, "episode_end", result);
    int frc = tp_episode_writer_finish(rec->w, result);
    tp_episode_writer_close(rec->w);
    rec->w = NULL;
    double secs = (double)(t - rec->ep_start_ns) / 1e9;
    double to_final = (double)(tp_now_ns() - final0) / 1e9 + (double)(final0 - t) / 1e9;
    if (!keep) {
        remove_episode_files(rec->path);
        s->stats->episodes_discarded++;
        rec->wf.last_closed_kept = false;
        session_notify(rec, rec->path, "discarded");
        session_say("episode %d: discarded (%.1f s)", rec->episode_index, secs);
    } else {
        if (frc != 0)
            tp_log_error("episode %d: %s", rec->episode_index, "finish failed; recovery will finalize it");
        else
            session_store_qa(rec, rec->path);
        s->stats->episodes_kept++;
        snprintf(rec->last_kept, sizeof rec->last_kept, "%s", rec->path);
        snprintf(s->stats->episode_path, sizeof s->stats->episode_path, "%s", rec->path);
        session_notify(rec, rec->path, "kept");
        if (session_chatty(s->cfg))
            session_say("episode %d: kept (%.1f s, final %.2f s after its end) %s", rec->episode_index,
                   secs, to_final, rec->path);
    }
    /* A disk fault ends the recording of this episode only when the next
     * one can be written again; the robot stays held (recording_failed). */
    rec->ep_start_ns = INT64_MAX;
}

static void delete_last_kept(recorder *rec)
{
    session *s = rec->s;
    if (!rec->last_kept[0])
        return;
    remove_episode_files(rec->last_kept);
    s->stats->episodes_kept--;
    s->stats->episodes_discarded++;
    session_notify(rec, rec->last_kept, "deleted");
    session_say("deleted the last kept episode %s (re-record)", rec->last_kept);
    rec->last_kept[0] = '\0';
    s->stats->episode_path[0] = '\0';
}

void session_perform(recorder *rec, const tp_wf_action *a, int n)
{
    for (int i = 0; i < n; i++) {
        switch (a[i].kind) {
        case TP_WF_OPEN: begin_episode(rec, a[i].t_ns); break;
        case TP_WF_CLOSE_KEEP: end_episode(rec, a[i].t_ns, true, "completed"); break;
        case TP_WF_CLOSE_DISCARD: end_episode(rec, a[i].t_ns, false, "discarded"); break;
        case TP_WF_DELETE_LAST_KEPT: delete_last_kept(rec); break;
        case TP_WF_END_SESSION: atomic_store(&rec->s->workflow_done, 1); break;
        }
    }
}

/* Operator inputs (keyboard, headset commands) and the clock, in order. */
void session_workflow_step(recorder *rec, int64_t now)
{
    session *s = rec->s;
    tp_wf_action acts[TP_WF_MAX_ACTIONS];
    station_input in;
    /* The terminal's commands, then the console's (console_tap.h): one path. */
    while (tp_ring_pop(&s->inputs, &in) || (s->tap && console_feed_pop_input(s->tap, &in))) {
        if (in.kind == STATION_INPUT_WORKFLOW) {
            session_perform(rec, acts, tp_workflow_input(&rec->wf, (tp_wf_input)in.input, in.t_ns, acts));
        } else if (in.kind == STATION_INPUT_EMERGENCY) {
            int on = !atomic_load(&s->keyboard_emergency);
            atomic_store(&s->emergency_cause_ns, in.t_ns);
            atomic_store(&s->keyboard_emergency, on);
            session_say("emergency hold %s (keyboard)", on ? "ON: the robot holds still" : "released");
            if (rec->pending_count < 64)
                rec->pending_cmds[rec->pending_count++] =
                    (tp_command_msg){in.t_ns, on ? TP_CMD_EMERGENCY_ON : TP_CMD_EMERGENCY_OFF};
        } else if (in.kind == STATION_INPUT_TASK) {
            snprintf(rec->task, sizeof rec->task, "%s", in.task);
            session_say("task for the next episodes: %s", rec->task);
        }
    }
    tp_command_msg cmd;
    while (tp_ring_pop(&s->commands, &cmd)) {
        if (rec->pending_count < 64)
            rec->pending_cmds[rec->pending_count++] = cmd;
        int input = cmd.code == TP_CMD_RECORD_START         ? TP_WF_IN_START
                    : cmd.code == TP_CMD_RECORD_STOP_KEEP    ? TP_WF_IN_STOP_KEEP
                    : cmd.code == TP_CMD_RECORD_STOP_DISCARD ? TP_WF_IN_STOP_DISCARD
                                                             : -1;
        if (input >= 0)
            session_perform(rec, acts, tp_workflow_input(&rec->wf, (tp_wf_input)input, cmd.t_ns, acts));
    }
    /* Every transition due by now, in order (a close and the next open at
     * the same instant), so no boundary waits a batch and shifts. */
    for (int n, guard = 0; guard < 1000 && (n = tp_workflow_tick(&rec->wf, now, acts)) > 0; guard++)
        session_perform(rec, acts, n);
}

