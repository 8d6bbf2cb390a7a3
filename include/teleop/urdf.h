/* teleop — robot descriptions from URDF (kinematics only).
 *
 * Reads links and joints (origin, axis, limits) from a URDF file; meshes,
 * inertia, materials, transmissions and `package://` references are ignored,
 * so a description whose mesh files are missing still loads. A serial chain
 * between two named links is extracted as a tp_chain for FK and IK.
 *
 * Memory: tp_urdf_load/parse return a description owned by the caller
 * (tp_urdf_free). tp_urdf_chain fills a caller-owned tp_chain and keeps no
 * reference to the description.
 */
#ifndef TELEOP_URDF_H
#define TELEOP_URDF_H

#include <stddef.h>

#include "teleop/chain.h"

typedef struct tp_urdf tp_urdf;

/* NULL with a one-line message ("FILE:LINE: ...") on failure. */
tp_urdf *tp_urdf_load(const char *path, char *err, size_t errlen);
tp_urdf *tp_urdf_parse(const char *xml, size_t len, const char *name, char *err, size_t errlen);
void tp_urdf_free(tp_urdf *u);

const char *tp_urdf_robot_name(const tp_urdf *u);
int tp_urdf_link_count(const tp_urdf *u);
int tp_urdf_joint_count(const tp_urdf *u);

/* The serial chain from base link to tip link: revolute and continuous joints
 * become chain joints, fixed joints fold into the transforms. Errors name the
 * missing link, a tip that is not below the base, or an unsupported joint type
 * (prismatic, floating, planar) on the path. 0 or -1. */
int tp_urdf_chain(const tp_urdf *u, const char *base_link, const char *tip_link, tp_chain *out, char *err,
                  size_t errlen);

#endif
