#ifndef PKTSTAT_CZSTD_SHIM_H
#define PKTSTAT_CZSTD_SHIM_H
#include <zstd.h>
#endif
