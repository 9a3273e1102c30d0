// Private to the COpenSSL target's C files (not in include/, so Swift never sees it).
#ifndef EXHIBIT_DER_H
#define EXHIBIT_DER_H

#include <stddef.h>

/// Hands the DER that an i2d_… call allocated (`out`, `length`) to the caller's
/// out-parameters, which free it with exhibit_openssl_free. 0 when encoding failed.
static inline int exhibit_hand_over_der(unsigned char *out, int length, unsigned char **der, size_t *der_length) {
    if (length <= 0) return 0;
    *der = out;
    *der_length = (size_t)length;
    return 1;
}

#endif
