#ifndef EXHIBIT_IMAGE_H
#define EXHIBIT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/// Result codes of exhibit_image_decode.
typedef enum {
    EXHIBIT_IMAGE_OK = 0,
    /// Not a JPEG, PNG or WebP stream (by its first bytes).
    EXHIBIT_IMAGE_UNKNOWN_FORMAT = 1,
    /// The decoder refused the stream (truncated, corrupt, unsupported).
    EXHIBIT_IMAGE_CORRUPT = 2,
    /// Width × height is over the caller's limit (decompression bomb guard),
    /// or a dimension is zero.
    EXHIBIT_IMAGE_TOO_LARGE = 3,
    /// Memory for the pixels could not be allocated.
    EXHIBIT_IMAGE_NO_MEMORY = 4,
} exhibit_image_status;

/// Which decoder read the stream.
typedef enum {
    EXHIBIT_IMAGE_FORMAT_NONE = 0,
    EXHIBIT_IMAGE_FORMAT_JPEG = 1,
    EXHIBIT_IMAGE_FORMAT_PNG = 2,
    EXHIBIT_IMAGE_FORMAT_WEBP = 3,
} exhibit_image_format;

/// Decodes a whole JPEG, PNG or WebP stream held in memory into packed RGB8
/// (3 bytes a pixel, rows top to bottom, no padding). Grey images are spread over
/// the three channels; alpha is dropped (not composited); 16-bit samples are cut to
/// 8; no gamma or colour-profile conversion is applied (the samples as stored).
///
/// Images over `max_pixels` (width × height) are refused before any pixel memory
/// is allocated. Decoder errors never abort the process: libjpeg and libpng report
/// through setjmp/longjmp back to this function. On success `*out_rgb` holds
/// width × height × 3 bytes that the caller frees with exhibit_image_free; on
/// failure it is NULL and `error` (when not NULL) holds one line of explanation.
exhibit_image_status exhibit_image_decode(const uint8_t *data, size_t length, uint64_t max_pixels,
                                          uint8_t **out_rgb, uint32_t *out_width, uint32_t *out_height,
                                          exhibit_image_format *out_format,
                                          char *error, size_t error_size);

/// Frees pixels returned by exhibit_image_decode.
void exhibit_image_free(uint8_t *rgb);

/// The format by magic bytes alone.
exhibit_image_format exhibit_image_sniff(const uint8_t *data, size_t length);

#endif
