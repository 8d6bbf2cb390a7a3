/* Versioning with teeth (issue 9, item 6) and `check` that never says ok
 * wrongly (issue 10): every build's reader, check and info against the frozen
 * episode of each released layout in tests/data/; copies of them with an
 * unknown layout under a known version number, or another version number,
 * refused in one line; each tampered case of issue 10 item 10 rejected by
 * check; FIFOs and devices refused without blocking (item 6); extreme
 * timestamps without overflow and valid JSON from info (item 16); a
 * truncated file named as no database (item 17); and an episode recorded by
 * `teleop run` read back whole after its model files are gone (issue 9).
 *
 * argv[1]: the teleop executable. */
#include <errno.h>
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
#include <unistd.h>
#include <cmocka.h>

#include "teleop/episode.h"

static char dir[] = "/tmp/teleop-fixtures-XXXXXX";
static const char *teleop_exe;

typedef struct fixture {
    const char *file;
    int version;
    const char *layout;
    int operator_dims;
    bool sync;
} fixture;

static const fixture fixtures[] = {
    {"episode-v1-plain.db", 1, "1 (no crc32)", 491, false},
    {"episode-v1-crc32.db", 1, "1 (crc32 of data)", 523, true},
    {"episode-v2.db", 2, "2", 523, true},
};

static void fixture_path(char *out, size_t len, const char *file)
{
    snprintf(out, len, "%s/%s", FIXTURE_DIR, file);
}

static void path_in(char *out, size_t len, const char *file) { snprintf(out, len, "%s/%s", dir, file); }

static void copy_file(const char *from, const char *to)
{
    char cmd[2100];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && chmod u+w '%s'", from, to, to);
    assert_int_equal(system(cmd), 0);
}

static void sql(const char *path, const char *stmt)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, stmt, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", stmt, msg);
    sqlite3_close(db);
}

static int run_check(const char *path, char *report, size_t len)
{
    memset(report, 0, len);
    FILE *f = fmemopen(report, len - 1, "w");
    assert_non_null(f);
    int rc = tp_episode_check(path, f);
    fclose(f);
    return rc;
}

static void expect_in(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("'%s' does not contain '%s'", text, want);
}

static int lines_in(const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

/* info --json through the teleop executable, parsed by Python's json
 * module; `assertion` is Python over the parsed object d. */
static void info_json_holds(const char *path, const char *assertion)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "'%s' info --json '%s' | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert %s, d'",
             teleop_exe, path, assertion);
    if (system(cmd) != 0)
        fail_msg("info --json of %s: %s does not hold", path, assertion);
}

