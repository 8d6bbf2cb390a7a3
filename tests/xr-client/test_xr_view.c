/* The OpenXR client's view frame loop (devices/xr/xr_frame.c) through the
 * real loader against the replay runtime, under a private Xvfb, with the
 * core validation layer on and silent: a view thread waits, uploads and
 * submits quad layers while the main thread polls operator frames at the
 * display times the view publishes (and on through a stall of the view);
 * what the runtime dumped equals what was
 * uploaded, pixel for pixel; an exit requested mid-run ends the session
 * through STOPPING with the view thread still looping; a scripted session
 * loss ends both threads without an error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <png.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "teleop/clock.h"
#include "teleop/xr.h"

static const char *manifest, *motion, *scratch;
static char validation_log[4096];

#define HEAD_W 64
#define HEAD_H 48
#define PANEL_W 40
#define PANEL_H 20

/* The picture uploaded for frame k: every pixel depends on k, x and y. */
static void head_picture(int k, uint8_t *rgb)
{
    for (int y = 0; y < HEAD_H; y++)
        for (int x = 0; x < HEAD_W; x++) {
            uint8_t *p = rgb + (y * HEAD_W + x) * 3;
            p[0] = (uint8_t)(x * 4 + k);
            p[1] = (uint8_t)(y * 5);
            p[2] = (uint8_t)(k * 7 + x + y);
        }
}

static void panel_picture(int k, uint8_t *rgba)
{
    for (int y = 0; y < PANEL_H; y++)
        for (int x = 0; x < PANEL_W; x++) {
            uint8_t *p = rgba + (y * PANEL_W + x) * 4;
            p[0] = (uint8_t)(255 - x);
            p[1] = (uint8_t)(k + y);
            p[2] = (uint8_t)(x ^ y);
            p[3] = (uint8_t)(x < PANEL_W / 2 ? 255 : 128);
        }
}

typedef struct view_run {
    tp_xr *xr;
    atomic_int stop;
    int frames;        /* submitted frames */
    int uploads;       /* frames that uploaded new pictures */
    int64_t display_time[4096];
    int last_rc;
    char err[512];
} view_run;

/* The view thread: a new head picture every third frame, the panel once. */
static void *view_thread(void *arg)
{
    view_run *v = arg;
    char err[400];
    uint8_t head[HEAD_W * HEAD_H * 3], panel[PANEL_W * PANEL_H * 4];
    if (tp_xr_view_enter(v->xr, err, sizeof err) != 0) {
        snprintf(v->err, sizeof v->err, "enter: %s", err);
        return NULL;
    }
    tp_xr_swapchain *sh = tp_xr_swapchain_create(v->xr, HEAD_W, HEAD_H, err, sizeof err);
    tp_xr_swapchain *sp = sh ? tp_xr_swapchain_create(v->xr, PANEL_W, PANEL_H, err, sizeof err) : NULL;
    if (!sh || !sp) {
        snprintf(v->err, sizeof v->err, "swapchain: %s", err);
        tp_xr_swapchain_destroy(sh);
        tp_xr_view_leave(v->xr);
        return NULL;
    }
    while (!atomic_load(&v->stop)) {
        tp_xr_frame f;
        int rc = tp_xr_frame_begin(v->xr, &f, err, sizeof err);
        v->last_rc = rc;
        if (rc == TP_XR_IDLE)
            continue;
        if (rc != TP_XR_FRAME) {
            if (rc == TP_XR_ERROR)
                snprintf(v->err, sizeof v->err, "begin: %s", err);
            break;
        }
        int up = 0;
        if (v->frames % 3 == 0) {
            head_picture(v->frames, head);
            up = tp_xr_swapchain_upload(sh, head, 3, HEAD_W * 3, err, sizeof err);
            v->uploads++;
        }
        if (up == 0 && v->frames == 0) {
            panel_picture(7, panel);
            up = tp_xr_swapchain_upload(sp, panel, 4, PANEL_W * 4, err, sizeof err);
        }
        tp_xr_quad q[2] = {
            {.swapchain = sh, .head_locked = true, .eye = 0, .pose = {{0, 0, -1}, {0, 0, 0, 1}}, .width_m = 1.2,
             .height_m = 0.9},
            {.swapchain = sp, .head_locked = false, .eye = 1, .pose = {{0.1, 1.2, -2}, {0, 0, 0, 1}},
             .width_m = 0.4, .height_m = 0.2, .blend = true},
        };
        if (v->frames == 40) {
            /* Held up once (a slow upload, a driver stall): operator input
             * must go on without it. */
            struct timespec ts = {0, 100000000};
            nanosleep(&ts, NULL);
        }
        int64_t submitted;
        char serr[400];
        int src = tp_xr_frame_submit(v->xr, &f, q, up == 0 ? 2 : 0, &submitted, serr, sizeof serr);
        v->last_rc = src;
        if (up == -1) {
            snprintf(v->err, sizeof v->err, "upload: %s", err);
            break;
        }
        if (src == TP_XR_ERROR) {
            snprintf(v->err, sizeof v->err, "submit: %s", serr);
            break;
        }
        if (up == -2 || src == TP_XR_ENDED)
            break;
        if (v->frames < 4096)
            v->display_time[v->frames] = f.display_ns;
        if (submitted < f.woke_ns) {
            snprintf(v->err, sizeof v->err, "submitted before the frame woke");
            break;
        }
        v->frames++;
    }
    tp_xr_swapchain_destroy(sh);
    tp_xr_swapchain_destroy(sp);
    tp_xr_view_leave(v->xr);
    return NULL;
}

