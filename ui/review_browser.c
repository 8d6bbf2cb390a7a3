/* teleop review — the episode browser: the catalog's listing as a table
 * (date, task, operator, duration, outcome, verdict, tags, rating, QA
 * flags), sorted by any column, filtered, searched, refreshed every second
 * so episodes being recorded appear and grow. */
#include <GLFW/glfw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "review_app.h"
#include "teleop/qa.h"

static const rv_column columns[] = {
    {"date", TP_SORT_DATE, 190},     {"task", TP_SORT_TASK, 0},         {"operator", TP_SORT_OPERATOR, 96},
    {"duration", TP_SORT_DURATION, 76}, {"outcome", TP_SORT_OUTCOME, 96}, {"verdict", TP_SORT_VERDICT, 100},
    {"tags", TP_SORT_TAGS, 150},     {"rating", TP_SORT_RATING, 96},     {"QA flags", TP_SORT_QA, 180},
};
#define NCOLS ((int)(sizeof columns / sizeof columns[0]))

static const char *verdict_filters[] = {NULL, "success", "failure", "none"};

void rv_format_duration(double s, char *out, size_t len)
{
    if (s < 0)
        s = 0;
    int m = (int)(s / 60);
    snprintf(out, len, "%d:%04.1f", m, s - 60.0 * m);
}

const tp_catalog_entry *rv_browser_selected(const struct review_app *a)
{
    return a->sel >= 0 && a->sel < a->list.n ? &a->list.entries[a->sel] : NULL;
}

static float row_height(struct review_app *a) { return uk_text_line_height(a->win, RV_FONT) + 8; }

void rv_browser_select(struct review_app *a, int index)
{
    if (!a->list.n) {
        a->sel = -1;
        a->sel_path[0] = 0;
        if (a->view == RV_BROWSER)
            rv_annot_load(a, NULL);
        return;
    }
    if (index < 0)
        index = 0;
    if (index >= a->list.n)
        index = a->list.n - 1;
    a->sel = index;
    snprintf(a->sel_path, sizeof a->sel_path, "%s", a->list.entries[index].path);
    if (a->view == RV_BROWSER && strcmp(a->annot_path, a->sel_path))
        rv_annot_load(a, a->sel_path);
}

static void build_query(struct review_app *a)
{
    tp_catalog_query *q = &a->query;
    q->text = a->search[0] ? a->search : NULL;
    q->verdict = verdict_filters[a->verdict_filter];
    q->tag = a->tag_filter[0] ? a->tag_filter : NULL;
    q->min_rating = a->min_rating;
    q->include_deleted = !a->hide_deleted;
    if (a->qa_filter == 0)
        q->qa_flag = NULL;
    else if (a->qa_filter == 1)
        q->qa_flag = "none";
    else
        q->qa_flag = tp_qa_flag_name(1u << (a->qa_filter - 2));
}

void rv_browser_relist(struct review_app *a)
{
    if (!a->cat)
        return;
    build_query(a);
    tp_catalog_listing l = {0};
    char err[512];
    if (tp_catalog_list(a->cat, &a->query, &l, err, sizeof err)) {
        rv_status(a, true, "%s", err);
        return;
    }
    tp_catalog_listing_free(&a->list);
    a->list = l;
    int sel = -1;
    for (int i = 0; i < l.n && sel < 0; i++)
        if (!strcmp(l.entries[i].path, a->sel_path))
            sel = i;
    if (sel < 0)
        sel = a->sel >= 0 ? (a->sel < l.n ? a->sel : l.n - 1) : 0;
    rv_browser_select(a, sel);
    /* the shared tag list, for completion */
    for (int i = 0; i < a->n_tags; i++)
        free(a->tags[i]);
    free(a->tags);
    free(a->tag_counts);
    a->tags = NULL;
    a->tag_counts = NULL;
    a->n_tags = 0;
    if (tp_catalog_tags(a->cat, &a->tags, &a->tag_counts, &a->n_tags, err, sizeof err))
        a->n_tags = 0;
}

