/* The recording workflow: episodes, limits, pauses, keep/discard/re-record,
 * quit, and the terminal keys and script lines that drive it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "teleop/workflow.h"

#define S 1000000000LL

static tp_wf_action act[TP_WF_MAX_ACTIONS];

static void expect_actions(int n, int want_n, const tp_wf_action_kind *kinds, const int64_t *times)
{
    assert_int_equal(n, want_n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(act[i].kind, kinds[i]);
        assert_true(act[i].t_ns == times[i]);
    }
}

#define EXPECT(call, ...)                                                                                        \
    do {                                                                                                         \
        const struct {                                                                                           \
            tp_wf_action_kind k;                                                                                 \
            int64_t t;                                                                                           \
        } want[] = {__VA_ARGS__};                                                                                \
        int n_ = (call);                                                                                         \
        tp_wf_action_kind kinds[8];                                                                              \
        int64_t times[8];                                                                                        \
        int wn = (int)(sizeof want / sizeof want[0]);                                                            \
        for (int i_ = 0; i_ < wn; i_++) {                                                                        \
            kinds[i_] = want[i_].k;                                                                              \
            times[i_] = want[i_].t;                                                                              \
        }                                                                                                        \
        expect_actions(n_, wn, kinds, times);                                                                    \
    } while (0)

static void test_single_episode(void **state)
{
    (void)state;
    tp_workflow_config cfg;
    tp_workflow_default_config(&cfg);
    tp_workflow wf;
    EXPECT(tp_workflow_begin(&wf, &cfg, 5 * S, act), {TP_WF_OPEN, 5 * S});
    assert_int_equal(wf.state, TP_WF_RECORDING);
    assert_int_equal(tp_workflow_tick(&wf, 500 * S, act), 0); /* no time limit */
    assert_true(tp_workflow_time_left(&wf, 6 * S) < 0);
    assert_int_equal(tp_workflow_input(&wf, TP_WF_IN_START, 7 * S, act), 0);
    EXPECT(tp_workflow_end(&wf, 9 * S, act), {TP_WF_CLOSE_KEEP, 9 * S}, {TP_WF_END_SESSION, 9 * S});
    assert_int_equal(wf.kept, 1);
    assert_int_equal(tp_workflow_end(&wf, 10 * S, act), 0);
    assert_int_equal(tp_workflow_input(&wf, TP_WF_IN_TOGGLE, 10 * S, act), 0);
}

static void test_session_of_episodes(void **state)
{
    (void)state;
    tp_workflow_config cfg = {.episodes = 3, .episode_time_s = 10, .reset_time_s = 2, .auto_start = true};
    tp_workflow wf;
    EXPECT(tp_workflow_begin(&wf, &cfg, 0, act), {TP_WF_OPEN, 0});
    assert_int_equal(tp_workflow_tick(&wf, 9 * S, act), 0);
    assert_true(tp_workflow_time_left(&wf, 9 * S) > 0.99 && tp_workflow_time_left(&wf, 9 * S) < 1.01);
    /* The limit closes the episode at the limit, not at the late tick. */
    EXPECT(tp_workflow_tick(&wf, 10 * S + 30000000, act), {TP_WF_CLOSE_KEEP, 10 * S});
    assert_int_equal(wf.state, TP_WF_RESETTING);
    assert_int_equal(tp_workflow_tick(&wf, 11 * S, act), 0);
    EXPECT(tp_workflow_tick(&wf, 12 * S, act), {TP_WF_OPEN, 12 * S});
    /* A discarded episode does not count toward the three. */
    EXPECT(tp_workflow_input(&wf, TP_WF_IN_STOP_DISCARD, 15 * S, act), {TP_WF_CLOSE_DISCARD, 15 * S});
    /* Start during the pause skips the rest of it. */
    EXPECT(tp_workflow_input(&wf, TP_WF_IN_START, 16 * S, act), {TP_WF_OPEN, 16 * S});
    EXPECT(tp_workflow_tick(&wf, 26 * S, act), {TP_WF_CLOSE_KEEP, 26 * S});
    EXPECT(tp_workflow_tick(&wf, 28 * S, act), {TP_WF_OPEN, 28 * S});
    EXPECT(tp_workflow_tick(&wf, 38 * S, act), {TP_WF_CLOSE_KEEP, 38 * S}, {TP_WF_END_SESSION, 38 * S});
    assert_int_equal(wf.state, TP_WF_FINISHED);
    assert_int_equal(wf.kept, 3);
    assert_int_equal(wf.discarded, 1);
    assert_int_equal(wf.attempts, 4);
}

