/* teleop review — the app: window, catalog, the frame loop (draws only
 * when something changed, continuously while playing), key dispatch, the
 * prompt line for typed text, the status line, and the control channel
 * tests drive it with (docs/review.md, "Testing the app"). */
#include <GLFW/glfw3.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "review_app.h"

void rv_status(struct review_app *a, bool error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->status, sizeof a->status, fmt, ap);
    va_end(ap);
    a->status_error = error;
    a->status_t = uk_time();
    if (error) /* also where a terminal or a test log sees it */
        fprintf(stderr, "teleop review: %s\n", a->status);
}

const char *rv_current_path(const struct review_app *a)
{
    if (a->view == RV_PLAYER)
        return a->path[0] ? a->path : NULL;
    const tp_catalog_entry *e = rv_browser_selected(a);
    return e ? e->path : NULL;
}

void rv_open_prompt(struct review_app *a, rv_prompt p, const char *initial)
{
    a->prompt = p;
    snprintf(a->input, sizeof a->input, "%s", initial ? initial : "");
}

static const char *prompt_label(rv_prompt p)
{
    switch (p) {
    case RV_PROMPT_SEARCH: return "search: ";
    case RV_PROMPT_TAG: return "tag: ";
    case RV_PROMPT_NOTE: return "note: ";
    case RV_PROMPT_TASK: return "task: ";
    case RV_PROMPT_TAG_FILTER: return "filter by tag: ";
    case RV_PROMPT_GOTO: return "go to (seconds from the start): ";
    case RV_PROMPT_CONFIRM_TRASH: return "move this episode to the trash? y / n  ";
    default: return "";
    }
}

static void complete_tag(struct review_app *a)
{
    size_t n = strlen(a->input);
    for (int i = 0; i < a->n_tags; i++)
        if (!strncmp(a->tags[i], a->input, n)) {
            snprintf(a->input, sizeof a->input, "%s", a->tags[i]);
            return;
        }
}

/* Copies src cut at a character boundary to fit cap bytes. */
static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = 0;
}

static void submit_prompt(struct review_app *a)
{
    rv_prompt p = a->prompt;
    a->prompt = RV_PROMPT_NONE;
    switch (p) {
    case RV_PROMPT_SEARCH:
        copy_text(a->search, sizeof a->search, a->input);
        rv_browser_relist(a);
        break;
    case RV_PROMPT_TAG_FILTER:
        copy_text(a->tag_filter, sizeof a->tag_filter, a->input);
        rv_browser_relist(a);
        break;
    case RV_PROMPT_TAG: rv_annot_toggle_tag(a, a->input); break;
    case RV_PROMPT_NOTE: rv_annot_add_note(a, a->input); break;
    case RV_PROMPT_TASK: rv_annot_set_task(a, a->input); break;
    case RV_PROMPT_GOTO: {
        char *end;
        double s = strtod(a->input, &end);
        if (end == a->input || *end) {
            rv_status(a, true, "'%s' is not a number of seconds", a->input);
        } else if (a->pb) {
            a->playing = false;
            rv_player_seek(a, a->start_ns + (int64_t)(s * 1e9));
        }
        break;
    }
    default: break;
    }
}

static void prompt_key(struct review_app *a, const uk_event *ev)
{
    if (ev->action == UK_RELEASE)
        return;
    switch (ev->key) {
    case GLFW_KEY_ENTER:
    case GLFW_KEY_KP_ENTER:
        if (a->prompt != RV_PROMPT_CONFIRM_TRASH)
            submit_prompt(a);
        break;
    case GLFW_KEY_ESCAPE: a->prompt = RV_PROMPT_NONE; break;
    case GLFW_KEY_BACKSPACE: uk_utf8_pop(a->input); break;
    case GLFW_KEY_TAB:
        if (a->prompt == RV_PROMPT_TAG || a->prompt == RV_PROMPT_TAG_FILTER)
            complete_tag(a);
        break;
    default: break;
    }
}

