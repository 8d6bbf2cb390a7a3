/* The replay runtime's graphics path through the real loader and the core
 * validation layer, under Xvfb: a hidden GLFW window's GLX context binds a
 * session, known colours are rendered into swapchain images, quad and
 * projection layers are submitted, and the dump's PNGs and index must hold
 * exactly those pixels and placements. Swapchain call-order errors too. */
#define GLFW_INCLUDE_GLEXT
#define GLFW_EXPOSE_NATIVE_X11
#define GLFW_EXPOSE_NATIVE_GLX
#include <GLFW/glfw3.h>
#include <GLFW/glfw3native.h>

#define XR_USE_PLATFORM_XLIB
#define XR_USE_GRAPHICS_API_OPENGL
#include <openxr/openxr.h>
#include <openxr/openxr_platform.h>

#include <png.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(cond, ...)                                                                                           \
    do {                                                                                                           \
        if (!(cond)) {                                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);                               \
            fprintf(stderr, __VA_ARGS__);                                                                          \
            fprintf(stderr, "\n");                                                                                 \
            exit(1);                                                                                               \
        }                                                                                                          \
    } while (0)
#define EXPECT(want, call)                                                                                         \
    do {                                                                                                           \
        XrResult r_ = (call);                                                                                      \
        CHECK(r_ == (want), "%s returned %d, expected %d", #call, (int)r_, (int)(want));                           \
    } while (0)
#define OK(call) EXPECT(XR_SUCCESS, call)

#define W 64
#define H 32
/* GL_FRAMEBUFFER_SRGB is off: the bytes written to an sRGB texture are the
 * clear colour's bytes, so sRGB images compare within 1 (float rounding). */
#define SRGB_TOLERANCE 1

static PFNGLGENFRAMEBUFFERSPROC p_glGenFramebuffers;
static PFNGLBINDFRAMEBUFFERPROC p_glBindFramebuffer;
static PFNGLFRAMEBUFFERTEXTURE2DPROC p_glFramebufferTexture2D;
static PFNGLDELETEFRAMEBUFFERSPROC p_glDeleteFramebuffers;

typedef struct image {
    uint32_t w, h;
    uint8_t *rgba;
} image;

static image read_png(const char *path)
{
    png_image pi = {.version = PNG_IMAGE_VERSION};
    CHECK(png_image_begin_read_from_file(&pi, path), "%s: %s", path, pi.message);
    pi.format = PNG_FORMAT_RGBA;
    image im = {pi.width, pi.height, malloc(PNG_IMAGE_SIZE(pi))};
    CHECK(png_image_finish_read(&pi, NULL, im.rgba, 0, NULL), "%s: %s", path, pi.message);
    return im;
}

/* Fills the swapchain image: solid colour, or (checker) 8-pixel squares of
 * colour and black. */
static void render(GLuint tex, const uint8_t c[4], bool checker)
{
    GLuint fbo;
    p_glGenFramebuffers(1, &fbo);
    p_glBindFramebuffer(GL_FRAMEBUFFER, fbo);
    p_glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, tex, 0);
    glViewport(0, 0, W, H);
    glClearColor(0, 0, 0, 1);
    glClear(GL_COLOR_BUFFER_BIT);
    glEnable(GL_SCISSOR_TEST);
    glClearColor(c[0] / 255.0f, c[1] / 255.0f, c[2] / 255.0f, c[3] / 255.0f);
    for (int y = 0; y < H; y += 8)
        for (int x = 0; x < W; x += 8)
            if (!checker || ((x / 8 + y / 8) & 1) == 0) {
                glScissor(x, y, 8, 8);
                glClear(GL_COLOR_BUFFER_BIT);
            }
    glDisable(GL_SCISSOR_TEST);
    glFinish();
    p_glBindFramebuffer(GL_FRAMEBUFFER, 0);
    p_glDeleteFramebuffers(1, &fbo);
}

/* The expected pixel at PNG (top-down) row y. */
static void expected(const uint8_t c[4], bool checker, uint32_t x, uint32_t y, uint8_t out[4])
{
    uint32_t gl_y = H - 1 - y;
    bool on = !checker || ((x / 8 + gl_y / 8) & 1) == 0;
    for (int i = 0; i < 4; i++)
        out[i] = on ? c[i] : (i == 3 ? 255 : 0);
}

