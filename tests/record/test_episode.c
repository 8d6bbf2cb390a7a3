/* Episode database: write → read round trip on a real SQLite file with real
 * H.264 packets; info; check catching truncation, tampering, foreign files;
 * a crashed writer leaves a readable, valid episode. */
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
#include <unistd.h>
#include <cmocka.h>

#include "teleop/episode.h"
#include "teleop/video.h"

static char dir[] = "/tmp/teleop-episode-XXXXXX";
static const char *names28[28];
static char name_buf[28][16];
static const char tricky_name[] = "say \"hi\" \\ \xc3\xa9\t";

enum { RATE = 500, SECONDS = 2, FRAMES = 60, W = 320, H = 240 };
static const int64_t T0 = 1000000000LL;

static void path_in(char *out, size_t len, const char *file) { snprintf(out, len, "%s/%s", dir, file); }

static void expect_in(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("'%s' does not contain '%s'", text, want);
}

/* Writes a complete episode; with crash_after_commits >= 0 the process
 * stops dead after that many batches (no finish, no close). */
static void write_episode(const char *path, int crash_after_commits)
{
    char err[512];
    tp_episode_writer *w = tp_episode_writer_create(path, err, sizeof err);
    if (!w)
        fail_msg("%s", err);
    tp_stream_desc st = {.name = "state", .kind = TP_STREAM_STATE, .dims = 28, .dim_names = names28, .units = "rad",
                         .rate_hz = RATE};
    tp_stream_desc ac = st;
    ac.name = "action";
    ac.kind = TP_STREAM_ACTION;
    tp_video_encoder_config vc;
    tp_video_encoder_default_config(&vc, W, H, 30);
    tp_video_encoder *enc = tp_video_encoder_create(&vc, err, sizeof err);
    assert_non_null(enc);
    const uint8_t *extra;
    size_t extra_size;
    tp_video_encoder_extradata(enc, &extra, &extra_size);
    tp_stream_desc cam = {.name = "head_camera", .kind = TP_STREAM_CAMERA, .dims = 3, .rate_hz = 30, .codec = "h264",
                          .width = W, .height = H, .extradata = extra, .extradata_size = extra_size};
    int id_s = tp_episode_writer_add_stream(w, &st);
    int id_a = tp_episode_writer_add_stream(w, &ac);
    int id_c = tp_episode_writer_add_stream(w, &cam);
    assert_true(id_s > 0 && id_a > 0 && id_c > 0);
    assert_int_equal(tp_episode_writer_add_stream(w, &st), -1); /* duplicate name */
    assert_int_equal(tp_episode_writer_set_meta(w, "task", "pick \"the\" cube"), 0);

    static uint8_t rgb[W * H * 3];
    int64_t frame = 0, packet = 0;
    int commits = 0;
    for (int batch = 0; batch < SECONDS * 10; batch++) { /* 100 ms batches */
        assert_int_equal(tp_episode_writer_begin(w), 0);
        for (int k = 0; k < RATE / 10; k++) {
            int64_t i = batch * (RATE / 10) + k;
            float v[28];
            for (int j = 0; j < 28; j++)
                v[j] = (float)(0.001 * (double)i + j);
            int64_t t = T0 + i * (1000000000LL / RATE);
            assert_int_equal(tp_episode_writer_sample(w, id_s, i, t, v, 28), 0);
            v[0] = -v[0];
            assert_int_equal(tp_episode_writer_sample(w, id_a, i, t, v, 28), 0);
        }
        for (int k = 0; k < 3; k++, frame++) {
            memset(rgb, (int)(frame * 4), sizeof rgb);
            assert_int_equal(tp_video_encoder_send(enc, rgb, frame, err, sizeof err), 0);
            tp_video_packet p;
            while (tp_video_encoder_receive(enc, &p, err, sizeof err) == 1) {
                int64_t t = T0 + p.pts * 1000000000LL / 30;
                assert_int_equal(tp_episode_writer_packet(w, id_c, packet++, p.pts, t, p.keyframe, p.data, p.size), 0);
            }
        }
        if (batch == 3)
            assert_int_equal(tp_episode_writer_event(w, T0 + 400000000LL, "engaged", NULL), 0);
        assert_int_equal(tp_episode_writer_commit(w), 0);
        if (++commits == crash_after_commits)
            _exit(0); /* as if killed: no finish, no close */
    }
    tp_video_encoder_send(enc, NULL, 0, err, sizeof err);
    tp_video_packet p;
    while (tp_video_encoder_receive(enc, &p, err, sizeof err) == 1) {
        int64_t t = T0 + p.pts * 1000000000LL / 30;
        assert_int_equal(tp_episode_writer_packet(w, id_c, packet++, p.pts, t, p.keyframe, p.data, p.size), 0);
    }
    assert_int_equal(tp_episode_writer_finish(w, "completed"), 0);
    tp_episode_writer_close(w);
    tp_video_encoder_destroy(enc);
}

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < 28; i++) {
        snprintf(name_buf[i], sizeof name_buf[i], "joint_%d", i);
        names28[i] = name_buf[i];
    }
    names28[3] = tricky_name; /* stored as JSON: must survive quoting */
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static int count_events(const tp_episode_event *ev, void *user)
{
    assert_string_equal(ev->kind, "engaged");
    (*(int *)user)++;
    return 0;
}