void rv_browser_refresh(struct review_app *a, bool force)
{
    if (!a->cat)
        return;
    tp_catalog_stats st = {0};
    char err[512];
    a->last_refresh = uk_time();
    if (tp_catalog_refresh(a->cat, &st, err, sizeof err)) {
        rv_status(a, true, "%s", err);
        return;
    }
    bool live = false;
    for (int i = 0; i < a->list.n && !live; i++)
        live = a->list.entries[i].live;
    if (force || st.reindexed || st.removed || st.episodes != a->list.n || live)
        rv_browser_relist(a);
}

static void sort_by(struct review_app *a, tp_catalog_sort s, bool toggle)
{
    if (a->query.sort == s && toggle)
        a->query.descending = !a->query.descending;
    else if (a->query.sort != s) {
        a->query.sort = s;
        a->query.descending = s == TP_SORT_DATE || s == TP_SORT_RATING || s == TP_SORT_QA;
    }
    rv_browser_relist(a);
}

static int sort_column(const struct review_app *a)
{
    for (int i = 0; i < NCOLS; i++)
        if (columns[i].sort == a->query.sort)
            return i;
    return 0;
}

static void layout_columns(float x, float width, float *xs)
{
    float fixed = 0;
    for (int i = 0; i < NCOLS; i++)
        fixed += columns[i].width;
    float flex = width - fixed > 120 ? width - fixed : 120;
    for (int i = 0; i < NCOLS; i++) {
        xs[i] = x;
        x += columns[i].width ? columns[i].width : flex;
    }
    xs[NCOLS] = x;
}

static void stars(int rating, char *out, size_t len)
{
    out[0] = 0;
    for (int i = 1; i <= 5; i++)
        strncat(out, i <= rating ? "★" : "☆", len - strlen(out) - 1);
}

static void cell(uk_window *w, const float *xs, int col, float y, uk_color c, const char *text)
{
    uk_text(w, xs[col] + 6, y, RV_FONT, c, text, xs[col + 1] - xs[col] - 12);
}

