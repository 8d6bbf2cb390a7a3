/* Catalog: the index over a temp folder of small real episodes (written
 * with the episode writer; review data put in with SQL as review would):
 * listing, every sort, every filter, search (Chinese included), the tag
 * list; changed, deleted and new files; non-episodes skipped; a live
 * recording listed and growing; a damaged index rebuilt; a read-only folder
 * indexed in the cache folder; the index is never taken for an episode. */
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "export/export_select.h"
#include "teleop/catalog.h"
#include "teleop/episode.h"

static char root[] = "/tmp/teleop-catalog-XXXXXX";
static char fixture[300]; /* the shared folder: four episodes, two non-episodes */
static const int64_t T0 = 5000000000LL;
static int old_time = 0; /* distinct past mtimes, so a change always changes mtime */

static void pathf(char *out, size_t len, const char *dir, const char *name) { snprintf(out, len, "%s/%s", dir, name); }

/* Puts the file's mtime well in the past (and distinct from any before):
 * rows of recently changed files are re-read once more (racy mtime), which
 * would blur the exact re-read counts asserted here. */
static void age(const char *path)
{
    struct timespec t[2];
    clock_gettime(CLOCK_REALTIME, &t[0]);
    t[0].tv_sec -= 1000 - old_time++;
    t[1] = t[0];
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

static void sql(const char *path, const char *text)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, text, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", path, msg);
    sqlite3_close(db);
}

static tp_episode_writer *start_episode(const char *path, const char *task, const char *op, int64_t start_unix_s,
                                        int *stream)
{
    char err[512], buf[32];
    tp_episode_writer *w = tp_episode_writer_create(path, err, sizeof err);
    if (!w)
        fail_msg("%s", err);
    tp_stream_desc st = {.name = "state", .kind = TP_STREAM_STATE, .dims = 4, .units = "rad", .rate_hz = 50};
    *stream = tp_episode_writer_add_stream(w, &st);
    assert_true(*stream > 0);
    assert_int_equal(tp_episode_writer_set_meta(w, "task", task), 0);
    assert_int_equal(tp_episode_writer_set_meta(w, "operator", op), 0);
    snprintf(buf, sizeof buf, "%lld", (long long)T0);
    assert_int_equal(tp_episode_writer_set_meta(w, "start_t_ns", buf), 0);
    snprintf(buf, sizeof buf, "%lld", (long long)(start_unix_s * 1000000000LL - T0));
    assert_int_equal(tp_episode_writer_set_meta(w, "wall_clock_offset_ns", buf), 0);
    return w;
}

/* One committed batch of 50 Hz samples [from, to) seconds after the start. */
static void batch(tp_episode_writer *w, int stream, double from, double to)
{
    assert_int_equal(tp_episode_writer_begin(w), 0);
    for (int64_t k = (int64_t)llround(from * 50); k < (int64_t)llround(to * 50); k++) {
        float v[4] = {(float)k, 0, 1, 2};
        assert_int_equal(tp_episode_writer_sample(w, stream, k, T0 + k * 20000000LL, v, 4), 0);
    }
    assert_int_equal(tp_episode_writer_commit(w), 0);
}

static void finish(tp_episode_writer *w, double duration_s, const char *outcome)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)(T0 + (int64_t)llround(duration_s * 1e9)));
    assert_int_equal(tp_episode_writer_set_meta(w, "end_t_ns", buf), 0);
    assert_int_equal(tp_episode_writer_finish(w, outcome), 0);
    tp_episode_writer_close(w);
}

static void make_episode(const char *dir, const char *name, const char *task, const char *op, const char *outcome,
                         int64_t start_unix_s, double duration_s)
{
    char path[400];
    pathf(path, sizeof path, dir, name);
    int stream;
    tp_episode_writer *w = start_episode(path, task, op, start_unix_s, &stream);
    batch(w, stream, 0, duration_s);
    finish(w, duration_s, outcome);
}

