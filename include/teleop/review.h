/* teleop — review annotations: what the lab lead adds to a finished episode
 * (verdict, rating, tags, notes, task correction, trim, deletion mark).
 *
 * They live in the episode itself (docs/episode-format.md, "Review"): meta
 * keys review_verdict, rating, task (with the recorded text kept once in
 * task_recorded), trim_in_ns, trim_out_ns, delete_marked, reviewed_unix_ns,
 * reviewer; the tags and notes tables. Recorded data (samples, packets,
 * events, streams, attachments) is never touched. tp_review_write replaces
 * the whole annotation state in one transaction, so an undo is writing the
 * previous state back. It is refused while a recorder (or anything else)
 * holds the episode's flock.
 *
 * Memory: tp_review is a plain caller-owned value (fixed buffers, no
 * pointers); the functions read it during the call only.
 */
#ifndef TELEOP_REVIEW_H
#define TELEOP_REVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TP_REVIEW_MAX_TAGS 64
#define TP_REVIEW_TAG_LEN 64   /* bytes with the terminator; UTF-8 */
#define TP_REVIEW_MAX_NOTES 32
#define TP_REVIEW_NOTE_LEN 2048
#define TP_REVIEW_TASK_LEN 4097

typedef enum tp_verdict {
    TP_VERDICT_NONE = 0, /* not judged: meta review_verdict absent */
    TP_VERDICT_SUCCESS,  /* "success" */
    TP_VERDICT_FAILURE,  /* "failure" */
} tp_verdict;

const char *tp_verdict_name(tp_verdict v); /* "", "success", "failure" */

typedef struct tp_review_note {
    int64_t id;        /* notes.id; 0 for a note not yet written (write assigns one) */
    int64_t t_unix_ns; /* when it was written */
    char author[64];
    char text[TP_REVIEW_NOTE_LEN];
} tp_review_note;

typedef struct tp_review {
    tp_verdict verdict;
    int rating;                        /* 1..5; 0: none */
    char task[TP_REVIEW_TASK_LEN];     /* the task as it stands (meta task) */
    char task_recorded[TP_REVIEW_TASK_LEN]; /* read only: what was recorded, "" until the task is first corrected */
    int64_t trim_in_ns, trim_out_ns;   /* CLOCK_MONOTONIC like every t_ns; 0: no trim on that side */
    bool delete_marked;
    char tags[TP_REVIEW_MAX_TAGS][TP_REVIEW_TAG_LEN]; /* set semantics, any order */
    int n_tags;
    tp_review_note notes[TP_REVIEW_MAX_NOTES];
    int n_notes;
    int64_t start_t_ns, end_t_ns;      /* read only: the episode's bounds, for trim checks */
} tp_review;

/* Reads the annotations (through the episode reader). 0, or -1 with one line
 * naming the file. */
int tp_review_read(const char *path, tp_review *out, char *err, size_t errlen);

/* Makes the episode's annotations equal to r in one transaction: verdict,
 * rating, task (the first change away from the recorded task stores it in
 * task_recorded), trims (0 removes the key), deletion mark, tag set, notes
 * (notes with an id are kept or updated — or put back under that id when
 * no longer stored, so an undo restores a deleted note —, id 0 are added,
 * stored notes absent from r are deleted), reviewed_unix_ns and reviewer (reviewer may be NULL).
 * Refused with one line naming the file and the field when: the episode is
 * locked (being recorded: "…: being recorded, not changed"), not finished
 * (no outcome), rating outside 0..5, a trim outside [start_t_ns, end_t_ns]
 * or trim_out <= trim_in, text not valid UTF-8 or with NUL, an empty or
 * comma-containing tag. Nothing is changed when refused. */
int tp_review_write(const char *path, const tp_review *r, const char *reviewer, char *err, size_t errlen);

/* Moves an episode marked for deletion into TRASH_DIR (created when
 * missing; default DIR/.trash beside it when trash_dir is NULL), refusing a
 * locked or unmarked episode. The name is kept (a number appended when
 * taken). 0 or -1 with one line. */
int tp_review_trash(const char *path, const char *trash_dir, char *moved_to, size_t moved_to_len, char *err,
                    size_t errlen);

#endif
