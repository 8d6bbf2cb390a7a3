/* teleop calibrate — measure an operator's calibration from a capture. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "teleop/calibration.h"
#include "teleop/episode.h"
#include "teleop/motion.h"
#include "teleop/paths.h"
#include "teleop/sim.h"
#include "teleop/text.h"

/* All operator frames of an episode, in order. */
static tp_operator_frame *episode_frames(const char *path, size_t *n, char *err, size_t errlen)
{
    tp_episode *ep = tp_episode_open(path, err, errlen);
    if (!ep)
        return NULL;
    const tp_stream_info *s = tp_episode_find_stream(ep, "operator");
    if (!s || s->dims != TP_OPERATOR_DIMS) {
        snprintf(err, errlen, "%s: no operator stream of %d dims", path, TP_OPERATOR_DIMS);
        tp_episode_close(ep);
        return NULL;
    }
    tp_operator_frame *f = calloc((size_t)s->count + 1, sizeof *f);
    tp_episode_cursor *c = f ? tp_episode_cursor_open(ep, s->id) : NULL;
    size_t k = 0;
    tp_episode_row row;
    int rc = 0;
    while (c && (rc = tp_episode_cursor_next(c, &row)) == 1 && k < (size_t)s->count)
        tp_operator_unpack(row.samples, row.t_ns, &f[k++]);
    tp_episode_cursor_close(c);
    tp_episode_close(ep);
    if (!c || rc < 0) {
        snprintf(err, errlen, "%s: operator stream unreadable", path);
        free(f);
        return NULL;
    }
    *n = k;
    return f;
}

static tp_operator_frame *motion_frames(const char *path, size_t *n, char *err, size_t errlen)
{
    tp_motion *m = tp_motion_load(path, err, errlen);
    if (!m)
        return NULL;
    /* Resample at 90 Hz, a headset's rate. */
    size_t count = (size_t)(tp_motion_duration(m) * 90) + 1;
    tp_operator_frame *f = calloc(count, sizeof *f);
    if (!f) {
        tp_motion_free(m);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    for (size_t k = 0; k < count; k++) {
        tp_motion_sample(m, (double)k / 90.0, false, &f[k]);
        f[k].t_ns = (int64_t)k * 1000000000LL / 90;
    }
    tp_motion_free(m);
    *n = count;
    return f;
}

int cmd_calibrate(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--glove") == 0 || strncmp(argv[i], "--glove=", 8) == 0)
            return cmd_calibrate_glove(argc, argv);
    static const struct option opts[] = {
        {"operator", required_argument, NULL, 'p'}, {"episode", required_argument, NULL, 'e'},
        {"motion", required_argument, NULL, 'm'},   {"neutral-seconds", required_argument, NULL, 'n'},
        {"output", required_argument, NULL, 'o'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *op = NULL, *episode = NULL, *motion = NULL, *out = NULL;
    double neutral = 2.0;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': op = optarg; break;
        case 'e': episode = optarg; break;
        case 'm': motion = optarg; break;
        case 'n': {
            char *end;
            neutral = strtod(optarg, &end);
            if (*end || !(neutral > 0))
                return cli_usage_error("calibrate", "--neutral-seconds: expected a positive number, got '%s'",
                                       optarg);
            break;
        }
        case 'o': out = optarg; break;
        case 'h':
            printf("usage: teleop calibrate --operator NAME (--episode EPISODE | --motion FILE)\n"
                   "                        [--neutral-seconds S] [-o FILE]\n\n"
                   "NAME: ASCII letters, digits, '-' and '_', at most 40 bytes, not starting with '-'.\n"
                   "Measures an operator's calibration from a capture: stand still in a neutral pose,\n"
                   "looking ahead, for the first S seconds (default 2), then reach both arms out fully.\n"
                   "The capture is the operator stream of a recorded episode or a motion file.\n"
                   "Writes calibration/NAME.ini (or FILE); use it with '[calibration] file = ...' in\n"
                   "the station config. Each episode records the calibration id it used.\n"
                   "Gloves: teleop calibrate --glove left|right --port PATH --operator NAME (--glove --help).\n");
            return 0;
        case ':': return cli_usage_error("calibrate", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("calibrate", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("calibrate", "unexpected argument '%s'", argv[optind]);
    if (!op)
        return cli_usage_error("calibrate", "--operator NAME is required (letters, digits, '-', '_'; up to %d)",
                               TP_OPERATOR_NAME_MAX_BYTES);
    char why[128], esc[96];
    if (tp_name_check(op, TP_OPERATOR_NAME_MAX_BYTES, why, sizeof why) != 0) /* item 14 */
        return cli_usage_error("calibrate", "--operator '%s' is not a name: %s", tp_text_escape(op, esc, sizeof esc),
                               why);
    if (!episode == !motion)
        return cli_usage_error("calibrate", "give one of --episode or --motion");

    char err[1024], model[4096];
    size_t n = 0;
    tp_operator_frame *frames = episode ? episode_frames(episode, &n, err, sizeof err)
                                        : motion_frames(motion, &n, err, sizeof err);
    if (!frames) {
        fprintf(stderr, "teleop calibrate: %s\n", err);
        return 1;
    }
    if (tp_find_data("devices/robot/models/humanoid.xml", model, sizeof model, err, sizeof err) != 0) {
        fprintf(stderr, "teleop calibrate: %s\n", err);
        free(frames);
        return 1;
    }
    tp_sim *sim = tp_sim_create(model, err, sizeof err);
    tp_chain arm;
    if (!sim || tp_sim_arm_chain(sim, 1, &arm, err, sizeof err) != 0) {
        fprintf(stderr, "teleop calibrate: %s\n", err);
        tp_sim_destroy(sim);
        free(frames);
        return 1;
    }
    tp_sim_destroy(sim);
    tp_operator_calibration cal;
    tp_operator_calibration_default(&cal);
    double robot_reach = tp_robot_reach(&arm, cal.calibration.robot_anchor);
    int rc = tp_calibrate(frames, n, neutral, robot_reach, cal.calibration.robot_anchor, &cal, err, sizeof err);
    free(frames);
    if (rc != 0) {
        fprintf(stderr, "teleop calibrate: %s: %s\n", episode ? episode : motion, err);
        return 1;
    }
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(cal.id, sizeof cal.id, "%s-%s", op, stamp);
    snprintf(cal.operator_name, sizeof cal.operator_name, "%s", op);
    char path[4096];
    if (out) {
        snprintf(path, sizeof path, "%s", out);
    } else {
        mkdir("calibration", 0755);
        snprintf(path, sizeof path, "calibration/%s.ini", op);
    }
    if (tp_calibration_save(path, &cal, err, sizeof err) != 0) {
        fprintf(stderr, "teleop calibrate: %s\n", err);
        return 1;
    }
    printf("calibration: %s\n", path);
    printf("id %s: neutral head (%.3f, %.3f, %.3f) m, reach %.3f m (robot %.3f m), scale %.3f, hand %.3f m\n",
           cal.id, cal.calibration.xr_anchor.x, cal.calibration.xr_anchor.y, cal.calibration.xr_anchor.z,
           cal.human_reach, cal.robot_reach, cal.calibration.scale, cal.hand_length);
    return 0;
}
