/* Episode format v2 (and each released layout of v1) is frozen and self-identifying: application_id and
 * user_version set, every table STRICT, every stream self-described; files of
 * another version, foreign SQLite files and non-SQLite files are refused by
 * the reader, `check` and `info` alike with one clear line, never misread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <unistd.h>
#include <cmocka.h>

#include "teleop/episode.h"

static char dir[] = "/tmp/teleop-format-XXXXXX";
static char good[256];

static void path_in(char *out, size_t len, const char *file) { snprintf(out, len, "%s/%s", dir, file); }

static void sql(const char *path, const char *stmt)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, stmt, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", stmt, msg);
    sqlite3_close(db);
}

static void copy_file(const char *from, const char *to)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

static int lines_in(const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

/* The same file through all three doors: the reader, check and info (human
 * and JSON) each refuse it with exactly the one line `want`, naming the file,
 * and print nothing on the output stream. */
static void expect_refused(const char *path, const char *want)
{
    char err[512];
    tp_episode *ep = tp_episode_open(path, err, sizeof err);
    if (ep)
        fail_msg("%s was opened as an episode", path);
    char line[1024];
    snprintf(line, sizeof line, "%s: %s", path, want);
    if (strncmp(err, line, strlen(line)) != 0)
        fail_msg("reader said '%s', want '%s'", err, line);

    char report[2048] = "";
    FILE *f = fmemopen(report, sizeof report - 1, "w");
    assert_int_equal(tp_episode_check(path, f), 1);
    fclose(f);
    if (strncmp(report, line, strlen(line)) != 0 || lines_in(report) != 1)
        fail_msg("check said '%s', want one line '%s'", report, line);

    for (int json = 0; json < 2; json++) {
        char out[2048] = "", msg[2048] = "";
        FILE *o = fmemopen(out, sizeof out - 1, "w"), *e = fmemopen(msg, sizeof msg - 1, "w");
        assert_int_equal(tp_episode_info(path, json, o, e), 1);
        fclose(o);
        fclose(e);
        if (out[0])
            fail_msg("info printed '%s' for a refused file", out);
        if (strncmp(msg, line, strlen(line)) != 0 || lines_in(msg) != 1)
            fail_msg("info said '%s', want one line '%s'", msg, line);
    }
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    path_in(good, sizeof good, "good.db");
    char err[512];
    tp_episode_writer *w = tp_episode_writer_create(good, err, sizeof err);
    if (!w)
        return -1;
    static const char *const names[3] = {"a", "b", "c"};
    tp_stream_desc st = {.name = "state", .kind = TP_STREAM_STATE, .dims = 3, .dim_names = names, .units = "rad",
                         .rate_hz = 100};
    tp_stream_desc cam = {.name = "cam", .kind = TP_STREAM_CAMERA, .dims = 3, .rate_hz = 30, .codec = "ffv1",
                          .width = 64, .height = 48};
    int id = tp_episode_writer_add_stream(w, &st);
    if (id < 0 || tp_episode_writer_add_stream(w, &cam) < 0 || tp_episode_writer_begin(w))
        return -1;
    for (int i = 0; i < 50; i++) {
        float v[3] = {(float)i, 1, 2};
        if (tp_episode_writer_sample(w, id, i, 1000000000LL + i * 10000000LL, v, 3))
            return -1;
    }
    if (tp_episode_writer_commit(w) || tp_episode_writer_finish(w, "completed"))
        return -1;
    tp_episode_writer_close(w);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static int64_t query_int(const char *path, const char *q)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void test_identified_strict_self_described(void **state)
{
    (void)state;
    assert_int_equal(query_int(good, "PRAGMA application_id"), TP_EPISODE_APPLICATION_ID);
    assert_int_equal(query_int(good, "PRAGMA user_version"), 2);
    assert_int_equal(TP_EPISODE_FORMAT_VERSION, 2);
    /* Every table is STRICT: a value of the wrong type is refused on write,
     * so a reader never meets text where the format says integer. */
    assert_true(query_int(good, "SELECT count(*) FROM pragma_table_list WHERE schema='main' AND type='table'"
                                " AND name NOT LIKE 'sqlite_%'") >= 7);
    assert_int_equal(query_int(good, "SELECT count(*) FROM pragma_table_list WHERE schema='main' AND type='table'"
                                     " AND name NOT LIKE 'sqlite_%' AND strict = 0"),
                     0);
    char err[512];
    tp_episode *ep = tp_episode_open(good, err, sizeof err);
    assert_non_null(ep);
    const tp_stream_info *s = tp_episode_find_stream(ep, "state");
    assert_int_equal(s->dims, 3);
    assert_string_equal(s->dim_names[2], "c");
    assert_string_equal(s->units, "[\"rad\",\"rad\",\"rad\"]");
    assert_string_equal(s->dim_units[2], "rad");
    assert_int_equal(s->t_meaning, TP_TIME_CAPTURE);
    assert_string_equal(s->t_meaning_name, "capture");
    assert_int_equal(tp_episode_version(ep), 2);
    assert_true(s->rate_hz == 100);
    const tp_stream_info *c = tp_episode_find_stream(ep, "cam");
    assert_string_equal(c->codec, "ffv1");
    assert_int_equal(c->width, 64);
    assert_int_equal(c->height, 48);
    assert_true(c->rate_hz == 30);
    tp_episode_close(ep);
    /* The type check is SQLite's own, in the file, for any writer. */
    char bad[256];
    path_in(bad, sizeof bad, "strict.db");
    copy_file(good, bad);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(bad, &db), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE samples SET t_ns = 'soon' WHERE seq = 1", NULL, NULL, NULL),
                         SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(tp_episode_check(good, stderr), 0);
}

static void test_other_versions_refused(void **state)
{
    (void)state;
    static const int versions[] = {0, 3, -1, 1000};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        char path[256], stmt[64], want[160];
        snprintf(stmt, sizeof stmt, "v%d.db", versions[i]);
        path_in(path, sizeof path, stmt);
        copy_file(good, path);
        snprintf(stmt, sizeof stmt, "PRAGMA user_version = %d", versions[i]);
        sql(path, stmt);
        snprintf(want, sizeof want, "episode format version %d is not supported (this teleop reads versions 1 and 2)",
                 versions[i]);
        expect_refused(path, want);
    }
    /* A version-2 file relabelled 1 has neither released layout of 1. */
    char path[256];
    path_in(path, sizeof path, "relabelled_v1.db");
    copy_file(good, path);
    sql(path, "PRAGMA user_version = 1");
    expect_refused(path, "episode format version 1 with an unknown layout (table streams: column 8 is 't_meaning");
}

