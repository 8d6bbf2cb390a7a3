/* teleop — HDF5 writing for the exports (hdf5_write.c): objects created
 * without modification times (H5Pset_obj_track_times off) so that the same
 * input gives the same bytes, datasets chunked and deflate-compressed, and
 * attributes in the types h5py writes (bool as h5py's enum, str as
 * variable-length UTF-8). And the two layouts (hdf5_aloha.c,
 * hdf5_robomimic.c). Every function returns 0 or -1 with err naming the
 * file and object; hid_t handles are the caller's to close. */
#ifndef TELEOP_HDF5_WRITE_H
#define TELEOP_HDF5_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#include "teleop/export.h"

typedef struct tp_h5_options {
    int gzip;          /* deflate level 0..9 (0: stored uncompressed) */
    bool jpeg;         /* ALOHA: images as JPEG bytes (--compress) */
    int jpeg_quality;  /* 1..100 */
    const char *env_args; /* robomimic data.attrs["env_args"]; NULL: derived from the first episode */
    bool next_obs;     /* robomimic: also next_obs/<key> (obs one step later, the last repeated) */
    const volatile int *interrupt;
} tp_h5_options;

hid_t tp_h5_file_create(const char *path, char *err, size_t errlen);
/* Closes the file and makes its bytes durable (fsync). */
int tp_h5_file_close(hid_t file, const char *path, char *err, size_t errlen);
hid_t tp_h5_group(hid_t parent, const char *name);
/* rows x cols float32 values stored as float64 (rows x cols; cols 0: a 1-D array). */
int tp_h5_write_f64(hid_t parent, const char *name, const double *data, int64_t rows, int64_t cols, int gzip);
int tp_h5_write_i64(hid_t parent, const char *name, const int64_t *data, int64_t n, int gzip);
int tp_h5_write_f32_2d(hid_t parent, const char *name, const float *data, int64_t rows, int64_t cols);
/* rows x width uint8 (a padded byte array per row) */
int tp_h5_write_u8_2d(hid_t parent, const char *name, const uint8_t *data, int64_t rows, int64_t width, int gzip);
/* fixed-length ASCII strings, as numpy's dtype 'S' (robomimic's masks) */
int tp_h5_write_strings(hid_t parent, const char *name, const char *const *s, int n);
/* A T x H x W x 3 uint8 image dataset, one chunk per frame; frames written by tp_h5_image_put. */
hid_t tp_h5_images_create(hid_t parent, const char *name, int64_t n, int height, int width, int gzip);
int tp_h5_image_put(hid_t dset, int64_t i, int height, int width, const uint8_t *rgb);
/* Camera cam of e at its grid frames as such a dataset: decoded, deflated
 * in parallel when o->gzip > 0, written in frame order. */
int tp_h5_write_camera(hid_t parent, const char *name, const tp_export_episode *e, int cam, const tp_h5_options *o,
                       const char *path, char *err, size_t errlen);
int tp_h5_attr_bool(hid_t obj, const char *name, bool v);
int tp_h5_attr_i64(hid_t obj, const char *name, int64_t v);
int tp_h5_attr_str(hid_t obj, const char *name, const char *v);

/* Episode vectors as float64 rows (caller frees). */
double *tp_h5_widen(const float *v, int64_t n);

/* Writes one episode as an ALOHA file. */
int tp_h5_aloha_write(const char *path, const tp_export_episode *e, bool sim, const tp_h5_options *o, char *err,
                      size_t errlen);

/* robomimic: one file; demos added in order, then finished (masks, totals). */
typedef struct tp_h5_robomimic tp_h5_robomimic;
tp_h5_robomimic *tp_h5_robomimic_create(const char *path, const tp_h5_options *o, char *err, size_t errlen);
int tp_h5_robomimic_add(tp_h5_robomimic *r, const tp_export_episode *e, bool sim, char *err, size_t errlen);
int tp_h5_robomimic_finish(tp_h5_robomimic *r, char *err, size_t errlen); /* closes the file, frees r */
void tp_h5_robomimic_abort(tp_h5_robomimic *r);                           /* frees r, leaves the file */

/* Whether an episode was recorded in simulation: it has a sim_objects
 * stream, or a camera.NAME meta says driver=sim. -1 on a read error. */
int tp_h5_episode_is_sim(const char *path, char *err, size_t errlen);

#endif
