// Image decoding for perceptual hashing: libjpeg-turbo, libpng and libwebp, each
// behind one function that refuses oversized images and never aborts the process.

#include "exhibit_image.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>

static void set_error(char *error, size_t size, const char *format, ...) {
    if (error == NULL || size == 0) return;
    va_list args;
    va_start(args, format);
    vsnprintf(error, size, format, args);
    va_end(args);
}

exhibit_image_format exhibit_image_sniff(const uint8_t *data, size_t length) {
    if (length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return EXHIBIT_IMAGE_FORMAT_JPEG;
    static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (length >= 8 && memcmp(data, png_signature, 8) == 0) return EXHIBIT_IMAGE_FORMAT_PNG;
    if (length >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0) return EXHIBIT_IMAGE_FORMAT_WEBP;
    return EXHIBIT_IMAGE_FORMAT_NONE;
}

void exhibit_image_free(uint8_t *rgb) { free(rgb); }

static int too_large(uint64_t width, uint64_t height, uint64_t max_pixels) {
    return width == 0 || height == 0 || width > 0xFFFFFF || height > 0xFFFFFF || width * height > max_pixels;
}

// MARK: JPEG (libjpeg-turbo)

// libjpeg's default error_exit calls exit(); ours jumps back to the decode call.
typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} exhibit_jpeg_error;

static void exhibit_jpeg_error_exit(j_common_ptr cinfo) {
    exhibit_jpeg_error *error = (exhibit_jpeg_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, error->message);
    longjmp(error->jump, 1);
}

// Warnings (corrupt data the decoder works round) are not printed on stderr.
static void exhibit_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

// A progressive JPEG may hold thousands of tiny scans, each a pass over the whole
// image (a known CPU exhaustion); real encoders write about ten.
#define EXHIBIT_JPEG_MAX_SCANS 500

typedef struct {
    struct jpeg_progress_mgr base;
    j_decompress_ptr cinfo;
} exhibit_jpeg_progress;

static void exhibit_jpeg_progress_monitor(j_common_ptr common) {
    j_decompress_ptr cinfo = (j_decompress_ptr)common;
    if (cinfo->is_decompressor && cinfo->input_scan_number > EXHIBIT_JPEG_MAX_SCANS) {
        exhibit_jpeg_error *error = (exhibit_jpeg_error *)cinfo->err;
        snprintf(error->message, sizeof error->message, "more than %d progressive scans", EXHIBIT_JPEG_MAX_SCANS);
        longjmp(error->jump, 1);
    }
}