static void check_png(const char *path, const uint8_t c[4], bool checker, int tol)
{
    image im = read_png(path);
    CHECK(im.w == W && im.h == H, "%s is %ux%u", path, im.w, im.h);
    for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++) {
            uint8_t e[4];
            expected(c, checker, x, y, e);
            for (int i = 0; i < 4; i++) {
                int d = im.rgba[(y * W + x) * 4 + i] - e[i];
                CHECK(d <= tol && d >= -tol, "%s (%u,%u)[%d] = %d, want %d", path, x, y, i,
                      im.rgba[(y * W + x) * 4 + i], e[i]);
            }
        }
    free(im.rgba);
}

typedef struct chain {
    XrSwapchain sc;
    GLuint tex[8];
} chain;

static chain make_chain(XrSession s, int64_t format)
{
    XrSwapchainCreateInfo ci = {XR_TYPE_SWAPCHAIN_CREATE_INFO};
    ci.usageFlags = XR_SWAPCHAIN_USAGE_COLOR_ATTACHMENT_BIT;
    ci.format = format;
    ci.sampleCount = ci.faceCount = ci.arraySize = ci.mipCount = 1;
    ci.width = W;
    ci.height = H;
    chain c = {0};
    OK(xrCreateSwapchain(s, &ci, &c.sc));
    uint32_t n = 0;
    OK(xrEnumerateSwapchainImages(c.sc, 0, &n, NULL));
    CHECK(n >= 1 && n <= 8, "%u images", n);
    XrSwapchainImageOpenGLKHR imgs[8];
    for (uint32_t i = 0; i < n; i++)
        imgs[i] = (XrSwapchainImageOpenGLKHR){XR_TYPE_SWAPCHAIN_IMAGE_OPENGL_KHR};
    OK(xrEnumerateSwapchainImages(c.sc, n, &n, (XrSwapchainImageBaseHeader *)imgs));
    for (uint32_t i = 0; i < n; i++)
        c.tex[i] = imgs[i].image;
    return c;
}

static void fill(chain *c, const uint8_t col[4], bool checker)
{
    uint32_t i;
    OK(xrAcquireSwapchainImage(c->sc, NULL, &i));
    XrSwapchainImageWaitInfo wi = {XR_TYPE_SWAPCHAIN_IMAGE_WAIT_INFO, NULL, XR_INFINITE_DURATION};
    OK(xrWaitSwapchainImage(c->sc, &wi));
    render(c->tex[i], col, checker);
    OK(xrReleaseSwapchainImage(c->sc, NULL));
}

