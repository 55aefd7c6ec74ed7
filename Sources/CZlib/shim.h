#ifndef PKTSTAT_CZLIB_SHIM_H
#define PKTSTAT_CZLIB_SHIM_H
#include <zlib.h>
#endif
