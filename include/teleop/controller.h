/* teleop — one control cycle: the operator's frames (filtered as they
 * arrive, kept) sampled at the control tick (upsampled: interpolated a fixed
 * latency behind it by default) → input checks (stale, clutch, non-finite)
 * → retargeting → engage ramp → workspace and motion safety → the joint
 * command for the robot link.
 *
 * The controller is the only path from operator input to a robot command, so
 * the guarantees live here: every command is finite, inside the joint limits
 * (less a margin) and inside the per-cycle velocity bound; the robot holds
 * still when input is stale, the clutch is released, the emergency hold is
 * on, or a wrist would leave the workspace box.
 *
 * tp_controller_create allocates once; tp_controller_step allocates nothing,
 * takes no lock and does no I/O (control-thread safe). It copies what it is
 * given at creation; the caller owns all arguments.
 */
#ifndef TELEOP_CONTROLLER_H
#define TELEOP_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/filter.h"
#include "teleop/operator.h"
#include "teleop/retarget.h"

#define TP_CONTROL_MAX_JOINTS 64

/* How the control loop turns the operator's frames (90 Hz) into a target
 * for every control tick (500 Hz); docs/retargeting.md has the measurements
 * behind the default. */
typedef enum tp_upsampling {
    /* Default. The operator's (filtered) pose a fixed latency before the
     * tick, interpolated between the two frames around that instant:
     * positions linearly, orientations by slerp, hand keypoints in their
     * wrist's frame. */
    TP_UPSAMPLE_INTERPOLATE = 0,
    /* The newest frame stamped before the tick, extrapolated to the tick
     * along the filtered motion's velocity (at most 1.5 frame intervals). */
    TP_UPSAMPLE_PREDICT,
    /* The newest frame stamped before the tick, held until the next one:
     * stair-steps at the operator's rate (for comparison only). */
    TP_UPSAMPLE_NONE,
} tp_upsampling;

/* "interpolate", "predict", "none"; tp_upsampling_parse returns -1 for
 * anything else. */
const char *tp_upsampling_name(tp_upsampling u);
int tp_upsampling_parse(const char *name);

typedef struct tp_controller_config {
    double rate_hz;             /* control rate, default 500 */
    double stale_input_s;       /* hold when the newest frame is older, default 0.1 */
    double limit_margin;        /* rad inside each joint limit, default 0.01 */
    double arm_velocity_cap;    /* rad/s, default 3.0 (below the motors' ratings) */
    double hand_velocity_cap;   /* rad/s, default 8.0 */
    double arm_acceleration;    /* rad/s^2, default 40 */
    double hand_acceleration;   /* rad/s^2, default 200 */
    tp_upsampling upsampling;   /* default TP_UPSAMPLE_INTERPOLATE */
    double upsampling_latency_s; /* interpolate: the tick samples the operator this long
                                    before it, default 1/90 s (one frame period at 90 Hz) */
    bool filter_wrists;         /* One Euro on wrist poses, default true */
    tp_one_euro_params wrist_position_filter; /* default min_cutoff 1.5 Hz, beta 4 */
    tp_one_euro_params wrist_rotation_filter; /* default min_cutoff 1.5 Hz, beta 2 */
    bool filter_hands;          /* One Euro on hand keypoints (in the wrist frame), default true */
    tp_one_euro_params hand_filter; /* default min_cutoff 2 Hz, beta 10 */
    tp_vec3 workspace_min, workspace_max;     /* wrist box, torso frame (m) */
    /* Arm chains in the robot model, by name: base body/link and tip (site or
     * body) per side; defaults "torso_link", "left_ee", "right_ee". */
    char arm_base[64];
    char arm_tip[2][64];
    /* Hand retargeting: "flexion" (finger-curl mapping, default) or
     * "vector" (keypoint-vector optimization, hand_vector.h) from the hand's
     * kinematic description; an empty path means the bundled G1 + Dex3-1
     * URDF. */
    char hand_method[16];
    char hand_urdf[1024];
} tp_controller_config;

void tp_controller_default_config(tp_controller_config *cfg);