static void test_roundtrip(void **state)
{
    (void)state;
    char path[256], err[512];
    path_in(path, sizeof path, "ok.db");
    write_episode(path, -1);
    char wal[300];
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct stat sb;
    char shm[300];
    snprintf(shm, sizeof shm, "%s-shm", path);
    assert_true(stat(wal, &sb) != 0 && stat(shm, &sb) != 0); /* final: one file */
    char again[512];
    assert_null(tp_episode_writer_create(path, again, sizeof again)); /* never overwrites */

    tp_episode *ep = tp_episode_open(path, err, sizeof err);
    if (!ep)
        fail_msg("%s", err);
    assert_string_equal(tp_episode_meta(ep, "task"), "pick \"the\" cube");
    assert_string_equal(tp_episode_meta(ep, "outcome"), "completed");
    assert_string_equal(tp_episode_meta(ep, "format_version"), "2");
    assert_int_equal(tp_episode_stream_count(ep), 3);
    const tp_stream_info *s = tp_episode_find_stream(ep, "state");
    assert_non_null(s);
    assert_int_equal(s->kind, TP_STREAM_STATE);
    assert_int_equal(s->dims, 28);
    assert_string_equal(s->dim_names[27], "joint_27");
    assert_string_equal(s->dim_names[3], tricky_name);
    assert_string_equal(s->dim_units[27], "rad");
    assert_int_equal(s->count, RATE * SECONDS);
    assert_int_equal(s->t_first, T0);
    tp_episode_cursor *c = tp_episode_cursor_open(ep, tp_episode_find_stream(ep, "action")->id);
    tp_episode_row row;
    int64_t n = 0;
    while (tp_episode_cursor_next(c, &row) == 1) {
        assert_int_equal(row.seq, n);
        assert_true(row.samples[0] == -(float)(0.001 * (double)n));
        assert_true(row.samples[5] == (float)(0.001 * (double)n + 5));
        n++;
    }
    assert_int_equal(n, RATE * SECONDS);
    tp_episode_cursor_close(c);
    const tp_stream_info *cam = tp_episode_find_stream(ep, "head_camera");
    assert_int_equal(cam->kind, TP_STREAM_CAMERA);
    assert_int_equal(cam->count, FRAMES);
    assert_int_equal(cam->width, W);
    assert_string_equal(cam->codec, "h264");
    assert_true(cam->extradata_size > 0);
    int events = 0;
    assert_int_equal(tp_episode_events(ep, count_events, &events), 0);
    assert_int_equal(events, 1);
    tp_episode_close(ep);

    assert_int_equal(tp_episode_check(path, stderr), 0);
    /* Readers leave a finished episode alone: no -wal/-shm appear beside it. */
    assert_true(stat(wal, &sb) != 0 && stat(shm, &sb) != 0);

    /* A third-party reader needs nothing but sqlite3, struct and zlib. */
    char py[1400];
    snprintf(py, sizeof py,
             "python3 -c 'import sqlite3,struct,zlib,json,sys; db=sqlite3.connect(sys.argv[1]);"
             " sid,dims,names=db.execute(\"select id,dims,names from streams where name=?\",(\"action\",)).fetchone();"
             " rows=db.execute(\"select seq,data,crc32,t_ns from samples where stream_id=? order by seq\",(sid,)).fetchall();"
             " assert len(json.loads(names))==dims==28 and json.loads(names)[3]==%s;"
             " assert all(zlib.crc32(struct.pack(\"<qqq\",sid,q,t)+d)==c for q,d,c,t in rows);"
             " v=struct.unpack(\"<%%df\"%%dims, rows[10][1]); assert abs(v[0]+0.01)<1e-6 and abs(v[5]-5.01)<1e-5, v;"
             " assert all(zlib.crc32(struct.pack(\"<qqqqB\",i,q,p,t,k)+d)==c for i,q,p,t,k,d,c in"
             " db.execute(\"select stream_id,seq,pts,t_ns,keyframe,data,crc32 from video_packets\"))' %s",
             "\"say \\\"hi\\\" \\\\ \\u00e9\\t\"", path);
    assert_int_equal(system(py), 0);

    char text[4096] = "";
    FILE *mem = fmemopen(text, sizeof text - 1, "w");
    assert_int_equal(tp_episode_info(path, false, mem, stderr), 0);
    fclose(mem);
    expect_in(text, "duration: 1.998 s");
    expect_in(text, "task      pick \"the\" cube");
    expect_in(text, "count 1000 ");
    expect_in(text, "320x240 h264, 60 frames, 30.00 fps");

    char json[300];
    path_in(json, sizeof json, "info.json");
    FILE *f = fopen(json, "w");
    assert_int_equal(tp_episode_info(path, true, f, stderr), 0);
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s={x[\"name\"]:x for x in d[\"streams\"]};"
             " c=s[\"head_camera\"]; assert c[\"frames\"]==%d and c[\"width\"]==%d and c[\"height\"]==%d and "
             "c[\"codec\"]==\"h264\" and abs(c[\"fps\"]-30)<0.01, c;"
             " assert s[\"state\"][\"count\"]==%d and s[\"state\"][\"kind\"]==\"state\" and "
             "abs(s[\"state\"][\"rate_hz\"]-%d)<0.01;"
             " assert d[\"meta\"][\"task\"]==\"pick \\\"the\\\" cube\"; assert d[\"events\"]==1' %s",
             FRAMES, W, H, RATE * SECONDS, RATE, json);
    assert_int_equal(system(cmd), 0);
}

static int run_check(const char *path, char *report, size_t len)
{
    FILE *f = fmemopen(report, len, "w");
    int rc = tp_episode_check(path, f);
    fclose(f);
    return rc;
}

static void copy_file(const char *from, const char *to)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
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

/* A 100 Hz camera that delivered 30 frames a second for two seconds, with
 * or without events that account for the frames it lost. */
static void write_slow_camera(const char *path, bool with_events)
{
    char err[512];
    tp_episode_writer *w = tp_episode_writer_create(path, err, sizeof err);
    if (!w)
        fail_msg("%s", err);
    tp_video_encoder_config vc;
    tp_video_encoder_default_config(&vc, W, H, 30);
    tp_video_encoder *enc = tp_video_encoder_create(&vc, err, sizeof err);
    assert_non_null(enc);
    const uint8_t *extra;
    size_t extra_size;
    tp_video_encoder_extradata(enc, &extra, &extra_size);
    tp_stream_desc cam = {.name = "wrist", .kind = TP_STREAM_CAMERA, .dims = 3, .rate_hz = 100, .codec = "h264",
                          .width = W, .height = H, .extradata = extra, .extradata_size = extra_size};
    int id = tp_episode_writer_add_stream(w, &cam);
    assert_true(id > 0);
    assert_int_equal(tp_episode_writer_begin(w), 0);
    static uint8_t rgb[W * H * 3];
    int64_t packet = 0;
    for (int f = 0; f <= 60; f++) {
        memset(rgb, f * 3, sizeof rgb);
        assert_int_equal(tp_video_encoder_send(enc, f < 60 ? rgb : NULL, f, err, sizeof err), 0);
        tp_video_packet p;
        while (tp_video_encoder_receive(enc, &p, err, sizeof err) == 1) {
            int64_t t = T0 + p.pts * 1000000000LL / 30;
            assert_int_equal(tp_episode_writer_packet(w, id, packet++, p.pts, t, p.keyframe, p.data, p.size), 0);
        }
    }
    /* Another camera's loss does not count for this one. */
    assert_int_equal(tp_episode_writer_event(w, T0, "camera_gap", "camera other: no frames for 100000 ms"), 0);
    if (with_events) {
        /* 0.2 s of gap (20 frames), 10 frames missed and 10 dropped: with
         * the 59 intervals stored, 99 frames in 1.967 s, just over half the
         * rate; without any one of them, below. */
        assert_int_equal(tp_episode_writer_event(w, T0, "camera_gap", "camera wrist: no frames for 200 ms"), 0);
        assert_int_equal(tp_episode_writer_event(w, T0, "frames_missed",
                                                 "camera wrist: 10 frames missed, the camera fell behind its rate"),
                         0);
        for (int i = 0; i < 10; i++)
            assert_int_equal(tp_episode_writer_event(w, T0 + i, "frame_dropped",
                                                     "camera wrist: frame 1 dropped at capture, encoder queue full"),
                             0);
    }
    assert_int_equal(tp_episode_writer_commit(w), 0);
    assert_int_equal(tp_episode_writer_finish(w, "completed"), 0);
    tp_episode_writer_close(w);
    tp_video_encoder_destroy(enc);
}

/* A camera far below its rate lost frames, unless its events account for
 * them (frames dropped at capture, gaps). */
/* A cursor from a seq (a player's seek to a keyframe) and a stamps-only
 * cursor (its frame index) give the rows the full cursor gives. */
static void test_cursor_from_and_stamps(void **state)
{
    (void)state;
    char path[256], err[512];
    path_in(path, sizeof path, "cursor.db");
    write_episode(path, -1);
    tp_episode *ep = tp_episode_open(path, err, sizeof err);
    assert_non_null(ep);
    tp_episode_row row;
    tp_episode_cursor *c = tp_episode_cursor_open_from(ep, tp_episode_find_stream(ep, "action")->id, 700);
    int64_t n = 700;
    while (tp_episode_cursor_next(c, &row) == 1) {
        assert_int_equal(row.seq, n);
        assert_int_equal(row.t_ns, T0 + n * (1000000000LL / RATE));
        assert_true(row.samples[0] == -(float)(0.001 * (double)n));
        n++;
    }
    assert_int_equal(n, RATE * SECONDS);
    tp_episode_cursor_close(c);
    int cam = tp_episode_find_stream(ep, "head_camera")->id;
    tp_episode_cursor *all = tp_episode_cursor_open(ep, cam), *stamps = tp_episode_cursor_open_stamps(ep, cam);
    tp_episode_cursor *from = tp_episode_cursor_open_from(ep, cam, 30);
    tp_episode_row full, st, fr;
    int keyframes = 0;
    for (n = 0; tp_episode_cursor_next(all, &full) == 1; n++) {
        assert_int_equal(tp_episode_cursor_next(stamps, &st), 1);
        assert_int_equal(st.seq, full.seq);
        assert_int_equal(st.t_ns, full.t_ns);
        assert_int_equal(st.pts, full.pts);
        assert_int_equal(st.keyframe, full.keyframe);
        assert_null(st.bytes);
        assert_int_equal(st.size, 0);
        keyframes += full.keyframe;
        if (n >= 30) {
            assert_int_equal(tp_episode_cursor_next(from, &fr), 1);
            assert_int_equal(fr.seq, n);
            assert_int_equal(fr.size, full.size);
            assert_memory_equal(fr.bytes, full.bytes, full.size);
        }
    }
    assert_int_equal(n, FRAMES);
    assert_int_equal(keyframes, 2); /* one a second */
    assert_int_equal(tp_episode_cursor_next(stamps, &st), 0);
    assert_int_equal(tp_episode_cursor_next(from, &fr), 0);
    tp_episode_cursor_close(all);
    tp_episode_cursor_close(stamps);
    tp_episode_cursor_close(from);
    assert_null(tp_episode_cursor_open_from(ep, 99, 0)); /* no such stream */
    tp_episode_close(ep);
}

static void test_check_camera_rate(void **state)
{
    (void)state;
    char path[256], report[8192] = "";
    path_in(path, sizeof path, "slow_camera.db");
    write_slow_camera(path, false);
    assert_int_equal(run_check(path, report, sizeof report), 1);
    expect_in(report, "stream 'wrist': 60 samples in 1.967 s (30.0 Hz) is far below its 100.0 Hz rate");
    path_in(path, sizeof path, "slow_camera_events.db");
    write_slow_camera(path, true);
    memset(report, 0, sizeof report);
    if (run_check(path, report, sizeof report) != 0)
        fail_msg("%s", report);
}

static void test_check_catches_damage(void **state)
{
    (void)state;
    char good[256], bad[256], report[8192];
    path_in(good, sizeof good, "ok.db");
    assert_int_equal(run_check(good, report, sizeof report), 0);

    /* Truncated to half. */
    path_in(bad, sizeof bad, "truncated.db");
    struct stat sb;
    assert_int_equal(stat(good, &sb), 0);
    copy_file(good, bad);
    assert_int_equal(truncate(bad, sb.st_size / 2), 0);
    memset(report, 0, sizeof report);
    assert_int_equal(run_check(bad, report, sizeof report), 1);
    expect_in(report, "truncated.db: ");

    /* Time going backwards in one stream. */
    path_in(bad, sizeof bad, "backwards.db");
    copy_file(good, bad);
    sql(bad, "UPDATE samples SET t_ns = 5 WHERE seq = 300 AND stream_id = (SELECT id FROM streams WHERE name='action')");
    memset(report, 0, sizeof report);
    assert_int_equal(run_check(bad, report, sizeof report), 1);
    expect_in(report, "stream 'action': timestamp of sample 300 does not increase");

    /* A range of rows deleted. */
    path_in(bad, sizeof bad, "gap.db");
    copy_file(good, bad);
    sql(bad, "DELETE FROM samples WHERE seq BETWEEN 100 AND 199 AND stream_id = 1");
    memset(report, 0, sizeof report);
    assert_int_equal(run_check(bad, report, sizeof report), 1);
    expect_in(report, "stream 'state': sample sequence jumps from 99 to 200");

    /* A video packet's payload overwritten. */
    path_in(bad, sizeof bad, "packet.db");
    copy_file(good, bad);
    sql(bad, "UPDATE video_packets SET data = zeroblob(length(data)) WHERE seq = 0");
    memset(report, 0, sizeof report);
    assert_int_equal(run_check(bad, report, sizeof report), 1);
    expect_in(report, "camera 'head_camera'");

    /* A sample of the wrong size. */
    path_in(bad, sizeof bad, "size.db");
    copy_file(good, bad);
    sql(bad, "UPDATE samples SET data = x'00' WHERE seq = 7 AND stream_id = 1");
    memset(report, 0, sizeof report);
    assert_int_equal(run_check(bad, report, sizeof report), 1);
    expect_in(report, "sample 7 has 1 bytes, expected 112");

    /* Bytes overwritten in the middle of the file. */
    path_in(bad, sizeof bad, "bytes.db");
    copy_file(good, bad);
    int fd = open(bad, O_WRONLY);
    char junk[4096];
    memset(junk, 0xA5, sizeof junk);
    assert_int_equal(pwrite(fd, junk, sizeof junk, sb.st_size / 2 / 4096 * 4096), (ssize_t)sizeof junk);
    close(fd);
    memset(report, 0, sizeof report);
    assert_int_equal(run_check(bad, report, sizeof report), 1);
}

/* Finds needle in the file and overwrites one byte in its middle, as bit rot
 * or a bad copy would. */
static void flip_byte_of(const char *path, const void *needle, size_t n)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)size);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    char *hit = memmem(buf, (size_t)size, needle, n);
    assert_non_null(hit);
    long at = (long)(hit - buf) + (long)n / 2;
    fseek(f, at, SEEK_SET);
    fputc(buf[at] ^ 0x10, f);
    fclose(f);
    free(buf);
}