static void test_fixtures_read(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        const fixture *fx = &fixtures[i];
        char path[512], err[512], report[4096];
        fixture_path(path, sizeof path, fx->file);
        tp_episode *ep = tp_episode_open(path, err, sizeof err);
        if (!ep)
            fail_msg("%s", err);
        assert_int_equal(tp_episode_version(ep), fx->version);
        assert_string_equal(tp_episode_layout_name(ep), fx->layout);
        char want[8];
        snprintf(want, sizeof want, "%d", fx->version);
        assert_string_equal(tp_episode_meta(ep, "format_version"), want);
        assert_string_equal(tp_episode_meta(ep, "task"), "fixture");
        assert_string_equal(tp_episode_meta(ep, "outcome"), "completed");
        assert_int_equal(tp_episode_stream_count(ep), 5);
        static const char *const names[] = {"state", "state_velocity", "action", "operator", "head_camera"};
        for (int k = 0; k < 5; k++)
            assert_string_equal(tp_episode_stream(ep, k)->name, names[k]);
        const tp_stream_info *st = tp_episode_find_stream(ep, "state");
        const tp_stream_info *ac = tp_episode_find_stream(ep, "action");
        const tp_stream_info *op = tp_episode_find_stream(ep, "operator");
        const tp_stream_info *cam = tp_episode_find_stream(ep, "head_camera");
        assert_int_equal(st->dims, 28);
        assert_string_equal(st->dim_names[0], "left_shoulder_pitch_joint");
        assert_string_equal(st->dim_units[27], "rad");
        assert_string_equal(tp_episode_find_stream(ep, "state_velocity")->dim_units[0], "rad/s");
        assert_int_equal(op->dims, fx->operator_dims);
        assert_string_equal(op->dim_names[0], "head.px");
        assert_int_equal(st->t_meaning, TP_TIME_CAPTURE);
        assert_int_equal(op->t_meaning, TP_TIME_DISPLAY);
        assert_string_equal(op->t_meaning_name, "display");
        assert_int_equal(cam->t_meaning, TP_TIME_CAPTURE);
        if (fx->version == 1) {
            /* v1: one free-text unit, repeated per dimension; actions were
             * stamped like the state (capture). */
            assert_string_equal(op->dim_units[0], "m, quaternion xyzw, 0/1 flags");
            assert_int_equal(ac->t_meaning, TP_TIME_CAPTURE);
            int n = -1;
            assert_null(tp_episode_joint_limits(ep, &n));
            assert_int_equal(n, 0);
            assert_int_equal(tp_episode_attachment_count(ep), 0);
            assert_null(tp_episode_camera_params(ep, cam->id));
        } else {
            assert_string_equal(op->dim_units[0], "m");   /* head.px */
            assert_string_equal(op->dim_units[3], "1");   /* head.qx */
            assert_string_equal(op->dim_units[7], "1");   /* head.valid */
            assert_string_equal(op->dim_units[16], "m");  /* left palm radius */
            assert_int_equal(ac->t_meaning, TP_TIME_COMMAND);
        }
        assert_true(st->count >= 100 && op->count >= 18 && cam->count >= 7);
        assert_int_equal(cam->width, 64);
        assert_int_equal(cam->height, 48);
        /* Every row readable, timestamps rising. */
        for (int k = 0; k < 5; k++) {
            const tp_stream_info *s = tp_episode_stream(ep, k);
            tp_episode_cursor *c = tp_episode_cursor_open(ep, s->id);
            tp_episode_row row;
            int64_t rows = 0, last = INT64_MIN;
            int r;
            while ((r = tp_episode_cursor_next(c, &row)) == 1) {
                assert_true(row.t_ns > last);
                last = row.t_ns;
                rows++;
            }
            assert_int_equal(r, 0);
            assert_int_equal(rows, s->count);
            tp_episode_cursor_close(c);
        }
        tp_episode_close(ep);

        if (run_check(path, report, sizeof report) != 0)
            fail_msg("check of %s: %s", fx->file, report);

        char text[8192] = "";
        FILE *mem = fmemopen(text, sizeof text - 1, "w");
        assert_int_equal(tp_episode_info(path, false, mem, stderr), 0);
        fclose(mem);
        char line[64];
        snprintf(line, sizeof line, "format:   version %s\n", fx->layout);
        expect_in(text, line);
        expect_in(text, "task      fixture");
        expect_in(text, "64x48 h264");
        expect_in(text, fx->sync ? "sync:     head_camera" : "sync:     not stored (its format predates");

        char py[512];
        snprintf(py, sizeof py,
                 "d[\"format_version\"]==%d and d[\"layout\"]==\"%s\" and d[\"meta\"][\"task\"]==\"fixture\""
                 " and [s[\"name\"] for s in d[\"streams\"]]==[\"state\",\"state_velocity\",\"action\",\"operator\","
                 "\"head_camera\"] and d[\"streams\"][3][\"dims\"]==%d and d[\"streams\"][3][\"t_meaning\"]==\"display\""
                 " and (d[\"sync\"] is not None)==%s",
                 fx->version, fx->layout, fx->operator_dims, fx->sync ? "True" : "False");
        info_json_holds(path, py);
    }
}