static void use_runtime(const char *script_text, const char *dump)
{
    setenv("TELEOP_XR_REPLAY_SOURCE", motion, 1);
    setenv("TELEOP_XR_REPLAY_LOOP", "1", 1);
    if (dump) {
        setenv("TELEOP_XR_REPLAY_DUMP", dump, 1);
        setenv("TELEOP_XR_REPLAY_DUMP_EVERY", "5", 1);
    } else {
        unsetenv("TELEOP_XR_REPLAY_DUMP");
    }
    if (script_text) {
        char path[4096];
        snprintf(path, sizeof path, "%s/xr_view_script.txt", scratch);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(script_text, fp);
        fclose(fp);
        setenv("TELEOP_XR_REPLAY_SCRIPT", path, 1);
    } else {
        unsetenv("TELEOP_XR_REPLAY_SCRIPT");
    }
}

static tp_xr *create_graphics(void)
{
    tp_xr_config c;
    tp_xr_default_config(&c);
    c.view = TP_XR_VIEW_HEADSET;
    char err[512];
    tp_xr *xr = tp_xr_create(&c, err, sizeof err);
    if (!xr)
        fail_msg("tp_xr_create: %s", err);
    assert_int_equal(tp_xr_view_attach(xr), 0);
    return xr;
}

/* Polls operator frames until the session ends or max_s passes; with
 * exit_after_s > 0 asks for the exit then. Returns the last status. */
static int poll_until_end(tp_xr *xr, view_run *v, double exit_after_s, double max_s, int *frames,
                          int64_t *stamps, int max_stamps)
{
    tp_operator_frame f;
    tp_xr_event ev[16];
    char err[512];
    int64_t t0 = tp_now_ns();
    bool asked = false;
    int rc = TP_XR_IDLE;
    *frames = 0;
    while ((double)(tp_now_ns() - t0) / 1e9 < max_s) {
        int n = 0;
        rc = tp_xr_poll(xr, &f, ev, 16, &n, err, sizeof err);
        if (rc == TP_XR_ERROR)
            fail_msg("tp_xr_poll: %s", err);
        if (rc == TP_XR_ENDED)
            break;
        if (rc == TP_XR_FRAME) {
            if (*frames < max_stamps)
                stamps[*frames] = f.t_ns;
            (*frames)++;
        }
        if (exit_after_s > 0 && !asked && (double)(tp_now_ns() - t0) / 1e9 >= exit_after_s) {
            tp_xr_request_exit(xr);
            asked = true;
        }
    }
    (void)v;
    return rc;
}

static bool read_png(const char *path, uint8_t *rgba, int w, int h)
{
    png_image img = {.version = PNG_IMAGE_VERSION};
    if (!png_image_begin_read_from_file(&img, path))
        return false;
    img.format = PNG_FORMAT_RGBA;
    if ((int)img.width != w || (int)img.height != h) {
        png_image_free(&img);
        return false;
    }
    return png_image_finish_read(&img, NULL, rgba, 0, NULL) != 0;
}

static void validation_silent(void)
{
    if (access(validation_log, F_OK) == 0) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "cat '%s' >&2", validation_log);
        if (system(cmd) != 0) {
        }
        fail_msg("the core validation layer reported problems (above)");
    }
}

