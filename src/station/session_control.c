/* teleop — the session's control loop and its watchdog. */
#include "station/session_internal.h"

/* -------------------------------------------------------- control thread */

/* Rising and falling edges of the controller's flags become events. */
static void flag_events(session *s, int64_t t, unsigned now, unsigned before)
{
    const char *kinds[16];
    int n = tp_control_flag_events(now, before, kinds, 16);
    for (int i = 0; i < n; i++) {
        station_event ev = {t, EV_CONTROL, 0, kinds[i]};
        (void)tp_ring_push(&s->control_events, &ev);
    }
}

/* After a stall the simulation catches up with the clock: each control
 * cycle runs its own tick and up to this many late ones (a tick costs about
 * 0.1 ms, so five fit a 2 ms period), so a 36 ms stall is made up within
 * five cycles (10 ms). */
#define CATCH_UP_TICKS 4
/* Further behind than this (a stall of half a second) the simulation does not
 * replay the time: it jumps to the clock (a sim_time_skipped event), as if
 * paused, and the state stream has a gap. */
#define MAX_SIM_LAG_NS 500000000LL
/* How long the loop waits at start for a real robot's first state. */
#define FIRST_STATE_WAIT_NS 3000000000LL

/* The control tick nearest the due time of a camera's frame n, t0 + n/fps. */
static int64_t frame_tick(int64_t n, double fps, double control_hz)
{
    return llround((double)n * control_hz / fps);
}

/* The control thread's simulation clock and schedules. */
typedef struct control_clock {
    int64_t tick;                            /* the next tick to simulate */
    int64_t frame[TP_SESSION_MAX_CAMERAS];   /* per sim camera: its next frame */
    int64_t frame_at[TP_SESSION_MAX_CAMERAS]; /* ... and the tick that publishes it */
    unsigned last_flags;
    int64_t event_floor_ns; /* control events are stamped no earlier than this */
    bool robot_stale;       /* the link's state was stale at the last tick */
} control_clock;

/* One control tick at simulation time t (= t0 + tick · period on the
 * session clock): the state at t is read and published (state row, camera
 * snapshots due at this tick, object poses), the controller turns the
 * operator into the command for t, and the physics advances one period
 * under it. Every row of the tick is stamped t, whenever it is computed. */
static void control_tick(session *s, control_clock *cc, int64_t t, double *q, double *qd, double *command)
{
    /* A stale state (a real robot's link lost) holds the command from this
     * tick; the link itself sends no new target meanwhile. */
    bool stale = s->link.ops->read_state(s->link.state, t, q, qd) != 0;
    if (stale != cc->robot_stale) {
        tp_controller_set_robot_stale(s->controller, stale, q);
        cc->robot_stale = stale;
    }
    if (s->mirror)
        tp_sim_mirror_joints(s->mirror, q);
    for (int k = 0; k < s->snapshot_ring_count; k++) {
        while (cc->frame_at[k] < cc->tick) /* frame times the simulation jumped over */
            cc->frame_at[k] = frame_tick(++cc->frame[k], s->snapshot_fps[k], s->cfg->control_hz);
        if (cc->frame_at[k] != cc->tick)
            continue;
        /* A full ring (a second of frames: the camera stopped taking them)
         * loses this frame time; the camera counts it as missed. */
        unsigned char *snap = tp_ring_reserve(s->snapshot_rings[k]);
        if (snap) {
            memcpy(snap, &t, sizeof t);
            tp_sim_copy_qpos(s->sim, (double *)(snap + sizeof(int64_t)));
            tp_ring_commit(s->snapshot_rings[k]);
        }
        cc->frame_at[k] = frame_tick(++cc->frame[k], s->snapshot_fps[k], s->cfg->control_hz);
    }
    if (s->tap && cc->tick % s->console_every == 0)
        console_feed_pose(s->tap, t, cc->last_flags, s->sim);
    if (s->object_count > 0 && cc->tick % s->object_decimation == 0) {
        unsigned char *row = tp_ring_reserve(&s->objects);
        if (row) { /* a full ring: the recorder is behind; state rows count that loss */
            memcpy(row, &t, sizeof t);
            tp_sim_free_body_poses(s->sim, s->object_poses);
            float *out = (float *)(row + sizeof(int64_t));
            for (int i = 0; i < s->object_count * TP_SIM_POSE_DIMS; i++)
                out[i] = (float)s->object_poses[i];
            tp_ring_commit(&s->objects);
        }
    }

    unsigned flags = tp_controller_step(s->controller, NULL, t, command);
    /* An effect is never stamped before its cause: the controller acts only
     * on operator frames stamped before t, and an emergency hold (which acts
     * at once) is stamped no earlier than the command that asked for it. */
    flag_events(s, t > cc->event_floor_ns ? t : cc->event_floor_ns, flags, cc->last_flags);
    cc->last_flags = flags;
    if (s->tap && cc->tick % s->console_every == 0) { /* the operator's warnings (headset, console) */
        tp_limit_figures limits;
        tp_controller_limit_figures(s->controller, t, flags, command, &limits);
        console_feed_limits(s->tap, &limits);
    }

    control_sample *cs = tp_ring_reserve(&s->samples);
    if (cs) {
        cs->t_ns = t;
        for (int i = 0; i < N_JOINTS; i++) {
            cs->state[i] = (float)q[i];
            cs->velocity[i] = (float)qd[i];
            cs->action[i] = (float)command[i];
        }
        tp_ring_commit(&s->samples);
    } else {
        if (!atomic_load_explicit(&s->drop_since_ns, memory_order_relaxed))
            atomic_store_explicit(&s->drop_since_ns, t, memory_order_relaxed);
        if (__atomic_fetch_add(&s->stats->samples_dropped, 1, __ATOMIC_RELAXED) == 0)
            session_push_event(&s->control_events, t, EV_RECORDER_BEHIND, 0);
    }
    s->link.ops->write_command(s->link.state, t, command, flags);
    s->stats->control_ticks++;
    cc->tick++;
}

