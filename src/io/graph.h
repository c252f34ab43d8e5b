/*
 * io/graph.h - what the Graph import (io/graph_import.c) and export
 * (io/graph_export.c) share: the requests' paths, so that an export reads back.
 *
 * Depends on: nothing.
 */
#ifndef URBAC_IO_GRAPH_H
#define URBAC_IO_GRAPH_H

/* The path of the Graph requests the export writes and the import reads back,
 * relative to https://graph.microsoft.com/beta (as Graph's JSON batching has them). */
#define URBAC__GRAPH_ROLES_URL "/roleManagement/defender/roleDefinitions"
#define URBAC__GRAPH_ASSIGNMENTS_URL "/roleManagement/defender/roleAssignments"
#define URBAC__GRAPH_DEVICE_GROUPS "/DeviceGroups/"

#endif
