/* urbac/urbac.h - the whole public API of liburbac, the engine (pkg-config urbac).
 * The store has its own library and header (urbac/store.h, pkg-config urbac-store). */
#ifndef URBAC_URBAC_H
#define URBAC_URBAC_H
#include "urbac/catalog.h"
#include "urbac/engine.h"
#include "urbac/error.h"
#include "urbac/graph.h"
#include "urbac/io.h"
#include "urbac/legacy.h"
#include "urbac/model.h"
#include "urbac/version.h"
#endif
