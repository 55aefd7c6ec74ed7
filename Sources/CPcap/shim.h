#ifndef PKTSTAT_CPCAP_SHIM_H
#define PKTSTAT_CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif
