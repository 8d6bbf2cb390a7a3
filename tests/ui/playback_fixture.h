/* A synthetic but complete episode for the playback tests and the review
 * benchmark, written with the real writer and the real H.264 encoder: the
 * bundled humanoid embedded as the robot description, its joint limits,
 * 500 Hz state/state_velocity/action with a known arm motion, a 90 Hz
 * operator stream in the documented layout with known hand positions,
 * events, and CAMERAS test-pattern cameras (noise like a sensor). */
#ifndef TELEOP_TESTS_PLAYBACK_FIXTURE_H
#define TELEOP_TESTS_PLAYBACK_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

typedef struct pb_fixture {
    int cameras, width, height;
    double fps;
    int gop;         /* frames between keyframes */
    double seconds;
    double noise;    /* pattern noise, 8-bit levels */
    const char *codec; /* "h264" (default), "ffv1" */
} pb_fixture;

enum { PB_FIXTURE_JOINTS = 28, PB_FIXTURE_OPERATOR_DIMS = 523 };
#define PB_FIXTURE_T0_NS 1000000000LL
#define PB_FIXTURE_STATE_PERIOD_NS 2000000LL
#define PB_FIXTURE_OPERATOR_PERIOD_NS 11111111LL

extern const char *const pb_fixture_joint_names[PB_FIXTURE_JOINTS];

/* Frame k of camera c: captured at this time. */
int64_t pb_fixture_frame_t(const pb_fixture *f, int camera, int64_t k);
/* Joint j of state row k. */
float pb_fixture_state(int64_t k, int joint);
/* Operator row k: hand h (0 left, 1 right) joint j position and whether the
 * hand is tracked. */
void pb_fixture_hand_joint(int64_t k, int hand, int joint, float out[3]);
int pb_fixture_hand_tracked(int64_t k, int hand, int64_t rows);
/* The events written: kind i at time pb_fixture_event_t(i). */
enum { PB_FIXTURE_EVENTS = 3 };
extern const char *const pb_fixture_event_kinds[PB_FIXTURE_EVENTS];
int64_t pb_fixture_event_t(const pb_fixture *f, int i);

/* Writes the episode at path (must not exist). 0, or -1 with a message. */
int pb_fixture_write(const char *path, const pb_fixture *f, char *err, size_t errlen);

#endif
