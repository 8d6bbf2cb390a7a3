/* Benchmark: station sync against recording. The same session (the
 * embedded default: 500 Hz control, the simulated head camera 640x480 at
 * 30 fps, H.264, recording) runs twice, first without upload, then with the
 * background upload busy the whole time (its queue seeded with hard links
 * to the first run's episode, uploaded to an S3 endpoint, e.g. s3rver run by
 * scripts/bench.sh upload-sync); prints dropped frames, control deadline
 * misses and period jitter side by side, and what was uploaded meanwhile.
 * --targets: 0 dropped frames with upload, no more deadline misses than
 * without, and the upload busy during the session (else the comparison
 * proves nothing); exit 3 when missed.
 *
 * Usage: teleop-bench-upload-sync --url s3://BUCKET/PREFIX [--endpoint URL] [--seconds S]
 *            [--seed-mb MB] [--bandwidth MB/s] [--out DIR] [--targets]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "teleop/session.h"
#include "teleop/station_sync.h"

typedef struct run_result {
    tp_session_stats st;
    long long dropped; /* frames dropped or missed, all cameras */
} run_result;

static void on_episode(void *user, const char *path, const char *what)
{
    if (user && !strcmp(what, "kept"))
        tp_sync_enqueue(user, path);
}

static void sync_status(void *user, char *buf, size_t len) { tp_sync_status_text(user, buf, len); }

