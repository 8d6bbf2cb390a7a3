/* teleop — the session's status line and console figures. */
#include "station/session_internal.h"

/* One line: state, episode, time, counts, cameras, disk. Redrawn in place
 * on a terminal, a line a second otherwise (only for recording sessions). */
void session_status_line(recorder *rec, int64_t now)
{
    session *s = rec->s;
    const tp_session_config *cfg = s->cfg;
    bool tty = isatty(2);
    if (!session_chatty(cfg) || now - rec->status_ns < (tty ? 250000000LL : 1000000000LL))
        return;
    double dt = rec->status_ns ? (double)(now - rec->status_ns) / 1e9 : 0;
    rec->status_ns = now;
    char line[1024];
    int n = 0;
    const tp_workflow *wf = &rec->wf;
    n += snprintf(line + n, sizeof line - (size_t)n, "[%s] episode %d (%d kept, %d discarded)",
                  tp_wf_state_name(wf->state), rec->episode_index + (wf->state == TP_WF_RECORDING ? 0 : 1),
                  s->stats->episodes_kept, s->stats->episodes_discarded);
    double left = tp_workflow_time_left(wf, now);
    double in_state = fmax(0.0, (double)(now - wf->state_since_ns) / 1e9);
    if (wf->state == TP_WF_RECORDING || wf->state == TP_WF_RESETTING)
        n += snprintf(line + n, sizeof line - (size_t)n, "  %.1f s%s", in_state, left >= 0 ? "" : "");
    if (left >= 0)
        n += snprintf(line + n, sizeof line - (size_t)n, " (%.1f s left)", left);
    long long drops = 0;
    for (int i = 0; i < s->stats->camera_count && n < (int)sizeof line - 64; i++) {
        const tp_session_camera_stats *c = &s->stats->cameras[i];
        long long enc = atomic_load(&c->encoded);
        drops += atomic_load(&c->dropped);
        double fps = dt > 0 ? (double)(enc - rec->encoded_seen[i]) / dt : 0;
        rec->encoded_seen[i] = enc;
        n += snprintf(line + n, sizeof line - (size_t)n, "  %s %.1f fps", c->name, fps);
    }
    n += snprintf(line + n, sizeof line - (size_t)n, "  drops %lld", drops);
    if (s->mirror && n < (int)sizeof line - 128) { /* a real robot: how its link is doing */
        tp_robot_link_health h;
        s->link.ops->health(s->link.state, now, &h);
        double state_hz = dt > 0 ? (double)(h.states - rec->link_states_seen) / dt : 0;
        double command_hz = dt > 0 ? (double)(h.commands - rec->link_commands_seen) / dt : 0;
        rec->link_states_seen = h.states;
        rec->link_commands_seen = h.commands;
        n += snprintf(line + n, sizeof line - (size_t)n,
                      "  robot %s%.0f/%.0f Hz age %.1f ms gaps %llu crc %llu weight %.2f",
                      h.state_stale ? "STALE " : "", state_hz, command_hz, h.state_age_ms,
                      (unsigned long long)h.sequence_gaps, (unsigned long long)h.crc_errors, h.blend_weight);
    }
    struct statvfs vfs;
    if (statvfs(cfg->out_dir, &vfs) == 0 && n < (int)sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, "  disk %.1f GB free",
                      (double)vfs.f_bavail * (double)vfs.f_frsize / 1e9);
    if (cfg->status_extra && n < (int)sizeof line - 3) {
        n += snprintf(line + n, sizeof line - (size_t)n, "  ");
        cfg->status_extra(cfg->status_extra_user, line + n, sizeof line - (size_t)n);
    }
    if (tty)
        fprintf(stderr, "\r%s\033[K", line);
    else
        fprintf(stderr, "%s\n", line);
}

/* The status line's figures for the console (console_tap.h), every batch. */
void session_console_status(recorder *rec, int64_t now)
{
    session *s = rec->s;
    const tp_workflow *wf = &rec->wf;
    tp_console_status *st = console_feed_status_slot(s->tap);
    st->t_ns = now;
    st->start_ns = s->t_start_ns;
    st->duration_s = s->cfg->duration_s;
    st->record = s->cfg->record;
    st->state = wf->state;
    st->state_since_ns = wf->state_since_ns;
    st->time_left_s = tp_workflow_time_left(wf, now);
    st->episode = rec->episode_index + (wf->state == TP_WF_RECORDING ? 0 : 1);
    st->kept = s->stats->episodes_kept;
    st->discarded = s->stats->episodes_discarded;
    st->emergency = atomic_load(&s->emergency) || atomic_load(&s->keyboard_emergency);
    st->recording_stopped = atomic_load(&s->recording_failed);
    st->control_cycles = atomic_load_explicit(&s->heartbeat, memory_order_relaxed);
    st->deadline_misses = __atomic_load_n(&s->stats->deadline_misses, __ATOMIC_RELAXED);
    st->camera_count = s->stats->camera_count;
    for (int i = 0; i < st->camera_count; i++) {
        const tp_session_camera_stats *c = &s->stats->cameras[i];
        st->cameras[i] = (tp_console_camera_counts){atomic_load(&c->captured), atomic_load(&c->dropped),
                                                     atomic_load(&c->missed), atomic_load(&c->encoded),
                                                     atomic_load(&c->lost)};
    }
    snprintf(st->task, sizeof st->task, "%s", rec->task);
    snprintf(st->episode_path, sizeof st->episode_path, "%s",
             rec->w ? rec->path : s->stats->episode_path);
    struct statvfs vfs;
    st->disk_free_mb = statvfs(s->cfg->out_dir, &vfs) == 0 ? (double)vfs.f_bavail * (double)vfs.f_frsize / 1e6 : -1;
    console_feed_status_publish(s->tap);
}

