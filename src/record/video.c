/* teleop — live video encode/decode with libavcodec (H.264 via libx264, FFV1). */
#include "teleop/video.h"

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tp_video_encoder {
    /* Passthrough (codec "mjpeg"): no libav encoder; the compressed frame a
     * camera delivered is handed back as the packet, byte for byte. */
    bool passthrough;
    uint8_t *pass_data;
    size_t pass_size, pass_cap;
    int64_t pass_pts;
    bool pass_ready;
    AVCodecContext *ctx;
    AVFrame *frame;
    AVPacket *pkt;
    struct SwsContext *sws;
    char codec[16];
    int width, height;
};

struct tp_video_decoder {
    AVCodecContext *ctx;
    AVFrame *frame;
    AVPacket *pkt;
    struct SwsContext *sws;
    uint8_t *rgb;
    size_t rgb_size;
    uint8_t *in; /* packet bytes plus the zero padding libavcodec reads past the end */
    unsigned in_size;
    int sws_w, sws_h, sws_fmt;
};

static void av_err(char *err, size_t errlen, const char *what, int code)
{
    char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(code, buf, sizeof buf);
    snprintf(err, errlen, "%s: %s", what, buf);
}

/* libx264's statistics and libav's per-packet notices go to stderr by
 * default; our errors come back as return codes with messages instead. */
static void quiet_libav(void)
{
    if (av_log_get_level() == AV_LOG_INFO)
        av_log_set_level(AV_LOG_QUIET);
}

void tp_video_encoder_default_config(tp_video_encoder_config *cfg, int width, int height, double fps)
{
    cfg->width = width;
    cfg->height = height;
    cfg->fps = fps;
    cfg->codec = "h264";
    cfg->preset = "veryfast";
    cfg->crf = 23;
    cfg->gop = (int)(fps + 0.5);
    cfg->threads = 1;
}

