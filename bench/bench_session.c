/* Benchmark: a full embedded-default session (replayed operator, retargeting,
 * MuJoCo physics at 500 Hz, head camera rendered headless at 30 fps, live
 * H.264 encode, SQLite recording) for a given duration; prints control-loop
 * rate and period jitter (median, p99), recorder throughput and process CPU.
 * Usage: teleop-bench-session [SECONDS] [OUT_DIR] */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "teleop/episode.h"
#include "teleop/session.h"

static double tv_s(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 20.0;
    const char *out = argc > 2 ? argv[2] : "/tmp/teleop-bench";
    if (!(seconds > 0)) {
        fprintf(stderr, "usage: %s [SECONDS] [OUT_DIR]\n", argv[0]);
        return 2;
    }
    tp_session_config cfg;
    tp_session_default_config(&cfg);
    cfg.duration_s = seconds;
    cfg.out_dir = out;
    cfg.task = "benchmark";
    char model[4096], motion[4096], err[1024];
    if (tp_session_resolve_paths(&cfg, model, motion, sizeof model, err, sizeof err) != 0) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    tp_session_stats st;
    if (tp_session_run(&cfg, NULL, &st, err, sizeof err) != 0) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    getrusage(RUSAGE_SELF, &ru1);
    double cpu = tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime) + tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime);
    struct stat sb;
    double file_mb = stat(st.episode_path, &sb) == 0 ? (double)sb.st_size / 1e6 : 0;
    double rate = (double)st.control_cycles / seconds;
    printf("session: %.1f s, episode %s (%.1f MB)\n", seconds, st.episode_path, file_mb);
    printf("control loop: %.1f Hz (%lld cycles, %lld deadline misses)\n", rate, (long long)st.control_cycles,
           (long long)st.deadline_misses);
    printf("control period: median %.1f us, p99 %.1f us; jitter |period-2000us| median %.1f us, p99 %.1f us\n",
           st.period_median_us, st.period_p99_us, st.jitter_median_us, st.jitter_p99_us);
    printf("control cycle work: median %.1f us, p99 %.1f us\n", st.compute_median_us, st.compute_p99_us);
    printf("camera: %lld frames rendered (%.2f fps), %lld dropped, render median %.2f ms\n",
           (long long)st.frames_rendered, (double)st.frames_rendered / seconds, (long long)st.frames_dropped,
           st.render_median_ms);
    printf("encoder: %lld frames, encode median %.2f ms/frame, %.2f Mbit/s\n", (long long)st.frames_encoded,
           st.encode_median_ms, (double)st.bytes_video * 8 / 1e6 / seconds);
    printf("recorder: %lld state+action rows (%.1f rows/s, %lld dropped), %lld operator frames (%lld dropped), "
           "%.2f MB/s to disk\n",
           (long long)st.samples_recorded, (double)st.samples_recorded / seconds, (long long)st.samples_dropped,
           (long long)st.operator_frames, (long long)st.operator_frames_dropped, file_mb / seconds);
    printf("stop-to-final: %.3f s; wall %.2f s; process CPU %.2f s (%.0f%% of one core); peak RSS %.1f MB\n",
           st.stop_to_final_s, st.wall_s, cpu, 100 * cpu / st.wall_s, (double)ru1.ru_maxrss / 1024);
    return 0;
}
