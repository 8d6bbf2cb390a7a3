/* The "unitree" link's sender thread: turns the control thread's commands
 * into rt/arm_sdk LowCmds (one per command, blend weight ramped) and Dex3-1
 * HandCmds (at hand_rate_hz), and releases the arms on its own clock when the
 * robot's state goes stale or the link stops. The rules
 * (docs/devices/unitree.md):
 *   - a new target only while the state is fresh (both as the control tick
 *     saw it and as the sender sees it now);
 *   - the weight ramps toward 1 at 1/weight_ramp_s per second while the
 *     command is engaged and the state fresh, toward 0 otherwise;
 *   - stale or stopping: the last target sent is held with the weight
 *     falling, one command per control period, down to 0; then nothing;
 *   - a command goes out half a control period after its tick (or when it
 *     arrives, if later): the control thread's varying compute time (IK)
 *     does not become jitter on the wire, as with a robot-side command
 *     thread on its own clock. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "teleop/clock.h"
#include "teleop/controller.h"
#include "unitree_link_internal.h"

typedef struct sender {
    unitree_link *l;
    double target[UL_JOINTS]; /* the last target sent */
    bool have_target;
    bool engaged; /* the last command sent was engaged on fresh state */
    float weight;
    int64_t last_publish_ns; /* 0: nothing published yet */
    int64_t next_release_ns, next_hand_ns;
    ul_command pending; /* taken, waiting for its publication time */
    bool have_pending;
    double tau[UL_JOINTS];
    tp_unitree_low_cmd cmd;
    tp_unitree_hand_cmd hand;
    tp_unitree_motor_cmd hand_motors[TP_DEX3_MOTORS];
} sender;

void ul_wake_sender(unitree_link *l)
{
    uint64_t one = 1;
    /* Non-blocking: a counter that is already set wakes the sender anyway. */
    ssize_t n = write(l->wake_fd, &one, sizeof one);
    (void)n;
}

static bool take_command(unitree_link *l, ul_command *c)
{
    bool fresh = false;
    const ul_command *newest = tp_triple_read(&l->command_slot, &fresh);
    if (!fresh || !newest)
        return false;
    *c = *newest;
    return true;
}

/* The weight moves at 1/weight_ramp_s per second of the time since the
 * previous command, so a sender that runs late still ramps in
 * weight_ramp_s. After a pause longer than MAX_WEIGHT_STEP_PERIODS control
 * periods (the first command, a stall, the state back after a loss) the step
 * is one period's, so the weight never jumps. */
#define MAX_WEIGHT_STEP_PERIODS 10
static void step_weight(sender *s, bool up, int64_t now)
{
    const unitree_link *l = s->l;
    int64_t dt = s->last_publish_ns ? now - s->last_publish_ns : l->period_ns;
    if (dt > MAX_WEIGHT_STEP_PERIODS * l->period_ns)
        dt = l->period_ns;
    if (dt < 0)
        dt = 0;
    double w = s->weight + (up ? 1.0 : -1.0) * (double)dt / 1e9 / l->cfg.weight_ramp_s;
    s->weight = (float)(w < 0 ? 0 : w > 1 ? 1 : w);
}

static void publish_arm(sender *s, uint8_t mode_machine, int64_t now)
{
    unitree_link *l = s->l;
    const tp_unitree_link_config *c = &l->cfg;
    if (c->gravity_feed_forward)
        tp_sim_gravity_torque(l->model, s->target, s->tau);
    struct tp_unitree_joint_cmd joints[TP_G1_ARM_JOINTS];
    for (int i = 0; i < TP_G1_ARM_JOINTS; i++) {
        bool wrist = i % TP_SIM_ARM_DOF >= 4; /* wrist roll, pitch, yaw */
        joints[i] = (struct tp_unitree_joint_cmd){
            .q = (float)s->target[i],
            .dq = 0,
            .tau = c->gravity_feed_forward ? (float)s->tau[i] : 0.0f,
            .kp = (float)(wrist ? c->wrist_kp : c->arm_kp),
            .kd = (float)(wrist ? c->wrist_kd : c->arm_kd),
        };
    }
    /* The fill refuses a non-finite value: nothing is sent then. */
    if (!tp_unitree_arm_sdk_fill(&s->cmd, joints, TP_G1_ARM_JOINTS, s->weight, mode_machine))
        return;
    if (dds_write(l->arm_writer, &s->cmd) < 0)
        return;
    s->last_publish_ns = now;
    atomic_store_explicit(&l->weight, (double)s->weight, memory_order_relaxed);
    atomic_fetch_add_explicit(&l->commands, 1, memory_order_relaxed);
}

