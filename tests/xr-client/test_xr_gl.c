/* The graphics session's OpenGL side (devices/xr/xr_gl.c) under a private
 * Xvfb: the hidden GLFW window gives a current OpenGL >= 3.3 GLX context and
 * an Xlib binding that describes exactly that context; without a display,
 * one line saying a display is needed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XR_USE_PLATFORM_XLIB
#define XR_USE_GRAPHICS_API_OPENGL
#include <GL/gl.h>
#include <GL/glx.h>
#include <X11/Xlib.h>
#include <openxr/openxr.h>
#include <openxr/openxr_platform.h>

#include "xr_gl.h"

static void test_binding_describes_current_context(void **state)
{
    (void)state;
    char err[256] = "";
    tp_xr_gl *gl = tp_xr_gl_create(0, 0, err, sizeof err);
    if (!gl)
        fail_msg("tp_xr_gl_create: %s", err);
    const XrGraphicsBindingOpenGLXlibKHR *b = tp_xr_gl_binding(gl);
    assert_int_equal(b->type, XR_TYPE_GRAPHICS_BINDING_OPENGL_XLIB_KHR);
    assert_null(b->next);
    assert_non_null(b->xDisplay);
    assert_ptr_equal(b->glxContext, glXGetCurrentContext());
    assert_int_equal(b->glxDrawable, glXGetCurrentDrawable());
    assert_non_null(b->glxFBConfig);
    int fb_id = 0, ctx_fb_id = -1, visual = 0;
    assert_int_equal(glXGetFBConfigAttrib(b->xDisplay, b->glxFBConfig, GLX_FBCONFIG_ID, &fb_id), Success);
    glXQueryContext(b->xDisplay, b->glxContext, GLX_FBCONFIG_ID, &ctx_fb_id);
    assert_int_equal(fb_id, ctx_fb_id);
    assert_int_equal(glXGetFBConfigAttrib(b->xDisplay, b->glxFBConfig, GLX_VISUAL_ID, &visual), Success);
    assert_int_equal(b->visualid, (uint32_t)visual);
    assert_int_not_equal(b->visualid, 0);
    const char *version = (const char *)glGetString(GL_VERSION);
    assert_non_null(version);
    int major = 0, minor = 0;
    assert_int_equal(sscanf(version, "%d.%d", &major, &minor), 2);
    assert_true(major > 3 || (major == 3 && minor >= 3));

    tp_xr_gl_make_current(NULL);
    assert_null(glXGetCurrentContext());
    tp_xr_gl_make_current(gl);
    assert_ptr_equal(glXGetCurrentContext(), b->glxContext);
    tp_xr_gl_destroy(gl);
    assert_null(glXGetCurrentContext());
}

static void test_no_display(void **state)
{
    (void)state;
    char *display = strdup(getenv("DISPLAY"));
    unsetenv("DISPLAY");
    char err[256] = "";
    tp_xr_gl *gl = tp_xr_gl_create(0, 0, err, sizeof err);
    setenv("DISPLAY", display, 1);
    free(display);
    assert_null(gl);
    assert_non_null(strstr(err, "'[xr] view = headset' needs an X display"));
    assert_null(strchr(err, '\n'));
}

int main(void)
{
    if (!getenv("DISPLAY") || !*getenv("DISPLAY")) {
        fprintf(stderr, "test_xr_gl: needs DISPLAY (run under tests/support/with_xvfb.sh)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        /* First: once GLFW is initialised in the process it keeps its
         * display connection, and DISPLAY is not read again. */
        cmocka_unit_test(test_no_display),
        cmocka_unit_test(test_binding_describes_current_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
