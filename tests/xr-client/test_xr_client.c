/* The OpenXR client through the real Khronos loader against teleop's replay
 * runtime, with the core validation layer on (its reports go to a file that
 * must stay absent): lifecycle to FOCUSED, time conversion, head and all 26
 * joints of both hands equal to the source rows, tracking loss, runtime
 * exit, session and instance loss, exit on request, and no runtime at all.
 *
 * argv[1]: the replay runtime's manifest; argv[2]: a scratch directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openxr/openxr.h>

#include "teleop/clock.h"
#include "teleop/xr.h"

#define PERIOD_NS 11111111LL /* the replay runtime's 90 Hz display grid */
#define ROWS 360             /* 4 s of source */

static const char *manifest, *scratch;
static char source_csv[4096], validation_log[4096];

/* ------------------------------------------------------------ the source */

/* Row k of the synthetic source, at t = k display periods: every pose moves
 * differently, quaternions normalized, some joints invalid now and then. */
static void source_row(int k, tp_operator_frame *f)
{
    double t = (double)(k * PERIOD_NS) * 1e-9;
    memset(f, 0, sizeof *f);
    double a = 0.4 * sin(1.3 * t);
    f->head = (tp_pose){{0.05 * sin(t), 1.6 + 0.02 * cos(2 * t), -0.03 * t}, {sin(a / 2), 0, 0, cos(a / 2)}};
    f->head_valid = true;
    for (int s = 0; s < 2; s++) {
        f->hand[s].active = true;
        for (int j = 0; j < TP_HAND_JOINT_COUNT; j++) {
            tp_hand_joint *hj = &f->hand[s].joints[j];
            double b = 0.3 * sin(0.7 * t + 0.1 * j + s);
            double n = sqrt(0.5 * 0.5 + 0.3 * 0.3 + 0.8 * 0.8);
            hj->pose.p = (tp_vec3){(s ? 0.3 : -0.3) + 0.01 * j + 0.1 * sin(t + j), 1.1 + 0.05 * cos(1.5 * t + j),
                                   -0.25 - 0.004 * j * cos(t)};
            hj->pose.q = (tp_quat){0.5 / n * sin(b / 2), 0.3 / n * sin(b / 2), 0.8 / n * sin(b / 2), cos(b / 2)};
            hj->radius = 0.005f + 0.0005f * (float)j;
            hj->valid = !(j == 7 + s && (k / 30) % 3 == 1); /* one joint per hand drops out at times */
        }
        f->ctrl[s].active = true;
        f->ctrl[s].squeeze = 1;
        f->ctrl[s].grip = f->hand[s].joints[0].pose;
        f->ctrl[s].aim = f->ctrl[s].grip;
        f->ctrl[s].grip_valid = f->ctrl[s].aim_valid = true;
    }
    f->engaged = true;
}

static void write_source(void)
{
    snprintf(source_csv, sizeof source_csv, "%s/xr_client_source.csv", scratch);
    FILE *fp = fopen(source_csv, "w");
    assert_non_null(fp);
    fputs("t_s", fp);
    char name[64];
    for (size_t i = 0; i < TP_OPERATOR_DIMS; i++) {
        tp_operator_dim_name(i, name, sizeof name);
        fprintf(fp, ",%s", name);
    }
    fputc('\n', fp);
    float v[TP_OPERATOR_DIMS];
    tp_operator_frame f;
    for (int k = 0; k < ROWS; k++) {
        source_row(k, &f);
        tp_operator_pack(&f, v);
        fprintf(fp, "%.17g", (double)(k * PERIOD_NS) * 1e-9);
        for (size_t i = 0; i < TP_OPERATOR_DIMS; i++)
            fprintf(fp, ",%.9g", (double)v[i]);
        fputc('\n', fp);
    }
    assert_int_equal(fclose(fp), 0);
}

/* The source row as the runtime holds it (float32 values). */
static void expected_row(int k, tp_operator_frame *f)
{
    tp_operator_frame exact;
    float v[TP_OPERATOR_DIMS];
    source_row(k, &exact);
    tp_operator_pack(&exact, v);
    tp_operator_unpack(v, 0, f);
}

/* ------------------------------------------------------------- helpers */

