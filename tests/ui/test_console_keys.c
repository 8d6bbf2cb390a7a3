/* The console's keys and figures without a window:
 *   - every workflow key of the terminal, pressed in the console (GLFW key
 *     and character events), sends the command the terminal's bytes give
 *     through the same key machine, into the session's command path (the
 *     tap's ring the recorder reads);
 *   - a task typed in any script (UTF-8 from GLFW's character input) arrives
 *     whole; Esc cancels it; text over the limit is refused, not cut;
 *   - a held key's repeats send a command once;
 *   - the status figures (rates over a second, state badge, time left). */
#include <GLFW/glfw3.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "console_internal.h"
#include "station/console_feed.h"

static tp_console_tap *new_tap(void)
{
    tp_session_config cfg;
    tp_session_default_config(&cfg);
    char err[256];
    tp_console_tap *tap = tp_console_tap_create(&cfg, err, sizeof err);
    assert_non_null(tap);
    return tap;
}

static void key(console_keys *k, tp_console_tap *tap, int glfw_key, int action)
{
    uk_event ev = {.kind = UK_EVENT_KEY, .key = glfw_key, .action = action};
    console_keys_event(k, &ev, tap);
}

static void chr(console_keys *k, tp_console_tap *tap, uint32_t cp)
{
    uk_event ev = {.kind = UK_EVENT_CHAR, .codepoint = cp};
    console_keys_event(k, &ev, tap);
}

/* A printable key as GLFW reports it: the key press, then its character. */
static void press(console_keys *k, tp_console_tap *tap, uint32_t cp)
{
    key(k, tap, GLFW_KEY_UNKNOWN, UK_PRESS);
    chr(k, tap, cp);
    key(k, tap, GLFW_KEY_UNKNOWN, UK_RELEASE);
}

static void type_utf8(console_keys *k, tp_console_tap *tap, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += (size_t)uk_utf8_decode(s + i, n - i, &cp);
        press(k, tap, cp);
    }
}

/* What the terminal sends for the same key: its bytes through tp_keys_feed. */
static station_input terminal(const char *bytes, size_t n)
{
    tp_keys keys;
    tp_keys_init(&keys);
    station_input out = {.kind = -1};
    for (size_t i = 0; i < n; i++) {
        tp_wf_input in;
        tp_key_result r = tp_keys_feed(&keys, (unsigned char)bytes[i], &in);
        if (r == TP_KEY_INPUT)
            out = (station_input){.kind = STATION_INPUT_WORKFLOW, .input = (int)in};
        else if (r == TP_KEY_EMERGENCY)
            out = (station_input){.kind = STATION_INPUT_EMERGENCY};
    }
    if (out.kind < 0) { /* a lone Esc: known after the pause */
        tp_wf_input in;
        if (tp_keys_flush(&keys, &in) == TP_KEY_INPUT)
            out = (station_input){.kind = STATION_INPUT_WORKFLOW, .input = (int)in};
    }
    return out;
}

static void test_workflow_keys_match_the_terminal(void **state)
{
    (void)state;
    static const struct {
        int glfw_key;     /* or 0: a character */
        uint32_t cp;
        const char *term; /* the terminal's bytes for it */
        size_t term_len;
    } keys[] = {
        {0, ' ', " ", 1},
        {GLFW_KEY_ENTER, 0, "\r", 1},
        {GLFW_KEY_RIGHT, 0, "\x1b[C", 3},
        {GLFW_KEY_LEFT, 0, "\x1b[D", 3},
        {0, 'd', "d", 1},
        {GLFW_KEY_BACKSPACE, 0, "\x7f", 1},
        {0, 'r', "r", 1},
        {0, 'q', "q", 1},
        {GLFW_KEY_ESCAPE, 0, "\x1b", 1},
        {0, 'e', "e", 1},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        tp_console_tap *tap = new_tap();
        console_keys k;
        console_keys_init(&k);
        if (keys[i].glfw_key) {
            key(&k, tap, keys[i].glfw_key, UK_PRESS);
            key(&k, tap, keys[i].glfw_key, UK_RELEASE);
        } else {
            press(&k, tap, keys[i].cp);
        }
        station_input want = terminal(keys[i].term, keys[i].term_len), got;
        assert_true(console_feed_pop_input(tap, &got));
        assert_int_equal(got.kind, want.kind);
        assert_int_equal(got.input, want.input);
        assert_true(got.t_ns > 0);
        assert_false(console_feed_pop_input(tap, &got)); /* one key, one command */
        assert_int_equal(k.sent, 1);
        tp_console_tap_destroy(tap);
    }
}

