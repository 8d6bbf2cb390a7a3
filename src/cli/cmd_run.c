/* teleop run — a session, recorded. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "console.h"
#include "teleop/config.h"
#include "teleop/episode.h"
#include "teleop/log.h"
#include "teleop/robot_link.h"
#include "teleop/session.h"
#include "teleop/station_config.h"
#include "teleop/station_sync.h"
#include "teleop/text.h"

static volatile int stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void run_help(void)
{
    printf("usage: teleop run [--config FILE] [--duration SECONDS] [--out DIR] [--task TEXT] [--no-record]\n"
           "                  [--robot LINK] [--episodes N] [--episode-time S] [--reset-time S] [--manual] [--commands FILE|-]\n"
           "                  [--console | --no-console] [--console-screenshot PNG [--console-screenshot-after S]]\n"
           "                  [--mirror | --no-mirror] [--mirror-screenshot PNG [--mirror-screenshot-after S]]\n"
           "\n"
           "Runs a teleoperation session. With no devices configured it runs the embedded default: the\n"
           "bundled operator motion replayed through the OpenXR replay runtime and retargeting into the\n"
           "simulated humanoid, its head camera rendered headless, for 20 s at a 500 Hz control rate,\n"
           "recorded as one episode. With the recording workflow options it records a session of\n"
           "episodes (docs/recording.md).\n"
           "\n"
           "  --config FILE       station config (docs/configuration.md); options below override it\n"
           "  --duration SECONDS  session length, at most 86400 (default 20; 86400 with the workflow options)\n"
           "  --out DIR           episode folder (default recordings)\n"
           "  --task TEXT         task description stored in each episode: UTF-8, no control characters,\n"
           "                      at most 4096 bytes\n"
           "  --no-record         run without writing an episode\n"
           "  --robot LINK        robot link, overriding [robot] link (docs/devices/robot-links.md): sim, unitree\n"
           "  --episodes N        end the session after N kept episodes (0: until quit)\n"
           "  --episode-time S    stop and keep each episode after S seconds (0: no limit; at most 86400)\n"
           "  --reset-time S      pause S seconds between episodes, robot still teleoperated (at most 86400)\n"
           "  --manual            wait for a start command instead of recording at once\n"
           "  --commands FILE|-   read operator commands from FILE or stdin (- ). By default stdin is read:\n"
           "                      a terminal as keys (space start/stop, d discard, r re-record, q quit), a\n"
           "                      pipe or file as command lines (start, keep, discard, quit, task TEXT, ...).\n"
           "                      End of input ends reading, never the session\n"
           "  --console           open the operator console window (camera views, robot, status, the keys\n"
           "                      above); an error when there is no display. Default: [console] enabled,\n"
           "                      auto: open it when a display is present (DISPLAY or WAYLAND_DISPLAY)\n"
           "  --no-console        never open it\n"
           "  --console-screenshot PNG  write a PNG of the console window (and PNG.txt: where each camera\n"
           "                      view is and which frame it shows) S seconds into the session\n"
           "  --console-screenshot-after S  (default 2)\n"
           "  --mirror            open the desktop mirror of the headset view (what the operator sees), for\n"
           "                      an assistant; needs [xr] view = headset. Default: [xr] mirror\n"
           "  --no-mirror         never open it\n"
           "  --mirror-screenshot PNG  write a PNG of the mirror (and PNG.txt: where each panel is and which\n"
           "                      camera frame it shows) S seconds into the session; implies --mirror\n"
           "  --mirror-screenshot-after S  (default 2)\n"
           "  -v, --verbose       progress and timing on stderr\n"
           "\n"
           "Prints 'episode: PATH' for each episode kept ('discarded: PATH', 'deleted: PATH' for the\n"
           "others). Ctrl-C ends the session early and keeps the episode being recorded (outcome\n"
           "'stopped').\n");
}

static void on_episode(void *user, const char *path, const char *what)
{
    (void)user;
    /* "episode: PATH" promises a file: a path that is not a regular file on
     * disk is never announced as one. */
    struct stat st;
    if (!strcmp(what, "kept") && (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))) {
        char esc[4200];
        fprintf(stderr, "teleop run: %s: episode not written\n", tp_text_escape(path, esc, sizeof esc));
        return;
    }
    printf("%s: %s\n", !strcmp(what, "kept") ? "episode" : what, path);
    fflush(stdout);
    tp_sync *sync = user; /* [upload]: kept episodes go to the queue */
    if (sync && !strcmp(what, "kept") && tp_sync_enqueue(sync, path) != 0)
        fprintf(stderr, "teleop run: %s: not queued for upload (out of memory)\n", path);
    else if (sync && !strcmp(what, "deleted"))
        tp_sync_forget(sync, path);
}

