/* USB discovery without hardware: the diff that turns two device lists into
 * plug and unplug reports (the monitor's logic in both its hotplug and its
 * polling mode), the classification against the class codes and the known
 * table, a serial device's tty found in a sysfs tree built here, and the
 * glove hand read from an OpenGloves info key, and a camera's libuvc
 * format descriptors (built here as libuvc builds them from the device)
 * turned into the formats, sizes and rates `teleop devices` lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <libuvc/libuvc.h>

#include "teleop/usb.h"
#include "usb_internal.h"

static tp_usb_device dev(uint8_t bus, uint8_t addr, uint16_t vid, uint16_t pid, const char *port)
{
    tp_usb_device d;
    memset(&d, 0, sizeof d);
    d.bus = bus;
    d.address = addr;
    d.vid = vid;
    d.pid = pid;
    snprintf(d.port_path, sizeof d.port_path, "usb:%s", port);
    return d;
}

typedef struct reports {
    int n;
    bool added[16];
    char port[16][40];
    uint8_t address[16];
} reports;

static void record(void *user, bool added, const tp_usb_device *d)
{
    reports *r = user;
    r->added[r->n] = added;
    r->address[r->n] = d->address;
    snprintf(r->port[r->n], sizeof r->port[0], "%s", d->port_path);
    r->n++;
}

static void test_diff(void **state)
{
    (void)state;
    tp_usb_device before[] = {dev(1, 2, 0x046d, 0x085c, "1-1"), dev(1, 3, 0x10c4, 0xea60, "1-2"),
                              dev(2, 4, 0x8086, 0x0b07, "2-1.4")};
    /* The CP210x unplugged, a camera plugged, the RealSense replugged on its
     * port (a new address: an unplug and a plug). */
    tp_usb_device after[] = {dev(1, 2, 0x046d, 0x085c, "1-1"), dev(2, 5, 0x8086, 0x0b07, "2-1.4"),
                             dev(1, 6, 0x0c45, 0x6366, "1-3")};
    reports r = {0};
    assert_int_equal(tp_usb_diff(before, 3, after, 3, record, &r), 4);
    assert_int_equal(r.n, 4);
    assert_false(r.added[0]);
    assert_string_equal(r.port[0], "usb:1-2");
    assert_false(r.added[1]);
    assert_string_equal(r.port[1], "usb:2-1.4");
    assert_int_equal(r.address[1], 4);
    assert_true(r.added[2]);
    assert_string_equal(r.port[2], "usb:2-1.4");
    assert_int_equal(r.address[2], 5);
    assert_true(r.added[3]);
    assert_string_equal(r.port[3], "usb:1-3");

    reports none = {0};
    assert_int_equal(tp_usb_diff(after, 3, after, 3, record, &none), 0);
    assert_int_equal(tp_usb_diff(NULL, 0, after, 1, record, &none), 1); /* from nothing: everything is new */
    assert_true(none.added[0]);
    assert_int_equal(tp_usb_diff(after, 2, NULL, 0, record, &none), 2);
    assert_false(none.added[1]);
    assert_false(none.added[2]);
}

static void test_classify(void **state)
{
    (void)state;
    tp_usb_device cam = dev(1, 2, 0x0c45, 0x6366, "1-1");
    cam.device_class = 0xEF; /* miscellaneous (IAD), the usual for webcams */
    cam.interface_classes[0] = 0x0E;
    cam.interface_classes[1] = 0x01; /* audio */
    cam.interface_class_count = 2;
    tp_usb_classify(&cam);
    assert_int_equal(cam.kind, TP_USB_UVC_CAMERA);
    assert_null(cam.known);

    tp_usb_device rs = dev(1, 3, 0x8086, 0x0b07, "1-2");
    rs.interface_classes[0] = 0x0E;
    rs.interface_class_count = 1;
    tp_usb_classify(&rs);
    assert_int_equal(rs.kind, TP_USB_UVC_CAMERA);
    assert_non_null(strstr(rs.known, "colour stream is UVC"));

    tp_usb_device acm = dev(1, 4, 0x1234, 0x5678, "1-3");
    acm.interface_classes[0] = 0x02;
    acm.interface_classes[1] = 0x0A;
    acm.interface_class_count = 2;
    tp_usb_classify(&acm);
    assert_int_equal(acm.kind, TP_USB_SERIAL);

    static const uint16_t bridges[][2] = {{0x10c4, 0xea60}, {0x1a86, 0x7523}, {0x0403, 0x6001}, {0x303a, 0x1001}};
    for (int i = 0; i < 4; i++) {
        tp_usb_device b = dev(1, 5, bridges[i][0], bridges[i][1], "1-4");
        b.interface_classes[0] = 0xFF; /* vendor-specific: known by its ids only */
        b.interface_class_count = 1;
        tp_usb_classify(&b);
        assert_int_equal(b.kind, TP_USB_SERIAL);
        bool bridge = false;
        assert_non_null(tp_usb_known_device(bridges[i][0], bridges[i][1], &bridge));
        assert_true(bridge);
    }
    tp_usb_device kbd = dev(1, 6, 0x1234, 0x0001, "1-5");
    kbd.interface_classes[0] = 0x03; /* HID */
    kbd.interface_class_count = 1;
    tp_usb_classify(&kbd);
    assert_int_equal(kbd.kind, TP_USB_OTHER);
    assert_string_equal(tp_usb_kind_name(TP_USB_UVC_CAMERA), "uvc_camera");
}

