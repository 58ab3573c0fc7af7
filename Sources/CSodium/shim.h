#ifndef BILLING_CSODIUM_SHIM_H
#define BILLING_CSODIUM_SHIM_H
/* libsodium (Debian: libsodium-dev): argon2id password hashes, random tokens, BLAKE2b. */
#include <sodium.h>
#endif