static void test_manual_and_rerecord(void **state)
{
    (void)state;
    tp_workflow_config cfg = {.episodes = 0, .episode_time_s = 0, .reset_time_s = 0, .auto_start = false};
    tp_workflow wf;
    assert_int_equal(tp_workflow_begin(&wf, &cfg, 0, act), 0);
    assert_int_equal(wf.state, TP_WF_IDLE);
    assert_int_equal(tp_workflow_input(&wf, TP_WF_IN_STOP_KEEP, 1 * S, act), 0);
    assert_int_equal(tp_workflow_input(&wf, TP_WF_IN_RERECORD, 1 * S, act), 0); /* nothing to delete */
    EXPECT(tp_workflow_input(&wf, TP_WF_IN_TOGGLE, 2 * S, act), {TP_WF_OPEN, 2 * S});
    EXPECT(tp_workflow_input(&wf, TP_WF_IN_TOGGLE, 4 * S, act), {TP_WF_CLOSE_KEEP, 4 * S});
    assert_int_equal(wf.state, TP_WF_IDLE); /* no auto start: wait */
    /* Re-record after the fact deletes the last kept episode, once. */
    EXPECT(tp_workflow_input(&wf, TP_WF_IN_RERECORD, 5 * S, act), {TP_WF_DELETE_LAST_KEPT, 5 * S});
    assert_int_equal(wf.kept, 0);
    assert_int_equal(tp_workflow_input(&wf, TP_WF_IN_RERECORD, 6 * S, act), 0);
    /* Re-record while recording discards the take. */
    EXPECT(tp_workflow_input(&wf, TP_WF_IN_START, 7 * S, act), {TP_WF_OPEN, 7 * S});
    EXPECT(tp_workflow_input(&wf, TP_WF_IN_RERECORD, 8 * S, act), {TP_WF_CLOSE_DISCARD, 8 * S});
    assert_int_equal(tp_workflow_input(&wf, TP_WF_IN_RERECORD, 9 * S, act), 0); /* a discard is not undone */
    EXPECT(tp_workflow_input(&wf, TP_WF_IN_START, 10 * S, act), {TP_WF_OPEN, 10 * S});
    EXPECT(tp_workflow_input(&wf, TP_WF_IN_QUIT, 12 * S, act), {TP_WF_CLOSE_KEEP, 12 * S},
           {TP_WF_END_SESSION, 12 * S});
    assert_int_equal(wf.kept, 1);
    assert_int_equal(wf.attempts, 3);
    /* Without auto start, a pause ends in idle. */
    tp_workflow_config pause = {.episodes = 0, .episode_time_s = 1, .reset_time_s = 1, .auto_start = false};
    assert_int_equal(tp_workflow_begin(&wf, &pause, 0, act), 0);
    EXPECT(tp_workflow_input(&wf, TP_WF_IN_START, 0, act), {TP_WF_OPEN, 0});
    EXPECT(tp_workflow_tick(&wf, 1 * S, act), {TP_WF_CLOSE_KEEP, 1 * S});
    assert_int_equal(tp_workflow_tick(&wf, 2 * S, act), 0);
    assert_int_equal(wf.state, TP_WF_IDLE);
    EXPECT(tp_workflow_input(&wf, TP_WF_IN_QUIT, 3 * S, act), {TP_WF_END_SESSION, 3 * S});
}

static tp_key_result feed(tp_keys *k, const char *bytes, tp_wf_input *in)
{
    tp_key_result r = TP_KEY_NONE;
    for (const char *c = bytes; *c; c++) {
        tp_key_result x = tp_keys_feed(k, (unsigned char)*c, in);
        if (x != TP_KEY_NONE)
            r = x;
    }
    return r;
}

static void test_keys(void **state)
{
    (void)state;
    tp_keys k;
    tp_keys_init(&k);
    tp_wf_input in = TP_WF_IN_COUNT;
    assert_int_equal(feed(&k, " ", &in), TP_KEY_INPUT);
    assert_int_equal(in, TP_WF_IN_TOGGLE);
    assert_int_equal(feed(&k, "\r", &in), TP_KEY_INPUT);
    assert_int_equal(in, TP_WF_IN_TOGGLE);
    assert_int_equal(feed(&k, "\x1b[C", &in), TP_KEY_INPUT);
    assert_int_equal(in, TP_WF_IN_STOP_KEEP);
    assert_int_equal(feed(&k, "\x1b[D", &in), TP_KEY_INPUT);
    assert_int_equal(in, TP_WF_IN_RERECORD);
    in = TP_WF_IN_COUNT;
    assert_int_equal(feed(&k, "\x1b[A\x1b[1;5B", &in), TP_KEY_NONE); /* up, ctrl-down: nothing */
    assert_int_equal(in, TP_WF_IN_COUNT);
    assert_int_equal(feed(&k, "\x1b", &in), TP_KEY_NONE); /* maybe the start of a sequence */
    assert_int_equal(tp_keys_flush(&k, &in), TP_KEY_INPUT);
    assert_int_equal(in, TP_WF_IN_QUIT);
    assert_int_equal(tp_keys_flush(&k, &in), TP_KEY_NONE);
    assert_int_equal(feed(&k, "d", &in), TP_KEY_INPUT);
    assert_int_equal(in, TP_WF_IN_STOP_DISCARD);
    assert_int_equal(feed(&k, "r", &in), TP_KEY_INPUT);
    assert_int_equal(in, TP_WF_IN_RERECORD);
    assert_int_equal(feed(&k, "q", &in), TP_KEY_INPUT);
    assert_int_equal(in, TP_WF_IN_QUIT);
    assert_int_equal(feed(&k, "e", &in), TP_KEY_EMERGENCY);
    /* Task text: typed keys are text, not commands, until Enter. */
    assert_int_equal(feed(&k, "tpick the cubx", &in), TP_KEY_NONE);
    assert_int_equal(feed(&k, "\x7f" "e", &in), TP_KEY_NONE);
    assert_int_equal(feed(&k, "\r", &in), TP_KEY_TASK);
    assert_string_equal(k.text, "pick the cube");
    assert_int_equal(feed(&k, "tabandon\x1b", &in), TP_KEY_NONE); /* Esc cancels */
    assert_int_equal(feed(&k, " ", &in), TP_KEY_INPUT);
}