static void use_runtime(const char *script_text, bool loop)
{
    setenv("XR_RUNTIME_JSON", manifest, 1);
    setenv("TELEOP_XR_REPLAY_SOURCE", source_csv, 1);
    setenv("TELEOP_XR_REPLAY_LOOP", loop ? "1" : "0", 1);
    if (script_text) {
        char path[4096];
        snprintf(path, sizeof path, "%s/xr_client_script.txt", scratch);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(script_text, fp);
        fclose(fp);
        setenv("TELEOP_XR_REPLAY_SCRIPT", path, 1);
    } else {
        unsetenv("TELEOP_XR_REPLAY_SCRIPT");
    }
}

/* The client under test; a failed test leaves it to the teardown, so the
 * runtime's one instance is free for the next test. */
static tp_xr *live;

static tp_xr *create(void)
{
    char err[512];
    tp_xr *xr = tp_xr_create(NULL, err, sizeof err);
    if (!xr)
        fail_msg("tp_xr_create: %s", err);
    live = xr;
    return xr;
}

static void destroy(tp_xr *xr)
{
    tp_xr_destroy(xr);
    live = NULL;
}

static int teardown(void **state)
{
    (void)state;
    if (live)
        destroy(live);
    return 0;
}

typedef struct run_log {
    tp_xr_event ev[256];
    int n_ev;
    tp_operator_frame *frames;
    int n_frames;
    int64_t sync_ns; /* SYNCHRONIZED: the runtime's stream time 0 */
    int64_t *returned_ns; /* when each frame came back */
    int status;          /* last poll status */
} run_log;

static int find_event(const run_log *l, const char *kind, const char *detail)
{
    for (int i = 0; i < l->n_ev; i++)
        if (strcmp(l->ev[i].kind, kind) == 0 && (!detail || strcmp(l->ev[i].detail, detail) == 0))
            return i;
    return -1;
}

/* Polls until max_frames frames, TP_XR_ENDED or the time runs out. */
static void run(tp_xr *xr, run_log *l, int max_frames, double max_s)
{
    if (!l->frames) {
        l->frames = calloc((size_t)max_frames + 1, sizeof *l->frames);
        l->returned_ns = calloc((size_t)max_frames + 1, sizeof *l->returned_ns);
    }
    int64_t end = tp_now_ns() + (int64_t)(max_s * 1e9);
    char err[512];
    while (l->n_frames < max_frames && tp_now_ns() < end) {
        int n = 0;
        tp_operator_frame f;
        int st = tp_xr_poll(xr, &f, l->ev + l->n_ev, 256 - l->n_ev, &n, err, sizeof err);
        for (int i = 0; i < n; i++)
            if (strcmp(l->ev[l->n_ev + i].kind, "xr_session_state") == 0 &&
                strcmp(l->ev[l->n_ev + i].detail, "SYNCHRONIZED") == 0)
                l->sync_ns = l->ev[l->n_ev + i].t_ns;
        l->n_ev += n;
        l->status = st;
        if (st == TP_XR_ERROR)
            fail_msg("tp_xr_poll: %s", err);
        if (st == TP_XR_ENDED)
            return;
        if (st == TP_XR_FRAME) {
            l->returned_ns[l->n_frames] = tp_now_ns();
            l->frames[l->n_frames++] = f;
        }
    }
}

static void free_log(run_log *l)
{
    free(l->frames);
    free(l->returned_ns);
}