static int run_session(double seconds, const char *out, tp_sync *sync, run_result *r)
{
    tp_session_config cfg;
    tp_session_default_config(&cfg);
    cfg.duration_s = seconds;
    cfg.out_dir = out;
    cfg.task = "benchmark";
    cfg.on_episode = on_episode;
    cfg.on_episode_user = sync;
    if (sync) {
        cfg.status_extra = sync_status;
        cfg.status_extra_user = sync;
    }
    char model[4096], motion[4096], err[1024];
    if (tp_session_resolve_paths(&cfg, model, motion, sizeof model, err, sizeof err) != 0 ||
        tp_session_run(&cfg, NULL, &r->st, err, sizeof err) != 0) {
        fprintf(stderr, "bench: %s\n", err);
        return -1;
    }
    r->dropped = 0;
    for (int i = 0; i < r->st.camera_count; i++)
        r->dropped += atomic_load(&r->st.cameras[i].dropped) + atomic_load(&r->st.cameras[i].missed);
    return 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = 20, seed_mb = 1500, bandwidth = 0;
    const char *url = NULL, *endpoint = getenv("AWS_ENDPOINT_URL"), *out = "/tmp/teleop-bench-upload";
    bool targets = false;
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'},      {"endpoint", required_argument, NULL, 'e'},
        {"seconds", required_argument, NULL, 's'},  {"seed-mb", required_argument, NULL, 'm'},
        {"bandwidth", required_argument, NULL, 'b'}, {"out", required_argument, NULL, 'o'},
        {"targets", no_argument, NULL, 'T'},        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'u': url = optarg; break;
        case 'e': endpoint = optarg; break;
        case 's': seconds = atof(optarg); break;
        case 'm': seed_mb = atof(optarg); break;
        case 'b': bandwidth = atof(optarg); break;
        case 'o': out = optarg; break;
        case 'T': targets = true; break;
        default:
            fprintf(stderr, "usage: %s --url s3://BUCKET/PREFIX [--endpoint URL] [--seconds S] [--seed-mb MB] "
                            "[--bandwidth MB/s] [--out DIR] [--targets]\n", argv[0]);
            return 2;
        }
    }
    if (!url || !(seconds > 0) || !(seed_mb > 0)) {
        fprintf(stderr, "bench: --url s3://BUCKET/PREFIX is required; seconds and seed-mb positive\n");
        return 2;
    }
    char dir_a[4096], dir_b[4096];
    snprintf(dir_a, sizeof dir_a, "%s/without", out);
    snprintf(dir_b, sizeof dir_b, "%s/with", out);
    mkdir(out, 0755);
    mkdir(dir_a, 0755);
    mkdir(dir_b, 0755);

    run_result a, b;
    fprintf(stderr, "bench: session without upload (%.0f s)\n", seconds);
    if (run_session(seconds, dir_a, NULL, &a))
        return 1;
    struct stat sb;
    if (stat(a.st.episode_path, &sb) != 0) {
        fprintf(stderr, "bench: %s: %s\n", a.st.episode_path, strerror(errno));
        return 1;
    }
    /* the queue: hard links to that episode, seed_mb in all */
    tp_upload_config uc;
    tp_upload_default_config(&uc);
    uc.enabled = true;
    uc.url = url;
    uc.endpoint = endpoint;
    uc.station = "bench";
    uc.bandwidth_limit_mb_s = bandwidth;
    uc.qa_wait_s = 0;
    char err[1024];
    tp_sync *sync = tp_sync_start(&uc, dir_b, err, sizeof err);
    if (!sync) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    int copies = (int)(seed_mb * 1e6 / (double)sb.st_size) + 1;
    if (copies > 2000)
        copies = 2000;
    for (int i = 0; i < copies; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/seed-%04d.db", dir_b, i);
        if (link(a.st.episode_path, p) != 0 || tp_sync_enqueue(sync, p) != 0) {
            fprintf(stderr, "bench: %s: %s\n", p, strerror(errno));
            tp_sync_stop(sync);
            return 1;
        }
    }
    /* the upload under way before the session starts, as on a station */
    double t0 = now_s();
    tp_sync_status s0, s1;
    for (;;) {
        tp_sync_get_status(sync, &s0);
        if ((s0.uploading && s0.fraction > 0) || s0.done > 0 || now_s() - t0 > 30)
            break;
        usleep(50000);
    }
    fprintf(stderr, "bench: session with upload (%.0f s; %d episodes of %.1f MB queued)\n", seconds, copies,
            (double)sb.st_size / 1e6);
    tp_sync_get_status(sync, &s0);
    int rc = run_session(seconds, dir_b, sync, &b);
    tp_sync_get_status(sync, &s1);
    tp_sync_stop(sync); /* the rest stays queued: not part of the comparison */
    if (rc)
        return 1;
    double up_mb = (double)(s1.bytes_done + s1.current_bytes - s0.bytes_done - s0.current_bytes) / 1e6;
    bool busy = s1.queued > 0 && s1.done > s0.done; /* uploading from start to end */

    printf("session: %.0f s, the default session (control 500 Hz, head camera 640x480 at 30 fps, H.264)\n", seconds);
    printf("%-34s %16s %16s\n", "", "without upload", "with upload");
    printf("%-34s %16lld %16lld\n", "dropped frames", a.dropped, b.dropped);
    printf("%-34s %16lld %16lld\n", "control deadline misses", (long long)a.st.deadline_misses,
           (long long)b.st.deadline_misses);
    printf("%-34s %16lld %16lld\n", "control cycles", (long long)a.st.control_cycles, (long long)b.st.control_cycles);
    printf("%-34s %16.1f %16.1f\n", "control period p99 (us)", a.st.period_p99_us, b.st.period_p99_us);
    printf("%-34s %16.1f %16.1f\n", "control period max (us)", a.st.period_max_us, b.st.period_max_us);
    printf("%-34s %16.1f %16.1f\n", "stop-to-final (s)", a.st.stop_to_final_s, b.st.stop_to_final_s);
    printf("%-34s %16s %13.1f MB\n", "uploaded during the session", "-", up_mb);
    printf("%-34s %16s %16d\n", "episodes uploaded and verified", "-", s1.done - s0.done);
    printf("%-34s %16s %16s\n", "upload busy start to end", "-", busy ? "yes" : "no");
    printf("upload: nice 19, I/O priority idle, bandwidth limit %s\n", bandwidth > 0 ? "set" : "none");
    if (bandwidth > 0)
        printf("        %.1f MB/s\n", bandwidth);
    if (!targets)
        return 0;
    bool ok_drop = b.dropped == 0, ok_miss = b.st.deadline_misses <= a.st.deadline_misses, ok_busy = busy;
    printf("targets: 0 dropped frames with upload [%s], no extra deadline misses (%lld <= %lld) [%s], upload busy "
           "throughout [%s]\n",
           ok_drop ? "met" : "MISSED", (long long)b.st.deadline_misses, (long long)a.st.deadline_misses,
           ok_miss ? "met" : "MISSED", ok_busy ? "met" : "MISSED");
    return ok_drop && ok_miss && ok_busy ? 0 : 3;
}
