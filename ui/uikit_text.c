/* teleop ui kit — UTF-8 text: FreeType rasterizes, fontconfig picks the
 * font (the default sans-serif, and for each character it lacks the best
 * installed font that has it: Noto CJK for Chinese, Japanese, Korean), and
 * glyphs are packed on shelves into one alpha texture drawn as quads. */
#include <GL/gl.h>
#include <fontconfig/fontconfig.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "uikit_internal.h"

#define MAX_FACES 24
#define ATLAS_SIZE 1024
#define GLYPH_SLOTS 8192 /* power of two: open addressing */
#define CP_SLOTS 4096

typedef struct face {
    char *file;
    int index;
    FT_Face ft;
    int size_px; /* the size last set on ft */
} face;

typedef struct glyph {
    bool used;
    uint16_t face, px;
    uint32_t gid;
    int16_t ax, ay, w, h; /* atlas rectangle */
    int16_t left, top;    /* bitmap offset from the pen on the baseline (top: up) */
    float advance;        /* framebuffer pixels */
} glyph;

typedef struct cp_face {
    bool used;
    uint32_t cp;
    int16_t face; /* -1: no installed font has it */
} cp_face;

struct uk_text_state {
    FT_Library ft;
    face faces[MAX_FACES];
    int nfaces;
    GLuint tex;
    int shelf_x, shelf_y, shelf_h;
    glyph glyphs[GLYPH_SLOTS];
    int nglyphs;
    cp_face cps[CP_SLOTS];
    int ncps;
};

static int add_face(uk_text_state *t, const char *file, int index)
{
    for (int i = 0; i < t->nfaces; i++)
        if (t->faces[i].index == index && !strcmp(t->faces[i].file, file))
            return i;
    if (t->nfaces == MAX_FACES)
        return -1;
    face *f = &t->faces[t->nfaces];
    if (FT_New_Face(t->ft, file, index, &f->ft))
        return -1;
    f->file = strdup(file);
    f->index = index;
    f->size_px = 0;
    if (!f->file) {
        FT_Done_Face(f->ft);
        return -1;
    }
    return t->nfaces++;
}

/* fontconfig's best match for pattern (already holding what is wanted). */
static int match_face(uk_text_state *t, FcPattern *pat, uint32_t need_cp)
{
    FcConfigSubstitute(NULL, pat, FcMatchPattern);
    FcDefaultSubstitute(pat);
    FcResult res;
    FcPattern *m = FcFontMatch(NULL, pat, &res);
    int out = -1;
    if (m) {
        FcChar8 *file = NULL;
        int index = 0;
        FcCharSet *cs = NULL;
        bool has = true;
        if (need_cp && FcPatternGetCharSet(m, FC_CHARSET, 0, &cs) == FcResultMatch)
            has = FcCharSetHasChar(cs, need_cp);
        if (has && FcPatternGetString(m, FC_FILE, 0, &file) == FcResultMatch) {
            FcPatternGetInteger(m, FC_INDEX, 0, &index);
            out = add_face(t, (const char *)file, index);
        }
        FcPatternDestroy(m);
    }
    return out;
}

uk_text_state *uk_text_state_new(void)
{
    uk_text_state *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (FT_Init_FreeType(&t->ft) || !FcInit()) {
        free(t);
        return NULL;
    }
    FcPattern *pat = FcNameParse((const FcChar8 *)"sans-serif");
    int f0 = pat ? match_face(t, pat, 0) : -1;
    if (pat)
        FcPatternDestroy(pat);
    if (f0 != 0) {
        uk_text_state_free(t);
        return NULL;
    }
    glGenTextures(1, &t->tex);
    glBindTexture(GL_TEXTURE_2D, t->tex);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    uint8_t *zero = calloc(ATLAS_SIZE, ATLAS_SIZE);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_ALPHA8, ATLAS_SIZE, ATLAS_SIZE, 0, GL_ALPHA, GL_UNSIGNED_BYTE, zero);
    free(zero);
    t->shelf_x = t->shelf_y = 1;
    return t;
}

