/* teleop — the operator's terminal (private to src/station): a thread that
 * reads the session's command input and turns it into workflow inputs.
 *
 * A terminal gets raw keys (no line editing, no echo; Ctrl-C still raises
 * SIGINT), mapped by tp_keys_feed; anything else (a pipe, a file, a FIFO) is
 * read as command lines (tp_keys_line), so a session can be scripted. End of
 * input just ends reading (it never quits a session). Task text from either
 * is checked as --task is (UTF-8, no control characters, at most
 * TP_TASK_MAX_BYTES): refused text is reported, never cut or stored. The
 * terminal's settings are restored at stop.
 *
 * Memory: keyboard_start allocates the reader; keyboard_stop joins its thread
 * and frees it. The output ring is the caller's (one producer: this thread).
 */
#ifndef TELEOP_STATION_KEYBOARD_H
#define TELEOP_STATION_KEYBOARD_H

#include <stdint.h>

#include "teleop/ring.h"
#include "teleop/text.h"
#include "teleop/workflow.h"

typedef enum station_input_kind {
    STATION_INPUT_WORKFLOW = 0, /* input holds a tp_wf_input */
    STATION_INPUT_EMERGENCY,    /* toggle the emergency hold */
    STATION_INPUT_TASK,         /* task holds the next episodes' task text */
} station_input_kind;

typedef struct station_input {
    int64_t t_ns; /* monotonic time the key or line arrived */
    int32_t kind; /* station_input_kind */
    int32_t input;
    char task[TP_TASK_MAX_BYTES + 1]; /* STATION_INPUT_TASK: valid text (tp_text_check), whole */
} station_input;

typedef struct keyboard keyboard;

/* Starts reading fd (usually 0) into out (station_input elements). NULL with
 * a message when the thread cannot start. */
keyboard *keyboard_start(int fd, tp_ring *out, char *err, size_t errlen);
/* Stops reading, restores the terminal, frees the reader. NULL is fine. */
void keyboard_stop(keyboard *k);

#endif
