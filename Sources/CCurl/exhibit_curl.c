// Out-of-line helpers for the curl shim; the typed wrappers are static inline in
// the header.
#include "exhibit_curl.h"