static void test_check_catches_bit_rot(void **state)
{
    (void)state;
    char good[256], bad[256], report[8192], err[512];
    path_in(good, sizeof good, "ok.db");

    /* One byte of one state sample, in place in the file: SQLite's page
     * structure is intact, only the crc32 can tell. */
    path_in(bad, sizeof bad, "rot_sample.db");
    copy_file(good, bad);
    float v[28];
    for (int j = 0; j < 28; j++)
        v[j] = (float)(0.001 * 500 + j);
    flip_byte_of(bad, v, sizeof v);
    memset(report, 0, sizeof report);
    assert_int_equal(run_check(bad, report, sizeof report), 1);
    expect_in(report, "stream 'state': sample 500 does not match its crc32");

    /* One byte inside a video keyframe. */
    tp_episode *ep = tp_episode_open(good, err, sizeof err);
    assert_non_null(ep);
    tp_episode_cursor *c = tp_episode_cursor_open(ep, tp_episode_find_stream(ep, "head_camera")->id);
    tp_episode_row row;
    uint8_t packet[4096];
    size_t size = 0;
    while (tp_episode_cursor_next(c, &row) == 1)
        if (row.seq == 30) {
            assert_true(row.keyframe);
            size = row.size < sizeof packet ? row.size : sizeof packet;
            memcpy(packet, row.bytes, size);
        }
    tp_episode_cursor_close(c);
    tp_episode_close(ep);
    assert_true(size > 16);
    path_in(bad, sizeof bad, "rot_packet.db");
    copy_file(good, bad);
    flip_byte_of(bad, packet, size);
    memset(report, 0, sizeof report);
    assert_int_equal(run_check(bad, report, sizeof report), 1);
    expect_in(report, "camera 'head_camera': packet");
    expect_in(report, "does not match its crc32");

    /* Schema damage and rows of no stream. */
    path_in(bad, sizeof bad, "column.db");
    copy_file(good, bad);
    sql(bad, "ALTER TABLE samples DROP COLUMN crc32");
    memset(report, 0, sizeof report);
    assert_int_equal(run_check(bad, report, sizeof report), 1);
    expect_in(report, "column.db: episode format version 2 with an unknown layout (table samples: no column 'crc32");
    path_in(bad, sizeof bad, "orphan.db");
    copy_file(good, bad);
    sql(bad, "INSERT INTO samples SELECT 99, seq, t_ns, data, crc32 FROM samples WHERE stream_id = 1 AND seq < 5");
    memset(report, 0, sizeof report);
    assert_int_equal(run_check(bad, report, sizeof report), 1);
    expect_in(report, "5 samples belong to no stream of their kind");
}

