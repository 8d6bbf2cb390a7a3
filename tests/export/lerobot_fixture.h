/* Test fixture: writes a small LeRobot dataset (v2.1 or v3.0) with teleop's
 * parquet writer and real H.264 MP4s (libx264 through libavcodec,
 * libavformat's mp4 muxer): 2 episodes of 30 and 20 frames at 30 fps, two
 * tasks, action and observation.state float32[6], one 64x48 camera
 * observation.images.front, per-episode and global stats. Damage options
 * make it wrong in one precise way, for the `export --check` tests. */
#ifndef TELEOP_TEST_LEROBOT_FIXTURE_H
#define TELEOP_TEST_LEROBOT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lerobot_fixture {
    int version;             /* 21 or 30 */
    int video_frames_delta;  /* frames added to episode 1's video (-1: one missing) */
    bool index_gap;          /* `index` jumps by 2 at episode 1's frame 5 */
    bool timestamp_off_grid; /* episode 0 frame 7's timestamp + 0.01 s */
    int total_frames_delta;  /* added to info.json total_frames */
    int declared_state_dim;  /* 0: 6; else the shape declared for observation.state */
    bool wrong_stats;        /* episode 1's action max[2] + 0.5 */
    bool wrong_std;          /* episode 0's observation.state std[3] x 1.01 */
    bool split_files;        /* v3.0: episode 1 in data file-001 and video file-001 (not a damage) */
} lerobot_fixture;

#define FIXTURE_FPS 30
#define FIXTURE_EPISODES 2
#define FIXTURE_DIM 6

/* Creates DIR (must not exist or be empty) and the dataset in it. 0, or -1
 * with a message in err. */
int lerobot_fixture_write(const char *dir, const lerobot_fixture *opt, char *err, size_t errlen);

#endif