void rv_browser_draw(struct review_app *a, uk_rect area)
{
    uk_window *w = a->win;
    float rh = row_height(a), ty = (rh - uk_text_line_height(w, RV_FONT)) / 2;
    float xs[NCOLS + 1];
    layout_columns(area.x, area.w, xs);

    /* filter line */
    char filt[1024];
    int n = snprintf(filt, sizeof filt, "%d episode%s", a->list.n, a->list.n == 1 ? "" : "s");
    if (a->search[0])
        n += snprintf(filt + n, sizeof filt - (size_t)n, "   search: \"%s\"", a->search);
    if (a->verdict_filter)
        n += snprintf(filt + n, sizeof filt - (size_t)n, "   verdict: %s", verdict_filters[a->verdict_filter]);
    if (a->qa_filter)
        n += snprintf(filt + n, sizeof filt - (size_t)n, "   QA: %s", a->query.qa_flag ? a->query.qa_flag : "");
    if (a->tag_filter[0])
        n += snprintf(filt + n, sizeof filt - (size_t)n, "   tag: %s", a->tag_filter);
    if (a->min_rating)
        n += snprintf(filt + n, sizeof filt - (size_t)n, "   rating ≥ %d", a->min_rating);
    if (a->hide_deleted)
        snprintf(filt + n, sizeof filt - (size_t)n, "   marked for deletion hidden");
    uk_text(w, area.x + 6, area.y + 4, RV_SMALL, uk_rgb(RV_DIM), filt, area.w - 12);
    float y = area.y + uk_text_line_height(w, RV_SMALL) + 8;

    /* header */
    uk_fill_rect(w, (uk_rect){area.x, y, area.w, rh}, uk_rgb(RV_PANEL));
    int sc = sort_column(a);
    for (int i = 0; i < NCOLS; i++) {
        char t[64];
        snprintf(t, sizeof t, "%s%s", columns[i].title, i == sc ? (a->query.descending ? " ▼" : " ▲") : "");
        cell(w, xs, i, y + ty, uk_rgb(i == sc ? RV_ACCENT : RV_TEXT), t);
    }
    y += rh;

    /* rows */
    uk_rect rows = {area.x, y, area.w, area.y + area.h - y};
    int visible = (int)(rows.h / rh);
    if (visible < 1)
        visible = 1;
    if (a->sel >= 0 && a->sel < a->scroll)
        a->scroll = a->sel;
    if (a->sel >= a->scroll + visible)
        a->scroll = a->sel - visible + 1;
    if (a->scroll > a->list.n - visible)
        a->scroll = a->list.n - visible;
    if (a->scroll < 0)
        a->scroll = 0;
    uk_clip_push(w, rows);
    for (int i = a->scroll; i < a->list.n && i < a->scroll + visible + 1; i++, y += rh) {
        const tp_catalog_entry *e = &a->list.entries[i];
        if (i == a->sel)
            uk_fill_rect(w, (uk_rect){area.x, y, area.w, rh}, uk_rgb(0x33415e));
        else if (i % 2)
            uk_fill_rect(w, (uk_rect){area.x, y, area.w, rh}, uk_rgb(0x232428));
        uk_color txt = uk_rgb(e->delete_marked ? 0x777777 : RV_TEXT);
        char buf[256];
        time_t tt = (time_t)(e->start_unix_ns / 1000000000);
        struct tm tm;
        localtime_r(&tt, &tm);
        strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
        cell(w, xs, 0, y + ty, txt, buf);
        cell(w, xs, 1, y + ty, txt, e->task[0] ? e->task : "—");
        cell(w, xs, 2, y + ty, txt, e->operator_name);
        rv_format_duration(e->duration_s, buf, sizeof buf);
        cell(w, xs, 3, y + ty, txt, buf);
        if (e->live)
            cell(w, xs, 4, y + ty, uk_rgb(RV_BAD), "● recording");
        else
            cell(w, xs, 4, y + ty, uk_rgb(strcmp(e->outcome, "completed") ? RV_WARN : RV_TEXT), e->outcome);
        if (!strcmp(e->verdict, "success"))
            cell(w, xs, 5, y + ty, uk_rgb(RV_GOOD), "✓ success");
        else if (!strcmp(e->verdict, "failure"))
            cell(w, xs, 5, y + ty, uk_rgb(RV_BAD), "✗ failure");
        cell(w, xs, 6, y + ty, uk_rgb(0x8ab4ff), e->tags);
        stars(e->rating, buf, sizeof buf);
        cell(w, xs, 7, y + ty, uk_rgb(e->rating ? 0xffd479 : 0x555555), buf);
        if (!e->qa_flags)
            cell(w, xs, 8, y + ty, uk_rgb(0x666666), "not checked");
        else if (!e->qa_flags[0])
            cell(w, xs, 8, y + ty, uk_rgb(RV_GOOD), "clean");
        else
            cell(w, xs, 8, y + ty, uk_rgb(RV_WARN), e->qa_flags);
        if (e->delete_marked) /* struck through */
            uk_line(w, area.x + 4, y + rh / 2, xs[NCOLS] - 4, y + rh / 2, 1, uk_rgb(RV_BAD));
    }
    uk_clip_pop(w);
    if (!a->list.n)
        uk_text(w, area.x + 12, rows.y + 12, RV_FONT, uk_rgb(RV_DIM),
                a->search[0] || a->verdict_filter || a->qa_filter || a->tag_filter[0] || a->min_rating
                    ? "no episode matches the filters (c clears them)"
                    : "no episodes here yet",
                0);
}

/* Row under y (an index into the listing), or -1; -2 for the header. */
static int row_at(struct review_app *a, uk_rect area, float y)
{
    float rh = row_height(a), top = area.y + uk_text_line_height(a->win, RV_SMALL) + 8;
    if (y < top)
        return -1;
    if (y < top + rh)
        return -2;
    int r = a->scroll + (int)((y - top - rh) / rh);
    return r < a->list.n ? r : -1;
}

bool rv_browser_row_rect(struct review_app *a, uk_rect area, int index, uk_rect *out)
{
    float rh = row_height(a), top = area.y + uk_text_line_height(a->win, RV_SMALL) + 8 + rh;
    float y = top + (float)(index - a->scroll) * rh;
    if (index < a->scroll || index >= a->list.n || y + rh > area.y + area.h)
        return false;
    *out = (uk_rect){area.x, y, area.w, rh};
    return true;
}

int rv_browser_columns(struct review_app *a, uk_rect area, const char **titles, uk_rect *rects, int max)
{
    float xs[NCOLS + 1], rh = row_height(a), top = area.y + uk_text_line_height(a->win, RV_SMALL) + 8;
    layout_columns(area.x, area.w, xs);
    int n = 0;
    for (int i = 0; i < NCOLS && n < max; i++, n++) {
        titles[n] = columns[i].title;
        rects[n] = (uk_rect){xs[i], top, xs[i + 1] - xs[i], rh};
    }
    return n;
}

