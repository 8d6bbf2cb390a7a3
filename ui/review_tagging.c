/* teleop review — annotations of the current episode: every change is
 * written at once (tp_review_write, one transaction) and kept on an undo
 * stack of whole states, so undo and redo are writes of an earlier state.
 * A refused write (the episode is being recorded, a bad value) changes
 * nothing and says why on the status line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "review_app.h"

#define HISTORY_MAX 200

static bool push(tp_review **arr, int *n, int *cap, const tp_review *r)
{
    if (*n == HISTORY_MAX) { /* forget the oldest */
        memmove(*arr, *arr + 1, sizeof **arr * (HISTORY_MAX - 1));
        (*n)--;
    }
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 8;
        tp_review *p = realloc(*arr, sizeof *p * (size_t)nc);
        if (!p)
            return false;
        *arr = p;
        *cap = nc;
    }
    (*arr)[(*n)++] = *r;
    return true;
}

void rv_history_free(rv_history *h)
{
    free(h->states);
    free(h->redo);
    memset(h, 0, sizeof *h);
}

void rv_annot_load(struct review_app *a, const char *path)
{
    if (!path) {
        a->annot_ok = false;
        a->annot_path[0] = 0;
        rv_history_free(&a->hist);
        return;
    }
    bool same = !strcmp(path, a->annot_path);
    char err[512];
    if (tp_review_read(path, &a->annot, err, sizeof err)) {
        a->annot_ok = false;
        rv_status(a, true, "%s", err);
    } else {
        a->annot_ok = true;
    }
    if (!same) { /* undo history belongs to one episode */
        rv_history_free(&a->hist);
        snprintf(a->annot_path, sizeof a->annot_path, "%s", path);
    }
}

static const char *reviewer(const struct review_app *a)
{
    if (a->opt.reviewer)
        return a->opt.reviewer;
    const char *u = getenv("USER");
    return u && *u ? u : NULL;
}

/* Writes next; on success the old state goes on the undo stack (unless
 * from_history) and the catalog row is refreshed. */
static bool commit(struct review_app *a, const tp_review *next, const char *what, int history)
{
    const char *path = rv_current_path(a);
    if (!path || !a->annot_ok || strcmp(path, a->annot_path)) {
        rv_status(a, true, "no episode selected");
        return false;
    }
    static tp_review before; /* large: not on the stack */
    before = a->annot;
    char err[512], file[4096];
    snprintf(file, sizeof file, "%s", path);
    path = file;
    /* The player's reader holds a read snapshot of the file, which SQLite's
     * write lock waits for forever: let go of it for the write. */
    bool playing = a->view == RV_PLAYER && a->pb && !strcmp(a->path, path);
    int64_t t = a->t_ns;
    int speed = a->speed_index;
    if (playing)
        rv_player_close(a);
    int rc = tp_review_write(path, next, reviewer(a), err, sizeof err);
    if (playing && rv_player_open(a, path) == 0) {
        rv_player_seek(a, t);
        a->speed_index = speed;
    }
    if (rc) {
        rv_status(a, true, "not saved: %s", err);
        return false;
    }
    if (history == 0) {
        push(&a->hist.states, &a->hist.n, &a->hist.cap, &before);
        a->hist.n_redo = 0;
    } else if (history < 0) { /* an undo: what it replaced can be redone */
        push(&a->hist.redo, &a->hist.n_redo, &a->hist.cap_redo, &before);
    } else { /* a redo */
        push(&a->hist.states, &a->hist.n, &a->hist.cap, &before);
    }
    if (tp_review_read(path, &a->annot, err, sizeof err)) /* note ids come from the file */
        a->annot = *next;
    if (a->cat && tp_catalog_update(a->cat, path, err, sizeof err) == 0)
        rv_browser_relist(a);
    rv_status(a, false, "saved: %s", what);
    return true;
}

static tp_review *scratch(struct review_app *a)
{
    static tp_review next; /* large: not on the stack */
    next = a->annot;
    return &next;
}

void rv_annot_set_verdict(struct review_app *a, tp_verdict v)
{
    if (!a->annot_ok)
        return rv_status(a, true, "no episode selected");
    tp_review *n = scratch(a);
    n->verdict = n->verdict == v ? TP_VERDICT_NONE : v;
    char what[64];
    snprintf(what, sizeof what, "verdict %s", n->verdict == TP_VERDICT_NONE ? "none" : tp_verdict_name(n->verdict));
    commit(a, n, what, 0);
}

void rv_annot_set_rating(struct review_app *a, int rating)
{
    if (!a->annot_ok)
        return rv_status(a, true, "no episode selected");
    tp_review *n = scratch(a);
    n->rating = rating;
    char what[64];
    snprintf(what, sizeof what, rating ? "rating %d" : "rating cleared", rating);
    commit(a, n, what, 0);
}

