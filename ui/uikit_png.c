/* teleop ui kit — PNG screenshots of the back buffer (libpng). */
#include <GL/gl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/png.h"
#include "uikit_internal.h"

int uk_screenshot_png(uk_window *w, const char *path, char *err, size_t errlen)
{
    int fw = w->fb_w, fh = w->fb_h;
    uint8_t *rgb = malloc((size_t)fw * fh * 3);
    if (!rgb) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    glFinish();
    glReadBuffer(GL_BACK);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glPixelStorei(GL_PACK_ROW_LENGTH, 0);
    glReadPixels(0, 0, fw, fh, GL_RGB, GL_UNSIGNED_BYTE, rgb);
    int rc = tp_png_write_rgb(path, rgb, fw, fh, true, err, errlen);
    free(rgb);
    return rc;
}