static exhibit_image_status decode_jpeg(const uint8_t *data, size_t length, uint64_t max_pixels,
                                        uint8_t **out_rgb, uint32_t *out_width, uint32_t *out_height,
                                        char *error_text, size_t error_size) {
    struct jpeg_decompress_struct cinfo;
    exhibit_jpeg_error error;
    exhibit_jpeg_progress progress;
    uint8_t *volatile rgb = NULL;
    uint8_t *volatile row = NULL;
    volatile exhibit_image_status status = EXHIBIT_IMAGE_CORRUPT;

    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&error.base);
    error.base.error_exit = exhibit_jpeg_error_exit;
    error.base.output_message = exhibit_jpeg_output_message;
    error.message[0] = 0;
    if (setjmp(error.jump)) {
        set_error(error_text, error_size, "JPEG: %s", error.message);
        jpeg_destroy_decompress(&cinfo);
        free(rgb);
        free(row);
        return status;
    }
    jpeg_create_decompress(&cinfo);
    progress.base.progress_monitor = exhibit_jpeg_progress_monitor;
    progress.cinfo = &cinfo;
    cinfo.progress = &progress.base;
    jpeg_mem_src(&cinfo, data, (unsigned long)length);
    jpeg_read_header(&cinfo, TRUE);
    if (too_large(cinfo.image_width, cinfo.image_height, max_pixels)) {
        set_error(error_text, error_size, "JPEG of %u × %u pixels is over the limit of %llu pixels",
                  cinfo.image_width, cinfo.image_height, (unsigned long long)max_pixels);
        jpeg_destroy_decompress(&cinfo);
        return EXHIBIT_IMAGE_TOO_LARGE;
    }
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    size_t width = cinfo.output_width, height = cinfo.output_height;
    if (too_large(width, height, max_pixels)) {
        set_error(error_text, error_size, "JPEG output of %zu × %zu pixels is over the limit", width, height);
        jpeg_destroy_decompress(&cinfo);
        return EXHIBIT_IMAGE_TOO_LARGE;
    }
    rgb = malloc(width * height * 3);
    if (cmyk) row = malloc(width * 4);
    if (rgb == NULL || (cmyk && row == NULL)) {
        status = EXHIBIT_IMAGE_NO_MEMORY;
        snprintf(error.message, sizeof error.message, "no memory for %zu × %zu pixels", width, height);
        longjmp(error.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        size_t y = cinfo.output_scanline;
        if (cmyk) {
            JSAMPROW rows[1] = {row};
            jpeg_read_scanlines(&cinfo, rows, 1);
            // Adobe writes CMYK JPEGs inverted (the convention every reader follows).
            for (size_t x = 0; x < width; x++) {
                unsigned c = row[4 * x], m = row[4 * x + 1], yy = row[4 * x + 2], k = row[4 * x + 3];
                rgb[(y * width + x) * 3] = (uint8_t)(c * k / 255);
                rgb[(y * width + x) * 3 + 1] = (uint8_t)(m * k / 255);
                rgb[(y * width + x) * 3 + 2] = (uint8_t)(yy * k / 255);
            }
        } else {
            JSAMPROW rows[1] = {rgb + y * width * 3};
            jpeg_read_scanlines(&cinfo, rows, 1);
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    *out_rgb = rgb;
    *out_width = (uint32_t)width;
    *out_height = (uint32_t)height;
    return EXHIBIT_IMAGE_OK;
}

// MARK: PNG (libpng, the classic API: no gamma or colour handling behind our back)

typedef struct {
    const uint8_t *data;
    size_t length;
    size_t offset;
} exhibit_png_source;

typedef struct {
    char message[256];
} exhibit_png_error;

static void exhibit_png_read(png_structp png, png_bytep out, png_size_t count) {
    exhibit_png_source *source = (exhibit_png_source *)png_get_io_ptr(png);
    if (count > source->length - source->offset) png_error(png, "truncated stream");
    memcpy(out, source->data + source->offset, count);
    source->offset += count;
}

static void exhibit_png_error_fn(png_structp png, png_const_charp message) {
    exhibit_png_error *error = (exhibit_png_error *)png_get_error_ptr(png);
    snprintf(error->message, sizeof error->message, "%s", message);
    png_longjmp(png, 1);
}

static void exhibit_png_warning_fn(png_structp png, png_const_charp message) { (void)png; (void)message; }

static exhibit_image_status decode_png(const uint8_t *data, size_t length, uint64_t max_pixels,
                                       uint8_t **out_rgb, uint32_t *out_width, uint32_t *out_height,
                                       char *error_text, size_t error_size) {
    exhibit_png_error error = {{0}};
    exhibit_png_source source = {data, length, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &error, exhibit_png_error_fn, exhibit_png_warning_fn);
    if (png == NULL) return EXHIBIT_IMAGE_NO_MEMORY;
    png_infop info = png_create_info_struct(png);
    uint8_t *volatile rgb = NULL;
    png_bytep *volatile rows = NULL;
    volatile exhibit_image_status status = EXHIBIT_IMAGE_CORRUPT;
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        return EXHIBIT_IMAGE_NO_MEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        set_error(error_text, error_size, "PNG: %s", error.message);
        png_destroy_read_struct(&png, &info, NULL);
        free(rgb);
        free(rows);
        return status;
    }
    png_set_read_fn(png, &source, exhibit_png_read);
    // Ancillary chunks (text, ICC profiles) are capped, so a compressed chunk cannot balloon.
    png_set_chunk_malloc_max(png, 16 << 20);
    png_read_info(png, info);
    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    if (too_large(width, height, max_pixels)) {
        set_error(error_text, error_size, "PNG of %u × %u pixels is over the limit of %llu pixels",
                  width, height, (unsigned long long)max_pixels);
        png_destroy_read_struct(&png, &info, NULL);
        return EXHIBIT_IMAGE_TOO_LARGE;
    }
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)width * 3) {
        snprintf(error.message, sizeof error.message, "unexpected row layout");
        png_longjmp(png, 1);
    }
    rgb = malloc((size_t)width * height * 3);
    rows = malloc(sizeof(png_bytep) * height);
    if (rgb == NULL || rows == NULL) {
        status = EXHIBIT_IMAGE_NO_MEMORY;
        snprintf(error.message, sizeof error.message, "no memory for %u × %u pixels", width, height);
        png_longjmp(png, 1);
    }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = rgb + (size_t)y * width * 3;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    *out_rgb = rgb;
    *out_width = width;
    *out_height = height;
    return EXHIBIT_IMAGE_OK;
}

