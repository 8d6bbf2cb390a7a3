/* teleop — kinematic chains from MJCF (MuJoCo XML) robot descriptions.
 *
 * Loads the file with MuJoCo's own parser and extracts the serial chain from
 * a base body to a tip (a site or a body) as a tp_chain: hinge joints become
 * chain joints, bodies without joints fold into the transforms, and slide,
 * ball or free joints on the path are refused by name. Joint velocity limits
 * come from custom numerics "<joint>.max_velocity" when the model has them.
 * The caller owns the tp_chain; nothing is kept.
 */
#ifndef TELEOP_MJCF_H
#define TELEOP_MJCF_H

#include <stddef.h>

#include "teleop/chain.h"

/* 0, or -1 with a one-line message naming the file and the missing body,
 * site or offending joint. */
int tp_mjcf_chain(const char *path, const char *base_body, const char *tip, tp_chain *out, char *err, size_t errlen);

#endif
