/* teleop — the station's cameras: capture and encoder threads per camera,
 * frames dropped at capture when encoding falls behind, gaps recorded. */
#include "station/cameras.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "station/console_feed.h"
#include "teleop/clock.h"
#include "teleop/log.h"
#include "teleop/ring.h"

/* Frames in flight between a camera and its encoder: at least 0.4 s of
 * frames (the ring rounds up to a power of two: 16 at 30 fps), so an encoder thread the scheduler keeps waiting on a busy
 * machine catches up without a drop. A deeper queue would only hide an
 * encoder that cannot keep up, and each slot is a whole raw frame. */
#define FRAME_QUEUE_S 0.4
#define FRAME_SLOTS_MIN 4
/* Sim cameras: state snapshots waiting to be rendered, one per frame time
 * (a few hundred bytes each). The camera renders at most 0.4 s late
 * (devices/camera/sim_camera.c); a second of room means the control loop
 * finds the ring full only when the camera thread stopped polling. */
#define SNAPSHOT_QUEUE_S 1.0
#define PACKET_SLOTS 256
#define PTS_MAP 256

typedef enum cam_event_code {
    CEV_FRAME_DROPPED, /* arg: the device's frame index */
    CEV_STALL,         /* t: the last frame; no frame since for over the gap threshold */
    CEV_GAP,           /* t: the last frame before it; arg: length in ns */
    CEV_GAP_TO_END,    /* a gap still open when the session ended */
    CEV_LOST,          /* the device vanished or failed */
    CEV_FOUND,         /* a lost device was opened and started again */
    CEV_ENDED,         /* the source has no more frames (a file played once) */
    CEV_MISSED,        /* the device skipped frames (fell behind its rate); arg: how many */
    CEV_READ_ERROR,
    CEV_BAD_FRAME,     /* the encoder refused a frame (a cut-short JPEG); arg: frame index */
    CEV_ENCODE_ERROR,
} cam_event_code;

typedef struct cam_event {
    int64_t t_ns;
    cam_event_code code;
    int64_t arg;
    char msg[96]; /* device or encoder message, for LOST and errors */
} cam_event;

/* Epochs an encoder may lag behind the recorder and still place each frame
 * in its own epoch (two per episode boundary); beyond it, it jumps to the
 * newest. */
#define EPOCH_SLOTS 512

typedef struct frame_header {
    int64_t t_ns, index;
    uint32_t size, format;
} frame_header;

typedef struct packet_msg {
    int64_t pts, t_ns;
    int64_t epoch;   /* the recording epoch the frame belongs to */
    bool end_of_epoch; /* no data: every packet of this epoch came before */
    bool keyframe;
    uint8_t *data; /* malloc'd by the encoder thread, freed by the recorder */
    size_t size;
} packet_msg;

typedef struct cam {
    camera_rig *rig;
    const tp_session_camera *cfg;
    tp_session_camera_stats *st;
    tp_camera *device; /* owned by the capture thread while it runs */
    tp_video_encoder *encoder;
    tp_video_encoder_config video;   /* what the encoder was made from, to make it again */
    uint8_t *extradata;              /* a copy: the encoder thread may be replacing the encoder */
    size_t extradata_size;
    char codec[32];
    tp_video_decoder *mjpeg_decoder; /* MJPEG camera encoded to h264/ffv1 */
    tp_ring frames;         /* frame_header + bytes, capture → encoder */
    tp_ring packets;        /* packet_msg, encoder → recorder */
    tp_ring capture_events; /* cam_event, capture → recorder */
    tp_ring encoder_events; /* cam_event, encoder → recorder */
    tp_ring snapshots;      /* sim cameras: int64 t_ns + qpos, control → capture */
    bool has_snapshots;
    size_t slot_bytes;
    int stream_id;
    int64_t seq;
    atomic_int ready, capture_done, encoder_done;
    char open_err[512];
    pthread_t capture_th, encoder_th;
    bool capture_started, encoder_started;
    double *capture_ms, *encode_ms;
    size_t timing_cap, capture_count, encode_count;
    /* live status, recorder thread only */
    int64_t reported_dropped, reported_gaps, last_report_ns;
    /* encoder thread only: the epoch being encoded */
    int64_t epoch, epoch_start_ns, epoch_frames;
    bool epoch_recording;
    /* recorder thread only: the last epoch whose end marker arrived */
    int64_t ended_epoch;
} cam;

struct camera_rig {
    camera_rig_links links;
    int count;
    cam cams[TP_SESSION_MAX_CAMERAS];
    /* Recording epochs (set by the recorder, read by the encoders): every
     * epoch's boundary and recording bit in its slot, then the newest epoch
     * number. An encoder walks the epochs in order, so a frame lands in the
     * epoch whose [boundary, next boundary) holds its capture time even when
     * the recorder has moved several episodes on (episodes shorter than the
     * encoder's latency). */
    atomic_llong epoch_boundary_ns[EPOCH_SLOTS];
    atomic_llong epoch_slot_word[EPOCH_SLOTS]; /* epoch << 1 | recording, 0: never written */
    atomic_llong epoch_latest;
    /* The recorder's decided time: every boundary before it is published.
     * A frame stamped later waits, so it is never encoded into an episode
     * whose end was not known yet. INT64_MAX: no recorder follows (nothing
     * waits). */
    atomic_llong decided_ns;
};