tp_video_encoder *tp_video_encoder_create(const tp_video_encoder_config *cfg, char *err, size_t errlen)
{
    quiet_libav();
    bool h264 = !strcmp(cfg->codec, "h264");
    bool ffv1 = !strcmp(cfg->codec, "ffv1");
    if (!strcmp(cfg->codec, "mjpeg")) {
        tp_video_encoder *e = calloc(1, sizeof *e);
        if (!e) {
            snprintf(err, errlen, "video: out of memory");
            return NULL;
        }
        e->passthrough = true;
        snprintf(e->codec, sizeof e->codec, "mjpeg");
        e->width = cfg->width;
        e->height = cfg->height;
        return e;
    }
    if (!h264 && !ffv1) {
        snprintf(err, errlen, "video codec '%s' is not supported (h264, ffv1, mjpeg)", cfg->codec);
        return NULL;
    }
    if (cfg->width <= 0 || cfg->height <= 0 || (h264 && (cfg->width % 2 || cfg->height % 2)) || !(cfg->fps > 0)) {
        snprintf(err, errlen, "video: invalid frame size %dx%d or rate %g", cfg->width, cfg->height, cfg->fps);
        return NULL;
    }
    const AVCodec *codec = avcodec_find_encoder_by_name(h264 ? "libx264" : "ffv1");
    if (!codec) {
        snprintf(err, errlen, "video: encoder %s is not available in this libavcodec", h264 ? "libx264" : "ffv1");
        return NULL;
    }
    tp_video_encoder *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "video: out of memory");
        return NULL;
    }
    snprintf(e->codec, sizeof e->codec, "%s", cfg->codec);
    e->width = cfg->width;
    e->height = cfg->height;
    e->ctx = avcodec_alloc_context3(codec);
    e->frame = av_frame_alloc();
    e->pkt = av_packet_alloc();
    if (!e->ctx || !e->frame || !e->pkt) {
        snprintf(err, errlen, "video: out of memory");
        tp_video_encoder_destroy(e);
        return NULL;
    }
    AVCodecContext *c = e->ctx;
    c->width = cfg->width;
    c->height = cfg->height;
    /* Frame-index time base: pts is the frame number, capture times travel
     * beside the packets in the episode. */
    int fps_num = (int)(cfg->fps * 1000 + 0.5);
    c->time_base = (AVRational){1000, fps_num};
    c->framerate = (AVRational){fps_num, 1000};
    c->pix_fmt = h264 ? AV_PIX_FMT_YUV420P : AV_PIX_FMT_BGR0; /* RGB storage keeps FFV1 exact */
    if (h264) {
        /* The colour description written into the stream (VUI), matching
         * the conversion below: the frames are sRGB (BT.709 primaries, sRGB
         * transfer), converted to YUV with the BT.601 matrix into limited
         * (16-235) range, which is also what a decoder assumes for a stream
         * that says nothing. docs/devices/cameras.md (Colour). */
        c->color_primaries = AVCOL_PRI_BT709;
        c->color_trc = AVCOL_TRC_IEC61966_2_1;
        c->colorspace = AVCOL_SPC_SMPTE170M;
        c->color_range = AVCOL_RANGE_MPEG;
    }
    c->gop_size = h264 ? (cfg->gop > 0 ? cfg->gop : (int)(cfg->fps + 0.5)) : 1;
    c->max_b_frames = 0;
    c->thread_count = cfg->threads > 0 ? cfg->threads : 1;
    c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (h264) {
        av_opt_set(c->priv_data, "preset", cfg->preset && cfg->preset[0] ? cfg->preset : "veryfast", 0);
        av_opt_set_int(c->priv_data, "crf", cfg->crf, 0);
        /* Fixed keyframe cadence so review can seek to any second; SPS/PPS
         * only in the extradata, so every packet is one frame's slices. */
        av_opt_set(c->priv_data, "x264-params", "scenecut=0:open-gop=0:repeat-headers=0", 0);
        /* No lookahead: each packet leaves the encoder with its frame, so the
         * episode holds video up to the last frame even after a crash, the
         * flush at the end has nothing queued, and three 640x480 encoders
         * need about 35 MB less. Measured on the noisy test pattern at CRF
         * 23 it cost no CPU and under 5 % bitrate (README, Benchmarks). */
        av_opt_set(c->priv_data, "tune", "zerolatency", 0);
        c->keyint_min = c->gop_size;
    } else {
        c->level = 1; /* self-contained frames, no extradata needed to decode */
    }
    int rc = avcodec_open2(c, codec, NULL);
    if (rc < 0) {
        av_err(err, errlen, h264 ? "video: cannot open libx264" : "video: cannot open ffv1", rc);
        tp_video_encoder_destroy(e);
        return NULL;
    }
    e->frame->format = c->pix_fmt;
    e->frame->width = c->width;
    e->frame->height = c->height;
    if ((rc = av_frame_get_buffer(e->frame, 0)) < 0) {
        av_err(err, errlen, "video: frame buffer", rc);
        tp_video_encoder_destroy(e);
        return NULL;
    }
    e->frame->color_primaries = c->color_primaries;
    e->frame->color_trc = c->color_trc;
    e->frame->colorspace = c->colorspace;
    e->frame->color_range = c->color_range;
    e->sws = sws_getContext(c->width, c->height, AV_PIX_FMT_RGB24, c->width, c->height, c->pix_fmt, SWS_BILINEAR,
                            NULL, NULL, NULL);
    /* Stated, not left to swscale's defaults: full-range RGB in, BT.601
     * matrix and limited range out, as the VUI above says. */
    if (e->sws && h264 &&
        sws_setColorspaceDetails(e->sws, sws_getCoefficients(SWS_CS_ITU601), 1, sws_getCoefficients(SWS_CS_ITU601),
                                 0, 0, 1 << 16, 1 << 16) < 0) {
        sws_freeContext(e->sws);
        e->sws = NULL;
    }
    if (!e->sws) {
        snprintf(err, errlen, "video: cannot create the RGB to YUV converter");
        tp_video_encoder_destroy(e);
        return NULL;
    }
    return e;
}

void tp_video_encoder_destroy(tp_video_encoder *e)
{
    if (!e)
        return;
    sws_freeContext(e->sws);
    av_packet_free(&e->pkt);
    av_frame_free(&e->frame);
    avcodec_free_context(&e->ctx);
    free(e->pass_data);
    free(e);
}

bool tp_video_encoder_is_passthrough(const tp_video_encoder *e) { return e->passthrough; }

int tp_video_encoder_send_compressed(tp_video_encoder *e, const uint8_t *data, size_t size, int64_t pts, char *err,
                                     size_t errlen)
{
    if (!e->passthrough) {
        snprintf(err, errlen, "video: %s encodes raw frames; compressed frames pass through codec mjpeg only",
                 e->codec);
        return -1;
    }
    if (!data)
        return 0; /* nothing is held back: flushing is a no-op */
    if (e->pass_ready) {
        snprintf(err, errlen, "video: the previous mjpeg frame was not received");
        return -1;
    }
    /* A JPEG starts with SOI (FF D8) and ends with EOI (FF D9); a frame cut
     * short by the device would not decode. */
    if (size < 4 || data[0] != 0xFF || data[1] != 0xD8 || data[size - 2] != 0xFF || data[size - 1] != 0xD9) {
        snprintf(err, errlen, "video: frame %lld is not a complete JPEG image (%zu bytes)", (long long)pts, size);
        return -1;
    }
    if (size > e->pass_cap) {
        uint8_t *n = realloc(e->pass_data, size);
        if (!n) {
            snprintf(err, errlen, "video: out of memory for a %zu-byte frame", size);
            return -1;
        }
        e->pass_data = n;
        e->pass_cap = size;
    }
    memcpy(e->pass_data, data, size);
    e->pass_size = size;
    e->pass_pts = pts;
    e->pass_ready = true;
    return 0;
}

