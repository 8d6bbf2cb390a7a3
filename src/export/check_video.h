/* Video probing for the dataset check: opens a video file with libavformat,
 * decodes every frame of its first video stream with libavcodec and
 * returns the frame times. The caller frees times with free(). */
#ifndef TELEOP_EXPORT_CHECK_VIDEO_H
#define TELEOP_EXPORT_CHECK_VIDEO_H

#include <stddef.h>
#include <stdint.h>

typedef struct tp_video_probe {
    char codec[32];   /* libavcodec's canonical name: "h264", "av1", "mpeg4" */
    char pix_fmt[32]; /* "yuv420p" */
    int width, height;
    double fps;       /* average frame rate, 0 when unknown */
    double duration;  /* stream duration in seconds (container's when the stream has none), -1 unknown */
    double *times;    /* presentation time of every decoded frame, seconds, ascending */
    int64_t nframes;
} tp_video_probe;

/* 0, or -1 with a one-line reason in err (the caller prefixes the path). */
int tp_video_probe_file(const char *path, tp_video_probe *out, char *err, size_t errlen);
void tp_video_probe_free(tp_video_probe *p);

#endif