/* ---------------------------------------------------------------- config */

void camera_default_config(tp_session_camera *c, const char *name)
{
    memset(c, 0, sizeof *c);
    tp_camera_default_params(&c->device, name);
    tp_video_encoder_default_config(&c->video, c->device.width, c->device.height, c->device.fps);
}

/* The [camera] and [camera.NAME] keys: src/station/station_config.c. */

/* ------------------------------------------------------------------ rig */

static void set_thread_name(const char *prefix, const char *name)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%s%s", prefix, name); /* the kernel keeps 15 characters */
    pthread_setname_np(pthread_self(), buf);
}

/* Encoder threads (and the recorder) run at nice -5 when permitted (root or
 * CAP_SYS_NICE): on a machine shared with other work they get about three
 * times the CPU share of a normal thread, so unrelated load does not starve
 * them into dropping frames. Capture threads stay at normal priority, and so
 * do the GL driver's render workers they start: when CPU runs short it is
 * capture, where frames are meant to be dropped, that gives way, never the
 * writing of what was captured. The control loop is above all (SCHED_FIFO). */
#define CAMERA_NICE (-5)

static void raise_thread_share(void)
{
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), CAMERA_NICE) != 0)
        tp_log_debug("camera threads: nice %d not permitted, running at normal priority", CAMERA_NICE);
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void push_event(tp_ring *ring, int64_t t_ns, cam_event_code code, int64_t arg, const char *msg)
{
    cam_event ev = {.t_ns = t_ns, .code = code, .arg = arg};
    if (msg)
        snprintf(ev.msg, sizeof ev.msg, "%.95s", msg);
    (void)tp_ring_push(ring, &ev); /* a full event ring loses the event, never blocks */
}

static void nap_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static size_t frame_slots(double fps)
{
    size_t n = (size_t)ceil(FRAME_QUEUE_S * fps);
    return n < FRAME_SLOTS_MIN ? FRAME_SLOTS_MIN : n;
}

camera_rig *camera_rig_create(const tp_session_config *cfg, const camera_rig_links *links, char *err,
                              size_t errlen)
{
    camera_rig *rig = calloc(1, sizeof *rig);
    if (!rig) {
        snprintf(err, errlen, "cameras: out of memory");
        return NULL;
    }
    rig->links = *links;
    atomic_store(&rig->epoch_boundary_ns[0], 0);
    atomic_store(&rig->epoch_slot_word[0], 1); /* epoch 0, recording */
    atomic_store(&rig->epoch_latest, 0);
    atomic_store(&rig->decided_ns, INT64_MAX);
    size_t nq = links->sim ? (size_t)tp_sim_qpos_size(links->sim) : 0;
    for (int i = 0; i < cfg->camera_count; i++) {
        cam *c = &rig->cams[i];
        rig->count = i + 1;
        c->rig = rig;
        c->cfg = &cfg->cameras[i];
        c->st = &links->stats[i];
        c->stream_id = -1;
        snprintf(c->st->name, sizeof c->st->name, "%s", c->cfg->device.name);
        tp_video_encoder_config vc = c->cfg->video;
        vc.width = c->cfg->device.width;
        vc.height = c->cfg->device.height;
        vc.fps = c->cfg->device.fps;
        if (!strcmp(vc.codec, "mjpeg") && c->cfg->device.format != TP_PIXEL_MJPEG) {
            snprintf(err, errlen, "camera '%s': codec mjpeg needs a camera that delivers MJPEG",
                     c->cfg->device.name);
            camera_rig_destroy(rig);
            return NULL;
        }
        char verr[256];
        c->video = vc;
        c->encoder = tp_video_encoder_create(&vc, verr, sizeof verr);
        if (!c->encoder) {
            snprintf(err, errlen, "camera '%s': %s", c->cfg->device.name, verr);
            camera_rig_destroy(rig);
            return NULL;
        }
        const uint8_t *extra;
        tp_video_encoder_extradata(c->encoder, &extra, &c->extradata_size);
        snprintf(c->codec, sizeof c->codec, "%s", tp_video_encoder_codec(c->encoder));
        c->extradata = malloc(c->extradata_size ? c->extradata_size : 1);
        if (!c->extradata) {
            snprintf(err, errlen, "camera '%s': out of memory", c->cfg->device.name);
            camera_rig_destroy(rig);
            return NULL;
        }
        if (c->extradata_size)
            memcpy(c->extradata, extra, c->extradata_size);
        c->epoch_recording = true; /* epoch 0 records until the recorder says otherwise */
        c->ended_epoch = -1;
        if (c->cfg->device.format == TP_PIXEL_MJPEG && !tp_video_encoder_is_passthrough(c->encoder)) {
            c->mjpeg_decoder = tp_video_decoder_create("mjpeg", NULL, 0, vc.width, vc.height, verr, sizeof verr);
            if (!c->mjpeg_decoder) {
                snprintf(err, errlen, "camera '%s': %s", c->cfg->device.name, verr);
                camera_rig_destroy(rig);
                return NULL;
            }
        }
        c->slot_bytes = sizeof(frame_header) + tp_camera_max_frame_bytes(&c->cfg->device);
        c->st->queue_frames = 0;
        c->has_snapshots = !strcmp(c->cfg->device.driver, "sim");
        size_t frames = (size_t)(cfg->duration_s * c->cfg->device.fps) + 16;
        c->timing_cap = frames;
        c->capture_ms = calloc(frames, sizeof *c->capture_ms);
        c->encode_ms = calloc(frames, sizeof *c->encode_ms);
        if (!c->capture_ms || !c->encode_ms || tp_ring_init(&c->frames, c->slot_bytes, frame_slots(c->cfg->device.fps)) ||
            tp_ring_init(&c->packets, sizeof(packet_msg), PACKET_SLOTS) ||
            tp_ring_init(&c->capture_events, sizeof(cam_event), 256) ||
            tp_ring_init(&c->encoder_events, sizeof(cam_event), 64) ||
            (c->has_snapshots &&
             (!links->sim || tp_ring_init(&c->snapshots, sizeof(int64_t) + sizeof(double) * nq,
                                          (size_t)ceil(SNAPSHOT_QUEUE_S * c->cfg->device.fps))))) {
            snprintf(err, errlen, "camera '%s': out of memory", c->cfg->device.name);
            camera_rig_destroy(rig);
            return NULL;
        }
        c->st->queue_frames = (int)c->frames.capacity;
    }
    return rig;
}

