/* Test helper for xr_view: the pixel comparisons of the headset view's
 * dumped layers (the replay runtime's TELEOP_XR_REPLAY_DUMP PNGs).
 *
 *   xr_view_pixels camera EPISODE
 *       stdin, one per line: PNG STREAM PTS [X Y]. Decodes the camera stream's
 *       packet with that pts from the episode (FFV1: every packet decodes
 *       alone) and compares it with the PNG: same size, RGB equal pixel for
 *       pixel, alpha 255. Prints one line per input: `ok`, or `differs: ...`
 *       saying where, and whether the PNG is another frame of the stream or
 *       the frame upside down (what went wrong, for the log). With X Y, the
 *       frame is compared with the PNG's region of its size at (X, Y).
 *   xr_view_pixels overlay
 *       stdin, one per line: PNG LINE RRGGBBAA TEXT... The overlay's text
 *       size is the one whose tp_overlay_height is the PNG's height; TEXT
 *       drawn alone in that colour at the start of LINE (0..3) on the
 *       overlay's background (tp_overlay_line_origin, tp_overlay_text) must
 *       equal the PNG over the text's width and the line's height. Prints
 *       `match CORES` (pixels of the glyphs' cores in the colour: > 0 means
 *       the words are there) or `differs: ...`.
 *
 * Exit status: 0 when every line was compared (whatever the outcome), 1 on
 * a usage, file or decoding error (one line on stderr). Reads the episode
 * with SQLite and decodes with teleop's libav decoder (video.h). */
#include <png.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/video.h"
#include "teleop/xr_overlay.h"

typedef struct image {
    int w, h;
    uint8_t *rgba;
} image;

static int read_png(const char *path, image *img)
{
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&pi, path)) {
        fprintf(stderr, "xr_view_pixels: %s: %s\n", path, pi.message);
        return -1;
    }
    pi.format = PNG_FORMAT_RGBA;
    img->w = (int)pi.width;
    img->h = (int)pi.height;
    img->rgba = malloc(PNG_IMAGE_SIZE(pi));
    if (!img->rgba || !png_image_finish_read(&pi, NULL, img->rgba, 0, NULL)) {
        fprintf(stderr, "xr_view_pixels: %s: %s\n", path, pi.message);
        png_image_free(&pi);
        free(img->rgba);
        return -1;
    }
    return 0;
}

/* The decoded frame (RGB, top row first) of STREAM with this pts into rgb
 * (w*h*3, allocated); 0, 1 no such packet, -1 error. */
static int decode_frame(sqlite3 *db, const char *stream, long long pts, uint8_t **rgb, int *w, int *h)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "select s.codec, s.width, s.height, s.extradata, p.data from video_packets p "
                           "join streams s on s.id = p.stream_id where s.name = ? and p.pts = ?",
                           -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "xr_view_pixels: %s\n", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, pts);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return 1;
    }
    const char *codec = (const char *)sqlite3_column_text(st, 0);
    *w = sqlite3_column_int(st, 1);
    *h = sqlite3_column_int(st, 2);
    if (strcmp(codec, "ffv1") != 0) {
        fprintf(stderr, "xr_view_pixels: stream %s is %s, the comparison needs ffv1 (lossless, intra)\n", stream,
                codec);
        sqlite3_finalize(st);
        return -1;
    }
    char err[256];
    tp_video_decoder *dec = tp_video_decoder_create(codec, sqlite3_column_blob(st, 3),
                                                    (size_t)sqlite3_column_bytes(st, 3), *w, *h, err, sizeof err);
    int out = -1;
    tp_video_frame f;
    if (dec && tp_video_decoder_send(dec, sqlite3_column_blob(st, 4), (size_t)sqlite3_column_bytes(st, 4), pts, err,
                                     sizeof err) == 0 &&
        (tp_video_decoder_send(dec, NULL, 0, 0, err, sizeof err) == 0) &&
        tp_video_decoder_receive(dec, &f, err, sizeof err) == 1 && f.width == *w && f.height == *h) {
        *rgb = malloc((size_t)*w * (size_t)*h * 3);
        memcpy(*rgb, f.rgb, (size_t)*w * (size_t)*h * 3);
        out = 0;
    } else {
        fprintf(stderr, "xr_view_pixels: %s frame %lld: cannot decode: %s\n", stream, pts, err);
    }
    tp_video_decoder_destroy(dec);
    sqlite3_finalize(st);
    return out;
}

