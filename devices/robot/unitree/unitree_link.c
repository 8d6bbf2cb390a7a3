/* teleop — the "unitree" robot link: a Unitree G1's arms and Dex3-1 hands
 * over DDS (docs/devices/unitree.md). This file holds the ops: open and close
 * (DDS entities, the robot model, the threads), the control thread's
 * read_state and write_command, health and events. The receiver and the
 * sender threads are in unitree_link_rx.c and unitree_link_tx.c. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "teleop/clock.h"
#include "unitree_link_internal.h"

#define EVENT_CAPACITY 64
/* Commands a little outside the model's limits are rounding, not a fault. */
#define LIMIT_TOLERANCE 1e-6

static const char *const hand_found[2] = {"left hand: state ", "right hand: state "};
static const char *const hand_lost[2] = {"left hand: no state for ", "right hand: no state for "};

static int check_range(const char *key, double v, double lo, double hi, bool lo_open, const char *unit, char *err,
                       size_t errlen)
{
    if (isfinite(v) && (lo_open ? v > lo : v >= lo) && v <= hi)
        return 0;
    snprintf(err, errlen, "unitree.%s: %g is outside %s%g, %g]%s%s", key, v, lo_open ? "(" : "[", lo, hi,
             *unit ? " " : "", unit);
    return -1;
}

static int check_config(const tp_unitree_link_config *c, double control_hz, char *err, size_t errlen)
{
    if (c->domain_id < 0 || c->domain_id > 232) {
        snprintf(err, errlen, "unitree.domain: %d is outside 0..232 (DDS domain ids)", c->domain_id);
        return -1;
    }
    if (c->interface) {
        bool name_ok = strlen(c->interface) < 64;
        for (const char *ch = c->interface; *ch && name_ok; ch++)
            name_ok = isalnum((unsigned char)*ch) || strchr("._-:", *ch);
        if (!name_ok) {
            snprintf(err, errlen, "unitree.interface: '%.63s' is not a network interface name or address",
                     c->interface);
            return -1;
        }
    }
    if (!(control_hz > 0) || !isfinite(control_hz)) {
        snprintf(err, errlen, "session.control_rate_hz: %g is not a rate", control_hz);
        return -1;
    }
    if (check_range("state_timeout_ms", c->state_timeout_ms, 0, 10000, true, "ms", err, errlen) ||
        check_range("weight_ramp_s", c->weight_ramp_s, 0, 60, true, "s", err, errlen) ||
        check_range("hand_rate_hz", c->hand_rate_hz, 0, 1000, false, "Hz", err, errlen) ||
        check_range("arm_kp", c->arm_kp, 0, 1000, false, "", err, errlen) ||
        check_range("arm_kd", c->arm_kd, 0, 100, false, "", err, errlen) ||
        check_range("wrist_kp", c->wrist_kp, 0, 1000, false, "", err, errlen) ||
        check_range("wrist_kd", c->wrist_kd, 0, 100, false, "", err, errlen) ||
        check_range("hand_kp", c->hand_kp, 0, 100, false, "", err, errlen) ||
        check_range("hand_kd", c->hand_kd, 0, 10, false, "", err, errlen))
        return -1;
    return 0;
}

static void unitree_link_close(void *state);

