/* teleop — One Euro filter (Casiez, Roussel, Vogel, CHI 2012) for noisy
 * tracking input: a first-order low-pass whose cutoff rises with speed, so
 * slow fine positioning is smoothed hard and fast reaches keep little lag.
 *
 *   alpha(fc) = 1 / (1 + tau / Te),  tau = 1 / (2 pi fc),  Te = sample period
 *   fc = min_cutoff + beta * |derivative (itself low-passed at d_cutoff)|
 *
 * Variants for a scalar, a 3-vector (one speed for the vector's norm) and a
 * pose (position as a vector; orientation slerped with the cutoff driven by
 * angular speed). Plain caller-owned structs; no allocation; timestamps in ns
 * drive Te, so irregular sample spacing is handled.
 */
#ifndef TELEOP_FILTER_H
#define TELEOP_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "teleop/operator.h"
#include "teleop/pose.h"

typedef struct tp_one_euro_params {
    double min_cutoff; /* Hz: lower removes more jitter at rest (default 1.0) */
    double beta;       /* s/unit: higher cuts lag when moving (default 0.0) */
    double d_cutoff;   /* Hz: derivative smoothing (default 1.0) */
} tp_one_euro_params;

void tp_one_euro_default(tp_one_euro_params *p);

typedef struct tp_one_euro_vec3 {
    tp_one_euro_params params;
    bool initialized;
    int64_t last_t_ns;
    tp_vec3 x_hat;  /* filtered value */
    tp_vec3 dx_hat; /* filtered derivative */
} tp_one_euro_vec3;

typedef struct tp_one_euro_pose {
    tp_one_euro_vec3 position;
    tp_one_euro_params rot_params;
    bool initialized;
    int64_t last_t_ns;
    tp_quat q_hat;
    double w_hat; /* filtered angular speed, rad/s */
} tp_one_euro_pose;

void tp_one_euro_vec3_init(tp_one_euro_vec3 *f, const tp_one_euro_params *p);
/* Filters x sampled at t_ns; the first call passes x through. A non-increasing
 * timestamp returns the previous output unchanged. */
tp_vec3 tp_one_euro_vec3_filter(tp_one_euro_vec3 *f, tp_vec3 x, int64_t t_ns);

void tp_one_euro_pose_init(tp_one_euro_pose *f, const tp_one_euro_params *pos, const tp_one_euro_params *rot);
tp_pose tp_one_euro_pose_filter(tp_one_euro_pose *f, tp_pose x, int64_t t_ns);
void tp_one_euro_pose_reset(tp_one_euro_pose *f);

/* Hand keypoints: each of the 26 joints' positions is filtered in the frame
 * of its own wrist, so finger tremor is smoothed while the hand as a whole
 * follows the wrist (filtered separately, or not) with no added lag. */
typedef struct tp_one_euro_hand {
    tp_one_euro_vec3 joint[TP_HAND_JOINT_COUNT];
} tp_one_euro_hand;

void tp_one_euro_hand_init(tp_one_euro_hand *f, const tp_one_euro_params *p);
void tp_one_euro_hand_reset(tp_one_euro_hand *f);
/* Filters hand (sampled at t_ns) in place: each valid joint's offset from
 * raw_wrist is filtered, then placed on hand->joints[TP_HJ_WRIST].pose (the
 * wrist the caller wants the hand on, e.g. its filtered wrist); joint
 * orientations turn with the wrist. Nothing changes when the wrist is not
 * valid. A repeated t_ns repeats the previous output. */
void tp_one_euro_hand_filter(tp_one_euro_hand *f, tp_hand_frame *hand, tp_pose raw_wrist, int64_t t_ns);

#endif