static void test_foreign_sqlite_refused(void **state)
{
    (void)state;
    char path[256];
    /* A plain SQLite database, even one with tables of the same names. */
    path_in(path, sizeof path, "plain.db");
    sql(path, "CREATE TABLE meta(key TEXT, value TEXT); CREATE TABLE streams(id INTEGER)");
    expect_refused(path, "not a teleop episode (application_id 0x00000000)");
    /* Another application's file, and our schema under another id. */
    path_in(path, sizeof path, "other_app.db");
    sql(path, "PRAGMA application_id = 1196444487; CREATE TABLE t(x)"); /* "GPKG" */
    expect_refused(path, "not a teleop episode (application_id 0x47504b47)");
    path_in(path, sizeof path, "relabelled.db");
    copy_file(good, path);
    sql(path, "PRAGMA application_id = 305419896");
    expect_refused(path, "not a teleop episode (application_id 0x12345678)");
    /* An empty SQLite database (header only). */
    path_in(path, sizeof path, "empty_sqlite.db");
    sql(path, "PRAGMA user_version = 1; VACUUM");
    expect_refused(path, "not a teleop episode (application_id 0x00000000)");
}

static void test_non_sqlite_refused(void **state)
{
    (void)state;
    char path[256];
    static const struct {
        const char *name;
        const char *content;
        size_t size;
    } files[] = {
#define BYTES(s) s, sizeof(s) - 1
        {"text.db", BYTES("this is a text file, not a database, but long enough to be read\n")},
        {"empty.db", BYTES("")},
        {"short.db", BYTES("SQLite format")},
        {"mp4.db", BYTES("\x00\x00\x00\x18" "ftypmp42\x00\x00\x00\x00mp42isom")},
        {"almost.db", BYTES("SQLite format 2\0 and more bytes after it to fill a header")},
#undef BYTES
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        path_in(path, sizeof path, files[i].name);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(files[i].content, 1, files[i].size, f), files[i].size);
        fclose(f);
        expect_refused(path, "not an SQLite database");
    }
    /* A directory and a missing file name the path too. */
    expect_refused(dir, "is a directory, not an episode file");
    path_in(path, sizeof path, "missing.db");
    expect_refused(path, "cannot open: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identified_strict_self_described),
        cmocka_unit_test(test_other_versions_refused),
        cmocka_unit_test(test_foreign_sqlite_refused),
        cmocka_unit_test(test_non_sqlite_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
