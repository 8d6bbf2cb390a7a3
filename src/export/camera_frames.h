/* teleop — one exported camera's grid frames as RGB24 pictures: the recorded
 * video decoded by the recorder's decoder (teleop/video.h: H.264, FFV1 or
 * MJPEG as recorded, to RGB with the colour matrix and range the stream
 * declares), picture i being the recorded frame that grid frame i names
 * (tp_export_camera.frame_seq). And a JPEG encoder (libjpeg)
 * for the ALOHA layout's compressed images.
 *
 * Ownership: the reader keeps its own handle on the episode file and its
 * picture buffer; a picture returned by next is valid until the next call. */
#ifndef TELEOP_CAMERA_FRAMES_H
#define TELEOP_CAMERA_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "teleop/export.h"

typedef struct tp_camera_frames tp_camera_frames;

/* e must outlive the reader. NULL with one line in err naming the file and camera. */
tp_camera_frames *tp_camera_frames_open(const tp_export_episode *e, int cam, char *err, size_t errlen);
/* The next grid frame's picture: width*height*3 bytes, rows top to bottom.
 * 1, 0 after the last grid frame, -1 with err. */
int tp_camera_frames_next(tp_camera_frames *f, const uint8_t **rgb, char *err, size_t errlen);
void tp_camera_frames_close(tp_camera_frames *f);

/* Baseline JPEG of an RGB24 picture at quality 1..100 (libjpeg's scale, the
 * one OpenCV's IMWRITE_JPEG_QUALITY uses). bgr_order: the bytes are taken as
 * B,G,R as cv2.imencode takes an array, so cv2.imdecode gives them back in
 * the same order. *out is malloc'd (caller frees). 0 or -1. */
int tp_jpeg_encode(const uint8_t *rgb, int width, int height, int quality, int bgr_order, uint8_t **out,
                   size_t *size);

#endif
