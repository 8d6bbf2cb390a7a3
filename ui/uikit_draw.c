/* teleop ui kit — 2D primitives in logical pixels (fixed-function GL, the
 * same context MuJoCo's renderer uses), clipping and RGB images. */
#include <GL/gl.h>
#include <math.h>
#include <stdlib.h>

#include "uikit_internal.h"

struct uk_image {
    GLuint tex;
    int width, height;
    bool flipped; /* filled from the framebuffer: rows bottom up */
};

void uk_apply_clip(uk_window *w)
{
    if (!w->clip_depth) {
        glDisable(GL_SCISSOR_TEST);
        return;
    }
    uk_rect r = w->clip[w->clip_depth - 1];
    float s = w->scale;
    int x0 = (int)floorf(r.x * s), y0 = (int)floorf(r.y * s);
    int x1 = (int)ceilf((r.x + r.w) * s), y1 = (int)ceilf((r.y + r.h) * s);
    if (x1 < x0)
        x1 = x0;
    if (y1 < y0)
        y1 = y0;
    glEnable(GL_SCISSOR_TEST);
    glScissor(x0, w->fb_h - y1, x1 - x0, y1 - y0); /* GL counts rows from the bottom */
}

void uk_clip_push(uk_window *w, uk_rect r)
{
    if (w->clip_depth) { /* intersect with the enclosing clip */
        uk_rect p = w->clip[w->clip_depth - 1];
        float x0 = fmaxf(r.x, p.x), y0 = fmaxf(r.y, p.y);
        float x1 = fminf(r.x + r.w, p.x + p.w), y1 = fminf(r.y + r.h, p.y + p.h);
        r = (uk_rect){x0, y0, fmaxf(0, x1 - x0), fmaxf(0, y1 - y0)};
    }
    if (w->clip_depth < UK_CLIP_DEPTH)
        w->clip[w->clip_depth++] = r;
    uk_apply_clip(w);
}

void uk_clip_pop(uk_window *w)
{
    if (w->clip_depth)
        w->clip_depth--;
    uk_apply_clip(w);
}

void uk_fill_rect(uk_window *w, uk_rect r, uk_color c)
{
    (void)w;
    glColor4f(c.r, c.g, c.b, c.a);
    glBegin(GL_QUADS);
    glVertex2f(r.x, r.y);
    glVertex2f(r.x + r.w, r.y);
    glVertex2f(r.x + r.w, r.y + r.h);
    glVertex2f(r.x, r.y + r.h);
    glEnd();
}

void uk_stroke_rect(uk_window *w, uk_rect r, float lw, uk_color c)
{
    uk_fill_rect(w, (uk_rect){r.x, r.y, r.w, lw}, c);
    uk_fill_rect(w, (uk_rect){r.x, r.y + r.h - lw, r.w, lw}, c);
    uk_fill_rect(w, (uk_rect){r.x, r.y + lw, lw, r.h - 2 * lw}, c);
    uk_fill_rect(w, (uk_rect){r.x + r.w - lw, r.y + lw, lw, r.h - 2 * lw}, c);
}

void uk_line(uk_window *w, float x0, float y0, float x1, float y1, float lw, uk_color c)
{
    glLineWidth(lw * w->scale);
    glColor4f(c.r, c.g, c.b, c.a);
    glBegin(GL_LINES);
    glVertex2f(x0, y0);
    glVertex2f(x1, y1);
    glEnd();
}

void uk_polyline(uk_window *w, const float *xy, int n, float lw, uk_color c)
{
    glLineWidth(lw * w->scale);
    glColor4f(c.r, c.g, c.b, c.a);
    bool open = false;
    for (int i = 0; i < n; i++) {
        float x = xy[2 * i], y = xy[2 * i + 1];
        if (!isfinite(x) || !isfinite(y)) {
            if (open)
                glEnd();
            open = false;
            continue;
        }
        if (!open) {
            glBegin(GL_LINE_STRIP);
            open = true;
        }
        glVertex2f(x, y);
    }
    if (open)
        glEnd();
}