static void publish_hands(sender *s, const ul_state *st, int64_t now)
{
    unitree_link *l = s->l;
    const tp_unitree_link_config *c = &l->cfg;
    for (int side = 0; side < 2; side++) {
        /* A hand whose state is stale (or never came) gets no command. */
        if (!st->hand_ns[side] || now - st->hand_ns[side] > l->timeout_ns)
            continue;
        struct tp_unitree_joint_cmd joints[TP_DEX3_MOTORS];
        for (int i = 0; i < TP_DEX3_MOTORS; i++)
            joints[i] = (struct tp_unitree_joint_cmd){.q = (float)s->target[UL_HAND_BASE + side * TP_DEX3_MOTORS + i],
                                                      .kp = (float)c->hand_kp,
                                                      .kd = (float)c->hand_kd};
        if (tp_unitree_hand_cmd_fill(&s->hand, s->hand_motors, joints))
            dds_write(l->hand_writer[side], &s->hand);
    }
}

static void wait_for_wake(unitree_link *l, int64_t now, int64_t deadline)
{
    int64_t wait = deadline - now;
    if (wait < 0)
        wait = 0;
    struct timespec ts = {.tv_sec = wait / TP_NS_PER_S, .tv_nsec = wait % TP_NS_PER_S};
    struct pollfd p = {.fd = l->wake_fd, .events = POLLIN};
    if (ppoll(&p, 1, &ts, NULL) > 0) {
        uint64_t count;
        ssize_t n = read(l->wake_fd, &count, sizeof count);
        (void)n;
    }
}

void *ul_sender_thread(void *arg)
{
    unitree_link *l = arg;
    pthread_setname_np(pthread_self(), "tp-unitree-tx");
    static _Thread_local sender s; /* the LowCmd is 1 kB: not on the stack */
    memset(&s, 0, sizeof s);
    s.l = l;
    const int64_t hand_period =
        l->cfg.hand_rate_hz > 0 ? (int64_t)llround(1e9 / l->cfg.hand_rate_hz) : 0;
    s.next_hand_ns = tp_now_ns();
    while (!atomic_load(&l->quit)) {
        int64_t now = tp_now_ns();
        ul_state st;
        ul_seqlock_read(&l->state, &st);
        bool fresh = st.low_ns && now - st.low_ns <= l->timeout_ns;
        bool stopping = atomic_load(&l->stopping);
        ul_command c;
        if (take_command(l, &c)) {
            if (s.have_pending) /* taken but overtaken before its time: never sent */
                atomic_fetch_add_explicit(&l->commands_superseded, 1, memory_order_relaxed);
            s.pending = c;
            s.have_pending = true;
        }
        const int64_t publish_at = s.pending.t_ns + l->period_ns / 2;
        bool have_command = s.have_pending && (now >= publish_at || stopping || !fresh);
        if (have_command) {
            c = s.pending;
            s.have_pending = false;
        }

        if (have_command && !stopping && fresh && c.state_fresh) {
            memcpy(s.target, c.q, sizeof s.target);
            s.have_target = true;
            s.engaged = (c.flags & TP_CONTROL_ENGAGED) && !(c.flags & TP_CONTROL_EMERGENCY);
            /* The weight's clock is the publication, not the loop's wake:
             * a sender preempted between the two still ramps in
             * weight_ramp_s as the robot sees the commands. */
            int64_t at = tp_now_ns();
            step_weight(&s, s.engaged, at);
            publish_arm(&s, st.mode_machine, at);
            s.next_release_ns = now + l->period_ns;
        } else if ((!fresh || stopping) && s.have_target && s.weight > 0 && now >= s.next_release_ns) {
            /* The release: the last target held, the weight falling. */
            s.engaged = false;
            int64_t at = tp_now_ns();
            step_weight(&s, false, at);
            publish_arm(&s, st.mode_machine, at);
            s.next_release_ns = now + l->period_ns;
        }
        if (!fresh || stopping)
            s.engaged = false;
        if (stopping && (s.weight <= 0 || !s.have_target))
            atomic_store(&l->released, true);

        int64_t deadline = now + TP_NS_PER_S;
        if (hand_period) {
            if (now >= s.next_hand_ns) {
                if (s.engaged && s.have_target)
                    publish_hands(&s, &st, now);
                s.next_hand_ns += hand_period;
                if (s.next_hand_ns <= now)
                    s.next_hand_ns = now + hand_period;
            }
            deadline = s.next_hand_ns;
        }
        if (s.have_pending && publish_at < deadline)
            deadline = publish_at;
        /* While the robot is ours, the sender looks at least once a period
         * for the state going stale, even when no command comes. */
        if (s.have_target && s.weight > 0) {
            int64_t release_at = s.next_release_ns > now ? s.next_release_ns : now + l->period_ns;
            if (release_at < deadline)
                deadline = release_at;
        }
        wait_for_wake(l, now, deadline);
    }
    return NULL;
}
