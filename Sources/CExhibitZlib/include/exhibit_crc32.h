// CRC-32 of gzip (ISO 3309), computed with carry-less multiplication where the CPU
// has it (exhibit_crc32.c); zlib's own crc32 elsewhere. Same values as zlib's crc32.
#ifndef EXHIBIT_CRC32_H
#define EXHIBIT_CRC32_H
#include <stddef.h>
#include <stdint.h>

/// zlib's `crc32(crc, buf, len)`: start with 0, feed the bytes in order.
uint32_t exhibit_crc32(uint32_t crc, const void *buf, size_t len);
#endif