// MARK: WebP (libwebp)

static exhibit_image_status decode_webp(const uint8_t *data, size_t length, uint64_t max_pixels,
                                        uint8_t **out_rgb, uint32_t *out_width, uint32_t *out_height,
                                        char *error_text, size_t error_size) {
    int width = 0, height = 0;
    if (!WebPGetInfo(data, length, &width, &height)) {
        set_error(error_text, error_size, "WebP: not a decodable WebP stream");
        return EXHIBIT_IMAGE_CORRUPT;
    }
    if (width <= 0 || height <= 0 || too_large((uint64_t)width, (uint64_t)height, max_pixels)) {
        set_error(error_text, error_size, "WebP of %d × %d pixels is over the limit of %llu pixels",
                  width, height, (unsigned long long)max_pixels);
        return EXHIBIT_IMAGE_TOO_LARGE;
    }
    uint8_t *decoded = WebPDecodeRGB(data, length, &width, &height);
    if (decoded == NULL) {
        set_error(error_text, error_size, "WebP: the stream is corrupt, truncated or animated");
        return EXHIBIT_IMAGE_CORRUPT;
    }
    // Copy into malloc'd memory so every format is freed the same way.
    size_t bytes = (size_t)width * (size_t)height * 3;
    uint8_t *rgb = malloc(bytes);
    if (rgb == NULL) {
        WebPFree(decoded);
        set_error(error_text, error_size, "WebP: no memory for %d × %d pixels", width, height);
        return EXHIBIT_IMAGE_NO_MEMORY;
    }
    memcpy(rgb, decoded, bytes);
    WebPFree(decoded);
    *out_rgb = rgb;
    *out_width = (uint32_t)width;
    *out_height = (uint32_t)height;
    return EXHIBIT_IMAGE_OK;
}

exhibit_image_status exhibit_image_decode(const uint8_t *data, size_t length, uint64_t max_pixels,
                                          uint8_t **out_rgb, uint32_t *out_width, uint32_t *out_height,
                                          exhibit_image_format *out_format,
                                          char *error, size_t error_size) {
    *out_rgb = NULL;
    *out_width = 0;
    *out_height = 0;
    exhibit_image_format format = exhibit_image_sniff(data, length);
    if (out_format) *out_format = format;
    if (error && error_size) error[0] = 0;
    switch (format) {
    case EXHIBIT_IMAGE_FORMAT_JPEG:
        return decode_jpeg(data, length, max_pixels, out_rgb, out_width, out_height, error, error_size);
    case EXHIBIT_IMAGE_FORMAT_PNG:
        return decode_png(data, length, max_pixels, out_rgb, out_width, out_height, error, error_size);
    case EXHIBIT_IMAGE_FORMAT_WEBP:
        return decode_webp(data, length, max_pixels, out_rgb, out_width, out_height, error, error_size);
    default:
        set_error(error, error_size, "not a JPEG, PNG or WebP image");
        return EXHIBIT_IMAGE_UNKNOWN_FORMAT;
    }
}
