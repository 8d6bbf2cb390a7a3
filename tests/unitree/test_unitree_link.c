/* The "unitree" robot link against a fake robot in this process: a second
 * DDS participant in the link's domain (bound to lo, a fresh domain id per
 * test) built from unitree_dds, publishing CRC-sealed LowStates (tick step
 * 2) and Dex3-1 states at 500 Hz and logging every rt/arm_sdk and Dex3-1
 * command it takes. The test thread is the control loop (500 Hz). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "teleop/clock.h"
#include "teleop/controller.h"
#include "teleop/robot_link.h"
#include "unitree_dds.h"

#define PERIOD_NS 2000000LL /* 500 Hz: the control loop and the robot */
#define TICK_STEP 2u        /* the fake robot's tick advances 2 per state (a 1 ms tick) */
#define MODE_MACHINE 6
#define MAX_LOG 8192
#define MAX_SENT 8192

static const char *model_path;

/* ---- the fake robot ---- */

typedef struct arm_log {
    int64_t at_ns;  /* when the robot took it (CLOCK_MONOTONIC) */
    int64_t src_ns; /* when the link wrote it (DDS source timestamp, wall clock) */
    float q[TP_G1_MOTORS], tau[TP_G1_MOTORS], kp[TP_G1_MOTORS], kd[TP_G1_MOTORS];
    uint8_t mode[TP_G1_MOTORS];
    float weight;
    uint8_t mode_machine;
    bool crc_ok;
} arm_log;

typedef struct hand_log {
    float q[TP_DEX3_MOTORS], kp[TP_DEX3_MOTORS], kd[TP_DEX3_MOTORS];
} hand_log;

typedef struct fake_robot {
    dds_entity_t pp, low_writer, hand_writer[2], arm_reader, hand_reader[2];
    pthread_t thread;
    atomic_bool quit, publishing;
    atomic_bool corrupt_next; /* the next LowState: odd values, wrong CRC */
    _Atomic uint32_t jump_next; /* the next LowState skips this many ticks */
    _Atomic uint64_t published; /* LowStates written, good or bad */
    _Atomic uint64_t write_errors;
    _Atomic int64_t last_publish_ns;
    uint32_t tick;
    tp_unitree_low_state low;
    tp_unitree_motor_state hand_motors[2][TP_DEX3_MOTORS];
    tp_unitree_hand_state hand[2];
    pthread_mutex_t mu; /* guards the logs (test code, not the link) */
    arm_log arm[MAX_LOG];
    int n_arm;
    hand_log hands[2][MAX_LOG];
    int n_hand[2];
} fake_robot;

static float robot_arm_q(int motor) { return 0.5f + 0.01f * (float)motor; }
static float robot_arm_dq(int motor) { return -0.002f * (float)motor; }
static float robot_hand_q(int side, int i) { return 0.2f + 0.1f * (float)side + 0.03f * (float)i; }
static float robot_hand_dq(int side, int i) { return 0.001f * (float)(i + 1) * (side ? -1.0f : 1.0f); }

static dds_entity_t robot_endpoint(fake_robot *r, const char *name, const dds_topic_descriptor_t *type, bool writer)
{
    dds_entity_t topic = dds_create_topic(r->pp, type, name, NULL, NULL);
    assert_true(topic > 0);
    dds_qos_t *qos = dds_create_qos();
    dds_qset_reliability(qos, DDS_RELIABILITY_RELIABLE, DDS_MSECS(100));
    /* The robot keeps every command it is sent: the test reads them all. */
    dds_qset_history(qos, writer ? DDS_HISTORY_KEEP_LAST : DDS_HISTORY_KEEP_ALL, 1);
    dds_entity_t e = writer ? dds_create_writer(r->pp, topic, qos, NULL) : dds_create_reader(r->pp, topic, qos, NULL);
    dds_delete_qos(qos);
    assert_true(e > 0);
    return e;
}

static void robot_publish(fake_robot *r)
{
    tp_unitree_low_state *s = &r->low;
    uint32_t jump = atomic_exchange(&r->jump_next, 0);
    r->tick += TICK_STEP * (1 + jump);
    s->tick = r->tick;
    bool corrupt = atomic_exchange(&r->corrupt_next, false);
    for (int m = 0; m < TP_G1_MOTORS; m++) {
        s->motor_state[m].q = corrupt ? 9.0f : robot_arm_q(m);
        s->motor_state[m].dq = corrupt ? 9.0f : robot_arm_dq(m);
    }
    s->mode_machine = corrupt ? MODE_MACHINE + 1 : MODE_MACHINE;
    s->crc = tp_unitree_low_state_crc(s) ^ (corrupt ? 0x10u : 0u);
    atomic_store(&r->last_publish_ns, tp_now_ns());
    /* No cmocka assertion off the test's thread: failures are counted. */
    if (dds_write(r->low_writer, s) < 0)
        atomic_fetch_add(&r->write_errors, 1);
    atomic_fetch_add(&r->published, 1);
    for (int side = 0; side < 2; side++)
        if (dds_write(r->hand_writer[side], &r->hand[side]) < 0)
            atomic_fetch_add(&r->write_errors, 1);
}

