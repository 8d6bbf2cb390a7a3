/* `teleop export --check` (tp_export_check) on real datasets written by the
 * fixture (teleop's parquet writer, libx264 MP4s): the valid v2.1 and v3.0
 * datasets pass; each damage is caught with its own message. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lerobot_fixture.h"
#include "teleop/export_check.h"

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

typedef struct run {
    char dir[256];
    char *report;
    int rc;
} run;

static void make(run *r, lerobot_fixture o)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(r->dir, sizeof r->dir, "%s/teleop-check-XXXXXX", tmp);
    assert_non_null(mkdtemp(r->dir));
    char err[512];
    if (lerobot_fixture_write(r->dir, &o, err, sizeof err) != 0)
        fail_msg("fixture: %s", err);
}

static void check(run *r)
{
    size_t len = 0;
    FILE *f = open_memstream(&r->report, &len);
    assert_non_null(f);
    r->rc = tp_export_check(r->dir, f);
    fclose(f);
}

static void done(run *r)
{
    if (getenv("TELEOP_SHOW_REPORTS"))
        printf("%s\n", r->report);
    nftw(r->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(r->report);
}

/* Exit 1 and a line "DIR/rel: ...needle..." in the report. */
static void expect_problem(run *r, const char *rel, const char *needle)
{
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s/%s: ", r->dir, rel);
    bool found = false;
    for (char *line = r->report; line && *line && !found;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        char buf[2048];
        snprintf(buf, sizeof buf, "%.*s", (int)n, line);
        found = !strncmp(buf, prefix, strlen(prefix)) && strstr(buf, needle);
        line = nl ? nl + 1 : NULL;
    }
    if (r->rc != 1 || !found)
        fail_msg("expected exit 1 and \"%s...%s\", got exit %d and:\n%s", prefix, needle, r->rc, r->report);
}

static void valid(int version)
{
    run r = {0};
    make(&r, (lerobot_fixture){.version = version});
    check(&r);
    if (r.rc != 0 || !strstr(r.report, ": valid\n"))
        fail_msg("valid v%d dataset: exit %d\n%s", version, r.rc, r.report);
    char want[128];
    snprintf(want, sizeof want, "LeRobot %s, 2 episodes, 50 frames, 2 tasks, %d video files: valid",
             version == 21 ? "v2.1" : "v3.0", version == 21 ? 2 : 1);
    if (!strstr(r.report, want))
        fail_msg("summary \"%s\" missing:\n%s", want, r.report);
    done(&r);
}

static void test_valid_v21(void **s) { (void)s; valid(21); }
static void test_valid_v30(void **s) { (void)s; valid(30); }

static const char *video_rel(int version, int ep)
{
    return version == 21 ? (ep ? "videos/chunk-000/observation.images.front/episode_000001.mp4"
                               : "videos/chunk-000/observation.images.front/episode_000000.mp4")
                         : "videos/observation.images.front/chunk-000/file-000.mp4";
}

static const char *data_rel(int version, int ep)
{
    return version == 21 ? (ep ? "data/chunk-000/episode_000001.parquet" : "data/chunk-000/episode_000000.parquet")
                         : "data/chunk-000/file-000.parquet";
}

static void missing_video(int version)
{
    run r = {0};
    make(&r, (lerobot_fixture){.version = version});
    char p[512];
    snprintf(p, sizeof p, "%s/%s", r.dir, video_rel(version, 1));
    assert_int_equal(unlink(p), 0);
    check(&r);
    expect_problem(&r, video_rel(version, 1), version == 21 ? "missing video (observation.images.front, episode 1)"
                                                            : "missing video (observation.images.front, episodes 0-1)");
    done(&r);
}

static void unreadable_video(int version)
{
    run r = {0};
    make(&r, (lerobot_fixture){.version = version});
    char p[512];
    snprintf(p, sizeof p, "%s/%s", r.dir, video_rel(version, 0));
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("this is not a video file", f);
    fclose(f);
    check(&r);
    expect_problem(&r, video_rel(version, 0), "cannot open video: Invalid data found when processing input");
    done(&r);
}

static void wrong_frame_count(int version)
{
    run r = {0};
    make(&r, (lerobot_fixture){.version = version, .video_frames_delta = -1});
    check(&r);
    expect_problem(&r, video_rel(version, 1), version == 21
                   ? "episode 1: wrong frame count: 19 frames, the episode has 20"
                   : "episode 1: wrong frame count: 19 frames in [1.000000, 1.666667) s, the episode has 20");
    done(&r);
}

static void index_gap(int version)
{
    run r = {0};
    make(&r, (lerobot_fixture){.version = version, .index_gap = true});
    check(&r);
    expect_problem(&r, data_rel(version, 1),
                   version == 21 ? "index not contiguous at row 5 (expected 35, got 37)"
                                 : "index not contiguous at row 35 (expected 35, got 37)");
    done(&r);
}

