/* teleop — creating output files with one mode policy (output_file.h). */
#include "teleop/output_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *tp_output_open(const char *path, char *err, size_t errlen)
{
    /* O_NONBLOCK: a FIFO in the path's place must not block the open;
     * O_NOFOLLOW: a planted link is not followed to a file not ours. */
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, TP_FILE_MODE);
    if (fd < 0) {
        if (errno == ELOOP)
            snprintf(err, errlen, "%s: is a symbolic link; not written", path);
        else if (errno == ENXIO || errno == EISDIR)
            snprintf(err, errlen, "%s: not a regular file; not written", path);
        else
            snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file; not written", path);
        close(fd);
        return NULL;
    }
    int flags = fcntl(fd, F_GETFL);
    if (ftruncate(fd, 0) != 0 || flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}
