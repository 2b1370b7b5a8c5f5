/* Identifiers and digests: random UUIDv4 (libsodium's CSPRNG), SHA-256 in
 * hex, and constant-time comparison for secrets. */
#ifndef BOUCLE_BASE_IDS_H
#define BOUCLE_BASE_IDS_H

#include <stddef.h>

#define UUID_STR_LEN 37   /* 36 chars + NUL */
#define SHA256_HEX_LEN 65 /* 64 chars + NUL */

int ids_init(void); /* call once at start; 0 ok */
void uuid_v4(char out[UUID_STR_LEN]);
int uuid_is_valid(const char *s);
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN]);

/* Incremental SHA-256, for content hashes built row by row. */
struct sha256_ctx {
    _Alignas(64) unsigned char state[256]; /* holds crypto_hash_sha256_state */
};
void sha256_begin(struct sha256_ctx *c);
void sha256_add(struct sha256_ctx *c, const void *data, size_t len);
void sha256_end(struct sha256_ctx *c, char out[SHA256_HEX_LEN]);

int secret_equal(const char *a, const char *b); /* constant time in the length of b */

#endif