static void timestamp_off_grid(int version)
{
    run r = {0};
    make(&r, (lerobot_fixture){.version = version, .timestamp_off_grid = true});
    check(&r);
    expect_problem(&r, data_rel(version, 0), "episode 0: timestamp off the 30 fps grid at frame 7 (row 7)");
    /* LeRobot's decode rule catches it too: no video frame near 7/30 + 0.01 s */
    expect_problem(&r, video_rel(version, 0), "episode 0: no video frame within 0.0001 s of frame 7");
    done(&r);
}

static void footerless_parquet(int version)
{
    run r = {0};
    make(&r, (lerobot_fixture){.version = version});
    char p[512];
    snprintf(p, sizeof p, "%s/%s", r.dir, data_rel(version, 1));
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    /* what a writer killed before its footer leaves: pages, no footer */
    assert_int_equal(truncate(p, sb.st_size / 2), 0);
    check(&r);
    expect_problem(&r, data_rel(version, 1), "no parquet footer (PAR1 magic missing at the end");
    done(&r);
}

static void wrong_total_frames(int version)
{
    run r = {0};
    make(&r, (lerobot_fixture){.version = version, .total_frames_delta = 1});
    check(&r);
    expect_problem(&r, "meta/info.json", "total_frames 51, the episodes have 50 frames");
    done(&r);
}

static void bad_feature_shape(int version)
{
    run r = {0};
    make(&r, (lerobot_fixture){.version = version, .declared_state_dim = 7});
    check(&r);
    expect_problem(&r, data_rel(version, 0), "column observation.state: row 0 has 6 values, shape [7] in meta/info.json");
    done(&r);
}

static void stats_mismatch(int version)
{
    run r = {0};
    make(&r, (lerobot_fixture){.version = version, .wrong_stats = true});
    check(&r);
    expect_problem(&r, version == 21 ? "meta/episodes_stats.jsonl" : "meta/episodes/chunk-000/file-000.parquet", "episode 1: stats action/max[2] is");
    done(&r);
}

static void std_mismatch(int version)
{
    run r = {0};
    make(&r, (lerobot_fixture){.version = version, .wrong_std = true});
    check(&r);
    expect_problem(&r, version == 21 ? "meta/episodes_stats.jsonl" : "meta/episodes/chunk-000/file-000.parquet",
                   "episode 0: stats observation.state/std[3] is");
    done(&r);
}

#define BOTH(name)                                                \
    static void test_##name##_v21(void **s) { (void)s; name(21); } \
    static void test_##name##_v30(void **s) { (void)s; name(30); }
BOTH(missing_video)
BOTH(wrong_frame_count)
BOTH(unreadable_video)
BOTH(index_gap)
BOTH(timestamp_off_grid)
BOTH(footerless_parquet)
BOTH(wrong_total_frames)
BOTH(bad_feature_shape)
BOTH(stats_mismatch)
BOTH(std_mismatch)

/* v3.0 with one data file and one video file per episode: valid; `index`
 * runs on across files; each file's damage is found in that file. */
static void test_split_files(void **s)
{
    (void)s;
    run r = {0};
    make(&r, (lerobot_fixture){.version = 30, .split_files = true});
    check(&r);
    if (r.rc != 0 || !strstr(r.report, "LeRobot v3.0, 2 episodes, 50 frames, 2 tasks, 2 video files: valid"))
        fail_msg("split v3.0 dataset: exit %d\n%s", r.rc, r.report);
    done(&r);
    make(&r, (lerobot_fixture){.version = 30, .split_files = true, .index_gap = true, .video_frames_delta = 1});
    check(&r);
    expect_problem(&r, "data/chunk-000/file-001.parquet", "index not contiguous at row 5 (expected 35, got 37)");
    expect_problem(&r, "videos/observation.images.front/chunk-000/file-001.mp4",
                   "1 frames after the last episode's to_timestamp 0.666667 s");
    done(&r);
    make(&r, (lerobot_fixture){.version = 30, .split_files = true});
    char p[512];
    snprintf(p, sizeof p, "%s/videos/observation.images.front/chunk-000/file-001.mp4", r.dir);
    assert_int_equal(unlink(p), 0);
    check(&r);
    expect_problem(&r, "videos/observation.images.front/chunk-000/file-001.mp4",
                   "missing video (observation.images.front, episode 1)");
    if (strstr(r.report, "file-000.mp4"))
        fail_msg("file-000.mp4 is fine:\n%s", r.report);
    done(&r);
}

