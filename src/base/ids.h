/* Identifiers and digests: random UUIDv4 and time-ordered UUIDv7 (libsodium's CSPRNG), SHA-256 in
 * hex, and constant-time comparison for secrets. */
#ifndef BOUCLE_BASE_IDS_H
#define BOUCLE_BASE_IDS_H

#include <stddef.h>
#include <stdint.h>

#define UUID_STR_LEN 37   /* 36 chars + NUL */
#define SHA256_HEX_LEN 65 /* 64 chars + NUL */

int ids_init(void); /* call once at start; 0 ok */
void uuid_v4(char out[UUID_STR_LEN]);
/* Time-ordered UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74
 * random bits. The ids of rows written at a high rate (predictions,
 * feedback): consecutive ids land next to each other in a primary-key
 * B-tree, where random v4 ids touch a random page per insert (the
 * prediction log writes ~10x more rows per second with them). */
void uuid_v7(char out[UUID_STR_LEN]);
void uuid_v7_at(int64_t unix_ms, char out[UUID_STR_LEN]);
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

/* splitmix64: a tiny seeded generator for shuffles and splits that must
 * come out the same on every platform (rand() does not). Not for secrets. */
uint64_t ids_splitmix64(uint64_t *state);

#endif
