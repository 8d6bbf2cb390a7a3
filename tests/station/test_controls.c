/* Operator controls: bindings and their config, clutch modes, debounce and
 * hysteresis, press and hold bindings, the emergency latch and its release,
 * the wrist-panel toggle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "teleop/controls.h"
#include "teleop/session.h"

#define MS 1000000LL

/* A scripted operator: controller state changes at given times, frames at
 * 90 Hz in between; the commands that come out are collected. */
typedef struct rig {
    tp_controls c;
    tp_operator_frame f;
    int64_t t;
    tp_command_msg cmds[256];
    int n;
    int engaged_frames, frames;
} rig;

static void rig_init(rig *r, const tp_controls_config *cfg)
{
    memset(r, 0, sizeof *r);
    tp_controls_init(&r->c, cfg);
    r->f.ctrl[0].active = r->f.ctrl[1].active = true;
}

/* Runs frames every 11.1 ms for dur_ms with the current controller state. */
static void run(rig *r, int64_t dur_ms)
{
    int64_t end = r->t + dur_ms * MS;
    while (r->t < end) {
        r->f.t_ns = r->t;
        r->f.engaged = !r->f.engaged; /* whatever the device says is replaced */
        r->n += tp_controls_update(&r->c, &r->f, r->cmds + r->n, 256 - r->n);
        r->frames++;
        r->engaged_frames += r->f.engaged;
        r->t += 11111111;
    }
}

static int count(const rig *r, int code)
{
    int k = 0;
    for (int i = 0; i < r->n; i++)
        k += r->cmds[i].code == code;
    return k;
}

static void test_binding_parse(void **state)
{
    (void)state;
    tp_control_binding b;
    char err[256], buf[96];
    assert_int_equal(tp_control_binding_parse("right.a", &b, err, sizeof err), 0);
    assert_int_equal(b.count, 1);
    assert_int_equal(b.keys[0].side, TP_CONTROL_SIDE_RIGHT);
    assert_int_equal(b.keys[0].input, TP_INPUT_A);
    assert_true(b.hold_s == 0);
    assert_int_equal(tp_control_binding_parse("  left.menu+any.trigger   hold 1.5 ", &b, err, sizeof err), 0);
    assert_int_equal(b.count, 2);
    assert_int_equal(b.keys[1].side, TP_CONTROL_SIDE_ANY);
    assert_int_equal(b.keys[1].input, TP_INPUT_TRIGGER);
    assert_true(b.hold_s == 1.5);
    tp_control_binding_format(&b, buf, sizeof buf);
    assert_string_equal(buf, "left.menu+any.trigger hold 1.5");
    assert_int_equal(tp_control_binding_parse("left.y", &b, err, sizeof err), 0);
    assert_int_equal(b.keys[0].input, TP_INPUT_B);
    assert_int_equal(tp_control_binding_parse("none", &b, err, sizeof err), 0);
    assert_int_equal(b.count, 0);
    tp_control_binding_format(&b, buf, sizeof buf);
    assert_string_equal(buf, "none");

    static const char *const bad[] = {
        "right.x", "middle.a", "right.", "right.a+", "right.a+left.b+left.a", "right.a hold", "right.a hold 0",
        "right.a hold -1", "right.a wait 2", "right.a hold 2s", "righta", "right.a hold 61",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(tp_control_binding_parse(bad[i], &b, err, sizeof err), -1);
        assert_non_null(strstr(err, bad[i]));
    }
}