void camera_rig_discard(camera_rig *rig)
{
    for (int i = 0; i < rig->count; i++) {
        cam *c = &rig->cams[i];
        packet_msg m;
        if (c->packets.slots)
            while (tp_ring_pop(&c->packets, &m))
                free(m.data);
        cam_event ev;
        if (c->capture_events.slots)
            while (tp_ring_pop(&c->capture_events, &ev)) {
            }
        if (c->encoder_events.slots)
            while (tp_ring_pop(&c->encoder_events, &ev)) {
            }
    }
}

void camera_rig_destroy(camera_rig *rig)
{
    if (!rig)
        return;
    camera_rig_discard(rig);
    for (int i = 0; i < rig->count; i++) {
        cam *c = &rig->cams[i];
        tp_ring_free(&c->frames);
        tp_ring_free(&c->packets);
        tp_ring_free(&c->capture_events);
        tp_ring_free(&c->encoder_events);
        tp_ring_free(&c->snapshots);
        tp_video_encoder_destroy(c->encoder);
        free(c->extradata);
        tp_video_decoder_destroy(c->mjpeg_decoder);
        free(c->capture_ms);
        free(c->encode_ms);
    }
    free(rig);
}

int camera_rig_count(const camera_rig *rig) { return rig->count; }

int camera_rig_snapshot_rings(camera_rig *rig, tp_ring **rings, double *fps, int max)
{
    int n = 0;
    for (int i = 0; i < rig->count && n < max; i++)
        if (rig->cams[i].has_snapshots) {
            fps[n] = rig->cams[i].cfg->device.fps;
            rings[n++] = &rig->cams[i].snapshots;
        }
    return n;
}

/* -------------------------------------------------------- capture thread */

#define RECONNECT_NS 500000000LL

static void device_lost(cam *c, const char *err, int64_t *next_try_ns)
{
    push_event(&c->capture_events, tp_now_ns(), CEV_LOST, 0, err);
    atomic_store(&c->st->lost, 1);
    tp_camera_stop(c->device);
    tp_camera_close(c->device);
    c->device = NULL;
    *next_try_ns = tp_now_ns() + RECONNECT_NS;
}

