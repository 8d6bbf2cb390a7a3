/* teleop — dataset MP4 files: remux of the recorded packets, or AV1 (see video_out.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "teleop/episode.h"
#include "video_out.h"

struct tp_video_out {
    char path[4096], tmp[4200];
    AVFormatContext *fmt;
    AVStream *st;
    AVPacket *pkt;
    int fps;
    bool av1, header_written;
    int64_t frames, bytes;
    /* AV1 */
    AVCodecContext *dec, *enc;
    AVFrame *frame, *yuv;
    struct SwsContext *sws;
    char pix_fmt[32];
};

static int averr(char *err, size_t errlen, const char *path, const char *what, int rc)
{
    char buf[128];
    av_strerror(rc, buf, sizeof buf);
    snprintf(err, errlen, "%s: %s: %s", path, what, buf);
    return -1;
}

void tp_video_out_abort(tp_video_out *v)
{
    if (!v)
        return;
    if (v->fmt) {
        if (v->fmt->pb)
            avio_closep(&v->fmt->pb);
        avformat_free_context(v->fmt);
    }
    avcodec_free_context(&v->dec);
    avcodec_free_context(&v->enc);
    av_frame_free(&v->frame);
    av_frame_free(&v->yuv);
    sws_freeContext(v->sws);
    av_packet_free(&v->pkt);
    if (v->tmp[0])
        unlink(v->tmp);
    free(v);
}

