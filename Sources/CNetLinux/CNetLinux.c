#define _GNU_SOURCE
#include "CNetLinux.h"
#include <errno.h>
#include <sched.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

int pktstat_clear_capabilities(void) {
    // Ambient capabilities (systemd's AmbientCapabilities=) would come back on an exec: clear
    // them first. EINVAL: a kernel without ambient capabilities, nothing to clear.
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return -1;
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {{0, 0, 0}, {0, 0, 0}};
    return (int)syscall(SYS_capset, &header, data);
}

int pktstat_setns_net(int fd) { return setns(fd, CLONE_NEWNET); }
