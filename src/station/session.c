/* teleop — session orchestration: device, control, camera (src/station/
 * cameras.c) and recorder threads joined by SPSC rings. */
#include "teleop/session.h"
#include "teleop/station_config.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "station/cameras.h"
#include "station/console_feed.h"
#include "station/episode_setup.h"
#include "station/keyboard.h"
#include "teleop/clock.h"
#include "teleop/controller.h"
#include "teleop/episode.h"
#include "teleop/log.h"
#include "teleop/motion.h"
#include "teleop/operator_device.h"
#include "teleop/paths.h"
#include "teleop/qa.h"
#include "teleop/ring.h"
#include "teleop/robot_link.h"
#include "teleop/safety.h"
#include "teleop/sim.h"
#include "teleop/text.h"

#define N_JOINTS TP_SIM_ACTION_DIMS
#define RECORD_BATCH_NS (50 * 1000000LL)

/* Events raised on real-time threads travel as fixed-size codes; the
 * recorder thread turns them into text. */
typedef enum event_code {
    EV_CONTROL, /* a change in the controller's state; kind says which */
    EV_DEADLINE_MISS,
    EV_RECORDER_BEHIND,
    EV_WATCHDOG_STALL,
    EV_WATCHDOG_RESUMED,
    EV_SIM_SKIPPED, /* the simulation jumped to the clock; arg: ms skipped */
} event_code;

typedef struct station_event {
    int64_t t_ns;
    event_code code;
    int64_t arg;
    const char *kind; /* EV_CONTROL: a static string from tp_control_flag_events */
} station_event;

typedef struct control_sample {
    int64_t t_ns;
    float state[N_JOINTS];
    float velocity[N_JOINTS];
    float action[N_JOINTS];
} control_sample;

typedef struct session {
    const tp_session_config *cfg;
    volatile int *external_stop;
    tp_robot_link link; /* opened at setup; the control thread reads and commands it */
    tp_sim *sim;        /* the link's simulated world (cameras, object poses, the controller's model), borrowed */
    tp_operator_device device; /* opened at setup, driven by the device thread */
    tp_controls controls;      /* device thread only */
    tp_controller *controller;
    camera_rig *cameras;
    tp_ring *snapshot_rings[TP_SESSION_MAX_CAMERAS]; /* one per sim camera, control → camera */
    double snapshot_fps[TP_SESSION_MAX_CAMERAS];     /* each one's camera rate */
    int snapshot_ring_count;
    int64_t period_ns; /* one control tick */
    /* The sim_objects stream: every free body's pose, control → recorder,
     * rows of int64 t_ns + object_count * TP_SIM_POSE_DIMS floats. */
    tp_ring objects;
    int object_count;
    int object_decimation; /* a row every this many control ticks */
    double *object_poses;  /* scratch, object_count * TP_SIM_POSE_DIMS */
    int console_every;     /* the console's pose: every this many control ticks */
    atomic_llong emergency_cause_ns; /* the command that last set or cleared an emergency hold */

    tp_ring op_to_control;   /* tp_operator_frame, device → control */
    tp_ring op_to_recorder;  /* tp_operator_frame, device → recorder */
    tp_ring samples;         /* control_sample, control → recorder */
    tp_ring control_events;  /* station_event, control → recorder */
    tp_ring watchdog_events; /* station_event, watchdog → recorder */
    tp_ring device_events;   /* tp_device_event, device → recorder */
    /* tp_command_msg, device → recorder: operator commands (record start,
     * stop, clutch, emergency), written as events; the one consumer that a
     * recording workflow takes over. */
    tp_ring commands;
    atomic_int emergency;    /* operator's emergency hold, device → control */
    atomic_int device_ended; /* the device ended the session (XR exit or loss) */
    atomic_int device_done;  /* device thread finished (its last reports are queued) */

    atomic_llong start_ns;   /* published once all threads may start; 0 before */
    atomic_int control_done; /* control thread finished (duration or stop) */
    atomic_llong heartbeat;  /* control cycles completed, for the watchdog */
    atomic_int device_stop;
    atomic_int failed; /* a worker hit a fatal error */
    atomic_int recording_failed; /* the recorder stopped writing: control holds the robot */
    atomic_int keyboard_emergency; /* the operator's emergency key, recorder → control */
    atomic_int workflow_done;      /* the recording workflow ended the session */
    tp_ring inputs;                /* station_input, keyboard → recorder */
    keyboard *keys;
    atomic_llong drop_since_ns;  /* first state/action row lost in the current overflow; 0: none */
    char fail_msg[512];

    int64_t t_start_ns, t_end_ns;
    int64_t *periods_ns; /* preallocated, one per cycle */
    int64_t *compute_ns;
    size_t period_cap, period_count;

    tp_session_stats *stats;
    char device_description[512];
} session;

