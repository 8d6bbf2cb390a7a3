/* teleop review — the key map (one table: the help overlay and
 * `teleop review --keys` print it) and the help overlay. */
#include <stdio.h>
#include <string.h>

#include "review_app.h"

typedef struct rv_key {
    const char *keys, *where, *what;
} rv_key;

static const rv_key keymap[] = {
    {"h or ?", "everywhere", "help: this list (any key closes it)"},
    {"Enter / double click", "browser", "open the selected episode in the player"},
    {"↑ ↓ / click", "browser", "select an episode"},
    {"PgUp PgDn Home End", "browser", "move the selection by a page, to the first, to the last"},
    {"Esc / Backspace", "player", "back to the browser"},
    {"PgDn / PgUp", "player", "next / previous episode (in the browser's order)"},
    {"/", "browser", "search task, notes and file name (type, Enter; empty clears)"},
    {"Tab / Shift+Tab / click a header", "browser", "sort by the next / previous column (click again: reverse)"},
    {"r", "browser", "reverse the sort order"},
    {"v", "browser", "filter by verdict: any, success, failure, none"},
    {"x", "browser", "filter by QA flag: any, clean, then each flag"},
    {"g", "browser", "filter by tag (type, Enter; empty clears)"},
    {"m", "browser", "minimum rating filter: 0 (any) to 5"},
    {"c", "browser", "clear search and filters"},
    {"Shift+D", "browser", "hide / show episodes marked for deletion"},
    {"Space / click ▶", "player", "play / pause"},
    {"← →", "player", "step one frame back / forward"},
    {"Shift+← Shift+→", "player", "seek 1 s back / forward"},
    {"Ctrl+← Ctrl+→", "player", "seek 10 s back / forward"},
    {"Home End", "player", "go to the start / end"},
    {"- / +", "player", "slower / faster: 0.25×, 0.5×, 1×, 2×, 4×"},
    {"[ ]", "player", "previous / next event (hold, clamp, drop, tracking loss)"},
    {"G", "player", "go to a time (type seconds from the start, Enter)"},
    {"click / drag the timeline", "player", "seek there; a click on an event marker jumps to it"},
    {"s", "both", "verdict success (again: none)"},
    {"f", "both", "verdict failure (again: none)"},
    {"1 … 5, 0", "both", "rating 1 to 5; 0 clears it"},
    {"t", "both", "tag: type, Enter adds it (removes it when present); Tab completes from the shared tag list"},
    {"n", "both", "note: type (any language), Enter adds it"},
    {"e", "both", "correct the task text (the recorded one is kept)"},
    {"i o", "player", "trim in / out at the current time (metadata only)"},
    {"Shift+I Shift+O", "player", "clear the trim in / out"},
    {"d", "both", "mark / unmark for deletion"},
    {"Delete", "both", "move an episode marked for deletion to the trash (asks y / n)"},
    {"Ctrl+Z", "both", "undo the last change to the episode"},
    {"Ctrl+Shift+Z / Ctrl+Y", "both", "redo"},
    {"F12", "everywhere", "screenshot into --screenshot-dir"},
    {"Ctrl+Q", "everywhere", "quit"},
    {"Esc (in a prompt)", "prompt", "cancel typing; Backspace deletes a character"},
};

void tp_review_ui_print_keys(FILE *out)
{
    fprintf(out, "| key | where | what |\n|---|---|---|\n");
    for (size_t i = 0; i < sizeof keymap / sizeof keymap[0]; i++)
        fprintf(out, "| %s | %s | %s |\n", keymap[i].keys, keymap[i].where, keymap[i].what);
}

void rv_help_draw(struct review_app *a)
{
    uk_window *w = a->win;
    float W = uk_width(w), H = uk_height(w);
    float lh = uk_text_line_height(w, RV_SMALL) + 2;
    size_t n = sizeof keymap / sizeof keymap[0];
    float box_h = lh * (float)(n + 3), box_w = W - 80 < 980 ? W - 80 : 980;
    if (box_h > H - 20)
        box_h = H - 20;
    uk_rect box = {(W - box_w) / 2, (H - box_h) / 2, box_w, box_h};
    uk_fill_rect(w, (uk_rect){0, 0, W, H}, uk_rgba(0x000000, 0.55f));
    uk_fill_rect(w, box, uk_rgb(0x26282d));
    uk_stroke_rect(w, box, 1, uk_rgb(RV_ACCENT));
    uk_clip_push(w, box);
    float y = box.y + 8;
    uk_text(w, box.x + 14, y, RV_FONT, uk_rgb(RV_TEXT), "teleop review — keys (the mouse works too)", 0);
    y += lh * 1.6f;
    float c1 = box.x + 14, c2 = box.x + 14 + box_w * 0.27f, c3 = box.x + 14 + box_w * 0.37f;
    for (size_t i = 0; i < n; i++, y += lh) {
        uk_text(w, c1, y, RV_SMALL, uk_rgb(0xffd479), keymap[i].keys, c2 - c1 - 8);
        uk_text(w, c2, y, RV_SMALL, uk_rgb(RV_DIM), keymap[i].where, c3 - c2 - 8);
        uk_text(w, c3, y, RV_SMALL, uk_rgb(RV_TEXT), keymap[i].what, box.x + box_w - c3 - 10);
    }
    uk_clip_pop(w);
}
