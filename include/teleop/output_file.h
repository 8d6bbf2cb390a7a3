/* teleop — creating the files teleop writes besides episodes (calibration
 * files, IK target sets, generated motions).
 *
 * One policy for every file teleop creates, episodes included
 * (src/record/episode_writer.c): mode TP_FILE_MODE (0644) less what the
 * umask removes, so no file of ours is ever group- or world-writable, even
 * with umask 000. An existing path is replaced only when it is a regular
 * file; a FIFO, a device, a directory or a symbolic link in its place is
 * refused in one line without blocking or following it.
 *
 * Memory: the FILE is the caller's (fclose it and check the result).
 */
#ifndef TELEOP_OUTPUT_FILE_H
#define TELEOP_OUTPUT_FILE_H

#include <stddef.h>
#include <stdio.h>

#define TP_FILE_MODE 0644

/* Creates or truncates path for writing. NULL with "PATH: reason" in err. */
FILE *tp_output_open(const char *path, char *err, size_t errlen);

#endif
