/* Review annotations on real episode files (copies of the v2 fixture and
 * episodes written here): every field round-trips (Chinese tags, notes and
 * task included), an undo is writing the previous state back, a live writer's
 * lock and an unfinished episode are refused, each invalid value is refused
 * with its one line and changes nothing, `check` accepts the file after
 * every write and it stays in rollback-journal mode, and trash moves it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "teleop/episode.h"
#include "teleop/qa.h"
#include "teleop/review.h"

static char dir[] = "/tmp/teleop-review-XXXXXX";
static char path[512];
static int copies;

static void copy_fixture(char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/episode-20261206-090000-%03d.db", dir, ++copies);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cp %s/episode-v2.db %s", FIXTURE_DIR, out);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static void assert_valid_rollback(const char *p)
{
    char *report = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&report, &len);
    int rc = tp_episode_check(p, f);
    fclose(f);
    if (rc != 0)
        fail_msg("check: %s", report);
    free(report);
    unsigned char h[20];
    FILE *raw = fopen(p, "rb");
    assert_non_null(raw);
    assert_int_equal(fread(h, 1, sizeof h, raw), sizeof h);
    fclose(raw);
    assert_int_equal(h[18], 1); /* rollback journal, not WAL */
    assert_int_equal(h[19], 1);
    char side[600];
    struct stat st;
    snprintf(side, sizeof side, "%s-wal", p);
    assert_int_not_equal(stat(side, &st), 0);
    snprintf(side, sizeof side, "%s-journal", p);
    assert_int_not_equal(stat(side, &st), 0);
}

static tp_review *new_review(void) { return calloc(1, sizeof(tp_review)); }

static void fill(tp_review *r)
{
    r->verdict = TP_VERDICT_SUCCESS;
    r->rating = 4;
    snprintf(r->task, sizeof r->task, "把红色方块放进盒子");
    r->trim_in_ns = r->start_t_ns + 20000000;
    r->trim_out_ns = r->end_t_ns - 10000000;
    r->delete_marked = true;
    r->n_tags = 3;
    snprintf(r->tags[0], TP_REVIEW_TAG_LEN, "抓取");
    snprintf(r->tags[1], TP_REVIEW_TAG_LEN, "good");
    snprintf(r->tags[2], TP_REVIEW_TAG_LEN, "手滑 ✓");
    r->n_notes = 2;
    snprintf(r->notes[0].text, TP_REVIEW_NOTE_LEN, "第二次抓取失败，\n然后成功。");
    snprintf(r->notes[1].author, sizeof r->notes[1].author, "ana");
    snprintf(r->notes[1].text, TP_REVIEW_NOTE_LEN, "camera fine");
    r->notes[1].t_unix_ns = 1796533903000000000LL;
}

