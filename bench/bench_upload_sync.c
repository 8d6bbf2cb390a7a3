/* Benchmark: station sync against recording. The same session (the
 * embedded default: 500 Hz control, the simulated head camera 640x480 at
 * 30 fps, H.264, recording) runs in pairs (3 by default), without upload,
 * then with the background upload busy the whole time (its queue seeded with hard links
 * to the first run's episode, uploaded to an S3 endpoint, e.g. s3rver run by
 * scripts/bench.sh upload-sync); prints dropped frames, control deadline
 * misses and period jitter side by side, and what was uploaded meanwhile.
 * --targets: 0 dropped frames with upload, no more deadline misses than
 * without, and the upload busy during the session (else the comparison
 * proves nothing); exit 3 when missed.
 *
 * Usage: teleop-bench-upload-sync --url s3://BUCKET/PREFIX [--endpoint URL] [--seconds S]
 *            [--seed-mb MB] [--bandwidth MB/s] [--pairs N] [--out DIR] [--targets]
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
    int pairs = 3;
    const char *url = NULL, *endpoint = getenv("AWS_ENDPOINT_URL"), *out = "/tmp/teleop-bench-upload";
    bool targets = false;
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'},      {"endpoint", required_argument, NULL, 'e'},
        {"seconds", required_argument, NULL, 's'},  {"seed-mb", required_argument, NULL, 'm'},
        {"bandwidth", required_argument, NULL, 'b'}, {"out", required_argument, NULL, 'o'},
        {"targets", no_argument, NULL, 'T'},        {"pairs", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
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
        case 'p': pairs = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: %s --url s3://BUCKET/PREFIX [--endpoint URL] [--seconds S] [--seed-mb MB] "
                            "[--bandwidth MB/s] [--pairs N] [--out DIR] [--targets]\n", argv[0]);
            return 2;
        }
    }
    if (!url || !(seconds > 0) || !(seed_mb > 0) || pairs < 1 || pairs > 100) {
        fprintf(stderr, "bench: --url s3://BUCKET/PREFIX is required; seconds and seed-mb positive\n");
        return 2;
    }
    char dir_a[4096], dir_b[4096];
    snprintf(dir_a, sizeof dir_a, "%s/without", out);
    snprintf(dir_b, sizeof dir_b, "%s/with", out);
    mkdir(out, 0755);
    mkdir(dir_a, 0755);
    mkdir(dir_b, 0755);

    /* Pairs alternate (without, with) so the shared machine's load falls on
     * both alike; the sums are compared. */
    run_result a = {0}, b = {0};
    struct stat sb = {0};
    tp_upload_config uc;
    tp_upload_default_config(&uc);
    uc.enabled = true;
    uc.url = url;
    uc.endpoint = endpoint;
    uc.station = "bench";
    uc.bandwidth_limit_mb_s = bandwidth;
    uc.qa_wait_s = 0;
    double up_mb = 0, p99a = 0, p99b = 0, maxa = 0, maxb = 0;
    int uploaded = 0, copies = 0;
    bool busy = true;
    printf("session: %.0f s x %d pairs, the default session (control 500 Hz, head camera 640x480 at 30 fps, "
           "H.264)\n", seconds, pairs);
    printf("%-6s %26s %26s %12s\n", "pair", "without: drops / misses", "with: drops / misses", "uploaded");
    for (int pair = 0; pair < pairs; pair++) {
        run_result ra, rb;
        fprintf(stderr, "bench: pair %d: session without upload (%.0f s)\n", pair + 1, seconds);
        if (run_session(seconds, dir_a, NULL, &ra))
            return 1;
        char err[1024];
        /* the queue (on disk): started again for each run with upload */
        tp_sync *sync = tp_sync_start(&uc, dir_b, err, sizeof err);
        if (!sync) {
            fprintf(stderr, "bench: %s\n", err);
            return 1;
        }
        if (pair == 0) {
            /* hard links to the first episode, seed_mb in all */
            if (stat(ra.st.episode_path, &sb) != 0) {
                fprintf(stderr, "bench: %s: %s\n", ra.st.episode_path, strerror(errno));
                tp_sync_stop(sync);
                return 1;
            }
            copies = (int)(seed_mb * 1e6 / (double)sb.st_size) + 1;
            if (copies > 2000)
                copies = 2000;
            for (int i = 0; i < copies; i++) {
                char p[4200];
                snprintf(p, sizeof p, "%s/seed-%04d.db", dir_b, i);
                if (link(ra.st.episode_path, p) != 0 || tp_sync_enqueue(sync, p) != 0) {
                    fprintf(stderr, "bench: %s: %s\n", p, strerror(errno));
                    tp_sync_stop(sync);
                    return 1;
                }
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
        fprintf(stderr, "bench: pair %d: session with upload (%.0f s; %d episodes of %.1f MB queued)\n", pair + 1,
                seconds, s0.queued, (double)sb.st_size / 1e6);
        tp_sync_get_status(sync, &s0);
        int rc = run_session(seconds, dir_b, sync, &rb);
        tp_sync_get_status(sync, &s1);
        tp_sync_stop(sync); /* the rest stays queued for the next pair */
        if (rc)
            return 1;
        double mb = (double)(s1.bytes_done + s1.current_bytes - s0.bytes_done - s0.current_bytes) / 1e6;
        busy &= s1.queued > 0 && s1.done > s0.done; /* uploading from start to end */
        printf("%-6d %15lld / %8lld %15lld / %8lld %9.1f MB\n", pair + 1, ra.dropped,
               (long long)ra.st.deadline_misses, rb.dropped, (long long)rb.st.deadline_misses, mb);
        a.dropped += ra.dropped;
        b.dropped += rb.dropped;
        a.st.deadline_misses += ra.st.deadline_misses;
        b.st.deadline_misses += rb.st.deadline_misses;
        a.st.control_cycles += ra.st.control_cycles;
        b.st.control_cycles += rb.st.control_cycles;
        p99a = ra.st.period_p99_us > p99a ? ra.st.period_p99_us : p99a;
        p99b = rb.st.period_p99_us > p99b ? rb.st.period_p99_us : p99b;
        maxa = ra.st.period_max_us > maxa ? ra.st.period_max_us : maxa;
        maxb = rb.st.period_max_us > maxb ? rb.st.period_max_us : maxb;
        up_mb += mb;
        uploaded += s1.done - s0.done;
    }
    printf("%-40s %16s %16s\n", "in all", "without upload", "with upload");
    printf("%-40s %16lld %16lld\n", "dropped frames", a.dropped, b.dropped);
    printf("%-40s %16lld %16lld\n", "control deadline misses", (long long)a.st.deadline_misses,
           (long long)b.st.deadline_misses);
    printf("%-40s %16lld %16lld\n", "control cycles", (long long)a.st.control_cycles, (long long)b.st.control_cycles);
    printf("%-40s %16.1f %16.1f\n", "control period p99, worst run (us)", p99a, p99b);
    printf("%-40s %16.1f %16.1f\n", "control period max (us)", maxa, maxb);
    printf("%-40s %16s %13.1f MB\n", "uploaded during the sessions", "-", up_mb);
    printf("%-40s %16s %16d\n", "episodes uploaded and verified", "-", uploaded);
    printf("%-40s %16s %16s\n", "upload busy start to end", "-", busy ? "yes" : "no");
    if (bandwidth > 0)
        printf("upload: nice 19, I/O priority idle, bandwidth limit %.1f MB/s\n", bandwidth);
    else
        printf("upload: nice 19, I/O priority idle, no bandwidth limit\n");
    if (!targets)
        return 0;
    bool ok_drop = b.dropped == 0, ok_miss = b.st.deadline_misses <= a.st.deadline_misses, ok_busy = busy;
    printf("targets: 0 dropped frames with upload [%s], no extra deadline misses (%lld <= %lld) [%s], upload busy "
           "throughout [%s]\n",
           ok_drop ? "met" : "MISSED", (long long)b.st.deadline_misses, (long long)a.st.deadline_misses,
           ok_miss ? "met" : "MISSED", ok_busy ? "met" : "MISSED");
    return ok_drop && ok_miss && ok_busy ? 0 : 3;
}
