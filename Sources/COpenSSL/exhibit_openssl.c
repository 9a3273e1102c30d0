// Out-of-line OpenSSL helpers. Kept deliberately small: anything that can be a
// static inline wrapper in the header is one.
#include "exhibit_openssl.h"