static void make_fixture(void)
{
    snprintf(fixture, sizeof fixture, "%s/fixture", root);
    assert_int_equal(mkdir(fixture, 0755), 0);
    char p[400];
    /* Names in another order than dates: sorts are told apart. */
    make_episode(fixture, "ep-c.db", "pick the red cube", "alice", "completed", 1000, 2.0);
    make_episode(fixture, "ep-a.db", "把杯子放到托盘上", "李雷", "stopped", 2000, 1.0);
    make_episode(fixture, "ep-d.db", "Pick THE blue cube", "bob", "error", 3000, 3.0);
    make_episode(fixture, "ep-b.db", "stack blocks", "alice", "interrupted", 1500, 0.5);
    pathf(p, sizeof p, fixture, "ep-c.db");
    sql(p, "INSERT INTO meta VALUES('review_verdict','success'),('rating','5'),('qa_flags','');"
           "INSERT INTO tags VALUES('good'),('demo'); INSERT INTO notes(t_unix_ns, author, text) VALUES(1,'lead','clean grasp')");
    pathf(p, sizeof p, fixture, "ep-a.db");
    sql(p, "INSERT INTO meta VALUES('review_verdict','failure'),('rating','2'),('qa_flags','low_movement,jerky');"
           "INSERT INTO tags VALUES('good'); INSERT INTO notes(t_unix_ns, author, text) VALUES(1,'lead','抓取失败'),"
           "(2,'lead','slipped twice')");
    pathf(p, sizeof p, fixture, "ep-b.db");
    sql(p, "INSERT INTO meta VALUES('review_verdict','success'),('rating','3'),('qa_flags','dropped_frames'),"
           "('delete_marked','1'),('trim_in_ns','100'),('trim_out_ns','400000000'); INSERT INTO tags VALUES('retry')");
    /* Not episodes: text, and another application's SQLite database. */
    pathf(p, sizeof p, fixture, "junk.db");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("not an episode\n", f);
    fclose(f);
    pathf(p, sizeof p, fixture, "other.db");
    sql(p, "CREATE TABLE t(x); INSERT INTO t VALUES(1)");
    pathf(p, sizeof p, fixture, "notes.txt");
    f = fopen(p, "w");
    assert_non_null(f);
    fclose(f);
    static const char *const names[] = {"ep-a.db", "ep-b.db", "ep-c.db", "ep-d.db", "junk.db", "other.db"};
    for (int i = 0; i < 6; i++) {
        pathf(p, sizeof p, fixture, names[i]);
        age(p);
    }
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(root) || chmod(root, 0755))
        return -1;
    make_fixture();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "chmod -R u+w %s; rm -rf %s", root, root);
    return system(cmd);
}

static tp_catalog *open_one(const char *dir, tp_catalog_stats *st)
{
    char err[1024];
    const char *paths[] = {dir};
    tp_catalog *c = tp_catalog_open(paths, 1, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    if (st)
        tp_catalog_last_refresh(c, st);
    return c;
}

/* The listing's names, comma-joined ("ep-" and ".db" dropped: "c,b,a"). */
static void names_of(tp_catalog *c, const tp_catalog_query *q, char *out, size_t len)
{
    tp_catalog_listing l;
    char err[1024];
    if (tp_catalog_list(c, q, &l, err, sizeof err))
        fail_msg("%s", err);
    out[0] = '\0';
    for (int i = 0; i < l.n; i++) {
        size_t n = strlen(out);
        const char *name = l.entries[i].name;
        snprintf(out + n, len - n, "%s%.*s", i ? "," : "", (int)strlen(name) - 6, name + 3);
    }
    tp_catalog_listing_free(&l);
}

static void expect_order(tp_catalog *c, const tp_catalog_query *q, const char *want)
{
    char got[256];
    names_of(c, q, got, sizeof got);
    if (strcmp(got, want))
        fail_msg("sort %d desc %d text '%s': got '%s', want '%s'", (int)q->sort, q->descending,
                 q->text ? q->text : "", got, want);
}

static const tp_catalog_entry *find(const tp_catalog_listing *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->entries[i].name, name))
            return &l->entries[i];
    fail_msg("%s not listed", name);
    return NULL;
}