static void robot_take(fake_robot *r)
{
    static tp_unitree_low_cmd cmd; /* robot thread only */
    for (;;) {
        void *samples[1] = {&cmd};
        dds_sample_info_t info;
        if (dds_take(r->arm_reader, samples, &info, 1, 1) != 1)
            break;
        if (!info.valid_data)
            continue;
        pthread_mutex_lock(&r->mu);
        if (r->n_arm < MAX_LOG) {
            arm_log *a = &r->arm[r->n_arm++];
            a->at_ns = tp_now_ns();
            a->src_ns = info.source_timestamp;
            for (int m = 0; m < TP_G1_MOTORS; m++) {
                a->q[m] = cmd.motor_cmd[m].q;
                a->tau[m] = cmd.motor_cmd[m].tau;
                a->kp[m] = cmd.motor_cmd[m].kp;
                a->kd[m] = cmd.motor_cmd[m].kd;
                a->mode[m] = cmd.motor_cmd[m].mode;
            }
            a->weight = tp_unitree_arm_sdk_weight(&cmd);
            a->mode_machine = cmd.mode_machine;
            a->crc_ok = tp_unitree_low_cmd_crc_ok(&cmd);
        }
        pthread_mutex_unlock(&r->mu);
    }
    for (int side = 0; side < 2; side++)
        for (;;) {
            void *loan[1] = {NULL};
            dds_sample_info_t info;
            if (dds_take(r->hand_reader[side], loan, &info, 1, 1) != 1)
                break;
            const tp_unitree_hand_cmd *hc = loan[0];
            pthread_mutex_lock(&r->mu);
            if (info.valid_data && hc->motor_cmd._length == TP_DEX3_MOTORS && r->n_hand[side] < MAX_LOG) {
                hand_log *h = &r->hands[side][r->n_hand[side]++];
                for (int i = 0; i < TP_DEX3_MOTORS; i++) {
                    h->q[i] = hc->motor_cmd._buffer[i].q;
                    h->kp[i] = hc->motor_cmd._buffer[i].kp;
                    h->kd[i] = hc->motor_cmd._buffer[i].kd;
                }
            }
            pthread_mutex_unlock(&r->mu);
            dds_return_loan(r->hand_reader[side], loan, 1);
        }
}

static void *robot_thread(void *arg)
{
    fake_robot *r = arg;
    int64_t next = tp_now_ns();
    while (!atomic_load(&r->quit)) {
        robot_take(r);
        if (atomic_load(&r->publishing))
            robot_publish(r);
        next += PERIOD_NS;
        tp_sleep_until_ns(next);
    }
    robot_take(r);
    return NULL;
}

static void wait_matched(dds_entity_t e, bool writer)
{
    for (int i = 0; i < 2000; i++) {
        uint32_t n = 0;
        if (writer) {
            dds_publication_matched_status_t st;
            assert_int_equal(dds_get_publication_matched_status(e, &st), 0);
            n = st.current_count;
        } else {
            dds_subscription_matched_status_t st;
            assert_int_equal(dds_get_subscription_matched_status(e, &st), 0);
            n = st.current_count;
        }
        if (n > 0)
            return;
        dds_sleepfor(DDS_MSECS(1));
    }
    fail_msg("the fake robot's endpoints never matched the link's");
}

/* Joins the domain the link created (a process has one instance of each
 * domain) and starts publishing once the link's endpoints are matched. */