static void test_writer_errors(void **state)
{
    (void)state;
    char path[256], err[512];
    path_in(path, sizeof path, "errors.db");
    tp_episode_writer *w = tp_episode_writer_create(path, err, sizeof err);
    assert_non_null(w);
    tp_stream_desc st = {.name = "state", .kind = TP_STREAM_STATE, .dims = 28, .rate_hz = RATE};
    int id = tp_episode_writer_add_stream(w, &st);
    assert_true(id > 0);
    float v[28] = {0};
    assert_int_equal(tp_episode_writer_sample(w, id, 0, 1, v, 27), -1);
    expect_in(tp_episode_writer_error(w), "stream 'state': sample 0 has 27 values, the stream has 28");
    assert_int_equal(tp_episode_writer_sample(w, id + 5, 0, 1, v, 28), -1);
    expect_in(tp_episode_writer_error(w), "no sample stream with id");
    uint8_t bytes[4] = {0, 0, 1, 9};
    assert_int_equal(tp_episode_writer_packet(w, id, 0, 0, 1, true, bytes, sizeof bytes), -1);
    expect_in(tp_episode_writer_error(w), "no camera stream with id");
    assert_int_equal(tp_episode_writer_sample(w, id, 0, 1, v, 28), 0);
    assert_int_equal(tp_episode_writer_sample(w, id, 0, 2, v, 28), -1); /* seq used twice */
    expect_in(tp_episode_writer_error(w), "errors.db: stream 'state': write sample 0: UNIQUE constraint failed");
    tp_stream_desc cam = {.name = "cam", .kind = TP_STREAM_CAMERA, .dims = 3, .codec = "h264"};
    assert_int_equal(tp_episode_writer_add_stream(w, &cam), -1); /* no frame size */
    expect_in(tp_episode_writer_error(w), "stream 'cam': invalid description");
    assert_int_equal(tp_episode_writer_finish(w, "error"), 0);
    tp_episode_writer_close(w);
}