static void test_v2_description(void **state)
{
    (void)state;
    char path[512], err[512];
    fixture_path(path, sizeof path, "episode-v2.db");
    tp_episode *ep = tp_episode_open(path, err, sizeof err);
    assert_non_null(ep);
    assert_int_equal(tp_episode_attachment_count(ep), 4);
    size_t size = 0;
    const uint8_t *xml = tp_episode_attachment(ep, "robot/humanoid.xml", &size);
    assert_non_null(xml);
    assert_int_equal(size, 19990);
    assert_true(memmem(xml, size, "<mujoco", 7) != NULL);
    assert_string_equal(tp_episode_meta(ep, "robot_description"), "robot/humanoid.xml");
    assert_non_null(tp_episode_attachment(ep, "robot/hand/g1_upper_body.urdf", &size));
    assert_non_null(tp_episode_attachment(ep, "calibration/fixture.ini", &size));
    assert_non_null(tp_episode_attachment(ep, "config/station.ini", &size));
    assert_null(tp_episode_attachment(ep, "robot/none.xml", &size));
    assert_int_equal(size, 0);
    int n = 0;
    const tp_joint_limit *lim = tp_episode_joint_limits(ep, &n);
    assert_int_equal(n, 28);
    const tp_stream_info *st = tp_episode_find_stream(ep, "state");
    for (int k = 0; k < st->dims; k++) {
        bool found = false;
        for (int j = 0; j < n; j++)
            if (!strcmp(lim[j].name, st->dim_names[k])) {
                found = true;
                assert_true(lim[j].lower < lim[j].upper && lim[j].velocity > 0);
            }
        assert_true(found);
    }
    assert_string_equal(tp_episode_meta(ep, "safety_position_margin_rad"), "0.01");
    const tp_camera_calibration *c = tp_episode_camera_params(ep, tp_episode_find_stream(ep, "head_camera")->id);
    assert_non_null(c);
    /* fovy 70 degrees over 48 rows: fy = 24 / tan(35 deg). */
    assert_true(fabs(c->fy - 24.0 / tan(35.0 * M_PI / 180.0)) < 1e-9);
    assert_true(c->fx == c->fy && c->cx == 32 && c->cy == 24);
    assert_string_equal(c->parent_frame, "torso_link");
    assert_string_equal(c->distortion_model, "none");
    assert_int_equal(c->ndistortion, 0);
    assert_true(fabs(c->position[2] - 0.43) < 1e-12);
    double qn = 0;
    for (int k = 0; k < 4; k++)
        qn += c->quat_wxyz[k] * c->quat_wxyz[k];
    assert_true(fabs(qn - 1) < 1e-9);
    tp_episode_close(ep);
}

/* A known version number with a layout that is not exactly the released
 * one is refused in one line by reader, check and info, never half read. */
static void expect_refused(const char *path, const char *want)
{
    char err[512];
    assert_null(tp_episode_open(path, err, sizeof err));
    char line[1024];
    snprintf(line, sizeof line, "%s: %s", path, want);
    if (strncmp(err, line, strlen(line)) != 0)
        fail_msg("reader said '%s', want '%s'", err, line);
    char report[2048];
    assert_int_equal(run_check(path, report, sizeof report), 1);
    if (strncmp(report, line, strlen(line)) != 0 || lines_in(report) != 1)
        fail_msg("check said '%s', want one line '%s'", report, line);
    for (int json = 0; json < 2; json++) {
        char out[2048] = "", msg[2048] = "";
        FILE *o = fmemopen(out, sizeof out - 1, "w"), *e = fmemopen(msg, sizeof msg - 1, "w");
        assert_int_equal(tp_episode_info(path, json, o, e), 1);
        fclose(o);
        fclose(e);
        assert_string_equal(out, "");
        if (strncmp(msg, line, strlen(line)) != 0 || lines_in(msg) != 1)
            fail_msg("info said '%s', want one line '%s'", msg, line);
    }
}