static fake_robot *robot_start(uint32_t domain)
{
    fake_robot *r = calloc(1, sizeof *r);
    assert_non_null(r);
    pthread_mutex_init(&r->mu, NULL);
    r->pp = dds_create_participant(domain, NULL, NULL);
    assert_true(r->pp > 0);
    r->low_writer = robot_endpoint(r, TP_UNITREE_TOPIC_LOWSTATE, &unitree_hg_msg_dds__LowState__desc, true);
    r->hand_writer[0] = robot_endpoint(r, TP_UNITREE_TOPIC_DEX3_LEFT_STATE, &unitree_hg_msg_dds__HandState__desc, true);
    r->hand_writer[1] = robot_endpoint(r, TP_UNITREE_TOPIC_DEX3_RIGHT_STATE, &unitree_hg_msg_dds__HandState__desc, true);
    r->arm_reader = robot_endpoint(r, TP_UNITREE_TOPIC_ARM_SDK, &unitree_hg_msg_dds__LowCmd__desc, false);
    r->hand_reader[0] = robot_endpoint(r, TP_UNITREE_TOPIC_DEX3_LEFT_CMD, &unitree_hg_msg_dds__HandCmd__desc, false);
    r->hand_reader[1] = robot_endpoint(r, TP_UNITREE_TOPIC_DEX3_RIGHT_CMD, &unitree_hg_msg_dds__HandCmd__desc, false);
    wait_matched(r->low_writer, true);
    wait_matched(r->hand_writer[0], true);
    wait_matched(r->hand_writer[1], true);
    wait_matched(r->arm_reader, false);
    for (int side = 0; side < 2; side++) {
        for (int i = 0; i < TP_DEX3_MOTORS; i++) {
            r->hand_motors[side][i].q = robot_hand_q(side, i);
            r->hand_motors[side][i].dq = robot_hand_dq(side, i);
        }
        r->hand[side].motor_state._buffer = r->hand_motors[side];
        r->hand[side].motor_state._length = r->hand[side].motor_state._maximum = TP_DEX3_MOTORS;
    }
    r->tick = 1000;
    atomic_store(&r->publishing, true);
    assert_int_equal(pthread_create(&r->thread, NULL, robot_thread, r), 0);
    return r;
}

