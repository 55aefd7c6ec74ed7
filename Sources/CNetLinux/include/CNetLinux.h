#ifndef PKTSTAT_CNETLINUX_H
#define PKTSTAT_CNETLINUX_H
// Linux headers that Glibc's Swift overlay does not expose.
#include <sys/types.h>
#include <sys/socket.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <unistd.h>

/// Empties this process's effective, permitted, inheritable and ambient capability sets (capset(2),
/// which glibc does not wrap; prctl is variadic, which Swift cannot call). 0, or -1 with errno.
int pktstat_clear_capabilities(void);
#endif