static void test_unknown_layouts_refused(void **state)
{
    (void)state;
    static const struct {
        const char *fixture, *stmt, *want;
    } cases[] = {
        {"episode-v1-plain.db", "ALTER TABLE samples ADD COLUMN note TEXT",
         "episode format version 1 with an unknown layout (table samples: extra column 'note TEXT')"},
        {"episode-v1-plain.db", "ALTER TABLE samples ADD COLUMN crc32 INTEGER",
         "episode format version 1 with an unknown layout (table samples: column 5 is 'crc32 INTEGER', expected "
         "'crc32 INTEGER NOT NULL')"},
        {"episode-v1-plain.db", "ALTER TABLE events DROP COLUMN detail",
         "episode format version 1 with an unknown layout (table events: no column 'detail TEXT')"},
        {"episode-v1-crc32.db", "ALTER TABLE video_packets DROP COLUMN crc32",
         "episode format version 1 with an unknown layout (table video_packets: no column 'crc32 INTEGER NOT NULL')"},
        {"episode-v1-crc32.db", "DROP TABLE tags", "episode format version 1 with an unknown layout (table tags: missing)"},
        {"episode-v1-crc32.db", "ALTER TABLE sync ADD COLUMN extra REAL",
         "episode format version 1 with an unknown layout (table sync: extra column 'extra REAL')"},
        {"episode-v2.db", "ALTER TABLE streams DROP COLUMN t_meaning",
         "episode format version 2 with an unknown layout (table streams: column 8 is 'rate_hz REAL', expected "
         "'t_meaning TEXT NOT NULL')"},
        {"episode-v2.db", "DROP TABLE cameras", "episode format version 2 with an unknown layout (table cameras: missing)"},
        {"episode-v2.db", "ALTER TABLE joint_limits RENAME COLUMN effort TO torque",
         "episode format version 2 with an unknown layout (table joint_limits: column 5 is 'torque REAL'"},
        {"episode-v2.db",
         "CREATE TABLE t2(name TEXT PRIMARY KEY) STRICT; INSERT INTO t2 SELECT name FROM tags; DROP TABLE tags;"
         " CREATE TABLE tags(name TEXT PRIMARY KEY); INSERT INTO tags SELECT name FROM t2; DROP TABLE t2",
         "episode format version 2 with an unknown layout (table tags: column 1 is 'name TEXT KEY', expected "
         "'name TEXT NOT NULL KEY')"},
        {"episode-v2.db", "PRAGMA user_version = 1",
         "episode format version 1 with an unknown layout (table streams: column 8 is 't_meaning TEXT NOT NULL'"},
        {"episode-v1-crc32.db", "PRAGMA user_version = 2",
         "episode format version 2 with an unknown layout (table streams: column 8 is 'rate_hz REAL'"},
        {"episode-v2.db", "PRAGMA user_version = 3",
         "episode format version 3 is not supported (this teleop reads versions 1 and 2)"},
        {"episode-v1-plain.db", "PRAGMA user_version = 3",
         "episode format version 3 is not supported (this teleop reads versions 1 and 2)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char from[512], path[512], name[64];
        fixture_path(from, sizeof from, cases[i].fixture);
        snprintf(name, sizeof name, "layout%zu.db", i);
        path_in(path, sizeof path, name);
        copy_file(from, path);
        sql(path, cases[i].stmt);
        expect_refused(path, cases[i].want);
    }
}

/* Issue 10, item 10: every tampered case makes check fail, each for its
 * own reason (the message is asserted). Item 17: a truncated file. */
static void test_tampered_v2_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *stmt, *want;
    } cases[] = {
        /* a completed episode whose sync tables were dropped */
        {"DROP TABLE sync; DROP TABLE sync_summary; DROP TABLE sync_gaps",
         "has an outcome but no sync report"},
        /* dims 2^32 + 28: read as int64 and bounded, never truncated to 28 */
        {"UPDATE streams SET dims = 4294967324 WHERE name = 'state'", "stream 'state': invalid dims 4294967324"},
        {"UPDATE streams SET dims = 0 WHERE name = 'state'", "stream 'state': invalid dims 0"},
        {"UPDATE streams SET rate_hz = -1 WHERE name = 'state'", "stream 'state': rate_hz -1 is not a positive"},
        {"UPDATE streams SET rate_hz = 0 WHERE name = 'action'", "stream 'action': rate_hz 0 is not a positive"},
        {"UPDATE streams SET rate_hz = 9e999 WHERE name = 'operator'", "stream 'operator': rate_hz inf is not"},
        /* names and units: not an array, not strings, invalid UTF-8 */
        {"UPDATE streams SET names = '{\"a\": 1}' WHERE name = 'state'", "stream 'state': names: not a JSON array"},
        {"UPDATE streams SET names = '\"left\"' WHERE name = 'state'", "stream 'state': names: not a JSON array"},
        {"UPDATE streams SET names = '[1, 2]' WHERE name = 'state'", "stream 'state': names: an entry is not a string"},
        {"UPDATE streams SET units = 'rad' WHERE name = 'state'", "stream 'state': units: not a JSON array"},
        {"UPDATE streams SET names = json_set(names, '$[0]', CAST(X'C328' AS TEXT)) WHERE name = 'state'",
         "streams.names: 1 value(s) are not valid UTF-8"},
        {"UPDATE streams SET units = CAST(X'5B22FF225D' AS TEXT) WHERE name = 'action'",
         "streams.units: 1 value(s) are not valid UTF-8"},
        {"UPDATE meta SET value = CAST(X'E4B8AD' || X'E6' AS TEXT) WHERE key = 'task'",
         "meta.value: 1 value(s) are not valid UTF-8"},
        /* the version in meta: strict, equal to user_version */
        {"UPDATE meta SET value = '2abc' WHERE key = 'format_version'",
         "meta 'format_version' is '2abc', the file's version is 2"},
        {"UPDATE meta SET value = '1' WHERE key = 'format_version'", "meta 'format_version' is '1'"},
        /* a t_ns bit flip that keeps the order: the whole-row crc32 */
        {"UPDATE samples SET t_ns = t_ns + 1 - 2 * (t_ns & 1) WHERE stream_id = 1 AND seq = 50",
         "stream 'state': sample 50 does not match its crc32"},
        {"UPDATE video_packets SET pts = pts + 1024 WHERE seq = 6",
         "camera 'head_camera': packet 6 does not match its crc32"},
        {"UPDATE video_packets SET keyframe = 1 - keyframe WHERE seq = 2",
         "camera 'head_camera': packet 2 does not match its crc32"},
        /* every row inside [start_t_ns, end_t_ns) of a finished episode */
        {"UPDATE meta SET value = CAST(CAST(value AS INTEGER) - 50000000 AS TEXT) WHERE key = 'end_t_ns'",
         "is outside the episode [start_t_ns, end_t_ns)"},
        /* documented keys with a format */
        {"UPDATE meta SET value = '12x' WHERE key = 'start_t_ns'", "meta 'start_t_ns' is '12x', not an integer"},
        {"UPDATE meta SET value = 'fast' WHERE key = 'control_rate_hz'", "meta 'control_rate_hz' is 'fast'"},
        {"UPDATE meta SET value = 'nan' WHERE key = 'safety_position_margin_rad'",
         "meta 'safety_position_margin_rad' is 'nan'"},
        {"UPDATE meta SET value = 'done' WHERE key = 'outcome'", "meta 'outcome' is 'done'"},
        /* review and QA keys (optional, checked when present) */
        {"INSERT INTO meta VALUES('rating', '6')", "meta 'rating' is '6', not an integer from 1 to 5"},
        {"INSERT INTO meta VALUES('review_verdict', 'ok')", "meta 'review_verdict' is 'ok' (success or failure)"},
        {"INSERT INTO meta VALUES('delete_marked', 'yes')", "meta 'delete_marked' is 'yes', not 1"},
        {"INSERT INTO meta SELECT 'trim_in_ns', CAST(CAST(value AS INTEGER) - 1 AS TEXT) FROM meta WHERE key = "
         "'start_t_ns'",
         "meta 'trim_in_ns' 1001307567167 is outside the episode [1001307567168, 1001508249275]"},
        {"INSERT INTO meta VALUES('trim_in_ns', '1001400000000'); INSERT INTO meta VALUES('trim_out_ns', "
         "'1001400000000')",
         "meta 'trim_out_ns' 1001400000000 is not after 'trim_in_ns' 1001400000000"},
        {"INSERT INTO meta VALUES('qa_flags', 'holds,blurry')",
         "meta 'qa_flags' is 'holds,blurry': unknown QA flag 'blurry'"},
        {"INSERT INTO meta VALUES('qa_metrics', '[1, 2]')", "meta 'qa_metrics' is not a JSON object"},
        {"INSERT INTO meta VALUES('qa_version', 'one')", "meta 'qa_version' is 'one', not an integer"},
        /* the description */
        {"UPDATE attachments SET data = CAST(data || X'0A' AS BLOB) WHERE name = 'config/station.ini'",
         "attachment 'config/station.ini': sha256 does not match its data"},
        {"UPDATE meta SET value = 'robot/other.xml' WHERE key = 'robot_description'",
         "meta 'robot_description' names attachment 'robot/other.xml', which is not in the episode"},
        {"DELETE FROM joint_limits WHERE name = 'left_elbow_joint'",
         "joint_limits: no row for joint 'left_elbow_joint' of stream 'state'"},
        {"UPDATE joint_limits SET lower = 5 WHERE name = 'left_elbow_joint'", "joint_limits 'left_elbow_joint': invalid"},
        {"UPDATE cameras SET fx = -1", "camera 'head_camera': focal lengths -1"},
        {"UPDATE cameras SET cx = 640", "camera 'head_camera': principal point (640, 24) is outside the 64x48 image"},
        {"UPDATE cameras SET qw = 2", "camera 'head_camera': pose is not finite with a unit quaternion"},
        {"UPDATE cameras SET distortion = '[0.1]'", "camera 'head_camera': distortion does not fit its model 'none'"},
        {"UPDATE cameras SET distortion = '{}'", "camera 'head_camera': distortion does not fit"},
    };
    char from[512];
    fixture_path(from, sizeof from, "episode-v2.db");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512], name[64], report[8192];
        snprintf(name, sizeof name, "tamper%zu.db", i);
        path_in(path, sizeof path, name);
        copy_file(from, path);
        sql(path, cases[i].stmt);
        if (run_check(path, report, sizeof report) != 1)
            fail_msg("check passed after: %s", cases[i].stmt);
        if (!strstr(report, cases[i].want))
            fail_msg("after '%s' check said '%s', want '%s'", cases[i].stmt, report, cases[i].want);
    }
    /* Item 17: a file cut to 50 bytes (inside the 100-byte header). */
    char path[512], report[1024];
    path_in(path, sizeof path, "cut.db");
    copy_file(from, path);
    assert_int_equal(truncate(path, 50), 0);
    assert_int_equal(run_check(path, report, sizeof report), 1);
    char line[600];
    snprintf(line, sizeof line, "%s: not an SQLite database\n", path);
    assert_string_equal(report, line);
    /* Cut inside the database: damaged, never "not a teleop episode". */
    copy_file(from, path);
    assert_int_equal(truncate(path, 4096 + 50), 0);
    assert_int_equal(run_check(path, report, sizeof report), 1);
    assert_null(strstr(report, "not a teleop episode"));
}