static void robot_stop(fake_robot *r)
{
    atomic_store(&r->quit, true);
    pthread_join(r->thread, NULL);
    assert_int_equal(atomic_load(&r->write_errors), 0);
    dds_delete(r->pp);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static int robot_arm_count(fake_robot *r)
{
    pthread_mutex_lock(&r->mu);
    int n = r->n_arm;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* ---- the control loop ---- */

typedef struct loop {
    tp_robot_link link;
    const tp_robot_link_ops *ops;
    tp_unitree_link_config ucfg;
    fake_robot *robot;
    tp_sim *model; /* the test's own copy: limits, and the gravity torque the link should send */
    double lower[28], upper[28];
    int64_t t; /* the current tick */
    int k;     /* commands built so far */
    float sent[MAX_SENT][28];
    unsigned sent_flags[MAX_SENT];
    int64_t sent_at[MAX_SENT];
    double q[28], qd[28];
} loop;

static uint32_t test_domain(void)
{
    static uint32_t opened;
    return 2u + ((uint32_t)getpid() * 8u + 4u + opened++) % 230u;
}

static void loop_open(loop *L, tp_unitree_link_config *ucfg)
{
    memset(L, 0, sizeof *L);
    char err[256] = "";
    tp_robot_link_config cfg = {.model_path = model_path, .control_hz = 1e9 / PERIOD_NS, .unitree = *ucfg};
    L->ucfg = *ucfg;
    if (tp_robot_link_open(&L->link, "unitree", &cfg, err, sizeof err) != 0)
        fail_msg("%s", err);
    L->ops = L->link.ops;
    assert_null(tp_robot_link_simulator(&L->link));
    L->model = tp_sim_create(model_path, err, sizeof err);
    assert_non_null(L->model);
    for (int i = 0; i < 28; i++)
        tp_sim_joint_limits(L->model, i, &L->lower[i], &L->upper[i]);
    L->t = tp_now_ns();
    assert_int_equal(L->ops->start(L->link.state, L->t, err, sizeof err), 0);
    /* Before the robot: no state, nothing to read, nothing lost. */
    assert_int_equal(L->ops->read_state(L->link.state, L->t, L->q, L->qd), -1);
    for (int i = 0; i < TP_G1_ARM_JOINTS; i++)
        assert_true(isnan(L->q[i]) && isnan(L->qd[i]));
    tp_device_event ev[4];
    assert_int_equal(L->ops->events(L->link.state, ev, 4), 0);
    L->robot = robot_start((uint32_t)ucfg->domain_id);
}

/* The robot first: the link's close deletes the domain the robot joined. */
static void loop_close(loop *L)
{
    robot_stop(L->robot);
    tp_robot_link_close(&L->link);
    tp_sim_destroy(L->model);
}

static tp_unitree_link_config test_config(void)
{
    tp_unitree_link_config c;
    tp_unitree_link_config_default(&c);
    c.domain_id = (int)test_domain();
    c.interface = "lo";
    c.state_timeout_ms = 50; /* a noisy machine may stall the robot for a while */
    c.weight_ramp_s = 0.2;
    /* Gains unlike the defaults: the commands must carry these. */
    c.arm_kp = 61, c.arm_kd = 2.5, c.wrist_kp = 33, c.wrist_kd = 1.25, c.hand_kp = 1.75, c.hand_kd = 0.125;
    return c;
}

/* The command of the k-th tick: joint 0 strictly increasing (it names the
 * tick in what the robot receives), the others moving inside their limits. */
static void command_of(const loop *L, int k, double *cmd)
{
    for (int i = 0; i < 28; i++) {
        double lo = L->lower[i], hi = L->upper[i];
        cmd[i] = i == 0 ? lo + 0.1 * (hi - lo) + 1e-5 * k : 0.5 * (lo + hi) + 0.2 * (hi - lo) * sin(0.01 * k + i);
    }
}

/* One control tick at the next 2 ms on the grid; returns read_state's answer. */
static int cycle(loop *L, unsigned flags)
{
    L->t += PERIOD_NS;
    tp_sleep_until_ns(L->t);
    int rc = L->ops->read_state(L->link.state, L->t, L->q, L->qd);
    double cmd[28];
    assert_true(L->k < MAX_SENT);
    command_of(L, L->k, cmd);
    for (int i = 0; i < 28; i++)
        L->sent[L->k][i] = (float)cmd[i];
    L->sent_flags[L->k] = flags;
    L->sent_at[L->k] = L->t;
    L->k++;
    L->ops->write_command(L->link.state, L->t, cmd, flags);
    return rc;
}

/* Sleeps; the control loop then goes on from now (not catching up). */
static void pause_ms(loop *L, int ms)
{
    dds_sleepfor(DDS_MSECS(ms));
    L->t = tp_now_ns();
}

/* Ticks until read_state finds the robot's state fresh (at most 2 s). */
static void wait_fresh(loop *L, unsigned flags)
{
    for (int i = 0; i < 1000; i++)
        if (cycle(L, flags) == 0)
            return;
    fail_msg("the robot's state never arrived");
}

/* The tick whose command the robot received (by its joint 0), or -1. */
static int sent_index(const loop *L, const arm_log *a)
{
    for (int k = L->k - 1; k >= 0; k--)
        if (L->sent[k][0] == a->q[TP_G1_LEFT_SHOULDER_PITCH])
            return k;
    return -1;
}

static int take_events(loop *L, tp_device_event *ev, int max)
{
    return L->ops->events(L->link.state, ev, max);
}

static int count_kind(const tp_device_event *ev, int n, const char *kind)
{
    int c = 0;
    for (int i = 0; i < n; i++)
        c += strcmp(ev[i].kind, kind) == 0;
    return c;
}

/* An arm command the robot took carries one tick's command exactly
 * (float), the configured gains, the gravity torque at that command, a good
 * CRC and the robot's mode_machine; *k_out is that tick. */
static void check_arm_command(loop *L, const arm_log *a, int *k_out)
{
    const tp_unitree_link_config *c = &L->ucfg;
    assert_true(a->crc_ok);
    assert_int_equal(a->mode_machine, MODE_MACHINE);
    int k = sent_index(L, a);
    if (k < 0)
        fail_msg("the robot received a target no tick commanded (joint 0 = %.9g)", (double)a->q[15]);
    double target[28], tau[28];
    command_of(L, k, target); /* the link computes the torque at the command as given */
    tp_sim_gravity_torque(L->model, target, tau);
    for (int j = 0; j < TP_G1_ARM_JOINTS; j++) {
        int m = tp_g1_arm_sdk_motor[j];
        bool wrist = j % 7 >= 4;
        assert_float_equal(a->q[m], L->sent[k][j], 0);
        assert_float_equal(a->kp[m], (float)(wrist ? c->wrist_kp : c->arm_kp), 0);
        assert_float_equal(a->kd[m], (float)(wrist ? c->wrist_kd : c->arm_kd), 0);
        assert_float_equal(a->tau[m], (float)tau[j], 0);
        assert_int_equal(a->mode[m], 1);
    }
    for (int m = 0; m < 15; m++) /* legs and waist: not commanded */
        assert_int_equal(a->mode[m], 0);
    *k_out = k;
}

static void state_maps_commands_carry_targets_and_weight_ramps(void **state)
{
    (void)state;
    static loop L;
    tp_unitree_link_config c = test_config();
    loop_open(&L, &c);
    wait_fresh(&L, 0);
    /* The newest state, motors 15..28 and the two Dex3-1 states in the
     * action layout, exactly as the robot sent it. */
    for (int i = 0; i < 20; i++)
        assert_int_equal(cycle(&L, 0), 0);
    for (int j = 0; j < TP_G1_ARM_JOINTS; j++) {
        assert_float_equal(L.q[j], (double)robot_arm_q(15 + j), 0);
        assert_float_equal(L.qd[j], (double)robot_arm_dq(15 + j), 0);
    }
    for (int side = 0; side < 2; side++)
        for (int i = 0; i < 7; i++) {
            assert_float_equal(L.q[14 + 7 * side + i], (double)robot_hand_q(side, i), 0);
            assert_float_equal(L.qd[14 + 7 * side + i], (double)robot_hand_dq(side, i), 0);
        }
    tp_device_event ev[16];
    int n = take_events(&L, ev, 16);
    assert_int_equal(count_kind(ev, n, "robot_link_found"), 1);
    assert_int_equal(count_kind(ev, n, "robot_hand_found"), 2);
    char line[256];
    L.ops->describe(L.link.state, line, sizeof line);
    assert_non_null(strstr(line, "mode_machine 6"));
    assert_non_null(strstr(line, "on lo"));

    /* Engaged for the ramp and a little more; then released; then engaged
     * and stopped. */
    int engage_from = L.k;
    for (int i = 0; i < 175; i++) /* 0.35 s */
        assert_int_equal(cycle(&L, TP_CONTROL_ENGAGED), 0);
    int release_from = L.k;
    for (int i = 0; i < 200; i++) /* 0.4 s: twice the ramp, down to 0 */
        assert_int_equal(cycle(&L, TP_CONTROL_CLUTCH_OPEN), 0);
    int reengage_from = L.k;
    for (int i = 0; i < 175; i++)
        assert_int_equal(cycle(&L, TP_CONTROL_ENGAGED), 0);
    tp_robot_link_health h;
    L.ops->health(L.link.state, tp_now_ns(), &h);
    int last_k = L.k;
    L.ops->stop(L.link.state);
    dds_sleepfor(DDS_MSECS(10)); /* the robot takes what was sent before stop returned */
    int after_stop = robot_arm_count(L.robot);
    dds_sleepfor(DDS_MSECS(100));
    assert_int_equal(robot_arm_count(L.robot), after_stop); /* the sender has stopped */

    /* Health over the run: about 500 states and commands a second. */
    printf("health: state %.1f Hz, commands %.1f Hz, age %.2f ms, %llu states, %llu commands, %llu refused, "
           "%llu gaps, weight %.3f\n",
           h.state_hz, h.command_hz, h.state_age_ms, (unsigned long long)h.states, (unsigned long long)h.commands,
           (unsigned long long)h.commands_refused, (unsigned long long)h.sequence_gaps, h.blend_weight);
    /* Loose: a loaded machine's receiver misses states (they are gaps) and
     * its sender misses commands (refused). */
    assert_true(h.state_hz > 200 && h.state_hz < 750);
    assert_true(h.command_hz > 200 && h.command_hz < 750);
    assert_int_equal(h.crc_errors, 0);
    assert_false(h.state_stale);
    assert_true(h.state_age_ms >= 0 && h.state_age_ms <= c.state_timeout_ms);
    assert_float_equal(h.blend_weight, 1.0, 0);

    pthread_mutex_lock(&L.robot->mu);
    fake_robot *r = L.robot;
    /* 0 before engage, 1 engaged, 2 released, 3 engaged again, 4 stopping;
     * the weight is followed across the phases. */
    int phase = 0;
    float prev_w = 0;
    int64_t first_engaged_ns = 0, full_ns = 0;
    int k_prev = -1, stop_sent = 0;
    for (int i = 0; i < r->n_arm; i++) {
        const arm_log *a = &r->arm[i];
        int k;
        check_arm_command(&L, a, &k);
        assert_true(k >= k_prev); /* in the order commanded */
        bool same_as_before = k == k_prev;
        k_prev = k;
        int p = k < engage_from ? 0 : k < release_from ? 1 : k < reengage_from ? 2 : 3;
        if (same_as_before) {
            /* Only stop's release repeats a target: the last one sent (the
             * last tick's command, or one before it when stop came before
             * the sender took it). */
            assert_true(k >= last_k - 3);
            p = 4;
        }
        assert_true(p >= phase);
        if (phase == 2 && p == 3)
            assert_float_equal(prev_w, 0, 0); /* the release went down to 0 before re-engaging */
        phase = p;
        switch (p) {
        case 0:
            assert_float_equal(a->weight, 0, 0);
            break;
        case 1:
        case 3:
            /* Rising monotonically toward 1 while engaged. */
            assert_true(a->weight >= prev_w);
            if (p == 1 && !first_engaged_ns)
                first_engaged_ns = a->src_ns;
            if (p == 1 && a->weight == 1.0f && !full_ns)
                full_ns = a->src_ns;
            break;
        case 2:
            assert_true(a->weight <= prev_w);
            break;
        case 4:
            assert_true(a->weight <= prev_w);
            stop_sent++;
            break;
        }
        prev_w = a->weight;
    }
    assert_int_equal(phase, 4);
    assert_float_equal(prev_w, 0, 0); /* stop ended at weight 0 */
    /* The stop's release: a command a period, the weight falling at most
     * ten periods' worth per command. */
    assert_true(stop_sent >= (int)(c.weight_ramp_s * 500 / 10));
    /* From 0 to 1 over weight_ramp_s (a late sender may stretch it), timed
     * when the link wrote the commands; the first step is one period's. */
    assert_true(full_ns > 0);
    double ramp_s = (double)(full_ns - first_engaged_ns) / 1e9;
    printf("ramp 0 -> 1: %.3f s (weight_ramp_s %.3f)\n", ramp_s, c.weight_ramp_s);
    assert_true(ramp_s >= c.weight_ramp_s - 2 * PERIOD_NS / 1e9);
    assert_true(ramp_s <= 2 * c.weight_ramp_s + 0.1);
    /* Dex3-1 commands while engaged, at about hand_rate_hz, carrying a
     * commanded hand target and the configured gains. */
    for (int side = 0; side < 2; side++) {
        printf("%s hand: %d commands\n", side ? "right" : "left", r->n_hand[side]);
        assert_true(r->n_hand[side] > (int)(0.5 * 0.7 * c.hand_rate_hz));
        assert_true(r->n_hand[side] < (int)(1.5 * 0.7 * c.hand_rate_hz + 20));
        for (int h_i = 0; h_i < r->n_hand[side]; h_i++) {
            const hand_log *hl = &r->hands[side][h_i];
            bool found = false;
            for (int k = engage_from; k < L.k && !found; k++)
                found = memcmp(hl->q, &L.sent[k][14 + 7 * side], sizeof hl->q) == 0 &&
                        (L.sent_flags[k] & TP_CONTROL_ENGAGED);
            assert_true(found);
            for (int i = 0; i < 7; i++) {
                assert_float_equal(hl->kp[i], (float)c.hand_kp, 0);
                assert_float_equal(hl->kd[i], (float)c.hand_kd, 0);
            }
        }
    }
    pthread_mutex_unlock(&L.robot->mu);
    loop_close(&L);
}

static void stale_state_releases_and_reports_lost(void **state)
{
    (void)state;
    static loop L;
    tp_unitree_link_config c = test_config();
    c.state_timeout_ms = 30;
    c.weight_ramp_s = 0.1;
    loop_open(&L, &c);
    wait_fresh(&L, TP_CONTROL_ENGAGED);
    tp_robot_link_health h;
    for (int i = 0; i < 1000; i++) { /* engaged until the weight is 1 */
        cycle(&L, TP_CONTROL_ENGAGED);
        L.ops->health(L.link.state, L.t, &h);
        if (h.blend_weight == 1.0 && i >= 50)
            break;
    }
    assert_float_equal(h.blend_weight, 1.0, 0);
    tp_device_event ev[16];
    take_events(&L, ev, 16);

    /* The robot falls silent. The control loop goes on engaged, asking for
     * new targets every tick. */
    atomic_store(&L.robot->publishing, false);
    pause_ms(&L, 3); /* a publish under way has finished */
    int64_t last_pub = atomic_load(&L.robot->last_publish_ns);
    int lost_at = -1;
    tp_device_event all[32];
    int n_all = 0;
    for (int i = 0; i < 250 && lost_at < 0; i++) {
        int rc = cycle(&L, TP_CONTROL_ENGAGED);
        L.ops->health(L.link.state, L.t, &h);
        int n = take_events(&L, ev, 16);
        for (int e = 0; e < n && n_all < 32; e++)
            all[n_all++] = ev[e];
        /* The link's own measure of age decides, at every tick. */
        assert_int_equal(rc == -1, h.state_age_ms > c.state_timeout_ms);
        assert_int_equal(h.state_stale, rc == -1);
        /* A state younger than the timeout since it was published is never stale. */
        if ((double)(L.t - last_pub) / 1e6 <= c.state_timeout_ms)
            assert_int_equal(rc, 0);
        if (rc == -1) {
            lost_at = L.k - 1;
            assert_int_equal(count_kind(ev, n, "robot_link_lost"), 1);
            for (int e = 0; e < n; e++)
                if (!strcmp(ev[e].kind, "robot_link_lost")) {
                    assert_int_equal(ev[e].t_ns, L.t);
                    double ms = atof(ev[e].detail + strlen("no state for "));
                    assert_true(ms >= c.state_timeout_ms); /* printed in tenths, rounded down */
                    printf("lost: %s (%.1f ms after the last state was published)\n", ev[e].detail,
                           (double)(L.t - last_pub) / 1e6);
                }
            /* The arms read the newest state there is. */
            assert_float_equal(L.q[0], (double)robot_arm_q(15), 0);
        } else {
            assert_int_equal(count_kind(ev, n, "robot_link_lost"), 0);
        }
    }
    assert_true(lost_at >= 0);
    /* Engaged commands go on while stale: none of them may be sent. */
    for (int i = 0; i < 100; i++) {
        assert_int_equal(cycle(&L, TP_CONTROL_ENGAGED), -1);
        int n = take_events(&L, ev, 16);
        for (int e = 0; e < n && n_all < 32; e++)
            all[n_all++] = ev[e];
    }
    /* The hands fell silent with the robot: they read back as last commanded. */
    assert_int_equal(count_kind(all, n_all, "robot_hand_lost"), 2);
    assert_int_equal(count_kind(all, n_all, "robot_link_lost"), 1);
    for (int i = 14; i < 28; i++)
        assert_float_equal((float)L.q[i], L.sent[L.k - 2][i], 0);
    pause_ms(&L, 50);
    int quiet_n = robot_arm_count(L.robot);

    /* What the robot received after its last state: new targets only until
     * the sender saw the state stale (within the timeout of it), then the
     * last target held with the weight falling to 0, then nothing. */
    pthread_mutex_lock(&L.robot->mu);
    fake_robot *r = L.robot;
    int first_after = 0;
    while (first_after < r->n_arm && r->arm[first_after].at_ns <= last_pub)
        first_after++;
    int release_from = -1;
    int k_prev = -1;
    float prev_w = 1;
    for (int i = first_after; i < r->n_arm; i++) {
        const arm_log *a = &r->arm[i];
        int k;
        check_arm_command(&L, a, &k);
        if (release_from < 0 && k == k_prev)
            release_from = i;
        if (release_from >= 0) {
            assert_int_equal(k, k_prev); /* the last target, held */
            assert_true(a->weight < prev_w); /* falling */
        } else {
            /* A new target: only from a tick that found the state fresh. */
            assert_true(k < lost_at);
            assert_float_equal(a->weight, 1.0, 0);
        }
        k_prev = k;
        prev_w = a->weight;
    }
    int releases = release_from >= 0 ? r->n_arm - release_from : 0;
    printf("after the last state: %d new targets, then %d release commands\n",
           (release_from >= 0 ? release_from : r->n_arm) - first_after, releases);
    assert_true(release_from >= 0);
    assert_float_equal(prev_w, 0, 0);
    assert_true(releases >= (int)(c.weight_ramp_s * 500 / 10));
    assert_int_equal(r->n_arm, quiet_n); /* nothing after weight 0 */
    pthread_mutex_unlock(&L.robot->mu);

    /* The robot comes back: found, and the weight rises again from 0 with
     * new targets. */
    atomic_store(&L.robot->publishing, true);
    int n_before = robot_arm_count(L.robot);
    wait_fresh(&L, TP_CONTROL_ENGAGED);
    int n = take_events(&L, ev, 16);
    assert_int_equal(count_kind(ev, n, "robot_link_found"), 1);
    for (int i = 0; i < 20; i++)
        cycle(&L, TP_CONTROL_ENGAGED);
    n += take_events(&L, ev + n, 16 - n);
    assert_int_equal(count_kind(ev, n, "robot_hand_found"), 2);
    pause_ms(&L, 20);
    pthread_mutex_lock(&L.robot->mu);
    assert_true(r->n_arm > n_before + 5);
    float w0 = r->arm[n_before].weight;
    assert_true(w0 > 0 && w0 < 0.1f);
    for (int i = n_before + 1; i < r->n_arm; i++)
        assert_true(r->arm[i].weight >= r->arm[i - 1].weight);
    pthread_mutex_unlock(&L.robot->mu);
    loop_close(&L);
}

/* Stops the robot publishing and waits until the link has taken its last
 * state (the count stays put for 30 ms), then reads health. */
static void quiet(loop *L, tp_robot_link_health *h)
{
    atomic_store(&L->robot->publishing, false);
    uint64_t last = UINT64_MAX;
    for (int i = 0; i < 100; i++) {
        dds_sleepfor(DDS_MSECS(30));
        L->ops->health(L->link.state, tp_now_ns(), h);
        if (h->states == last) {
            L->t = tp_now_ns(); /* the control loop goes on from now */
            return;
        }
        last = h->states;
    }
    fail_msg("the link never took the robot's last state");
}

static void bad_crc_is_counted_never_used_and_tick_jumps_count_gaps(void **state)
{
    (void)state;
    static loop L;
    tp_unitree_link_config c = test_config();
    c.hand_rate_hz = 0;
    loop_open(&L, &c);
    wait_fresh(&L, TP_CONTROL_ENGAGED);
    for (int i = 0; i < 50; i++)
        cycle(&L, TP_CONTROL_ENGAGED);
    /* A window between two quiet moments: what the robot published in it,
     * what the link took and what it counted. */
    tp_robot_link_health h0, h1;
    quiet(&L, &h0);
    uint64_t published0 = atomic_load(&L.robot->published);
    atomic_store(&L.robot->publishing, true);
    for (int i = 0; i < 25; i++)
        cycle(&L, TP_CONTROL_ENGAGED);
    /* A corrupt state the receiver was too slow to see (the next one
     * replaced it) is sent again, at most five times. */
    int corrupt_sent = 0;
    for (tp_robot_link_health h; corrupt_sent < 5; corrupt_sent++) {
        L.ops->health(L.link.state, L.t, &h);
        if (h.crc_errors > 0)
            break;
        atomic_store(&L.robot->corrupt_next, true);
        for (int i = 0; i < 25; i++) {
            cycle(&L, TP_CONTROL_ENGAGED);
            if (L.q[0] != (double)robot_arm_q(15)) /* never the corrupt state's 9.0 */
                fail_msg("read_state returned arm q %.9g", L.q[0]);
        }
    }
    atomic_store(&L.robot->jump_next, 7); /* seven states never sent */
    for (int i = 0; i < 50; i++)
        cycle(&L, TP_CONTROL_ENGAGED);
    quiet(&L, &h1);
    uint64_t published = atomic_load(&L.robot->published) - published0;
    uint64_t received = h1.states - h0.states;
    printf("published %llu, received %llu, %llu CRC errors, %llu gaps\n", (unsigned long long)published,
           (unsigned long long)received, (unsigned long long)h1.crc_errors,
           (unsigned long long)(h1.sequence_gaps - h0.sequence_gaps));
    assert_true(h1.crc_errors >= 1 && h1.crc_errors <= (uint64_t)corrupt_sent);
    /* Every state published but not taken as good (lost on a slow machine,
     * or the one rejected) is a gap, plus the seven skipped. */
    assert_int_equal(h1.sequence_gaps - h0.sequence_gaps, published - received + 7);
    /* The corrupt state's mode_machine never reached a command. */
    pthread_mutex_lock(&L.robot->mu);
    for (int i = 0; i < L.robot->n_arm; i++)
        assert_int_equal(L.robot->arm[i].mode_machine, MODE_MACHINE);
    assert_int_equal(L.robot->n_hand[0] + L.robot->n_hand[1], 0); /* hand_rate_hz 0: none */
    pthread_mutex_unlock(&L.robot->mu);
    loop_close(&L);
}

static void config_errors_name_the_key(void **state)
{
    (void)state;
    tp_unitree_link_config c;
    char err[256];
    tp_robot_link link;
#define REFUSED(field, value, text)                                                                              \
    do {                                                                                                         \
        tp_unitree_link_config_default(&c);                                                                      \
        c.interface = "lo";                                                                                      \
        c.field = value;                                                                                         \
        tp_robot_link_config cfg = {.model_path = model_path, .control_hz = 500, .unitree = c};                  \
        err[0] = '\0';                                                                                           \
        assert_int_equal(tp_robot_link_open(&link, "unitree", &cfg, err, sizeof err), -1);                       \
        if (!strstr(err, text))                                                                                  \
            fail_msg("expected '%s' in '%s'", text, err);                                                       \
    } while (0)
    REFUSED(domain_id, 233, "unitree.domain: 233 is outside 0..232");
    REFUSED(state_timeout_ms, 0, "unitree.state_timeout_ms: 0 is outside (0, 10000] ms");
    REFUSED(state_timeout_ms, NAN, "unitree.state_timeout_ms: nan");
    REFUSED(weight_ramp_s, -1, "unitree.weight_ramp_s: -1 is outside (0, 60] s");
    REFUSED(hand_rate_hz, 5000, "unitree.hand_rate_hz: 5000 is outside [0, 1000] Hz");
    REFUSED(arm_kp, -3, "unitree.arm_kp: -3");
    REFUSED(wrist_kd, INFINITY, "unitree.wrist_kd: inf");
    REFUSED(hand_kp, 101, "unitree.hand_kp: 101");
    REFUSED(interface, "not an interface!", "unitree.interface: 'not an interface!' is not");
#undef REFUSED
    tp_unitree_link_config_default(&c);
    tp_robot_link_config cfg = {.model_path = "/nonexistent/robot.xml", .control_hz = 500, .unitree = c};
    assert_int_equal(tp_robot_link_open(&link, "unitree", &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/robot.xml"));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.xml\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_errors_name_the_key),
        cmocka_unit_test(state_maps_commands_carry_targets_and_weight_ramps),
        cmocka_unit_test(stale_state_releases_and_reports_lost),
        cmocka_unit_test(bad_crc_is_counted_never_used_and_tick_jumps_count_gaps),
    };
    return cmocka_run_group_tests_name("unitree_link", tests, NULL, NULL);
}
