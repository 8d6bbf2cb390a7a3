/* The 3D view (ui/scene3d.c) in a real GLFW window under Xvfb (Mesa): the
 * robot from the description embedded in a fixture episode, posed at two
 * times between which only its left arm moved (the fixture raises it over
 * the first 2 s; every other joint repeats with a 2 s period), and the
 * operator's hands beside it. Writes the images as PNG files into the folder
 * given (the build folder) to be looked at.
 *   test_scene3d OUT_DIR */
#include <GL/gl.h>
#include <GLFW/glfw3.h>
#include <math.h>
#include <png.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "playback.h"
#include "playback_fixture.h"
#include "scene3d.h"

enum { W = 480, H = 360 };

static int failures;
#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                       \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fputc('\n', stderr);                                                                                       \
            failures++;                                                                                                \
        }                                                                                                              \
    } while (0)

/* The back buffer, top row first. */
static void grab(uint8_t *rgb)
{
    uint8_t *tmp = malloc((size_t)W * H * 3);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadBuffer(GL_BACK);
    glReadPixels(0, 0, W, H, GL_RGB, GL_UNSIGNED_BYTE, tmp);
    for (int y = 0; y < H; y++)
        memcpy(rgb + (size_t)y * W * 3, tmp + (size_t)(H - 1 - y) * W * 3, (size_t)W * 3);
    free(tmp);
}

static void write_png(const char *dir, const char *name, const uint8_t *rgb)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!f || !png || !info || setjmp(png_jmpbuf(png))) {
        CHECK(0, "cannot write %s", path);
        if (png)
            png_destroy_write_struct(&png, info ? &info : NULL);
        if (f)
            fclose(f);
        return;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, W, H, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < H; y++)
        png_write_row(png, rgb + (size_t)y * W * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
    printf("wrote %s\n", path);
}

static int diff(const uint8_t *a, const uint8_t *b, size_t i) /* largest channel difference of pixel i */
{
    int d = 0;
    for (int c = 0; c < 3; c++) {
        int e = abs((int)a[3 * i + c] - (int)b[3 * i + c]);
        d = e > d ? e : d;
    }
    return d;
}

typedef struct box {
    int n, x0, y0, x1, y1;
} box;

static box differing(const uint8_t *a, const uint8_t *b)
{
    box bx = {0, W, H, -1, -1};
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if (diff(a, b, (size_t)y * W + x) > 24) {
                bx.n++;
                bx.x0 = x < bx.x0 ? x : bx.x0;
                bx.x1 = x > bx.x1 ? x : bx.x1;
                bx.y0 = y < bx.y0 ? y : bx.y0;
                bx.y1 = y > bx.y1 ? y : bx.y1;
            }
    return bx;
}

