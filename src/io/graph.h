/*
 * io/graph.h - what the Graph import and export share: the kinds of saved Graph
 * responses and Graph's appScopeIds for workloads.
 */
#ifndef URBAC_IO_GRAPH_H
#define URBAC_IO_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

/* The path of the Graph requests the export writes and the import reads back,
 * relative to https://graph.microsoft.com/beta (as Graph's JSON batching has them). */
#define URBAC__GRAPH_ROLES_URL "/roleManagement/defender/roleDefinitions"
#define URBAC__GRAPH_ASSIGNMENTS_URL "/roleManagement/defender/roleAssignments"
#define URBAC__GRAPH_DEVICE_GROUPS "/DeviceGroups/"

/* Whether `s` (`len` bytes) is an object id: 8-4-4-4-12 hexadecimal digits. */
bool urbac__graph_is_guid(const char *s, size_t len);

#endif