static void test_lines(void **state)
{
    (void)state;
    tp_wf_input in;
    char task[64] = "";
    size_t tb = 0;
    assert_int_equal(tp_keys_line("start", &in, task, sizeof task, &tb), TP_KEY_INPUT);
    assert_int_equal(in, TP_WF_IN_START);
    assert_int_equal(tp_keys_line("  keep  # good take", &in, task, sizeof task, &tb), TP_KEY_INPUT);
    assert_int_equal(in, TP_WF_IN_STOP_KEEP);
    assert_int_equal(tp_keys_line("discard\n", &in, task, sizeof task, &tb), TP_KEY_INPUT);
    assert_int_equal(in, TP_WF_IN_STOP_DISCARD);
    assert_int_equal(tp_keys_line("rerecord", &in, task, sizeof task, &tb), TP_KEY_INPUT);
    assert_int_equal(in, TP_WF_IN_RERECORD);
    assert_int_equal(tp_keys_line("quit", &in, task, sizeof task, &tb), TP_KEY_INPUT);
    assert_int_equal(in, TP_WF_IN_QUIT);
    assert_int_equal(tp_keys_line("emergency", &in, task, sizeof task, &tb), TP_KEY_EMERGENCY);
    assert_int_equal(tp_keys_line("task   stack the red block  ", &in, task, sizeof task, &tb), TP_KEY_TASK);
    assert_string_equal(task, "stack the red block");
    assert_int_equal(tp_keys_line("   # nothing", &in, task, sizeof task, &tb), TP_KEY_NONE);
    assert_int_equal(tp_keys_line("", &in, task, sizeof task, &tb), TP_KEY_NONE);
    assert_int_equal(tp_keys_line("starts", &in, task, sizeof task, &tb), -1);
    assert_int_equal(tp_keys_line("tasks x", &in, task, sizeof task, &tb), -1);
    /* Item 1: a task line keeps its text whole, '#' included; text that
     * does not fit is reported with its length, never cut. */
    assert_int_equal(tp_keys_line("task pick cube #2 ; then stop", &in, task, sizeof task, &tb), TP_KEY_TASK);
    assert_string_equal(task, "pick cube #2 ; then stop");
    assert_int_equal(tb, strlen(task));
    char why[128];
    assert_int_equal(tp_keys_task_check(task, tb, why, sizeof why), 0);
    char line[200] = "task ";
    memset(line + 5, 'x', 100);
    assert_int_equal(tp_keys_line(line, &in, task, sizeof task, &tb), TP_KEY_TASK);
    assert_int_equal(tb, 100);
    assert_string_equal(task, "");
    assert_int_equal(tp_keys_task_check(task, tb, why, sizeof why), -1);
    assert_int_equal(tp_keys_task_check("caf\xC3", 4, why, sizeof why), -1);
    assert_string_equal(why, "is not valid UTF-8 (byte 4)");
    static char big[TP_TASK_MAX_BYTES + 2];
    memset(big, 'y', TP_TASK_MAX_BYTES + 1);
    assert_int_equal(tp_keys_task_check(big, TP_TASK_MAX_BYTES + 1, why, sizeof why), -1);
    assert_string_equal(why, "4097 bytes, the limit is 4096");
    big[TP_TASK_MAX_BYTES] = '\0';
    assert_int_equal(tp_keys_task_check(big, TP_TASK_MAX_BYTES, why, sizeof why), 0);
}

/* Item 1: text typed after `t` is kept whole (UTF-8 included) up to the
 * limit; Backspace removes a whole character; more than the limit is
 * counted and refused, never cut. */
static void test_typed_task(void **state)
{
    (void)state;
    static tp_keys k;
    tp_keys_init(&k);
    tp_wf_input in;
    char why[128];
    assert_int_equal(feed(&k, "t\xE7\xBA\xA2\xE8\x89\xB2x\x7f\x7f", &in), TP_KEY_NONE);
    assert_int_equal(feed(&k, "\r", &in), TP_KEY_TASK);
    assert_string_equal(k.text, "\xE7\xBA\xA2");
    assert_int_equal(tp_keys_task_check(k.text, k.text_len + k.text_overflow, why, sizeof why), 0);
    assert_int_equal(feed(&k, "t", &in), TP_KEY_NONE);
    for (int i = 0; i < 1400; i++) /* 4200 bytes of CJK */
        feed(&k, "\xE4\xB8\xAD", &in);
    assert_int_equal(feed(&k, "\r", &in), TP_KEY_TASK);
    assert_int_equal(k.text_len + k.text_overflow, 4200);
    assert_int_equal(tp_keys_task_check(k.text, k.text_len + k.text_overflow, why, sizeof why), -1);
    assert_string_equal(why, "4200 bytes, the limit is 4096");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_single_episode), cmocka_unit_test(test_session_of_episodes),
                                       cmocka_unit_test(test_manual_and_rerecord), cmocka_unit_test(test_keys),
                                       cmocka_unit_test(test_lines), cmocka_unit_test(test_typed_task)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