static void test_task_typing(void **state)
{
    (void)state;
    tp_console_tap *tap = new_tap();
    console_keys k;
    console_keys_init(&k);
    station_input got;
    /* t, text in three scripts, a typo erased, Enter. */
    press(&k, tap, 't');
    assert_non_null(console_keys_typing(&k));
    type_utf8(&k, tap, "把方块放到左边 — cube #2 ✓x");
    key(&k, tap, GLFW_KEY_BACKSPACE, UK_PRESS);
    assert_string_equal(console_keys_typing(&k), "把方块放到左边 — cube #2 ✓");
    assert_false(console_feed_pop_input(tap, &got)); /* nothing sent while typing */
    key(&k, tap, GLFW_KEY_ENTER, UK_PRESS);
    assert_null(console_keys_typing(&k));
    assert_true(console_feed_pop_input(tap, &got));
    assert_int_equal(got.kind, STATION_INPUT_TASK);
    assert_string_equal(got.task, "把方块放到左边 — cube #2 ✓");
    /* Esc cancels: nothing sent, and no quit either. */
    press(&k, tap, 't');
    type_utf8(&k, tap, "never mind");
    key(&k, tap, GLFW_KEY_ESCAPE, UK_PRESS);
    assert_null(console_keys_typing(&k));
    assert_false(console_feed_pop_input(tap, &got));
    /* Over the limit: refused with the reason shown, the task untouched. */
    press(&k, tap, 't');
    for (int i = 0; i < TP_TASK_MAX_BYTES + 10; i++)
        press(&k, tap, 'a');
    key(&k, tap, GLFW_KEY_ENTER, UK_PRESS);
    assert_false(console_feed_pop_input(tap, &got));
    assert_non_null(strstr(k.message, "refused"));
    assert_non_null(strstr(k.message, "4106 bytes"));
    tp_console_tap_destroy(tap);
}

static void test_held_key_sends_once(void **state)
{
    (void)state;
    tp_console_tap *tap = new_tap();
    console_keys k;
    console_keys_init(&k);
    station_input got;
    /* d held down: GLFW repeats the key and its character. */
    key(&k, tap, GLFW_KEY_D, UK_PRESS);
    chr(&k, tap, 'd');
    for (int i = 0; i < 5; i++) {
        key(&k, tap, GLFW_KEY_D, UK_REPEAT);
        chr(&k, tap, 'd');
    }
    key(&k, tap, GLFW_KEY_RIGHT, UK_REPEAT); /* a held arrow: nothing more either */
    assert_true(console_feed_pop_input(tap, &got));
    assert_int_equal(got.input, TP_WF_IN_STOP_DISCARD);
    assert_false(console_feed_pop_input(tap, &got));
    /* While typing, a held key types on and a held Backspace erases on. */
    press(&k, tap, 't');
    key(&k, tap, GLFW_KEY_A, UK_PRESS);
    chr(&k, tap, 'a');
    key(&k, tap, GLFW_KEY_A, UK_REPEAT);
    chr(&k, tap, 'a');
    assert_string_equal(console_keys_typing(&k), "aa");
    key(&k, tap, GLFW_KEY_BACKSPACE, UK_PRESS);
    key(&k, tap, GLFW_KEY_BACKSPACE, UK_REPEAT);
    assert_string_equal(console_keys_typing(&k), "");
    tp_console_tap_destroy(tap);
}

