/* teleop — HDF5 objects for the exports (see hdf5_write.h). */
#include "hdf5_write.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "camera_frames.h"
#include "teleop/episode.h"

static hid_t plist(hid_t cls)
{
    hid_t p = H5Pcreate(cls);
    if (p >= 0)
        H5Pset_obj_track_times(p, 0); /* no times in object headers: identical input, identical bytes */
    return p;
}

hid_t tp_h5_file_create(const char *path, char *err, size_t errlen)
{
    hid_t fcpl = plist(H5P_FILE_CREATE);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    H5Pclose(fcpl);
    if (f < 0)
        snprintf(err, errlen, "%s: cannot create the HDF5 file", path);
    return f;
}

int tp_h5_file_close(hid_t file, const char *path, char *err, size_t errlen)
{
    if (H5Fclose(file) < 0) {
        snprintf(err, errlen, "%s: cannot write the HDF5 file", path);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd)) {
        snprintf(err, errlen, "%s: cannot sync: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

hid_t tp_h5_group(hid_t parent, const char *name)
{
    hid_t gcpl = plist(H5P_GROUP_CREATE);
    hid_t g = H5Gcreate2(parent, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    return g;
}

/* A dataset of rank dims, chunked (chunk NULL: contiguous) and deflated. */
static hid_t create(hid_t parent, const char *name, hid_t type, int rank, const hsize_t *dims, const hsize_t *chunk,
                    int gzip)
{
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = plist(H5P_DATASET_CREATE);
    bool empty = false;
    for (int i = 0; i < rank; i++)
        empty |= dims[i] == 0;
    if (chunk && !empty) {
        H5Pset_chunk(dcpl, rank, chunk);
        if (gzip > 0) {
            if (H5Tget_size(type) > 1)
                H5Pset_shuffle(dcpl); /* bytes of equal significance together: floats deflate better */
            H5Pset_deflate(dcpl, (unsigned)gzip);
        }
    }
    hid_t d = H5Dcreate2(parent, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(space);
    return d;
}

/* Rows of at most about 1 MiB per chunk. */
static hsize_t rows_per_chunk(int64_t rows, int64_t row_bytes)
{
    int64_t r = (1 << 20) / (row_bytes > 0 ? row_bytes : 1);
    if (r < 1)
        r = 1;
    if (r > rows)
        r = rows;
    return (hsize_t)(r > 0 ? r : 1);
}

static int write_all(hid_t parent, const char *name, hid_t type, const void *data, int rank, const hsize_t *dims,
                     size_t elem, int gzip)
{
    hsize_t chunk[2] = {rows_per_chunk((int64_t)dims[0], (int64_t)(elem * (rank == 2 ? dims[1] : 1))),
                        rank == 2 ? dims[1] : 1};
    hid_t d = create(parent, name, type, rank, dims, chunk, gzip);
    if (d < 0)
        return -1;
    herr_t rc = dims[0] && (rank == 1 || dims[1]) ? H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0;
    H5Dclose(d);
    return rc < 0 ? -1 : 0;
}

int tp_h5_write_f64(hid_t parent, const char *name, const double *data, int64_t rows, int64_t cols, int gzip)
{
    hsize_t dims[2] = {(hsize_t)rows, (hsize_t)cols};
    return write_all(parent, name, H5T_IEEE_F64LE, data, cols ? 2 : 1, dims, 8, gzip);
}

int tp_h5_write_i64(hid_t parent, const char *name, const int64_t *data, int64_t n, int gzip)
{
    hsize_t dims[1] = {(hsize_t)n};
    return write_all(parent, name, H5T_STD_I64LE, data, 1, dims, 8, gzip);
}

int tp_h5_write_f32_2d(hid_t parent, const char *name, const float *data, int64_t rows, int64_t cols)
{
    hsize_t dims[2] = {(hsize_t)rows, (hsize_t)cols};
    hid_t d = create(parent, name, H5T_IEEE_F32LE, 2, dims, NULL, 0);
    if (d < 0)
        return -1;
    herr_t rc = rows && cols ? H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0;
    H5Dclose(d);
    return rc < 0 ? -1 : 0;
}

int tp_h5_write_u8_2d(hid_t parent, const char *name, const uint8_t *data, int64_t rows, int64_t width, int gzip)
{
    hsize_t dims[2] = {(hsize_t)rows, (hsize_t)width};
    hsize_t chunk[2] = {1, (hsize_t)(width ? width : 1)}; /* one frame per chunk */
    hid_t d = create(parent, name, H5T_STD_U8LE, 2, dims, chunk, gzip);
    if (d < 0)
        return -1;
    herr_t rc = rows && width ? H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0;
    H5Dclose(d);
    return rc < 0 ? -1 : 0;
}

int tp_h5_write_strings(hid_t parent, const char *name, const char *const *s, int n)
{
    size_t w = 1;
    for (int i = 0; i < n; i++)
        if (strlen(s[i]) > w)
            w = strlen(s[i]);
    char *buf = calloc(n > 0 ? (size_t)n : 1, w);
    if (!buf)
        return -1;
    for (int i = 0; i < n; i++)
        memcpy(buf + (size_t)i * w, s[i], strlen(s[i]));
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, w);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    hsize_t dims[1] = {(hsize_t)n};
    hid_t d = create(parent, name, t, 1, dims, NULL, 0);
    herr_t rc = d < 0 ? -1 : n ? H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) : 0;
    if (d >= 0)
        H5Dclose(d);
    H5Tclose(t);
    free(buf);
    return rc < 0 ? -1 : 0;
}

hid_t tp_h5_images_create(hid_t parent, const char *name, int64_t n, int height, int width, int gzip)
{
    hsize_t dims[4] = {(hsize_t)n, (hsize_t)height, (hsize_t)width, 3};
    hsize_t chunk[4] = {1, (hsize_t)height, (hsize_t)width, 3};
    return create(parent, name, H5T_STD_U8LE, 4, dims, chunk, gzip);
}

int tp_h5_image_put(hid_t dset, int64_t i, int height, int width, const uint8_t *rgb)
{
    hsize_t start[4] = {(hsize_t)i, 0, 0, 0}, count[4] = {1, (hsize_t)height, (hsize_t)width, 3};
    hid_t fs = H5Dget_space(dset);
    hid_t ms = H5Screate_simple(4, count, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    herr_t rc = H5Dwrite(dset, H5T_NATIVE_UINT8, ms, fs, H5P_DEFAULT, rgb);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc < 0 ? -1 : 0;
}

static int attr(hid_t obj, const char *name, hid_t type, const void *v)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, type, v);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(space);
    return rc < 0 ? -1 : 0;
}

int tp_h5_attr_bool(hid_t obj, const char *name, bool v)
{
    /* h5py's bool: an 8-bit enum FALSE = 0, TRUE = 1 (numpy.bool_ on reading) */
    hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
    int8_t f = 0, tr = 1, val = v ? 1 : 0;
    H5Tenum_insert(t, "FALSE", &f);
    H5Tenum_insert(t, "TRUE", &tr);
    int rc = attr(obj, name, t, &val);
    H5Tclose(t);
    return rc;
}

int tp_h5_attr_i64(hid_t obj, const char *name, int64_t v)
{
    return attr(obj, name, H5T_NATIVE_INT64, &v);
}

int tp_h5_attr_str(hid_t obj, const char *name, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    int rc = attr(obj, name, t, &v);
    H5Tclose(t);
    return rc;
}

double *tp_h5_widen(const float *v, int64_t n)
{
    double *d = malloc(sizeof *d * (size_t)(n > 0 ? n : 1));
    if (d)
        for (int64_t i = 0; i < n; i++)
            d[i] = v[i];
    return d;
}

int tp_h5_episode_is_sim(const char *path, char *err, size_t errlen)
{
    tp_episode *ep = tp_episode_open(path, err, errlen);
    if (!ep)
        return -1;
    int sim = tp_episode_find_stream(ep, "sim_objects") != NULL;
    for (int i = 0; i < tp_episode_stream_count(ep) && !sim; i++) {
        const tp_stream_info *s = tp_episode_stream(ep, i);
        char key[300];
        snprintf(key, sizeof key, "camera.%s", s->name);
        const char *v = s->kind == TP_STREAM_CAMERA ? tp_episode_meta(ep, key) : NULL;
        sim = v && !strncmp(v, "driver=sim", 10) && (v[10] == 0 || v[10] == ' ');
    }
    tp_episode_close(ep);
    return sim;
}

/* ---- camera frames, deflated in parallel ----
 * The serial libhdf5 runs its filters in the calling thread; with
 * deflate on, frames are instead compressed by a few threads with zlib's
 * compress2 (what HDF5's deflate filter calls, at the same level) and
 * written as finished chunks (H5Dwrite_chunk), in frame order. */

#define BATCH 16

typedef struct deflate_job {
    const uint8_t *raw;
    size_t raw_size;
    uint8_t *out[BATCH];
    uLongf out_size[BATCH];
    int n, level, next, failed;
    pthread_mutex_t lock;
} deflate_job;

static void *deflate_worker(void *arg)
{
    deflate_job *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        int i = j->next++;
        pthread_mutex_unlock(&j->lock);
        if (i >= j->n)
            return NULL;
        if (compress2(j->out[i], &j->out_size[i], j->raw + (size_t)i * j->raw_size, j->raw_size, j->level) != Z_OK) {
            pthread_mutex_lock(&j->lock);
            j->failed = 1;
            pthread_mutex_unlock(&j->lock);
        }
    }
}

