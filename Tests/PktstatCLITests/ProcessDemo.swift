import Foundation
import TestSupport
import Testing

/// A small C program the attribution tests compile with cc and copy under the names they want
/// (so each process's `comm` is known): a TCP echo server, a TCP client that sends for a while, a
/// UDP sender and a UDP echo sink, and a maker of short connections (a child process each, open about 30 ms).
/// Every mode is bounded in time; each prints its pid and its local port(s) on stdout.
enum ProcessDemo {
    static let source = #"""
        #include <arpa/inet.h>
        #include <errno.h>
        #include <fcntl.h>
        #include <netinet/in.h>
        #include <poll.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/socket.h>
        #include <sys/wait.h>
        #include <time.h>
        #include <unistd.h>

        static double now(void) {
            struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9;
        }
        static int family(const char *a) { return strchr(a, ':') ? AF_INET6 : AF_INET; }
        static socklen_t addr(const char *a, int port, struct sockaddr_storage *ss) {
            memset(ss, 0, sizeof *ss);
            if (family(a) == AF_INET6) {
                struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
                s->sin6_family = AF_INET6; s->sin6_port = htons(port); inet_pton(AF_INET6, a, &s->sin6_addr);
                return sizeof *s;
            }
            struct sockaddr_in *s = (struct sockaddr_in *)ss;
            s->sin_family = AF_INET; s->sin_port = htons(port); inet_pton(AF_INET, a, &s->sin_addr);
            return sizeof *s;
        }
        static int localport(int fd) {
            struct sockaddr_storage ss; socklen_t n = sizeof ss;
            getsockname(fd, (struct sockaddr *)&ss, &n);
            return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                  : ((struct sockaddr_in *)&ss)->sin_port);
        }
        static int connected(const char *host, int port) {
            struct sockaddr_storage ss; socklen_t n = addr(host, port, &ss);
            int fd = socket(family(host), SOCK_STREAM, 0);
            if (fd < 0 || connect(fd, (struct sockaddr *)&ss, n) != 0) { perror("connect"); exit(1); }
            return fd;
        }
        int main(int argc, char **argv) {
            if (argc < 5) { fprintf(stderr, "usage: MODE HOST PORT SECONDS [COUNT]\n"); return 2; }
            const char *mode = argv[1], *host = argv[2];
            int port = atoi(argv[3]);
            double secs = atof(argv[4]), end = now() + secs;
            char buf[65536]; memset(buf, 'x', sizeof buf);
            setvbuf(stdout, NULL, _IOLBF, 0);
            if (!strcmp(mode, "server") || !strcmp(mode, "usink")) {
                int udp = !strcmp(mode, "usink");
                struct sockaddr_storage ss; socklen_t n = addr(host, port, &ss);
                int fd = socket(family(host), udp ? SOCK_DGRAM : SOCK_STREAM, 0), one = 1;
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
                if (bind(fd, (struct sockaddr *)&ss, n) != 0 || (!udp && listen(fd, 128) != 0)) { perror("bind"); return 1; }
                printf("pid %d port %d\n", getpid(), localport(fd));
                struct pollfd p[256]; int np = 1; p[0].fd = fd; p[0].events = POLLIN;
                while (now() < end) {
                    if (poll(p, np, 50) <= 0) continue;
                    for (int i = 0; i < np; i++) {
                        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                        if (udp) {
                            struct sockaddr_storage from; socklen_t fl = sizeof from;
                            ssize_t r = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
                            if (r > 0) sendto(fd, buf, r > 100 ? 100 : r, 0, (struct sockaddr *)&from, fl);
                        } else if (i == 0) {
                            int c = accept(fd, NULL, NULL);
                            if (c >= 0 && np < 256) { p[np].fd = c; p[np].events = POLLIN; np++; }
                            else if (c >= 0) close(c);
                        } else {
                            ssize_t r = read(p[i].fd, buf, sizeof buf);
                            if (r > 0) { if (write(p[i].fd, buf, r) < 0) {} }
                            else { close(p[i].fd); p[i] = p[--np]; i--; }
                        }
                    }
                }
                return 0;
            }
            if (!strcmp(mode, "client")) {
                int fd = connected(host, port);
                fcntl(fd, F_SETFL, O_NONBLOCK);
                printf("pid %d port %d\n", getpid(), localport(fd));
                while (now() < end) {
                    if (write(fd, buf, 1000) < 0 && errno != EAGAIN) break;
                    usleep(10000);
                    while (read(fd, buf, sizeof buf) > 0) {}
                }
                close(fd);
                return 0;
            }
            if (!strcmp(mode, "udp")) {
                int fd = socket(family(host), SOCK_DGRAM, 0);
                struct sockaddr_storage ss; socklen_t n = addr(host, port, &ss);
                sendto(fd, buf, 500, 0, (struct sockaddr *)&ss, n);
                printf("pid %d port %d\n", getpid(), localport(fd));
                fcntl(fd, F_SETFL, O_NONBLOCK);
                while (now() < end) {
                    usleep(10000);
                    sendto(fd, buf, 500, 0, (struct sockaddr *)&ss, n);
                    while (recv(fd, buf, sizeof buf, 0) > 0) {}
                }
                return 0;
            }
            if (!strcmp(mode, "short")) {
                int count = argc > 5 ? atoi(argv[5]) : 50;
                for (int i = 0; i < count && now() < end; i++) {
                    pid_t child = fork();
                    if (child == 0) {
                        double t0 = now();
                        int fd = connected(host, port);
                        int lp = localport(fd);
                        if (write(fd, buf, 200) < 0) {}
                        usleep(30000);
                        close(fd);
                        printf("pid %d port %d ms %.1f\n", getpid(), lp, (now() - t0) * 1000);
                        _exit(0);
                    }
                    int status; waitpid(child, &status, 0);
                    usleep(30000);
                }
                return 0;
            }
            fprintf(stderr, "unknown mode %s\n", mode);
            return 2;
        }
        """#

    /// Compiles the program into `dir` and copies it under each of `names`; the paths by name.
    static func build(in dir: URL, names: [String]) throws -> [String: String] {
        let cc = try requireTool("cc", package: "gcc")
        let src = dir.appendingPathComponent("demo.c")
        try source.write(to: src, atomically: true, encoding: .utf8)
        let bin = dir.appendingPathComponent("demo").path
        let r = try run(cc, ["-O1", "-o", bin, src.path], timeout: 60)
        guard r.status == 0 else { throw DemoError("cc failed: \(r.stderr)") }
        var paths: [String: String] = [:]
        for name in names {
            let p = dir.appendingPathComponent(name).path
            try FileManager.default.copyItem(atPath: bin, toPath: p)
            paths[name] = p
        }
        return paths
    }

    /// The "pid N port P" lines a demo process printed, as (pid, port) pairs.
    static func pidsAndPorts(_ text: String) -> [(pid: Int, port: Int)] {
        text.split(separator: "\n").compactMap { line in
            let w = line.split(separator: " ")
            guard w.count >= 4, w[0] == "pid", w[2] == "port", let pid = Int(w[1]), let port = Int(w[3]) else {
                return nil
            }
            return (pid, port)
        }
    }
}

struct DemoError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A cgroup the test makes (and removes) in the hierarchy that names systemd units: cgroup v2
/// (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` beside v1), else v1's `name=systemd`.
final class TestCgroup {
    let path: String
    /// The folders this cgroup needed that did not exist, innermost first (removed again).
    private var made: [String] = []

    static var root: String? {
        let fm = FileManager.default
        for r in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd"]
        where fm.fileExists(atPath: r + "/cgroup.procs") {
            return r
        }
        return nil
    }

    /// `relative`: e.g. `system.slice/pkt-demo.service`.
    init(_ relative: String) throws {
        guard let root = Self.root else { throw DemoError("no writable cgroup hierarchy under /sys/fs/cgroup") }
        path = root + "/" + relative
        var p = path
        while p != root && !FileManager.default.fileExists(atPath: p) {
            made.append(p)
            p = (p as NSString).deletingLastPathComponent
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A shell prefix that moves the shell into this cgroup before it execs the command.
    func enter(_ argv: [String]) -> [String] {
        ["/bin/sh", "-c", "echo $$ > '\(path)/cgroup.procs' && exec \"$@\"", "sh"] + argv
    }

    /// Removes the folders the test made, once their processes have gone.
    func remove() {
        for p in made {
            // Processes may take a moment to leave after being killed.
            for _ in 0..<100 where rmdir(p) != 0 && errno == EBUSY { usleep(20_000) }
        }
    }
}