static void test_round_trip(void **state)
{
    (void)state;
    char err[1024];
    copy_fixture(path, sizeof path);
    tp_review *r = new_review(), *back = new_review();
    assert_int_equal(tp_review_read(path, r, err, sizeof err), 0);
    assert_int_equal(r->verdict, TP_VERDICT_NONE);
    assert_string_equal(r->task, "fixture");
    assert_string_equal(r->task_recorded, "");
    assert_int_equal(r->start_t_ns, 1001307567168LL);
    assert_int_equal(r->end_t_ns, 1001508249275LL);
    fill(r);
    if (tp_review_write(path, r, "李雷", err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_valid_rollback(path);
    assert_int_equal(tp_review_read(path, back, err, sizeof err), 0);
    assert_int_equal(back->verdict, TP_VERDICT_SUCCESS);
    assert_int_equal(back->rating, 4);
    assert_string_equal(back->task, "把红色方块放进盒子");
    assert_string_equal(back->task_recorded, "fixture");
    assert_int_equal(back->trim_in_ns, r->trim_in_ns);
    assert_int_equal(back->trim_out_ns, r->trim_out_ns);
    assert_true(back->delete_marked);
    assert_int_equal(back->n_tags, 3); /* name order (bytewise) */
    assert_string_equal(back->tags[0], "good");
    assert_string_equal(back->tags[1], "手滑 ✓");
    assert_string_equal(back->tags[2], "抓取");
    assert_int_equal(back->n_notes, 2);
    assert_true(back->notes[0].id > 0 && back->notes[1].id > back->notes[0].id);
    assert_string_equal(back->notes[0].text, "第二次抓取失败，\n然后成功。");
    assert_string_equal(back->notes[0].author, "李雷"); /* no author given: the reviewer */
    assert_true(back->notes[0].t_unix_ns > 1796533903000000000LL);
    assert_string_equal(back->notes[1].author, "ana");
    assert_string_equal(back->notes[1].text, "camera fine");
    assert_int_equal(back->notes[1].t_unix_ns, 1796533903000000000LL);
    /* The meta as any SQLite client sees it. */
    tp_episode *ep = tp_episode_open(path, err, sizeof err);
    assert_non_null(ep);
    assert_string_equal(tp_episode_meta(ep, "review_verdict"), "success");
    assert_string_equal(tp_episode_meta(ep, "rating"), "4");
    assert_string_equal(tp_episode_meta(ep, "delete_marked"), "1");
    assert_string_equal(tp_episode_meta(ep, "reviewer"), "李雷");
    assert_non_null(tp_episode_meta(ep, "reviewed_unix_ns"));
    tp_episode_close(ep);
    /* Clearing every field removes its key. */
    tp_review *none = new_review();
    snprintf(none->task, sizeof none->task, "fixture");
    assert_int_equal(tp_review_write(path, none, NULL, err, sizeof err), 0);
    assert_valid_rollback(path);
    ep = tp_episode_open(path, err, sizeof err);
    assert_non_null(ep);
    static const char *const gone[] = {"review_verdict", "rating", "task_recorded", "trim_in_ns", "trim_out_ns",
                                       "delete_marked"};
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
        assert_null(tp_episode_meta(ep, gone[i]));
    assert_string_equal(tp_episode_meta(ep, "task"), "fixture");
    assert_string_equal(tp_episode_meta(ep, "reviewer"), "李雷"); /* NULL reviewer: kept */
    assert_int_equal(tp_episode_tag_count(ep), 0);
    assert_int_equal(tp_episode_note_count(ep), 0);
    tp_episode_close(ep);
    free(none);
    free(r);
    free(back);
}

static void test_undo(void **state)
{
    (void)state;
    char err[1024];
    copy_fixture(path, sizeof path);
    tp_review *s0 = new_review(), *s1 = new_review(), *s2 = new_review(), *now = new_review();
    assert_int_equal(tp_review_read(path, s0, err, sizeof err), 0);
    memcpy(s1, s0, sizeof *s1);
    fill(s1);
    assert_int_equal(tp_review_write(path, s1, "ana", err, sizeof err), 0);
    assert_int_equal(tp_review_read(path, s1, err, sizeof err), 0); /* with the notes' ids */
    /* The next edit: another verdict, rating and task, a tag removed and
     * one added, the first note changed, the second deleted, one added. */
    memcpy(s2, s1, sizeof *s2);
    s2->verdict = TP_VERDICT_FAILURE;
    s2->rating = 2;
    snprintf(s2->task, sizeof s2->task, "pick the blue cube");
    s2->trim_in_ns = 0;
    s2->delete_marked = false;
    snprintf(s2->tags[1], TP_REVIEW_TAG_LEN, "slow");
    snprintf(s2->notes[0].text, TP_REVIEW_NOTE_LEN, "改了");
    s2->notes[1] = (tp_review_note){0};
    snprintf(s2->notes[1].text, TP_REVIEW_NOTE_LEN, "new note");
    assert_int_equal(tp_review_write(path, s2, "bo", err, sizeof err), 0);
    assert_int_equal(tp_review_read(path, now, err, sizeof err), 0);
    assert_string_equal(now->task_recorded, "fixture"); /* kept from the first correction */
    assert_int_equal(now->n_notes, 2);
    assert_string_equal(now->notes[0].text, "改了");
    assert_string_equal(now->notes[1].text, "new note");
    /* Undo: s1 back, exactly (the deleted note returns under its id). */
    assert_int_equal(tp_review_write(path, s1, "bo", err, sizeof err), 0);
    assert_int_equal(tp_review_read(path, now, err, sizeof err), 0);
    assert_memory_equal(now, s1, sizeof *now);
    /* Undo again: nothing reviewed, the recorded task, no task_recorded. */
    assert_int_equal(tp_review_write(path, s0, "bo", err, sizeof err), 0);
    assert_int_equal(tp_review_read(path, now, err, sizeof err), 0);
    assert_memory_equal(now, s0, sizeof *now);
    assert_valid_rollback(path);
    free(s0);
    free(s1);
    free(s2);
    free(now);
}

static int64_t file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (int64_t)st.st_size : -1;
}

static void test_live_writer_refused(void **state)
{
    (void)state;
    char err[1024], p[600];
    snprintf(p, sizeof p, "%s/live.db", dir);
    tp_episode_writer *w = tp_episode_writer_create(p, err, sizeof err);
    assert_non_null(w);
    tp_stream_desc d = {.name = "state", .kind = TP_STREAM_STATE, .dims = 2, .rate_hz = 100};
    int id = tp_episode_writer_add_stream(w, &d);
    assert_true(id > 0);
    assert_int_equal(tp_episode_writer_set_meta(w, "start_t_ns", "1000"), 0);
    assert_int_equal(tp_episode_writer_begin(w), 0);
    float v[2] = {1, 2};
    for (int i = 0; i < 10; i++)
        assert_int_equal(tp_episode_writer_sample(w, id, i, 1000 + i * 10000000LL, v, 2), 0);
    assert_int_equal(tp_episode_writer_commit(w), 0);
    tp_review *r = new_review();
    r->rating = 3;
    char want[700];
    snprintf(want, sizeof want, "%s: being recorded, not changed", p);
    assert_int_equal(tp_review_write(p, r, NULL, err, sizeof err), -1);
    assert_string_equal(err, want);
    tp_qa_report qr = {0};
    assert_int_equal(tp_qa_store(p, &qr, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: being recorded, QA not stored", p);
    assert_string_equal(err, want);
    char moved[600];
    assert_int_equal(tp_review_trash(p, NULL, moved, sizeof moved, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: being recorded, not moved", p);
    assert_string_equal(err, want);
    /* The writer goes on and finishes as if nothing happened. */
    assert_int_equal(tp_episode_writer_begin(w), 0);
    assert_int_equal(tp_episode_writer_sample(w, id, 10, 1000 + 10 * 10000000LL, v, 2), 0);
    assert_int_equal(tp_episode_writer_commit(w), 0);
    assert_int_equal(tp_episode_writer_set_meta(w, "end_t_ns", "200000000"), 0);
    assert_int_equal(tp_episode_writer_finish(w, "completed"), 0);
    tp_episode_writer_close(w);
    assert_int_equal(tp_review_write(p, r, NULL, err, sizeof err), 0);
    assert_valid_rollback(p);
    free(r);
}

static void test_unfinished_refused(void **state)
{
    (void)state;
    char err[1024], p[600];
    snprintf(p, sizeof p, "%s/cut.db", dir);
    tp_episode_writer *w = tp_episode_writer_create(p, err, sizeof err);
    assert_non_null(w);
    tp_stream_desc d = {.name = "state", .kind = TP_STREAM_STATE, .dims = 1, .rate_hz = 100};
    int id = tp_episode_writer_add_stream(w, &d);
    assert_int_equal(tp_episode_writer_begin(w), 0);
    float v = 1;
    assert_int_equal(tp_episode_writer_sample(w, id, 0, 5, &v, 1), 0);
    assert_int_equal(tp_episode_writer_commit(w), 0);
    tp_episode_writer_close(w); /* cut off: no outcome, still in WAL mode */
    tp_review *r = new_review();
    assert_int_equal(tp_review_write(p, r, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "not finished (still in WAL mode"));
    assert_non_null(strstr(err, ", not changed"));
    assert_int_equal(strncmp(err, p, strlen(p)), 0);
    /* Finished in the journal sense but without an outcome (no sync report
     * either): refused as well. */
    char msg[1024];
    assert_int_equal(tp_episode_recover(p, msg, sizeof msg), TP_RECOVER_DONE);
    assert_int_equal(tp_review_write(p, r, NULL, err, sizeof err), 0); /* recovered: outcome interrupted */
    free(r);
}

static void test_no_outcome_refused(void **state)
{
    (void)state;
    char err[1024], p[600];
    copy_fixture(p, sizeof p);
    char cmd[800];
    snprintf(cmd, sizeof cmd, "sqlite3 %s \"DELETE FROM meta WHERE key = 'outcome'\"", p);
    assert_int_equal(system(cmd), 0);
    tp_review *r = new_review();
    assert_int_equal(tp_review_write(p, r, NULL, err, sizeof err), -1);
    char want[700];
    snprintf(want, sizeof want, "%s: not finished (no outcome), not changed", p);
    assert_string_equal(err, want);
    free(r);
}

typedef struct bad_case {
    void (*make)(tp_review *r);
    const char *message; /* after "FILE: " */
} bad_case;

static void bad_rating(tp_review *r) { r->rating = 6; }
static void bad_rating_neg(tp_review *r) { r->rating = -1; }
static void bad_trim_before(tp_review *r) { r->trim_in_ns = r->start_t_ns - 1; }
static void bad_trim_after(tp_review *r) { r->trim_out_ns = r->end_t_ns + 1; }
static void bad_trim_order(tp_review *r)
{
    r->trim_in_ns = r->start_t_ns + 100;
    r->trim_out_ns = r->start_t_ns + 100;
}
static void bad_tag_empty(tp_review *r)
{
    r->n_tags = 1;
    r->tags[0][0] = '\0';
}
static void bad_tag_comma(tp_review *r)
{
    r->n_tags = 1;
    snprintf(r->tags[0], TP_REVIEW_TAG_LEN, "a,b");
}
static void bad_tag_utf8(tp_review *r)
{
    r->n_tags = 2;
    snprintf(r->tags[0], TP_REVIEW_TAG_LEN, "ok");
    snprintf(r->tags[1], TP_REVIEW_TAG_LEN, "x\xff");
}
static void bad_tag_unterminated(tp_review *r)
{
    r->n_tags = 1;
    memset(r->tags[0], 'a', TP_REVIEW_TAG_LEN);
}
static void bad_task_utf8(tp_review *r) { snprintf(r->task, sizeof r->task, "\xe4\xb8"); }
static void bad_note_utf8(tp_review *r)
{
    r->n_notes = 1;
    snprintf(r->notes[0].text, TP_REVIEW_NOTE_LEN, "\xc0\xaf");
}

static void test_validation(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {bad_rating, "rating 6 is outside 1..5 (0: none), not changed"},
        {bad_rating_neg, "rating -1 is outside 1..5 (0: none), not changed"},
        {bad_trim_before, "trim_in_ns 1001307567167 is outside the episode [1001307567168, 1001508249275], not changed"},
        {bad_trim_after, "trim_out_ns 1001508249276 is outside the episode [1001307567168, 1001508249275], not changed"},
        {bad_trim_order, "trim_out_ns 1001307567268 is not after trim_in_ns 1001307567268, not changed"},
        {bad_tag_empty, "tag 1 is empty, not changed"},
        {bad_tag_comma, "tag 'a,b' contains a comma, not changed"},
        {bad_tag_utf8, "tag 2 is not valid UTF-8 (byte 2), not changed"},
        {bad_tag_unterminated, "tag 1 has no terminating NUL, not changed"},
        {bad_task_utf8, "task is not valid UTF-8 (byte 1), not changed"},
        {bad_note_utf8, "note 1 is not valid UTF-8, not changed"},
    };
    char err[1024], want[1200];
    copy_fixture(path, sizeof path);
    tp_review *base = new_review(), *r = new_review(), *after = new_review();
    assert_int_equal(tp_review_read(path, base, err, sizeof err), 0);
    fill(base);
    assert_int_equal(tp_review_write(path, base, "ana", err, sizeof err), 0);
    assert_int_equal(tp_review_read(path, base, err, sizeof err), 0);
    char before_cmd[1200];
    snprintf(before_cmd, sizeof before_cmd, "sha256sum < %s > %s.sum", path, path);
    assert_int_equal(system(before_cmd), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(r, base, sizeof *r);
        cases[i].make(r);
        if (tp_review_write(path, r, "ana", err, sizeof err) != -1)
            fail_msg("case %zu (%s) was written", i, cases[i].message);
        snprintf(want, sizeof want, "%s: %s", path, cases[i].message);
        assert_string_equal(err, want);
        assert_null(strchr(err, '\n'));
        assert_int_equal(tp_review_read(path, after, err, sizeof err), 0);
        assert_memory_equal(after, base, sizeof *after);
    }
    char cmp[1500];
    snprintf(cmp, sizeof cmp, "sha256sum < %s | cmp -s - %s.sum", path, path);
    assert_int_equal(system(cmp), 0); /* not one byte changed */
    assert_true(file_size(path) > 0);
    free(base);
    free(r);
    free(after);
}

static void test_trash(void **state)
{
    (void)state;
    char err[1024], a[600], b[600], moved[1200], want[1200];
    copy_fixture(a, sizeof a);
    tp_review *r = new_review();
    assert_int_equal(tp_review_read(a, r, err, sizeof err), 0);
    assert_int_equal(tp_review_trash(a, NULL, moved, sizeof moved, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: not marked for deletion, not moved", a);
    assert_string_equal(err, want);
    r->delete_marked = true;
    assert_int_equal(tp_review_write(a, r, NULL, err, sizeof err), 0);
    const char *name = strrchr(a, '/') + 1;
    assert_int_equal(tp_review_trash(a, NULL, moved, sizeof moved, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/.trash/%s", dir, name);
    assert_string_equal(moved, want);
    assert_int_equal(file_size(a), -1);
    assert_valid_rollback(moved);
    /* The same name again: a number is appended. */
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "cp %s %s", moved, a);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(tp_review_trash(a, NULL, moved, sizeof moved, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/.trash/%.*s-1.db", dir, (int)strlen(name) - 3, name);
    assert_string_equal(moved, want);
    /* A given trash folder, created when missing. */
    copy_fixture(b, sizeof b);
    assert_int_equal(tp_review_write(b, r, NULL, err, sizeof err), 0);
    char trash[700];
    snprintf(trash, sizeof trash, "%s/elsewhere/bin", dir);
    snprintf(cmd, sizeof cmd, "mkdir -p %s/elsewhere", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(tp_review_trash(b, trash, moved, sizeof moved, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/%s", trash, strrchr(b, '/') + 1);
    assert_string_equal(moved, want);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),         cmocka_unit_test(test_undo),
        cmocka_unit_test(test_live_writer_refused), cmocka_unit_test(test_unfinished_refused),
        cmocka_unit_test(test_no_outcome_refused), cmocka_unit_test(test_validation),
        cmocka_unit_test(test_trash),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