static void fail(session *s, const char *msg)
{
    int expected = 0;
    if (atomic_compare_exchange_strong(&s->failed, &expected, 1))
        snprintf(s->fail_msg, sizeof s->fail_msg, "%s", msg);
}

static void fail_hook(void *user, const char *msg) { fail(user, msg); }

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool stopping(session *s)
{
    return (s->external_stop && *s->external_stop) || atomic_load(&s->failed) || atomic_load(&s->device_ended) ||
           atomic_load(&s->workflow_done);
}

/* The config (defaults, the key tables, paths): src/station/station_config.c. */

/* --------------------------------------------------------------- helpers */

static void set_thread_name(const char *name) { pthread_setname_np(pthread_self(), name); }

static void push_event(tp_ring *ring, int64_t t_ns, event_code code, int64_t arg)
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

/* --------------------------------------------------------- device thread */

/* The operator device (XR or motion replay) paces this thread: each poll
 * returns the next frame. The operator controls turn the frame sequence
 * into commands and the clutch state before the frame goes on. */
static void *device_thread(void *arg)
{
    session *s = arg;
    set_thread_name("tp-operator");
    tp_operator_device *dev = &s->device;
    char err[512];
    if (dev->ops->start(dev->state, s->t_start_ns, err, sizeof err) != 0) {
        fail(s, err);
        return NULL;
    }
    tp_operator_frame f;
    tp_device_event events[16];
    tp_command_msg cmds[16];
    while (!atomic_load(&s->device_stop) && !atomic_load(&s->failed)) {
        int n_events = 0;
        int rc = dev->ops->poll(dev->state, &f, events, 16, &n_events, err, sizeof err);
        for (int i = 0; i < n_events; i++)
            (void)tp_ring_push(&s->device_events, &events[i]); /* a full ring loses the event, never blocks */
        if (rc == TP_DEVICE_ERROR) {
            fail(s, err);
            break;
        }
        if (rc == TP_DEVICE_ENDED) {
            atomic_store(&s->device_ended, 1);
            break;
        }
        if (rc != TP_DEVICE_FRAME)
            continue;
        int n = tp_controls_update(&s->controls, &f, cmds, 16);
        for (int i = 0; i < n; i++) {
            (void)tp_ring_push(&s->commands, &cmds[i]);
            if (cmds[i].code == TP_CMD_EMERGENCY_ON || cmds[i].code == TP_CMD_EMERGENCY_OFF)
                atomic_store(&s->emergency_cause_ns, cmds[i].t_ns);
        }
        atomic_store(&s->emergency, tp_controls_emergency(&s->controls));
        (void)tp_ring_push(&s->op_to_control, &f);
        if (!tp_ring_push(&s->op_to_recorder, &f))
            s->stats->operator_frames_dropped++;
    }
    /* Winding down reports too (an XR session's STOPPING and EXITING). */
    int n_events = 0;
    tp_device_event events_end[16];
    dev->ops->stop(dev->state, events_end, 16, &n_events);
    for (int i = 0; i < n_events; i++)
        (void)tp_ring_push(&s->device_events, &events_end[i]);
    atomic_store(&s->device_done, 1);
    return NULL;
}

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
/* The sim_objects stream's rate. */
#define OBJECTS_RATE_HZ 100.0
/* The console's robot pose: a display's rate. */
#define CONSOLE_POSE_HZ 60.0

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
} control_clock;

