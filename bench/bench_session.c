/* Benchmark: a full session (replayed operator, retargeting, MuJoCo physics at
 * 500 Hz, cameras, live encoding, SQLite recording) for a given duration;
 * prints control-loop rate and period jitter (median, p99), per camera the
 * frames captured, dropped and encoded, recorder throughput, CPU per thread
 * group, peak memory and stop-to-final, and with --targets whether the
 * recording targets are met.
 *
 * Usage: teleop-bench-session [SECONDS] [OUT_DIR]            the default session
 *        teleop-bench-session --cameras N [--pattern]   (N = 0: no cameras, a baseline) [--seconds S] [--out DIR]
 *            [--width W --height H --fps F --preset P --crf C --threads T] [--targets]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "teleop/episode.h"
#include "teleop/session.h"

static double tv_s(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [SECONDS] [OUT_DIR]\n"
            "       %s --cameras N [--pattern] [--seconds S] [--out DIR] [--width W] [--height H] [--fps F]\n"
            "          [--preset P] [--crf C] [--threads T] [--targets]\n",
            argv0, argv0);
}

int main(int argc, char **argv)
{
    double seconds = 20.0, fps = 30;
    const char *out = "/tmp/teleop-bench";
    int cameras = -1, width = 640, height = 480, crf = -1, threads = 0;
    bool pattern = false, targets = false;
    const char *preset = NULL;
    static const struct option opts[] = {
        {"cameras", required_argument, NULL, 'n'}, {"pattern", no_argument, NULL, 'p'},
        {"seconds", required_argument, NULL, 's'}, {"out", required_argument, NULL, 'o'},
        {"width", required_argument, NULL, 'W'},   {"height", required_argument, NULL, 'H'},
        {"fps", required_argument, NULL, 'f'},     {"preset", required_argument, NULL, 'P'},
        {"crf", required_argument, NULL, 'c'},     {"threads", required_argument, NULL, 't'},
        {"targets", no_argument, NULL, 'T'},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n': cameras = atoi(optarg); break;
        case 'p': pattern = true; break;
        case 's': seconds = atof(optarg); break;
        case 'o': out = optarg; break;
        case 'W': width = atoi(optarg); break;
        case 'H': height = atoi(optarg); break;
        case 'f': fps = atof(optarg); break;
        case 'P': preset = optarg; break;
        case 'c': crf = atoi(optarg); break;
        case 't': threads = atoi(optarg); break;
        case 'T': targets = true; break;
        case 'h': usage(argv[0]); return 0;
        default: usage(argv[0]); return 2;
        }
    }
    if (optind < argc)
        seconds = atof(argv[optind++]);
    if (optind < argc)
        out = argv[optind++];
    if (!(seconds > 0) || cameras < -1 || cameras > TP_SESSION_MAX_CAMERAS || !(fps > 0) || width < 16 ||
        height < 16) {
        usage(argv[0]);
        return 2;
    }
    tp_session_config cfg;
    tp_session_default_config(&cfg);
    cfg.duration_s = seconds;
    cfg.out_dir = out;
    cfg.task = "benchmark";
    /* The simulated robot's three cameras, or as many test-pattern ones. */
    static const char *const names[] = {"head", "left_wrist", "right_wrist", "cam3", "cam4", "cam5", "cam6", "cam7"};
    static const char *const mjcf[] = {"head_camera", "left_wrist_camera", "right_wrist_camera"};
    if (cameras >= 0) {
        /* --cameras 0: no camera at all, the baseline for the control loop. */
        cfg.camera_count = cameras;
        for (int i = 0; i < cameras; i++) {
            tp_session_camera *cam = &cfg.cameras[i];
            cam->device = cfg.cameras[0].device;
            cam->video = cfg.cameras[0].video;
            cam->test_encode_delay_ms = 0;
            cam->device.name = names[i];
            cam->device.driver = pattern ? "pattern" : "sim";
            if (!pattern && i >= 3) {
                fprintf(stderr, "bench: the simulated robot has 3 cameras; use --pattern for more\n");
                return 2;
            }
            cam->device.source = pattern ? names[i] : mjcf[i];
            cam->device.seed = (uint64_t)i + 1;
        }
    }
    for (int i = 0; i < cfg.camera_count; i++) {
        tp_session_camera *cam = &cfg.cameras[i];
        cam->device.width = cam->video.width = width;
        cam->device.height = cam->video.height = height;
        cam->device.fps = cam->video.fps = fps;
        cam->video.gop = (int)(fps + 0.5);
        if (preset)
            cam->video.preset = preset;
        if (crf >= 0)
            cam->video.crf = crf;
        if (threads > 0)
            cam->video.threads = threads;
    }
    char model[4096], motion[4096], err[1024];
    if (tp_session_resolve_paths(&cfg, model, motion, sizeof model, err, sizeof err) != 0) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    /* Other work on the machine competes for the same cores: show how much. */
    double load0[1] = {0}, load1[1] = {0};
    getloadavg(load0, 1);
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    tp_session_stats st;
    if (tp_session_run(&cfg, NULL, &st, err, sizeof err) != 0) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    getrusage(RUSAGE_SELF, &ru1);
    getloadavg(load1, 1);
    double cpu = tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime) + tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime);
    struct stat sb;
    double file_mb = stat(st.episode_path, &sb) == 0 ? (double)sb.st_size / 1e6 : 0;
    double rate = (double)st.control_cycles / seconds;
    const tp_session_camera *c0 = &cfg.cameras[0];
    printf("session: %.1f s, episode %s (%.1f MB); machine load average %.2f before, %.2f after\n", seconds,
           st.episode_path, file_mb, load0[0], load1[0]);
    if (cfg.camera_count > 0)
        printf("cameras: %d x %s %dx%d at %g fps, %s preset %s crf %d threads %d\n", cfg.camera_count,
               c0->device.driver, width, height, fps, c0->video.codec, c0->video.preset, c0->video.crf,
               c0->video.threads);
    else
        printf("cameras: none\n");
    printf("control loop: %.1f Hz (%lld cycles, %lld deadline misses)\n", rate, (long long)st.control_cycles,
           (long long)st.deadline_misses);
    printf("control period: median %.1f us, p99 %.1f us; jitter |period-2000us| median %.1f us, p99 %.1f us\n",
           st.period_median_us, st.period_p99_us, st.jitter_median_us, st.jitter_p99_us);
    printf("control cycle work: median %.1f us, p99 %.1f us\n", st.compute_median_us, st.compute_p99_us);
    double encoders_cpu = 0, capture_cpu = 0;
    long long dropped = 0;
    for (int i = 0; i < st.camera_count; i++) {
        const tp_session_camera_stats *cs = &st.cameras[i];
        long long cap = atomic_load(&cs->captured), drop = atomic_load(&cs->dropped), enc = atomic_load(&cs->encoded),
                  miss = atomic_load(&cs->missed);
        dropped += drop + miss;
        encoders_cpu += cs->encoder_cpu_s;
        capture_cpu += cs->capture_cpu_s;
        printf("camera %-11s: %lld captured (%.2f fps), %lld dropped, %lld missed, %lld encoded, %lld gaps; capture "
               "median %.2f ms, encode median %.2f ms/frame, %.2f Mbit/s; CPU capture %.0f%%, encoder %.0f%% of one "
               "core\n",
               cs->name, cap, (double)cap / seconds, drop, miss, enc, (long long)atomic_load(&cs->gaps),
               cs->capture_median_ms, cs->encode_median_ms, (double)atomic_load(&cs->bytes) * 8 / 1e6 / seconds,
               100 * cs->capture_cpu_s / seconds, 100 * cs->encoder_cpu_s / seconds);
    }
    printf("recorder: %lld state+action rows (%.1f rows/s, %lld dropped), %lld operator frames (%lld dropped), "
           "%.2f MB/s to disk\n",
           (long long)st.samples_recorded, (double)st.samples_recorded / seconds, (long long)st.samples_dropped,
           (long long)st.operator_frames, (long long)st.operator_frames_dropped, file_mb / seconds);
    double rec_enc = 100 * (encoders_cpu + st.recorder_cpu_s) / seconds;
    printf("CPU (%% of one core): recorder %.1f, encoders %.1f, recorder+encoders %.1f; capture %.1f; control %.1f; "
           "whole process %.1f\n",
           100 * st.recorder_cpu_s / seconds, 100 * encoders_cpu / seconds, rec_enc, 100 * capture_cpu / seconds,
           100 * st.control_cpu_s / seconds, 100 * cpu / st.wall_s);
    double rss_mb = (double)ru1.ru_maxrss / 1024;
    printf("stop-to-final: %.3f s (encoders flushed %.3f s, last batch %.3f s, then finish); wall %.2f s; peak RSS "
           "%.1f MB\n",
           st.stop_to_final_s, st.stop_to_encoded_s, st.stop_to_recorded_s, st.wall_s, rss_mb);
    if (!targets)
        return 0;
    bool ok_drop = dropped == 0, ok_miss = st.deadline_misses == 0, ok_cpu = rec_enc <= 60, ok_rss = rss_mb <= 200,
         ok_final = st.stop_to_final_s <= 0.5;
    printf("targets: dropped or missed frames 0 [%s], deadline misses 0 [%s], recorder+encoders <= 60%% [%s], "
           "peak RSS <= 200 MB [%s], stop-to-final <= 0.5 s [%s]\n",
           ok_drop ? "met" : "MISSED", ok_miss ? "met" : "MISSED", ok_cpu ? "met" : "MISSED",
           ok_rss ? "met" : "MISSED", ok_final ? "met" : "MISSED");
    return ok_drop && ok_miss && ok_cpu && ok_rss && ok_final ? 0 : 3;
}