const char *tp_video_encoder_codec(const tp_video_encoder *e) { return e->codec; }

void tp_video_encoder_extradata(const tp_video_encoder *e, const uint8_t **data, size_t *size)
{
    if (e->passthrough) {
        *data = NULL;
        *size = 0;
        return;
    }
    *data = e->ctx->extradata;
    *size = (size_t)e->ctx->extradata_size;
}

int tp_video_encoder_send(tp_video_encoder *e, const uint8_t *rgb, int64_t pts, char *err, size_t errlen)
{
    int rc;
    if (e->passthrough) {
        if (!rgb)
            return 0;
        snprintf(err, errlen, "video: codec mjpeg passes compressed camera frames through; it cannot encode raw "
                              "frames");
        return -1;
    }
    if (!rgb) {
        rc = avcodec_send_frame(e->ctx, NULL);
    } else {
        if ((rc = av_frame_make_writable(e->frame)) < 0) {
            av_err(err, errlen, "video: frame not writable", rc);
            return -1;
        }
        const uint8_t *src[1] = {rgb};
        int stride[1] = {3 * e->width};
        sws_scale(e->sws, src, stride, 0, e->height, e->frame->data, e->frame->linesize);
        e->frame->pts = pts;
        rc = avcodec_send_frame(e->ctx, e->frame);
    }
    if (rc < 0 && rc != AVERROR_EOF) {
        av_err(err, errlen, "video: encode", rc);
        return -1;
    }
    return 0;
}

int tp_video_encoder_receive(tp_video_encoder *e, tp_video_packet *out, char *err, size_t errlen)
{
    if (e->passthrough) {
        if (!e->pass_ready)
            return 0;
        e->pass_ready = false;
        out->data = e->pass_data;
        out->size = e->pass_size;
        out->pts = e->pass_pts;
        out->keyframe = true; /* every JPEG stands alone */
        return 1;
    }
    av_packet_unref(e->pkt);
    int rc = avcodec_receive_packet(e->ctx, e->pkt);
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
        return 0;
    if (rc < 0) {
        av_err(err, errlen, "video: encode", rc);
        return -1;
    }
    out->data = e->pkt->data;
    out->size = (size_t)e->pkt->size;
    out->pts = e->pkt->pts;
    out->keyframe = (e->pkt->flags & AV_PKT_FLAG_KEY) != 0;
    return 1;
}

tp_video_decoder *tp_video_decoder_create(const char *codec_name, const uint8_t *extradata, size_t extradata_size,
                                          int width, int height, char *err, size_t errlen)
{
    enum AVCodecID id = !strcmp(codec_name, "h264") ? AV_CODEC_ID_H264
                        : !strcmp(codec_name, "ffv1") ? AV_CODEC_ID_FFV1
                        : !strcmp(codec_name, "mjpeg") ? AV_CODEC_ID_MJPEG
                                                       : AV_CODEC_ID_NONE;
    const AVCodec *codec = id != AV_CODEC_ID_NONE ? avcodec_find_decoder(id) : NULL;
    if (!codec) {
        snprintf(err, errlen, "video: no decoder for codec '%s'", codec_name);
        return NULL;
    }
    quiet_libav();
    tp_video_decoder *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "video: out of memory");
        return NULL;
    }
    d->ctx = avcodec_alloc_context3(codec);
    d->frame = av_frame_alloc();
    d->pkt = av_packet_alloc();
    if (!d->ctx || !d->frame || !d->pkt) {
        snprintf(err, errlen, "video: out of memory");
        tp_video_decoder_destroy(d);
        return NULL;
    }
    if (extradata && extradata_size) {
        d->ctx->extradata = av_mallocz(extradata_size + AV_INPUT_BUFFER_PADDING_SIZE);
        if (!d->ctx->extradata) {
            snprintf(err, errlen, "video: out of memory");
            tp_video_decoder_destroy(d);
            return NULL;
        }
        memcpy(d->ctx->extradata, extradata, extradata_size);
        d->ctx->extradata_size = (int)extradata_size;
    }
    d->ctx->thread_count = 1;
    d->ctx->width = width > 0 ? width : 0;
    d->ctx->height = height > 0 ? height : 0;
    int rc = avcodec_open2(d->ctx, codec, NULL);
    if (rc < 0) {
        av_err(err, errlen, "video: cannot open decoder", rc);
        tp_video_decoder_destroy(d);
        return NULL;
    }
    return d;
}

