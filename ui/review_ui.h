/* teleop review — the lab lead's desktop app: browse episodes (catalog),
 * play them (every camera in sync, timeline, joint plots, 3D view) and tag
 * them (verdict, rating, tags, notes, task, trim, deletion), keyboard
 * first. docs/review.md describes the screens and every key.
 *
 * Memory: the options are read during tp_review_ui_run only.
 */
#ifndef TELEOP_UI_REVIEW_UI_H
#define TELEOP_UI_REVIEW_UI_H

#include <stdio.h>

typedef struct tp_review_ui_options {
    const char *const *paths; /* folders and episode files; 0 paths: "recordings" */
    int npaths;
    int width, height;          /* window size, logical pixels */
    const char *screenshot_dir; /* F12 writes DIR/review-NNN.png; NULL: F12 off */
    const char *control_path;   /* a FIFO of commands for tests (docs/review.md); NULL: none */
    const char *reviewer;       /* written as meta reviewer; NULL: $USER */
    const char *trash_dir;      /* NULL: .trash beside each episode */
} tp_review_ui_options;

/* Opens the window and runs until it is closed. Exit code: 0, or 1 with one
 * line on stderr (no display, catalog unreadable). */
int tp_review_ui_run(const tp_review_ui_options *opt);

/* The key map as a Markdown table (the help overlay shows the same rows). */
void tp_review_ui_print_keys(FILE *out);

#endif