static void test_foreign_and_versions(void **state)
{
    (void)state;
    char path[256], err[512];
    path_in(path, sizeof path, "foreign.db");
    sql(path, "CREATE TABLE t(x)");
    assert_null(tp_episode_open(path, err, sizeof err));
    expect_in(err, "foreign.db: not a teleop episode (application_id 0x00000000)");
    char report[1024] = "";
    assert_int_equal(run_check(path, report, sizeof report), 1);
    expect_in(report, "not a teleop episode");

    char good[256], newer[256];
    path_in(good, sizeof good, "ok.db");
    path_in(newer, sizeof newer, "v2.db");
    copy_file(good, newer);
    sql(newer, "PRAGMA user_version = 3");
    assert_null(tp_episode_open(newer, err, sizeof err));
    expect_in(err, "v2.db: episode format version 3 is not supported (this teleop reads versions 1 and 2)");
    FILE *devnull = fopen("/dev/null", "w");
    assert_int_equal(tp_episode_info(newer, true, devnull, devnull), 1);
    fclose(devnull);

    path_in(path, sizeof path, "text.db");
    FILE *f = fopen(path, "w");
    fputs("hello, this is not a database at all, just text that is long enough\n", f);
    fclose(f);
    assert_null(tp_episode_open(path, err, sizeof err));
    expect_in(err, "text.db: not an SQLite database");
    path_in(path, sizeof path, "missing.db");
    assert_null(tp_episode_open(path, err, sizeof err));
    expect_in(err, "missing.db: cannot open");
}

