// The zlib shim is header-only (typed `static inline` names for zlib's init
// macros); this file gives SwiftPM a source to build the target from.
#include "exhibit_zlib.h"