/* Nonsense in info.json is reported, not trusted (UBSan/ASan in CI). */
static void test_hostile_info(void **s)
{
    (void)s;
    run r = {0};
    make(&r, (lerobot_fixture){.version = 30});
    char p[512];
    snprintf(p, sizeof p, "%s/meta/info.json", r.dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("{\"codebase_version\": \"v3.0\", \"fps\": 30, \"chunks_size\": 9223372036854775807, "
          "\"total_episodes\": 1e300, \"features\": {\"action\": {\"dtype\": \"float32\", \"shape\": [1e300]}, "
          "\"observation.state\": {\"dtype\": \"float32\", \"shape\": [-6]}, \"timestamp\": 3}, "
          "\"data_path\": \"data/chunk-{chunk_index:0999999999d}/file-{file_index:03d}.parquet\", "
          "\"video_path\": null}\n", f);
    fclose(f);
    check(&r);
    expect_problem(&r, "meta/info.json", "chunks_size missing or not an integer in 1..1000000000");
    expect_problem(&r, "meta/info.json", "feature action: shape dimension 1e+300 is not a positive integer");
    expect_problem(&r, "meta/info.json", "feature timestamp is not an object");
    expect_problem(&r, "meta/info.json", "total_episodes is not an integer");
    expect_problem(&r, "meta/info.json", "missing field data_files_size_in_mb (LeRobot v3.0)");
    expect_problem(&r, "meta/info.json", "data_path data/chunk-{chunk_index:0999999999d}/file-{file_index:03d}.parquet: cannot be formatted");
    done(&r);
}

/* Byte changes all over the v3.0 parquet files: every check run ends with
 * exit 0 or 1 (no crash, nothing read out of bounds under ASan), and a
 * change in the data pages is found. */
static void test_changed_bytes(void **s)
{
    (void)s;
    run r = {0};
    make(&r, (lerobot_fixture){.version = 30});
    const char *files[] = {"data/chunk-000/file-000.parquet", "meta/episodes/chunk-000/file-000.parquet",
                           "meta/tasks.parquet"};
    int runs = 0, found = 0;
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", r.dir, files[k]);
        FILE *f = fopen(p, "r+b");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        for (long pos = 0; pos < size; pos += 61) {
            fseek(f, pos, SEEK_SET);
            int orig = fgetc(f);
            fseek(f, pos, SEEK_SET);
            fputc(orig ^ 0x5a, f);
            fflush(f);
            char *rep = NULL;
            size_t n = 0;
            FILE *out = open_memstream(&rep, &n);
            int rc = tp_export_check(r.dir, out);
            fclose(out);
            if (rc != 0 && rc != 1)
                fail_msg("%s byte %ld: exit %d\n%s", files[k], pos, rc, rep);
            found += rc == 1;
            runs++;
            free(rep);
            fseek(f, pos, SEEK_SET);
            fputc(orig, f);
            fflush(f);
        }
        fclose(f);
    }
    printf("%d changed files checked, %d found invalid\n", runs, found);
    /* the first bytes are PAR1 and page headers: at least those are found */
    assert_true(found > runs / 3);
    check(&r);
    assert_int_equal(r.rc, 0);
    done(&r);
}

static void test_not_a_dataset(void **s)
{
    (void)s;
    run r = {0};
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(r.dir, sizeof r.dir, "%s/teleop-check-XXXXXX", tmp);
    assert_non_null(mkdtemp(r.dir));
    check(&r);
    expect_problem(&r, "meta/info.json", "missing: not a LeRobot dataset");
    done(&r);
    char *rep = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&rep, &n);
    assert_int_equal(tp_export_check("/nonexistent/teleop-dataset", f), 2);
    assert_int_equal(tp_export_check("episodes.hdf5", f), 2);
    fclose(f);
    assert_non_null(strstr(rep, "episodes.hdf5: No such file or directory"));
    free(rep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_v21),
        cmocka_unit_test(test_valid_v30),
        cmocka_unit_test(test_missing_video_v21),
        cmocka_unit_test(test_missing_video_v30),
        cmocka_unit_test(test_unreadable_video_v21),
        cmocka_unit_test(test_unreadable_video_v30),
        cmocka_unit_test(test_wrong_frame_count_v21),
        cmocka_unit_test(test_wrong_frame_count_v30),
        cmocka_unit_test(test_index_gap_v21),
        cmocka_unit_test(test_index_gap_v30),
        cmocka_unit_test(test_timestamp_off_grid_v21),
        cmocka_unit_test(test_timestamp_off_grid_v30),
        cmocka_unit_test(test_footerless_parquet_v21),
        cmocka_unit_test(test_footerless_parquet_v30),
        cmocka_unit_test(test_wrong_total_frames_v21),
        cmocka_unit_test(test_wrong_total_frames_v30),
        cmocka_unit_test(test_bad_feature_shape_v21),
        cmocka_unit_test(test_bad_feature_shape_v30),
        cmocka_unit_test(test_stats_mismatch_v21),
        cmocka_unit_test(test_stats_mismatch_v30),
        cmocka_unit_test(test_std_mismatch_v21),
        cmocka_unit_test(test_std_mismatch_v30),
        cmocka_unit_test(test_split_files),
        cmocka_unit_test(test_hostile_info),
        cmocka_unit_test(test_changed_bytes),
        cmocka_unit_test(test_not_a_dataset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
