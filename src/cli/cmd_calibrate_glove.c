/* teleop calibrate --glove — a guided glove calibration: hand open, fist,
 * fingers spread, each measured for a few seconds; the median per sensor
 * becomes the operator's range for that glove (docs/devices/gloves.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "teleop/glove.h"
#include "teleop/text.h"

/* A sensor moved when open and fist differ by at least this fraction of the
 * glove's range (a stuck or unplugged flex sensor moves less). */
#define GLOVE_MIN_TRAVEL 0.10

#define SENSORS (TP_GLOVE_FINGERS * (2 + TP_GLOVE_FINGER_JOINTS)) /* curl, splay, joints */

static const char *const finger_names[TP_GLOVE_FINGERS] = {"thumb", "index", "middle", "ring", "little"};

typedef struct phase_samples {
    int32_t *v[SENSORS]; /* per sensor: the values seen, count n (or -1 not sent) */
    size_t n, cap;
    int32_t max_value;
} phase_samples;

static int sensor_curl(int f) { return f; }
static int sensor_splay(int f) { return TP_GLOVE_FINGERS + f; }
static int sensor_joint(int f, int j) { return 2 * TP_GLOVE_FINGERS + f * TP_GLOVE_FINGER_JOINTS + j; }

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void record(phase_samples *p, const tp_glove_sample *s)
{
    if (p->n >= p->cap)
        return;
    for (int f = 0; f < TP_GLOVE_FINGERS; f++) {
        p->v[sensor_curl(f)][p->n] = s->curl[f];
        p->v[sensor_splay(f)][p->n] = s->splay[f];
        for (int j = 0; j < TP_GLOVE_FINGER_JOINTS; j++)
            p->v[sensor_joint(f, j)][p->n] = s->joint_curl[f][j];
    }
    if (s->max_value > p->max_value)
        p->max_value = s->max_value;
    p->n++;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The median of a sensor over the window, -1 when the glove never sent it. */
static int32_t median(phase_samples *p, int sensor)
{
    int32_t *v = p->v[sensor];
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++)
        if (v[i] >= 0)
            v[k++] = v[i];
    if (k == 0)
        return -1;
    qsort(v, k, sizeof *v, cmp_i32);
    return v[k / 2];
}

/* Drains the glove until `until`; records samples when p is given. -1 on a
 * device error (message printed). */
static int run_until(tp_glove *g, int64_t until, phase_samples *p, int64_t *lines)
{
    char err[512];
    for (;;) {
        int64_t now = now_ns();
        if (now >= until)
            return 0;
        tp_glove_sample s;
        int rc = g->ops->poll(g, until, &s, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "teleop calibrate: %s\n", err);
            return -1;
        }
        if (rc == 1) {
            (*lines)++;
            if (p)
                record(p, &s);
        }
    }
}

static int phase(tp_glove *g, const char *side, const char *instruction, double seconds, phase_samples *p)
{
    printf("%s: ", instruction[0] ? instruction : side);
    fflush(stdout);
    int64_t lines = 0;
    /* The countdown lasts as long as the measurement, in three ticks. */
    for (int tick = 3; tick >= 1; tick--) {
        printf("%d ", tick);
        fflush(stdout);
        if (run_until(g, now_ns() + (int64_t)(seconds / 3.0 * 1e9), NULL, &lines) != 0)
            return -1;
    }
    printf("… measuring %g s\n", seconds);
    fflush(stdout);
    lines = 0;
    if (run_until(g, now_ns() + (int64_t)(seconds * 1e9), p, &lines) != 0)
        return -1;
    if (p->n == 0) {
        fprintf(stderr,
                "teleop calibrate: glove %s (%s): silent: no valid line in %g s (is it the glove's port, at the right "
                "baud?)\n",
                side, g->cfg.port, seconds);
        return -1;
    }
    return 0;
}

static void phase_free(phase_samples *p)
{
    for (int i = 0; i < SENSORS; i++)
        free(p->v[i]);
}

static int phase_alloc(phase_samples *p, double seconds)
{
    memset(p, 0, sizeof *p);
    p->cap = (size_t)(seconds * 4000.0) + 64; /* up to 4 kHz of lines */
    for (int i = 0; i < SENSORS; i++)
        if (!(p->v[i] = malloc(p->cap * sizeof(int32_t))))
            return -1;
    return 0;
}

