/* teleop-bench-review-ui: the review app's speed in a real window (run it
 * under Xvfb: scripts/bench.sh review-ui). On a synthetic episode with three
 * 640x480 30 fps H.264 cameras (the playback fixture), through the app's own
 * code: open an episode -> its first frame drawn; seek to a random time ->
 * drawn; the UI frame rate while playing at 1x (every camera decoded in
 * sync, plots, 3D view, uncapped); and the floor: an empty frame's rate on
 * this GL. "Drawn" means the GL commands finished (glFinish). --targets
 * exits 1 when open > 150 ms, seek p95 > 50 ms, or playing < 60 fps. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "playback_fixture.h"
#include "review_app.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int i = (int)ceil(p * n) - 1;
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static void frame(struct review_app *a)
{
    rv_app_draw(a);
    uk_finish(a->win);
    uk_frame_end(a->win);
}

int main(int argc, char **argv)
{
    bool targets = false;
    double play_s = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--targets"))
            targets = true;
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            play_s = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: teleop-bench-review-ui [--seconds S] [--targets]\n");
            return 2;
        }
    }
    char dir[] = "/tmp/teleop-bench-review-ui-XXXXXX", path[256], err[512];
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/episode-bench.db", dir);
    pb_fixture f = {.cameras = 3, .width = 640, .height = 480, .fps = 30, .gop = 30, .seconds = 12, .noise = 3,
                    .codec = "h264"};
    FILE *la = fopen("/proc/loadavg", "r");
    double load = 0;
    if (la) {
        if (fscanf(la, "%lf", &load) != 1)
            load = 0;
        fclose(la);
    }
    printf("machine: %ld cores, load average %.2f (other processes share the CPU and the software GL)\n",
           sysconf(_SC_NPROCESSORS_ONLN), load);
    printf("episode: 3 cameras 640x480 30 fps H.264 (keyframe every 30), %.0f s, 500 Hz state/action, operator\n",
           f.seconds);
    if (pb_fixture_write(path, &f, err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    const char *paths[] = {dir};
    tp_review_ui_options o = {.paths = paths, .npaths = 1, .width = 1280, .height = 800};
    struct review_app *a = rv_app_create(&o);
    if (!a)
        return 1;
    frame(a); /* the browser: GL and fonts warmed up */

    /* open -> first frame drawn */
    enum { OPENS = 5, SEEKS = 40 };
    double open_ms[OPENS];
    for (int i = 0; i < OPENS; i++) {
        if (a->pb)
            rv_player_close(a);
        double t0 = uk_time();
        if (rv_player_open(a, path)) {
            fprintf(stderr, "bench: %s\n", a->status);
            return 1;
        }
        frame(a);
        open_ms[i] = (uk_time() - t0) * 1e3;
    }
    {   /* where an open's time goes */
        double p0 = uk_time();
        tp_playback *pb = tp_playback_open(path, err, sizeof err);
        double p1 = uk_time();
        const tp_playback_series *st = pb ? tp_playback_series_get(pb, "state") : NULL;
        const tp_playback_series *ac = pb ? tp_playback_series_get(pb, "action") : NULL;
        double p2 = uk_time();
        rv_scene *sc = pb ? rv_scene_new(pb, err, sizeof err) : NULL;
        double p3 = uk_time();
        const uint8_t *rgb;
        for (int c = 0; pb && c < tp_playback_camera_count(pb); c++)
            tp_playback_frame(pb, c, tp_playback_start_ns(pb), &rgb, err, sizeof err);
        double p4 = uk_time();
        printf("open, parts:                playback open %.1f ms, state+action series %.1f ms, 3D view (MuJoCo model "
               "from the episode) %.1f ms, first frame of 3 cameras %.1f ms%s\n",
               (p1 - p0) * 1e3, (p2 - p1) * 1e3, (p3 - p2) * 1e3, (p4 - p3) * 1e3, st && ac ? "" : " (no series!)");
        rv_scene_free(sc);
        tp_playback_close(pb);
    }
    double open_first = open_ms[0];
    double open_med = pct(open_ms, OPENS, 0.5), open_max = pct(open_ms, OPENS, 1.0);
    printf("open -> first frame drawn:  first %.1f ms, median %.1f ms, max %.1f ms (%d opens; target <= 150 ms)\n",
           open_first, open_med, open_max, OPENS);

    /* seek -> drawn */
    double seek_ms[SEEKS];
    srand(7);
    for (int i = 0; i < SEEKS; i++) {
        int64_t t = a->start_ns + (int64_t)((double)rand() / RAND_MAX * (double)(a->end_ns - a->start_ns));
        double t0 = uk_time();
        rv_player_seek(a, t);
        frame(a);
        seek_ms[i] = (uk_time() - t0) * 1e3;
    }
    double seek_med = pct(seek_ms, SEEKS, 0.5), seek_p95 = pct(seek_ms, SEEKS, 0.95), seek_max = pct(seek_ms, SEEKS, 1);
    printf("seek -> frame drawn:        median %.1f ms, p95 %.1f ms, max %.1f ms (%d random seeks; target <= 50 ms)\n",
           seek_med, seek_p95, seek_max, SEEKS);

    /* what one frame costs without decoding: the same time drawn again */
    double redraw[20];
    for (int i = 0; i < 20; i++) {
        double r0 = uk_time();
        frame(a);
        redraw[i] = (uk_time() - r0) * 1e3;
    }
    printf("redraw, no decode:          median %.1f ms (cameras, plots, 3D view, text)\n", pct(redraw, 20, 0.5));
    if (getenv("BENCH_NO_SCENE") && a->scene) {
        rv_scene_free(a->scene);
        a->scene = NULL;
        for (int i = 0; i < 20; i++) {
            double r0 = uk_time();
            frame(a);
            redraw[i] = (uk_time() - r0) * 1e3;
        }
        printf("redraw without 3D view:     median %.1f ms\n", pct(redraw, 20, 0.5));
    }

    /* playing at 1x, uncapped */
    rv_player_seek(a, a->start_ns);
    frame(a);
    a->playing = true;
    a->speed_index = 2;
    a->last_tick = uk_time();
    int64_t seq0[RV_MAX_CAMERAS];
    memcpy(seq0, a->cam_seq, sizeof seq0);
    double t0 = uk_time(), worst = 0;
    int frames = 0;
    while (uk_time() - t0 < play_s && a->playing) {
        double f0 = uk_time();
        rv_player_tick(a);
        frame(a);
        uk_window_poll(a->win, 0);
        double ft = uk_time() - f0;
        if (ft > worst)
            worst = ft;
        frames++;
    }
    double el = uk_time() - t0, fps = frames / el;
    printf("playing 3 cameras at 1x:    %.1f fps UI (%d frames in %.2f s, slowest frame %.1f ms); video frames shown "
           "per camera: %.1f/s",
           fps, frames, el, worst * 1e3, (double)(a->cam_seq[0] - seq0[0]) / el);
    for (int i = 1; i < a->n_cams; i++)
        printf(", %.1f/s", (double)(a->cam_seq[i] - seq0[i]) / el);
    printf(" (target 60 fps)\n");

    /* the floor: an empty frame */
    t0 = uk_time();
    int empty = 0;
    while (uk_time() - t0 < 2) {
        uk_frame_begin(a->win, uk_rgb(0));
        uk_finish(a->win);
        uk_frame_end(a->win);
        empty++;
    }
    double floor_fps = empty / (uk_time() - t0);
    int fw, fh;
    uk_framebuffer_size(a->win, &fw, &fh);
    printf("floor: empty frame:         %.1f fps at %dx%d (clear + swap on this GL)\n", floor_fps, fw, fh);

    rv_app_destroy(a);
    unlink(path);
    char cat[300];
    snprintf(cat, sizeof cat, "%s/.teleop-catalog.sqlite", dir);
    unlink(cat);
    rmdir(dir);
    bool ok = open_max <= 150 && seek_p95 <= 50 && fps >= 60;
    if (targets)
        printf("targets: %s (open <= 150 ms: %s, seek p95 <= 50 ms: %s, playing >= 60 fps: %s)\n", ok ? "met" : "MISSED",
               open_max <= 150 ? "yes" : "no", seek_p95 <= 50 ? "yes" : "no", fps >= 60 ? "yes" : "no");
    return targets && !ok ? 1 : 0;
}
