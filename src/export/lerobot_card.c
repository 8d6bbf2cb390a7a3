/* teleop — the Hugging Face dataset card (README.md at the dataset root)
 * that LeRobot's hub push writes: YAML front matter with the license,
 * task_categories [robotics], the LeRobot tag and the parquet data_files
 * config the hub's dataset viewer reads, then meta/info.json. Written by
 * every export so the folder is ready to push (docs/upload.md, Hugging Face
 * hub). A card someone edited (the teleop marker line removed) is kept. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lerobot.h"

#define CARD_MARKER "<!-- written by teleop export"

int tp_lr_write_file(const char *root, const char *rel, const char *text, char *err, size_t errlen);

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
}

/* A task on one line of markdown: control characters become spaces. */
static void put_task(sbuf *b, const char *task)
{
    put(b, "- ");
    for (const unsigned char *s = (const unsigned char *)task; *s; s++)
        put(b, "%c", *s < 0x20 || *s == 0x7f ? ' ' : (char)*s);
    put(b, "\n");
}

bool tp_lr_license_valid(const char *license)
{
    size_t n = strlen(license);
    if (!n || n > 64)
        return false;
    for (const char *s = license; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
            return false;
    return true;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *t = malloc(cap + 1);
    while (t) {
        size_t r = fread(t + n, 1, cap - n, f);
        n += r;
        if (r == 0 || n < cap)
            break;
        char *q = realloc(t, cap * 2 + 1);
        if (!q) {
            free(t);
            t = NULL;
            break;
        }
        t = q;
        cap *= 2;
    }
    fclose(f);
    if (t)
        t[n] = 0;
    return t;
}

/* The license of a card teleop wrote before (an append keeps it). */
static void old_license(const char *card, char *out, size_t n)
{
    const char *l = strstr(card, "\nlicense: ");
    if (!l)
        return;
    l += strlen("\nlicense: ");
    size_t k = strcspn(l, "\r\n");
    char v[80];
    if (k >= sizeof v)
        return;
    memcpy(v, l, k);
    v[k] = 0;
    if (tp_lr_license_valid(v))
        snprintf(out, n, "%s", v);
}

int tp_lr_write_card(const tp_lr_dataset *ds, const char *license, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/README.md", ds->root);
    char lic[80] = "apache-2.0"; /* LeRobot's push_to_hub default */
    char *old = read_text(path);
    if (old) {
        bool ours = strstr(old, CARD_MARKER) != NULL;
        if (ours && !license)
            old_license(old, lic, sizeof lic);
        free(old);
        if (!ours)
            return 0; /* a card written by hand stays as it is */
    }
    if (license)
        snprintf(lic, sizeof lic, "%s", license);
    snprintf(path, sizeof path, "%s/meta/info.json", ds->root);
    char *info = read_text(path);
    if (!info) {
        snprintf(err, errlen, "%s: cannot read it back for the dataset card", path);
        return -1;
    }
    const char *version = ds->version == 30 ? "v3.0" : "v2.1";
    sbuf b = {0};
    put(&b,
        "---\n"
        "license: %s\n"
        "task_categories:\n"
        "- robotics\n"
        "tags:\n"
        "- LeRobot\n"
        "- teleop\n"
        "configs:\n"
        "- config_name: default\n"
        "  data_files: data/*/*.parquet\n"
        "---\n\n",
        lic);
    put(&b, CARD_MARKER " from meta/info.json on every export; delete this line to keep your own card -->\n\n");
    put(&b,
        "A [LeRobot](https://github.com/huggingface/lerobot) dataset, codebase version %s, exported by "
        "`teleop export --format lerobot` from teleoperated episodes.\n\n",
        version);
    put(&b, "## Dataset Description\n\n");
    put(&b, "- **Robot type:** %s\n", ds->map.robot_type[0] ? ds->map.robot_type : "unknown");
    put(&b, "- **Episodes:** %" PRId64 ", **frames:** %" PRId64 " at %d fps\n", ds->n_eps, ds->total_frames, ds->fps);
    if (ds->n_cameras) {
        put(&b, "- **Cameras:**");
        for (int c = 0; c < ds->n_cameras; c++)
            put(&b, "%s %s (%dx%d)", c ? "," : "", ds->camera_name[c], ds->cam_width[c], ds->cam_height[c]);
        put(&b, "\n");
    }
    put(&b, "- **License:** %s\n\n", lic);
    put(&b, "Tasks:\n\n");
    for (int64_t i = 0; i < ds->n_eps; i++) {
        bool seen = false;
        for (int64_t k = 0; k < i && !seen; k++)
            seen = ds->eps[k].task_index == ds->eps[i].task_index;
        if (!seen)
            put_task(&b, ds->eps[i].task);
    }
    put(&b, "\n## Dataset Structure\n\n[meta/info.json](meta/info.json):\n```json\n%s```\n\n", info);
    put(&b,
        "## Loading from the hub\n\n"
        "LeRobot opens a hub dataset at the revision named after its codebase version, so the repository "
        "needs the tag `%s` next to these files:\n\n"
        "```sh\n"
        "huggingface-cli upload --repo-type dataset USER/NAME . .\n"
        "huggingface-cli tag --repo-type dataset USER/NAME %s\n"
        "```\n",
        version, version);
    free(info);
    if (b.oom) {
        free(b.p);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = tp_lr_write_file(ds->root, "README.md", b.p, err, errlen);
    free(b.p);
    return rc;
}
