/* teleop — MP4 video files of a dataset export: the recorded H.264 packets
 * remuxed without re-encoding (libavformat), or transcoded to AV1 with
 * libsvtav1 as LeRobot encodes (yuv420p, g=2, crf=30). Episodes are appended
 * one after another in one file (LeRobot v3.0) with continuous pts in a
 * 1/fps time base, so frame k of the file is at k/fps seconds.
 *
 * The file is written under PATH.tmp-XXXXXX and renamed onto PATH by
 * tp_video_out_close after fsync; tp_video_out_abort removes it.
 * Memory: the handle is owned by the caller until close or abort. */
#ifndef TELEOP_EXPORT_VIDEO_OUT_H
#define TELEOP_EXPORT_VIDEO_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/export.h"

typedef struct tp_video_settings {
    bool av1;        /* transcode to AV1 (libsvtav1); false: remux */
    int g, crf;      /* AV1: GOP and CRF (LeRobot: 2, 30) */
    int preset;      /* AV1: libsvtav1 preset; -1 leaves the encoder's default */
    int threads;     /* AV1: encoder threads (0: the encoder's choice) */
} tp_video_settings;

typedef struct tp_video_out tp_video_out;

/* What a finished file holds, for info.json's video.* fields. */
typedef struct tp_video_info {
    char codec[32], pix_fmt[32];
    int width, height, fps;
} tp_video_info;

tp_video_out *tp_video_out_open(const char *path, const tp_export_camera *cam, int fps,
                                const tp_video_settings *s, char *err, size_t errlen);
/* Appends the grid frames of camera cam (an index into e->cameras) of
 * episode e, reading the packets from e->path. *interrupt (may be NULL) is
 * polled between frames. 0, or -1 with err set. */
int tp_video_out_add_episode(tp_video_out *v, const tp_export_episode *e, int cam, const volatile int *interrupt,
                             char *err, size_t errlen);
int64_t tp_video_out_frames(const tp_video_out *v); /* frames written so far */
int64_t tp_video_out_bytes(const tp_video_out *v);  /* packet bytes written so far */
void tp_video_out_info(const tp_video_out *v, tp_video_info *info);
int tp_video_out_close(tp_video_out *v, char *err, size_t errlen);
void tp_video_out_abort(tp_video_out *v);

#endif