int cmd_calibrate_glove(int argc, char **argv)
{
    static const struct option opts[] = {
        {"glove", required_argument, NULL, 'g'},    {"port", required_argument, NULL, 'P'},
        {"baud", required_argument, NULL, 'b'},     {"operator", required_argument, NULL, 'p'},
        {"seconds", required_argument, NULL, 's'},  {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *side_name = NULL, *port = NULL, *op = NULL, *out = NULL;
    long baud = 115200;
    double seconds = 2.0;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'g': side_name = optarg; break;
        case 'P': port = optarg; break;
        case 'p': op = optarg; break;
        case 'o': out = optarg; break;
        case 'b':
            baud = strtol(optarg, &end, 10);
            if (*end || baud <= 0)
                return cli_usage_error("calibrate", "--baud: expected a positive integer, got '%s'", optarg);
            break;
        case 's':
            seconds = strtod(optarg, &end);
            if (*end || !(seconds >= 0.05 && seconds <= 60))
                return cli_usage_error("calibrate", "--seconds: expected 0.05..60, got '%s'", optarg);
            break;
        case 'h':
            printf("usage: teleop calibrate --glove left|right --port PATH [--baud N] --operator NAME\n"
                   "                        [--seconds S] [--out FILE]\n\n"
                   "Guided glove calibration: hold the hand open (fingers straight and together), then a\n"
                   "fist, then the fingers spread (only when the glove sends splay), each after a\n"
                   "countdown and measured for S seconds (default 2). The median of each sensor becomes\n"
                   "its range; every finger must move by at least %d%% of the glove's range.\n"
                   "Writes calibration/glove-NAME-SIDE.ini (or FILE), section [glove], with an id.\n",
                   (int)(GLOVE_MIN_TRAVEL * 100));
            return 0;
        case ':': return cli_usage_error("calibrate", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("calibrate", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("calibrate", "unexpected argument '%s'", argv[optind]);
    int side;
    if (side_name && strcmp(side_name, "left") == 0)
        side = TP_LEFT;
    else if (side_name && strcmp(side_name, "right") == 0)
        side = TP_RIGHT;
    else
        return cli_usage_error("calibrate", "--glove: expected left or right");
    if (!port)
        return cli_usage_error("calibrate", "--glove needs --port PATH (the glove's serial port)");
    if (!op)
        return cli_usage_error("calibrate", "--operator NAME is required (letters, digits, '-', '_'; up to %d)",
                               TP_OPERATOR_NAME_MAX_BYTES);
    char why[128], esc[96];
    if (tp_name_check(op, TP_OPERATOR_NAME_MAX_BYTES, why, sizeof why) != 0)
        return cli_usage_error("calibrate", "--operator '%s' is not a name: %s", tp_text_escape(op, esc, sizeof esc),
                               why);

    tp_glove_config cfg;
    tp_glove_default_config(&cfg, side);
    cfg.port = port;
    cfg.baud = (int)baud;
    char err[1024];
    tp_glove *g = tp_glove_open(&cfg, err, sizeof err);
    if (!g) {
        fprintf(stderr, "teleop calibrate: %s\n", err);
        return 1;
    }
    phase_samples open_p, fist_p, spread_p;
    int rc = 1;
    if (phase_alloc(&open_p, seconds) || phase_alloc(&fist_p, seconds) || phase_alloc(&spread_p, seconds)) {
        fprintf(stderr, "teleop calibrate: out of memory\n");
        goto done;
    }
    char instruction[160];
    snprintf(instruction, sizeof instruction, "Hold your %s hand open, fingers straight and together", side_name);
    if (phase(g, side_name, instruction, seconds, &open_p) != 0)
        goto done;
    snprintf(instruction, sizeof instruction, "Make a fist with your %s hand", side_name);
    if (phase(g, side_name, instruction, seconds, &fist_p) != 0)
        goto done;
    bool has_splay = false;
    for (int f = 0; f < TP_GLOVE_FINGERS; f++)
        has_splay |= median(&open_p, sensor_splay(f)) >= 0;
    if (has_splay) {
        snprintf(instruction, sizeof instruction, "Open your %s hand and spread the fingers wide", side_name);
        if (phase(g, side_name, instruction, seconds, &spread_p) != 0)
            goto done;
    }
    int32_t max_value = open_p.max_value > fist_p.max_value ? open_p.max_value : fist_p.max_value;
    tp_glove_calibration cal;
    tp_glove_default_calibration(&cal, max_value);
    for (int f = 0; f < TP_GLOVE_FINGERS; f++) {
        cal.curl_open[f] = median(&open_p, sensor_curl(f));
        cal.curl_closed[f] = median(&fist_p, sensor_curl(f));
        int32_t travel = abs(cal.curl_closed[f] - cal.curl_open[f]);
        if (travel < GLOVE_MIN_TRAVEL * max_value) {
            fprintf(stderr,
                    "teleop calibrate: glove %s (%s): %s finger did not move (open %d, fist %d: less than %d%% of "
                    "0..%d); check its sensor and repeat\n",
                    side_name, port, finger_names[f], (int)cal.curl_open[f], (int)cal.curl_closed[f],
                    (int)(GLOVE_MIN_TRAVEL * 100), (int)max_value);
            goto done;
        }
        for (int j = 0; j < TP_GLOVE_FINGER_JOINTS; j++) {
            int32_t o = median(&open_p, sensor_joint(f, j)), k = median(&fist_p, sensor_joint(f, j));
            cal.joint_open[f][j] = o >= 0 ? o : cal.curl_open[f];
            cal.joint_closed[f][j] = k >= 0 ? k : cal.curl_closed[f];
        }
        if (has_splay) {
            int32_t t = median(&open_p, sensor_splay(f)), s = median(&spread_p, sensor_splay(f));
            if (t >= 0 && s >= 0) {
                cal.splay_together[f] = t;
                cal.splay_spread[f] = s;
            }
        }
    }
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(cal.id, sizeof cal.id, "glove-%s-%s-%s", op, side_name, stamp);
    char path[4096];
    if (out) {
        snprintf(path, sizeof path, "%s", out);
    } else {
        mkdir("calibration", 0755);
        snprintf(path, sizeof path, "calibration/glove-%s-%s.ini", op, side_name);
    }
    if (tp_glove_calibration_save(path, &cal, err, sizeof err) != 0) {
        fprintf(stderr, "teleop calibrate: %s\n", err);
        goto done;
    }
    printf("glove calibration: %s\nid %s (0..%d):", path, cal.id, (int)max_value);
    for (int f = 0; f < TP_GLOVE_FINGERS; f++)
        printf(" %s %d..%d", finger_names[f], (int)cal.curl_open[f], (int)cal.curl_closed[f]);
    printf("\n");
    rc = 0;
done:
    phase_free(&open_p);
    phase_free(&fist_p);
    phase_free(&spread_p);
    tp_glove_close(g);
    return rc;
}