static int make_endpoints(unitree_link *l, char *err, size_t errlen)
{
    const dds_topic_descriptor_t *low_state = &unitree_hg_msg_dds__LowState__desc;
    const dds_topic_descriptor_t *hand_state = &unitree_hg_msg_dds__HandState__desc;
    const dds_topic_descriptor_t *hand_cmd = &unitree_hg_msg_dds__HandCmd__desc;
    struct {
        dds_entity_t *e;
        const char *topic;
        const dds_topic_descriptor_t *type;
        bool writer;
    } ends[] = {
        {&l->low_reader, TP_UNITREE_TOPIC_LOWSTATE, low_state, false},
        {&l->hand_reader[0], TP_UNITREE_TOPIC_DEX3_LEFT_STATE, hand_state, false},
        {&l->hand_reader[1], TP_UNITREE_TOPIC_DEX3_RIGHT_STATE, hand_state, false},
        {&l->arm_writer, TP_UNITREE_TOPIC_ARM_SDK, &unitree_hg_msg_dds__LowCmd__desc, true},
        {&l->hand_writer[0], TP_UNITREE_TOPIC_DEX3_LEFT_CMD, hand_cmd, true},
        {&l->hand_writer[1], TP_UNITREE_TOPIC_DEX3_RIGHT_CMD, hand_cmd, true},
    };
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        *ends[i].e = ends[i].writer ? tp_unitree_dds_writer(l->dds, ends[i].topic, ends[i].type)
                                    : tp_unitree_dds_reader(l->dds, ends[i].topic, ends[i].type);
        if (*ends[i].e < 0) {
            snprintf(err, errlen, "unitree: cannot create the %s of %s: %s", ends[i].writer ? "writer" : "reader",
                     ends[i].topic, dds_strretcode(*ends[i].e));
            return -1;
        }
    }
    dds_entity_t pp = tp_unitree_dds_participant(l->dds);
    l->waitset = dds_create_waitset(pp);
    l->quit_guard = dds_create_guardcondition(pp);
    if (l->waitset < 0 || l->quit_guard < 0 || dds_waitset_attach(l->waitset, l->quit_guard, 0) < 0) {
        snprintf(err, errlen, "unitree: cannot create the receiver's waitset");
        return -1;
    }
    dds_entity_t readers[3] = {l->low_reader, l->hand_reader[0], l->hand_reader[1]};
    for (int i = 0; i < 3; i++) {
        dds_entity_t rc = dds_create_readcondition(readers[i], DDS_ANY_STATE);
        if (rc < 0 || dds_waitset_attach(l->waitset, rc, readers[i]) < 0) {
            snprintf(err, errlen, "unitree: cannot create the receiver's read conditions");
            return -1;
        }
    }
    return 0;
}

/* SCHED_FIFO at the control thread's priority when asked and permitted,
 * else the default policy. */
static int start_thread(pthread_t *th, void *(*fn)(void *), void *arg, bool realtime)
{
    if (realtime) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        struct sched_param sp = {.sched_priority = sched_get_priority_min(SCHED_FIFO) + TP_ROBOT_LINK_RT_PRIORITY};
        int rc = pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED) || pthread_attr_setschedpolicy(&attr, SCHED_FIFO) ||
                 pthread_attr_setschedparam(&attr, &sp) || pthread_create(th, &attr, fn, arg);
        pthread_attr_destroy(&attr);
        if (rc == 0)
            return 0;
    }
    return pthread_create(th, NULL, fn, arg);
}

