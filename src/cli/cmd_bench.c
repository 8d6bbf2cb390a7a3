/* teleop bench — retargeting benchmarks: `ik` on any URDF chain, `retarget`
 * over the bundled motion. Figures are printed, never asserted. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "teleop/clock.h"
#include "teleop/controller.h"
#include "teleop/hand_vector.h"
#include "teleop/ik.h"
#include "teleop/mjcf.h"
#include "teleop/motion.h"
#include "teleop/output_file.h"
#include "teleop/paths.h"
#include "teleop/sim.h"
#include "teleop/text.h"
#include "teleop/urdf.h"

/* Bounds of `bench ik` (issue 10, item 13): target sets and solve budgets a
 * benchmark needs, not more. */
#define MAX_COUNT 1000000L
#define MAX_BUDGET_MS 1000.0
/* Joint limits a chain may have, rad (m for prismatic): beyond this they
 * are not limits a benchmark can sample. */
#define MAX_LIMIT 1000.0

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void stats(double *v, size_t n, double *median, double *mean, double *p99)
{
    if (n == 0) {
        *median = *mean = *p99 = 0;
        return;
    }
    qsort(v, n, sizeof *v, cmp_d);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    *mean = sum / (double)n;
    *median = v[n / 2];
    *p99 = v[(size_t)((double)(n - 1) * 0.99)];
}

static uint64_t rng_state = 0x853c49e6748fea9bull;
static double uni(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

/* Random reachable targets: FK of random joint vectors inside the limits;
 * warm seeds are the true joints plus up to 0.05 rad, cold seeds random. */
static int write_targets(const tp_chain *c, const char *path, long count)
{
    char err[4200];
    FILE *f = tp_output_open(path, err, sizeof err);
    if (!f) {
        fprintf(stderr, "teleop bench ik: %s\n", err);
        return 1;
    }
    fprintf(f, "# kind x y z qx qy qz qw seeds... (tip pose in the base frame; %d joints)\n", c->n);
    for (long k = 0; k < count; k++) {
        for (int kind = 0; kind < 2; kind++) {
            double q[TP_CHAIN_MAX_JOINTS];
            for (int i = 0; i < c->n; i++)
                q[i] = c->lower[i] + (c->upper[i] - c->lower[i]) * (0.02 + 0.96 * uni());
            tp_pose t = tp_chain_fk(c, q);
            fprintf(f, "%s %.9f %.9f %.9f %.9f %.9f %.9f %.9f", kind ? "cold" : "warm", t.p.x, t.p.y, t.p.z, t.q.x,
                    t.q.y, t.q.z, t.q.w);
            for (int i = 0; i < c->n; i++) {
                double s = kind ? c->lower[i] + (c->upper[i] - c->lower[i]) * uni() : q[i] + 0.05 * (2 * uni() - 1);
                fprintf(f, " %.9f", fmin(c->upper[i], fmax(c->lower[i], s)));
            }
            fputc('\n', f);
        }
    }
    return fclose(f) == 0 ? 0 : 1;
}

/* An input file of `bench ik`: a regular file, or one line (never an open
 * that could block on a FIFO or a device). */
static int regular_file(const char *opt, const char *path)
{
    struct stat st;
    char esc[4200];
    if (stat(path, &st) != 0) {
        fprintf(stderr, "teleop bench ik: %s %s: %s\n", opt, tp_text_escape(path, esc, sizeof esc), strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "teleop bench ik: %s %s: not a regular file\n", opt, tp_text_escape(path, esc, sizeof esc));
        return -1;
    }
    return 0;
}

/* Opens a regular file for reading without blocking on anything else. */
static FILE *open_regular(const char *opt, const char *path)
{
    char esc[4200];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "teleop bench ik: %s %s: %s\n", opt, tp_text_escape(path, esc, sizeof esc),
                fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    int flags = fcntl(fd, F_GETFL);
    FILE *f = flags >= 0 && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        fprintf(stderr, "teleop bench ik: %s %s: %s\n", opt, tp_text_escape(path, esc, sizeof esc), strerror(errno));
        close(fd);
    }
    return f;
}