/* One control tick at simulation time t (= t0 + tick · period on the
 * session clock): the state at t is read and published (state row, camera
 * snapshots due at this tick, object poses), the controller turns the
 * operator into the command for t, and the physics advances one period
 * under it. Every row of the tick is stamped t, whenever it is computed. */
static void control_tick(session *s, control_clock *cc, int64_t t, double *q, double *qd, double *command)
{
    s->link.ops->read_state(s->link.state, t, q, qd);
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
    if (s->cfg->console && cc->tick % s->console_every == 0)
        console_feed_pose(s->cfg->console, t, cc->last_flags, s->sim);
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
            push_event(&s->control_events, t, EV_RECORDER_BEHIND, 0);
    }
    s->link.ops->write_command(s->link.state, t, command);
    cc->tick++;
}

/* The control loop wakes on the session clock's grid (t0 + j · period) and
 * runs the simulation's ticks that are due: normally exactly one; after a
 * stall, up to CATCH_UP_TICKS more per cycle until it is back on the clock. */
static void *control_thread(void *arg)
{
    session *s = arg;
    set_thread_name("tp-control");
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
        fail(s, link_err);
        atomic_store(&s->control_done, 1);
        return NULL;
    }
    s->link.ops->read_state(s->link.state, t0, q, qd);
    tp_controller_reset(s->controller, q);

    /* Before the first frame, input counts as stale: its arrival is an event. */
    control_clock cc = {.last_flags = TP_CONTROL_INPUT_STALE};
    for (int k = 0; k < s->snapshot_ring_count; k++)
        cc.frame_at[k] = frame_tick(0, s->snapshot_fps[k], cfg->control_hz);
    int64_t wake = t0, last_start = 0, behind_since = 0, owed = 0;
    bool last_emergency = false;
    tp_operator_frame frame;
    while (!stopping(s)) {
        tp_sleep_until_ns(wake);
        int64_t start = tp_now_ns();
        if (start >= end_ns)
            break;
        if (last_start && s->period_count < s->period_cap)
            s->periods_ns[s->period_count] = start - last_start;
        if (start - wake > period) {
            __atomic_fetch_add(&st->deadline_misses, 1, __ATOMIC_RELAXED); /* the console reads it live */
            push_event(&s->control_events, start, EV_DEADLINE_MISS, (start - wake) / 1000);
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
        if ((due - cc.tick) * period > MAX_SIM_LAG_NS) {
            push_event(&s->control_events, t0 + cc.tick * period, EV_SIM_SKIPPED,
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
            push_event(&s->control_events, done, EV_DEADLINE_MISS, (done - wake) / 1000);
            wake = t0 + ((done - t0) / period + 1) * period;
        }
    }
    s->t_end_ns = tp_now_ns();
    s->link.ops->stop(s->link.state);
    s->link.ops->health(s->link.state, s->t_end_ns, &st->robot_link);
    st->sim_lag_at_end_ms = (double)(owed * period) / 1e6;
    st->control_cpu_s = thread_cpu_s();
    st->final_control_flags = cc.last_flags;
    atomic_store(&s->control_done, 1);
    return NULL;
}

/* ------------------------------------------------------- watchdog thread */

/* Watches the control loop from outside: a loop that stops cycling for ten
 * periods is reported (and again when it resumes). In simulation the robot
 * cannot move without the loop; a hardware robot link adds its own
 * command-timeout hold on top. */
static void *watchdog_thread(void *arg)
{
    session *s = arg;
    set_thread_name("tp-watchdog");
    const int64_t period = (int64_t)llround(1e9 / s->cfg->control_hz);
    const int64_t limit = 10 * period > 20000000LL ? 10 * period : 20000000LL;
    tp_watchdog wd;
    tp_watchdog_init(&wd, limit, tp_now_ns());
    while (!atomic_load(&s->control_done) && !stopping(s)) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
        int64_t now = tp_now_ns(), quiet;
        if (now < s->t_start_ns)
            continue;
        switch (tp_watchdog_observe(&wd, atomic_load_explicit(&s->heartbeat, memory_order_relaxed), now, &quiet)) {
        case TP_WATCHDOG_STALL:
            s->stats->watchdog_stalls++;
            push_event(&s->watchdog_events, now, EV_WATCHDOG_STALL, quiet / 1000000);
            break;
        case TP_WATCHDOG_RESUMED:
            push_event(&s->watchdog_events, now, EV_WATCHDOG_RESUMED, quiet / 1000000);
            break;
        case TP_WATCHDOG_NONE:
            break;
        }
    }
    return NULL;
}

