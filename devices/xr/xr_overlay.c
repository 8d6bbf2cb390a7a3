/* teleop — the headset's status overlay, rasterised with FreeType into RGBA. */
#include "teleop/xr_overlay.h"

#include <fontconfig/fontconfig.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/console_tap.h"
#include "teleop/controller.h"

struct tp_overlay {
    FT_Library ft;
    FT_Face face;
    int px, line_h, pad;
};

/* ------------------------------------------------------------ status */

void tp_overlay_status_from(tp_overlay_status *o, const tp_console_status *st, const tp_limit_figures *fig,
                            const tp_feedback_output *fb, int64_t now_ns)
{
    memset(o, 0, sizeof *o);
    o->disk_free_mb = -1;
    o->hold = TP_OVERLAY_HOLD_INPUT; /* nothing from the control loop yet */
    for (int s = 0; s < 2; s++)
        o->warnings[s].joint = -1;
    if (st) {
        o->state = st->state;
        o->record = st->record;
        o->episode = st->episode;
        o->state_s = now_ns > st->state_since_ns ? (double)(now_ns - st->state_since_ns) / 1e9 : 0;
        for (int i = 0; i < st->camera_count && i < TP_SESSION_MAX_CAMERAS; i++)
            o->camera_drops += st->cameras[i].dropped + st->cameras[i].missed;
        o->disk_free_mb = st->disk_free_mb;
    }
    if (fig) {
        unsigned f = fig->control_flags;
        o->hold = (f & TP_CONTROL_EMERGENCY)     ? TP_OVERLAY_HOLD_EMERGENCY
                  : (f & TP_CONTROL_ROBOT_STALE) ? TP_OVERLAY_HOLD_ROBOT
                  : (f & TP_CONTROL_INPUT_STALE) ? TP_OVERLAY_HOLD_INPUT
                  : (f & TP_CONTROL_CLUTCH_OPEN) ? TP_OVERLAY_CLUTCH
                                                 : TP_OVERLAY_ENGAGED;
        for (int s = 0; s < 2; s++)
            o->hand_lost[s] = !fig->arm_tracked[s] || !fig->hand_tracked[s];
    }
    if (st && st->emergency)
        o->hold = TP_OVERLAY_HOLD_EMERGENCY;
    if (fb)
        for (int s = 0; s < 2; s++)
            o->warnings[s] = fb->side[s];
}

/* ------------------------------------------------------------ text */

static char *default_font(char *err, size_t errlen)
{
    if (!FcInit()) {
        snprintf(err, errlen, "overlay: fontconfig failed to initialise");
        return NULL;
    }
    FcPattern *pat = FcNameParse((const FcChar8 *)"sans-serif:bold");
    char *file = NULL;
    if (pat) {
        FcConfigSubstitute(NULL, pat, FcMatchPattern);
        FcDefaultSubstitute(pat);
        FcResult res;
        FcPattern *match = FcFontMatch(NULL, pat, &res);
        FcChar8 *path = NULL;
        if (match && FcPatternGetString(match, FC_FILE, 0, &path) == FcResultMatch)
            file = strdup((const char *)path);
        if (match)
            FcPatternDestroy(match);
        FcPatternDestroy(pat);
    }
    if (!file)
        snprintf(err, errlen, "overlay: fontconfig found no sans-serif font (install fonts-dejavu-core)");
    return file;
}

tp_overlay *tp_overlay_create(int px, char *err, size_t errlen)
{
    if (px < 6 || px > 256) {
        snprintf(err, errlen, "overlay: text size %d px is not in 6..256", px);
        return NULL;
    }
    tp_overlay *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(err, errlen, "overlay: out of memory");
        return NULL;
    }
    o->px = px;
    o->line_h = (px * 3 + 1) / 2;
    o->pad = px / 2;
    char *file = default_font(err, errlen);
    if (!file) {
        free(o);
        return NULL;
    }
    FT_Error e = FT_Init_FreeType(&o->ft);
    if (!e)
        e = FT_New_Face(o->ft, file, 0, &o->face);
    if (!e)
        e = FT_Set_Pixel_Sizes(o->face, 0, (FT_UInt)px);
    if (e) {
        snprintf(err, errlen, "overlay: FreeType cannot use font %s (error %d)", file, e);
        free(file);
        tp_overlay_destroy(o);
        return NULL;
    }
    free(file);
    return o;
}