/* Issue 10, item 6: anything but a regular file is refused before it is
 * opened for reading: a FIFO with no writer would block forever. */
static void test_not_regular_refused(void **state)
{
    (void)state;
    char fifo[512], report[1024];
    path_in(fifo, sizeof fifo, "fifo.db");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(run_check(fifo, report, sizeof report), 1);
    char line[600];
    snprintf(line, sizeof line, "%s: is a FIFO, not an episode file\n", fifo);
    assert_string_equal(report, line);
    char out[256] = "", msg[1024] = "";
    FILE *o = fmemopen(out, sizeof out - 1, "w"), *e = fmemopen(msg, sizeof msg - 1, "w");
    assert_int_equal(tp_episode_info(fifo, true, o, e), 1);
    fclose(o);
    fclose(e);
    assert_string_equal(msg, line);
    assert_string_equal(out, "");
    assert_int_equal(run_check("/dev/null", report, sizeof report), 1);
    assert_string_equal(report, "/dev/null: is a device, not an episode file\n");
    assert_int_equal(run_check(dir, report, sizeof report), 1);
    expect_in(report, "is a directory, not an episode file");
    /* The CLI too, under a timeout that would catch a block. */
    char cmd[2600];
    snprintf(cmd, sizeof cmd, "timeout 10 '%s' check '%s' 2>/dev/null; test $? -eq 1 && timeout 10 '%s' info '%s'"
             " 2>/dev/null; test $? -eq 1", teleop_exe, fifo, teleop_exe, fifo);
    assert_int_equal(system(cmd), 0);
}

