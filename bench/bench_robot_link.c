/* The Unitree robot link over real DDS on loopback, against `teleop sim --dds`
 * as the robot (its own process, a domain of its own):
 *
 *   - operator sample -> DDS command latency. An operator thread at 90 Hz
 *     stamps each frame with CLOCK_MONOTONIC at capture and pushes it
 *     through a tp_ring to a control thread at 500 Hz (clock_nanosleep,
 *     TIMER_ABSTIME) that runs the station's controller on the model
 *     (tp_controller_create_for_sim, as the session does) and the unitree
 *     link's read_state / write_command. Every ~0.3 s, at a random phase,
 *     the operator moves the right wrist by a few cm (reachable). A DDS
 *     reader stamps rt/arm_sdk arrivals, in a process of its own forked
 *     before any DDS (CycloneDDS delivers between the participants of one
 *     process without the network). Latency = arrival
 *     of the first command whose right-arm q differs from the previous one
 *     after the step - the capture stamp of the step's first frame.
 *   - command rate and jitter: rt/arm_sdk arrival intervals at that reader
 *     over the measurement (>= 10 s): mean rate, p50/p99/max |interval - 2
 *     ms|; then cyclictest (rt-tests) for the same time at the same 2000 us
 *     interval, its p99 wake-up latency side by side: the machine's floor.
 *
 * The controller is the station's default but for the wrist One Euro
 * filter, which is off here: its exponential tail keeps the command moving
 * by micrometres every tick for seconds after a step, so "the first command
 * that differs" would be the next tick whatever happened; what the filter
 * adds is smoothing lag, which docs/retargeting.md (filters) describes.
 *
 * Usage: teleop-bench-robot-link --teleop TELEOP [--model MJCF]
 *          [--seconds S (10)] [--domain N] [--fifo] [--targets]
 * Threads run at normal priority, as does cyclictest without -p; --fifo puts
 * the control thread and the reader process at SCHED_FIFO 41 (the
 * session's real-time priority) and runs cyclictest with -p 41 (the link's
 * own threads stay as the link makes them).
 * --targets exits 3 when a target is missed: rate within 1 % of 500 Hz;
 * jitter p99 <= cyclictest's p99 + 500 us; latency p99 <= one operator
 * frame interval + 2 control periods + 1 ms. */

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "teleop/clock.h"
#include "teleop/controller.h"
#include "teleop/motion.h"
#include "teleop/motion_demo.h"
#include "teleop/paths.h"
#include "teleop/retarget.h"
#include "teleop/ring.h"
#include "teleop/robot_link.h"
#include "teleop/sim.h"
#include "unitree_dds.h"

#define CONTROL_HZ 500.0
#define OPERATOR_HZ 90.0
#define WARMUP_S 2.5       /* first state, weight ramp (1 s), the arm settled */
#define STEP_EVERY_S 0.3   /* plus a random 0..0.1 s */
#define STEP_M 0.04        /* operator hand displacement (stage metres): 2.8 cm at the robot (scale 0.7) */
#define MAX_STEPS 1024
#define FIFO_PRIORITY 41   /* the session's: sched_get_priority_min(SCHED_FIFO) + 40 */

extern char **environ;

typedef struct arrival {
    int64_t t_ns;
    float q[TP_G1_ARM_JOINTS];
} arrival;

/* What the reader process writes and the bench reads: shared memory, set up
 * before fork. */
typedef struct arrivals {
    atomic_bool stop;
    atomic_int ready; /* 1: reading, -1: failed */
    _Atomic size_t n;
    size_t cap;
    arrival a[];
} arrivals;

typedef struct bench {
    int64_t t0, end_ns, measure_from;
    atomic_bool stop_operator, stop_control;
    tp_ring frames; /* operator -> control */
    tp_operator_frame base;
    /* operator thread */
    int64_t step_t[MAX_STEPS];
    int n_steps;
    /* control thread */
    tp_robot_link link;
    tp_controller *ctl;
    long ticks, stale_ticks, late_ticks, refused;
    double worst_ik_error;
    int64_t *tick_t; /* per tick: its time and the right wrist target the controller aimed at */
    tp_vec3 *tick_target;
    size_t n_ticks, cap_ticks;
    /* from the reader process */
    arrival *arr;
    size_t n_arr;
} bench;