static int unitree_link_open(void **state, const tp_robot_link_config *cfg, char *err, size_t errlen)
{
    const tp_unitree_link_config *c = &cfg->unitree;
    if (check_config(c, cfg->control_hz, err, errlen) != 0)
        return -1;
    unitree_link *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "unitree: out of memory");
        return -1;
    }
    l->wake_fd = -1;
    l->cfg = *c;
    snprintf(l->interface, sizeof l->interface, "%s", c->interface ? c->interface : "");
    l->cfg.interface = l->interface;
    l->control_hz = cfg->control_hz;
    l->period_ns = (int64_t)llround(1e9 / cfg->control_hz);
    l->timeout_ns = (int64_t)llround(c->state_timeout_ms * 1e6);
    const char *base = cfg->model_path ? strrchr(cfg->model_path, '/') : NULL;
    snprintf(l->model_name, sizeof l->model_name, "%s", base ? base + 1 : cfg->model_path ? cfg->model_path : "");
    if (tp_ring_init(&l->events, sizeof(tp_device_event), EVENT_CAPACITY) != 0 ||
        tp_triple_init(&l->command_slot, sizeof(ul_command)) != 0) {
        tp_ring_free(&l->events);
        free(l);
        snprintf(err, errlen, "unitree: out of memory");
        return -1;
    }
    l->model = cfg->model_path ? tp_sim_create(cfg->model_path, err, errlen) : NULL;
    if (!l->model) {
        if (!cfg->model_path)
            snprintf(err, errlen, "unitree: the robot link needs the robot's model ([robot] model)");
        goto fail;
    }
    for (int i = 0; i < UL_JOINTS; i++)
        tp_sim_joint_limits(l->model, i, &l->lower[i], &l->upper[i]);
    l->dds = tp_unitree_dds_open((uint32_t)c->domain_id, l->interface, err, errlen);
    if (!l->dds || make_endpoints(l, err, errlen) != 0)
        goto fail;
    l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->wake_fd < 0) {
        snprintf(err, errlen, "unitree: eventfd: %s", strerror(errno));
        goto fail;
    }
    /* The receiver starts now, so the first read_state after start finds the
     * robot's state if it is there. Both threads are on the control path
     * (a late receiver makes the state stale, a late sender supersedes
     * commands): with a real-time control thread they run at its priority. */
    if (start_thread(&l->rx_thread, ul_receiver_thread, l, cfg->realtime_priority) != 0) {
        snprintf(err, errlen, "unitree: cannot start the receiver thread");
        goto fail;
    }
    l->rx_started = true;
    if (start_thread(&l->tx_thread, ul_sender_thread, l, cfg->realtime_priority) != 0) {
        snprintf(err, errlen, "unitree: cannot start the sender thread");
        goto fail;
    }
    l->tx_started = true;
    *state = l;
    return 0;
fail:
    unitree_link_close(l);
    return -1;
}

static int unitree_link_start(void *state, int64_t t_start_ns, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    unitree_link *l = state;
    (void)t_start_ns; /* the session clock's origin may lie ahead of now: the counts start now */
    l->base_states = atomic_load(&l->states);
    l->base_commands = atomic_load(&l->commands);
    l->start_ns = tp_now_ns();
    return 0;
}

/* "12.3 ms" without printf (which may allocate): the age in tenths. */
static void format_ms(char *buf, size_t len, int64_t age_ns)
{
    char digits[24];
    int n = 0;
    uint64_t tenths = age_ns > 0 ? (uint64_t)(age_ns / 100000) : 0;
    do {
        digits[n++] = (char)('0' + tenths % 10);
        tenths /= 10;
    } while (tenths && n < 20);
    if (n == 1)
        digits[n++] = '0';
    size_t k = 0;
    for (int i = n - 1; i >= 0 && k + 5 < len; i--) {
        buf[k++] = digits[i];
        if (i == 1)
            buf[k++] = '.';
    }
    memcpy(buf + k, " ms", 4);
}

/* detail: what, then the age. */
static void push_event(unitree_link *l, int64_t t_ns, const char *kind, const char *what, int64_t age_ns)
{
    tp_device_event *e = tp_ring_reserve(&l->events);
    if (!e)
        return; /* nobody takes the events: the newest are lost, the state is still reported */
    e->t_ns = t_ns;
    e->kind = kind;
    size_t n = strlen(what);
    memcpy(e->detail, what, n);
    format_ms(e->detail + n, sizeof e->detail - n, age_ns);
    tp_ring_commit(&l->events);
}