void tp_video_decoder_destroy(tp_video_decoder *d)
{
    if (!d)
        return;
    sws_freeContext(d->sws);
    free(d->rgb);
    av_freep(&d->in);
    av_packet_free(&d->pkt);
    av_frame_free(&d->frame);
    avcodec_free_context(&d->ctx);
    free(d);
}

int tp_video_decoder_send(tp_video_decoder *d, const uint8_t *data, size_t size, int64_t pts, char *err,
                          size_t errlen)
{
    int rc;
    if (!data) {
        rc = avcodec_send_packet(d->ctx, NULL);
    } else {
        if (size > INT32_MAX - AV_INPUT_BUFFER_PADDING_SIZE) {
            snprintf(err, errlen, "video: packet of %zu bytes is too large", size);
            return -1;
        }
        /* One buffer reused for every packet (grown when needed). */
        av_fast_padded_malloc(&d->in, &d->in_size, size);
        if (!d->in) {
            snprintf(err, errlen, "video: out of memory for a %zu-byte packet", size);
            return -1;
        }
        memcpy(d->in, data, size);
        av_packet_unref(d->pkt);
        d->pkt->data = d->in;
        d->pkt->size = (int)size;
        d->pkt->pts = pts;
        d->pkt->dts = pts;
        rc = avcodec_send_packet(d->ctx, d->pkt);
    }
    if (rc < 0 && rc != AVERROR_EOF) {
        av_err(err, errlen, "video: undecodable packet", rc);
        return -1;
    }
    return 0;
}

int tp_video_decoder_receive(tp_video_decoder *d, tp_video_frame *out, char *err, size_t errlen)
{
    int rc = avcodec_receive_frame(d->ctx, d->frame);
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
        return 0;
    if (rc < 0) {
        av_err(err, errlen, "video: decode", rc);
        return -1;
    }
    AVFrame *f = d->frame;
    if (f->decode_error_flags || (f->flags & AV_FRAME_FLAG_CORRUPT)) {
        snprintf(err, errlen, "video: decoded frame %lld is corrupt", (long long)f->pts);
        return -1;
    }
    if (!d->sws || d->sws_w != f->width || d->sws_h != f->height || d->sws_fmt != f->format) {
        sws_freeContext(d->sws);
        d->sws = sws_getContext(f->width, f->height, f->format, f->width, f->height, AV_PIX_FMT_RGB24, SWS_BILINEAR,
                                NULL, NULL, NULL);
        /* YUV back to RGB with the matrix and range the stream declares
         * (BT.601 when it declares none; JPEG's YUV is full range). */
        const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(f->format);
        if (d->sws && desc && !(desc->flags & AV_PIX_FMT_FLAG_RGB)) {
            int full = f->color_range == AVCOL_RANGE_JPEG || f->format == AV_PIX_FMT_YUVJ420P ||
                       f->format == AV_PIX_FMT_YUVJ422P || f->format == AV_PIX_FMT_YUVJ444P;
            int cs = f->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_ITU601 : (int)f->colorspace;
            sws_setColorspaceDetails(d->sws, sws_getCoefficients(cs), full, sws_getCoefficients(SWS_CS_ITU601), 1, 0,
                                     1 << 16, 1 << 16);
        }
        size_t need = (size_t)f->width * (size_t)f->height * 3;
        if (need > d->rgb_size) {
            free(d->rgb);
            d->rgb = malloc(need);
            d->rgb_size = d->rgb ? need : 0;
        }
        if (!d->sws || !d->rgb) {
            snprintf(err, errlen, "video: cannot convert decoded frames to RGB");
            return -1;
        }
        d->sws_w = f->width;
        d->sws_h = f->height;
        d->sws_fmt = f->format;
    }
    uint8_t *dst[1] = {d->rgb};
    int stride[1] = {3 * f->width};
    sws_scale(d->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, stride);
    out->width = f->width;
    out->height = f->height;
    out->pts = f->pts;
    out->rgb = d->rgb;
    av_frame_unref(f);
    return 1;
}
