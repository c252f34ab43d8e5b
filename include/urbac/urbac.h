/* urbac/urbac.h - the whole public API of liburbac. */
#ifndef URBAC_URBAC_H
#define URBAC_URBAC_H
#include "urbac/catalog.h"
#include "urbac/engine.h"
#include "urbac/error.h"
#include "urbac/io.h"
#include "urbac/legacy.h"
#include "urbac/model.h"
#include "urbac/store.h"
#define URBAC_VERSION "0.1.0"
#endif
