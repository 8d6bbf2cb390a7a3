/* teleop review — the app's shared state and the functions its files offer
 * each other: review_app.c (main loop, control channel, status, prompts,
 * key dispatch), review_browser.c (the episode list), review_player.c
 * (cameras, timeline, clock), review_plots.c (joint plots),
 * review_scene.c (the 3D view), review_tagging.c (annotations, undo/redo,
 * trash), review_keys.c (the key map and the help overlay).
 *
 * Memory: review_app owns everything it points to (review_app_free).
 */
#ifndef TELEOP_UI_REVIEW_APP_H
#define TELEOP_UI_REVIEW_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "playback.h"
#include "review_ui.h"
#include "teleop/catalog.h"
#include "teleop/review.h"
#include "uikit.h"

#define RV_MAX_CAMERAS 8
#define RV_INPUT_LEN 4096

typedef enum rv_view { RV_BROWSER, RV_PLAYER } rv_view;

typedef enum rv_prompt {
    RV_PROMPT_NONE = 0,
    RV_PROMPT_SEARCH,
    RV_PROMPT_TAG,
    RV_PROMPT_NOTE,
    RV_PROMPT_TASK,
    RV_PROMPT_TAG_FILTER,
    RV_PROMPT_GOTO,
    RV_PROMPT_CONFIRM_TRASH,
} rv_prompt;

/* One column of the browser. */
typedef struct rv_column {
    const char *title;
    tp_catalog_sort sort;
    float width; /* logical pixels; 0: takes the rest */
} rv_column;

typedef struct rv_plots rv_plots; /* review_plots.c */
typedef struct rv_scene rv_scene; /* review_scene.c */

typedef struct rv_history {
    tp_review *states; /* undo: states before each change, oldest first */
    int n, cap;
    tp_review *redo;
    int n_redo, cap_redo;
} rv_history;

struct review_app {
    uk_window *win;
    tp_review_ui_options opt;
    rv_view view;
    bool help;
    bool quit;
    int64_t frames;

    /* browser */
    tp_catalog *cat;
    tp_catalog_query query;
    char search[512], tag_filter[TP_REVIEW_TAG_LEN];
    int verdict_filter; /* 0 any, 1 success, 2 failure, 3 none */
    int qa_filter;      /* 0 any, 1 clean ("none"), 2.. flag index + 2 */
    int min_rating;
    bool hide_deleted;
    tp_catalog_listing list;
    int sel, scroll;
    char sel_path[4096]; /* keeps the selection across refreshes */
    double last_refresh;
    double last_click_t;
    int last_click_row;
    char **tags; /* the catalog's shared tag list (tp_catalog_tags) */
    int *tag_counts;
    int n_tags;

    /* player */
    tp_playback *pb;
    char path[4096]; /* the episode opened in the player */
    int64_t t_ns, start_ns, end_ns;
    bool playing;
    int speed_index; /* into rv_speeds */
    double last_tick;
    int n_cams;
    uk_image *cam_img[RV_MAX_CAMERAS];
    int64_t cam_seq[RV_MAX_CAMERAS];
    int64_t cam_t[RV_MAX_CAMERAS]; /* the t asked for the frame shown */
    rv_plots *plots;
    rv_scene *scene;
    bool scrubbing;
    /* where the last frame drew them (mouse hit tests, the control channel's 'where') */
    uk_rect r_cam[RV_MAX_CAMERAS], r_timeline, r_scene, r_plots, r_controls;
    uk_rect r_buttons[8];
    int n_buttons;

    /* annotations of the current episode (browser: selected, player: opened) */
    char annot_path[4096];
    tp_review annot;
    bool annot_ok;
    rv_history hist;

    /* prompt line */
    rv_prompt prompt;
    char input[RV_INPUT_LEN];

    /* status line */
    char status[1024];
    bool status_error;
    double status_t;

    /* test/control hooks */
    int control_fd;
    char control_buf[8192];
    size_t control_len;
    char shot_path[4096]; /* written after the next drawn frame */
    bool sync_pending;
    int shot_counter;
};

