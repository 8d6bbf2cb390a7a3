/* teleop-bench-review-open: the review player's decode engine (ui/playback.c)
 * on a three-camera 640x480 30 fps H.264 episode (docs/review.md, Playback
 * engine).
 *
 *   teleop-bench-review-open [--episode PATH] [--seconds S] [--targets]
 *
 * Without --episode it writes one first (tests/ui/playback_fixture.c: the
 * real writer and encoder, test-pattern cameras with sensor noise, one
 * keyframe a second as the station records). Measures
 *   open:     tp_playback_open + the first frame of every camera as RGB
 *             (target <= 150 ms, median of 10);
 *   seek:     every camera's frame at a random time (200 times), and at the
 *             worst place, the last frame of a GOP reached by a jump back
 *             (target <= 50 ms: p95 of the random seeks and median of the
 *             worst case);
 *   playback: 1x playback stepped at 60 UI ticks a second, decode CPU per
 *             second of video for all cameras (target <= 50 % of a core,
 *             leaving the other half of it and the second core to the UI);
 * and prints the floor: a plain libavcodec decode of one GOP per camera from
 * memory (no SQLite, no RGB conversion). --targets exits 1 when missed. */
#include <libavcodec/avcodec.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "playback.h"
#include "playback_fixture.h"

static int64_t now_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile(double *v, int n, double q)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int i = (int)(q * (n - 1) + 0.5);
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static bool all_frames(tp_playback *pb, int64_t t)
{
    char err[512];
    for (int c = 0; c < tp_playback_camera_count(pb); c++) {
        const uint8_t *rgb;
        if (tp_playback_frame(pb, c, t, &rgb, err, sizeof err) < 0) {
            fprintf(stderr, "bench: %s\n", err);
            return false;
        }
    }
    return true;
}

/* A plain decode of camera c's first GOP from memory: the least a seek to
 * the end of a GOP can cost. */
static double gop_floor_ms(const char *path, int camera, int *gop_frames)
{
    char err[512];
    tp_episode *ep = tp_episode_open(path, err, sizeof err);
    if (!ep)
        return -1;
    int seen = 0;
    const tp_stream_info *s = NULL;
    for (int i = 0; i < tp_episode_stream_count(ep); i++)
        if (tp_episode_stream(ep, i)->kind == TP_STREAM_CAMERA && seen++ == camera)
            s = tp_episode_stream(ep, i);
    AVPacket *pkts[512];
    int n = 0;
    tp_episode_cursor *cur = s ? tp_episode_cursor_open(ep, s->id) : NULL;
    tp_episode_row row;
    while (cur && n < 512 && tp_episode_cursor_next(cur, &row) == 1 && (n == 0 || !row.keyframe)) {
        pkts[n] = av_packet_alloc();
        av_new_packet(pkts[n], (int)row.size);
        memcpy(pkts[n]->data, row.bytes, row.size);
        pkts[n]->pts = n;
        n++;
    }
    tp_episode_cursor_close(cur);
    double best = -1;
    for (int rep = 0; rep < 5 && s; rep++) {
        AVCodecContext *ctx = avcodec_alloc_context3(avcodec_find_decoder_by_name(s->codec));
        ctx->extradata = av_mallocz(s->extradata_size + AV_INPUT_BUFFER_PADDING_SIZE);
        memcpy(ctx->extradata, s->extradata, s->extradata_size);
        ctx->extradata_size = (int)s->extradata_size;
        ctx->thread_count = 1;
        avcodec_open2(ctx, ctx->codec, NULL);
        AVFrame *f = av_frame_alloc();
        int64_t t0 = now_ns(CLOCK_MONOTONIC);
        int got = 0;
        for (int i = 0; i < n; i++) {
            avcodec_send_packet(ctx, pkts[i]);
            while (avcodec_receive_frame(ctx, f) == 0)
                got++;
        }
        avcodec_send_packet(ctx, NULL);
        while (avcodec_receive_frame(ctx, f) == 0)
            got++;
        double ms = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e6;
        if (best < 0 || ms < best)
            best = ms;
        av_frame_free(&f);
        avcodec_free_context(&ctx);
        if (got != n)
            best = -1;
    }
    for (int i = 0; i < n; i++)
        av_packet_free(&pkts[i]);
    tp_episode_close(ep);
    *gop_frames = n;
    return best;
}