static void prompt_char(struct review_app *a, uint32_t cp)
{
    if (a->prompt == RV_PROMPT_CONFIRM_TRASH) {
        a->prompt = RV_PROMPT_NONE;
        if (cp == 'y' || cp == 'Y')
            rv_annot_trash(a);
        else
            rv_status(a, false, "kept");
        return;
    }
    if (!uk_utf8_append(a->input, sizeof a->input, cp))
        rv_status(a, true, "text too long");
}

static void screenshot(struct review_app *a)
{
    if (!a->opt.screenshot_dir) {
        rv_status(a, true, "F12: no --screenshot-dir given");
        return;
    }
    snprintf(a->shot_path, sizeof a->shot_path, "%s/review-%03d.png", a->opt.screenshot_dir, ++a->shot_counter);
}

static bool common_char(struct review_app *a, uint32_t cp)
{
    switch (cp) {
    case 'h':
    case '?': a->help = true; return true;
    case 's': rv_annot_set_verdict(a, TP_VERDICT_SUCCESS); return true;
    case 'f': rv_annot_set_verdict(a, TP_VERDICT_FAILURE); return true;
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5': rv_annot_set_rating(a, (int)(cp - '0')); return true;
    case 't':
        if (!a->annot_ok)
            rv_status(a, true, "no episode selected");
        else
            rv_open_prompt(a, RV_PROMPT_TAG, "");
        return true;
    case 'n':
        if (!a->annot_ok)
            rv_status(a, true, "no episode selected");
        else
            rv_open_prompt(a, RV_PROMPT_NOTE, "");
        return true;
    case 'e':
        if (!a->annot_ok)
            rv_status(a, true, "no episode selected");
        else
            rv_open_prompt(a, RV_PROMPT_TASK, a->annot.task);
        return true;
    case 'd': rv_annot_toggle_delete(a); return true;
    default: return false;
    }
}

static void handle_event(struct review_app *a, const uk_event *ev, uk_rect main_area)
{
    if (ev->kind == UK_EVENT_CLOSE) {
        a->quit = true;
        return;
    }
    if (ev->kind == UK_EVENT_KEY && ev->action == UK_PRESS) {
        if (ev->key == GLFW_KEY_F12) {
            screenshot(a);
            return;
        }
        if (ev->key == GLFW_KEY_Q && (ev->mods & UK_MOD_CONTROL)) {
            a->quit = true;
            return;
        }
    }
    if (a->help) { /* any key closes it; a printable one arrives as a character */
        if ((ev->kind == UK_EVENT_KEY && ev->action == UK_PRESS && ev->key == GLFW_KEY_ESCAPE) ||
            ev->kind == UK_EVENT_CHAR || (ev->kind == UK_EVENT_BUTTON && ev->action == UK_PRESS))
            a->help = false;
        return;
    }
    if (a->prompt) {
        if (ev->kind == UK_EVENT_KEY)
            prompt_key(a, ev);
        else if (ev->kind == UK_EVENT_CHAR)
            prompt_char(a, ev->codepoint);
        return;
    }
    switch (ev->kind) {
    case UK_EVENT_KEY: {
        if (ev->action == UK_RELEASE)
            return;
        bool ctrl = ev->mods & UK_MOD_CONTROL, shift = ev->mods & UK_MOD_SHIFT;
        if (ctrl && ev->key == GLFW_KEY_Z && !shift)
            return rv_annot_undo(a);
        if (ctrl && ((ev->key == GLFW_KEY_Z && shift) || ev->key == GLFW_KEY_Y))
            return rv_annot_redo(a);
        if (ev->key == GLFW_KEY_DELETE) {
            if (!a->annot_ok)
                return rv_status(a, true, "no episode selected");
            if (!a->annot.delete_marked)
                return rv_status(a, true, "not marked for deletion: press d first");
            return rv_open_prompt(a, RV_PROMPT_CONFIRM_TRASH, "");
        }
        if (ev->key == GLFW_KEY_ESCAPE && a->view == RV_BROWSER)
            return;
        if (a->view == RV_BROWSER)
            rv_browser_key(a, ev);
        else
            rv_player_key(a, ev);
        return;
    }
    case UK_EVENT_CHAR:
        if (common_char(a, ev->codepoint))
            return;
        if (a->view == RV_BROWSER)
            rv_browser_char(a, ev->codepoint);
        else
            rv_player_char(a, ev->codepoint);
        return;
    case UK_EVENT_BUTTON:
    case UK_EVENT_MOTION:
    case UK_EVENT_SCROLL:
        if (a->view == RV_BROWSER)
            rv_browser_mouse(a, ev, main_area);
        else
            rv_player_mouse(a, ev, main_area);
        return;
    default: return;
    }
}

