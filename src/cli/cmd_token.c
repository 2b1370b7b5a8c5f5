/* boucle token create --name NAME --scopes predict,feedback [--json]
 * Makes a new random API token and prints it once, with the line to add to
 * the config: only its SHA-256 is kept there. */
#include "cli/cli.h"

#include "base/ids.h"
#include "base/mem.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static int parse_scopes(const char *list, struct buf *yaml, struct err *e)
{
    static const char *const known[] = {"predict", "feedback", "admin"};
    char *copy = xstrdup(list), *save = NULL;
    int n = 0;
    for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        int ok = 0;
        for (size_t k = 0; k < 3; k++)
            ok |= strcmp(s, known[k]) == 0;
        if (!ok) {
            err_set(e, ERR_USAGE, "unknown scope '%s' (known: predict, feedback, admin)", s);
            free(copy);
            return -1;
        }
        buf_printf(yaml, "%s%s", n++ ? ", " : "", s);
    }
    free(copy);
    if (!n) return err_set(e, ERR_USAGE, "--scopes needs at least one of predict, feedback, admin");
    return 0;
}

int cmd_token(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_option opts[] = {{"name", 1, "a name for the token (who or what uses it)", NULL},
                                {"scopes", 1, "comma-separated: predict, feedback, admin", NULL},
                                {"json", 0, "machine-readable output", NULL},
                                {0}};
    const char *pos[1];
    int npos, rc = cli_parse(cmd, argc, argv, opts, pos, 1, &npos);
    if (rc) return rc < 0 ? EXIT_USAGE : EXIT_OK;
    if (npos != 1 || strcmp(pos[0], "create") != 0)
        return cli_usage_error(cmd, "expected `token create`");
    const char *name = cli_opt(opts, "name");
    if (!name || !*name) return cli_usage_error(cmd, "--name is required");
    struct err e;
    err_clear(&e);
    struct buf scopes;
    buf_init(&scopes);
    if (parse_scopes(cli_opt(opts, "scopes") ? cli_opt(opts, "scopes") : "", &scopes, &e) != 0) {
        buf_free(&scopes);
        return cli_usage_error(cmd, "%s", e.msg);
    }
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    char token[8 + sizeof b64];
    snprintf(token, sizeof token, "bcl_%s", b64);
    char digest[SHA256_HEX_LEN];
    sha256_hex(token, strlen(token), digest);
    if (cli_opt(opts, "json")) {
        cli_print_json(json_pack("{s:s,s:s,s:s,s:s}", "name", name, "token", token, "sha256",
                                 digest, "scopes", scopes.data));
    } else {
        printf("token: %s\n\nIt is shown once: keep it in your secret store. Add this under "
               "auth.tokens in the config (only the hash is kept there):\n\n"
               "  - {name: %s, sha256: %s, scopes: [%s]}\n",
               token, name, digest, scopes.data);
    }
    sodium_memzero(token, sizeof token);
    buf_free(&scopes);
    return EXIT_OK;
}