static void *capture_thread(void *arg)
{
    cam *c = arg;
    camera_rig *rig = c->rig;
    const tp_camera_params *p = &c->cfg->device;
    set_thread_name("tp-cam-", p->name);
    char err[256];
    tp_camera_env env = {.sim = rig->links.sim, .snapshots = c->has_snapshots ? &c->snapshots : NULL};
    c->device = tp_camera_open(p, &env, c->open_err, sizeof c->open_err);
    atomic_store(&c->ready, 1);
    if (!c->device) {
        atomic_store(&c->capture_done, 1);
        return NULL;
    }
    while (atomic_load(rig->links.start_ns) == 0 && !atomic_load(rig->links.stop))
        nap_ms(1);
    int64_t t0 = atomic_load(rig->links.start_ns);
    const int64_t period = (int64_t)llround(1e9 / p->fps);
    /* A gap is three frame periods without a frame (at least 50 ms), so a
     * late frame or two is jitter, not a gap. */
    const int64_t gap_ns = 3 * period > 50000000LL ? 3 * period : 50000000LL;
    int64_t last_ns = t0, last_index = -1;
    bool stalled = false, ended = false;
    /* A lost device is closed and opened again with the same params every
     * RECONNECT_NS (a replugged camera; the UVC driver's open finds the same
     * one by serial number or port path); frames resume in the same stream. */
    int64_t next_try_ns = 0;
    if (t0 && tp_camera_start(c->device, t0, err, sizeof err) != 0)
        device_lost(c, err, &next_try_ns);
    for (;;) {
        /* A sim camera's snapshots were taken at their frame times: those
         * still queued when the session stops are rendered (late) before
         * the camera stops, as frames captured before the stop are still
         * encoded. Other devices stop at once. */
        bool finishing = atomic_load(rig->links.stop);
        if (ended || (finishing && (!c->has_snapshots || !c->device)))
            break;
        if (!c->device) {
            if (tp_now_ns() < next_try_ns) {
                nap_ms(10);
                continue;
            }
            next_try_ns = tp_now_ns() + RECONNECT_NS;
            tp_camera *dev = tp_camera_open(p, &env, err, sizeof err);
            if (dev && tp_camera_start(dev, t0, err, sizeof err) != 0) {
                tp_camera_close(dev);
                dev = NULL;
            }
            if (dev) {
                c->device = dev;
                push_event(&c->capture_events, tp_now_ns(), CEV_FOUND, 0, NULL);
                atomic_store(&c->st->lost, 0);
            }
            continue;
        }
        /* A bounded wait, so the end of the session is noticed promptly. */
        int rc = tp_camera_poll(c->device, tp_now_ns() + (finishing ? 0 : 50000000LL), err, sizeof err);
        if (finishing && rc != 1)
            break;
        if (rc == TP_CAMERA_ENDED) {
            push_event(&c->capture_events, tp_now_ns(), CEV_ENDED, 0, err);
            ended = true;
            break;
        }
        if (rc < 0) {
            device_lost(c, err, &next_try_ns);
            continue;
        }
        if (rc == 0) {
            if (!stalled && tp_now_ns() - last_ns > gap_ns) {
                push_event(&c->capture_events, last_ns, CEV_STALL, 0, NULL);
                stalled = true;
            }
            continue;
        }
        unsigned char *slot = tp_ring_reserve(&c->frames);
        tp_camera_frame f = {.data = slot ? slot + sizeof(frame_header) : NULL,
                             .capacity = slot ? c->slot_bytes - sizeof(frame_header) : 0};
        int64_t r0 = tp_now_ns();
        int rrc = tp_camera_read(c->device, &f, err, sizeof err);
        int64_t r1 = tp_now_ns();
        if (f.t_ns - last_ns > gap_ns) {
            push_event(&c->capture_events, last_ns, CEV_GAP, f.t_ns - last_ns, NULL);
            atomic_fetch_add(&c->st->gaps, 1);
            atomic_fetch_add(&c->st->gap_ms, (f.t_ns - last_ns) / 1000000);
        } else if (last_index >= 0 && f.index > last_index + 1) {
            /* Shorter than a gap: frames the device skipped, counted. */
            push_event(&c->capture_events, f.t_ns, CEV_MISSED, f.index - last_index - 1, NULL);
            atomic_fetch_add(&c->st->missed, f.index - last_index - 1);
        }
        if (f.index > last_index)
            last_index = f.index;
        stalled = false;
        if (f.t_ns > last_ns)
            last_ns = f.t_ns;
        if (rrc != 0) {
            push_event(&c->capture_events, r0, CEV_READ_ERROR, f.index, err);
            continue;
        }
        atomic_fetch_add(&c->st->captured, 1);
        if (!slot) {
            /* The encoder is behind: drop here, before any encoding work. */
            atomic_fetch_add(&c->st->dropped, 1);
            push_event(&c->capture_events, f.t_ns, CEV_FRAME_DROPPED, f.index, NULL);
            continue;
        }
        frame_header h = {.t_ns = f.t_ns, .index = f.index, .size = (uint32_t)f.size, .format = (uint32_t)f.format};
        memcpy(slot, &h, sizeof h);
        if (rig->links.console) /* before the commit: the slot is still this thread's */
            console_feed_frame(rig->links.console, (int)(c - rig->cams), &f);
        tp_ring_commit(&c->frames);
        if (c->capture_count < c->timing_cap)
            c->capture_ms[c->capture_count++] = (double)(r1 - r0) / 1e6;
    }
    tp_camera_stop(c->device);
    tp_camera_close(c->device);
    c->device = NULL;
    /* An ended camera's stream is complete: no gap to the end follows. */
    while (ended && !atomic_load(rig->links.stop))
        nap_ms(5);
    /* A gap open at the end lasts until the session's end, not until this
     * thread noticed it. */
    int64_t end = tp_now_ns();
    if (rig->links.end_ns && *rig->links.end_ns > 0 && *rig->links.end_ns < end)
        end = *rig->links.end_ns;
    if (t0 && !ended && end - last_ns > gap_ns) {
        push_event(&c->capture_events, last_ns, CEV_GAP_TO_END, end - last_ns, NULL);
        atomic_fetch_add(&c->st->gaps, 1);
        atomic_fetch_add(&c->st->gap_ms, (end - last_ns) / 1000000);
    }
    c->st->capture_cpu_s = thread_cpu_s();
    atomic_store(&c->capture_done, 1);
    return NULL;
}

int camera_rig_start_capture(camera_rig *rig, char *err, size_t errlen)
{
    for (int i = 0; i < rig->count; i++) {
        cam *c = &rig->cams[i];
        if (pthread_create(&c->capture_th, NULL, capture_thread, c) != 0) {
            snprintf(err, errlen, "camera '%s': cannot start its capture thread", c->cfg->device.name);
            atomic_store(&c->ready, 1);
            atomic_store(&c->capture_done, 1);
            return -1;
        }
        c->capture_started = true;
    }
    int rc = 0;
    for (int i = 0; i < rig->count; i++) {
        cam *c = &rig->cams[i];
        while (!atomic_load(&c->ready))
            nap_ms(1);
        if (c->open_err[0] && rc == 0) {
            snprintf(err, errlen, "%s", c->open_err);
            rc = -1;
        }
    }
    return rc;
}