void uk_text_state_free(uk_text_state *t)
{
    if (!t)
        return;
    if (t->tex)
        glDeleteTextures(1, &t->tex);
    for (int i = 0; i < t->nfaces; i++) {
        FT_Done_Face(t->faces[i].ft);
        free(t->faces[i].file);
    }
    FT_Done_FreeType(t->ft);
    free(t);
}

int uk_text_font_count(const uk_window *w) { return w->text->nfaces; }

const char *uk_text_font_file(const uk_window *w, int index)
{
    return index >= 0 && index < w->text->nfaces ? w->text->faces[index].file : NULL;
}

static void set_size(face *f, int px)
{
    if (f->size_px != px) {
        FT_Set_Pixel_Sizes(f->ft, 0, (FT_UInt)px);
        f->size_px = px;
    }
}

static int face_for(uk_text_state *t, uint32_t cp)
{
    if (FT_Get_Char_Index(t->faces[0].ft, cp))
        return 0;
    uint32_t h = (cp * 2654435761u) & (CP_SLOTS - 1);
    for (;;) {
        cp_face *s = &t->cps[h];
        if (!s->used)
            break;
        if (s->cp == cp)
            return s->face;
        h = (h + 1) & (CP_SLOTS - 1);
    }
    int found = -1;
    for (int i = 1; i < t->nfaces && found < 0; i++) /* a font already open first: one look-up */
        if (FT_Get_Char_Index(t->faces[i].ft, cp))
            found = i;
    if (found < 0) {
        FcPattern *pat = FcNameParse((const FcChar8 *)"sans-serif");
        FcCharSet *cs = FcCharSetCreate();
        if (pat && cs) {
            FcCharSetAddChar(cs, cp);
            FcPatternAddCharSet(pat, FC_CHARSET, cs);
            found = match_face(t, pat, cp);
        }
        if (cs)
            FcCharSetDestroy(cs);
        if (pat)
            FcPatternDestroy(pat);
        if (found >= 0 && !FT_Get_Char_Index(t->faces[found].ft, cp))
            found = -1;
    }
    if (t->ncps >= CP_SLOTS / 2) { /* keep the table sparse */
        memset(t->cps, 0, sizeof t->cps);
        t->ncps = 0;
        h = (cp * 2654435761u) & (CP_SLOTS - 1);
    }
    t->cps[h] = (cp_face){true, cp, (int16_t)found};
    t->ncps++;
    return found;
}

static void atlas_reset(uk_text_state *t)
{
    memset(t->glyphs, 0, sizeof t->glyphs);
    t->nglyphs = 0;
    t->shelf_x = t->shelf_y = 1;
    t->shelf_h = 0;
}

