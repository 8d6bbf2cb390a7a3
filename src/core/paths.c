/* teleop — bundled data lookup. */
#include "teleop/paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int tp_find_data(const char *rel, char *out, size_t outlen, char *err, size_t errlen)
{
    const char *dirs[] = {getenv("TELEOP_DATA_DIR"), TELEOP_DATA_INSTALL_DIR, TELEOP_SOURCE_DIR, TELEOP_BUILD_DIR};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (!dirs[i] || !dirs[i][0])
            continue;
        int n = snprintf(out, outlen, "%s/%s", dirs[i], rel);
        if (n > 0 && (size_t)n < outlen && access(out, R_OK) == 0)
            return 0;
    }
    snprintf(err, errlen, "%s: not found in $TELEOP_DATA_DIR, %s, %s or %s", rel, TELEOP_DATA_INSTALL_DIR,
             TELEOP_SOURCE_DIR, TELEOP_BUILD_DIR);
    return -1;
}
