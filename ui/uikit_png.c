/* teleop ui kit — PNG screenshots of the back buffer (libpng). */
#include <GL/gl.h>
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uikit_internal.h"

static int write_png(const char *path, const uint8_t *rgb, int w, int h, char *err, size_t errlen)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        return -1;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        snprintf(err, errlen, "%s: PNG write failed", path);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 3);
    png_write_info(png, info);
    /* GL rows run bottom up */
    for (int y = h - 1; y >= 0; y--)
        png_write_row(png, (png_const_bytep)(rgb + (size_t)y * w * 3));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    if (fclose(f)) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

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
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        free(rgb);
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    int rc = write_png(tmp, rgb, fw, fh, err, errlen);
    free(rgb);
    if (rc == 0 && rename(tmp, path)) {
        snprintf(err, errlen, "%s: cannot rename from %s: %s", path, tmp, strerror(errno));
        rc = -1;
    }
    if (rc)
        remove(tmp);
    return rc;
}