/* The glyph in the atlas; NULL when the atlas is full (reset and retry). */
static const glyph *get_glyph(uk_text_state *t, int fi, uint32_t gid, int px)
{
    uint32_t h = ((gid * 2654435761u) ^ ((uint32_t)fi * 40503u) ^ ((uint32_t)px * 9973u)) & (GLYPH_SLOTS - 1);
    for (;;) {
        glyph *g = &t->glyphs[h];
        if (!g->used)
            break;
        if (g->gid == gid && g->face == fi && g->px == px)
            return g;
        h = (h + 1) & (GLYPH_SLOTS - 1);
    }
    if (t->nglyphs >= GLYPH_SLOTS / 2)
        return NULL;
    face *f = &t->faces[fi];
    set_size(f, px);
    if (FT_Load_Glyph(f->ft, gid, FT_LOAD_RENDER | FT_LOAD_TARGET_LIGHT))
        return NULL;
    FT_GlyphSlot s = f->ft->glyph;
    FT_Bitmap *bm = &s->bitmap;
    int w = (int)bm->width, hh = (int)bm->rows;
    if (w > ATLAS_SIZE - 2 || hh > ATLAS_SIZE - 2)
        w = hh = 0; /* absurd size: draw nothing, keep the advance */
    if (t->shelf_x + w + 1 > ATLAS_SIZE) {
        t->shelf_x = 1;
        t->shelf_y += t->shelf_h + 1;
        t->shelf_h = 0;
    }
    if (t->shelf_y + hh + 1 > ATLAS_SIZE)
        return NULL;
    glyph *g = &t->glyphs[h];
    *g = (glyph){.used = true, .face = (uint16_t)fi, .px = (uint16_t)px, .gid = gid, .ax = (int16_t)t->shelf_x,
                 .ay = (int16_t)t->shelf_y, .w = (int16_t)w, .h = (int16_t)hh, .left = (int16_t)s->bitmap_left,
                 .top = (int16_t)s->bitmap_top, .advance = s->advance.x / 64.0f};
    if (w && hh) {
        uint8_t *gray = malloc((size_t)w * hh);
        if (gray) {
            for (int y = 0; y < hh; y++)
                for (int x = 0; x < w; x++) {
                    const uint8_t *row = bm->buffer + (ptrdiff_t)y * bm->pitch;
                    gray[y * w + x] = bm->pixel_mode == FT_PIXEL_MODE_MONO ? ((row[x >> 3] >> (7 - (x & 7))) & 1) * 255
                                                                           : row[x];
                }
            glBindTexture(GL_TEXTURE_2D, t->tex);
            glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
            glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
            glTexSubImage2D(GL_TEXTURE_2D, 0, g->ax, g->ay, w, hh, GL_ALPHA, GL_UNSIGNED_BYTE, gray);
            free(gray);
        }
    }
    t->shelf_x += w + 1;
    if (hh > t->shelf_h)
        t->shelf_h = hh;
    t->nglyphs++;
    return g;
}

static int px_of(const uk_window *w, float size)
{
    int px = (int)lroundf(size * w->scale);
    return px < 4 ? 4 : px > 400 ? 400 : px;
}

/* Resolves one code point to a face and glyph index (missing: face 0's
 * .notdef box, so a missing character stays visible). */
static void resolve(uk_text_state *t, uint32_t cp, int *fi, uint32_t *gid)
{
    int f = face_for(t, cp);
    if (f < 0) {
        *fi = 0;
        *gid = 0;
        return;
    }
    *fi = f;
    *gid = FT_Get_Char_Index(t->faces[f].ft, cp);
}

/* Walks the line: advance of each glyph in framebuffer pixels, glyphs
 * loaded into the atlas. Returns bytes consumed up to max_fb (<= 0: all);
 * *width_fb gets the width of what was consumed; false when the atlas ran
 * full. */
static bool walk(uk_window *w, int px, const char *s, float max_fb, size_t *bytes, float *width_fb)
{
    uk_text_state *t = w->text;
    size_t n = strlen(s), i = 0;
    float pen = 0;
    while (i < n && s[i] != '\n') {
        uint32_t cp;
        int len = uk_utf8_decode(s + i, n - i, &cp);
        if (cp < 0x20 || cp == 0x7f) {
            i += len;
            continue;
        }
        int fi;
        uint32_t gid;
        resolve(t, cp, &fi, &gid);
        const glyph *g = get_glyph(t, fi, gid, px);
        if (!g) {
            *bytes = i;
            *width_fb = pen;
            return false;
        }
        float adv = roundf(g->advance);
        if (max_fb > 0 && pen + adv > max_fb + 0.01f)
            break;
        pen += adv;
        i += len;
    }
    *bytes = i;
    *width_fb = pen;
    return true;
}

static bool walk_retry(uk_window *w, int px, const char *s, float max_fb, size_t *bytes, float *width_fb)
{
    if (walk(w, px, s, max_fb, bytes, width_fb))
        return true;
    atlas_reset(w->text); /* full: start over (glyphs already drawn were sent to GL) */
    return walk(w, px, s, max_fb, bytes, width_fb);
}

float uk_text_line_height(uk_window *w, float size)
{
    face *f = &w->text->faces[0];
    set_size(f, px_of(w, size));
    return ceilf((f->ft->size->metrics.ascender - f->ft->size->metrics.descender) / 64.0f) / w->scale;
}

float uk_text_width(uk_window *w, float size, const char *utf8)
{
    size_t b;
    float wf;
    walk_retry(w, px_of(w, size), utf8, 0, &b, &wf);
    return wf / w->scale;
}

