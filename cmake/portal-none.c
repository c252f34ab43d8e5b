/*
 * cmake/portal-none.c - the portal's files when the build had no npm (or was
 * configured with -DURBAC_PORTAL=OFF): one page that says so, so `GET /` still
 * answers with something a person understands. The real files are generated
 * from web/ by web/build.mjs (README, "The portal").
 *
 * Depends on: src/server/server.h (srv_asset).
 */
#include "server/server.h"

static const char page[] =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>urbac</title></head><body>"
    "<h1>urbac</h1><p>This urbac was built without its web portal: the build found no node and npm "
    "(or was configured with -DURBAC_PORTAL=OFF). Install them (scripts/deps.sh build) and build again; "
    "the HTTP API is served as usual at <code>/api/v1</code>.</p></body></html>";

const srv_asset srv_portal_assets[] = {
    {"index.html", "text/html; charset=utf-8", (const unsigned char *)page, sizeof page - 1},
};
const size_t srv_portal_nassets = 1;
