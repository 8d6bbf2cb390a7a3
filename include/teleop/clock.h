/* teleop — station clock.
 *
 * Every sample in teleop is stamped with CLOCK_MONOTONIC nanoseconds taken as
 * close to capture as possible. This module reads that clock, sleeps until an
 * absolute deadline (for fixed-rate loops) and relates it to wall-clock time
 * (stored once per episode). No pointers are kept; callers own all memory.
 */
#ifndef TELEOP_CLOCK_H
#define TELEOP_CLOCK_H

#include <stdint.h>

#define TP_NS_PER_S 1000000000LL

/* CLOCK_MONOTONIC now, in nanoseconds. Safe on the real-time path. */
int64_t tp_now_ns(void);

/* Sleeps until the monotonic time deadline_ns (absolute). Returns at once if
 * the deadline has passed. Restarts after signals. */
void tp_sleep_until_ns(int64_t deadline_ns);

/* CLOCK_REALTIME - CLOCK_MONOTONIC in nanoseconds, sampled now: add it to a
 * monotonic stamp to get Unix time. */
int64_t tp_wall_offset_ns(void);

#endif