/* Issue 10, item 16: t_ns at the int64 extremes (tampered rows) give
 * problems, not signed overflow (the suite runs under UBSan too), and info
 * --json stays valid JSON (no inf, nan or raw invalid UTF-8). */
static void test_extreme_values(void **state)
{
    (void)state;
    char from[512], path[512], report[8192];
    fixture_path(from, sizeof from, "episode-v2.db");
    path_in(path, sizeof path, "extreme.db");
    copy_file(from, path);
    sql(path, "UPDATE samples SET t_ns = -9223372036854775808 WHERE stream_id = 1 AND seq = 0;"
              "UPDATE samples SET t_ns = 9223372036854775807 WHERE stream_id = 1 AND seq = 99;"
              "UPDATE video_packets SET t_ns = 9223372036854775807 WHERE seq = 6;"
              "UPDATE meta SET value = CAST(X'66697874757265FF' AS TEXT) WHERE key = 'task';"
              "UPDATE meta SET value = CAST(X'0122' AS TEXT) WHERE key = 'operator';"
              "UPDATE streams SET rate_hz = 9e999 WHERE name = 'operator'");
    assert_int_equal(run_check(path, report, sizeof report), 1);
    expect_in(report, "does not match its crc32");
    FILE *devnull = fopen("/dev/null", "w");
    assert_int_equal(tp_episode_info(path, false, devnull, devnull), 0);
    fclose(devnull);
    info_json_holds(path, "d[\"meta\"][\"task\"]==\"fixture\\ufffd\" and d[\"meta\"][\"operator\"]==\"\\x01\\x22\""
                          " and d[\"streams\"][3][\"nominal_rate_hz\"] is None and d[\"duration_s\"]>1e9");
    char cmd[2600];
    snprintf(cmd, sizeof cmd, "'%s' info --json '%s' | grep -E -q '\\b(inf|nan)\\b'", teleop_exe, path);
    assert_int_not_equal(system(cmd), 0);
}

/* Issue 9: an episode carries its robot. Recorded with `teleop run` from a
 * model copied into a temporary folder that is deleted afterwards, then
 * read from another working directory: the description, joint limits and
 * camera parameters come from the episode alone. */
