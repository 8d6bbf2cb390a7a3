/* teleop — the console tap: triple buffers from the session's threads to the
 * console and the headset view, a command ring back. */
#include "teleop/console_tap.h"
#include "station/console_feed.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/clock.h"
#include "teleop/ring.h"
#include "teleop/triple_buffer.h"

typedef struct frame_slot_header {
    int64_t t_ns, published_ns, index;
    size_t size;
    tp_pixel_format format;
} frame_slot_header;

typedef struct tap_camera {
    char name[64];
    int width, height;
    size_t capacity; /* frame bytes a slot holds */
    tp_triple frames;      /* frame_slot_header + bytes, to the console */
    tp_triple view_frames; /* the same, to the headset view */
} tap_camera;

struct tp_console_tap {
    int camera_count;
    tap_camera cameras[TP_SESSION_MAX_CAMERAS];
    tp_triple pose;    /* tp_console_pose */
    tp_triple status;  /* tp_console_status */
    tp_triple view_limits; /* tp_limit_figures, to the headset view */
    tp_triple view_status; /* tp_console_status, to the headset view */
    tp_limit_figures last_limits; /* control thread only: for the next pose */
    tp_ring commands;  /* station_input, console → recorder */
    atomic_int ended;
};

/* Commands are typed by a person: a few in flight is plenty. */
#define COMMAND_SLOTS 16

tp_console_tap *tp_console_tap_create(const tp_session_config *cfg, char *err, size_t errlen)
{
    tp_console_tap *tap = calloc(1, sizeof *tap);
    if (!tap)
        goto oom;
    if (tp_triple_init(&tap->pose, sizeof(tp_console_pose)) || tp_triple_init(&tap->status, sizeof(tp_console_status)) ||
        tp_triple_init(&tap->view_limits, sizeof(tp_limit_figures)) ||
        tp_triple_init(&tap->view_status, sizeof(tp_console_status)) ||
        tp_ring_init(&tap->commands, sizeof(station_input), COMMAND_SLOTS))
        goto oom;
    for (int i = 0; i < cfg->camera_count && i < TP_SESSION_MAX_CAMERAS; i++) {
        tap_camera *c = &tap->cameras[i];
        const tp_camera_params *p = &cfg->cameras[i].device;
        tap->camera_count = i + 1;
        snprintf(c->name, sizeof c->name, "%s", p->name ? p->name : "");
        c->width = p->width;
        c->height = p->height;
        c->capacity = tp_camera_max_frame_bytes(p);
        if (tp_triple_init(&c->frames, sizeof(frame_slot_header) + c->capacity) ||
            tp_triple_init(&c->view_frames, sizeof(frame_slot_header) + c->capacity))
            goto oom;
    }
    return tap;
oom:
    snprintf(err, errlen, "console: out of memory");
    tp_console_tap_destroy(tap);
    return NULL;
}

void tp_console_tap_destroy(tp_console_tap *tap)
{
    if (!tap)
        return;
    for (int i = 0; i < tap->camera_count; i++) {
        tp_triple_free(&tap->cameras[i].frames);
        tp_triple_free(&tap->cameras[i].view_frames);
    }
    tp_triple_free(&tap->pose);
    tp_triple_free(&tap->status);
    tp_triple_free(&tap->view_limits);
    tp_triple_free(&tap->view_status);
    tp_ring_free(&tap->commands);
    free(tap);
}

/* ------------------------------------------------------- session side */

/* A reader that has not taken the last frame is behind: skip the copy. */
static void offer_frame(tp_triple *frames, const frame_slot_header *h, const uint8_t *data)
{
    if (tp_triple_unread(frames))
        return;
    unsigned char *slot = tp_triple_back(frames);
    memcpy(slot, h, sizeof *h);
    memcpy(slot + sizeof *h, data, h->size);
    tp_triple_publish(frames);
}

void console_feed_frame(tp_console_tap *tap, int camera, const tp_camera_frame *f)
{
    if (camera < 0 || camera >= tap->camera_count || !f->data)
        return;
    tap_camera *c = &tap->cameras[camera];
    if (f->size > c->capacity)
        return;
    frame_slot_header h = {.t_ns = f->t_ns, .published_ns = tp_now_ns(), .index = f->index, .size = f->size,
                           .format = f->format};
    offer_frame(&c->frames, &h, f->data);
    offer_frame(&c->view_frames, &h, f->data);
}

void console_feed_pose(tp_console_tap *tap, int64_t t_ns, unsigned control_flags, const tp_sim *sim)
{
    int nq = tp_sim_qpos_size(sim);
    if (nq > TP_CONSOLE_MAX_QPOS)
        return;
    tp_console_pose *p = tp_triple_back(&tap->pose);
    p->t_ns = t_ns;
    p->control_flags = control_flags;
    p->nq = nq;
    tp_sim_copy_qpos(sim, p->qpos);
    p->limits = tap->last_limits;
    tp_triple_publish(&tap->pose);
}

