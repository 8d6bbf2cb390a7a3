/* teleop — recorded camera frames decoded at the grid (see camera_frames.h). */
#include "camera_frames.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "teleop/episode.h"
#include "teleop/video.h"

struct tp_camera_frames {
    const tp_export_episode *e;
    const tp_export_camera *c;
    tp_episode *ep;
    tp_episode_cursor *cur;
    tp_video_decoder *dec;
    uint8_t *rgb;
    int64_t rgb_seq; /* the recorded frame in rgb, -1: none yet */
    int64_t next;    /* the next grid frame */
    bool seen_key, flushed;
};

void tp_camera_frames_close(tp_camera_frames *f)
{
    if (!f)
        return;
    if (f->cur)
        tp_episode_cursor_close(f->cur);
    if (f->ep)
        tp_episode_close(f->ep);
    tp_video_decoder_destroy(f->dec);
    free(f->rgb);
    free(f);
}

tp_camera_frames *tp_camera_frames_open(const tp_export_episode *e, int cam, char *err, size_t errlen)
{
    const tp_export_camera *c = &e->cameras[cam];
    tp_camera_frames *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->e = e;
    f->c = c;
    f->rgb_seq = -1;
    char msg[512];
    f->rgb = malloc((size_t)c->width * (size_t)c->height * 3);
    f->dec = tp_video_decoder_create(c->codec, c->extradata, c->extradata_size, c->width, c->height, msg, sizeof msg);
    if (!f->dec) {
        snprintf(err, errlen, "%s: camera %s: %s", e->path, c->name, msg);
        goto fail;
    }
    if (!f->rgb) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    f->ep = tp_episode_open(e->path, err, errlen);
    if (!f->ep)
        goto fail;
    f->cur = tp_episode_cursor_open(f->ep, c->stream_id);
    if (!f->cur) {
        snprintf(err, errlen, "%s: cannot read camera %s", e->path, c->name);
        goto fail;
    }
    return f;
fail:
    tp_camera_frames_close(f);
    return NULL;
}

/* The next decoded frame: 1, 0 at the end, -1. */
static int decode_one(tp_camera_frames *f, tp_video_frame *fr, char *err, size_t errlen)
{
    char msg[512];
    for (;;) {
        int rc = tp_video_decoder_receive(f->dec, fr, msg, sizeof msg);
        if (rc < 0) {
            snprintf(err, errlen, "%s: camera %s: %s", f->e->path, f->c->name, msg);
            return -1;
        }
        if (rc == 1)
            return 1;
        if (f->flushed)
            return 0;
        tp_episode_row row;
        int r = tp_episode_cursor_next(f->cur, &row);
        if (r < 0) {
            snprintf(err, errlen, "%s: camera %s: unreadable packet", f->e->path, f->c->name);
            return -1;
        }
        if (r == 0 || row.seq > f->c->frame_seq[f->e->n_frames - 1]) {
            f->flushed = true;
            rc = tp_video_decoder_send(f->dec, NULL, 0, 0, msg, sizeof msg);
        } else if (!row.keyframe && !f->seen_key) {
            continue; /* nothing before the first keyframe decodes */
        } else {
            f->seen_key = true;
            rc = tp_video_decoder_send(f->dec, row.bytes, row.size, row.seq, msg, sizeof msg);
        }
        if (rc < 0) {
            snprintf(err, errlen, "%s: camera %s: %s", f->e->path, f->c->name, msg);
            return -1;
        }
    }
}

int tp_camera_frames_next(tp_camera_frames *f, const uint8_t **rgb, char *err, size_t errlen)
{
    if (f->next >= f->e->n_frames)
        return 0;
    int64_t want = f->c->frame_seq[f->next];
    while (f->rgb_seq < want) {
        tp_video_frame fr;
        int r = decode_one(f, &fr, err, errlen);
        if (r < 0)
            return -1;
        if (r == 0 || fr.pts > want) {
            snprintf(err, errlen, "%s: camera %s: recorded frame %" PRId64 " (grid frame %" PRId64 ") does not decode",
                     f->e->path, f->c->name, want, f->next);
            return -1;
        }
        if (fr.pts == want) {
            if (fr.width != f->c->width || fr.height != f->c->height) {
                snprintf(err, errlen, "%s: camera %s: a decoded frame is %dx%d, the stream %dx%d", f->e->path,
                         f->c->name, fr.width, fr.height, f->c->width, f->c->height);
                return -1;
            }
            memcpy(f->rgb, fr.rgb, (size_t)fr.width * (size_t)fr.height * 3);
            f->rgb_seq = want;
        }
    }
    if (f->rgb_seq != want) {
        snprintf(err, errlen, "%s: camera %s: grid frames go back in time at grid frame %" PRId64, f->e->path,
                 f->c->name, f->next);
        return -1;
    }
    *rgb = f->rgb;
    f->next++;
    return 1;
}

/* libjpeg reports errors by calling error_exit, which by default exits the
 * process: jump back to the caller instead. */
typedef struct jpeg_failure {
    struct jpeg_error_mgr mgr;
    jmp_buf back;
} jpeg_failure;

static void jpeg_error_exit(j_common_ptr cinfo)
{
    longjmp(((jpeg_failure *)cinfo->err)->back, 1);
}

int tp_jpeg_encode(const uint8_t *rgb, int width, int height, int quality, int bgr_order, uint8_t **out,
                   size_t *size)
{
    struct jpeg_compress_struct cinfo;
    jpeg_failure jerr;
    /* volatile: read after longjmp */
    unsigned char *volatile buf = NULL;
    unsigned long len = 0;
    cinfo.err = jpeg_std_error(&jerr.mgr);
    jerr.mgr.error_exit = jpeg_error_exit;
    if (setjmp(jerr.back)) {
        jpeg_destroy_compress(&cinfo);
        free(buf);
        return -1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, (unsigned char **)&buf, &len);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = 3;
    cinfo.in_color_space = bgr_order ? JCS_EXT_BGR : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)cinfo.next_scanline * (size_t)width * 3);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    if (!buf)
        return -1;
    *out = buf;
    *size = len;
    return 0;
}