/* ------------------------------------------------------- recorder thread */

typedef struct recorder {
    session *s;
    tp_episode_writer *w;
    int id_state, id_velocity, id_action, id_operator, id_objects;
    int64_t seq_samples, seq_operator, seq_objects;
    bool broken; /* a write failed: stop writing, keep what was committed */
    char error[512];
    float op_buf[TP_OPERATOR_DIMS];
    /* The workflow: which episode is open and which rows belong to it. */
    tp_workflow wf;
    int64_t epoch;                  /* the open episode's camera epoch */
    int64_t ep_start_ns, ep_end_ns; /* rows stamped in [start, end) are the episode's */
    /* Rows stamped before this have been written or dropped: the time up to
     * which the workflow had decided when the last batch was drained. Rows
     * stamped later stay queued, so a boundary decided later (a stop key
     * read a moment after a batch) still finds them. */
    int64_t decided_ns;
    /* Device events and operator commands stamped from here on are the
     * open episode's: its start, or for the first episode of an
     * auto-started session any time, so the operator device's start-up
     * (XR session states, early commands, before the control loop's first
     * cycle) is recorded with it. */
    int64_t events_from_ns;
    bool first_opened;              /* the first episode was set up before the threads started */
    int episode_index;              /* episodes opened, discarded takes included */
    char task[TP_TASK_MAX_BYTES + 1]; /* whole: checked where it enters (text.h) */
    char stamp[32];                 /* the session's start, in episode names */
    char path[4096];                /* the open episode */
    char last_kept[4096];
    tp_command_msg pending_cmds[64]; /* operator commands to write as events */
    int pending_count;
    int64_t status_ns;
    int64_t encoded_seen[TP_SESSION_MAX_CAMERAS];
    tp_qa_worker *qa; /* QA flags of kept episodes, off the recorder thread */
} recorder;

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
static int write_device_events(recorder *rec, int64_t until)
{
    session *s = rec->s;
    const tp_device_event *front;
    while ((front = tp_ring_front(&s->device_events))) {
        if (front->t_ns >= until)
            break;
        int rc = rec->w && front->t_ns >= rec->events_from_ns
                     ? tp_episode_writer_event(rec->w, front->t_ns, front->kind, front->detail[0] ? front->detail : NULL)
                     : 0;
        tp_ring_release(&s->device_events);
        if (rc != 0)
            return -1;
    }
    tp_device_event link_events[16];
    for (int n; (n = s->link.ops->events(s->link.state, link_events, 16)) > 0;)
        for (int i = 0; i < n; i++)
            if (rec->w && link_events[i].t_ns >= rec->events_from_ns &&
                tp_episode_writer_event(rec->w, link_events[i].t_ns, link_events[i].kind,
                                        link_events[i].detail[0] ? link_events[i].detail : NULL) != 0)
                return -1;
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
    if (camera_rig_drain_epoch(s->cameras, w, w ? rec->epoch : INT64_MAX, rec->ep_start_ns, until) != 0)
        return -1;
    if (write_event_ring(rec, &s->control_events, until) || write_event_ring(rec, &s->watchdog_events, until) ||
        write_device_events(rec, until))
        return -1;
    return 0;
}

static int flush_batch(recorder *rec)
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
static void stop_recording(recorder *rec, int64_t now, const char *why)
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

static void workflow_step(recorder *rec, int64_t now);
static void status_line(recorder *rec, int64_t now);
static void console_status(recorder *rec, int64_t now);

