/* teleop — the motion safety filter between retargeting and the robot link.
 *
 * Every command passes through tp_safety_filter before it reaches a robot (the
 * simulator included): non-finite values are replaced by the last safe
 * command, positions are clamped inside the joint limits less a margin, and
 * the per-cycle change is clamped to the velocity limit, so a teleport in the
 * input becomes a bounded ramp and a released clutch holds the robot still.
 *
 * tp_safety is caller-owned plain data; the filter allocates nothing and is
 * safe on the control thread.
 */
#ifndef TELEOP_SAFETY_H
#define TELEOP_SAFETY_H

#include <stdbool.h>
#include <stdint.h>

#define TP_SAFETY_MAX_JOINTS 64
/* A clamp is reported (TP_SAFETY_VELOCITY, TP_SAFETY_ACCELERATION) only when
 * it moved a joint's command by more than this (rad): ordinary motion below
 * the caps leaves every command unchanged, so it never reports a clamp. */
#define TP_SAFETY_CLAMP_TOLERANCE 1e-4

enum tp_safety_flag {
    TP_SAFETY_HOLD = 1u << 0,        /* no desired command: held the last one */
    TP_SAFETY_NONFINITE = 1u << 1,   /* a non-finite value was replaced */
    TP_SAFETY_POSITION = 1u << 2,    /* clamped to a position limit */
    TP_SAFETY_VELOCITY = 1u << 3,    /* the velocity limit moved a command by > tolerance */
    TP_SAFETY_ACCELERATION = 1u << 4, /* the acceleration bound (not the velocity limit) did */
};

typedef struct tp_safety {
    int n;
    double lower[TP_SAFETY_MAX_JOINTS], upper[TP_SAFETY_MAX_JOINTS];
    double max_velocity[TP_SAFETY_MAX_JOINTS];
    double max_acceleration[TP_SAFETY_MAX_JOINTS]; /* rad/s^2; 0 = unbounded */
    double last[TP_SAFETY_MAX_JOINTS];
    double last_velocity[TP_SAFETY_MAX_JOINTS];
} tp_safety;

/* Limits are narrowed by margin (rad) at each end; max_velocity in rad/s.
 * Returns -1 when n is out of range or a limit is inconsistent. */
int tp_safety_init(tp_safety *s, int n, const double *lower, const double *upper, const double *max_velocity,
                   double margin);
/* Bounds the change of commanded velocity per cycle (rad/s^2 per joint).
 * A hold still stops at once: braking is the robot's position loop's job,
 * the bound shapes motion toward targets. */
void tp_safety_set_acceleration(tp_safety *s, const double *max_acceleration);
/* Sets the held command (e.g. the robot's measured joints), clamped to limits. */
void tp_safety_reset(tp_safety *s, const double *q);
/* desired NULL means "hold". Writes the command to out and returns flags. */
unsigned tp_safety_filter(tp_safety *s, const double *desired, double dt, double *out);

/* Control-loop watchdog: fed the loop's cycle count from another thread,
 * it reports when the count stops changing for longer than the limit and
 * when it moves again. Plain data; no allocation. */
typedef enum tp_watchdog_event { TP_WATCHDOG_NONE = 0, TP_WATCHDOG_STALL, TP_WATCHDOG_RESUMED } tp_watchdog_event;

typedef struct tp_watchdog {
    int64_t limit_ns;
    long long seen;
    int64_t last_change_ns;
    bool stalled;
} tp_watchdog;

void tp_watchdog_init(tp_watchdog *w, int64_t limit_ns, int64_t now_ns);
/* *for_ns: how long the count had not changed when the event fired. */
tp_watchdog_event tp_watchdog_observe(tp_watchdog *w, long long count, int64_t now_ns, int64_t *for_ns);

#endif
