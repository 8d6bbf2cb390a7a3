/* teleop — the recording workflow of a session: which episode is being
 * recorded, when it ends, whether it is kept, and the pause between episodes,
 * driven by the operator's commands (terminal keys, headset buttons) and the
 * clock.
 *
 * A pure state machine: inputs and ticks go in, actions come out (open an
 * episode, close it keeping or discarding it, delete the last kept one, end
 * the session); the recorder thread carries the actions out on files. Every
 * decision is therefore testable without a session, and the same machine
 * runs whether commands come from a keyboard, a headset or a script.
 *
 *   idle ──start──► recording ──stop-keep / time limit──► resetting ──time / start──► recording …
 *                    │ stop-discard / re-record ─────────►│
 *                    └ quit: keep, end ; N episodes kept: end
 *
 * Plain caller-owned structs; nothing allocates.
 */
#ifndef TELEOP_WORKFLOW_H
#define TELEOP_WORKFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/text.h"

typedef enum tp_wf_input {
    TP_WF_IN_START = 0,       /* start recording (ignored while recording) */
    TP_WF_IN_STOP_KEEP,       /* end the episode and keep it */
    TP_WF_IN_STOP_DISCARD,    /* end the episode and delete it */
    TP_WF_IN_TOGGLE,          /* start when not recording, else stop and keep */
    TP_WF_IN_RERECORD,        /* recording: discard it; otherwise delete the last kept episode */
    TP_WF_IN_QUIT,            /* keep what is being recorded and end the session */
    TP_WF_IN_COUNT
} tp_wf_input;

typedef enum tp_wf_state {
    TP_WF_IDLE = 0,   /* waiting for a start command */
    TP_WF_RECORDING,
    TP_WF_RESETTING,  /* the pause between episodes for resetting the scene */
    TP_WF_FINISHED,
} tp_wf_state;

typedef enum tp_wf_action_kind {
    TP_WF_OPEN = 0,         /* open a new episode at t_ns */
    TP_WF_CLOSE_KEEP,       /* finish the open episode at t_ns, keep it */
    TP_WF_CLOSE_DISCARD,    /* finish the open episode at t_ns and delete it */
    TP_WF_DELETE_LAST_KEPT, /* delete the most recent kept episode */
    TP_WF_END_SESSION,
} tp_wf_action_kind;

typedef struct tp_wf_action {
    tp_wf_action_kind kind;
    int64_t t_ns;
} tp_wf_action;

#define TP_WF_MAX_ACTIONS 4 /* the most one input or tick can produce */

typedef struct tp_workflow_config {
    int episodes;          /* end the session after this many kept episodes; 0: until quit */
    double episode_time_s; /* stop and keep an episode after this long; 0: no limit */
    double reset_time_s;   /* pause between episodes; 0: none */
    bool auto_start;       /* record at once, and again after each pause; else wait for start */
} tp_workflow_config;

/* One episode, auto start, no limits: the headless `teleop run`. */
void tp_workflow_default_config(tp_workflow_config *cfg);

typedef struct tp_workflow {
    tp_workflow_config cfg;
    tp_wf_state state;
    int64_t state_since_ns;
    int kept;      /* episodes kept so far (a deleted one no longer counts) */
    int discarded; /* episodes discarded or deleted */
    int attempts;  /* episodes opened */
    bool last_closed_kept; /* the most recent closed episode was kept and is still there */
} tp_workflow;

/* Starts the workflow at t_ns; writes the actions (an OPEN with auto start). */
int tp_workflow_begin(tp_workflow *wf, const tp_workflow_config *cfg, int64_t t_ns, tp_wf_action *out);
/* An operator input at t_ns. Returns the number of actions written (0 when the
 * input means nothing in the current state). */
int tp_workflow_input(tp_workflow *wf, tp_wf_input in, int64_t t_ns, tp_wf_action *out);
/* The clock: episode time limit and end of the pause. Call often (every
 * recorder batch); returns the number of actions written. */
int tp_workflow_tick(tp_workflow *wf, int64_t t_ns, tp_wf_action *out);
/* The session is ending (duration reached, signal, device lost): keep what is
 * being recorded. */
int tp_workflow_end(tp_workflow *wf, int64_t t_ns, tp_wf_action *out);

const char *tp_wf_state_name(tp_wf_state s);   /* "idle", "recording", "resetting", "finished" */
const char *tp_wf_input_name(tp_wf_input in);  /* "start", "stop_keep", ... */
/* Seconds left in the current state's timer (episode limit or pause); a
 * negative value when there is none. */
double tp_workflow_time_left(const tp_workflow *wf, int64_t t_ns);

/* Terminal keys → inputs. Feed bytes from a raw-mode terminal one at a time;
 * arrow keys arrive as escape sequences, so a lone ESC is only known once the
 * next byte (or a timeout, tp_keys_flush) shows it is not a sequence.
 *   space, Enter      toggle (start / stop and keep)
 *   → (right arrow)   stop and keep          (as LeRobot's record)
 *   ← (left arrow)    re-record              (as LeRobot's record)
 *   d, Backspace      stop and discard
 *   r                 re-record
 *   q, Esc            quit (keeps the episode being recorded)
 *   e                 emergency hold on/off (not a workflow input: see key_emergency)
 *   t                 type a new task text, Enter to set it, Esc to cancel
 */
typedef struct tp_keys {
    int esc; /* 0 none, 1 after ESC, 2 after ESC [ */
    bool typing;
    size_t text_overflow; /* bytes typed beyond TP_TASK_MAX_BYTES: the text is refused at Enter */
    char text[TP_TASK_MAX_BYTES + 1];
    size_t text_len;
} tp_keys;

typedef enum tp_key_result {
    TP_KEY_NONE = 0,
    TP_KEY_INPUT,     /* *input is set */
    TP_KEY_EMERGENCY, /* toggle the emergency hold */
    TP_KEY_TASK,      /* keys->text holds a new task text (check it with tp_keys_task_check) */
} tp_key_result;

void tp_keys_init(tp_keys *k);
tp_key_result tp_keys_feed(tp_keys *k, unsigned char byte, tp_wf_input *input);
/* No byte came for a while: a pending lone ESC means quit. */
tp_key_result tp_keys_flush(tp_keys *k, tp_wf_input *input);

/* One line of a command script or pipe (stdin that is not a terminal):
 * "start", "stop" or "keep", "discard", "rerecord", "quit", "emergency",
 * "task TEXT"; surrounding blanks ignored, '#' starts a comment except in
 * the TEXT of a task line (kept whole, '#' included). TP_KEY_NONE for an
 * empty line; -1 for an unknown command. A task line sets *task_bytes to
 * TEXT's length and copies TEXT into task when it fits task_len, else leaves
 * task empty (the caller refuses it: tp_keys_task_check). */
int tp_keys_line(const char *line, tp_wf_input *input, char *task, size_t task_len, size_t *task_bytes);
/* The rule for task text from keys and command lines (as for --task): 0, or
 * -1 with the reason ("5000 bytes, the limit is 4096"). */
int tp_keys_task_check(const char *text, size_t len, char *why, size_t whylen);

#endif