/* -------------------------------------------------------- encoder thread */

/* Moves every packet the encoder has ready to the recorder. */
static int drain_encoder(cam *c, const int64_t *pts_to_t)
{
    char err[256];
    tp_video_packet pkt;
    int rc;
    while ((rc = tp_video_encoder_receive(c->encoder, &pkt, err, sizeof err)) == 1) {
        packet_msg m = {.pts = pkt.pts, .keyframe = pkt.keyframe, .size = pkt.size, .epoch = c->epoch};
        m.t_ns = pts_to_t[(size_t)pkt.pts % PTS_MAP];
        m.data = malloc(pkt.size);
        if (!m.data) {
            c->rig->links.fail(c->rig->links.user, "encoder: out of memory");
            return -1;
        }
        memcpy(m.data, pkt.data, pkt.size);
        while (!tp_ring_push(&c->packets, &m)) {
            /* Wait for the recorder rather than lose an encoded packet
             * (the packets after it would not decode); the frame ring
             * fills meanwhile and capture drops frames. */
            nap_ms(1);
        }
        atomic_fetch_add(&c->st->encoded, 1);
        atomic_fetch_add(&c->st->bytes, (long long)pkt.size);
    }
    if (rc < 0) {
        push_event(&c->encoder_events, tp_now_ns(), CEV_ENCODE_ERROR, 0, err);
        char msg[320];
        snprintf(msg, sizeof msg, "camera '%s': %s", c->cfg->device.name, err);
        c->rig->links.fail(c->rig->links.user, msg);
        return -1;
    }
    return 0;
}

/* One frame into the encoder. 0 sent; 1 refused (the frame is lost, the
 * stream goes on); -1 a fatal encoder error. */
static int encode_frame(cam *c, const frame_header *h, const uint8_t *data, int64_t pts, char *err, size_t errlen)
{
    if (h->format == TP_PIXEL_MJPEG) {
        if (tp_video_encoder_is_passthrough(c->encoder))
            return tp_video_encoder_send_compressed(c->encoder, data, h->size, pts, err, errlen) == 0 ? 0 : 1;
        /* An MJPEG camera stored as h264 or ffv1: decode, then encode. */
        tp_video_frame fr;
        if (tp_video_decoder_send(c->mjpeg_decoder, data, h->size, pts, err, errlen) != 0 ||
            tp_video_decoder_receive(c->mjpeg_decoder, &fr, err, errlen) != 1)
            return 1;
        if (fr.width != c->cfg->device.width || fr.height != c->cfg->device.height) {
            snprintf(err, errlen, "a %dx%d JPEG from a %dx%d camera", fr.width, fr.height, c->cfg->device.width,
                     c->cfg->device.height);
            return 1;
        }
        return tp_video_encoder_send(c->encoder, fr.rgb, pts, err, errlen) == 0 ? 0 : -1;
    }
    return tp_video_encoder_send(c->encoder, data, pts, err, errlen) == 0 ? 0 : -1;
}

static void push_packet(cam *c, const packet_msg *m)
{
    while (!tp_ring_push(&c->packets, m))
        nap_ms(1); /* as drain_encoder: never lose a packet */
}

/* Ends the epoch being encoded: its last packets, then its end marker, and a
 * fresh encoder, so every epoch is a whole stream that starts on a keyframe. */
static int end_epoch(cam *c, const int64_t *pts_to_t)
{
    char err[256];
    if (c->epoch_frames > 0 && !tp_video_encoder_is_passthrough(c->encoder)) {
        if (tp_video_encoder_send(c->encoder, NULL, 0, err, sizeof err) != 0 || drain_encoder(c, pts_to_t) != 0)
            return -1;
        tp_video_encoder *fresh = tp_video_encoder_create(&c->video, err, sizeof err);
        if (!fresh) {
            char msg[320];
            snprintf(msg, sizeof msg, "camera '%s': %s", c->cfg->device.name, err);
            c->rig->links.fail(c->rig->links.user, msg);
            return -1;
        }
        tp_video_encoder_destroy(c->encoder);
        c->encoder = fresh;
    }
    packet_msg marker = {.epoch = c->epoch, .end_of_epoch = true};
    push_packet(c, &marker);
    c->epoch_frames = 0;
    return 0;
}

/* Moves through the recorder's epochs whose boundaries have passed at t_ref
 * (a frame's capture time, or a while ago when no frame comes), ending each
 * one on the way: every epoch gets its end marker, in order. */