static void test_listing(void **state)
{
    (void)state;
    tp_catalog_stats st;
    tp_catalog *c = open_one(fixture, &st);
    assert_int_equal(st.episodes, 4);
    assert_int_equal(st.skipped, 2);
    assert_int_equal(st.reindexed, 6);
    char err[1024];
    tp_catalog_listing l;
    assert_int_equal(tp_catalog_list(c, NULL, &l, err, sizeof err), 0); /* every entry by date */
    assert_int_equal(l.n, 4);
    assert_string_equal(l.entries[0].name, "ep-c.db");
    assert_string_equal(l.entries[3].name, "ep-d.db");
    const tp_catalog_entry *e = find(&l, "ep-c.db");
    char p[400];
    pathf(p, sizeof p, fixture, "ep-c.db");
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_string_equal(e->path, p);
    assert_int_equal(e->start_unix_ns, 1000000000000LL);
    assert_true(fabs(e->duration_s - 2.0) < 1e-9);
    assert_string_equal(e->task, "pick the red cube");
    assert_string_equal(e->operator_name, "alice");
    assert_string_equal(e->outcome, "completed");
    assert_string_equal(e->verdict, "success");
    assert_int_equal(e->rating, 5);
    assert_string_equal(e->tags, "demo,good");
    assert_non_null(e->qa_flags);
    assert_string_equal(e->qa_flags, "");
    assert_string_equal(e->notes, "clean grasp");
    assert_false(e->live);
    assert_false(e->delete_marked);
    assert_int_equal(e->size_bytes, sb.st_size);
    e = find(&l, "ep-a.db");
    assert_string_equal(e->notes, "抓取失败\nslipped twice");
    assert_string_equal(e->qa_flags, "low_movement,jerky");
    assert_string_equal(e->operator_name, "李雷");
    e = find(&l, "ep-d.db");
    assert_null(e->qa_flags); /* never computed */
    assert_string_equal(e->verdict, "");
    assert_int_equal(e->rating, 0);
    assert_string_equal(e->tags, "");
    e = find(&l, "ep-b.db");
    assert_true(e->delete_marked);
    assert_int_equal(e->trim_in_ns, 100);
    assert_int_equal(e->trim_out_ns, 400000000);
    tp_catalog_listing_free(&l);
    /* The default query hides episodes marked for deletion. */
    tp_catalog_query q = {0};
    expect_order(c, &q, "c,a,d");
    tp_catalog_close(c);
    /* Warm: nothing read again. */
    c = open_one(fixture, &st);
    assert_int_equal(st.reindexed, 0);
    assert_int_equal(st.episodes, 4);
    assert_int_equal(st.skipped, 2);
    tp_catalog_close(c);
}

