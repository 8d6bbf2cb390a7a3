/* teleop — what the operator is told near the robot's limits: warnings in
 * the headset and controller haptics.
 *
 * The control thread knows, each tick, how close the command is to the
 * limits; tp_limit_figures is that knowledge in a few numbers per arm (the
 * controller fills it: tp_controller_limit_figures, controller.h) and the
 * console tap carries it off the control thread (console_tap.h). The view
 * thread feeds each sample it reads to tp_feedback_update, which turns it
 * into the active warnings per side (with hysteresis, so a figure hovering
 * at a threshold does not flicker) and the haptic pulse to play on each
 * controller (rate-limited; nothing while nothing is wrong).
 * docs/devices/xr.md, "Warnings and haptics", has the rules and thresholds.
 *
 * Everything here is plain caller-owned data: no allocation, no lock, no
 * I/O; safe on any thread (one thread per tp_feedback).
 */
#ifndef TELEOP_OPERATOR_FEEDBACK_H
#define TELEOP_OPERATOR_FEEDBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TP_FEEDBACK_MAX_ARM_JOINTS 16
#define TP_FEEDBACK_CLAMP_RAD 0.01

/* One tick's figures, per side (0 left, 1 right). */
typedef struct tp_limit_figures {
    int64_t t_ns;           /* the control tick */
    unsigned control_flags; /* tp_control_flag bits (controller.h) of that tick */
    int arm_dof;            /* joints per arm (<= TP_FEEDBACK_MAX_ARM_JOINTS) */
    /* rad between each arm joint's command and the nearer of the limits the
     * safety layer enforces (the joint limits less [safety] margin); 0 at
     * the limit. */
    float joint_margin[2][TP_FEEDBACK_MAX_ARM_JOINTS];
    /* m from the wrist target to the workspace edge, positive inside: the
     * nearer of the workspace box's faces ([safety] workspace_*) and the
     * arm's reach (the sphere about its first joint that its tip can reach,
     * tp_robot_reach); negative beyond either, or minus the IK position
     * residual when that is over 1 cm (a target the arm cannot reach for
     * its joint limits), whichever is further out. */
    float wrist_edge[2];
    bool wrist_known[2]; /* the arm was retargeted this tick (engaged, tracked) */
    /* The safety layer moved one of this arm's joint commands this tick by
     * more than TP_FEEDBACK_CLAMP_RAD off the target (a position limit, or
     * the velocity or acceleration bound lagging it behind), or the
     * controller held the arm at the workspace box. Smaller corrections
     * (the acceleration bound rounding off a target, a few 1e-4 rad), and
     * the lag during the engage ramp (the soft start), are the robot
     * following, not a clamp the operator should feel. */
    bool clamped[2];
    bool arm_tracked[2], hand_tracked[2]; /* false: that side holds */
} tp_limit_figures;

typedef struct tp_feedback_config {
    bool haptics;              /* [xr] haptics: pulses on the controllers */
    double joint_margin;       /* [xr] warn_joint_margin, rad: warn this close to a limit */
    double workspace_margin;   /* [xr] warn_workspace_margin, m: warn this close to the workspace edge */
    double amplitude;          /* [xr] haptics_amplitude, 0..1: the strongest pulse */
    double pulse_interval_s;   /* [xr] haptics_interval: at most one pulse per controller this often */
} tp_feedback_config;

void tp_feedback_default_config(tp_feedback_config *cfg);
/* 0, or -1 with a one-line message naming the [xr] key that is out of range. */
int tp_feedback_check_config(const tp_feedback_config *cfg, char *err, size_t errlen);

/* A warning is off again only when its figure is this share of the margin
 * beyond the threshold (hysteresis), and a clamp shows for at least
 * TP_FEEDBACK_CLAMP_HOLD_NS after it last happened. */
#define TP_FEEDBACK_HYSTERESIS 0.25
#define TP_FEEDBACK_CLAMP_HOLD_NS 300000000LL

enum tp_warning {
    TP_WARN_JOINT_LIMIT = 1u << 0,      /* an arm joint within joint_margin of its limit (amber) */
    TP_WARN_WORKSPACE_NEAR = 1u << 1,   /* the wrist within workspace_margin of the edge (amber) */
    TP_WARN_WORKSPACE_BEYOND = 1u << 2, /* the wrist target beyond the edge (red) */
    TP_WARN_CLAMPED = 1u << 3,          /* the safety layer clamped this arm (red) */
    TP_WARN_HOLDING = 1u << 4,          /* the robot holds: emergency, robot state stale, input stale (red) */
    TP_WARN_TRACKING_LOST = 1u << 5,    /* this hand is not tracked: the side holds (red) */
};
/* The red ones: the robot is not doing what the operator does. */
#define TP_WARN_SEVERE (TP_WARN_WORKSPACE_BEYOND | TP_WARN_CLAMPED | TP_WARN_HOLDING | TP_WARN_TRACKING_LOST)

typedef struct tp_side_warnings {
    unsigned active;     /* tp_warning bits */
    int joint;           /* the arm joint nearest its limit (index in the arm), -1: no figures */
    double joint_margin; /* rad, that joint's margin */
    double wrist_edge;   /* m, as tp_limit_figures (0 when unknown) */
    double urgency;      /* 0 (nothing, or just inside a margin) .. 1 (at or beyond a limit, clamped, holding) */
} tp_side_warnings;

/* One haptic command per controller per update. */
typedef enum tp_haptic_action { TP_HAPTIC_NONE = 0, TP_HAPTIC_PULSE, TP_HAPTIC_STOP } tp_haptic_action;

typedef struct tp_haptic_pulse {
    tp_haptic_action action;
    float amplitude;      /* 0..1 */
    int64_t duration_ns;  /* > 0 */
    float frequency_hz;   /* > 0 */
} tp_haptic_pulse;

typedef struct tp_feedback_output {
    tp_side_warnings side[2];
    tp_haptic_pulse haptic[2];
} tp_feedback_output;

typedef struct tp_feedback {
    tp_feedback_config cfg;
    unsigned active[2];
    int64_t last_clamp_ns[2];
    int64_t last_pulse_ns[2];
    bool pulsed_once[2];   /* last_pulse_ns is set */
    bool pulsed[2];        /* a pulse was played since the last stop: silence needs a stop */
    bool onset_pending[2]; /* a hold or lost hand started: one pulse is owed */
} tp_feedback;

void tp_feedback_init(tp_feedback *f, const tp_feedback_config *cfg);
/* One sample of figures (newest from the tap) at now_ns (monotonic: the
 * pulses' rate limit runs on it). fig NULL: no figures (no session yet):
 * no warnings, and silence. */
void tp_feedback_update(tp_feedback *f, const tp_limit_figures *fig, int64_t now_ns, tp_feedback_output *out);

/* Pulse shape at an urgency 0..1: amplitude = scale · (0.35 + 0.65 u),
 * duration 20 ms + 60 ms · u, frequency 120 Hz + 200 Hz · u. */
tp_haptic_pulse tp_feedback_pulse(double amplitude_scale, double urgency);

/* "joint_limit", "workspace_near", ... for one bit. */
const char *tp_warning_name(unsigned bit);

#endif