static void test_full_queue_is_said(void **state)
{
    (void)state;
    tp_console_tap *tap = new_tap();
    console_keys k;
    console_keys_init(&k);
    /* Nobody reads (the session is ending): the queue fills, the console says so. */
    for (int i = 0; i < 40; i++)
        press(&k, tap, 'e');
    assert_true(k.sent < 40);
    assert_non_null(strstr(k.message, "not taking commands"));
    tp_console_tap_destroy(tap);
}

static void test_figures(void **state)
{
    (void)state;
    tp_console_status st = {.t_ns = 10000000000LL, .record = true, .state = TP_WF_RECORDING,
                            .state_since_ns = 8000000000LL, .time_left_s = 5.0, .episode = 3, .kept = 2,
                            .discarded = 1, .control_cycles = 1000, .deadline_misses = 4, .camera_count = 2};
    st.cameras[0].captured = 300;
    st.cameras[1].captured = 100;
    st.cameras[1].dropped = 7;
    console_rates r = {0};
    console_rates_update(&r, &st);
    assert_false(r.have);
    st.t_ns += 500000000; /* half a second: too short to measure over */
    console_rates_update(&r, &st);
    assert_false(r.have);
    st.t_ns += 500000000;
    st.control_cycles += 500;
    st.cameras[0].captured += 30;
    st.cameras[1].captured += 15;
    st.cameras[0].encoded += 3; /* idle: few or no frames encoded, the cameras live all the same */
    console_rates_update(&r, &st);
    assert_true(r.have);
    assert_float_equal(r.control_hz, 500.0, 1e-9);
    assert_float_equal(r.fps[0], 30.0, 1e-9);
    assert_float_equal(r.fps[1], 15.0, 1e-9);

    const char *names[] = {"head_camera", "wrist"};
    char lines[16][96];
    int n = console_figure_lines(&st, &r, names, 12.345, lines, 16);
    bool fps = false, drops = false, disk = false, rate = false, misses = false;
    for (int i = 0; i < n; i++) {
        fps |= !strcmp(lines[i], "wrist fps\t15.0");
        drops |= !strcmp(lines[i], "drops\t7");
        disk |= !strcmp(lines[i], "disk free\t12.3 GB");
        rate |= !strcmp(lines[i], "control rate\t500 Hz");
        misses |= !strcmp(lines[i], "deadline misses\t4");
    }
    assert_true(fps && drops && disk && rate && misses);

    uint32_t rgb;
    assert_string_equal(console_state_label(&st, &rgb), "● REC");
    char buf[128];
    console_episode_text(&st, buf, sizeof buf);
    assert_string_equal(buf, "episode 3  (2 kept, 1 discarded)");
    /* 4 s into the episode (at 12 s, since 8 s), the limit 5 s away when
     * the recorder last looked a second ago: 4 s left now. */
    console_time_text(&st, st.t_ns + 1000000000LL, buf, sizeof buf);
    assert_string_equal(buf, "4.0 s  (4.0 s left)");
    st.recording_stopped = true;
    assert_non_null(strstr(console_state_label(&st, &rgb), "STOPPED"));
    st.recording_stopped = false;
    st.state = TP_WF_IDLE;
    assert_string_equal(console_state_label(&st, &rgb), "IDLE");
    console_time_text(&st, st.t_ns, buf, sizeof buf);
    assert_string_equal(buf, "");

    const char *words[12];
    int nw = console_flag_words(TP_CONTROL_ENGAGED | TP_CONTROL_EMERGENCY | TP_CONTROL_POSITION, words, 12);
    assert_int_equal(nw, 3);
    assert_string_equal(words[0], "EMERGENCY HOLD");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workflow_keys_match_the_terminal),
        cmocka_unit_test(test_task_typing),
        cmocka_unit_test(test_held_key_sends_once),
        cmocka_unit_test(test_full_queue_is_said),
        cmocka_unit_test(test_figures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
