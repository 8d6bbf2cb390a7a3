/* Checks a screenshot of the operator console (teleop run --console
 * --console-screenshot PNG) against the episode recorded in the same run:
 *   - the recording state's badge has the colour of the state the notes
 *     name, with its label drawn in it;
 *   - the status figures' area holds text;
 *   - each camera view is a real picture (not uniform) and is the frame the
 *     notes say it shows: the episode's frame of that capture time, decoded
 *     independently with libav and scaled to the view, differs from the
 *     screenshot by little, and by much more when flipped upside down (so
 *     the comparison can tell pictures apart).
 * Usage: console_check PNG EPISODE STATE
 * Prints the measured figures; exit 0 when every check holds. */
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/episode.h"
#include "teleop/video.h"

static int failures;
#define CHECK(cond, ...)                                                                                           \
    do {                                                                                                           \
        if (!(cond)) {                                                                                             \
            fprintf(stderr, "FAIL: ");                                                                             \
            fprintf(stderr, __VA_ARGS__);                                                                          \
            fprintf(stderr, "\n");                                                                                 \
            failures++;                                                                                            \
        }                                                                                                          \
    } while (0)

typedef struct shot {
    int w, h;
    uint8_t *rgb;
} shot;

static const uint8_t *px(const shot *s, int x, int y) { return s->rgb + ((size_t)y * s->w + x) * 3; }

/* Pixels of r differing from rgb by more than 60 in a channel. */
static int ink(const shot *s, int x0, int y0, int w, int h, uint32_t rgb)
{
    int bg[3] = {(int)(rgb >> 16) & 255, (int)(rgb >> 8) & 255, (int)rgb & 255}, n = 0;
    for (int y = y0; y < y0 + h && y < s->h; y++)
        for (int x = x0; x < x0 + w && x < s->w; x++)
            for (int c = 0; c < 3; c++)
                if (abs(px(s, x, y)[c] - bg[c]) > 60) {
                    n++;
                    break;
                }
    return n;
}

/* The episode's frame captured at t_ns, decoded from the stream's start. */
static uint8_t *episode_frame(const char *path, const char *camera, int64_t t_ns, int *fw, int *fh)
{
    char err[512];
    tp_episode *ep = tp_episode_open(path, err, sizeof err);
    if (!ep) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    const tp_stream_info *si = tp_episode_find_stream(ep, camera);
    uint8_t *out = NULL;
    tp_video_decoder *dec =
        si ? tp_video_decoder_create(si->codec, si->extradata, si->extradata_size, si->width, si->height, err,
                                     sizeof err)
           : NULL;
    tp_episode_cursor *cur = dec ? tp_episode_cursor_open(ep, si->id) : NULL;
    int64_t want_pts = -1;
    tp_episode_row row;
    while (cur && !out && tp_episode_cursor_next(cur, &row) == 1) {
        if (row.t_ns == t_ns)
            want_pts = row.pts;
        if (tp_video_decoder_send(dec, row.bytes, row.size, row.pts, err, sizeof err) != 0)
            break;
        tp_video_frame f;
        while (!out && tp_video_decoder_receive(dec, &f, err, sizeof err) == 1)
            if (want_pts >= 0 && f.pts == want_pts) {
                out = malloc((size_t)f.width * f.height * 3);
                memcpy(out, f.rgb, (size_t)f.width * f.height * 3);
                *fw = f.width;
                *fh = f.height;
            }
    }
    if (!out && dec && want_pts >= 0) { /* the frame was still in the decoder */
        tp_video_decoder_send(dec, NULL, 0, 0, err, sizeof err);
        tp_video_frame f;
        while (!out && tp_video_decoder_receive(dec, &f, err, sizeof err) == 1)
            if (f.pts == want_pts) {
                out = malloc((size_t)f.width * f.height * 3);
                memcpy(out, f.rgb, (size_t)f.width * f.height * 3);
                *fw = f.width;
                *fh = f.height;
            }
    }
    if (want_pts < 0)
        fprintf(stderr, "%s: no %s frame captured at %lld\n", path, camera, (long long)t_ns);
    tp_episode_cursor_close(cur);
    tp_video_decoder_destroy(dec);
    tp_episode_close(ep);
    return out;
}

/* Mean absolute difference per channel between the view (x, y, w, h of the
 * screenshot) and the frame scaled to it (nearest sample at each pixel's
 * centre); flip: the frame upside down. */