/* Pixels whose RGB differs (or alpha is not 255); the first one in *x, *y.
 * flipped: compare the PNG's rows bottom up. */
static long count_differences(const image *png, const uint8_t *rgb, bool flipped, int *x, int *y)
{
    long n = 0;
    for (int yy = 0; yy < png->h; yy++) {
        const uint8_t *want = rgb + (size_t)(flipped ? png->h - 1 - yy : yy) * (size_t)png->w * 3;
        const uint8_t *got = png->rgba + (size_t)yy * (size_t)png->w * 4;
        for (int xx = 0; xx < png->w; xx++)
            if (memcmp(got + xx * 4, want + xx * 3, 3) != 0 || got[xx * 4 + 3] != 255) {
                if (n++ == 0) {
                    *x = xx;
                    *y = yy;
                }
            }
    }
    return n;
}

static int camera_mode(const char *episode)
{
    sqlite3 *db;
    char uri[4200];
    snprintf(uri, sizeof uri, "file:%s?mode=ro", episode);
    if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
        fprintf(stderr, "xr_view_pixels: %s: %s\n", episode, sqlite3_errmsg(db));
        sqlite3_close(db);
        return 1;
    }
    char line[4400], png_path[4096], stream[128];
    long long pts;
    int status = 0;
    while (status == 0 && fgets(line, sizeof line, stdin)) {
        int cx = -1, cy = -1;
        int fields = sscanf(line, "%4095s %127s %lld %d %d", png_path, stream, &pts, &cx, &cy);
        if (fields != 3 && fields != 5) {
            fprintf(stderr, "xr_view_pixels: bad input line: %s", line);
            status = 1;
            break;
        }
        image png;
        uint8_t *rgb = NULL;
        int w, h;
        if (read_png(png_path, &png) != 0) {
            status = 1;
            break;
        }
        int r = decode_frame(db, stream, pts, &rgb, &w, &h);
        if (r == 0 && fields == 5) {
            /* the frame's place in a bigger picture (the mirror) */
            if (cx < 0 || cy < 0 || cx + w > png.w || cy + h > png.h) {
                printf("differs: a %dx%d frame at (%d, %d) is outside the %dx%d PNG\n", w, h, cx, cy, png.w, png.h);
                free(rgb);
                free(png.rgba);
                continue;
            }
            uint8_t *crop = malloc((size_t)w * (size_t)h * 4);
            for (int y = 0; y < h; y++)
                memcpy(crop + (size_t)y * (size_t)w * 4, png.rgba + ((size_t)(cy + y) * (size_t)png.w + (size_t)cx) * 4,
                       (size_t)w * 4);
            free(png.rgba);
            png = (image){w, h, crop};
        }
        if (r < 0) {
            status = 1;
        } else if (r == 1) {
            printf("differs: %s has no frame %lld\n", stream, pts);
        } else if (w != png.w || h != png.h) {
            printf("differs: the PNG is %dx%d, %s frames %dx%d\n", png.w, png.h, stream, w, h);
        } else {
            int x = 0, y = 0, fx, fy;
            long n = count_differences(&png, rgb, false, &x, &y);
            if (n == 0) {
                printf("ok\n");
            } else {
                const uint8_t *g = png.rgba + ((size_t)y * (size_t)w + (size_t)x) * 4,
                              *e = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
                printf("differs: %ld of %d pixels, first (%d, %d) is %02x%02x%02x%02x, frame %lld has %02x%02x%02x",
                       n, w * h, x, y, g[0], g[1], g[2], g[3], pts, e[0], e[1], e[2]);
                if (count_differences(&png, rgb, true, &fx, &fy) == 0)
                    printf("; it is that frame upside down");
                for (long long d = -3; d <= 3; d++) {
                    uint8_t *other = NULL;
                    int ow, oh;
                    if (d == 0 || decode_frame(db, stream, pts + d, &other, &ow, &oh) != 0)
                        continue;
                    if (ow == w && oh == h && count_differences(&png, other, false, &fx, &fy) == 0)
                        printf("; it is frame %lld", pts + d);
                    free(other);
                }
                printf("\n");
            }
        }
        free(rgb);
        free(png.rgba);
    }
    sqlite3_close(db);
    return status;
}