/* Runs until the session is over after an exit request. */
static void finish(tp_xr *xr, run_log *l)
{
    tp_xr_request_exit(xr);
    run(xr, l, l->n_frames + 400, 3.0);
    assert_int_equal(l->status, TP_XR_ENDED);
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

/* --------------------------------------------------------------- tests */

static void test_lifecycle_and_time(void **state)
{
    (void)state;
    use_runtime(NULL, true);
    tp_xr *xr = create();
    const tp_xr_info *in = tp_xr_get_info(xr);
    assert_true(in->hand_tracking_supported);
    assert_true(in->timespec_conversion);
    assert_string_equal(in->base_space, "STAGE");
    run_log l = {0};
    run(xr, &l, 90, 5.0);
    assert_int_equal(l.n_frames, 90);
    assert_string_equal(tp_xr_session_state(xr), "FOCUSED");
    /* Every state on the way up, in order. */
    static const char *const up[] = {"IDLE", "READY", "SYNCHRONIZED", "VISIBLE", "FOCUSED"};
    int last = -1;
    for (size_t i = 0; i < 5; i++) {
        int at = find_event(&l, "xr_session_state", up[i]);
        assert_true(at > last);
        last = at;
    }
    assert_string_equal(tp_xr_interaction_profile(xr, TP_LEFT), "/interaction_profiles/oculus/touch_controller");

    /* Time conversion both ways, to the nanosecond. */
    int64_t now = tp_now_ns(), xt, back;
    assert_int_equal(tp_xr_ns_to_time(xr, now, &xt), 0);
    assert_int_equal(tp_xr_time_to_ns(xr, xt, &back), 0);
    assert_true(back == now);
    /* Frames are stamped at their predicted display time: on the runtime's
     * display grid from the session start, strictly increasing, after the
     * call returned by at most three periods. */
    assert_true(l.sync_ns > 0);
    int ahead = 0;
    for (int i = 0; i < l.n_frames; i++) {
        int64_t since = l.frames[i].t_ns - l.sync_ns;
        assert_true(since > 0);
        assert_int_equal(since % PERIOD_NS, 0);
        int64_t lead = l.frames[i].t_ns - l.returned_ns[i];
        /* A thread preempted right after xrWaitFrame (a loaded machine)
         * sees its frame late; most must be ahead. */
        ahead += lead > 0 && lead <= 3 * PERIOD_NS;
        if (i)
            assert_true(l.frames[i].t_ns > l.frames[i - 1].t_ns);
    }
    if (ahead < l.n_frames * 3 / 4)
        fail_msg("only %d of %d frames stamped 0-3 periods ahead of their return", ahead, l.n_frames);
    finish(xr, &l);
    int stopping = find_event(&l, "xr_session_state", "STOPPING");
    int exiting = find_event(&l, "xr_session_state", "EXITING");
    assert_true(stopping >= 0 && exiting > stopping);
    assert_true(find_event(&l, "xr_exit", "requested by teleop") > exiting);
    destroy(xr);
    free_log(&l);
    validation_silent();
}

static void compare_pose(const char *what, int k, tp_pose got, tp_pose want)
{
    double d[7] = {got.p.x - want.p.x, got.p.y - want.p.y, got.p.z - want.p.z, got.q.x - want.q.x,
                   got.q.y - want.q.y, got.q.z - want.q.z, got.q.w - want.q.w};
    for (int i = 0; i < 7; i++)
        if (!(fabs(d[i]) <= 1e-6))
            fail_msg("%s at source row %d: component %d off by %g", what, k, i, d[i]);
}

static void test_values_equal_source(void **state)
{
    (void)state;
    use_runtime(NULL, false);
    tp_xr *xr = create();
    run_log l = {0};
    run(xr, &l, 180, 6.0);
    assert_int_equal(l.n_frames, 180);
    int compared = 0;
    for (int i = 0; i < l.n_frames; i++) {
        const tp_operator_frame *f = &l.frames[i];
        int64_t since = f->t_ns - l.sync_ns;
        int k = (int)(since / PERIOD_NS);
        assert_true(k >= 0 && k < ROWS);
        tp_operator_frame want;
        expected_row(k, &want);
        assert_true(f->head_valid);
        compare_pose("head", k, f->head, want.head);
        for (int s = 0; s < 2; s++) {
            assert_true(f->hand[s].active);
            for (int j = 0; j < TP_HAND_JOINT_COUNT; j++) {
                const tp_hand_joint *g = &f->hand[s].joints[j], *w = &want.hand[s].joints[j];
                if (g->valid != w->valid)
                    fail_msg("hand %d joint %d at row %d: valid %d, source %d", s, j, k, g->valid, w->valid);
                if (!w->valid)
                    continue;
                char what[64];
                snprintf(what, sizeof what, "%s %s", s ? "right" : "left", tp_hand_joint_name(j));
                compare_pose(what, k, g->pose, w->pose);
                assert_true(fabs(g->radius - w->radius) <= 1e-6);
            }
            assert_true(f->ctrl[s].active);
            assert_true(f->ctrl[s].squeeze == 1.0f);
        }
        compared++;
    }
    assert_int_equal(compared, 180);
    finish(xr, &l);
    destroy(xr);
    free_log(&l);
    validation_silent();
}

static void test_tracking_lost(void **state)
{
    (void)state;
    use_runtime("0.5 tracking left_hand lost\n0.7 tracking head lost\n0.8 tracking head found\n"
                "1.0 tracking left_hand found\n",
                false);
    tp_xr *xr = create();
    run_log l = {0};
    run(xr, &l, 135, 4.0);
    assert_int_equal(l.n_frames, 135);
    int lost_frames = 0, head_lost = 0;
    for (int i = 0; i < l.n_frames; i++) {
        const tp_operator_frame *f = &l.frames[i];
        double s = (double)(f->t_ns - l.sync_ns) / 1e9;
        bool hand_ok = f->hand[TP_LEFT].active && f->hand[TP_LEFT].joints[TP_HJ_WRIST].valid;
        /* Well inside the window: lost; well outside: tracked. */
        if (s > 0.52 && s < 0.98) {
            assert_false(hand_ok);
            assert_false(f->ctrl[TP_LEFT].active && f->ctrl[TP_LEFT].grip_valid);
            lost_frames++;
        } else if (s < 0.48 || s > 1.02) {
            assert_true(hand_ok);
        }
        assert_true(f->hand[TP_RIGHT].active);
        if (s > 0.72 && s < 0.78) {
            assert_false(f->head_valid);
            head_lost++;
        } else if (s < 0.68 || s > 0.82) {
            assert_true(f->head_valid);
        }
    }
    assert_true(lost_frames >= 20); /* of 41 due (a loaded machine skips some) */
    assert_true(head_lost >= 4);
    int lost = find_event(&l, "xr_tracking_lost", "left_hand");
    int found = find_event(&l, "xr_tracking_found", "left_hand");
    assert_true(lost >= 0 && found > lost);
    double t_lost = (double)(l.ev[lost].t_ns - l.sync_ns) / 1e9, t_found = (double)(l.ev[found].t_ns - l.sync_ns) / 1e9;
    /* at the first frame after the change (a loaded machine may skip two) */
    assert_true(t_lost >= 0.5 && t_lost < 0.5 + 0.034);
    assert_true(t_found >= 1.0 && t_found < 1.0 + 0.034);
    assert_true(find_event(&l, "xr_tracking_lost", "head") >= 0);
    assert_true(find_event(&l, "xr_tracking_found", "head") >= 0);
    finish(xr, &l);
    destroy(xr);
    free_log(&l);
    validation_silent();
}

/* The runtime ends the session its own way; the client ends cleanly with the
 * right report and everything is destroyed (the sanitizer run checks the
 * memory). */
static void ends_with(const char *script, const char *kind, const char *detail)
{
    use_runtime(script, true);
    tp_xr *xr = create();
    run_log l = {0};
    int64_t t0 = tp_now_ns();
    run(xr, &l, 1000, 5.0);
    assert_int_equal(l.status, TP_XR_ENDED);
    assert_true(tp_now_ns() - t0 < 2000000000LL);
    assert_true(l.n_frames > 20); /* ran until the scripted moment (0.3 s) */
    if (find_event(&l, kind, detail) < 0)
        fail_msg("no '%s %s' event", kind, detail ? detail : "");
    /* Polling after the end stays ended and quiet. */
    tp_operator_frame f;
    char err[256];
    int n;
    assert_int_equal(tp_xr_poll(xr, &f, l.ev, 8, &n, err, sizeof err), TP_XR_ENDED);
    tp_xr_request_exit(xr);
    destroy(xr);
    free_log(&l);
}

static void test_runtime_exit(void **state)
{
    (void)state;
    ends_with("0.3 exit\n", "xr_exit", "requested by the runtime");
    validation_silent();
}

static void test_session_loss(void **state)
{
    (void)state;
    ends_with("0.3 session_loss\n", "xr_session_lost", NULL);
    validation_silent();
}

static void test_instance_loss(void **state)
{
    (void)state;
    ends_with("0.3 instance_loss\n", "xr_instance_lost", NULL);
    validation_silent();
}

static void test_no_runtime(void **state)
{
    (void)state;
    char missing[4096], err[512];
    snprintf(missing, sizeof missing, "%s/no_such_runtime.json", scratch);
    setenv("XR_RUNTIME_JSON", missing, 1);
    tp_xr *xr = tp_xr_create(NULL, err, sizeof err);
    assert_null(xr);
    assert_non_null(strstr(err, "no runtime available"));
    assert_null(strchr(err, '\n'));
}

/* view = headset asks for an OpenGL session: a runtime without
 * XR_KHR_opengl_enable is refused naming the extension (the headless default
 * would not need it), one that has it is refused without an X display; the
 * headless session is unaffected either way. */
static void test_headset_view_requirements(void **state)
{
    (void)state;
    use_runtime(NULL, true);
    tp_xr *probe = create();
    bool offers_gl = false;
    const tp_xr_info *info = tp_xr_get_info(probe);
    for (int i = 0; i < info->extension_count; i++)
        if (strcmp(info->extensions[i].name, "XR_KHR_opengl_enable") == 0)
            offers_gl = true;
    assert_false(info->graphics);
    destroy(probe);

    tp_xr_config cfg;
    tp_xr_default_config(&cfg);
    assert_int_equal(cfg.view, TP_XR_VIEW_OFF);
    cfg.view = TP_XR_VIEW_HEADSET;
    char err[512], *display = getenv("DISPLAY") ? strdup(getenv("DISPLAY")) : NULL;
    unsetenv("DISPLAY");
    unsetenv("WAYLAND_DISPLAY");
    tp_xr *xr = tp_xr_create(&cfg, err, sizeof err);
    if (display) {
        setenv("DISPLAY", display, 1);
        free(display);
    }
    live = xr;
    assert_null(xr);
    assert_null(strchr(err, '\n'));
    if (offers_gl)
        assert_non_null(strstr(err, "needs an X display"));
    else
        assert_non_null(strstr(err, "does not offer XR_KHR_opengl_enable, which '[xr] view = headset' needs"));
}

/* Last: proves the layer is loaded and reports to the file the other tests
 * checked, by making one invalid call straight through the loader. */
static void test_validation_layer_reports(void **state)
{
    (void)state;
    use_runtime(NULL, true);
    assert_int_equal(access(validation_log, F_OK), -1);
    const char *ext[] = {XR_MND_HEADLESS_EXTENSION_NAME};
    XrInstanceCreateInfo ci = {.type = XR_TYPE_INSTANCE_CREATE_INFO, .enabledExtensionCount = 1,
                               .enabledExtensionNames = ext};
    snprintf(ci.applicationInfo.applicationName, sizeof ci.applicationInfo.applicationName, "teleop-test");
    ci.applicationInfo.apiVersion = XR_MAKE_VERSION(1, 0, 0);
    XrInstance inst;
    assert_int_equal(xrCreateInstance(&ci, &inst), XR_SUCCESS);
    XrSystemGetInfo gi = {.type = XR_TYPE_INSTANCE_PROPERTIES, /* the wrong structure type */
                          .formFactor = XR_FORM_FACTOR_HEAD_MOUNTED_DISPLAY};
    XrSystemId sys;
    assert_true(XR_FAILED(xrGetSystem(inst, &gi, &sys)));
    xrDestroyInstance(inst);
    FILE *fp = fopen(validation_log, "r");
    assert_non_null(fp);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    assert_non_null(strstr(buf, "VUID-XrSystemGetInfo-type-type"));
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MANIFEST SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    manifest = argv[1];
    scratch = argv[2];
    snprintf(validation_log, sizeof validation_log, "%s/xr_client_validation.txt", scratch);
    unlink(validation_log);
    setenv("XR_ENABLE_API_LAYERS", "XR_APILAYER_LUNARG_core_validation", 1);
    setenv("XR_CORE_VALIDATION_EXPORT_TYPE", "text", 1);
    setenv("XR_CORE_VALIDATION_FILE_NAME", validation_log, 1);
    write_source();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_lifecycle_and_time, teardown),
        cmocka_unit_test_teardown(test_values_equal_source, teardown),
        cmocka_unit_test_teardown(test_tracking_lost, teardown),
        cmocka_unit_test_teardown(test_runtime_exit, teardown),
        cmocka_unit_test_teardown(test_session_loss, teardown),
        cmocka_unit_test_teardown(test_instance_loss, teardown),
        cmocka_unit_test_teardown(test_no_runtime, teardown),
        cmocka_unit_test_teardown(test_headset_view_requirements, teardown),
        cmocka_unit_test_teardown(test_validation_layer_reports, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