int main(int argc, char **argv)
{
    CHECK(argc == 2, "usage: test_xr_gfx MANIFEST");
    setenv("XR_RUNTIME_JSON", argv[1], 1);
    char dir[] = "/tmp/test_xr_gfx.XXXXXX";
    CHECK(mkdtemp(dir), "mkdtemp");
    char dump[512], vlog[512];
    snprintf(dump, sizeof dump, "%s/dump", dir);
    snprintf(vlog, sizeof vlog, "%s/validation.txt", dir);
    setenv("TELEOP_XR_REPLAY_DUMP", dump, 1);
    char hlog[512];
    snprintf(hlog, sizeof hlog, "%s/haptics.txt", dir);
    setenv("TELEOP_XR_REPLAY_HAPTICS", hlog, 1);
    setenv("XR_CORE_VALIDATION_EXPORT_TYPE", "text", 1);
    setenv("XR_CORE_VALIDATION_FILE_NAME", vlog, 1);

    CHECK(glfwInit(), "glfwInit (no DISPLAY? run under tests/support/with_xvfb.sh)");
    glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
    GLFWwindow *win = glfwCreateWindow(64, 64, "test_xr_gfx", NULL, NULL);
    CHECK(win, "glfwCreateWindow");
    glfwMakeContextCurrent(win);
    p_glGenFramebuffers = (PFNGLGENFRAMEBUFFERSPROC)glfwGetProcAddress("glGenFramebuffers");
    p_glBindFramebuffer = (PFNGLBINDFRAMEBUFFERPROC)glfwGetProcAddress("glBindFramebuffer");
    p_glFramebufferTexture2D = (PFNGLFRAMEBUFFERTEXTURE2DPROC)glfwGetProcAddress("glFramebufferTexture2D");
    p_glDeleteFramebuffers = (PFNGLDELETEFRAMEBUFFERSPROC)glfwGetProcAddress("glDeleteFramebuffers");

    static const char *const ext[] = {"XR_KHR_opengl_enable"};
    static const char *const api_layers[] = {"XR_APILAYER_LUNARG_core_validation"};
    XrInstanceCreateInfo ici = {XR_TYPE_INSTANCE_CREATE_INFO};
    snprintf(ici.applicationInfo.applicationName, sizeof ici.applicationInfo.applicationName, "test_xr_gfx");
    ici.applicationInfo.apiVersion = XR_MAKE_VERSION(1, 0, 0);
    ici.enabledExtensionCount = 1;
    ici.enabledExtensionNames = ext;
    ici.enabledApiLayerCount = 1;
    ici.enabledApiLayerNames = api_layers;
    XrInstance inst;
    OK(xrCreateInstance(&ici, &inst));
    XrSystemGetInfo gi = {XR_TYPE_SYSTEM_GET_INFO, NULL, XR_FORM_FACTOR_HEAD_MOUNTED_DISPLAY};
    XrSystemId sys;
    OK(xrGetSystem(inst, &gi, &sys));
    PFN_xrGetOpenGLGraphicsRequirementsKHR get_req;
    OK(xrGetInstanceProcAddr(inst, "xrGetOpenGLGraphicsRequirementsKHR", (PFN_xrVoidFunction *)&get_req));
    XrGraphicsRequirementsOpenGLKHR req = {XR_TYPE_GRAPHICS_REQUIREMENTS_OPENGL_KHR};
    OK(get_req(inst, sys, &req));

    XrGraphicsBindingOpenGLXlibKHR bind = {XR_TYPE_GRAPHICS_BINDING_OPENGL_XLIB_KHR};
    bind.xDisplay = glfwGetX11Display();
    bind.glxContext = glfwGetGLXContext(win);
    bind.glxDrawable = glfwGetGLXWindow(win);
    XrSessionCreateInfo sci = {XR_TYPE_SESSION_CREATE_INFO, &bind, 0, sys};
    XrSession s;
    OK(xrCreateSession(inst, &sci, &s));

    /* A vibration action on both hands, for the haptics log. */
    XrActionSetCreateInfo asci = {XR_TYPE_ACTION_SET_CREATE_INFO, NULL, "gfx", "gfx", 0};
    XrActionSet set;
    OK(xrCreateActionSet(inst, &asci, &set));
    XrPath hands[2], haptic_path[2], simple;
    OK(xrStringToPath(inst, "/user/hand/left", &hands[0]));
    OK(xrStringToPath(inst, "/user/hand/right", &hands[1]));
    OK(xrStringToPath(inst, "/user/hand/left/output/haptic", &haptic_path[0]));
    OK(xrStringToPath(inst, "/user/hand/right/output/haptic", &haptic_path[1]));
    OK(xrStringToPath(inst, "/interaction_profiles/khr/simple_controller", &simple));
    XrActionCreateInfo aci = {XR_TYPE_ACTION_CREATE_INFO, NULL, "buzz", XR_ACTION_TYPE_VIBRATION_OUTPUT, 2, hands,
                              "buzz"};
    XrAction buzz;
    OK(xrCreateAction(set, &aci, &buzz));
    XrActionSuggestedBinding sb[2] = {{buzz, haptic_path[0]}, {buzz, haptic_path[1]}};
    XrInteractionProfileSuggestedBinding isb = {XR_TYPE_INTERACTION_PROFILE_SUGGESTED_BINDING, NULL, simple, 2, sb};
    OK(xrSuggestInteractionProfileBindings(inst, &isb));
    XrSessionActionSetsAttachInfo ai = {XR_TYPE_SESSION_ACTION_SETS_ATTACH_INFO, NULL, 1, &set};
    OK(xrAttachSessionActionSets(s, &ai));
    XrSessionBeginInfo bi = {XR_TYPE_SESSION_BEGIN_INFO, NULL, XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO};
    for (int i = 0; i < 100; i++) { /* drain IDLE, READY */
        XrEventDataBuffer e = {XR_TYPE_EVENT_DATA_BUFFER};
        if (xrPollEvent(inst, &e) != XR_SUCCESS)
            break;
    }
    OK(xrBeginSession(s, &bi));

    uint32_t nf = 0;
    int64_t formats[4];
    OK(xrEnumerateSwapchainFormats(s, 0, &nf, NULL));
    CHECK(nf == 2, "%u formats", nf);
    OK(xrEnumerateSwapchainFormats(s, 2, &nf, formats));
    CHECK(formats[0] == GL_SRGB8_ALPHA8 && formats[1] == GL_RGBA8, "formats");

    chain a = make_chain(s, GL_RGBA8), b = make_chain(s, GL_RGBA8), srgb = make_chain(s, GL_SRGB8_ALPHA8);
    /* Call order: wait or release before acquire. */
    XrSwapchainImageWaitInfo wi = {XR_TYPE_SWAPCHAIN_IMAGE_WAIT_INFO, NULL, XR_INFINITE_DURATION};
    EXPECT(XR_ERROR_CALL_ORDER_INVALID, xrWaitSwapchainImage(a.sc, &wi));
    EXPECT(XR_ERROR_CALL_ORDER_INVALID, xrReleaseSwapchainImage(a.sc, NULL));

    static const uint8_t red[4] = {255, 0, 0, 255}, green[4] = {0, 255, 0, 255}, blue[4] = {0, 64, 255, 255};
    fill(&a, red, false);
    fill(&b, green, true);
    fill(&srgb, blue, false);

    XrReferenceSpaceCreateInfo rci = {XR_TYPE_REFERENCE_SPACE_CREATE_INFO, NULL, XR_REFERENCE_SPACE_TYPE_VIEW,
                                      {{0, 0, 0, 1}, {0, 0, 0}}};
    XrSpace view, local;
    OK(xrCreateReferenceSpace(s, &rci, &view));
    rci.referenceSpaceType = XR_REFERENCE_SPACE_TYPE_LOCAL;
    OK(xrCreateReferenceSpace(s, &rci, &local));

    XrFrameState fs = {XR_TYPE_FRAME_STATE};
    OK(xrWaitFrame(s, NULL, &fs));
    for (int i = 0; i < 100; i++) { /* SYNCHRONIZED, VISIBLE, FOCUSED */
        XrEventDataBuffer e = {XR_TYPE_EVENT_DATA_BUFFER};
        if (xrPollEvent(inst, &e) != XR_SUCCESS)
            break;
    }
    XrHapticActionInfo hai = {XR_TYPE_HAPTIC_ACTION_INFO, NULL, buzz, hands[1]};
    XrHapticVibration vib = {XR_TYPE_HAPTIC_VIBRATION, NULL, 250000000, 160.0f, 0.75f};
    OK(xrApplyHapticFeedback(s, &hai, (const XrHapticBaseHeader *)&vib));
    hai.subactionPath = hands[0];
    OK(xrStopHapticFeedback(s, &hai));
    CHECK(fs.shouldRender, "shouldRender");
    OK(xrBeginFrame(s, NULL));
    XrCompositionLayerQuad q1 = {XR_TYPE_COMPOSITION_LAYER_QUAD};
    q1.space = view;
    q1.eyeVisibility = XR_EYE_VISIBILITY_LEFT;
    q1.subImage = (XrSwapchainSubImage){a.sc, {{0, 0}, {W, H}}, 0};
    q1.pose = (XrPosef){{0, 0, 0, 1}, {0, 0, -1}};
    q1.size = (XrExtent2Df){0.5f, 0.25f};
    XrCompositionLayerQuad q2 = q1;
    q2.space = local;
    q2.eyeVisibility = XR_EYE_VISIBILITY_BOTH;
    q2.subImage.swapchain = b.sc;
    q2.pose.position = (XrVector3f){0.25f, 1.5f, -2};
    XrCompositionLayerProjectionView pv[2] = {{XR_TYPE_COMPOSITION_LAYER_PROJECTION_VIEW},
                                              {XR_TYPE_COMPOSITION_LAYER_PROJECTION_VIEW}};
    for (int i = 0; i < 2; i++) {
        pv[i].pose = (XrPosef){{0, 0, 0, 1}, {0, 0, 0}};
        pv[i].fov = (XrFovf){-0.7f, 0.7f, 0.7f, -0.7f};
        pv[i].subImage = (XrSwapchainSubImage){srgb.sc, {{0, 0}, {W, H}}, 0};
    }
    XrCompositionLayerProjection proj = {XR_TYPE_COMPOSITION_LAYER_PROJECTION};
    proj.space = local;
    proj.viewCount = 2;
    proj.views = pv;
    /* A rect outside the image first: rejected, the frame stays begun. */
    XrCompositionLayerQuad bad = q1;
    bad.subImage.imageRect.extent.width = W + 1;
    const XrCompositionLayerBaseHeader *bad_layers[] = {(const void *)&bad};
    XrFrameEndInfo fe = {XR_TYPE_FRAME_END_INFO, NULL, fs.predictedDisplayTime, XR_ENVIRONMENT_BLEND_MODE_OPAQUE, 1,
                         bad_layers};
    EXPECT(XR_ERROR_SWAPCHAIN_RECT_INVALID, xrEndFrame(s, &fe));
    const XrCompositionLayerBaseHeader *layers[] = {(const void *)&proj, (const void *)&q2, (const void *)&q1};
    fe.layerCount = 3;
    fe.layers = layers;
    OK(xrEndFrame(s, &fe));

    char path[700];
    snprintf(path, sizeof path, "%s/f000000_l0_proj_left.png", dump);
    check_png(path, blue, false, SRGB_TOLERANCE);
    snprintf(path, sizeof path, "%s/f000000_l0_proj_right.png", dump);
    check_png(path, blue, false, SRGB_TOLERANCE);
    snprintf(path, sizeof path, "%s/f000000_l1_quad.png", dump);
    check_png(path, green, true, 0);
    snprintf(path, sizeof path, "%s/f000000_l2_quad.png", dump);
    check_png(path, red, false, 0);

    snprintf(path, sizeof path, "%s/index.txt", dump);
    FILE *f = fopen(path, "r");
    CHECK(f, "%s", path);
    char line[4][512];
    for (int i = 0; i < 4; i++)
        CHECK(fgets(line[i], sizeof line[i], f), "index line %d", i);
    fclose(f);
    char want[512];
    snprintf(want, sizeof want,
             "0 %lld quad local 0.250000 1.500000 -2.000000 0.000000 0.000000 0.000000 1.000000 0.500000 0.250000 "
             "both f000000_l1_quad.png\n",
             (long long)fs.predictedDisplayTime);
    CHECK(strcmp(line[2], want) == 0, "index line 3: %s want %s", line[2], want);
    snprintf(want, sizeof want,
             "0 %lld quad view 0.000000 0.000000 -1.000000 0.000000 0.000000 0.000000 1.000000 0.500000 0.250000 "
             "left f000000_l2_quad.png\n",
             (long long)fs.predictedDisplayTime);
    CHECK(strcmp(line[3], want) == 0, "index line 4: %s want %s", line[3], want);
    CHECK(strstr(line[0], " projection local ") && strstr(line[0], " left f000000_l0_proj_left.png"), "%s", line[0]);

    f = fopen(hlog, "r");
    CHECK(f, "%s", hlog);
    char h1[256], h2[256], h3[256];
    long long ht1, ht2, dur;
    double freq, amp;
    CHECK(fgets(h1, sizeof h1, f) && fgets(h2, sizeof h2, f) && !fgets(h3, sizeof h3, f), "haptics: 2 lines");
    fclose(f);
    CHECK(sscanf(h1, "apply %lld buzz /user/hand/right %lld %lf %lf", &ht1, &dur, &freq, &amp) == 4 &&
              dur == 250000000 && freq == 160.0 && amp == 0.75,
          "haptics line 1: %s", h1);
    CHECK(sscanf(h2, "stop %lld buzz /user/hand/left", &ht2) == 1 && ht2 >= ht1, "haptics line 2: %s", h2);

    OK(xrDestroySwapchain(a.sc));
    OK(xrDestroySwapchain(b.sc));
    OK(xrDestroySwapchain(srgb.sc));
    OK(xrDestroySession(s));
    OK(xrDestroyInstance(inst));
    glfwDestroyWindow(win);
    glfwTerminate();

    f = fopen(vlog, "r");
    if (f) {
        char buf[4096];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        fclose(f);
        CHECK(!strstr(buf, "VUID") && !strstr(buf, "Error"), "core validation reported:\n%s", buf);
    }
    fprintf(stderr, "graphics: ok\n");
    return 0;
}
