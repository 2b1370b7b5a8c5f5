#include "base/ids.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(((struct sha256_ctx *)0)->state),
               "sha256 state does not fit");

int ids_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

/* Random bytes from the CSPRNG, fetched 4 KiB at a time per thread: one
 * system call per 256 ids instead of one per id (ids are minted per
 * prediction, on the hot path). */
static void random_16(unsigned char b[16])
{
    static _Thread_local unsigned char pool[4096];
    static _Thread_local size_t left;
    if (left < 16) {
        randombytes_buf(pool, sizeof pool);
        left = sizeof pool;
    }
    left -= 16;
    memcpy(b, pool + left, 16);
    sodium_memzero(pool + left, 16); /* an id handed out is not kept */
}

static void uuid_format(const unsigned char b[16], char out[UUID_STR_LEN])
{
    static const char hex[] = "0123456789abcdef";
    int j = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[j++] = '-';
        out[j++] = hex[b[i] >> 4];
        out[j++] = hex[b[i] & 15];
    }
    out[j] = '\0';
}

void uuid_v4(char out[UUID_STR_LEN])
{
    unsigned char b[16];
    random_16(b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    uuid_format(b, out);
}

void uuid_v7_at(int64_t unix_ms, char out[UUID_STR_LEN])
{
    unsigned char b[16];
    random_16(b);
    uint64_t ms = (uint64_t)unix_ms & 0xffffffffffffULL;
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x70);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    uuid_format(b, out);
}

void uuid_v7(char out[UUID_STR_LEN])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uuid_v7_at((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, out);
}

int uuid_is_valid(const char *s)
{
    if (strlen(s) != 36) return 0;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

static void to_hex(const unsigned char d[32], char out[SHA256_HEX_LEN])
{
    sodium_bin2hex(out, SHA256_HEX_LEN, d, 32);
}

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, data, len);
    to_hex(d, out);
}

void sha256_begin(struct sha256_ctx *c)
{
    crypto_hash_sha256_init((crypto_hash_sha256_state *)c->state);
}

void sha256_add(struct sha256_ctx *c, const void *data, size_t len)
{
    crypto_hash_sha256_update((crypto_hash_sha256_state *)c->state, data, len);
}

void sha256_end(struct sha256_ctx *c, char out[SHA256_HEX_LEN])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final((crypto_hash_sha256_state *)c->state, d);
    to_hex(d, out);
}

int secret_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    /* compare b's length worth of bytes whatever a is, then the lengths */
    unsigned char diff = 0;
    for (size_t i = 0; i < lb; i++)
        diff |= (unsigned char)((i < la ? (unsigned char)a[i] : 0) ^ (unsigned char)b[i]);
    return diff == 0 && la == lb;
}

uint64_t ids_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
