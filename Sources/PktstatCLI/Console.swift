import SystemPackage

/// Messages for people go to stderr, unbuffered, a line at a time.
enum Console {
    static func line(_ text: String) {
        // Best effort: a closed stderr has nobody left to tell.
        _ = try? FileDescriptor.standardError.writeAll(Array((text + "\n").utf8))
    }
}
