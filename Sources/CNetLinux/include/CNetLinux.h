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
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <unistd.h>

/// Empties this process's effective, permitted, inheritable and ambient capability sets (capset(2),
/// which glibc does not wrap; prctl is variadic, which Swift cannot call). 0, or -1 with errno.
int pktstat_clear_capabilities(void);

/// Moves the calling thread into the network namespace that `fd` (an open /proc/PID/ns/net)
/// names: setns(2) with CLONE_NEWNET, which glibc declares only under _GNU_SOURCE. 0, or -1 with
/// errno.
int pktstat_setns_net(int fd);
#endif