static void test_self_contained(void **state)
{
    (void)state;
    char models[512], cfg[512], out[512], cmd[4096];
    path_in(models, sizeof models, "models");
    path_in(cfg, sizeof cfg, "station.ini");
    path_in(out, sizeof out, "rec");
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s/devices/robot/models/humanoid.xml' '%s/'", models,
             TELEOP_SOURCE_DIR, models);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(cfg, "w");
    assert_non_null(f);
    fprintf(f, "[session]\nrealtime_priority = false\n[robot]\nmodel = %s/humanoid.xml\n"
               "[camera]\nname = head_camera\nwidth = 64\nheight = 48\n",
            models);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' run --config '%s' --duration 0.3 --out '%s' > /dev/null 2>&1", teleop_exe, cfg,
             out);
    assert_int_equal(system(cmd), 0);
    /* The model is gone; nothing can read it. */
    size_t len = 0;
    char orig[4096];
    snprintf(orig, sizeof orig, "%s/devices/robot/models/humanoid.xml", TELEOP_SOURCE_DIR);
    FILE *o = fopen(orig, "rb");
    assert_non_null(o);
    static char want[1 << 16];
    len = fread(want, 1, sizeof want, o);
    fclose(o);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", models);
    assert_int_equal(system(cmd), 0);
    char old_cwd[4096];
    assert_non_null(getcwd(old_cwd, sizeof old_cwd));
    assert_int_equal(chdir("/"), 0);
    snprintf(cmd, sizeof cmd, "ls '%s'/episode-*.db > '%s/list'", out, dir);
    assert_int_equal(system(cmd), 0);
    char list[512], episode[1024] = "";
    path_in(list, sizeof list, "list");
    f = fopen(list, "r");
    assert_non_null(fgets(episode, sizeof episode, f));
    fclose(f);
    episode[strcspn(episode, "\n")] = '\0';
    char err[512];
    tp_episode *ep = tp_episode_open(episode, err, sizeof err);
    if (!ep)
        fail_msg("%s", err);
    const char *desc = tp_episode_meta(ep, "robot_description");
    assert_string_equal(desc, "robot/humanoid.xml");
    size_t size = 0;
    const uint8_t *xml = tp_episode_attachment(ep, desc, &size);
    assert_int_equal(size, len);
    assert_memory_equal(xml, want, len);
    assert_string_equal(tp_episode_attachment(ep, "config/station.ini", &size) ? "config" : "", "config");
    /* The resolved configuration: every key with the value the session used. */
    const uint8_t *resolved = tp_episode_attachment(ep, "config/resolved.ini", &size);
    assert_non_null(resolved);
    assert_non_null(memmem(resolved, size, "[session]", 9));
    assert_non_null(memmem(resolved, size, "control_rate_hz = 500", 21));
    assert_non_null(memmem(resolved, size, "[camera.head_camera]", 20));
    int n = 0;
    const tp_joint_limit *lim = tp_episode_joint_limits(ep, &n);
    assert_int_equal(n, 28);
    for (int i = 0; i < n; i++)
        if (!strcmp(lim[i].name, "left_elbow_joint"))
            assert_true(lim[i].lower < 0 && lim[i].upper > 1 && lim[i].velocity > 0);
    const tp_camera_calibration *c = tp_episode_camera_params(ep, tp_episode_find_stream(ep, "head_camera")->id);
    assert_non_null(c);
    assert_true(c->fx > 0 && c->cx == 32 && c->cy == 24);
    assert_string_equal(c->parent_frame, "torso_link");
    tp_episode_close(ep);
    char report[4096];
    if (run_check(episode, report, sizeof report) != 0)
        fail_msg("%s", report);
    assert_int_equal(chdir(old_cwd), 0);
}

/* Issue 9: the simulator's object stream is verified by check: 7 values
 * per object (position, unit quaternion), kind other. */
static void write_objects(const char *path, tp_stream_kind kind, int dims, float bad_qw)
{
    char err[512];
    tp_episode_writer *w = tp_episode_writer_create(path, err, sizeof err);
    assert_non_null(w);
    tp_stream_desc d = {.name = TP_SIM_OBJECTS_STREAM, .kind = kind, .dims = dims, .units = "1", .rate_hz = 100};
    int id = tp_episode_writer_add_stream(w, &d);
    assert_true(id > 0);
    assert_int_equal(tp_episode_writer_begin(w), 0);
    for (int i = 0; i < 20; i++) {
        float v[15] = {0};
        for (int o = 0; o + 7 <= dims; o += 7) {
            v[o] = 0.1f * (float)i;
            v[o + 3] = 0.70710678f; /* w */
            v[o + 6] = 0.70710678f; /* z */
        }
        if (i == 10)
            v[3] = bad_qw;
        assert_int_equal(tp_episode_writer_sample(w, id, i, 1000000000LL + i * 10000000LL, v, dims), 0);
    }
    assert_int_equal(tp_episode_writer_commit(w), 0);
    assert_int_equal(tp_episode_writer_finish(w, "completed"), 0);
    tp_episode_writer_close(w);
}

