/* teleop — station clock on CLOCK_MONOTONIC. */
#include "teleop/clock.h"

#include <errno.h>
#include <time.h>

static int64_t ts_to_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * TP_NS_PER_S + ts->tv_nsec;
}

int64_t tp_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts_to_ns(&ts);
}

void tp_sleep_until_ns(int64_t deadline_ns)
{
    struct timespec ts = {
        .tv_sec = (time_t)(deadline_ns / TP_NS_PER_S),
        .tv_nsec = (long)(deadline_ns % TP_NS_PER_S),
    };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

int64_t tp_wall_offset_ns(void)
{
    /* Bracket the realtime read with two monotonic reads so the offset is
     * not skewed by a preemption between the calls. */
    struct timespec m0, r, m1;
    clock_gettime(CLOCK_MONOTONIC, &m0);
    clock_gettime(CLOCK_REALTIME, &r);
    clock_gettime(CLOCK_MONOTONIC, &m1);
    int64_t mono_mid = ts_to_ns(&m0) + (ts_to_ns(&m1) - ts_to_ns(&m0)) / 2;
    return ts_to_ns(&r) - mono_mid;
}