/* The control loop wakes on the session clock's grid (t0 + j · period) and
 * runs the simulation's ticks that are due: normally exactly one; after a
 * stall, up to CATCH_UP_TICKS more per cycle until it is back on the clock. */
void *session_control_thread(void *arg)
{
    session *s = arg;
    session_set_thread_name("tp-control");
    const tp_session_config *cfg = s->cfg;
    const int64_t period = s->period_ns;
    const int64_t t0 = s->t_start_ns;
    const int64_t end_ns = t0 + (int64_t)llround(cfg->duration_s * 1e9);
    int64_t stall_at = cfg->test_control_stall_for_s > 0
                                 ? t0 + (int64_t)llround(cfg->test_control_stall_at_s * 1e9)
                                 : INT64_MAX;
    tp_session_stats *st = s->stats;

    double q[N_JOINTS], qd[N_JOINTS], command[N_JOINTS];
    char link_err[256];
    if (s->link.ops->start(s->link.state, t0, link_err, sizeof link_err) != 0) {
        session_fail(s, link_err);
        atomic_store(&s->control_done, 1);
        return NULL;
    }
    s->link_started = true;
    /* A real robot's first state may still be on its way: the loop starts
     * from the robot's measured joints, never from a guess. */
    int64_t give_up = tp_now_ns() + FIRST_STATE_WAIT_NS;
    while (s->link.ops->read_state(s->link.state, tp_now_ns(), q, qd) != 0) {
        if (tp_now_ns() > give_up || session_stopping(s)) {
            snprintf(link_err, sizeof link_err, "robot link '%s': no robot state within %.0f s (%s)",
                     s->link.ops->name, FIRST_STATE_WAIT_NS / 1e9, "is the robot on and on this network and domain?");
            session_fail(s, link_err);
            atomic_store(&s->control_done, 1);
            return NULL;
        }
        tp_sleep_until_ns(tp_now_ns() + 1000000);
    }
    if (s->mirror)
        tp_sim_mirror_joints(s->mirror, q);
    tp_controller_reset(s->controller, q);

    /* Before the first frame, input counts as stale: its arrival is an event. */
    control_clock cc = {.last_flags = TP_CONTROL_INPUT_STALE};
    for (int k = 0; k < s->snapshot_ring_count; k++)
        cc.frame_at[k] = frame_tick(0, s->snapshot_fps[k], cfg->control_hz);
    int64_t wake = t0, last_start = 0, behind_since = 0, owed = 0;
    bool last_emergency = false;
    tp_operator_frame frame;
    while (!session_stopping(s)) {
        tp_sleep_until_ns(wake);
        int64_t start = tp_now_ns();
        if (start >= end_ns)
            break;
        if (last_start && s->period_count < s->period_cap)
            s->periods_ns[s->period_count] = start - last_start;
        if (start - wake > period) {
            __atomic_fetch_add(&st->deadline_misses, 1, __ATOMIC_RELAXED); /* the console reads it live */
            session_push_event(&s->control_events, start, EV_DEADLINE_MISS, (start - wake) / 1000);
        }
        last_start = start;

        /* An emergency from the operator's device, or the recording
         * stopped by a disk fault (the session goes on, the robot holds
         * where it is). */
        bool emergency = atomic_load_explicit(&s->emergency, memory_order_relaxed) ||
                         atomic_load_explicit(&s->recording_failed, memory_order_relaxed) ||
                         atomic_load_explicit(&s->keyboard_emergency, memory_order_relaxed);
        if (emergency != last_emergency) {
            tp_controller_set_emergency(s->controller, emergency);
            last_emergency = emergency;
            int64_t cause = atomic_load_explicit(&s->emergency_cause_ns, memory_order_relaxed);
            if (cause + 1 > cc.event_floor_ns)
                cc.event_floor_ns = cause + 1;
        }
        /* Every frame that arrived, oldest first: the ticks interpolate
         * between them. */
        while (tp_ring_pop(&s->op_to_control, &frame))
            tp_controller_push_frame(s->controller, &frame, start);

        int64_t due = (start - t0) / period; /* ticks 0 .. due are due */
        if ((double)((due + 1 - cc.tick) * period) / 1e6 > st->sim_max_lag_ms)
            st->sim_max_lag_ms = (double)((due + 1 - cc.tick) * period) / 1e6;
        if (s->mirror && due > cc.tick) {
            /* A real robot's time is not replayed: a late cycle commands the
             * tick that is due now (the state stream has a gap). */
            st->sim_ticks_skipped += due - cc.tick;
            cc.tick = due;
        } else if ((due - cc.tick) * period > MAX_SIM_LAG_NS) {
            session_push_event(&s->control_events, t0 + cc.tick * period, EV_SIM_SKIPPED,
                       (due - cc.tick) * period / 1000000);
            st->sim_ticks_skipped += due - cc.tick;
            cc.tick = due;
        }
        for (int ran = 0; cc.tick <= due && ran <= CATCH_UP_TICKS; ran++) {
            int64_t t = t0 + cc.tick * period;
            if (t >= end_ns)
                break;
            if (ran > 0)
                st->sim_catch_up_ticks++;
            control_tick(s, &cc, t, q, qd, command);
        }
        /* How far the simulation is behind the clock, and for how long. */
        owed = due + 1 - cc.tick;
        if (owed > 0) {
            if (!behind_since)
                behind_since = start;
        } else if (behind_since) {
            double ms = (double)(start - behind_since) / 1e6;
            if (ms > st->sim_max_catch_up_ms)
                st->sim_max_catch_up_ms = ms;
            behind_since = 0;
        }
        if (start >= stall_at) { /* test hook: a stall of the control loop */
            stall_at = INT64_MAX;
            tp_sleep_until_ns(tp_now_ns() + (int64_t)llround(cfg->test_control_stall_for_s * 1e9));
        }
        int64_t done = tp_now_ns();
        if (s->period_count < s->period_cap)
            s->compute_ns[s->period_count++] = done - start;
        st->control_cycles++;
        atomic_store_explicit(&s->heartbeat, st->control_cycles, memory_order_relaxed);

        wake += period;
        if (done - wake > period) {
            /* This cycle overran the next deadlines: a miss. Wake on the
             * clock's next tick; the simulation catches up from there. */
            __atomic_fetch_add(&st->deadline_misses, 1, __ATOMIC_RELAXED); /* the console reads it live */
            session_push_event(&s->control_events, done, EV_DEADLINE_MISS, (done - wake) / 1000);
            wake = t0 + ((done - t0) / period + 1) * period;
        }
    }
    s->t_end_ns = tp_now_ns();
    st->sim_lag_at_end_ms = (double)(owed * period) / 1e6;
    st->control_cpu_s = session_thread_cpu_s();
    st->final_control_flags = cc.last_flags;
    atomic_store(&s->control_done, 1);
    return NULL;
}