int main(int argc, char **argv)
{
    const char *episode = NULL;
    double seconds = 10;
    bool targets = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--targets"))
            targets = true;
        else if (!strcmp(argv[i], "--episode") && i + 1 < argc)
            episode = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--episode PATH] [--seconds S] [--targets]\n", argv[0]);
            return 2;
        }
    }
    char err[512], dir[] = "/tmp/teleop-bench-review-XXXXXX", path[4096];
    bool made = false;
    if (!episode) {
        if (!mkdtemp(dir) || !(seconds >= 2 && seconds <= 600)) {
            fprintf(stderr, "bench: cannot make a temporary folder, or --seconds outside 2..600\n");
            return 2;
        }
        snprintf(path, sizeof path, "%s/episode.db", dir);
        pb_fixture fx = {.cameras = 3, .width = 640, .height = 480, .fps = 30, .gop = 30, .seconds = seconds,
                         .noise = 3, .codec = "h264"};
        int64_t t0 = now_ns(CLOCK_MONOTONIC);
        if (pb_fixture_write(path, &fx, err, sizeof err)) {
            fprintf(stderr, "bench: %s\n", err);
            return 1;
        }
        printf("episode: %s, 3 cameras 640x480 30 fps H.264 (GOP 30, veryfast, CRF 23, pattern with noise 3), "
               "%.0f s, written in %.1f s\n",
               path, seconds, (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9);
        episode = path;
        made = true;
    }

    /* Open to first frames. */
    enum { OPENS = 10 };
    double open_ms[OPENS], open_only_ms[OPENS];
    int ncams = 0;
    for (int r = 0; r < OPENS; r++) {
        int64_t t0 = now_ns(CLOCK_MONOTONIC);
        tp_playback *pb = tp_playback_open(episode, err, sizeof err);
        if (!pb) {
            fprintf(stderr, "bench: %s\n", err);
            return 1;
        }
        int64_t t1 = now_ns(CLOCK_MONOTONIC);
        if (!all_frames(pb, tp_playback_start_ns(pb)))
            return 1;
        int64_t t2 = now_ns(CLOCK_MONOTONIC);
        ncams = tp_playback_camera_count(pb);
        tp_playback_close(pb);
        open_ms[r] = (double)(t2 - t0) / 1e6;
        open_only_ms[r] = (double)(t1 - t0) / 1e6;
    }
    double open_med = quantile(open_ms, OPENS, 0.5), open_max = quantile(open_ms, OPENS, 1.0);
    printf("open -> first frame of %d cameras as RGB: median %.1f ms, max %.1f ms (open alone: median %.1f ms)\n",
           ncams, open_med, open_max, quantile(open_only_ms, OPENS, 0.5));

    tp_playback *pb = tp_playback_open(episode, err, sizeof err);
    if (!pb) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    int64_t start = tp_playback_start_ns(pb), end = tp_playback_end_ns(pb);

    /* Random seeks. */
    enum { SEEKS = 200 };
    double seek_ms[SEEKS];
    for (int i = 0; i < SEEKS; i++) {
        int64_t t = start + (int64_t)(rng() % (uint64_t)(end - start + 1));
        int64_t t0 = now_ns(CLOCK_MONOTONIC);
        if (!all_frames(pb, t))
            return 1;
        seek_ms[i] = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e6;
    }
    double seek_med = quantile(seek_ms, SEEKS, 0.5), seek_p95 = quantile(seek_ms, SEEKS, 0.95),
           seek_max = quantile(seek_ms, SEEKS, 1.0);
    printf("seek to a random time, %d cameras: median %.1f ms, p95 %.1f ms, max %.1f ms (%d seeks)\n", ncams,
           seek_med, seek_p95, seek_max, SEEKS);

    /* Worst place: the frame before each keyframe of camera 0, reached by a
     * jump back from the end. */
    const tp_playback_camera *cam0 = tp_playback_camera_at(pb, 0);
    double worst_ms[64];
    int nworst = 0;
    for (int64_t k = 29; k < cam0->frames && nworst < 64; k += 30) {
        if (!all_frames(pb, end))
            return 1;
        int64_t t0 = now_ns(CLOCK_MONOTONIC);
        if (!all_frames(pb, cam0->t_ns[k]))
            return 1;
        worst_ms[nworst++] = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e6;
    }
    double worst_med = nworst ? quantile(worst_ms, nworst, 0.5) : 0, worst_max = nworst ? quantile(worst_ms, nworst, 1)
                                                                                          : 0;
    printf("seek to the last frame of a GOP (a jump back), %d cameras: median %.1f ms, max %.1f ms (%d seeks)\n",
           ncams, worst_med, worst_max, nworst);

    /* 1x playback at 60 UI ticks a second. */
    if (!all_frames(pb, start))
        return 1;
    int64_t cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), w0 = now_ns(CLOCK_MONOTONIC);
    double tick_max = 0;
    int ticks = 0;
    for (int64_t t = start; t <= end; t += 1000000000LL / 60, ticks++) {
        int64_t a = now_ns(CLOCK_MONOTONIC);
        if (!all_frames(pb, t))
            return 1;
        double ms = (double)(now_ns(CLOCK_MONOTONIC) - a) / 1e6;
        if (ms > tick_max)
            tick_max = ms;
    }
    double cpu_s = (double)(now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / 1e9;
    double wall_s = (double)(now_ns(CLOCK_MONOTONIC) - w0) / 1e9, video_s = (double)(end - start) / 1e9;
    double core_pct = 100.0 * cpu_s / video_s;
    printf("1x playback, %d cameras, %d UI ticks at 60 Hz: decode CPU %.1f %% of a core (%.2f s CPU, %.2f s wall "
           "for %.2f s of video), slowest tick %.1f ms\n",
           ncams, ticks, core_pct, cpu_s, wall_s, video_s, tick_max);
    tp_playback_close(pb);

    double floor_ms = 0;
    int gop = 0;
    for (int c = 0; c < ncams; c++) {
        double f = gop_floor_ms(episode, c, &gop);
        if (f < 0) {
            fprintf(stderr, "bench: plain decode of camera %d failed\n", c);
            return 1;
        }
        floor_ms += f;
    }
    printf("floor: plain libavcodec decode of one %d-frame GOP per camera from memory, %d cameras: %.1f ms "
           "(%.2f ms a frame)\n",
           gop, ncams, floor_ms, floor_ms / (gop * (ncams ? ncams : 1)));

    bool ok_open = open_med <= 150, ok_seek = seek_p95 <= 50 && worst_med <= 50, ok_play = core_pct <= 50;
    printf("targets: open -> first frames <= 150 ms [%s], seek <= 50 ms [%s], 1x playback decode <= 50 %% of a "
           "core [%s]\n",
           ok_open ? "ok" : "MISSED", ok_seek ? "ok" : "MISSED", ok_play ? "ok" : "MISSED");
    if (made) {
        unlink(path);
        rmdir(dir);
    }
    return targets && !(ok_open && ok_seek && ok_play) ? 1 : 0;
}
