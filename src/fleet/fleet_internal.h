/* teleop — what the fleet library's files share, not for its users. */
#ifndef TELEOP_FLEET_INTERNAL_H
#define TELEOP_FLEET_INTERNAL_H

#include "teleop/s3.h"

/* Fills e (when not NULL) with a local error: no HTTP status, the code and
 * the formatted message. Returns -1, so a failure is `return fleet_fail(...)`. */
int fleet_fail(tp_s3_error *e, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