void console_feed_limits(tp_console_tap *tap, const tp_limit_figures *fig)
{
    tap->last_limits = *fig;
    *(tp_limit_figures *)tp_triple_back(&tap->view_limits) = *fig;
    tp_triple_publish(&tap->view_limits);
}

tp_console_status *console_feed_status_slot(tp_console_tap *tap) { return tp_triple_back(&tap->status); }

void console_feed_status_publish(tp_console_tap *tap)
{
    memcpy(tp_triple_back(&tap->view_status), tp_triple_back(&tap->status), sizeof(tp_console_status));
    tp_triple_publish(&tap->view_status);
    tp_triple_publish(&tap->status);
}

bool console_feed_pop_input(tp_console_tap *tap, station_input *in) { return tp_ring_pop(&tap->commands, in); }

/* ------------------------------------------------------- console side */

int tp_console_tap_camera_count(const tp_console_tap *tap) { return tap->camera_count; }

const char *tp_console_tap_camera_name(const tp_console_tap *tap, int camera)
{
    return camera >= 0 && camera < tap->camera_count ? tap->cameras[camera].name : "";
}

int tp_console_tap_camera_index(const tp_console_tap *tap, const char *name)
{
    for (int i = 0; name && i < tap->camera_count; i++)
        if (!strcmp(tap->cameras[i].name, name))
            return i;
    return -1;
}

static bool read_frame(const tap_camera *c, tp_triple *frames, tp_console_frame *out, bool *fresh)
{
    const unsigned char *slot = tp_triple_read(frames, fresh);
    if (!slot)
        return false;
    frame_slot_header h;
    memcpy(&h, slot, sizeof h);
    *out = (tp_console_frame){.t_ns = h.t_ns, .published_ns = h.published_ns, .index = h.index, .width = c->width,
                              .height = c->height, .format = h.format, .size = h.size, .data = slot + sizeof h};
    return true;
}

bool tp_console_tap_frame(tp_console_tap *tap, int camera, tp_console_frame *out, bool *fresh)
{
    if (fresh)
        *fresh = false;
    if (camera < 0 || camera >= tap->camera_count)
        return false;
    return read_frame(&tap->cameras[camera], &tap->cameras[camera].frames, out, fresh);
}

bool tp_console_tap_view_frame(tp_console_tap *tap, int camera, tp_console_frame *out, bool *fresh)
{
    if (fresh)
        *fresh = false;
    if (camera < 0 || camera >= tap->camera_count)
        return false;
    return read_frame(&tap->cameras[camera], &tap->cameras[camera].view_frames, out, fresh);
}

const tp_console_pose *tp_console_tap_pose(tp_console_tap *tap, bool *fresh) { return tp_triple_read(&tap->pose, fresh); }

const tp_console_status *tp_console_tap_status(tp_console_tap *tap, bool *fresh)
{
    return tp_triple_read(&tap->status, fresh);
}

const tp_limit_figures *tp_console_tap_view_limits(tp_console_tap *tap, bool *fresh)
{
    return tp_triple_read(&tap->view_limits, fresh);
}

const tp_console_status *tp_console_tap_view_status(tp_console_tap *tap, bool *fresh)
{
    return tp_triple_read(&tap->view_status, fresh);
}

static int send(tp_console_tap *tap, station_input_kind kind, int input, const char *task, size_t len)
{
    station_input *in = tp_ring_reserve(&tap->commands);
    if (!in)
        return -1;
    in->t_ns = tp_now_ns();
    in->kind = kind;
    in->input = input;
    memcpy(in->task, task, len);
    in->task[len] = '\0';
    tp_ring_commit(&tap->commands);
    return 0;
}

int tp_console_tap_send_input(tp_console_tap *tap, tp_wf_input input)
{
    return send(tap, STATION_INPUT_WORKFLOW, (int)input, "", 0);
}

int tp_console_tap_send_emergency(tp_console_tap *tap) { return send(tap, STATION_INPUT_EMERGENCY, 0, "", 0); }

int tp_console_tap_send_task(tp_console_tap *tap, const char *text, size_t len, char *why, size_t whylen)
{
    if (tp_keys_task_check(text, len, why, whylen) != 0)
        return -1;
    if (send(tap, STATION_INPUT_TASK, 0, text, len) != 0) {
        snprintf(why, whylen, "the session is not taking commands");
        return -1;
    }
    return 0;
}

void tp_console_tap_set_ended(tp_console_tap *tap) { atomic_store(&tap->ended, 1); }

bool tp_console_tap_ended(const tp_console_tap *tap) { return atomic_load(&tap->ended); }