void tp_overlay_destroy(tp_overlay *o)
{
    if (!o)
        return;
    if (o->face)
        FT_Done_Face(o->face);
    if (o->ft)
        FT_Done_FreeType(o->ft);
    free(o);
}

int tp_overlay_height(const tp_overlay *o) { return 2 * o->pad + 4 * o->line_h; }

void tp_overlay_line_origin(const tp_overlay *o, int line, int *x, int *baseline)
{
    *x = o->pad;
    /* The baseline sits a text size down each line (the rest below for descenders). */
    *baseline = o->pad + line * o->line_h + o->px;
}

static void blend(uint8_t *p, uint32_t colour, unsigned coverage)
{
    unsigned a = ((colour & 0xff) * coverage + 127) / 255; /* source alpha 0..255 */
    if (!a)
        return;
    unsigned c[3] = {colour >> 24, (colour >> 16) & 0xff, (colour >> 8) & 0xff};
    unsigned da = p[3];
    unsigned out_a = a + (da * (255 - a) + 127) / 255;
    for (int k = 0; k < 3; k++) {
        /* Straight alpha: weight the destination's colour by its own alpha. */
        unsigned num = c[k] * a * 255 + p[k] * da * (255 - a);
        p[k] = (uint8_t)(out_a ? (num + out_a * 255 / 2) / (out_a * 255) : 0);
    }
    p[3] = (uint8_t)out_a;
}

int tp_overlay_text(tp_overlay *o, uint8_t *rgba, int width, int height, int stride, int x, int baseline,
                    const char *text, uint32_t colour)
{
    FT_UInt prev = 0;
    bool kern = FT_HAS_KERNING(o->face);
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        FT_UInt gi = FT_Get_Char_Index(o->face, *c < 128 ? *c : '?');
        if (kern && prev && gi) {
            FT_Vector d;
            if (!FT_Get_Kerning(o->face, prev, gi, FT_KERNING_DEFAULT, &d))
                x += (int)(d.x >> 6);
        }
        prev = gi;
        if (FT_Load_Glyph(o->face, gi, FT_LOAD_RENDER))
            continue;
        FT_GlyphSlot g = o->face->glyph;
        const FT_Bitmap *bm = &g->bitmap;
        if (bm->pixel_mode == FT_PIXEL_MODE_GRAY)
            for (unsigned r = 0; r < bm->rows; r++) {
                int y = baseline - g->bitmap_top + (int)r;
                if (y < 0 || y >= height)
                    continue;
                for (unsigned k = 0; k < bm->width; k++) {
                    int px = x + g->bitmap_left + (int)k;
                    unsigned cov = bm->buffer[r * (unsigned)bm->pitch + k];
                    if (px >= 0 && px < width && cov)
                        blend(rgba + (size_t)y * (size_t)stride + (size_t)px * 4, colour, cov);
                }
            }
        x += (int)(g->advance.x >> 6);
    }
    return x;
}

int tp_overlay_text_width(tp_overlay *o, const char *text)
{
    uint8_t none[4];
    return tp_overlay_text(o, none, 0, 0, 4, 0, 0, text, 0) ;
}

/* ------------------------------------------------------------ layout */

static const char *state_badge(const tp_overlay_status *s, uint32_t *colour)
{
    *colour = TP_OVERLAY_GREY;
    if (!s->record)
        return "LIVE";
    switch (s->state) {
    case TP_WF_RECORDING: *colour = TP_OVERLAY_RED; return "REC";
    case TP_WF_RESETTING: *colour = TP_OVERLAY_AMBER; return "PAUSED";
    case TP_WF_FINISHED: return "DONE";
    case TP_WF_IDLE: break;
    }
    return "IDLE";
}

static const char *hold_text(tp_overlay_hold h, uint32_t *colour)
{
    *colour = TP_OVERLAY_RED;
    switch (h) {
    case TP_OVERLAY_ENGAGED: *colour = TP_OVERLAY_GREEN; return "ENGAGED";
    case TP_OVERLAY_CLUTCH: *colour = TP_OVERLAY_AMBER; return "CLUTCH RELEASED";
    case TP_OVERLAY_HOLD_EMERGENCY: return "HOLD: emergency";
    case TP_OVERLAY_HOLD_ROBOT: return "HOLD: robot link";
    case TP_OVERLAY_HOLD_INPUT: return "HOLD: no operator input";
    }
    return "";
}