static int unitree_link_read_state(void *state, int64_t t_ns, double *q, double *qd)
{
    unitree_link *l = state;
    ul_state st;
    ul_seqlock_read(&l->state, &st);
    /* t_ns is the tick's time on the session clock; a state stamped after it
     * is as fresh as can be. */
    int64_t age = st.low_ns ? t_ns - st.low_ns : INT64_MAX;
    if (age < 0)
        age = 0;
    bool fresh = age <= l->timeout_ns;
    atomic_store_explicit(&l->state_age_ms, st.low_ns ? (double)age / 1e6 : INFINITY, memory_order_relaxed);
    atomic_store_explicit(&l->state_stale, !fresh, memory_order_relaxed);
    if (fresh != l->was_fresh) {
        if (fresh)
            push_event(l, t_ns, "robot_link_found", "state ", age);
        else /* never before the first state: was_fresh starts false */
            push_event(l, t_ns, "robot_link_lost", "no state for ", age);
        l->was_fresh = fresh;
    }
    for (int i = 0; i < TP_G1_ARM_JOINTS; i++) {
        /* No state yet: nothing to say about the arms, and nothing a caller
         * could take for a position by mistake. */
        q[i] = st.low_ns ? st.arm_q[i] : NAN;
        qd[i] = st.low_ns ? st.arm_dq[i] : NAN;
    }
    for (int side = 0; side < 2; side++) {
        int64_t hand_age = st.hand_ns[side] ? t_ns - st.hand_ns[side] : INT64_MAX;
        bool hand_fresh = hand_age <= l->timeout_ns;
        if (hand_age < 0)
            hand_age = 0;
        if (hand_fresh != l->hand_was_fresh[side]) {
            if (hand_fresh)
                push_event(l, t_ns, "robot_hand_found", hand_found[side], hand_age);
            else
                push_event(l, t_ns, "robot_hand_lost", hand_lost[side], hand_age);
            l->hand_was_fresh[side] = hand_fresh;
        }
        double *hq = q + UL_HAND_BASE + side * TP_DEX3_MOTORS, *hqd = qd + UL_HAND_BASE + side * TP_DEX3_MOTORS;
        for (int i = 0; i < TP_DEX3_MOTORS; i++) {
            /* A hand that is not heard from reads back as it was told to be. */
            hq[i] = hand_fresh ? st.hand_q[side][i] : l->last_hand_target[side][i];
            hqd[i] = hand_fresh ? st.hand_dq[side][i] : 0.0;
        }
    }
    return fresh ? 0 : -1;
}

static int unitree_link_write_command(void *state, int64_t t_ns, const double *command, unsigned control_flags)
{
    unitree_link *l = state;
    for (int i = 0; i < UL_JOINTS; i++)
        if (!(command[i] >= l->lower[i] - LIMIT_TOLERANCE && command[i] <= l->upper[i] + LIMIT_TOLERANCE)) {
            /* Non-finite or beyond the robot's limits: the safety layer
             * passes neither, so this is a fault upstream; never sent. */
            atomic_fetch_add_explicit(&l->commands_refused, 1, memory_order_relaxed);
            return -1;
        }
    /* A hand that is not heard from reads back as last commanded. */
    memcpy(l->last_hand_target, command + UL_HAND_BASE, sizeof l->last_hand_target);
    /* The newest command wins: one the sender has not taken yet (it ran
     * late) is overtaken by this one and never sent. */
    if (tp_triple_unread(&l->command_slot))
        atomic_fetch_add_explicit(&l->commands_superseded, 1, memory_order_relaxed);
    ul_command *slot = tp_triple_back(&l->command_slot);
    slot->t_ns = t_ns;
    slot->flags = control_flags;
    slot->state_fresh = l->was_fresh;
    memcpy(slot->q, command, sizeof slot->q);
    tp_triple_publish(&l->command_slot);
    ul_wake_sender(l);
    return 0;
}