/* Limits a benchmark can sample: finite, ordered, within ±MAX_LIMIT. */
static int check_limits(const tp_chain *c, const char *model)
{
    char esc[4200];
    for (int i = 0; i < c->n; i++)
        if (!isfinite(c->lower[i]) || !isfinite(c->upper[i]) || c->lower[i] > c->upper[i] ||
            fabs(c->lower[i]) > MAX_LIMIT || fabs(c->upper[i]) > MAX_LIMIT) {
            fprintf(stderr, "teleop bench ik: %s: joint '%s' limits [%g, %g] are not finite limits within ±%g\n",
                    tp_text_escape(model, esc, sizeof esc), c->joint_name[i], c->lower[i], c->upper[i], MAX_LIMIT);
            return -1;
        }
    return 0;
}

static int bench_ik(int argc, char **argv)
{
    static const struct option opts[] = {
        {"urdf", required_argument, NULL, 'u'},        {"mjcf", required_argument, NULL, 'M'},
        {"base", required_argument, NULL, 'b'},
        {"tip", required_argument, NULL, 't'},         {"targets", required_argument, NULL, 'T'},
        {"write-targets", required_argument, NULL, 'w'}, {"count", required_argument, NULL, 'n'},
        {"budget-ms", required_argument, NULL, 'B'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *urdf = NULL, *mjcf = NULL, *base = NULL, *tip = NULL, *targets = NULL, *out = NULL;
    long count = 10000;
    double budget_ms = 2.0;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'u': urdf = optarg; break;
        case 'M': mjcf = optarg; break;
        case 'b': base = optarg; break;
        case 't': tip = optarg; break;
        case 'T': targets = optarg; break;
        case 'w': out = optarg; break;
        case 'n': {
            char *end, esc[96];
            errno = 0;
            count = strtol(optarg, &end, 10);
            if (end == optarg || *end || errno == ERANGE || count < 1 || count > MAX_COUNT)
                return cli_usage_error("bench ik", "--count: expected an integer in [1, %ld], got '%s'", MAX_COUNT,
                                       tp_text_escape(optarg, esc, sizeof esc));
            break;
        }
        case 'B': {
            char *end, esc[96];
            errno = 0;
            budget_ms = strtod(optarg, &end);
            if (end == optarg || *end || errno == ERANGE || !(budget_ms > 0) || budget_ms > MAX_BUDGET_MS)
                return cli_usage_error("bench ik", "--budget-ms: expected milliseconds in (0, %g], got '%s'",
                                       MAX_BUDGET_MS, tp_text_escape(optarg, esc, sizeof esc));
            break;
        }
        case 'h':
            printf("usage: teleop bench ik (--urdf FILE | --mjcf FILE) --base LINK --tip LINK --targets FILE [--budget-ms MS]\n"
                   "       teleop bench ik --urdf FILE --base LINK --tip LINK --write-targets FILE [--count N]\n\n"
                   "Solves every target line 'warm|cold x y z qx qy qz qw s1 ... sN' (tip pose in the base\n"
                   "frame, then one seed per chain joint) and prints per kind:\n"
                   "  warm: solved A/B (P%%) median M us mean U us p99 Q us\n"
                   "solved = position error < 0.1 mm, orientation error < 1 mrad, all joints inside limits.\n"
                   "Cold starts may restart from random joints within --budget-ms (default 2, at most %g).\n"
                   "--write-targets writes N warm and N cold reachable targets for the chain (--count N:\n"
                   "default 10000, at most %ld). Model and target files must be regular files; joint\n"
                   "limits must be finite and within ±%g.\n",
                   MAX_BUDGET_MS, MAX_COUNT, MAX_LIMIT);
            return 0;
        case ':': return cli_usage_error("bench ik", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("bench ik", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("bench ik", "unexpected argument '%s'", argv[optind]);
    if (!urdf == !mjcf || !base || !tip || (!targets == !out))
        return cli_usage_error("bench ik", "needs one of --urdf or --mjcf, --base, --tip and one of --targets or "
                                           "--write-targets");
    if ((urdf && regular_file("--urdf", urdf) != 0) || (mjcf && regular_file("--mjcf", mjcf) != 0))
        return 1;
    char err[512];
    tp_chain chain;
    if (mjcf) {
        if (tp_mjcf_chain(mjcf, base, tip, &chain, err, sizeof err) != 0) {
            fprintf(stderr, "teleop bench ik: %s\n", err);
            return 1;
        }
    } else {
        tp_urdf *u = tp_urdf_load(urdf, err, sizeof err);
        if (!u) {
            fprintf(stderr, "teleop bench ik: %s\n", err);
            return 1;
        }
        int rc = tp_urdf_chain(u, base, tip, &chain, err, sizeof err);
        tp_urdf_free(u);
        if (rc != 0) {
            fprintf(stderr, "teleop bench ik: %s: %s\n", urdf, err);
            return 1;
        }
    }
    if (check_limits(&chain, urdf ? urdf : mjcf) != 0)
        return 1;
    if (out)
        return write_targets(&chain, out, count);

    FILE *f = open_regular("--targets", targets);
    if (!f)
        return 1;
    tp_ik_solver solver;
    tp_ik_init(&solver, &chain, NULL, NULL);
    size_t n[2] = {0, 0}, solved[2] = {0, 0};
    size_t caps[2] = {1024, 1024};
    double *times[2] = {malloc(caps[0] * sizeof(double)), malloc(caps[1] * sizeof(double))};
    char line[4096];
    int lineno = 0, rc = 1;
    uint64_t rng = 42;
    if (!times[0] || !times[1]) {
        fprintf(stderr, "teleop bench ik: out of memory\n");
        goto done;
    }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || !*p)
            continue;
        int kind;
        if (!strncmp(p, "warm", 4))
            kind = 0;
        else if (!strncmp(p, "cold", 4))
            kind = 1;
        else {
            fprintf(stderr, "teleop bench ik: %s:%d: line must start with 'warm' or 'cold'\n", targets, lineno);
            goto done;
        }
        p += 4;
        double v[7 + TP_CHAIN_MAX_JOINTS];
        int need = 7 + chain.n;
        for (int i = 0; i < need; i++) {
            char *end;
            v[i] = strtod(p, &end);
            if (end == p || !isfinite(v[i])) {
                fprintf(stderr, "teleop bench ik: %s:%d: expected %d finite numbers after '%s'\n", targets, lineno,
                        need, kind ? "cold" : "warm");
                goto done;
            }
            p = end;
        }
        tp_pose target = {tp_v3(v[0], v[1], v[2]), tp_quat_normalize((tp_quat){v[3], v[4], v[5], v[6]})};
        double q[TP_CHAIN_MAX_JOINTS];
        memcpy(q, v + 7, sizeof(double) * (size_t)chain.n);
        int64_t t0 = tp_now_ns();
        if (kind == 0)
            tp_ik_solve(&solver, target, q);
        else
            tp_ik_solve_cold(&solver, target, q, (int64_t)(budget_ms * 1e6), &rng);
        int64_t t1 = tp_now_ns();
        tp_pose got = tp_chain_fk(&chain, q);
        bool ok = tp_v3_norm(tp_v3_sub(got.p, target.p)) < 1e-4 && tp_quat_angle_between(got.q, target.q) < 1e-3;
        for (int i = 0; i < chain.n; i++)
            ok = ok && q[i] >= chain.lower[i] && q[i] <= chain.upper[i];
        if (n[kind] == caps[kind]) {
            double *grown = realloc(times[kind], caps[kind] * 2 * sizeof(double));
            if (!grown) {
                fprintf(stderr, "teleop bench ik: out of memory\n");
                goto done;
            }
            times[kind] = grown;
            caps[kind] *= 2;
        }
        times[kind][n[kind]++] = (double)(t1 - t0) / 1e3;
        solved[kind] += ok;
    }
    for (int kind = 0; kind < 2; kind++) {
        if (!n[kind])
            continue;
        double med, mean, p99;
        stats(times[kind], n[kind], &med, &mean, &p99);
        printf("%s: solved %zu/%zu (%.2f%%) median %.2f us mean %.2f us p99 %.2f us\n", kind ? "cold" : "warm",
               solved[kind], n[kind], 100.0 * (double)solved[kind] / (double)n[kind], med, mean, p99);
    }
    rc = 0;
done:
    fclose(f);
    free(times[0]);
    free(times[1]);
    return rc;
}

static int bench_retarget(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: teleop bench retarget\n\n"
               "Replays the bundled operator motion at 500 Hz through the station's control path on the\n"
               "simulated humanoid's kinematics and prints microseconds per frame (median, p99) for both\n"
               "hands' retargeting (flexion mapping and vector retargeting), both arms' IK, and the full\n"
               "control step (filters, retargeting of both arms and hands, workspace and motion safety) with\n"
               "each hand method.\n");
        return 0;
    }
    if (argc > 1)
        return cli_usage_error("bench retarget", "unexpected argument '%s'", argv[1]);
    char err[512], model[4096], motion_path[4096];
    if (tp_find_data("devices/robot/models/humanoid.xml", model, sizeof model, err, sizeof err) ||
        (tp_find_data("motions/demo_motion.csv", motion_path, sizeof motion_path, err, sizeof err) &&
         tp_find_data("src/tools/demo_motion.csv", motion_path, sizeof motion_path, err, sizeof err))) {
        fprintf(stderr, "teleop bench retarget: %s\n", err);
        return 1;
    }
    tp_sim *sim = tp_sim_create(model, err, sizeof err);
    tp_motion *motion = sim ? tp_motion_load(motion_path, err, sizeof err) : NULL;
    if (!sim || !motion) {
        fprintf(stderr, "teleop bench retarget: %s\n", err);
        tp_sim_destroy(sim);
        return 1;
    }
    enum { N = TP_SIM_ACTION_DIMS };
    double lower[N], upper[N], cmd[N];
    for (int i = 0; i < N; i++)
        tp_sim_joint_limits(sim, i, &lower[i], &upper[i]);
    tp_chain arms[2];
    tp_sim_arm_chain(sim, 0, &arms[0], err, sizeof err);
    tp_sim_arm_chain(sim, 1, &arms[1], err, sizeof err);
    tp_hand_desc hands[2];
    tp_hand_desc_dex3(&hands[0], 0, lower + 14, upper + 14);
    tp_hand_desc_dex3(&hands[1], 1, lower + 21, upper + 21);
    tp_retarget_config rcfg;
    tp_retarget_default_config(&rcfg);
    tp_controller_config ccfg;
    tp_controller_default_config(&ccfg);
    tp_controller *ctl = tp_controller_create_for_sim(sim, &ccfg, &rcfg, err, sizeof err);
    snprintf(ccfg.hand_method, sizeof ccfg.hand_method, "vector");
    tp_controller *ctl_vec = ctl ? tp_controller_create_for_sim(sim, &ccfg, &rcfg, err, sizeof err) : NULL;
    tp_hand_vector *hv[2] = {NULL, NULL};
    char urdf[4096];
    if (ctl_vec && tp_find_data("devices/robot/models/g1_upper_body.urdf", urdf, sizeof urdf, err, sizeof err) == 0) {
        for (int s = 0; s < 2; s++) {
            tp_hand_vector_desc desc;
            if (tp_hand_vector_desc_dex3(urdf, s, &desc, err, sizeof err) == 0)
                hv[s] = tp_hand_vector_create(&desc, NULL, err, sizeof err);
        }
    }
    if (!ctl || !ctl_vec || !hv[0] || !hv[1]) {
        fprintf(stderr, "teleop bench retarget: %s\n", err);
        tp_controller_destroy(ctl);
        tp_controller_destroy(ctl_vec);
        tp_hand_vector_destroy(hv[0]);
        tp_hand_vector_destroy(hv[1]);
        tp_motion_free(motion);
        tp_sim_destroy(sim);
        return 1;
    }
    tp_ik_solver ik[2];
    double arm_q[2][TP_CHAIN_MAX_JOINTS];
    for (int s = 0; s < 2; s++) {
        tp_ik_init(&ik[s], &arms[s], &rcfg.ik, NULL);
        memcpy(arm_q[s], ik[s].rest, sizeof arm_q[s]);
    }
    const long steps = (long)(tp_motion_duration(motion) * 500);
    enum { T_FLEX, T_VEC, T_IK, T_STEP, T_STEP_VEC, T_KINDS };
    double *t[T_KINDS];
    for (int k = 0; k < T_KINDS; k++)
        t[k] = malloc(sizeof(double) * (size_t)steps);
    tp_operator_frame f;
    memset(&f, 0, sizeof f);
    double hq[TP_HAND_DOF_MAX];
    /* Every step samples a new interpolated frame with a new stamp, so the
     * vector method solves on every cycle here: its worst case (a headset
     * delivers new hand frames at ~90 Hz, and only those are solved). */
    for (long k = 0; k < steps; k++) {
        tp_motion_sample(motion, (double)k / 500.0, false, &f);
        f.t_ns = k * 2000000LL;
        int64_t a = tp_now_ns();
        tp_hand_retarget(&hands[0], &f.hand[0], hq);
        tp_hand_retarget(&hands[1], &f.hand[1], hq);
        int64_t b = tp_now_ns();
        tp_hand_vector_retarget(hv[0], &f.hand[0], hq);
        tp_hand_vector_retarget(hv[1], &f.hand[1], hq);
        int64_t c = tp_now_ns();
        for (int s = 0; s < 2; s++) {
            tp_pose target = {tp_calibration_point(&rcfg.calibration, f.hand[s].joints[TP_HJ_WRIST].pose.p),
                              tp_retarget_wrist_to_ee(s, f.hand[s].joints[TP_HJ_WRIST].pose.q)};
            tp_ik_solve(&ik[s], target, arm_q[s]);
        }
        int64_t d = tp_now_ns();
        tp_controller_step(ctl, &f, f.t_ns, cmd);
        int64_t e = tp_now_ns();
        tp_controller_step(ctl_vec, &f, f.t_ns, cmd);
        int64_t g = tp_now_ns();
        t[T_FLEX][k] = (double)(b - a) / 1e3;
        t[T_VEC][k] = (double)(c - b) / 1e3;
        t[T_IK][k] = (double)(d - c) / 1e3;
        t[T_STEP][k] = (double)(e - d) / 1e3;
        t[T_STEP_VEC][k] = (double)(g - e) / 1e3;
    }
    double med, mean, p99;
    printf("bundled motion: %ld frames at 500 Hz\n", steps);
    stats(t[T_FLEX], (size_t)steps, &med, &mean, &p99);
    printf("hands, flexion mapping (both, per frame): median %.2f us p99 %.2f us (%.2f us per hand)\n", med, p99,
           med / 2);
    stats(t[T_VEC], (size_t)steps, &med, &mean, &p99);
    printf("hands, vector retargeting (both, per frame): median %.2f us p99 %.2f us (%.2f us per hand)\n", med,
           p99, med / 2);
    stats(t[T_IK], (size_t)steps, &med, &mean, &p99);
    printf("arm ik (both, warm, per frame): median %.2f us p99 %.2f us (%.2f us per arm)\n", med, p99, med / 2);
    stats(t[T_STEP], (size_t)steps, &med, &mean, &p99);
    printf("control step, flexion hands (filters, both arms and hands, safety): median %.2f us p99 %.2f us\n", med,
           p99);
    stats(t[T_STEP_VEC], (size_t)steps, &med, &mean, &p99);
    printf("control step, vector hands (filters, both arms and hands, safety): median %.2f us p99 %.2f us\n", med,
           p99);
    for (int k = 0; k < T_KINDS; k++)
        free(t[k]);
    tp_hand_vector_destroy(hv[0]);
    tp_hand_vector_destroy(hv[1]);
    tp_controller_destroy(ctl_vec);
    tp_controller_destroy(ctl);
    tp_motion_free(motion);
    tp_sim_destroy(sim);
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: teleop bench ik|retarget [options]\n\n"
               "  ik        arm IK speed and solve rate on a URDF chain (see 'teleop bench ik --help')\n"
               "  retarget  hand retargeting and full control-step cost over the bundled motion\n"
               "The whole-session benchmark is 'scripts/bench.sh'.\n");
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "ik"))
        return bench_ik(argc - 1, argv + 1);
    if (!strcmp(argv[1], "retarget"))
        return bench_retarget(argc - 1, argv + 1);
    return cli_usage_error("bench", "unknown benchmark '%s' (ik, retarget)", argv[1]);
}
