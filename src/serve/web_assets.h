/* The dashboard's files, compiled into the binary by scripts/embed-web.sh
 * (the generated table ends with a NULL path). */
#ifndef BOUCLE_SERVE_WEB_ASSETS_H
#define BOUCLE_SERVE_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
    const char *path; /* "/" for index.html, "/app.js", ... */
    const char *content_type;
    const unsigned char *data;
    size_t len;
};

extern const struct web_asset web_assets[];

#endif