static void test_config(void **state)
{
    (void)state;
    char err[256];
    tp_session_config session;
    tp_session_default_config(&session);
    tp_controls_config cfg;
    tp_config *file = tp_config_parse("[controls]\nclutch = both\nthreshold = 0.7\ndebounce = 0\n"
                                      "record_start = left.trigger+right.trigger hold 0.5\nemergency = any.stick\n",
                                      "st.ini", err, sizeof err);
    assert_non_null(file);
    assert_int_equal(tp_session_apply_config(&session, file, err, sizeof err), 0);
    cfg = session.controls;
    assert_int_equal(cfg.clutch, TP_CLUTCH_BOTH);
    assert_true(cfg.threshold == 0.7 && cfg.debounce_s == 0);
    assert_int_equal(cfg.bindings[TP_ACTION_RECORD_START].count, 2);
    assert_true(cfg.bindings[TP_ACTION_RECORD_START].hold_s == 0.5);
    assert_int_equal(cfg.bindings[TP_ACTION_EMERGENCY].keys[0].side, TP_CONTROL_SIDE_ANY);
    char buf[96];
    tp_control_binding_format(&cfg.bindings[TP_ACTION_RECORD_STOP_KEEP], buf, sizeof buf);
    assert_string_equal(buf, "right.b"); /* untouched default */
    tp_config_free(file);

    static const struct {
        const char *text, *expect;
    } bad[] = {
        {"[controls]\nclutch = sometimes\n", "st.ini:2: [controls] clutch: 'sometimes' is not one of either"},
        {"[controls]\nrecord_start = right.q\n", "st.ini:2: [controls] record_start: 'right.q'"},
        {"[controls]\n\nrecord_start = right.b\n",
         "st.ini:3: [controls] record_start: controls.record_start and controls.record_stop_keep"},
        {"[controls]\nthreshold = 2\n", "st.ini:2: [controls] threshold: 2 is out of range"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tp_session_default_config(&session);
        file = tp_config_parse(bad[i].text, "st.ini", err, sizeof err);
        assert_non_null(file);
        assert_int_equal(tp_session_apply_config(&session, file, err, sizeof err), -1);
        if (!strstr(err, bad[i].expect))
            fail_msg("'%s' not in '%s'", bad[i].expect, err);
        tp_config_free(file);
    }
}

static void test_clutch_modes(void **state)
{
    (void)state;
    static const struct {
        tp_clutch_mode mode;
        bool expect[4]; /* none, left, right, both squeezed */
    } cases[] = {
        {TP_CLUTCH_EITHER, {false, true, true, true}}, {TP_CLUTCH_BOTH, {false, false, false, true}},
        {TP_CLUTCH_LEFT, {false, true, false, true}},  {TP_CLUTCH_RIGHT, {false, false, true, true}},
        {TP_CLUTCH_ALWAYS, {true, true, true, true}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int combo = 0; combo < 4; combo++) {
            tp_controls_config cfg;
            tp_controls_default_config(&cfg);
            cfg.clutch = cases[i].mode;
            rig r;
            rig_init(&r, &cfg);
            r.f.ctrl[0].squeeze = (combo & 1) ? 0.9f : 0.1f;
            r.f.ctrl[1].squeeze = (combo & 2) ? 0.9f : 0.1f;
            run(&r, 200);
            assert_int_equal(r.f.engaged, cases[i].expect[combo]);
            assert_int_equal(count(&r, TP_CMD_CLUTCH_ENGAGE), cases[i].expect[combo]);
            /* An inactive controller reads as released. */
            r.f.ctrl[0].active = r.f.ctrl[1].active = false;
            run(&r, 50);
            assert_int_equal(r.f.engaged, cases[i].mode == TP_CLUTCH_ALWAYS);
        }
}

static void test_clutch_debounce_and_hysteresis(void **state)
{
    (void)state;
    tp_controls_config cfg;
    tp_controls_default_config(&cfg);
    cfg.debounce_s = 0.05;
    rig r;
    rig_init(&r, &cfg);
    /* A 30 ms blip does not engage. */
    r.f.ctrl[1].squeeze = 1;
    run(&r, 30);
    r.f.ctrl[1].squeeze = 0;
    run(&r, 100);
    assert_int_equal(count(&r, TP_CMD_CLUTCH_ENGAGE), 0);
    /* A held squeeze engages once the debounce time has passed. */
    int64_t pressed = r.t;
    r.f.ctrl[1].squeeze = 1;
    run(&r, 200);
    assert_int_equal(count(&r, TP_CMD_CLUTCH_ENGAGE), 1);
    assert_true(r.cmds[0].t_ns - pressed >= 50 * MS && r.cmds[0].t_ns - pressed < 62 * MS);
    /* Hysteresis: dipping to 0.45 (under 0.5, over 0.4) keeps it engaged. */
    r.f.ctrl[1].squeeze = 0.45f;
    run(&r, 100);
    assert_true(r.f.engaged);
    /* A release takes effect in the very frame it is seen. */
    r.f.ctrl[1].squeeze = 0.35f;
    int64_t released = r.t;
    run(&r, 12);
    assert_false(r.f.engaged);
    assert_int_equal(r.cmds[r.n - 1].code, TP_CMD_CLUTCH_RELEASE);
    assert_int_equal(r.cmds[r.n - 1].t_ns, released);
    /* From released, 0.45 is not a press. */
    r.f.ctrl[1].squeeze = 0.45f;
    run(&r, 200);
    assert_false(r.f.engaged);
    /* NaN reads as released. */
    r.f.ctrl[1].squeeze = 1;
    run(&r, 200);
    assert_true(r.f.engaged);
    r.f.ctrl[1].squeeze = (float)NAN;
    run(&r, 12);
    assert_false(r.f.engaged);
}

static void test_press_and_hold_bindings(void **state)
{
    (void)state;
    tp_controls_config cfg;
    tp_controls_default_config(&cfg);
    rig r;
    rig_init(&r, &cfg);
    /* Holding A for two seconds starts recording once. */
    r.f.ctrl[1].buttons = TP_BTN_A;
    run(&r, 2000);
    assert_int_equal(count(&r, TP_CMD_RECORD_START), 1);
    r.f.ctrl[1].buttons = 0;
    run(&r, 100);
    r.f.ctrl[1].buttons = TP_BTN_A;
    run(&r, 100);
    assert_int_equal(count(&r, TP_CMD_RECORD_START), 2);
    /* The left A (X) is another input. */
    r.f.ctrl[1].buttons = 0;
    r.f.ctrl[0].buttons = TP_BTN_A;
    run(&r, 200);
    assert_int_equal(count(&r, TP_CMD_RECORD_START), 2);
    r.f.ctrl[0].buttons = 0;
    /* Y held 0.9 s is not a discard; held 1 s is one. */
    r.f.ctrl[0].buttons = TP_BTN_B;
    run(&r, 900);
    r.f.ctrl[0].buttons = 0;
    run(&r, 100);
    assert_int_equal(count(&r, TP_CMD_RECORD_STOP_DISCARD), 0);
    int64_t pressed = r.t;
    r.f.ctrl[0].buttons = TP_BTN_B;
    run(&r, 3000);
    assert_int_equal(count(&r, TP_CMD_RECORD_STOP_DISCARD), 1);
    const tp_command_msg *last = &r.cmds[r.n - 1];
    assert_int_equal(last->code, TP_CMD_RECORD_STOP_DISCARD);
    /* debounce (30 ms) + hold (1 s), each counted in whole frames */
    assert_true(last->t_ns - pressed >= 1030 * MS && last->t_ns - pressed < 1053 * MS);
    r.f.ctrl[0].buttons = 0;
    r.f.ctrl[1].buttons = TP_BTN_B;
    run(&r, 100);
    assert_int_equal(count(&r, TP_CMD_RECORD_STOP_KEEP), 1);
    assert_int_equal(count(&r, TP_CMD_EMERGENCY_ON), 0);
    assert_string_equal(tp_command_name(TP_CMD_RECORD_STOP_KEEP), "record_stop_keep");
}

static void test_chord(void **state)
{
    (void)state;
    char err[128];
    tp_controls_config cfg;
    tp_controls_default_config(&cfg);
    assert_int_equal(tp_control_binding_parse("left.trigger+right.trigger", &cfg.bindings[TP_ACTION_RECORD_START],
                                              err, sizeof err),
                     0);
    rig r;
    rig_init(&r, &cfg);
    r.f.ctrl[0].trigger = 1;
    run(&r, 500);
    assert_int_equal(count(&r, TP_CMD_RECORD_START), 0);
    r.f.ctrl[1].trigger = 1;
    run(&r, 500);
    assert_int_equal(count(&r, TP_CMD_RECORD_START), 1);
    r.f.ctrl[0].trigger = 0;
    run(&r, 100);
    r.f.ctrl[0].trigger = 1;
    run(&r, 100);
    assert_int_equal(count(&r, TP_CMD_RECORD_START), 2);
}

static void test_emergency_latch(void **state)
{
    (void)state;
    tp_controls_config cfg;
    tp_controls_default_config(&cfg);
    rig r;
    rig_init(&r, &cfg);
    r.f.ctrl[0].squeeze = r.f.ctrl[1].squeeze = 1;
    run(&r, 200);
    assert_true(r.f.engaged);
    /* Menu: the hold latches at once and disengages; holding menu on for
     * three seconds (longer than the release hold) does not release it. */
    r.f.ctrl[0].buttons = TP_BTN_MENU;
    run(&r, 3000);
    assert_int_equal(count(&r, TP_CMD_EMERGENCY_ON), 1);
    assert_int_equal(count(&r, TP_CMD_EMERGENCY_OFF), 0);
    assert_true(tp_controls_emergency(&r.c));
    assert_false(r.f.engaged);
    assert_int_equal(count(&r, TP_CMD_CLUTCH_RELEASE), 1);
    /* A short press while held changes nothing. */
    r.f.ctrl[0].buttons = 0;
    run(&r, 100);
    r.f.ctrl[0].buttons = TP_BTN_MENU;
    run(&r, 500);
    r.f.ctrl[0].buttons = 0;
    run(&r, 100);
    assert_true(tp_controls_emergency(&r.c));
    assert_int_equal(count(&r, TP_CMD_EMERGENCY_ON), 1);
    /* Menu held two seconds releases it; the grips still squeezed do not
     * re-engage until let go and squeezed again. */
    r.f.ctrl[0].buttons = TP_BTN_MENU;
    run(&r, 2100);
    assert_int_equal(count(&r, TP_CMD_EMERGENCY_OFF), 1);
    assert_false(tp_controls_emergency(&r.c));
    run(&r, 1000);
    assert_int_equal(count(&r, TP_CMD_EMERGENCY_ON), 1); /* the same press does not latch again */
    r.f.ctrl[0].buttons = 0;
    run(&r, 500);
    assert_false(r.f.engaged);
    assert_int_equal(count(&r, TP_CMD_CLUTCH_ENGAGE), 1);
    r.f.ctrl[0].squeeze = r.f.ctrl[1].squeeze = 0;
    run(&r, 100);
    r.f.ctrl[1].squeeze = 1;
    run(&r, 100);
    assert_true(r.f.engaged);
    assert_int_equal(count(&r, TP_CMD_CLUTCH_ENGAGE), 2);
    /* The order of commands is the order of events. */
    for (int i = 1; i < r.n; i++)
        assert_true(r.cmds[i].t_ns >= r.cmds[i - 1].t_ns);
}

static void test_output_bound(void **state)
{
    (void)state;
    tp_controls_config cfg;
    tp_controls_default_config(&cfg);
    cfg.debounce_s = 0;
    tp_controls c;
    tp_controls_init(&c, &cfg);
    tp_operator_frame f;
    memset(&f, 0, sizeof f);
    f.ctrl[0].active = f.ctrl[1].active = true;
    f.ctrl[1].buttons = TP_BTN_A;
    f.ctrl[0].buttons = TP_BTN_MENU;
    f.ctrl[1].squeeze = 1;
    tp_command_msg out[1];
    /* Three commands happen in this frame; only max are written. */
    assert_int_equal(tp_controls_update(&c, &f, out, 1), 1);
    assert_int_equal(out[0].code, TP_CMD_RECORD_START);
}

/* The headset view's wrist-panel toggle: bound by default to the left
 * thumbstick click (no other default uses it), one command per press however
 * long it is held, debounced like every input, never fired by another
 * chord; rebindable in [controls] wrist_panels. */
static void test_wrist_panels_toggle(void **state)
{
    (void)state;
    tp_controls_config cfg;
    tp_controls_default_config(&cfg);
    char buf[96];
    tp_control_binding_format(&cfg.bindings[TP_ACTION_WRIST_PANELS], buf, sizeof buf);
    assert_string_equal(buf, "left.stick");
    assert_string_equal(tp_control_action_key(TP_ACTION_WRIST_PANELS), "wrist_panels");
    assert_string_equal(tp_command_name(TP_CMD_WRIST_PANELS_TOGGLE), "wrist_panels_toggle");
    /* No other default binding uses the left stick (or any stick). */
    for (int a = 0; a < TP_ACTION_COUNT; a++) {
        if (a == TP_ACTION_WRIST_PANELS)
            continue;
        for (int k = 0; k < cfg.bindings[a].count; k++)
            assert_int_not_equal(cfg.bindings[a].keys[k].input, TP_INPUT_STICK);
    }

    rig r;
    rig_init(&r, &cfg);
    /* Every other input and chord, each pressed and held: no toggle. */
    const struct {
        int side;
        uint32_t buttons;
        float trigger, squeeze;
    } others[] = {
        {1, TP_BTN_STICK, 0, 0}, /* the right stick */
        {0, TP_BTN_A, 0, 0},     {0, TP_BTN_B, 0, 0},     {0, TP_BTN_MENU, 0, 0}, {1, TP_BTN_A, 0, 0},
        {1, TP_BTN_B, 0, 0},     {1, TP_BTN_MENU, 0, 0},  {0, 0, 1, 0},           {0, 0, 0, 1},
        {1, 0, 1, 1},
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        r.f.ctrl[others[i].side].buttons = others[i].buttons;
        r.f.ctrl[others[i].side].trigger = others[i].trigger;
        r.f.ctrl[others[i].side].squeeze = others[i].squeeze;
        run(&r, 2500);
        r.f.ctrl[others[i].side].buttons = 0;
        r.f.ctrl[others[i].side].trigger = r.f.ctrl[others[i].side].squeeze = 0;
        run(&r, 100);
    }
    assert_int_equal(count(&r, TP_CMD_WRIST_PANELS_TOGGLE), 0);
    /* Release the emergency hold the left menu latched above. */
    r.f.ctrl[0].buttons = TP_BTN_MENU;
    run(&r, 2100);
    r.f.ctrl[0].buttons = 0;
    run(&r, 100);
    assert_false(tp_controls_emergency(&r.c));
    int before = r.n;

    /* A 20 ms blip (under the 30 ms debounce): nothing. */
    r.f.ctrl[0].buttons = TP_BTN_STICK;
    run(&r, 20);
    r.f.ctrl[0].buttons = 0;
    run(&r, 100);
    assert_int_equal(count(&r, TP_CMD_WRIST_PANELS_TOGGLE), 0);
    /* A press held three seconds: one toggle, once the debounce time has passed. */
    int64_t pressed = r.t;
    r.f.ctrl[0].buttons = TP_BTN_STICK;
    run(&r, 3000);
    assert_int_equal(count(&r, TP_CMD_WRIST_PANELS_TOGGLE), 1);
    assert_int_equal(r.n, before + 1); /* nothing else came of it */
    const tp_command_msg *t = &r.cmds[r.n - 1];
    assert_int_equal(t->code, TP_CMD_WRIST_PANELS_TOGGLE);
    assert_true(t->t_ns - pressed >= 30 * MS && t->t_ns - pressed < 42 * MS);
    /* Each new press toggles again. */
    for (int k = 0; k < 3; k++) {
        r.f.ctrl[0].buttons = 0;
        run(&r, 100);
        r.f.ctrl[0].buttons = TP_BTN_STICK;
        run(&r, 100);
    }
    assert_int_equal(count(&r, TP_CMD_WRIST_PANELS_TOGGLE), 4);
    /* With the grip squeezed (teleoperating): toggles all the same, the clutch untouched. */
    r.f.ctrl[0].buttons = 0;
    r.f.ctrl[1].squeeze = 1;
    run(&r, 200);
    assert_true(r.f.engaged);
    r.f.ctrl[0].buttons = TP_BTN_STICK;
    run(&r, 200);
    assert_true(r.f.engaged);
    assert_int_equal(count(&r, TP_CMD_WRIST_PANELS_TOGGLE), 5);
    assert_int_equal(count(&r, TP_CMD_CLUTCH_RELEASE), 0);

    /* Rebound in [controls]; the same input as another binding is refused. */
    tp_session_config session;
    tp_session_default_config(&session);
    char err[256];
    tp_config *file = tp_config_parse("[controls]\nwrist_panels = right.stick hold 0.5\n", "st.ini", err, sizeof err);
    assert_non_null(file);
    assert_int_equal(tp_session_apply_config(&session, file, err, sizeof err), 0);
    tp_control_binding_format(&session.controls.bindings[TP_ACTION_WRIST_PANELS], buf, sizeof buf);
    assert_string_equal(buf, "right.stick hold 0.5");
    tp_config_free(file);
    rig_init(&r, &session.controls);
    r.f.ctrl[0].buttons = TP_BTN_STICK; /* the left stick no longer toggles */
    run(&r, 1000);
    r.f.ctrl[0].buttons = 0;
    r.f.ctrl[1].buttons = TP_BTN_STICK;
    run(&r, 400);
    assert_int_equal(count(&r, TP_CMD_WRIST_PANELS_TOGGLE), 0);
    run(&r, 300);
    assert_int_equal(count(&r, TP_CMD_WRIST_PANELS_TOGGLE), 1);
    tp_session_default_config(&session);
    file = tp_config_parse("[controls]\nrecord_start = left.stick\n", "st.ini", err, sizeof err);
    assert_non_null(file);
    assert_int_equal(tp_session_apply_config(&session, file, err, sizeof err), -1);
    if (!strstr(err, "st.ini:2: [controls] record_start: controls.record_start and controls.wrist_panels are bound "
                     "to the same input"))
        fail_msg("%s", err);
    tp_config_free(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binding_parse),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_clutch_modes),
        cmocka_unit_test(test_clutch_debounce_and_hysteresis),
        cmocka_unit_test(test_press_and_hold_bindings),
        cmocka_unit_test(test_chord),
        cmocka_unit_test(test_emergency_latch),
        cmocka_unit_test(test_output_bound),
        cmocka_unit_test(test_wrist_panels_toggle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