/* ---- drawing ---- */

static float bar_h(struct review_app *a) { return uk_text_line_height(a->win, RV_FONT) + 10; }

static uk_rect main_area(struct review_app *a)
{
    float bh = bar_h(a);
    return (uk_rect){0, bh, uk_width(a->win), uk_height(a->win) - 2 * bh};
}

static void draw(struct review_app *a)
{
    uk_window *w = a->win;
    uk_frame_begin(w, uk_rgb(RV_BG));
    float W = uk_width(w), H = uk_height(w), bh = bar_h(a);
    uk_fill_rect(w, (uk_rect){0, 0, W, bh}, uk_rgb(RV_PANEL));
    float x = 10;
    x += uk_text(w, x, 5, RV_FONT, uk_rgb(RV_TEXT), "teleop review", 0) + 20;
    uk_text(w, x, 5, RV_FONT, uk_rgb(RV_DIM), a->view == RV_BROWSER ? "episodes" : "player", 0);
    const char *hint = "h: help";
    uk_text(w, W - uk_text_width(w, RV_SMALL, hint) - 10, 7, RV_SMALL, uk_rgb(RV_DIM), hint, 0);

    uk_rect area = main_area(a);
    if (a->view == RV_BROWSER)
        rv_browser_draw(a, area);
    else
        rv_player_draw(a, area);

    /* prompt or status line */
    uk_rect sl = {0, H - bh, W, bh};
    uk_fill_rect(w, sl, uk_rgb(RV_PANEL));
    if (a->prompt) {
        const char *label = prompt_label(a->prompt);
        float lx = 10 + uk_text(w, 10, sl.y + 5, RV_FONT, uk_rgb(0xffd479), label, 0);
        lx += uk_text(w, lx, sl.y + 5, RV_FONT, uk_rgb(RV_TEXT), a->input, W - lx - 20);
        uk_fill_rect(w, (uk_rect){lx + 1, sl.y + 5, 2, bh - 10}, uk_rgb(RV_TEXT)); /* caret */
        if ((a->prompt == RV_PROMPT_TAG || a->prompt == RV_PROMPT_TAG_FILTER) && a->n_tags) {
            char known[1024] = "known: ";
            for (int i = 0; i < a->n_tags && strlen(known) < sizeof known - 80; i++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s (%d)", i ? ", " : "", a->tags[i],
                         a->tag_counts[i]);
            uk_text(w, lx + 24, sl.y + 7, RV_SMALL, uk_rgb(RV_DIM), known, W - lx - 40);
        }
    } else if (a->status[0] && (a->status_error || uk_time() - a->status_t < 8)) {
        uk_text(w, 10, sl.y + 5, RV_FONT, uk_rgb(a->status_error ? RV_BAD : RV_GOOD), a->status, W - 20);
    } else {
        const char *path = rv_current_path(a), *slash = path ? strrchr(path, '/') : NULL;
        char line[512];
        const tp_catalog_entry *e = a->view == RV_BROWSER ? rv_browser_selected(a) : NULL;
        snprintf(line, sizeof line, "%s%s%s", slash ? slash + 1 : path ? path : "", e && e->notes[0] ? "    notes: " : "",
                 e && e->notes[0] ? e->notes : "");
        uk_text(w, 10, sl.y + 5, RV_FONT, uk_rgb(RV_DIM), line, W - 20);
    }
    if (a->help)
        rv_help_draw(a);
    a->frames++;
}

