/* teleop — an episode's robot description, embedded files and joint limits. */
#include "episode_setup.h"

#include <expat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/file.h"
#include "teleop/paths.h"

/* Larger files are not embedded; a model referencing one is refused. */
#define MAX_ATTACHMENT_BYTES (256u << 20)
#define MAX_MODEL_FILES 512

typedef enum ref_kind { REF_INCLUDE, REF_MESH, REF_TEXTURE, REF_ASSET } ref_kind;

typedef struct model_refs {
    char *files[MAX_MODEL_FILES]; /* paths as written in the MJCF */
    ref_kind kinds[MAX_MODEL_FILES];
    int n;
    char meshdir[1024], texturedir[1024], assetdir[1024];
    int depth_error; /* too many files */
} model_refs;

static const char *ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcasecmp(s + n - k, suffix) ? s + n - k : NULL;
}

static const char *media_type(const char *name)
{
    if (ends(name, ".xml") || ends(name, ".urdf") || ends(name, ".mjcf"))
        return "application/xml";
    if (ends(name, ".stl"))
        return "model/stl";
    if (ends(name, ".obj"))
        return "model/obj";
    if (ends(name, ".png"))
        return "image/png";
    if (ends(name, ".ini") || ends(name, ".txt"))
        return "text/plain";
    return "application/octet-stream";
}

static void add_ref(model_refs *r, ref_kind kind, const char *path)
{
    if (!path || !path[0])
        return;
    for (int i = 0; i < r->n; i++)
        if (r->kinds[i] == kind && !strcmp(r->files[i], path))
            return;
    if (r->n == MAX_MODEL_FILES) {
        r->depth_error = 1;
        return;
    }
    r->files[r->n] = strdup(path);
    r->kinds[r->n] = kind;
    if (r->files[r->n])
        r->n++;
}

/* Every attribute of MJCF that names a file (MuJoCo's XML reference). */
static void XMLCALL on_start(void *user, const XML_Char *el, const XML_Char **attr)
{
    model_refs *r = user;
    for (int i = 0; attr[i]; i += 2) {
        const char *k = attr[i], *v = attr[i + 1];
        if (!strcmp(el, "compiler")) {
            if (!strcmp(k, "meshdir"))
                snprintf(r->meshdir, sizeof r->meshdir, "%s", v);
            else if (!strcmp(k, "texturedir"))
                snprintf(r->texturedir, sizeof r->texturedir, "%s", v);
            else if (!strcmp(k, "assetdir"))
                snprintf(r->assetdir, sizeof r->assetdir, "%s", v);
        } else if (!strcmp(el, "include") && !strcmp(k, "file"))
            add_ref(r, REF_INCLUDE, v);
        else if (!strcmp(el, "mesh") && !strcmp(k, "file"))
            add_ref(r, REF_MESH, v);
        else if (!strcmp(el, "texture") && !strncmp(k, "file", 4))
            add_ref(r, REF_TEXTURE, v); /* file, fileright, fileleft, fileup, filedown, filefront, fileback */
        else if ((!strcmp(el, "hfield") || !strcmp(el, "skin")) && !strcmp(k, "file"))
            add_ref(r, REF_ASSET, v);
    }
}

static void XMLCALL on_end(void *user, const XML_Char *el)
{
    (void)user;
    (void)el;
}

static int scan_mjcf(const char *path, const char *text, size_t len, model_refs *r, char *err, size_t errlen)
{
    XML_Parser p = XML_ParserCreate(NULL);
    if (!p) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    XML_SetUserData(p, r);
    XML_SetElementHandler(p, on_start, on_end);
    int ok = XML_Parse(p, text, (int)len, 1) == XML_STATUS_OK;
    if (!ok)
        snprintf(err, errlen, "%s:%lu: %s", path, (unsigned long)XML_GetCurrentLineNumber(p),
                 XML_ErrorString(XML_GetErrorCode(p)));
    XML_ParserFree(p);
    return ok ? 0 : -1;
}

static void join(char *out, size_t len, const char *dir, const char *sub, const char *file)
{
    if (file[0] == '/')
        snprintf(out, len, "%s", file);
    else if (sub[0] == '/')
        snprintf(out, len, "%s/%s", sub, file);
    else if (sub[0])
        snprintf(out, len, "%s/%s/%s", dir, sub, file);
    else
        snprintf(out, len, "%s/%s", dir, file);
}

static int attach_file(tp_episode_writer *w, const char *name, const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    char rerr[512];
    char *data = tp_read_file(path, &len, rerr, sizeof rerr);
    if (!data) {
        snprintf(err, errlen, "%s", rerr);
        return -1;
    }
    if (len > MAX_ATTACHMENT_BYTES) {
        free(data);
        snprintf(err, errlen, "%s: %zu bytes, too large to embed in the episode", path, len);
        return -1;
    }
    int rc = tp_episode_writer_attach(w, name, media_type(name), data, len);
    free(data);
    if (rc != 0) {
        snprintf(err, errlen, "%s", tp_episode_writer_error(w));
        return -1;
    }
    return 0;
}

static void free_refs(model_refs *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->files[i]);
    r->n = 0;
}