static pid_t sim_pid, reader_pid;

/* On a failure: the robot and the reader go too. */
static void abandon(void)
{
    if (sim_pid > 0)
        kill(sim_pid, SIGKILL), waitpid(sim_pid, NULL, 0);
    if (reader_pid > 0)
        kill(reader_pid, SIGKILL), waitpid(reader_pid, NULL, 0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return NAN;
    size_t i = (size_t)ceil(p / 100.0 * (double)n);
    return sorted[i > 0 ? i - 1 : 0];
}

static void sleep_until(int64_t t_ns)
{
    struct timespec ts = {(time_t)(t_ns / 1000000000), (long)(t_ns % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* The right hand moved rigidly by dy (stage up). */
static void place_right_hand(const tp_operator_frame *base, double dy, tp_operator_frame *out)
{
    *out = *base;
    for (int j = 0; j < TP_HAND_JOINT_COUNT; j++)
        out->hand[TP_RIGHT].joints[j].pose.p.y += dy;
}

static void *operator_thread(void *arg)
{
    bench *b = arg;
    const int64_t interval = (int64_t)llround(1e9 / OPERATOR_HZ);
    unsigned seed = (unsigned)b->t0;
    int64_t next_step = b->measure_from;
    bool up = false;
    tp_operator_frame f;
    place_right_hand(&b->base, 0, &f);
    for (int64_t wake = b->t0; !atomic_load(&b->stop_operator); wake += interval) {
        sleep_until(wake);
        int64_t now = tp_now_ns();
        if (now >= next_step && b->n_steps < MAX_STEPS) {
            up = !up;
            place_right_hand(&b->base, up ? STEP_M : 0, &f);
            b->step_t[b->n_steps++] = now;
            next_step = now + (int64_t)((STEP_EVERY_S + 0.1 * rand_r(&seed) / (double)RAND_MAX) * 1e9);
        }
        f.t_ns = now; /* capture */
        f.engaged = true;
        (void)tp_ring_push(&b->frames, &f);
    }
    return NULL;
}

static void *control_thread(void *arg)
{
    bench *b = arg;
    const int64_t period = (int64_t)llround(1e9 / CONTROL_HZ);
    double q[TP_SIM_ACTION_DIMS], qd[TP_SIM_ACTION_DIMS], cmd[TP_SIM_ACTION_DIMS];
    tp_operator_frame f;
    bool stale = false;
    for (int64_t t = b->t0; !atomic_load(&b->stop_control); t += period) {
        sleep_until(t);
        int64_t now = tp_now_ns();
        if (now - t > period)
            b->late_ticks++;
        while (tp_ring_pop(&b->frames, &f))
            tp_controller_push_frame(b->ctl, &f, now);
        bool s = b->link.ops->read_state(b->link.state, t, q, qd) != 0;
        if (s != stale) {
            tp_controller_set_robot_stale(b->ctl, s, q);
            stale = s;
        }
        b->stale_ticks += s;
        unsigned flags = tp_controller_step(b->ctl, NULL, t, cmd);
        const tp_retarget_status *st = tp_controller_status(b->ctl);
        if (t >= b->measure_from && st->position_error[TP_RIGHT] > b->worst_ik_error)
            b->worst_ik_error = st->position_error[TP_RIGHT];
        if (b->n_ticks < b->cap_ticks) {
            b->tick_t[b->n_ticks] = t;
            b->tick_target[b->n_ticks++] = st->wrist_target[TP_RIGHT].p;
        }
        if (b->link.ops->write_command(b->link.state, t, cmd, flags) != 0)
            b->refused++;
        b->ticks++;
    }
    return NULL;
}

/* The reader is a process of its own: CycloneDDS delivers between
 * participants of one process without the network, and what is measured is
 * the path over loopback UDP, as to a robot. */
static int reader_process(arrivals *out, int domain, bool fifo)
{
    char err[256];
    /* Before CycloneDDS starts its threads, which inherit the policy. */
    struct sched_param sp = {.sched_priority = FIFO_PRIORITY};
    if (fifo && sched_setscheduler(0, SCHED_FIFO, &sp) != 0) {
        fprintf(stderr, "teleop-bench-robot-link: reader: no permission for SCHED_FIFO\n");
        atomic_store(&out->ready, -1);
        return 1;
    }
    struct tp_unitree_dds *dds = tp_unitree_dds_open((uint32_t)domain, "lo", err, sizeof err);
    dds_entity_t reader =
        dds ? tp_unitree_dds_reader(dds, TP_UNITREE_TOPIC_ARM_SDK, &unitree_hg_msg_dds__LowCmd__desc) : -1;
    if (reader < 0) {
        fprintf(stderr, "teleop-bench-robot-link: reader: %s\n", dds ? "rt/arm_sdk reader" : err);
        atomic_store(&out->ready, -1);
        return 1;
    }
    dds_entity_t ws = dds_create_waitset(tp_unitree_dds_participant(dds));
    dds_entity_t rc = dds_create_readcondition(reader, DDS_ANY_STATE);
    dds_waitset_attach(ws, rc, 0);
    tp_unitree_low_cmd msg;
    void *samples[1] = {&msg};
    dds_sample_info_t info[1];
    atomic_store(&out->ready, 1);
    while (!atomic_load(&out->stop)) {
        if (dds_waitset_wait(ws, NULL, 0, DDS_MSECS(50)) <= 0)
            continue;
        int64_t now = tp_now_ns(); /* CLOCK_MONOTONIC: one clock for both processes */
        while (dds_take(reader, samples, info, 1, 1) > 0) {
            size_t n = atomic_load_explicit(&out->n, memory_order_relaxed);
            if (!info[0].valid_data || n >= out->cap)
                continue;
            arrival *a = &out->a[n];
            a->t_ns = now;
            for (int i = 0; i < TP_G1_ARM_JOINTS; i++)
                a->q[i] = msg.motor_cmd[tp_g1_arm_sdk_motor[i]].q;
            atomic_store_explicit(&out->n, n + 1, memory_order_release);
        }
    }
    tp_unitree_dds_close(dds);
    return 0;
}

/* cyclictest for seconds at 2000 us, one thread, its histogram (1 us bins up
 * to 100 ms) read for p50/p99/max. 0, or -1 when it could not run. */
static int run_cyclictest(int seconds, int prio, double *p50, double *p99, double *max_us, long *cycles)
{
    char cmdline[256], pflag[16] = "";
    if (prio > 0)
        snprintf(pflag, sizeof pflag, " -p %d", prio);
    snprintf(cmdline, sizeof cmdline, "cyclictest -q -t1 -i 2000%s -D %d -h 100000 2>/dev/null", pflag, seconds);
    FILE *p = popen(cmdline, "r");
    if (!p)
        return -1;
    static long hist[100001];
    long total = 0, overflow = 0, maxv = -1;
    char line[256];
    while (fgets(line, sizeof line, p)) {
        long bin, count;
        if (line[0] != '#' && sscanf(line, "%ld %ld", &bin, &count) == 2 && bin >= 0 && bin <= 100000) {
            hist[bin] = count;
            total += count;
        } else if (sscanf(line, "# Histogram Overflows: %ld", &overflow) == 1) {
        } else
            (void)sscanf(line, "# Max Latencies: %ld", &maxv);
    }
    if (pclose(p) != 0 || total + overflow == 0)
        return -1;
    total += overflow;
    long acc = 0;
    *p50 = *p99 = INFINITY; /* in the overflow: beyond 100 ms */
    for (long bin = 0; bin <= 100000; bin++) {
        acc += hist[bin];
        if (isinf(*p50) && acc * 2 >= total)
            *p50 = (double)bin;
        if (isinf(*p99) && acc * 100 >= total * 99) {
            *p99 = (double)bin;
            break;
        }
    }
    *max_us = (double)maxv;
    *cycles = total;
    return 0;
}

int main(int argc, char **argv)
{
    const char *teleop = NULL, *model = NULL;
    double seconds = 10;
    int domain = 10 + (int)(getpid() % 221);
    bool targets = false, fifo = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--targets"))
            targets = true;
        else if (!strcmp(argv[i], "--fifo"))
            fifo = true;
        else if (!strcmp(argv[i], "--teleop") && i + 1 < argc)
            teleop = argv[++i];
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            model = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--domain") && i + 1 < argc)
            domain = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: teleop-bench-robot-link --teleop TELEOP [--model MJCF] [--seconds S] [--domain N] "
                            "[--fifo] [--targets]\n");
            return 2;
        }
    }
    if (!teleop || !(seconds >= 10 && seconds <= 3600) || domain < 0 || domain > 232) {
        fprintf(stderr, "teleop-bench-robot-link: --teleop is required, --seconds 10..3600, --domain 0..232\n");
        return 2;
    }
    char err[512], model_buf[4096];
    static bench b;
    if (!model) {
        if (tp_find_data("devices/robot/models/humanoid.xml", model_buf, sizeof model_buf, err, sizeof err) != 0) {
            fprintf(stderr, "teleop-bench-robot-link: %s\n", err);
            return 1;
        }
        model = model_buf;
    }

    /* The robot: teleop sim --dds on loopback, on a domain of our own. */
    char dom[16], dur[32];
    snprintf(dom, sizeof dom, "%d", domain);
    snprintf(dur, sizeof dur, "%.0f", seconds + WARMUP_S + 20);
    char *sim_argv[] = {(char *)teleop, "sim", "--dds", "--domain", dom, "--interface", "lo", "--model", (char *)model,
                        "--duration", dur, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1 /* O_WRONLY */, 0);
    if (posix_spawn(&sim_pid, teleop, &fa, NULL, sim_argv, environ) != 0) {
        fprintf(stderr, "teleop-bench-robot-link: cannot run %s\n", teleop);
        return 1;
    }
    posix_spawn_file_actions_destroy(&fa);

    /* Our own reader of what the link publishes, in a process of its own. */
    size_t cap = (size_t)((seconds + WARMUP_S + 10) * CONTROL_HZ * 1.2);
    size_t shm_size = sizeof(arrivals) + cap * sizeof(arrival);
    arrivals *shm = mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED) {
        abandon();
        return 1;
    }
    shm->cap = cap;
    reader_pid = fork();
    if (reader_pid == 0)
        _exit(reader_process(shm, domain, fifo));
    while (atomic_load(&shm->ready) == 0)
        tp_sleep_until_ns(tp_now_ns() + 1000000);
    if (atomic_load(&shm->ready) < 0) {
        abandon();
        return 1;
    }

    /* The link and the controller, as the session makes them. */
    tp_robot_link_config lcfg = {.model_path = model, .control_hz = CONTROL_HZ, .realtime_priority = fifo};
    tp_unitree_link_config_default(&lcfg.unitree);
    lcfg.unitree.domain_id = domain;
    lcfg.unitree.interface = "lo";
    tp_sim *sim = tp_sim_create(model, err, sizeof err);
    if (!sim || tp_robot_link_open(&b.link, "unitree", &lcfg, err, sizeof err) != 0) {
        fprintf(stderr, "teleop-bench-robot-link: %s\n", err);
        abandon();
        return 1;
    }
    tp_retarget_config rcfg;
    tp_retarget_default_config(&rcfg);
    tp_controller_config ccfg;
    tp_controller_default_config(&ccfg);
    ccfg.filter_wrists = false; /* see the top of the file */
    b.ctl = tp_controller_create_for_sim(sim, &ccfg, &rcfg, err, sizeof err);
    /* The operator's pose: the demo motion's first frame, the right hand then
     * moved up and back by STEP_M. */
    char motion_path[] = "/tmp/teleop-bench-robot-link-XXXXXX";
    int mfd = mkstemp(motion_path);
    if (mfd >= 0)
        close(mfd), unlink(motion_path);
    tp_motion *motion = NULL;
    if (!b.ctl || mfd < 0 || tp_motion_write_demo(motion_path, OPERATOR_HZ, err, sizeof err) != 0 ||
        !(motion = tp_motion_load(motion_path, err, sizeof err))) {
        fprintf(stderr, "teleop-bench-robot-link: %s\n", err);
        abandon();
        return 1;
    }
    tp_motion_sample(motion, 0.0, false, &b.base);
    tp_motion_free(motion);
    unlink(motion_path);
    if (tp_ring_init(&b.frames, sizeof(tp_operator_frame), 64) != 0)
        return 1;

    double q[TP_SIM_ACTION_DIMS], qd[TP_SIM_ACTION_DIMS];
    int64_t give_up = tp_now_ns() + 10000000000LL;
    if (b.link.ops->start(b.link.state, tp_now_ns(), err, sizeof err) != 0) {
        fprintf(stderr, "teleop-bench-robot-link: %s\n", err);
        abandon();
        return 1;
    }
    while (b.link.ops->read_state(b.link.state, tp_now_ns(), q, qd) != 0) {
        if (tp_now_ns() > give_up) {
            fprintf(stderr, "teleop-bench-robot-link: no rt/lowstate from teleop sim --dds on domain %d within 10 s\n",
                    domain);
            abandon();
            return 1;
        }
        tp_sleep_until_ns(tp_now_ns() + 1000000);
    }
    tp_controller_reset(b.ctl, q);

    const int64_t period = (int64_t)llround(1e9 / CONTROL_HZ);
    b.t0 = (tp_now_ns() / period + 10) * period;
    b.measure_from = b.t0 + (int64_t)llround(WARMUP_S * 1e9);
    b.end_ns = b.measure_from + (int64_t)llround(seconds * 1e9);
    b.cap_ticks = (size_t)((seconds + WARMUP_S + 1) * CONTROL_HZ);
    b.tick_t = malloc(b.cap_ticks * sizeof *b.tick_t);
    b.tick_target = malloc(b.cap_ticks * sizeof *b.tick_target);
    if (!b.tick_t || !b.tick_target) {
        abandon();
        return 1;
    }
    pthread_t op_th, ctl_th;
    pthread_attr_t ctl_attr;
    pthread_attr_init(&ctl_attr);
    if (fifo) {
        struct sched_param sp = {.sched_priority = FIFO_PRIORITY};
        pthread_attr_setinheritsched(&ctl_attr, PTHREAD_EXPLICIT_SCHED);
        pthread_attr_setschedpolicy(&ctl_attr, SCHED_FIFO);
        pthread_attr_setschedparam(&ctl_attr, &sp);
    }
    if (pthread_create(&ctl_th, &ctl_attr, control_thread, &b) != 0) {
        fprintf(stderr, "teleop-bench-robot-link: cannot start the control thread%s\n",
                fifo ? " at SCHED_FIFO (no permission?)" : "");
        abandon();
        return 1;
    }
    pthread_attr_destroy(&ctl_attr);
    pthread_create(&op_th, NULL, operator_thread, &b);
    sleep_until(b.end_ns);
    atomic_store(&b.stop_operator, true);
    pthread_join(op_th, NULL);
    atomic_store(&b.stop_control, true);
    pthread_join(ctl_th, NULL);
    b.link.ops->stop(b.link.state);
    atomic_store(&shm->stop, true);
    waitpid(reader_pid, NULL, 0);
    b.arr = shm->a;
    b.n_arr = atomic_load(&shm->n);
    tp_robot_link_health health;
    b.link.ops->health(b.link.state, tp_now_ns(), &health);
    tp_robot_link_close(&b.link);
    kill(sim_pid, SIGINT);
    int wst;
    waitpid(sim_pid, &wst, 0);
    const int64_t latency_ns = tp_controller_upsampling_latency_ns(b.ctl);
    tp_controller_destroy(b.ctl);
    tp_sim_destroy(sim);

    /* Rate and jitter over the measurement window. */
    size_t first = 0, last = 0;
    while (first < b.n_arr && b.arr[first].t_ns < b.measure_from)
        first++;
    last = first;
    while (last < b.n_arr && b.arr[last].t_ns < b.end_ns)
        last++;
    size_t n_int = last > first + 1 ? last - first - 1 : 0;
    double *dev = malloc((n_int + 1) * sizeof *dev);
    for (size_t i = 0; i < n_int; i++)
        dev[i] = fabs((double)(b.arr[first + i + 1].t_ns - b.arr[first + i].t_ns - period)) / 1e3;
    qsort(dev, n_int, sizeof *dev, cmp_double);
    double rate = n_int ? (double)n_int / ((double)(b.arr[last - 1].t_ns - b.arr[first].t_ns) / 1e9) : 0;

    /* Latency per step: the first command after it whose right arm differs
     * from the command before; a step whose arm was still moving when it
     * came is not measured. */
    double *lat = malloc((size_t)(b.n_steps + 1) * sizeof *lat);
    int n_lat = 0, unsettled = 0, unseen = 0;
    size_t k = first;
    for (int s = 0; s < b.n_steps; s++) {
        int64_t ts = b.step_t[s];
        while (k < b.n_arr && b.arr[k].t_ns < ts)
            k++;
        if (k < 2 || k >= b.n_arr) {
            unseen++;
            continue;
        }
        if (memcmp(b.arr[k - 1].q + 7, b.arr[k - 2].q + 7, 7 * sizeof(float)) != 0) {
            unsettled++;
            continue;
        }
        size_t j = k;
        while (j < b.n_arr && memcmp(b.arr[j].q + 7, b.arr[j - 1].q + 7, 7 * sizeof(float)) == 0)
            j++;
        if (j >= b.n_arr || (s + 1 < b.n_steps && b.arr[j].t_ns >= b.step_t[s + 1])) {
            unseen++;
            continue;
        }
        lat[n_lat++] = (double)(b.arr[j].t_ns - ts) / 1e6;
    }
    qsort(lat, (size_t)n_lat, sizeof *lat, cmp_double);

    /* Inside the controller, per step: the first tick whose wrist target
     * moved, and the first at the step's new pose (within 1 um): the
     * upsampling latency shows in the second. */
    double *moved = malloc((size_t)(b.n_steps + 1) * sizeof *moved);
    double *reached = malloc((size_t)(b.n_steps + 1) * sizeof *reached);
    int n_ctl = 0;
    size_t i = 0;
    for (int s = 0; s + 1 < b.n_steps; s++) {
        int64_t ts = b.step_t[s], next = b.step_t[s + 1];
        while (i < b.n_ticks && b.tick_t[i] < ts)
            i++;
        size_t end = i;
        while (end < b.n_ticks && b.tick_t[end] < next)
            end++;
        if (i < 1 || end >= b.n_ticks || end <= i + 1)
            continue;
        tp_vec3 before = b.tick_target[i - 1], after = b.tick_target[end - 1];
        size_t m = i, r = i;
        while (m < end && tp_v3_norm(tp_v3_sub(b.tick_target[m], before)) == 0)
            m++;
        while (r < end && tp_v3_norm(tp_v3_sub(b.tick_target[r], after)) > 1e-6)
            r++;
        if (m >= end || r >= end)
            continue;
        moved[n_ctl] = (double)(b.tick_t[m] - ts) / 1e6;
        reached[n_ctl++] = (double)(b.tick_t[r] - ts) / 1e6;
    }
    qsort(moved, (size_t)n_ctl, sizeof *moved, cmp_double);
    qsort(reached, (size_t)n_ctl, sizeof *reached, cmp_double);

    double cy50 = NAN, cy99 = NAN, cymax = NAN;
    long cycles = 0;
    int secs = (int)ceil(seconds);
    bool have_cyclictest = run_cyclictest(secs, fifo ? FIFO_PRIORITY : 0, &cy50, &cy99, &cymax, &cycles) == 0;

    double load[3] = {NAN, NAN, NAN};
    (void)getloadavg(load, 3);
    printf("robot link 'unitree' over CycloneDDS on lo (domain %d), robot: teleop sim --dds; %.0f s measured after "
           "%.1f s warm-up; load average %.2f %.2f %.2f\n",
           domain, seconds, WARMUP_S, load[0], load[1], load[2]);
    printf("control: %ld ticks, %ld late (> 1 period), %ld stale-state ticks, %ld commands refused; link health: "
           "%.1f states/s, %llu commands superseded before the sender took them, %llu sequence gaps, %llu CRC "
           "errors\n",
           b.ticks, b.late_ticks, b.stale_ticks, b.refused, health.state_hz,
           (unsigned long long)health.commands_superseded, (unsigned long long)health.sequence_gaps,
           (unsigned long long)health.crc_errors);
    printf("latency, operator capture -> rt/arm_sdk arrival (%d steps of %.1f cm at the robot; %d unsettled, %d "
           "unseen; worst IK residual %.2f mm):\n",
           n_lat, 100 * STEP_M * rcfg.calibration.scale, unsettled, unseen, 1e3 * b.worst_ik_error);
    printf("  first changed command at the subscriber: p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
           pct(lat, (size_t)n_lat, 50), pct(lat, (size_t)n_lat, 99), n_lat ? lat[n_lat - 1] : NAN);
    printf("  in the controller (%d steps), the tick whose wrist target first moves: p50 %.2f ms  p99 %.2f ms; is at "
           "the new pose: p50 %.2f ms  p99 %.2f ms\n",
           n_ctl, pct(moved, (size_t)n_ctl, 50), pct(moved, (size_t)n_ctl, 99), pct(reached, (size_t)n_ctl, 50),
           pct(reached, (size_t)n_ctl, 99));
    printf("  (upsampling latency %.2f ms: each tick targets the operator's pose that long before it, interpolated "
           "between frames, so the target starts moving as soon as that instant passes the frame before the step and "
           "is at the step's pose that long after it; the joints then follow under the velocity and acceleration "
           "bounds)\n",
           latency_ns / 1e6);
    printf("%-34s %10s %10s %10s %10s   (%s)\n", "", "rate Hz", "p50 us", "p99 us", "max us",
           fifo ? "control thread, reader, cyclictest at SCHED_FIFO 41" : "normal priority");
    printf("%-34s %10.2f %10.1f %10.1f %10.1f\n", "rt/arm_sdk |interval - 2 ms|", rate, pct(dev, n_int, 50),
           pct(dev, n_int, 99), n_int ? dev[n_int - 1] : NAN);
    if (have_cyclictest)
        printf("%-34s %10.2f %10.1f %10.1f %10.1f\n", "cyclictest -q -t1 -i 2000 wake-up", (double)cycles / secs, cy50,
               cy99, cymax);
    else
        printf("cyclictest: did not run (rt-tests installed? scripts/setup.sh)\n");

    int rc = 0;
    if (targets) {
        const double lat_target = 1e3 / OPERATOR_HZ + 2 * 1e3 / CONTROL_HZ + 1.0;
        const double p99 = pct(dev, n_int, 99), lp99 = pct(lat, (size_t)n_lat, 99);
        if (!(fabs(rate - CONTROL_HZ) <= 0.01 * CONTROL_HZ)) {
            printf("target missed: command rate %.2f Hz, not within 1 %% of %.0f Hz\n", rate, CONTROL_HZ);
            rc = 3;
        }
        if (!have_cyclictest || !(p99 <= cy99 + 500)) {
            printf("target missed: jitter p99 %.1f us > cyclictest p99 %.1f us + 500 us\n", p99, cy99);
            rc = 3;
        }
        if (n_lat < 10 || !(lp99 <= lat_target)) {
            printf("target missed: latency p99 %.2f ms over %d steps, target <= %.2f ms with >= 10 steps\n", lp99,
                   n_lat, lat_target);
            rc = 3;
        }
        if (rc == 0)
            printf("targets met: rate within 1 %%, jitter p99 <= cyclictest p99 + 500 us, latency p99 <= %.2f ms\n",
                   lat_target);
    }
    free(dev);
    free(lat);
    free(moved);
    free(reached);
    free(b.tick_t);
    free(b.tick_target);
    munmap(shm, shm_size);
    tp_ring_free(&b.frames);
    return rc;
}