tp_video_out *tp_video_out_open(const char *path, const tp_export_camera *cam, int fps, const tp_video_settings *s,
                                char *err, size_t errlen)
{
    tp_video_out *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    snprintf(v->path, sizeof v->path, "%s", path);
    v->fps = fps;
    v->av1 = s && s->av1;
    if (!v->av1 && strcmp(cam->codec, "h264")) {
        snprintf(err, errlen, "%s: camera %s is %s: only H.264 remuxes into MP4; use --video-codec av1", path,
                 cam->name, cam->codec);
        free(v);
        return NULL;
    }
    snprintf(v->tmp, sizeof v->tmp, "%s.tmp-XXXXXX", path);
    int fd = mkostemp(v->tmp, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", v->tmp, strerror(errno));
        v->tmp[0] = 0;
        free(v);
        return NULL;
    }
    fchmod(fd, 0644);
    close(fd);
    int rc = avformat_alloc_output_context2(&v->fmt, NULL, "mp4", v->tmp);
    if (rc < 0 || !v->fmt) {
        averr(err, errlen, path, "mp4 muxer", rc);
        tp_video_out_abort(v);
        return NULL;
    }
    /* No encoder version strings: the same input gives the same bytes. */
    v->fmt->flags |= AVFMT_FLAG_BITEXACT;
    v->st = avformat_new_stream(v->fmt, NULL);
    v->pkt = av_packet_alloc();
    if (!v->st || !v->pkt) {
        snprintf(err, errlen, "%s: out of memory", path);
        tp_video_out_abort(v);
        return NULL;
    }
    v->st->time_base = (AVRational){1, fps};
    v->st->avg_frame_rate = v->st->r_frame_rate = (AVRational){fps, 1};
    AVCodecParameters *par = v->st->codecpar;
    if (!v->av1) {
        par->codec_type = AVMEDIA_TYPE_VIDEO;
        par->codec_id = AV_CODEC_ID_H264;
        par->width = cam->width;
        par->height = cam->height;
        par->format = AV_PIX_FMT_YUV420P;
        snprintf(v->pix_fmt, sizeof v->pix_fmt, "yuv420p");
        if (cam->extradata_size) {
            par->extradata = av_mallocz(cam->extradata_size + AV_INPUT_BUFFER_PADDING_SIZE);
            if (!par->extradata) {
                snprintf(err, errlen, "%s: out of memory", path);
                tp_video_out_abort(v);
                return NULL;
            }
            memcpy(par->extradata, cam->extradata, cam->extradata_size);
            par->extradata_size = (int)cam->extradata_size;
        }
    } else {
        const AVCodec *dc = avcodec_find_decoder_by_name(cam->codec); /* h264, ffv1, mjpeg */
        const AVCodec *ec = avcodec_find_encoder_by_name("libsvtav1");
        setenv("SVT_LOG", "1", 0); /* SVT-AV1 prints its banner on stderr otherwise: errors only */
        if (!dc || !ec) {
            snprintf(err, errlen, "%s: %s", path,
                     !ec ? "this libavcodec has no libsvtav1 encoder" : "no decoder for the camera's codec");
            tp_video_out_abort(v);
            return NULL;
        }
        v->dec = avcodec_alloc_context3(dc);
        v->enc = avcodec_alloc_context3(ec);
        v->frame = av_frame_alloc();
        if (!v->dec || !v->enc || !v->frame) {
            snprintf(err, errlen, "%s: out of memory", path);
            tp_video_out_abort(v);
            return NULL;
        }
        if (cam->extradata_size) {
            v->dec->extradata = av_mallocz(cam->extradata_size + AV_INPUT_BUFFER_PADDING_SIZE);
            memcpy(v->dec->extradata, cam->extradata, cam->extradata_size);
            v->dec->extradata_size = (int)cam->extradata_size;
        }
        v->dec->thread_count = 1;
        v->dec->width = cam->width; /* FFV1 frames carry no size */
        v->dec->height = cam->height;
        if ((rc = avcodec_open2(v->dec, dc, NULL)) < 0) {
            averr(err, errlen, path, "decoder", rc);
            tp_video_out_abort(v);
            return NULL;
        }
        v->enc->width = cam->width;
        v->enc->height = cam->height;
        v->enc->pix_fmt = AV_PIX_FMT_YUV420P;
        v->enc->time_base = (AVRational){1, fps};
        v->enc->framerate = (AVRational){fps, 1};
        v->enc->gop_size = s->g;
        v->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER | AV_CODEC_FLAG_BITEXACT;
        AVDictionary *o = NULL;
        char buf[64];
        snprintf(buf, sizeof buf, "%d", s->crf);
        av_dict_set(&o, "crf", buf, 0);
        if (s->preset >= 0) {
            snprintf(buf, sizeof buf, "%d", s->preset);
            av_dict_set(&o, "preset", buf, 0);
        }
        if (s->threads > 0) {
            snprintf(buf, sizeof buf, "lp=%d", s->threads);
            av_dict_set(&o, "svtav1-params", buf, 0);
        }
        rc = avcodec_open2(v->enc, ec, &o);
        av_dict_free(&o);
        if (rc < 0) {
            averr(err, errlen, path, "libsvtav1 encoder", rc);
            tp_video_out_abort(v);
            return NULL;
        }
        if ((rc = avcodec_parameters_from_context(par, v->enc)) < 0) {
            averr(err, errlen, path, "encoder parameters", rc);
            tp_video_out_abort(v);
            return NULL;
        }
        snprintf(v->pix_fmt, sizeof v->pix_fmt, "yuv420p");
    }
    if ((rc = avio_open(&v->fmt->pb, v->tmp, AVIO_FLAG_WRITE)) < 0) {
        averr(err, errlen, v->tmp, "open", rc);
        tp_video_out_abort(v);
        return NULL;
    }
    if ((rc = avformat_write_header(v->fmt, NULL)) < 0) {
        averr(err, errlen, path, "mp4 header", rc);
        tp_video_out_abort(v);
        return NULL;
    }
    v->header_written = true;
    return v;
}

/* Writes the encoder's pending packets (flush: drain it). */
static int drain_encoder(tp_video_out *v, bool flush, char *err, size_t errlen)
{
    int rc;
    if (flush && (rc = avcodec_send_frame(v->enc, NULL)) < 0 && rc != AVERROR_EOF)
        return averr(err, errlen, v->path, "encoder flush", rc);
    for (;;) {
        rc = avcodec_receive_packet(v->enc, v->pkt);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0)
            return averr(err, errlen, v->path, "encoder", rc);
        av_packet_rescale_ts(v->pkt, v->enc->time_base, v->st->time_base);
        v->pkt->stream_index = 0;
        v->bytes += v->pkt->size;
        rc = av_interleaved_write_frame(v->fmt, v->pkt);
        av_packet_unref(v->pkt);
        if (rc < 0)
            return averr(err, errlen, v->path, "write", rc);
    }
}