/* The side's warnings, most severe first, into buf; the line's colour. */
static uint32_t warning_text(const tp_side_warnings *w, int side, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "%s ", side ? "R" : "L");
    unsigned a = w->active;
    if (a & TP_WARN_CLAMPED)
        n += (size_t)snprintf(buf + n, n < len ? len - n : 0, " CLAMPED");
    if (a & TP_WARN_WORKSPACE_BEYOND)
        n += (size_t)snprintf(buf + n, n < len ? len - n : 0, " wrist beyond workspace %.0f cm",
                              fabs(w->wrist_edge) * 100);
    if (a & TP_WARN_WORKSPACE_NEAR)
        n += (size_t)snprintf(buf + n, n < len ? len - n : 0, " wrist %.0f cm from edge", w->wrist_edge * 100);
    if (a & TP_WARN_JOINT_LIMIT)
        n += (size_t)snprintf(buf + n, n < len ? len - n : 0, " joint %d %.2f rad from limit", w->joint + 1,
                              w->joint_margin);
    if (a & TP_WARN_TRACKING_LOST)
        n += (size_t)snprintf(buf + n, n < len ? len - n : 0, " not tracked");
    if (a & TP_WARN_HOLDING)
        n += (size_t)snprintf(buf + n, n < len ? len - n : 0, " holding");
    if (!a)
        snprintf(buf + n, n < len ? len - n : 0, " ok");
    return !a ? TP_OVERLAY_GREY : (a & TP_WARN_SEVERE) ? TP_OVERLAY_RED : TP_OVERLAY_AMBER;
}

void tp_overlay_draw(tp_overlay *o, const tp_overlay_status *s, uint8_t *rgba, int width, int height, int stride)
{
    const uint32_t bg = TP_OVERLAY_BACKGROUND;
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
            uint8_t *p = rgba + (size_t)y * (size_t)stride + (size_t)x * 4;
            p[0] = (uint8_t)(bg >> 24), p[1] = (uint8_t)(bg >> 16), p[2] = (uint8_t)(bg >> 8), p[3] = (uint8_t)bg;
        }
    const int gap = o->px;
    char buf[160];
    int x, b;
    uint32_t colour;

    /* Line 1: state, episode and time; disk at the right. */
    tp_overlay_line_origin(o, 0, &x, &b);
    const char *badge = state_badge(s, &colour);
    x = tp_overlay_text(o, rgba, width, height, stride, x, b, badge, colour) + gap;
    int secs = (int)s->state_s;
    if (s->record)
        snprintf(buf, sizeof buf, "Episode %d  %02d:%02d", s->episode, secs / 60, secs % 60);
    else
        snprintf(buf, sizeof buf, "%02d:%02d", secs / 60, secs % 60);
    tp_overlay_text(o, rgba, width, height, stride, x, b, buf, TP_OVERLAY_WHITE);
    if (s->disk_free_mb >= 0) {
        if (s->disk_free_mb >= 1000)
            snprintf(buf, sizeof buf, "disk %.1f GB", s->disk_free_mb / 1000);
        else
            snprintf(buf, sizeof buf, "disk %.0f MB", s->disk_free_mb);
        tp_overlay_text(o, rgba, width, height, stride, width - o->pad - tp_overlay_text_width(o, buf), b, buf,
                        s->disk_free_mb < 1000 ? TP_OVERLAY_AMBER : TP_OVERLAY_WHITE);
    }

    /* Line 2: hold or clutch, lost hands; camera drops at the right. */
    tp_overlay_line_origin(o, 1, &x, &b);
    const char *hold = hold_text(s->hold, &colour);
    x = tp_overlay_text(o, rgba, width, height, stride, x, b, hold, colour) + gap;
    for (int side = 0; side < 2; side++)
        if (s->hand_lost[side])
            x = tp_overlay_text(o, rgba, width, height, stride, x, b, side ? "R hand lost" : "L hand lost",
                                TP_OVERLAY_RED) + gap;
    snprintf(buf, sizeof buf, "drops %lld", s->camera_drops);
    tp_overlay_text(o, rgba, width, height, stride, width - o->pad - tp_overlay_text_width(o, buf), b, buf,
                    s->camera_drops ? TP_OVERLAY_AMBER : TP_OVERLAY_GREY);

    /* Lines 3 and 4: each arm's warnings. */
    for (int side = 0; side < 2; side++) {
        tp_overlay_line_origin(o, 2 + side, &x, &b);
        colour = warning_text(&s->warnings[side], side, buf, sizeof buf);
        tp_overlay_text(o, rgba, width, height, stride, x, b, buf, colour);
    }
}
