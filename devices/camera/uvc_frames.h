/* teleop — the UVC driver's frame path (private to devices/camera): from
 * libuvc's callback to the caller's buffer.
 *
 * libuvc calls uvc_frames_callback on its own thread for every complete
 * frame. That side only copies the frame into a preallocated slot of an SPSC
 * ring (include/teleop/ring.h) with its arrival time (CLOCK_MONOTONIC read in
 * the callback) and wakes the reader through an eventfd: no allocation, no
 * lock, no blocking call. A full ring (or a frame larger than a slot) drops
 * the frame and counts it. The capture thread waits on the eventfd
 * (uvc_frames_wait) and converts the oldest slot into its buffer
 * (uvc_frames_read): YUYV → RGB with libswscale, MJPEG → RGB with libavcodec
 * then libswscale, or MJPEG passed on byte for byte.
 *
 * Capture time: libuvc 0.0.6's uvc_frame_t.capture_time is a struct timeval
 * documented as "estimate of system time when the device started capturing"
 * (CLOCK_REALTIME); 0.0.6 never fills it (it stays zero), later libuvc
 * versions may. A non-zero capture_time is mapped onto CLOCK_MONOTONIC by
 * subtracting the realtime−monotonic offset measured at start and is used
 * when it lies within one second before the arrival (a stamp after the
 * arrival, or far before it, is not a capture time of this frame); otherwise
 * the arrival time is the frame's time. docs/devices/cameras.md.
 *
 * Memory: uvc_frames_init allocates the ring, the eventfd and the decoder;
 * uvc_frames_free releases them. `name` is borrowed.
 */
#ifndef TELEOP_UVC_FRAMES_H
#define TELEOP_UVC_FRAMES_H

#include <libuvc/libuvc.h>
#include <stdatomic.h>
#include <stdint.h>

#include "teleop/camera.h"
#include "teleop/ring.h"

struct AVCodecContext;
struct AVPacket;
struct AVFrame;
struct SwsContext;

typedef struct uvc_frames {
    const char *name; /* the camera's name, for messages */
    int width, height;
    tp_pixel_format out; /* what read delivers */
    size_t slot_bytes;   /* largest frame a slot holds */
    tp_ring ring;
    int wake_fd; /* eventfd: the callback adds one per queued frame */
    int64_t realtime_minus_mono_ns;
    /* written by the callback thread only */
    atomic_uint_fast64_t received, overflows, oversize;
    /* the reader's side */
    bool have_last;
    uint32_t last_sequence;
    int64_t gaps;        /* frames missing from the device's counter */
    struct AVCodecContext *jpeg;
    struct AVPacket *pkt;
    struct AVFrame *pic;
    struct SwsContext *sws;
    int sws_from; /* the AVPixelFormat sws converts from (-1: none yet) */
} uvc_frames;

/* slot_bytes: the largest frame the device may send (its negotiated
 * dwMaxVideoFrameSize). 0, or -1 with a message naming the camera. */
int uvc_frames_init(uvc_frames *f, const char *name, int width, int height, tp_pixel_format out, size_t slot_bytes,
                    char *err, size_t errlen);
void uvc_frames_free(uvc_frames *f);

/* The realtime−monotonic offset that maps capture_time onto CLOCK_MONOTONIC;
 * uvc_frames_measure_offset reads both clocks (the tightest of a few reads). */
void uvc_frames_set_offset(uvc_frames *f, int64_t realtime_minus_mono_ns);
int64_t uvc_frames_measure_offset(void);

/* The callback given to uvc_start_streaming (user_ptr: the uvc_frames). */
void uvc_frames_callback(uvc_frame_t *frame, void *user_ptr);
/* What the callback does, with the arrival time given: the entry point tests
 * push buffers through. Real-time safe. */
void uvc_frames_push(uvc_frames *f, const uvc_frame_t *frame, int64_t arrival_ns);

/* 1: a frame is queued; 0: none by the monotonic deadline. */
int uvc_frames_wait(uvc_frames *f, int64_t deadline_ns);
/* Converts the oldest queued frame into out (NULL out->data discards it).
 * 0, or -1 with a message (the frame is dropped). */
int uvc_frames_read(uvc_frames *f, tp_camera_frame *out, char *err, size_t errlen);

#endif
