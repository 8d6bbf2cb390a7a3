/* teleop — whole-file reads. */
#include "teleop/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *tp_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    /* Grow as we read: works for pipes and files whose size changes. */
    char *buf = NULL;
    size_t used = 0, cap = 0, n;
    do {
        if (cap - used < 65536) {
            cap = cap ? cap * 2 : 131072;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                snprintf(err, errlen, "%s: out of memory", path);
                return NULL;
            }
            buf = nb;
        }
        n = fread(buf + used, 1, cap - used, f);
        used += n;
    } while (n > 0);
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        snprintf(err, errlen, "%s: read error", path);
        return NULL;
    }
    buf[used] = '\0';
    *len = used;
    return buf;
}
