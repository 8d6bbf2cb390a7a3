/* ui kit under Xvfb: a real window and GL context; text in Latin, Chinese
 * and symbols resolves to real glyphs (fontconfig fallback to Noto CJK),
 * primitives and an image land where asked, the screenshot PNG is written
 * and the back buffer reads back what was drawn. */
#include <GL/gl.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uikit.h"

static int failures;
#define CHECK(cond, ...)                                                                                           \
    do {                                                                                                           \
        if (!(cond)) {                                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                   \
            fprintf(stderr, __VA_ARGS__);                                                                          \
            fprintf(stderr, "\n");                                                                                 \
            failures++;                                                                                            \
        }                                                                                                          \
    } while (0)

/* Counts pixels in a framebuffer rectangle (top-left origin) that differ from bg by more than 60 in some channel. */
static int ink(int fb_h, int x, int y, int w, int h, const uint8_t bg[3])
{
    uint8_t *px = malloc((size_t)w * h * 3);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadBuffer(GL_BACK);
    glReadPixels(x, fb_h - y - h, w, h, GL_RGB, GL_UNSIGNED_BYTE, px);
    int n = 0;
    for (int i = 0; i < w * h; i++)
        for (int c = 0; c < 3; c++)
            if (abs(px[i * 3 + c] - bg[c]) > 60) {
                n++;
                break;
            }
    free(px);
    return n;
}

static void pixel(int fb_h, int x, int y, uint8_t out[3])
{
    glReadBuffer(GL_BACK);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadPixels(x, fb_h - y - 1, 1, 1, GL_RGB, GL_UNSIGNED_BYTE, out);
}

int main(int argc, char **argv)
{
    const char *png_path = argc > 1 ? argv[1] : "uikit-test.png";
    char err[512];
    uk_window *w = uk_window_open("uikit test", 480, 200, err, sizeof err);
    if (!w) {
        fprintf(stderr, "FAIL: %s\n", err);
        return 1;
    }
    CHECK(uk_scale(w) == 1.0f, "scale %g under Xvfb", uk_scale(w));
    int fw, fh;
    uk_framebuffer_size(w, &fw, &fh);
    CHECK(fw == 480 && fh == 200, "framebuffer %dx%d", fw, fh);

    /* text metrics: CJK glyphs are wider than Latin ones; the ellipsis cut fits */
    float wa = uk_text_width(w, 20, "ab");
    float wz = uk_text_width(w, 20, "抓取");
    float ws = uk_text_width(w, 20, "★");
    CHECK(wa > 10 && wa < 40, "width of 'ab' %g", wa);
    CHECK(wz > 30 && wz < 50, "width of 抓取 %g (two em-wide glyphs at 20 px)", wz);
    CHECK(ws > 8, "width of ★ %g", ws);
    size_t fit = uk_text_fit(w, 20, "抓取抓取抓取", 45);
    CHECK(fit == 6, "two CJK characters fit in 45 px: %zu bytes", fit);
    bool cjk = false;
    for (int i = 0; i < uk_text_font_count(w); i++)
        if (strstr(uk_text_font_file(w, i), "CJK"))
            cjk = true;
    CHECK(cjk, "fontconfig picked a CJK font for 抓取 (%d fonts)", uk_text_font_count(w));

    static const uint8_t bg[3] = {0x20, 0x20, 0x20};
    uint8_t rgb[16 * 8 * 3];
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 16; x++) {
            uint8_t *p = rgb + (y * 16 + x) * 3;
            p[0] = x < 8 ? 255 : 0;
            p[1] = 0;
            p[2] = x < 8 ? 0 : 255;
        }
    uk_image *img = uk_image_new(16, 8);
    uk_image_update(img, rgb, 16, 8, 16 * 3);
    for (int frame = 0; frame < 2; frame++) { /* the second frame reuses cached glyphs */
        uk_frame_begin(w, uk_rgb(0x202020));
        uk_fill_rect(w, (uk_rect){10, 10, 50, 30}, uk_rgb(0x00ff00));
        uk_line(w, 70, 10, 70, 60, 2, uk_rgb(0xffffff));
        float pts[] = {80, 60, 100, 10, 120, 60};
        uk_polyline(w, pts, 3, 2, uk_rgb(0xffff00));
        uk_image_draw(w, img, (uk_rect){140, 10, 64, 32});
        uk_text(w, 10, 80, 20, uk_rgb(0xffffff), "Latin 抓取 ★", 0);
        uk_clip_push(w, (uk_rect){10, 130, 40, 40});
        uk_fill_rect(w, (uk_rect){0, 120, 300, 60}, uk_rgb(0xff0000)); /* clipped to 40x40 */
        uk_clip_pop(w);
        uk_text(w, 250, 150, 16, uk_rgb(0xffffff), "a long line cut with an ellipsis", 100);
    }
    uint8_t p[3];
    pixel(fh, 30, 20, p);
    CHECK(p[0] < 10 && p[1] > 245 && p[2] < 10, "filled rect green: %d %d %d", p[0], p[1], p[2]);
    pixel(fh, 150, 20, p);
    CHECK(p[0] > 245 && p[2] < 10, "image left half red: %d %d %d", p[0], p[1], p[2]);
    pixel(fh, 195, 20, p);
    CHECK(p[2] > 245 && p[0] < 10, "image right half blue: %d %d %d", p[0], p[1], p[2]);
    pixel(fh, 30, 150, p);
    CHECK(p[0] > 245 && p[1] < 10, "inside clip red: %d %d %d", p[0], p[1], p[2]);
    pixel(fh, 100, 150, p);
    CHECK(p[0] == bg[0] && p[1] == bg[1], "outside clip untouched: %d %d %d", p[0], p[1], p[2]);
    int n_latin = ink(fh, 10, 80, 50, 26, bg), n_cjk = ink(fh, 10 + (int)uk_text_width(w, 20, "Latin "), 80, (int)wz, 26, bg);
    CHECK(n_latin > 40, "Latin text drawn (%d ink pixels)", n_latin);
    CHECK(n_cjk > 60, "CJK text drawn (%d ink pixels)", n_cjk);
    int n_cut = ink(fh, 350, 150, 60, 24, bg);
    CHECK(n_cut == 0, "ellipsized text stays inside 100 px (%d ink pixels beyond)", n_cut);
    CHECK(uk_screenshot_png(w, png_path, err, sizeof err) == 0, "screenshot: %s", err);
    FILE *f = fopen(png_path, "rb");
    unsigned char sig[8] = {0};
    CHECK(f && fread(sig, 1, 8, f) == 8 && !memcmp(sig, "\x89PNG\r\n\x1a\n", 8), "PNG signature in %s", png_path);
    if (f)
        fclose(f);
    uk_frame_end(w);

    char s[32] = "";
    CHECK(uk_utf8_append(s, sizeof s, 0x6293) && uk_utf8_append(s, sizeof s, 0x2605) && !strcmp(s, "抓★"), "append");
    CHECK(uk_utf8_pop(s) && !strcmp(s, "抓"), "pop");
    uint32_t cp;
    CHECK(uk_utf8_decode("\xff", 1, &cp) == 1 && cp == 0xFFFD, "invalid byte → U+FFFD");
    uk_image_free(img);
    uk_window_close(w);
    if (!failures)
        printf("ok\n");
    return failures ? 1 : 0;
}