static void clear_to_background(uint8_t *p, int w, int h)
{
    for (int i = 0; i < w * h; i++) {
        p[i * 4 + 0] = TP_OVERLAY_BACKGROUND >> 24;
        p[i * 4 + 1] = (TP_OVERLAY_BACKGROUND >> 16) & 0xff;
        p[i * 4 + 2] = (TP_OVERLAY_BACKGROUND >> 8) & 0xff;
        p[i * 4 + 3] = TP_OVERLAY_BACKGROUND & 0xff;
    }
}

/* The text size whose overlay is h pixels high (xr_overlay.c's layout:
 * padding px/2 each side, four lines of 1.5 px), or 0. */
static int text_size_for_height(int h)
{
    for (int px = 4; px < 512; px++)
        if (2 * (px / 2) + 4 * ((px * 3 + 1) / 2) == h)
            return px;
    return 0;
}

static int overlay_mode(void)
{
    char line[4400], png_path[4096], colour_hex[16];
    int text_line, consumed;
    tp_overlay *ov = NULL;
    int ov_px = 0, status = 0;
    while (status == 0 && fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        if (sscanf(line, "%4095s %d %15s %n", png_path, &text_line, colour_hex, &consumed) != 3 || text_line < 0 ||
            text_line > 3 || !line[consumed]) {
            fprintf(stderr, "xr_view_pixels: bad input line: %s\n", line);
            status = 1;
            break;
        }
        const char *text = line + consumed;
        uint32_t colour = (uint32_t)strtoul(colour_hex, NULL, 16);
        image png;
        if (read_png(png_path, &png) != 0) {
            status = 1;
            break;
        }
        int px = text_size_for_height(png.h);
        if (!px) {
            printf("differs: the overlay's height %d is no text size's (tp_overlay_height)\n", png.h);
            free(png.rgba);
            continue;
        }
        if (px != ov_px) {
            char err[256];
            tp_overlay_destroy(ov);
            ov = tp_overlay_create(px, err, sizeof err);
            if (!ov) {
                fprintf(stderr, "xr_view_pixels: %s\n", err);
                free(png.rgba);
                status = 1;
                break;
            }
            ov_px = px;
        }
        uint8_t *ref = malloc((size_t)png.w * (size_t)png.h * 4);
        clear_to_background(ref, png.w, png.h);
        int x, b;
        tp_overlay_line_origin(ov, text_line, &x, &b);
        int end = tp_overlay_text(ov, ref, png.w, png.h, png.w * 4, x, b, text, colour);
        int top = b - px, bottom = b + px / 3, cores = 0;
        bool same = end > x;
        int dx = 0, dy = 0;
        for (int y = top; y < bottom && same; y++)
            for (int xx = x; xx < end && xx < png.w && same; xx++) {
                const uint8_t *p = png.rgba + ((size_t)y * (size_t)png.w + (size_t)xx) * 4,
                              *q = ref + ((size_t)y * (size_t)png.w + (size_t)xx) * 4;
                if (memcmp(p, q, 4) != 0) {
                    same = false;
                    dx = xx;
                    dy = y;
                    printf("differs: pixel (%d, %d) is %02x%02x%02x%02x, '%s' drawn alone %02x%02x%02x%02x\n", dx,
                           dy, p[0], p[1], p[2], p[3], text, q[0], q[1], q[2], q[3]);
                }
                int dr = abs(p[0] - (int)(colour >> 24)), dg = abs(p[1] - (int)((colour >> 16) & 0xff)),
                    db = abs(p[2] - (int)((colour >> 8) & 0xff));
                cores += dr + dg + db < 30 && p[3] > 240;
            }
        if (same)
            printf("match %d\n", cores);
        free(ref);
        free(png.rgba);
    }
    tp_overlay_destroy(ov);
    return status;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && !strcmp(argv[1], "camera"))
        return camera_mode(argv[2]);
    if (argc == 2 && !strcmp(argv[1], "overlay"))
        return overlay_mode();
    fprintf(stderr, "usage: xr_view_pixels camera EPISODE | xr_view_pixels overlay  (input lines on stdin)\n");
    return 1;
}