void uk_fill_triangle(uk_window *w, float x0, float y0, float x1, float y1, float x2, float y2, uk_color c)
{
    (void)w;
    glColor4f(c.r, c.g, c.b, c.a);
    glBegin(GL_TRIANGLES);
    glVertex2f(x0, y0);
    glVertex2f(x1, y1);
    glVertex2f(x2, y2);
    glEnd();
}

uk_image *uk_image_new(int width, int height)
{
    uk_image *img = calloc(1, sizeof *img);
    if (!img)
        return NULL;
    glGenTextures(1, &img->tex);
    glBindTexture(GL_TEXTURE_2D, img->tex);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    if (width > 0 && height > 0)
        glTexImage2D(GL_TEXTURE_2D, 0, GL_RGB8, width, height, 0, GL_RGB, GL_UNSIGNED_BYTE, NULL);
    img->width = width > 0 ? width : 0;
    img->height = height > 0 ? height : 0;
    return img;
}

void uk_image_free(uk_image *img)
{
    if (!img)
        return;
    glDeleteTextures(1, &img->tex);
    free(img);
}

void uk_image_update(uk_image *img, const uint8_t *rgb, int width, int height, int stride)
{
    img->flipped = false;
    glBindTexture(GL_TEXTURE_2D, img->tex);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glPixelStorei(GL_UNPACK_ROW_LENGTH, stride / 3);
    if (width != img->width || height != img->height) {
        glTexImage2D(GL_TEXTURE_2D, 0, GL_RGB8, width, height, 0, GL_RGB, GL_UNSIGNED_BYTE, rgb);
        img->width = width;
        img->height = height;
    } else {
        glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE, rgb);
    }
    glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
}

int uk_image_width(const uk_image *img) { return img->width; }
int uk_image_height(const uk_image *img) { return img->height; }

void uk_image_draw(uk_window *w, const uk_image *img, uk_rect r)
{
    if (!img->width || !img->height)
        return;
    glEnable(GL_TEXTURE_2D);
    glBindTexture(GL_TEXTURE_2D, img->tex);
    /* a whole-number zoom keeps every source pixel sharp (and comparable) */
    float zx = r.w * w->scale / img->width, zy = r.h * w->scale / img->height;
    bool whole = fabsf(zx - roundf(zx)) < 1e-3f && fabsf(zy - roundf(zy)) < 1e-3f && zx >= 1;
    GLint filter = whole ? GL_NEAREST : GL_LINEAR;
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, filter);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, filter);
    glTexEnvi(GL_TEXTURE_ENV, GL_TEXTURE_ENV_MODE, GL_REPLACE);
    glColor4f(1, 1, 1, 1);
    float v0 = img->flipped ? 1.0f : 0.0f, v1 = 1.0f - v0;
    glBegin(GL_QUADS);
    glTexCoord2f(0, v0);
    glVertex2f(r.x, r.y);
    glTexCoord2f(1, v0);
    glVertex2f(r.x + r.w, r.y);
    glTexCoord2f(1, v1);
    glVertex2f(r.x + r.w, r.y + r.h);
    glTexCoord2f(0, v1);
    glVertex2f(r.x, r.y + r.h);
    glEnd();
    glDisable(GL_TEXTURE_2D);
}

void uk_image_capture(uk_window *w, uk_image *img, uk_rect r)
{
    int x = (int)lroundf(r.x * w->scale), y = (int)lroundf(r.y * w->scale);
    int width = (int)lroundf(r.w * w->scale), height = (int)lroundf(r.h * w->scale);
    if (width <= 0 || height <= 0)
        return;
    glBindTexture(GL_TEXTURE_2D, img->tex);
    glReadBuffer(GL_BACK);
    if (width != img->width || height != img->height) {
        glTexImage2D(GL_TEXTURE_2D, 0, GL_RGB8, width, height, 0, GL_RGB, GL_UNSIGNED_BYTE, NULL);
        img->width = width;
        img->height = height;
    }
    /* GL rows run bottom up: the texture's first row is the rectangle's bottom */
    glCopyTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, x, w->fb_h - y - height, width, height);
    img->flipped = true;
}