/* ------------------------------------------------------- watchdog thread */

/* Watches the control loop from outside: a loop that stops cycling for ten
 * periods is reported (and again when it resumes). In simulation the robot
 * cannot move without the loop; a hardware robot link adds its own
 * command-timeout hold on top. */
void *session_watchdog_thread(void *arg)
{
    session *s = arg;
    session_set_thread_name("tp-watchdog");
    const int64_t period = (int64_t)llround(1e9 / s->cfg->control_hz);
    const int64_t limit = 10 * period > 20000000LL ? 10 * period : 20000000LL;
    tp_watchdog wd;
    tp_watchdog_init(&wd, limit, tp_now_ns());
    while (!atomic_load(&s->control_done) && !session_stopping(s)) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
        int64_t now = tp_now_ns(), quiet;
        if (now < s->t_start_ns)
            continue;
        switch (tp_watchdog_observe(&wd, atomic_load_explicit(&s->heartbeat, memory_order_relaxed), now, &quiet)) {
        case TP_WATCHDOG_STALL:
            s->stats->watchdog_stalls++;
            session_push_event(&s->watchdog_events, now, EV_WATCHDOG_STALL, quiet / 1000000);
            break;
        case TP_WATCHDOG_RESUMED:
            session_push_event(&s->watchdog_events, now, EV_WATCHDOG_RESUMED, quiet / 1000000);
            break;
        case TP_WATCHDOG_NONE:
            break;
        }
    }
    return NULL;
}