/* ---- control channel (tests) ---- */

static void print_rect(const struct review_app *a, const char *name, uk_rect r, const char *what)
{
    float s = uk_scale(a->win);
    printf("rect %s %d %d %d %d%s%s\n", name, (int)(r.x * s + 0.5f), (int)(r.y * s + 0.5f), (int)(r.w * s + 0.5f),
           (int)(r.h * s + 0.5f), what ? " " : "", what ? what : "");
}

static bool control_poll(struct review_app *a)
{
    if (a->control_fd < 0)
        return false;
    bool any = false;
    for (;;) {
        ssize_t n = read(a->control_fd, a->control_buf + a->control_len, sizeof a->control_buf - 1 - a->control_len);
        if (n <= 0)
            break;
        a->control_len += (size_t)n;
    }
    char *nl;
    while ((nl = memchr(a->control_buf, '\n', a->control_len))) {
        *nl = 0;
        const char *cmd = a->control_buf;
        any = true;
        if (!strcmp(cmd, "sync")) {
            a->sync_pending = true;
        } else if (!strncmp(cmd, "screenshot ", 11)) {
            snprintf(a->shot_path, sizeof a->shot_path, "%s", cmd + 11);
        } else if (!strcmp(cmd, "quit")) {
            a->quit = true;
        } else if (!strcmp(cmd, "where")) {
            if (a->view == RV_PLAYER) {
                for (int i = 0; i < a->n_cams; i++) {
                    char name[32];
                    snprintf(name, sizeof name, "camera%d", i);
                    print_rect(a, name, a->r_cam[i], tp_playback_camera_at(a->pb, i)->name);
                }
                print_rect(a, "timeline", a->r_timeline, NULL);
                print_rect(a, "scene", a->r_scene, NULL);
                print_rect(a, "plots", a->r_plots, NULL);
                printf("time %lld %lld %lld\n", (long long)a->start_ns, (long long)a->t_ns, (long long)a->end_ns);
            } else {
                uk_rect area = main_area(a), r, cols[16];
                const char *titles[16];
                int n = rv_browser_columns(a, area, titles, cols, 16);
                for (int i = 0; i < n; i++) {
                    char name[64];
                    snprintf(name, sizeof name, "column%d", i);
                    print_rect(a, name, cols[i], titles[i]);
                }
                for (int i = 0; rv_browser_row_rect(a, area, a->scroll + i, &r); i++) {
                    char name[32];
                    snprintf(name, sizeof name, "row%d", a->scroll + i);
                    print_rect(a, name, r, a->list.entries[a->scroll + i].name);
                }
            }
            printf("where end\n");
            fflush(stdout);
        } else {
            printf("error unknown command '%s'\n", cmd);
            fflush(stdout);
        }
        size_t used = (size_t)(nl - a->control_buf) + 1;
        memmove(a->control_buf, a->control_buf + used, a->control_len - used);
        a->control_len -= used;
    }
    if (a->control_len == sizeof a->control_buf - 1)
        a->control_len = 0; /* a line longer than the buffer: dropped */
    return any;
}

/* ---- run ---- */

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