static double view_diff(const shot *s, int x0, int y0, int w, int h, const uint8_t *frame, int fw, int fh, bool flip)
{
    double sum = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int sx = (int)((x + 0.5) * fw / w), sy = (int)((y + 0.5) * fh / h);
            if (flip)
                sy = fh - 1 - sy;
            const uint8_t *a = px(s, x0 + x, y0 + y), *b = frame + ((size_t)sy * fw + sx) * 3;
            for (int c = 0; c < 3; c++)
                sum += abs(a[c] - b[c]);
        }
    return sum / ((double)w * h * 3);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: console_check PNG EPISODE STATE\n");
        return 2;
    }
    const char *png_path = argv[1], *episode = argv[2], *want_state = argv[3];
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    shot s = {0};
    if (!png_image_begin_read_from_file(&img, png_path)) {
        fprintf(stderr, "%s: %s\n", png_path, img.message);
        return 1;
    }
    img.format = PNG_FORMAT_RGB;
    s.w = (int)img.width;
    s.h = (int)img.height;
    s.rgb = malloc(PNG_IMAGE_SIZE(img));
    if (!s.rgb || !png_image_finish_read(&img, NULL, s.rgb, 0, NULL)) {
        fprintf(stderr, "%s: cannot read\n", png_path);
        return 1;
    }
    char notes_path[4200];
    snprintf(notes_path, sizeof notes_path, "%s.txt", png_path);
    FILE *notes = fopen(notes_path, "r");
    if (!notes) {
        fprintf(stderr, "%s: missing\n", notes_path);
        return 1;
    }
    char line[512], state[64] = "";
    int cameras = 0;
    bool badge_seen = false, figures_seen = false;
    while (fgets(line, sizeof line, notes)) {
        char name[128];
        int x, y, w, h;
        unsigned rgb;
        long long index, t_ns;
        if (sscanf(line, "state %63s", state) == 1) {
            CHECK(!strcmp(state, want_state), "console state %s, expected %s", state, want_state);
        } else if (sscanf(line, "badge %d %d %d %d %x", &x, &y, &w, &h, &rgb) == 5) {
            badge_seen = true;
            /* The badge's colour fills it (the label aside), the label is drawn in white. */
            const uint8_t *p = px(&s, x + 3, y + 3);
            int bg[3] = {(int)(rgb >> 16) & 255, (int)(rgb >> 8) & 255, (int)rgb & 255};
            printf("badge %02x%02x%02x (expected %06x)\n", p[0], p[1], p[2], rgb);
            CHECK(abs(p[0] - bg[0]) <= 8 && abs(p[1] - bg[1]) <= 8 && abs(p[2] - bg[2]) <= 8,
                  "badge colour %02x%02x%02x, expected %06x", p[0], p[1], p[2], rgb);
            CHECK(!strcmp(want_state, "recording") ? rgb == 0xd83a3a : true, "badge %06x is not the REC red", rgb);
            int label = ink(&s, x, y, w, h, rgb);
            printf("badge label pixels %d\n", label);
            CHECK(label > 100, "badge label: %d pixels of ink", label);
        } else if (sscanf(line, "figures %d %d %d %d", &x, &y, &w, &h) == 4) {
            figures_seen = true;
            int n = ink(&s, x, y, w, h, 0x22262c);
            printf("figures text pixels %d in %dx%d\n", n, w, h);
            CHECK(h >= 5 * 24 && n > 1000, "status figures: %d lines' height, %d pixels of text", h / 24, n);
        } else if (sscanf(line, "camera %127s %d %d %d %d %lld %lld", name, &x, &y, &w, &h, &index, &t_ns) == 7) {
            cameras++;
            CHECK(index >= 0 && w > 100 && h > 100, "camera %s: no frame shown (index %lld, %dx%d)", name, index, w,
                  h);
            if (index < 0 || w <= 100 || h <= 100)
                continue;
            double mean[3] = {0}, var = 0;
            for (int yy = y; yy < y + h; yy++)
                for (int xx = x; xx < x + w; xx++)
                    for (int c = 0; c < 3; c++)
                        mean[c] += px(&s, xx, yy)[c];
            for (int c = 0; c < 3; c++)
                mean[c] /= (double)w * h;
            for (int yy = y; yy < y + h; yy++)
                for (int xx = x; xx < x + w; xx++)
                    for (int c = 0; c < 3; c++)
                        var += pow(px(&s, xx, yy)[c] - mean[c], 2);
            double sd = sqrt(var / ((double)w * h * 3));
            printf("camera %s: frame %lld at %lld ns, view %dx%d, pixel sd %.1f\n", name, index, t_ns, w, h, sd);
            CHECK(sd > 20, "camera %s: view nearly uniform (sd %.1f)", name, sd);
            int fw = 0, fh = 0;
            uint8_t *frame = episode_frame(episode, name, t_ns, &fw, &fh);
            CHECK(frame != NULL, "camera %s: the episode has no frame captured at %lld", name, t_ns);
            if (!frame)
                continue;
            double same = view_diff(&s, x, y, w, h, frame, fw, fh, false);
            double flipped = view_diff(&s, x, y, w, h, frame, fw, fh, true);
            printf("camera %s: mean abs difference to the episode's frame %.2f, to it flipped %.2f\n", name, same,
                   flipped);
            /* Scaling (GL's linear filter against nearest samples) and H.264
             * loss on one side only: a few levels. */
            CHECK(same < 10, "camera %s: view differs from the episode's frame by %.2f", name, same);
            CHECK(flipped > 3 * same && flipped > 15, "camera %s: the comparison cannot tell frames apart (%.2f vs %.2f)",
                  name, same, flipped);
            free(frame);
        }
    }
    fclose(notes);
    CHECK(state[0], "no state in the notes");
    CHECK(badge_seen && figures_seen, "notes lack the badge or the figures");
    CHECK(cameras > 0, "no camera view in the notes");
    free(s.rgb);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
