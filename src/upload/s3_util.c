/* teleop — S3 client helpers: hashes (OpenSSL), XML (expat), dates. */
#include <errno.h>
#include <expat.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "s3_internal.h"

static void digest(const EVP_MD *md, const void *data, size_t len, unsigned char *out)
{
    unsigned int n = 0;
    EVP_Digest(data, len, out, &n, md, NULL);
}

void s3_md5(const void *data, size_t len, unsigned char out[16]) { digest(EVP_md5(), data, len, out); }

void s3_hex(const unsigned char *bin, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[bin[i] >> 4];
        out[2 * i + 1] = hex[bin[i] & 15];
    }
    out[2 * n] = 0;
}

void s3_base64(const unsigned char *bin, size_t n, char *out, size_t outlen)
{
    if (outlen < 4 * ((n + 2) / 3) + 1) {
        out[0] = 0;
        return;
    }
    EVP_EncodeBlock((unsigned char *)out, bin, (int)n);
}

void s3_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[32];
    digest(EVP_sha256(), data, len, d);
    s3_hex(d, 32, out);
}

int s3_file_md5(int fd, int64_t off, int64_t len, char hex[33])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_md5(), NULL)) {
        EVP_MD_CTX_free(ctx);
        errno = ENOMEM;
        return -1;
    }
    size_t cap = 1 << 20;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        EVP_MD_CTX_free(ctx);
        errno = ENOMEM;
        return -1;
    }
    while (len > 0) {
        size_t want = (size_t)len < cap ? (size_t)len : cap;
        ssize_t n = pread(fd, buf, want, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO; /* the file shrank */
            free(buf);
            EVP_MD_CTX_free(ctx);
            return -1;
        }
        EVP_DigestUpdate(ctx, buf, (size_t)n);
        off += n;
        len -= n;
    }
    unsigned char d[16];
    unsigned int dl = 0;
    EVP_DigestFinal_ex(ctx, d, &dl);
    EVP_MD_CTX_free(ctx);
    free(buf);
    s3_hex(d, 16, hex);
    return 0;
}

static int unhex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void s3_multipart_etag(const char (*part_md5)[33], int n, char *out, size_t outlen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
    for (int i = 0; i < n; i++) {
        unsigned char bin[16];
        for (int j = 0; j < 16; j++)
            bin[j] = (unsigned char)(unhex(part_md5[i][2 * j]) << 4 | unhex(part_md5[i][2 * j + 1]));
        EVP_DigestUpdate(ctx, bin, 16);
    }
    unsigned char d[16];
    unsigned int dl = 0;
    EVP_DigestFinal_ex(ctx, d, &dl);
    EVP_MD_CTX_free(ctx);
    char hex[33];
    s3_hex(d, 16, hex);
    snprintf(out, outlen, "%s-%d", hex, n);
}

void s3_strip_quotes(const char *in, char *out, size_t outlen)
{
    /* "&quot;...&quot;" arrives already decoded by expat */
    size_t n = strlen(in);
    if (n >= 2 && in[0] == '"' && in[n - 1] == '"') {
        in++;
        n -= 2;
    }
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, in, n);
    out[n] = 0;
}

int64_t s3_parse_iso8601_ms(const char *s)
{
    struct tm tm = {0};
    int ms = 0;
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
            digits++;
            p++;
        }
        for (; digits < 3; digits++)
            ms *= 10;
    }
    time_t t = timegm(&tm);
    return t < 0 ? 0 : (int64_t)t * 1000 + ms;
}

/* ---- XML ---- */

typedef struct xml_state {
    char path[512];
    size_t depth_len[32];
    int depth;
    s3_buf text;
    s3_xml_end_fn on_end;
    void *user;
    bool overflow;
} xml_state;

static void xml_start(void *user, const XML_Char *name, const XML_Char **attrs)
{
    (void)attrs;
    xml_state *st = user;
    const char *local = strchr(name, '|'); /* namespace separator */
    local = local ? local + 1 : name;
    size_t len = strlen(st->path);
    if (st->depth >= 32 || len + strlen(local) + 2 > sizeof st->path) {
        st->overflow = true;
        st->depth++;
        return;
    }
    st->depth_len[st->depth++] = len;
    if (len)
        st->path[len++] = '/';
    strcpy(st->path + len, local);
    st->text.len = 0;
    if (st->text.data)
        st->text.data[0] = 0;
}

static void xml_end(void *user, const XML_Char *name)
{
    (void)name;
    xml_state *st = user;
    st->depth--;
    if (st->depth >= 32 || st->overflow)
        return;
    st->on_end(st->user, st->path, st->text.data ? st->text.data : "");
    st->path[st->depth_len[st->depth]] = 0;
    st->text.len = 0;
    if (st->text.data)
        st->text.data[0] = 0;
}

static void xml_text(void *user, const XML_Char *s, int len)
{
    xml_state *st = user;
    if (st->text.len + (size_t)len < (1u << 20))
        s3_buf_put(&st->text, s, (size_t)len);
}

int s3_xml_parse(const char *data, size_t len, s3_xml_end_fn on_end, void *user)
{
    XML_Parser p = XML_ParserCreateNS(NULL, '|');
    if (!p)
        return -1;
    xml_state st = {.on_end = on_end, .user = user};
    XML_SetUserData(p, &st);
    XML_SetElementHandler(p, xml_start, xml_end);
    XML_SetCharacterDataHandler(p, xml_text);
    int ok = XML_Parse(p, data, (int)len, 1) == XML_STATUS_OK && !st.overflow;
    XML_ParserFree(p);
    s3_buf_free(&st.text);
    return ok ? 0 : -1;
}

static void root_start(void *user, const XML_Char *name, const XML_Char **attrs)
{
    (void)attrs;
    char **out = user;
    if (out[0][0])
        return;
    const char *local = strchr(name, '|');
    local = local ? local + 1 : name;
    snprintf(out[0], (size_t)(uintptr_t)out[1], "%s", local);
}

void s3_xml_root(const char *data, size_t len, char *out, size_t outlen)
{
    out[0] = 0;
    XML_Parser p = XML_ParserCreateNS(NULL, '|');
    if (!p)
        return;
    char *ctx[2] = {out, (char *)(uintptr_t)outlen};
    XML_SetUserData(p, ctx);
    XML_SetStartElementHandler(p, root_start);
    XML_Parse(p, data, (int)len, 1);
    XML_ParserFree(p);
}