static int threads_for_deflate(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

int tp_h5_write_camera(hid_t parent, const char *name, const tp_export_episode *e, int cam, const tp_h5_options *o,
                       const char *path, char *err, size_t errlen)
{
    const tp_export_camera *c = &e->cameras[cam];
    size_t frame = (size_t)c->width * (size_t)c->height * 3;
    tp_camera_frames *f = tp_camera_frames_open(e, cam, err, errlen);
    if (!f)
        return -1;
    hid_t d = tp_h5_images_create(parent, name, e->n_frames, c->height, c->width, o->gzip);
    deflate_job job = {.raw_size = frame, .level = o->gzip};
    pthread_mutex_init(&job.lock, NULL);
    uint8_t *raw = malloc(frame * BATCH);
    uLong bound = compressBound((uLong)frame);
    int rc = 0;
    for (int i = 0; i < BATCH && raw; i++)
        if (!(job.out[i] = malloc(bound)))
            rc = -1;
    if (d < 0 || !raw || rc) {
        snprintf(err, errlen, d < 0 ? "%s: cannot write %s" : "out of memory", path, name);
        rc = -1;
    }
    job.raw = raw;
    int nthreads = threads_for_deflate();
    for (int64_t i0 = 0; !rc && i0 < e->n_frames; i0 += BATCH) {
        int n = e->n_frames - i0 < BATCH ? (int)(e->n_frames - i0) : BATCH;
        for (int k = 0; k < n && !rc; k++) {
            const uint8_t *rgb;
            if (o->interrupt && *o->interrupt) {
                snprintf(err, errlen, "interrupted");
                rc = -1;
            } else if (tp_camera_frames_next(f, &rgb, err, errlen) != 1) {
                if (!err[0])
                    snprintf(err, errlen, "%s: camera %s: fewer frames than the grid", e->path, c->name);
                rc = -1;
            } else {
                memcpy(raw + (size_t)k * frame, rgb, frame);
            }
        }
        if (rc)
            break;
        if (o->gzip <= 0) {
            for (int k = 0; k < n && !rc; k++)
                if (tp_h5_image_put(d, i0 + k, c->height, c->width, raw + (size_t)k * frame)) {
                    snprintf(err, errlen, "%s: cannot write %s", path, name);
                    rc = -1;
                }
            continue;
        }
        job.n = n;
        job.next = 0;
        for (int k = 0; k < n; k++)
            job.out_size[k] = bound;
        pthread_t th[8];
        int started = 0;
        for (int t = 1; t < nthreads && t < n; t++)
            if (!pthread_create(&th[started], NULL, deflate_worker, &job))
                started++;
        deflate_worker(&job);
        for (int t = 0; t < started; t++)
            pthread_join(th[t], NULL);
        if (job.failed) {
            snprintf(err, errlen, "%s: %s: deflate failed", path, name);
            rc = -1;
        }
        for (int k = 0; k < n && !rc; k++) {
            hsize_t off[4] = {(hsize_t)(i0 + k), 0, 0, 0};
            if (H5Dwrite_chunk(d, H5P_DEFAULT, 0, off, job.out_size[k], job.out[k]) < 0) {
                snprintf(err, errlen, "%s: cannot write %s", path, name);
                rc = -1;
            }
        }
    }
    for (int i = 0; i < BATCH; i++)
        free(job.out[i]);
    free(raw);
    pthread_mutex_destroy(&job.lock);
    if (d >= 0)
        H5Dclose(d);
    tp_camera_frames_close(f);
    return rc;
}