static void test_crashed_writer(void **state)
{
    (void)state;
    char path[256], err[512];
    path_in(path, sizeof path, "crash.db");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        write_episode(path, 7); /* dies after 7 committed batches */
        _exit(1);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char wal[300], shm[300];
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    struct stat sb;
    assert_int_equal(stat(wal, &sb), 0); /* the committed batches are still in the WAL */
    /* As if the episode were copied off the station without its -shm. */
    assert_int_equal(unlink(shm), 0);
    tp_episode *ep = tp_episode_open(path, err, sizeof err);
    if (!ep)
        fail_msg("%s", err);
    /* Everything committed is there; the unfinished episode has no outcome. */
    assert_int_equal(tp_episode_find_stream(ep, "state")->count, 7 * RATE / 10);
    assert_null(tp_episode_meta(ep, "outcome"));
    tp_episode_close(ep);
    char report[4096] = "";
    int rc = run_check(path, report, sizeof report);
    if (rc != 0)
        fail_msg("check on a crashed episode: %s", report);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_check_catches_damage), cmocka_unit_test(test_check_camera_rate),
        cmocka_unit_test(test_cursor_from_and_stamps),
        cmocka_unit_test(test_check_catches_bit_rot), cmocka_unit_test(test_writer_errors),
        cmocka_unit_test(test_foreign_and_versions), cmocka_unit_test(test_crashed_writer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