/* Decodes packet (NULL: flush) and encodes every frame whose decode index
 * falls in [first, first + n) of this episode's packets. */
static int transcode_packet(tp_video_out *v, const tp_episode_row *row, int64_t *decoded, int64_t first, int64_t n,
                            char *err, size_t errlen)
{
    int rc;
    if (row) {
        v->pkt->data = (uint8_t *)row->bytes;
        v->pkt->size = (int)row->size;
        v->pkt->pts = v->pkt->dts = row->seq;
        rc = avcodec_send_packet(v->dec, v->pkt);
        v->pkt->data = NULL;
        v->pkt->size = 0;
    } else {
        rc = avcodec_send_packet(v->dec, NULL);
    }
    if (rc < 0 && rc != AVERROR_EOF)
        return averr(err, errlen, v->path, "decoder", rc);
    for (;;) {
        rc = avcodec_receive_frame(v->dec, v->frame);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0)
            return averr(err, errlen, v->path, "decoder", rc);
        int64_t seq = v->frame->pts;
        (*decoded)++;
        if (seq >= first && seq < first + n) {
            AVFrame *in = v->frame;
            if (in->format != AV_PIX_FMT_YUV420P) {
                /* FFV1 (BGR0) and MJPEG (yuvj4xxp) cameras: to the encoder's yuv420p */
                v->sws = sws_getCachedContext(v->sws, in->width, in->height, in->format, v->enc->width,
                                              v->enc->height, AV_PIX_FMT_YUV420P, SWS_BICUBIC, NULL, NULL, NULL);
                if (!v->sws || (!v->yuv && !(v->yuv = av_frame_alloc()))) {
                    snprintf(err, errlen, "%s: cannot convert %s frames", v->path, av_get_pix_fmt_name(in->format));
                    return -1;
                }
                v->yuv->format = AV_PIX_FMT_YUV420P;
                v->yuv->width = v->enc->width;
                v->yuv->height = v->enc->height;
                if (!v->yuv->data[0] && av_frame_get_buffer(v->yuv, 0) < 0) {
                    snprintf(err, errlen, "%s: out of memory", v->path);
                    return -1;
                }
                if (av_frame_make_writable(v->yuv) < 0) {
                    snprintf(err, errlen, "%s: out of memory", v->path);
                    return -1;
                }
                sws_scale(v->sws, (const uint8_t *const *)in->data, in->linesize, 0, in->height, v->yuv->data,
                          v->yuv->linesize);
                av_frame_unref(in);
                in = v->yuv;
            }
            in->pts = v->frames++;
            in->pict_type = AV_PICTURE_TYPE_NONE;
            rc = avcodec_send_frame(v->enc, in);
            if (in == v->frame)
                av_frame_unref(v->frame);
            if (rc < 0)
                return averr(err, errlen, v->path, "encoder", rc);
            if (drain_encoder(v, false, err, errlen))
                return -1;
        } else {
            av_frame_unref(v->frame);
        }
    }
}