static int follow_epoch(cam *c, int64_t t_ref, int64_t *pts, const int64_t *pts_to_t)
{
    camera_rig *rig = c->rig;
    int64_t latest = atomic_load_explicit(&rig->epoch_latest, memory_order_acquire);
    while (c->epoch < latest) {
        int64_t next = c->epoch + 1;
        if (latest - next >= EPOCH_SLOTS - 1)
            next = latest; /* lapped: the slots in between are overwritten */
        int64_t boundary = atomic_load(&rig->epoch_boundary_ns[next % EPOCH_SLOTS]);
        long long word = atomic_load_explicit(&rig->epoch_slot_word[next % EPOCH_SLOTS], memory_order_acquire);
        if ((word >> 1) != next) {
            /* Overwritten while read: start again from the newest. */
            latest = atomic_load_explicit(&rig->epoch_latest, memory_order_acquire);
            c->epoch = c->epoch < latest - (EPOCH_SLOTS - 2) ? latest - (EPOCH_SLOTS - 2) : c->epoch;
            continue;
        }
        if (t_ref < boundary)
            return 0;
        if (end_epoch(c, pts_to_t) != 0)
            return -1;
        c->epoch = next;
        c->epoch_recording = word & 1;
        c->epoch_start_ns = boundary;
        *pts = 0;
    }
    return 0;
}

static void *encoder_thread(void *arg)
{
    cam *c = arg;
    set_thread_name("tp-enc-", c->cfg->device.name);
    raise_thread_share();
    char err[256];
    int64_t pts_to_t[PTS_MAP]; /* capture time by frame index, for packets */
    int64_t pts = 0;
    const long delay_ns = (long)(c->cfg->test_encode_delay_ms * 1e6);
    /* With no frame for this long after a boundary, the camera is stalled:
     * end the epoch without waiting for it. A camera whose frames keep
     * coming is not stalled, even if they come late (a sim camera renders up
     * to 0.4 s behind its frame times): its epoch ends with its first frame
     * past the boundary. */
    const int64_t stalled_ns = 200000000LL;
    int64_t last_arrival = tp_now_ns();
    bool failed = false;
    for (;;) {
        const unsigned char *slot = tp_ring_front(&c->frames);
        if (!slot) {
            if (atomic_load(&c->capture_done) && tp_ring_count(&c->frames) == 0)
                break;
            int64_t now = tp_now_ns();
            if (now - last_arrival >= stalled_ns && follow_epoch(c, now - stalled_ns, &pts, pts_to_t) != 0) {
                failed = true;
                break;
            }
            nap_ms(2);
            continue;
        }
        frame_header h;
        memcpy(&h, slot, sizeof h);
        last_arrival = tp_now_ns();
        /* Read before the epochs: the recorder publishes every boundary
         * before the decided time that covers it. */
        int64_t decided = atomic_load(&c->rig->decided_ns);
        if (follow_epoch(c, h.t_ns, &pts, pts_to_t) != 0) {
            failed = true;
            break;
        }
        if (h.t_ns >= decided) {
            /* Which episode this frame opens or belongs to is not decided
             * yet (a boundary may still come before it): it waits. The
             * recorder decides on until every encoder is done, capture
             * ended or not. */
            nap_ms(2);
            continue;
        }
        if (!c->epoch_recording || h.t_ns < c->epoch_start_ns) {
            /* Between episodes (or from before one, late): nobody keeps it. */
            tp_ring_release(&c->frames);
            continue;
        }
        int64_t e0 = tp_now_ns();
        pts_to_t[pts % PTS_MAP] = h.t_ns;
        int rc = encode_frame(c, &h, slot + sizeof h, pts, err, sizeof err);
        if (delay_ns > 0) {
            struct timespec ts = {delay_ns / 1000000000L, delay_ns % 1000000000L};
            nanosleep(&ts, NULL);
        }
        tp_ring_release(&c->frames);
        if (rc < 0) {
            push_event(&c->encoder_events, e0, CEV_ENCODE_ERROR, h.index, err);
            char msg[320];
            snprintf(msg, sizeof msg, "camera '%s': %s", c->cfg->device.name, err);
            c->rig->links.fail(c->rig->links.user, msg);
            failed = true;
            break;
        }
        if (rc > 0) {
            push_event(&c->encoder_events, h.t_ns, CEV_BAD_FRAME, h.index, err);
            continue;
        }
        pts++;
        c->epoch_frames++;
        if (drain_encoder(c, pts_to_t) != 0) {
            failed = true;
            break;
        }
        if (c->encode_count < c->timing_cap)
            c->encode_ms[c->encode_count++] = (double)(tp_now_ns() - e0) / 1e6;
    }
    if (!failed && tp_video_encoder_send(c->encoder, NULL, 0, err, sizeof err) == 0)
        drain_encoder(c, pts_to_t);
    if (!failed) {
        packet_msg marker = {.epoch = c->epoch, .end_of_epoch = true};
        push_packet(c, &marker);
    }
    /* A failed encoder leaves frames behind: release them so nothing waits. */
    while (tp_ring_front(&c->frames))
        tp_ring_release(&c->frames);
    c->st->encoder_cpu_s = thread_cpu_s();
    atomic_store(&c->encoder_done, 1);
    return NULL;
}

int camera_rig_start_encoders(camera_rig *rig, char *err, size_t errlen)
{
    int rc = 0;
    for (int i = 0; i < rig->count; i++) {
        cam *c = &rig->cams[i];
        if (pthread_create(&c->encoder_th, NULL, encoder_thread, c) != 0) {
            atomic_store(&c->encoder_done, 1);
            if (rc == 0)
                snprintf(err, errlen, "camera '%s': cannot start its encoder thread", c->cfg->device.name);
            rc = -1;
            continue;
        }
        c->encoder_started = true;
    }
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_double);
    return v[n / 2];
}