static void test_sorts(void **state)
{
    (void)state;
    tp_catalog *c = open_one(fixture, NULL);
    static const struct {
        tp_catalog_sort sort;
        const char *asc, *desc; /* ties by name ascending either way */
    } cases[] = {
        {TP_SORT_DATE, "c,b,a,d", "d,a,b,c"},     {TP_SORT_TASK, "d,c,b,a", "a,b,c,d"},
        {TP_SORT_OPERATOR, "b,c,d,a", "a,d,b,c"}, {TP_SORT_DURATION, "b,a,c,d", "d,c,a,b"},
        {TP_SORT_OUTCOME, "c,d,b,a", "a,b,d,c"},  {TP_SORT_VERDICT, "d,a,b,c", "b,c,a,d"},
        {TP_SORT_RATING, "d,a,b,c", "c,b,a,d"},   {TP_SORT_TAGS, "d,c,a,b", "b,a,c,d"},
        {TP_SORT_QA, "d,c,b,a", "a,b,c,d"},       {TP_SORT_NAME, "a,b,c,d", "d,c,b,a"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tp_catalog_query q = {.sort = cases[i].sort, .include_deleted = true};
        expect_order(c, &q, cases[i].asc);
        q.descending = true;
        expect_order(c, &q, cases[i].desc);
    }
    tp_catalog_close(c);
}

static void test_filters(void **state)
{
    (void)state;
    tp_catalog *c = open_one(fixture, NULL);
    tp_catalog_query q = {.outcome = "completed"};
    expect_order(c, &q, "c");
    q = (tp_catalog_query){.verdict = "success"};
    expect_order(c, &q, "c");
    q.include_deleted = true;
    expect_order(c, &q, "c,b");
    q = (tp_catalog_query){.verdict = "none"};
    expect_order(c, &q, "d");
    q = (tp_catalog_query){.verdict = "failure"};
    expect_order(c, &q, "a");
    q = (tp_catalog_query){.operator_name = "alice", .include_deleted = true};
    expect_order(c, &q, "c,b");
    q = (tp_catalog_query){.operator_name = "李雷"};
    expect_order(c, &q, "a");
    q = (tp_catalog_query){.tag = "good"};
    expect_order(c, &q, "c,a");
    q = (tp_catalog_query){.tag = "retry"};
    expect_order(c, &q, "");
    q.include_deleted = true;
    expect_order(c, &q, "b");
    q = (tp_catalog_query){.tag = "goo"}; /* whole tags only */
    expect_order(c, &q, "");
    q = (tp_catalog_query){.qa_flag = "jerky"};
    expect_order(c, &q, "a");
    q = (tp_catalog_query){.qa_flag = "low_movement"};
    expect_order(c, &q, "a");
    q = (tp_catalog_query){.qa_flag = "movement"};
    expect_order(c, &q, "");
    q = (tp_catalog_query){.qa_flag = "none"};
    expect_order(c, &q, "c");
    q = (tp_catalog_query){.qa_flag = "unchecked"};
    expect_order(c, &q, "d");
    q = (tp_catalog_query){.qa_flag = "dropped_frames", .include_deleted = true};
    expect_order(c, &q, "b");
    q = (tp_catalog_query){.min_rating = 3, .include_deleted = true};
    expect_order(c, &q, "c,b");
    q = (tp_catalog_query){.min_rating = 2};
    expect_order(c, &q, "c,a");
    q = (tp_catalog_query){.min_duration_s = 1.5};
    expect_order(c, &q, "c,d");
    q = (tp_catalog_query){.max_duration_s = 1.5, .include_deleted = true};
    expect_order(c, &q, "b,a");
    q = (tp_catalog_query){.min_duration_s = 1.0, .max_duration_s = 2.5};
    expect_order(c, &q, "c,a");
    /* Several at once, and with a sort. */
    q = (tp_catalog_query){.tag = "good", .min_rating = 1, .text = "cube", .sort = TP_SORT_RATING};
    expect_order(c, &q, "c");
    tp_catalog_close(c);
}

static void test_search(void **state)
{
    (void)state;
    tp_catalog *c = open_one(fixture, NULL);
    tp_catalog_query q = {.text = "CUBE"}; /* ASCII case folded */
    expect_order(c, &q, "c,d");
    q.text = "the BLUE";
    expect_order(c, &q, "d");
    q.text = "杯子"; /* a substring of a Chinese task */
    expect_order(c, &q, "a");
    q.text = "失败"; /* of a note */
    expect_order(c, &q, "a");
    q.text = "SLIPPED";
    expect_order(c, &q, "a");
    q.text = "grasp";
    expect_order(c, &q, "c");
    q.text = "ep-d"; /* of the file name */
    expect_order(c, &q, "d");
    q.text = "cu_e"; /* literal: no wildcards */
    expect_order(c, &q, "");
    q.text = "%";
    expect_order(c, &q, "");
    q.text = "托盘x";
    expect_order(c, &q, "");
    tp_catalog_close(c);
}

static void test_tags(void **state)
{
    (void)state;
    tp_catalog *c = open_one(fixture, NULL);
    char **names, err[1024];
    int *counts, n;
    assert_int_equal(tp_catalog_tags(c, &names, &counts, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "demo");
    assert_int_equal(counts[0], 1);
    assert_string_equal(names[1], "good");
    assert_int_equal(counts[1], 2);
    assert_string_equal(names[2], "retry");
    assert_int_equal(counts[2], 1);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(counts);
    tp_catalog_close(c);
}

static void test_changes(void **state)
{
    (void)state;
    char dir[300], p[400], err[1024];
    snprintf(dir, sizeof dir, "%s/changes", root);
    assert_int_equal(mkdir(dir, 0755), 0);
    make_episode(dir, "ep-x.db", "first task", "alice", "completed", 100, 1.0);
    make_episode(dir, "ep-y.db", "second task", "bob", "completed", 200, 1.0);
    pathf(p, sizeof p, dir, "ep-x.db");
    age(p);
    pathf(p, sizeof p, dir, "ep-y.db");
    age(p);
    tp_catalog_stats st;
    tp_catalog *c = open_one(dir, &st);
    assert_int_equal(st.reindexed, 2);
    assert_int_equal(tp_catalog_refresh(c, &st, err, sizeof err), 0);
    assert_int_equal(st.reindexed, 0);
    assert_int_equal(st.episodes, 2);

    /* Changed (as review writes it): re-read, and only it. */
    pathf(p, sizeof p, dir, "ep-x.db");
    sql(p, "UPDATE meta SET value = 'corrected task' WHERE key = 'task'; INSERT INTO tags VALUES('fixed')");
    age(p);
    assert_int_equal(tp_catalog_refresh(c, &st, err, sizeof err), 0);
    assert_int_equal(st.reindexed, 1);
    tp_catalog_query q = {.text = "corrected"};
    expect_order(c, &q, "x");
    q = (tp_catalog_query){.tag = "fixed"};
    expect_order(c, &q, "x");

    /* tp_catalog_update: now, whatever stat says. */
    sql(p, "INSERT INTO meta VALUES('rating', '4')");
    assert_int_equal(tp_catalog_update(c, p, err, sizeof err), 0);
    q = (tp_catalog_query){.min_rating = 4};
    expect_order(c, &q, "x");
    age(p);

    /* Gone: dropped. */
    pathf(p, sizeof p, dir, "ep-y.db");
    assert_int_equal(unlink(p), 0);
    assert_int_equal(tp_catalog_refresh(c, &st, err, sizeof err), 0);
    assert_int_equal(st.removed, 1);
    assert_int_equal(st.episodes, 1);
    q = (tp_catalog_query){0};
    expect_order(c, &q, "x");

    /* New: appears; a new non-episode is skipped, counted, and not read again. */
    make_episode(dir, "ep-z.db", "third task", "carol", "stopped", 300, 2.0);
    pathf(p, sizeof p, dir, "ep-z.db");
    age(p);
    pathf(p, sizeof p, dir, "broken.db");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("SQLite format 3", f); /* a magic and nothing else */
    fclose(f);
    age(p);
    assert_int_equal(tp_catalog_refresh(c, &st, err, sizeof err), 0);
    assert_int_equal(st.reindexed, 2);
    assert_int_equal(st.skipped, 1);
    assert_int_equal(st.episodes, 2);
    expect_order(c, &q, "x,z");
    assert_int_equal(tp_catalog_refresh(c, &st, err, sizeof err), 0);
    assert_int_equal(st.reindexed, 0);
    assert_int_equal(st.skipped, 1);

    /* The index is not an episode to recovery or export, even while open
     * (with its -wal and -shm beside it). */
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    int recovered = -1;
    tp_episode_recover_dir(dir, out, &recovered);
    fclose(out);
    assert_int_equal(recovered, 0);
    assert_null(strstr(buf, ".teleop-catalog"));
    free(buf);
    char *args[] = {dir}, **paths;
    int n;
    assert_int_equal(tp_export_collect(args, 1, &paths, &n, err, sizeof err), 0);
    assert_int_equal(n, 3); /* broken.db, ep-x.db, ep-z.db */
    for (int i = 0; i < n; i++) {
        assert_null(strstr(paths[i], ".teleop-catalog"));
        free(paths[i]);
    }
    free(paths);
    tp_catalog_close(c);
}

static void test_live(void **state)
{
    (void)state;
    char dir[300], p[400], err[1024];
    snprintf(dir, sizeof dir, "%s/live", root);
    assert_int_equal(mkdir(dir, 0755), 0);
    pathf(p, sizeof p, dir, "ep-l.db");
    int stream;
    tp_episode_writer *w = start_episode(p, "live task", "alice", 500, &stream);
    batch(w, stream, 0, 0.5); /* published at the first batch */
    tp_catalog_stats st;
    tp_catalog *c = open_one(dir, &st);
    tp_catalog_listing l;
    assert_int_equal(tp_catalog_list(c, NULL, &l, err, sizeof err), 0);
    assert_int_equal(l.n, 1);
    assert_true(l.entries[0].live);
    assert_string_equal(l.entries[0].outcome, "");
    assert_true(fabs(l.entries[0].duration_s - 0.48) < 1e-9); /* the last stamp seen */
    assert_int_equal(l.entries[0].start_unix_ns, 500000000000LL);
    tp_catalog_listing_free(&l);

    batch(w, stream, 0.5, 1.5);
    assert_int_equal(tp_catalog_refresh(c, &st, err, sizeof err), 0);
    assert_int_equal(st.reindexed, 1); /* live: read again although the main file may not have changed */
    assert_int_equal(tp_catalog_list(c, NULL, &l, err, sizeof err), 0);
    assert_true(l.entries[0].live);
    assert_true(fabs(l.entries[0].duration_s - 1.48) < 1e-9);
    tp_catalog_listing_free(&l);

    finish(w, 1.5, "completed");
    assert_int_equal(tp_catalog_refresh(c, &st, err, sizeof err), 0);
    assert_int_equal(tp_catalog_list(c, NULL, &l, err, sizeof err), 0);
    assert_false(l.entries[0].live);
    assert_string_equal(l.entries[0].outcome, "completed");
    assert_true(fabs(l.entries[0].duration_s - 1.5) < 1e-9);
    tp_catalog_listing_free(&l);
    tp_catalog_close(c);
}

static void corrupt(const char *index, long from, const char *with)
{
    FILE *f = fopen(index, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    assert_true(size > from);
    fseek(f, from, SEEK_SET);
    for (long i = from; i < size; i++)
        fputc(with[(i - from) % (long)strlen(with)], f);
    fclose(f);
}

static void expect_rebuilt(const char *dir)
{
    tp_catalog_stats st;
    tp_catalog *c = open_one(dir, &st);
    assert_int_equal(st.reindexed, 3); /* ep-x.db, ep-z.db, broken.db */
    assert_int_equal(st.skipped, 1);
    tp_catalog_query q = {0};
    expect_order(c, &q, "x,z");
    tp_catalog_close(c);
}

static void test_damaged_index(void **state)
{
    (void)state;
    char dir[300], index[400];
    snprintf(dir, sizeof dir, "%s/changes", root); /* two episodes and broken.db after test_changes */
    pathf(index, sizeof index, dir, ".teleop-catalog.sqlite");
    corrupt(index, 0, "garbage ");
    expect_rebuilt(dir);
    corrupt(index, 4096, "\xff\x13"); /* header intact, every table page broken */
    expect_rebuilt(dir);
    sql(index, "PRAGMA user_version = 99"); /* another layout */
    expect_rebuilt(dir);
    unlink(index); /* missing */
    expect_rebuilt(dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(index, &db), SQLITE_OK);
    int version = 0;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(version, 1);
}

/* In a child that cannot write the folder (another user when run as root):
 * the index goes to $XDG_CACHE_HOME/teleop, and is warm the second time. */
static int readonly_child(const char *dir, const char *cache)
{
    if (getuid() == 0 && (setgid(65534) || setuid(65534)))
        return 10;
    setenv("XDG_CACHE_HOME", cache, 1);
    char err[1024];
    const char *paths[] = {dir};
    tp_catalog_stats st;
    for (int round = 0; round < 2; round++) {
        tp_catalog *c = tp_catalog_open(paths, 1, err, sizeof err);
        if (!c) {
            fprintf(stderr, "%s\n", err);
            return 11;
        }
        tp_catalog_last_refresh(c, &st);
        tp_catalog_listing l;
        if (tp_catalog_list(c, NULL, &l, err, sizeof err) || l.n != 2)
            return 12;
        tp_catalog_listing_free(&l);
        tp_catalog_close(c);
        if (st.reindexed != (round == 0 ? 2 : 0))
            return 13;
    }
    return 0;
}

static void test_readonly_folder(void **state)
{
    (void)state;
    char dir[300], cache[300], p[400];
    snprintf(dir, sizeof dir, "%s/readonly", root);
    snprintf(cache, sizeof cache, "%s/cache", root);
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(mkdir(cache, 0755), 0);
    make_episode(dir, "ep-r.db", "read only", "alice", "completed", 100, 1.0);
    make_episode(dir, "ep-s.db", "read only", "alice", "completed", 200, 1.0);
    pathf(p, sizeof p, dir, "ep-r.db");
    age(p);
    pathf(p, sizeof p, dir, "ep-s.db");
    age(p);
    if (getuid() == 0)
        assert_int_equal(chown(cache, 65534, 65534), 0);
    else
        assert_int_equal(chmod(dir, 0555), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(readonly_child(dir, cache));
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    pathf(p, sizeof p, dir, ".teleop-catalog.sqlite");
    assert_int_not_equal(access(p, F_OK), 0);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "test $(ls %s/teleop/catalog-*.sqlite | wc -l) -eq 1", cache);
    assert_int_equal(system(cmd), 0);
}

/* Processes sharing one index (review windows, a CLI listing): each opens
 * it, lists, writes a row and closes, all at once, from a cold start. */
static int sharing_child(int k)
{
    char err[1024], p[400];
    const char *paths[] = {fixture};
    for (int round = 0; round < 5; round++) {
        tp_catalog *c = tp_catalog_open(paths, 1, err, sizeof err);
        if (!c) {
            fprintf(stderr, "child %d: %s\n", k, err);
            return 1;
        }
        tp_catalog_listing l;
        if (tp_catalog_list(c, NULL, &l, err, sizeof err) || l.n != 4) {
            fprintf(stderr, "child %d: %s (%d listed)\n", k, err, l.n);
            return 2;
        }
        tp_catalog_listing_free(&l);
        pathf(p, sizeof p, fixture, (k + round) % 2 ? "ep-a.db" : "ep-c.db");
        if (tp_catalog_update(c, p, err, sizeof err)) {
            fprintf(stderr, "child %d: %s\n", k, err);
            return 3;
        }
        tp_catalog_close(c);
    }
    return 0;
}

static void test_shared_index(void **state)
{
    (void)state;
    char index[400];
    pathf(index, sizeof index, fixture, ".teleop-catalog.sqlite");
    assert_int_equal(unlink(index), 0);
    pid_t pids[3];
    for (int k = 0; k < 3; k++) {
        pids[k] = fork();
        assert_true(pids[k] >= 0);
        if (pids[k] == 0)
            _exit(sharing_child(k));
    }
    for (int k = 0; k < 3; k++) {
        int status;
        assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(index, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*), sum(episode) FROM entries", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 6);
    assert_int_equal(sqlite3_column_int(st, 1), 4);
    sqlite3_finalize(st);
    sqlite3_close(db);
    tp_catalog_query q = {.include_deleted = true};
    tp_catalog *c = open_one(fixture, NULL);
    expect_order(c, &q, "c,b,a,d");
    tp_catalog_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listing), cmocka_unit_test(test_sorts),   cmocka_unit_test(test_filters),
        cmocka_unit_test(test_search),  cmocka_unit_test(test_tags),    cmocka_unit_test(test_shared_index),
        cmocka_unit_test(test_changes),
        cmocka_unit_test(test_live),    cmocka_unit_test(test_damaged_index), cmocka_unit_test(test_readonly_folder),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