static void test_layers_show_what_was_uploaded(void **state)
{
    (void)state;
    char dump[4096];
    snprintf(dump, sizeof dump, "%s/xr_view_dump", scratch);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dump);
    assert_int_equal(system(cmd), 0);
    use_runtime(NULL, dump);
    tp_xr *xr = create_graphics();
    view_run *v = calloc(1, sizeof *v);
    v->xr = xr;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, view_thread, v), 0);
    static int64_t stamps[4096];
    int frames = 0;
    int rc = poll_until_end(xr, v, 1.0, 4.0, &frames, stamps, 4096);
    /* The session ended through STOPPING while the view thread looped. */
    assert_int_equal(rc, TP_XR_ENDED);
    atomic_store(&v->stop, 1);
    pthread_join(th, NULL);
    if (v->err[0])
        fail_msg("view thread: %s", v->err);
    assert_true(v->frames > 45); /* ~1 s at 90 Hz, less the start */
    /* Operator frames are stamped at display times the view published, or,
     * when the view was held up past one and a half periods, one period
     * after the frame before; always later than the one before. */
    assert_true(frames > v->frames / 2);
    const int64_t period = 1000000000LL / 90;
    int published = 0;
    for (int i = 0; i < frames && i < 4096; i++) {
        bool found = false;
        for (int j = 0; j < v->frames && j < 4096 && !found; j++)
            found = stamps[i] == v->display_time[j];
        published += found;
        if (i > 0) {
            assert_true(stamps[i] > stamps[i - 1]);
            if (!found && llabs(stamps[i] - stamps[i - 1] - period) > 2)
                fail_msg("operator frame %d at %lld: neither published nor a period after the last", i,
                         (long long)stamps[i]);
        } else {
            assert_true(found);
        }
    }
    assert_true(published > frames / 2);
    /* The 100 ms stall at frame 40: operator frames a period apart through
     * it (100 ms / 1.5 periods). */
    assert_true(frames - published >= 5);
    tp_xr_destroy(xr);

    /* Every dumped frame: the head quad is the picture last uploaded (frame
     * k shows the upload of frame k - k % 3), the panel the one upload. */
    snprintf(cmd, sizeof cmd, "%s/index.txt", dump);
    FILE *idx = fopen(cmd, "r");
    assert_non_null(idx);
    char line[1024];
    int checked = 0, panels = 0;
    uint8_t want[HEAD_W * HEAD_H * 4], got[HEAD_W * HEAD_H * 4], rgb[HEAD_W * HEAD_H * 3];
    while (fgets(line, sizeof line, idx)) {
        long long frame, t;
        char type[32], space[32], eye[16], file[128];
        double px, py, pz, qx, qy, qz, qw, w, h;
        assert_int_equal(sscanf(line, "%lld %lld %31s %31s %lf %lf %lf %lf %lf %lf %lf %lf %lf %15s %127s", &frame,
                                &t, type, space, &px, &py, &pz, &qx, &qy, &qz, &qw, &w, &h, eye, file),
                         15);
        assert_string_equal(type, "quad");
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dump, file);
        if (strcmp(space, "view") == 0) {
            assert_string_equal(eye, "both");
            assert_true(fabs(pz + 1) < 1e-6 && fabs(w - 1.2) < 1e-6 && fabs(h - 0.9) < 1e-6);
            assert_true(read_png(path, got, HEAD_W, HEAD_H));
            head_picture((int)(frame - frame % 3), rgb);
            for (int i = 0; i < HEAD_W * HEAD_H; i++) {
                memcpy(want + i * 4, rgb + i * 3, 3);
                want[i * 4 + 3] = 255;
            }
            assert_memory_equal(got, want, sizeof want);
            checked++;
        } else {
            assert_true(strcmp(space, "stage") == 0 || strcmp(space, "local") == 0);
            assert_string_equal(eye, "left");
            assert_true(fabs(px - 0.1) < 1e-6 && fabs(py - 1.2) < 1e-6 && fabs(pz + 2) < 1e-6);
            assert_true(read_png(path, got, PANEL_W, PANEL_H));
            panel_picture(7, want);
            assert_memory_equal(got, want, (size_t)PANEL_W * PANEL_H * 4);
            panels++;
        }
    }
    fclose(idx);
    assert_true(checked >= 8);
    assert_int_equal(panels, checked);
    free(v);
    validation_silent();
}

static void test_session_loss_ends_both_threads(void **state)
{
    (void)state;
    use_runtime("0.5 session_loss\n", NULL);
    tp_xr *xr = create_graphics();
    view_run *v = calloc(1, sizeof *v);
    v->xr = xr;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, view_thread, v), 0);
    static int64_t stamps[4096];
    int frames = 0;
    int64_t t0 = tp_now_ns();
    int rc = poll_until_end(xr, v, 0, 4.0, &frames, stamps, 4096);
    assert_int_equal(rc, TP_XR_ENDED);
    assert_true(tp_now_ns() - t0 < 2000000000LL);
    /* The view thread stops on its own: its frame calls report the loss. */
    int64_t deadline = tp_now_ns() + 1000000000LL;
    while (v->last_rc != TP_XR_ENDED && tp_now_ns() < deadline) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    atomic_store(&v->stop, 1);
    pthread_join(th, NULL);
    if (v->err[0])
        fail_msg("view thread: %s", v->err);
    assert_true(v->frames > 20);
    assert_true(frames > 10);
    tp_xr_destroy(xr);
    free(v);
    validation_silent();
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: test_xr_view MANIFEST MOTION_CSV SCRATCH_DIR\n");
        return 2;
    }
    if (!getenv("DISPLAY") || !*getenv("DISPLAY")) {
        fprintf(stderr, "test_xr_view: needs DISPLAY (run under tests/support/with_xvfb.sh)\n");
        return 1;
    }
    manifest = argv[1];
    motion = argv[2];
    scratch = argv[3];
    snprintf(validation_log, sizeof validation_log, "%s/xr_view_validation.txt", scratch);
    remove(validation_log);
    setenv("XR_RUNTIME_JSON", manifest, 1);
    setenv("XR_ENABLE_API_LAYERS", "XR_APILAYER_LUNARG_core_validation", 1);
    setenv("XR_CORE_VALIDATION_EXPORT_TYPE", "text", 1);
    setenv("XR_CORE_VALIDATION_FILE_NAME", validation_log, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layers_show_what_was_uploaded),
        cmocka_unit_test(test_session_loss_ends_both_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
