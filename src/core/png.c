/* teleop — PNG files of RGB pictures (libpng). */
#include "teleop/png.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <string.h>

static int write_file(const char *path, const char *shown, const uint8_t *rgb, int w, int h, bool bottom_up,
                      char *err, size_t errlen)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot create: %s", shown, strerror(errno));
        return -1;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", shown);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        snprintf(err, errlen, "%s: PNG write failed", shown);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 3);
    png_write_info(png, info);
    for (int i = 0; i < h; i++) {
        int y = bottom_up ? h - 1 - i : i;
        png_write_row(png, (png_const_bytep)(rgb + (size_t)y * (size_t)w * 3));
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    if (fclose(f)) {
        snprintf(err, errlen, "%s: write failed: %s", shown, strerror(errno));
        return -1;
    }
    return 0;
}

int tp_png_write_rgb(const char *path, const uint8_t *rgb, int width, int height, bool bottom_up, char *err,
                     size_t errlen)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    int rc = write_file(tmp, path, rgb, width, height, bottom_up, err, errlen);
    if (rc == 0 && rename(tmp, path)) {
        snprintf(err, errlen, "%s: cannot rename from %s: %s", path, tmp, strerror(errno));
        rc = -1;
    }
    if (rc)
        remove(tmp);
    return rc;
}