static void test_sim_objects_checked(void **state)
{
    (void)state;
    char path[512], report[4096];
    path_in(path, sizeof path, "objects_ok.db");
    write_objects(path, TP_STREAM_OTHER, 14, 0.70710678f);
    if (run_check(path, report, sizeof report) != 0)
        fail_msg("%s", report);
    path_in(path, sizeof path, "objects_badq.db");
    write_objects(path, TP_STREAM_OTHER, 14, 0.9f);
    assert_int_equal(run_check(path, report, sizeof report), 1);
    expect_in(report, "stream 'sim_objects': sample 10, object 0: quaternion is not unit length");
    path_in(path, sizeof path, "objects_dims.db");
    write_objects(path, TP_STREAM_OTHER, 15, 0.70710678f);
    assert_int_equal(run_check(path, report, sizeof report), 1);
    expect_in(report, "stream 'sim_objects': kind other, 15 dims; expected kind other and 7 values");
    path_in(path, sizeof path, "objects_kind.db");
    write_objects(path, TP_STREAM_STATE, 14, 0.70710678f);
    assert_int_equal(run_check(path, report, sizeof report), 1);
    expect_in(report, "stream 'sim_objects': kind state");
    /* And an XML attachment that does not parse. */
    char from[512];
    fixture_path(from, sizeof from, "episode-v2.db");
    path_in(path, sizeof path, "badxml.db");
    copy_file(from, path);
    sql(path, "UPDATE attachments SET data = CAST(substr(data, 1, 500) AS BLOB),"
              " sha256 = 'changed' WHERE name = 'robot/hand/g1_upper_body.urdf'");
    assert_int_equal(run_check(path, report, sizeof report), 1);
    expect_in(report, "attachment 'robot/hand/g1_upper_body.urdf': not well-formed XML");
}

/* Events come back in time order, equal times in write order (ids are
 * write order, not time order). */
typedef struct seen_events {
    int64_t t[8];
    char detail[8][8];
    int n;
} seen_events;

static int collect_event(const tp_episode_event *ev, void *user)
{
    seen_events *s = user;
    if (s->n < 8) {
        s->t[s->n] = ev->t_ns;
        snprintf(s->detail[s->n], sizeof s->detail[0], "%s", ev->detail ? ev->detail : "");
        s->n++;
    }
    return 0;
}

static void test_events_in_time_order(void **state)
{
    (void)state;
    char path[512], err[512];
    path_in(path, sizeof path, "events.db");
    tp_episode_writer *w = tp_episode_writer_create(path, err, sizeof err);
    assert_non_null(w);
    tp_stream_desc d = {.name = "state", .kind = TP_STREAM_STATE, .dims = 1, .units = "rad"};
    assert_true(tp_episode_writer_add_stream(w, &d) > 0);
    static const struct {
        int64_t t;
        const char *detail;
    } ev[] = {{300, "c"}, {100, "a1"}, {200, "b"}, {100, "a2"}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(tp_episode_writer_event(w, ev[i].t, "mark", ev[i].detail), 0);
    assert_int_equal(tp_episode_writer_finish(w, "completed"), 0);
    tp_episode_writer_close(w);
    tp_episode *ep = tp_episode_open(path, err, sizeof err);
    assert_non_null(ep);
    seen_events seen = {0};
    assert_int_equal(tp_episode_events(ep, collect_event, &seen), 0);
    tp_episode_close(ep);
    assert_int_equal(seen.n, 4);
    static const char *const want[] = {"a1", "a2", "b", "c"};
    for (int i = 0; i < 4; i++)
        assert_string_equal(seen.detail[i], want[i]);
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

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_fixtures TELEOP\n");
        return 2;
    }
    teleop_exe = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_read),       cmocka_unit_test(test_v2_description),
        cmocka_unit_test(test_unknown_layouts_refused), cmocka_unit_test(test_tampered_v2_rejected),
        cmocka_unit_test(test_not_regular_refused), cmocka_unit_test(test_extreme_values),
        cmocka_unit_test(test_self_contained),      cmocka_unit_test(test_sim_objects_checked),
        cmocka_unit_test(test_events_in_time_order),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
