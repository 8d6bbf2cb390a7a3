/* The headset's status overlay (xr_overlay.h), drawn into RGBA:
 *   - REC, episode and time, disk: each piece of text is, pixel for pixel,
 *     the same text drawn alone in its colour at its place on the cleared
 *     background (so the words are there, in the right colour), and REC is
 *     red;
 *   - a hold (HOLD: emergency, red; PAUSED, amber) and the arms' warnings
 *     (red when clamped, amber near a joint limit) likewise;
 *   - the status is taken right from the console tap's figures.
 * Each image is also written as a PPM into the scratch directory for a look.
 * argv[1]: a scratch directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "teleop/console_tap.h"
#include "teleop/controller.h"
#include "teleop/xr_overlay.h"

#define W 720
static const char *scratch;
static tp_overlay *ov;
static int H;
static uint8_t *img, *ref;

static void save_ppm(const char *name, const uint8_t *rgba)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.ppm", scratch, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fprintf(fp, "P6\n%d %d\n255\n", W, H);
    for (int i = 0; i < W * H; i++) /* over black, as a headset shows it */
        for (int k = 0; k < 3; k++)
            fputc(rgba[i * 4 + k] * rgba[i * 4 + 3] / 255, fp);
    fclose(fp);
}

static void clear(uint8_t *p)
{
    for (int i = 0; i < W * H; i++) {
        p[i * 4 + 0] = TP_OVERLAY_BACKGROUND >> 24;
        p[i * 4 + 1] = (TP_OVERLAY_BACKGROUND >> 16) & 0xff;
        p[i * 4 + 2] = (TP_OVERLAY_BACKGROUND >> 8) & 0xff;
        p[i * 4 + 3] = TP_OVERLAY_BACKGROUND & 0xff;
    }
}

/* text drawn alone at (x, line's baseline) matches the overlay's pixels
 * over the text's width and the line's height; returns how many pixels of
 * it are mostly colour (the glyphs' cores). */
static int expect_text(int line, int x, const char *text, uint32_t colour)
{
    int x0, b;
    tp_overlay_line_origin(ov, line, &x0, &b);
    clear(ref);
    int end = tp_overlay_text(ov, ref, W, H, W * 4, x, b, text, colour);
    int px = tp_overlay_height(ov) / 7; /* the text size: the height is 7 text sizes (xr_overlay.c) */
    int top = b - px, bottom = b + px / 3, cores = 0;
    assert_true(end > x);
    for (int y = top; y < bottom; y++)
        for (int xx = x; xx < end; xx++) {
            const uint8_t *p = img + ((size_t)y * W + (size_t)xx) * 4, *q = ref + ((size_t)y * W + (size_t)xx) * 4;
            if (memcmp(p, q, 4) != 0)
                fail_msg("'%s' (line %d): pixel (%d, %d) is %02x%02x%02x%02x, drawn alone %02x%02x%02x%02x", text,
                         line + 1, xx, y, p[0], p[1], p[2], p[3], q[0], q[1], q[2], q[3]);
            int dr = abs(p[0] - (int)(colour >> 24)), dg = abs(p[1] - (int)((colour >> 16) & 0xff)),
                db = abs(p[2] - (int)((colour >> 8) & 0xff));
            cores += dr + dg + db < 30 && p[3] > 240;
        }
    return cores;
}

static void test_recording(void **state)
{
    (void)state;
    tp_overlay_status s = {.state = TP_WF_RECORDING, .record = true, .episode = 3, .state_s = 83.4,
                           .hold = TP_OVERLAY_ENGAGED, .disk_free_mb = 12345, .camera_drops = 0};
    s.warnings[0].joint = s.warnings[1].joint = -1;
    tp_overlay_draw(ov, &s, img, W, H, W * 4);
    save_ppm("overlay_rec", img);
    int x, b;
    tp_overlay_line_origin(ov, 0, &x, &b);
    assert_true(expect_text(0, x, "REC", TP_OVERLAY_RED) > 20);
    int gap = H / 7; /* one text size between pieces */
    int after = x + tp_overlay_text_width(ov, "REC") + gap;
    assert_true(expect_text(0, after, "Episode 3  01:23", TP_OVERLAY_WHITE) > 20);
    assert_true(expect_text(0, W - x - tp_overlay_text_width(ov, "disk 12.3 GB"), "disk 12.3 GB", TP_OVERLAY_WHITE) > 10);
    assert_true(expect_text(1, x, "ENGAGED", TP_OVERLAY_GREEN) > 10);
    assert_true(expect_text(2, x, "L  ok", TP_OVERLAY_GREY) > 5);
    assert_true(expect_text(3, x, "R  ok", TP_OVERLAY_GREY) > 5);
}

