/* teleop — the session's operator device thread. */
#include "station/session_internal.h"

/* --------------------------------------------------------- device thread */

/* The operator device (XR or motion replay) paces this thread: each poll
 * returns the next frame. The operator controls turn the frame sequence
 * into commands and the clutch state before the frame goes on. */
void *session_operator_thread(void *arg)
{
    session *s = arg;
    session_set_thread_name("tp-operator");
    tp_operator_device *dev = &s->device;
    char err[512];
    if (dev->ops->start(dev->state, s->t_start_ns, err, sizeof err) != 0) {
        session_fail(s, err);
        return NULL;
    }
    tp_operator_frame f;
    tp_device_event events[16];
    tp_command_msg cmds[16];
    while (!atomic_load(&s->device_stop) && !atomic_load(&s->failed)) {
        int n_events = 0;
        int rc = dev->ops->poll(dev->state, &f, events, 16, &n_events, err, sizeof err);
        for (int i = 0; i < n_events; i++)
            (void)tp_ring_push(&s->device_events, &events[i]); /* a full ring loses the event, never blocks */
        if (rc == TP_DEVICE_ERROR) {
            session_fail(s, err);
            break;
        }
        if (rc == TP_DEVICE_ENDED) {
            atomic_store(&s->device_ended, 1);
            break;
        }
        if (rc != TP_DEVICE_FRAME)
            continue;
        int n = tp_controls_update(&s->controls, &f, cmds, 16);
        for (int i = 0; i < n; i++) {
            (void)tp_ring_push(&s->commands, &cmds[i]);
            if (cmds[i].code == TP_CMD_EMERGENCY_ON || cmds[i].code == TP_CMD_EMERGENCY_OFF)
                atomic_store(&s->emergency_cause_ns, cmds[i].t_ns);
            if (cmds[i].code == TP_CMD_WRIST_PANELS_TOGGLE) /* the headset view flips its wrist panels */
                atomic_fetch_add(&s->view_wrist_toggles, 1);
        }
        atomic_store(&s->emergency, tp_controls_emergency(&s->controls));
        if (s->gloves[0].enabled || s->gloves[1].enabled) {
            /* The control thread gets the hands with the gloves' fingers;
             * the recorder the headset's frame as it came (the gloves'
             * values are their own streams). */
            tp_operator_frame fused = f;
            session_gloves_fuse(s, &fused, tp_now_ns());
            (void)tp_ring_push(&s->op_to_control, &fused);
        } else {
            (void)tp_ring_push(&s->op_to_control, &f);
        }
        if (!tp_ring_push(&s->op_to_recorder, &f))
            s->stats->operator_frames_dropped++;
    }
    /* Winding down reports too (an XR session's STOPPING and EXITING). */
    int n_events = 0;
    tp_device_event events_end[16];
    dev->ops->stop(dev->state, events_end, 16, &n_events);
    for (int i = 0; i < n_events; i++)
        (void)tp_ring_push(&s->device_events, &events_end[i]);
    atomic_store(&s->device_done, 1);
    return NULL;
}