int tp_video_out_add_episode(tp_video_out *v, const tp_export_episode *e, int cam, const volatile int *interrupt,
                             char *err, size_t errlen)
{
    const tp_export_camera *c = &e->cameras[cam];
    if (e->n_frames == 0)
        return 0;
    /* The grid maps grid frame i to recorded frame first + i (export.h). */
    int64_t first = c->frame_seq[0], n = e->n_frames;
    for (int64_t i = 0; i < n; i++)
        if (c->frame_seq[i] != first + i) {
            snprintf(err, errlen, "%s: camera %s: grid frame %" PRId64 " is not recorded frame %" PRId64, e->path,
                     c->name, i, first + i);
            return -1;
        }
    tp_episode *ep = tp_episode_open(e->path, err, errlen);
    if (!ep)
        return -1;
    tp_episode_cursor *cur = tp_episode_cursor_open(ep, c->stream_id);
    if (!cur) {
        tp_episode_close(ep);
        snprintf(err, errlen, "%s: cannot read camera %s", e->path, c->name);
        return -1;
    }
    int rc = 0, r;
    int64_t written = 0, decoded = 0, last_key = -1, frames_before = v->frames;
    tp_episode_row row;
    if (v->av1)
        avcodec_flush_buffers(v->dec);
    while ((r = tp_episode_cursor_next(cur, &row)) == 1 && row.seq < first + n) {
        if (interrupt && *interrupt) {
            snprintf(err, errlen, "%s: interrupted", v->path);
            rc = -1;
            break;
        }
        if (row.keyframe)
            last_key = row.seq;
        if (v->av1) {
            /* decode from the keyframe before the first frame on */
            if (row.seq < first && !row.keyframe && last_key < 0)
                continue;
            if (transcode_packet(v, &row, &decoded, first, n, err, errlen)) {
                rc = -1;
                break;
            }
            continue;
        }
        if (row.seq < first)
            continue;
        if (row.seq == first && !row.keyframe) {
            snprintf(err, errlen,
                     "%s: camera %s: the exported window starts at frame %" PRId64
                     ", not a keyframe: remux cannot start there; use --video-codec av1",
                     e->path, c->name, first);
            rc = -1;
            break;
        }
        av_packet_unref(v->pkt);
        v->pkt->data = (uint8_t *)row.bytes;
        v->pkt->size = (int)row.size;
        /* the muxer chose its own time base (e.g. 1/15360) at the header */
        v->pkt->pts = v->pkt->dts = av_rescale_q(v->frames, (AVRational){1, v->fps}, v->st->time_base);
        v->pkt->duration = av_rescale_q(1, (AVRational){1, v->fps}, v->st->time_base);
        v->pkt->stream_index = 0;
        v->pkt->flags = row.keyframe ? AV_PKT_FLAG_KEY : 0;
        /* the muxer converts the Annex B packet to MP4's length-prefixed NAL units */
        int wr = av_write_frame(v->fmt, v->pkt);
        v->pkt->data = NULL;
        v->pkt->size = 0;
        if (wr < 0) {
            rc = averr(err, errlen, v->path, "write", wr);
            break;
        }
        v->frames++;
        v->bytes += (int64_t)row.size;
        written++;
    }
    if (!rc && r < 0) {
        snprintf(err, errlen, "%s: camera %s: unreadable packet", e->path, c->name);
        rc = -1;
    }
    tp_episode_cursor_close(cur);
    tp_episode_close(ep);
    if (!rc && v->av1) {
        if (transcode_packet(v, NULL, &decoded, first, n, err, errlen))
            return -1;
        written = v->frames - frames_before;
    }
    if (!rc && written != n) {
        snprintf(err, errlen, "%s: camera %s: %" PRId64 " of %" PRId64 " frames found", e->path, c->name, written, n);
        rc = -1;
    }
    return rc;
}

int64_t tp_video_out_frames(const tp_video_out *v)
{
    return v->frames;
}

int64_t tp_video_out_bytes(const tp_video_out *v)
{
    return v->bytes;
}

void tp_video_out_info(const tp_video_out *v, tp_video_info *info)
{
    memset(info, 0, sizeof *info);
    snprintf(info->codec, sizeof info->codec, "%s", v->av1 ? "av1" : "h264");
    snprintf(info->pix_fmt, sizeof info->pix_fmt, "%s", v->pix_fmt);
    info->width = v->st->codecpar->width;
    info->height = v->st->codecpar->height;
    info->fps = v->fps;
}

int tp_video_out_close(tp_video_out *v, char *err, size_t errlen)
{
    int rc;
    if (v->av1 && drain_encoder(v, true, err, errlen)) {
        tp_video_out_abort(v);
        return -1;
    }
    if ((rc = av_write_trailer(v->fmt)) < 0) {
        averr(err, errlen, v->path, "mp4 trailer", rc);
        tp_video_out_abort(v);
        return -1;
    }
    avio_closep(&v->fmt->pb);
    int fd = open(v->tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) || rename(v->tmp, v->path)) {
        snprintf(err, errlen, "%s: cannot write: %s", v->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        tp_video_out_abort(v);
        return -1;
    }
    close(fd);
    v->tmp[0] = 0;
    tp_video_out_abort(v);
    return 0;
}