size_t uk_text_fit(uk_window *w, float size, const char *utf8, float max_width)
{
    size_t b;
    float wf;
    walk_retry(w, px_of(w, size), utf8, max_width * w->scale, &b, &wf);
    return b;
}

static void draw_run(uk_window *w, int px, float x_fb, float base_fb, const char *s, size_t nbytes)
{
    uk_text_state *t = w->text;
    float inv = 1.0f / ATLAS_SIZE, sc = 1.0f / w->scale, pen = roundf(x_fb);
    size_t i = 0;
    glBegin(GL_QUADS);
    while (i < nbytes) {
        uint32_t cp;
        int len = uk_utf8_decode(s + i, nbytes - i, &cp);
        i += len;
        if (cp < 0x20 || cp == 0x7f)
            continue;
        int fi;
        uint32_t gid;
        resolve(t, cp, &fi, &gid);
        const glyph *g = get_glyph(t, fi, gid, px); /* loaded by walk: a hit */
        if (!g)
            break;
        if (g->w && g->h) {
            float x0 = (pen + g->left) * sc, y0 = (base_fb - g->top) * sc;
            float x1 = x0 + g->w * sc, y1 = y0 + g->h * sc;
            float u0 = g->ax * inv, v0 = g->ay * inv, u1 = (g->ax + g->w) * inv, v1 = (g->ay + g->h) * inv;
            glTexCoord2f(u0, v0);
            glVertex2f(x0, y0);
            glTexCoord2f(u1, v0);
            glVertex2f(x1, y0);
            glTexCoord2f(u1, v1);
            glVertex2f(x1, y1);
            glTexCoord2f(u0, v1);
            glVertex2f(x0, y1);
        }
        pen += roundf(g->advance);
    }
    glEnd();
}

float uk_text(uk_window *w, float x, float y, float size, uk_color c, const char *utf8, float max_width)
{
    uk_text_state *t = w->text;
    int px = px_of(w, size);
    size_t all_bytes, cut_bytes = 0;
    float all_fb, cut_fb = 0, ell_fb = 0;
    static const char ellipsis[] = "\xe2\x80\xa6";
    walk_retry(w, px, utf8, 0, &all_bytes, &all_fb);
    bool cut = max_width > 0 && all_fb > max_width * w->scale + 0.01f;
    if (cut) {
        size_t eb;
        walk_retry(w, px, ellipsis, 0, &eb, &ell_fb);
        float room = max_width * w->scale - ell_fb;
        if (room > 0)
            walk_retry(w, px, utf8, room, &cut_bytes, &cut_fb);
        /* the ellipsis lookups may have reset the atlas: reload the visible part */
        size_t b2;
        float w2;
        if (!walk(w, px, utf8, room > 0 ? room : 0.001f, &b2, &w2) || !walk(w, px, ellipsis, 0, &b2, &w2)) {
            atlas_reset(t);
            walk(w, px, utf8, room > 0 ? room : 0.001f, &b2, &w2);
            walk(w, px, ellipsis, 0, &b2, &w2);
        }
    }
    face *f0 = &t->faces[0];
    set_size(f0, px);
    float base_fb = roundf(y * w->scale + f0->ft->size->metrics.ascender / 64.0f);
    glEnable(GL_TEXTURE_2D);
    glBindTexture(GL_TEXTURE_2D, t->tex);
    glTexEnvi(GL_TEXTURE_ENV, GL_TEXTURE_ENV_MODE, GL_MODULATE);
    glColor4f(c.r, c.g, c.b, c.a);
    float x_fb = x * w->scale;
    if (!cut) {
        draw_run(w, px, x_fb, base_fb, utf8, all_bytes);
    } else {
        draw_run(w, px, x_fb, base_fb, utf8, cut_bytes);
        draw_run(w, px, roundf(x_fb) + cut_fb, base_fb, ellipsis, sizeof ellipsis - 1);
    }
    glDisable(GL_TEXTURE_2D);
    return (cut ? cut_fb + ell_fb : all_fb) / w->scale;
}
