/* teleop — recorded camera frames decoded at the grid (see camera_frames.h). */
#include "camera_frames.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include "teleop/episode.h"

struct tp_camera_frames {
    const tp_export_episode *e;
    const tp_export_camera *c;
    tp_episode *ep;
    tp_episode_cursor *cur;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frame;
    struct SwsContext *sws;
    uint8_t *rgb;
    int64_t rgb_seq; /* the recorded frame in rgb, -1: none yet */
    int64_t next;    /* the next grid frame */
    bool seen_key, flushed, ended;
};

void tp_camera_frames_close(tp_camera_frames *f)
{
    if (!f)
        return;
    if (f->cur)
        tp_episode_cursor_close(f->cur);
    if (f->ep)
        tp_episode_close(f->ep);
    avcodec_free_context(&f->dec);
    av_packet_free(&f->pkt);
    av_frame_free(&f->frame);
    sws_freeContext(f->sws);
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
    const AVCodec *codec = avcodec_find_decoder_by_name(c->codec);
    if (!codec) {
        snprintf(err, errlen, "%s: camera %s: no decoder for codec '%s'", e->path, c->name, c->codec);
        goto fail;
    }
    f->dec = avcodec_alloc_context3(codec);
    f->pkt = av_packet_alloc();
    f->frame = av_frame_alloc();
    f->rgb = malloc((size_t)c->width * (size_t)c->height * 3);
    if (!f->dec || !f->pkt || !f->frame || !f->rgb) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    f->dec->width = c->width;
    f->dec->height = c->height;
    f->dec->thread_count = 1; /* frames come back in order, without a frame-thread delay */
    if (c->extradata_size) {
        f->dec->extradata = av_mallocz(c->extradata_size + AV_INPUT_BUFFER_PADDING_SIZE);
        if (!f->dec->extradata) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        memcpy(f->dec->extradata, c->extradata, c->extradata_size);
        f->dec->extradata_size = (int)c->extradata_size;
    }
    if (avcodec_open2(f->dec, codec, NULL) < 0) {
        snprintf(err, errlen, "%s: camera %s: cannot open the %s decoder", e->path, c->name, c->codec);
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

static int to_rgb(tp_camera_frames *f, char *err, size_t errlen)
{
    AVFrame *fr = f->frame;
    if (fr->width != f->c->width || fr->height != f->c->height) {
        snprintf(err, errlen, "%s: camera %s: a decoded frame is %dx%d, the stream %dx%d", f->e->path, f->c->name,
                 fr->width, fr->height, f->c->width, f->c->height);
        return -1;
    }
    f->sws = sws_getCachedContext(f->sws, fr->width, fr->height, fr->format, fr->width, fr->height, AV_PIX_FMT_RGB24,
                                  SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
    if (!f->sws) {
        snprintf(err, errlen, "%s: camera %s: cannot convert %s to RGB", f->e->path, f->c->name,
                 av_get_pix_fmt_name(fr->format));
        return -1;
    }
    /* the colour matrix and range the stream declares (BT.601 when unspecified) */
    int space = fr->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_ITU601 : (int)fr->colorspace;
    bool full = fr->color_range == AVCOL_RANGE_JPEG || fr->format == AV_PIX_FMT_YUVJ420P ||
                fr->format == AV_PIX_FMT_YUVJ422P || fr->format == AV_PIX_FMT_YUVJ444P;
    sws_setColorspaceDetails(f->sws, sws_getCoefficients(space), full, sws_getCoefficients(SWS_CS_ITU601), 1, 0,
                             1 << 16, 1 << 16);
    uint8_t *dst[4] = {f->rgb};
    int stride[4] = {f->c->width * 3};
    sws_scale(f->sws, (const uint8_t *const *)fr->data, fr->linesize, 0, fr->height, dst, stride);
    return 0;
}

/* Decodes the next frame into f->frame: 1, 0 at the end, -1. */
static int decode_one(tp_camera_frames *f, char *err, size_t errlen)
{
    for (;;) {
        int rc = avcodec_receive_frame(f->dec, f->frame);
        if (rc == 0)
            return 1;
        if (rc == AVERROR_EOF)
            return 0;
        if (rc != AVERROR(EAGAIN)) {
            snprintf(err, errlen, "%s: camera %s: undecodable video", f->e->path, f->c->name);
            return -1;
        }
        if (f->flushed)
            return 0;
        tp_episode_row row;
        int r = f->ended ? 0 : tp_episode_cursor_next(f->cur, &row);
        if (r < 0) {
            snprintf(err, errlen, "%s: camera %s: unreadable packet", f->e->path, f->c->name);
            return -1;
        }
        if (r == 0 || row.seq > f->c->frame_seq[f->e->n_frames - 1]) {
            f->ended = true;
            f->flushed = true;
            rc = avcodec_send_packet(f->dec, NULL);
        } else {
            if (!row.keyframe && !f->seen_key)
                continue; /* nothing before the first keyframe decodes */
            f->seen_key = true;
            f->pkt->data = (uint8_t *)row.bytes;
            f->pkt->size = (int)row.size;
            f->pkt->pts = f->pkt->dts = row.seq;
            f->pkt->flags = row.keyframe ? AV_PKT_FLAG_KEY : 0;
            rc = avcodec_send_packet(f->dec, f->pkt);
            f->pkt->data = NULL;
            f->pkt->size = 0;
        }
        if (rc < 0 && rc != AVERROR_EOF) {
            snprintf(err, errlen, "%s: camera %s: packet rejected by the decoder", f->e->path, f->c->name);
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
        int r = decode_one(f, err, errlen);
        if (r < 0)
            return -1;
        int64_t seq = f->frame->pts;
        if (r == 0 || seq > want) {
            if (r)
                av_frame_unref(f->frame);
            snprintf(err, errlen, "%s: camera %s: recorded frame %" PRId64 " (grid frame %" PRId64 ") does not decode",
                     f->e->path, f->c->name, want, f->next);
            return -1;
        }
        if (seq == want && to_rgb(f, err, errlen)) {
            av_frame_unref(f->frame);
            return -1;
        }
        if (seq == want)
            f->rgb_seq = seq;
        av_frame_unref(f->frame);
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

int tp_jpeg_encode(const uint8_t *rgb, int width, int height, int quality, int bgr_order, uint8_t **out,
                   size_t *size)
{
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr jerr;
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cinfo);
    unsigned char *buf = NULL;
    unsigned long len = 0;
    jpeg_mem_dest(&cinfo, &buf, &len);
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
