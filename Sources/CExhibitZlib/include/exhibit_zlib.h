// zlib for WARC's record-at-a-time gzip (one gzip member per record, WARC 1.1
// annex D). zlib already ships with libcurl; `deflateInit2` and `inflateInit2`
// are macros, so they get typed names here.
#ifndef EXHIBIT_ZLIB_H
#define EXHIBIT_ZLIB_H

#include <zlib.h>

/// Starts a raw deflate stream (windowBits -15, memLevel 8, the defaults of
/// zlib's gzip mode): the caller writes the gzip member's header and trailer.
static inline int exhibit_deflate_init_raw(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
}
/// Starts an inflate stream that reads one gzip member (windowBits 15 + 16).
static inline int exhibit_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 15 + 16);
}
/// Starts an inflate stream for HTTP Content-Encoding: gzip or deflate (auto-detect).
static inline int exhibit_inflate_init_auto(z_stream *stream) {
    return inflateInit2(stream, 15 + 32);
}
/// Starts an inflate stream for a zlib-wrapped deflate body (RFC 1950, windowBits 15).
static inline int exhibit_inflate_init_zlib(z_stream *stream) {
    return inflateInit2(stream, 15);
}
/// Starts an inflate stream for raw deflate (RFC 1951, windowBits -15): what some
/// servers send as `Content-Encoding: deflate`.
static inline int exhibit_inflate_init_raw(z_stream *stream) {
    return inflateInit2(stream, -15);
}

#endif