static void *recorder_thread(void *arg)
{
    recorder *rec = arg;
    session *s = rec->s;
    set_thread_name("tp-recorder");
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
        workflow_step(rec, step_ns);
        if (step_ns > rec->decided_ns)
            rec->decided_ns = step_ns;
        camera_rig_set_decided(s->cameras, rec->decided_ns);
        if (rec->w && !rec->broken && flush_batch(rec) != 0)
            stop_recording(rec, tp_now_ns(), tp_episode_writer_error(rec->w));
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
                stop_recording(rec, now, why);
            }
        } else {
            atomic_store(&s->drop_since_ns, 0);
        }
        dropped_seen = dropped;
        if (!rec->w || rec->broken)
            discard_queues(rec);
        camera_rig_report(s->cameras, tp_now_ns());
        status_line(rec, tp_now_ns());
        if (s->cfg->console)
            console_status(rec, tp_now_ns());
        if (last)
            break;
        /* One batch every 50 ms on absolute deadlines, so a slow batch
         * does not stretch the window a crash can lose. */
        next += RECORD_BATCH_NS;
        if (next < now)
            next = now + RECORD_BATCH_NS / 5;
        tp_sleep_until_ns(next);
    }
    s->stats->recorder_cpu_s = thread_cpu_s();
    return NULL;
}

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
static int open_episode(session *s, recorder *rec, char *err, size_t errlen)
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


/* ------------------------------------------------------------- workflow */

/* A line for the operator on stderr (clearing a status line drawn in place). */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%steleop: %s\n", isatty(2) ? "\r\033[K" : "", line);
}

static void notify(recorder *rec, const char *path, const char *what)
{
    const tp_session_config *cfg = rec->s->cfg;
    if (cfg->on_episode)
        cfg->on_episode(cfg->on_episode_user, path, what);
}