bool rv_browser_mouse(struct review_app *a, const uk_event *ev, uk_rect area)
{
    if (ev->kind == UK_EVENT_SCROLL) {
        a->scroll -= (int)lroundf(ev->dy * 3);
        if (a->scroll < 0)
            a->scroll = 0;
        /* keep the selection visible */
        int visible = (int)((area.h - row_height(a) * 2) / row_height(a));
        if (a->sel < a->scroll)
            rv_browser_select(a, a->scroll);
        else if (visible > 0 && a->sel >= a->scroll + visible)
            rv_browser_select(a, a->scroll + visible - 1);
        return true;
    }
    if (ev->kind != UK_EVENT_BUTTON || ev->action != UK_PRESS || ev->button != GLFW_MOUSE_BUTTON_LEFT ||
        !uk_rect_contains(area, ev->x, ev->y))
        return false;
    int r = row_at(a, area, ev->y);
    if (r == -2) {
        float xs[NCOLS + 1];
        layout_columns(area.x, area.w, xs);
        for (int i = 0; i < NCOLS; i++)
            if (ev->x >= xs[i] && ev->x < xs[i + 1])
                sort_by(a, columns[i].sort, true);
        return true;
    }
    if (r >= 0) {
        double now = uk_time();
        bool dbl = r == a->last_click_row && now - a->last_click_t < 0.45;
        rv_browser_select(a, r);
        a->last_click_row = r;
        a->last_click_t = now;
        if (dbl)
            rv_player_open(a, a->list.entries[r].path);
    }
    return true;
}

bool rv_browser_key(struct review_app *a, const uk_event *ev)
{
    if (ev->action == UK_RELEASE)
        return false;
    int page = 15;
    switch (ev->key) {
    case GLFW_KEY_UP: rv_browser_select(a, a->sel - 1); return true;
    case GLFW_KEY_DOWN: rv_browser_select(a, a->sel + 1); return true;
    case GLFW_KEY_PAGE_UP: rv_browser_select(a, a->sel - page); return true;
    case GLFW_KEY_PAGE_DOWN: rv_browser_select(a, a->sel + page); return true;
    case GLFW_KEY_HOME: rv_browser_select(a, 0); return true;
    case GLFW_KEY_END: rv_browser_select(a, a->list.n - 1); return true;
    case GLFW_KEY_ENTER:
    case GLFW_KEY_KP_ENTER: {
        const tp_catalog_entry *e = rv_browser_selected(a);
        if (e)
            rv_player_open(a, e->path);
        return true;
    }
    case GLFW_KEY_TAB: {
        int c = sort_column(a) + ((ev->mods & UK_MOD_SHIFT) ? NCOLS - 1 : 1);
        sort_by(a, columns[c % NCOLS].sort, false);
        return true;
    }
    default: return false;
    }
}

bool rv_browser_char(struct review_app *a, uint32_t cp)
{
    switch (cp) {
    case '/': rv_open_prompt(a, RV_PROMPT_SEARCH, a->search); return true;
    case 'g': rv_open_prompt(a, RV_PROMPT_TAG_FILTER, a->tag_filter); return true;
    case 'r':
        a->query.descending = !a->query.descending;
        rv_browser_relist(a);
        return true;
    case 'v':
        a->verdict_filter = (a->verdict_filter + 1) % 4;
        rv_browser_relist(a);
        return true;
    case 'x':
        a->qa_filter = (a->qa_filter + 1) % (TP_QA_FLAG_COUNT + 2);
        rv_browser_relist(a);
        return true;
    case 'm':
        a->min_rating = (a->min_rating + 1) % 6;
        rv_browser_relist(a);
        return true;
    case 'c':
        a->search[0] = a->tag_filter[0] = 0;
        a->verdict_filter = a->qa_filter = a->min_rating = 0;
        rv_browser_relist(a);
        rv_status(a, false, "filters cleared");
        return true;
    case 'D':
        a->hide_deleted = !a->hide_deleted;
        rv_browser_relist(a);
        return true;
    default: return false;
    }
}
