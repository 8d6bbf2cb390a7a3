/* teleop — PNG files of RGB pictures (libpng), for screenshots: the review
 * app's and console's windows, the headset view's desktop mirror.
 *
 * The file is written beside its path as PATH.tmp and renamed into place,
 * so a reader never sees half a picture. The caller owns the pixels.
 */
#ifndef TELEOP_PNG_H
#define TELEOP_PNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* rgb: width*height*3 bytes, rows top first, or bottom first when
 * bottom_up (as OpenGL reads them). 0, or -1 with a one-line message
 * naming the file. */
int tp_png_write_rgb(const char *path, const uint8_t *rgb, int width, int height, bool bottom_up, char *err,
                     size_t errlen);

#endif