static bool chatty(const tp_session_config *cfg)
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
static void store_qa(recorder *rec, const char *path)
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
        if (open_episode(s, rec, err, sizeof err) != 0) {
            /* No room or no folder for the next episode: end the session
             * (the ones kept so far stay). open_episode left nothing. */
            char msg[512];
            snprintf(msg, sizeof msg, "cannot start episode %d: %.450s", rec->episode_index + 1, err);
            fail(s, msg);
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
    tp_episode_writer_event(rec->w, t, "episode_start", rec->task[0] ? rec->task : NULL);
    if (chatty(cfg))
        say("episode %d: recording %s%s%s",
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
        if (flush_batch(rec) != 0) {
            stop_recording(rec, tp_now_ns(), tp_episode_writer_error(rec->w));
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
        notify(rec, rec->path, "discarded");
        say("episode %d: discarded (%.1f s)", rec->episode_index, secs);
    } else {
        if (frc != 0)
            tp_log_error("episode %d: %s", rec->episode_index, "finish failed; recovery will finalize it");
        else
            store_qa(rec, rec->path);
        s->stats->episodes_kept++;
        snprintf(rec->last_kept, sizeof rec->last_kept, "%s", rec->path);
        snprintf(s->stats->episode_path, sizeof s->stats->episode_path, "%s", rec->path);
        notify(rec, rec->path, "kept");
        if (chatty(s->cfg))
            say("episode %d: kept (%.1f s, final %.2f s after its end) %s", rec->episode_index,
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
    notify(rec, rec->last_kept, "deleted");
    say("deleted the last kept episode %s (re-record)", rec->last_kept);
    rec->last_kept[0] = '\0';
    s->stats->episode_path[0] = '\0';
}

static void perform(recorder *rec, const tp_wf_action *a, int n)
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
static void workflow_step(recorder *rec, int64_t now)
{
    session *s = rec->s;
    tp_wf_action acts[TP_WF_MAX_ACTIONS];
    station_input in;
    /* The terminal's commands, then the console's (console_tap.h): one path. */
    while (tp_ring_pop(&s->inputs, &in) || (s->cfg->console && console_feed_pop_input(s->cfg->console, &in))) {
        if (in.kind == STATION_INPUT_WORKFLOW) {
            perform(rec, acts, tp_workflow_input(&rec->wf, (tp_wf_input)in.input, in.t_ns, acts));
        } else if (in.kind == STATION_INPUT_EMERGENCY) {
            int on = !atomic_load(&s->keyboard_emergency);
            atomic_store(&s->emergency_cause_ns, in.t_ns);
            atomic_store(&s->keyboard_emergency, on);
            say("emergency hold %s (keyboard)", on ? "ON: the robot holds still" : "released");
            if (rec->pending_count < 64)
                rec->pending_cmds[rec->pending_count++] =
                    (tp_command_msg){in.t_ns, on ? TP_CMD_EMERGENCY_ON : TP_CMD_EMERGENCY_OFF};
        } else if (in.kind == STATION_INPUT_TASK) {
            snprintf(rec->task, sizeof rec->task, "%s", in.task);
            say("task for the next episodes: %s", rec->task);
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
            perform(rec, acts, tp_workflow_input(&rec->wf, (tp_wf_input)input, cmd.t_ns, acts));
    }
    /* Every transition due by now, in order (a close and the next open at
     * the same instant), so no boundary waits a batch and shifts. */
    for (int n, guard = 0; guard < 1000 && (n = tp_workflow_tick(&rec->wf, now, acts)) > 0; guard++)
        perform(rec, acts, n);
}

/* One line: state, episode, time, counts, cameras, disk. Redrawn in place
 * on a terminal, a line a second otherwise (only for recording sessions). */
static void status_line(recorder *rec, int64_t now)
{
    session *s = rec->s;
    const tp_session_config *cfg = s->cfg;
    bool tty = isatty(2);
    if (!chatty(cfg) || now - rec->status_ns < (tty ? 250000000LL : 1000000000LL))
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
static void console_status(recorder *rec, int64_t now)
{
    session *s = rec->s;
    const tp_workflow *wf = &rec->wf;
    tp_console_status *st = console_feed_status_slot(s->cfg->console);
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
    console_feed_status_publish(s->cfg->console);
}

/* ------------------------------------------------------------------ run */

static int init_session(session *s, char *err, size_t errlen)
{
    const tp_session_config *cfg = s->cfg;
    tp_robot_link_config lcfg = {.model_path = cfg->model_path, .control_hz = cfg->control_hz};
    if (tp_robot_link_open(&s->link, cfg->robot_link, &lcfg, err, errlen) != 0)
        return -1;
    s->sim = tp_robot_link_simulator(&s->link);
    if (!s->sim) { /* cameras, object poses and the controller's model come from the simulated world */
        snprintf(err, errlen, "robot link '%s': the station needs a simulated world beside it", cfg->robot_link);
        return -1;
    }
    tp_operator_device_config dcfg = {.motion_path = cfg->motion_path, .loop = cfg->loop_motion,
                                      .rate_hz = cfg->operator_hz, .xr_runtime = cfg->xr_runtime,
                                      .xr_replay_script = cfg->xr_replay_script};
    if (tp_operator_device_open(&s->device, cfg->operator_source, &dcfg, err, errlen) != 0)
        return -1;
    s->device.ops->describe(s->device.state, s->device_description, sizeof s->device_description);
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
                              .stats = s->stats->cameras, .console = cfg->console};
    s->cameras = camera_rig_create(cfg, &links, err, errlen);
    if (!s->cameras)
        return -1;
    s->snapshot_ring_count =
        camera_rig_snapshot_rings(s->cameras, s->snapshot_rings, s->snapshot_fps, TP_SESSION_MAX_CAMERAS);
    s->period_ns = (int64_t)llround(1e9 / cfg->control_hz);
    s->console_every = (int)fmax(1.0, lround(cfg->control_hz / CONSOLE_POSE_HZ));
    s->object_count = tp_sim_free_body_count(s->sim);
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
        tp_ring_init(&s->commands, sizeof(tp_command_msg), 256) ||
        tp_ring_init(&s->inputs, sizeof(station_input), 64)) {
        snprintf(err, errlen, "session: out of memory");
        return -1;
    }
    return 0;
}

static void free_session(session *s)
{
    tp_ring *rings[] = {&s->op_to_control,   &s->op_to_recorder, &s->samples,  &s->control_events,
                        &s->watchdog_events, &s->device_events,  &s->commands,  &s->inputs};
    for (size_t i = 0; i < sizeof rings / sizeof rings[0]; i++)
        tp_ring_free(rings[i]);
    if (s->object_count > 0)
        tp_ring_free(&s->objects);
    free(s->object_poses);
    free(s->periods_ns);
    free(s->compute_ns);
    camera_rig_destroy(s->cameras);
    tp_controller_destroy(s->controller);
    tp_operator_device_close(&s->device);
    tp_robot_link_close(&s->link);
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
    struct sched_param sp = {.sched_priority = sched_get_priority_min(SCHED_FIFO) + 40};
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
        if (open_episode(s, &rec, err, errlen) != 0)
            goto out;
        rec.first_opened = true;
    }

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
        perform(&rec, acts, tp_workflow_begin(&rec.wf, &cfg->workflow, s->t_start_ns, acts));
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
    if (pthread_create(&th_ctl, &ctl_attr, control_thread, s) != 0) {
        /* No permission for SCHED_FIFO: run at normal priority. */
        tp_log_info("control thread: real-time priority unavailable, running at normal priority");
        pthread_attr_destroy(&ctl_attr);
        pthread_attr_init(&ctl_attr);
        if (pthread_create(&th_ctl, &ctl_attr, control_thread, s) != 0) {
            pthread_attr_destroy(&ctl_attr);
            fail(s, "session: cannot start the control thread");
            atomic_store(&s->control_done, 1);
            camera_rig_join(s->cameras);
            snprintf(err, errlen, "%s", s->fail_msg);
            goto out;
        }
    }
    pthread_attr_destroy(&ctl_attr);
    /* A thread that cannot start ends the session through the failure
     * flag; the ones that did start are joined as usual. */
    bool dev_ok = pthread_create(&th_dev, NULL, device_thread, s) == 0;
    char enc_err[256];
    bool enc_ok = camera_rig_start_encoders(s->cameras, enc_err, sizeof enc_err) == 0;
    bool rec_ok = pthread_create(&th_rec, NULL, recorder_thread, &rec) == 0;
    pthread_t th_wd;
    bool wd_ok = pthread_create(&th_wd, NULL, watchdog_thread, s) == 0;
    if (!dev_ok)
        atomic_store(&s->device_done, 1);
    if (!dev_ok || !enc_ok || !rec_ok || !wd_ok)
        fail(s, "session: cannot start a worker thread");

    pthread_join(th_ctl, NULL);
    atomic_store(&s->device_stop, 1);
    if (wd_ok)
        pthread_join(th_wd, NULL);
    if (dev_ok)
        pthread_join(th_dev, NULL);
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
        tp_episode_writer_event(rec.w, end, "session_end", outcome);
        tp_episode_writer_event(rec.w, end, "episode_end", outcome);
        int frc = tp_episode_writer_finish(rec.w, outcome);
        if (frc != 0 && !atomic_load(&s->failed) && !rec.broken)
            fail(s, tp_episode_writer_error(rec.w));
        stats->stop_to_final_s = (double)(tp_now_ns() - s->t_end_ns) / 1e9;
        tp_episode_writer_close(rec.w);
        rec.w = NULL;
        if (frc == 0)
            store_qa(&rec, rec.path);
        stats->episodes_kept++;
        snprintf(stats->episode_path, sizeof stats->episode_path, "%s", rec.path);
        notify(&rec, rec.path, "kept");
        if (chatty(cfg))
            say("episode %d: kept (%.1f s, session end) %s", rec.episode_index,
                (double)(s->t_end_ns - rec.ep_start_ns) / 1e9, rec.path);
    }
    if (rec.broken && rec.error[0] && !atomic_load(&s->failed)) {
        char msg[512];
        snprintf(msg, sizeof msg, "recording stopped %.2f s into the session: %.400s",
                 (double)(stats->recording_stopped_ns - s->t_start_ns) / 1e9, rec.error);
        fail(s, msg);
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