/* Why the command is what it is; several may be set in one cycle. */
enum tp_control_flag {
    TP_CONTROL_ENGAGED = 1u << 0,     /* operator input drives the robot */
    TP_CONTROL_INPUT_STALE = 1u << 1, /* no operator frame within stale_input_s */
    TP_CONTROL_CLUTCH_OPEN = 1u << 2, /* operator released the clutch */
    TP_CONTROL_EMERGENCY = 1u << 3,   /* emergency hold */
    TP_CONTROL_NONFINITE = 1u << 4,   /* a non-finite value was rejected */
    TP_CONTROL_POSITION = 1u << 5,    /* clamped to a joint limit */
    TP_CONTROL_VELOCITY = 1u << 6,    /* clamped to the velocity bound */
    TP_CONTROL_WORKSPACE = 1u << 7,   /* an arm held: its wrist would leave the box */
    TP_CONTROL_TRACKING_LOST = 1u << 8, /* a hand or wrist is not tracked: that side holds */
    TP_CONTROL_ROBOT_STALE = 1u << 9,   /* the robot's state is stale (link lost): hold */
};

/* The episode events for a change of flags from before to now: writes up
 * to max event kinds ("engaged", "input_stale", ...; static strings) and
 * returns how many. */
int tp_control_flag_events(unsigned now, unsigned before, const char **kinds, int max);

typedef struct tp_controller tp_controller;

/* lower/upper/max_velocity: n joints in the action layout (arms, then hands). */
tp_controller *tp_controller_create(const tp_controller_config *cfg, const tp_retarget_config *rcfg,
                                    const tp_chain arms[2], const tp_hand_desc hands[2], int n, const double *lower,
                                    const double *upper, const double *max_velocity, char *err, size_t errlen);
void tp_controller_destroy(tp_controller *c);

struct tp_sim;
/* The controller for the simulated humanoid: arm chains, joint limits,
 * velocity ratings and Dex3-1 hand descriptions all read from the model. */
tp_controller *tp_controller_create_for_sim(const struct tp_sim *sim, const tp_controller_config *cfg,
                                            const tp_retarget_config *rcfg, char *err, size_t errlen);

struct tp_hand_vector_desc;
struct tp_hand_vector_params;
/* Switches the hands to vector retargeting (see tp_retarget_use_hand_vector).
 * Setup only. 0 or -1 with a message. */
int tp_controller_use_hand_vector(tp_controller *c, const struct tp_hand_vector_desc *descs,
                                  const struct tp_hand_vector_params *params, char *err, size_t errlen);
/* The retargeter inside, for status and tools. */
const tp_retargeter *tp_controller_retargeter(const tp_controller *c);

/* Holds the robot at q (e.g. its measured joints) and disengages. */
void tp_controller_reset(tp_controller *c, const double *q);
void tp_controller_set_emergency(tp_controller *c, bool on);
/* The robot link's state went stale (on) or fresh again (off, with the
 * robot's measured joints q): while stale the command holds; when fresh the
 * controller restarts from q, since the robot may have moved meanwhile (a
 * real robot's own controller takes the arms back), and engaging again
 * ramps from there. */
void tp_controller_set_robot_stale(tp_controller *c, bool on, const double *q);

/* Hands the controller one operator frame as it arrives (oldest first when
 * several came at once). A non-finite frame, one stamped more than 0.1 s
 * after now_ns (the arrival time) or one not newer than the last is
 * refused; the next step reports why. Frames are filtered here and kept (the
 * last 64) for the ticks that sample them. No allocation. */
void tp_controller_push_frame(tp_controller *c, const tp_operator_frame *frame, int64_t now_ns);

/* One control tick at now_ns (monotonic; the tick's own time, which may lie
 * behind the wall clock while the loop catches up after a stall). frame, if
 * not NULL, is pushed first (tp_controller_push_frame at now_ns). A tick acts
 * only on operator frames stamped before it: so anything the tick causes
 * (engaging, a hold) is later than the frame that asked for it. Writes n
 * joint commands; returns tp_control_flag bits. No allocation. */
unsigned tp_controller_step(tp_controller *c, const tp_operator_frame *frame, int64_t now_ns, double *command);
/* How far behind the tick the operator's pose is sampled (ns): the
 * interpolation latency, 0 for predict and none. */
int64_t tp_controller_upsampling_latency_ns(const tp_controller *c);
struct tp_limit_figures;
/* How close the last step's command (command, as tp_controller_step wrote
 * it, with its flags) is to the limits, per arm, for the operator's warnings
 * (operator_feedback.h): joint margins to the safety limits, the wrist
 * target's distance to the workspace box (or minus the IK residual when
 * out of reach), clamps, tracking. No allocation (control-thread safe). */
void tp_controller_limit_figures(const tp_controller *c, int64_t t_ns, unsigned flags, const double *command,
                                 struct tp_limit_figures *out);
/* The retargeting status of the last step (wrist targets, IK residuals). */
const tp_retarget_status *tp_controller_status(const tp_controller *c);

#endif
