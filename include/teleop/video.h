/* teleop — live video encoding and decoding with FFmpeg's libavcodec.
 *
 * The encoder takes packed RGB24 frames (top row first), converts them with
 * libswscale and encodes H.264 (libx264) by default, or FFV1 (lossless). For
 * cameras that deliver MJPEG, codec "mjpeg" passes each JPEG through
 * unchanged (send_compressed, then receive), every packet a keyframe. Packets are Annex B byte
 * streams; SPS/PPS are in the extradata (global header), also Annex B, so a
 * muxer (mp4, mkv) can remux them without re-encoding.
 *
 * Memory: encoder/decoder objects are owned by the caller (destroy to free).
 * Packet and frame data handed out point into the object and stay valid until
 * the next call on it. Encoding allocates inside libav: call it from an
 * encoder thread, never from the control loop.
 */
#ifndef TELEOP_VIDEO_H
#define TELEOP_VIDEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tp_video_encoder_config {
    int width, height;
    double fps;
    const char *codec;  /* "h264" (libx264), "ffv1" (lossless), "mjpeg" (passthrough) */
    const char *preset; /* x264 preset, default "veryfast" */
    int crf;            /* x264 CRF, default 23 */
    int gop;            /* keyframe interval in frames, default = fps (one per second) */
    int threads;        /* encoder threads, default 1 */
} tp_video_encoder_config;

void tp_video_encoder_default_config(tp_video_encoder_config *cfg, int width, int height, double fps);

typedef struct tp_video_packet {
    const uint8_t *data;
    size_t size;
    int64_t pts; /* frame index given to send */
    bool keyframe;
} tp_video_packet;

typedef struct tp_video_encoder tp_video_encoder;

tp_video_encoder *tp_video_encoder_create(const tp_video_encoder_config *cfg, char *err, size_t errlen);
void tp_video_encoder_destroy(tp_video_encoder *enc);
/* Codec name as stored in the episode ("h264", "ffv1", "mjpeg"). */
const char *tp_video_encoder_codec(const tp_video_encoder *enc);
void tp_video_encoder_extradata(const tp_video_encoder *enc, const uint8_t **data, size_t *size);
/* rgb NULL flushes (end of stream). Returns 0 or -1 with a message. */
int tp_video_encoder_send(tp_video_encoder *enc, const uint8_t *rgb, int64_t pts, char *err, size_t errlen);
/* Codec "mjpeg" only: one complete JPEG image (SOI .. EOI), copied, then
 * handed back by receive; anything else is refused with a message. */
bool tp_video_encoder_is_passthrough(const tp_video_encoder *enc);
int tp_video_encoder_send_compressed(tp_video_encoder *enc, const uint8_t *data, size_t size, int64_t pts,
                                     char *err, size_t errlen);
/* 1: a packet in *pkt; 0: none ready; -1: error. */
int tp_video_encoder_receive(tp_video_encoder *enc, tp_video_packet *pkt, char *err, size_t errlen);

typedef struct tp_video_decoder tp_video_decoder;

/* width/height: the stream's frame size (FFV1 needs it to open; 0 when
 * unknown is fine for H.264). */
tp_video_decoder *tp_video_decoder_create(const char *codec, const uint8_t *extradata, size_t extradata_size,
                                          int width, int height, char *err, size_t errlen);
void tp_video_decoder_destroy(tp_video_decoder *dec);
/* data NULL flushes. Returns 0 or -1 (undecodable packet) with a message. */
int tp_video_decoder_send(tp_video_decoder *dec, const uint8_t *data, size_t size, int64_t pts, char *err,
                          size_t errlen);
typedef struct tp_video_frame {
    int width, height;
    int64_t pts;
    const uint8_t *rgb; /* width*height*3, top row first; valid until next call */
} tp_video_frame;
/* 1: a frame in *frame; 0: none ready; -1: error. */
int tp_video_decoder_receive(tp_video_decoder *dec, tp_video_frame *frame, char *err, size_t errlen);

#endif