void rv_annot_toggle_tag(struct review_app *a, const char *tag)
{
    if (!a->annot_ok)
        return rv_status(a, true, "no episode selected");
    if (!*tag)
        return;
    tp_review *n = scratch(a);
    char what[128];
    for (int i = 0; i < n->n_tags; i++)
        if (!strcmp(n->tags[i], tag)) {
            memmove(n->tags[i], n->tags[i + 1], sizeof n->tags[0] * (size_t)(n->n_tags - i - 1));
            n->n_tags--;
            snprintf(what, sizeof what, "tag '%s' removed", tag);
            commit(a, n, what, 0);
            return;
        }
    if (n->n_tags == TP_REVIEW_MAX_TAGS)
        return rv_status(a, true, "not saved: at most %d tags", TP_REVIEW_MAX_TAGS);
    if (strlen(tag) >= TP_REVIEW_TAG_LEN)
        return rv_status(a, true, "not saved: a tag has at most %d bytes", TP_REVIEW_TAG_LEN - 1);
    snprintf(n->tags[n->n_tags++], TP_REVIEW_TAG_LEN, "%s", tag);
    snprintf(what, sizeof what, "tag '%s' added", tag);
    commit(a, n, what, 0);
}

void rv_annot_add_note(struct review_app *a, const char *text)
{
    if (!a->annot_ok)
        return rv_status(a, true, "no episode selected");
    if (!*text)
        return;
    tp_review *n = scratch(a);
    if (n->n_notes == TP_REVIEW_MAX_NOTES)
        return rv_status(a, true, "not saved: at most %d notes", TP_REVIEW_MAX_NOTES);
    tp_review_note *note = &n->notes[n->n_notes++];
    memset(note, 0, sizeof *note);
    snprintf(note->text, sizeof note->text, "%s", text);
    const char *who = reviewer(a);
    snprintf(note->author, sizeof note->author, "%s", who ? who : "");
    commit(a, n, "note added", 0);
}

void rv_annot_set_task(struct review_app *a, const char *task)
{
    if (!a->annot_ok)
        return rv_status(a, true, "no episode selected");
    tp_review *n = scratch(a);
    snprintf(n->task, sizeof n->task, "%s", task);
    commit(a, n, "task corrected", 0);
}

void rv_annot_set_trim(struct review_app *a, bool in, int64_t t_ns)
{
    if (!a->annot_ok)
        return rv_status(a, true, "no episode selected");
    tp_review *n = scratch(a);
    if (in)
        n->trim_in_ns = t_ns;
    else
        n->trim_out_ns = t_ns;
    char what[64];
    if (t_ns)
        snprintf(what, sizeof what, "trim %s at %.3f s", in ? "in" : "out", (t_ns - n->start_t_ns) / 1e9);
    else
        snprintf(what, sizeof what, "trim %s cleared", in ? "in" : "out");
    commit(a, n, what, 0);
}

void rv_annot_toggle_delete(struct review_app *a)
{
    if (!a->annot_ok)
        return rv_status(a, true, "no episode selected");
    tp_review *n = scratch(a);
    n->delete_marked = !n->delete_marked;
    commit(a, n, n->delete_marked ? "marked for deletion (Delete moves it to the trash)" : "deletion mark removed", 0);
}

void rv_annot_trash(struct review_app *a)
{
    const char *path = rv_current_path(a);
    if (!path)
        return rv_status(a, true, "no episode selected");
    char moved[4096], err[512], was[4096];
    snprintf(was, sizeof was, "%s", path);
    bool playing = a->view == RV_PLAYER;
    if (playing)
        rv_player_close(a);
    if (tp_review_trash(was, a->opt.trash_dir, moved, sizeof moved, err, sizeof err)) {
        if (playing)
            rv_player_open(a, was);
        return rv_status(a, true, "not moved: %s", err);
    }
    rv_annot_load(a, NULL);
    rv_browser_refresh(a, true);
    rv_status(a, false, "moved to %s", moved);
}

void rv_annot_undo(struct review_app *a)
{
    if (!a->annot_ok || !a->hist.n)
        return rv_status(a, true, "nothing to undo");
    tp_review prev = a->hist.states[a->hist.n - 1];
    a->hist.n--;
    if (!commit(a, &prev, "undone", -1))
        a->hist.n++;
}

void rv_annot_redo(struct review_app *a)
{
    if (!a->annot_ok || !a->hist.n_redo)
        return rv_status(a, true, "nothing to redo");
    tp_review next = a->hist.redo[a->hist.n_redo - 1];
    a->hist.n_redo--;
    if (!commit(a, &next, "redone", 1))
        a->hist.n_redo++;
}
