import Glibc

/// Reads a regular file ahead of the parser on a helper thread, into a small ring of fixed-size
/// chunks, so the kernel's copy from the page cache (a third to half of the reading time on
/// full-size packets) runs on the other core while this one parses.
///
/// One producer (the helper thread) and one consumer (the reader). Chunks are handed over in file
/// order and given back in the same order; a mutex and a condition variable guard the two
/// counters, once per 1 MiB chunk, never per packet. The thread ends at the end of the file, on a
/// read error, or when `shutdown()` asks it to.
final class Prefetcher: @unchecked Sendable {
    static let chunkSize = 1024 * 1024
    static let slots = 4
    /// Files smaller than this are read directly: a thread would not pay for itself.
    static let minimumFileSize = 2 * 1024 * 1024
    /// Compressed files from this size on are decompressed on the helper thread.
    static let minimumCompressedSize = 256 * 1024

    private let fd: Int32
    /// Decompresses the file's bytes on the helper thread (only that thread uses it once started).
    private let decompressor: Decompressor?
    private let memory: UnsafeMutableRawPointer
    private let counts: UnsafeMutablePointer<Int>
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var thread = pthread_t()
    private var running = false

    // Guarded by `mutex`.
    private var produced = 0
    private var released = 0
    private var finished = false
    private var readErrno: Int32 = 0
    private var stopping = false

    // The consumer's own.
    private var taken = 0

    /// Starts the helper thread; nil if it cannot be started (the caller then reads directly).
    init?(fd: Int32, decompressor: Decompressor? = nil) {
        self.fd = fd
        self.decompressor = decompressor
        memory = .allocate(byteCount: Prefetcher.chunkSize * Prefetcher.slots, alignment: 4096)
        counts = .allocate(capacity: Prefetcher.slots)
        counts.initialize(repeating: 0, count: Prefetcher.slots)
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        let started = pthread_create(
            &thread, nil,
            { argument in
                Unmanaged<Prefetcher>.fromOpaque(argument!).takeUnretainedValue().produce()
                return nil
            }, Unmanaged.passUnretained(self).toOpaque())
        guard started == 0 else { return nil }
        running = true
    }

    deinit {
        shutdown()
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
        counts.deallocate()
        memory.deallocate()
    }

    /// Stops the helper thread and waits for it (it finishes the read it is in, at most one
    /// chunk). Call before closing the descriptor.
    func shutdown() {
        guard running else { return }
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
        pthread_join(thread, nil)
        running = false
    }

    private func chunk(_ index: Int) -> UnsafeMutableRawPointer {
        memory + (index % Prefetcher.slots) * Prefetcher.chunkSize
    }

    /// The helper thread: fill free chunks in order until the end of the file or an error.
    private func produce() {
        // Signals (Ctrl-C, SIGPIPE) are for the threads that handle them, never this one.
        var all = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, nil)
        var index = 0
        while true {
            pthread_mutex_lock(mutex)
            while index - released == Prefetcher.slots && !stopping {
                pthread_cond_wait(condition, mutex)
            }
            let stop = stopping
            pthread_mutex_unlock(mutex)
            if stop { return }

            let buffer = chunk(index)
            var count = 0
            var error: Int32 = 0
            var atEnd = false
            while count < Prefetcher.chunkSize {
                let n =
                    if let decompressor {
                        decompressor.read(into: buffer + count, count: Prefetcher.chunkSize - count)
                    } else {
                        read(fd, buffer + count, Prefetcher.chunkSize - count)
                    }
                if n < 0 && decompressor != nil {
                    error = EIO
                    break
                }
                if n > 0 {
                    count += n
                } else if n == 0 {
                    atEnd = true
                    break
                } else if errno != EINTR {
                    error = errno
                    break
                }
            }

            pthread_mutex_lock(mutex)
            counts[index % Prefetcher.slots] = count
            index += 1
            produced = index
            if atEnd || error != 0 {
                finished = true
                readErrno = error
            }
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
            if atEnd || error != 0 { return }
        }
    }

    /// The next chunk in file order (possibly empty at the end), waiting for the helper if
    /// needed; nil once every chunk was handed out. The chunk stays valid until it is released.
    func next() -> (base: UnsafeMutableRawPointer, count: Int)? {
        pthread_mutex_lock(mutex)
        while taken == produced && !finished {
            pthread_cond_wait(condition, mutex)
        }
        guard taken < produced else {
            pthread_mutex_unlock(mutex)
            return nil
        }
        let count = counts[taken % Prefetcher.slots]
        pthread_mutex_unlock(mutex)
        let base = chunk(taken)
        taken += 1
        return (base, count)
    }

    /// Gives back the oldest chunk `next()` handed out.
    func releaseOldest() {
        pthread_mutex_lock(mutex)
        released += 1
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// `errno` of the read that failed, once `next()` has returned nil; 0 at a clean end.
    var failure: Int32 {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return readErrno
    }
}
