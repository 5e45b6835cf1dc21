/* An empty ICU data library: Qt's libicuuc links libicudata (31 MB of collation,
 * locale and conversion tables) that SmartCopy never reads (no QCollator, no QLocale
 * formatting, no legacy codecs; text shaping and case mapping are Qt's own). ICU
 * finds no items here and answers U_MISSING_RESOURCE_ERROR for any it is asked for.
 * The layout is ICU's common data header, as in its own stubdata/stubdata.cpp. */
#include <stdint.h>

#ifndef ICU_MAJOR
#error "build with -DICU_MAJOR=<the bundled ICU's major version>"
#endif
#define CAT2(a, b, c) a##b##c
#define ENTRY(major) CAT2(icudt, major, _dat)

struct icu_data_header {
    uint16_t header_size;
    uint8_t magic1, magic2;
    struct {
        uint16_t size, reserved;
        uint8_t is_big_endian, charset_family, sizeof_uchar, reserved_byte;
        uint8_t data_format[4], format_version[4], data_version[4];
    } info;
    char padding[8];
    uint32_t count, reserved;
    int fake_name_and_data[4];
};

__attribute__((visibility("default")))
const struct icu_data_header ENTRY(ICU_MAJOR) = {
    32, 0xda, 0x27,
    {20, 0, 0, 0 /* ASCII family */, 2, 0, {0x54, 0x6f, 0x43, 0x50} /* "ToCP" */,
     {1, 0, 0, 0}, {0, 0, 0, 0}},
    {0}, 0, 0, {0, 0, 0, 0},
};