static void test_hold_and_warnings(void **state)
{
    (void)state;
    tp_overlay_status s = {.state = TP_WF_RESETTING, .record = true, .episode = 4, .state_s = 5.2,
                           .hold = TP_OVERLAY_HOLD_EMERGENCY, .disk_free_mb = 800, .camera_drops = 7};
    s.hand_lost[1] = true;
    s.warnings[0] = (tp_side_warnings){.active = TP_WARN_CLAMPED, .joint = 2, .joint_margin = 0.4};
    s.warnings[1] = (tp_side_warnings){.active = TP_WARN_JOINT_LIMIT, .joint = 3, .joint_margin = 0.08};
    tp_overlay_draw(ov, &s, img, W, H, W * 4);
    save_ppm("overlay_hold", img);
    int x, b;
    tp_overlay_line_origin(ov, 0, &x, &b);
    int gap = H / 7;
    assert_true(expect_text(0, x, "PAUSED", TP_OVERLAY_AMBER) > 20);
    assert_true(expect_text(0, W - x - tp_overlay_text_width(ov, "disk 800 MB"), "disk 800 MB", TP_OVERLAY_AMBER) > 10);
    assert_true(expect_text(1, x, "HOLD: emergency", TP_OVERLAY_RED) > 20);
    int after = x + tp_overlay_text_width(ov, "HOLD: emergency") + gap;
    assert_true(expect_text(1, after, "R hand lost", TP_OVERLAY_RED) > 10);
    assert_true(expect_text(1, W - x - tp_overlay_text_width(ov, "drops 7"), "drops 7", TP_OVERLAY_AMBER) > 5);
    assert_true(expect_text(2, x, "L  CLAMPED", TP_OVERLAY_RED) > 20);
    assert_true(expect_text(3, x, "R  joint 4 0.08 rad from limit", TP_OVERLAY_AMBER) > 20);
}

static void test_status_from_tap(void **state)
{
    (void)state;
    tp_console_status *st = calloc(1, sizeof *st);
    assert_non_null(st);
    st->state = TP_WF_RECORDING;
    st->record = true;
    st->episode = 2;
    st->state_since_ns = 1000000000LL;
    st->camera_count = 2;
    st->cameras[0].dropped = 2;
    st->cameras[1].missed = 3;
    st->disk_free_mb = 5000;
    tp_limit_figures fig = {.control_flags = TP_CONTROL_ROBOT_STALE, .arm_dof = 7};
    fig.arm_tracked[0] = fig.hand_tracked[0] = true;
    fig.arm_tracked[1] = true; /* the right hand is lost */
    tp_feedback_output fb = {0};
    fb.side[0] = (tp_side_warnings){.active = TP_WARN_HOLDING, .joint = 1};
    tp_overlay_status o;
    tp_overlay_status_from(&o, st, &fig, &fb, 4500000000LL);
    assert_int_equal(o.state, TP_WF_RECORDING);
    assert_int_equal(o.episode, 2);
    assert_float_equal(o.state_s, 3.5, 1e-9);
    assert_int_equal(o.camera_drops, 5);
    assert_float_equal(o.disk_free_mb, 5000, 0);
    assert_int_equal(o.hold, TP_OVERLAY_HOLD_ROBOT);
    assert_false(o.hand_lost[0]);
    assert_true(o.hand_lost[1]);
    assert_int_equal(o.warnings[0].active, TP_WARN_HOLDING);
    fig.control_flags = TP_CONTROL_CLUTCH_OPEN;
    tp_overlay_status_from(&o, st, &fig, &fb, 4500000000LL);
    assert_int_equal(o.hold, TP_OVERLAY_CLUTCH);
    st->emergency = true;
    tp_overlay_status_from(&o, st, &fig, &fb, 4500000000LL);
    assert_int_equal(o.hold, TP_OVERLAY_HOLD_EMERGENCY);
    /* Nothing published yet: no figures is a hold for want of input, disk unknown. */
    tp_overlay_status_from(&o, NULL, NULL, NULL, 0);
    assert_int_equal(o.hold, TP_OVERLAY_HOLD_INPUT);
    assert_true(o.disk_free_mb < 0);
    free(st);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    scratch = argv[1];
    char err[512];
    ov = tp_overlay_create(28, err, sizeof err);
    if (!ov) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    H = tp_overlay_height(ov);
    img = malloc((size_t)W * (size_t)H * 4);
    ref = malloc((size_t)W * (size_t)H * 4);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recording),
        cmocka_unit_test(test_hold_and_warnings),
        cmocka_unit_test(test_status_from_tap),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(img);
    free(ref);
    tp_overlay_destroy(ov);
    return rc;
}
