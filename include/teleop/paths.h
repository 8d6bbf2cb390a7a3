/* teleop — where bundled data lives (robot models, demo motion, configs).
 *
 * Search order for a relative data path: $TELEOP_DATA_DIR, the installed data
 * directory, then the source and build trees this binary was built from (so a
 * fresh clone runs without installing). The result is written to a
 * caller-owned buffer.
 */
#ifndef TELEOP_PATHS_H
#define TELEOP_PATHS_H

#include <stddef.h>

/* Finds rel (e.g. "devices/robot/models/humanoid.xml"). 0 and the full path
 * in out, or -1 with "rel: not found in ..." in err. */
int tp_find_data(const char *rel, char *out, size_t outlen, char *err, size_t errlen);

#endif
