#ifndef PKTSTAT_CSQLITE_SHIM_H
#define PKTSTAT_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