struct review_app *rv_app_create(const tp_review_ui_options *opt)
{
    struct review_app *a = calloc(1, sizeof *a);
    if (!a) {
        fprintf(stderr, "teleop review: out of memory\n");
        return NULL;
    }
    a->opt = *opt;
    a->control_fd = -1;
    a->sel = -1;
    a->last_click_row = -1;
    char err[512];
    if (opt->control_path) {
        /* read and write: the FIFO never reports end of file between writers */
        a->control_fd = open(opt->control_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (a->control_fd < 0) {
            fprintf(stderr, "teleop review: %s: cannot open the control FIFO: %s\n", opt->control_path, strerror(errno));
            goto fail;
        }
    }
    a->cat = tp_catalog_open(opt->paths, opt->npaths, err, sizeof err);
    if (!a->cat) {
        fprintf(stderr, "teleop review: %s\n", err);
        goto fail;
    }
    a->win = uk_window_open("teleop review", opt->width > 0 ? opt->width : 1280, opt->height > 0 ? opt->height : 800,
                            err, sizeof err);
    if (!a->win) {
        fprintf(stderr, "teleop review: %s\n", err);
        goto fail;
    }
    a->query.sort = TP_SORT_DATE;
    a->query.descending = true;
    rv_browser_refresh(a, true);
    a->last_tick = uk_time();
    return a;
fail:
    rv_app_destroy(a);
    return NULL;
}

void rv_app_destroy(struct review_app *a)
{
    if (!a)
        return;
    if (a->pb)
        rv_player_close(a);
    rv_history_free(&a->hist);
    tp_catalog_listing_free(&a->list);
    for (int i = 0; i < a->n_tags; i++)
        free(a->tags[i]);
    free(a->tags);
    free(a->tag_counts);
    if (a->win)
        uk_window_close(a->win);
    tp_catalog_close(a->cat);
    if (a->control_fd >= 0)
        close(a->control_fd);
    free(a);
}

void rv_app_draw(struct review_app *a) { draw(a); }

int tp_review_ui_run(const tp_review_ui_options *opt)
{
    struct review_app *a = rv_app_create(opt);
    if (!a)
        return 1;
    char err[512];
    if (opt->npaths == 1 && is_file(opt->paths[0]))
        rv_player_open(a, opt->paths[0]);
    bool dirty = true;
    a->last_tick = uk_time();
    while (!a->quit) {
        bool busy = rv_player_busy(a);
        if (control_poll(a)) {
            uk_window_sync(a->win); /* the X events sent before the command are queued now */
            dirty = true;
        } else {
            double wait = busy ? 0 : 0.05;
            uk_window_poll(a->win, wait);
        }
        uk_event ev;
        uk_rect area = main_area(a);
        while (uk_next_event(a->win, &ev)) {
            if (ev.kind != UK_EVENT_MOTION || a->view == RV_PLAYER) /* drags: scrubber, 3D view */
                dirty = true;
            handle_event(a, &ev, area);
        }
        if (uk_window_should_close(a->win))
            a->quit = true;
        if (uk_time() - a->last_refresh >= 1.0) {
            int before = a->list.n;
            rv_browser_refresh(a, false);
            if (a->view == RV_BROWSER || a->list.n != before)
                dirty = true;
        }
        if (a->status[0] && !a->status_error && uk_time() - a->status_t >= 8 && uk_time() - a->status_t < 8.2)
            dirty = true; /* let the message go */
        rv_player_tick(a);
        if (!(dirty || busy || a->shot_path[0] || a->sync_pending))
            continue;
        double t0 = uk_time();
        draw(a);
        dirty = false;
        if (a->shot_path[0]) {
            if (uk_screenshot_png(a->win, a->shot_path, err, sizeof err))
                printf("error %s\n", err);
            else
                printf("screenshot %s\n", a->shot_path);
            a->shot_path[0] = 0;
            fflush(stdout);
        }
        uk_frame_end(a->win);
        if (a->sync_pending) {
            printf("idle %lld\n", (long long)a->frames);
            fflush(stdout);
            a->sync_pending = false;
        }
        if (busy) { /* at most 60 frames a second while playing */
            double left = 1.0 / 60 - (uk_time() - t0);
            if (left > 0.001)
                uk_window_poll(a->win, left);
        }
    }
    rv_app_destroy(a);
    return 0;
}
