// Starting a file's writeback early (WARCWriter): `sync_file_range` is a GNU
// extension that Swift's Glibc module does not show.
#ifndef EXHIBIT_WRITEBACK_H
#define EXHIBIT_WRITEBACK_H
#include <stdint.h>

/// Asks the kernel to start writing `length` bytes at `offset` of `fd` to disk and
/// returns at once (SYNC_FILE_RANGE_WRITE): no durability promise, which stays with
/// fsync, but a later fsync then waits only for what is not written yet. 0, or -1
/// with errno (a file system without it: nothing is lost but the head start).
int exhibit_start_writeback(int fd, int64_t offset, int64_t length);
#endif