void camera_rig_join(camera_rig *rig)
{
    for (int i = 0; i < rig->count; i++) {
        cam *c = &rig->cams[i];
        if (c->capture_started)
            pthread_join(c->capture_th, NULL);
        c->capture_started = false;
        atomic_store(&c->capture_done, 1);
    }
    for (int i = 0; i < rig->count; i++) {
        cam *c = &rig->cams[i];
        if (c->encoder_started)
            pthread_join(c->encoder_th, NULL);
        c->encoder_started = false;
        atomic_store(&c->encoder_done, 1);
        c->st->capture_median_ms = median(c->capture_ms, c->capture_count);
        c->st->encode_median_ms = median(c->encode_ms, c->encode_count);
    }
}

bool camera_rig_done(const camera_rig *rig)
{
    for (int i = 0; i < rig->count; i++)
        if (!atomic_load(&rig->cams[i].encoder_done))
            return false;
    return true;
}

/* --------------------------------------------------------------- recorder */

int camera_rig_add_streams(camera_rig *rig, tp_episode_writer *w, char *err, size_t errlen)
{
    for (int i = 0; i < rig->count; i++) {
        cam *c = &rig->cams[i];
        const tp_camera_params *p = &c->cfg->device;
        tp_stream_desc d = {.name = p->name, .kind = TP_STREAM_CAMERA, .dims = 3, .rate_hz = p->fps,
                            .codec = c->codec, .width = p->width, .height = p->height,
                            .extradata = c->extradata, .extradata_size = c->extradata_size};
        c->stream_id = tp_episode_writer_add_stream(w, &d);
        c->seq = 0;
        char key[96], value[256];
        snprintf(key, sizeof key, "camera.%s", p->name);
        snprintf(value, sizeof value, "driver=%s source=%s format=%s", p->driver, p->source ? p->source : "",
                 tp_pixel_format_name(p->format));
        if (c->stream_id < 0 || tp_episode_writer_set_meta(w, key, value) != 0) {
            snprintf(err, errlen, "%s", tp_episode_writer_error(w));
            return -1;
        }
        /* Intrinsics and extrinsics, from the driver (cameras table). */
        tp_camera_env env = {.sim = rig->links.sim};
        tp_camera_calibration cal;
        int has = tp_camera_calibration_for(p, &env, &cal, err, errlen);
        if (has < 0)
            return -1;
        if (has && tp_episode_writer_camera_params(w, c->stream_id, &cal) != 0) {
            snprintf(err, errlen, "%s", tp_episode_writer_error(w));
            return -1;
        }
    }
    return 0;
}

/* Events stamped in [start_ns, end_ns) go to w; earlier ones (and all of
 * them with w NULL) are dropped; later ones stay queued for the next episode. */
static int write_events(cam *c, tp_ring *ring, tp_episode_writer *w, int64_t start_ns, int64_t end_ns)
{
    char detail[256];
    const char *name = c->cfg->device.name;
    const cam_event *front;
    while ((front = tp_ring_front(ring))) {
        cam_event ev = *front;
        if (ev.t_ns >= end_ns)
            break;
        tp_ring_release(ring);
        if (!w || ev.t_ns < start_ns)
            continue;
        const char *kind = "camera_error";
        switch (ev.code) {
        case CEV_FRAME_DROPPED:
            kind = "frame_dropped";
            snprintf(detail, sizeof detail, "camera %s: frame %lld dropped at capture, encoder queue full", name,
                     (long long)ev.arg);
            break;
        case CEV_STALL:
            kind = "camera_stall";
            snprintf(detail, sizeof detail, "camera %s: no frame since this time", name);
            break;
        case CEV_GAP:
        case CEV_GAP_TO_END:
            kind = "camera_gap";
            snprintf(detail, sizeof detail, "camera %s: no frames for %.0f ms%s", name, (double)ev.arg / 1e6,
                     ev.code == CEV_GAP_TO_END ? ", until the end of the session" : "");
            break;
        case CEV_MISSED:
            kind = "frames_missed";
            snprintf(detail, sizeof detail, "camera %s: %lld frames missed, the camera fell behind its rate", name,
                     (long long)ev.arg);
            break;
        case CEV_LOST:
            kind = "camera_lost";
            snprintf(detail, sizeof detail, "camera %s: %s", name, ev.msg);
            break;
        case CEV_FOUND:
            kind = "camera_found";
            snprintf(detail, sizeof detail, "camera %s: the device is back, frames resume in the same stream", name);
            break;
        case CEV_ENDED: {
            /* The driver's message names the camera too: said once. */
            char own[80];
            snprintf(own, sizeof own, "camera '%s': ", name);
            const char *why = strncmp(ev.msg, own, strlen(own)) ? ev.msg : ev.msg + strlen(own);
            kind = "camera_ended";
            snprintf(detail, sizeof detail, "camera %s: %s", name, why);
            break;
        }
        case CEV_READ_ERROR:
            snprintf(detail, sizeof detail, "camera %s: frame %lld: %s", name, (long long)ev.arg, ev.msg);
            break;
        case CEV_BAD_FRAME:
            kind = "frame_dropped";
            snprintf(detail, sizeof detail, "camera %s: frame %lld refused by the encoder: %s", name,
                     (long long)ev.arg, ev.msg);
            break;
        case CEV_ENCODE_ERROR:
            kind = "encoder_error";
            snprintf(detail, sizeof detail, "camera %s: %s", name, ev.msg);
            break;
        }
        if (tp_episode_writer_event(w, ev.t_ns, kind, detail) != 0)
            return -1;
    }
    return 0;
}

