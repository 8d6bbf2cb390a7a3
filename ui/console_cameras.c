/* teleop — the console's camera views: each camera's newest frame from the
 * tap into a GL image (an MJPEG camera's JPEG decoded first). */
#include <stdlib.h>
#include <string.h>

#include "console_internal.h"
#include "teleop/video.h"

static const uint8_t *frame_rgb(console_camera_view *v, const tp_console_frame *f)
{
    if (f->format == TP_PIXEL_RGB24)
        return f->size >= (size_t)f->width * f->height * 3 ? f->data : NULL;
    char err[256];
    if (!v->decoder)
        v->decoder = tp_video_decoder_create("mjpeg", NULL, 0, f->width, f->height, err, sizeof err);
    tp_video_frame out;
    if (!v->decoder || tp_video_decoder_send(v->decoder, f->data, f->size, f->index, err, sizeof err) != 0 ||
        tp_video_decoder_receive(v->decoder, &out, err, sizeof err) != 1 || out.width != f->width ||
        out.height != f->height)
        return NULL; /* a frame the console cannot show: the next one may do */
    return out.rgb;
}

int console_cameras_update(console_camera_view *views, int count, tp_console_tap *tap)
{
    int changed = 0;
    for (int i = 0; i < count; i++) {
        console_camera_view *v = &views[i];
        tp_console_frame f;
        bool fresh = false;
        if (!tp_console_tap_frame(tap, i, &f, &fresh) || !fresh)
            continue;
        const uint8_t *rgb = frame_rgb(v, &f);
        if (!rgb)
            continue;
        if (!v->image)
            v->image = uk_image_new(f.width, f.height);
        if (!v->image)
            continue;
        uk_image_update(v->image, rgb, f.width, f.height, f.width * 3);
        v->width = f.width;
        v->height = f.height;
        v->shown_index = f.index;
        v->shown_t_ns = f.t_ns;
        v->frames_shown++;
        changed++;
    }
    return changed;
}

void console_cameras_free(console_camera_view *views, int count)
{
    for (int i = 0; i < count; i++) {
        uk_image_free(views[i].image);
        tp_video_decoder_destroy(views[i].decoder);
        memset(&views[i], 0, sizeof views[i]);
    }
}
