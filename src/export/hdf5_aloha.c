/* teleop — one episode as an ALOHA/ACT HDF5 file (docs/export.md):
 * attrs sim, compress; observations/qpos, qvel (T x N float64),
 * observations/images/<camera> (T x H x W x 3 uint8, or with --compress
 * JPEG bytes zero-padded to the longest frame, T x padded uint8, and
 * compress_len (cameras x T float32, the true lengths, as Mobile ALOHA's
 * h5py default dtype stores them)); action (T x N float64). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camera_frames.h"
#include "hdf5_write.h"

static int fail_obj(char *err, size_t errlen, const char *path, const char *obj)
{
    snprintf(err, errlen, "%s: cannot write %s", path, obj);
    return -1;
}

static int write_vec(hid_t g, const char *name, const float *v, int64_t rows, int cols, int gzip)
{
    double *d = tp_h5_widen(v, rows * cols);
    int rc = d ? tp_h5_write_f64(g, name, d, rows, cols, gzip) : -1;
    free(d);
    return rc;
}

/* JPEG frames of one camera: encoded first (the padded width is the longest). */
static int jpeg_images(hid_t images, const tp_export_episode *e, int cam, const char *path, const tp_h5_options *o,
                       float *lens, char *err, size_t errlen)
{
    const tp_export_camera *c = &e->cameras[cam];
    tp_camera_frames *f = tp_camera_frames_open(e, cam, err, errlen);
    if (!f)
        return -1;
    int64_t n = e->n_frames;
    uint8_t **jpg = calloc((size_t)(n ? n : 1), sizeof *jpg);
    size_t *len = calloc((size_t)(n ? n : 1), sizeof *len);
    size_t width = 0;
    int rc = jpg && len ? 0 : -1;
    if (rc)
        snprintf(err, errlen, "out of memory");
    for (int64_t i = 0; !rc && i < n; i++) {
        const uint8_t *rgb;
        if (o->interrupt && *o->interrupt) {
            snprintf(err, errlen, "interrupted");
            rc = -1;
        } else if (tp_camera_frames_next(f, &rgb, err, errlen) != 1) {
            if (!err[0])
                snprintf(err, errlen, "%s: camera %s: fewer frames than the grid", e->path, c->name);
            rc = -1;
        } else if (tp_jpeg_encode(rgb, c->width, c->height, o->jpeg_quality, 1, &jpg[i], &len[i])) {
            snprintf(err, errlen, "%s: camera %s: JPEG encoding failed", e->path, c->name);
            rc = -1;
        } else {
            lens[i] = (float)len[i];
            if (len[i] > width)
                width = len[i];
        }
    }
    uint8_t *pad = NULL;
    if (!rc) {
        pad = calloc((size_t)(n ? n : 1), width ? width : 1);
        if (!pad) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        }
    }
    for (int64_t i = 0; !rc && i < n; i++)
        memcpy(pad + (size_t)i * width, jpg[i], len[i]);
    if (!rc && tp_h5_write_u8_2d(images, c->name, pad, n, (int64_t)width, o->gzip))
        rc = fail_obj(err, errlen, path, c->name);
    for (int64_t i = 0; jpg && i < n; i++)
        free(jpg[i]);
    free(jpg);
    free(len);
    free(pad);
    tp_camera_frames_close(f);
    return rc;
}

int tp_h5_aloha_write(const char *path, const tp_export_episode *e, bool sim, const tp_h5_options *o, char *err,
                      size_t errlen)
{
    hid_t file = tp_h5_file_create(path, err, errlen);
    if (file < 0)
        return -1;
    int rc = 0;
    hid_t obs = -1, images = -1;
    float *lens = NULL;
    if (tp_h5_attr_bool(file, "sim", sim) || tp_h5_attr_bool(file, "compress", o->jpeg)) {
        rc = fail_obj(err, errlen, path, "the attributes");
        goto out;
    }
    obs = tp_h5_group(file, "observations");
    images = obs < 0 ? -1 : tp_h5_group(obs, "images");
    if (images < 0) {
        rc = fail_obj(err, errlen, path, "observations/images");
        goto out;
    }
    if (o->jpeg) {
        lens = calloc((size_t)(e->n_cameras ? e->n_cameras : 1) * (size_t)(e->n_frames ? e->n_frames : 1),
                      sizeof *lens);
        if (!lens) {
            rc = fail_obj(err, errlen, path, "compress_len (out of memory)");
            goto out;
        }
    }
    for (int c = 0; c < e->n_cameras && !rc; c++)
        rc = o->jpeg ? jpeg_images(images, e, c, path, o, lens + (size_t)c * (size_t)e->n_frames, err, errlen)
                     : tp_h5_write_camera(images, e->cameras[c].name, e, c, o, path, err, errlen);
    if (rc)
        goto out;
    if (write_vec(obs, "qpos", e->state, e->n_frames, e->state_dims, o->gzip)) {
        rc = fail_obj(err, errlen, path, "observations/qpos");
        goto out;
    }
    if (e->velocity && write_vec(obs, "qvel", e->velocity, e->n_frames, e->velocity_dims, o->gzip)) {
        rc = fail_obj(err, errlen, path, "observations/qvel");
        goto out;
    }
    if (write_vec(file, "action", e->action, e->n_frames, e->action_dims, o->gzip)) {
        rc = fail_obj(err, errlen, path, "action");
        goto out;
    }
    if (o->jpeg && tp_h5_write_f32_2d(file, "compress_len", lens, e->n_cameras, e->n_frames))
        rc = fail_obj(err, errlen, path, "compress_len");
out:
    free(lens);
    if (images >= 0)
        H5Gclose(images);
    if (obs >= 0)
        H5Gclose(obs);
    if (rc) {
        H5Fclose(file);
        return -1;
    }
    return tp_h5_file_close(file, path, err, errlen);
}