int camera_rig_drain(camera_rig *rig, tp_episode_writer *w)
{
    for (int i = 0; i < rig->count; i++) {
        cam *c = &rig->cams[i];
        packet_msg m;
        while (tp_ring_pop(&c->packets, &m)) {
            if (m.end_of_epoch) {
                c->ended_epoch = m.epoch;
                continue;
            }
            int rc = tp_episode_writer_packet(w, c->stream_id, c->seq, m.pts, m.t_ns, m.keyframe, m.data, m.size);
            free(m.data);
            if (rc)
                return -1;
            c->seq++;
        }
        if (write_events(c, &c->capture_events, w, INT64_MIN, INT64_MAX) ||
            write_events(c, &c->encoder_events, w, INT64_MIN, INT64_MAX))
            return -1;
    }
    return 0;
}

int64_t camera_rig_begin_epoch(camera_rig *rig, int64_t boundary_ns, bool recording)
{
    int64_t epoch = atomic_load(&rig->epoch_latest) + 1;
    /* The slot first, then the number that makes it visible. */
    atomic_store(&rig->epoch_boundary_ns[epoch % EPOCH_SLOTS], boundary_ns);
    atomic_store_explicit(&rig->epoch_slot_word[epoch % EPOCH_SLOTS], (long long)(epoch << 1 | (recording ? 1 : 0)),
                          memory_order_release);
    atomic_store_explicit(&rig->epoch_latest, epoch, memory_order_release);
    return epoch;
}

void camera_rig_set_decided(camera_rig *rig, int64_t decided_ns) { atomic_store(&rig->decided_ns, decided_ns); }

int camera_rig_drain_epoch(camera_rig *rig, tp_episode_writer *w, int64_t epoch, int64_t start_ns, int64_t end_ns)
{
    for (int i = 0; i < rig->count; i++) {
        cam *c = &rig->cams[i];
        const packet_msg *front;
        while ((front = tp_ring_front(&c->packets))) {
            packet_msg m = *front;
            if (m.epoch > epoch)
                break; /* the next episode's: it stays queued */
            if (m.epoch == epoch && !m.end_of_epoch && m.t_ns >= end_ns && w)
                break; /* not decided yet: the next batch's */
            tp_ring_release(&c->packets);
            if (m.end_of_epoch) {
                if (m.epoch > c->ended_epoch)
                    c->ended_epoch = m.epoch;
                continue;
            }
            int rc = 0;
            /* The encoder places each frame by its capture time, so an
             * epoch's packets are its episode's; the bounds guard the
             * rule that no row lies outside [start, end). */
            if (m.epoch == epoch && w && m.t_ns >= start_ns && m.t_ns < end_ns)
                rc = tp_episode_writer_packet(w, c->stream_id, c->seq++, m.pts, m.t_ns, m.keyframe, m.data, m.size);
            else if (m.epoch == epoch && w)
                atomic_fetch_sub(&c->st->encoded, 1); /* "encoded" counts packets stored: this one is not */
            free(m.data);
            if (rc)
                return -1;
        }
        if (write_events(c, &c->capture_events, w, start_ns, end_ns) ||
            write_events(c, &c->encoder_events, w, start_ns, end_ns))
            return -1;
    }
    return 0;
}

bool camera_rig_epoch_ended(const camera_rig *rig, int64_t epoch)
{
    for (int i = 0; i < rig->count; i++) {
        const cam *c = &rig->cams[i];
        if (c->ended_epoch < epoch && !(atomic_load(&c->encoder_done) && tp_ring_count(&c->packets) == 0))
            return false;
    }
    return true;
}

void camera_rig_report(camera_rig *rig, int64_t now_ns)
{
    for (int i = 0; i < rig->count; i++) {
        cam *c = &rig->cams[i];
        if (now_ns - c->last_report_ns < 1000000000LL)
            continue;
        int64_t dropped = atomic_load(&c->st->dropped), gaps = atomic_load(&c->st->gaps);
        if (dropped != c->reported_dropped)
            tp_log_warn("camera %s: %lld frames dropped in the last second (%lld in all): encoding is behind",
                        c->cfg->device.name, (long long)(dropped - c->reported_dropped), (long long)dropped);
        if (gaps != c->reported_gaps)
            tp_log_warn("camera %s: %lld gaps so far, %lld ms without frames%s", c->cfg->device.name,
                        (long long)gaps, (long long)atomic_load(&c->st->gap_ms),
                        atomic_load(&c->st->lost) ? " (device lost)" : "");
        c->reported_dropped = dropped;
        c->reported_gaps = gaps;
        c->last_report_ns = now_ns;
    }
}