static void make_dir(const char *root, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    char *p = path + strlen(root) + 1;
    for (; (p = strchr(p, '/')); p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    assert_true(mkdir(path, 0755) == 0);
}

static void test_find_tty(void **state)
{
    (void)state;
    char root[] = "/tmp/teleop-usb-sysfs-XXXXXX";
    assert_non_null(mkdtemp(root));
    /* CDC-ACM: the tty under the data interface's tty/; a USB-serial
     * driver: ttyUSBn right in the interface. */
    make_dir(root, "bus/usb/devices/1-2:1.0");
    make_dir(root, "bus/usb/devices/1-2:1.1/tty/ttyACM3");
    make_dir(root, "bus/usb/devices/1-2.4:1.0/ttyUSB1");
    make_dir(root, "bus/usb/devices/1-2.4:1.0/driver");
    make_dir(root, "bus/usb/devices/1-3:1.0/driver");
    char tty[32];
    assert_int_equal(tp_usb_find_tty(root, "1-2", tty, sizeof tty), 0);
    assert_string_equal(tty, "/dev/ttyACM3");
    assert_int_equal(tp_usb_find_tty(root, "1-2.4", tty, sizeof tty), 0);
    assert_string_equal(tty, "/dev/ttyUSB1");
    assert_int_equal(tp_usb_find_tty(root, "1-3", tty, sizeof tty), -1);
    assert_int_equal(tp_usb_find_tty(root, "9-9", tty, sizeof tty), -1);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static void test_hand_of_line(void **state)
{
    (void)state;
    const char *l1 = "(ZV)1(ZG)0(ZH)1";
    assert_string_equal(tp_usb_glove_hand_of_line(l1, strlen(l1)), "right");
    const char *l2 = "(ZH)0";
    assert_string_equal(tp_usb_glove_hand_of_line(l2, strlen(l2)), "left");
    const char *l3 = "A100B200C300D400E500F512G512";
    assert_null(tp_usb_glove_hand_of_line(l3, strlen(l3)));
    assert_null(tp_usb_glove_hand_of_line("(ZH)", 4));   /* the key without its value */
    assert_null(tp_usb_glove_hand_of_line("(ZH)12", 6)); /* no such side */
    assert_null(tp_usb_glove_hand_of_line("(ZH)L", 5));  /* L after the key is the grab button */
}

static void test_uvc_formats(void **state)
{
    (void)state;
    /* YUYV 640x480 at 30, 15 and 5 fps (discrete intervals, listed slowest
     * first as some cameras do) and 1280x720 at 10; MJPEG 1920x1080 with a
     * continuous range 1/60 .. 1/30 s. */
    uint32_t vga_iv[] = {2000000, 333333, 666666, 0}, hd_iv[] = {1000000, 0};
    uvc_frame_desc_t vga = {.wWidth = 640, .wHeight = 480, .bFrameIntervalType = 3, .intervals = vga_iv};
    uvc_frame_desc_t hd = {.wWidth = 1280, .wHeight = 720, .bFrameIntervalType = 1, .intervals = hd_iv};
    vga.next = &hd;
    uvc_frame_desc_t fhd = {.wWidth = 1920, .wHeight = 1080, .dwMinFrameInterval = 166667,
                            .dwMaxFrameInterval = 333333, .dwFrameIntervalStep = 166666};
    uvc_format_desc_t mjpeg = {.bDescriptorSubtype = UVC_VS_FORMAT_MJPEG, .frame_descs = &fhd};
    uvc_format_desc_t yuyv = {.bDescriptorSubtype = UVC_VS_FORMAT_UNCOMPRESSED, .frame_descs = &vga, .next = &mjpeg};
    memcpy(yuyv.guidFormat, "YUY2\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71", 16);
    tp_usb_uvc_format out[8];
    assert_int_equal(tp_usb_uvc_list_formats(&yuyv, out, 8), 3);
    assert_string_equal(out[0].format, "yuyv");
    assert_int_equal(out[0].width, 640);
    assert_int_equal(out[0].height, 480);
    assert_int_equal(out[0].fps_count, 3);
    assert_float_equal(out[0].fps[0], 30.0, 0.001);
    assert_float_equal(out[0].fps[1], 15.0, 0.001);
    assert_float_equal(out[0].fps[2], 5.0, 0.001);
    assert_string_equal(out[1].format, "yuyv");
    assert_int_equal(out[1].width, 1280);
    assert_int_equal(out[1].fps_count, 1);
    assert_float_equal(out[1].fps[0], 10.0, 0.001);
    assert_string_equal(out[2].format, "mjpeg");
    assert_int_equal(out[2].width, 1920);
    assert_int_equal(out[2].height, 1080);
    assert_int_equal(out[2].fps_count, 2);
    assert_float_equal(out[2].fps[0], 60.0, 0.01);
    assert_float_equal(out[2].fps[1], 30.0, 0.001);
    assert_int_equal(tp_usb_uvc_list_formats(&yuyv, out, 2), 2); /* the array's size bounds it */
    assert_int_equal(tp_usb_uvc_list_formats(NULL, out, 8), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_find_tty),
        cmocka_unit_test(test_hand_of_line),
        cmocka_unit_test(test_uvc_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