static void sync_status(void *user, char *buf, size_t len)
{
    tp_sync_status_text(user, buf, len);
}

/* The bound of every time given in seconds, as the config's (86400: one
 * day), so no time overflows a nanosecond count. */
#define MAX_SECONDS 86400.0

/* Seconds in [0, 86400] ((0, 86400] when positive): one line with the bound
 * otherwise (issue 10, item 5). */
static int parse_seconds(const char *opt, const char *text, bool positive, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    bool number = end != text && !*end && errno != ERANGE && isfinite(v);
    if (!number || (positive ? !(v > 0) : !(v >= 0)) || v > MAX_SECONDS) {
        char esc[96];
        return cli_usage_error("run", "%s: expected seconds in %s0, %.0f], got '%s'", opt, positive ? "(" : "[",
                               MAX_SECONDS, tp_text_escape(text, esc, sizeof esc));
    }
    *out = v;
    return 0;
}

int cli_session_config(const char *sub, const char *path, tp_session_config *cfg, tp_config **file)
{
    char err[1024];
    tp_session_default_config(cfg);
    *file = NULL;
    if (!path)
        return 0;
    *file = tp_config_load(path, err, sizeof err);
    if (!*file || tp_session_apply_config(cfg, *file, err, sizeof err) != 0 ||
        tp_config_get_string(*file, "calibration.file", NULL, &cfg->calibration_path, err, sizeof err) != 0) {
        fprintf(stderr, "teleop %s: %s\n", sub, err);
        tp_config_free(*file);
        *file = NULL;
        return -1;
    }
    cfg->config_path = path; /* embedded in each episode, with the calibration file */
    return 0;
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"duration", required_argument, NULL, 'd'},
        {"out", required_argument, NULL, 'o'},    {"task", required_argument, NULL, 't'},
        {"no-record", no_argument, NULL, 'n'},    {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},         {"episodes", required_argument, NULL, 'E'},
        {"episode-time", required_argument, NULL, 'T'}, {"reset-time", required_argument, NULL, 'R'},
        {"manual", no_argument, NULL, 'M'},       {"commands", required_argument, NULL, 'C'},
        {"console", no_argument, NULL, 'K'},      {"no-console", no_argument, NULL, 'N'},
        {"console-screenshot", required_argument, NULL, 'S'},
        {"console-screenshot-after", required_argument, NULL, 'A'},
        {"robot", required_argument, NULL, 'r'},
        {"mirror", no_argument, NULL, 'X'},       {"no-mirror", no_argument, NULL, 'Y'},
        {"mirror-screenshot", required_argument, NULL, 'P'},
        {"mirror-screenshot-after", required_argument, NULL, 'Q'},
        {NULL, 0, NULL, 0},
    };
    long episodes = -1;
    double episode_time = -1, reset_time = -1;
    bool manual = false;
    const char *commands = NULL;
    int console_mode = -1; /* -1: as the config says */
    int mirror = -1;       /* --mirror 1, --no-mirror 0; -1: as [xr] mirror says */
    tp_console_options console_opt = {.screenshot_after_s = 2.0};
    bool screenshot_after_given = false;
    const char *mirror_shot = NULL;
    double mirror_shot_after = -1;
    const char *config_path = NULL, *out = NULL, *task = NULL, *robot = NULL;
    double duration = -1;
    bool no_record = false, verbose = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:d:o:t:nvh", opts, NULL)) != -1) {
        switch (c) {
        case 'E': {
            char *end;
            episodes = strtol(optarg, &end, 10);
            if (*end || !*optarg || episodes < 0 || episodes > 1000000)
                return cli_usage_error("run", "--episodes: expected a count (0 = until quit), got '%s'", optarg);
            break;
        }
        case 'T':
            if (parse_seconds("--episode-time", optarg, false, &episode_time) != 0)
                return 2;
            break;
        case 'R':
            if (parse_seconds("--reset-time", optarg, false, &reset_time) != 0)
                return 2;
            break;
        case 'M': manual = true; break;
        case 'K':
        case 'N':
            if (console_mode >= 0 && console_mode != (c == 'K' ? TP_CONSOLE_ON : TP_CONSOLE_OFF))
                return cli_usage_error("run", "--console and --no-console exclude each other");
            console_mode = c == 'K' ? TP_CONSOLE_ON : TP_CONSOLE_OFF;
            break;
        case 'X':
        case 'Y':
            if (mirror >= 0 && mirror != (c == 'X'))
                return cli_usage_error("run", "--mirror and --no-mirror exclude each other");
            mirror = c == 'X';
            break;
        case 'P':
            if (!*optarg)
                return cli_usage_error("run", "--mirror-screenshot: expected a file name");
            mirror_shot = optarg;
            break;
        case 'Q':
            if (parse_seconds("--mirror-screenshot-after", optarg, false, &mirror_shot_after) != 0)
                return 2;
            break;
        case 'S':
            if (!*optarg)
                return cli_usage_error("run", "--console-screenshot: expected a file name");
            console_opt.screenshot_path = optarg;
            break;
        case 'A':
            if (parse_seconds("--console-screenshot-after", optarg, false, &console_opt.screenshot_after_s) != 0)
                return 2;
            screenshot_after_given = true;
            break;
        case 'C': commands = optarg; break;
        case 'r':
            if (!tp_robot_link_find(optarg))
                return cli_usage_error("run", "--robot: no such link '%s' (known: %s)", optarg, tp_robot_link_names());
            robot = optarg;
            break;
        case 'c': config_path = optarg; break;
        case 'd':
            if (parse_seconds("--duration", optarg, true, &duration) != 0)
                return 2;
            break;
        case 'o': out = optarg; break;
        case 't': {
            char why[128];
            if (tp_text_check(optarg, TP_TASK_MAX_BYTES, why, sizeof why) != 0)
                return cli_usage_error("run", "--task: %s", why);
            task = optarg;
            break;
        }
        case 'n': no_record = true; break;
        case 'v': verbose = true; break;
        case 'h': run_help(); return 0;
        case ':': return cli_usage_error("run", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("run", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    if (console_mode == TP_CONSOLE_OFF && console_opt.screenshot_path)
        return cli_usage_error("run", "--console-screenshot needs the console: not with --no-console");
    if (screenshot_after_given && !console_opt.screenshot_path)
        return cli_usage_error("run", "--console-screenshot-after needs --console-screenshot");
    if (mirror_shot && mirror == 0)
        return cli_usage_error("run", "--mirror-screenshot needs the mirror: not with --no-mirror");
    if (mirror_shot_after >= 0 && !mirror_shot)
        return cli_usage_error("run", "--mirror-screenshot-after needs --mirror-screenshot");
    if (mirror_shot)
        mirror = 1;
    if (verbose)
        tp_log_set_level(TP_LOG_INFO);

    char err[1024];
    tp_session_config cfg;
    tp_config *file = NULL;
    if (cli_session_config("run", config_path, &cfg, &file) != 0)
        return 1;
    if (duration > 0)
        cfg.duration_s = duration;
    if (robot)
        cfg.robot_link = robot;
    if (out)
        cfg.out_dir = out;
    if (task)
        cfg.task = task;
    if (no_record)
        cfg.record = false;
    if (mirror == 1 && strcmp(cfg.xr_view, "headset") != 0) {
        tp_config_free(file);
        return cli_usage_error("run", "--mirror shows the headset view: it needs [xr] view = headset in the config");
    }
    if (mirror >= 0)
        cfg.xr_layout.mirror = mirror == 1;
    cfg.xr_mirror_screenshot = mirror_shot;
    cfg.xr_mirror_screenshot_after_s = mirror_shot_after >= 0 ? mirror_shot_after : 2.0;
    console_opt.mode = console_mode >= 0 ? console_mode : cfg.console_mode;
    /* A screenshot is asked of the console: it must open. */
    if (console_opt.screenshot_path && console_opt.mode == TP_CONSOLE_AUTO)
        console_opt.mode = TP_CONSOLE_ON;
    bool workflow_given = episodes >= 0 || episode_time >= 0 || reset_time >= 0 || manual;
    if (episodes >= 0)
        cfg.workflow.episodes = (int)episodes;
    if (episode_time >= 0)
        cfg.workflow.episode_time_s = episode_time;
    if (reset_time >= 0)
        cfg.workflow.reset_time_s = reset_time;
    if (manual)
        cfg.workflow.auto_start = false;
    /* A recording session lasts until its episodes are done or it is quit;
     * the duration stays a cap. */
    bool workflow_config = cfg.workflow.episodes != 1 || !cfg.workflow.auto_start;
    if ((workflow_given || workflow_config) && duration <= 0 && !(file && tp_config_has(file, "session.duration")))
        cfg.duration_s = 86400;
    int command_fd = -1;
    if (commands && strcmp(commands, "-") != 0) {
        command_fd = open(commands, O_RDONLY | O_CLOEXEC);
        if (command_fd < 0) {
            fprintf(stderr, "teleop run: --commands %s: %s\n", commands, strerror(errno));
            tp_config_free(file);
            return 1;
        }
    } else if (commands) {
        command_fd = 0;
    } else if (isatty(0)) {
        if (tcgetpgrp(0) == getpgrp())
            command_fd = 0; /* the operator's terminal, when we own it (not a background job) */
    } else if (fcntl(0, F_GETFD) >= 0) {
        command_fd = 0; /* a pipe or a file: command lines (docs/recording.md); its end ends reading only */
    }
    cfg.command_fd = command_fd;
    cfg.on_episode = on_episode;
    /* An existing non-folder as the episode folder: one line, before anything
     * (recovery, the session) tries to use it. */
    struct stat out_st;
    if (cfg.record && stat(cfg.out_dir, &out_st) == 0 && !S_ISDIR(out_st.st_mode)) {
        char esc[4200];
        fprintf(stderr, "teleop run: %s %s: not a folder\n", out ? "--out" : "[session] out",
                tp_text_escape(cfg.out_dir, esc, sizeof esc));
        if (command_fd > 0)
            close(command_fd);
        tp_config_free(file);
        return 1;
    }
    static char model_buf[4096], motion_buf[4096];
    if (tp_session_resolve_paths(&cfg, model_buf, motion_buf, sizeof model_buf, err, sizeof err) != 0 ||
        tp_station_config_check_files(&cfg, file, err, sizeof err) != 0) {
        fprintf(stderr, "teleop run: %s\n", err);
        if (command_fd > 0)
            close(command_fd);
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

    /* [upload]: the queue left by an earlier run resumes now */
    tp_sync *sync = NULL;
    if (cfg.record && cfg.upload.enabled) {
        sync = tp_sync_start(&cfg.upload, cfg.out_dir, err, sizeof err);
        if (!sync) {
            fprintf(stderr, "teleop run: %s\n", err);
            if (command_fd > 0)
                close(command_fd);
            tp_config_free(file);
            return 1;
        }
        cfg.on_episode_user = sync;
        cfg.status_extra = sync_status;
        cfg.status_extra_user = sync;
    }

    tp_session_stats stats;
    int rc = tp_console_run_session(&cfg, &console_opt, &stop_requested, &stats, err, sizeof err);
    if (command_fd > 0)
        close(command_fd);
    fflush(stdout);
    if (rc != 0)
        fprintf(stderr, "teleop run: %s\n", err);
    tp_log_info("%lld control cycles (%lld control ticks, catch-up included), %lld deadline misses, "
                "period median %.1f us p99 %.1f us, "
                "%lld frames rendered (%lld dropped), %lld encoded, stop-to-final %.3f s",
                (long long)stats.control_cycles, (long long)stats.control_ticks,
                (long long)stats.deadline_misses, stats.period_median_us,
                stats.period_p99_us, (long long)stats.frames_rendered, (long long)stats.frames_dropped,
                (long long)stats.frames_encoded, stats.stop_to_final_s);
    tp_log_info("robot link %s: state %.1f Hz, commands %.1f Hz, state age %.2f ms, %llu sequence gaps, "
                "%llu CRC errors, %llu commands refused, %llu superseded, blend weight %.2f at the end", cfg.robot_link,
                stats.robot_link.state_hz, stats.robot_link.command_hz, stats.robot_link.state_age_ms,
                (unsigned long long)stats.robot_link.sequence_gaps, (unsigned long long)stats.robot_link.crc_errors,
                (unsigned long long)stats.robot_link.commands_refused,
                (unsigned long long)stats.robot_link.commands_superseded, stats.robot_link.blend_weight);
    if (sync) {
        if (cfg.upload.wait_at_exit) {
            stop_requested = 0; /* a Ctrl-C from here on leaves the queue for the next run */
            tp_sync_drain(sync, &stop_requested, -1);
        }
        tp_sync_stop(sync);
    }
    tp_config_free(file);
    return rc == 0 ? 0 : 1;
}