extern const double rv_speeds[];
extern const int rv_speed_count;

/* review_app.c: the app without its loop (the benchmark drives it) */
struct review_app *rv_app_create(const tp_review_ui_options *opt); /* NULL with one line on stderr */
void rv_app_destroy(struct review_app *a);
void rv_app_draw(struct review_app *a); /* one frame, not presented (uk_frame_end presents it) */
void rv_status(struct review_app *a, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void rv_open_prompt(struct review_app *a, rv_prompt p, const char *initial);
const char *rv_current_path(const struct review_app *a); /* the episode annotations apply to, or NULL */

/* review_browser.c */
void rv_browser_relist(struct review_app *a);
void rv_browser_refresh(struct review_app *a, bool force);
void rv_browser_draw(struct review_app *a, uk_rect area);
bool rv_browser_key(struct review_app *a, const uk_event *ev);
bool rv_browser_char(struct review_app *a, uint32_t cp);
bool rv_browser_mouse(struct review_app *a, const uk_event *ev, uk_rect area);
void rv_browser_select(struct review_app *a, int index);
const tp_catalog_entry *rv_browser_selected(const struct review_app *a);
/* Where the last frame drew a row / the column headers (the control channel's 'where'). */
bool rv_browser_row_rect(struct review_app *a, uk_rect area, int index, uk_rect *out);
int rv_browser_columns(struct review_app *a, uk_rect area, const char **titles, uk_rect *rects, int max);
void rv_format_duration(double s, char *out, size_t len);

/* review_player.c */
int rv_player_open(struct review_app *a, const char *path);
void rv_player_close(struct review_app *a);
void rv_player_tick(struct review_app *a); /* advances the clock when playing */
void rv_player_draw(struct review_app *a, uk_rect area);
bool rv_player_key(struct review_app *a, const uk_event *ev);
bool rv_player_char(struct review_app *a, uint32_t cp);
bool rv_player_mouse(struct review_app *a, const uk_event *ev, uk_rect area);
void rv_player_seek(struct review_app *a, int64_t t_ns);
bool rv_player_busy(const struct review_app *a); /* playing: draw continuously */

/* review_plots.c */
rv_plots *rv_plots_new(tp_playback *pb);
void rv_plots_free(rv_plots *p);
void rv_plots_draw(rv_plots *p, uk_window *w, uk_rect area, int64_t t_ns, int64_t start_ns, int64_t end_ns);

/* review_scene.c */
rv_scene *rv_scene_new(tp_playback *pb, char *err, size_t errlen);
void rv_scene_free(rv_scene *s);
void rv_scene_draw(rv_scene *s, uk_window *w, uk_rect area, int64_t t_ns, bool playing);
bool rv_scene_mouse(rv_scene *s, const uk_event *ev, uk_rect area);

/* review_tagging.c */
void rv_annot_load(struct review_app *a, const char *path);
void rv_annot_set_verdict(struct review_app *a, tp_verdict v);
void rv_annot_set_rating(struct review_app *a, int rating);
void rv_annot_toggle_tag(struct review_app *a, const char *tag);
void rv_annot_add_note(struct review_app *a, const char *text);
void rv_annot_set_task(struct review_app *a, const char *task);
void rv_annot_set_trim(struct review_app *a, bool in, int64_t t_ns); /* 0 clears */
void rv_annot_toggle_delete(struct review_app *a);
void rv_annot_trash(struct review_app *a);
void rv_annot_undo(struct review_app *a);
void rv_annot_redo(struct review_app *a);
void rv_history_free(rv_history *h);

/* review_keys.c */
void rv_help_draw(struct review_app *a);

/* Colours shared by the views. */
#define RV_BG 0x1e1f22
#define RV_PANEL 0x2b2d31
#define RV_TEXT 0xe6e6e6
#define RV_DIM 0x9a9ca3
#define RV_ACCENT 0x4c8dff
#define RV_GOOD 0x3ecf6e
#define RV_BAD 0xff5c5c
#define RV_WARN 0xffb02e
#define RV_FONT 15.0f
#define RV_SMALL 12.0f

#endif