static void render(tp_scene3d *s, GLFWwindow *win, int64_t t, uint8_t *out)
{
    (void)win;
    glViewport(0, 0, W, H);
    glClearColor(0, 0, 0, 1);
    glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
    tp_scene3d_set_time(s, t);
    tp_scene3d_render(s, 0, 0, W, H);
    glFinish();
    grab(out);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    const char *out = argv[1];
    char dir[] = "/tmp/teleop-test-scene3d-XXXXXX", path[512], err[512];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/episode.db", dir);
    const pb_fixture fx = {.cameras = 1, .width = 64, .height = 48, .fps = 30, .gop = 10, .seconds = 2.5,
                           .noise = 0, .codec = "h264"};
    /* A version-1 recording has no embedded robot: refused, naming the file. */
    tp_playback *v1 = tp_playback_open(FIXTURE_DIR "/episode-v1-plain.db", err, sizeof err);
    CHECK(v1, "%s", err);
    if (v1) {
        CHECK(!tp_scene3d_create(v1, err, sizeof err), "a view of an episode without a robot description");
        CHECK(strstr(err, "episode-v1-plain.db: no robot description embedded"), "message: %s", err);
        tp_playback_close(v1);
    }
    if (pb_fixture_write(path, &fx, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    tp_playback *pb = tp_playback_open(path, err, sizeof err);
    CHECK(pb, "%s", err);
    if (!pb)
        return 1;
    tp_scene3d *s = tp_scene3d_create(pb, err, sizeof err);
    CHECK(s, "%s", err);
    if (!s)
        return 1;
    CHECK(tp_scene3d_posed_joints(s) == PB_FIXTURE_JOINTS, "%d of 28 state dims drive a joint",
          tp_scene3d_posed_joints(s));

    /* Poses without GL: the left arm's hand moved between the two times, the
     * cube follows the sim_objects stream (x y z w stored, w x y z in the
     * model), at rest again at both times. */
    double p0[3], p1[3], q[4], cube[3], cq[4];
    tp_scene3d_set_time(s, PB_FIXTURE_T0_NS + 200000000LL);
    CHECK(tp_scene3d_body_pose(s, "left_wrist_yaw_link", p0, q), "no left_wrist_yaw_link");
    CHECK(tp_scene3d_body_pose(s, "cube", cube, cq), "no cube");
    CHECK(fabs(cube[2] - 0.97) < 1e-6 && fabs(cq[0] - 1) < 1e-6, "cube at rest: z %.3f w %.3f", cube[2], cq[0]);
    tp_scene3d_set_time(s, PB_FIXTURE_T0_NS + 1250000000LL);
    float want[7];
    pb_fixture_cube(125, want);
    tp_scene3d_body_pose(s, "cube", cube, cq);
    CHECK(fabs(cube[0] - want[0]) < 1e-6 && fabs(cube[1] - want[1]) < 1e-6 && fabs(cube[2] - want[2]) < 1e-6,
          "cube at %.3f %.3f %.3f", cube[0], cube[1], cube[2]);
    CHECK(fabs(cq[0] - want[6]) < 1e-6 && fabs(cq[3] - want[5]) < 1e-6 && fabs(cq[1]) < 1e-9 && fabs(cq[2]) < 1e-9,
          "cube turned: q %.4f %.4f %.4f %.4f", cq[0], cq[1], cq[2], cq[3]);
    tp_scene3d_set_time(s, PB_FIXTURE_T0_NS + 2200000000LL);
    tp_scene3d_body_pose(s, "left_wrist_yaw_link", p1, q);
    CHECK(sqrt((p1[0] - p0[0]) * (p1[0] - p0[0]) + (p1[1] - p0[1]) * (p1[1] - p0[1]) +
               (p1[2] - p0[2]) * (p1[2] - p0[2])) > 0.2,
          "the left wrist moved only from %.3f %.3f %.3f to %.3f %.3f %.3f", p0[0], p0[1], p0[2], p1[0], p1[1], p1[2]);
    tp_scene3d_body_pose(s, "cube", cube, cq);
    CHECK(fabs(cube[2] - 0.97) < 1e-6, "cube back at rest: z %.3f", cube[2]);
    CHECK(!tp_scene3d_body_pose(s, "no_such_body", cube, cq), "a body that does not exist");

    if (!glfwInit()) {
        fprintf(stderr, "no display (run under tests/support/with_xvfb.sh)\n");
        return 1;
    }
    glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
    glfwWindowHint(GLFW_DOUBLEBUFFER, GLFW_TRUE);
    GLFWwindow *win = glfwCreateWindow(W, H, "scene3d test", NULL, NULL);
    CHECK(win, "cannot create a window");
    if (!win)
        return 1;
    glfwMakeContextCurrent(win);
    struct timespec g0, g1;
    clock_gettime(CLOCK_MONOTONIC, &g0);
    CHECK(tp_scene3d_gl_init(s, err, sizeof err) == 0, "%s", err);
    clock_gettime(CLOCK_MONOTONIC, &g1);
    printf("scene3d: gl_init (mjr_makeContext) %.1f ms\n",
           (double)(g1.tv_sec - g0.tv_sec) * 1e3 + (double)(g1.tv_nsec - g0.tv_nsec) / 1e6);

    uint8_t *blank = calloc((size_t)W * H * 3, 1), *early = malloc((size_t)W * H * 3),
            *again = malloc((size_t)W * H * 3), *late = malloc((size_t)W * H * 3),
            *late_hands = malloc((size_t)W * H * 3), *turned = malloc((size_t)W * H * 3);
    const int64_t t_early = PB_FIXTURE_T0_NS + 200000000LL, t_late = PB_FIXTURE_T0_NS + 2200000000LL;

    /* Hands off: only the robot and the scenery. */
    tp_scene3d_show_hands(s, false);
    render(s, win, t_early, early);
    render(s, win, t_early, again);
    render(s, win, t_late, late);
    tp_scene3d_show_hands(s, true);
    render(s, win, t_late, late_hands);
    CHECK(tp_scene3d_hands_drawn(s), "hands not drawn at t_late");
    /* How long a draw takes here (software GL): reported, not asserted. */
    double ms[9];
    for (int i = 0; i < 9; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        tp_scene3d_set_time(s, t_early + i * 16666667LL);
        tp_scene3d_render(s, 0, 0, W, H);
        glFinish();
        clock_gettime(CLOCK_MONOTONIC, &b);
        ms[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    }
    for (int i = 1; i < 9; i++) /* insertion sort for the median */
        for (int k = i; k > 0 && ms[k] < ms[k - 1]; k--) {
            double x = ms[k];
            ms[k] = ms[k - 1];
            ms[k - 1] = x;
        }
    printf("scene3d: pose + draw %dx%d median %.1f ms\n", W, H, ms[4]);
    tp_scene3d_rotate(s, 0.3, 0.0);
    render(s, win, t_late, turned);
    write_png(out, "scene3d-early.png", early);
    write_png(out, "scene3d-late.png", late);
    write_png(out, "scene3d-late-hands.png", late_hands);
    write_png(out, "scene3d-turned.png", turned);

    /* Drawn over the cleared buffer: the floor, the table and the robot
     * (MuJoCo clears to black where nothing is: the sky). */
    box drawn = differing(early, blank);
    CHECK(drawn.n > W * H / 3, "only %d pixels drawn", drawn.n);
    /* The same pose renders the same picture. */
    box same = differing(early, again);
    CHECK(same.n == 0, "%d pixels differ between two renders of one pose", same.n);
    /* The robot (dark) differs from the background in the middle of the view. */
    box robot = differing(early, late);
    CHECK(robot.n > 400, "the raised arm changed only %d pixels", robot.n);
    /* Only the left arm moved: the change is in one part of the picture
     * (the robot's left is the right of a view from the front), not all over. */
    CHECK(robot.x1 - robot.x0 < W / 2 && robot.y1 - robot.y0 < H * 3 / 4,
          "the arm's change spans %d..%d x %d..%d", robot.x0, robot.x1, robot.y0, robot.y1);
    CHECK(robot.x0 > W / 4, "the arm's change starts at x %d, left of the robot's centre", robot.x0);
    /* The hands add pixels of their own, beside the robot, not over the arm. */
    box hands = differing(late, late_hands);
    CHECK(hands.n > 100, "the hands drew only %d pixels", hands.n);
    CHECK(hands.x1 < robot.x0, "the hands (x %d..%d) overlap the arm's region (x %d..)", hands.x0, hands.x1,
          robot.x0);
    /* The orbit camera turns the view. */
    box turn = differing(late_hands, turned);
    CHECK(turn.n > W * H / 10, "rotating changed only %d pixels", turn.n);

    tp_scene3d_gl_free(s);
    tp_scene3d_destroy(s);
    tp_playback_close(pb);

    /* A recording by `teleop run` (tests/data/episode-v2.db: the demo motion
     * through the replay runtime): its own embedded robot, its hands. */
    pb = tp_playback_open(FIXTURE_DIR "/episode-v2.db", err, sizeof err);
    CHECK(pb, "%s", err);
    s = pb ? tp_scene3d_create(pb, err, sizeof err) : NULL;
    CHECK(s, "%s", err);
    if (!s)
        return 1;
    CHECK(tp_scene3d_posed_joints(s) == 28, "%d of 28 recorded joints posed", tp_scene3d_posed_joints(s));
    clock_gettime(CLOCK_MONOTONIC, &g0);
    CHECK(tp_scene3d_gl_init(s, err, sizeof err) == 0, "%s", err);
    clock_gettime(CLOCK_MONOTONIC, &g1);
    printf("scene3d: gl_init for a second episode %.1f ms\n",
           (double)(g1.tv_sec - g0.tv_sec) * 1e3 + (double)(g1.tv_nsec - g0.tv_nsec) / 1e6);
    render(s, win, tp_playback_end_ns(pb), late_hands);
    CHECK(tp_scene3d_hands_drawn(s), "the recording's hands are not drawn");
    tp_scene3d_show_hands(s, false);
    render(s, win, tp_playback_end_ns(pb), late);
    write_png(out, "scene3d-recorded.png", late_hands);
    box recorded = differing(late, late_hands);
    CHECK(recorded.n > 100, "the recording's hands drew only %d pixels", recorded.n);
    tp_scene3d_gl_free(s);
    tp_scene3d_destroy(s);
    glfwDestroyWindow(win);
    /* No glfwTerminate: closing the display unloads Mesa's GL driver (and
     * LLVM under it), whose exit-time allocations LeakSanitizer could then
     * no longer name and match against tests/lsan.supp. */
    tp_playback_close(pb);
    free(blank);
    free(early);
    free(again);
    free(late);
    free(late_hands);
    free(turned);
    unlink(path);
    rmdir(dir);
    if (failures)
        return 1;
    printf("scene3d: ok (arm change %d px in x %d..%d y %d..%d; hands %d px in x %d..%d)\n", robot.n, robot.x0,
           robot.x1, robot.y0, robot.y1, hands.n, hands.x0, hands.x1);
    return 0;
}