static void unitree_link_health(void *state, int64_t now_ns, tp_robot_link_health *out)
{
    unitree_link *l = state;
    memset(out, 0, sizeof *out);
    out->states = atomic_load_explicit(&l->states, memory_order_relaxed) - l->base_states;
    out->commands = atomic_load_explicit(&l->commands, memory_order_relaxed) - l->base_commands;
    double span_s = (double)(now_ns - l->start_ns) / 1e9;
    if (span_s > 0) {
        out->state_hz = (double)out->states / span_s;
        out->command_hz = (double)out->commands / span_s;
    }
    out->state_age_ms = atomic_load_explicit(&l->state_age_ms, memory_order_relaxed);
    out->sequence_gaps = atomic_load_explicit(&l->sequence_gaps, memory_order_relaxed);
    out->crc_errors = atomic_load_explicit(&l->crc_errors, memory_order_relaxed);
    out->state_stale = atomic_load_explicit(&l->state_stale, memory_order_relaxed);
    out->commands_refused = atomic_load_explicit(&l->commands_refused, memory_order_relaxed);
    out->commands_superseded = atomic_load_explicit(&l->commands_superseded, memory_order_relaxed);
    out->blend_weight = atomic_load_explicit(&l->weight, memory_order_relaxed);
}

static int unitree_link_events(void *state, tp_device_event *events, int max_events)
{
    unitree_link *l = state;
    int n = 0;
    while (n < max_events && tp_ring_pop(&l->events, &events[n]))
        n++;
    return n;
}

/* The release (the last target held, the weight ramped to 0), then the
 * sender sends nothing more. */
static void release(unitree_link *l)
{
    atomic_store(&l->stopping, true);
    ul_wake_sender(l);
    /* The release takes weight_ramp_s from full weight; the margin covers a
     * sender that is late to run. */
    int64_t give_up = tp_now_ns() + (int64_t)llround((l->cfg.weight_ramp_s + 1.0) * 1e9);
    while (!atomic_load(&l->released) && tp_now_ns() < give_up) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

static void unitree_link_stop(void *state) { release(state); }

static void unitree_link_close(void *state)
{
    unitree_link *l = state;
    if (!l)
        return;
    /* A session that ends without stop (a failed set-up) still hands the
     * arms back before the sender goes. */
    if (l->tx_started && !atomic_load(&l->stopping))
        release(l);
    atomic_store(&l->quit, true);
    if (l->tx_started) {
        ul_wake_sender(l);
        pthread_join(l->tx_thread, NULL);
    }
    if (l->rx_started) {
        dds_set_guardcondition(l->quit_guard, true);
        pthread_join(l->rx_thread, NULL);
    }
    if (l->wake_fd >= 0)
        close(l->wake_fd);
    if (l->waitset > 0)
        dds_delete(l->waitset);
    tp_unitree_dds_close(l->dds); /* its readers, writers, conditions */
    tp_sim_destroy(l->model);
    tp_ring_free(&l->events);
    tp_triple_free(&l->command_slot);
    free(l);
}

static void unitree_link_describe(void *state, char *buf, size_t len)
{
    unitree_link *l = state;
    ul_state st;
    ul_seqlock_read(&l->state, &st);
    const char *ifname = l->interface[0] ? l->interface : "the default interface";
    if (!st.low_ns)
        snprintf(buf, len, "Unitree G1 over DDS domain %d on %s (%s), no state received yet", l->cfg.domain_id,
                 ifname, l->model_name);
    else
        snprintf(buf, len, "Unitree G1 over DDS domain %d on %s (%s), mode_machine %u, last state %.1f ms ago",
                 l->cfg.domain_id, ifname, l->model_name, st.mode_machine, (double)(tp_now_ns() - st.low_ns) / 1e6);
}

static tp_sim *unitree_link_simulator(void *state)
{
    (void)state; /* a real robot: its model gives limits and gravity, not a world */
    return NULL;
}

const tp_robot_link_ops tp_unitree_robot_link = {
    .name = "unitree",
    .open = unitree_link_open,
    .start = unitree_link_start,
    .read_state = unitree_link_read_state,
    .write_command = unitree_link_write_command,
    .health = unitree_link_health,
    .events = unitree_link_events,
    .stop = unitree_link_stop,
    .close = unitree_link_close,
    .describe = unitree_link_describe,
    .simulator = unitree_link_simulator,
};
