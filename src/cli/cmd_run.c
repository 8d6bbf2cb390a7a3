/* teleop run — a session, recorded. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "teleop/config.h"
#include "teleop/episode.h"
#include "teleop/log.h"
#include "teleop/session.h"

static volatile int stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void run_help(void)
{
    printf("usage: teleop run [--config FILE] [--duration SECONDS] [--out DIR] [--task TEXT] [--no-record]\n"
           "\n"
           "Runs a teleoperation session and records one episode. With no devices configured it runs the\n"
           "embedded default: the bundled operator motion replayed through retargeting into the simulated\n"
           "humanoid, its head camera rendered headless, for 20 s at a 500 Hz control rate.\n"
           "\n"
           "  --config FILE       station config (docs/configuration.md); options below override it\n"
           "  --duration SECONDS  session length (default 20)\n"
           "  --out DIR           episode folder (default recordings)\n"
           "  --task TEXT         task description stored in the episode\n"
           "  --no-record         run without writing an episode\n"
           "  -v, --verbose       progress and timing on stderr\n"
           "\n"
           "Prints 'episode: PATH' for each episode written. Ctrl-C ends the session early and keeps\n"
           "the episode (outcome 'stopped').\n");
}

int cli_session_config(const char *sub, const char *path, tp_session_config *cfg, tp_config **file)
{
    char err[1024];
    tp_session_default_config(cfg);
    *file = NULL;
    if (!path)
        return 0;
    *file = tp_config_load(path, err, sizeof err);
    if (!*file || tp_session_apply_config(cfg, *file, err, sizeof err) != 0) {
        fprintf(stderr, "teleop %s: %s\n", sub, err);
        tp_config_free(*file);
        *file = NULL;
        return -1;
    }
    return 0;
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"duration", required_argument, NULL, 'd'},
        {"out", required_argument, NULL, 'o'},    {"task", required_argument, NULL, 't'},
        {"no-record", no_argument, NULL, 'n'},    {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL, *out = NULL, *task = NULL;
    double duration = -1;
    bool no_record = false, verbose = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:d:o:t:nvh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'd': {
            char *end;
            duration = strtod(optarg, &end);
            if (*end || !(duration > 0) || !isfinite(duration))
                return cli_usage_error("run", "--duration: expected a positive number of seconds, got '%s'",
                                       optarg);
            break;
        }
        case 'o': out = optarg; break;
        case 't': task = optarg; break;
        case 'n': no_record = true; break;
        case 'v': verbose = true; break;
        case 'h': run_help(); return 0;
        case ':': return cli_usage_error("run", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("run", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    if (verbose)
        tp_log_set_level(TP_LOG_INFO);

    char err[1024];
    tp_session_config cfg;
    tp_config *file = NULL;
    if (cli_session_config("run", config_path, &cfg, &file) != 0)
        return 1;
    if (duration > 0)
        cfg.duration_s = duration;
    if (out)
        cfg.out_dir = out;
    if (task)
        cfg.task = task;
    if (no_record)
        cfg.record = false;
    static char model_buf[4096], motion_buf[4096];
    if (tp_session_resolve_paths(&cfg, model_buf, motion_buf, sizeof model_buf, err, sizeof err) != 0) {
        fprintf(stderr, "teleop run: %s\n", err);
        tp_config_free(file);
        return 1;
    }

    /* Episodes cut off by a crash of an earlier run are finalized first. */
    if (cfg.record) {
        int recovered;
        tp_episode_recover_dir(cfg.out_dir, stderr, &recovered);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    tp_session_stats stats;
    int rc = tp_session_run(&cfg, &stop_requested, &stats, err, sizeof err);
    if (stats.episode_path[0])
        printf("episode: %s\n", stats.episode_path);
    fflush(stdout);
    if (rc != 0)
        fprintf(stderr, "teleop run: %s\n", err);
    tp_log_info("%lld control cycles, %lld deadline misses, period median %.1f us p99 %.1f us, "
                "%lld frames rendered (%lld dropped), %lld encoded, stop-to-final %.3f s",
                (long long)stats.control_cycles, (long long)stats.deadline_misses, stats.period_median_us,
                stats.period_p99_us, (long long)stats.frames_rendered, (long long)stats.frames_dropped,
                (long long)stats.frames_encoded, stats.stop_to_final_s);
    tp_config_free(file);
    return rc == 0 ? 0 : 1;
}