/* The model file and everything it includes or references. */
static int attach_model(tp_episode_writer *w, const char *model_path, char *main_name, size_t main_len, char *err,
                        size_t errlen)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", model_path);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : model_path;
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    snprintf(main_name, main_len, "robot/%s", base);
    model_refs *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "%s: out of memory", model_path);
        return -1;
    }
    int rc = -1;
    size_t len;
    char rerr[512];
    char *text = tp_read_file(model_path, &len, rerr, sizeof rerr);
    if (!text) {
        snprintf(err, errlen, "%s", rerr);
        goto out;
    }
    int scanned = scan_mjcf(model_path, text, len, r, err, errlen);
    free(text);
    if (scanned || attach_file(w, main_name, model_path, err, errlen))
        goto out;
    /* Included files may include and reference more: the list grows while
     * it is walked. MuJoCo resolves includes against the main file's folder. */
    for (int i = 0; i < r->n; i++) {
        if (r->kinds[i] != REF_INCLUDE)
            continue;
        char path[8192];
        join(path, sizeof path, dir, "", r->files[i]);
        if (!(text = tp_read_file(path, &len, rerr, sizeof rerr))) {
            snprintf(err, errlen, "%s: include '%s': %s", model_path, r->files[i], rerr);
            goto out;
        }
        scanned = scan_mjcf(path, text, len, r, err, errlen);
        free(text);
        if (scanned)
            goto out;
    }
    if (r->depth_error) {
        snprintf(err, errlen, "%s: references more than %d files", model_path, MAX_MODEL_FILES);
        goto out;
    }
    for (int i = 0; i < r->n; i++) {
        const char *sub = r->kinds[i] == REF_MESH      ? (r->meshdir[0] ? r->meshdir : r->assetdir)
                          : r->kinds[i] == REF_TEXTURE ? (r->texturedir[0] ? r->texturedir : r->assetdir)
                          : r->kinds[i] == REF_ASSET   ? r->assetdir
                                                       : "";
        char path[8192], name[8300], rel[8192];
        join(path, sizeof path, dir, sub, r->files[i]);
        /* Named as MuJoCo finds it relative to the model's folder, so the
         * attachments unpacked into one folder load again. */
        if (r->files[i][0] == '/')
            snprintf(rel, sizeof rel, "%s", strrchr(r->files[i], '/') + 1);
        else if (sub[0] && sub[0] != '/')
            snprintf(rel, sizeof rel, "%s/%s", sub, r->files[i]);
        else
            snprintf(rel, sizeof rel, "%s", r->files[i]);
        snprintf(name, sizeof name, "robot/%s", rel);
        if (attach_file(w, name, path, err, errlen)) {
            char inner[600];
            snprintf(inner, sizeof inner, "%s", err);
            snprintf(err, errlen, "%s: referenced file: %s", model_path, inner);
            goto out;
        }
    }
    rc = 0;
out:
    free_refs(r);
    free(r);
    return rc;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int tp_episode_describe_station(tp_episode_writer *w, const tp_sim *sim, const tp_station_files *f, char *err,
                                size_t errlen)
{
    char main_name[4200], name[4200];
    if (attach_model(w, f->model_path, main_name, sizeof main_name, err, errlen))
        return -1;
    if (f->hand_method && !strcmp(f->hand_method, "vector")) {
        char hand[4096];
        if (f->hand_urdf && f->hand_urdf[0])
            snprintf(hand, sizeof hand, "%s", f->hand_urdf);
        else if (tp_find_data("devices/robot/models/g1_upper_body.urdf", hand, sizeof hand, err, errlen) != 0)
            return -1;
        snprintf(name, sizeof name, "robot/hand/%s", base_name(hand));
        if (attach_file(w, name, hand, err, errlen))
            return -1;
    }
    if (f->calibration_path && f->calibration_path[0]) {
        snprintf(name, sizeof name, "calibration/%s", base_name(f->calibration_path));
        if (attach_file(w, name, f->calibration_path, err, errlen))
            return -1;
    }
    if (f->config_path && f->config_path[0] && attach_file(w, "config/station.ini", f->config_path, err, errlen))
        return -1;
    /* The description's hash, as stored with the attachment. */
    char sha[65] = "";
    if (tp_episode_writer_attachment_sha256(w, main_name, sha) != 0 ||
        tp_episode_writer_set_meta(w, "robot_description", main_name) ||
        tp_episode_writer_set_meta(w, "robot_description_sha256", sha)) {
        snprintf(err, errlen, "%s", tp_episode_writer_error(w));
        return -1;
    }
    if (f->limit_margin >= 0) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.17g", f->limit_margin);
        if (tp_episode_writer_set_meta(w, "safety_position_margin_rad", buf)) {
            snprintf(err, errlen, "%s", tp_episode_writer_error(w));
            return -1;
        }
    }
    for (int i = 0; i < tp_sim_joint_count(sim); i++) {
        tp_joint_limit l = {.name = tp_sim_joint_name(sim, i), .effort = NAN};
        tp_sim_joint_limits(sim, i, &l.lower, &l.upper);
        double v = tp_sim_joint_max_velocity(sim, i);
        l.velocity = v > 0 && isfinite(v) ? v : NAN;
        if (tp_episode_writer_joint_limit(w, &l)) {
            snprintf(err, errlen, "%s", tp_episode_writer_error(w));
            return -1;
        }
    }
    return 0;
}

const char *tp_operator_dim_unit(const char *dim)
{
    return ends(dim, ".px") || ends(dim, ".py") || ends(dim, ".pz") || ends(dim, ".radius") ? "m" : "1";
}
